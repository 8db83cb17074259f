/** @module pki tests: issuing and reusing the PKI, the kubeconfig, and authentication against real TLS clients (node and kubectl). */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import {
  authenticate,
  authenticateRequest,
  caHash,
  ensurePki,
  httpsServerOptions,
  isPublicPath,
  parseJoinToken,
  renderKubeconfig,
  signClientCert,
  signServingCert,
  verifyJoinToken,
  writeKubeconfig,
  type AuthnRequest,
  type Pki,
} from './index.js';

const execFileP = promisify(execFile);

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

const VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0+skiff' };
const NAMESPACE_LIST = { kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] };
const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

const httpVersionsSeen = new Set<string>();

/** A minimal API server front door with kube's authentication rules. */
function handler(pki: Pki) {
  return (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    httpVersionsSeen.add(req.httpVersion);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const result = authenticateRequest(req as AuthnRequest, pki);
    const path = req.url ?? '/';
    if ('error' in result || ('anonymous' in result && !isPublicPath(path))) return send(401, UNAUTHORIZED);
    if (path === '/version') return send(200, VERSION);
    if (path === '/whoami') return send(200, 'user' in result ? result.user : null);
    if (path === '/api/v1/namespaces') return send(200, NAMESPACE_LIST);
    return send(404, {});
  };
}

interface Reply {
  status: number;
  body: unknown;
}

function request(port: number, path: string, opts: { pki: Pki; cert?: string; key?: string; token?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: opts.pki.caCertPem,
        cert: opts.cert,
        key: opts.key,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        agent: false,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function listen(server: https.Server | http2.Http2SecureServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: https.Server | http2.Http2SecureServer): Promise<void> {
  return new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(() => resolve());
  });
}

async function kubectl(kubeconfig: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = tempDir('skiff-kubectl-home-');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home };
  try {
    const { stdout, stderr } = await execFileP('kubectl', ['--kubeconfig', kubeconfig, ...args], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

describe('ensurePki', () => {
  it('creates the CA and certificates on first start with private files 0600', async () => {
    const dir = tempDir('skiff-pki-');
    const pki = await ensurePki(dir, { hostnames: ['skiff.example.com'], ips: ['192.0.2.10'] });
    const ca = new X509Certificate(pki.caCertPem);
    assert.equal(ca.subject, 'CN=skiff-ca');
    assert.equal(ca.ca, true);
    const years = (new Date(ca.validTo).getTime() - Date.now()) / (365 * 24 * 3600 * 1000);
    assert.ok(years > 9.9 && years < 10.1, `CA valid for ${years} years`);

    const server = new X509Certificate(pki.serverCertPem);
    assert.ok(server.verify(ca.publicKey));
    for (const n of ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'skiff.example.com']) {
      assert.equal(server.checkHost(n, { subject: 'never' }), n, `SAN ${n}`);
    }
    for (const ip of ['127.0.0.1', '::1', '10.43.0.1', '192.0.2.10']) assert.equal(server.checkIP(ip), ip, `SAN ${ip}`);
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(server.ca, false);

    const admin = new X509Certificate(pki.adminCertPem);
    assert.ok(admin.verify(ca.publicKey));
    assert.match(admin.subject, /^O=system:masters\nCN=system:admin$/);
    assert.deepEqual(admin.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(server.publicKey.asymmetricKeyType, 'ec');

    assert.match(pki.adminToken, /^[0-9a-f]{64}$/);
    assert.match(pki.nodeToken, /^K10[0-9a-f]{64}::server:[0-9a-f]{64}$/);

    const tls = join(dir, 'tls');
    assert.equal(statSync(tls).mode & 0o777, 0o700);
    for (const f of ['ca.key', 'server.key', 'admin.key', 'admin-token', 'server-token', 'node-token']) {
      assert.equal(statSync(join(tls, f)).mode & 0o777, 0o600, f);
    }
    assert.equal(readFileSync(join(tls, 'node-token'), 'utf8').trim(), pki.nodeToken);
    assert.deepEqual(
      readdirSync(tls).filter((f) => f.includes('.tmp-')),
      [],
      'no temporary files left behind',
    );
  });

  it('reuses every credential on restart', async () => {
    const dir = tempDir('skiff-pki-');
    const first = await ensurePki(dir, {});
    const second = await ensurePki(dir, {});
    assert.deepEqual(second, first);
  });

  it('re-issues only the serving certificate when a new name is requested, keeping earlier names', async () => {
    const dir = tempDir('skiff-pki-');
    const first = await ensurePki(dir, { hostnames: ['a.example.com'] });
    const second = await ensurePki(dir, { hostnames: ['b.example.com', '198.51.100.7'] });
    assert.equal(second.caCertPem, first.caCertPem);
    assert.equal(second.adminCertPem, first.adminCertPem);
    assert.equal(second.nodeToken, first.nodeToken);
    assert.notEqual(second.serverCertPem, first.serverCertPem);
    const server = new X509Certificate(second.serverCertPem);
    assert.equal(server.checkHost('a.example.com', { subject: 'never' }), 'a.example.com');
    assert.equal(server.checkHost('b.example.com', { subject: 'never' }), 'b.example.com');
    assert.equal(server.checkIP('198.51.100.7'), '198.51.100.7');
    // Names already covered do not cause another issue.
    const third = await ensurePki(dir, { hostnames: ['a.example.com'] });
    assert.equal(third.serverCertPem, second.serverCertPem);
  });

  it('replaces a serving key that does not match its certificate', async () => {
    const dir = tempDir('skiff-pki-');
    const first = await ensurePki(dir, {});
    writeFileSync(join(dir, 'tls', 'server.key'), first.adminKeyPem);
    const second = await ensurePki(dir, {});
    assert.notEqual(second.serverCertPem, first.serverCertPem);
    assert.ok(new X509Certificate(second.serverCertPem).checkPrivateKey((await import('node:crypto')).createPrivateKey(second.serverKeyPem)));
    assert.equal(second.caCertPem, first.caCertPem);
  });

  it('renews leaf certificates within 90 days of expiry but keeps the CA', async () => {
    const dir = tempDir('skiff-pki-');
    const first = await ensurePki(dir, {});
    const later = new Date(Date.now() + 300 * 24 * 3600 * 1000);
    const second = await ensurePki(dir, { now: () => later });
    assert.equal(second.caCertPem, first.caCertPem);
    assert.notEqual(second.serverCertPem, first.serverCertPem);
    assert.notEqual(second.adminCertPem, first.adminCertPem);
    assert.equal(second.adminToken, first.adminToken);
  });

  it('starts over with a new CA when the CA files are unusable', async () => {
    const dir = tempDir('skiff-pki-');
    const first = await ensurePki(dir, {});
    writeFileSync(join(dir, 'tls', 'ca.crt'), 'garbage');
    const second = await ensurePki(dir, {});
    assert.notEqual(second.caCertPem, first.caCertPem);
    const ca = new X509Certificate(second.caCertPem);
    assert.ok(new X509Certificate(second.serverCertPem).verify(ca.publicKey));
    assert.ok(new X509Certificate(second.adminCertPem).verify(ca.publicKey));
    assert.equal(parseJoinToken(second.nodeToken).caHash, caHash(second.caCertPem));
    assert.equal(parseJoinToken(second.nodeToken).password, parseJoinToken(first.nodeToken).password);
  });
});

describe('join token', () => {
  it('verifies the k3s secure format, a bare secret, and rejects a wrong CA hash or secret', async () => {
    const pki = await ensurePki(tempDir('skiff-pki-'), {});
    const parsed = parseJoinToken(pki.nodeToken);
    assert.equal(parsed.caHash, caHash(pki.caCertPem));
    assert.equal(parsed.username, 'server');
    assert.equal(verifyJoinToken(pki, pki.nodeToken), true);
    assert.equal(verifyJoinToken(pki, parsed.password), true);
    assert.equal(verifyJoinToken(pki, `K10${'0'.repeat(64)}::server:${parsed.password}`), false);
    assert.equal(verifyJoinToken(pki, `${parsed.password}x`), false);
  });
});

describe('kubeconfig', () => {
  it('embeds the CA and client credentials as base64 and is written 0600', async () => {
    const pki = await ensurePki(tempDir('skiff-pki-'), {});
    const path = join(tempDir('skiff-kc-'), 'nested', 'kubeconfig.yaml');
    await writeKubeconfig(path, { server: 'https://127.0.0.1:6443', caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem, clusterName: 'skiff', user: 'admin', context: 'skiff' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const doc = parse(readFileSync(path, 'utf8'));
    assert.equal(doc.kind, 'Config');
    assert.equal(doc['current-context'], 'skiff');
    assert.deepEqual(doc.contexts, [{ name: 'skiff', context: { cluster: 'skiff', user: 'admin' } }]);
    assert.equal(doc.clusters[0].cluster.server, 'https://127.0.0.1:6443');
    assert.equal(Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), pki.caCertPem);
    assert.equal(Buffer.from(doc.users[0].user['client-certificate-data'], 'base64').toString(), pki.adminCertPem);
    assert.equal(Buffer.from(doc.users[0].user['client-key-data'], 'base64').toString(), pki.adminKeyPem);
  });

  it('renders token credentials when no certificate is given and refuses no credentials', () => {
    const doc = parse(renderKubeconfig({ server: 'https://127.0.0.1:1', caPem: 'x', token: 'abc' }));
    assert.deepEqual(doc.users, [{ name: 'admin', user: { token: 'abc' } }]);
    assert.throws(() => renderKubeconfig({ server: 'https://127.0.0.1:1', caPem: 'x' }), TypeError);
  });
});

describe('isPublicPath', () => {
  it('opens only the health and version endpoints', () => {
    for (const p of ['/version', '/healthz', '/livez', '/readyz', '/readyz/ping', '/livez?verbose']) assert.equal(isPublicPath(p), true, p);
    for (const p of ['/api', '/apis', '/api/v1/namespaces', '/healthzz', '/versions', '/openapi/v2']) assert.equal(isPublicPath(p), false, p);
  });
});

describe('authentication over TLS', () => {
  let pki: Pki;
  let dir: string;
  let server: https.Server;
  let port: number;
  let h2server: http2.Http2SecureServer;
  let h2port: number;

  before(async () => {
    dir = tempDir('skiff-pki-');
    pki = await ensurePki(dir, {});
    server = https.createServer(httpsServerOptions(pki), handler(pki));
    port = await listen(server);
    h2server = http2.createSecureServer({ ...httpsServerOptions(pki), allowHTTP1: true }, handler(pki));
    h2port = await listen(h2server);
  });
  after(async () => {
    await Promise.all([close(server), close(h2server)]);
  });

  it('answers /version without credentials', async () => {
    const r = await request(port, '/version', { pki });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, VERSION);
  });

  it('answers 401 without credentials', async () => {
    const r = await request(port, '/api/v1/namespaces', { pki });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, UNAUTHORIZED);
  });

  it('accepts the admin client certificate as system:admin in system:masters', async () => {
    const r = await request(port, '/api/v1/namespaces', { pki, cert: pki.adminCertPem, key: pki.adminKeyPem });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, NAMESPACE_LIST);
    const who = await request(port, '/whoami', { pki, cert: pki.adminCertPem, key: pki.adminKeyPem });
    assert.deepEqual(who.body, { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] });
  });

  it('accepts the admin bearer token', async () => {
    const r = await request(port, '/api/v1/namespaces', { pki, token: pki.adminToken });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, NAMESPACE_LIST);
  });

  it('answers 401 to a wrong bearer token even on public paths', async () => {
    assert.equal((await request(port, '/api/v1/namespaces', { pki, token: pki.adminToken + '0' })).status, 401);
    assert.equal((await request(port, '/version', { pki, token: 'nope' })).status, 401);
  });

  it('authenticates the join token as a bootstrapper', async () => {
    const who = await request(port, '/whoami', { pki, token: pki.nodeToken });
    assert.equal(who.status, 200);
    assert.deepEqual(who.body, { username: 'system:bootstrap:skiff', groups: ['system:bootstrappers', 'system:authenticated'] });
  });

  it('maps CN to the user and each O to a group for certificates issued later', async () => {
    const node = await signClientCert(pki, 'system:node:worker-1', ['system:nodes', 'skiff:agents']);
    const who = await request(port, '/whoami', { pki, cert: node.certPem, key: node.keyPem });
    assert.equal(who.status, 200);
    assert.deepEqual(who.body, { username: 'system:node:worker-1', groups: ['system:nodes', 'skiff:agents', 'system:authenticated'] });
  });

  it('rejects a client certificate from another CA with 401, even on public paths', async () => {
    const other = await ensurePki(tempDir('skiff-pki-other-'), {});
    const r = await request(port, '/api/v1/namespaces', { pki, cert: other.adminCertPem, key: other.adminKeyPem });
    assert.equal(r.status, 401);
    assert.equal((await request(port, '/version', { pki, cert: other.adminCertPem, key: other.adminKeyPem })).status, 401);
  });

  it('rejects a serving certificate used as a client certificate', async () => {
    const serving = await signServingCert(pki, 'kubelet', { hostnames: ['worker-1'], ips: ['10.0.0.5'] });
    assert.equal(new X509Certificate(serving.certPem).checkIP('10.0.0.5'), '10.0.0.5');
    const r = await request(port, '/api/v1/namespaces', { pki, cert: serving.certPem, key: serving.keyPem });
    assert.equal(r.status, 401);
  });

  it('authenticate() returns the user or undefined', async () => {
    const fake = (authorization?: string): AuthnRequest => ({ headers: authorization ? { authorization } : {}, socket: {} });
    assert.equal(authenticate(fake(), pki), undefined);
    assert.equal(authenticate(fake('Bearer wrong'), pki), undefined);
    assert.equal(authenticate(fake(`Bearer ${pki.adminToken}`), pki)?.username, 'system:admin');
    assert.equal(authenticate(fake(`Basic ${pki.adminToken}`), pki), undefined);
  });

  it('kubectl accepts our CA, SANs and admin certificate from the written kubeconfig', async () => {
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeKubeconfig(kubeconfig, { server: `https://127.0.0.1:${port}`, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem, clusterName: 'skiff', user: 'admin', context: 'skiff' });
    const version = await kubectl(kubeconfig, ['get', '--raw', '/version']);
    assert.equal(version.code, 0, version.stderr);
    assert.deepEqual(JSON.parse(version.stdout), VERSION);
    const namespaces = await kubectl(kubeconfig, ['get', '--raw', '/api/v1/namespaces']);
    assert.equal(namespaces.code, 0, namespaces.stderr);
    assert.deepEqual(JSON.parse(namespaces.stdout), NAMESPACE_LIST);
  });

  it('kubectl over HTTP/2 with the bearer token, and 401 with a wrong one', async () => {
    httpVersionsSeen.clear();
    const good = join(dir, 'token-kubeconfig.yaml');
    await writeKubeconfig(good, { server: `https://localhost:${h2port}`, caPem: pki.caCertPem, token: pki.adminToken });
    const ok = await kubectl(good, ['get', '--raw', '/api/v1/namespaces']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), NAMESPACE_LIST);

    const viaCert = join(dir, 'h2-kubeconfig.yaml');
    await writeKubeconfig(viaCert, { server: `https://127.0.0.1:${h2port}`, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem });
    const certOk = await kubectl(viaCert, ['get', '--raw', '/api/v1/namespaces']);
    assert.equal(certOk.code, 0, certOk.stderr);

    const bad = join(dir, 'bad-kubeconfig.yaml');
    await writeKubeconfig(bad, { server: `https://127.0.0.1:${h2port}`, caPem: pki.caCertPem, token: 'wrong' });
    const denied = await kubectl(bad, ['get', '--raw', '/api/v1/namespaces']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Unauthorized/);
    assert.ok(httpVersionsSeen.has('2.0'), `kubectl spoke ${[...httpVersionsSeen].join(', ')}`);
  });
});
