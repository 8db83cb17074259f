/**
 * @module The embedded SQLite store backend, registered under the `sqlite` endpoint scheme:
 * `sqlite:///abs/path/state.db`, `sqlite:relative/state.db`, or `sqlite::memory:` for a
 * private in-memory store. Query parameters tune it, e.g.
 * `?synchronous=full&retainRevisions=1000&retainMs=300000&compactIntervalMs=60000`.
 */
import { registerStore, StoreError } from '../store.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

export { SqliteStore, openSqliteStore } from './sqlite-store.js';
export type { SqliteStoreOptions, SqliteStoreStats } from './sqlite-store.js';
export { rawSqliteBaseline } from './baseline.js';
export type { BaselineResult } from './baseline.js';

const NUMERIC = [
  'retainRevisions',
  'retainMs',
  'compactIntervalMs',
  'compactEveryWrites',
  'compactBatchSize',
  'watchReplayBatch',
] as const;

/** Splits a `sqlite:` endpoint into the file path and store options. */
export function parseSqliteEndpoint(endpoint: URL): { path: string; options: SqliteStoreOptions } {
  const raw = decodeURIComponent(endpoint.pathname);
  const path = raw === ':memory:' || raw === '/:memory:' || (endpoint.host === 'memory' && raw === '') ? ':memory:' : raw;
  if (endpoint.host !== '' && path !== ':memory:') {
    throw new StoreError(`sqlite endpoint ${endpoint.href} must not name a host; use sqlite:///absolute/path`);
  }
  if (path === '') throw new StoreError(`sqlite endpoint ${endpoint.href} names no file`);
  const options: SqliteStoreOptions = {};
  const q = endpoint.searchParams;
  const sync = q.get('synchronous');
  if (sync !== null) {
    const s = sync.toLowerCase();
    if (s !== 'normal' && s !== 'full') throw new StoreError(`sqlite endpoint: synchronous must be normal or full, not ${sync}`);
    options.synchronous = s;
  }
  if (q.get('exclusive') !== null) options.exclusive = q.get('exclusive') !== 'false';
  if (q.get('autoCompact') !== null) options.autoCompact = q.get('autoCompact') !== 'false';
  for (const name of NUMERIC) {
    const v = q.get(name);
    if (v === null) continue;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new StoreError(`sqlite endpoint: ${name} must be a non-negative number, not ${v}`);
    options[name] = n;
  }
  return { path, options };
}

registerStore('sqlite', async (endpoint) => {
  const { path, options } = parseSqliteEndpoint(endpoint);
  return openSqliteStore(path, options);
});
