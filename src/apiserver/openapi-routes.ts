/**
 * @module OpenAPI for the API server: the /openapi/v2 and /openapi/v3 routes, and the
 * schema walk behind fieldValidation (unknown fields, kube-apiserver's strict decoding)
 * and wrong JSON types (kube's "cannot unmarshal" decoding errors, always fatal).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../api/errors.js';
import { defaultSchemasPath, OpenApiService } from '../api/openapi/openapi.js';
import type { KObject, ResourceDef } from '../api/types.js';
import type { UnknownFieldChecker } from './rest.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = Record<string, any>;

export function openApiRoutes(resources: ResourceDef[], version: string): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  const service = new OpenApiService(resources, defaultSchemasPath(), { version });
  return (req, res, url) => {
    if (!url.pathname.startsWith('/openapi/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const r = service.respond(url.pathname, url.searchParams, {
      accept: req.headers.accept,
      'if-none-match': req.headers['if-none-match'] as string | undefined,
    });
    if (!r) return false;
    res.writeHead(r.status, r.headers);
    res.end(req.method === 'HEAD' ? undefined : r.body);
    return true;
  };
}

const goTypes: Record<string, string> = { integer: 'int64', number: 'float64', boolean: 'bool', string: 'string', object: 'map[string]interface {}', array: '[]interface {}' };

/**
 * Walks objects against the generated schemas. Definitions are loaded on first use so
 * server start-up does not pay for them.
 */
export function unknownFieldChecker(schemasPath = defaultSchemasPath()): UnknownFieldChecker {
  let definitions: Record<string, Schema> | undefined;
  let byGvk: Map<string, string> | undefined;
  const load = () => {
    if (definitions) return;
    try {
      const file = JSON.parse(readFileSync(schemasPath, 'utf8')) as { definitions: Record<string, Schema> };
      definitions = file.definitions;
    } catch {
      definitions = {};
    }
    byGvk = new Map();
    for (const [name, s] of Object.entries(definitions))
      for (const gvk of (s['x-kubernetes-group-version-kind'] as Array<{ group: string; version: string; kind: string }> | undefined) ?? [])
        byGvk.set(`${gvk.group}/${gvk.version}/${gvk.kind}`, name);
  };
  const resolve = (s: Schema | undefined): Schema | undefined => {
    let cur = s;
    for (let i = 0; cur && i < 8; i++) {
      if (cur.$ref) cur = definitions![String(cur.$ref).split('/').pop()!];
      else if (Array.isArray(cur.allOf) && cur.allOf.length === 1 && !cur.properties) cur = cur.allOf[0];
      else break;
    }
    return cur;
  };
  return (def: ResourceDef, obj: KObject): string[] => {
    load();
    const root = byGvk!.get(`${def.group}/${def.version}/${def.kind}`);
    if (!root) return [];
    const unknown: string[] = [];
    const walk = (value: unknown, schema: Schema | undefined, path: string, goPath: string) => {
      const s = resolve(schema);
      if (!s || value === null || value === undefined) return;
      if (s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string'] || s.oneOf || s.anyOf) return;
      const type = s.type as string | undefined;
      const actual = Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
      if (type && !(type === actual || (type === 'number' && actual === 'integer'))) {
        const field = goPath || def.kind;
        throw ApiError.badRequest(
          `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: json: cannot unmarshal ${actual === 'integer' ? 'number' : actual} into Go struct field ${field} of type ${goTypes[type] ?? type}`,
        );
      }
      if (type === 'array' && Array.isArray(value)) {
        value.forEach((v, i) => walk(v, s.items, `${path}[${i}]`, goPath));
        return;
      }
      if (actual !== 'object') return;
      const o = value as Record<string, unknown>;
      if (s.properties) {
        for (const [k, v] of Object.entries(o)) {
          const p = path ? `${path}.${k}` : k;
          const prop = s.properties[k];
          if (!prop) {
            unknown.push(p);
            continue;
          }
          walk(v, prop, p, p);
        }
      } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        for (const [k, v] of Object.entries(o)) walk(v, s.additionalProperties, path ? `${path}.${k}` : k, path);
      }
    };
    walk(obj, { $ref: `#/components/schemas/${root}` }, '', '');
    return unknown;
  };
}
