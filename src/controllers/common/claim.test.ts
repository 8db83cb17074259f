/**
 * @module ControllerRefManager against the real REST pipeline: adoption (with finalizers and
 * the fresh re-read of the controller), release, a deleting controller, other owners, and
 * which owners an added or updated dependent wakes.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { claimObjects, type ClaimOptions } from './claim.js';
import { ownersToSync } from './controller-ref.js';
import { ControllerTestEnv, ownerRef, replicaSet } from './test-env.js';

let env: ControllerTestEnv;
beforeEach(async () => {
  env = await ControllerTestEnv.create();
});
afterEach(async () => {
  await env.close();
});

async function pod(name: string, labels: Record<string, string>, owner?: KObject): Promise<KObject> {
  return env.client.create(Resources.pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, ...(owner ? { ownerReferences: [ownerRef(owner)] } : {}) },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] },
  });
}

const claim = (rs: KObject, candidates: KObject[], extra: Partial<ClaimOptions> = {}) =>
  claimObjects(candidates, {
    client: env.client,
    resource: Resources.pods,
    controller: rs,
    controllerResource: Resources.replicasets,
    controllerApiVersion: 'apps/v1',
    controllerKind: 'ReplicaSet',
    match: (p) => p.metadata?.labels?.app === 'web',
    ...extra,
  });

describe('claimObjects', () => {
  test('adopts a matching orphan with the adoption finalizers, releases an owned pod that stopped matching, ignores others', async () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...(await env.client.create(Resources.replicasets, 'default', replicaSet('web', 1))) };
    const other = { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...(await env.client.create(Resources.replicasets, 'default', replicaSet('other', 1))) };
    const candidates = [await pod('orphan', { app: 'web' }), await pod('strayed', { app: 'db' }, rs), await pod('theirs', { app: 'web' }, other), await pod('mine', { app: 'web' }, rs)];
    const claimed = await claim(rs, candidates, { adoptFinalizers: ['example.com/f'] });
    assert.deepEqual(claimed.map((p) => p.metadata!.name).sort(), ['mine', 'orphan']);
    const adopted = (await env.get(Resources.pods, 'orphan'))!;
    assert.deepEqual(adopted.metadata!.ownerReferences!.map((r: KObject) => r.uid), [rs.metadata!.uid]);
    assert.deepEqual(adopted.metadata!.finalizers, ['example.com/f']);
    assert.equal((await env.get(Resources.pods, 'strayed'))!.metadata!.ownerReferences?.length ?? 0, 0);
    assert.deepEqual((await env.get(Resources.pods, 'theirs'))!.metadata!.ownerReferences!.map((r: KObject) => r.uid), [other.metadata!.uid]);
  });

  test('a controller being deleted keeps its matching pods, releases nothing and adopts nothing', async () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...(await env.client.create(Resources.replicasets, 'default', replicaSet('web', 1))) };
    const candidates = [await pod('mine', { app: 'web' }, rs), await pod('strayed', { app: 'db' }, rs), await pod('orphan', { app: 'web' })];
    const deleting = { ...rs, metadata: { ...rs.metadata, deletionTimestamp: '2025-03-01T12:00:00Z' } };
    const claimed = await claim(deleting, candidates);
    assert.deepEqual(claimed.map((p) => p.metadata!.name), ['mine']);
    assert.equal((await env.get(Resources.pods, 'strayed'))!.metadata!.ownerReferences!.length, 1, 'not released');
    assert.equal((await env.get(Resources.pods, 'orphan'))!.metadata!.ownerReferences?.length ?? 0, 0, 'not adopted');
  });

  test('adoption first re-reads the controller: a re-created namesake adopts nothing', async () => {
    const stale = { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...(await env.client.create(Resources.replicasets, 'default', replicaSet('web', 1))) };
    await env.client.delete(Resources.replicasets, 'default', 'web');
    await env.client.create(Resources.replicasets, 'default', replicaSet('web', 1));
    const candidates = [await pod('orphan', { app: 'web' })];
    await assert.rejects(claim(stale, candidates), /is gone: got uid/);
    assert.equal((await env.get(Resources.pods, 'orphan'))!.metadata!.ownerReferences?.length ?? 0, 0);
  });
});

describe('ownersToSync', () => {
  test('the controller; for an orphan, owners whose selector matches; the previous controller when the reference changes', () => {
    const owners = env.informers.for(Resources.replicasets);
    const web = { metadata: { name: 'web', namespace: 'default', uid: 'u-web' }, spec: { selector: { matchLabels: { app: 'web' } } } };
    const all = { metadata: { name: 'all', namespace: 'default', uid: 'u-all' }, spec: { selector: {} } };
    const db = { metadata: { name: 'db', namespace: 'default', uid: 'u-db' }, spec: { selector: { matchLabels: { app: 'db' } } } };
    owners.seed([web, all, db]);
    const names = (objs: KObject[]) => objs.map((o) => o.metadata!.name).sort();
    const ref = (o: KObject) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.metadata!.name!, uid: o.metadata!.uid!, controller: true });
    const orphan = { metadata: { name: 'p', namespace: 'default', labels: { app: 'web' } } };
    assert.deepEqual(names(ownersToSync(owners, 'ReplicaSet', orphan)), ['web'], 'an empty selector adopts nothing');
    assert.deepEqual(names(ownersToSync(owners, 'ReplicaSet', orphan, structuredClone(orphan))), [], 'nothing changed');
    const owned = { metadata: { ...orphan.metadata, ownerReferences: [ref(db)] } };
    assert.deepEqual(names(ownersToSync(owners, 'ReplicaSet', owned)), ['db']);
    assert.deepEqual(names(ownersToSync(owners, 'ReplicaSet', orphan, owned)), ['db', 'web'], 'released: the old controller and the possible adopters');
    const stale = { metadata: { ...orphan.metadata, ownerReferences: [{ ...ref(db), uid: 'u-gone' }] } };
    assert.deepEqual(names(ownersToSync(owners, 'ReplicaSet', stale)), [], 'a reference to a re-created namesake resolves to nothing');
  });
});
