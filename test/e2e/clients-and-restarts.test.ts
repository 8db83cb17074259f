/**
 * @module End to end beyond kubectl 1.32: a second real client (@kubernetes/client-node
 * informer: list + watch), every kubectl 1.27–1.33 on the machine doing the same
 * apply/get/delete, a restart that keeps objects and credentials, and kill -9 losing
 * no acknowledged write.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import YAML from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { Cluster, eventually, kubectlBinary } from './harness.js';

const cm = (name: string, value: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  labels: {suite: clients}
data:
  key: "${value}"
`;

describe('clients and restarts', () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start();
  });
  after(async () => {
    await c?.stop();
  });

  test('@kubernetes/client-node lists and watches through an informer', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'pre-existing' }, data: { a: '1' } } });
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update:${o.metadata?.name}:${o.data?.a}`));
    informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
    await informer.start();
    try {
      await eventually(() => seen.includes('add:pre-existing'), { what: 'initial list' });
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'live' }, data: { a: '1' } } });
      await core.patchNamespacedConfigMap(
        { namespace: 'default', name: 'live', body: { data: { a: '2' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'live' });
      await eventually(() => seen.includes('delete:live'), { what: 'watch events' });
      assert.deepEqual(
        seen.filter((s) => s.includes(':live')),
        ['add:live', 'update:live:2', 'delete:live'],
      );
      const list = await core.listNamespacedConfigMap({ namespace: 'default' });
      assert.ok(list.items.some((i) => i.metadata?.name === 'pre-existing'));
    } finally {
      await informer.stop();
    }
  });

  test('kubectl 1.27 … 1.33 give the same results for apply, get and delete', async () => {
    const minors = [27, 28, 29, 30, 31, 32, 33].filter((m) => existsSync(kubectlBinary(m)));
    assert.ok(minors.length >= 1, 'at least one versioned kubectl is installed');
    for (const minor of minors) {
      const name = `v${minor}`;
      const file = c.writeFile(`${name}.yaml`, cm(name, 'one'));
      const created = await c.k(['apply', '-f', file], { minor });
      assert.match(created, new RegExp(`configmap/${name} created`), `kubectl 1.${minor} apply`);
      const edited = c.writeFile(`${name}.yaml`, cm(name, 'two'));
      assert.match(await c.k(['apply', '-f', edited], { minor }), new RegExp(`configmap/${name} configured`), `kubectl 1.${minor} re-apply`);
      assert.equal(await c.k(['get', 'cm', name, '-o', 'jsonpath={.data.key}'], { minor }), 'two', `kubectl 1.${minor} get`);
      const table = await c.k(['get', 'cm', name], { minor });
      assert.match(table, new RegExp(`^NAME\\s+DATA\\s+AGE\\n${name}\\s+1\\s+\\d+s`, 'm'), `kubectl 1.${minor} table`);
      assert.match(await c.k(['delete', '-f', edited], { minor }), new RegExp(`configmap "${name}" deleted`), `kubectl 1.${minor} delete`);
      const gone = await c.kubectl(['get', 'cm', name], { minor });
      assert.equal(gone.stderr.trim(), `Error from server (NotFound): configmaps "${name}" not found`);
    }
  });

  test('a restart keeps every object and the credentials', async () => {
    await c.k(['apply', '-f', '-'], { stdin: cm('survivor', 'kept') });
    const caBefore = readFileSync(c.kubeconfig, 'utf8');
    await c.stop({ keepData: true });
    c = await Cluster.start({ dataDir: c.dataDir });
    assert.equal(await c.k(['get', 'cm', 'survivor', '-o', 'jsonpath={.data.key}']), 'kept');
    const after = YAML.parse(readFileSync(c.kubeconfig, 'utf8'));
    const before = YAML.parse(caBefore);
    assert.equal(after.clusters[0].cluster['certificate-authority-data'], before.clusters[0].cluster['certificate-authority-data']);
    assert.equal(after.users[0].user['client-certificate-data'], before.users[0].user['client-certificate-data']);
  });

  test('kill -9 during writes loses no acknowledged write', async () => {
    const kc = YAML.parse(readFileSync(c.kubeconfig, 'utf8'));
    const b64 = (s: string) => Buffer.from(s, 'base64').toString();
    const tls = {
      ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
      cert: b64(kc.users[0].user['client-certificate-data']),
      key: b64(kc.users[0].user['client-key-data']),
    };
    const url = new URL(c.url);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const acknowledged: string[] = [];
    const post = (name: string) =>
      new Promise<number>((resolve) => {
        const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: name } });
        const req = request(
          { host: url.hostname, port: url.port, method: 'POST', path: '/api/v1/namespaces/default/configmaps', agent, ...tls, headers: { 'Content-Type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', () => resolve(0));
        req.end(body);
      });
    let next = 0;
    let stop = false;
    const writers = Array.from({ length: 8 }, async () => {
      while (!stop && next < 5000) {
        const name = `crash-${next++}`;
        if ((await post(name)) === 201) acknowledged.push(name);
      }
    });
    await eventually(() => acknowledged.length >= 300, { what: '300 acknowledged writes', timeoutMs: 30_000 });
    c.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    agent.destroy();
    await c.stop({ keepData: true });
    c = await Cluster.start({ dataDir: c.dataDir });
    const names = new Set((await c.k(['get', 'cm', '-o', 'name'])).split('\n').map((l) => l.replace('configmap/', '')));
    const lost = acknowledged.filter((n) => !names.has(n));
    assert.deepEqual(lost, [], `acknowledged writes lost after kill -9 (${acknowledged.length} acknowledged)`);
  });
});
