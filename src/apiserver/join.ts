/**
 * @module Joining agents (k3s's supervisor endpoints): `GET /cacerts` serves the cluster CA
 * to anyone, so an agent can check it against the hash in its join token before it sends
 * the token anywhere; `POST /v1-skiff/node-credentials`, authenticated by the join token,
 * issues the node's client certificate (CN=system:node:NAME, O=system:nodes) and its
 * kubelet serving certificate for the node's addresses. As k3s does with node passwords, the
 * first agent to claim a node name leaves a hash of its node password in the Secret
 * kube-system/NAME.node-password.skiff; while that Node exists, only the same password gets
 * credentials for the name again. The server also writes the join token to DATA_DIR/token,
 * where `skiff agent --token` users find it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import { writeJson } from './handler.js';
import { authenticateRequest, BOOTSTRAPPERS_GROUP, signClientCert, signServingCert, writeAtomic, type Pki } from './pki/index.js';
import type { ResourceRegistry } from './registry.js';
import type { RestStorage, WriteContext } from './rest.js';

export const cacertsPath = '/cacerts';
export const nodeCredentialsPath = '/v1-skiff/node-credentials';

/** Group of every node's client certificate (kube's system:nodes). */
export const NODES_GROUP = 'system:nodes';
export const nodeUserPrefix = 'system:node:';

/** What an agent asks for: its node name and the addresses its kubelet serves on. */
export interface NodeCredentialsRequest {
  nodeName: string;
  addresses?: string[];
  /** The agent's own secret for its node name (k3s's /etc/rancher/node/password). */
  nodePassword?: string;
}

/** Checks (and on first use records) the password that owns a node name. */
export type NodePasswordCheck = (nodeName: string, password: string) => Promise<boolean>;

const nodePasswordSecret = (nodeName: string) => `${nodeName}.node-password.skiff`;

const hashPassword = (password: string) => createHash('sha256').update(password).digest('hex');

/**
 * Node passwords kept as Secrets in kube-system. A name whose Node is gone is free again:
 * the next agent's password replaces the old one (k3s removes the Secret with the Node).
 */
export function storedNodePasswords(rest: RestStorage, registry: ResourceRegistry): NodePasswordCheck {
  const secrets = registry.lookup('', 'v1', 'secrets')!;
  const nodes = registry.lookup('', 'v1', 'nodes')!;
  const ctx = (): WriteContext => ({ dryRun: false, fieldManager: 'skiff-supervisor', fieldValidation: 'Ignore', warnings: [] });
  const exists = async (def: typeof nodes, namespace: string | undefined, name: string) => {
    try {
      return await rest.get(def, namespace, name);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  };
  return async (nodeName, password) => {
    const want = hashPassword(password);
    const name = nodePasswordSecret(nodeName);
    const secret = await exists(secrets, 'kube-system', name);
    const body: KObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: 'kube-system', labels: { 'skiff.dev/node-password': 'true' } },
      type: 'skiff.dev/node-password',
      data: { hash: Buffer.from(want).toString('base64') },
    };
    if (!secret) {
      await rest.create(secrets, 'kube-system', body, ctx());
      return true;
    }
    const have = Buffer.from(String(secret.data?.hash ?? ''), 'base64').toString('utf8');
    if (have.length === want.length && timingSafeEqual(Buffer.from(have), Buffer.from(want))) return true;
    if (await exists(nodes, undefined, nodeName)) return false;
    await rest.update(secrets, 'kube-system', name, { ...body, metadata: { ...body.metadata, resourceVersion: secret.metadata?.resourceVersion } }, ctx());
    return true;
  };
}

/** The answer: the CA (again, for the record) and two certificate/key pairs. */
export interface NodeCredentials {
  caCertPem: string;
  client: { certPem: string; keyPem: string };
  serving: { certPem: string; keyPem: string };
}

/** DNS-1123 subdomain, the rule for Node names. */
const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Writes DATA_DIR/token (mode 0600), the file k3s calls server/token. */
export function writeJoinToken(dataDir: string, pki: Pki): string {
  const path = join(dataDir, 'token');
  writeAtomic(path, pki.nodeToken + '\n', 0o600);
  return path;
}

/** Anonymous requests may read the CA bundle; it is public by nature. */
export function isJoinPublicPath(path: string): boolean {
  return path === cacertsPath;
}

async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw ApiError.tooLarge();
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch (err) {
    throw ApiError.badRequest(`request body is not JSON: ${(err as Error).message}`);
  }
}

function validate(body: unknown): NodeCredentialsRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  const nodeName = b.nodeName;
  if (typeof nodeName !== 'string' || nodeName.length === 0 || nodeName.length > 253 || !subdomain.test(nodeName))
    throw ApiError.badRequest(`nodeName: Invalid value: ${JSON.stringify(nodeName ?? null)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
  const addresses = b.addresses ?? [];
  if (!Array.isArray(addresses) || addresses.length > 16 || addresses.some((a) => typeof a !== 'string' || (!isIP(a) && !subdomain.test(a))))
    throw ApiError.badRequest('addresses: must be a list of IP addresses or host names');
  const nodePassword = b.nodePassword;
  if (nodePassword !== undefined && (typeof nodePassword !== 'string' || nodePassword.length < 16 || nodePassword.length > 256))
    throw ApiError.badRequest('nodePassword: must be a string of 16 to 256 characters');
  return { nodeName, addresses: addresses as string[], nodePassword };
}

/** The extra route serving /cacerts and the node credentials endpoint. */
export function joinRoutes(
  pki: Pki,
  log: (msg: Record<string, unknown>) => void,
  checkNodePassword?: NodePasswordCheck,
): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  return (req, res, url) => {
    if (url.pathname === cacertsPath) {
      if (req.method !== 'GET') throw ApiError.methodNotAllowed(`${req.method} is not allowed on ${cacertsPath}`);
      res.writeHead(200, { 'Content-Type': 'application/x-pem-file', 'Content-Length': Buffer.byteLength(pki.caCertPem) });
      res.end(pki.caCertPem);
      return true;
    }
    if (url.pathname !== nodeCredentialsPath) return false;
    void (async () => {
      try {
        if (req.method !== 'POST') throw ApiError.methodNotAllowed(`${req.method} is not allowed on ${nodeCredentialsPath}`);
        const who = authenticateRequest(req, pki);
        // Only the join token's bootstrap identity (or a cluster admin) may mint node identities.
        const groups = 'user' in who ? who.user.groups : [];
        if (!groups.includes(BOOTSTRAPPERS_GROUP) && !groups.includes('system:masters'))
          throw ApiError.forbidden(`${'user' in who ? `User "${who.user.username}"` : 'anonymous'} cannot request node credentials: the join token is required`);
        const { nodeName, addresses, nodePassword } = validate(await readJson(req));
        if (checkNodePassword) {
          if (!nodePassword) throw ApiError.badRequest('nodePassword: Required value');
          if (!(await checkNodePassword(nodeName, nodePassword)))
            throw ApiError.forbidden(`Node password rejected for node "${nodeName}": the name belongs to another agent (duplicate host name, or the agent's node-password file changed); choose another --node-name or delete the Node first`);
        }
        const [client, serving] = await Promise.all([
          signClientCert(pki, `${nodeUserPrefix}${nodeName}`, [NODES_GROUP]),
          signServingCert(pki, nodeName, { hostnames: [nodeName, ...(addresses ?? [])] }),
        ]);
        log({ level: 'info', msg: 'issued node credentials', node: nodeName, addresses });
        const answer: NodeCredentials = { caCertPem: pki.caCertPem, client, serving };
        writeJson(res, 200, answer);
      } catch (e) {
        const err = e instanceof ApiError ? e : ApiError.internal(e instanceof Error ? e.message : String(e));
        if (!res.headersSent) writeJson(res, err.code, err.toStatus());
        else res.end();
      }
    })();
    return true;
  };
}
