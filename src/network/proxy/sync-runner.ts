/**
 * @module kube-proxy's BoundedFrequencyRunner: a requested sync runs at once when the last
 * one is at least minInterval old, otherwise when it becomes so (changes in between are
 * batched into one sync); never two at a time; and a full resync every maxInterval even
 * when nothing was requested.
 */

export interface SyncRunnerOptions {
  minIntervalMs: number;
  maxIntervalMs: number;
  /** full: a periodic resync rather than a requested one. */
  sync: (full: boolean) => Promise<void>;
  onError: (err: unknown) => void;
}

export class SyncRunner {
  private running = false;
  private pending = false;
  private lastRun = 0;
  private timer?: NodeJS.Timeout;
  private periodic?: NodeJS.Timeout;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private retryFull = false;

  constructor(private readonly opts: SyncRunnerOptions) {}

  start(): void {
    this.periodic = setInterval(() => {
      this.retryFull = true;
      this.run();
    }, this.opts.maxIntervalMs);
    this.periodic.unref();
  }

  /** Asks for a sync (batched with others that come in before it starts). */
  run(): void {
    if (this.stopped) return;
    this.pending = true;
    if (this.running || this.timer) return;
    const wait = Math.max(0, this.lastRun + this.opts.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.loop();
    }, wait);
  }

  /** Asks for a full resync after a failure, no sooner than minInterval. */
  retry(): void {
    this.retryFull = true;
    this.run();
  }

  private async loop(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    this.pending = false;
    const full = this.retryFull;
    this.retryFull = false;
    this.lastRun = Date.now();
    try {
      await this.opts.sync(full);
    } catch (err) {
      this.opts.onError(err);
      this.retryFull = true;
      this.pending = true;
    } finally {
      this.running = false;
    }
    if (this.pending) this.run();
    else for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once no sync is running or waiting (tests, benchmarks). */
  idle(): Promise<void> {
    if (!this.running && !this.timer && !this.pending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.periodic) clearInterval(this.periodic);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
