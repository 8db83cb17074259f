/**
 * @module End to end with the real kubectl and two hollow nodes: cascading deletes
 * (background, orphan, foreground) through the garbage collector, `kubectl delete
 * namespace` through the namespace controller, and the addresses the Endpoints and
 * EndpointSlice controllers publish for `get endpoints` and `describe svc`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually } from './harness.js';

const deployment = (name: string, opts: { namespace?: string; replicas?: number } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${opts.namespace ? `  namespace: ${opts.namespace}\n` : ''}  labels:
    app: ${name}
spec:
  replicas: ${opts.replicas ?? 2}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: api
        image: example.com/api:1.0
        ports:
        - name: http
          containerPort: 8000
`;

const service = (name: string, selectorApp: string, opts: { namespace?: string } = {}) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
${opts.namespace ? `  namespace: ${opts.namespace}\n` : ''}spec:
  selector:
    app: ${selectorApp}
  ports:
  - name: web
    port: 80
    targetPort: http
`;

const slow = { timeoutMs: 60_000, intervalMs: 250 };

describe('garbage collector, namespace and endpoints controllers', () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '2'], timeoutMs: 60_000 });
  });
  after(async () => {
    await c?.stop();
  });

  const names = async (args: string[]): Promise<string[]> => (await c.k([...args, '-o', 'name'])).split('\n').filter(Boolean);

  async function deployAndWait(name: string, namespace = 'default'): Promise<void> {
    await c.k(['apply', '-f', '-'], { stdin: deployment(name, { namespace }) });
    await eventually(async () => (await names(['get', 'rs', '-n', namespace, '-l', `app=${name}`])).length === 1, { ...slow, what: `${name} ReplicaSet` });
    await eventually(async () => (await names(['get', 'pods', '-n', namespace, '-l', `app=${name}`])).length === 2, { ...slow, what: `${name} pods` });
  }

  test('kubectl delete deployment removes its ReplicaSets and pods', async () => {
    await deployAndWait('gc-bg');
    const out = await c.k(['delete', 'deployment', 'gc-bg']);
    assert.match(out, /deployment.apps "gc-bg" deleted/);
    await eventually(async () => (await names(['get', 'rs,pods', '-l', 'app=gc-bg'])).length === 0, { ...slow, what: 'ReplicaSets and pods collected' });
  });

  test('--cascade=orphan keeps the ReplicaSet and pods, and strips the ReplicaSet ownerReferences', async () => {
    await deployAndWait('gc-orphan');
    await c.k(['delete', 'deployment', 'gc-orphan', '--cascade=orphan']);
    await eventually(async () => (await c.kubectl(['get', 'deployment', 'gc-orphan'])).stderr.includes('NotFound'), { ...slow, what: 'deployment gone' });
    const rs = JSON.parse(await c.k(['get', 'rs', '-l', 'app=gc-orphan', '-o', 'json']));
    assert.equal(rs.items.length, 1);
    assert.equal(rs.items[0].metadata.ownerReferences, undefined);
    const pods = JSON.parse(await c.k(['get', 'pods', '-l', 'app=gc-orphan', '-o', 'json']));
    assert.equal(pods.items.length, 2);
    for (const p of pods.items) assert.equal(p.metadata.ownerReferences[0].uid, rs.items[0].metadata.uid, 'pods keep their ReplicaSet as owner');
    await c.k(['delete', 'rs', '-l', 'app=gc-orphan']);
  });

  test('--cascade=foreground returns only after the dependents are gone', async () => {
    await deployAndWait('gc-fg');
    await c.k(['delete', 'deployment', 'gc-fg', '--cascade=foreground'], {});
    // kubectl waited for the Deployment itself; foreground deletion means its dependents went first.
    assert.deepEqual(await names(['get', 'rs,pods', '-l', 'app=gc-fg']), []);
  });

  test('kubectl delete namespace empties it, shows it Terminating meanwhile, then it disappears', async () => {
    await c.k(['create', 'namespace', 'gc-ns']);
    await deployAndWait('ns-web', 'gc-ns');
    await c.k(['apply', '-f', '-'], { stdin: service('ns-web', 'ns-web', { namespace: 'gc-ns' }) });
    // A finalizer nobody removes yet keeps the namespace observable in Terminating.
    await c.k(['create', 'configmap', 'pinned', '-n', 'gc-ns', '--from-literal=a=1']);
    await c.k(['patch', 'configmap', 'pinned', '-n', 'gc-ns', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}']);

    await c.k(['delete', 'namespace', 'gc-ns', '--wait=false']);
    const row = await c.k(['get', 'namespace', 'gc-ns', '--no-headers']);
    assert.match(row, /^gc-ns\s+Terminating\s+/);
    await eventually(async () => (await names(['get', 'deploy,rs,pods,svc', '-n', 'gc-ns'])).length === 0, { ...slow, what: 'namespace content removed' });
    const held = await eventually(async () => {
      const ns = JSON.parse(await c.k(['get', 'namespace', 'gc-ns', '-o', 'json']));
      const cond = (ns.status.conditions ?? []).find((x: { type: string }) => x.type === 'NamespaceFinalizersRemaining');
      return cond?.status === 'True' && ns;
    }, { ...slow, what: 'NamespaceFinalizersRemaining' });
    assert.equal(held.status.phase, 'Terminating');
    assert.deepEqual(held.spec.finalizers, ['kubernetes']);

    await c.k(['patch', 'configmap', 'pinned', '-n', 'gc-ns', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually(async () => (await c.kubectl(['get', 'namespace', 'gc-ns'])).stderr.includes('NotFound'), { ...slow, what: 'namespace gone' });
  });

  test('a Service selecting a 2-replica Deployment lists both pods in get endpoints and describe svc', async () => {
    await deployAndWait('ep-web');
    await c.k(['apply', '-f', '-'], { stdin: service('ep-web', 'ep-web') });
    const podIPs = await eventually(async () => {
      const pods = JSON.parse(await c.k(['get', 'pods', '-l', 'app=ep-web', '-o', 'json']));
      const ready = pods.items.filter((p: { status: { podIP?: string; conditions?: Array<{ type: string; status: string }> } }) =>
        p.status.podIP && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
      );
      return ready.length === 2 && (ready.map((p: { status: { podIP: string } }) => p.status.podIP) as string[]).sort();
    }, { ...slow, what: 'two ready pods with IPs' });
    const wanted = podIPs.map((ip) => `${ip}:8000`);

    const row = await eventually(async () => {
      const out = await c.k(['get', 'endpoints', 'ep-web', '--no-headers']);
      return wanted.every((w) => out.includes(w)) && out;
    }, { ...slow, what: 'Endpoints with both addresses' });
    assert.match(row, /^ep-web\s+\S+:8000,\S+:8000\s+/);

    const describe = await eventually(async () => {
      const out = await c.k(['describe', 'svc', 'ep-web']);
      return wanted.every((w) => out.includes(w)) && out;
    }, { ...slow, what: 'describe svc with both addresses' });
    const line = /^Endpoints:\s+(.*)$/m.exec(describe)?.[1] ?? '';
    assert.deepEqual(line.split(',').sort(), wanted);

    const slices = JSON.parse(await c.k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=ep-web', '-o', 'json']));
    assert.equal(slices.items.length, 1);
    assert.match(slices.items[0].metadata.name, /^ep-web-[a-z0-9]{5}$/);
    assert.equal(slices.items[0].metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slices.items[0].metadata.ownerReferences[0].kind, 'Service');
  });

  test('a selector matching nothing shows <none>', async () => {
    await c.k(['apply', '-f', '-'], { stdin: service('ep-none', 'nothing-has-this-label') });
    const row = await eventually(async () => {
      const r = await c.kubectl(['get', 'endpoints', 'ep-none', '--no-headers']);
      return r.code === 0 && r.stdout;
    }, { ...slow, what: 'Endpoints created for ep-none' });
    assert.match(row, /^ep-none\s+<none>\s+/);
    await eventually(async () => (await names(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=ep-none'])).length === 1, {
      ...slow,
      what: 'placeholder EndpointSlice',
    });
    const describe = await c.k(['describe', 'svc', 'ep-none']);
    // kubectl 1.32 describes from EndpointSlices: with only the controller's placeholder slice its
    // formatter yields an empty list (kubectl prints "<none>" only when there is no slice at all).
    assert.match(describe, /^Endpoints:\s*(<none>)?$/m);
  });
});
