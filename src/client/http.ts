/**
 * @module The HTTPS transport of the Client contract (client-go's rest client): the
 * kube-apiserver URL space over node:https with keep-alive, credentials from a kubeconfig
 * (client certificate, bearer token, CA, insecure-skip-tls-verify), watches as a chunked
 * stream of JSON lines, and every failure rebuilt from the server's metav1.Status.
 */
import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import YAML from 'yaml';
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import {
  apiVersionOfGvr,
  type Client,
  type DeleteOptions,
  type Gvr,
  type ListOptions,
  type PatchType,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
  type WriteOptions,
} from './client.js';

export interface HttpClientOptions {
  /** https://host:port of the API server. */
  server: string;
  /** PEM CA bundle the server's certificate is checked against (default: the system's). */
  ca?: string;
  /** PEM client certificate and key (x509 authentication). */
  cert?: string;
  key?: string;
  /** Bearer token. */
  token?: string;
  /** Skip server certificate verification (kubeconfig insecure-skip-tls-verify). */
  insecureSkipTLSVerify?: boolean;
  userAgent?: string;
  /** Field manager of writes that name none (default "skiff"). */
  fieldManager?: string;
  /** Deadline of an ordinary (non-watch) request (default 60 s). */
  requestTimeoutMs?: number;
  /** The kubeconfig context's namespace: what kubectl uses when no --namespace is given. */
  namespace?: string;
}

/** The server could not be reached or the connection broke: no Status came back. */
export class ConnectionError extends Error {
  constructor(
    message: string,
    readonly url: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/** A kubeconfig that cannot be used (missing file, context, cluster or credentials). */
export class KubeconfigError extends Error {
  constructor(message: string, readonly path?: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

const patchContentTypes: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** The reason kube-apiserver gives a code when a response carries no Status (apimachinery's reasonForCode). */
function reasonForCode(code: number): string {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 406:
      return 'NotAcceptable';
    case 409:
      return 'Conflict';
    case 410:
      return 'Gone';
    case 413:
      return 'RequestEntityTooLarge';
    case 415:
      return 'UnsupportedMediaType';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return code >= 500 ? 'InternalError' : '';
  }
}

/** Rebuilds the ApiError a response body (a metav1.Status, or anything else) stands for. */
export function apiErrorFromResponse(code: number, body: string): ApiError {
  try {
    const s = JSON.parse(body) as KObject;
    if (s && s.kind === 'Status') {
      return new ApiError(Number(s.code) || code, s.reason ?? '', s.message ?? '', s.details, s.metadata ?? {});
    }
  } catch {
    // not JSON: client-go reports the body text with the code's reason.
  }
  const text = body.trim();
  const message = text ? `the server responded with the status code ${code} but did not return more information (${text.slice(0, 200)})` : `the server responded with the status code ${code} but did not return more information`;
  return new ApiError(code, reasonForCode(code), message);
}

export class HttpClient implements Client {
  private readonly base: URL;
  private readonly agent: Agent;
  private readonly headers: Record<string, string>;
  private readonly manager: string;
  private readonly timeoutMs: number;
  /** The namespace namespaced commands default to ("default" unless the context names one). */
  readonly namespace: string;

  constructor(readonly options: HttpClientOptions) {
    this.namespace = options.namespace || 'default';
    this.base = new URL(options.server);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') throw new TypeError(`server URL must be https://host:port, not ${options.server}`);
    this.agent = new Agent({
      keepAlive: true,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      rejectUnauthorized: !options.insecureSkipTLSVerify,
    });
    this.headers = {
      'User-Agent': options.userAgent ?? `skiff/v1.32.0+skiff (${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch})`,
      Accept: 'application/json',
    };
    if (options.token) this.headers.Authorization = `Bearer ${options.token}`;
    this.manager = options.fieldManager ?? 'skiff';
    this.timeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  /**
   * A client from a kubeconfig with kubectl's rules: the explicit path, else every file of
   * $KUBECONFIG merged (first one wins), else ~/.kube/config; the named context, else
   * current-context.
   */
  static fromKubeconfig(path?: string, context?: string, extra: Pick<HttpClientOptions, 'userAgent' | 'fieldManager' | 'requestTimeoutMs'> = {}): HttpClient {
    return new HttpClient({ ...kubeconfigOptions(path, context), ...extra });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  // ---- verbs ----

  get(r: Gvr, namespace: string | undefined, name: string): Promise<KObject> {
    return this.json('GET', this.path(r, namespace, name));
  }

  async list(r: Gvr, namespace: string | undefined, opts: ListOptions = {}): Promise<KObject> {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.continue) q.set('continue', opts.continue);
    if (opts.resourceVersion !== undefined) q.set('resourceVersion', opts.resourceVersion);
    const list = await this.json('GET', this.path(r, namespace), q);
    // kube-apiserver leaves TypeMeta off list items; the Client contract puts it back.
    const kind = typeof list.kind === 'string' ? list.kind.replace(/List$/, '') : undefined;
    if (Array.isArray(list.items) && kind)
      list.items = (list.items as KObject[]).map((o) => (o.apiVersion && o.kind ? o : { apiVersion: apiVersionOfGvr(r), kind, ...o }));
    return list;
  }

  create(r: Gvr, namespace: string | undefined, obj: KObject, opts?: WriteOptions): Promise<KObject> {
    return this.json('POST', this.path(r, namespace), this.writeQuery(opts), obj);
  }

  update(r: Gvr, namespace: string | undefined, obj: KObject, opts?: WriteOptions & { subresource?: 'status' | 'finalize' }): Promise<KObject> {
    const name = obj.metadata?.name;
    if (!name) return Promise.reject(ApiError.badRequest('name is required for update'));
    return this.json('PUT', this.path(r, namespace, name, opts?.subresource), this.writeQuery(opts), obj);
  }

  patch(
    r: Gvr,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts?: WriteOptions & { subresource?: 'status' | 'scale'; force?: boolean },
  ): Promise<KObject> {
    const q = this.writeQuery(opts);
    if (type === 'apply' && opts?.force) q.set('force', 'true');
    return this.json('PATCH', this.path(r, namespace, name, opts?.subresource), q, patch, patchContentTypes[type]);
  }

  async delete(r: Gvr, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<void> {
    const body: KObject = { kind: 'DeleteOptions', apiVersion: 'v1', ...opts };
    await this.json('DELETE', this.path(r, namespace, name), undefined, body);
  }

  createSubresource(r: Gvr, namespace: string | undefined, name: string, subresource: string, body: KObject): Promise<KObject> {
    return this.json('POST', this.path(r, namespace, name, subresource), undefined, body);
  }

  getScale(r: Gvr, namespace: string | undefined, name: string): Promise<KObject> {
    return this.json('GET', this.path(r, namespace, name, 'scale'));
  }

  updateScale(r: Gvr, namespace: string | undefined, name: string, scale: KObject): Promise<KObject> {
    return this.json('PUT', this.path(r, namespace, name, 'scale'), this.writeQuery(), scale);
  }

  /**
   * GET ?watch=true: resolves once the server accepted the watch (rejects with its Status
   * otherwise), then hands each JSON line to onEvent until the stream ends or stop().
   */
  watch(r: Gvr, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void): Promise<WatchHandle> {
    const q = new URLSearchParams({ watch: 'true' });
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== '') q.set('resourceVersion', opts.resourceVersion);
    if (opts.allowWatchBookmarks) q.set('allowWatchBookmarks', 'true');
    if (opts.timeoutSeconds) q.set('timeoutSeconds', String(opts.timeoutSeconds));
    const url = this.url(this.path(r, namespace), q);
    return new Promise((resolve, reject) => {
      let ended = false;
      let accepted = false;
      const end = (err?: Error) => {
        if (ended) return;
        ended = true;
        req.destroy();
        if (accepted) onEnd(err);
        else reject(err ?? new ConnectionError(`watch of ${url.pathname} ended before it started`, url.href));
      };
      const req = httpsRequest(url, { method: 'GET', agent: this.agent, headers: this.headers }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          void readBody(res).then((body) => {
            ended = true;
            reject(apiErrorFromResponse(res.statusCode ?? 500, body));
          }, (err: Error) => end(err));
          return;
        }
        accepted = true;
        resolve({ stop: () => end() });
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while (!ended && (nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            let ev: WatchEvent;
            try {
              ev = JSON.parse(line) as WatchEvent;
            } catch {
              end(new ConnectionError(`malformed watch event from ${url.pathname}: ${line.slice(0, 100)}`, url.href));
              return;
            }
            onEvent(ev);
          }
        });
        res.on('end', () => end());
        res.on('error', (err) => end(err));
        res.on('close', () => end(res.complete ? undefined : new ConnectionError(`watch of ${url.pathname} was cut off`, url.href)));
      });
      req.on('error', (err) => end(new ConnectionError(`${err.message} (${url.origin})`, url.href, err)));
      req.end();
    });
  }

  // ---- plumbing ----

  /** /api/v1/namespaces/NS/pods/NAME/SUB or /apis/GROUP/VERSION/…, with every segment escaped. */
  private path(r: Gvr, namespace: string | undefined, name?: string, subresource?: string): string {
    const parts = r.group ? ['apis', r.group, r.version] : ['api', r.version];
    if (namespace) parts.push('namespaces', namespace);
    parts.push(r.resource);
    if (name !== undefined) parts.push(name);
    if (subresource) parts.push(subresource);
    return '/' + parts.map((p, i) => (i < 3 ? p : encodeURIComponent(p))).join('/');
  }

  private url(path: string, q?: URLSearchParams): URL {
    const u = new URL(this.base.href);
    u.pathname = this.base.pathname.replace(/\/+$/, '') + path;
    u.search = q && [...q.keys()].length ? q.toString() : '';
    return u;
  }

  private writeQuery(opts?: WriteOptions): URLSearchParams {
    const q = new URLSearchParams({ fieldManager: opts?.fieldManager ?? this.manager });
    if (opts?.dryRun) q.set('dryRun', 'All');
    return q;
  }

  /** One request with a JSON (or patch) body and a JSON answer; non-2xx answers throw ApiError. */
  private json(method: string, path: string, q?: URLSearchParams, body?: unknown, contentType = 'application/json'): Promise<KObject> {
    const url = this.url(path, q);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { ...this.headers };
    if (payload) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = payload.length;
    }
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, agent: this.agent, headers, timeout: this.timeoutMs }, (res) => {
        readBody(res).then((text) => {
          const code = res.statusCode ?? 500;
          if (code >= 300) return reject(apiErrorFromResponse(code, text));
          try {
            resolve(text ? (JSON.parse(text) as KObject) : {});
          } catch {
            reject(new ConnectionError(`${method} ${url.pathname}: the server sent a body that is not JSON`, url.href));
          }
        }, (err: Error) => reject(new ConnectionError(`${method} ${url.pathname}: ${err.message}`, url.href, err)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(new ConnectionError(`${method} ${url.origin}${url.pathname}: ${err.message}`, url.href, err)));
      req.end(payload);
    });
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

// ---- kubeconfig ----

interface NamedEntry {
  name: string;
  [k: string]: unknown;
}

interface LoadedConfig {
  path: string;
  config: KObject;
}

/** The files kubectl reads: the explicit path, else $KUBECONFIG's list, else ~/.kube/config. */
function kubeconfigFiles(path?: string): string[] {
  if (path) return [path];
  const env = process.env.KUBECONFIG;
  if (env) return env.split(delimiter).filter(Boolean);
  return [join(homedir(), '.kube', 'config')];
}

function loadConfigs(path?: string): LoadedConfig[] {
  const files = kubeconfigFiles(path);
  const loaded: LoadedConfig[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      // kubectl skips missing files of $KUBECONFIG but not an explicit --kubeconfig.
      if (path || files.length === 1) throw new KubeconfigError(`cannot read kubeconfig ${file}: ${(err as Error).message}`, file);
      continue;
    }
    let config: KObject;
    try {
      config = (YAML.parse(text) ?? {}) as KObject;
    } catch (err) {
      throw new KubeconfigError(`kubeconfig ${file} is not valid YAML: ${(err as Error).message}`, file);
    }
    loaded.push({ path: resolvePath(file), config });
  }
  return loaded;
}

/** First definition of a name wins across merged files (clientcmd's merge rule). */
function findNamed(configs: LoadedConfig[], list: string, name: string): { entry: NamedEntry; path: string } | undefined {
  for (const { config, path } of configs) {
    const entries = Array.isArray(config[list]) ? (config[list] as NamedEntry[]) : [];
    const entry = entries.find((e) => e?.name === name);
    if (entry) return { entry, path };
  }
  return undefined;
}

function dataOrFile(obj: KObject, dataKey: string, fileKey: string, base: string): string | undefined {
  if (typeof obj[dataKey] === 'string' && obj[dataKey]) return Buffer.from(obj[dataKey] as string, 'base64').toString('utf8');
  if (typeof obj[fileKey] === 'string' && obj[fileKey]) {
    const file = obj[fileKey] as string;
    // Relative paths in a kubeconfig are relative to the file that names them.
    return readFileSync(isAbsolute(file) ? file : join(base, file), 'utf8');
  }
  return undefined;
}

/** Resolves a kubeconfig context to connection options. */
export function kubeconfigOptions(path?: string, context?: string): HttpClientOptions {
  const configs = loadConfigs(path);
  const where = configs.map((c) => c.path).join(delimiter) || kubeconfigFiles(path).join(delimiter);
  const contextName = context ?? configs.map((c) => c.config['current-context']).find((c) => typeof c === 'string' && c);
  if (!contextName) throw new KubeconfigError(`no context chosen and current-context is not set in ${where}`, where);
  const ctx = findNamed(configs, 'contexts', contextName);
  if (!ctx) throw new KubeconfigError(`context "${contextName}" does not exist in ${where}`, where);
  const c = (ctx.entry.context ?? {}) as KObject;
  const cluster = c.cluster ? findNamed(configs, 'clusters', c.cluster) : undefined;
  if (!cluster) throw new KubeconfigError(`cluster "${c.cluster ?? ''}" of context "${contextName}" does not exist in ${where}`, where);
  const cl = (cluster.entry.cluster ?? {}) as KObject;
  if (!cl.server) throw new KubeconfigError(`cluster "${c.cluster}" has no server`, cluster.path);
  const user = c.user ? findNamed(configs, 'users', c.user) : undefined;
  const u = (user?.entry.user ?? {}) as KObject;
  const userBase = dirname(user?.path ?? cluster.path);
  let token = typeof u.token === 'string' && u.token ? u.token : undefined;
  if (!token && typeof u.tokenFile === 'string' && u.tokenFile) token = readFileSync(isAbsolute(u.tokenFile) ? u.tokenFile : join(userBase, u.tokenFile), 'utf8').trim();
  return {
    server: String(cl.server),
    ca: dataOrFile(cl, 'certificate-authority-data', 'certificate-authority', dirname(cluster.path)),
    insecureSkipTLSVerify: cl['insecure-skip-tls-verify'] === true,
    cert: dataOrFile(u, 'client-certificate-data', 'client-certificate', userBase),
    key: dataOrFile(u, 'client-key-data', 'client-key', userBase),
    token,
    namespace: typeof c.namespace === 'string' && c.namespace ? c.namespace : undefined,
  };
}
