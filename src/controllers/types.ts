/**
 * @module What every controller gets and gives: it is built from a ControllerContext
 * (client, shared informers, clock, event recorders, options) and runs until its signal
 * aborts. Controllers never call each other; they meet only in API objects.
 */
import type { Client, EventRecorder, InformerFactory } from '../client/index.js';

export interface ControllerOptions {
  /** Node lifecycle: how long a node's Lease may go unrenewed before it is NotReady/Unknown (kube: 40 s). */
  nodeMonitorGracePeriodSeconds: number;
  /** How often node health is checked (kube: 5 s). */
  nodeMonitorPeriodSeconds: number;
  /** Garbage collector / TTL / CronJob etc. may add their own knobs here. */
  [k: string]: number | string | boolean | undefined;
}

export const defaultControllerOptions: ControllerOptions = {
  nodeMonitorGracePeriodSeconds: 40,
  nodeMonitorPeriodSeconds: 5,
};

export interface ControllerContext {
  client: Client;
  informers: InformerFactory;
  /** Wall clock (tests pass a fake). */
  now: () => Date;
  /** An event recorder whose source.component is the given name ("replicaset-controller"). */
  recorder(component: string): EventRecorder;
  log(msg: Record<string, unknown>): void;
  options: ControllerOptions;
}

export interface Controller {
  readonly name: string;
  /** Waits for its informers to sync, then runs `workers` workers until the signal aborts. */
  run(signal: AbortSignal, workers: number): Promise<void>;
}

/** Each controller folder's index.ts exports one of these as `controllerFactory`. */
export type ControllerFactory = (ctx: ControllerContext) => Controller;
