/**
 * @module Child process for the crash test: writes keys in a loop and prints each one only
 * after the store acknowledged it, until killed. Usage: node crash-writer.js <db> <prefix> [synchronous]
 */
import { writeSync } from 'node:fs';
import { openSqliteStore } from './sqlite-store.js';
import type { Synchronous } from './pragmas.js';

async function main(): Promise<void> {
  const [path, prefix, synchronous = 'normal'] = process.argv.slice(2);
  if (!path || !prefix) throw new Error('usage: crash-writer <db> <prefix> [normal|full]');
  const store = await openSqliteStore(path, { synchronous: synchronous as Synchronous });
  const counterKey = `${prefix}counter`;
  let counter = await store.create(counterKey, '0');
  writeSync(1, `ready\n`);
  // Bounded so a parent that fails to kill us cannot leave a writer running forever.
  for (let i = 1; i <= 1_000_000; i++) {
    await store.create(`${prefix}k/${i}`, String(i));
    counter = await store.update(counterKey, String(i), counter.modRevision);
    // stdout is a pipe, and pipe writes are synchronous on Linux: the line is out before the next write starts.
    writeSync(1, `ack ${i}\n`);
  }
  await store.close();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
