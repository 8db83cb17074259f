/** @module authn: request authentication by client certificate (x509) or bearer token, as kube-apiserver's authenticator union. */

import type { IncomingHttpHeaders } from 'node:http';
import type { SecureContextOptions, TLSSocket, TlsOptions } from 'node:tls';
import { constantTimeEqual, verifyJoinToken, type Pki } from './pki.js';

/** authentication.k8s.io/v1 UserInfo. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/**
 * The three outcomes kube-apiserver distinguishes: a user, no credentials at all (anonymous),
 * and credentials that were presented but are not valid — those get 401 on every path,
 * because the anonymous authenticator only runs when no other one failed.
 */
export type AuthnResult = { user: UserInfo } | { anonymous: true } | { error: string };

/** The parts of an http/1 IncomingMessage or http2 Http2ServerRequest authentication reads. */
export interface AuthnRequest {
  headers: IncomingHttpHeaders;
  socket: unknown;
  stream?: { session?: { socket?: unknown } };
}

/** Every authenticated user is in this group (k8s.io/apiserver user.AllAuthenticated). */
export const ALL_AUTHENTICATED = 'system:authenticated';
/** Groups of the bearer join token: kube's bootstrap-token identity. */
export const BOOTSTRAP_USER = 'system:bootstrap:skiff';
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';

/** Who an unauthenticated request is when it is let through (k8s.io/apiserver user.Anonymous). */
export const ANONYMOUS_USER: UserInfo = Object.freeze({ username: 'system:anonymous', groups: ['system:unauthenticated'] });

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** Options for https.createServer / http2.createSecureServer: our serving cert, and client certs requested but checked per request. */
export function httpsServerOptions(pki: Pki): TlsOptions & SecureContextOptions {
  return {
    key: pki.serverKeyPem,
    cert: pki.serverCertPem,
    ca: pki.caCertPem,
    // Clients without a certificate (bearer tokens, health probes) must still get through TLS.
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}

/**
 * Authenticates a request: a client certificate verified against our CA first (CN is the
 * user, each O a group), then `Authorization: Bearer` matching the admin or join token.
 * Returns undefined for anonymous requests and for invalid credentials alike; use
 * authenticateRequest to tell those apart.
 */
export function authenticate(req: AuthnRequest, pki: Pki): UserInfo | undefined {
  const r = authenticateRequest(req, pki);
  return 'user' in r ? r.user : undefined;
}

export function authenticateRequest(req: AuthnRequest, pki: Pki): AuthnResult {
  const socket = tlsSocketOf(req);
  if (socket) {
    const fromCert = certificateIdentity(socket);
    if (fromCert) return fromCert;
  }
  const header = headerValue(req.headers.authorization);
  if (header === undefined) return { anonymous: true };
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  // kube's bearer authenticator ignores other schemes, leaving the request anonymous.
  if (!m) return { anonymous: true };
  const token = m[1];
  if (constantTimeEqual(token, pki.adminToken)) {
    return { user: { username: 'system:admin', groups: ['system:masters', ALL_AUTHENTICATED] } };
  }
  if (verifyJoinToken(pki, token)) {
    return { user: { username: BOOTSTRAP_USER, groups: [BOOTSTRAPPERS_GROUP, ALL_AUTHENTICATED] } };
  }
  return { error: 'invalid bearer token' };
}

/**
 * Paths the system:public-info-viewer ClusterRole opens to anonymous users, so health
 * probes and version checks work without credentials.
 */
export function isPublicPath(path: string): boolean {
  const p = path.split('?')[0];
  if (p === '/version' || p === '/version/') return true;
  return /^\/(healthz|livez|readyz)(\/.*)?$/.test(p);
}

// ---------------------------------------------------------------------------------------

type PeerIdentity = { user: UserInfo } | { error: string } | undefined;

/** The TLS handshake is per connection, so the verdict is cached for every request on it. */
const identityBySocket = new WeakMap<object, PeerIdentity>();

function tlsSocketOf(req: AuthnRequest): TLSSocket | undefined {
  // An http2 request's .socket is a proxy; the session's socket is the stable connection object.
  const candidate = req.stream?.session?.socket ?? req.socket;
  if (candidate && typeof (candidate as TLSSocket).getPeerCertificate === 'function') return candidate as TLSSocket;
  return undefined;
}

function certificateIdentity(socket: TLSSocket): PeerIdentity {
  if (identityBySocket.has(socket)) return identityBySocket.get(socket);
  const identity = readPeerIdentity(socket);
  identityBySocket.set(socket, identity);
  return identity;
}

function readPeerIdentity(socket: TLSSocket): PeerIdentity {
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return undefined;
  if (!socket.authorized) {
    return { error: `x509: certificate signed by unknown authority or invalid (${String(socket.authorizationError ?? 'unverified')})` };
  }
  // Like Go's x509 verification with ExtKeyUsageClientAuth: no EKU means any usage.
  const eku = peer.ext_key_usage;
  if (eku && eku.length > 0 && !eku.includes(CLIENT_AUTH_OID)) {
    return { error: 'x509: certificate specifies an incompatible key usage' };
  }
  const username = firstValue(peer.subject?.CN);
  if (!username) return { error: 'x509: certificate has no common name' };
  const groups = allValues(peer.subject?.O);
  return { user: { username, groups: [...groups, ALL_AUTHENTICATED] } };
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function allValues(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
