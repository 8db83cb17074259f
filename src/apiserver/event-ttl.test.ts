import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './server.js';
import { lastActivity, sweepEvents } from './event-ttl.js';

test('events older than the TTL are swept, recent ones stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-evttl-'));
  const server = await startServer({ dataDir: dir, port: 0, log: () => {} });
  try {
    const def = server.registry.lookup('', 'v1', 'events')!;
    const ctx = { dryRun: false, fieldManager: 't', fieldValidation: 'Strict' as const, warnings: [] };
    const ev = (name: string, last: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
      reason: 'Test',
      message: 'm',
      type: 'Normal',
      firstTimestamp: last,
      lastTimestamp: last,
      count: 1,
    });
    // Creation is "now"; the sweep runs two hours later, when only a recently repeated event is live.
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const now = Date.now();
    await server.rest.create(def, 'default', ev('old', iso(now)), ctx);
    await server.rest.create(def, 'default', ev('new', iso(now + 90 * 60_000)), ctx);
    const removed = await sweepEvents(server.rest, def, 3600_000, new Date(now + 120 * 60_000));
    assert.equal(removed, 1);
    const left = await server.rest.list(def, 'default', {});
    assert.deepEqual((left.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name), ['new']);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('last activity is the latest of lastTimestamp, eventTime and creation', () => {
  assert.equal(lastActivity({ lastTimestamp: '2026-01-01T00:00:10Z', metadata: { creationTimestamp: '2026-01-01T00:00:00Z' } }), Date.parse('2026-01-01T00:00:10Z'));
  assert.equal(lastActivity({ eventTime: '2026-01-01T00:00:20.000000Z', metadata: {} }), Date.parse('2026-01-01T00:00:20Z'));
});
