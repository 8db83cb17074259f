/** @module The SQLite connection settings skiff's store runs with, shared by the store and its raw baseline benchmark. */
import type { Database } from 'better-sqlite3';

export type Synchronous = 'normal' | 'full';

export interface PragmaOptions {
  /**
   * `normal` (default): in WAL mode a commit is durable once written to the OS, so it
   * survives `kill -9` of the server but not a power cut. `full`: fsync on every commit
   * (about 5x fewer commits per second on this machine class), survives a power cut.
   */
  synchronous?: Synchronous;
  /**
   * Hold the file lock for the connection's lifetime (default true), so a second skiff
   * server pointed at the same file fails fast instead of sharing the revision counter.
   */
  exclusive?: boolean;
}

/** Applies WAL and durability settings; returns the journal mode actually in effect. */
export function applyPragmas(db: Database, opts: PragmaOptions = {}): string {
  // Fail after a short wait rather than blocking the event loop on a foreign lock.
  db.pragma('busy_timeout = 200');
  if (opts.exclusive ?? true) db.pragma('locking_mode = EXCLUSIVE');
  const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
  db.pragma(`synchronous = ${(opts.synchronous ?? 'normal') === 'full' ? 'FULL' : 'NORMAL'}`);
  // Keep the WAL from growing without bound between automatic checkpoints.
  db.pragma('journal_size_limit = 67108864');
  return mode;
}
