/** @module local-path-provisioner with the PersistentVolume binder: the default class, a directory and a pre-bound hostPath volume per claim, deletion on release. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { Resources, keyOf } from '../../client/index.js';
import { ControllerTestEnv } from '../common/test-env.js';
import { PersistentVolumeController, annSelectedNode } from '../persistentvolume/index.js';
import { LocalPathProvisioner, volumePath } from './controller.js';

let env: ControllerTestEnv;
let storage: string;
let binder: PersistentVolumeController;
let provisioner: LocalPathProvisioner;

beforeEach(async () => {
  env = await ControllerTestEnv.create();
  storage = await mkdtemp(join(tmpdir(), 'skiff-local-path-'));
  env.ctx.options.localPathStorageDir = storage;
  binder = new PersistentVolumeController(env.ctx);
  provisioner = new LocalPathProvisioner(env.ctx);
});
afterEach(async () => {
  await env.close();
  await rm(storage, { recursive: true, force: true });
});

/** Both controllers over every claim and volume until nothing changes. */
async function settle(rounds = 12): Promise<void> {
  const fingerprint = () => JSON.stringify([binder.volumes.list(), binder.claims.list()].map((l) => l.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)));
  for (let i = 0; i < rounds; i++) {
    await env.refresh();
    const before = fingerprint();
    for (const v of binder.volumes.list()) await binder.syncVolume(keyOf(v));
    await env.refresh();
    for (const c of binder.claims.list()) await binder.syncClaim(keyOf(c));
    await env.refresh();
    for (const c of provisioner.claims.list()) await provisioner.syncClaim(keyOf(c));
    await env.refresh();
    for (const v of provisioner.volumes.list()) await provisioner.syncVolume(keyOf(v));
    await env.refresh();
    if (fingerprint() === before) return;
  }
}

async function claim(name: string, spec: KObject = {}): Promise<KObject> {
  return env.client.create(Resources.persistentvolumeclaims, 'default', {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { storageClassName: 'local-path', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
  });
}

async function consumer(pod: string, claimName: string, node = 'node-1'): Promise<void> {
  await env.client.create(Resources.pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod },
    spec: { containers: [{ name: 'db', image: 'postgres' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] },
  });
  await env.bind(pod, node);
}

describe('local-path-provisioner', () => {
  beforeEach(async () => {
    await env.client.create(Resources.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } } });
    await env.refresh();
    await provisioner.ensureStorageClass();
  });

  test('creates the default class local-path once, as k3s does', async () => {
    await env.refresh();
    await provisioner.ensureStorageClass();
    const sc = await env.get(Resources.storageclasses, 'local-path', undefined);
    assert.equal(sc?.provisioner, 'rancher.io/local-path');
    assert.equal(sc?.volumeBindingMode, 'WaitForFirstConsumer');
    assert.equal(sc?.reclaimPolicy, 'Delete');
    assert.equal(sc?.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');
    assert.equal((await env.list(Resources.storageclasses, undefined)).length, 1);
  });

  test('a claim waits for its first consumer, then gets a 0777 directory and a hostPath volume on the pod\'s node, and binds', async () => {
    const created = await claim('data-postgres-0');
    await settle();
    assert.equal((await env.list(Resources.persistentvolumes, undefined)).length, 0, 'nothing is provisioned before a pod is scheduled');

    await consumer('postgres-0', 'data-postgres-0');
    await settle();
    const pvc = (await env.get(Resources.persistentvolumeclaims, 'data-postgres-0'))!;
    assert.equal(pvc.status?.phase, 'Bound');
    assert.equal(pvc.metadata?.annotations?.[annSelectedNode], 'node-1');
    const pvName = `pvc-${created.metadata?.uid}`;
    assert.equal(pvc.spec?.volumeName, pvName);
    const pv = (await env.get(Resources.persistentvolumes, pvName, undefined))!;
    const dir = join(storage, `${pvName}_default_data-postgres-0`);
    assert.equal(dir, volumePath(storage, created));
    assert.deepEqual(pv.spec?.hostPath, { path: dir, type: 'DirectoryOrCreate' });
    assert.equal(pv.status?.phase, 'Bound');
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(pv.spec?.storageClassName, 'local-path');
    assert.deepEqual(pv.spec?.capacity, { storage: '1Gi' });
    assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], 'rancher.io/local-path');
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms, [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] }]);
    assert.equal((await stat(dir)).mode & 0o777, 0o777);
    const events = await env.events();
    assert.ok(events.includes('Normal Provisioning External provisioner is provisioning volume for claim "default/data-postgres-0"'), String(events));
    assert.ok(events.includes(`Normal ProvisioningSucceeded Successfully provisioned volume ${pvName}`), String(events));
  });

  test('deleting the claim releases the volume; reclaimPolicy Delete removes its directory and the volume', async () => {
    const created = await claim('scratch');
    await consumer('user', 'scratch');
    await settle();
    const dir = volumePath(storage, created);
    await writeFile(join(dir, 'data'), 'rows');
    await env.client.delete(Resources.pods, 'default', 'user', { gracePeriodSeconds: 0 });
    await env.client.delete(Resources.persistentvolumeclaims, 'default', 'scratch');
    await settle();
    assert.deepEqual(await env.list(Resources.persistentvolumes, undefined), []);
    await assert.rejects(stat(dir), /ENOENT/);
  });

  test('a Retain class keeps the released volume and its data', async () => {
    await env.client.create(Resources.storageclasses, undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'local-keep' },
      provisioner: 'rancher.io/local-path',
      reclaimPolicy: 'Retain',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    const created = await claim('kept', { storageClassName: 'local-keep' });
    await consumer('user', 'kept');
    await settle();
    await env.client.delete(Resources.pods, 'default', 'user', { gracePeriodSeconds: 0 });
    await env.client.delete(Resources.persistentvolumeclaims, 'default', 'kept');
    await settle();
    const [pv] = await env.list(Resources.persistentvolumes, undefined);
    assert.equal(pv.status?.phase, 'Released');
    assert.ok((await stat(volumePath(storage, created))).isDirectory());
  });

  test('ReadWriteMany is refused with a ProvisioningFailed event', async () => {
    await claim('shared', { accessModes: ['ReadWriteMany'] });
    await consumer('user', 'shared');
    await settle();
    assert.equal((await env.list(Resources.persistentvolumes, undefined)).length, 0);
    assert.ok(
      (await env.events()).includes('Warning ProvisioningFailed failed to provision volume with StorageClass "local-path": NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes'),
    );
  });

  test('a volume whose path lies outside the storage directory is deleted without touching the path', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'skiff-outside-'));
    try {
      await env.client.create(Resources.persistentvolumes, undefined, {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: 'foreign', annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' } },
        spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: outside }, persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: 'default', name: 'gone', uid: 'x' } },
      });
      await settle();
      assert.deepEqual(await env.list(Resources.persistentvolumes, undefined), []);
      assert.ok((await stat(outside)).isDirectory());
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
