/**
 * @module End-to-end scenario 2 on the process runtime: `kubectl apply -f
 * examples/frontend-backend/` (PostgreSQL as a StatefulSet on a local-path claim, a Node.js
 * backend, a static frontend, nginx as the reverse proxy behind a LoadBalancer Service),
 * then the page and the API through the LoadBalancer address, data surviving the database
 * pod's replacement, kube-like `get pvc,pv,storageclass`, and the volume's directory gone
 * once its claim is deleted. Needs root on Linux, Debian's postgresql 15, nginx, python3.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cluster, eventually, repoRoot, stopProcessCluster } from './harness.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const pgBin = '/usr/lib/postgresql/15/bin';
const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status === 0;
const postgresUser = () => {
  const r = spawnSync('id', ['postgres'], { encoding: 'utf8' });
  const m = /uid=(\d+).*gid=(\d+)/.exec(r.stdout);
  return m ? { uid: m[1], gid: m[2] } : undefined;
};
const skip = !isRoot
  ? 'the process runtime isolates pods only as root on Linux'
  : !existsSync(`${pgBin}/postgres`) || !postgresUser()
    ? "Debian's postgresql 15 is needed (apt-get install postgresql)"
    : !has('nginx') || !has('python3') || !has('psql')
      ? 'nginx, python3 and psql are needed'
      : false;

const exampleDir = join(repoRoot, 'examples', 'frontend-backend');
const nodeIP = `127.${1 + randomInt(250)}.${randomInt(256)}.${2 + randomInt(250)}`;

interface Items {
  items: Array<{ id: number; name: string }>;
}

async function http(path: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${nodeIP}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

describe('examples/frontend-backend (scenario 2)', { skip }, () => {
  let c: Cluster;
  let manifests: string;

  /** `kubectl rollout status`, failing with what the workload's pods say when it does not finish. */
  async function rollout(kind: string, name: string, label: string, dependsOn: string): Promise<void> {
    const r = await c.kubectl(['rollout', 'status', `${kind}/${name}`, '--timeout=120s'], { timeoutMs: 130_000 });
    if (r.code === 0) return;
    const pods = await c.kubectl(['get', 'pods', '-l', label, '-o', 'wide']);
    const logs = await c.kubectl(['logs', '-l', label, '--all-containers', '--tail=20']);
    const events = await c.kubectl(['get', 'events', '--sort-by=.lastTimestamp']);
    assert.fail(`${kind}/${name} did not roll out (it depends on ${dependsOn}): ${r.stderr}${r.stdout}\n${pods.stdout}\n${logs.stdout}${logs.stderr}\n${events.stdout.split('\n').slice(-15).join('\n')}`);
  }

  before(async () => {
    c = await Cluster.start({ extraArgs: ['--runtime', 'process', '--node-ip', nodeIP], timeoutMs: 60_000 });
    await eventually(async () => / Ready /.test(await c.k(['get', 'nodes', '--no-headers'])), { timeoutMs: 20_000, what: 'the local node to be Ready' });
    // The manifests name Debian's usual postgres uid/gid; this host's own are put in.
    const pg = postgresUser()!;
    manifests = c.writeFile('frontend-backend/.keep', '');
    manifests = dirname(manifests);
    for (const f of readdirSync(exampleDir).filter((f) => f.endsWith('.yaml'))) {
      let text = readFileSync(join(exampleDir, f), 'utf8');
      if (f === 'postgres.yaml') text = text.replace(/runAsUser: 101\b/, `runAsUser: ${pg.uid}`).replace(/runAsGroup: 104\b/, `runAsGroup: ${pg.gid}`);
      writeFileSync(join(manifests, f), text);
    }
  });

  after(async () => {
    if (!c) return;
    await c.kubectl(['delete', '-f', manifests, '--grace-period=1', '--timeout=60s', '--ignore-not-found']);
    await c.kubectl(['delete', 'pvc', '--all', '--timeout=30s']);
    await stopProcessCluster(c);
  });

  test('kubectl apply -f examples/frontend-backend/ rolls out; the claim is Bound to a local-path volume under the data dir', async () => {
    const applied = await c.k(['apply', '-f', manifests]);
    for (const o of ['statefulset.apps/postgres', 'deployment.apps/backend', 'deployment.apps/frontend', 'deployment.apps/nginx', 'service/nginx', 'service/backend-service', 'service/frontend-service', 'configmap/nginx-proxy-conf'])
      assert.match(applied, new RegExp(`^${o.replace(/[./]/g, '\\$&')} created$`, 'm'));
    await rollout('statefulset', 'postgres', 'app=postgres', 'the local-path provisioner and the PersistentVolume binder');

    const pvc = JSON.parse(await c.k(['get', 'pvc', 'data-postgres-0', '-o', 'json']));
    assert.equal(pvc.status.phase, 'Bound');
    assert.equal(pvc.spec.storageClassName, 'local-path');
    assert.equal(pvc.metadata.annotations['volume.kubernetes.io/selected-node'], JSON.parse(await c.k(['get', 'pod', 'postgres-0', '-o', 'json'])).spec.nodeName);
    const pv = JSON.parse(await c.k(['get', 'pv', pvc.spec.volumeName, '-o', 'json']));
    const dir = join(c.dataDir, 'storage', `pvc-${pvc.metadata.uid}_default_data-postgres-0`);
    assert.equal(pv.metadata.name, `pvc-${pvc.metadata.uid}`);
    assert.equal(pv.spec.hostPath.path, dir);
    assert.equal(pv.spec.claimRef.uid, pvc.metadata.uid);
    assert.ok(existsSync(join(dir, 'data', 'PG_VERSION')), `initdb wrote the database into ${dir}`);

    await rollout('deployment', 'frontend', 'app=frontend', 'the node agent only');
    await rollout('deployment', 'backend', 'app=backend', 'the cluster DNS (backend → "postgres" by name, pods\' resolv.conf) and the headless Service postgres');
    await rollout('deployment', 'nginx', 'app=nginx', 'the node agent only');
  });

  test('kubectl get svc nginx shows the node address as EXTERNAL-IP; the page and the API answer there on port 80', async () => {
    await eventually(async () => (await c.k(['get', 'svc', 'nginx'])).includes(nodeIP), { timeoutMs: 20_000, what: `servicelb to give Service nginx the EXTERNAL-IP ${nodeIP}` });
    assert.match(await c.k(['get', 'svc', 'nginx']), new RegExp(`^nginx\\s+LoadBalancer\\s+10\\.43\\.\\d+\\.\\d+\\s+${nodeIP.replace(/\./g, '\\.')}\\s+80:3\\d{4}/TCP\\s`, 'm'));

    const page = await eventually(
      async () => {
        const r = await http('/');
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 30_000, what: `GET http://${nodeIP}/ through the LoadBalancer (service proxy → nginx → frontend-service by DNS name)` },
    );
    assert.match(page.body, /<title>skiff frontend-backend example<\/title>/);

    const api = await eventually(
      async () => {
        const r = await http('/api/items');
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 30_000, what: `GET http://${nodeIP}/api/items (nginx → backend-service → postgres)` },
    );
    const body = JSON.parse(api.body) as Items;
    assert.deepEqual(
      body.items.map((i) => i.name),
      ['kubectl apply', 'a StatefulSet with a PersistentVolumeClaim', 'nginx in front of it all'],
      'the rows the init SQL seeded, read from PostgreSQL',
    );
  });

  test('the data survives deleting the postgres pod: the StatefulSet recreates it on the same claim', async () => {
    const added = await http('/api/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `written before the restart ${process.pid}` }) });
    assert.equal(added.status, 201, added.body);
    const before = JSON.parse(await c.k(['get', 'pod', 'postgres-0', '-o', 'json']));
    await c.k(['delete', 'pod', 'postgres-0', '--wait=false']);
    await eventually(
      async () => {
        const p = JSON.parse(await c.k(['get', 'pod', 'postgres-0', '-o', 'json']));
        return p.metadata.uid !== before.metadata.uid && p.status.conditions?.some((x: { type: string; status: string }) => x.type === 'Ready' && x.status === 'True');
      },
      { timeoutMs: 60_000, what: 'a new, ready postgres-0' },
    );
    const pod = JSON.parse(await c.k(['get', 'pod', 'postgres-0', '-o', 'json']));
    assert.equal(pod.spec.volumes.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim.claimName, 'data-postgres-0');
    assert.match(await c.k(['logs', 'postgres-0', '-c', 'initdb']), /already initialised/, 'the new pod found the database on the volume');
    const items = await eventually(
      async () => {
        const r = await http('/api/items');
        return r.status === 200 ? (JSON.parse(r.body) as Items) : undefined;
      },
      { timeoutMs: 30_000, what: 'the API to answer again after the database restart' },
    );
    assert.ok(items.items.some((i) => i.name === `written before the restart ${process.pid}`), JSON.stringify(items));
    assert.equal(items.items.length, 4);
  });

  test('kubectl get pvc,pv,storageclass prints what kube prints', async () => {
    const out = await c.k(['get', 'pvc,pv,storageclass']);
    assert.match(out, /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/m);
    assert.match(out, /^persistentvolumeclaim\/data-postgres-0\s+Bound\s+pvc-[0-9a-f-]{36}\s+1Gi\s+RWO\s+local-path\s+<unset>\s+\d+[sm]$/m);
    assert.match(out, /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE$/m);
    assert.match(out, /^persistentvolume\/pvc-[0-9a-f-]{36}\s+1Gi\s+RWO\s+Delete\s+Bound\s+default\/data-postgres-0\s+local-path\s+<unset>\s+\d+[sm]$/m);
    assert.match(out, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE$/m);
    assert.match(out, /^storageclass\.storage\.k8s\.io\/local-path \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+\d+[sm]$/m);
    assert.match(await c.k(['get', 'sc']), /^local-path \(default\)\s+rancher\.io\/local-path/m, 'the short name sc');
    // Storage object in-use protection, as kube's controllers leave them.
    assert.deepEqual(JSON.parse(await c.k(['get', 'pvc', 'data-postgres-0', '-o', 'json'])).metadata.finalizers, ['kubernetes.io/pvc-protection']);
    assert.deepEqual(JSON.parse(await c.k(['get', 'pv', '-o', 'json'])).items[0].metadata.finalizers, ['kubernetes.io/pv-protection']);
  });

  test('deleting the application and its claim releases the volume; reclaimPolicy Delete removes it and its directory', async () => {
    const pvc = JSON.parse(await c.k(['get', 'pvc', 'data-postgres-0', '-o', 'json']));
    const dir: string = JSON.parse(await c.k(['get', 'pv', pvc.spec.volumeName, '-o', 'json'])).spec.hostPath.path;
    await c.k(['delete', '-f', manifests, '--timeout=60s']);
    await c.k(['delete', 'pvc', 'data-postgres-0', '--timeout=30s']);
    await eventually(async () => (await c.kubectl(['get', 'pv', pvc.spec.volumeName])).code !== 0, { timeoutMs: 20_000, what: 'the released volume to be deleted' });
    assert.equal(existsSync(dir), false, `${dir} is removed with its volume`);
  });
});
