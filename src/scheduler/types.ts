/**
 * @module PodInfo and NodeInfo: what the scheduler precomputes once per object so that
 * filter and score plugins, run thousands of times per second, only compare numbers and
 * compiled matchers (kube's framework.PodInfo and framework.NodeInfo).
 */
import type { KObject } from '../api/types.js';
import { addInto, nodeAllocatable, podRequests, zeroAmounts, type Allocatable, type ResourceAmounts } from './resources.js';
import {
  compileLabelMap,
  compileNodeSelector,
  compileNodeSelectorTerm,
  newAffinityTerm,
  type AffinityTerm,
  type Labels,
  type NodeMatcher,
  type Taint,
  type Toleration,
  type WeightedAffinityTerm,
} from './selectors.js';

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export interface PreferredNodeTerm {
  weight: number;
  matches: (labels: Labels, name: string) => boolean;
}

/** A pod with everything plugins need precomputed. Never mutated once built. */
export interface PodInfo {
  readonly pod: KObject;
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly priority: number;
  readonly preemptionPolicy: string;
  /** metadata.creationTimestamp in ms (0 when absent). */
  readonly createdAt: number;
  readonly nodeName: string;
  readonly terminating: boolean;
  readonly schedulingGated: boolean;
  readonly requests: ResourceAmounts;
  /** Requests with kube's non-zero defaults, for scoring. */
  readonly nonZeroRequests: ResourceAmounts;
  readonly tolerations: readonly Toleration[];
  /** spec.nodeSelector and required node affinity, both must hold; undefined: any node. */
  readonly requiredNodeMatch?: NodeMatcher;
  readonly preferredNodeTerms: readonly PreferredNodeTerm[];
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  readonly topologySpreadConstraints: readonly KObject[];
  readonly hostPorts: readonly HostPort[];
  /** The controller owner's uid (system default topology spreading groups by it). */
  readonly ownerUid?: string;
}

const emptyLabels: Labels = Object.freeze({}) as Labels;

function requiredNodeMatcher(spec: KObject): NodeMatcher | undefined {
  const selector = spec.nodeSelector as Record<string, string> | undefined;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution as KObject | undefined;
  const bySelector = selector && Object.keys(selector).length ? compileLabelMap(selector) : undefined;
  const byAffinity = required ? compileNodeSelector(required) : undefined;
  if (bySelector && byAffinity) return (l, n) => bySelector(l, n) && byAffinity(l, n);
  return bySelector ?? byAffinity;
}

function hostPortsOf(spec: KObject): HostPort[] {
  const ports: HostPort[] = [];
  const all = [...((spec.containers as KObject[] | undefined) ?? []), ...((spec.initContainers as KObject[] | undefined) ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of all) {
    for (const p of (c.ports as KObject[] | undefined) ?? []) {
      const port = Number(p.hostPort ?? 0);
      if (port > 0) ports.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port });
    }
  }
  return ports;
}

/** Builds the PodInfo of a pod (kube's NewPodInfo). */
export function newPodInfo(pod: KObject): PodInfo {
  const meta = pod.metadata ?? {};
  const spec = pod.spec ?? {};
  const namespace = meta.namespace ?? '';
  const labels = (meta.labels as Labels | undefined) ?? emptyLabels;
  const self = { namespace, labels };
  const affinity = spec.affinity ?? {};
  const terms = (list: unknown): AffinityTerm[] => ((list as KObject[] | undefined) ?? []).map((t) => newAffinityTerm(self, t));
  const weighted = (list: unknown): WeightedAffinityTerm[] =>
    ((list as KObject[] | undefined) ?? []).filter((w) => w?.podAffinityTerm).map((w) => ({ ...newAffinityTerm(self, w.podAffinityTerm), weight: Number(w.weight ?? 0) }));
  const preferredNodeTerms: PreferredNodeTerm[] = [];
  for (const p of (affinity.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution as KObject[] | undefined) ?? []) {
    const m = compileNodeSelectorTerm(p?.preference);
    // A preference that cannot match (empty or malformed) never adds its weight.
    if (m && Number(p.weight)) preferredNodeTerms.push({ weight: Number(p.weight), matches: m });
  }
  const owner = (meta.ownerReferences ?? []).find((o) => o.controller);
  const createdAt = meta.creationTimestamp ? Date.parse(meta.creationTimestamp) : 0;
  return {
    pod,
    key: namespace ? `${namespace}/${meta.name}` : String(meta.name),
    uid: meta.uid ?? '',
    namespace,
    name: meta.name ?? '',
    labels,
    priority: Number(spec.priority ?? 0),
    preemptionPolicy: spec.preemptionPolicy ?? 'PreemptLowerPriority',
    createdAt: Number.isFinite(createdAt) ? createdAt : 0,
    nodeName: spec.nodeName ?? '',
    terminating: !!meta.deletionTimestamp,
    schedulingGated: Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0,
    requests: podRequests(pod),
    nonZeroRequests: podRequests(pod, true),
    tolerations: (spec.tolerations as Toleration[] | undefined) ?? [],
    requiredNodeMatch: requiredNodeMatcher(spec),
    preferredNodeTerms,
    requiredAffinityTerms: terms(affinity.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    requiredAntiAffinityTerms: terms(affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    preferredAffinityTerms: weighted(affinity.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinityTerms: weighted(affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    topologySpreadConstraints: (spec.topologySpreadConstraints as KObject[] | undefined) ?? [],
    hostPorts: hostPortsOf(spec),
    ownerUid: owner?.uid,
  };
}

export function hasAffinity(p: PodInfo): boolean {
  return p.requiredAffinityTerms.length + p.requiredAntiAffinityTerms.length + p.preferredAffinityTerms.length + p.preferredAntiAffinityTerms.length > 0;
}

export type ReadyState = 'True' | 'False' | 'Unknown';

/**
 * A node and the pods assigned (or assumed) to it, with running totals of their requests.
 * The Node object may be absent while pods still name the node (deleted node, or pods seen
 * before their node): such a NodeInfo is never offered to plugins.
 */
export class NodeInfo {
  node?: KObject;
  labels: Labels = emptyLabels;
  taints: readonly Taint[] = [];
  unschedulable = false;
  /** status of the Ready condition; Unknown when the condition is missing. */
  ready: ReadyState = 'Unknown';
  allocatable: Allocatable = { ...zeroAmounts(), pods: 0 };
  readonly requested: ResourceAmounts = zeroAmounts();
  readonly nonZeroRequested: ResourceAmounts = zeroAmounts();
  readonly pods = new Map<string, PodInfo>();
  /** "protocol/port" → host IPs using it, with counts. */
  readonly usedPorts = new Map<string, Map<string, number>>();
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  /** Bumped on every change (lets callers cache per-node derived data). */
  generation = 0;

  constructor(readonly name: string) {}

  setNode(node: KObject): void {
    this.node = node;
    this.labels = (node.metadata?.labels as Labels | undefined) ?? emptyLabels;
    this.taints = (node.spec?.taints as Taint[] | undefined) ?? [];
    this.unschedulable = node.spec?.unschedulable === true;
    const ready = ((node.status?.conditions as KObject[] | undefined) ?? []).find((c) => c.type === 'Ready');
    this.ready = ready?.status === 'True' ? 'True' : ready?.status === 'False' ? 'False' : 'Unknown';
    this.allocatable = nodeAllocatable(node);
    this.generation++;
  }

  addPod(p: PodInfo): void {
    this.pods.set(p.key, p);
    this.account(p, 1);
  }

  removePod(key: string): PodInfo | undefined {
    const p = this.pods.get(key);
    if (!p) return undefined;
    this.pods.delete(key);
    this.account(p, -1);
    return p;
  }

  private account(p: PodInfo, sign: 1 | -1): void {
    addInto(this.requested, p.requests, sign);
    addInto(this.nonZeroRequested, p.nonZeroRequests, sign);
    if (hasAffinity(p)) this.podsWithAffinity += sign;
    if (p.requiredAntiAffinityTerms.length) this.podsWithRequiredAntiAffinity += sign;
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (!ips) this.usedPorts.set(k, (ips = new Map()));
      const n = (ips.get(hp.ip) ?? 0) + sign;
      if (n > 0) ips.set(hp.ip, n);
      else ips.delete(hp.ip);
      if (ips.size === 0) this.usedPorts.delete(k);
    }
    this.generation++;
  }
}
