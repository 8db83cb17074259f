/**
 * @module The scheduler against a real API server in process (LoopbackClient): pods get
 * bound, unschedulable pods get kube's condition and event and recover when a node
 * appears, selectors, taints and cordons are honoured, failed bindings are retried.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KObject } from '../api/types.js';
import { LoopbackClient } from '../apiserver/loopback.js';
import { startServer, type RunningServer } from '../apiserver/server.js';
import { EventRecorder, InformerFactory, Resources, type Client } from '../client/index.js';
import { startScheduler, type RunningScheduler } from './index.js';
import { makeNode, makePod } from './test-util.js';
import { eventually as poll } from '../client/testing.js';

const eventually = <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10000) =>
  poll(fn, what, timeoutMs, 20);

/** A node as the API stores it: no uid/resourceVersion of ours. */
function apiNode(name: string, spec: Parameters<typeof makeNode>[1] = {}): KObject {
  const n = makeNode(name, spec);
  delete n.metadata!.uid;
  delete n.metadata!.resourceVersion;
  return n;
}

function apiPod(name: string, spec: Parameters<typeof makePod>[1] = {}): KObject {
  const p = makePod(name, spec);
  delete p.metadata!.uid;
  delete p.metadata!.resourceVersion;
  delete p.metadata!.creationTimestamp;
  delete p.status;
  // Priority comes from priorityClassName on the API; only an explicit test value is kept.
  if (spec.priority === undefined) delete p.spec.priority;
  return p;
}

describe('scheduler in process', () => {
  let dir: string;
  let server: RunningServer;
  let client: Client;
  let abort: AbortController;
  let sched: RunningScheduler;
  let bindFailures = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-sched-'));
    server = await startServer({ dataDir: dir, port: 0, log: () => {} });
    const loopback = new LoopbackClient(server.rest, 'kube-scheduler');
    // The scheduler's client fails bindings on request, to exercise the forget-and-retry path.
    const flaky: Client = Object.create(loopback);
    flaky.createSubresource = async (...args: Parameters<Client['createSubresource']>) => {
      if (bindFailures > 0) {
        bindFailures--;
        throw new Error('injected binding failure');
      }
      return loopback.createSubresource(...args);
    };
    client = loopback;
    abort = new AbortController();
    const informers = new InformerFactory(flaky);
    sched = startScheduler({
      client: flaky,
      informers,
      signal: abort.signal,
      recorder: new EventRecorder(flaky, { component: 'default-scheduler' }),
      tuning: { queue: { initialBackoffMs: 50, maxBackoffMs: 200 } },
    });
    for (const n of ['node-1', 'node-2', 'node-3']) await client.create(Resources.nodes, undefined, apiNode(n, { cpu: '2', memory: '4Gi' }));
  });

  after(async () => {
    abort.abort();
    await sched?.stop();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const nodeOf = async (name: string) => (await client.get(Resources.pods, 'default', name)).spec?.nodeName as string | undefined;
  const eventsFor = async (name: string) =>
    ((await client.list(Resources.events, 'default')).items as KObject[]).filter((e) => e.involvedObject?.name === name);

  test('pending pods are bound, with a Scheduled event and PodScheduled=True', async () => {
    for (let i = 0; i < 6; i++) await client.create(Resources.pods, 'default', apiPod(`web-${i}`, { cpu: '500m' }));
    const nodes = await eventually(async () => {
      const got = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => nodeOf(`web-${i}`)));
      return got.every(Boolean) && got;
    }, 'all pods bound');
    // LeastAllocated spreads equal pods over equal nodes: two per node.
    const perNode = new Map<string, number>();
    for (const n of nodes as string[]) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    assert.deepEqual([...perNode.values()].sort(), [2, 2, 2]);
    const pod = await client.get(Resources.pods, 'default', 'web-0');
    assert.equal(pod.status.conditions.find((c: KObject) => c.type === 'PodScheduled')?.status, 'True');
    const ev = await eventually(async () => (await eventsFor('web-0')).find((e) => e.reason === 'Scheduled'), 'Scheduled event');
    assert.equal(ev.message, `Successfully assigned default/web-0 to ${pod.spec.nodeName}`);
    assert.equal(ev.source.component, 'default-scheduler');
    assert.equal(ev.type, 'Normal');
    assert.equal(sched.metrics.scheduleAttempts.scheduled >= 6, true);
  });

  test('a pod too big for every node stays Pending with kube’s reason, then fits a new node', async () => {
    await client.create(Resources.pods, 'default', apiPod('huge', { cpu: '10' }));
    const message =
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..';
    const cond = await eventually(async () => {
      const p = await client.get(Resources.pods, 'default', 'huge');
      return p.status?.conditions?.find((c: KObject) => c.type === 'PodScheduled' && c.status === 'False');
    }, 'PodScheduled=False');
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, message);
    assert.ok(cond.lastTransitionTime);
    // As kube's typed encoding writes it.
    assert.equal(cond.lastProbeTime, null);
    const ev = await eventually(async () => (await eventsFor('huge')).find((e) => e.reason === 'FailedScheduling'), 'FailedScheduling event');
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, message);
    assert.equal(await nodeOf('huge'), undefined);
    assert.ok(sched.metrics.scheduleAttempts.unschedulable >= 1);

    await client.create(Resources.nodes, undefined, apiNode('big-node', { cpu: '16', memory: '64Gi' }));
    assert.equal(await eventually(() => nodeOf('huge'), 'huge bound'), 'big-node');
  });

  test('nodeSelector, taints and cordons are honoured', async () => {
    await client.patch(Resources.nodes, undefined, 'node-2', 'merge', { metadata: { labels: { disk: 'ssd' } } });
    await client.create(Resources.pods, 'default', apiPod('ssd-pod', { spec: { nodeSelector: { disk: 'ssd' } } }));
    assert.equal(await eventually(() => nodeOf('ssd-pod'), 'ssd-pod bound'), 'node-2');

    // Taint every node but node-3 and cordon node-3: the next pod has nowhere to go.
    for (const n of ['node-1', 'node-2', 'big-node']) {
      await client.patch(Resources.nodes, undefined, n, 'merge', { spec: { taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }] } });
    }
    await client.patch(Resources.nodes, undefined, 'node-3', 'merge', { spec: { unschedulable: true } });
    await client.create(Resources.pods, 'default', apiPod('plain'));
    const cond = await eventually(async () => {
      const p = await client.get(Resources.pods, 'default', 'plain');
      return p.status?.conditions?.find((c: KObject) => c.type === 'PodScheduled' && c.status === 'False');
    }, 'plain unschedulable');
    assert.equal(
      cond.message,
      '0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) had untolerated taint {dedicated: infra}. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling..',
    );

    // A tolerating pod goes to a tainted node, never to the cordoned one.
    await client.create(Resources.pods, 'default', apiPod('tolerant', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }] } }));
    const tolerantNode = await eventually(() => nodeOf('tolerant'), 'tolerant bound');
    assert.notEqual(tolerantNode, 'node-3');

    // Uncordoning is a node update that sends the waiting pod back to the active queue.
    await client.patch(Resources.nodes, undefined, 'node-3', 'merge', { spec: { unschedulable: false } });
    assert.equal(await eventually(() => nodeOf('plain'), 'plain bound after uncordon'), 'node-3');
  });

  test('a failed binding is forgotten and retried', async () => {
    for (const n of ['node-1', 'node-2', 'big-node']) await client.patch(Resources.nodes, undefined, n, 'merge', { spec: { taints: null } });
    const before = sched.metrics.bindings.failed;
    bindFailures = 1;
    await client.create(Resources.pods, 'default', apiPod('retry-me', { cpu: '100m' }));
    assert.ok(await eventually(() => nodeOf('retry-me'), 'retry-me bound'));
    assert.equal(sched.metrics.bindings.failed, before + 1);
    const ev = await eventually(async () => (await eventsFor('retry-me')).find((e) => e.reason === 'FailedScheduling'), 'binding failure event');
    assert.equal(ev.message, 'injected binding failure');
    // The cache holds the pod once, confirmed.
    assert.equal(sched.scheduler.cache.isAssumed('default/retry-me'), false);
    assert.equal(sched.scheduler.cache.hasPod('default/retry-me'), true);
  });

  test('deleting a pod frees its node for a waiting pod', async () => {
    await client.create(Resources.nodes, undefined, apiNode('tiny', { cpu: '1', labels: { pool: 'tiny' } }));
    await client.create(Resources.pods, 'default', apiPod('first', { cpu: '800m', spec: { nodeSelector: { pool: 'tiny' } } }));
    assert.equal(await eventually(() => nodeOf('first'), 'first bound'), 'tiny');
    await client.create(Resources.pods, 'default', apiPod('second', { cpu: '800m', spec: { nodeSelector: { pool: 'tiny' } } }));
    await eventually(async () => {
      const p = await client.get(Resources.pods, 'default', 'second');
      return p.status?.conditions?.some((c: KObject) => c.type === 'PodScheduled' && c.status === 'False');
    }, 'second unschedulable');
    // Bound pods delete gracefully; a zero grace period removes the object at once.
    await client.delete(Resources.pods, 'default', 'first', { gracePeriodSeconds: 0 });
    assert.equal(await eventually(() => nodeOf('second'), 'second bound'), 'tiny');
  });

  test('a higher-priority pod preempts a lower-priority one', async () => {
    await client.create(Resources.nodes, undefined, apiNode('solo', { cpu: '1', labels: { pool: 'solo' } }));
    await client.create(Resources.pods, 'default', apiPod('low', { cpu: '800m', priority: 0, spec: { nodeSelector: { pool: 'solo' } } }));
    assert.equal(await eventually(() => nodeOf('low'), 'low bound'), 'solo');
    // The built-in system-cluster-critical class gives the pod priority 2000000000.
    await client.create(Resources.pods, 'kube-system', apiPod('vip', { cpu: '800m', namespace: 'kube-system', spec: { nodeSelector: { pool: 'solo' }, priorityClassName: 'system-cluster-critical' } }));
    const victim = await eventually(async () => {
      const p = await client.get(Resources.pods, 'default', 'low');
      return p.metadata?.deletionTimestamp ? p : undefined;
    }, 'low being deleted');
    assert.equal(victim.status.conditions.find((c: KObject) => c.type === 'DisruptionTarget')?.reason, 'PreemptionByScheduler');
    const vip = await client.get(Resources.pods, 'kube-system', 'vip');
    assert.equal(vip.status?.nominatedNodeName, 'solo');
    await client.delete(Resources.pods, 'default', 'low', { gracePeriodSeconds: 0 });
    assert.equal(await eventually(async () => (await client.get(Resources.pods, 'kube-system', 'vip')).spec?.nodeName, 'vip bound'), 'solo');
  });
});
