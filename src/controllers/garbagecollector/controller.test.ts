/**
 * @module Garbage collector decisions against the real REST pipeline: background cascades,
 * orphaning, foreground deletion that waits for blocking dependents, dangling references,
 * partial ownership, and one run() over live informers.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject, OwnerReference } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { GarbageCollector } from './controller.js';
import { knownResources } from './resources.js';
import { ControllerTestEnv, ownerRef, poll } from '../common/test-env.js';

const labels = { app: 'web' };
const template = { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] } };

async function deployment(env: ControllerTestEnv, name = 'web'): Promise<KObject> {
  return env.client.create(Resources.deployments, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas: 1, selector: { matchLabels: labels }, template },
  });
}

async function replicaSet(env: ControllerTestEnv, name: string, owner?: KObject): Promise<KObject> {
  return env.client.create(Resources.replicasets, 'default', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, labels, ...(owner ? { ownerReferences: [ownerRef(owner)] } : {}) },
    spec: { replicas: 1, selector: { matchLabels: labels }, template },
  });
}

async function pod(env: ControllerTestEnv, name: string, owners: OwnerReference[], opts: { nodeName?: string } = {}): Promise<KObject> {
  return env.client.create(Resources.pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, ownerReferences: owners },
    spec: { ...(opts.nodeName ? { nodeName: opts.nodeName } : {}), containers: [{ name: 'app', image: 'busybox:1.36' }] },
  });
}

/** Refreshes caches and works both queues until nothing is left to do. */
async function settle(env: ControllerTestEnv, gc: GarbageCollector): Promise<void> {
  for (let round = 0; round < 50; round++) {
    await env.refresh();
    if (gc.deleteQueue.len() === 0 && gc.orphanQueue.len() === 0) return;
    while (gc.deleteQueue.len() > 0) {
      const key = (await gc.deleteQueue.get())!;
      await gc.attemptToDelete(key);
      gc.deleteQueue.done(key);
    }
    while (gc.orphanQueue.len() > 0) {
      const key = (await gc.orphanQueue.get())!;
      await gc.attemptToOrphan(key);
      gc.orphanQueue.done(key);
    }
  }
  throw new Error('garbage collector did not settle');
}

const names = (objs: KObject[]) => objs.map((o) => o.metadata!.name);

describe('garbage collector', () => {
  let env: ControllerTestEnv;
  let gc: GarbageCollector;
  beforeEach(async () => {
    env = await ControllerTestEnv.create();
    gc = new GarbageCollector(env.ctx, { resources: knownResources.filter((r) => r.gvr.resource !== 'controllerrevisions') });
    await env.refresh();
  });
  afterEach(async () => {
    await env.close();
  });

  test('a background delete of a Deployment removes its ReplicaSets and their pods', async () => {
    const d = await deployment(env);
    const rs = await replicaSet(env, 'web-1', d);
    await pod(env, 'web-1-a', [ownerRef(rs)]);
    await pod(env, 'web-1-b', [ownerRef(rs)]);
    await env.refresh();
    await settle(env, gc);
    assert.deepEqual(names(await env.list(Resources.replicasets)), ['web-1'], 'nothing is collected while the owner exists');

    await env.client.delete(Resources.deployments, 'default', 'web', { propagationPolicy: 'Background' });
    await settle(env, gc);
    assert.deepEqual(names(await env.list(Resources.replicasets)), []);
    assert.deepEqual(names(await env.list(Resources.pods)), []);
  });

  test('an orphan delete strips the ownerReferences of the dependents and keeps them', async () => {
    const d = await deployment(env);
    const rs = await replicaSet(env, 'web-1', d);
    await pod(env, 'web-1-a', [ownerRef(rs)]);
    await env.client.delete(Resources.deployments, 'default', 'web', { propagationPolicy: 'Orphan' });
    const held = await env.get(Resources.deployments, 'web');
    assert.deepEqual(held?.metadata?.finalizers, ['orphan']);

    await settle(env, gc);
    assert.equal(await env.get(Resources.deployments, 'web'), undefined, 'the orphan finalizer is removed, which deletes the owner');
    const [keptRs] = await env.list(Resources.replicasets);
    assert.equal(keptRs.metadata!.name, 'web-1');
    assert.equal(keptRs.metadata!.ownerReferences, undefined);
    const [keptPod] = await env.list(Resources.pods);
    assert.equal(keptPod.metadata!.ownerReferences?.[0]?.uid, rs.metadata!.uid, "the pods' own owner (the ReplicaSet) is untouched");
  });

  test('a foreground delete waits for blocking dependents, recursively, before the owner goes', async () => {
    const d = await deployment(env);
    const rs = await replicaSet(env, 'web-1', d);
    // Bound to a node: its delete is graceful and waits for the node agent.
    await pod(env, 'web-1-a', [ownerRef(rs)], { nodeName: 'node-a' });
    await env.client.delete(Resources.deployments, 'default', 'web', { propagationPolicy: 'Foreground' });

    await settle(env, gc);
    const waitingDeployment = await env.get(Resources.deployments, 'web');
    assert.ok(waitingDeployment?.metadata?.deletionTimestamp, 'the owner waits');
    assert.deepEqual(waitingDeployment?.metadata?.finalizers, ['foregroundDeletion']);
    const waitingRs = await env.get(Resources.replicasets, 'web-1');
    assert.deepEqual(waitingRs?.metadata?.finalizers, ['foregroundDeletion'], 'the ReplicaSet is deleted in the foreground too');
    const terminating = await env.get(Resources.pods, 'web-1-a');
    assert.ok(terminating?.metadata?.deletionTimestamp, 'the pod is being deleted');

    // The node agent finishes the pod.
    await env.client.delete(Resources.pods, 'default', 'web-1-a', { gracePeriodSeconds: 0 });
    await settle(env, gc);
    assert.equal(await env.get(Resources.replicasets, 'web-1'), undefined);
    assert.equal(await env.get(Resources.deployments, 'web'), undefined);
  });

  test('a foreground owner whose dependents do not block is released at once', async () => {
    const d = await deployment(env);
    await env.client.create(Resources.configmaps, 'default', {
      metadata: { name: 'loose', ownerReferences: [ownerRef(d, { controller: false, blockOwnerDeletion: false })] },
    });
    await env.client.delete(Resources.deployments, 'default', 'web', { propagationPolicy: 'Foreground' });
    await settle(env, gc);
    assert.equal(await env.get(Resources.deployments, 'web'), undefined);
    assert.equal(await env.get(Resources.configmaps, 'loose'), undefined, 'the dependent is collected once its owner is gone');
  });

  test('dependents of owners that never existed, or exist under another uid, are collected', async () => {
    await env.client.create(Resources.configmaps, 'default', {
      metadata: { name: 'ghost', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nope', uid: '00000000-0000-0000-0000-000000000001' }] },
    });
    await deployment(env, 'other');
    await env.client.create(Resources.secrets, 'default', {
      metadata: { name: 'stale', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'other', uid: '00000000-0000-0000-0000-000000000002' }] },
    });
    await settle(env, gc);
    assert.equal(await env.get(Resources.configmaps, 'ghost'), undefined);
    assert.equal(await env.get(Resources.secrets, 'stale'), undefined);
    assert.ok(await env.get(Resources.deployments, 'other'), 'the same-named owner is not touched');
  });

  test('an object with one owner left loses only the reference to the missing one', async () => {
    const d = await deployment(env);
    await env.client.create(Resources.configmaps, 'default', {
      metadata: {
        name: 'shared',
        ownerReferences: [ownerRef(d, { controller: false }), { apiVersion: 'v1', kind: 'Service', name: 'gone', uid: '00000000-0000-0000-0000-000000000003' }],
      },
    });
    await settle(env, gc);
    const cm = await env.get(Resources.configmaps, 'shared');
    assert.ok(cm);
    assert.deepEqual(cm.metadata!.ownerReferences!.map((r: KObject) => r.name), ['web']);
  });

  test('owners of kinds nobody serves are assumed to exist', async () => {
    await env.client.create(Resources.configmaps, 'default', {
      metadata: { name: 'crd-owned', ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: '00000000-0000-0000-0000-000000000004' }] },
    });
    await settle(env, gc);
    gc.deleteQueue.add((await env.get(Resources.configmaps, 'crd-owned'))!.metadata!.uid!);
    await settle(env, gc);
    assert.ok(await env.get(Resources.configmaps, 'crd-owned'));
  });
});

describe('garbage collector run()', () => {
  test('with live informers, deleting a ReplicaSet removes its pods', async () => {
    const env = await ControllerTestEnv.create();
    const ac = new AbortController();
    try {
      const gc = new GarbageCollector(env.ctx);
      const running = gc.run(ac.signal, 2);
      env.informers.start(ac.signal);
      const rs = await replicaSet(env, 'web-1');
      await pod(env, 'web-1-a', [ownerRef(rs)]);
      await pod(env, 'web-1-b', [ownerRef(rs)]);
      await env.client.delete(Resources.replicasets, 'default', 'web-1');
      await poll(async () => (await env.list(Resources.pods)).length === 0, 'pods collected');
      ac.abort();
      await running;
    } finally {
      ac.abort();
      await env.close();
    }
  });
});
