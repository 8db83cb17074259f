/**
 * @module The HTTP face of the API server: routing of kube-apiserver's URL space to
 * verbs, request decoding (JSON, YAML, protobuf, the four patch types), content
 * negotiation (JSON, Table, PartialObjectMetadata, YAML, aggregated discovery), and
 * streaming watches. Every failure leaves as a metav1.Status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import YAML from 'yaml';
import { ApiError } from '../api/errors.js';
import type { KObject, ResourceDef } from '../api/types.js';
import type { ResourceRegistry } from './registry.js';
import { type ApiWatchEvent, type DeleteOptions, type RestStorage, type WriteContext } from './rest.js';
import { toPartialMetadata, toTable, type IncludeObject } from './table.js';
import type { PatchType } from './patching.js';
import { decodeProtobufBody } from './protobuf-body.js';
import type { ApiServerMetrics, RequestLabels } from './metrics.js';

/** Largest request body kube-apiserver accepts (3 MiB). */
export const maxBodyBytes = 3 * 1024 * 1024;

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
}

export interface HandlerDeps {
  registry: ResourceRegistry;
  rest: RestStorage;
  version: VersionInfo;
  clock: () => Date;
  /** Extra routes (OpenAPI, metrics, subresources of other components); return true when handled. */
  extraRoutes?: Array<(req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>>;
  /** Per-resource special subresource handlers keyed "<group>/<plural>/<subresource>". */
  subresourceHandlers?: Map<string, SubresourceHandler>;
  /** HTTP/1.1 upgrades (exec, attach, port-forward) per subresource, keyed like subresourceHandlers. */
  upgradeHandlers?: Map<string, UpgradeHandler>;
  isReady: () => boolean;
  log: (msg: Record<string, unknown>) => void;
  metrics?: ApiServerMetrics;
}

/** Labels of the request being served, filled in by routing, read when the response ends. */
const requestLabels = new WeakMap<object, RequestLabels>();

export type SubresourceHandler = (ctx: {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  def: ResourceDef;
  namespace: string | undefined;
  name: string;
  body: () => Promise<KObject>;
  writeContext: WriteContext;
}) => Promise<void>;

/**
 * Serves an HTTP/1.1 upgrade request (WebSocket or SPDY) on a subresource: the raw socket
 * and the bytes already read after the request head are the handler's; errors it throws
 * are answered on the socket as a Status.
 */
export type UpgradeHandler = (ctx: {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  url: URL;
  def: ResourceDef;
  namespace: string | undefined;
  name: string;
  subresource: string;
}) => Promise<void>;

interface Route {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPath: boolean;
}

export class ApiHandler {
  constructor(private readonly deps: HandlerDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const metrics = this.deps.metrics;
    if (metrics) {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const labels = requestLabels.get(req);
        if (labels) metrics.observe(labels, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
      });
    }
    try {
      await this.dispatch(req, res, url);
    } catch (e) {
      this.fail(res, e);
    }
  }

  // ---- upgrades (exec, attach, port-forward): kept apart from the request pipeline ----

  /**
   * Routes an upgrade request to its subresource's upgrade handler. Returns false, having
   * touched nothing, when no upgrade handler serves the path (the caller then serves it as
   * an ordinary request).
   */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<boolean> {
    const handlers = this.deps.upgradeHandlers;
    if (!handlers?.size) return false;
    const url = new URL(req.url ?? '/', 'https://localhost');
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
    const segs = path.split('/').filter(Boolean);
    let route: Route | undefined;
    try {
      const decoded = segs.map(decodeSegment);
      if (decoded[0] === 'api' && decoded.length > 2) route = this.route('', decoded[1], decoded.slice(2));
      else if (decoded[0] === 'apis' && decoded.length > 3) route = this.route(decoded[1], decoded[2], decoded.slice(3));
    } catch {
      return false;
    }
    if (!route?.name || !route.subresource || route.watchPath) return false;
    const handler = handlers.get(`${route.def.group}/${route.def.plural}/${route.subresource}`);
    if (!handler) return false;
    try {
      await handler({ req, socket, head, url, def: route.def, namespace: route.namespace, name: route.name, subresource: route.subresource });
    } catch (e) {
      const err = e instanceof ApiError ? e : ApiError.internal(e instanceof Error ? e.message : String(e));
      if (!(e instanceof ApiError)) this.deps.log({ level: 'error', msg: 'upgrade failed', error: e instanceof Error ? e.stack : String(e) });
      writeRawStatus(socket, err.code, err.toStatus());
    }
    return true;
  }

  private fail(res: ServerResponse, e: unknown): void {
    const err = e instanceof ApiError ? e : ApiError.internal(e instanceof Error ? e.message : String(e));
    if (!(e instanceof ApiError)) this.deps.log({ level: 'error', msg: 'request failed', error: e instanceof Error ? e.stack : String(e) });
    if (res.headersSent) {
      res.end();
      return;
    }
    writeJson(res, err.code, err.toStatus());
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // Route on the raw path: URL parsing folds "..", "%2e%2e" into the parent path, which
    // would let `configmaps/..` address the namespace itself.
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/version') return writeJson(res, 200, versionBody(this.deps.version));
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      const ok = path !== '/readyz' || this.deps.isReady();
      res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(url.searchParams.has('verbose') ? `[+]ping ok\n[+]etcd ok\n${path.slice(1)} check ${ok ? 'passed' : 'failed'}\n` : ok ? 'ok' : 'not ready');
      return;
    }
    for (const route of this.deps.extraRoutes ?? []) if (await route(req, res, url)) return;
    if (path === '/api') return this.discoveryRoot(req, res, '');
    if (path === '/apis') return this.discoveryRoot(req, res, 'apis');
    const segs = path.split('/').filter(Boolean).map(decodeSegment);
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      group = '';
      version = segs[1];
      rest = segs.slice(2);
    } else if (segs[0] === 'apis') {
      group = segs[1];
      if (segs.length === 2) {
        if (!this.deps.registry.versionsOf(group).length) throw notFoundPath();
        return writeJson(res, 200, this.deps.registry.apiGroup(group));
      }
      version = segs[2];
      rest = segs.slice(3);
    } else {
      throw notFoundPath();
    }
    if (!this.deps.registry.hasGroupVersion(group, version)) throw notFoundPath();
    if (rest.length === 0) {
      if (method !== 'GET') throw ApiError.methodNotAllowed(`the server does not allow this method on the requested resource`);
      return writeJson(res, 200, this.deps.registry.apiResourceList(group, version));
    }
    const route = this.route(group, version, rest);
    if (!route) throw notFoundPath();
    return this.serveResource(req, res, url, route);
  }

  private route(group: string, version: string, segs: string[]): Route | undefined {
    const reg = this.deps.registry;
    let watchPath = false;
    if (segs[0] === 'watch') {
      watchPath = true;
      segs = segs.slice(1);
    }
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      const def = reg.lookup(group, version, segs[2]);
      if (def?.namespaced) {
        if (segs.length > 5) return undefined;
        checkPathSegment('Namespace', segs[1]);
        if (segs[3] !== undefined) checkPathSegment('Name', segs[3]);
        return { def, namespace: segs[1], name: segs[3], subresource: segs[4], watchPath };
      }
    }
    const def = reg.lookup(group, version, segs[0]);
    if (!def || segs.length > 3) return undefined;
    if (def.namespaced && segs.length > 1) return undefined;
    if (segs[1] !== undefined) checkPathSegment('Name', segs[1]);
    return { def, name: segs[1], subresource: segs[2], watchPath };
  }

  private writeContext(req: IncomingMessage, url: URL): WriteContext {
    const dryRun = url.searchParams.getAll('dryRun');
    const bad = dryRun.filter((d) => d !== 'All');
    if (bad.length) {
      const options = req.method === 'POST' ? 'CreateOptions' : req.method === 'DELETE' ? 'DeleteOptions' : req.method === 'PATCH' ? 'PatchOptions' : 'UpdateOptions';
      throw ApiError.invalid(options, 'meta.k8s.io', '', [
        { type: 'FieldValueNotSupported', field: 'dryRun', value: dryRun, valueRepr: `[]string{${dryRun.map((d) => JSON.stringify(d)).join(', ')}}`, supported: ['All'] },
      ]);
    }
    const fv = url.searchParams.get('fieldValidation') ?? 'Warn';
    if (!['Strict', 'Warn', 'Ignore'].includes(fv))
      throw ApiError.badRequest(`fieldValidation parameter unsupported: ${fv}. Must be one of Ignore, Warn, Strict`);
    const manager = url.searchParams.get('fieldManager') ?? defaultFieldManager(req.headers['user-agent']);
    if (manager.length > 128) throw ApiError.badRequest('fieldManager: Too long: must have at most 128 bytes');
    return { dryRun: dryRun.length > 0, fieldManager: manager, fieldValidation: fv as WriteContext['fieldValidation'], warnings: [] };
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, url: URL, route: Route): Promise<void> {
    const { def, namespace, name, subresource } = route;
    const rest = this.deps.rest;
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    requestLabels.set(req, {
      verb: metricVerb(method, !!name, route.watchPath || q.get('watch') === 'true' || q.get('watch') === '1'),
      group: def.group,
      version: def.version,
      resource: def.plural,
      subresource: subresource ?? '',
      scope: name ? 'resource' : namespace ? 'namespace' : 'cluster',
      dry_run: q.getAll('dryRun').join(','),
    });
    const verbs = def.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
    const allow = (verb: string) => {
      if (!verbs.includes(verb)) throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    };

    const finalize = subresource === 'finalize' && !!def.isNamespace;
    if (subresource && subresource !== 'status' && subresource !== 'scale' && !finalize) {
      const handler = this.deps.subresourceHandlers?.get(`${def.group}/${def.plural}/${subresource}`);
      if (!handler || !name) throw notFoundPath();
      const ctx = this.writeContext(req, url);
      return handler({ req, res, url, def, namespace, name, body: () => readObject(req, def), writeContext: ctx });
    }
    if (subresource === 'status' && !def.subresources?.status) throw notFoundPath();
    if (subresource === 'scale' && !def.subresources?.scale) throw notFoundPath();

    if (!name) {
      if (subresource) throw notFoundPath();
      switch (method) {
        case 'GET': {
          const params = listParams(q);
          if (route.watchPath || q.get('watch') === 'true' || q.get('watch') === '1') {
            allow('watch');
            return this.serveWatch(req, res, def, namespace, params);
          }
          allow('list');
          const list = await rest.list(def, namespace, params);
          return this.writeObject(req, res, 200, def, list, true);
        }
        case 'POST': {
          allow('create');
          const ctx = this.writeContext(req, url);
          const obj = await readObject(req, def);
          const created = await rest.create(def, namespace, obj, ctx);
          return this.writeObject(req, res, 201, def, created, false, ctx.warnings);
        }
        case 'DELETE': {
          allow('deletecollection');
          const ctx = this.writeContext(req, url);
          const opts = await readDeleteOptions(req, url);
          const out = await rest.deleteCollection(def, namespace, listParams(q), opts, ctx);
          return writeJson(res, 200, out);
        }
        default:
          throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
      }
    }

    if (subresource === 'scale') {
      switch (method) {
        case 'GET':
          return writeJson(res, 200, await rest.getScale(def, namespace, name));
        case 'PUT': {
          const ctx = this.writeContext(req, url);
          const scale = await readObject(req, undefined);
          return writeJson(res, 200, await rest.updateScale(def, namespace, name, ctx, () => scale));
        }
        case 'PATCH': {
          const ctx = this.writeContext(req, url);
          const type = patchTypeOf(req);
          const body = await readBody(req);
          const { applyPatchToScale } = await import('./patching.js');
          return writeJson(res, 200, await rest.updateScale(def, namespace, name, ctx, (scale) => applyPatchToScale(type, scale, body)));
        }
        default:
          throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
      }
    }

    if (finalize && method !== 'PUT') throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    const sub = (subresource ?? '') as '' | 'status' | 'finalize';
    switch (method) {
      case 'GET': {
        if (q.get('watch') === 'true' || route.watchPath) {
          allow('watch');
          const params = listParams(q);
          params.fieldSelector = [params.fieldSelector, `metadata.name=${name}`].filter(Boolean).join(',');
          return this.serveWatch(req, res, def, namespace, params);
        }
        allow('get');
        const obj = await rest.get(def, namespace, name);
        return this.writeObject(req, res, 200, def, obj, false);
      }
      case 'PUT': {
        allow('update');
        const ctx = this.writeContext(req, url);
        const obj = await readObject(req, def);
        const updated = await rest.update(def, namespace, name, obj, ctx, sub);
        return this.writeObject(req, res, 200, def, updated, false, ctx.warnings);
      }
      case 'PATCH': {
        allow('patch');
        const ctx = this.writeContext(req, url);
        const type = patchTypeOf(req);
        if (type === 'apply' && !q.get('fieldManager'))
          throw ApiError.badRequest('PATCH operations with apply require a field manager');
        const force = q.get('force') === 'true';
        if (force && type !== 'apply') throw ApiError.badRequest('force: Invalid value: true: may not be specified for non-apply patch');
        const body = await readBody(req);
        const { object, created } = await rest.patch(def, namespace, name, type, body, ctx, sub === 'finalize' ? '' : sub, force);
        return this.writeObject(req, res, created ? 201 : 200, def, object, false, ctx.warnings);
      }
      case 'DELETE': {
        allow('delete');
        if (subresource) throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
        const ctx = this.writeContext(req, url);
        const opts = await readDeleteOptions(req, url);
        const out = await rest.delete(def, namespace, name, opts, ctx);
        return writeJson(res, out.code, out.body);
      }
      default:
        throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    }
  }

  /** Writes an object, a list, a Table or PartialObjectMetadata as the Accept header asks. */
  private writeObject(
    req: IncomingMessage,
    res: ServerResponse,
    code: number,
    def: ResourceDef,
    obj: KObject,
    isList: boolean,
    warnings: string[] = [],
  ): void {
    for (const w of warnings) res.appendHeader('Warning', `299 - ${JSON.stringify(w)}`);
    const accept = parseAccept(req.headers.accept);
    if (accept.table) {
      const items = isList ? (obj.items as KObject[]) : [obj];
      const table = toTable(def, items, { include: includeObjectParam(req), now: this.deps.clock(), listMeta: isList ? obj.metadata : { resourceVersion: obj.metadata?.resourceVersion } });
      return writeJson(res, code, table);
    }
    if (accept.partial) {
      if (isList)
        return writeJson(res, code, {
          kind: 'PartialObjectMetadataList',
          apiVersion: 'meta.k8s.io/v1',
          metadata: obj.metadata,
          items: (obj.items as KObject[]).map(toPartialMetadata),
        });
      return writeJson(res, code, toPartialMetadata(obj));
    }
    if (accept.yaml) {
      res.writeHead(code, { 'Content-Type': 'application/yaml' });
      res.end(YAML.stringify(obj));
      return;
    }
    writeJson(res, code, obj);
  }

  private async serveWatch(req: IncomingMessage, res: ServerResponse, def: ResourceDef, namespace: string | undefined, params: ReturnType<typeof listParams>): Promise<void> {
    const accept = parseAccept(req.headers.accept);
    const include = includeObjectParam(req);
    const now = this.deps.clock;
    const encode = (ev: ApiWatchEvent): string => {
      let object: KObject = ev.object;
      if (accept.table && (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED'))
        object = toTable(def, [ev.object], { include, now: now(), listMeta: { resourceVersion: ev.object.metadata?.resourceVersion } });
      else if (accept.partial && ev.type !== 'ERROR') object = toPartialMetadata(ev.object);
      return `${JSON.stringify({ type: ev.type, object })}\n`;
    };
    let ended = false;
    const timeoutSeconds = params.timeoutSeconds ?? 1800 + Math.floor(Math.random() * 1800);
    const finish = () => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      watcher?.cancel();
      res.end();
    };
    const buffered: string[] = [];
    let started = false;
    const send = (ev: ApiWatchEvent) => {
      if (ended) return;
      const line = encode(ev);
      if (!started) buffered.push(line);
      else res.write(line);
    };
    let watcher: { cancel(): void } | undefined;
    const timer = setTimeout(finish, timeoutSeconds * 1000);
    req.on('close', finish);
    res.on('close', finish);
    try {
      watcher = await this.deps.rest.watch(def, namespace, params, send, (err) => {
        if (err) this.deps.log({ level: 'warn', msg: 'watch ended', error: err.message });
        finish();
      });
    } catch (e) {
      clearTimeout(timer);
      ended = true;
      throw e;
    }
    if (ended) {
      watcher.cancel();
      return;
    }
    res.writeHead(200, {
      'Content-Type': accept.table ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json',
      'Cache-Control': 'no-cache, private',
    });
    res.flushHeaders();
    started = true;
    for (const line of buffered) res.write(line);
    buffered.length = 0;
  }

  private discoveryRoot(req: IncomingMessage, res: ServerResponse, which: '' | 'apis'): void {
    const reg = this.deps.registry;
    const aggregated = negotiateAggregated(req.headers.accept);
    if (aggregated) {
      const items = which === '' ? [reg.aggregatedGroup('')] : reg.groupNames().map((g) => reg.aggregatedGroup(g));
      const body = { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${aggregated}`, metadata: {}, items };
      const json = JSON.stringify(body);
      res.writeHead(200, {
        'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${aggregated};as=APIGroupDiscoveryList`,
        Vary: 'Accept',
        'Content-Length': Buffer.byteLength(json),
      });
      res.end(json);
      return;
    }
    if (which === '') {
      const host = req.headers.host ?? '127.0.0.1';
      return writeJson(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] });
    }
    return writeJson(res, 200, reg.apiGroupList());
  }
}

/** kube-apiserver's verb label: LIST and WATCH are told apart from GET. */
function metricVerb(method: string, named: boolean, watch: boolean): string {
  if (method === 'GET') return watch ? 'WATCH' : named ? 'GET' : 'LIST';
  if (method === 'DELETE' && !named) return 'DELETECOLLECTION';
  return method;
}

// ---- request decoding ----

function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', { causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found' }] });
}

/** Past this much, an oversized body is not even drained: the connection is cut. */
const maxDrainBytes = 64 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = declared > maxBodyBytes;
  // An oversized body is read and discarded before the 413, so the client gets the answer
  // instead of a broken pipe while it is still sending.
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) tooLarge = true;
    if (tooLarge) {
      chunks.length = 0;
      if (size > maxDrainBytes) {
        req.destroy();
        break;
      }
      continue;
    }
    chunks.push(chunk as Buffer);
  }
  if (tooLarge) throw ApiError.tooLarge();
  return Buffer.concat(chunks);
}

function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
}

/** Decodes a request body into an object (JSON, YAML or Kubernetes protobuf). */
export async function readObject(req: IncomingMessage, def: ResourceDef | undefined): Promise<KObject> {
  const body = await readBody(req);
  const type = contentTypeOf(req);
  let obj: unknown;
  const kindName = def ? def.kind : 'object';
  if (type === 'application/vnd.kubernetes.protobuf') {
    obj = decodeProtobufBody(body);
  } else if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') {
    try {
      obj = YAML.parse(body.toString('utf8'));
    } catch (e) {
      throw ApiError.badRequest(`the object provided is unrecognized: error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`);
    }
  } else if (type === 'application/json' || type === '*/*' || type === '') {
    obj = parseJson(body, def);
  } else {
    throw ApiError.unsupportedMediaType();
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    throw ApiError.badRequest(`the object provided is unrecognized (must be of type ${kindName}): couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(obj) ? 'array' : typeof obj} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
  return obj as KObject;
}

export function parseJson(body: Buffer, def?: ResourceDef): unknown {
  const text = body.toString('utf8');
  const unrecognized = (why: string) =>
    ApiError.badRequest(`the object provided is unrecognized (must be of type ${def?.kind ?? 'object'}): couldn't get version/kind; json parse error: ${why} (${summarizeData(body)})`);
  if (!text.trim()) throw unrecognized('unexpected end of JSON input');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw unrecognized((e as Error).message);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw unrecognized(
      `json: cannot unmarshal ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'number' ? 'number' : typeof v} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
    );
  return v;
}

/** kube's summarizeData: the text when it looks like an object, else hex of the first 30 bytes. */
function summarizeData(body: Buffer): string {
  if (body.length === 0) return '<empty>';
  const head = body.subarray(0, 30);
  const text = head.toString('utf8');
  const summary = text.startsWith('{') ? text : head.toString('hex');
  return body.length > 30 ? `${summary} ...` : summary;
}

function decodeSegment(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    throw ApiError.badRequest(`invalid URL escape ${JSON.stringify(seg)}`);
  }
}

/** kube's IsValidPathSegmentName: a name or namespace in the path cannot leave its segment. */
function checkPathSegment(what: 'Name' | 'Namespace', value: string): void {
  let why: string | undefined;
  if (value === '.' || value === '..') why = `may not be '${value}'`;
  else if (value.includes('/')) why = "may not contain '/'";
  else if (value.includes('%')) why = "may not contain '%'";
  if (why) throw ApiError.badRequest(`${what} parameter invalid: ${JSON.stringify(value)}: ${why}`);
}

function patchTypeOf(req: IncomingMessage): PatchType {
  switch (contentTypeOf(req)) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
    case 'application/apply-patch+cbor':
      return 'apply';
    default:
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
  }
}

async function readDeleteOptions(req: IncomingMessage, url: URL): Promise<DeleteOptions> {
  const body = await readBody(req);
  let opts: DeleteOptions = {};
  if (body.length) {
    const type = contentTypeOf(req);
    const parsed = type === 'application/vnd.kubernetes.protobuf' ? decodeProtobufBody(body) : parseJson(body);
    if (parsed && typeof parsed === 'object') opts = parsed as DeleteOptions;
  }
  const q = url.searchParams;
  if (q.has('gracePeriodSeconds')) opts.gracePeriodSeconds = Number(q.get('gracePeriodSeconds'));
  if (q.has('propagationPolicy')) opts.propagationPolicy = q.get('propagationPolicy') as DeleteOptions['propagationPolicy'];
  if (q.has('orphanDependents')) opts.orphanDependents = q.get('orphanDependents') === 'true';
  if (opts.propagationPolicy && !['Background', 'Foreground', 'Orphan'].includes(opts.propagationPolicy))
    throw ApiError.invalid('DeleteOptions', '', '', [
      { type: 'FieldValueNotSupported', field: 'propagationPolicy', value: opts.propagationPolicy, supported: ['Foreground', 'Background', 'Orphan', 'nil'] },
    ]);
  if (opts.gracePeriodSeconds !== undefined && (!Number.isFinite(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) opts.gracePeriodSeconds = 0;
  return opts;
}

function integerParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw ApiError.badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

function listParams(q: URLSearchParams) {
  const limit = integerParam(q, 'limit');
  const timeout = integerParam(q, 'timeoutSeconds');
  const rvMatch = q.get('resourceVersionMatch');
  if (rvMatch && !q.get('resourceVersion'))
    throw ApiError.invalid('ListOptions', 'meta.k8s.io', '', [
      { type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'resourceVersionMatch is forbidden unless resourceVersion is provided' },
    ]);
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit,
    continue: q.get('continue') ?? undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
    allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
    sendInitialEvents: q.get('sendInitialEvents') === 'true' ? true : undefined,
    timeoutSeconds: timeout,
  };
}

// ---- response encoding ----

const statusTexts: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** Answers an upgrade request that will not be upgraded: a JSON body on the raw socket, then close. */
export function writeRawStatus(socket: Duplex, code: number, body: unknown): void {
  if (socket.destroyed || socket.writableEnded) return;
  const json = Buffer.from(JSON.stringify(body));
  const head = `HTTP/1.1 ${code} ${statusTexts[code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nCache-Control: no-cache, private\r\nConnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head), json]));
}

export function writeJson(res: ServerResponse, code: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json), 'Cache-Control': 'no-cache, private' });
  res.end(json);
}

interface AcceptInfo {
  table: boolean;
  partial: boolean;
  yaml: boolean;
}

/** The first acceptable media type wins, as kube-apiserver's negotiation does. */
function parseAccept(accept: string | undefined): AcceptInfo {
  const info: AcceptInfo = { table: false, partial: false, yaml: false };
  if (!accept) return info;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim()) as [string, string]));
    if (p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1')) {
      info.table = true;
      return info;
    }
    if ((p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && p.g === 'meta.k8s.io') {
      info.partial = true;
      return info;
    }
    if (p.as) continue;
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return info;
    if (type === 'application/yaml') {
      info.yaml = true;
      return info;
    }
  }
  return info;
}

function includeObjectParam(req: IncomingMessage): IncludeObject {
  const v = new URL(req.url ?? '/', 'https://localhost').searchParams.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/** Picks aggregated discovery v2 or v2beta1 when the client asks for it. */
function negotiateAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const [, ...params] = part.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim()) as [string, string]));
    if (p.g === 'apidiscovery.k8s.io' && p.as === 'APIGroupDiscoveryList' && (p.v === 'v2' || p.v === 'v2beta1')) return p.v;
    if (!p.as && part.trim().startsWith('application/json')) return undefined;
  }
  return undefined;
}

/** kube-apiserver derives a manager from the User-Agent when fieldManager is absent ("kubectl/v1.32 ..." → "kubectl"). */
function defaultFieldManager(ua: string | string[] | undefined): string {
  const s = Array.isArray(ua) ? ua[0] : ua;
  if (!s) return 'unknown';
  return s.split('/')[0].slice(0, 128) || 'unknown';
}

export function versionBody(v: VersionInfo): Record<string, string> {
  return {
    major: v.major,
    minor: v.minor,
    gitVersion: v.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

