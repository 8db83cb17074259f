/**
 * @module The downward API values kubelet resolves for env (fieldRef, resourceFieldRef)
 * and for downwardAPI volume files: pod metadata, node name, service account, host and
 * pod IPs, and container limits/requests scaled by a divisor, with unset limits defaulting
 * to the node's allocatable as kubelet's defaultPodLimitsForDownwardAPI does.
 */
import { parseQuantity, tryParseQuantity, type Quantity } from '../../api/quantity.js';
import type { KObject } from '../../api/types.js';

/** Addresses only the node agent knows when it resolves a value. */
export interface DownwardAPIContext {
  podIPs: string[];
  hostIPs: string[];
  /** Node allocatable (cpu, memory, ephemeral-storage…) that unset limits default to. */
  nodeAllocatable: Record<string, string>;
}

/** A field or resource the downward API cannot express. */
export class DownwardAPIError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownwardAPIError';
  }
}

/** fieldpath.FormatMap: sorted `key="value"` lines, values quoted as Go's %q does. */
export function formatDownwardMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

const subscripted = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/;

/** The value of a fieldRef fieldPath for this pod (ExtractFieldPathAsString + the kubelet-only status fields). */
export function podFieldValue(pod: KObject, fieldPath: string, ctx: Pick<DownwardAPIContext, 'podIPs' | 'hostIPs'>): string {
  const meta = pod.metadata ?? {};
  const sub = subscripted.exec(fieldPath);
  if (sub) {
    const map: Record<string, string> = (sub[1] === 'metadata.labels' ? meta.labels : meta.annotations) ?? {};
    return map[sub[2]] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatDownwardMap(meta.labels);
    case 'metadata.annotations':
      return formatDownwardMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return ctx.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return ctx.hostIPs.join(',');
    case 'status.podIP':
      return ctx.podIPs[0] ?? '';
    case 'status.podIPs':
      return ctx.podIPs.join(',');
  }
  throw new DownwardAPIError(`unsupported fieldPath: ${fieldPath}`);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new DownwardAPIError('divisor must be non-zero');
  const q = a / b;
  return a % b !== 0n && a > 0n === b > 0n ? q + 1n : q;
}

function allContainers(pod: KObject): KObject[] {
  const list = (v: unknown) => (Array.isArray(v) ? (v as KObject[]) : []);
  return [...list(pod.spec?.containers), ...list(pod.spec?.initContainers)];
}

/**
 * The value of a resourceFieldRef ("limits.cpu", "requests.memory"…) for the named
 * container, divided by divisor and rounded up: CPU in millicores (so limits.cpu of 500m
 * with divisor 1 is "1"), everything else in whole units.
 */
export function containerResourceValue(pod: KObject, ref: KObject, defaultContainer: string | undefined, ctx: Pick<DownwardAPIContext, 'nodeAllocatable'>): string {
  const name: string | undefined = ref.containerName || defaultContainer;
  const container = allContainers(pod).find((c) => c.name === name);
  if (!container) throw new DownwardAPIError(`container ${name ?? ''} not found`);
  const resource: string = ref.resource ?? '';
  const dot = resource.indexOf('.');
  const kind = resource.slice(0, dot);
  const res = resource.slice(dot + 1);
  if (dot < 0 || (kind !== 'limits' && kind !== 'requests')) throw new DownwardAPIError(`unsupported container resource : ${resource}`);
  const divisor = tryParseQuantity(ref.divisor ?? '1') ?? parseQuantity('1');
  let q: Quantity | undefined = tryParseQuantity(container.resources?.[kind]?.[res]);
  if (!q && kind === 'limits' && (res === 'cpu' || res === 'memory' || res === 'ephemeral-storage' || res.startsWith('hugepages-'))) q = tryParseQuantity(ctx.nodeAllocatable[res]);
  q ??= parseQuantity('0');
  if (res === 'cpu') return ceilDiv(q.scaledBigInt(-3), divisor.scaledBigInt(-3)).toString();
  if (res === 'memory' || res === 'ephemeral-storage' || res.startsWith('hugepages-')) return ceilDiv(q.scaledBigInt(0), divisor.scaledBigInt(0)).toString();
  throw new DownwardAPIError(`unsupported container resource : ${resource}`);
}
