/** @module pvc-protection and pv-protection: finalizers added to every claim and volume, held while in use. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Resources } from '../../client/index.js';
import { ControllerTestEnv } from '../common/test-env.js';
import { PVCProtectionController, PVProtectionController, pvProtectionFinalizer, pvcProtectionFinalizer } from './protection.js';

let env: ControllerTestEnv;
let pvcs: PVCProtectionController;
let pvs: PVProtectionController;

beforeEach(async () => {
  env = await ControllerTestEnv.create();
  pvcs = new PVCProtectionController(env.ctx);
  pvs = new PVProtectionController(env.ctx);
});
afterEach(async () => {
  await env.close();
});

async function claim(name: string): Promise<void> {
  await env.client.create(Resources.persistentvolumeclaims, 'default', {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
}

async function syncClaim(name: string): Promise<void> {
  await env.refresh();
  await pvcs.sync(`default/${name}`);
}

describe('pvc-protection', () => {
  test('adds the finalizer; a claim being deleted stays while a scheduled, running pod uses it', async () => {
    await claim('data');
    await syncClaim('data');
    assert.deepEqual((await env.get(Resources.persistentvolumeclaims, 'data'))?.metadata?.finalizers, [pvcProtectionFinalizer]);

    await env.client.create(Resources.pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db' },
      spec: { containers: [{ name: 'db', image: 'postgres' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] },
    });
    await env.bind('db', 'node-1');
    await env.client.delete(Resources.persistentvolumeclaims, 'default', 'data');
    await syncClaim('data');
    const terminating = await env.get(Resources.persistentvolumeclaims, 'data');
    assert.ok(terminating?.metadata?.deletionTimestamp, 'Terminating while the pod runs');
    assert.deepEqual(terminating?.metadata?.finalizers, [pvcProtectionFinalizer]);

    await env.setPodStatus('db', 'Succeeded');
    await syncClaim('data');
    assert.equal(await env.get(Resources.persistentvolumeclaims, 'data'), undefined, 'gone once no pod uses it');
  });

  test('an unscheduled pod does not hold the claim', async () => {
    await claim('data');
    await syncClaim('data');
    await env.client.create(Resources.pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'pending' },
      spec: { containers: [{ name: 'db', image: 'postgres' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] },
    });
    await env.client.delete(Resources.persistentvolumeclaims, 'default', 'data');
    await syncClaim('data');
    assert.equal(await env.get(Resources.persistentvolumeclaims, 'data'), undefined);
  });
});

describe('pv-protection', () => {
  test('adds the finalizer; a Bound volume being deleted stays until it is no longer Bound', async () => {
    await env.client.create(Resources.persistentvolumes, undefined, {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'vol' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/vol' } },
    });
    const sync = async () => {
      await env.refresh();
      await pvs.sync('vol');
    };
    await sync();
    const pv = (await env.get(Resources.persistentvolumes, 'vol', undefined))!;
    assert.deepEqual(pv.metadata?.finalizers, [pvProtectionFinalizer]);
    await env.client.update(Resources.persistentvolumes, undefined, { ...pv, status: { phase: 'Bound' } }, { subresource: 'status' });
    await env.client.delete(Resources.persistentvolumes, undefined, 'vol');
    await sync();
    const held = (await env.get(Resources.persistentvolumes, 'vol', undefined))!;
    assert.ok(held.metadata?.deletionTimestamp);
    await env.client.update(Resources.persistentvolumes, undefined, { ...held, status: { phase: 'Released' } }, { subresource: 'status' });
    await sync();
    assert.equal(await env.get(Resources.persistentvolumes, 'vol', undefined), undefined);
  });
});
