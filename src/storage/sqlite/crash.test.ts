/** @module kill -9 of a writing process loses no acknowledged write. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { openSqliteStore } from './sqlite-store.js';

const writer = fileURLToPath(new URL('./crash-writer.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until it acknowledged at least `acks` writes, then SIGKILLs it; returns the last acknowledged index. */
function writeUntilKilled(path: string, prefix: string, acks: number, synchronous: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, path, prefix, synchronous], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = 0;
    let buffered = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer did not reach ${acks} acks within 60 s (last ${last}); stderr: ${stderr}`));
    }, 60_000);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (m) last = Number(m[1]);
      }
      if (!killed && last >= acks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    // 'close' waits for stdout to drain, so acks still in the pipe are counted.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve(last);
      else reject(new Error(`writer exited early (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
}

for (const synchronous of ['normal', 'full']) {
  test(`every acknowledged write survives kill -9 (synchronous=${synchronous})`, async () => {
    const path = join(dir, `crash-${synchronous}.db`);
    const rounds = [
      { prefix: '/crash/r1/', acks: synchronous === 'full' ? 300 : 1500 },
      // The second writer opens the file left behind by a killed one.
      { prefix: '/crash/r2/', acks: synchronous === 'full' ? 300 : 1500 },
    ];
    const acked: number[] = [];
    for (const round of rounds) acked.push(await writeUntilKilled(path, round.prefix, round.acks, synchronous));

    const store = await openSqliteStore(path);
    try {
      let revision = 0;
      for (const [n, round] of rounds.entries()) {
        const last = acked[n];
        assert.ok(last >= round.acks);
        for (let i = 1; i <= last; i++) {
          const kv = await store.get(`${round.prefix}k/${i}`);
          assert.equal(kv?.value, String(i), `acknowledged key ${round.prefix}k/${i} is missing after kill -9`);
        }
        const counter = await store.get(`${round.prefix}counter`);
        assert.ok(Number(counter?.value) >= last, `counter ${counter?.value} is behind acknowledged ${last}`);
        const listed = await store.list(`${round.prefix}k/`);
        assert.ok(listed.items.length >= last);
        assert.ok(listed.items.length <= last + 1, 'at most the one unacknowledged in-flight write is extra');
        revision = Math.max(revision, counter!.modRevision);
      }
      assert.ok((await store.currentRevision()) >= revision);
      const next = await store.create('/crash/after', 'x');
      assert.equal(next.modRevision, (await store.currentRevision()));
    } finally {
      await store.close();
    }
  });
}
