/**
 * @module End to end with the real kubectl and three hollow nodes: nodes as kubectl shows
 * them (`get nodes -o wide`, `describe node`), and a node that dies — stopped through
 * its `skiff.dev/hollow-stop=true` label — going NotReady/Unknown, tainted unreachable,
 * its pods evicted after their 2 s toleration and recreated on the healthy nodes; then
 * coming back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually } from './harness.js';

const survivor = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: survivor
spec:
  replicas: 3
  selector:
    matchLabels:
      app: survivor
  template:
    metadata:
      labels:
        app: survivor
    spec:
      tolerations:
      - key: node.kubernetes.io/unreachable
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 2
      - key: node.kubernetes.io/not-ready
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 2
      containers:
      - name: nginx
        image: nginx:1.25
`;

interface PodRow {
  name: string;
  node: string;
  phase: string;
  ready: boolean;
  deleting: boolean;
}

describe('nodes', () => {
  let c: Cluster;

  before(async () => {
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '3', '--node-monitor-grace-period', '3'], timeoutMs: 60_000 });
  });

  after(async () => {
    await c?.stop();
  });

  async function pods(): Promise<PodRow[]> {
    const list = JSON.parse(await c.k(['get', 'pods', '-l', 'app=survivor', '-o', 'json']));
    return list.items.map((p: Record<string, any>) => ({
      name: p.metadata.name,
      node: p.spec.nodeName ?? '',
      phase: p.status?.phase ?? '',
      ready: (p.status?.conditions ?? []).some((x: Record<string, string>) => x.type === 'Ready' && x.status === 'True'),
      deleting: !!p.metadata.deletionTimestamp,
    }));
  }

  test('kubectl get nodes -o wide shows three Ready hollow nodes', async () => {
    const out = await eventually(async () => {
      const o = await c.k(['get', 'nodes', '-o', 'wide']);
      return (o.match(/\bReady\b/g) ?? []).length === 3 && o;
    }, { what: '3 Ready nodes', timeoutMs: 20_000 });
    const lines = out.trim().split('\n');
    assert.match(lines[0], /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/);
    assert.equal(lines.length, 4);
    for (let i = 0; i < 3; i++) {
      const cols = lines[i + 1].split(/\s{2,}/);
      assert.equal(cols[0], `hollow-node-${i}`);
      assert.equal(cols[1], 'Ready');
      assert.equal(cols[2], '<none>');
      assert.equal(cols[4], 'v1.32.0+skiff');
      assert.equal(cols[5], `10.42.${i}.1`);
      assert.equal(cols[6], '<none>');
      assert.equal(cols.at(-1), 'hollow://1.0');
    }
  });

  test('kubectl describe node shows labels, lease, conditions, capacity and system info', async () => {
    const out = await c.k(['describe', 'node', 'hollow-node-1']);
    assert.match(out, /^Name:\s+hollow-node-1$/m);
    assert.match(out, /^Roles:\s+<none>$/m);
    assert.match(out, /kubernetes\.io\/hostname=hollow-node-1/);
    assert.match(out, /node\.kubernetes\.io\/instance-type=hollow/);
    assert.match(out, /^Taints:\s+<none>$/m);
    assert.match(out, /^Unschedulable:\s+false$/m);
    assert.match(out, /^Lease:\n\s+HolderIdentity:\s+hollow-node-1\n\s+AcquireTime:\s+<unset>\n\s+RenewTime:\s+\S.*$/m);
    assert.match(out, /^\s+MemoryPressure\s+False\s+.*KubeletHasSufficientMemory\s+kubelet has sufficient memory available$/m);
    assert.match(out, /^\s+Ready\s+True\s+.*KubeletReady\s+kubelet is posting ready status$/m);
    assert.match(out, /^\s+InternalIP:\s+10\.42\.1\.1$/m);
    assert.match(out, /^Capacity:\n\s+cpu:\s+4\n/m);
    assert.match(out, /^\s+memory:\s+16Gi$/m);
    assert.match(out, /^\s+pods:\s+110$/m);
    assert.match(out, /^\s+Container Runtime Version:\s+hollow:\/\/1\.0$/m);
    assert.match(out, /^\s+Kubelet Version:\s+v1\.32\.0\+skiff$/m);
    assert.match(out, /^PodCIDR:\s+10\.42\.1\.0\/24$/m);
  });

  test('a node that stops heartbeating goes NotReady, is tainted, and its pods are recreated elsewhere', async () => {
    await c.k(['apply', '-f', '-'], { stdin: survivor });
    await c.k(['rollout', 'status', 'deployment/survivor', '--timeout=60s']);
    const before = await pods();
    assert.equal(before.length, 3);
    const victim = before[0].node;
    assert.ok(victim.startsWith('hollow-node-'));
    const onVictim = before.filter((p) => p.node === victim).map((p) => p.name);

    await c.k(['label', 'node', victim, 'skiff.dev/hollow-stop=true']);

    await eventually(async () => {
      const row = (await c.k(['get', 'node', victim, '--no-headers'])).trim().split(/\s+/);
      return row[1] === 'NotReady';
    }, { what: `${victim} NotReady`, timeoutMs: 20_000 });
    const node = JSON.parse(await c.k(['get', 'node', victim, '-o', 'json']));
    const ready = node.status.conditions.find((x: Record<string, string>) => x.type === 'Ready');
    assert.equal(ready.status, 'Unknown');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    await eventually(async () => {
      const d = await c.k(['describe', 'node', victim]);
      return /^Taints:\s+node\.kubernetes\.io\/unreachable:NoExecute\n\s+node\.kubernetes\.io\/unreachable:NoSchedule$/m.test(d);
    }, { what: 'unreachable taints', timeoutMs: 10_000 });

    const after = await eventually(async () => {
      const now = await pods();
      const live = now.filter((p) => !p.deleting);
      return live.length === 3 && live.every((p) => p.node !== victim && p.phase === 'Running' && p.ready) && !now.some((p) => onVictim.includes(p.name)) && live;
    }, { what: 'pods recreated on healthy nodes', timeoutMs: 30_000 });
    assert.ok(after.every((p) => !onVictim.includes(p.name)), 'the evicted pods are gone');
    await c.k(['rollout', 'status', 'deployment/survivor', '--timeout=30s']);

    const events = JSON.parse(await c.k(['get', 'events', '-o', 'json'])).items as Array<Record<string, any>>;
    for (const name of onVictim)
      assert.ok(
        events.some((e) => e.reason === 'TaintManagerEviction' && e.message === `Marking for deletion Pod default/${name}`),
        `eviction event for ${name}`,
      );
    assert.ok(events.some((e) => e.reason === 'NodeNotReady' && e.involvedObject?.name === victim && e.message === `Node ${victim} status is now: NodeNotReady`));
    const describe = await c.k(['describe', 'node', victim]);
    assert.match(describe, /NodeNotReady\s+.*Node .* status is now: NodeNotReady/);

    // The node comes back: Ready again, taints lifted, schedulable.
    await c.k(['label', 'node', victim, 'skiff.dev/hollow-stop-']);
    await eventually(async () => {
      const n = JSON.parse(await c.k(['get', 'node', victim, '-o', 'json']));
      const r = n.status.conditions.find((x: Record<string, string>) => x.type === 'Ready');
      return r.status === 'True' && !(n.spec.taints ?? []).length;
    }, { what: `${victim} Ready again`, timeoutMs: 20_000 });
  });
});
