/**
 * @module ReplicaSet controller decisions against the real REST pipeline: creation with
 * owner references and events, expectations on a stale cache, scale down order, adoption
 * and release, graceful deletions, failures, and status with minReadySeconds.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { Resources, type Client } from '../../client/index.js';
import { ReplicaSetController, newReplicaSetController } from './controller.js';
import { controllerFactory } from './index.js';
import { ControllerTestEnv, replicaSet } from '../common/test-env.js';

describe('ReplicaSet controller', () => {
  let env: ControllerTestEnv;
  let rsc: ReplicaSetController;

  beforeEach(async () => {
    env = await ControllerTestEnv.create();
    rsc = newReplicaSetController(env.ctx);
  });
  afterEach(async () => {
    await env.close();
  });

  const settle = (between?: () => Promise<void>) => env.settle([{ c: rsc, informer: rsc.rsInformer }], { between });

  test('the factory builds a controller named replicaset', () => {
    const c = controllerFactory(env.ctx);
    assert.equal(c.name, 'replicaset');
  });

  test('creates spec.replicas pods from the template with a controller reference, then reports status', async () => {
    const rs = await env.client.create(Resources.replicasets, 'default', replicaSet('web', 3));
    await env.refresh();
    await rsc.sync('default/web');
    const pods = await env.list(Resources.pods);
    assert.equal(pods.length, 3);
    for (const pod of pods) {
      assert.match(pod.metadata!.name!, /^web-[a-z0-9]{5}$/);
      assert.equal(pod.metadata!.generateName, 'web-');
      assert.deepEqual(pod.metadata!.labels, { app: 'web' });
      assert.deepEqual(pod.metadata!.ownerReferences, [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true },
      ]);
      assert.equal(pod.spec.containers[0].image, 'nginx:1.25');
    }
    const events = await env.objectEvents();
    assert.deepEqual(events.filter((e) => e.includes('SuccessfulCreate')).sort(), pods.map((p) => `ReplicaSet/web Normal SuccessfulCreate Created pod: ${p.metadata!.name}`).sort());
    await settle();
    const status = (await env.get(Resources.replicasets, 'web'))!.status;
    assert.deepEqual(status, { replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });
  });

  test('expectations: a second sync on a stale cache creates nothing more', async () => {
    await env.client.create(Resources.replicasets, 'default', replicaSet('web', 2));
    await env.refresh();
    await rsc.sync('default/web');
    assert.deepEqual(rsc.expectations.get('default/web'), { add: 2, del: 0 });
    // The pod informer has not seen the creations yet.
    await rsc.sync('default/web');
    assert.equal((await env.list(Resources.pods)).length, 2);
    await env.refresh();
    assert.deepEqual(rsc.expectations.get('default/web'), { add: 0, del: 0 });
    await rsc.sync('default/web');
    assert.equal((await env.list(Resources.pods)).length, 2);
  });

  test('scales down deleting unscheduled, then not-ready pods first', async () => {
    await env.client.create(Resources.replicasets, 'default', replicaSet('web', 4));
    await settle();
    const pods = await env.list(Resources.pods);
    const [a, b] = pods;
    // a and b run and are ready; the other two stay unscheduled.
    await env.runPods({ filter: (p) => p.metadata!.name === a.metadata!.name || p.metadata!.name === b.metadata!.name });
    await env.client.patch(Resources.replicasets, 'default', 'web', 'merge', { spec: { replicas: 2 } });
    await env.refresh();
    await rsc.sync('default/web');
    const left = (await env.list(Resources.pods)).map((p) => p.metadata!.name).sort();
    assert.deepEqual(left, [a.metadata!.name, b.metadata!.name].sort());
    const deletes = (await env.objectEvents()).filter((e) => e.includes('SuccessfulDelete'));
    assert.equal(deletes.length, 2);
    assert.match(deletes[0], /^ReplicaSet\/web Normal SuccessfulDelete Deleted pod: web-/);
  });

  test('among running pods, the not-ready one goes first', async () => {
    await env.client.create(Resources.replicasets, 'default', replicaSet('web', 2));
    await settle();
    const [a, b] = await env.list(Resources.pods);
    await env.runPods({ filter: (p) => p.metadata!.name === a.metadata!.name });
    await env.runPods({ ready: false, filter: (p) => p.metadata!.name === b.metadata!.name });
    await env.client.patch(Resources.replicasets, 'default', 'web', 'merge', { spec: { replicas: 1 } });
    await env.refresh();
    await rsc.sync('default/web');
    await env.finishDeletions();
    assert.deepEqual((await env.list(Resources.pods)).map((p) => p.metadata!.name), [a.metadata!.name]);
  });

  test('a pod being deleted is not counted and is replaced at once', async () => {
    await env.client.create(Resources.replicasets, 'default', replicaSet('web', 2));
    await settle(() => env.runPods());
    const [victim] = await env.list(Resources.pods);
    await env.client.delete(Resources.pods, 'default', victim.metadata!.name!);
    const terminating = await env.get(Resources.pods, victim.metadata!.name!);
    assert.ok(terminating?.metadata?.deletionTimestamp, 'a bound pod deletes gracefully');
    await env.refresh();
    await rsc.sync('default/web');
    const pods = await env.list(Resources.pods);
    assert.equal(pods.length, 3);
    assert.equal(pods.filter((p) => !p.metadata?.deletionTimestamp).length, 2);
    await settle();
    assert.equal((await env.get(Resources.replicasets, 'web'))!.status.replicas, 2);
  });

  test('adopts a matching orphan and releases an owned pod whose labels stop matching', async () => {
    await env.client.create(Resources.pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan', labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
    });
    const rs = await env.client.create(Resources.replicasets, 'default', replicaSet('web', 2));
    await settle();
    const orphan = (await env.get(Resources.pods, 'orphan'))!;
    assert.deepEqual(orphan.metadata!.ownerReferences?.map((r: KObject) => [r.kind, r.name, r.uid, r.controller]), [['ReplicaSet', 'web', rs.metadata!.uid, true]]);
    assert.equal((await env.list(Resources.pods)).length, 2, 'the adopted pod counts: only one is created');

    await env.client.patch(Resources.pods, 'default', 'orphan', 'merge', { metadata: { labels: { app: 'other' } } });
    await settle();
    const released = (await env.get(Resources.pods, 'orphan'))!;
    assert.equal(released.metadata!.ownerReferences?.length ?? 0, 0);
    assert.equal((await env.list(Resources.pods, 'default', 'app=web')).length, 2, 'a replacement was created');
  });

  test('a pod owned by another controller is left alone', async () => {
    await env.client.create(Resources.pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'theirs',
        labels: { app: 'web' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'other', uid: '00000000-0000-0000-0000-000000000001', controller: true }],
      },
      spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
    });
    await env.client.create(Resources.replicasets, 'default', replicaSet('web', 1));
    await settle();
    assert.equal((await env.list(Resources.pods)).length, 2);
  });

  test('availableReplicas waits minReadySeconds after the Ready transition', async () => {
    await env.client.create(Resources.replicasets, 'default', replicaSet('web', 2, { app: 'web' }, { minReadySeconds: 10 }));
    await settle(() => env.runPods());
    let status = (await env.get(Resources.replicasets, 'web'))!.status;
    assert.equal(status.readyReplicas, 2);
    assert.equal(status.availableReplicas, undefined);
    env.advance(11_000);
    await env.refresh();
    await rsc.sync('default/web');
    status = (await env.get(Resources.replicasets, 'web'))!.status;
    assert.equal(status.availableReplicas, 2);
  });

  test('creation failures: FailedCreate events, the ReplicaFailure condition, slow start stops at the failing batch', async () => {
    let creates = 0;
    const failOnce = true;
    const failing: Client = Object.create(env.client);
    failing.create = async (r, ns, obj, opts) => {
      if (r === Resources.pods && ++creates === 5 && failOnce) throw new ApiError(403, 'Forbidden', 'pods "web-" is forbidden: exceeded quota: q');
      return env.client.create(r, ns, obj, opts);
    };
    env.controllerClient = failing;
    rsc = newReplicaSetController(env.ctx);
    await env.client.create(Resources.replicasets, 'default', replicaSet('web', 10));
    await env.refresh();
    await assert.rejects(rsc.sync('default/web'), /exceeded quota/);
    // Batches of 1, 2, then 4 of which the second create failed: 3 + 3 created, no fourth batch.
    assert.equal(creates, 7);
    assert.equal((await env.list(Resources.pods)).length, 6);
    // Pods never attempted are no longer expected.
    assert.deepEqual(rsc.expectations.get('default/web'), { add: 6, del: 0 });
    const rs = (await env.get(Resources.replicasets, 'web'))!;
    const cond = rs.status.conditions?.[0];
    assert.equal(cond?.type, 'ReplicaFailure');
    assert.equal(cond?.reason, 'FailedCreate');
    assert.equal(cond?.message, 'pods "web-" is forbidden: exceeded quota: q');
    const failed = (await env.objectEvents()).filter((e) => e.includes('FailedCreate'));
    assert.deepEqual(failed, ['ReplicaSet/web Warning FailedCreate Error creating: pods "web-" is forbidden: exceeded quota: q']);
    // Once creates work again the condition goes away.
    env.controllerClient = env.client;
    rsc = newReplicaSetController(env.ctx);
    await settle();
    const healed = (await env.get(Resources.replicasets, 'web'))!;
    assert.equal(healed.status.replicas, 10);
    assert.equal(healed.status.conditions, undefined);
  });

  test('a deleted ReplicaSet is forgotten quietly', async () => {
    await env.client.create(Resources.replicasets, 'default', replicaSet('web', 1));
    await env.refresh();
    await rsc.sync('default/web');
    await env.client.delete(Resources.replicasets, 'default', 'web');
    await env.refresh();
    await rsc.sync('default/web');
    assert.equal(rsc.expectations.get('default/web'), undefined);
  });

  test('run() replaces a deleted pod within a second through real informers and workers', async () => {
    const abort = new AbortController();
    const running = rsc.run(abort.signal, 2);
    env.informers.start(abort.signal);
    try {
      await env.client.create(Resources.replicasets, 'default', replicaSet('web', 2));
      const deadline = async (what: string, fn: () => Promise<boolean>, ms = 5000) => {
        const end = Date.now() + ms;
        while (!(await fn())) {
          if (Date.now() > end) throw new Error(`timed out: ${what}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await deadline('2 pods', async () => (await env.list(Resources.pods)).length === 2);
      const [victim] = await env.list(Resources.pods);
      await env.client.delete(Resources.pods, 'default', victim.metadata!.name!);
      const t0 = Date.now();
      await deadline('a replacement', async () => {
        const pods = await env.list(Resources.pods);
        return pods.length === 2 && !pods.some((p) => p.metadata!.name === victim.metadata!.name);
      }, 1000);
      assert.ok(Date.now() - t0 < 1000);
      await deadline('status 2', async () => (await env.get(Resources.replicasets, 'web'))?.status?.replicas === 2);
    } finally {
      abort.abort();
      await running;
    }
  });
});
