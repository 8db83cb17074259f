/** @module persistentvolume-binder: binding claims to volumes, phases, reclaiming, WaitForFirstConsumer and external provisioning. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { Resources, keyOf } from '../../client/index.js';
import { ControllerTestEnv } from '../common/test-env.js';
import { PersistentVolumeController } from './controller.js';
import { annBindCompleted, annBoundByController, annSelectedNode, annStorageProvisioner, findBestMatchForClaim } from './helpers.js';

let env: ControllerTestEnv;
let ctrl: PersistentVolumeController;

beforeEach(async () => {
  env = await ControllerTestEnv.create();
  ctrl = new PersistentVolumeController(env.ctx);
});
afterEach(async () => {
  await env.close();
});

/** Syncs every volume and claim until nothing changes (the work queues' effect, without timing). */
async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await env.refresh();
    const before = JSON.stringify([ctrl.volumes.list(), ctrl.claims.list()].map((l) => l.map((o) => o.metadata?.resourceVersion)));
    for (const v of ctrl.volumes.list()) await ctrl.syncVolume(keyOf(v));
    await env.refresh();
    for (const c of ctrl.claims.list()) await ctrl.syncClaim(keyOf(c));
    await env.refresh();
    const after = JSON.stringify([ctrl.volumes.list(), ctrl.claims.list()].map((l) => l.map((o) => o.metadata?.resourceVersion)));
    if (before === after) return;
  }
}

async function pv(name: string, size: string, extra: KObject = {}, labels: Record<string, string> = {}): Promise<void> {
  await env.client.create(Resources.persistentvolumes, undefined, {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels },
    spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` }, ...extra },
  });
}

async function pvc(name: string, size: string, spec: KObject = {}): Promise<void> {
  await env.client.create(Resources.persistentvolumeclaims, 'default', {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...spec },
  });
}

async function storageClass(name: string, mode: 'Immediate' | 'WaitForFirstConsumer', isDefault = false): Promise<void> {
  await env.client.create(Resources.storageclasses, undefined, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name, annotations: isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {} },
    provisioner: 'example.com/disk',
    volumeBindingMode: mode,
  });
}

const ann = (o: KObject): Record<string, string> => o.metadata?.annotations ?? {};
const getPV = async (name: string) => (await env.get(Resources.persistentvolumes, name, undefined))!;
const getPVC = async (name: string) => (await env.get(Resources.persistentvolumeclaims, name))!;

describe('persistentvolume-binder', () => {
  test('a new volume becomes Available; a claim binds to the smallest one that fits, both sides Bound', async () => {
    await pv('big', '10Gi');
    await pv('small', '2Gi');
    await pv('tiny', '500Mi');
    await pvc('data', '1Gi');
    await settle();
    const claim = await getPVC('data');
    assert.equal(claim.spec.volumeName, 'small');
    assert.equal(claim.status.phase, 'Bound');
    assert.deepEqual(claim.status.capacity, { storage: '2Gi' });
    assert.deepEqual(claim.status.accessModes, ['ReadWriteOnce']);
    assert.equal(ann(claim)[annBindCompleted], 'yes');
    assert.equal(ann(claim)[annBoundByController], 'yes');
    const small = await getPV('small');
    assert.equal(small.status.phase, 'Bound');
    assert.deepEqual(
      { ...small.spec.claimRef, resourceVersion: undefined },
      { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: claim.metadata?.uid, apiVersion: 'v1', resourceVersion: undefined },
    );
    assert.equal(ann(small)[annBoundByController], 'yes');
    assert.equal((await getPV('big')).status.phase, 'Available');
    assert.equal((await getPV('tiny')).status.phase, 'Available');
  });

  test('class, selector and access modes must match; no class and no volume is a FailedBinding event', async () => {
    await pv('fast', '5Gi', { storageClassName: 'fast' });
    await pv('rwx', '5Gi', { accessModes: ['ReadWriteMany'] });
    await pv('labelled', '5Gi', {}, { tier: 'gold' });
    await pvc('wants-rwx', '1Gi', { accessModes: ['ReadWriteMany'] });
    await pvc('wants-gold', '1Gi', { selector: { matchLabels: { tier: 'gold' } } });
    await pvc('wants-none', '1Gi', { storageClassName: '', selector: { matchLabels: { tier: 'silver' } } });
    await settle();
    assert.equal((await getPVC('wants-rwx')).spec.volumeName, 'rwx');
    assert.equal((await getPVC('wants-gold')).spec.volumeName, 'labelled');
    const none = await getPVC('wants-none');
    assert.equal(none.spec.volumeName, undefined);
    assert.equal(none.status.phase, 'Pending');
    assert.equal((await getPV('fast')).status.phase, 'Available');
    assert.ok((await env.events()).includes('Normal FailedBinding no persistent volumes available for this claim and no storage class is set'));
  });

  test('a claim naming a volume gets exactly that one; a too-small one is a VolumeMismatch', async () => {
    await pv('mine', '1Gi');
    await pv('other', '1Gi');
    await pvc('pinned', '1Gi', { volumeName: 'other' });
    await pvc('greedy', '5Gi', { volumeName: 'mine' });
    await settle();
    const pinned = await getPVC('pinned');
    assert.equal(pinned.status.phase, 'Bound');
    assert.equal(ann(pinned)[annBoundByController], undefined, 'the user bound it');
    assert.equal((await getPV('other')).spec.claimRef.name, 'pinned');
    assert.equal((await getPVC('greedy')).status.phase, 'Pending');
    assert.ok((await env.events()).includes('Warning VolumeMismatch Cannot bind to requested volume "mine": requested PV is too small'));
  });

  test('a deleted claim releases its volume: Retain keeps it Released, Delete without a provisioner fails it', async () => {
    await pv('keep', '1Gi', { persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'a' });
    await pv('drop', '1Gi', { persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'b' });
    await pvc('ka', '1Gi', { storageClassName: 'a' });
    await pvc('kb', '1Gi', { storageClassName: 'b' });
    await settle();
    assert.equal((await getPV('keep')).status.phase, 'Bound');
    await env.client.delete(Resources.persistentvolumeclaims, 'default', 'ka');
    await env.client.delete(Resources.persistentvolumeclaims, 'default', 'kb');
    await settle();
    const keep = await getPV('keep');
    assert.equal(keep.status.phase, 'Released');
    assert.equal(keep.spec.claimRef.name, 'ka', 'a Released volume keeps its claim reference');
    const drop = await getPV('drop');
    assert.equal(drop.status.phase, 'Failed');
    assert.match(drop.status.message, /no deletable volume plugin matched/);
    // A new claim of the same name is another claim: the Released volume is not handed to it.
    await pvc('ka', '1Gi', { storageClassName: 'a' });
    await settle();
    assert.equal((await getPVC('ka')).status.phase, 'Pending');
  });

  test('a bound claim whose volume disappears is Lost', async () => {
    await pv('gone', '1Gi');
    await pvc('data', '1Gi');
    await settle();
    assert.equal((await getPVC('data')).status.phase, 'Bound');
    await env.client.delete(Resources.persistentvolumes, undefined, 'gone');
    await settle();
    assert.equal((await getPVC('data')).status.phase, 'Lost');
    assert.ok((await env.events()).includes('Warning ClaimLost Bound claim has lost its PersistentVolume. Data on the volume is lost!'));
  });

  test('WaitForFirstConsumer: the claim waits for a scheduled pod, gets its node, then is handed to the provisioner', async () => {
    await storageClass('lazy', 'WaitForFirstConsumer');
    await pv('unused', '5Gi', { storageClassName: 'lazy' });
    await pvc('data', '1Gi', { storageClassName: 'lazy' });
    await settle();
    let claim = await getPVC('data');
    assert.equal(claim.status.phase, 'Pending');
    assert.equal(claim.spec.volumeName, undefined, 'no binding before a consumer is scheduled');
    assert.ok((await env.events()).includes('Normal WaitForFirstConsumer waiting for first consumer to be created before binding'));

    await env.client.create(Resources.pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db' },
      spec: { containers: [{ name: 'db', image: 'postgres' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] },
    });
    await settle();
    assert.ok((await env.events()).includes('Normal WaitForPodScheduled waiting for pod db to be scheduled'));

    // Node affinity rules the Available volume out for node-1, so a new one must be provisioned.
    const unused = await getPV('unused');
    unused.spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-2'] }] }] } };
    await env.client.update(Resources.persistentvolumes, undefined, unused);
    await env.client.create(Resources.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } } });
    await env.bind('db', 'node-1');
    await settle();
    claim = await getPVC('data');
    assert.equal(ann(claim)[annSelectedNode], 'node-1');
    assert.equal(ann(claim)[annStorageProvisioner], 'example.com/disk');
    assert.equal(claim.spec.volumeName, undefined);
    assert.ok((await env.events()).some((e) => e.startsWith("Normal ExternalProvisioning Waiting for a volume to be created either by the external provisioner 'example.com/disk'")));
  });

  test('a claim without a class gets the default one when no classless volume fits', async () => {
    await storageClass('standard', 'Immediate', true);
    await pvc('data', '1Gi');
    await settle();
    const claim = await getPVC('data');
    assert.equal(claim.status.phase, 'Pending');
    // kube-apiserver allows setting a nil storageClassName once (RetroactiveDefaultStorageClass); where it is refused the claim stays classless.
    assert.ok(claim.spec.storageClassName === 'standard' || (await env.events()).includes('Normal FailedBinding no persistent volumes available for this claim and no storage class is set'), JSON.stringify(claim.spec));
  });
});

describe('findBestMatchForClaim', () => {
  const vol = (name: string, size: string, modes: string[], extra: KObject = {}): KObject => ({
    metadata: { name },
    spec: { capacity: { storage: size }, accessModes: modes, ...extra },
    status: { phase: 'Available' },
  });
  const claim: KObject = { metadata: { name: 'c', namespace: 'default', uid: 'u1' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };

  test('prefers fewer access modes, then the smallest size; a pre-bound volume wins', () => {
    const vols = [vol('rwo-rox-small', '1Gi', ['ReadWriteOnce', 'ReadOnlyMany']), vol('rwo-big', '8Gi', ['ReadWriteOnce']), vol('rwo-mid', '2Gi', ['ReadWriteOnce'])];
    assert.equal(findBestMatchForClaim(vols, claim, { delayBinding: false })?.metadata?.name, 'rwo-mid');
    const pre = vol('pre', '100Gi', ['ReadWriteOnce', 'ReadWriteMany'], { claimRef: { namespace: 'default', name: 'c' } });
    assert.equal(findBestMatchForClaim([...vols, pre], claim, { delayBinding: false })?.metadata?.name, 'pre');
    assert.equal(findBestMatchForClaim(vols, claim, { delayBinding: true }), undefined, 'delayed binding waits for a node');
  });

  test('skips Block volumes for Filesystem claims, volumes being deleted and volumes too small', () => {
    const vols = [vol('block', '5Gi', ['ReadWriteOnce'], { volumeMode: 'Block' }), { ...vol('dying', '5Gi', ['ReadWriteOnce']), metadata: { name: 'dying', deletionTimestamp: '2025-01-01T00:00:00Z' } }, vol('small', '512Mi', ['ReadWriteOnce'])];
    assert.equal(findBestMatchForClaim(vols, claim, { delayBinding: false }), undefined);
  });
});
