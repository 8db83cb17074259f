/**
 * @module pods/log, pods/exec, pods/attach and pods/portforward (kube-apiserver's
 * LogREST/ExecREST/AttachREST/PortForwardREST): validate the request against the pod,
 * find the kubelet of its node (Node.status.daemonEndpoints.kubeletEndpoint.Port at the
 * `skiff.dev/kubelet-address` annotation, else the first InternalIP) and proxy to it with
 * the API server's kubelet client certificate — logs as a stream the kubelet's errors are
 * translated from, upgrades (WebSocket or SPDY) as raw bytes once the request is forwarded.
 */
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { ApiError } from '../api/errors.js';
import type { KObject, ResourceDef } from '../api/types.js';
import type { SubresourceHandler, UpgradeHandler } from './handler.js';
import { signClientCert, signServingCert, type CertKeyPair, type Pki } from './pki/index.js';
import type { ResourceRegistry } from './registry.js';
import type { RestStorage } from './rest.js';

/** Node annotation naming the address its kubelet serves on (hollow nodes: 127.0.0.1). */
export const kubeletAddressAnnotation = 'skiff.dev/kubelet-address';
/** kubelet's default port when a Node does not report one. */
export const defaultKubeletPort = 10250;
/** The identity the API server presents to kubelets (kubeadm's apiserver-kubelet-client). */
export const kubeletClientCommonName = 'kube-apiserver-kubelet-client';

export interface KubeletEndpoint {
  host: string;
  port: number;
}

/** Where a node's kubelet listens: the address annotation or the first InternalIP, and its daemon endpoint port. */
export function kubeletEndpointOf(node: KObject): KubeletEndpoint | undefined {
  const annotated = node.metadata?.annotations?.[kubeletAddressAnnotation];
  const addresses: KObject[] = Array.isArray(node.status?.addresses) ? node.status.addresses : [];
  const host = annotated || addresses.find((a) => a.type === 'InternalIP')?.address || addresses.find((a) => a.type === 'Hostname')?.address;
  if (!host) return undefined;
  const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port) || defaultKubeletPort;
  return { host: String(host), port };
}

export interface PodStreamingOptions {
  rest: RestStorage;
  registry: ResourceRegistry;
  pki: Pki;
  log?: (msg: Record<string, unknown>) => void;
  /** Check the kubelet's serving certificate against the cluster CA and its address (default true). */
  verifyKubeletCert?: boolean;
  /** The client certificate shown to kubelets (default: issued from the cluster CA on first use). */
  clientCert?: CertKeyPair;
  /** How long to wait for a kubelet connection (default 10 s). */
  dialTimeoutMs?: number;
}

/** A kubelet's serving certificate and the CA its clients are checked against. */
export interface IssuedKubeletTls {
  certPem: string;
  keyPem: string;
  clientCaPem: string;
}

/** Issues a kubelet serving certificate from the cluster CA (for hollow nodes and local agents). */
export async function issueKubeletTls(pki: Pki, names: { hostnames?: string[]; ips?: string[] }, cn = 'skiff-kubelet'): Promise<IssuedKubeletTls> {
  const pair = await signServingCert(pki, cn, names);
  return { certPem: pair.certPem, keyPem: pair.keyPem, clientCaPem: pki.caCertPem };
}

/** Go's strconv.ParseBool, which kube-apiserver's query conversion uses. */
function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True', ''].includes(v)) return v !== '';
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw ApiError.badRequest(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw ApiError.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

function names(list: unknown): string[] {
  return Array.isArray(list) ? (list as KObject[]).map((c) => String(c.name)) : [];
}

/** pods/log's container defaulting and check (kube's validateContainer for logs). */
export function logContainerName(pod: KObject, container: string | null): string {
  const name = pod.metadata?.name;
  const all = [...names(pod.spec?.initContainers), ...names(pod.spec?.containers), ...names(pod.spec?.ephemeralContainers)];
  if (!container) {
    const containers = names(pod.spec?.containers);
    if (containers.length === 1) return containers[0];
    if (containers.length === 0) throw ApiError.badRequest(`a container name must be specified for pod ${name}`);
    throw ApiError.badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
  }
  if (!all.includes(container)) throw ApiError.badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

/** exec/attach container defaulting and check (kube's streamLocation). */
export function streamContainerName(pod: KObject, container: string | null): string {
  const name = pod.metadata?.name;
  if (!container) {
    const containers = names(pod.spec?.containers);
    if (containers.length === 1) return containers[0];
    if (containers.length === 0) throw ApiError.badRequest(`a container name must be specified for pod ${name}`);
    const init = names(pod.spec?.initContainers);
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    if (init.length) msg += ` or one of the init containers: [${init.join(' ')}]`;
    throw ApiError.badRequest(msg);
  }
  const all = [...names(pod.spec?.initContainers), ...names(pod.spec?.containers), ...names(pod.spec?.ephemeralContainers)];
  if (!all.includes(container)) throw ApiError.badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

/** PodLogOptions validation (ValidatePodLogOptions) and the kubelet query it becomes. */
export function podLogQuery(q: URLSearchParams, name: string): URLSearchParams {
  const out = new URLSearchParams();
  const tailLines = queryInt(q, 'tailLines');
  const limitBytes = queryInt(q, 'limitBytes');
  const sinceSeconds = queryInt(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  const errs = [];
  if (tailLines !== undefined && tailLines < 0) errs.push({ type: 'FieldValueInvalid' as const, field: 'tailLines', value: tailLines, detail: 'must be greater than or equal to 0' });
  if (limitBytes !== undefined && limitBytes < 1) errs.push({ type: 'FieldValueInvalid' as const, field: 'limitBytes', value: limitBytes, detail: 'must be greater than 0' });
  if (sinceSeconds !== undefined && sinceTime) errs.push({ type: 'FieldValueForbidden' as const, field: '', detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push({ type: 'FieldValueInvalid' as const, field: 'sinceSeconds', value: sinceSeconds, detail: 'must be greater than 0' });
  if (sinceTime && Number.isNaN(Date.parse(sinceTime))) throw ApiError.badRequest(`parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  if (errs.length) throw ApiError.invalid('PodLogOptions', '', name, errs);
  for (const flag of ['follow', 'previous', 'timestamps']) if (queryBool(q, flag)) out.set(flag, 'true');
  if (tailLines !== undefined) out.set('tailLines', String(tailLines));
  if (limitBytes !== undefined) out.set('limitBytes', String(limitBytes));
  if (sinceSeconds !== undefined) out.set('sinceSeconds', String(sinceSeconds));
  if (sinceTime) out.set('sinceTime', sinceTime);
  return out;
}

/** PodExecOptions/PodAttachOptions as the kubelet's query (kube's streamParams). */
export function streamQuery(q: URLSearchParams, withCommand: boolean): URLSearchParams {
  const out = new URLSearchParams();
  if (queryBool(q, 'stdin')) out.append('input', '1');
  if (queryBool(q, 'stdout')) out.append('output', '1');
  if (queryBool(q, 'stderr')) out.append('error', '1');
  if (queryBool(q, 'tty')) out.append('tty', '1');
  if (withCommand) for (const c of q.getAll('command')) out.append('command', c);
  return out;
}

/** A kubelet's non-2xx answer as the API error kube-apiserver makes of it (GenericHttpResponseChecker). */
export function kubeletResponseError(code: number, body: string, resource: string, name: string): ApiError {
  const text = body.trim();
  if (code === 500) return ApiError.internal(text);
  if (code === 400) return ApiError.badRequest(text);
  if (code === 404)
    return new ApiError(404, 'NotFound', `the server could not find the requested resource ( ${resource} ${name})`, {
      name,
      kind: resource.split('/')[0],
      causes: [{ reason: 'UnexpectedServerResponse', message: text }],
    });
  return new ApiError(code, code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : 'InternalError', `an error on the server (${text}) has prevented the request from succeeding ( ${resource} ${name})`, {
    name,
    kind: resource.split('/')[0],
    causes: [{ reason: 'UnexpectedServerResponse', message: text }],
  });
}

const hopByHop = new Set(['host', 'authorization', 'proxy-authorization', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'proxy-connection']);

/** The registered handlers: subresources for plain requests, upgrades for the streaming ones. */
export function podStreamingHandlers(opts: PodStreamingOptions): { subresources: Map<string, SubresourceHandler>; upgrades: Map<string, UpgradeHandler> } {
  const log = opts.log ?? (() => {});
  const podsDef = opts.registry.lookup('', 'v1', 'pods');
  const nodesDef = opts.registry.lookup('', 'v1', 'nodes');
  if (!podsDef || !nodesDef) throw new Error('pods and nodes must be registered before pod streaming');
  const verify = opts.verifyKubeletCert ?? true;
  let clientCert: Promise<CertKeyPair> | undefined = opts.clientCert ? Promise.resolve(opts.clientCert) : undefined;
  const kubeletClientCert = () => (clientCert ??= signClientCert(opts.pki, kubeletClientCommonName, ['system:masters']).catch((err) => {
    clientCert = undefined;
    throw err;
  }));

  /** The pod, its container (when asked for) and its kubelet. */
  const locate = async (def: ResourceDef, namespace: string | undefined, name: string): Promise<{ pod: KObject; endpoint?: KubeletEndpoint; nodeName?: string }> => {
    const pod = await opts.rest.get(def, namespace, name);
    const nodeName: string | undefined = pod.spec?.nodeName || undefined;
    if (!nodeName) return { pod };
    let node: KObject;
    try {
      node = await opts.rest.get(nodesDef, undefined, nodeName);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw ApiError.notFound('nodes', '', nodeName);
      throw err;
    }
    const endpoint = kubeletEndpointOf(node);
    if (!endpoint) throw ApiError.badRequest(`node ${nodeName} has no address to reach its kubelet`);
    return { pod, endpoint, nodeName };
  };

  const tlsOptions = async (endpoint: KubeletEndpoint) => {
    const cert = await kubeletClientCert();
    return {
      host: endpoint.host,
      port: endpoint.port,
      cert: cert.certPem,
      key: cert.keyPem,
      ca: opts.pki.caCertPem,
      rejectUnauthorized: verify,
      servername: isIP(endpoint.host) ? undefined : endpoint.host,
    };
  };

  const podLog: SubresourceHandler = async ({ req, res, url, def, namespace, name }) => {
    if (req.method !== 'GET') throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    const query = podLogQuery(url.searchParams, name);
    const { pod, endpoint } = await locate(def, namespace, name);
    const container = logContainerName(pod, url.searchParams.get('container'));
    if (!endpoint) {
      // An unscheduled pod has no logs anywhere: kube-apiserver answers with no content.
      res.writeHead(204);
      res.end();
      return;
    }
    const path = `/containerLogs/${encodeURIComponent(namespace ?? '')}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${query.size ? `?${query}` : ''}`;
    const tls = await tlsOptions(endpoint);
    await new Promise<void>((resolve, reject) => {
      const upstream = httpsRequest({ ...tls, method: 'GET', path, agent: false, timeout: opts.dialTimeoutMs ?? 10_000 }, (kres: IncomingMessage) => {
        upstream.setTimeout(0);
        const code = kres.statusCode ?? 500;
        if (code < 200 || code > 206) {
          const chunks: Buffer[] = [];
          let size = 0;
          kres.on('data', (c: Buffer) => {
            if (size < 64 * 1024) chunks.push(c);
            size += c.length;
          });
          kres.on('end', () => reject(kubeletResponseError(code, Buffer.concat(chunks).toString('utf8'), 'pods/log', name)));
          kres.on('error', (err) => reject(err));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
        res.flushHeaders();
        const stop = () => {
          kres.destroy();
          upstream.destroy();
        };
        res.once('close', stop);
        kres.on('data', (c: Buffer) => {
          if (!res.write(c)) {
            kres.pause();
            res.once('drain', () => kres.resume());
          }
        });
        kres.once('end', () => {
          res.end();
          resolve();
        });
        kres.once('error', () => {
          res.end();
          resolve();
        });
        kres.once('close', () => {
          if (!res.writableEnded) res.end();
          resolve();
        });
      });
      upstream.on('timeout', () => upstream.destroy(new Error(`dial tcp ${endpoint.host}:${endpoint.port}: i/o timeout`)));
      upstream.on('error', (err) => {
        // Once the log is streaming, a reset is just the end of it.
        if (res.headersSent) return;
        log({ level: 'warn', msg: 'kubelet unreachable', kubelet: `${endpoint.host}:${endpoint.port}`, error: err.message });
        reject(new ApiError(500, '', `Get "https://${endpoint.host}:${endpoint.port}${path}": ${err.message}`));
      });
      upstream.end();
    });
  };

  const upgradeRequired: SubresourceHandler = async () => {
    throw ApiError.badRequest('Upgrade request required');
  };

  /** Forwards the upgrade request to the kubelet and then splices the two connections. */
  const proxyUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer, endpoint: KubeletEndpoint, path: string): Promise<void> => {
    const tls = await tlsOptions(endpoint);
    const upstream = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ ...tls, ALPNProtocols: ['http/1.1'] });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`dial tcp ${endpoint.host}:${endpoint.port}: i/o timeout`));
      }, opts.dialTimeoutMs ?? 10_000);
      s.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    }).catch((err: Error) => {
      log({ level: 'warn', msg: 'kubelet unreachable', kubelet: `${endpoint.host}:${endpoint.port}`, error: err.message });
      throw new ApiError(500, '', `error dialing backend: ${err.message}`);
    });
    const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${isIP(endpoint.host) === 6 ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const key = req.rawHeaders[i];
      const lower = key.toLowerCase();
      if (hopByHop.has(lower) || lower.startsWith('impersonate-') || lower.startsWith('x-remote-')) continue;
      lines.push(`${key}: ${req.rawHeaders[i + 1]}`);
    }
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    const teardown = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', teardown);
    socket.on('error', teardown);
    upstream.on('close', () => socket.end());
    socket.on('close', () => upstream.destroy());
    upstream.pipe(socket);
    socket.pipe(upstream);
  };

  const streamUpgrade =
    (kind: 'exec' | 'attach'): UpgradeHandler =>
    async ({ req, socket, head, url, def, namespace, name }) => {
      if (req.method !== 'GET' && req.method !== 'POST') throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
      const { pod, endpoint } = await locate(def, namespace, name);
      const container = streamContainerName(pod, url.searchParams.get('container'));
      if (!endpoint) throw ApiError.badRequest(`pod ${name} does not have a host assigned`);
      const query = streamQuery(url.searchParams, kind === 'exec');
      const path = `/${kind}/${encodeURIComponent(namespace ?? '')}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${query.size ? `?${query}` : ''}`;
      await proxyUpgrade(req, socket, head, endpoint, path);
    };

  const portForwardUpgrade: UpgradeHandler = async ({ req, socket, head, url, def, namespace, name }) => {
    if (req.method !== 'GET' && req.method !== 'POST') throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    const { endpoint } = await locate(def, namespace, name);
    if (!endpoint) throw ApiError.badRequest(`pod ${name} does not have a host assigned`);
    const query = new URLSearchParams();
    for (const p of url.searchParams.getAll('ports')) query.append('port', p);
    const path = `/portForward/${encodeURIComponent(namespace ?? '')}/${encodeURIComponent(name)}${query.size ? `?${query}` : ''}`;
    await proxyUpgrade(req, socket, head, endpoint, path);
  };

  return {
    subresources: new Map([
      ['/pods/log', podLog],
      ['/pods/exec', upgradeRequired],
      ['/pods/attach', upgradeRequired],
      ['/pods/portforward', upgradeRequired],
    ]),
    upgrades: new Map([
      ['/pods/exec', streamUpgrade('exec')],
      ['/pods/attach', streamUpgrade('attach')],
      ['/pods/portforward', portForwardUpgrade],
    ]),
  };
}

/**
 * Registers pods/log, exec, attach and portforward on a running API server (its
 * subresource and upgrade handler maps).
 */
export function registerPodStreaming(
  server: { rest: RestStorage; registry: ResourceRegistry; pki: Pki; subresourceHandlers: Map<string, SubresourceHandler>; upgradeHandlers: Map<string, UpgradeHandler> },
  opts: Partial<Omit<PodStreamingOptions, 'rest' | 'registry' | 'pki'>> = {},
): void {
  const { subresources, upgrades } = podStreamingHandlers({ rest: server.rest, registry: server.registry, pki: server.pki, ...opts });
  for (const [k, v] of subresources) server.subresourceHandlers.set(k, v);
  for (const [k, v] of upgrades) server.upgradeHandlers.set(k, v);
}
