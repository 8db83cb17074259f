import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../apiserver/server.js';
import { LoopbackClient } from '../apiserver/loopback.js';
import { Resources } from './client.js';
import { InformerFactory } from './informer.js';
import { eventually } from './testing.js';

let server: RunningServer;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-informer-'));
  server = await startServer({ dataDir: dir, port: 0, log: () => {} });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const until = (cond: () => boolean, what: string, timeoutMs = 5000) => eventually(cond, what, timeoutMs, 5);

test('an informer lists, then follows adds, updates and deletes, and indexes by namespace', async () => {
  const client = new LoopbackClient(server.rest, 'test');
  await client.create(Resources.configmaps, 'default', { metadata: { name: 'before' }, data: { v: '1' } });
  const factory = new InformerFactory(client);
  const inf = factory.for(Resources.configmaps);
  assert.equal(factory.for(Resources.configmaps), inf, 'shared per resource');
  const events: string[] = [];
  inf.addEventHandlers({
    add: (o) => events.push(`add ${o.metadata?.name}`),
    update: (a, b) => events.push(`update ${b.metadata?.name} ${a.data?.v}->${b.data?.v}`),
    delete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  const ac = new AbortController();
  factory.start(ac.signal);
  await factory.waitForSync();
  try {
    assert.deepEqual(events, ['add before']);
    const cached = inf.getByName('default', 'before')!;
    assert.equal(cached.kind, 'ConfigMap', 'list items get their kind back');
    await client.create(Resources.configmaps, 'default', { metadata: { name: 'live' }, data: { v: '1' } });
    await client.patch(Resources.configmaps, 'default', 'live', 'merge', { data: { v: '2' } });
    await client.delete(Resources.configmaps, 'default', 'live');
    await until(() => events.includes('delete live'), 'delete event');
    assert.deepEqual(events, ['add before', 'add live', 'update live 1->2', 'delete live']);
    assert.equal(inf.byNamespace('default').length, 1);
    assert.equal(inf.get('default/live'), undefined);
    // A late subscriber gets the current cache as adds.
    const late: string[] = [];
    inf.addEventHandlers({ add: (o) => late.push(o.metadata!.name!) });
    assert.deepEqual(late, ['before']);
  } finally {
    ac.abort();
  }
});
