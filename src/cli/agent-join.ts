/**
 * @module How `skiff agent` joins (k3s's agent bootstrap): fetch the cluster CA from
 * /cacerts without trusting it, check it against the hash in the join token, and only then
 * present the token — over TLS pinned to that CA — for the node's client certificate
 * (system:node:NAME in system:nodes) and kubelet serving certificate, proving with its node
 * password (made once, kept beside them) that the node name is its own. Everything is kept
 * in the agent's data dir and reused on restart while it is valid for this node and server.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { caHash, parseJoinToken, writeAtomic } from '../apiserver/pki/pki.js';
import { cacertsPath, nodeCredentialsPath, type NodeCredentials } from '../apiserver/join.js';
import { apiErrorFromResponse } from '../client/http.js';

/** The join failed for a reason retrying will not fix (wrong token, CA mismatch). */
export class JoinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JoinError';
  }
}

/** The server could not be reached; the agent retries. */
export class ServerUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerUnreachableError';
  }
}

export interface AgentCredentials {
  caCertPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
  /** Whether they came from disk (a restarted agent) rather than the server. */
  reused: boolean;
}

/** Leaf certificates are renewed at start once fewer than 90 days remain (as k3s does). */
const renewBeforeMs = 90 * 24 * 60 * 60 * 1000;

const files = {
  ca: 'ca.crt',
  clientCert: 'client-kubelet.crt',
  clientKey: 'client-kubelet.key',
  servingCert: 'serving-kubelet.crt',
  servingKey: 'serving-kubelet.key',
} as const;

interface Answer {
  code: number;
  body: string;
}

function httpsGet(url: URL, opts: { ca?: string; token?: string; method?: string; body?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Accept: 'application/json, */*', 'User-Agent': 'skiff-agent/v1.32.0+skiff' };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(opts.body);
    }
    const req = httpsRequest(
      url,
      // The CA is not known yet when /cacerts is fetched; the token's hash is the trust anchor.
      { method: opts.method ?? 'GET', headers, timeout: 10_000, ...(opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }) },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A TLS failure once the CA is pinned is the server's fault, not the network's.
      if (opts.ca && /certificate|self.signed|altname/i.test(err.message)) reject(new JoinError(`the server's certificate is not valid for ${url.host}: ${err.message} (add it with --tls-san on the server)`));
      else reject(new ServerUnreachableError(`cannot reach the server at ${url.origin}: ${err.code ?? err.message}`));
    });
    req.end(opts.body);
  });
}

/** The agent's node password (k3s's /etc/rancher/node/password): made once, then kept. */
export function ensureNodePassword(path: string): string {
  const existing = readOptional(path)?.trim();
  if (existing) return existing;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const password = randomBytes(32).toString('hex');
  writeAtomic(path, password + '\n', 0o600);
  return password;
}

/** Fetches the cluster CA and checks it against the token's hash (k3s: "token CA hash does not match"). */
export async function fetchVerifiedCa(server: string, token: string): Promise<string> {
  const ans = await httpsGet(new URL(cacertsPath, server), {});
  if (ans.code !== 200 || !ans.body.includes('BEGIN CERTIFICATE'))
    throw new JoinError(`${server} did not serve a CA certificate at ${cacertsPath} (HTTP ${ans.code}); is it a skiff server?`);
  const want = parseJoinToken(token).caHash;
  const got = caHash(ans.body);
  if (want !== undefined && want !== got) throw new JoinError(`token CA hash does not match the Cluster CA certificate hash: ${want} != ${got}`);
  return ans.body;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A stored pair is reusable when the CA issued it, it names this node (and address) and it is not expiring. */
function usable(certPem: string | undefined, keyPem: string | undefined, ca: X509Certificate, check: (c: X509Certificate) => boolean): boolean {
  if (!certPem || !keyPem) return false;
  try {
    const cert = new X509Certificate(certPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey) && new Date(cert.validTo).getTime() - Date.now() > renewBeforeMs && check(cert);
  } catch {
    return false;
  }
}

/**
 * The node's credentials: those stored under `dir` when the same CA issued them for this
 * node name and address, otherwise fresh ones from the server (then stored).
 */
export async function ensureAgentCredentials(opts: { server: string; token: string; nodeName: string; nodeIP: string; dir: string; passwordFile: string }): Promise<AgentCredentials> {
  const caCertPem = await fetchVerifiedCa(opts.server, opts.token);
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const ca = new X509Certificate(caCertPem);
  const stored = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, readOptional(join(opts.dir, f))])) as Record<keyof typeof files, string | undefined>;
  const clientOk = usable(stored.clientCert, stored.clientKey, ca, (c) => /(^|\n)CN=([^\n]*)/.exec(c.subject)?.[2] === `system:node:${opts.nodeName}`);
  const servingOk = usable(stored.servingCert, stored.servingKey, ca, (c) => c.checkIP(opts.nodeIP) !== undefined);
  if (clientOk && servingOk && stored.ca === caCertPem)
    return { caCertPem, clientCertPem: stored.clientCert!, clientKeyPem: stored.clientKey!, servingCertPem: stored.servingCert!, servingKeyPem: stored.servingKey!, reused: true };

  const ans = await httpsGet(new URL(nodeCredentialsPath, opts.server), {
    ca: caCertPem,
    token: opts.token,
    method: 'POST',
    body: JSON.stringify({ nodeName: opts.nodeName, addresses: [opts.nodeIP], nodePassword: ensureNodePassword(opts.passwordFile) }),
  });
  if (ans.code === 401) throw new JoinError(`the server refused the join token (401 Unauthorized): check --token against <data-dir>/token on the server`);
  if (ans.code !== 200) {
    const err = apiErrorFromResponse(ans.code, ans.body);
    throw new JoinError(`the server refused to issue node credentials: ${err.message} (${ans.code} ${err.reason})`);
  }
  const creds = JSON.parse(ans.body) as NodeCredentials;
  writeAtomic(join(opts.dir, files.ca), caCertPem, 0o644);
  writeAtomic(join(opts.dir, files.clientKey), creds.client.keyPem, 0o600);
  writeAtomic(join(opts.dir, files.clientCert), creds.client.certPem, 0o644);
  writeAtomic(join(opts.dir, files.servingKey), creds.serving.keyPem, 0o600);
  writeAtomic(join(opts.dir, files.servingCert), creds.serving.certPem, 0o644);
  return {
    caCertPem,
    clientCertPem: creds.client.certPem,
    clientKeyPem: creds.client.keyPem,
    servingCertPem: creds.serving.certPem,
    servingKeyPem: creds.serving.keyPem,
    reused: false,
  };
}
