/**
 * @module OpenAPI documents of the served resources: /openapi/v3 (an index plus one
 * document per group-version, what kubectl 1.29+ uses for apply, create -f and explain)
 * and /openapi/v2 as JSON and as gnostic protobuf (kubectl 1.27/1.28). Schemas come from
 * dist/openapi/schemas.json, generated at build time by scripts/gen-openapi.mjs; nothing
 * is read or built until a document is first asked for, then it is cached.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResourceDef } from '../types.js';
import { encodeGnosticDocument } from './gnostic.js';
import {
  DELETE_OPTIONS,
  META,
  SCHEMA_REF_PREFIX,
  STATUS,
  buildPaths,
  groupVersionPath,
  type GroupVersionKind,
  type Json,
} from './paths.js';

export { PATCH_CONTENT_TYPES, groupVersionPath, type GroupVersionKind } from './paths.js';

/** Accept value kubectl sends for the protobuf OpenAPI v2 document. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** The same media type spelled without '@': the Content-Type of the protobuf answer. */
export const OPENAPI_V2_PROTOBUF_DOTTED = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const V2_REF_PREFIX = '#/definitions/';

/** Where `npm run build` writes the generated schemas, relative to this compiled module. */
export function defaultSchemasPath(): string {
  return fileURLToPath(new URL('../../../openapi/schemas.json', import.meta.url));
}

/** Thrown on first use when the generated schemas file is missing or unreadable. */
export class OpenApiSchemasUnavailableError extends Error {
  constructor(
    readonly schemasPath: string,
    cause: unknown,
  ) {
    super(`OpenAPI schemas unavailable at ${schemasPath} (run "node scripts/gen-openapi.mjs"): ${String(cause)}`);
    this.name = 'OpenApiSchemasUnavailableError';
  }
}

export interface OpenApiOptions {
  /** info.version of the documents, e.g. the server's gitVersion. */
  version?: string;
}

export interface OpenApiDocument {
  body: Buffer;
  /** Upper-case hex SHA-512 of body, the `hash` query parameter of the v3 index. */
  hash: string;
  /** Quoted, for the ETag header. */
  etag: string;
}

/** An HTTP answer for the caller to write as is. */
export interface OpenApiResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function digest(body: Buffer): { hash: string; etag: string } {
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  return { hash, etag: `"${hash}"` };
}

function gvkKey(g: GroupVersionKind): string {
  return `${g.group}/${g.version}/${g.kind}`;
}

/** Reversed-domain schema namespace for a group with no generated types, like CRDs get. */
function syntheticPackage(group: string, version: string): string {
  const g = group ? group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${g}.${version}`;
}

export class OpenApiService {
  private readonly resources: ResourceDef[];
  private readonly schemasPath: string;
  private readonly version: string;
  private loaded?: {
    definitions: Record<string, Json>;
    byGvk: Map<string, string>;
    refs: Map<string, string[]>;
  };
  private v3Docs?: Map<string, OpenApiDocument>;
  private v3Paths?: Map<string, { paths: Json; schemas: string[] }>;
  private v2?: { json: OpenApiDocument; protobuf?: OpenApiDocument };

  constructor(resources: ResourceDef[], schemasPath: string = defaultSchemasPath(), options: OpenApiOptions = {}) {
    this.resources = resources;
    this.schemasPath = schemasPath;
    this.version = options.version ?? 'unversioned';
  }

  /** Body of GET /openapi/v3: each group-version path with its content-addressed URL. */
  v3Index(): { paths: Record<string, { serverRelativeURL: string }> } {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [gv, doc] of this.allV3Documents()) {
      paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${doc.hash}` };
    }
    return { paths };
  }

  /** The document of one group-version ("api/v1", "apis/apps/v1"), or undefined when not served. */
  v3Document(groupVersionPath: string): OpenApiDocument | undefined {
    return this.allV3Documents().get(groupVersionPath.replace(/^\/+|\/+$/g, ''));
  }

  /** GET /openapi/v2 as application/json. */
  v2Json(): Buffer {
    return this.v2Documents().json.body;
  }

  /** GET /openapi/v2 as gnostic protobuf (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf). */
  v2Protobuf(): Buffer {
    return this.v2ProtobufDocument().body;
  }

  /**
   * Answers GET /openapi/v2, /openapi/v3 and /openapi/v3/<group-version> the way
   * kube-apiserver does (content negotiation, ETag / If-None-Match, immutable caching of
   * hashed URLs, 301 to the current hash). Returns undefined for other paths.
   */
  respond(pathname: string, query: URLSearchParams, headers: { accept?: string; 'if-none-match'?: string }, now: Date = new Date()): OpenApiResponse | undefined {
    const path = pathname.replace(/\/+$/, '');
    if (path === '/openapi/v2') {
      const type = negotiate(headers.accept, ['application/json', OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_DOTTED]);
      if (!type) return notAcceptable();
      if (type === 'application/json') return serve(this.v2Documents().json, type, headers['if-none-match'], { Vary: 'Accept' });
      // '@' is not a token character: Go clients fail to parse a Content-Type spelled with it.
      return serve(this.v2ProtobufDocument(), OPENAPI_V2_PROTOBUF_DOTTED, headers['if-none-match'], { Vary: 'Accept' });
    }
    if (path === '/openapi/v3') {
      if (!negotiate(headers.accept, ['application/json'])) return notAcceptable();
      const body = Buffer.from(JSON.stringify(this.v3Index()));
      return { status: 200, headers: { 'Content-Type': 'application/json' }, body };
    }
    if (path.startsWith('/openapi/v3/')) {
      const gv = path.slice('/openapi/v3/'.length);
      const doc = this.v3Document(gv);
      if (!doc) return { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: Buffer.from('404 page not found\n') };
      if (!negotiate(headers.accept, ['application/json'])) return notAcceptable();
      const hash = query.get('hash');
      if (hash && hash !== doc.hash) {
        return { status: 301, headers: { Location: `/openapi/v3/${gv}?hash=${doc.hash}` }, body: Buffer.alloc(0) };
      }
      const extra: Record<string, string> = { Vary: 'Accept' };
      if (hash) {
        // A hashed URL names one immutable document: kubectl may cache it for good.
        extra['Cache-Control'] = 'public, immutable';
        const expires = new Date(now);
        expires.setUTCFullYear(expires.getUTCFullYear() + 1);
        extra.Expires = expires.toUTCString();
      }
      return serve(doc, 'application/json', headers['if-none-match'], extra);
    }
    return undefined;
  }

  private load(): NonNullable<OpenApiService['loaded']> {
    if (this.loaded) return this.loaded;
    let definitions: Record<string, Json>;
    try {
      definitions = JSON.parse(readFileSync(this.schemasPath, 'utf8')).definitions;
    } catch (err) {
      throw new OpenApiSchemasUnavailableError(this.schemasPath, err);
    }
    const byGvk = new Map<string, string>();
    for (const [name, schema] of Object.entries(definitions)) {
      for (const gvk of (schema['x-kubernetes-group-version-kind'] ?? []) as GroupVersionKind[]) {
        if (!byGvk.has(gvkKey(gvk))) byGvk.set(gvkKey(gvk), name);
      }
    }
    this.loaded = { definitions, byGvk, refs: new Map() };
    return this.loaded;
  }

  /** Component schema name of a kind; kinds without generated types get a permissive schema. */
  private kindSchema(gvk: GroupVersionKind): string {
    const { definitions, byGvk } = this.load();
    const known = byGvk.get(gvkKey(gvk));
    if (known) return known;
    const name = `${syntheticPackage(gvk.group, gvk.version)}.${gvk.kind}`;
    if (!definitions[name]) {
      const isList = gvk.kind.endsWith('List');
      const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
      const properties: Json = {
        apiVersion: { description: 'APIVersion of this representation of the object.', type: 'string' },
        kind: { description: 'Kind of the REST resource this object represents.', type: 'string' },
        metadata: {
          description: isList ? 'Standard list metadata.' : "Standard object's metadata.",
          allOf: [{ $ref: SCHEMA_REF_PREFIX + `${META}.${isList ? 'ListMeta' : 'ObjectMeta'}` }],
        },
      };
      if (isList) {
        const itemName = this.kindSchema({ ...gvk, kind: gvk.kind.slice(0, -'List'.length) });
        properties.items = { description: `List of ${gvk.kind.slice(0, -4)} objects.`, type: 'array', items: { $ref: SCHEMA_REF_PREFIX + itemName } };
      }
      definitions[name] = {
        description: `${gvk.kind} of ${apiVersion}.`,
        type: 'object',
        properties,
        ...(isList ? { required: ['items'] } : {}),
        'x-kubernetes-preserve-unknown-fields': true,
        'x-kubernetes-group-version-kind': [gvk],
      };
      byGvk.set(gvkKey(gvk), name);
    }
    return name;
  }

  private directRefs(name: string): string[] {
    const { definitions, refs } = this.load();
    let out = refs.get(name);
    if (!out) {
      const found = new Set<string>();
      collectRefs(definitions[name], found);
      out = [...found];
      refs.set(name, out);
    }
    return out;
  }

  /** Every schema name reachable from the given roots, sorted. */
  private closure(roots: Iterable<string>): string[] {
    const { definitions } = this.load();
    const seen = new Set<string>();
    const stack = [...roots];
    while (stack.length) {
      const name = stack.pop()!;
      if (seen.has(name) || !definitions[name]) continue;
      seen.add(name);
      stack.push(...this.directRefs(name));
    }
    return [...seen].sort();
  }

  private groupVersionPaths(): Map<string, { paths: Json; schemas: string[] }> {
    if (this.v3Paths) return this.v3Paths;
    const byGv = new Map<string, ResourceDef[]>();
    for (const def of this.resources) {
      const gv = groupVersionPath(def.group, def.version);
      byGv.set(gv, [...(byGv.get(gv) ?? []), def]);
    }
    const out = new Map<string, { paths: Json; schemas: string[] }>();
    for (const gv of [...byGv.keys()].sort()) {
      const paths = buildPaths(byGv.get(gv)!, { kindSchema: (gvk) => this.kindSchema(gvk) });
      const roots = new Set<string>([DELETE_OPTIONS, STATUS, `${META}.WatchEvent`]);
      collectRefs(paths, roots);
      out.set(gv, { paths, schemas: this.closure(roots) });
    }
    this.v3Paths = out;
    return out;
  }

  private allV3Documents(): Map<string, OpenApiDocument> {
    if (this.v3Docs) return this.v3Docs;
    const { definitions } = this.load();
    const docs = new Map<string, OpenApiDocument>();
    for (const [gv, { paths, schemas }] of this.groupVersionPaths()) {
      const doc = {
        openapi: '3.0.0',
        info: { title: 'Kubernetes', version: this.version },
        paths,
        components: { schemas: Object.fromEntries(schemas.map((n) => [n, definitions[n]])) },
      };
      const body = Buffer.from(JSON.stringify(doc));
      docs.set(gv, { body, ...digest(body) });
    }
    this.v3Docs = docs;
    return docs;
  }

  private v2Documents(): NonNullable<OpenApiService['v2']> {
    if (this.v2) return this.v2;
    this.v2 = { json: this.buildV2Json() };
    return this.v2;
  }

  private v2ProtobufDocument(): OpenApiDocument {
    const v2 = this.v2Documents();
    if (!v2.protobuf) {
      const body = encodeGnosticDocument(JSON.parse(v2.json.body.toString('utf8')));
      v2.protobuf = { body, ...digest(body) };
    }
    return v2.protobuf;
  }

  private buildV2Json(): OpenApiDocument {
    const { definitions } = this.load();
    const paths: Json = {};
    const names = new Set<string>();
    for (const { paths: gvPaths, schemas } of this.groupVersionPaths().values()) {
      for (const [p, item] of Object.entries(gvPaths)) paths[p] = pathItemToV2(item);
      for (const n of schemas) names.add(n);
    }
    const doc = {
      swagger: '2.0',
      info: { title: 'Kubernetes', version: this.version },
      paths: Object.fromEntries(Object.keys(paths).sort().map((k) => [k, paths[k]])),
      definitions: Object.fromEntries([...names].sort().map((n) => [n, schemaToV2(definitions[n])])),
    };
    const body = Buffer.from(JSON.stringify(doc));
    return { body, ...digest(body) };
  }
}

function collectRefs(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const v of node) collectRefs(v, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(SCHEMA_REF_PREFIX)) out.add(v.slice(SCHEMA_REF_PREFIX.length));
      else collectRefs(v, out);
    }
  }
}

/**
 * The swagger 2.0 spelling of a v3 schema: #/definitions/ references, a described
 * reference as {$ref, description} instead of allOf, and scalar-or-string types
 * (IntOrString, Quantity) as type string.
 */
export function schemaToV2(s: Json): Json {
  if (!s || typeof s !== 'object') return s;
  let src = s;
  if (Array.isArray(s.allOf) && s.allOf.length === 1 && s.allOf[0].$ref && !s.properties) {
    const { allOf, ...rest } = s;
    src = { ...rest, $ref: allOf[0].$ref };
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    switch (k) {
      case '$ref':
        out.$ref = typeof v === 'string' ? v.replace(SCHEMA_REF_PREFIX, V2_REF_PREFIX) : v;
        break;
      case 'oneOf':
        if (!src.type) out.type = 'string';
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(v as Json).map(([name, p]) => [name, schemaToV2(p)]));
        break;
      case 'items':
      case 'additionalProperties':
        out[k] = typeof v === 'object' ? schemaToV2(v as Json) : v;
        break;
      case 'allOf':
        out.allOf = (v as Json[]).map(schemaToV2);
        break;
      default:
        out[k] = v;
    }
  }
  return out;
}

function pathItemToV2(item: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(item)) {
    if (k === 'parameters') out.parameters = (v as Json[]).map(parameterToV2);
    else out[k] = operationToV2(v as Json);
  }
  return out;
}

function parameterToV2(p: Json): Json {
  const { schema, ...rest } = p;
  return { ...rest, ...(schema ?? {}) };
}

function operationToV2(op: Json): Json {
  const out: Json = {};
  const produces = new Set<string>();
  for (const [k, v] of Object.entries(op)) {
    switch (k) {
      case 'parameters':
        break;
      case 'requestBody':
        break;
      case 'responses': {
        const responses: Json = {};
        for (const [code, r] of Object.entries(v as Json)) {
          const response: Json = { description: r.description };
          const media = Object.entries((r.content ?? {}) as Json);
          for (const [type] of media) produces.add(type);
          if (media.length) response.schema = schemaToV2(media[0][1].schema);
          responses[code] = response;
        }
        out.responses = responses;
        break;
      }
      default:
        out[k] = v;
    }
  }
  const parameters: Json[] = [];
  if (op.requestBody) {
    const media = Object.entries(op.requestBody.content as Json);
    out.consumes = media.map(([type]) => type);
    parameters.push({ name: 'body', in: 'body', required: true, schema: schemaToV2(media[0][1].schema) });
  }
  for (const p of (op.parameters ?? []) as Json[]) parameters.push(parameterToV2(p));
  if (parameters.length) out.parameters = parameters;
  if (produces.size) out.produces = [...produces];
  out.schemes = ['https'];
  return out;
}

/** First offered type the Accept header allows (wildcards included); no header allows the first. */
function negotiate(accept: string | undefined, offered: string[]): string | undefined {
  if (!accept || !accept.trim()) return offered[0];
  for (const clause of accept.split(',')) {
    const [range, ...params] = clause.trim().split(';').map((s) => s.trim());
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    const lower = range.toLowerCase();
    if (lower === '*/*' || lower === 'application/*') return offered[0];
    const hit = offered.find((o) => o.toLowerCase() === lower);
    if (hit) return hit;
  }
  return undefined;
}

function notAcceptable(): OpenApiResponse {
  return { status: 406, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: Buffer.from('406 Not Acceptable\n') };
}

function serve(doc: OpenApiDocument, contentType: string, ifNoneMatch: string | undefined, extra: Record<string, string>): OpenApiResponse {
  const headers = { ...extra, ETag: doc.etag };
  if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === doc.etag || t.trim() === '*')) {
    return { status: 304, headers, body: Buffer.alloc(0) };
  }
  return { status: 200, headers: { ...headers, 'Content-Type': contentType }, body: doc.body };
}
