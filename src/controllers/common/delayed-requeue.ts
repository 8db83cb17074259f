/**
 * @module Per-key delayed requeues where a sooner request replaces a later one (client-go's
 * AddAfter keeps the earliest). Controllers use it for deadlines, schedules and backoffs;
 * tests read `requested` to see what a sync asked for without waiting.
 */
import type { WorkQueue } from '../../client/index.js';

export class DelayedRequeue {
  private readonly timers = new Map<string, { due: number; handle: NodeJS.Timeout }>();
  /** The last delay (ms) each key asked for. */
  readonly requested = new Map<string, number>();

  constructor(private readonly queue: WorkQueue) {}

  after(key: string, ms: number): void {
    this.requested.set(key, ms);
    if (ms <= 0) {
      this.queue.add(key);
      return;
    }
    const due = Date.now() + ms;
    const current = this.timers.get(key);
    if (current && current.due <= due) return;
    if (current) clearTimeout(current.handle);
    const handle = setTimeout(() => {
      this.timers.delete(key);
      this.queue.add(key);
    }, ms);
    handle.unref?.();
    this.timers.set(key, { due, handle });
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t.handle);
    this.timers.clear();
  }
}
