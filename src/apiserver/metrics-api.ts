/**
 * @module metrics.k8s.io/v1beta1 served by the API server itself, in the role
 * metrics-server plays: every metric resolution it scrapes each node's kubelet
 * (/metrics/resource, with the API server's kubelet client certificate, where pods/log is
 * proxied to), keeps the last two readings, and answers NodeMetrics and PodMetrics
 * get/list (label and field selectors on the nodes and pods they describe) for
 * `kubectl top` and the HPA controller. Its group is in discovery like an APIService's.
 */
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { ApiError } from '../api/errors.js';
import type { KObject, ResourceDef } from '../api/types.js';
import { tryParseQuantity } from '../api/quantity.js';
import {
  ResourceMetricsStorage,
  formatCpu,
  formatMemory,
  metricsApiVersion,
  metricsGroup,
  metricsVersion,
  nodeMetricsObject,
  parseResourceMetrics,
  podMetricsObject,
} from '../metrics/index.js';
import { writeJson } from './handler.js';
import { kubeletClientCommonName, kubeletEndpointOf, type KubeletEndpoint } from './pod-streaming.js';
import { signClientCert, type CertKeyPair, type Pki } from './pki/index.js';
import type { ResourceRegistry } from './registry.js';
import type { RestStorage } from './rest.js';

/** The two resources of metrics.k8s.io/v1beta1, for routing and discovery (never stored). */
export const metricsApiResources: ResourceDef[] = [
  { group: metricsGroup, version: metricsVersion, kind: 'NodeMetrics', plural: 'nodes', singular: '', namespaced: false, verbs: ['get', 'list'] },
  { group: metricsGroup, version: metricsVersion, kind: 'PodMetrics', plural: 'pods', singular: '', namespaced: true, verbs: ['get', 'list'] },
];

/** metrics-server's default --metric-resolution. */
export const defaultMetricResolutionMs = 15_000;

export interface MetricsApiOptions {
  rest: RestStorage;
  registry: ResourceRegistry;
  pki: Pki;
  /** How often kubelets are scraped (metrics-server --metric-resolution, 15 s). */
  resolutionMs?: number;
  clock?: () => number;
  log?: (msg: Record<string, unknown>) => void;
  /** Check kubelets' serving certificates against the cluster CA (default true). */
  verifyKubeletCert?: boolean;
  /** Scrapes in flight at once. */
  concurrency?: number;
}

export class MetricsApi {
  readonly storage = new ResourceMetricsStorage();
  private timer?: NodeJS.Timeout;
  private scraping?: Promise<void>;
  private clientCert?: Promise<CertKeyPair>;
  /** Kept-alive connections to kubelets: hollow nodes share one server, real ones are scraped every resolution. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  private readonly clock: () => number;
  private readonly log: (msg: Record<string, unknown>) => void;
  readonly resolutionMs: number;
  /** Completed scrape rounds (tests, benchmarks). */
  rounds = 0;

  constructor(private readonly opts: MetricsApiOptions) {
    this.clock = opts.clock ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.resolutionMs = opts.resolutionMs ?? defaultMetricResolutionMs;
  }

  private def(group: string, version: string, plural: string): ResourceDef {
    const d = this.opts.registry.lookup(group, version, plural);
    if (!d) throw new Error(`${plural} must be registered before metrics.k8s.io`);
    return d;
  }

  /** Starts scraping every resolution (the first round at once); a resolution of 0 turns scraping off. */
  start(): void {
    if (this.timer || this.resolutionMs <= 0) return;
    const tick = () => void this.scrapeOnce();
    this.timer = setInterval(tick, this.resolutionMs);
    this.timer.unref?.();
    tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.agent.destroy();
  }

  /** One round over every node; overlapping rounds are not started. */
  scrapeOnce(): Promise<void> {
    this.scraping ??= this.scrapeAll().finally(() => {
      this.scraping = undefined;
      this.rounds++;
    });
    return this.scraping;
  }

  private async scrapeAll(): Promise<void> {
    let nodes: KObject[];
    try {
      nodes = (await this.opts.rest.list(this.def('', 'v1', 'nodes'), undefined, {})).items ?? [];
    } catch (err) {
      this.log({ level: 'warn', msg: 'cannot list nodes', error: String(err) });
      return;
    }
    // As metrics-server's storage: a node that was not scraped this round (gone, unreachable) has no metrics.
    const scraped = new Set<string>();
    const queue = [...nodes];
    const worker = async () => {
      for (let node = queue.pop(); node; node = queue.pop()) {
        const name = String(node.metadata?.name);
        const endpoint = kubeletEndpointOf(node);
        if (!endpoint) continue;
        try {
          const at = this.clock();
          const text = await this.fetchKubelet(endpoint, `/metrics/resource?node=${encodeURIComponent(name)}`);
          this.storage.store(name, parseResourceMetrics(text, at), at);
          scraped.add(name);
        } catch (err) {
          this.log({ level: 'info', msg: 'failed to scrape node', node: name, kubelet: `${endpoint.host}:${endpoint.port}`, error: err instanceof Error ? err.message : String(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(queue.length, this.opts.concurrency ?? 16) }, worker));
    this.storage.retainNodes(scraped);
  }

  private kubeletClientCert(): Promise<CertKeyPair> {
    return (this.clientCert ??= signClientCert(this.opts.pki, kubeletClientCommonName, ['system:masters']).catch((err) => {
      this.clientCert = undefined;
      throw err;
    }));
  }

  private async fetchKubelet(endpoint: KubeletEndpoint, path: string): Promise<string> {
    const cert = await this.kubeletClientCert();
    const timeout = Math.max(1000, Math.min(10_000, Math.floor(this.resolutionMs * 0.9)));
    return new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: endpoint.host,
          port: endpoint.port,
          path,
          method: 'GET',
          cert: cert.certPem,
          key: cert.keyPem,
          ca: this.opts.pki.caCertPem,
          rejectUnauthorized: this.opts.verifyKubeletCert ?? true,
          servername: isIP(endpoint.host) ? undefined : endpoint.host,
          agent: this.agent,
          timeout,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`request failed, status: "${res.statusCode} ${res.statusMessage}": ${body.trim()}`));
            else resolve(body);
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`Get "https://${endpoint.host}:${endpoint.port}${path}": context deadline exceeded`)));
      req.on('error', reject);
      req.end();
    });
  }

  // ---- the API ----

  /** NodeMetrics of the nodes matching the selectors (nodes without a reading are left out). */
  async listNodeMetrics(opts: { labelSelector?: string; fieldSelector?: string } = {}): Promise<KObject> {
    const nodes = (await this.opts.rest.list(this.def('', 'v1', 'nodes'), undefined, opts)).items ?? [];
    const items: KObject[] = [];
    for (const n of nodes) {
      const usage = this.storage.nodeMetrics(String(n.metadata?.name));
      if (usage) items.push(nodeMetricsObject(String(n.metadata?.name), n.metadata?.labels, usage));
    }
    return { kind: 'NodeMetricsList', apiVersion: metricsApiVersion, metadata: {}, items };
  }

  async getNodeMetrics(name: string): Promise<KObject> {
    let node: KObject;
    try {
      node = await this.opts.rest.get(this.def('', 'v1', 'nodes'), undefined, name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw ApiError.notFound('nodemetrics', metricsGroup, name);
      throw err;
    }
    const usage = this.storage.nodeMetrics(name);
    if (!usage) throw ApiError.notFound('nodemetrics', metricsGroup, name);
    return nodeMetricsObject(name, node.metadata?.labels, usage);
  }

  /** PodMetrics of the pods matching the selectors in a namespace (undefined: all namespaces). */
  async listPodMetrics(namespace: string | undefined, opts: { labelSelector?: string; fieldSelector?: string } = {}): Promise<KObject> {
    const pods = (await this.opts.rest.list(this.def('', 'v1', 'pods'), namespace, opts)).items ?? [];
    const items: KObject[] = [];
    for (const p of pods) {
      // metrics-server leaves out pods that are not running.
      if (p.status?.phase !== 'Running' && p.status?.phase !== undefined) continue;
      const m = this.storage.podMetrics(String(p.metadata?.namespace), String(p.metadata?.name));
      if (m) items.push(podMetricsObject(String(p.metadata?.namespace), String(p.metadata?.name), p.metadata?.labels, m));
    }
    return { kind: 'PodMetricsList', apiVersion: metricsApiVersion, metadata: {}, items };
  }

  async getPodMetrics(namespace: string, name: string): Promise<KObject> {
    let pod: KObject;
    try {
      pod = await this.opts.rest.get(this.def('', 'v1', 'pods'), namespace, name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw ApiError.notFound('podmetrics', metricsGroup, `${namespace}/${name}`);
      throw err;
    }
    const m = this.storage.podMetrics(namespace, name);
    if (!m) throw ApiError.notFound('podmetrics', metricsGroup, `${namespace}/${name}`);
    return podMetricsObject(namespace, name, pod.metadata?.labels, m);
  }

  /** The HTTP route for /apis/metrics.k8s.io/v1beta1/… (the group documents come from the registry). */
  readonly route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const prefix = `/apis/${metricsGroup}/${metricsVersion}/`;
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
    if (!path.startsWith(prefix)) return false;
    const segs = path.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
    let namespace: string | undefined;
    let rest = segs;
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      namespace = segs[1];
      rest = segs.slice(2);
    }
    const [plural, name, ...extra] = rest;
    const known = plural === 'pods' || (plural === 'nodes' && namespace === undefined);
    if (!known || extra.length) return false;
    if (req.method !== 'GET') throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    const q = url.searchParams;
    if (q.get('watch') === 'true' || q.get('watch') === '1') throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    const selectors = { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined };
    let body: KObject;
    if (plural === 'nodes') body = name ? await this.getNodeMetrics(name) : await this.listNodeMetrics(selectors);
    else if (name) {
      if (!namespace) throw ApiError.notFound('podmetrics', metricsGroup, name);
      body = await this.getPodMetrics(namespace, name);
    } else body = await this.listPodMetrics(namespace, selectors);
    if (/as=Table/.test(String(req.headers.accept ?? ''))) {
      const json = JSON.stringify(metricsTable(body));
      res.writeHead(200, { 'Content-Type': 'application/json;as=Table;v=v1;g=meta.k8s.io', 'Content-Length': Buffer.byteLength(json), 'Cache-Control': 'no-cache, private' });
      res.end(json);
      return true;
    }
    writeJson(res, 200, body);
    return true;
  };
}

/** metrics-server's table: NAME, CPU, MEMORY, WINDOW (a pod's usage summed over its containers). */
export function metricsTable(body: KObject): KObject {
  const items: KObject[] = Array.isArray(body.items) ? body.items : [body];
  const col = (name: string, description: string, format = '') => ({ name, type: 'string', format, description, priority: 0 });
  const sum = (usages: KObject[], key: 'cpu' | 'memory', scale: number) => usages.reduce((n, u) => n + (tryParseQuantity(u?.[key])?.scaledValue(scale) ?? 0), 0);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {},
    columnDefinitions: [
      col('Name', 'Name must be unique within a namespace.', 'name'),
      col('CPU', 'CPU usage'),
      col('Memory', 'Memory usage'),
      col('Window', 'Time window'),
    ],
    rows: items.map((m) => {
      const usages: KObject[] = m.kind === 'NodeMetrics' ? [m.usage] : ((m.containers ?? []) as KObject[]).map((c) => c.usage);
      return {
        cells: [m.metadata?.name, formatCpu(sum(usages, 'cpu', -9)), formatMemory(sum(usages, 'memory', 0)), m.window],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: m.metadata },
      };
    }),
  };
}
