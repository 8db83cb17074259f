/**
 * @module End to end: a pod's life through the API alone (no node agent yet) — created
 * Pending, bound to a node through pods/binding, its status written through
 * pods/status, evicted through pods/eviction, gracefully and forcibly deleted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';

const pod = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: demo}
spec:
  containers:
  - name: app
    image: registry.local/app:1
    ports:
    - containerPort: 8000
`;

describe('pod subresources', () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start();
  });
  after(async () => {
    await c?.stop();
  });

  test('a new pod is Pending with kube-apiserver defaults', async () => {
    await c.k(['apply', '-f', c.writeFile('p1.yaml', pod('p1'))]);
    const table = await c.k(['get', 'pod', 'p1']);
    assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\np1\s+0\/1\s+Pending\s+0\s+\d+s/m);
    const fields = await c.k(['get', 'pod', 'p1', '-o', 'jsonpath={.status.phase} {.status.qosClass} {.spec.dnsPolicy} {.spec.serviceAccountName} {.spec.terminationGracePeriodSeconds}']);
    assert.equal(fields, 'Pending BestEffort ClusterFirst default 30');
  });

  test('pods/binding assigns a node once; a second binding is a conflict', async () => {
    const binding = c.writeFile('binding.json', JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } }));
    await c.k(['create', '--raw', '/api/v1/namespaces/default/pods/p1/binding', '-f', binding]);
    assert.equal(await c.k(['get', 'pod', 'p1', '-o', 'jsonpath={.spec.nodeName} {.status.conditions[?(@.type=="PodScheduled")].status}']), 'node-a True');
    const again = await c.kubectl(['create', '--raw', '/api/v1/namespaces/default/pods/p1/binding', '-f', binding]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Operation cannot be fulfilled on pods\/binding "p1": pod p1 is already assigned to node "node-a"/);
    // The main resource refuses to move a bound pod.
    const move = await c.kubectl(['patch', 'pod', 'p1', '--type=merge', '-p', '{"spec":{"nodeName":"node-b"}}']);
    assert.equal(move.code, 1);
    assert.match(move.stderr, /Forbidden: pod updates may not change fields other than/);
  });

  test('pods/status changes status only, and the table follows it', async () => {
    const status = {
      status: {
        phase: 'Running',
        podIP: '10.42.0.7',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'registry.local/app:1', imageID: '', started: true, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
      },
      spec: { nodeName: 'ignored' },
    };
    await c.k(['patch', 'pod', 'p1', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    const wide = await c.k(['get', 'pod', 'p1', '-o', 'wide']);
    assert.match(wide, /^p1\s+1\/1\s+Running\s+0\s+\S+\s+10\.42\.0\.7\s+node-a\s+<none>\s+<none>$/m);
    // Field selectors kube supports on pods.
    assert.equal(await c.k(['get', 'pods', '--field-selector', 'spec.nodeName=node-a,status.phase=Running', '-o', 'name']), 'pod/p1\n');
    assert.equal(await c.k(['get', 'pods', '--field-selector', 'status.phase!=Running', '-o', 'name']), '');
    const bad = await c.kubectl(['get', 'pods', '--field-selector', 'spec.image=x']);
    assert.match(bad.stderr, /field label not supported: spec.image/);
  });

  test('deleting a bound pod is graceful (Terminating) until forced', async () => {
    const del = await c.k(['delete', 'pod', 'p1', '--wait=false']);
    assert.match(del, /pod "p1" deleted/);
    const table = await c.k(['get', 'pod', 'p1']);
    assert.match(table, /^p1\s+1\/1\s+Terminating\s+0/m);
    assert.equal(await c.k(['get', 'pod', 'p1', '-o', 'jsonpath={.metadata.deletionGracePeriodSeconds}']), '30');
    await c.k(['delete', 'pod', 'p1', '--force', '--grace-period=0']);
    assert.equal((await c.kubectl(['get', 'pod', 'p1'])).code, 1);
  });

  test('pods/eviction deletes the pod', async () => {
    await c.k(['apply', '-f', c.writeFile('p2.yaml', pod('p2'))]);
    const eviction = c.writeFile('eviction.json', JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p2', namespace: 'default' } }));
    await c.k(['create', '--raw', '/api/v1/namespaces/default/pods/p2/eviction', '-f', eviction]);
    const gone = await c.kubectl(['get', 'pod', 'p2']);
    assert.equal(gone.stderr.trim(), 'Error from server (NotFound): pods "p2" not found');
  });
});
