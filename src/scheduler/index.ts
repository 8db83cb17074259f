/**
 * @module kube-scheduler inside `skiff server`: `startScheduler` runs the default-scheduler
 * profile over the shared informers, talking to the API only through its Client. The
 * framework types and plugin registry are exported for out-of-tree plugins and tests.
 */
import type { Client, EventRecorder, InformerFactory } from '../client/index.js';
import type { SchedulerMetrics } from './metrics.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

export interface StartSchedulerOptions {
  client: Client;
  informers: InformerFactory;
  signal: AbortSignal;
  now?: () => Date;
  log?: (m: Record<string, unknown>) => void;
  /** An EventRecorder whose component is "default-scheduler". */
  recorder: EventRecorder;
  /** Advanced knobs (percentageOfNodesToScore, plugins, clock...). */
  tuning?: Omit<SchedulerOptions, 'client' | 'informers' | 'signal' | 'now' | 'log' | 'recorder'>;
}

export interface RunningScheduler {
  /** Counters and histograms, read live. */
  readonly metrics: SchedulerMetrics;
  readonly scheduler: Scheduler;
  /** Stops the loop and waits for in-flight bindings. */
  stop(): Promise<void>;
}

/**
 * Starts scheduling pods whose spec.schedulerName is default-scheduler and that have no
 * spec.nodeName. Requests the pods, nodes and namespaces informers of `informers` and
 * starts the factory with `signal` (already-running informers are unaffected).
 */
export function startScheduler(opts: StartSchedulerOptions): RunningScheduler {
  const scheduler = new Scheduler({ ...(opts.tuning ?? {}), client: opts.client, informers: opts.informers, signal: opts.signal, now: opts.now, log: opts.log, recorder: opts.recorder });
  scheduler.start();
  return {
    metrics: scheduler.metrics,
    scheduler,
    stop: () => scheduler.stop(),
  };
}

export { Scheduler, defaultSchedulerName, type SchedulerOptions } from './scheduler.js';
export { SchedulingQueue, type QueuedPodInfo, type SchedulingQueueOptions } from './queue.js';
export { SchedulerCache } from './cache.js';
export { Framework, FitError, NoNodesAvailableError, numFeasibleNodesToFind, type ScheduleResult } from './runtime.js';
export * from './framework.js';
export { NodeInfo, newPodInfo, type PodInfo } from './types.js';
export { registry, defaultPlugins } from './plugins/registry.js';
export type { SchedulerMetrics, Histogram } from './metrics.js';
