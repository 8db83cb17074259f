/** @module Key ranges agree with SQLite's byte order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareKeys, prefixEnd } from './key-range.js';
import { openSqliteStore } from './sqlite-store.js';

test('prefixEnd bounds exactly the keys that start with the prefix', () => {
  assert.equal(prefixEnd('/registry/pods/'), '/registry/pods0');
  assert.equal(prefixEnd(''), undefined);
  assert.equal(prefixEnd('a\u{10ffff}'), 'b');
  assert.equal(prefixEnd('\u{d7ff}'), '\u{e000}');
});

test('compareKeys orders like UTF-8 bytes, also past the BMP', () => {
  const keys = ['a', 'ab', 'b', '\u{e000}', '\u{1f6a2}', '\u{ffff}', 'é', ''];
  const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...keys].sort(compareKeys), bytes);
  assert.notDeepEqual([...keys].sort(), bytes, 'plain string order differs, so the test means something');
});

test('non-ASCII keys list and page in byte order at current and old revisions', async () => {
  const s = await openSqliteStore(':memory:');
  try {
    const keys = ['/u/\u{e000}', '/u/\u{1f6a2}', '/u/é', '/u/z'];
    for (const k of keys) await s.create(k, k);
    const at = await s.currentRevision();
    await s.delete('/u/z');
    const expected = [...keys].sort(compareKeys);
    for (const revision of [0, at]) {
      const got: string[] = [];
      let startAfter: string | undefined;
      for (;;) {
        const page = await s.list('/u/', { limit: 1, startAfter, revision });
        got.push(...page.items.map((kv) => kv.key));
        if (!page.more) break;
        startAfter = page.items[0].key;
      }
      assert.deepEqual(got, revision === at ? expected : expected.filter((k) => k !== '/u/z'));
    }
  } finally {
    await s.close();
  }
});
