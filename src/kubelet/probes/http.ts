/**
 * @module kubelet's HTTP prober: GET scheme://host:port/path with kube-probe's headers,
 * a timeout over the whole exchange, TLS without verification, redirects followed on the
 * same host only (up to 10; one to another host ends the probe with a warning), success
 * for 200–399, and errors worded as Go's net/http words them — what users see in
 * "Liveness probe failed: …" events.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { ProbeOutcome } from './types.js';

/** kubelet reports at most this much of a response body. */
export const maxResponseBodyBytes = 10 * 1024;
/** What kube-probe says it is: "kube-probe/<major>.<minor>" of the kubelet. */
export const probeUserAgent = 'kube-probe/1.32';

export interface HttpGetRequest {
  scheme: 'HTTP' | 'HTTPS';
  host: string;
  port: number;
  /** Path and query, as given in httpGet.path. */
  path: string;
  headers?: Array<{ name: string; value: string }>;
  timeoutMs: number;
  /** Default kube-probe/<version>; lifecycle hooks say kube-lifecycle/<version>. */
  userAgent?: string;
}

export interface HttpGetResponse {
  statusCode: number;
  body: string;
  /** The last response was a redirect kubelet would not follow (another host). */
  redirectStopped: boolean;
}

/** "http://10.42.0.5:8080/health": host in brackets for IPv6, path made absolute. */
export function probeURL(scheme: string, host: string, port: number, path: string): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  const p = path ? (path.startsWith('/') ? path : `/${path}`) : '/';
  return `${scheme.toLowerCase()}://${h}:${port}${p}`;
}

/** Go's wording for a failed dial or read, from a Node socket error. */
export function goNetError(err: NodeJS.ErrnoException, addr: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ETIMEDOUT':
      return `dial tcp ${addr}: i/o timeout`;
    case 'ECONNRESET':
      return `read tcp ${addr}: read: connection reset by peer`;
    case 'EPIPE':
      return `write tcp ${addr}: write: broken pipe`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${addr.replace(/:\d+$/, '')}: no such host`;
  }
  return err.message;
}

class TimeoutError extends Error {}

function hostPort(u: URL): string {
  // URL keeps IPv6 hosts bracketed, as Go prints them in addresses.
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
}

function once(u: URL, headers: Record<string, string>, hostHeader: string | undefined, deadline: number): Promise<{ statusCode: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(new TimeoutError());
    const mod = u.protocol === 'https:' ? https : http;
    const hostname = u.hostname.replace(/^\[|\]$/g, '');
    const req = mod.request(
      {
        protocol: u.protocol,
        hostname,
        port: u.port || undefined,
        path: `${u.pathname}${u.search}`,
        method: 'GET',
        headers: { ...headers, Host: hostHeader ?? u.host },
        agent: false,
        // kubelet's probe transport skips certificate verification.
        rejectUnauthorized: false,
        ...(isIP(hostname) ? {} : { servername: hostHeader ?? hostname }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < maxResponseBodyBytes) chunks.push(c.subarray(0, maxResponseBodyBytes - size));
          size += c.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ statusCode: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new TimeoutError());
    }, remaining);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** Performs the GET as kubelet's HTTP probe client would; throws with Go's error text. */
export async function httpGet(r: HttpGetRequest): Promise<HttpGetResponse> {
  const headers: Record<string, string> = { 'User-Agent': r.userAgent ?? probeUserAgent, Accept: '*/*', Connection: 'close' };
  let hostHeader: string | undefined;
  for (const h of r.headers ?? []) {
    if (h.name.toLowerCase() === 'host') hostHeader = h.value;
    else {
      for (const k of Object.keys(headers)) if (k.toLowerCase() === h.name.toLowerCase()) delete headers[k];
      headers[h.name] = h.value;
    }
  }
  const firstHref = probeURL(r.scheme, r.host, r.port, r.path);
  const first = new URL(firstHref);
  let u = first;
  const deadline = Date.now() + r.timeoutMs;
  for (let redirects = 0; ; redirects++) {
    let res: Awaited<ReturnType<typeof once>>;
    try {
      res = await once(u, headers, redirects === 0 ? hostHeader : undefined, deadline);
    } catch (err) {
      // Go prints the URL as built, explicit default port included.
      const what = `Get "${redirects === 0 ? firstHref : u.href}"`;
      if (err instanceof TimeoutError) throw new Error(`${what}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
      throw new Error(`${what}: ${goNetError(err as NodeJS.ErrnoException, hostPort(u))}`);
    }
    const redirect = res.statusCode >= 300 && res.statusCode < 400 && res.location;
    if (!redirect) return { statusCode: res.statusCode, body: res.body, redirectStopped: false };
    const next = new URL(res.location!, u);
    // A redirect to another host is not followed: the 3xx itself is the answer.
    if (next.hostname !== first.hostname) return { statusCode: res.statusCode, body: res.body, redirectStopped: true };
    if (redirects + 1 >= 10) throw new Error(`Get "${next.href}": stopped after 10 redirects`);
    u = next;
  }
}

/** kubelet's HTTP probe verdict on one GET. */
export async function httpProbe(r: HttpGetRequest): Promise<ProbeOutcome> {
  let res: HttpGetResponse;
  try {
    res = await httpGet(r);
  } catch (err) {
    return { result: 'failure', output: err instanceof Error ? err.message : String(err) };
  }
  if (res.statusCode >= 200 && res.statusCode < 400) {
    if (res.statusCode >= 300) return { result: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
    return { result: 'success', output: res.body };
  }
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.statusCode}` };
}
