/** @module Embedded SQLite backend of Store: a kine-like append-only log plus a current-key index, in-process watch fan-out and bounded automatic compaction. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  StoreError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type WatchEvent,
  type Watcher,
  type WatchOptions,
} from '../store.js';
import { compareKeys, upperBound } from './key-range.js';
import { applyPragmas, type PragmaOptions } from './pragmas.js';

export interface SqliteStoreOptions extends PragmaOptions {
  /** Automatic compaction keeps at least this many recent revisions (default 1000). */
  retainRevisions?: number;
  /**
   * Automatic compaction keeps revisions younger than this (default 5 minutes, the
   * interval at which kube-apiserver compacts etcd). History is kept when either rule wants it.
   */
  retainMs?: number;
  /** How often the background compactor runs (default 60 s; 0 disables the timer). */
  compactIntervalMs?: number;
  /** Also run the compactor after this many writes (default 1000; 0 disables). */
  compactEveryWrites?: number;
  /** Revisions swept per compaction transaction, so writers never wait long (default 1000). */
  compactBatchSize?: number;
  /** Set false to compact only when compact() is called. */
  autoCompact?: boolean;
  /** Revisions a replaying watcher reads per event-loop turn (default 5000). */
  watchReplayBatch?: number;
  /** Clock for time-based retention (milliseconds). */
  now?: () => number;
}

/** Counters for tests and diagnostics. */
export interface SqliteStoreStats {
  revision: number;
  compactRevision: number;
  /** Revision up to which superseded log rows have been physically removed. */
  compactedThrough: number;
  logRows: number;
  keys: number;
}

interface LogRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

interface ReplayRow extends LogRow {
  prev_value: string | null;
  prev_create_revision: number | null;
}

interface WatchState {
  prefix: string;
  end: string | Buffer;
  opts: WatchOptions;
  /** Last revision read from the log (replaying) or queued (live). */
  cursor: number;
  live: boolean;
  done: boolean;
  pending: WatchEvent[];
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

const CURRENT_COLUMNS = 'l.id, l.name, l.created, l.deleted, l.create_revision, l.prev_revision, l.value';

function toKeyValue(row: LogRow): KeyValue {
  return { key: row.name, value: row.value, createRevision: row.create_revision, modRevision: row.id };
}

function wrap(err: unknown): Error {
  if (err instanceof StoreError) return err;
  const e = new StoreError(`sqlite: ${err instanceof Error ? err.message : String(err)}`);
  (e as Error & { cause?: unknown }).cause = err;
  return e;
}

/**
 * Store on one SQLite file. Every revision is one row of `log` (id = revision); `kv`
 * maps each live key to its latest row, so current reads are index range scans and
 * values are stored once. The process that opens the file is its only writer: watch
 * events come from the write path, not from polling.
 */
export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: Db;
  private readonly opts: Required<Omit<SqliteStoreOptions, keyof PragmaOptions>>;
  private readonly st: ReturnType<typeof prepare>;
  private readonly inTxn: <T>(fn: () => T) => T;
  private rev = 0;
  private compactRev = 0;
  private compactCursor = 0;
  private closed = false;
  private writesSinceCompact = 0;
  private samples: { at: number; rev: number }[] = [];
  private compaction?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly watchers = new Map<string, Set<WatchState>>();
  private dirty = new Set<WatchState>();
  private flushScheduled = false;

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    this.path = path;
    this.opts = {
      retainRevisions: opts.retainRevisions ?? 1000,
      retainMs: opts.retainMs ?? 5 * 60_000,
      compactIntervalMs: opts.compactIntervalMs ?? 60_000,
      compactEveryWrites: opts.compactEveryWrites ?? 1000,
      compactBatchSize: Math.max(1, opts.compactBatchSize ?? 1000),
      autoCompact: opts.autoCompact ?? true,
      watchReplayBatch: Math.max(1, opts.watchReplayBatch ?? 5000),
      now: opts.now ?? Date.now,
    };
    const memory = path === ':memory:' || path === '';
    try {
      if (!memory) mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(memory ? ':memory:' : path);
    } catch (err) {
      throw wrap(err);
    }
    try {
      applyPragmas(this.db, opts);
      const version = Number(this.db.pragma('user_version', { simple: true }));
      if (version > SCHEMA_VERSION) {
        throw new StoreError(`sqlite store ${path} has schema version ${version}, newer than this skiff (${SCHEMA_VERSION})`);
      }
      this.db.exec(SCHEMA);
      if (version < SCHEMA_VERSION) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      this.st = prepare(this.db);
    } catch (err) {
      this.db.close();
      if (err instanceof Error && /locked|busy/i.test(err.message)) {
        throw new StoreError(`sqlite store ${path} is in use by another process`);
      }
      throw wrap(err);
    }
    const txn = this.db.transaction((fn: () => unknown) => fn());
    this.inTxn = <T>(fn: () => T) => txn(fn) as T;
    this.compactRev = this.meta('compact_revision');
    this.compactCursor = this.meta('compact_cursor');
    const maxId = (this.st.maxId.get() as { id: number | null }).id ?? 0;
    // Compaction may remove the newest row (a tombstone), but never past compactRev.
    this.rev = Math.max(maxId, this.compactRev);
    this.samples.push({ at: this.opts.now(), rev: this.rev });
    if (this.compactCursor < this.compactRev) void this.runCompaction();
    if (this.opts.autoCompact && this.opts.compactIntervalMs > 0) {
      this.timer = setInterval(() => this.autoCompact(), this.opts.compactIntervalMs);
      this.timer.unref();
    }
  }

  async currentRevision(): Promise<number> {
    this.ensureOpen();
    return this.rev;
  }

  async compactRevision(): Promise<number> {
    this.ensureOpen();
    return this.compactRev;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.ensureOpen();
    const row = this.guard(() => this.st.current.get(key) as LogRow | undefined);
    return row && toKeyValue(row);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    return this.write(() => {
      if (this.st.exists.get(key)) throw new KeyExistsError(key);
      const rev = this.rev + 1;
      this.st.insertLog.run(rev, key, 1, 0, rev, 0, value);
      this.st.insertKv.run(key, rev);
      const kv: KeyValue = { key, value, createRevision: rev, modRevision: rev };
      return { rev, result: kv, event: { type: 'put', kv } };
    });
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return this.write(() => {
      const cur = this.st.current.get(key) as LogRow | undefined;
      if (!cur) throw new KeyNotFoundError(key);
      if (cur.id !== expectedModRevision) throw new ConflictError(key, toKeyValue(cur));
      const rev = this.rev + 1;
      this.st.insertLog.run(rev, key, 0, 0, cur.create_revision, cur.id, value);
      this.st.updateKv.run(rev, key);
      const kv: KeyValue = { key, value, createRevision: cur.create_revision, modRevision: rev };
      return { rev, result: kv, event: { type: 'put', kv, prevKv: toKeyValue(cur) } };
    });
  }

  /** Returns the deleted value with modRevision set to the revision of the deletion. */
  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.write(() => {
      const cur = this.st.current.get(key) as LogRow | undefined;
      if (!cur) throw new KeyNotFoundError(key);
      if (expectedModRevision !== undefined && cur.id !== expectedModRevision) {
        throw new ConflictError(key, toKeyValue(cur));
      }
      const rev = this.rev + 1;
      this.st.insertLog.run(rev, key, 0, 1, cur.create_revision, cur.id, '');
      this.st.deleteKv.run(key);
      return {
        rev,
        result: { key, value: cur.value, createRevision: cur.create_revision, modRevision: rev },
        event: {
          type: 'delete',
          kv: { key, value: '', createRevision: 0, modRevision: rev },
          prevKv: toKeyValue(cur),
        },
      };
    });
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.ensureOpen();
    const revision = opts.revision && opts.revision > 0 ? opts.revision : 0;
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    if (revision > 0 && revision < this.compactRev) throw new CompactedError(revision, this.compactRev);
    return this.guard(() =>
      revision === 0 || revision === this.rev
        ? this.listCurrent(prefix, opts, this.rev)
        : this.listAt(prefix, opts, revision),
    );
  }

  async count(prefix: string): Promise<number> {
    this.ensureOpen();
    return this.guard(() => (this.st.countFrom.get(prefix, upperBound(prefix)) as { n: number }).n);
  }

  /**
   * Replays history after opts.afterRevision, then delivers live events. Problems are
   * reported only through onError, never thrown: a compacted afterRevision yields
   * CompactedError asynchronously, and so does a replay overtaken by an explicit
   * compact(). Events are delivered from a later event-loop turn, never inside a write.
   * If onEvents throws, the watch ends and onError receives that error.
   */
  watch(prefix: string, opts: WatchOptions): Watcher {
    const w: WatchState = {
      prefix,
      end: upperBound(prefix),
      opts,
      cursor: opts.afterRevision,
      live: false,
      done: false,
      pending: [],
    };
    const watcher: Watcher = { cancel: () => this.endWatch(w) };
    if (this.closed) {
      setImmediate(() => this.failWatch(w, new StoreError('store is closed')));
      return watcher;
    }
    let group = this.watchers.get(prefix);
    if (!group) this.watchers.set(prefix, (group = new Set()));
    group.add(w);
    if (opts.afterRevision < this.compactRev) {
      const err = new CompactedError(opts.afterRevision, this.compactRev);
      setImmediate(() => this.failWatch(w, err));
    } else if (opts.afterRevision >= this.rev) {
      w.live = true;
    } else {
      setImmediate(() => this.replay(w));
    }
    return watcher;
  }

  /** Forgets history at or below revision; resolves once the superseded rows are gone. */
  async compact(revision: number): Promise<void> {
    this.ensureOpen();
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    if (revision > this.compactRev) {
      this.guard(() => this.st.setMeta.run('compact_revision', revision));
      this.compactRev = revision;
    }
    while (!this.closed && this.compactCursor < this.compactRev) await this.runCompaction();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const err = new StoreError('store is closed');
    for (const group of [...this.watchers.values()]) {
      for (const w of [...group]) this.failWatch(w, err);
    }
    await this.compaction?.catch(() => undefined);
    this.db.close();
  }

  /** Row and revision counters (logRows counts the whole log; meant for tests and diagnostics). */
  stats(): SqliteStoreStats {
    this.ensureOpen();
    return {
      revision: this.rev,
      compactRevision: this.compactRev,
      compactedThrough: this.compactCursor,
      logRows: (this.db.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n,
      keys: (this.db.prepare('SELECT COUNT(*) AS n FROM kv').get() as { n: number }).n,
    };
  }

  /** The query plan SQLite picks for a current list, so tests can prove it never touches the log by range. */
  explainList(prefix: string): string[] {
    this.ensureOpen();
    const plan = this.db.prepare(`EXPLAIN QUERY PLAN ${LIST_FROM}`).all(prefix, upperBound(prefix), 10);
    return (plan as { detail: string }[]).map((r) => r.detail);
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError('store is closed');
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw wrap(err);
    }
  }

  private meta(key: string): number {
    return (this.st.getMeta.get(key) as { value: number } | undefined)?.value ?? 0;
  }

  private write<T>(fn: () => { rev: number; result: T; event: WatchEvent }): T {
    this.ensureOpen();
    const out = this.guard(() => this.inTxn(fn));
    this.rev = out.rev;
    this.notify(out.event);
    if (this.opts.autoCompact && this.opts.compactEveryWrites > 0 && ++this.writesSinceCompact >= this.opts.compactEveryWrites) {
      this.writesSinceCompact = 0;
      this.autoCompact();
    }
    return out.result;
  }

  private listCurrent(prefix: string, opts: ListOptions, revision: number): ListResult {
    const end = upperBound(prefix);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const after = opts.startAfter !== undefined && compareKeys(opts.startAfter, prefix) >= 0 ? opts.startAfter : undefined;
    const stmt = after === undefined ? this.st.listFrom : this.st.listAfter;
    const rows = stmt.all(after ?? prefix, end, limit ? limit + 1 : -1) as LogRow[];
    const more = limit > 0 && rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map(toKeyValue);
    const result: ListResult = { items, revision, more };
    if (more) result.remaining = (this.st.countAfter.get(items[items.length - 1].key, end) as { n: number }).n;
    return result;
  }

  /**
   * A range as of an older revision: keys untouched since then read from `kv`; for keys
   * written after `revision`, the first later row's prev_revision points at the row that
   * was current then. Both ordered streams are merged; exact, and cheap when little
   * under the prefix changed. The log has no key index, which keeps writes cheap.
   */
  private listAt(prefix: string, opts: ListOptions, revision: number): ListResult {
    const end = upperBound(prefix);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const after = opts.startAfter !== undefined && compareKeys(opts.startAfter, prefix) >= 0 ? opts.startAfter : undefined;
    const inRange = (k: string) => (after === undefined ? true : compareKeys(k, after) > 0);

    // key → [row current at `revision` (0: none), exists now]
    const changed = new Map<string, [number, boolean]>();
    for (const row of this.st.changedSince.iterate(revision, prefix, end) as IterableIterator<LogRow>) {
      const seen = changed.get(row.name);
      if (seen) seen[1] = !row.deleted;
      else changed.set(row.name, [row.created ? 0 : row.prev_revision, !row.deleted]);
    }
    if (changed.size === 0) return this.listCurrent(prefix, opts, revision);

    const old: KeyValue[] = [];
    for (const [name, [then]] of changed) {
      if (then === 0 || !inRange(name)) continue;
      const row = this.st.rowById.get(then) as LogRow | undefined;
      if (!row) throw new StoreError(`sqlite: log row ${then} of ${name} is missing below revision ${revision}`);
      old.push(toKeyValue(row));
    }
    old.sort((a, b) => compareKeys(a.key, b.key));

    const want = limit ? limit + 1 : Infinity;
    const unchanged: KeyValue[] = [];
    const stmt = after === undefined ? this.st.listFrom : this.st.listAfter;
    for (const row of stmt.iterate(after ?? prefix, end, -1) as IterableIterator<LogRow>) {
      if (changed.has(row.name)) continue;
      unchanged.push(toKeyValue(row));
      if (unchanged.length >= want) break;
    }

    const merged: KeyValue[] = [];
    let i = 0;
    let j = 0;
    while (merged.length < want && (i < old.length || j < unchanged.length)) {
      if (j >= unchanged.length || (i < old.length && compareKeys(old[i].key, unchanged[j].key) < 0)) merged.push(old[i++]);
      else merged.push(unchanged[j++]);
    }
    const more = limit > 0 && merged.length > limit;
    const items = more ? merged.slice(0, limit) : merged;
    const result: ListResult = { items, revision, more };
    if (more) {
      const last = items[items.length - 1].key;
      let remaining = (this.st.countAfter.get(last, end) as { n: number }).n;
      for (const [name, [, existsNow]] of changed) if (existsNow && compareKeys(name, last) > 0) remaining--;
      for (const kv of old) if (compareKeys(kv.key, last) > 0) remaining++;
      result.remaining = remaining;
    }
    return result;
  }

  private notify(event: WatchEvent): void {
    const key = event.kv.key;
    const rev = event.kv.modRevision;
    for (const [prefix, group] of this.watchers) {
      if (!key.startsWith(prefix)) continue;
      for (const w of group) {
        if (!w.live || rev <= w.opts.afterRevision) continue;
        w.pending.push(event);
        w.cursor = rev;
        this.dirty.add(w);
      }
    }
    if (this.dirty.size > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const dirty = this.dirty;
    this.dirty = new Set();
    for (const w of dirty) {
      if (w.done || w.pending.length === 0) continue;
      const events = w.pending;
      w.pending = [];
      this.deliver(w, events);
    }
  }

  /**
   * Reads the log after the watcher's cursor in bounded steps. Writes are synchronous
   * and in this thread, so the step that reaches the current revision turns the watcher
   * live before any later write can happen: no gap and no duplicate.
   */
  private replay(w: WatchState): void {
    if (w.done || this.closed) return;
    if (w.cursor < this.compactRev) {
      this.failWatch(w, new CompactedError(w.cursor, this.compactRev));
      return;
    }
    const events: WatchEvent[] = [];
    try {
      let budget = this.opts.watchReplayBatch;
      while (w.cursor < this.rev && budget > 0) {
        const hi = Math.min(this.rev, w.cursor + budget);
        for (const row of this.st.replay.all(w.cursor, hi, w.prefix, w.end) as ReplayRow[]) events.push(replayEvent(row));
        budget -= hi - w.cursor;
        w.cursor = hi;
      }
    } catch (err) {
      this.failWatch(w, wrap(err));
      return;
    }
    if (w.cursor >= this.rev) w.live = true;
    else setImmediate(() => this.replay(w));
    if (events.length > 0) this.deliver(w, events);
  }

  private deliver(w: WatchState, events: WatchEvent[]): void {
    if (w.done) return;
    try {
      w.opts.onEvents(events);
    } catch (err) {
      this.failWatch(w, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private endWatch(w: WatchState): boolean {
    if (w.done) return false;
    w.done = true;
    w.pending = [];
    this.dirty.delete(w);
    const group = this.watchers.get(w.prefix);
    if (group) {
      group.delete(w);
      if (group.size === 0) this.watchers.delete(w.prefix);
    }
    return true;
  }

  private failWatch(w: WatchState, err: Error): void {
    if (this.endWatch(w)) w.opts.onError?.(err);
  }

  private autoCompact(): void {
    if (this.closed) return;
    const now = this.opts.now();
    this.samples.push({ at: now, rev: this.rev });
    const cutoff = now - this.opts.retainMs;
    while (this.samples.length > 1 && this.samples[1].at <= cutoff) this.samples.shift();
    const byTime = this.samples[0].at <= cutoff ? this.samples[0].rev : 0;
    let target = Math.min(this.rev - this.opts.retainRevisions, byTime);
    // Background compaction waits for replaying watchers instead of breaking them.
    for (const group of this.watchers.values()) {
      for (const w of group) if (!w.live) target = Math.min(target, w.cursor);
    }
    if (target > this.compactRev) void this.compact(target).catch(() => undefined);
  }

  private runCompaction(): Promise<void> {
    this.compaction ??= this.compactLoop().finally(() => {
      this.compaction = undefined;
    });
    return this.compaction;
  }

  /**
   * Removes, per swept revision, the row it superseded (prev_revision) and tombstones
   * themselves. What remains at or below the compact revision is exactly the latest
   * live row of each key, which both a list at that revision and the prevKv of every
   * later event need.
   */
  private async compactLoop(): Promise<void> {
    while (!this.closed && this.compactCursor < this.compactRev) {
      const lo = this.compactCursor;
      const hi = Math.min(this.compactRev, lo + this.opts.compactBatchSize);
      this.guard(() =>
        this.inTxn(() => {
          this.st.deleteSuperseded.run(lo, hi);
          this.st.deleteTombstones.run(lo, hi);
          this.st.setMeta.run('compact_cursor', hi);
        }),
      );
      this.compactCursor = hi;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

function replayEvent(row: ReplayRow): WatchEvent {
  const prevKv =
    row.prev_value !== null
      ? { key: row.name, value: row.prev_value, createRevision: row.prev_create_revision ?? 0, modRevision: row.prev_revision }
      : undefined;
  if (row.deleted) {
    return {
      type: 'delete',
      kv: { key: row.name, value: '', createRevision: 0, modRevision: row.id },
      prevKv: prevKv ?? { key: row.name, value: '', createRevision: row.create_revision, modRevision: row.prev_revision },
    };
  }
  const kv = toKeyValue(row);
  return row.created || !prevKv ? { type: 'put', kv } : { type: 'put', kv, prevKv };
}

const LIST_FROM = `SELECT ${CURRENT_COLUMNS} FROM kv JOIN log l ON l.id = kv.id
  WHERE kv.name >= ? AND kv.name < ? ORDER BY kv.name LIMIT ?`;

function prepare(db: Db) {
  const s = (sql: string): Statement => db.prepare(sql);
  return {
    maxId: s('SELECT MAX(id) AS id FROM log'),
    getMeta: s('SELECT value FROM meta WHERE key = ?'),
    setMeta: s('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    current: s(`SELECT ${CURRENT_COLUMNS} FROM kv JOIN log l ON l.id = kv.id WHERE kv.name = ?`),
    exists: s('SELECT 1 FROM kv WHERE name = ?'),
    insertLog: s(
      'INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    insertKv: s('INSERT INTO kv (name, id) VALUES (?, ?)'),
    updateKv: s('UPDATE kv SET id = ? WHERE name = ?'),
    deleteKv: s('DELETE FROM kv WHERE name = ?'),
    listFrom: s(LIST_FROM),
    listAfter: s(`SELECT ${CURRENT_COLUMNS} FROM kv JOIN log l ON l.id = kv.id
      WHERE kv.name > ? AND kv.name < ? ORDER BY kv.name LIMIT ?`),
    countFrom: s('SELECT COUNT(*) AS n FROM kv WHERE name >= ? AND name < ?'),
    countAfter: s('SELECT COUNT(*) AS n FROM kv WHERE name > ? AND name < ?'),
    changedSince: s(
      'SELECT id, name, created, deleted, prev_revision FROM log WHERE id > ? AND name >= ? AND name < ? ORDER BY id',
    ),
    rowById: s('SELECT * FROM log WHERE id = ?'),
    replay: s(`SELECT l.*, p.value AS prev_value, p.create_revision AS prev_create_revision
      FROM log l LEFT JOIN log p ON p.id = l.prev_revision AND l.created = 0
      WHERE l.id > ? AND l.id <= ? AND l.name >= ? AND l.name < ? ORDER BY l.id`),
    deleteSuperseded: s(
      'DELETE FROM log WHERE id IN (SELECT prev_revision FROM log WHERE id > ? AND id <= ? AND prev_revision > 0)',
    ),
    deleteTombstones: s('DELETE FROM log WHERE id > ? AND id <= ? AND deleted = 1'),
  };
}

/** Opens (creating if needed) the store at path; ':memory:' gives a private in-memory store. */
export async function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
  return new SqliteStore(path, opts);
}
