import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { startServer, type RunningServer } from '../../apiserver/server.js';
import { Resources, type Client } from '../../client/client.js';
import type { KObject } from '../../api/types.js';
import { buildResources, KubeClient, mapKind, parseManifest, ResourceMappingError, sortByKind, installOrder, uninstallOrder } from './kube.js';

let server: RunningServer;
let dir: string;
let client: Client;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-helm-kube-'));
  server = await startServer({ dataDir: dir, port: 0, log: () => {} });
  client = new LoopbackClient(server.rest, 'test');
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const deployment = (name: string, replicas: number): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
});

describe('helm kube client', () => {
  it('maps kinds to resources and refuses unknown kinds as Helm does', () => {
    assert.deepEqual(mapKind('apps/v1', 'Deployment').gvr, { group: 'apps', version: 'v1', resource: 'deployments' });
    assert.throws(() => mapKind('example.com/v1', 'Widget'), (e: Error) => e instanceof ResourceMappingError && /resource mapping not found for kind "Widget" in version "example.com\/v1"/.test(e.message));
    const [ns, cm] = buildResources(parseManifest('apiVersion: v1\nkind: Namespace\nmetadata: { name: n, namespace: ignored }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n'), 'apps');
    assert.equal(ns.namespace, undefined, 'cluster-scoped objects get no namespace');
    assert.equal(cm.namespace, 'apps', 'namespaced objects default to the release namespace');
  });

  it('orders by install and uninstall order, unknown kinds last', () => {
    const kinds = ['Deployment', 'Widget', 'Service', 'ConfigMap', 'Namespace', 'Apple'];
    assert.deepEqual(sortByKind(kinds, (k) => k, installOrder), ['Namespace', 'ConfigMap', 'Service', 'Deployment', 'Apple', 'Widget']);
    assert.deepEqual(sortByKind(kinds, (k) => k, uninstallOrder), ['Service', 'Deployment', 'ConfigMap', 'Namespace', 'Apple', 'Widget']);
  });

  it('judges readiness as Helm --wait: new ReplicaSet ready within maxUnavailable, LoadBalancer ingress, PVC bound', async () => {
    const kube = new KubeClient(client);
    const ns = 'default';
    const [d] = buildResources([deployment('ready-check', 4)], ns);
    await client.create(d.gvr, ns, d.obj);
    assert.equal(await kube.isReady(d), false, 'no ReplicaSet yet');
    const live = await client.get(Resources.deployments, ns, 'ready-check');
    await client.patch(Resources.deployments, ns, 'ready-check', 'merge', { metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } } });
    // (kube bumps a Deployment's generation on annotation changes too.)
    const annotated = await client.get(Resources.deployments, ns, 'ready-check');
    await client.update(Resources.deployments, ns, { ...annotated, status: { observedGeneration: annotated.metadata?.generation } }, { subresource: 'status' });
    const owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ready-check', uid: live.metadata!.uid!, controller: true };
    const rs = (name: string, rev: string) => ({
      metadata: { name, annotations: { 'deployment.kubernetes.io/revision': rev }, ownerReferences: [owner], labels: { app: 'ready-check' } },
      spec: { replicas: 4, selector: { matchLabels: { app: 'ready-check' } }, template: { metadata: { labels: { app: 'ready-check' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    await client.create(Resources.replicasets, ns, rs('old', '1'));
    const fresh = await client.create(Resources.replicasets, ns, rs('new', '2'));
    const setReady = async (n: number) =>
      client.update(Resources.replicasets, ns, { ...(await client.get(Resources.replicasets, ns, 'new')), status: { replicas: 4, readyReplicas: n } }, { subresource: 'status' });
    await client.update(Resources.replicasets, ns, { ...(await client.get(Resources.replicasets, ns, 'old')), status: { replicas: 4, readyReplicas: 4 } }, { subresource: 'status' });
    assert.ok(fresh);
    await setReady(2);
    assert.equal(await kube.isReady(d), false, 'the old ReplicaSet being ready does not count; 2 < 4 − 1 (25%)');
    await setReady(3);
    assert.equal(await kube.isReady(d), true, '3 ≥ 4 − maxUnavailable 1');

    const [lb] = buildResources(parseManifest('apiVersion: v1\nkind: Service\nmetadata: { name: lb }\nspec: { type: LoadBalancer, ports: [{ port: 80 }] }\n'), ns);
    await client.create(lb.gvr, ns, lb.obj);
    assert.equal(await kube.isReady(lb), false, 'no load balancer ingress yet');
    await client.update(Resources.services, ns, { ...(await client.get(Resources.services, ns, 'lb')), status: { loadBalancer: { ingress: [{ ip: '127.0.0.2' }] } } }, { subresource: 'status' });
    assert.equal(await kube.isReady(lb), true);

    const [pvc] = buildResources(parseManifest('apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: data }\nspec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }\n'), ns);
    await client.create(pvc.gvr, ns, pvc.obj);
    assert.equal(await kube.isReady(pvc), false, 'Pending');
    await assert.rejects(kube.waitReady([pvc], { timeoutMs: 50, intervalMs: 10 }), /timed out waiting for the condition/);
  });
});
