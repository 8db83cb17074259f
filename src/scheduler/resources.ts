/**
 * @module Resource arithmetic of the scheduler as plain numbers: a pod's effective
 * requests (containers summed, init containers as a maximum, restartable init containers
 * alongside, plus overhead — kube's PodRequests), the "non-zero" requests used for
 * scoring (100m CPU / 200Mi memory for containers that ask nothing), and node allocatable.
 */
import { parseQuantity, type Quantity } from '../api/quantity.js';
import type { KObject } from '../api/types.js';

/** Requests or allocatable amounts: CPU in millicores, the rest in base units. */
export interface ResourceAmounts {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended resources, hugepages and other scalar resources by name. */
  scalar?: Record<string, number>;
}

export interface Allocatable extends ResourceAmounts {
  /** status.allocatable.pods (0 when absent: such a node accepts no pods, as in kube). */
  pods: number;
}

/** kube's DefaultMilliCPURequest and DefaultMemoryRequest, for scoring best-effort containers. */
export const defaultMilliCPURequest = 100;
export const defaultMemoryRequest = 200 * 1024 * 1024;

const quantityCache = new Map<string, Quantity | null>();

/** Parses a quantity once per distinct text; null for text that is not a quantity. */
function quantity(v: unknown): Quantity | null {
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const key = typeof v === 'number' ? `#${v}` : v;
  let q = quantityCache.get(key);
  if (q === undefined) {
    try {
      q = parseQuantity(v);
    } catch {
      q = null;
    }
    if (quantityCache.size > 10_000) quantityCache.clear();
    quantityCache.set(key, q);
  }
  return q;
}

export const zeroAmounts = (): ResourceAmounts => ({ milliCPU: 0, memory: 0, ephemeralStorage: 0 });

/** Resource names that count as scalar resources (extended, hugepages, attachable volumes). */
export function isScalarResourceName(name: string): boolean {
  return name.includes('/') || name.startsWith('hugepages-') || name.startsWith('attachable-volumes-');
}

/** Converts a ResourceList (requests, allocatable) into amounts. */
export function amountsOf(list: Record<string, unknown> | undefined | null): ResourceAmounts {
  const r = zeroAmounts();
  if (!list) return r;
  for (const name in list) {
    const q = quantity(list[name]);
    if (!q) continue;
    switch (name) {
      case 'cpu':
        r.milliCPU = q.milliValue();
        break;
      case 'memory':
        r.memory = q.value();
        break;
      case 'ephemeral-storage':
        r.ephemeralStorage = q.value();
        break;
      default:
        if (isScalarResourceName(name)) (r.scalar ??= {})[name] = q.value();
    }
  }
  return r;
}

export function addInto(into: ResourceAmounts, r: ResourceAmounts, sign = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  if (r.scalar) {
    into.scalar ??= {};
    for (const k in r.scalar) into.scalar[k] = (into.scalar[k] ?? 0) + sign * r.scalar[k];
  }
}

function maxInto(into: ResourceAmounts, r: ResourceAmounts): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  if (r.scalar) {
    into.scalar ??= {};
    for (const k in r.scalar) into.scalar[k] = Math.max(into.scalar[k] ?? 0, r.scalar[k]);
  }
}

function copy(r: ResourceAmounts): ResourceAmounts {
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, ...(r.scalar ? { scalar: { ...r.scalar } } : {}) };
}

function containerRequests(c: KObject, nonZero: boolean): ResourceAmounts {
  const requests = c?.resources?.requests as Record<string, unknown> | undefined;
  const r = amountsOf(requests);
  if (nonZero) {
    if (requests?.cpu === undefined) r.milliCPU = defaultMilliCPURequest;
    if (requests?.memory === undefined) r.memory = defaultMemoryRequest;
  }
  return r;
}

/**
 * The pod's effective requests: regular containers summed, restartable (sidecar) init
 * containers added to them, each ordinary init container counted with the sidecars started
 * before it, the larger of the two taken, then spec.overhead added. With nonZero, containers
 * that request no CPU or memory count as 100m / 200Mi (kube's scoring requests).
 */
export function podRequests(pod: KObject, nonZero = false): ResourceAmounts {
  const spec = pod.spec ?? {};
  const reqs = zeroAmounts();
  for (const c of (spec.containers as KObject[] | undefined) ?? []) addInto(reqs, containerRequests(c, nonZero));
  const sidecars = zeroAmounts();
  const initMax = zeroAmounts();
  for (const c of (spec.initContainers as KObject[] | undefined) ?? []) {
    const r = containerRequests(c, nonZero);
    let during: ResourceAmounts;
    if (c.restartPolicy === 'Always') {
      addInto(reqs, r);
      addInto(sidecars, r);
      during = copy(sidecars);
    } else {
      during = copy(r);
      addInto(during, sidecars);
    }
    maxInto(initMax, during);
  }
  maxInto(reqs, initMax);
  if (spec.overhead) addInto(reqs, amountsOf(spec.overhead));
  return reqs;
}

/** status.allocatable (or capacity when allocatable is absent), as numbers. */
export function nodeAllocatable(node: KObject): Allocatable {
  const list = (node.status?.allocatable ?? node.status?.capacity) as Record<string, unknown> | undefined;
  const a = amountsOf(list) as Allocatable;
  const pods = quantity(list?.pods);
  a.pods = pods ? pods.value() : 0;
  return a;
}

export function isZero(r: ResourceAmounts): boolean {
  if (r.milliCPU !== 0 || r.memory !== 0 || r.ephemeralStorage !== 0) return false;
  if (r.scalar) for (const k in r.scalar) if (r.scalar[k] !== 0) return false;
  return true;
}
