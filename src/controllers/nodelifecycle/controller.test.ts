/** @module Node lifecycle decisions over seeded caches and a recording client, with an injected clock. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { EventRecorder, InformerFactory, type Client, type Gvr } from '../../client/index.js';
import { NodeLifecycleController } from './controller.js';
import { matchingTolerations, minTolerationSeconds, reconcileTaints, toleratesTaint, wantedTaints } from './taints.js';

interface Call {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
  body?: unknown;
  opts?: unknown;
}

/** A Client that records writes and answers gets from a fixed set of objects. */
class RecordingClient implements Client {
  calls: Call[] = [];
  objects = new Map<string, KObject>();
  private rv = 100;

  get(r: Gvr, namespace: string | undefined, name: string): Promise<KObject> {
    const o = this.objects.get(`${r.resource}/${namespace ?? ''}/${name}`);
    if (!o) return Promise.reject(ApiError.notFound(r.resource, r.group, name));
    return Promise.resolve(structuredClone(o));
  }
  list(): Promise<KObject> {
    return Promise.resolve({ metadata: { resourceVersion: '1' }, items: [] });
  }
  watch(): Promise<{ stop(): void }> {
    return Promise.resolve({ stop() {} });
  }
  create(r: Gvr, namespace: string | undefined, obj: KObject): Promise<KObject> {
    this.calls.push({ verb: 'create', resource: r.resource, namespace, name: obj.metadata?.name, body: obj });
    return Promise.resolve(structuredClone(obj));
  }
  update(r: Gvr, namespace: string | undefined, obj: KObject, opts?: unknown): Promise<KObject> {
    this.calls.push({ verb: 'update', resource: r.resource, namespace, name: obj.metadata?.name, body: structuredClone(obj), opts });
    const out = structuredClone(obj);
    out.metadata!.resourceVersion = String(++this.rv);
    return Promise.resolve(out);
  }
  patch(r: Gvr, namespace: string | undefined, name: string, _t: string, patch: unknown, opts?: unknown): Promise<KObject> {
    this.calls.push({ verb: 'patch', resource: r.resource, namespace, name, body: patch, opts });
    return Promise.resolve({ metadata: { name, namespace } });
  }
  delete(r: Gvr, namespace: string | undefined, name: string, opts?: unknown): Promise<void> {
    this.calls.push({ verb: 'delete', resource: r.resource, namespace, name, opts });
    return Promise.resolve();
  }
  createSubresource(): Promise<KObject> {
    return Promise.reject(new Error('unused'));
  }
  getScale(): Promise<KObject> {
    return Promise.reject(new Error('unused'));
  }
  updateScale(): Promise<KObject> {
    return Promise.reject(new Error('unused'));
  }
  writes(verb: string, resource: string): Call[] {
    return this.calls.filter((c) => c.verb === verb && c.resource === resource);
  }
}

const t0 = Date.parse('2025-03-01T12:00:00Z');

function readyNode(name: string, extra: { taints?: KObject[]; ready?: string } = {}): KObject {
  const ts = new Date(t0).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-${name}`, resourceVersion: '10', creationTimestamp: ts },
    spec: extra.taints ? { taints: extra.taints } : {},
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: ts, lastTransitionTime: ts },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', lastHeartbeatTime: ts, lastTransitionTime: ts },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', lastHeartbeatTime: ts, lastTransitionTime: ts },
        { type: 'Ready', status: extra.ready ?? 'True', reason: 'KubeletReady', lastHeartbeatTime: ts, lastTransitionTime: ts },
      ],
    },
  };
}

let leaseVersion = 5;
function lease(name: string, renew: string): KObject {
  const resourceVersion = String(leaseVersion++);
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease', resourceVersion }, spec: { holderIdentity: name, renewTime: renew } };
}

function boundPod(name: string, node: string, extra: { tolerations?: KObject[]; deleting?: boolean; created?: number } = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      resourceVersion: '20',
      creationTimestamp: new Date(extra.created ?? t0 - 60_000).toISOString(),
      ...(extra.deleting ? { deletionTimestamp: new Date(t0 + 30_000).toISOString(), deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx' }], tolerations: extra.tolerations ?? [] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-03-01T11:00:00Z' }] },
  };
}

function setup(grace = 40) {
  let now = t0;
  const client = new RecordingClient();
  const informers = new InformerFactory(client);
  const clock = () => new Date(now);
  const controller = new NodeLifecycleController({
    client,
    informers,
    now: clock,
    recorder: new EventRecorder(client, { component: 'node-controller', now: clock }),
    evictionRecorder: new EventRecorder(client, { component: 'taint-eviction-controller', now: clock }),
    gracePeriodSeconds: grace,
  });
  const events = async () => {
    await new Promise((r) => setImmediate(r));
    return client.writes('create', 'events').map((c) => c.body as KObject);
  };
  return {
    client,
    controller,
    advance: (ms: number) => (now += ms),
    events,
  };
}

describe('node health', () => {
  test('a node whose lease stops renewing goes Unknown after the grace period, tainted unreachable, its pods NotReady', async () => {
    const { client, controller, advance, events } = setup(40);
    controller.leases.seed([lease('n1', '2025-03-01T12:00:00.000000Z')]);
    controller.nodes.seed([readyNode('n1')]);
    controller.pods.seed([boundPod('web', 'n1')]);

    await controller.syncNode('n1');
    assert.equal(client.writes('update', 'nodes').length, 0, 'a fresh node is left alone');

    advance(39_000);
    controller.leases.seed([lease('n1', '2025-03-01T12:00:39.000000Z')]);
    advance(39_000);
    await controller.syncNode('n1');
    assert.equal(client.writes('update', 'nodes').length, 0, 'a renewed lease keeps the node healthy');

    advance(2_000);
    await controller.syncNode('n1');
    const statusWrite = client.writes('update', 'nodes').find((c) => (c.opts as KObject)?.subresource === 'status')!;
    assert.ok(statusWrite, 'conditions written');
    const conds = (statusWrite.body as KObject).status.conditions as KObject[];
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const c = conds.find((x) => x.type === type)!;
      assert.equal(c.status, 'Unknown', type);
      assert.equal(c.reason, 'NodeStatusUnknown');
      assert.equal(c.message, 'Kubelet stopped posting node status.');
    }
    assert.equal(conds.find((x) => x.type === 'Ready')!.lastHeartbeatTime, '2025-03-01T12:00:00Z', 'heartbeat time kept');
    const taintWrite = client.writes('update', 'nodes').find((c) => !(c.opts as KObject)?.subresource)!;
    const taints = (taintWrite.body as KObject).spec.taints as KObject[];
    assert.deepEqual(
      taints.map((t) => `${t.key}:${t.effect}`).sort(),
      ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule'],
    );
    assert.ok(taints.find((t) => t.effect === 'NoExecute')!.timeAdded, 'NoExecute taints carry timeAdded');
    const podWrite = client.writes('update', 'pods')[0];
    assert.equal((podWrite.body as KObject).status.conditions.find((c: KObject) => c.type === 'Ready').status, 'False');
    const evs = await events();
    assert.ok(evs.some((e) => e.reason === 'NodeNotReady' && e.message === 'Node n1 status is now: NodeNotReady' && e.involvedObject.kind === 'Node'));
    assert.ok(evs.some((e) => e.reason === 'NodeNotReady' && e.message === 'Node is not ready' && e.involvedObject.kind === 'Pod' && e.type === 'Warning'));
  });

  test('monitorNodeHealth queues only overdue nodes', async () => {
    const { controller, advance } = setup(40);
    controller.nodes.seed([readyNode('a'), readyNode('b')]);
    controller.leases.seed([lease('a', 'r1'), lease('b', 'r1')]);
    while (controller.nodeQueue.len() > 0) controller.nodeQueue.done((await controller.nodeQueue.get())!);
    advance(30_000);
    controller.leases.seed([lease('b', 'r2')]);
    advance(15_000);
    controller.monitorNodeHealth();
    assert.equal(controller.nodeQueue.len(), 1);
    assert.equal(await controller.nodeQueue.get(), 'a');
  });

  test('Ready=False gets not-ready taints; Ready=True removes the managed taints and keeps others', async () => {
    const { client, controller } = setup();
    controller.nodes.seed([readyNode('n1', { ready: 'False' })]);
    await controller.syncNode('n1');
    const taints = (client.writes('update', 'nodes').at(-1)!.body as KObject).spec.taints as KObject[];
    assert.deepEqual(taints.map((t) => `${t.key}:${t.effect}`).sort(), ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);

    const { client: c2, controller: k2 } = setup();
    k2.nodes.seed([
      readyNode('n2', {
        taints: [
          { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2025-03-01T11:00:00Z' },
          { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        ],
      }),
    ]);
    await k2.syncNode('n2');
    const after = (c2.writes('update', 'nodes').at(-1)!.body as KObject).spec.taints as KObject[];
    assert.deepEqual(after, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
  });
});

describe('taint-based eviction', () => {
  const unreachable = (added: number) => [
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: new Date(added).toISOString() },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
  ];

  test('pods that do not tolerate a NoExecute taint are deleted at once', async () => {
    const { client, controller, events } = setup();
    controller.nodes.seed([readyNode('n1', { ready: 'Unknown', taints: unreachable(t0) })]);
    controller.pods.seed([boundPod('web', 'n1')]);
    await controller.syncPod('default/web');
    const del = client.writes('delete', 'pods');
    assert.equal(del.length, 1);
    assert.equal(del[0].name, 'web');
    assert.equal((del[0].opts as KObject).gracePeriodSeconds, undefined, 'eviction is a graceful delete');
    const patch = client.writes('patch', 'pods')[0].body as KObject;
    assert.equal(patch.status.conditions.find((c: KObject) => c.type === 'DisruptionTarget').reason, 'DeletionByTaintManager');
    const evs = await events();
    const ev = evs.find((e) => e.reason === 'TaintManagerEviction')!;
    assert.equal(ev.message, 'Marking for deletion Pod default/web');
    assert.equal(ev.source.component, 'taint-eviction-controller');
  });

  test('pods tolerating the taint for tolerationSeconds are deleted when it runs out, not before', async () => {
    const { client, controller, advance } = setup();
    const tol = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }];
    controller.nodes.seed([readyNode('n1', { ready: 'Unknown', taints: unreachable(t0) })]);
    controller.pods.seed([boundPod('web', 'n1', { tolerations: tol })]);
    await controller.syncPod('default/web');
    assert.equal(client.writes('delete', 'pods').length, 0);
    advance(29_000);
    await controller.syncPod('default/web');
    assert.equal(client.writes('delete', 'pods').length, 0, 'still tolerated at 29 s');
    advance(1_000);
    await controller.syncPod('default/web');
    assert.equal(client.writes('delete', 'pods').length, 1, 'evicted at 30 s');
  });

  test('tolerating forever is never evicted; a removed taint cancels a pending eviction', async () => {
    const { client, controller, advance, events } = setup();
    controller.nodes.seed([readyNode('n1', { ready: 'Unknown', taints: unreachable(t0) })]);
    controller.pods.seed([
      boundPod('ds', 'n1', { tolerations: [{ operator: 'Exists', effect: 'NoExecute' }] }),
      boundPod('web', 'n1', { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] }),
    ]);
    await controller.syncPod('default/ds');
    await controller.syncPod('default/web');
    advance(10_000);
    controller.nodes.seed([{ ...readyNode('n1'), metadata: { ...readyNode('n1').metadata, resourceVersion: '11' } }]);
    await controller.syncPod('default/web');
    await controller.syncPod('default/ds');
    assert.equal(client.writes('delete', 'pods').length, 0);
    const evs = await events();
    assert.deepEqual(
      evs.filter((e) => e.reason === 'TaintManagerEviction').map((e) => e.message),
      ['Cancelling deletion of Pod default/web'],
    );
  });
});

describe('pods a dead node cannot finish', () => {
  test('a terminating pod on an Unknown node is deleted with grace 0; on a Ready node it is left to the kubelet', async () => {
    const { client, controller } = setup();
    controller.nodes.seed([readyNode('dead', { ready: 'Unknown' }), readyNode('alive')]);
    controller.pods.seed([boundPod('a', 'dead', { deleting: true }), boundPod('b', 'alive', { deleting: true })]);
    await controller.syncPod('default/a');
    await controller.syncPod('default/b');
    const del = client.writes('delete', 'pods');
    assert.deepEqual(del.map((d) => d.name), ['a']);
    assert.equal((del[0].opts as KObject).gracePeriodSeconds, 0);
    assert.deepEqual((del[0].opts as KObject).preconditions, { uid: 'uid-a' });
  });

  test('a pod bound to a node that no longer exists is failed and deleted with grace 0 after the 40 s quarantine', async () => {
    const { client, controller, advance } = setup();
    controller.nodes.seed([readyNode('other')]);
    controller.pods.seed([boundPod('lost', 'gone-node')]);
    await controller.syncPod('default/lost');
    assert.equal(client.writes('delete', 'pods').length, 0, 'quarantined first');
    advance(39_000);
    await controller.syncPod('default/lost');
    assert.equal(client.writes('delete', 'pods').length, 0, 'still quarantined at 39 s');
    advance(1_000);
    await controller.syncPod('default/lost');
    const patch = client.writes('patch', 'pods')[0].body as KObject;
    assert.equal(patch.status.phase, 'Failed');
    assert.equal(patch.status.conditions.find((c: KObject) => c.type === 'DisruptionTarget').message, 'PodGC: node no longer exists');
    assert.equal((client.writes('delete', 'pods')[0].opts as KObject).gracePeriodSeconds, 0);
  });

  test('a node missing only from the cache does not orphan its pods', async () => {
    const { client, controller } = setup();
    controller.nodes.seed([readyNode('other')]);
    client.objects.set('nodes//late', readyNode('late'));
    controller.pods.seed([boundPod('p', 'late')]);
    await controller.syncPod('default/p');
    assert.equal(client.writes('delete', 'pods').length, 0);
  });
});

describe('taint helpers', () => {
  test('ToleratesTaint follows operator, key, value and effect', () => {
    const taint = { key: 'k', value: 'v', effect: 'NoExecute' };
    assert.equal(toleratesTaint({ key: 'k', operator: 'Equal', value: 'v' }, taint), true);
    assert.equal(toleratesTaint({ key: 'k', value: 'w' }, taint), false);
    assert.equal(toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint), false);
    assert.equal(toleratesTaint({ operator: 'Exists' }, taint), true);
    assert.equal(toleratesTaint({ operator: 'Equal' }, taint), false);
  });

  test('the shortest tolerationSeconds wins; none means forever; an untolerated taint fails the match', () => {
    const taints = [
      { key: 'a', effect: 'NoExecute' },
      { key: 'b', effect: 'NoExecute' },
    ];
    const m = matchingTolerations(taints, [
      { key: 'a', operator: 'Exists', tolerationSeconds: 20 },
      { key: 'b', operator: 'Exists', tolerationSeconds: 5 },
    ]);
    assert.equal(m.all, true);
    assert.equal(minTolerationSeconds(m.used), 5);
    assert.equal(minTolerationSeconds(matchingTolerations(taints, [{ operator: 'Exists' }]).used), -1);
    assert.equal(matchingTolerations(taints, [{ key: 'a', operator: 'Exists' }]).all, false);
  });

  test('wanted taints follow conditions and cordoning; reconciling keeps timeAdded', () => {
    const node = readyNode('n', { ready: 'Unknown' });
    node.spec.unschedulable = true;
    node.status.conditions.find((c: KObject) => c.type === 'DiskPressure').status = 'True';
    assert.deepEqual(
      wantedTaints(node).map((t) => `${t.key}:${t.effect}`),
      ['node.kubernetes.io/disk-pressure:NoSchedule', 'node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute'],
    );
    const existing = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'then' }];
    const r = reconcileTaints(existing, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }], 'now');
    assert.equal(r.changed, false);
    assert.equal(r.taints[0].timeAdded, 'then');
  });
});
