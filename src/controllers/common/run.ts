/**
 * @module The controller run loop every controller shares (kube's Run(ctx, workers)): wait
 * for the informer caches, then run each work queue's workers until the signal aborts,
 * logging failed syncs — conflicts, which only mean the cache was behind and are retried,
 * at debug level.
 */
import { runWorkers, type Informer, type WorkQueue } from '../../client/index.js';
import { errorMessage, isConflict } from './api-errors.js';

/** One work queue and the sync its workers run on each key. */
export interface WorkerPool {
  queue: WorkQueue;
  workers: number;
  sync: (key: string) => Promise<void>;
}

export interface RunSpec {
  /** Caches that must be synced before the first worker starts. */
  informers: ReadonlyArray<Pick<Informer, 'waitForSync'>>;
  pools: readonly WorkerPool[];
  /** Runs once the caches have synced, before the workers (a one-time scan). */
  started?: () => void | Promise<void>;
  /** Runs when the loop ends, however it ends (pending timers). */
  stopped?: () => void;
}

/** The structured log line of a failed sync (the key is retried with backoff). */
export function syncFailure(controller: string, queue: string, key: string, err: unknown): Record<string, unknown> {
  return { level: isConflict(err) ? 'debug' : 'warn', msg: 'sync failed', controller, queue, key, error: errorMessage(err) };
}

/**
 * Waits for the caches, then runs every pool's workers until the signal aborts; failed
 * syncs are logged under the controller's name and retried with backoff.
 */
export async function runController(controller: string, log: (msg: Record<string, unknown>) => void, signal: AbortSignal, spec: RunSpec): Promise<void> {
  try {
    await Promise.all(spec.informers.map((i) => i.waitForSync()));
    if (signal.aborted) return;
    await spec.started?.();
    if (signal.aborted) return;
    await Promise.all(spec.pools.map((p) => runWorkers(p.queue, p.workers, p.sync, signal, (key, err) => log(syncFailure(controller, p.queue.name, key, err)))));
  } finally {
    spec.stopped?.();
  }
}
