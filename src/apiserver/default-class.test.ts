/** @module DefaultIngressClass and DefaultStorageClass admission through the REST pipeline. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { allResources } from '../api/kinds/index.js';
import type { KObject } from '../api/types.js';
import { openStore, type Store } from '../storage/store.js';
import '../storage/sqlite/index.js';
import { defaultClassRules, installDefaultClassAdmission } from './default-class.js';
import { ResourceRegistry } from './registry.js';
import { RestStorage, type WriteContext } from './rest.js';

const registry = new ResourceRegistry(allResources);
const def = (g: string, v: string, r: string) => registry.lookup(g, v, r)!;
const ingressClasses = def('networking.k8s.io', 'v1', 'ingressclasses');
const ingresses = def('networking.k8s.io', 'v1', 'ingresses');
const storageClasses = def('storage.k8s.io', 'v1', 'storageclasses');
const claims = def('', 'v1', 'persistentvolumeclaims');
const stores: Store[] = [];
after(async () => {
  for (const s of stores) await s.close();
});

const ctx = (): WriteContext => ({ dryRun: false, fieldManager: 'test', fieldValidation: 'Strict', warnings: [] });

async function fresh(): Promise<{ rest: RestStorage; setClock(d: Date): void }> {
  const store = await openStore('sqlite::memory:');
  stores.push(store);
  let now = new Date('2026-01-01T00:00:00Z');
  const rest = new RestStorage(store, registry, () => now);
  await rest.create(def('', 'v1', 'namespaces'), undefined, { metadata: { name: 'default' } }, ctx());
  for (const rule of defaultClassRules((g, v, r) => registry.lookup(g, v, r))) installDefaultClassAdmission(rest, rule, []);
  return { rest, setClock: (d) => (now = d) };
}

const ingress = (name: string, extra: KObject = {}): KObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, ...(extra.metadata ?? {}) },
  spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } }, ...(extra.spec ?? {}) },
});
const ingressClass = (name: string, isDefault: boolean): KObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} },
  spec: { controller: 'example.com/ingress' },
});

describe('default class admission', () => {
  test('an Ingress without a class gets the default IngressClass; a named class or the legacy annotation is kept', async () => {
    const { rest } = await fresh();
    assert.equal((await rest.create(ingresses, 'default', ingress('before'), ctx())).spec.ingressClassName, undefined, 'no default class yet');
    await rest.create(ingressClasses, undefined, ingressClass('other', false), ctx());
    await rest.create(ingressClasses, undefined, ingressClass('skiff', true), ctx());
    assert.equal((await rest.create(ingresses, 'default', ingress('plain'), ctx())).spec.ingressClassName, 'skiff');
    assert.equal((await rest.create(ingresses, 'default', ingress('named', { spec: { ingressClassName: 'other' } }), ctx())).spec.ingressClassName, 'other');
    const legacy = await rest.create(ingresses, 'default', ingress('legacy', { metadata: { annotations: { 'kubernetes.io/ingress.class': 'other' } } }), ctx());
    assert.equal(legacy.spec.ingressClassName, undefined);
    await rest.delete(ingressClasses, undefined, 'skiff', {}, ctx());
    assert.equal((await rest.create(ingresses, 'default', ingress('after'), ctx())).spec.ingressClassName, undefined, 'the default class is gone');
  });

  test('a claim without storageClassName gets the newest default StorageClass; "" asks for none', async () => {
    const { rest, setClock } = await fresh();
    const sc = (name: string) => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'rancher.io/local-path' });
    await rest.create(storageClasses, undefined, sc('old'), ctx());
    setClock(new Date('2026-02-01T00:00:00Z'));
    await rest.create(storageClasses, undefined, sc('new'), ctx());
    const claim = (name: string, spec: KObject = {}) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } });
    assert.equal((await rest.create(claims, 'default', claim('a'), ctx())).spec.storageClassName, 'new');
    assert.equal((await rest.create(claims, 'default', claim('b', { storageClassName: '' }), ctx())).spec.storageClassName, '');
    setClock(new Date('2026-03-01T00:00:00Z'));
    await rest.create(storageClasses, undefined, { ...sc('beta'), metadata: { name: 'beta', annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'true' } } }, ctx());
    assert.equal((await rest.create(claims, 'default', claim('c'), ctx())).spec.storageClassName, 'beta', 'the beta annotation marks a default too');
  });
});
