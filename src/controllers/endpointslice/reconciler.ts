/**
 * @module The EndpointSlice reconciler as a pure function (kube's endpointslice
 * Reconciler): desired endpoints (one per selected pod) grouped by their resolved port set
 * and address type, compared with the Service's existing slices. Existing slices keep
 * their endpoints in place, updated ones are filled first, new slices hold at most
 * maxEndpointsPerSlice, empty slices go, and a Service with no endpoints keeps exactly
 * one placeholder slice.
 */
import type { KObject, OwnerReference } from '../../api/types.js';
import { canonicalJson, isPodReady, newControllerRef } from '../common/index.js';
import { findPort, headlessServiceLabel, isIPv6, isServiceIPSet, podIPs, shouldPodBeInEndpoints, shouldSetHostname } from '../endpoints/pod-endpoints.js';

/** discovery.k8s.io/v1 labels. */
export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
/** The value of managedByLabel on slices this controller owns. */
export const controllerName = 'endpointslice-controller.k8s.io';
/** kube-controller-manager's --max-endpoints-per-slice default. */
export const defaultMaxEndpointsPerSlice = 100;
export const zoneLabel = 'topology.kubernetes.io/zone';

export type AddressType = 'IPv4' | 'IPv6';

export interface SliceEndpointPort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  targetRef: { kind: 'Pod'; namespace?: string; name?: string; uid?: string };
  nodeName?: string;
  zone?: string;
}

export interface SlicePlan {
  create: KObject[];
  update: KObject[];
  delete: KObject[];
  /** Pods skipped because their Node is unknown; the Service is retried. */
  errors: string[];
}

export interface ReconcileInput {
  service: KObject;
  pods: KObject[];
  /** The Service's slices managed by this controller, without those being deleted. */
  existing: KObject[];
  node(name: string): KObject | undefined;
  maxEndpointsPerSlice: number;
}

/** The address types a Service's slices carry (getAddressTypesForService). */
export function addressTypesForService(svc: KObject): AddressType[] {
  const families: string[] = svc.spec?.ipFamilies ?? [];
  const out = new Set<AddressType>();
  for (const f of families) if (f === 'IPv4' || f === 'IPv6') out.add(f);
  if (out.size) return [...out];
  if (isServiceIPSet(svc)) return [isIPv6(String(svc.spec.clusterIP)) ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/** The pod's ports for each Service port its targetPort resolves on (getEndpointPorts). */
export function endpointPorts(svc: KObject, pod: KObject): SliceEndpointPort[] {
  const servicePorts: KObject[] = svc.spec?.ports ?? [];
  const out: SliceEndpointPort[] = [];
  for (const sp of servicePorts) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: SliceEndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** NewPortMapKey: the port set, order-independent. */
export function portMapKey(ports: readonly KObject[] | undefined): string {
  return canonicalJson([...(ports ?? [])].map((p) => canonicalJson(p)).sort());
}

/** podToEndpoint: ready only when serving and not terminating, unless not-ready addresses are published. */
export function podToEndpoint(pod: KObject, node: KObject | undefined, svc: KObject, addressType: AddressType): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: SliceEndpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === 'IPv6')),
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata?.labels?.[zoneLabel];
  if (zone) ep.zone = zone;
  return ep;
}

/** The identity of an endpoint across syncs (hashEndpoint): addresses, hostname and target pod. */
export function endpointKey(ep: KObject): string {
  return canonicalJson({
    addresses: [...(ep.addresses ?? [])].sort(),
    hostname: ep.hostname ?? '',
    namespace: ep.targetRef?.namespace ?? '',
    name: ep.targetRef?.name ?? '',
  });
}

function isReservedLabel(key: string): boolean {
  return key === serviceNameLabel || key === managedByLabel || key === headlessServiceLabel;
}

/** setEndpointSliceLabels: the Service's labels plus the reserved ones; whether the copied part changed. */
export function sliceLabels(slice: KObject | undefined, svc: KObject): { labels: Record<string, string>; changed: boolean } {
  const sliceOwn: Record<string, string> = {};
  for (const [k, v] of Object.entries(slice?.metadata?.labels ?? {})) if (!isReservedLabel(k)) sliceOwn[k] = v as string;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) if (!isReservedLabel(k)) labels[k] = v as string;
  const changed = canonicalJson(sliceOwn) !== canonicalJson(labels);
  if (!isServiceIPSet(svc)) labels[headlessServiceLabel] = '';
  labels[serviceNameLabel] = svc.metadata!.name!;
  labels[managedByLabel] = controllerName;
  return { labels, changed };
}

export function serviceOwnerReference(svc: KObject): OwnerReference {
  return newControllerRef(svc, 'v1', 'Service');
}

function ownedBy(slice: KObject, svc: KObject): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((o) => o.uid === svc.metadata?.uid && o.kind === 'Service' && o.apiVersion === 'v1');
}

/** getEndpointSlicePrefix: "<service>-" when that is still a valid name prefix. */
function slicePrefix(serviceName: string): string {
  const prefix = `${serviceName}-`;
  return prefix.length <= 253 - 5 ? prefix : serviceName;
}

export function newEndpointSlice(svc: KObject, ports: SliceEndpointPort[], addressType: AddressType): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: slicePrefix(svc.metadata!.name!),
      namespace: svc.metadata!.namespace,
      labels: sliceLabels(undefined, svc).labels,
      ownerReferences: [serviceOwnerReference(svc)],
    },
    addressType,
    endpoints: [],
    ports,
  };
}

function isPlaceholderFor(slice: KObject, placeholder: KObject): boolean {
  return (
    slice.metadata?.namespace === placeholder.metadata?.namespace &&
    canonicalJson(slice.metadata?.labels ?? {}) === canonicalJson(placeholder.metadata?.labels ?? {}) &&
    canonicalJson(slice.metadata?.ownerReferences ?? []) === canonicalJson(placeholder.metadata?.ownerReferences ?? []) &&
    slice.addressType === placeholder.addressType &&
    (slice.endpoints ?? []).length === 0 &&
    (slice.ports ?? []).length === 0
  );
}

/** The whole comparison of desired and existing slices for one Service. */
export function reconcileEndpointSlices(input: ReconcileInput): SlicePlan {
  const { service } = input;
  const supported = addressTypesForService(service);
  const plan: SlicePlan = { create: [], update: [], delete: [], errors: [] };
  const byType = new Map<string, KObject[]>();
  for (const slice of input.existing) {
    if (!supported.includes(slice.addressType)) plan.delete.push(slice);
    else byType.set(slice.addressType, [...(byType.get(slice.addressType) ?? []), slice]);
  }
  for (const addressType of supported) reconcileByAddressType(input, addressType, byType.get(addressType) ?? [], plan);
  return plan;
}

function reconcileByAddressType(input: ReconcileInput, addressType: AddressType, existing: KObject[], plan: SlicePlan): void {
  const { service } = input;
  const toCreate: KObject[] = [];
  const toUpdate: KObject[] = [];
  const toDelete: KObject[] = [];

  const existingByPorts = new Map<string, KObject[]>();
  for (const slice of existing) {
    if (ownedBy(slice, service)) {
      const key = portMapKey(slice.ports);
      existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), slice]);
    } else toDelete.push(slice);
  }

  const desiredPorts = new Map<string, SliceEndpointPort[]>();
  const desiredByPorts = new Map<string, Map<string, SliceEndpoint>>();
  for (const pod of input.pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(service, pod);
    const key = portMapKey(ports);
    if (!desiredByPorts.has(key)) {
      desiredByPorts.set(key, new Map());
      desiredPorts.set(key, ports);
    }
    const nodeName = pod.spec?.nodeName;
    const node = nodeName ? input.node(nodeName) : undefined;
    if (nodeName && !node && service.spec?.publishNotReadyAddresses !== true) {
      // kube leaves such a pod out and retries, rather than publishing an endpoint on a missing node.
      plan.errors.push(`skipping Pod ${pod.metadata?.name} for Service ${service.metadata?.namespace}/${service.metadata?.name}: Node ${nodeName} Not Found`);
      continue;
    }
    const ep = podToEndpoint(pod, node, service, addressType);
    if (ep.addresses.length > 0) desiredByPorts.get(key)!.set(endpointKey(ep), ep);
  }

  for (const [key, desired] of desiredByPorts) {
    const r = reconcileByPortMapping(service, existingByPorts.get(key) ?? [], desired, desiredPorts.get(key)!, addressType, input.maxEndpointsPerSlice);
    toCreate.push(...r.create);
    toUpdate.push(...r.update);
    toDelete.push(...r.delete);
  }
  for (const [key, slices] of existingByPorts) if (!desiredByPorts.has(key)) toDelete.push(...slices);

  // With no endpoints at all, the Service keeps one empty placeholder slice.
  if (existing.length === toDelete.length && toCreate.length === 0) {
    const placeholder = newEndpointSlice(service, [], addressType);
    if (toDelete.length === 1 && isPlaceholderFor(toDelete[0], placeholder)) toDelete.length = 0;
    else toCreate.push(placeholder);
  }

  // Creating while deleting: reuse the slices that would go (kube's finalize()).
  for (let i = 0; i < toDelete.length && toCreate.length > 0; ) {
    const doomed = toDelete[i];
    const fresh = toCreate[toCreate.length - 1];
    if (doomed.addressType === fresh.addressType && ownedBy(doomed, service)) {
      const reused = structuredClone(doomed);
      reused.metadata!.labels = fresh.metadata!.labels;
      reused.metadata!.ownerReferences = fresh.metadata!.ownerReferences;
      reused.endpoints = fresh.endpoints;
      reused.ports = fresh.ports;
      toCreate.pop();
      toUpdate.push(reused);
      toDelete.splice(i, 1);
    } else i++;
  }

  plan.create.push(...toCreate);
  plan.update.push(...toUpdate);
  plan.delete.push(...toDelete);
}

/** reconcileByPortMapping: keep endpoints in place, drop stale ones, fill updated slices first, then new ones. */
function reconcileByPortMapping(
  svc: KObject,
  existing: KObject[],
  desired: Map<string, SliceEndpoint>,
  ports: SliceEndpointPort[],
  addressType: AddressType,
  maxPerSlice: number,
): { create: KObject[]; update: KObject[]; delete: KObject[] } {
  const slicesByName = new Map<string, KObject>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();
  const remaining = new Map(desired);

  for (const slice of existing) {
    const name = slice.metadata!.name!;
    slicesByName.set(name, slice);
    const kept: SliceEndpoint[] = [];
    let endpointChanged = false;
    for (const ep of (slice.endpoints ?? []) as SliceEndpoint[]) {
      const key = endpointKey(ep);
      const want = remaining.get(key);
      if (!want) continue;
      kept.push(want);
      if (canonicalJson(want) !== canonicalJson(ep)) endpointChanged = true;
      remaining.delete(key);
    }
    const { labels, changed: labelsChanged } = sliceLabels(slice, svc);
    if (endpointChanged || kept.length !== (slice.endpoints ?? []).length) {
      if (kept.length === 0) toDelete.add(name);
      else {
        const next = structuredClone(slice);
        next.endpoints = kept;
        next.metadata!.labels = labels;
        slicesByName.set(name, next);
        toUpdate.add(name);
      }
    } else if (labelsChanged) {
      const next = structuredClone(slice);
      next.metadata!.labels = labels;
      slicesByName.set(name, next);
      toUpdate.add(name);
    } else unchanged.add(name);
  }

  const queue = [...remaining.keys()].sort().map((k) => remaining.get(k)!);
  const popInto = (slice: KObject) => {
    while (queue.length > 0 && (slice.endpoints as SliceEndpoint[]).length < maxPerSlice) (slice.endpoints as SliceEndpoint[]).push(queue.shift()!);
  };

  // Slices being written anyway are filled first, fullest first.
  if (queue.length > 0 && toUpdate.size > 0) {
    const slices = [...toUpdate].map((n) => slicesByName.get(n)!).sort((a, b) => b.endpoints.length - a.endpoints.length);
    for (const slice of slices) popInto(slice);
  }

  const created: KObject[] = [];
  while (queue.length > 0) {
    let target: KObject | undefined;
    if (queue.length < maxPerSlice && unchanged.size > 0) {
      // The unchanged slice that would end up closest to full.
      let closest = maxPerSlice;
      for (const name of unchanged) {
        const slice = slicesByName.get(name)!;
        const diff = maxPerSlice - (queue.length + (slice.endpoints ?? []).length);
        if (diff >= 0 && diff < closest) {
          closest = diff;
          target = slice;
        }
      }
    }
    if (target) {
      target = structuredClone(target);
      target.endpoints ??= [];
      slicesByName.set(target.metadata!.name!, target);
      popInto(target);
      toUpdate.add(target.metadata!.name!);
      unchanged.delete(target.metadata!.name!);
    } else {
      const slice = newEndpointSlice(svc, ports, addressType);
      popInto(slice);
      created.push(slice);
    }
  }

  return {
    create: created,
    update: [...toUpdate].map((n) => slicesByName.get(n)!),
    delete: [...toDelete].map((n) => slicesByName.get(n)!),
  };
}
