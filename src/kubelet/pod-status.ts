/**
 * @module The API pod status a node agent reports, computed from what the runtime says
 * (kubelet's generateAPIPodStatus + getPhase + the status manager's condition merging):
 * phase, the five kubelet-owned conditions with stable lastTransitionTimes, container
 * statuses in spec order, pod and host IPs, startTime. Pure: no I/O, time comes in.
 */
import type { KObject } from '../api/types.js';
import { isRestartableInitContainer } from '../api/kinds/podspec.js';
import type { ContainerStatus, PodSandboxStatus } from './runtime.js';

/** Conditions the kubelet owns (kubetypes.PodConditionByKubelet). */
export const kubeletConditionTypes = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'] as const;

/** A waiting reason the worker imposes on a container (CrashLoopBackOff between restarts). */
export interface WaitingOverride {
  reason: string;
  message?: string;
}

export interface PodStatusInput {
  pod: KObject;
  sandbox?: PodSandboxStatus;
  /** Every container attempt the runtime still has for the pod's sandbox. */
  containers: ContainerStatus[];
  runtimeName: string;
  hostIP: string;
  now: Date;
  waiting?: Map<string, WaitingOverride>;
  /** Readiness of a running container (probes); default: ready once running. */
  isReady?: (c: ContainerStatus) => boolean;
  /** A running container passed its startup probe (default: started once running); never ready before. */
  isStarted?: (c: ContainerStatus) => boolean;
  /** The pod's containers were stopped for deletion: report a terminal phase. */
  terminated?: boolean;
}

export function rfc3339(ms: number | Date): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function list(v: unknown): KObject[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as KObject[]) : [];
}

/** The newest attempt of each container name, and the one before it (lastState). */
export function latestAttempts(containers: ContainerStatus[]): Map<string, { latest: ContainerStatus; previous?: ContainerStatus }> {
  const byName = new Map<string, ContainerStatus[]>();
  for (const c of containers) {
    const l = byName.get(c.name);
    if (l) l.push(c);
    else byName.set(c.name, [c]);
  }
  const out = new Map<string, { latest: ContainerStatus; previous?: ContainerStatus }>();
  for (const [name, l] of byName) {
    l.sort((a, b) => a.attempt - b.attempt || a.createdAt - b.createdAt);
    out.set(name, { latest: l[l.length - 1], previous: l.length > 1 ? l[l.length - 2] : undefined });
  }
  return out;
}

function terminatedState(c: ContainerStatus, runtimeName: string): KObject {
  const t: KObject = {
    exitCode: c.exitCode ?? 0,
    reason: c.reason ?? ((c.exitCode ?? 0) === 0 ? 'Completed' : 'Error'),
    startedAt: c.startedAt !== undefined ? rfc3339(c.startedAt) : null,
    finishedAt: c.finishedAt !== undefined ? rfc3339(c.finishedAt) : null,
    containerID: `${runtimeName}://${c.id}`,
  };
  if (c.message) t.message = c.message;
  return { terminated: t };
}

interface Computed {
  status: KObject;
  running: boolean;
  ready: boolean;
  exited: boolean;
  exitCode: number;
  /** Waiting with a previous termination (restarting), as getPhase counts it. */
  restarting: boolean;
}

function containerStatus(spec: KObject, attempts: ReturnType<typeof latestAttempts>, input: PodStatusInput, defaultWaiting: string): Computed {
  const a = attempts.get(spec.name);
  const override = input.waiting?.get(spec.name);
  const base: KObject = { name: spec.name };
  if (!a) {
    const waiting = override ?? { reason: defaultWaiting };
    return {
      status: { ...base, state: { waiting }, lastState: {}, ready: false, restartCount: 0, image: spec.image, imageID: '', started: false },
      running: false,
      ready: false,
      exited: false,
      exitCode: 0,
      restarting: false,
    };
  }
  const { latest, previous } = a;
  const common = {
    image: latest.image,
    imageID: latest.imageRef,
    containerID: `${input.runtimeName}://${latest.id}`,
  };
  const lastFrom = (p?: ContainerStatus) => (p && p.state === 'CONTAINER_EXITED' ? terminatedState(p, input.runtimeName) : {});
  if (latest.state === 'CONTAINER_RUNNING') {
    const started = (input.isStarted ?? (() => true))(latest);
    const ready = started && (input.isReady ?? (() => true))(latest);
    return {
      status: {
        ...base,
        state: { running: { startedAt: rfc3339(latest.startedAt ?? latest.createdAt) } },
        lastState: lastFrom(previous),
        ready,
        restartCount: latest.attempt,
        ...common,
        started,
      },
      running: true,
      ready,
      exited: false,
      exitCode: 0,
      restarting: false,
    };
  }
  if (latest.state === 'CONTAINER_EXITED') {
    if (override)
      return {
        status: { ...base, state: { waiting: override }, lastState: terminatedState(latest, input.runtimeName), ready: false, restartCount: latest.attempt, ...common, started: false },
        running: false,
        ready: false,
        exited: false,
        exitCode: latest.exitCode ?? 0,
        restarting: true,
      };
    return {
      status: { ...base, state: terminatedState(latest, input.runtimeName), lastState: lastFrom(previous), ready: false, restartCount: latest.attempt, ...common, started: false },
      running: false,
      ready: false,
      exited: true,
      exitCode: latest.exitCode ?? 0,
      restarting: false,
    };
  }
  // Created but not yet started, or unknown to the runtime.
  const waiting = override ?? { reason: 'ContainerCreating' };
  return {
    status: { ...base, state: { waiting }, lastState: lastFrom(previous), ready: false, restartCount: latest.attempt, ...common, started: false },
    running: false,
    ready: false,
    exited: false,
    exitCode: 0,
    restarting: previous !== undefined,
  };
}

/** getPhase: Pending until containers start, Running while any runs or will restart, then Succeeded/Failed. */
function podPhase(pod: KObject, init: Computed[], initSpecs: KObject[], regular: Computed[], terminated: boolean): string {
  const restartPolicy: string = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = false;
  for (let i = 0; i < init.length; i++) {
    const c = init[i];
    if (isRestartableInitContainer(initSpecs[i])) {
      if (!c.running && !c.restarting && !c.exited) pendingInit = true;
      continue;
    }
    if (c.exited && c.exitCode === 0) continue;
    if (c.exited && restartPolicy === 'Never') return 'Failed';
    pendingInit = true;
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of regular) {
    if (c.running) running++;
    else if (c.exited) {
      stopped++;
      if (c.exitCode === 0) succeeded++;
    } else if (c.restarting) stopped++;
    else waiting++;
  }
  if (terminated) {
    // Containers stopped for deletion: the pod ends terminal, as kubelet 1.27+ reports it.
    return stopped > 0 && succeeded === stopped && running === 0 ? 'Succeeded' : 'Failed';
  }
  if (pendingInit && running === 0) return 'Pending';
  if (waiting > 0 && running === 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (restartPolicy === 'OnFailure') return succeeded === stopped ? 'Succeeded' : 'Running';
    return succeeded === stopped ? 'Succeeded' : 'Failed';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, reason?: string, message?: string): KObject {
  const c: KObject = { type, status: ok ? 'True' : 'False', lastProbeTime: null };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

/** Computes the status the agent should report for a pod. */
export function generatePodStatus(input: PodStatusInput): KObject {
  const { pod, now } = input;
  const old = pod.status ?? {};
  const attempts = latestAttempts(input.containers);
  const initSpecs = list(pod.spec?.initContainers);
  const specs = list(pod.spec?.containers);
  const defaultWaiting = initSpecs.length > 0 ? 'PodInitializing' : 'ContainerCreating';
  const init = initSpecs.map((c) => containerStatus(c, attempts, input, defaultWaiting));
  const regular = specs.map((c) => containerStatus(c, attempts, input, defaultWaiting));
  const phase = podPhase(pod, init, initSpecs, regular, !!input.terminated);

  const sandboxReady = input.sandbox?.state === 'SANDBOX_READY';
  const incompleteInit = initSpecs
    .filter((s, i) => (isRestartableInitContainer(s) ? !init[i].running && !init[i].exited && !init[i].restarting : !(init[i].exited && init[i].exitCode === 0)))
    .map((s) => s.name);
  const initialized = incompleteInit.length === 0 || phase === 'Succeeded';

  const unready = [
    ...initSpecs.filter((s, i) => isRestartableInitContainer(s) && !init[i].ready).map((s) => s.name),
    ...specs.filter((_, i) => !regular[i].ready).map((s) => s.name),
  ];
  const containersReady = unready.length === 0 && !input.terminated;
  const unreadyMessage = `containers with unready status: [${unready.join(' ')}]`;

  const conditions: KObject[] = [];
  const readyToStart = condition('PodReadyToStartContainers', sandboxReady && !input.terminated);
  let initializedCond = condition('Initialized', initialized, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`);
  if (initSpecs.length === 0) initializedCond = condition('Initialized', true);
  let readyCond: KObject;
  let containersReadyCond: KObject;
  if (phase === 'Succeeded') {
    readyCond = condition('Ready', false, 'PodCompleted');
    containersReadyCond = condition('ContainersReady', false, 'PodCompleted');
  } else {
    containersReadyCond = condition('ContainersReady', containersReady, 'ContainersNotReady', unreadyMessage);
    readyCond = condition('Ready', containersReady, 'ContainersNotReady', unreadyMessage);
    if (containersReady) {
      const gateProblems: string[] = [];
      for (const g of list(pod.spec?.readinessGates)) {
        const c = list(old.conditions).find((x) => x.type === g.conditionType);
        if (!c) gateProblems.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
        else if (c.status !== 'True') gateProblems.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
      }
      if (gateProblems.length) readyCond = condition('Ready', false, 'ReadinessGatesNotReady', gateProblems.join(', '));
    }
  }
  const oldConditions = list(old.conditions);
  const owned = new Set<string>(kubeletConditionTypes);
  for (const c of oldConditions) if (!owned.has(c.type)) conditions.push(c);
  const scheduled = oldConditions.find((c) => c.type === 'PodScheduled');
  const generated = [readyToStart, initializedCond, readyCond, containersReadyCond];
  for (const c of generated) {
    const prev = oldConditions.find((x) => x.type === c.type);
    c.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now);
    conditions.push(c);
  }
  conditions.push(scheduled && scheduled.status === 'True' ? scheduled : { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: scheduled?.lastTransitionTime ?? rfc3339(now) });

  const status: KObject = {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: old.startTime ?? rfc3339(now),
  };
  const ip = input.sandbox?.ip;
  if (ip) {
    status.podIP = ip;
    status.podIPs = [{ ip }];
  } else if (old.podIP) {
    status.podIP = old.podIP;
    status.podIPs = old.podIPs ?? [{ ip: old.podIP }];
  }
  if (initSpecs.length > 0) status.initContainerStatuses = init.map((c) => c.status);
  status.containerStatuses = regular.map((c) => c.status);
  return status;
}

/** The fields generatePodStatus owns, for comparing with what the API server holds. */
export const reportedStatusFields = ['phase', 'conditions', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'initContainerStatuses', 'containerStatuses'] as const;

/** JSON equality that treats null, undefined and a missing key alike (as merge patches do). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (blank(a) || blank(b)) return blank(a) && blank(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameJson(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) if (!sameJson(ao[k], bo[k])) return false;
    return true;
  }
  return false;
}

/** null, undefined and {} all mean "nothing here" once a status has been through the API server. */
function blank(v: unknown): boolean {
  if (v == null) return true;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  return Object.values(v as Record<string, unknown>).every(blank);
}

/** True when the API server already holds the status the agent would write. */
export function statusUpToDate(current: KObject | undefined, desired: KObject): boolean {
  const cur = current ?? {};
  return reportedStatusFields.every((f) => sameJson(cur[f], desired[f]));
}
