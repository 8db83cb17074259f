/**
 * @module client-go's rate-limited work queue: a key waits at most once (dirty set), is
 * never handed to two workers at once (processing set; re-added keys come back after
 * done()), and failed keys return with per-key exponential backoff.
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { unref?(): void } | unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface WorkQueueOptions {
  name?: string;
  /** First retry delay (client-go's default controller rate limiter: 5 ms). */
  baseDelayMs?: number;
  /** Longest retry delay (client-go: 1000 s). */
  maxDelayMs?: number;
  clock?: Clock;
}

export interface WorkQueueStats {
  adds: number;
  retries: number;
  depth: number;
  /** Seconds items waited between add and get, summed, and how many. */
  queueWaitSeconds: number;
  gets: number;
}

/** Every live queue of the process, for metrics (kube's workqueue_* are per queue name). */
export const workQueues = new Set<WorkQueue>();

export class WorkQueue {
  readonly name: string;
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly waiting = new Map<string, unknown>();
  private readonly addedAt = new Map<string, number>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly clock: Clock;
  readonly stats: WorkQueueStats = { adds: 0, retries: 0, depth: 0, queueWaitSeconds: 0, gets: 0 };

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? 'queue';
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    this.clock = opts.clock ?? realClock;
    workQueues.add(this);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.stats.adds++;
    this.dirty.add(key);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    const getter = this.getters.shift();
    if (getter) this.handOut(key, getter);
    else this.queue.push(key);
    this.stats.depth = this.queue.length;
  }

  /** Adds after a delay; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    if (this.waiting.has(key)) return;
    const handle = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, handle);
  }

  /** Requeue after the key's exponential backoff (base × 2^failures, capped). */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.stats.retries++;
    this.addAfter(key, Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n));
  }

  /** Stop tracking the key's failures (after a successful sync). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Next key to process; undefined once the queue is shut down and drained. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.stats.depth = this.queue.length;
      return new Promise((resolve) => this.handOut(key, resolve));
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  private handOut(key: string, to: (key: string | undefined) => void): void {
    this.dirty.delete(key);
    this.processing.add(key);
    const t = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (t !== undefined) this.stats.queueWaitSeconds += (this.clock.now() - t) / 1000;
    this.stats.gets++;
    to(key);
  }

  /** Marks the key processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  len(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    workQueues.delete(this);
    for (const h of this.waiting.values()) this.clock.clearTimeout(h);
    this.waiting.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }
}

/**
 * The controller worker loop: get → sync → forget on success, rate-limited requeue on
 * failure → done. Resolves when the signal aborts and workers have finished.
 */
export async function runWorkers(
  queue: WorkQueue,
  workers: number,
  sync: (key: string) => Promise<void>,
  signal: AbortSignal,
  onError?: (key: string, err: unknown) => void,
): Promise<void> {
  signal.addEventListener('abort', () => queue.shutDown(), { once: true });
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        onError?.(key, err);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
}
