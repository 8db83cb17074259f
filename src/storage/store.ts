/**
 * @module The key-value store contract every backend implements, modelled on etcd v3:
 * one global revision, compare-and-swap on a key's mod revision, prefix ranges with
 * limit/continue, watch from a revision, compaction. Knows nothing of Kubernetes.
 */

/** One stored key at one revision. */
export interface KeyValue {
  key: string;
  /** Opaque value (skiff stores JSON text). Empty string for delete events. */
  value: string;
  /** Revision at which the key was (last) created. */
  createRevision: number;
  /** Revision of the last write to the key (for a delete event: the delete's revision). */
  modRevision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For 'put': the new value. For 'delete': key + modRevision of the deletion, value ''. */
  kv: KeyValue;
  /** The value before this event: always set for 'delete', set for 'put' when it was an update. */
  prevKv?: KeyValue;
}

export interface ListOptions {
  /** Maximum number of keys to return (0 or undefined: all). */
  limit?: number;
  /** Return only keys strictly greater than this key (pagination). */
  startAfter?: string;
  /**
   * Read the range as it was at this revision (0/undefined: current). Throws CompactedError
   * when below compactRevision() (reading at exactly it works), FutureRevisionError when newer
   * than the current revision.
   */
  revision?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the range was read at. */
  revision: number;
  /** True when keys beyond the last returned one exist under the prefix. */
  more: boolean;
  /** Number of keys after the returned ones (when more is true; may be approximate). */
  remaining?: number;
}

export interface Watcher {
  /** Stops delivery; idempotent. */
  cancel(): void;
}

export interface WatchOptions {
  /** Deliver events with revision strictly greater than this. Throws CompactedError if too old. */
  afterRevision: number;
  /** Called with events in revision order, never concurrently. */
  onEvents: (events: WatchEvent[]) => void;
  /** Called once if the watch ends abnormally (backend closed, fell too far behind). */
  onError?: (err: Error) => void;
}

export interface Store {
  /** The latest revision of the store (0 when empty). */
  currentRevision(): Promise<number>;
  /** The oldest revision that can still be read or watched from (compaction point). */
  compactRevision(): Promise<number>;
  get(key: string): Promise<KeyValue | undefined>;
  /** Creates key; throws KeyExistsError when it exists. Resolves after the write is durable. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Replaces key if its modRevision equals expectedModRevision; else ConflictError (with current) or KeyNotFoundError. */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /**
   * Deletes key (if expectedModRevision is given, only at that revision); returns the deleted
   * value with modRevision set to the delete's revision and createRevision unchanged.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /** Range over keys starting with prefix, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Number of keys under prefix. */
  count(prefix: string): Promise<number>;
  /**
   * Watch every key under prefix. Never throws: a start revision below compactRevision()
   * (CompactedError) or a closed store is reported through onError, asynchronously, as an
   * etcd backend can only learn it. A start revision in the future simply waits.
   * Delete events have kv.createRevision 0 (as etcd) and the old value in prevKv.
   */
  watch(prefix: string, opts: WatchOptions): Watcher;
  /** Forget history at or below revision. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

/** Base class of store errors; backends throw only these. */
export class StoreError extends Error {}

/** Thrown by create when the key exists. */
export class KeyExistsError extends StoreError {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
  }
}

/** Thrown by update/delete when the key does not exist. */
export class KeyNotFoundError extends StoreError {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}

/** Thrown by update/delete when the key's modRevision differs from the expected one. */
export class ConflictError extends StoreError {
  constructor(
    readonly key: string,
    readonly current: KeyValue,
  ) {
    super(`conflict on ${key}: current mod revision ${current.modRevision}`);
  }
}

/** Thrown when a read or watch asks for a revision that was compacted away. */
export class CompactedError extends StoreError {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`required revision ${requested} has been compacted (compacted up to ${compacted})`);
  }
}

/** Thrown when a read asks for a revision newer than the store has. */
export class FutureRevisionError extends StoreError {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`required revision ${requested} is a future revision (current ${current})`);
  }
}

/** A factory registered per endpoint scheme (`sqlite://path`, `etcd://host:port`). */
export type StoreFactory = (endpoint: URL) => Promise<Store>;

const factories = new Map<string, StoreFactory>();

export function registerStore(scheme: string, factory: StoreFactory): void {
  factories.set(scheme, factory);
}

export async function openStore(endpoint: string): Promise<Store> {
  const url = new URL(endpoint);
  const scheme = url.protocol.replace(/:$/, '');
  const factory = factories.get(scheme);
  if (!factory) throw new StoreError(`no store backend for scheme ${scheme}`);
  return factory(url);
}
