/**
 * @module End to end: the default-scheduler inside `skiff server` with two hollow nodes of
 * 2 CPUs, driven by the real kubectl — pods get a NODE, an oversized pod waits with
 * kube's FailedScheduling reason until a bigger Node appears, nodeSelector, taints and
 * tolerations, and cordon/uncordon steer placement.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually } from './harness.js';

const pod = (name: string, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: sched-e2e}
spec:
  containers:
  - name: app
    image: registry.local/app:1
${extra}`;

const requests = (cpu: string) => `    resources:
      requests: {cpu: "${cpu}"}
`;

describe('scheduler', () => {
  let c: Cluster;
  let hollow: string[];

  /** The NODE column of `kubectl get pod -o wide` ('<none>' while unscheduled). */
  const nodeColumn = async (name: string): Promise<string> => {
    const out = await c.k(['get', 'pod', name, '-o', 'wide', '--no-headers']);
    // NAME READY STATUS RESTARTS AGE IP NODE NOMINATED-NODE READINESS-GATES
    const cols = out.trim().split(/\s+/);
    return cols[6];
  };
  const scheduledTo = (name: string, what = `${name} scheduled`) =>
    eventually(async () => {
      const n = await nodeColumn(name);
      return n !== '<none>' && n;
    }, { what, timeoutMs: 20_000 });

  before(async () => {
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '2', '--hollow-node-cpu', '2'] });
    hollow = await eventually(async () => {
      const out = await c.k(['get', 'nodes', '--no-headers']);
      const ready = out
        .trim()
        .split('\n')
        .filter((l) => /\sReady\s/.test(l))
        .map((l) => l.split(/\s+/)[0]);
      return ready.length === 2 && ready.sort();
    }, { what: 'two Ready hollow nodes', timeoutMs: 30_000 });
  });
  after(async () => {
    await c?.stop();
  });

  test('pods are scheduled onto the hollow nodes (NODE column)', async () => {
    for (const n of ['sched-a', 'sched-b', 'sched-c']) await c.k(['apply', '-f', c.writeFile(`${n}.yaml`, pod(n, requests('100m')))]);
    for (const n of ['sched-a', 'sched-b', 'sched-c']) assert.ok(hollow.includes(await scheduledTo(n)));
    const wide = await c.k(['get', 'pods', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
    const scheduled = await eventually(async () => {
      const out = await c.k(['get', 'events', '-o', 'jsonpath={range .items[?(@.involvedObject.name=="sched-a")]}{.reason}|{.source.component}|{.message}{"\\n"}{end}']);
      return out.split('\n').find((l) => l.startsWith('Scheduled|'));
    }, { what: 'Scheduled event' });
    assert.match(scheduled, new RegExp(`^Scheduled\\|default-scheduler\\|Successfully assigned default/sched-a to (${hollow.join('|')})$`));
  });

  test('a pod asking for 10 CPUs stays Pending with FailedScheduling, and runs once a big node joins', async () => {
    await c.k(['apply', '-f', c.writeFile('huge.yaml', pod('huge', requests('10')))]);
    const message =
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..';
    const describe = await eventually(async () => {
      const out = await c.k(['describe', 'pod', 'huge']);
      return out.includes('FailedScheduling') && out;
    }, { what: 'FailedScheduling in describe', timeoutMs: 20_000 });
    assert.match(describe, /^Status:\s+Pending$/m);
    assert.match(describe, /^Node:\s+<none>$/m);
    assert.match(describe, /^\s+Warning\s+FailedScheduling\s+.*\s+default-scheduler\s+0\/2 nodes are available/m);
    assert.ok(describe.includes(message), describe);
    assert.match(describe, /^\s+PodScheduled\s+False\s*$/m);
    assert.equal(await c.k(['get', 'pod', 'huge', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}']), 'Unschedulable');

    // The hollow node agent manages only its own nodes; this one is a bare Node object.
    const bigNode = `apiVersion: v1
kind: Node
metadata:
  name: big-node
  labels: {kubernetes.io/hostname: big-node}
status:
  capacity: {cpu: "16", memory: 64Gi, pods: "110"}
  allocatable: {cpu: "16", memory: 64Gi, pods: "110"}
  conditions:
  - type: Ready
    status: "True"
    reason: KubeletReady
    message: added by hand
`;
    await c.k(['apply', '-f', c.writeFile('big-node.yaml', bigNode)]);
    assert.equal(await scheduledTo('huge'), 'big-node');
    // Out of the way for the next tests: pods on it stay, but new pods must use the hollow nodes.
    await c.k(['delete', 'pod', 'huge', '--grace-period=0', '--force']);
    await c.k(['delete', 'node', 'big-node']);
  });

  test('nodeSelector picks the labelled node', async () => {
    const target = hollow[1];
    await c.k(['label', 'node', target, 'disk=ssd']);
    await c.k(['apply', '-f', c.writeFile('ssd.yaml', pod('ssd', '  nodeSelector: {disk: ssd}\n'))]);
    assert.equal(await scheduledTo('ssd'), target);
    await c.k(['apply', '-f', c.writeFile('nvme.yaml', pod('nvme', '  nodeSelector: {disk: nvme}\n'))]);
    const reason = await eventually(
      async () => (await c.k(['get', 'pod', 'nvme', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}'])) || undefined,
      { what: 'nvme unschedulable' },
    );
    assert.equal(reason, "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..");
  });

  test('taints keep pods off unless tolerated; removing the taint lets the waiting pod in', async () => {
    for (const n of hollow) await c.k(['taint', 'nodes', n, 'dedicated=infra:NoSchedule']);
    await c.k(['apply', '-f', c.writeFile('untolerant.yaml', pod('untolerant'))]);
    const reason = await eventually(
      async () => (await c.k(['get', 'pod', 'untolerant', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}'])) || undefined,
      { what: 'untolerant unschedulable' },
    );
    assert.equal(reason, '0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: infra}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..');

    const tolerations = `  tolerations:
  - {key: dedicated, operator: Equal, value: infra, effect: NoSchedule}
`;
    await c.k(['apply', '-f', c.writeFile('tolerant.yaml', pod('tolerant', tolerations))]);
    assert.ok(hollow.includes(await scheduledTo('tolerant')));

    await c.k(['taint', 'nodes', hollow[0], 'dedicated=infra:NoSchedule-']);
    assert.equal(await scheduledTo('untolerant', 'untolerant scheduled after the taint is removed'), hollow[0]);
    await c.k(['taint', 'nodes', hollow[1], 'dedicated=infra:NoSchedule-']);
  });

  test('kubectl cordon keeps new pods off a node; uncordon lets them back', async () => {
    const [cordoned, open] = hollow;
    await c.k(['cordon', cordoned]);
    assert.match(await c.k(['get', 'node', cordoned, '--no-headers']), /Ready,SchedulingDisabled/);
    for (let i = 0; i < 4; i++) await c.k(['apply', '-f', c.writeFile(`cordon-${i}.yaml`, pod(`cordon-${i}`, requests('50m')))]);
    for (let i = 0; i < 4; i++) assert.equal(await scheduledTo(`cordon-${i}`), open);
    // A pod that may only use the cordoned node waits, and goes there once it is uncordoned.
    await c.k(['label', 'node', cordoned, 'pin=cordoned']);
    await c.k(['apply', '-f', c.writeFile('pinned.yaml', pod('pinned', '  nodeSelector: {pin: cordoned}\n'))]);
    const reason = await eventually(
      async () => (await c.k(['get', 'pod', 'pinned', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}'])) || undefined,
      { what: 'pinned unschedulable' },
    );
    assert.equal(
      reason,
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..",
    );
    await c.k(['uncordon', cordoned]);
    assert.equal(await scheduledTo('pinned', 'pinned scheduled after uncordon'), cordoned);
  });
});
