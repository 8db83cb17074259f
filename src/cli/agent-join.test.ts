import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../apiserver/server.js';
import { HttpClient } from '../client/http.js';
import { Resources } from '../client/client.js';
import { ensureAgentCredentials, fetchVerifiedCa, JoinError, ServerUnreachableError } from './agent-join.js';

let server: RunningServer;
let dir: string;
let token: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-agent-join-'));
  server = await startServer({ dataDir: join(dir, 'server'), port: 0, log: () => {} });
  token = readFileSync(join(dir, 'server', 'token'), 'utf8').trim();
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the server writes its join token to <data-dir>/token and serves its CA at /cacerts', async () => {
  assert.equal(token, server.pki.nodeToken);
  assert.match(token, /^K10[0-9a-f]{64}::server:[0-9a-f]+$/);
  assert.equal(await fetchVerifiedCa(server.url, token), server.pki.caCertPem);
});

test('an agent gets node credentials with the token, keeps them and reuses them while they fit', async () => {
  const tls = join(dir, 'agent-a');
  const creds = await ensureAgentCredentials({ server: server.url, token, nodeName: 'node-a', nodeIP: '127.0.0.1', dir: tls, passwordFile: join(tls, 'pw') });
  assert.equal(creds.reused, false);
  const client = new X509Certificate(creds.clientCertPem);
  assert.match(client.subject, /CN=system:node:node-a/);
  assert.match(client.subject, /O=system:nodes/);
  const serving = new X509Certificate(creds.servingCertPem);
  assert.ok(serving.checkIP('127.0.0.1'));
  assert.ok(serving.checkHost('node-a'));

  // The client certificate authenticates against the API server.
  const http = new HttpClient({ server: server.url, ca: creds.caCertPem, cert: creds.clientCertPem, key: creds.clientKeyPem });
  try {
    assert.equal((await http.get(Resources.namespaces, undefined, 'default')).metadata?.name, 'default');
  } finally {
    http.close();
  }

  const again = await ensureAgentCredentials({ server: server.url, token, nodeName: 'node-a', nodeIP: '127.0.0.1', dir: tls, passwordFile: join(tls, 'pw') });
  assert.equal(again.reused, true);
  assert.equal(again.clientCertPem, creds.clientCertPem);
  const moved = await ensureAgentCredentials({ server: server.url, token, nodeName: 'node-a', nodeIP: '127.0.0.2', dir: tls, passwordFile: join(tls, 'pw') });
  assert.equal(moved.reused, false, 'a new address needs a new serving certificate');
  assert.ok(new X509Certificate(moved.servingCertPem).checkIP('127.0.0.2'));
});

test('a token for another CA, a wrong secret and an unreachable server fail clearly', async () => {
  const otherHash = token.replace(/^K10[0-9a-f]{6}/, 'K10000000');
  await assert.rejects(ensureAgentCredentials({ server: server.url, token: otherHash, nodeName: 'x', nodeIP: '127.0.0.1', dir: join(dir, 'x'), passwordFile: join(dir, 'x', 'pw') }), (e: unknown) => e instanceof JoinError && /token CA hash does not match the Cluster CA certificate hash/.test(e.message));
  const wrongSecret = token.replace(/:server:.*$/, ':server:nope');
  await assert.rejects(ensureAgentCredentials({ server: server.url, token: wrongSecret, nodeName: 'x', nodeIP: '127.0.0.1', dir: join(dir, 'x'), passwordFile: join(dir, 'x', 'pw') }), (e: unknown) => e instanceof JoinError && /401 Unauthorized/.test(e.message));
  await assert.rejects(fetchVerifiedCa('https://127.0.0.1:1', token), (e: unknown) => e instanceof ServerUnreachableError && /ECONNREFUSED/.test(e.message));
});

test('a node name belongs to the first agent\'s node password while its Node exists', async () => {
  const a = join(dir, 'pw-a');
  const b = join(dir, 'pw-b');
  await ensureAgentCredentials({ server: server.url, token, nodeName: 'shared', nodeIP: '127.0.0.1', dir: a, passwordFile: join(a, 'pw') });
  // While no Node named "shared" exists, the name is free for another agent.
  await ensureAgentCredentials({ server: server.url, token, nodeName: 'shared', nodeIP: '127.0.0.1', dir: b, passwordFile: join(b, 'pw') });
  const nodes = server.registry.lookup('', 'v1', 'nodes')!;
  await server.rest.create(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'shared' } }, { dryRun: false, fieldManager: 'test', fieldValidation: 'Ignore', warnings: [] });
  await assert.rejects(
    ensureAgentCredentials({ server: server.url, token, nodeName: 'shared', nodeIP: '127.0.0.9', dir: a, passwordFile: join(a, 'pw') }),
    (e: unknown) => e instanceof JoinError && /Node password rejected/.test(e.message) && /403 Forbidden/.test(e.message),
  );
  const again = await ensureAgentCredentials({ server: server.url, token, nodeName: 'shared', nodeIP: '127.0.0.9', dir: b, passwordFile: join(b, 'pw') });
  assert.equal(again.reused, false, 'the owner gets new credentials for its new address');
});

test('node credentials need the join token and a valid node name', async () => {
  const post = (body: string, auth?: string) =>
    new Promise<{ code: number; body: string }>((resolve, reject) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (auth) headers.Authorization = `Bearer ${auth}`;
      const req = request(new URL('/v1-skiff/node-credentials', server.url), { method: 'POST', ca: server.pki.caCertPem, headers }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  assert.equal((await post('{"nodeName":"n"}')).code, 401, 'anonymous');
  const bad = await post('{"nodeName":"Not_A_Name"}', token);
  assert.equal(bad.code, 400);
  assert.match(JSON.parse(bad.body).message, /nodeName: Invalid value/);
  assert.equal((await post('{"nodeName":"n","addresses":["10.0.0.1"]}', token)).code, 400, 'no node password');
  assert.equal((await post('{"nodeName":"n","addresses":["10.0.0.1"],"nodePassword":"0123456789abcdef0123"}', token)).code, 200);
});
