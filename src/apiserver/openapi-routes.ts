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

/** The Go type kube's decoder names in "cannot unmarshal … of type T". */
function goTypeOf(s: Schema | undefined, refName: string | undefined): string {
  if (refName) {
    const parts = refName.split('.');
    return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
  }
  if (!s) return 'interface {}';
  switch (s.type) {
    case 'integer':
      return s.format === 'int32' ? 'int32' : 'int64';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'string':
      return s.format === 'byte' ? '[]uint8' : 'string';
    case 'array':
      return `[]${goTypeOf(s.items, refOf(s.items))}`;
    case 'object':
      return s.additionalProperties ? `map[string]${goTypeOf(s.additionalProperties, refOf(s.additionalProperties))}` : 'map[string]interface {}';
    default:
      return 'interface {}';
  }
}

function refOf(s: Schema | undefined): string | undefined {
  if (!s) return undefined;
  if (s.$ref) return String(s.$ref).split('/').pop();
  if (Array.isArray(s.allOf) && s.allOf.length === 1 && s.allOf[0].$ref) return String(s.allOf[0].$ref).split('/').pop();
  return undefined;
}

/**
 * Walks objects against the generated schemas: returns unknown field paths (removing them
 * when `prune`) and throws kube's decoding error for a wrong JSON type. Definitions are
 * loaded on first use so server start-up does not pay for them.
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
  return (def: ResourceDef, obj: KObject, prune: boolean): string[] => {
    load();
    const root = byGvk!.get(`${def.group}/${def.version}/${def.kind}`);
    if (!root) return [];
    const unknown: string[] = [];
    /** `owner`: short name of the struct holding the field; `fieldPath`: the JSON path kube prints. */
    const walk = (value: unknown, schema: Schema | undefined, path: string, owner: string, fieldPath: string) => {
      const s = resolve(schema);
      if (!s || value === null || value === undefined) return;
      if (s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string'] || s.oneOf || s.anyOf) return;
      const type = s.type as string | undefined;
      const actual = Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
      if (type && !(type === actual || (type === 'number' && actual === 'integer'))) {
        const jsonKind = actual === 'integer' ? 'number' : actual === 'boolean' ? 'bool' : actual;
        const where = fieldPath ? ` into Go struct field ${owner}.${fieldPath}` : ' into Go value';
        throw ApiError.badRequest(
          `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: json: cannot unmarshal ${jsonKind}${where} of type ${goTypeOf(s, refOf(schema))}`,
        );
      }
      if (type === 'array' && Array.isArray(value)) {
        value.forEach((v, i) => walk(v, s.items, `${path}[${i}]`, owner, fieldPath));
        return;
      }
      if (actual !== 'object') return;
      const o = value as Record<string, unknown>;
      const structName = (refOf(schema) ?? '').split('.').pop() || owner;
      if (s.properties) {
        for (const [k, v] of Object.entries(o)) {
          const p = path ? `${path}.${k}` : k;
          const prop = s.properties[k];
          if (!prop) {
            unknown.push(p);
            if (prune) delete o[k];
            continue;
          }
          walk(v, prop, p, structName, p);
        }
      } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        for (const [k, v] of Object.entries(o)) walk(v, s.additionalProperties, path ? `${path}.${k}` : k, owner, fieldPath);
      }
    };
    walk(obj, { $ref: `#/components/schemas/${root}` }, '', def.kind, '');
    return unknown;
  };
}
