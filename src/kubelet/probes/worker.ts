/**
 * @module One probe of one container (kubelet's prober worker): probes right away, then
 * every periodSeconds, skipping results until initialDelaySeconds after the container
 * started; liveness and readiness wait for the startup probe, which stops once it passed.
 * A result only counts after successThreshold / failureThreshold consecutive identical
 * outcomes. A liveness or startup failure is reported once, then the worker holds until a
 * new container (restart) appears. Time comes from a Clock, so tests need no sleeps.
 */
import type { Clock } from '../../client/index.js';
import type { ProbeOutcome, ProbeType } from './types.js';

/** The container as the worker last saw it. */
export interface ProbedContainer {
  id: string;
  running: boolean;
  /** ms since the epoch, when running. */
  startedAt?: number;
  /** The startup probe passed (or there is none). */
  started: boolean;
}

/** Probe settings with kube's defaults applied. */
export interface ProbeTiming {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export function probeTiming(probe: Record<string, unknown>): ProbeTiming {
  const num = (k: string, def: number, min: number) => {
    const v = probe[k];
    return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : def;
  };
  return {
    initialDelaySeconds: num('initialDelaySeconds', 0, 0),
    periodSeconds: num('periodSeconds', 10, 1),
    timeoutSeconds: num('timeoutSeconds', 1, 1),
    successThreshold: num('successThreshold', 1, 1),
    failureThreshold: num('failureThreshold', 3, 1),
  };
}

export interface ProbeWorkerOptions {
  type: ProbeType;
  timing: ProbeTiming;
  clock: Clock;
  /** The watched container now (undefined: not created yet). */
  container(): ProbedContainer | undefined;
  /** Runs one probe against the container with this id. */
  probe(containerId: string): Promise<ProbeOutcome>;
  /** A probe ran (events: Unhealthy, ProbeWarning). */
  observed(outcome: ProbeOutcome): void;
  /** The result that counts for containerId changed (true: success). */
  report(containerId: string, success: boolean): void;
}

export class ProbeWorker {
  private timer: unknown;
  private stopped = false;
  private inFlight = false;
  private containerId?: string;
  private lastResult?: boolean;
  private resultRun = 0;
  private onHold = false;
  /** The reported result per container id (readiness starts false, liveness true, startup unset). */
  private reported?: { id: string; success: boolean };

  constructor(private readonly opts: ProbeWorkerOptions) {}

  get type(): ProbeType {
    return this.opts.type;
  }

  /** The counted result for this container id, or undefined while unknown. */
  result(containerId: string): boolean | undefined {
    if (this.reported?.id === containerId) return this.reported.success;
    if (this.opts.type === 'liveness') return true;
    if (this.opts.type === 'readiness') return false;
    return undefined;
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
  }

  /** Probe now (kubelet's manual trigger: a container just (re)started). */
  trigger(): void {
    if (this.stopped || this.inFlight) return;
    this.opts.clock.clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.inFlight = true;
    try {
      await this.doProbe();
    } finally {
      this.inFlight = false;
      this.schedule(this.opts.timing.periodSeconds * 1000);
    }
  }

  private set(id: string, success: boolean): void {
    const prev = this.result(id);
    this.reported = { id, success };
    if (prev !== success) this.opts.report(id, success);
  }

  /** One round of kubelet's worker.doProbe. */
  async doProbe(): Promise<void> {
    const c = this.opts.container();
    if (!c) return;
    if (c.id !== this.containerId) {
      // A new container: start over from the type's initial result.
      this.containerId = c.id;
      this.lastResult = undefined;
      this.resultRun = 0;
      this.onHold = false;
    }
    if (!c.running) {
      if (this.opts.type === 'readiness') this.set(c.id, false);
      return;
    }
    if (this.onHold) return;
    const { timing, clock } = this.opts;
    if (c.startedAt !== undefined && clock.now() - c.startedAt < timing.initialDelaySeconds * 1000) return;
    if (this.opts.type === 'startup' && c.started) return;
    if (this.opts.type !== 'startup' && !c.started) return;

    const outcome = await this.opts.probe(c.id);
    if (this.stopped || this.opts.container()?.id !== c.id) return;
    this.opts.observed(outcome);
    // A probe that could not run leaves the previous result standing.
    if (outcome.result === 'unknown') return;
    const success = outcome.result !== 'failure';
    if (this.lastResult === success) this.resultRun++;
    else {
      this.lastResult = success;
      this.resultRun = 1;
    }
    if ((!success && this.resultRun < timing.failureThreshold) || (success && this.resultRun < timing.successThreshold)) return;
    this.set(c.id, success);
    if (!success && (this.opts.type === 'liveness' || this.opts.type === 'startup')) {
      // The container will be killed; nothing to probe until its replacement runs.
      this.onHold = true;
      this.resultRun = 0;
    }
  }
}
