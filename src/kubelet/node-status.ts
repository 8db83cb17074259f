/**
 * @module The Node object a node agent registers and the status it keeps posting
 * (kubelet's initialNode and setNodeStatus): well-known labels, capacity/allocatable,
 * the pressure and Ready conditions with heartbeat and transition times, addresses,
 * nodeInfo; plus the node Lease it renews. Pure: no I/O, time comes in.
 */
import type { KObject } from '../api/types.js';
import { rfc3339, sameJson } from './pod-status.js';

/** Where node heartbeats live. */
export const nodeLeaseNamespace = 'kube-node-lease';
/** kubelet's nodeLeaseDurationSeconds. */
export const nodeLeaseDurationSeconds = 40;

export interface NodeFacts {
  name: string;
  /** cpu, memory, pods (and optionally ephemeral-storage) as quantities. */
  capacity: Record<string, string>;
  /** Defaults to capacity. */
  allocatable?: Record<string, string>;
  internalIP: string;
  podCIDR?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  taints?: KObject[];
  nodeInfo: {
    kubeletVersion: string;
    containerRuntimeVersion: string;
    osImage: string;
    kernelVersion: string;
    operatingSystem: string;
    architecture: string;
    machineID: string;
    systemUUID: string;
    bootID: string;
  };
  kubeletPort?: number;
}

/** The labels kubelet puts on its Node (kubernetes.io/hostname, os, arch and their beta twins). */
export function defaultNodeLabels(name: string, os = 'linux', arch = 'amd64'): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': os,
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': os,
  };
}

/** The condition set a healthy kubelet reports, in kubelet's order. */
export function healthyConditions(): Array<{ type: string; status: string; reason: string; message: string }> {
  return [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  ];
}

/** The status block a node agent posts; conditions keep lastTransitionTime while their status holds. */
export function desiredNodeStatus(facts: NodeFacts, current: KObject | undefined, now: Date): KObject {
  const old: KObject[] = Array.isArray(current?.status?.conditions) ? current!.status.conditions : [];
  const ts = rfc3339(now);
  const conditions = healthyConditions().map((c) => {
    const prev = old.find((o) => o.type === c.type);
    return { ...c, lastHeartbeatTime: ts, lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : ts };
  });
  // Conditions set by others (NetworkUnavailable from a network plugin) are theirs to keep.
  const foreign = old.filter((o) => !conditions.some((c) => c.type === o.type));
  return {
    capacity: { ...facts.capacity },
    allocatable: { ...(facts.allocatable ?? facts.capacity) },
    conditions: [...foreign, ...conditions],
    addresses: [
      { type: 'InternalIP', address: facts.internalIP },
      { type: 'Hostname', address: facts.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: facts.kubeletPort ?? 10250 } },
    nodeInfo: { ...facts.nodeInfo },
  };
}

/** The Node object kubelet registers with (its status included, as kubelet's initialNode is). */
export function initialNode(facts: NodeFacts, now: Date): KObject {
  const spec: KObject = {};
  if (facts.podCIDR) {
    spec.podCIDR = facts.podCIDR;
    spec.podCIDRs = [facts.podCIDR];
  }
  if (facts.taints?.length) spec.taints = facts.taints;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: facts.name,
      labels: { ...facts.labels },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        ...(facts.annotations ?? {}),
      },
    },
    spec,
    status: desiredNodeStatus(facts, undefined, now),
  };
}

/**
 * Whether the posted status differs from what the agent would post, ignoring heartbeat
 * times (kubelet re-posts unchanged status only every nodeStatusReportFrequency).
 */
export function nodeStatusChanged(current: KObject | undefined, desired: KObject): boolean {
  if (!current?.status) return true;
  const strip = (conds: unknown) =>
    (Array.isArray(conds) ? conds : []).map((c: KObject) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
  const cur = current.status;
  return (
    !sameJson(strip(cur.conditions), strip(desired.conditions)) ||
    !sameJson(cur.addresses, desired.addresses) ||
    !sameJson(cur.nodeInfo, desired.nodeInfo) ||
    !sameJson(cur.capacity, desired.capacity) ||
    !sameJson(cur.allocatable, desired.allocatable)
  );
}

/** The coordination.k8s.io Lease a node renews every 10 s (owned by its Node). */
export function nodeLease(node: KObject, now: Date): KObject {
  const name = node.metadata?.name ?? '';
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: nodeLeaseNamespace,
      ...(node.metadata?.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }] } : {}),
    },
    spec: { holderIdentity: name, leaseDurationSeconds: nodeLeaseDurationSeconds, renewTime: microTime(now) },
  };
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
