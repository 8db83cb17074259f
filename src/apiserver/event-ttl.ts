/**
 * @module Event expiry: kube-apiserver stores Events with a TTL (--event-ttl, default 1 h)
 * so they do not pile up. The store has no leases, so a sweeper deletes Events whose last
 * activity is older than the TTL.
 */
import type { KObject, ResourceDef } from '../api/types.js';
import type { RestStorage } from './rest.js';

/** The last time an Event was touched: lastTimestamp, eventTime, series, or creation. */
export function lastActivity(ev: KObject): number {
  const candidates = [ev.lastTimestamp, ev.eventTime, ev.series?.lastObservedTime, ev.metadata?.creationTimestamp]
    .filter((t): t is string => typeof t === 'string' && t !== '')
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  return candidates.length ? Math.max(...candidates) : 0;
}

/** Deletes every expired Event once; returns how many. */
export async function sweepEvents(rest: RestStorage, def: ResourceDef, ttlMs: number, now: Date): Promise<number> {
  let removed = 0;
  let cont: string | undefined;
  do {
    const page = await rest.list(def, undefined, { limit: 500, continue: cont });
    for (const ev of page.items as KObject[]) {
      if (now.getTime() - lastActivity(ev) < ttlMs) continue;
      try {
        await rest.delete(def, ev.metadata?.namespace, ev.metadata!.name!, {}, { dryRun: false, fieldManager: 'skiff-apiserver', fieldValidation: 'Ignore', warnings: [] });
        removed++;
      } catch {
        // Already gone or changed: the next sweep sees it again.
      }
    }
    cont = page.metadata?.continue as string | undefined;
  } while (cont);
  return removed;
}

/** Sweeps every `intervalMs` until stopped. */
export function startEventTtl(rest: RestStorage, def: ResourceDef, ttlMs: number, clock: () => Date, intervalMs = Math.min(ttlMs, 5 * 60_000)): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void sweepEvents(rest, def, ttlMs, clock()).finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
