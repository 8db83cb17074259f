/** @module Raw better-sqlite3 insert rate with the store's pragmas: the ceiling the benchmark compares API creates against. */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { applyPragmas, type PragmaOptions } from './pragmas.js';

export interface BaselineResult {
  /** Committed single-row insert transactions per second. */
  txPerSecond: number;
  elapsedMs: number;
  n: number;
  journalMode: string;
}

/**
 * Measures n single-row insert transactions into a fresh database at path (removed
 * before and after), with rows shaped like the store's log and `valueBytes` of value.
 */
export function rawSqliteBaseline(path: string, n: number, valueBytes = 512, opts: PragmaOptions = {}): BaselineResult {
  const files = [path, `${path}-wal`, `${path}-shm`, `${path}-journal`];
  for (const f of files) rmSync(f, { force: true });
  const db = new Database(path);
  try {
    const journalMode = applyPragmas(db, opts);
    db.exec(`CREATE TABLE log (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL,
      deleted INTEGER NOT NULL, create_revision INTEGER NOT NULL, prev_revision INTEGER NOT NULL, value TEXT NOT NULL)`);
    const insert = db.prepare('INSERT INTO log VALUES (?, ?, 1, 0, ?, 0, ?)');
    const one = db.transaction((id: number, name: string, value: string) => insert.run(id, name, id, value));
    const value = 'x'.repeat(valueBytes);
    const start = process.hrtime.bigint();
    for (let i = 1; i <= n; i++) one(i, `/registry/baseline/default/item-${i}`, value);
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    return { txPerSecond: n / (elapsedMs / 1000), elapsedMs, n, journalMode };
  } finally {
    db.close();
    for (const f of files) rmSync(f, { force: true });
  }
}
