/** @module kube-apiserver semantics of the generic REST pipeline (RestStorage) over an in-memory SQLite store. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ApiError } from '../api/errors.js';
import { allResources } from '../api/kinds/index.js';
import type { KObject, ResourceDef } from '../api/types.js';
import { openStore, type Store } from '../storage/store.js';
import '../storage/sqlite/index.js';
import { ResourceRegistry } from './registry.js';
import { RestStorage, type ApiWatchEvent, type WatchParams, type WriteContext } from './rest.js';
import { eventually } from '../client/testing.js';

const now = new Date('2025-03-01T12:00:00Z');
const registry = new ResourceRegistry(allResources);
const configMaps = registry.lookup('', 'v1', 'configmaps')!;
const namespaces = registry.lookup('', 'v1', 'namespaces')!;
const deployments = registry.lookup('apps', 'v1', 'deployments')!;

const stores: Store[] = [];
after(async () => {
  for (const s of stores) await s.close();
});

interface Api {
  store: Store;
  rest: RestStorage;
}

/** A fresh store with the default namespace, as a new cluster has. */
async function fresh(): Promise<Api> {
  const store = await openStore('sqlite::memory:');
  stores.push(store);
  const rest = new RestStorage(store, registry, () => now);
  await rest.create(namespaces, undefined, { metadata: { name: 'default' } }, ctx());
  return { store, rest };
}

function ctx(over: Partial<WriteContext> = {}): WriteContext {
  return { dryRun: false, fieldManager: 'rest-test', fieldValidation: 'Strict', warnings: [], ...over };
}

function cm(name: string, labels?: Record<string, string>, data: Record<string, string> = { k: 'v' }): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data };
}

function deployment(name: string, replicas = 1): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
    },
  };
}

/** Runs fn and returns the ApiError it must throw. */
async function apiError(fn: () => Promise<unknown>): Promise<ApiError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw new Error(`expected an ApiError, got ${String(e)}`);
  }
  throw new Error('expected an ApiError, the call succeeded');
}

async function names(rest: RestStorage, def: ResourceDef, ns: string | undefined, params = {}): Promise<string[]> {
  const list = await rest.list(def, ns, params);
  return (list.items as KObject[]).map((i) => i.metadata!.name!);
}

const until = (cond: () => boolean, what: string, timeoutMs = 3000) => eventually(cond, what, timeoutMs, 5);

/** Opens a watch and records what it sends; cancel it at the end of the test. */
async function watch(rest: RestStorage, def: ResourceDef, ns: string | undefined, params: WatchParams) {
  const events: ApiWatchEvent[] = [];
  const state = { ended: false };
  const w = await rest.watch(def, ns, params, (ev) => events.push(ev), () => (state.ended = true));
  return { events, state, cancel: () => w.cancel() };
}

const summary = (events: ApiWatchEvent[]) => events.map((e) => `${e.type} ${e.object.metadata?.name}`);

describe('list pagination', () => {
  test('limit/continue pages through five objects at one resourceVersion, with remainingItemCount', async () => {
    const { rest } = await fresh();
    for (const n of ['a', 'b', 'c', 'd', 'e']) await rest.create(configMaps, 'default', cm(n), ctx());
    const first = await rest.list(configMaps, 'default', { limit: 2 });
    assert.deepEqual((first.items as KObject[]).map((i) => i.metadata!.name), ['a', 'b']);
    assert.equal(first.metadata!.remainingItemCount, 3);
    assert.ok(first.metadata!.continue);
    // A write between pages does not show up: the continuation reads at the first page's revision.
    await rest.create(configMaps, 'default', cm('f'), ctx());
    const second = await rest.list(configMaps, 'default', { limit: 2, continue: first.metadata!.continue as string });
    assert.deepEqual((second.items as KObject[]).map((i) => i.metadata!.name), ['c', 'd']);
    assert.equal(second.metadata!.resourceVersion, first.metadata!.resourceVersion);
    assert.equal(second.metadata!.remainingItemCount, 1);
    const last = await rest.list(configMaps, 'default', { limit: 2, continue: second.metadata!.continue as string });
    assert.deepEqual((last.items as KObject[]).map((i) => i.metadata!.name), ['e']);
    assert.equal(last.metadata!.continue, undefined);
    assert.equal(last.metadata!.remainingItemCount, undefined);
  });

  test('with a label selector the limit counts matches and remainingItemCount is left out', async () => {
    const { rest } = await fresh();
    for (const [i, n] of ['a', 'b', 'c', 'd', 'e', 'f', 'g'].entries()) await rest.create(configMaps, 'default', cm(n, { even: String(i % 2 === 0) }), ctx());
    const first = await rest.list(configMaps, 'default', { limit: 2, labelSelector: 'even=true' });
    assert.deepEqual((first.items as KObject[]).map((i) => i.metadata!.name), ['a', 'c']);
    assert.ok(first.metadata!.continue, 'more matches remain');
    assert.equal(first.metadata!.remainingItemCount, undefined);
    const second = await rest.list(configMaps, 'default', { limit: 2, labelSelector: 'even=true', continue: first.metadata!.continue as string });
    assert.deepEqual((second.items as KObject[]).map((i) => i.metadata!.name), ['e', 'g']);
    assert.equal(second.metadata!.continue, undefined, 'g is the last key: nothing left to continue');
  });

  test('a limit larger than the collection returns everything without continue', async () => {
    const { rest } = await fresh();
    for (const n of ['a', 'b']) await rest.create(configMaps, 'default', cm(n), ctx());
    const list = await rest.list(configMaps, 'default', { limit: 10 });
    assert.equal((list.items as KObject[]).length, 2);
    assert.equal(list.metadata!.continue, undefined);
  });

  test('a continue token older than the compaction is 410 Expired with kube-apiserver\'s message', async () => {
    const { rest, store } = await fresh();
    for (const n of ['a', 'b', 'c']) await rest.create(configMaps, 'default', cm(n), ctx());
    const first = await rest.list(configMaps, 'default', { limit: 1 });
    await rest.update(configMaps, 'default', 'a', cm('a', undefined, { k: 'changed' }), ctx());
    await store.compact(await store.currentRevision());
    const err = await apiError(() => rest.list(configMaps, 'default', { limit: 1, continue: first.metadata!.continue as string }));
    assert.equal(err.code, 410);
    assert.equal(err.reason, 'Expired');
    assert.match(err.message, /^The provided continue parameter is too old to display a consistent list result\. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results\./);
  });

  test(
    'the 410 for a compacted continue token carries a fresh continue token in the Status, as kube-apiserver does',
    async () => {
      const { rest, store } = await fresh();
      for (const n of ['a', 'b', 'c']) await rest.create(configMaps, 'default', cm(n), ctx());
      const first = await rest.list(configMaps, 'default', { limit: 1 });
      await rest.update(configMaps, 'default', 'a', cm('a', undefined, { k: 'changed' }), ctx());
      await store.compact(await store.currentRevision());
      const err = await apiError(() => rest.list(configMaps, 'default', { limit: 1, continue: first.metadata!.continue as string }));
      const status = err.toStatus();
      const token = status.metadata.continue as string;
      assert.ok(token, 'Status.metadata.continue is set');
      // The inconsistent continuation goes on after "a" at the latest revision.
      const rest2 = await rest.list(configMaps, 'default', { continue: token });
      assert.deepEqual((rest2.items as KObject[]).map((i) => i.metadata!.name), ['b', 'c']);
    },
  );

  test('a garbage continue token is 400 BadRequest', async () => {
    const { rest } = await fresh();
    const err = await apiError(() => rest.list(configMaps, 'default', { limit: 1, continue: 'not a token!' }));
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.match(err.message, /continue key is not valid/);
  });

  test(
    'a garbage continue token reads "invalid continue token: continue key is not valid: ..." as in kube-apiserver',
    async () => {
      const { rest } = await fresh();
      const err = await apiError(() => rest.list(configMaps, 'default', { limit: 1, continue: 'not a token!' }));
      assert.match(err.message, /^invalid continue token: continue key is not valid: /);
    },
  );

  test(
    'continue together with a resourceVersion is 400 BadRequest',
    async () => {
      const { rest } = await fresh();
      for (const n of ['a', 'b']) await rest.create(configMaps, 'default', cm(n), ctx());
      const first = await rest.list(configMaps, 'default', { limit: 1 });
      const err = await apiError(() =>
        rest.list(configMaps, 'default', { limit: 1, continue: first.metadata!.continue as string, resourceVersion: first.metadata!.resourceVersion as string }),
      );
      assert.equal(err.code, 400);
      assert.equal(err.message, 'specifying resource version is not allowed when using continue');
    },
  );
});

describe('list at a resourceVersion', () => {
  test('resourceVersionMatch=Exact lists the collection as it was at that revision', async () => {
    const { rest } = await fresh();
    await rest.create(configMaps, 'default', cm('a', undefined, { k: 'old' }), ctx());
    const then = await rest.list(configMaps, 'default', {});
    const rv = then.metadata!.resourceVersion as string;
    await rest.update(configMaps, 'default', 'a', cm('a', undefined, { k: 'new' }), ctx());
    await rest.create(configMaps, 'default', cm('b'), ctx());
    const exact = await rest.list(configMaps, 'default', { resourceVersion: rv, resourceVersionMatch: 'Exact' });
    assert.equal(exact.metadata!.resourceVersion, rv);
    const items = exact.items as KObject[];
    assert.deepEqual(items.map((i) => i.metadata!.name), ['a']);
    assert.equal(items[0].data.k, 'old');
    const latest = await rest.list(configMaps, 'default', {});
    assert.deepEqual((latest.items as KObject[]).map((i) => i.data.k), ['new', 'v']);
  });

  test('resourceVersionMatch=Exact at a compacted revision is 410 Expired', async () => {
    const { rest, store } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    await rest.create(configMaps, 'default', cm('b'), ctx());
    await store.compact(await store.currentRevision());
    const err = await apiError(() => rest.list(configMaps, 'default', { resourceVersion: a.metadata!.resourceVersion, resourceVersionMatch: 'Exact' }));
    assert.equal(err.code, 410);
    assert.equal(err.reason, 'Expired');
  });

  test(
    'the 410 of an Exact list at a compacted revision reads as kube-apiserver\'s',
    async () => {
      const { rest, store } = await fresh();
      const a = await rest.create(configMaps, 'default', cm('a'), ctx());
      await rest.create(configMaps, 'default', cm('b'), ctx());
      await store.compact(await store.currentRevision());
      const err = await apiError(() => rest.list(configMaps, 'default', { resourceVersion: a.metadata!.resourceVersion, resourceVersionMatch: 'Exact' }));
      assert.equal(err.message, 'The resourceVersion for the provided list is too old.');
    },
  );
});

describe('watch', () => {
  test('from a resourceVersion: replays what happened after it, then goes on live', async () => {
    const { rest } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    const start = a.metadata!.resourceVersion!;
    await rest.update(configMaps, 'default', 'a', cm('a', undefined, { k: 'two' }), ctx());
    const b = await rest.create(configMaps, 'default', cm('b'), ctx());
    const w = await watch(rest, configMaps, 'default', { resourceVersion: start });
    try {
      await until(() => w.events.length >= 2, 'replayed events');
      assert.deepEqual(summary(w.events), ['MODIFIED a', 'ADDED b']);
      assert.equal(w.events[1].object.metadata!.resourceVersion, b.metadata!.resourceVersion);
      assert.equal(w.events[0].object.data.k, 'two');
      const out = await rest.delete(configMaps, 'default', 'b', {}, ctx());
      assert.equal(out.code, 200);
      await until(() => w.events.length >= 3, 'live DELETED');
      const deleted = w.events[2];
      assert.equal(deleted.type, 'DELETED');
      assert.equal(deleted.object.metadata!.name, 'b');
      // The DELETED object carries the revision of the deletion, not its last write.
      const listed = await rest.list(configMaps, 'default', {});
      assert.equal(deleted.object.metadata!.resourceVersion, listed.metadata!.resourceVersion);
      assert.ok(Number(deleted.object.metadata!.resourceVersion) > Number(b.metadata!.resourceVersion));
      assert.equal(deleted.object.kind, 'ConfigMap');
    } finally {
      w.cancel();
    }
  });

  test('without a resourceVersion: the current objects arrive as ADDED first', async () => {
    const { rest } = await fresh();
    await rest.create(configMaps, 'default', cm('a'), ctx());
    await rest.create(configMaps, 'default', cm('b'), ctx());
    const w = await watch(rest, configMaps, 'default', {});
    try {
      await until(() => w.events.length >= 2, 'initial ADDED');
      assert.deepEqual(summary(w.events), ['ADDED a', 'ADDED b']);
      await rest.create(configMaps, 'default', cm('c'), ctx());
      await until(() => w.events.length >= 3, 'live ADDED');
      assert.deepEqual(summary(w.events), ['ADDED a', 'ADDED b', 'ADDED c']);
    } finally {
      w.cancel();
    }
  });

  test('objects entering a label selector arrive as ADDED, leaving it as DELETED', async () => {
    const { rest } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a', { tier: 'back' }), ctx());
    const w = await watch(rest, configMaps, 'default', { resourceVersion: a.metadata!.resourceVersion, labelSelector: 'tier=front' });
    try {
      await rest.create(configMaps, 'default', cm('other', { tier: 'back' }), ctx());
      await rest.update(configMaps, 'default', 'a', cm('a', { tier: 'front' }), ctx());
      await rest.update(configMaps, 'default', 'a', cm('a', { tier: 'front' }, { k: 'x' }), ctx());
      await rest.update(configMaps, 'default', 'a', cm('a', { tier: 'back' }, { k: 'x' }), ctx());
      await until(() => w.events.length >= 3, 'selector transitions');
      assert.deepEqual(summary(w.events), ['ADDED a', 'MODIFIED a', 'DELETED a']);
      const current = await rest.get(configMaps, 'default', 'a');
      assert.equal(w.events[2].object.metadata!.resourceVersion, current.metadata!.resourceVersion);
    } finally {
      w.cancel();
    }
  });

  test(
    'the DELETED event of an object leaving the selector carries its previous state, as the watch cache sends it',
    async () => {
      const { rest } = await fresh();
      const a = await rest.create(configMaps, 'default', cm('a', { tier: 'front' }), ctx());
      const w = await watch(rest, configMaps, 'default', { resourceVersion: a.metadata!.resourceVersion, labelSelector: 'tier=front' });
      try {
        const moved = await rest.update(configMaps, 'default', 'a', cm('a', { tier: 'back' }), ctx());
        await until(() => w.events.length >= 1, 'DELETED');
        assert.equal(w.events[0].type, 'DELETED');
        assert.deepEqual(w.events[0].object.metadata!.labels, { tier: 'front' });
        assert.equal(w.events[0].object.metadata!.resourceVersion, moved.metadata!.resourceVersion);
      } finally {
        w.cancel();
      }
    },
  );

  test('from a compacted revision: one ERROR event with 410 Expired, then the watch ends', async () => {
    const { rest, store } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    await rest.create(configMaps, 'default', cm('b'), ctx());
    await rest.create(configMaps, 'default', cm('c'), ctx());
    await store.compact(await store.currentRevision());
    const w = await watch(rest, configMaps, 'default', { resourceVersion: a.metadata!.resourceVersion });
    try {
      await until(() => w.state.ended, 'the watch to end');
      assert.equal(w.events.length, 1);
      assert.equal(w.events[0].type, 'ERROR');
      const status = w.events[0].object;
      assert.equal(status.kind, 'Status');
      assert.equal(status.code, 410);
      assert.equal(status.reason, 'Expired');
      assert.match(status.message, /^too old resource version: \d+ \(\d+\)$/);
    } finally {
      w.cancel();
    }
  });

  test('a watch removing the last finalizer sees the object DELETED', async () => {
    const { rest } = await fresh();
    const held = await rest.create(configMaps, 'default', { ...cm('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } }, ctx());
    const w = await watch(rest, configMaps, 'default', { resourceVersion: held.metadata!.resourceVersion });
    try {
      await rest.delete(configMaps, 'default', 'held', {}, ctx());
      const current = await rest.get(configMaps, 'default', 'held');
      await rest.update(configMaps, 'default', 'held', { ...current, metadata: { ...current.metadata, finalizers: [] } }, ctx());
      await until(() => w.events.length >= 2, 'MODIFIED then DELETED');
      assert.deepEqual(summary(w.events), ['MODIFIED held', 'DELETED held']);
      assert.ok(w.events[0].object.metadata!.deletionTimestamp);
    } finally {
      w.cancel();
    }
  });
});

describe('create', () => {
  test('generateName: a five-character random suffix from kube\'s alphabet', async () => {
    const { rest } = await fresh();
    const made = await rest.create(configMaps, 'default', { metadata: { generateName: 'gen-' }, data: {} }, ctx());
    assert.match(made.metadata!.name!, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(made.metadata!.generateName, 'gen-');
    assert.deepEqual(await names(rest, configMaps, 'default'), [made.metadata!.name]);
    const again = await rest.create(configMaps, 'default', { metadata: { generateName: 'gen-' }, data: {} }, ctx());
    assert.notEqual(again.metadata!.name, made.metadata!.name);
  });

  test(
    'generateName is cut to 58 characters so the generated name stays a valid 63-character label',
    async () => {
      const { rest } = await fresh();
      const base = 'n'.repeat(62);
      const made = await rest.create(namespaces, undefined, { metadata: { generateName: base } }, ctx());
      assert.equal(made.metadata!.name!.length, 63);
      assert.ok(made.metadata!.name!.startsWith('n'.repeat(58)));
    },
  );

  test('server-set metadata: uid, creationTimestamp, resourceVersion; client values are replaced', async () => {
    const { rest } = await fresh();
    const made = await rest.create(configMaps, 'default', { ...cm('a'), metadata: { name: 'a', uid: 'mine', creationTimestamp: '2001-01-01T00:00:00Z' } }, ctx());
    assert.match(made.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.equal(made.metadata!.creationTimestamp, '2025-03-01T12:00:00Z');
    assert.match(made.metadata!.resourceVersion!, /^\d+$/);
    assert.equal(made.metadata!.namespace, 'default');
  });

  test('dryRun runs the whole pipeline and stores nothing', async () => {
    const { rest } = await fresh();
    const before = await rest.list(configMaps, 'default', {});
    const made = await rest.create(configMaps, 'default', cm('dry'), ctx({ dryRun: true }));
    assert.equal(made.metadata!.name, 'dry');
    assert.ok(made.metadata!.uid);
    assert.equal((await apiError(() => rest.get(configMaps, 'default', 'dry'))).code, 404);
    const afterList = await rest.list(configMaps, 'default', {});
    assert.equal(afterList.metadata!.resourceVersion, before.metadata!.resourceVersion, 'no revision was used');
    // Validation still runs under dryRun.
    const bad = await apiError(() => rest.create(configMaps, 'default', cm('Not_Valid'), ctx({ dryRun: true })));
    assert.equal(bad.code, 422);
  });

  test('dryRun create of an existing name is 409 AlreadyExists', async () => {
    const { rest } = await fresh();
    await rest.create(configMaps, 'default', cm('a'), ctx());
    const err = await apiError(() => rest.create(configMaps, 'default', cm('a'), ctx({ dryRun: true })));
    assert.equal(err.code, 409);
    assert.equal(err.message, 'configmaps "a" already exists');
  });

  test('create in a missing namespace is 404 namespaces "x" not found', async () => {
    const { rest } = await fresh();
    const err = await apiError(() => rest.create(configMaps, 'nowhere', cm('a'), ctx()));
    assert.equal(err.code, 404);
    assert.equal(err.reason, 'NotFound');
    assert.equal(err.message, 'namespaces "nowhere" not found');
    assert.deepEqual({ name: err.details?.name, kind: err.details?.kind }, { name: 'nowhere', kind: 'namespaces' });
  });

  test(
    'a resourceVersion on an object to be created is refused, as etcd3 store.Create does',
    async () => {
      const { rest } = await fresh();
      const err = await apiError(() => rest.create(configMaps, 'default', { ...cm('a'), metadata: { name: 'a', resourceVersion: '5' } }, ctx()));
      assert.equal(err.code, 500);
      assert.equal(err.message, 'resourceVersion should not be set on objects to be created');
      assert.equal((await apiError(() => rest.get(configMaps, 'default', 'a'))).code, 404);
    },
  );

  test('a namespace mismatch between body and request is 400', async () => {
    const { rest } = await fresh();
    const err = await apiError(() => rest.create(configMaps, 'default', { ...cm('a'), metadata: { name: 'a', namespace: 'other' } }, ctx()));
    assert.equal(err.code, 400);
    assert.equal(err.message, 'the namespace of the provided object does not match the namespace sent on the request');
  });
});

describe('update', () => {
  test('a stale resourceVersion is 409 Conflict with kube\'s message', async () => {
    const { rest } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    await rest.update(configMaps, 'default', 'a', { ...cm('a', undefined, { k: 'two' }), metadata: { name: 'a', resourceVersion: a.metadata!.resourceVersion } }, ctx());
    const err = await apiError(() =>
      rest.update(configMaps, 'default', 'a', { ...cm('a', undefined, { k: 'three' }), metadata: { name: 'a', resourceVersion: a.metadata!.resourceVersion } }, ctx()),
    );
    assert.equal(err.code, 409);
    assert.equal(err.reason, 'Conflict');
    assert.equal(err.message, 'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again');
    assert.equal((await rest.get(configMaps, 'default', 'a')).data.k, 'two');
  });

  test('an update of a missing object is 404', async () => {
    const { rest } = await fresh();
    const err = await apiError(() => rest.update(configMaps, 'default', 'ghost', cm('ghost'), ctx()));
    assert.equal(err.code, 404);
    assert.equal(err.message, 'configmaps "ghost" not found');
  });

  test('a no-op update keeps the resourceVersion and writes nothing', async () => {
    const { rest } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    const same = await rest.update(configMaps, 'default', 'a', a, ctx());
    assert.equal(same.metadata!.resourceVersion, a.metadata!.resourceVersion);
    const list = await rest.list(configMaps, 'default', {});
    assert.equal(list.metadata!.resourceVersion, a.metadata!.resourceVersion, 'the store revision did not move');
  });

  test('dryRun update returns the result and stores nothing', async () => {
    const { rest } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    const out = await rest.update(configMaps, 'default', 'a', cm('a', undefined, { k: 'dry' }), ctx({ dryRun: true }));
    assert.equal(out.data.k, 'dry');
    const stored = await rest.get(configMaps, 'default', 'a');
    assert.equal(stored.data.k, 'v');
    assert.equal(stored.metadata!.resourceVersion, a.metadata!.resourceVersion);
  });

  test('server-owned metadata cannot be changed by an update', async () => {
    const { rest } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    const out = await rest.update(configMaps, 'default', 'a', { ...cm('a', undefined, { k: 'x' }), metadata: { name: 'a', creationTimestamp: '2001-01-01T00:00:00Z' } }, ctx());
    assert.equal(out.metadata!.uid, a.metadata!.uid);
    assert.equal(out.metadata!.creationTimestamp, a.metadata!.creationTimestamp);
  });

  test(
    'a PUT carrying another object\'s uid is a 409 precondition failure',
    async () => {
      const { rest } = await fresh();
      await rest.create(configMaps, 'default', cm('a'), ctx());
      const err = await apiError(() =>
        rest.update(configMaps, 'default', 'a', { ...cm('a', undefined, { k: 'x' }), metadata: { name: 'a', uid: '6b3e0c8e-0000-4000-8000-000000000000' } }, ctx()),
      );
      assert.equal(err.code, 409);
      assert.match(err.message, /Precondition failed: UID in precondition: 6b3e0c8e-0000-4000-8000-000000000000, UID in object meta: /);
    },
  );

  test('a no-op merge patch keeps the resourceVersion', async () => {
    const { rest } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    const { object } = await rest.patch(configMaps, 'default', 'a', 'merge', Buffer.from('{"data":{"k":"v"}}'), ctx());
    assert.equal(object.metadata!.resourceVersion, a.metadata!.resourceVersion);
    const { object: changed } = await rest.patch(configMaps, 'default', 'a', 'merge', Buffer.from('{"data":{"k":"w"}}'), ctx());
    assert.notEqual(changed.metadata!.resourceVersion, a.metadata!.resourceVersion);
    assert.equal(changed.data.k, 'w');
  });

  test(
    'a patch that changes metadata.uid is 422: field is immutable',
    async () => {
      const { rest } = await fresh();
      await rest.create(configMaps, 'default', cm('a'), ctx());
      const err = await apiError(() => rest.patch(configMaps, 'default', 'a', 'merge', Buffer.from('{"metadata":{"uid":"other"}}'), ctx()));
      assert.equal(err.code, 422);
      assert.equal(err.message, 'ConfigMap "a" is invalid: metadata.uid: Invalid value: "other": field is immutable');
    },
  );

  test('the name in the body must match the URL', async () => {
    const { rest } = await fresh();
    await rest.create(configMaps, 'default', cm('a'), ctx());
    const err = await apiError(() => rest.update(configMaps, 'default', 'a', cm('b'), ctx()));
    assert.equal(err.code, 400);
    assert.equal(err.message, 'the name of the object (b) does not match the name on the URL (a)');
  });

  test('generation moves on spec changes only', async () => {
    const { rest } = await fresh();
    const d = await rest.create(deployments, 'default', deployment('web'), ctx());
    assert.equal(d.metadata!.generation, 1);
    const labelled = await rest.update(deployments, 'default', 'web', { ...d, metadata: { ...d.metadata, labels: { team: 'a' } } }, ctx());
    assert.equal(labelled.metadata!.generation, 1);
    assert.notEqual(labelled.metadata!.resourceVersion, d.metadata!.resourceVersion);
    const scaled = await rest.update(deployments, 'default', 'web', { ...labelled, spec: { ...labelled.spec, replicas: 3 } }, ctx());
    assert.equal(scaled.metadata!.generation, 2);
    // A client cannot set generation itself.
    const forged = await rest.update(deployments, 'default', 'web', { ...scaled, metadata: { ...scaled.metadata, generation: 42 } }, ctx());
    assert.equal(forged.metadata!.generation, 2);
  });

  test('status subresource: a main-resource update keeps status, a status update keeps spec and generation', async () => {
    const { rest } = await fresh();
    const d = await rest.create(deployments, 'default', deployment('web'), ctx());
    const withStatus = await rest.update(deployments, 'default', 'web', { ...d, status: { replicas: 1, observedGeneration: 1 } }, ctx(), 'status');
    assert.equal(withStatus.status.replicas, 1);
    assert.equal(withStatus.metadata!.generation, 1);
    // A status write that also changes spec: spec is ignored.
    const sneaky = await rest.update(deployments, 'default', 'web', { ...withStatus, spec: { ...withStatus.spec, replicas: 9 }, status: { replicas: 2 } }, ctx(), 'status');
    assert.equal(sneaky.spec.replicas, 1);
    assert.equal(sneaky.status.replicas, 2);
    assert.equal(sneaky.metadata!.generation, 1);
    // A main-resource write that changes only status is a no-op.
    const ignored = await rest.update(deployments, 'default', 'web', { ...sneaky, status: { replicas: 7 } }, ctx());
    assert.equal(ignored.status.replicas, 2);
    assert.equal(ignored.metadata!.resourceVersion, sneaky.metadata!.resourceVersion);
    // A main-resource write without status keeps the stored status.
    const specOnly = await rest.update(deployments, 'default', 'web', { ...deployment('web', 4), metadata: { name: 'web' } }, ctx());
    assert.equal(specOnly.spec.replicas, 4);
    assert.equal(specOnly.status.replicas, 2);
    assert.equal(specOnly.metadata!.generation, 2);
  });
});

describe('delete', () => {
  test('an object with a finalizer gets deletionTimestamp and stays; removing the last finalizer deletes it', async () => {
    const { rest } = await fresh();
    await rest.create(configMaps, 'default', { ...cm('held'), metadata: { name: 'held', finalizers: ['example.com/hold', 'example.com/other'] } }, ctx());
    const out = await rest.delete(configMaps, 'default', 'held', {}, ctx());
    assert.equal(out.body.kind, 'ConfigMap', 'the object, not a Status, comes back');
    assert.equal(out.body.metadata!.deletionTimestamp, '2025-03-01T12:00:00Z');
    assert.equal(out.body.metadata!.deletionGracePeriodSeconds, 0);
    const stored = await rest.get(configMaps, 'default', 'held');
    assert.ok(stored.metadata!.deletionTimestamp);
    // A second delete changes nothing.
    const again = await rest.delete(configMaps, 'default', 'held', {}, ctx());
    assert.equal(again.body.metadata!.resourceVersion, stored.metadata!.resourceVersion);
    const one = await rest.update(configMaps, 'default', 'held', { ...stored, metadata: { ...stored.metadata, finalizers: ['example.com/other'] } }, ctx());
    assert.deepEqual(one.metadata!.finalizers, ['example.com/other']);
    assert.ok(await rest.get(configMaps, 'default', 'held'));
    await rest.update(configMaps, 'default', 'held', { ...one, metadata: { ...one.metadata, finalizers: [] } }, ctx());
    assert.equal((await apiError(() => rest.get(configMaps, 'default', 'held'))).code, 404);
  });

  test(
    'a delete held by finalizers answers 200 unless orphanDependents=false, as kube-apiserver',
    async () => {
      const { rest } = await fresh();
      await rest.create(configMaps, 'default', { ...cm('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } }, ctx());
      const out = await rest.delete(configMaps, 'default', 'held', {}, ctx());
      assert.equal(out.code, 200);
    },
  );

  test(
    'no new finalizers may be added while the object is being deleted',
    async () => {
      const { rest } = await fresh();
      await rest.create(configMaps, 'default', { ...cm('held'), metadata: { name: 'held', finalizers: ['example.com/a'] } }, ctx());
      await rest.delete(configMaps, 'default', 'held', {}, ctx());
      const stored = await rest.get(configMaps, 'default', 'held');
      const err = await apiError(() =>
        rest.update(configMaps, 'default', 'held', { ...stored, metadata: { ...stored.metadata, finalizers: ['example.com/a', 'example.com/b'] } }, ctx()),
      );
      assert.equal(err.code, 422);
      assert.match(err.message, /metadata\.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers \[\]string\{"example\.com\/b"\}/);
    },
  );

  test('an object without finalizers is gone at once and the answer is a Success Status', async () => {
    const { rest } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    const out = await rest.delete(configMaps, 'default', 'a', {}, ctx());
    assert.equal(out.code, 200);
    assert.equal(out.body.kind, 'Status');
    assert.equal(out.body.status, 'Success');
    assert.deepEqual(out.body.details, { name: 'a', group: undefined, kind: 'configmaps', uid: a.metadata!.uid });
    assert.equal((await apiError(() => rest.delete(configMaps, 'default', 'a', {}, ctx()))).code, 404);
  });

  test('dryRun delete deletes nothing', async () => {
    const { rest } = await fresh();
    await rest.create(configMaps, 'default', cm('a'), ctx());
    const out = await rest.delete(configMaps, 'default', 'a', {}, ctx({ dryRun: true }));
    assert.equal(out.code, 200);
    assert.ok(await rest.get(configMaps, 'default', 'a'));
  });

  test('preconditions: a uid or resourceVersion mismatch is 409 and nothing is deleted', async () => {
    const { rest } = await fresh();
    const a = await rest.create(configMaps, 'default', cm('a'), ctx());
    const uid = await apiError(() => rest.delete(configMaps, 'default', 'a', { preconditions: { uid: 'wrong' } }, ctx()));
    assert.equal(uid.code, 409);
    assert.equal(uid.reason, 'Conflict');
    const rv = await apiError(() => rest.delete(configMaps, 'default', 'a', { preconditions: { resourceVersion: '1' } }, ctx()));
    assert.equal(rv.code, 409);
    assert.ok(await rest.get(configMaps, 'default', 'a'));
    const ok = await rest.delete(configMaps, 'default', 'a', { preconditions: { uid: a.metadata!.uid, resourceVersion: a.metadata!.resourceVersion } }, ctx());
    assert.equal(ok.code, 200);
  });

  test(
    'precondition failures read as kube-apiserver\'s BeforeDelete writes them',
    async () => {
      const { rest } = await fresh();
      const a = await rest.create(configMaps, 'default', cm('a'), ctx());
      const uid = await apiError(() => rest.delete(configMaps, 'default', 'a', { preconditions: { uid: 'wrong' } }, ctx()));
      assert.equal(
        uid.message,
        `Operation cannot be fulfilled on ConfigMap "a": the UID in the precondition (wrong) does not match the UID in record (${a.metadata!.uid}). The object might have been deleted and then recreated`,
      );
      const rv = await apiError(() => rest.delete(configMaps, 'default', 'a', { preconditions: { resourceVersion: '1' } }, ctx()));
      assert.equal(
        rv.message,
        `Operation cannot be fulfilled on ConfigMap "a": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (${a.metadata!.resourceVersion}). The object might have been modified`,
      );
    },
  );

  test('propagationPolicy Foreground and Orphan leave the object to the garbage collector\'s finalizers', async () => {
    const { rest } = await fresh();
    await rest.create(configMaps, 'default', cm('fg'), ctx());
    await rest.create(configMaps, 'default', cm('or'), ctx());
    await rest.create(configMaps, 'default', cm('bg'), ctx());
    const fg = await rest.delete(configMaps, 'default', 'fg', { propagationPolicy: 'Foreground' }, ctx());
    assert.deepEqual(fg.body.metadata!.finalizers, ['foregroundDeletion']);
    assert.ok(fg.body.metadata!.deletionTimestamp);
    const or = await rest.delete(configMaps, 'default', 'or', { propagationPolicy: 'Orphan' }, ctx());
    assert.deepEqual(or.body.metadata!.finalizers, ['orphan']);
    const legacy = await rest.create(configMaps, 'default', cm('legacy'), ctx());
    const orphanDependents = await rest.delete(configMaps, 'default', 'legacy', { orphanDependents: true }, ctx());
    assert.deepEqual(orphanDependents.body.metadata!.finalizers, ['orphan']);
    assert.equal(orphanDependents.body.metadata!.uid, legacy.metadata!.uid);
    const bg = await rest.delete(configMaps, 'default', 'bg', { propagationPolicy: 'Background' }, ctx());
    assert.equal(bg.body.kind, 'Status');
    assert.deepEqual(await names(rest, configMaps, 'default'), ['fg', 'legacy', 'or']);
  });

  test('deletecollection with a label selector deletes only the matches and returns them', async () => {
    const { rest } = await fresh();
    await rest.create(configMaps, 'default', cm('a', { doomed: 'yes' }), ctx());
    await rest.create(configMaps, 'default', cm('b', { doomed: 'no' }), ctx());
    await rest.create(configMaps, 'default', cm('c', { doomed: 'yes' }), ctx());
    const out = await rest.deleteCollection(configMaps, 'default', { labelSelector: 'doomed=yes' }, {}, ctx());
    assert.equal(out.kind, 'ConfigMapList');
    assert.deepEqual((out.items as KObject[]).map((i) => i.metadata!.name), ['a', 'c']);
    assert.deepEqual(await names(rest, configMaps, 'default'), ['b']);
  });

  test(
    'deleting a namespace marks it Terminating instead of removing it (its "kubernetes" finalizer)',
    async () => {
      const { rest } = await fresh();
      await rest.create(namespaces, undefined, { metadata: { name: 'team' } }, ctx());
      const out = await rest.delete(namespaces, undefined, 'team', {}, ctx());
      assert.equal(out.code, 200);
      assert.equal(out.body.kind, 'Namespace');
      assert.equal(out.body.status.phase, 'Terminating');
      const ns = await rest.get(namespaces, undefined, 'team');
      assert.ok(ns.metadata!.deletionTimestamp);
    },
  );

  test('creating in a terminating namespace is 403 Forbidden', async () => {
    const { rest } = await fresh();
    await rest.create(namespaces, undefined, { metadata: { name: 'dying', finalizers: ['example.com/hold'] } }, ctx());
    await rest.delete(namespaces, undefined, 'dying', {}, ctx());
    const err = await apiError(() => rest.create(configMaps, 'dying', cm('a'), ctx()));
    assert.equal(err.code, 403);
    assert.equal(err.reason, 'Forbidden');
    assert.equal(err.message, 'unable to create new content in namespace dying because it is being terminated');
  });
});

describe('scale subresource', () => {
  test('get and update the Scale of a Deployment', async () => {
    const { rest } = await fresh();
    const d = await rest.create(deployments, 'default', deployment('web', 2), ctx());
    const scale = await rest.getScale(deployments, 'default', 'web');
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.apiVersion, 'autoscaling/v1');
    assert.equal(scale.spec.replicas, 2);
    assert.equal(scale.status.replicas, 0);
    assert.equal(scale.status.selector, 'app=web');
    assert.equal(scale.metadata!.resourceVersion, d.metadata!.resourceVersion);
    const updated = await rest.updateScale(deployments, 'default', 'web', ctx(), (s) => ({ ...s, spec: { replicas: 5 } }));
    assert.equal(updated.spec.replicas, 5);
    const stored = await rest.get(deployments, 'default', 'web');
    assert.equal(stored.spec.replicas, 5);
    assert.equal(stored.metadata!.generation, 2);
    assert.equal(updated.metadata!.resourceVersion, stored.metadata!.resourceVersion);
  });

  test('a Scale with a stale resourceVersion is 409, negative replicas 422', async () => {
    const { rest } = await fresh();
    await rest.create(deployments, 'default', deployment('web', 2), ctx());
    const scale = await rest.getScale(deployments, 'default', 'web');
    await rest.updateScale(deployments, 'default', 'web', ctx(), (s) => ({ ...s, spec: { replicas: 3 } }));
    const stale = await apiError(() => rest.updateScale(deployments, 'default', 'web', ctx(), () => ({ ...scale, spec: { replicas: 4 } })));
    assert.equal(stale.code, 409);
    const negative = await apiError(() => rest.updateScale(deployments, 'default', 'web', ctx(), (s) => ({ ...s, spec: { replicas: -1 } })));
    assert.equal(negative.code, 422);
    assert.equal(negative.message, 'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    assert.equal((await rest.get(deployments, 'default', 'web')).spec.replicas, 3);
  });

  test('a kind without a scale subresource has no Scale', async () => {
    const { rest } = await fresh();
    await rest.create(configMaps, 'default', cm('a'), ctx());
    const err = await apiError(() => rest.updateScale(configMaps, 'default', 'a', ctx(), (s) => s));
    assert.equal(err.code, 404);
  });
});
