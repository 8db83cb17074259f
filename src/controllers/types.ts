/**
 * @module What every controller gets and gives: it is built from a ControllerContext
 * (client, shared informers, clock, event recorders, options) and runs until its signal
 * aborts. Controllers never call each other; they meet only in API objects.
 */
import type { KObject } from '../api/types.js';
import type { Client, EventRecorder, InformerFactory } from '../client/index.js';

export interface ControllerOptions {
  /** Node lifecycle: how long a node's Lease may go unrenewed before it is NotReady/Unknown (kube: 40 s). */
  nodeMonitorGracePeriodSeconds: number;
  /** How often node health is checked (kube: 5 s). */
  nodeMonitorPeriodSeconds: number;
  /** --horizontal-pod-autoscaler-sync-period (kube: 15 s). */
  horizontalPodAutoscalerSyncPeriodSeconds?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization: default scale-down window (kube: 5 min). */
  horizontalPodAutoscalerDownscaleStabilizationSeconds?: number;
  /** --horizontal-pod-autoscaler-tolerance (kube: 0.1). */
  horizontalPodAutoscalerTolerance?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (kube: 5 min). */
  horizontalPodAutoscalerCpuInitializationPeriodSeconds?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (kube: 30 s). */
  horizontalPodAutoscalerInitialReadinessDelaySeconds?: number;
  /** local-path provisioner: the directory its volumes are created in (k3s: <data-dir>/storage); unset: it provisions nothing. */
  localPathStorageDir?: string;
  /** PersistentVolume binder: how often every claim and volume is re-synced (kube's --pvclaimbinder-sync-period, 15 s). */
  persistentVolumeResyncPeriodMs?: number;
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
  /**
   * metrics.k8s.io PodMetrics of a namespace by label selector (a PodMetricsList), for the
   * HPA controller. In `skiff server` the API server's metrics API is called directly (the
   * loopback client does not reach it); absent, the controller lists it through `client`.
   */
  listPodMetrics?(namespace: string, labelSelector: string): Promise<KObject>;
}

export interface Controller {
  readonly name: string;
  /** Waits for its informers to sync, then runs `workers` workers until the signal aborts. */
  run(signal: AbortSignal, workers: number): Promise<void>;
}

/** Each controller folder's index.ts exports one of these as `controllerFactory`. */
export type ControllerFactory = (ctx: ControllerContext) => Controller;
