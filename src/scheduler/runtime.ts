/**
 * @module One scheduling profile at work (kube's framework runtime and schedulePod):
 * PreFilter, Filter over the nodes starting where the last cycle stopped until
 * percentageOfNodesToScore of them are feasible, PreScore/Score/NormalizeScore weighted and
 * summed, the best node picked (ties at random), and PostFilter when nothing fits.
 */
import type { SchedulerCache } from './cache.js';
import {
  CycleState,
  fitErrorMessage,
  unresolvable,
  type Diagnosis,
  type FilterPlugin,
  type FrameworkHandle,
  type PluginFactory,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type SchedulerPlugin,
  type ScorePlugin,
  type Status,
} from './framework.js';
import type { NodeInfo, PodInfo } from './types.js';

/** kube's minFeasibleNodesToFind and minFeasibleNodesPercentageToFind. */
export const minFeasibleNodesToFind = 100;
export const minFeasibleNodesPercentageToFind = 5;

/**
 * How many feasible nodes to look for before scoring: every node in small clusters;
 * otherwise the configured percentage, or adaptively 50% minus 1% per 125 nodes, never
 * below 5%, and never fewer than 100 nodes.
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore = 0): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) {
    percentage = 50 - Math.trunc(numAllNodes / 125);
    if (percentage < minFeasibleNodesPercentageToFind) percentage = minFeasibleNodesPercentageToFind;
  }
  if (percentage >= 100) return numAllNodes;
  const n = Math.trunc((numAllNodes * percentage) / 100);
  return n < minFeasibleNodesToFind ? minFeasibleNodesToFind : n;
}

/** Nothing fits: carries the per-node diagnosis and renders kube's FitError text. */
export class FitError extends Error {
  postFilterMsg = '';
  constructor(
    readonly pod: PodInfo,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    // No message argument: Error would store its own `message`, hiding the getter below.
    super();
    this.name = 'FitError';
  }

  override get message(): string {
    return fitErrorMessage(this.numAllNodes, this.diagnosis, this.postFilterMsg);
  }

  override set message(_v: string) {
    // The text is always derived from the diagnosis.
  }
}

/** The cluster has no nodes at all (kube's ErrNoNodesAvailable). */
export class NoNodesAvailableError extends Error {
  constructor() {
    super('no nodes available to schedule pods');
    this.name = 'NoNodesAvailableError';
  }
}

/** A plugin returned Error: the attempt failed for a reason other than fit. */
export class PluginError extends Error {
  constructor(
    readonly plugin: string,
    message: string,
  ) {
    super(message);
    this.name = 'PluginError';
  }
}

export interface ScheduleResult {
  nodeName: string;
  evaluatedNodes: number;
  feasibleNodes: number;
}

export interface FrameworkOptions {
  /** 0 means adaptive (kube's default). */
  percentageOfNodesToScore?: number;
  random?: () => number;
}

const isStatus = (r: unknown): r is Status => typeof r === 'object' && r !== null && 'code' in r;

export class Framework implements FrameworkHandle {
  readonly plugins: SchedulerPlugin[];
  private readonly preFilterPlugins: (PreFilterPlugin & SchedulerPlugin)[];
  private readonly filterPlugins: (FilterPlugin & SchedulerPlugin)[];
  private readonly scorePlugins: (ScorePlugin & SchedulerPlugin)[];
  private readonly postFilterPlugins: (PostFilterPlugin & SchedulerPlugin)[];
  private nextStartNodeIndex = 0;
  private readonly random: () => number;
  private readonly percentage: number;
  /** Pods that preempted others, by the node they wait for (status.nominatedNodeName). */
  private readonly nominated = new Map<string, Map<string, PodInfo>>();

  constructor(
    readonly cache: SchedulerCache,
    registry: Record<string, PluginFactory>,
    enabled: readonly string[],
    opts: FrameworkOptions = {},
  ) {
    this.plugins = enabled.map((name) => {
      const factory = registry[name];
      if (!factory) throw new Error(`unknown scheduler plugin ${name}`);
      return factory(this);
    });
    this.preFilterPlugins = this.plugins.filter((p): p is PreFilterPlugin & SchedulerPlugin => typeof p.preFilter === 'function');
    this.filterPlugins = this.plugins.filter((p): p is FilterPlugin & SchedulerPlugin => typeof p.filter === 'function');
    this.scorePlugins = this.plugins.filter((p): p is ScorePlugin & SchedulerPlugin => typeof p.score === 'function');
    this.postFilterPlugins = this.plugins.filter((p): p is PostFilterPlugin & SchedulerPlugin => typeof p.postFilter === 'function');
    this.random = opts.random ?? Math.random;
    this.percentage = opts.percentageOfNodesToScore ?? 0;
  }

  // ---- FrameworkHandle (reads go to the cache) ----

  nodeInfos(): readonly NodeInfo[] {
    return this.cache.nodeInfos();
  }
  nodeInfo(name: string): NodeInfo | undefined {
    return this.cache.nodeInfo(name);
  }
  podsInNamespace(namespace: string): Iterable<PodInfo> {
    return this.cache.podsInNamespace(namespace);
  }
  podsWithAffinity(): Iterable<PodInfo> {
    return this.cache.podsWithAffinity();
  }
  podsWithRequiredAntiAffinity(): Iterable<PodInfo> {
    return this.cache.podsWithRequiredAntiAffinity();
  }
  ownerPodCounts(ownerUid: string): ReadonlyMap<string, number> | undefined {
    return this.cache.ownerPodCounts(ownerUid);
  }
  namespaceLabels(namespace: string): Record<string, string> | undefined {
    return this.cache.namespaceLabels(namespace);
  }

  // ---- nominated pods ----

  /** Records (or clears, with '') the node a pending pod was nominated to by preemption. */
  setNominated(pod: PodInfo, nodeName: string): void {
    this.clearNominated(pod.key);
    if (!nodeName) return;
    let pods = this.nominated.get(nodeName);
    if (!pods) this.nominated.set(nodeName, (pods = new Map()));
    pods.set(pod.key, pod);
  }

  clearNominated(key: string): void {
    if (this.nominated.size === 0) return;
    for (const [node, pods] of this.nominated) {
      if (pods.delete(key) && pods.size === 0) this.nominated.delete(node);
    }
  }

  nominatedPods(nodeName: string): readonly PodInfo[] {
    return [...(this.nominated.get(nodeName)?.values() ?? [])];
  }

  // ---- the cycle ----

  /** Picks a node for the pod or throws FitError / NoNodesAvailableError / PluginError. */
  schedulePod(pod: PodInfo, state = new CycleState()): ScheduleResult {
    const all = this.cache.nodeInfos();
    if (all.length === 0) throw new NoNodesAvailableError();
    const diagnosis: Diagnosis = { nodeStatuses: new Map(), unschedulablePlugins: new Set() };

    const pre = this.runPreFilter(state, pod);
    if (isStatus(pre)) {
      diagnosis.preFilterMsg = pre.reasons.join(', ');
      diagnosis.absent = pre;
      if (pre.plugin) diagnosis.unschedulablePlugins.add(pre.plugin);
      throw new FitError(pod, all.length, diagnosis);
    }
    let nodes: readonly NodeInfo[] = all;
    if (pre.nodeNames) {
      nodes = [...pre.nodeNames].map((n) => this.cache.nodeInfo(n)).filter((n): n is NodeInfo => !!n);
      diagnosis.absent = unresolvable(`node(s) didn't satisfy plugin(s) [${[...(pre.plugins ?? [])].sort().join(' ')}]`);
    }

    const feasible = this.findFeasible(state, pod, nodes, all.length, diagnosis);
    if (feasible.length === 0) throw new FitError(pod, all.length, diagnosis);
    const evaluatedNodes = feasible.length + diagnosis.nodeStatuses.size;
    if (feasible.length === 1) return { nodeName: feasible[0].name, evaluatedNodes, feasibleNodes: 1 };
    const totals = this.prioritize(state, pod, feasible);
    return { nodeName: feasible[this.selectHost(totals)].name, evaluatedNodes, feasibleNodes: feasible.length };
  }

  /** PreFilter: a rejecting Status, or the (possibly narrowed) node set. */
  private runPreFilter(state: CycleState, pod: PodInfo): Status | (PreFilterResult & { plugins?: Set<string> }) {
    let nodeNames: Set<string> | undefined;
    const plugins = new Set<string>();
    for (const pl of this.preFilterPlugins) {
      const r = pl.preFilter(state, pod);
      if (!r) continue;
      if (isStatus(r)) {
        if (r.code === 'Success') continue;
        if (r.code === 'Skip') {
          state.skipFilter.add(pl.name);
          continue;
        }
        if (r.code === 'Error') throw new PluginError(pl.name, `running PreFilter plugin "${pl.name}": ${r.reasons.join(', ')}`);
        return { ...r, plugin: pl.name };
      }
      if (r.nodeNames) {
        plugins.add(pl.name);
        nodeNames = nodeNames ? new Set([...nodeNames].filter((n) => r.nodeNames!.has(n))) : r.nodeNames;
      }
    }
    if (nodeNames && nodeNames.size === 0) {
      return { ...unresolvable(`node(s) didn't satisfy plugin(s) ${[...plugins].sort().join(', ')} simultaneously`), plugin: [...plugins][0] };
    }
    return { nodeNames, plugins };
  }

  private findFeasible(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], numAllNodes: number, diagnosis: Diagnosis): NodeInfo[] {
    const filters = this.filterPlugins.filter((p) => !state.skipFilter.has(p.name));
    const n = nodes.length;
    const numToFind = numFeasibleNodesToFind(n, this.percentage);
    const feasible: NodeInfo[] = [];
    const start = n === 0 ? 0 : this.nextStartNodeIndex % n;
    const checkNominated = this.nominated.size > 0;
    let processed = 0;
    for (let i = 0; i < n && feasible.length < numToFind; i++) {
      const ni = nodes[(start + i) % n];
      processed++;
      const st = checkNominated ? this.filterWithNominated(state, pod, ni, filters) : runFilters(state, pod, ni, filters);
      if (st === undefined) feasible.push(ni);
      else {
        if (st.code === 'Error') throw new PluginError(st.plugin ?? '', `running "${st.plugin}" filter plugin: ${st.reasons.join(', ')}`);
        diagnosis.nodeStatuses.set(ni.name, st);
        if (st.plugin) diagnosis.unschedulablePlugins.add(st.plugin);
      }
    }
    // Round-robin: the next cycle starts where this one stopped, so no node is favoured.
    if (numAllNodes > 0) this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % numAllNodes;
    return feasible;
  }

  /** Nodes with pods nominated there (of at least this pod's priority) must fit those pods too. */
  private filterWithNominated(state: CycleState, pod: PodInfo, ni: NodeInfo, filters: readonly (FilterPlugin & SchedulerPlugin)[]): Status | undefined {
    const nominated = this.nominated.get(ni.name);
    if (!nominated) return runFilters(state, pod, ni, filters);
    const added: PodInfo[] = [];
    for (const p of nominated.values()) {
      if (p.key === pod.key || p.priority < pod.priority || ni.pods.has(p.key)) continue;
      ni.addPod(p);
      added.push(p);
    }
    if (added.length === 0) return runFilters(state, pod, ni, filters);
    let st: Status | undefined;
    try {
      st = runFilters(state, pod, ni, filters);
    } finally {
      for (const p of added) ni.removePod(p.key);
    }
    return st ?? runFilters(state, pod, ni, filters);
  }

  private prioritize(state: CycleState, pod: PodInfo, feasible: NodeInfo[]): number[] {
    const totals = new Array<number>(feasible.length).fill(0);
    const scores = new Array<number>(feasible.length);
    for (const pl of this.scorePlugins) {
      if (pl.preScore) {
        const r = (pl as SchedulerPlugin & PreScorePlugin).preScore(state, pod, feasible);
        if (r && r.code === 'Skip') continue;
        if (r && r.code === 'Error') throw new PluginError(pl.name, `running PreScore plugin "${pl.name}": ${r.reasons.join(', ')}`);
      }
      for (let i = 0; i < feasible.length; i++) scores[i] = pl.score(state, pod, feasible[i]);
      pl.normalizeScore?.(state, pod, scores, feasible);
      const w = pl.weight;
      for (let i = 0; i < feasible.length; i++) totals[i] += scores[i] * w;
    }
    return totals;
  }

  /** The highest total; ties broken uniformly at random (reservoir sampling, as kube does). */
  private selectHost(totals: number[]): number {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < totals.length; i++) {
      if (totals[i] > totals[best]) {
        best = i;
        ties = 1;
      } else if (totals[i] === totals[best]) {
        ties++;
        if (Math.floor(this.random() * ties) === 0) best = i;
      }
    }
    return best;
  }

  /** PostFilter (preemption) after a FitError. */
  runPostFilter(state: CycleState, pod: PodInfo, err: FitError): PostFilterResult | undefined {
    let last: PostFilterResult | undefined;
    for (const pl of this.postFilterPlugins) {
      const r = pl.postFilter(state, pod, err.diagnosis, err.numAllNodes);
      last = r;
      if (r.status.code === 'Success') return r;
    }
    return last;
  }

  /**
   * PreFilter + Filter of one node as if `without` were gone from the cluster (preemption
   * dry runs): the pods are taken out of the cache and put back before returning.
   */
  filterWithout(pod: PodInfo, ni: NodeInfo, without: readonly PodInfo[]): Status | undefined {
    const suspended = without.map((p) => this.cache.suspendPod(p.key)).filter((s) => s !== undefined);
    try {
      const state = new CycleState();
      const pre = this.runPreFilter(state, pod);
      if (isStatus(pre)) return pre;
      if (pre.nodeNames && !pre.nodeNames.has(ni.name)) return unresolvable('node(s) were not selected by PreFilter');
      const filters = this.filterPlugins.filter((p) => !state.skipFilter.has(p.name));
      return runFilters(state, pod, ni, filters);
    } finally {
      for (const s of suspended) this.cache.resumePod(s!);
    }
  }
}

/** The first non-success status of the filters, or undefined when the node fits. */
function runFilters(state: CycleState, pod: PodInfo, ni: NodeInfo, filters: readonly (FilterPlugin & SchedulerPlugin)[]): Status | undefined {
  for (let j = 0; j < filters.length; j++) {
    const st = filters[j].filter(state, pod, ni);
    if (st.code !== 'Success') {
      st.plugin = filters[j].name;
      return st;
    }
  }
  return undefined;
}
