/**
 * @module Namespace controller decisions against the real REST pipeline: content deletion,
 * waiting on terminating pods and finalizers, kube's deletion conditions, the /finalize
 * write, and one run() over live informers. Namespaces are held by a metadata finalizer
 * so they stay observable after the controller releases its "kubernetes" token.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { knownResources } from '../garbagecollector/resources.js';
import { ControllerTestEnv, poll } from '../common/test-env.js';
import { NamespaceController } from './controller.js';
import { finalizeNamespace, ResourcesRemainingError } from './deleter.js';

const hold = 'example.com/hold';
const served = knownResources.filter((r) => r.namespaced && r.gvr.resource !== 'controllerrevisions');

async function namespaceWithContent(env: ControllerTestEnv, name: string, opts: { boundPod?: boolean } = {}): Promise<void> {
  await env.client.create(Resources.namespaces, undefined, { metadata: { name, finalizers: [hold] } });
  await env.client.create(Resources.configmaps, name, { metadata: { name: 'settings' }, data: { a: '1' } });
  await env.client.create(Resources.secrets, name, { metadata: { name: 'token' }, stringData: { t: 'x' } });
  await env.client.create(Resources.services, name, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
  await env.client.create(Resources.deployments, name, {
    metadata: { name: 'web' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] } },
    },
  });
  await env.client.create(Resources.pods, name, {
    metadata: { name: 'web-1' },
    spec: { ...(opts.boundPod ? { nodeName: 'node-a' } : {}), containers: [{ name: 'app', image: 'busybox:1.36' }] },
  });
}

async function content(env: ControllerTestEnv, namespace: string): Promise<string[]> {
  const out: string[] = [];
  for (const r of served) {
    // Resources skiff does not serve (yet) answer 404.
    const items = await env.list(r.gvr, namespace).catch(() => [] as KObject[]);
    for (const o of items) out.push(`${r.gvr.resource}/${o.metadata!.name}`);
  }
  return out.sort();
}

function condition(ns: KObject | undefined, type: string): KObject | undefined {
  return (ns?.status?.conditions as KObject[] | undefined)?.find((c) => c.type === type);
}

describe('namespace controller', () => {
  let env: ControllerTestEnv;
  let nc: NamespaceController;
  beforeEach(async () => {
    env = await ControllerTestEnv.create();
    nc = new NamespaceController(env.ctx, { resources: served });
    await env.refresh();
  });
  afterEach(async () => {
    await env.close();
  });

  test('a namespace that is not being deleted is left alone', async () => {
    await namespaceWithContent(env, 'team');
    await env.refresh();
    await nc.sync('team');
    assert.equal((await content(env, 'team')).length, 5);
  });

  test('a terminating namespace is emptied, its conditions say so, and "kubernetes" leaves spec.finalizers', async () => {
    await namespaceWithContent(env, 'team');
    await env.client.delete(Resources.namespaces, undefined, 'team');
    await env.refresh();
    await nc.sync('team');
    assert.deepEqual(await content(env, 'team'), []);
    const ns = await env.get(Resources.namespaces, 'team', undefined);
    assert.equal(ns?.status?.phase, 'Terminating');
    assert.deepEqual(ns?.spec?.finalizers ?? [], []);
    assert.deepEqual(
      (ns?.status?.conditions as KObject[]).map((c) => `${c.type} ${c.status} ${c.reason}`),
      [
        'NamespaceDeletionDiscoveryFailure False ResourcesDiscovered',
        'NamespaceDeletionGroupVersionParsingFailure False ParsedGroupVersions',
        'NamespaceDeletionContentFailure False ContentDeleted',
        'NamespaceContentRemaining False ContentRemoved',
        'NamespaceFinalizersRemaining False ContentHasNoFinalizers',
      ],
    );
    assert.equal(condition(ns, 'NamespaceContentRemaining')?.message, 'All content successfully removed');
  });

  test('terminating pods keep the namespace until they are gone, with an estimate from their grace period', async () => {
    await namespaceWithContent(env, 'team', { boundPod: true });
    await env.client.delete(Resources.namespaces, undefined, 'team');
    await env.refresh();
    await assert.rejects(nc.sync('team'), (err: unknown) => err instanceof ResourcesRemainingError && err.estimate === 30);
    assert.deepEqual(await content(env, 'team'), ['pods/web-1']);
    let ns = await env.get(Resources.namespaces, 'team', undefined);
    assert.deepEqual(ns?.spec?.finalizers, ['kubernetes']);
    const remaining = condition(ns, 'NamespaceContentRemaining');
    assert.equal(remaining?.status, 'True');
    assert.equal(remaining?.reason, 'SomeResourcesRemain');
    assert.equal(remaining?.message, 'Some resources are remaining: pods. has 1 resource instances');

    // The node agent finishes the pod.
    await env.client.delete(Resources.pods, 'team', 'web-1', { gracePeriodSeconds: 0 });
    env.advance(2000);
    await nc.sync('team');
    ns = await env.get(Resources.namespaces, 'team', undefined);
    assert.deepEqual(ns?.spec?.finalizers ?? [], []);
    assert.equal(condition(ns, 'NamespaceContentRemaining')?.status, 'False');
  });

  test('a pod still there after its grace period is reported as a content failure', async () => {
    await namespaceWithContent(env, 'team', { boundPod: true });
    await env.client.delete(Resources.namespaces, undefined, 'team');
    env.advance(31_000);
    await env.refresh();
    await assert.rejects(nc.sync('team'), /unexpected items still remain in namespace: team for gvr: \/v1, Resource=pods/);
    const ns = await env.get(Resources.namespaces, 'team', undefined);
    const failure = condition(ns, 'NamespaceDeletionContentFailure');
    assert.equal(failure?.status, 'True');
    assert.equal(failure?.reason, 'ContentDeletionFailed');
    assert.equal(failure?.message, 'Failed to delete all resource types, 1 remaining: unexpected items still remain in namespace: team for gvr: /v1, Resource=pods');
    assert.deepEqual(ns?.spec?.finalizers, ['kubernetes']);
  });

  test('content held by finalizers is waited for (15 s estimate) and named in NamespaceFinalizersRemaining', async () => {
    await env.client.create(Resources.namespaces, undefined, { metadata: { name: 'team', finalizers: [hold] } });
    await env.client.create(Resources.configmaps, 'team', { metadata: { name: 'pinned', finalizers: ['example.com/keep'] } });
    await env.client.delete(Resources.namespaces, undefined, 'team');
    await env.refresh();
    await assert.rejects(nc.sync('team'), (err: unknown) => err instanceof ResourcesRemainingError && err.estimate === 15);
    const ns = await env.get(Resources.namespaces, 'team', undefined);
    const fin = condition(ns, 'NamespaceFinalizersRemaining');
    assert.equal(fin?.status, 'True');
    assert.equal(fin?.reason, 'SomeFinalizersRemain');
    assert.equal(fin?.message, 'Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances');
    assert.ok((await env.get(Resources.configmaps, 'pinned', 'team'))?.metadata?.deletionTimestamp);
  });

  test('a namespace held only by "kubernetes" disappears once emptied', async () => {
    await env.client.create(Resources.namespaces, undefined, { metadata: { name: 'plain' } });
    await env.client.create(Resources.configmaps, 'plain', { metadata: { name: 'settings' } });
    await env.client.delete(Resources.namespaces, undefined, 'plain');
    const terminating = await env.get(Resources.namespaces, 'plain', undefined);
    assert.equal(terminating?.status?.phase, 'Terminating', 'the API server keeps it while spec.finalizers is not empty');
    await env.refresh();
    await nc.sync('plain');
    assert.equal(await env.get(Resources.namespaces, 'plain', undefined), undefined);
    assert.deepEqual(await content(env, 'plain'), []);
  });

  test('finalizeNamespace removes only the "kubernetes" token', async () => {
    await env.client.create(Resources.namespaces, undefined, { metadata: { name: 'team', finalizers: [hold] }, spec: { finalizers: ['z.example.com/x'] } });
    const ns = await env.client.get(Resources.namespaces, undefined, 'team');
    assert.deepEqual(ns.spec.finalizers, ['z.example.com/x', 'kubernetes']);
    const out = await finalizeNamespace(env.client, ns);
    assert.deepEqual(out?.spec?.finalizers, ['z.example.com/x']);
  });
});

describe('namespace controller run()', () => {
  test('with live informers, deleting a namespace empties and releases it', async () => {
    const env = await ControllerTestEnv.create();
    const ac = new AbortController();
    try {
      const nc = new NamespaceController(env.ctx);
      env.informers.start(ac.signal);
      const running = nc.run(ac.signal, 1);
      await namespaceWithContent(env, 'team');
      await env.client.delete(Resources.namespaces, undefined, 'team');
      await poll(async () => {
        const ns = await env.get(Resources.namespaces, 'team', undefined);
        return ns && (ns.spec?.finalizers ?? []).length === 0;
      }, 'namespace finalized');
      assert.deepEqual(await content(env, 'team'), []);
      ac.abort();
      await running;
    } finally {
      ac.abort();
      await env.close();
    }
  });
});
