/** @module Runs the Store conformance suite on SQLite and tests what only the SQLite backend promises (compaction bounds, reopen, locking, query plans). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { record, runStoreConformance, waitUntil } from '../conformance.js';
import { CompactedError, openStore, StoreError, type KeyValue, type Store } from '../store.js';
import { parseSqliteEndpoint, rawSqliteBaseline } from './index.js';
import { openSqliteStore, SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;
const freshPath = () => join(dir, `store-${fileSeq++}.db`);

runStoreConformance('sqlite in memory', () => openSqliteStore(':memory:'));
runStoreConformance('sqlite file', () => openSqliteStore(freshPath()));
// The smallest batches exercise every loop boundary of replay and compaction.
runStoreConformance('sqlite file, tiny batches', () => openSqliteStore(freshPath(), { watchReplayBatch: 1, compactBatchSize: 1 }));
runStoreConformance('sqlite via openStore endpoint', () => openStore('sqlite::memory:'));

async function settle(store: SqliteStore): Promise<void> {
  await waitUntil(() => {
    const s = store.stats();
    return s.compactedThrough === s.compactRevision;
  }, 'compaction to finish');
}

describe('SqliteStore', () => {
  test('reopening keeps keys, revision, compaction point and history', async () => {
    const path = freshPath();
    let s = await openSqliteStore(path);
    const a = await s.create('/r/a', '1');
    const a2 = await s.update('/r/a', '2', a.modRevision);
    await s.create('/r/b', '1');
    const gone = await s.delete('/r/b');
    await s.compact(a2.modRevision);
    await s.close();

    s = await openSqliteStore(path);
    try {
      assert.equal(await s.currentRevision(), gone.modRevision);
      assert.equal(await s.compactRevision(), a2.modRevision);
      assert.deepEqual(await s.get('/r/a'), a2);
      assert.equal(await s.get('/r/b'), undefined);
      const next = await s.create('/r/c', '1');
      assert.equal(next.modRevision, gone.modRevision + 1);
      const rec = record(s, '/r/', a2.modRevision);
      const events = await rec.waitFor(3);
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.kv.key} prev=${e.prevKv?.value ?? '-'}`),
        ['put /r/b prev=-', 'delete /r/b prev=1', 'put /r/c prev=-'],
      );
      rec.cancel();
    } finally {
      await s.close();
    }
  });

  test('the revision survives compaction of a trailing delete', async () => {
    const path = freshPath();
    let s = await openSqliteStore(path);
    await s.create('/t/a', '1');
    const gone = await s.delete('/t/a');
    await s.compact(gone.modRevision);
    assert.equal(s.stats().logRows, 0);
    await s.close();
    s = await openSqliteStore(path);
    try {
      assert.equal(await s.currentRevision(), gone.modRevision);
      assert.equal((await s.create('/t/a', '2')).modRevision, gone.modRevision + 1);
    } finally {
      await s.close();
    }
  });

  test('under endless churn of one key the log stays bounded', async () => {
    const s = await openSqliteStore(freshPath(), {
      retainRevisions: 100,
      retainMs: 0,
      compactEveryWrites: 100,
      compactIntervalMs: 0,
    });
    try {
      await s.create('/registry/leases/kube-node-lease/node-1', 'renew-0');
      for (let i = 1; i <= 20; i++) await s.create(`/registry/pods/default/p${i}`, 'pod');
      let kv = (await s.get('/registry/leases/kube-node-lease/node-1'))!;
      kv = await s.update(kv.key, 'renew-1', kv.modRevision);
      let maxRows = 0;
      for (let i = 2; i <= 5000; i++) {
        kv = await s.update(kv.key, `renew-${i}`, kv.modRevision);
        if (i % 500 === 0) {
          await settle(s);
          maxRows = Math.max(maxRows, s.stats().logRows);
        }
      }
      await settle(s);
      const stats = s.stats();
      assert.ok(stats.compactRevision >= stats.revision - 200, `compacted to ${stats.compactRevision} of ${stats.revision}`);
      // 21 live keys + at most retainRevisions + one trigger interval of history.
      assert.ok(maxRows <= 21 + 100 + 100, `log grew to ${maxRows} rows`);
      assert.ok(stats.logRows <= 221, `log has ${stats.logRows} rows`);
      assert.equal((await s.get(kv.key))?.value, 'renew-5000');
      assert.equal(await s.count('/registry/pods/'), 20);
      const rec = record(s, '/registry/leases/', stats.compactRevision);
      const updated = await s.update(kv.key, 'renew-final', kv.modRevision);
      await waitUntil(() => rec.events.some((e) => e.kv.modRevision === updated.modRevision), 'final renewal');
      assert.deepEqual(rec.errors, []);
      const replayed = rec.events.filter((e) => e.type === 'put');
      assert.ok(replayed.every((e) => e.prevKv !== undefined), 'every replayed update has prevKv');
      rec.cancel();
    } finally {
      await s.close();
    }
  });

  test('time-based retention compacts only revisions older than retainMs', async () => {
    let now = 1_000_000;
    const s = await openSqliteStore(':memory:', {
      retainRevisions: 0,
      retainMs: 1000,
      compactEveryWrites: 10,
      compactIntervalMs: 0,
      now: () => now,
    });
    try {
      for (let i = 0; i < 20; i++) await s.create(`/t/${i}`, 'v');
      await settle(s);
      assert.equal(await s.compactRevision(), 0, 'nothing is older than retainMs yet');
      now += 2000;
      for (let i = 20; i < 30; i++) await s.create(`/t/${i}`, 'v');
      await settle(s);
      assert.equal(await s.compactRevision(), 20);
      await assert.rejects(s.list('/t/', { revision: 19 }), CompactedError);
      assert.equal((await s.list('/t/', { revision: 20 })).items.length, 20);
    } finally {
      await s.close();
    }
  });

  test('the background timer compacts without writes triggering it', async () => {
    const s = await openSqliteStore(':memory:', {
      retainRevisions: 5,
      retainMs: 0,
      compactEveryWrites: 0,
      compactIntervalMs: 5,
    });
    try {
      for (let i = 0; i < 50; i++) await s.create(`/t/${i}`, 'v');
      await waitUntil(() => s.stats().compactRevision === 45, 'timer compaction');
      await settle(s);
      assert.equal(s.stats().logRows, 50);
      assert.equal(await s.count('/t/'), 50);
    } finally {
      await s.close();
    }
  });

  test('automatic compaction waits for a replaying watcher', async () => {
    const path = freshPath();
    const seed = await openSqliteStore(path, { autoCompact: false });
    for (let i = 0; i < 100; i++) await seed.create(`/w/${i}`, String(i));
    await seed.close();
    const s = await openSqliteStore(path, {
      retainRevisions: 0,
      retainMs: 0,
      compactEveryWrites: 1,
      compactIntervalMs: 0,
      watchReplayBatch: 1,
    });
    try {
      const rec = record(s, '/w/', 0);
      for (let i = 100; i < 200; i++) {
        await s.create(`/w/${i}`, String(i));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const events = await rec.waitFor(200);
      assert.deepEqual(rec.errors, []);
      assert.deepEqual(
        events.map((e) => e.kv.value),
        Array.from({ length: 200 }, (_, i) => String(i)),
      );
      await s.create('/w/last', 'x');
      await waitUntil(() => s.stats().compactRevision > 0, 'compaction once the watcher is live');
      rec.cancel();
    } finally {
      await s.close();
    }
  });

  test('an explicit compaction past a replaying watcher ends it with CompactedError', async () => {
    const s = await openSqliteStore(':memory:', { autoCompact: false, watchReplayBatch: 1 });
    try {
      for (let i = 0; i < 50; i++) await s.create(`/w/${i}`, String(i));
      const rec = record(s, '/w/', 0);
      await s.compact(40);
      await waitUntil(() => rec.errors.length > 0, 'CompactedError');
      assert.ok(rec.errors[0] instanceof CompactedError);
      assert.ok(rec.events.length < 40, `delivered ${rec.events.length} events before the error`);
      assertPrefixOfSequence(rec.events.map((e) => e.kv.value));
    } finally {
      await s.close();
    }
  });

  test('closing during a compaction resumes it on reopen', async () => {
    const path = freshPath();
    let s = await openSqliteStore(path, { autoCompact: false, compactBatchSize: 1 });
    let kv = await s.create('/c/k', '0');
    for (let i = 1; i < 200; i++) kv = await s.update('/c/k', String(i), kv.modRevision);
    void s.compact(199).catch(() => undefined);
    await s.close();
    s = await openSqliteStore(path, { autoCompact: false });
    try {
      assert.equal(await s.compactRevision(), 199);
      await settle(s);
      assert.equal(s.stats().logRows, 2);
      assert.equal((await s.get('/c/k'))?.value, '199');
    } finally {
      await s.close();
    }
  });

  test('lists at old revisions match a model under random writes and compactions', async () => {
    for (const compactBatchSize of [1000, 3]) {
      const s = await openSqliteStore(':memory:', { autoCompact: false, compactBatchSize });
      try {
        await checkAgainstModel(s, 0xc0ffee + compactBatchSize);
      } finally {
        await s.close();
      }
    }
  });

  test('a current list reads kv and log by key, never scanning the log', async () => {
    const s = await openSqliteStore(':memory:');
    try {
      const plan = s.explainList('/registry/pods/');
      assert.ok(plan.length > 0);
      for (const step of plan) assert.match(step, /^SEARCH (kv|l) USING (PRIMARY KEY|INTEGER PRIMARY KEY)/, plan.join(' | '));
    } finally {
      await s.close();
    }
  });

  test('a second process-level opener of the same file is refused', async () => {
    const path = freshPath();
    const first = await openSqliteStore(path);
    try {
      await first.create('/x', '1');
      await assert.rejects(openSqliteStore(path), (err) => err instanceof StoreError && /in use/.test(err.message));
    } finally {
      await first.close();
    }
    const again = await openSqliteStore(path);
    assert.equal((await again.get('/x'))?.value, '1');
    await again.close();
  });

  test('sqlite endpoints parse paths and options', async () => {
    assert.deepEqual(parseSqliteEndpoint(new URL('sqlite:///var/lib/skiff/state.db')), {
      path: '/var/lib/skiff/state.db',
      options: {},
    });
    assert.equal(parseSqliteEndpoint(new URL('sqlite::memory:')).path, ':memory:');
    assert.equal(parseSqliteEndpoint(new URL('sqlite:///:memory:')).path, ':memory:');
    assert.equal(parseSqliteEndpoint(new URL('sqlite:rel/state.db')).path, 'rel/state.db');
    assert.deepEqual(parseSqliteEndpoint(new URL('sqlite:///d/s.db?synchronous=FULL&retainRevisions=10&autoCompact=false')).options, {
      synchronous: 'full',
      retainRevisions: 10,
      autoCompact: false,
    });
    assert.throws(() => parseSqliteEndpoint(new URL('sqlite://host/x.db')), StoreError);
    assert.throws(() => parseSqliteEndpoint(new URL('sqlite:///x.db?synchronous=off')), StoreError);
    const path = freshPath();
    const s = await openStore(`sqlite://${path}?synchronous=full`);
    assert.ok(s instanceof SqliteStore);
    assert.equal((await s.create('/k', 'v')).modRevision, 1);
    await s.close();
  });

  test('bulk creates and a 30,000-key list stay fast (reported, not timed)', async (t) => {
    const s = await openSqliteStore(freshPath());
    try {
      const value = JSON.stringify({ kind: 'ConfigMap', data: { k: 'x'.repeat(300) } });
      let start = performance.now();
      for (let i = 0; i < 10_000; i++) await s.create(`/registry/configmaps/bulk/cm-${i}`, value);
      const createMs = performance.now() - start;
      for (let i = 10_000; i < 30_000; i++) await s.create(`/registry/configmaps/bulk/cm-${i}`, value);
      for (let i = 0; i < 1000; i++) await s.create(`/registry/secrets/bulk/s-${i}`, value);
      start = performance.now();
      const all = await s.list('/registry/configmaps/');
      const listMs = performance.now() - start;
      start = performance.now();
      const page = await s.list('/registry/configmaps/', { limit: 500, startAfter: '/registry/configmaps/bulk/cm-5' });
      const pageMs = performance.now() - start;
      const baseline = rawSqliteBaseline(join(dir, 'baseline.db'), 10_000, value.length);
      t.diagnostic(
        `10k creates ${createMs.toFixed(0)} ms (${((10_000 / createMs) * 1000).toFixed(0)}/s, raw sqlite ${baseline.txPerSecond.toFixed(0)}/s); ` +
          `list 30k ${listMs.toFixed(0)} ms; page of 500 ${pageMs.toFixed(1)} ms`,
      );
      assert.equal(all.items.length, 30_000);
      assert.equal(page.items.length, 500);
      assert.equal(page.more, true);
      const after = Array.from({ length: 30_000 }, (_, i) => `cm-${i}`).filter((k) => k > 'cm-5').length;
      assert.equal(page.remaining, after - 500);
      assert.equal(await s.count('/registry/'), 31_000);
      assert.ok(baseline.txPerSecond > 0);
      assert.equal(baseline.journalMode, 'wal');
    } finally {
      await s.close();
    }
  });
});

function assertPrefixOfSequence(values: string[]): void {
  assert.deepEqual(
    values,
    values.map((_, i) => String(i)),
  );
}

/** Deterministic PRNG so a failing sequence can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

type Model = Map<string, KeyValue>;

async function checkAgainstModel(s: Store, seed: number): Promise<void> {
  const rand = rng(seed);
  const keys = Array.from({ length: 40 }, (_, i) => `/m/${['a', 'b', 'ab'][i % 3]}/${String(i).padStart(2, '0')}`);
  const model: Model = new Map();
  const history = new Map<number, Model>([[0, new Map()]]);
  let compacted = 0;
  for (let step = 0; step < 600; step++) {
    const key = keys[Math.floor(rand() * keys.length)];
    const cur = model.get(key);
    let kv: KeyValue;
    if (!cur) {
      kv = await s.create(key, `v${step}`);
      model.set(key, kv);
    } else if (rand() < 0.3) {
      kv = await s.delete(key, cur.modRevision);
      model.delete(key);
    } else {
      kv = await s.update(key, `v${step}`, cur.modRevision);
      model.set(key, kv);
    }
    history.set(kv.modRevision, new Map(model));
    if (rand() < 0.02) {
      compacted = Math.max(compacted, Math.floor(kv.modRevision - rand() * 50));
      await s.compact(compacted);
    }
    if (step % 20 !== 19) continue;
    const current = await s.currentRevision();
    for (let probe = 0; probe < 5; probe++) {
      const revision = compacted + Math.floor(rand() * (current - compacted + 1));
      if (revision === 0) continue;
      const prefix = ['/m/', '/m/a/', '/m/ab/', '/m/b/'][Math.floor(rand() * 4)];
      const expected = [...history.get(revision)!.values()]
        .filter((v) => v.key.startsWith(prefix))
        .sort((x, y) => (x.key < y.key ? -1 : 1));
      const limit = 1 + Math.floor(rand() * 8);
      const got: KeyValue[] = [];
      let startAfter: string | undefined;
      for (;;) {
        const page = await s.list(prefix, { revision, limit, startAfter });
        assert.equal(page.revision, revision);
        got.push(...page.items);
        if (!page.more) break;
        assert.equal(page.remaining, expected.length - got.length, `remaining at ${revision} under ${prefix}`);
        startAfter = page.items[page.items.length - 1].key;
      }
      assert.deepEqual(got, expected, `list ${prefix} at ${revision} (seed ${seed}, step ${step})`);
    }
    if (compacted > 1) await assert.rejects(s.list('/m/', { revision: compacted - 1 }), CompactedError);
  }
}
