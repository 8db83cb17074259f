/**
 * @module The scheduler cache (kube's internal/cache): NodeInfo per node with the pods
 * assigned to it, kept from the node and pod informers, plus pods the scheduler has
 * *assumed* onto a node right after deciding — so the next cycle sees the resources taken
 * before the binding's watch event arrives — and forgets again if the binding fails.
 * Being single-threaded, a scheduling cycle reads the cache directly as its snapshot.
 */
import type { KObject } from '../api/types.js';
import type { ClusterView } from './framework.js';
import { hasAffinity, NodeInfo, type PodInfo } from './types.js';

/** A pod taken out by suspendPod. */
export type SuspendedPod = PodState;

interface PodState {
  info: PodInfo;
  node: string;
  /** Assumed by the scheduler, not yet seen bound in the informer. */
  assumed: boolean;
}

export class SchedulerCache implements ClusterView {
  private readonly infos = new Map<string, NodeInfo>();
  /** NodeInfos that have a Node object, in the order nodes appeared. */
  private readonly list: NodeInfo[] = [];
  private readonly podStates = new Map<string, PodState>();
  private readonly byNamespace = new Map<string, Map<string, PodInfo>>();
  private readonly withAffinity = new Map<string, PodInfo>();
  private readonly withRequiredAntiAffinity = new Map<string, PodInfo>();
  private readonly owners = new Map<string, Map<string, number>>();

  constructor(private readonly nsLabels: (namespace: string) => Record<string, string> | undefined = () => undefined) {}

  // ---- ClusterView ----

  nodeInfos(): readonly NodeInfo[] {
    return this.list;
  }

  nodeInfo(name: string): NodeInfo | undefined {
    const ni = this.infos.get(name);
    return ni?.node ? ni : undefined;
  }

  podsInNamespace(namespace: string): Iterable<PodInfo> {
    return this.byNamespace.get(namespace)?.values() ?? [];
  }

  podsWithAffinity(): Iterable<PodInfo> {
    return this.withAffinity.values();
  }

  podsWithRequiredAntiAffinity(): Iterable<PodInfo> {
    return this.withRequiredAntiAffinity.values();
  }

  ownerPodCounts(ownerUid: string): ReadonlyMap<string, number> | undefined {
    return this.owners.get(ownerUid);
  }

  namespaceLabels(namespace: string): Record<string, string> | undefined {
    return this.nsLabels(namespace);
  }

  // ---- nodes ----

  get nodeCount(): number {
    return this.list.length;
  }

  private infoFor(name: string): NodeInfo {
    let ni = this.infos.get(name);
    if (!ni) this.infos.set(name, (ni = new NodeInfo(name)));
    return ni;
  }

  /** Adds or updates a node; returns the previous Node object, if any. */
  setNode(node: KObject): KObject | undefined {
    const ni = this.infoFor(node.metadata!.name!);
    const old = ni.node;
    ni.setNode(node);
    if (!old) this.list.push(ni);
    return old;
  }

  removeNode(name: string): void {
    const ni = this.infos.get(name);
    if (!ni?.node) return;
    ni.node = undefined;
    const i = this.list.indexOf(ni);
    if (i >= 0) this.list.splice(i, 1);
    // Pods still naming the node keep their NodeInfo until they go (kube keeps such "ghost" nodes too).
    if (ni.pods.size === 0) this.infos.delete(name);
  }

  // ---- pods ----

  /** Whether the pod is in the cache (assumed or assigned). */
  hasPod(key: string): boolean {
    return this.podStates.has(key);
  }

  isAssumed(key: string): boolean {
    return this.podStates.get(key)?.assumed ?? false;
  }

  podNode(key: string): string | undefined {
    return this.podStates.get(key)?.node;
  }

  /** Puts a pod on a node before its binding is confirmed; returns the assumed PodInfo. */
  assumePod(pod: PodInfo, nodeName: string): PodInfo {
    const assumed: PodInfo = { ...pod, nodeName };
    this.removeState(pod.key);
    this.insert(assumed, nodeName, true);
    return assumed;
  }

  /** Drops an assumption whose binding failed; a pod already confirmed bound stays. */
  forgetPod(key: string): boolean {
    const st = this.podStates.get(key);
    if (!st?.assumed) return false;
    this.removeState(key);
    return true;
  }

  /** An assigned pod seen in the informer (add or update): confirms an assumption or (re)places it. */
  addOrUpdatePod(pod: PodInfo): void {
    const st = this.podStates.get(pod.key);
    if (st && st.node === pod.nodeName && st.info.uid === pod.uid) {
      // Same node: swap in the fresh object (labels, requests or termination may have changed).
      this.unindex(st.info, st.node);
      st.info = pod;
      st.assumed = false;
      this.infoFor(st.node).removePod(pod.key);
      this.infoFor(st.node).addPod(pod);
      this.index(pod, st.node);
      return;
    }
    this.removeState(pod.key);
    this.insert(pod, pod.nodeName, false);
  }

  /**
   * A confirmed pod's newer object whose scheduling-relevant fields are unchanged (a status
   * write): the cache points at it instead of the version seen at binding, so that old
   * copy is not kept alive beside the informer's (a whole pod per pod, at 30,000 pods).
   */
  refreshPod(key: string, pod: KObject): void {
    const st = this.podStates.get(key);
    if (!st || st.assumed || st.info.uid !== pod.metadata?.uid) return;
    const info: PodInfo = { ...st.info, pod, labels: (pod.metadata?.labels as PodInfo['labels'] | undefined) ?? st.info.labels };
    st.info = info;
    // Same requests and node: swap the entries in place, no re-accounting.
    const ni = this.infos.get(st.node);
    if (ni?.pods.has(key)) ni.pods.set(key, info);
    const ns = this.byNamespace.get(info.namespace);
    if (ns?.has(key)) ns.set(key, info);
    if (this.withAffinity.has(key)) this.withAffinity.set(key, info);
    if (this.withRequiredAntiAffinity.has(key)) this.withRequiredAntiAffinity.set(key, info);
  }

  removePod(key: string): PodInfo | undefined {
    return this.removeState(key)?.info;
  }

  /** Takes a pod out of the cache for a moment (preemption dry runs); give the token to resumePod. */
  suspendPod(key: string): SuspendedPod | undefined {
    return this.removeState(key);
  }

  resumePod(s: SuspendedPod): void {
    this.insert(s.info, s.node, s.assumed);
  }

  private insert(pod: PodInfo, nodeName: string, assumed: boolean): void {
    this.podStates.set(pod.key, { info: pod, node: nodeName, assumed });
    this.infoFor(nodeName).addPod(pod);
    this.index(pod, nodeName);
  }

  private removeState(key: string): PodState | undefined {
    const st = this.podStates.get(key);
    if (!st) return undefined;
    this.podStates.delete(key);
    const ni = this.infos.get(st.node);
    if (ni) {
      ni.removePod(key);
      if (!ni.node && ni.pods.size === 0) this.infos.delete(st.node);
    }
    this.unindex(st.info, st.node);
    return st;
  }

  private index(pod: PodInfo, nodeName: string): void {
    let ns = this.byNamespace.get(pod.namespace);
    if (!ns) this.byNamespace.set(pod.namespace, (ns = new Map()));
    ns.set(pod.key, pod);
    if (hasAffinity(pod)) this.withAffinity.set(pod.key, pod);
    if (pod.requiredAntiAffinityTerms.length) this.withRequiredAntiAffinity.set(pod.key, pod);
    // Terminating pods do not count towards spreading (kube's countPodsMatchSelector).
    if (pod.ownerUid && !pod.terminating) {
      let byNode = this.owners.get(pod.ownerUid);
      if (!byNode) this.owners.set(pod.ownerUid, (byNode = new Map()));
      byNode.set(nodeName, (byNode.get(nodeName) ?? 0) + 1);
    }
  }

  private unindex(pod: PodInfo, nodeName: string): void {
    const ns = this.byNamespace.get(pod.namespace);
    ns?.delete(pod.key);
    if (ns && ns.size === 0) this.byNamespace.delete(pod.namespace);
    this.withAffinity.delete(pod.key);
    this.withRequiredAntiAffinity.delete(pod.key);
    if (pod.ownerUid && !pod.terminating) {
      const byNode = this.owners.get(pod.ownerUid);
      if (byNode) {
        const n = (byNode.get(nodeName) ?? 0) - 1;
        if (n > 0) byNode.set(nodeName, n);
        else byNode.delete(nodeName);
        if (byNode.size === 0) this.owners.delete(pod.ownerUid);
      }
    }
  }

  /** Counts for tests and metrics. */
  stats(): { nodes: number; pods: number; assumed: number } {
    let assumed = 0;
    for (const st of this.podStates.values()) if (st.assumed) assumed++;
    return { nodes: this.list.length, pods: this.podStates.size, assumed };
  }
}
