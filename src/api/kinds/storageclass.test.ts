/** @module storage.k8s.io/v1 StorageClass: defaults, validation, immutable fields and the kubectl printer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storageClassResource } from './storageclass.js';
import { simulateCreate, simulateUpdate } from './strategy-test-util.js';

const sc = (extra: Record<string, unknown> = {}) => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'rancher.io/local-path', ...extra });

test('defaults: reclaimPolicy Delete, volumeBindingMode Immediate', () => {
  const { obj, errors } = simulateCreate(storageClassResource, sc());
  assert.deepEqual(errors, []);
  assert.equal(obj.reclaimPolicy, 'Delete');
  assert.equal(obj.volumeBindingMode, 'Immediate');
  assert.equal(obj.metadata?.generation, undefined);
});

test('validation messages match kube-apiserver', () => {
  assert.deepEqual(simulateCreate(storageClassResource, sc({ provisioner: '' })).errors, ['provisioner: Required value']);
  assert.match(simulateCreate(storageClassResource, sc({ provisioner: 'a/b/c' })).errors[0], /^provisioner: Invalid value: "a\/b\/c": a qualified name must consist of/);
  assert.deepEqual(simulateCreate(storageClassResource, sc({ reclaimPolicy: 'Recycle' })).errors, ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"']);
  assert.deepEqual(simulateCreate(storageClassResource, sc({ volumeBindingMode: 'Later' })).errors, ['volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"']);
});

test('provisioner, parameters, reclaimPolicy and volumeBindingMode are immutable; annotations and allowVolumeExpansion are not', () => {
  const { obj: old } = simulateCreate(storageClassResource, sc({ parameters: { a: '1' } }));
  const changed = { ...old, provisioner: 'example.com/x', parameters: { a: '2' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' };
  assert.deepEqual(simulateUpdate(storageClassResource, old, changed).errors, [
    'parameters: Forbidden: updates to parameters are forbidden.',
    'provisioner: Forbidden: updates to provisioner are forbidden.',
    'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
    'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
  ]);
  const ok = { ...old, allowVolumeExpansion: true, metadata: { ...old.metadata, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } };
  assert.deepEqual(simulateUpdate(storageClassResource, old, ok).errors, []);
});

test('the printer marks the default class and prints kubectl\'s columns', () => {
  const table = storageClassResource.table!;
  assert.deepEqual(
    table.columns.map((c) => c.name),
    ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age'],
  );
  const { obj } = simulateCreate(storageClassResource, {
    ...sc({ volumeBindingMode: 'WaitForFirstConsumer' }),
    metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  });
  const now = new Date(Date.parse(obj.metadata!.creationTimestamp!) + 5 * 60_000);
  assert.deepEqual(table.cells(obj, now), ['local-path (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', false, '5m']);
  const plain = simulateCreate(storageClassResource, sc({ allowVolumeExpansion: true })).obj;
  assert.deepEqual(table.cells(plain, now).slice(0, 1).concat(table.cells(plain, now).slice(4, 5)), ['fast', true]);
});
