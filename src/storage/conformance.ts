/** @module The behaviour every Store backend must show, as a node:test suite each backend runs against itself. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  StoreError,
  type KeyValue,
  type Store,
  type WatchEvent,
} from './store.js';

/** Polls cond until it holds or the deadline passes (no fixed sleeps). */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

interface Recorder {
  events: WatchEvent[];
  errors: Error[];
  calls: number;
  cancel(): void;
  /** Waits until at least n events arrived. */
  waitFor(n: number): Promise<WatchEvent[]>;
}

/** Watches prefix after a revision and records everything delivered. */
export function record(store: Store, prefix: string, afterRevision: number, onBatch?: (events: WatchEvent[]) => void): Recorder {
  const rec: Recorder = {
    events: [],
    errors: [],
    calls: 0,
    cancel: () => watcher.cancel(),
    waitFor: async (n) => {
      await waitUntil(() => rec.events.length >= n || rec.errors.length > 0, `${n} events on ${prefix}`);
      if (rec.events.length < n) throw rec.errors[0];
      return rec.events;
    },
  };
  const watcher = store.watch(prefix, {
    afterRevision,
    onEvents: (events) => {
      rec.calls++;
      rec.events.push(...events);
      onBatch?.(events);
    },
    onError: (err) => rec.errors.push(err),
  });
  return rec;
}

/** Compact summary of events for deep equality: type, key, value, revision. */
function brief(events: WatchEvent[]): string[] {
  return events.map((e) => `${e.type} ${e.kv.key}=${e.kv.value}@${e.kv.modRevision}`);
}

function assertIncreasing(revs: number[], what: string): void {
  for (let i = 1; i < revs.length; i++) assert.ok(revs[i] > revs[i - 1], `${what}: ${revs[i]} after ${revs[i - 1]}`);
}

let suiteSeq = 0;

/**
 * Registers the conformance tests for one backend. open() must return a usable store
 * for each test; keys live under a prefix unique to the test, so a shared backend
 * (one etcd) works too, but compaction and revision checks assume no other writer
 * runs during a test.
 */
export function runStoreConformance(name: string, open: () => Promise<Store>): void {
  const run = suiteSeq++;
  let testSeq = 0;

  /** Opens a store, hands the test its own key prefix, and always closes the store. */
  function storeTest(title: string, body: (store: Store, p: string) => Promise<void>): void {
    test(title, async () => {
      const store = await open();
      const p = `/conformance/${process.pid}-${run}-${Date.now().toString(36)}-${testSeq++}/`;
      try {
        await body(store, p);
      } finally {
        await store.close();
      }
    });
  }

  describe(`Store conformance: ${name}`, () => {
    storeTest('create returns the stored key at a new revision and get reads it back', async (s, p) => {
      const before = await s.currentRevision();
      const kv = await s.create(`${p}k`, 'v1');
      assert.equal(kv.key, `${p}k`);
      assert.equal(kv.value, 'v1');
      assert.ok(kv.modRevision > before);
      assert.equal(kv.createRevision, kv.modRevision);
      assert.deepEqual(await s.get(`${p}k`), kv);
      assert.equal(await s.get(`${p}missing`), undefined);
      assert.equal(await s.currentRevision(), kv.modRevision);
    });

    storeTest('create of an existing key fails with KeyExistsError and writes nothing', async (s, p) => {
      const kv = await s.create(`${p}k`, 'v1');
      await assert.rejects(s.create(`${p}k`, 'v2'), (err) => err instanceof KeyExistsError && err.key === `${p}k`);
      assert.equal(await s.currentRevision(), kv.modRevision);
      assert.deepEqual(await s.get(`${p}k`), kv);
    });

    storeTest('update swaps only at the expected modRevision', async (s, p) => {
      const v1 = await s.create(`${p}k`, 'v1');
      const v2 = await s.update(`${p}k`, 'v2', v1.modRevision);
      assert.equal(v2.value, 'v2');
      assert.ok(v2.modRevision > v1.modRevision);
      assert.equal(v2.createRevision, v1.createRevision);
      await assert.rejects(s.update(`${p}k`, 'v3', v1.modRevision), (err) => {
        assert.ok(err instanceof ConflictError);
        assert.equal(err.key, `${p}k`);
        assert.deepEqual(err.current, v2);
        return true;
      });
      await assert.rejects(s.update(`${p}missing`, 'x', 1), (err) => err instanceof KeyNotFoundError && err.key === `${p}missing`);
      assert.equal(await s.currentRevision(), v2.modRevision);
      assert.deepEqual(await s.get(`${p}k`), v2);
    });

    storeTest('delete checks the expected revision and returns the deleted value', async (s, p) => {
      const v1 = await s.create(`${p}k`, 'v1');
      const v2 = await s.update(`${p}k`, 'v2', v1.modRevision);
      await assert.rejects(s.delete(`${p}k`, v1.modRevision), (err) => err instanceof ConflictError && err.current.value === 'v2');
      assert.deepEqual(await s.get(`${p}k`), v2);
      const gone = await s.delete(`${p}k`, v2.modRevision);
      assert.equal(gone.key, `${p}k`);
      assert.equal(gone.value, 'v2');
      assert.equal(gone.createRevision, v1.createRevision);
      assert.ok(gone.modRevision > v2.modRevision, 'delete returns the revision of the deletion');
      assert.equal(await s.currentRevision(), gone.modRevision);
      assert.equal(await s.get(`${p}k`), undefined);
      await assert.rejects(s.delete(`${p}k`), (err) => err instanceof KeyNotFoundError);
      await assert.rejects(s.delete(`${p}k`, gone.modRevision), (err) => err instanceof KeyNotFoundError);

      const again = await s.create(`${p}k`, 'v3');
      assert.ok(again.createRevision > gone.modRevision, 'a re-created key gets a new createRevision');
      const forced = await s.delete(`${p}k`);
      assert.equal(forced.value, 'v3');
    });

    storeTest('revisions are global across keys and strictly increasing; failed writes do not advance them', async (s, p) => {
      const revs: number[] = [];
      const a = await s.create(`${p}a`, '1');
      revs.push(a.modRevision);
      const b = await s.create(`${p}b`, '1');
      revs.push(b.modRevision);
      revs.push((await s.update(`${p}a`, '2', a.modRevision)).modRevision);
      await assert.rejects(s.update(`${p}b`, '2', a.modRevision));
      await assert.rejects(s.create(`${p}a`, 'x'));
      revs.push((await s.delete(`${p}b`)).modRevision);
      revs.push((await s.create(`${p}c`, '1')).modRevision);
      assertIncreasing(revs, 'write revisions');
      assert.equal(await s.currentRevision(), revs[revs.length - 1]);
      assert.ok((await s.compactRevision()) <= revs[0]);
    });

    storeTest('values round-trip byte for byte', async (s, p) => {
      const values = ['', 'ünïcødé ✓ 🚢', JSON.stringify({ a: [1, 2, { b: 'c' }] }), 'x'.repeat(1 << 20)];
      for (const [i, v] of values.entries()) {
        const kv = await s.create(`${p}${i}`, v);
        assert.equal(kv.value, v);
        assert.equal((await s.get(`${p}${i}`))?.value, v);
      }
      const listed = await s.list(p);
      assert.deepEqual(
        listed.items.map((kv) => kv.value),
        values,
      );
    });

    storeTest('list returns only keys under the prefix, in key order', async (s, p) => {
      for (const k of [`${p}ab/1`, `${p}a/2`, `${p}a`, `${p}a/1`, `${p}b/1`, `${p}a/10`, `${p}a0`]) await s.create(k, k);
      const a = await s.list(`${p}a/`);
      assert.deepEqual(
        a.items.map((kv) => kv.key),
        [`${p}a/1`, `${p}a/10`, `${p}a/2`],
      );
      assert.equal(a.more, false);
      assert.equal(a.revision, await s.currentRevision());
      const ab = await s.list(`${p}ab/`);
      assert.deepEqual(
        ab.items.map((kv) => kv.key),
        [`${p}ab/1`],
      );
      assert.equal((await s.list(`${p}a`)).items.length, 6);
      assert.deepEqual((await s.list(`${p}zzz/`)).items, []);
      assert.equal((await s.list(`${p}zzz/`)).more, false);
      for (const kv of a.items) assert.equal(kv.value, kv.key);
    });

    storeTest('count counts keys under the prefix', async (s, p) => {
      for (let i = 0; i < 12; i++) await s.create(`${p}x/${i}`, 'v');
      await s.create(`${p}xy/0`, 'v');
      assert.equal(await s.count(`${p}x/`), 12);
      assert.equal(await s.count(`${p}xy/`), 1);
      assert.equal(await s.count(`${p}x`), 13);
      assert.equal(await s.count(`${p}none/`), 0);
      await s.delete(`${p}x/3`);
      assert.equal(await s.count(`${p}x/`), 11);
    });

    storeTest('list paginates with limit and startAfter, reporting more and remaining', async (s, p) => {
      const keys: string[] = [];
      for (let i = 0; i < 25; i++) keys.push(`${p}i/${String(i).padStart(3, '0')}`);
      for (const k of [...keys].reverse()) await s.create(k, 'v');
      await s.create(`${p}j/000`, 'outside');
      const seen: string[] = [];
      let startAfter: string | undefined;
      const pages: { n: number; more: boolean; remaining?: number }[] = [];
      for (;;) {
        const page = await s.list(`${p}i/`, { limit: 10, startAfter });
        pages.push({ n: page.items.length, more: page.more, remaining: page.remaining });
        seen.push(...page.items.map((kv) => kv.key));
        if (!page.more) break;
        startAfter = page.items[page.items.length - 1].key;
      }
      assert.deepEqual(seen, keys);
      assert.deepEqual(
        pages.map(({ n, more }) => ({ n, more })),
        [
          { n: 10, more: true },
          { n: 10, more: true },
          { n: 5, more: false },
        ],
      );
      assert.equal(pages[0].remaining, 15);
      assert.equal(pages[1].remaining, 5);
      const exact = await s.list(`${p}i/`, { limit: 25 });
      assert.equal(exact.items.length, 25);
      assert.equal(exact.more, false);
      const tail = await s.list(`${p}i/`, { startAfter: keys[22] });
      assert.deepEqual(
        tail.items.map((kv) => kv.key),
        keys.slice(23),
      );
      const before = await s.list(`${p}i/`, { limit: 2, startAfter: `${p}` });
      assert.deepEqual(
        before.items.map((kv) => kv.key),
        keys.slice(0, 2),
      );
    });

    storeTest('list at an older revision sees the range as it was', async (s, p) => {
      const a = await s.create(`${p}r/a`, 'a1');
      const b = await s.create(`${p}r/b`, 'b1');
      await s.create(`${p}r/c`, 'c1');
      const at = await s.currentRevision();
      await s.update(`${p}r/a`, 'a2', a.modRevision);
      await s.delete(`${p}r/b`, b.modRevision);
      await s.create(`${p}r/d`, 'd1');
      await s.create(`${p}r/0`, 'first');
      await s.delete(`${p}r/c`);
      await s.create(`${p}r/c`, 'c2');

      const old = await s.list(`${p}r/`, { revision: at });
      assert.equal(old.revision, at);
      assert.deepEqual(
        old.items.map((kv) => `${kv.key.slice(p.length)}=${kv.value}`),
        ['r/a=a1', 'r/b=b1', 'r/c=c1'],
      );
      assert.deepEqual(old.items[0], a);

      const page1 = await s.list(`${p}r/`, { revision: at, limit: 2 });
      assert.deepEqual(
        page1.items.map((kv) => kv.value),
        ['a1', 'b1'],
      );
      assert.equal(page1.more, true);
      assert.equal(page1.remaining, 1);
      const page2 = await s.list(`${p}r/`, { revision: at, limit: 2, startAfter: page1.items[1].key });
      assert.deepEqual(
        page2.items.map((kv) => kv.value),
        ['c1'],
      );
      assert.equal(page2.more, false);

      const now = await s.list(`${p}r/`);
      assert.deepEqual(
        now.items.map((kv) => kv.value),
        ['first', 'a2', 'c2', 'd1'],
      );
      const current = await s.currentRevision();
      await assert.rejects(s.list(`${p}r/`, { revision: current + 1000 }), (err) => err instanceof FutureRevisionError);
    });

    storeTest('pages read at the first page revision stay consistent while writes continue', async (s, p) => {
      for (let i = 0; i < 9; i++) await s.create(`${p}${i}`, 'old');
      const first = await s.list(p, { limit: 3 });
      let after = first.items[2].key;
      const seen = first.items.map((kv) => kv.value);
      await s.create(`${p}8a`, 'new');
      await s.delete(`${p}5`);
      const five = await s.get(`${p}4`);
      await s.update(`${p}4`, 'new', five!.modRevision);
      for (;;) {
        const page = await s.list(p, { limit: 3, startAfter: after, revision: first.revision });
        assert.equal(page.revision, first.revision);
        seen.push(...page.items.map((kv) => kv.value));
        if (!page.more) break;
        after = page.items[page.items.length - 1].key;
      }
      assert.deepEqual(seen, Array(9).fill('old'));
    });

    storeTest('compaction forgets old revisions for lists and watches', async (s, p) => {
      const a = await s.create(`${p}a`, '1');
      const a2 = await s.update(`${p}a`, '2', a.modRevision);
      await s.create(`${p}b`, '1');
      await s.delete(`${p}b`);
      const c = await s.create(`${p}c`, '1');
      const at = c.modRevision;
      await s.update(`${p}a`, '3', a2.modRevision);
      await s.delete(`${p}c`);
      await s.compact(at);
      assert.ok((await s.compactRevision()) >= at);

      await assert.rejects(s.list(p, { revision: a2.modRevision }), (err) => {
        assert.ok(err instanceof CompactedError);
        assert.equal(err.requested, a2.modRevision);
        assert.ok(err.compacted >= at);
        return true;
      });
      const atCompact = await s.list(p, { revision: at });
      assert.deepEqual(
        atCompact.items.map((kv) => `${kv.key.slice(p.length)}=${kv.value}`),
        ['a=2', 'c=1'],
      );
      assert.deepEqual(
        (await s.list(p)).items.map((kv) => kv.value),
        ['3'],
      );

      const stale = record(s, p, a.modRevision);
      await waitUntil(() => stale.errors.length > 0, 'CompactedError on a watch from a compacted revision');
      assert.ok(stale.errors[0] instanceof CompactedError);
      assert.equal(stale.events.length, 0);

      const fresh = record(s, p, at);
      const events = await fresh.waitFor(2);
      assert.deepEqual(
        events.map((e) => [e.type, e.kv.key.slice(p.length), e.kv.value, e.prevKv?.value]),
        [
          ['put', 'a', '3', '2'],
          ['delete', 'c', '', '1'],
        ],
      );
      fresh.cancel();
      await assert.rejects(s.compact((await s.currentRevision()) + 10), (err) => err instanceof StoreError);
    });

    storeTest('watch replays history after the revision, then delivers live events in order', async (s, p) => {
      const start = await s.currentRevision();
      const a = await s.create(`${p}a`, '1');
      await s.create(`${p}b`, '1');
      const a2 = await s.update(`${p}a`, '2', a.modRevision);
      await s.delete(`${p}b`);
      const rec = record(s, p, start);
      const replayed = await rec.waitFor(4);
      assert.deepEqual(
        brief(replayed).map((x) => x.replace(p, '')),
        [`put a=1@${a.modRevision}`, `put b=1@${a.modRevision + 1}`, `put a=2@${a2.modRevision}`, `delete b=@${a2.modRevision + 1}`],
      );
      const live: KeyValue[] = [];
      for (let i = 0; i < 20; i++) live.push(await s.create(`${p}live/${i}`, String(i)));
      await s.delete(`${p}a`);
      const all = await rec.waitFor(25);
      assert.equal(all.length, 25);
      assertIncreasing(
        all.map((e) => e.kv.modRevision),
        'watch revisions',
      );
      assert.deepEqual(
        all.slice(4, 24).map((e) => e.kv),
        live,
      );
      assert.equal(all[24].type, 'delete');
      assert.deepEqual(rec.errors, []);
      rec.cancel();
    });

    storeTest('watch from a revision in the middle of history skips earlier events', async (s, p) => {
      const a = await s.create(`${p}a`, '1');
      const b = await s.create(`${p}b`, '1');
      await s.update(`${p}a`, '2', a.modRevision);
      const rec = record(s, p, b.modRevision);
      const events = await rec.waitFor(1);
      await s.create(`${p}c`, '1');
      await rec.waitFor(2);
      assert.deepEqual(
        brief(rec.events).map((x) => x.replace(p, '').replace(/@\d+$/, '')),
        ['put a=2', 'put c=1'],
      );
      assert.equal(events[0].kv.modRevision, b.modRevision + 1);
      rec.cancel();
    });

    storeTest('watch from the current revision delivers only later writes, never inside the write call', async (s, p) => {
      await s.create(`${p}before`, '1');
      let writing = false;
      let reentered = false;
      const rec = record(s, p, await s.currentRevision(), () => {
        if (writing) reentered = true;
      });
      writing = true;
      const pending = s.create(`${p}after`, '1');
      writing = false;
      await pending;
      await rec.waitFor(1);
      assert.equal(reentered, false);
      assert.deepEqual(
        rec.events.map((e) => e.kv.key),
        [`${p}after`],
      );
      rec.cancel();
    });

    storeTest('watch from a future revision waits for it', async (s, p) => {
      const now = await s.currentRevision();
      const future = record(s, p, now + 2);
      const sentinel = record(s, p, now);
      await s.create(`${p}a`, '1');
      await s.create(`${p}b`, '1');
      const c = await s.create(`${p}c`, '1');
      await sentinel.waitFor(3);
      await future.waitFor(1);
      assert.deepEqual(
        future.events.map((e) => e.kv),
        [c],
      );
      future.cancel();
      sentinel.cancel();
    });

    storeTest('watch events carry prevKv for updates and deletes, not for creates', async (s, p) => {
      const start = await s.currentRevision();
      const live = record(s, p, start);
      const v1 = await s.create(`${p}k`, 'v1');
      const v2 = await s.update(`${p}k`, 'v2', v1.modRevision);
      const gone = await s.delete(`${p}k`);
      const v3 = await s.create(`${p}k`, 'v3');
      const replayed = record(s, p, start);
      for (const rec of [live, replayed]) {
        const [create, update, del, recreate] = await rec.waitFor(4);
        assert.equal(create.type, 'put');
        assert.equal(create.prevKv, undefined);
        assert.deepEqual(create.kv, v1);
        assert.equal(update.type, 'put');
        assert.deepEqual(update.kv, v2);
        assert.deepEqual(update.prevKv, v1);
        assert.equal(del.type, 'delete');
        assert.equal(del.kv.key, `${p}k`);
        assert.equal(del.kv.value, '');
        assert.equal(del.kv.modRevision, gone.modRevision);
        assert.deepEqual(del.prevKv, v2);
        assert.equal(recreate.prevKv, undefined);
        assert.deepEqual(recreate.kv, v3);
        rec.cancel();
      }
    });

    storeTest('cancel stops delivery and is idempotent', async (s, p) => {
      const start = await s.currentRevision();
      const cancelled = record(s, p, start);
      const sentinel = record(s, p, start);
      await s.create(`${p}a`, '1');
      await cancelled.waitFor(1);
      cancelled.cancel();
      cancelled.cancel();
      await s.create(`${p}b`, '1');
      await s.create(`${p}c`, '1');
      await sentinel.waitFor(3);
      // A replay started before cancel must not deliver either.
      const early = record(s, p, start);
      early.cancel();
      await s.create(`${p}d`, '1');
      await sentinel.waitFor(4);
      assert.equal(cancelled.events.length, 1);
      assert.equal(early.events.length, 0);
      assert.deepEqual(cancelled.errors, []);
      assert.deepEqual(early.errors, []);
      sentinel.cancel();
    });

    storeTest('watches are isolated by prefix', async (s, p) => {
      const start = await s.currentRevision();
      const a = record(s, `${p}a/`, start);
      const ab = record(s, `${p}ab/`, start);
      const all = record(s, p, start);
      await s.create(`${p}a/1`, '1');
      await s.create(`${p}ab/1`, '1');
      await s.create(`${p}a`, '1');
      await s.create(`${p}b/1`, '1');
      await s.create(`${p}a/2`, '1');
      await all.waitFor(5);
      await a.waitFor(2);
      await ab.waitFor(1);
      assert.deepEqual(
        a.events.map((e) => e.kv.key),
        [`${p}a/1`, `${p}a/2`],
      );
      assert.deepEqual(
        ab.events.map((e) => e.kv.key),
        [`${p}ab/1`],
      );
      for (const r of [a, ab, all]) r.cancel();
    });

    storeTest('many concurrent watchers each see the whole stream in order', async (s, p) => {
      const start = await s.currentRevision();
      const early: Recorder[] = [];
      for (let i = 0; i < 50; i++) early.push(record(s, p, start));
      const writes: Promise<KeyValue>[] = [];
      for (let i = 0; i < 100; i++) writes.push(s.create(`${p}${String(i).padStart(3, '0')}`, String(i)));
      const created = await Promise.all(writes);
      // Watchers that start mid-stream replay the first part and then go live.
      const late: Recorder[] = [];
      for (let i = 0; i < 50; i++) late.push(record(s, p, start));
      let prev = created[99];
      for (let i = 0; i < 50; i++) prev = await s.update(prev.key, `u${i}`, prev.modRevision);
      const expected = [...created]
        .sort((x, y) => x.modRevision - y.modRevision)
        .map((kv) => `put ${kv.key}=${kv.value}@${kv.modRevision}`);
      for (const rec of [...early, ...late]) {
        const events = await rec.waitFor(150);
        assert.equal(events.length, 150);
        assert.deepEqual(brief(events.slice(0, 100)), expected);
        assertIncreasing(
          events.map((e) => e.kv.modRevision),
          'watch revisions',
        );
        assert.equal(events[149].kv.value, 'u49');
        rec.cancel();
      }
    });

    storeTest('a watcher that writes from its callback still sees events in order', async (s, p) => {
      const start = await s.currentRevision();
      const rec = record(s, `${p}ping/`, start, (events) => {
        for (const e of events) {
          const n = Number(e.kv.value);
          if (e.type === 'put' && n < 10) void s.create(`${p}ping/${n + 1}`, String(n + 1));
        }
      });
      await s.create(`${p}ping/0`, '0');
      const events = await rec.waitFor(11);
      assert.deepEqual(
        events.map((e) => e.kv.value),
        ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
      );
      assertIncreasing(
        events.map((e) => e.kv.modRevision),
        'watch revisions',
      );
      rec.cancel();
    });

    test('closing the store ends watches with onError and rejects further calls', async () => {
      const s = await open();
      const p = `/conformance/${process.pid}-${run}-close/`;
      const rec = record(s, p, await s.currentRevision());
      await s.close();
      await waitUntil(() => rec.errors.length > 0, 'onError after close');
      assert.equal(rec.errors.length, 1);
      await assert.rejects(s.get(`${p}k`), (err) => err instanceof StoreError);
      await assert.rejects(s.create(`${p}k`, 'v'), (err) => err instanceof StoreError);
    });
  });
}
