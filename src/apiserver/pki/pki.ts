/** @module pki: the cluster CA, the API server's serving certificate, admin credentials and the join token, kept under DATA_DIR/tls/. */

import { createHash, createPrivateKey, randomBytes, timingSafeEqual, webcrypto, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';

/** Everything the API server, the CLI and joining agents need from the cluster PKI. */
export interface Pki {
  caCertPem: string;
  /** Signs client and serving certificates issued later (agents, kubelets). */
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** CN=system:admin, O=system:masters, as k3s issues for its admin kubeconfig. */
  adminCertPem: string;
  adminKeyPem: string;
  /** Bearer token that authenticates as system:admin. */
  adminToken: string;
  /** k3s-style join token `K10<sha256 of the CA PEM>::server:<secret>` for `skiff agent --token`. */
  nodeToken: string;
}

export interface PkiOptions {
  /** Extra DNS names (or IP literals) the serving certificate must cover, like k3s --tls-san. */
  hostnames?: string[];
  /** Extra IP addresses the serving certificate must cover. */
  ips?: string[];
  /** Clock for certificate validity; defaults to the wall clock. */
  now?: () => Date;
}

/** A certificate and its private key, both PEM. */
export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

/** Thrown when the data dir holds PKI files that cannot be used and cannot be replaced. */
export class PkiError extends Error {
  constructor(message: string, readonly path?: string) {
    super(message);
    this.name = 'PkiError';
  }
}

/** The first address of the default service CIDR 10.43.0.0/16: the `kubernetes` Service's ClusterIP. */
export const DEFAULT_KUBERNETES_SERVICE_IP = '10.43.0.1';

/** The names in-cluster clients use for the API server (kube-apiserver's default alternate names). */
export const DEFAULT_SERVING_DNS_NAMES = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

export const DEFAULT_SERVING_IPS = ['127.0.0.1', '::1', DEFAULT_KUBERNETES_SERVICE_IP];

const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 365;
/** k3s renews leaf certificates at start-up once fewer than 90 days remain. */
const RENEW_BEFORE_DAYS = 90;
/** Backdating tolerates small clock skew between the machines of a cluster. */
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

const files = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
  adminToken: 'admin-token',
  serverSecret: 'server-token',
  nodeToken: 'node-token',
} as const;

/** The directory under the data dir holding the PKI files. */
export function tlsDir(dataDir: string): string {
  return join(dataDir, 'tls');
}

/**
 * Loads the PKI from DATA_DIR/tls/, creating whatever is missing, invalid, expiring within
 * 90 days, or (for the serving certificate) not covering every requested name and address.
 * The reuse path only reads and parses files; @peculiar/x509 is loaded only when something
 * has to be issued, because loading it costs ~200 ms.
 */
export async function ensurePki(dataDir: string, opts: PkiOptions = {}): Promise<Pki> {
  const dir = tlsDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = (opts.now ?? (() => new Date()))();
  const { dnsNames, ips } = requestedServingNames(opts);

  const ca = loadPair(dir, files.caCert, files.caKey);
  const caUsable = ca !== undefined && isCa(ca.cert) && !expiresBefore(ca.cert, now);
  const server = caUsable ? loadPair(dir, files.serverCert, files.serverKey) : undefined;
  const admin = caUsable ? loadPair(dir, files.adminCert, files.adminKey) : undefined;
  const renewBy = new Date(now.getTime() + RENEW_BEFORE_DAYS * DAY_MS);

  const serverOk =
    server !== undefined &&
    ca !== undefined &&
    issuedBy(server.cert, ca.cert) &&
    !expiresBefore(server.cert, renewBy) &&
    dnsNames.every((n) => server.cert.checkHost(n, { subject: 'never' }) !== undefined) &&
    ips.every((ip) => server.cert.checkIP(ip) !== undefined);
  const adminOk = admin !== undefined && ca !== undefined && issuedBy(admin.cert, ca.cert) && !expiresBefore(admin.cert, renewBy);

  let caCertPem = ca?.certPem ?? '';
  let caKeyPem = ca?.keyPem ?? '';
  let serverPair: CertKeyPair | undefined = serverOk ? server : undefined;
  let adminPair: CertKeyPair | undefined = adminOk ? admin : undefined;

  if (!caUsable || !serverPair || !adminPair) {
    const libLoading = loadX509();
    const keyJobs = {
      ca: caUsable ? undefined : generateKeyPair(),
      server: serverPair ? undefined : generateKeyPair(),
      admin: adminPair ? undefined : generateKeyPair(),
    };
    const lib = await libLoading;
    let signer: Signer;
    if (!caUsable) {
      const keys = await keyJobs.ca!;
      const cert = await lib.X509CertificateGenerator.createSelfSigned(
        {
          serialNumber: randomSerial(),
          name: [{ CN: ['skiff-ca'] }],
          notBefore: new Date(now.getTime() - BACKDATE_MS),
          notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
          keys,
          signingAlgorithm: SIGNING_ALGORITHM,
          extensions: [
            new lib.BasicConstraintsExtension(true, undefined, true),
            new lib.KeyUsagesExtension(
              lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign | lib.KeyUsageFlags.digitalSignature,
              true,
            ),
            await lib.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto as unknown as LibCrypto),
          ],
        },
        webcrypto as unknown as LibCrypto,
      );
      caCertPem = cert.toString('pem') + '\n';
      caKeyPem = await exportKeyPem(keys.privateKey);
      signer = { lib, cert, key: keys.privateKey };
      // A new CA invalidates everything it signed before.
      serverPair = undefined;
      adminPair = undefined;
      keyJobs.server ??= generateKeyPair();
      keyJobs.admin ??= generateKeyPair();
      writeSecret(join(dir, files.caKey), caKeyPem);
      writePublic(join(dir, files.caCert), caCertPem);
    } else {
      signer = await importSigner(lib, caCertPem, caKeyPem);
    }
    const jobs: Promise<void>[] = [];
    if (!serverPair) {
      const previous = server && ca && issuedBy(server.cert, ca.cert) ? parseSubjectAltNames(server.cert) : { dnsNames: [], ips: [] };
      jobs.push(
        issue(signer, await keyJobs.server!, {
          subject: [{ CN: ['kube-apiserver'] }],
          usage: 'server',
          dnsNames: uniqueDnsNames([...DEFAULT_SERVING_DNS_NAMES, ...previous.dnsNames, ...dnsNames]),
          ips: uniqueIps([...DEFAULT_SERVING_IPS, ...previous.ips, ...ips]),
          now,
        }).then((pair) => {
          serverPair = pair;
          writeSecret(join(dir, files.serverKey), pair.keyPem);
          writePublic(join(dir, files.serverCert), pair.certPem);
        }),
      );
    }
    if (!adminPair) {
      jobs.push(
        issue(signer, await keyJobs.admin!, {
          subject: [{ O: ['system:masters'] }, { CN: ['system:admin'] }],
          usage: 'client',
          now,
        }).then((pair) => {
          adminPair = pair;
          writeSecret(join(dir, files.adminKey), pair.keyPem);
          writePublic(join(dir, files.adminCert), pair.certPem);
        }),
      );
    }
    await Promise.all(jobs);
  }

  const adminToken = ensureToken(join(dir, files.adminToken));
  const serverSecret = ensureToken(join(dir, files.serverSecret));
  const nodeToken = formatJoinToken(caCertPem, serverSecret);
  // node-token is a convenience copy for operators (k3s keeps one at server/node-token).
  if (readOptional(join(dir, files.nodeToken))?.trim() !== nodeToken) writeSecret(join(dir, files.nodeToken), nodeToken + '\n');

  return {
    caCertPem,
    caKeyPem,
    serverCertPem: serverPair!.certPem,
    serverKeyPem: serverPair!.keyPem,
    adminCertPem: adminPair!.certPem,
    adminKeyPem: adminPair!.keyPem,
    adminToken,
    nodeToken,
  };
}

/**
 * Issues a client certificate signed by the cluster CA, e.g. CN=system:node:NAME,
 * O=system:nodes for a joining agent. CN becomes the user name and each O a group.
 */
export async function signClientCert(pki: Pki, cn: string, orgs: string[] = [], opts: { now?: Date; days?: number } = {}): Promise<CertKeyPair> {
  const lib = await loadX509();
  const [signer, keys] = await Promise.all([importSigner(lib, pki.caCertPem, pki.caKeyPem), generateKeyPair()]);
  return issue(signer, keys, { subject: [...orgs.map((o) => ({ O: [o] })), { CN: [cn] }], usage: 'client', now: opts.now ?? new Date(), days: opts.days });
}

/** Issues a serving certificate signed by the cluster CA, e.g. for a kubelet's HTTPS endpoint. */
export async function signServingCert(
  pki: Pki,
  cn: string,
  names: { hostnames?: string[]; ips?: string[] },
  opts: { now?: Date; days?: number } = {},
): Promise<CertKeyPair> {
  const lib = await loadX509();
  const [signer, keys] = await Promise.all([importSigner(lib, pki.caCertPem, pki.caKeyPem), generateKeyPair()]);
  const split = splitNames([...(names.hostnames ?? []), ...(names.ips ?? [])]);
  return issue(signer, keys, {
    subject: [{ CN: [cn] }],
    usage: 'server',
    dnsNames: uniqueDnsNames(split.dnsNames),
    ips: uniqueIps(split.ips),
    now: opts.now ?? new Date(),
    days: opts.days,
  });
}

/** The CA hash k3s puts in its join token: hex SHA-256 of the CA bundle as served. */
export function caHash(caCertPem: string): string {
  return createHash('sha256').update(caCertPem).digest('hex');
}

/** `K10<ca hash>::server:<secret>`, the k3s "secure" token format. */
export function formatJoinToken(caCertPem: string, secret: string): string {
  return `K10${caHash(caCertPem)}::server:${secret}`;
}

export interface ParsedJoinToken {
  /** Absent for a bare secret, which skips CA pinning (k3s accepts those too). */
  caHash?: string;
  username: string;
  password: string;
}

/** Splits a join token into its CA hash and credentials; a bare string is the server secret. */
export function parseJoinToken(token: string): ParsedJoinToken {
  const m = /^K10([0-9a-f]+)::([^:]+):(.+)$/.exec(token.trim());
  if (m) return { caHash: m[1], username: m[2], password: m[3] };
  return { username: 'server', password: token.trim() };
}

/** Whether a token presented by a joining agent matches this server's join token (and CA, when pinned). */
export function verifyJoinToken(pki: Pki, token: string): boolean {
  const want = parseJoinToken(pki.nodeToken);
  const got = parseJoinToken(token);
  if (got.caHash !== undefined && got.caHash !== want.caHash) return false;
  return got.username === want.username && constantTimeEqual(got.password, want.password);
}

/** Compares secrets without leaking their common prefix length through timing. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

// ---------------------------------------------------------------------------------------

type X509Lib = typeof X509;
type LibCrypto = Parameters<X509Lib['X509CertificateGenerator']['create']>[1];
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

interface Signer {
  lib: X509Lib;
  cert: X509.X509Certificate;
  key: CryptoKey;
}

interface LoadedPair extends CertKeyPair {
  cert: X509Certificate;
}

interface IssueRequest {
  subject: X509.JsonName;
  usage: 'server' | 'client';
  dnsNames?: string[];
  ips?: string[];
  now: Date;
  days?: number;
}

let x509Lib: Promise<X509Lib> | undefined;

function loadX509(): Promise<X509Lib> {
  x509Lib ??= (async () => {
    // @peculiar/x509 resolves its injection container through reflect-metadata at load time.
    await import('reflect-metadata');
    return import('@peculiar/x509');
  })();
  return x509Lib;
}

function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return pem('PRIVATE KEY', der);
}

function pem(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

async function importSigner(lib: X509Lib, caCertPem: string, caKeyPem: string): Promise<Signer> {
  // Node re-encodes any PEM key (SEC1 or PKCS#8) as PKCS#8 for WebCrypto.
  const der = createPrivateKey(caKeyPem).export({ format: 'der', type: 'pkcs8' });
  const key = await webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
  return { lib, cert: new lib.X509Certificate(caCertPem), key };
}

async function issue(signer: Signer, keys: CryptoKeyPair, req: IssueRequest): Promise<CertKeyPair> {
  const { lib } = signer;
  const crypto = webcrypto as unknown as LibCrypto;
  const extensions: X509.Extension[] = [
    new lib.BasicConstraintsExtension(false, undefined, true),
    new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
    new lib.ExtendedKeyUsageExtension([req.usage === 'server' ? lib.ExtendedKeyUsage.serverAuth : lib.ExtendedKeyUsage.clientAuth]),
    await lib.AuthorityKeyIdentifierExtension.create(signer.cert.publicKey, false, crypto),
  ];
  const altNames: X509.JsonGeneralName[] = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(req.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (altNames.length > 0) extensions.push(new lib.SubjectAlternativeNameExtension(altNames));
  const cert = await lib.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: req.subject,
      issuer: signer.cert.subject,
      notBefore: new Date(req.now.getTime() - BACKDATE_MS),
      notAfter: new Date(req.now.getTime() + (req.days ?? LEAF_VALIDITY_DAYS) * DAY_MS),
      publicKey: keys.publicKey,
      signingKey: signer.key,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions,
    },
    crypto,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

/** A positive 127-bit serial, as RFC 5280 asks serials to be positive and unpredictable. */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b.toString('hex');
}

function loadPair(dir: string, certFile: string, keyFile: string): LoadedPair | undefined {
  const certPem = readOptional(join(dir, certFile));
  const keyPem = readOptional(join(dir, keyFile));
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    // A crash between writing a key and its certificate leaves a mismatched pair.
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    return { certPem, keyPem, cert };
  } catch {
    return undefined;
  }
}

function isCa(cert: X509Certificate): boolean {
  return cert.ca;
}

function expiresBefore(cert: X509Certificate, when: Date): boolean {
  return new Date(cert.validTo).getTime() <= when.getTime();
}

function issuedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  try {
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

function requestedServingNames(opts: PkiOptions): { dnsNames: string[]; ips: string[] } {
  const split = splitNames([...DEFAULT_SERVING_DNS_NAMES, osHostname(), ...(opts.hostnames ?? []), ...DEFAULT_SERVING_IPS, ...(opts.ips ?? [])]);
  return { dnsNames: uniqueDnsNames(split.dnsNames), ips: uniqueIps(split.ips) };
}

function splitNames(names: string[]): { dnsNames: string[]; ips: string[] } {
  const dnsNames: string[] = [];
  const ips: string[] = [];
  for (const raw of names) {
    const name = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (name === '') continue;
    if (isIP(name)) ips.push(name);
    else dnsNames.push(name);
  }
  return { dnsNames, ips };
}

function uniqueDnsNames(names: string[]): string[] {
  return [...new Set(names.map((n) => n.toLowerCase().replace(/\.$/, '')).filter((n) => n !== ''))];
}

function uniqueIps(ips: string[]): string[] {
  return [...new Set(ips.map(canonicalIp))];
}

function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** Reads the SANs back from a certificate so re-issuing keeps names granted earlier. */
function parseSubjectAltNames(cert: X509Certificate): { dnsNames: string[]; ips: string[] } {
  const dnsNames: string[] = [];
  const ips: string[] = [];
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    const m = /^(DNS|IP Address):(.*)$/.exec(entry);
    if (!m) continue;
    let value = m[2];
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    if (m[1] === 'DNS') dnsNames.push(value);
    else if (isIP(value)) ips.push(value);
  }
  return { dnsNames, ips };
}

function ensureToken(path: string): string {
  const existing = readOptional(path)?.trim();
  if (existing) return existing;
  const token = randomBytes(32).toString('hex');
  writeSecret(path, token + '\n');
  return token;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PkiError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
}

function writeSecret(path: string, data: string): void {
  writeAtomic(path, data, 0o600);
}

function writePublic(path: string, data: string): void {
  writeAtomic(path, data, 0o644);
}

/** Writes through a temporary file and rename so a crash never leaves a torn key or certificate. */
export function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data, { mode });
  // The umask may have narrowed the mode; secrets must end up exactly 0600.
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}
