import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import { startServer, type RunningServer } from '../apiserver/server.js';
import { Resources, type WatchEvent } from './client.js';
import { ConnectionError, HttpClient, KubeconfigError, kubeconfigOptions } from './http.js';
import { InformerFactory } from './informer.js';
import { eventually } from './testing.js';

let server: RunningServer;
let dir: string;
let client: HttpClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-http-client-'));
  server = await startServer({ dataDir: dir, port: 0, log: () => {} });
  client = HttpClient.fromKubeconfig(server.kubeconfigPath, undefined, { fieldManager: 'http-test' });
});
after(async () => {
  client.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rejectsWith(p: Promise<unknown>, code: number, reason: string): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.reason, reason);
    return e;
  }
  assert.fail(`expected ${code} ${reason}`);
}

test('create, get, update, the four patch types and delete round-trip through HTTPS', async () => {
  const cm = await client.create(Resources.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rt' }, data: { a: '1' } });
  assert.equal(cm.metadata?.managedFields?.[0]?.manager, 'http-test');
  const got = await client.get(Resources.configmaps, 'default', 'rt');
  assert.equal(got.data.a, '1');
  got.data.a = '2';
  const updated = await client.update(Resources.configmaps, 'default', got);
  assert.equal(updated.data.a, '2');
  assert.notEqual(updated.metadata?.resourceVersion, got.metadata?.resourceVersion);
  assert.equal((await client.patch(Resources.configmaps, 'default', 'rt', 'merge', { data: { b: 'm' } })).data.b, 'm');
  assert.equal((await client.patch(Resources.configmaps, 'default', 'rt', 'strategic', { data: { c: 's' } })).data.c, 's');
  assert.equal((await client.patch(Resources.configmaps, 'default', 'rt', 'json', [{ op: 'add', path: '/data/d', value: 'j' }])).data.d, 'j');
  const applied = await client.patch(Resources.configmaps, 'default', 'rt', 'apply', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rt' }, data: { a: 'applied' } }, { fieldManager: 'applier', force: true });
  assert.equal(applied.data.a, 'applied');
  assert.ok(applied.metadata?.managedFields?.some((f: KObject) => f.manager === 'applier' && f.operation === 'Apply'));
  const dry = await client.create(Resources.configmaps, 'default', { metadata: { name: 'dry' } }, { dryRun: true });
  assert.equal(dry.metadata?.name, 'dry');
  await rejectsWith(client.get(Resources.configmaps, 'default', 'dry'), 404, 'NotFound');
  await client.delete(Resources.configmaps, 'default', 'rt');
  await rejectsWith(client.get(Resources.configmaps, 'default', 'rt'), 404, 'NotFound');
});

test('errors keep the Status code, reason, message and details', async () => {
  const nf = await rejectsWith(client.get(Resources.configmaps, 'default', 'nope'), 404, 'NotFound');
  assert.equal(nf.message, 'configmaps "nope" not found');
  assert.equal(nf.details?.name, 'nope');
  await client.create(Resources.configmaps, 'default', { metadata: { name: 'dup' } });
  const dup = await rejectsWith(client.create(Resources.configmaps, 'default', { metadata: { name: 'dup' } }), 409, 'AlreadyExists');
  assert.equal(dup.message, 'configmaps "dup" already exists');
  const stale = await client.get(Resources.configmaps, 'default', 'dup');
  await client.update(Resources.configmaps, 'default', { ...stale, data: { x: '1' } });
  await rejectsWith(client.update(Resources.configmaps, 'default', { ...stale, data: { x: '2' } }), 409, 'Conflict');
  const invalid = await rejectsWith(client.create(Resources.configmaps, 'default', { metadata: { name: 'Bad_Name' } }), 422, 'Invalid');
  assert.ok(invalid.details?.causes?.some((c) => c.field === 'metadata.name'), JSON.stringify(invalid.details));
  await rejectsWith(client.get({ group: 'nope.example.com', version: 'v1', resource: 'things' }, undefined, 'x'), 404, 'NotFound');
});

test('list pages with limit and continue and puts TypeMeta on items', async () => {
  for (let i = 0; i < 5; i++) await client.create(Resources.configmaps, 'kube-public', { metadata: { name: `page-${i}`, labels: { page: 'yes' } } });
  const names: string[] = [];
  let cont: string | undefined;
  let pages = 0;
  do {
    const list = await client.list(Resources.configmaps, 'kube-public', { labelSelector: 'page=yes', limit: 2, continue: cont });
    pages++;
    for (const item of list.items as KObject[]) {
      assert.equal(item.kind, 'ConfigMap');
      assert.equal(item.apiVersion, 'v1');
      names.push(String(item.metadata?.name));
    }
    cont = list.metadata?.continue as string | undefined;
  } while (cont);
  assert.equal(pages, 3);
  assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
});

test('watch streams events in order, ends on timeoutSeconds and on stop()', async () => {
  const start = await client.list(Resources.configmaps, 'kube-node-lease');
  const events: WatchEvent[] = [];
  let ended: Error | undefined | 'no' = 'no';
  const h = await client.watch(Resources.configmaps, 'kube-node-lease', { resourceVersion: start.metadata?.resourceVersion }, (ev) => events.push(ev), (err) => (ended = err));
  await client.create(Resources.configmaps, 'kube-node-lease', { metadata: { name: 'w' } });
  await client.patch(Resources.configmaps, 'kube-node-lease', 'w', 'merge', { data: { v: '1' } });
  await client.delete(Resources.configmaps, 'kube-node-lease', 'w');
  await eventually(() => events.length >= 3, 'three watch events');
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata?.name}`), ['ADDED w', 'MODIFIED w', 'DELETED w']);
  assert.equal(ended, 'no');
  h.stop();
  assert.equal(ended, undefined, 'stop() ends the watch once, without an error');

  let timedOut = false;
  await client.watch(Resources.configmaps, 'kube-node-lease', { resourceVersion: start.metadata?.resourceVersion, timeoutSeconds: 1 }, () => {}, (err) => (timedOut = !err));
  await eventually(() => timedOut, 'the server to end the watch after timeoutSeconds', 5000);
});

test('a watch the server refuses rejects with its Status', async () => {
  await rejectsWith(
    client.watch({ group: 'nope.example.com', version: 'v1', resource: 'things' }, undefined, {}, () => {}, () => {}),
    404,
    'NotFound',
  );
});

test('informers work unchanged over HTTPS', async () => {
  const factory = new InformerFactory(client);
  const inf = factory.for(Resources.configmaps, { namespace: 'kube-system' });
  const seen: string[] = [];
  inf.addEventHandlers({ add: (o) => seen.push(`add ${o.metadata?.name}`), delete: (o) => seen.push(`delete ${o.metadata?.name}`) });
  const ac = new AbortController();
  factory.start(ac.signal);
  try {
    await factory.waitForSync();
    await client.create(Resources.configmaps, 'kube-system', { metadata: { name: 'inf' } });
    await eventually(() => inf.getByName('kube-system', 'inf'), 'the informer to see the create');
    assert.equal(inf.getByName('kube-system', 'inf')?.kind, 'ConfigMap');
    await client.delete(Resources.configmaps, 'kube-system', 'inf');
    await eventually(() => seen.includes('delete inf'), 'the informer to see the delete');
  } finally {
    ac.abort();
  }
});

test('scale subresource, pods/binding and status updates', async () => {
  await client.create(Resources.deployments, 'default', {
    metadata: { name: 'sc' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'sc' } }, template: { metadata: { labels: { app: 'sc' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });
  const scale = await client.getScale(Resources.deployments, 'default', 'sc');
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.spec.replicas, 1);
  const scaled = await client.updateScale(Resources.deployments, 'default', 'sc', { ...scale, spec: { replicas: 3 } });
  assert.equal(scaled.spec.replicas, 3);
  const patched = await client.patch(Resources.deployments, 'default', 'sc', 'merge', { spec: { replicas: 2 } }, { subresource: 'scale' });
  assert.equal(patched.spec.replicas, 2);
  assert.equal((await client.get(Resources.deployments, 'default', 'sc')).spec.replicas, 2);

  await client.create(Resources.pods, 'default', { metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  await client.createSubresource(Resources.pods, 'default', 'b', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b' }, target: { kind: 'Node', name: 'n1' } });
  const pod = await client.get(Resources.pods, 'default', 'b');
  assert.equal(pod.spec.nodeName, 'n1');
  const st = await client.update(Resources.pods, 'default', { ...pod, status: { ...pod.status, phase: 'Running' } }, { subresource: 'status' });
  assert.equal(st.status.phase, 'Running');
});

test('bearer tokens authenticate; a wrong token is 401 Unauthorized', async () => {
  const opts = kubeconfigOptions(server.kubeconfigPath);
  const byToken = new HttpClient({ server: server.url, ca: opts.ca, token: server.pki.adminToken });
  const wrong = new HttpClient({ server: server.url, ca: opts.ca, token: 'not-the-token' });
  try {
    assert.equal((await byToken.get(Resources.namespaces, undefined, 'default')).metadata?.name, 'default');
    await rejectsWith(wrong.get(Resources.namespaces, undefined, 'default'), 401, 'Unauthorized');
  } finally {
    byToken.close();
    wrong.close();
  }
});

test('the server certificate is verified against the CA unless insecure-skip-tls-verify', async () => {
  const untrusted = new HttpClient({ server: server.url, token: server.pki.adminToken });
  const insecure = new HttpClient({ server: server.url, token: server.pki.adminToken, insecureSkipTLSVerify: true });
  try {
    await assert.rejects(untrusted.get(Resources.namespaces, undefined, 'default'), (e: unknown) => e instanceof ConnectionError && /certificate/i.test(e.message));
    assert.equal((await insecure.get(Resources.namespaces, undefined, 'default')).metadata?.name, 'default');
  } finally {
    untrusted.close();
    insecure.close();
  }
});

test('an unreachable server is a ConnectionError', async () => {
  const c = new HttpClient({ server: 'https://127.0.0.1:1', insecureSkipTLSVerify: true });
  await assert.rejects(c.get(Resources.namespaces, undefined, 'default'), (e: unknown) => e instanceof ConnectionError && /ECONNREFUSED/.test(e.message));
  c.close();
});

test('kubeconfig: merged $KUBECONFIG files, named contexts, token files and clear errors', () => {
  const a = join(dir, 'a.yaml');
  const b = join(dir, 'b.yaml');
  writeFileSync(join(dir, 'tok'), 'secret-token\n');
  writeFileSync(a, 'apiVersion: v1\nkind: Config\ncurrent-context: one\ncontexts:\n- name: one\n  context: {cluster: c1, user: u1}\nclusters:\n- name: c1\n  cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}\nusers:\n- name: u1\n  user: {tokenFile: tok}\n');
  writeFileSync(b, 'apiVersion: v1\nkind: Config\ncurrent-context: two\ncontexts:\n- name: two\n  context: {cluster: c1, user: u2, namespace: team-two}\n- name: one\n  context: {cluster: shadowed}\nusers:\n- name: u2\n  user: {token: t2}\n');
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = `${a}:${join(dir, 'missing.yaml')}:${b}`;
  try {
    const one = kubeconfigOptions();
    assert.equal(one.server, 'https://10.0.0.1:6443');
    assert.equal(one.token, 'secret-token');
    assert.equal(one.insecureSkipTLSVerify, true);
    const two = kubeconfigOptions(undefined, 'two');
    assert.equal(two.token, 't2');
    assert.equal(new HttpClient(two).namespace, 'team-two', "the context's namespace");
    assert.equal(new HttpClient(one).namespace, 'default');
    assert.throws(() => kubeconfigOptions(undefined, 'three'), (e: unknown) => e instanceof KubeconfigError && /context "three" does not exist/.test(e.message));
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
  assert.throws(() => kubeconfigOptions(join(dir, 'missing.yaml')), KubeconfigError);
  const own = kubeconfigOptions(server.kubeconfigPath);
  assert.match(own.ca ?? '', /BEGIN CERTIFICATE/);
  assert.match(own.cert ?? '', /BEGIN CERTIFICATE/);
  assert.match(own.key ?? '', /PRIVATE KEY/);
});
