/**
 * @module The scheduling framework in kube-scheduler's shape: a Status per plugin call
 * ("doesn't fit" is a code, never an exception), one small interface per extension point
 * (PreFilter, Filter, PreScore, Score, NormalizeScore, PostFilter), the cycle state
 * plugins share within one attempt, and the FitError text of FailedScheduling events.
 */
import type { NodeInfo, PodInfo } from './types.js';

/** kube-scheduler's status codes; Skip lets a PreFilter/PreScore plugin opt out for this pod. */
export type Code = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error' | 'Skip';

export interface Status {
  code: Code;
  reasons: string[];
  /** The plugin that returned it (set by the framework). */
  plugin?: string;
}

/** MaxNodeScore: every Score and NormalizeScore result lies in 0..100. */
export const maxNodeScore = 100;

const successStatus: Status = Object.freeze({ code: 'Success', reasons: Object.freeze([]) as unknown as string[] }) as Status;
const skipStatus: Status = Object.freeze({ code: 'Skip', reasons: Object.freeze([]) as unknown as string[] }) as Status;

export const success = (): Status => successStatus;
export const skip = (): Status => skipStatus;
export const unschedulable = (...reasons: string[]): Status => ({ code: 'Unschedulable', reasons });
export const unresolvable = (...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons });
export const errorStatus = (...reasons: string[]): Status => ({ code: 'Error', reasons });

export const isSuccess = (s: Status | undefined | void): boolean => !s || s.code === 'Success';
/** Unschedulable or UnschedulableAndUnresolvable: the pod was rejected, not failed. */
export const isRejected = (s: Status): boolean => s.code === 'Unschedulable' || s.code === 'UnschedulableAndUnresolvable';

/** Data plugins pass from PreFilter to Filter and from PreScore to Score, for one attempt. */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Plugins whose PreFilter said Skip: their Filter is not run this cycle. */
  readonly skipFilter = new Set<string>();

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
}

/** Cluster changes a rejected pod may be waiting for (the queue's move events). */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'AssignedPodAdd' | 'AssignedPodUpdate' | 'AssignedPodDelete';

/** What plugins may read of the cluster besides the node they are given. */
export interface ClusterView {
  /** Every node with a Node object, in the scheduler's (round-robin) order. */
  nodeInfos(): readonly NodeInfo[];
  nodeInfo(name: string): NodeInfo | undefined;
  /** Assigned (or assumed) pods of a namespace. */
  podsInNamespace(namespace: string): Iterable<PodInfo>;
  /** Assigned pods carrying any pod affinity or anti-affinity term. */
  podsWithAffinity(): Iterable<PodInfo>;
  /** Assigned pods carrying required anti-affinity terms. */
  podsWithRequiredAntiAffinity(): Iterable<PodInfo>;
  /** How many live assigned pods of one controller each node runs. */
  ownerPodCounts(ownerUid: string): ReadonlyMap<string, number> | undefined;
  /** Labels of a namespace (for namespaceSelector); undefined when unknown. */
  namespaceLabels(namespace: string): Record<string, string> | undefined;
}

/** The cluster view plus what preemption needs of the framework. */
export interface FrameworkHandle extends ClusterView {
  /** PreFilter + Filter of the pod on one node as if `without` were gone; undefined when it fits. */
  filterWithout(pod: PodInfo, nodeInfo: NodeInfo, without: readonly PodInfo[]): Status | undefined;
}

/** PreFilter may narrow the nodes worth evaluating (NodeAffinity's matchFields metadata.name). */
export interface PreFilterResult {
  nodeNames?: Set<string>;
}

export interface Plugin {
  readonly name: string;
  /** Cluster events after which a pod this plugin rejected may fit (queueing hints). */
  readonly events?: readonly ClusterEvent[];
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo): Status | PreFilterResult | void;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | void;
}

export interface ScorePlugin extends Plugin {
  /** The score's weight in the sum (kube's default plugin weights). */
  readonly weight: number;
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number;
  normalizeScore?(state: CycleState, pod: PodInfo, scores: number[], nodes: readonly NodeInfo[]): void;
}

/** Per-node statuses of a failed cycle; nodes not listed got `absent` (PreFilter narrowing). */
export interface Diagnosis {
  nodeStatuses: Map<string, Status>;
  absent?: Status;
  /** A PreFilter plugin's rejection, which applies to every node. */
  preFilterMsg?: string;
  unschedulablePlugins: Set<string>;
}

export interface PostFilterResult {
  status: Status;
  /** Preemption: the node the pod will wait for, and the pods to evict from it. */
  nominatedNodeName?: string;
  victims?: PodInfo[];
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: PodInfo, diagnosis: Diagnosis, numAllNodes: number): PostFilterResult;
}

/** Any plugin: the union of extension points it implements. */
export type SchedulerPlugin = Plugin &
  Partial<Pick<PreFilterPlugin, 'preFilter'>> &
  Partial<Pick<FilterPlugin, 'filter'>> &
  Partial<Pick<PreScorePlugin, 'preScore'>> &
  Partial<Pick<ScorePlugin, 'score' | 'normalizeScore' | 'weight'>> &
  Partial<Pick<PostFilterPlugin, 'postFilter'>>;

export type PluginFactory = (handle: FrameworkHandle) => SchedulerPlugin;

/** "0/%v nodes are available" and " %v." of kube's FitError. */
const noNodeAvailable = (n: number) => `0/${n} nodes are available:`;
const separated = (msg: string) => ` ${msg}.`;

/**
 * kube-scheduler's FitError.Error(): the PreFilter message, or a histogram of every node's
 * reasons ("3 Insufficient cpu") sorted as strings, then the PostFilter (preemption) message.
 */
export function fitErrorMessage(numAllNodes: number, diagnosis: Diagnosis, postFilterMsg = ''): string {
  let msg = noNodeAvailable(numAllNodes);
  if (diagnosis.preFilterMsg) msg += separated(diagnosis.preFilterMsg);
  else {
    const histogram = reasonHistogram(numAllNodes, diagnosis);
    if (histogram.length) msg += separated(histogram.join(', '));
  }
  if (postFilterMsg) msg += separated(postFilterMsg);
  return msg;
}

function reasonHistogram(numAllNodes: number, diagnosis: Diagnosis): string[] {
  const counts = new Map<string, number>();
  for (const status of diagnosis.nodeStatuses.values()) for (const r of status.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const absent = numAllNodes - diagnosis.nodeStatuses.size;
  if (absent > 0 && diagnosis.absent) for (const r of diagnosis.absent.reasons) counts.set(r, (counts.get(r) ?? 0) + absent);
  // Go's sort.Strings: byte order of "<count> <reason>", so "10 x" sorts before "2 y".
  return [...counts].map(([r, n]) => `${n} ${r}`).sort(byteOrder);
}

export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** kube-scheduler truncates event notes to 1024 characters. */
export function truncateMessage(msg: string): string {
  const limit = 1024;
  return msg.length <= limit ? msg : `${msg.slice(0, limit - 3)}...`;
}

/** DefaultNormalizeScore: scales scores to 0..max by the highest one, optionally reversed. */
export function defaultNormalizeScore(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(maxNodeScore);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((maxNodeScore * scores[i]) / max);
    scores[i] = reverse ? maxNodeScore - s : s;
  }
}
