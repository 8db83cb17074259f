/**
 * @module The Endpoints controller (kube-controller-manager's `endpoint`): for every
 * Service with a selector, an Endpoints object of the same name listing the selected
 * pods — ready ones under addresses, the others under notReadyAddresses (all ready with
 * publishNotReadyAddresses) — per port resolved from targetPort, repacked into kube's
 * canonical subsets. Labels mirror the Service's; at most 1000 addresses are kept.
 */
import type { KObject } from '../../api/types.js';
import { Resources, splitKey, WorkQueue, type EventRecorder, type Informer } from '../../client/index.js';
import { canonicalJson, errorMessage, isNamespaceTerminating, isNotFound, isPodReady, runController, semanticEqual } from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  enqueueServicesOnPodChanges,
  findPort,
  headlessServiceLabel,
  isIPv6,
  isServiceIPSet,
  lastChangeTriggerTimeAnnotation,
  managesEndpoints,
  podIPs,
  rfc3339Nano,
  selectedPods,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  TriggerTimeTracker,
} from './pod-endpoints.js';

/** kube's maxCapacity: Endpoints beyond this many addresses are truncated. */
export const maxEndpointsCapacity = 1000;
export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';
/** Endpoints used as leader-election locks are never cleaned up as leftovers. */
const leaderElectionAnnotation = 'control-plane.alpha.kubernetes.io/leader';

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** LessEndpointAddress: by IP (bytewise), then target uid. */
function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  return canonicalJson(a) < canonicalJson(b) ? -1 : canonicalJson(a) > canonicalJson(b) ? 1 : 0;
}

/**
 * endpoints.RepackSubsets: every (address, port) pair regrouped so that addresses sharing
 * one set of ports share one subset; an address not ready on any port is not ready there.
 * Addresses sort by IP then uid; ports and subsets by a stable key (kube sorts by hash).
 */
export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const addresses = new Map<string, EndpointAddress>();
  const portAddrReady = new Map<string, { port: EndpointPort; ready: Map<string, boolean> }>();
  const note = (addr: EndpointAddress, port: EndpointPort, ready: boolean) => {
    const akey = `${addr.ip}\u0000${addr.targetRef?.uid ?? ''}`;
    if (!addresses.has(akey)) addresses.set(akey, addr);
    const pkey = canonicalJson(port);
    let entry = portAddrReady.get(pkey);
    if (!entry) portAddrReady.set(pkey, (entry = { port, ready: new Map() }));
    const was = entry.ready.get(akey);
    // Not ready wins over ready.
    if (was === undefined || was) entry.ready.set(akey, ready);
  };
  for (const ss of subsets) {
    for (const port of ss.ports ?? []) {
      for (const a of ss.addresses ?? []) note(a, port, true);
      for (const a of ss.notReadyAddresses ?? []) note(a, port, false);
    }
  }
  const byAddressSet = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of portAddrReady.values()) {
    const key = canonicalJson([...ready].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let group = byAddressSet.get(key);
    if (!group) byAddressSet.set(key, (group = { ready, ports: [] }));
    group.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const { ready, ports } of byAddressSet.values()) {
    const readyAddrs: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [akey, isReady] of ready) (isReady ? readyAddrs : notReady).push(addresses.get(akey)!);
    const ss: EndpointSubset = {};
    if (readyAddrs.length) ss.addresses = readyAddrs.sort(compareAddresses);
    if (notReady.length) ss.notReadyAddresses = notReady.sort(compareAddresses);
    ss.ports = ports.sort(comparePorts);
    out.push(ss);
  }
  return out.sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : canonicalJson(a) > canonicalJson(b) ? 1 : 0));
}

/** Keeps at most maxEndpointsCapacity addresses, ready ones first, spread over subsets in proportion. */
export function truncateSubsets(subsets: EndpointSubset[]): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const ss of subsets) {
    totalReady += ss.addresses?.length ?? 0;
    totalNotReady += ss.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= maxEndpointsCapacity) return false;
  const truncateReady = totalReady > maxEndpointsCapacity;
  const max = truncateReady ? maxEndpointsCapacity : maxEndpointsCapacity - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = max;
  for (const ss of subsets) {
    const inSubset = truncateReady ? (ss.addresses?.length ?? 0) : (ss.notReadyAddresses?.length ?? 0);
    const toBeAdded = Math.min(Math.ceil((inSubset / numTotal) * max), canBeAdded);
    if (truncateReady) {
      ss.addresses = (ss.addresses ?? []).slice(0, toBeAdded);
      delete ss.notReadyAddresses;
      canBeAdded -= ss.addresses.length;
    } else {
      ss.notReadyAddresses = (ss.notReadyAddresses ?? []).slice(0, toBeAdded);
      canBeAdded -= ss.notReadyAddresses.length;
    }
  }
  return true;
}

/** The pod's address for the Service's IP family (podToEndpointAddressForService). */
function podAddress(svc: KObject, pod: KObject): EndpointAddress | undefined {
  const families: string[] = svc.spec?.ipFamilies ?? [];
  const wantV6 = families.length ? families[0] === 'IPv6' : isServiceIPSet(svc) ? isIPv6(String(svc.spec.clusterIP)) : false;
  const ips = podIPs(pod);
  const ip = families.length || isServiceIPSet(svc) ? ips.find((x) => isIPv6(x) === wantV6) : ips[0];
  if (!ip) return undefined;
  const addr: EndpointAddress = { ip };
  if (shouldSetHostname(pod, svc)) addr.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
  addr.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
  return addr;
}

/** The canonical subsets of a Service over its selected pods. */
export function desiredSubsets(svc: KObject, pods: KObject[]): EndpointSubset[] {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const subsets: EndpointSubset[] = [];
  const add = (pod: KObject, addr: EndpointAddress, port: EndpointPort | undefined) => {
    const ports = port ? [port] : [];
    if (tolerateUnready || isPodReady(pod)) subsets.push({ addresses: [addr], ports });
    else subsets.push({ notReadyAddresses: [addr], ports });
  };
  const servicePorts: KObject[] = svc.spec?.ports ?? [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const addr = podAddress(svc, pod);
    if (!addr) continue;
    if (servicePorts.length === 0) {
      // Headless Services may publish addresses without ports.
      if (svc.spec?.clusterIP === 'None') add(pod, addr, undefined);
      continue;
    }
    for (const sp of servicePorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      add(pod, addr, ep);
    }
  }
  if (servicePorts.length === 0) return subsets.map((ss) => ({ ...ss, ports: undefined })).map(dropEmpty);
  return repackSubsets(subsets);
}

function dropEmpty(ss: EndpointSubset): EndpointSubset {
  const out: EndpointSubset = {};
  if (ss.addresses?.length) out.addresses = ss.addresses;
  if (ss.notReadyAddresses?.length) out.notReadyAddresses = ss.notReadyAddresses;
  if (ss.ports?.length) out.ports = ss.ports;
  return out;
}

/** Subsets compared ignoring the pods' resourceVersions in targetRefs. */
function subsetsEqual(a: EndpointSubset[] | undefined, b: EndpointSubset[] | undefined): boolean {
  const norm = (s: EndpointSubset[] | undefined) =>
    canonicalJson(
      (s ?? []).map((ss) => {
        const strip = (list?: EndpointAddress[]) => list?.map((x) => ({ ...x, targetRef: x.targetRef ? { ...x.targetRef, resourceVersion: undefined } : undefined }));
        return dropEmpty({ addresses: strip(ss.addresses), notReadyAddresses: strip(ss.notReadyAddresses), ports: ss.ports });
      }),
    );
  return norm(a) === norm(b);
}

function capacityAnnotationSetCorrectly(annotations: Record<string, string> | undefined, subsets: EndpointSubset[] | undefined): boolean {
  let n = 0;
  for (const ss of subsets ?? []) n += (ss.addresses?.length ?? 0) + (ss.notReadyAddresses?.length ?? 0);
  if (n > maxEndpointsCapacity) return false;
  return !(annotations && overCapacityAnnotation in annotations);
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  readonly queue = new WorkQueue({ name: 'endpoint' });
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly endpoints: Informer;
  private readonly recorder: EventRecorder;
  private readonly triggerTimes = new TriggerTimeTracker();

  constructor(private readonly ctx: ControllerContext) {
    this.services = ctx.informers.for(Resources.services);
    this.pods = ctx.informers.for(Resources.pods);
    this.endpoints = ctx.informers.for(Resources.endpoints);
    this.recorder = ctx.recorder('endpoint-controller');
    const enqueueObj = (o: KObject) => this.queue.add(`${o.metadata?.namespace}/${o.metadata?.name}`);
    this.services.addEventHandlers({ add: enqueueObj, update: (_o, n) => enqueueObj(n), delete: enqueueObj });
    enqueueServicesOnPodChanges(this.pods, this.services, this.queue);
    // Endpoints deleted by someone else come back.
    this.endpoints.addEventHandlers({ delete: enqueueObj });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.services, this.pods, this.endpoints],
      pools: [{ queue: this.queue, workers: Math.max(1, workers), sync: (key) => this.sync(key) }],
      started: () => this.checkLeftoverEndpoints(),
    });
  }

  /** Endpoints whose Service is gone (deleted while we were down) are looked at once at start. */
  private checkLeftoverEndpoints(): void {
    for (const ep of this.endpoints.list()) {
      if (ep.metadata?.annotations?.[leaderElectionAnnotation] !== undefined) continue;
      this.queue.add(`${ep.metadata?.namespace}/${ep.metadata?.name}`);
    }
  }

  /** The whole decision for one Service key (namespace/name). */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (!namespace) return;
    const svc = this.services.getByName(namespace, name);
    if (!svc) {
      this.triggerTimes.deleteService(namespace, name);
      try {
        await this.ctx.client.delete(Resources.endpoints, namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    if (!managesEndpoints(svc)) return;

    const pods = selectedPods(svc, this.pods);
    const triggerTime = this.triggerTimes.compute(svc, pods);
    const subsets = desiredSubsets(svc, pods);

    const current = this.endpoints.getByName(namespace, name);
    const serviceLabels: Record<string, string> = svc.metadata?.labels ?? {};
    if (current) {
      const currentLabels = { ...(current.metadata?.labels ?? {}) };
      delete currentLabels[headlessServiceLabel];
      if (subsetsEqual(current.subsets, subsets) && semanticEqual(currentLabels, serviceLabels) && capacityAnnotationSetCorrectly(current.metadata?.annotations, current.subsets))
        return;
    }

    const next: KObject = current
      ? structuredClone(current)
      : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    next.metadata ??= {};
    const annotations: Record<string, string> = { ...(next.metadata.annotations ?? {}) };
    if (triggerTime) annotations[lastChangeTriggerTimeAnnotation] = rfc3339Nano(triggerTime);
    else delete annotations[lastChangeTriggerTimeAnnotation];
    if (truncateSubsets(subsets)) annotations[overCapacityAnnotation] = 'truncated';
    else delete annotations[overCapacityAnnotation];
    next.metadata.annotations = annotations;
    const labels: Record<string, string> = { ...serviceLabels };
    if (!isServiceIPSet(svc)) labels[headlessServiceLabel] = '';
    else delete labels[headlessServiceLabel];
    next.metadata.labels = labels;
    if (subsets.length) next.subsets = subsets;
    else delete next.subsets;

    try {
      if (current) await this.ctx.client.update(Resources.endpoints, namespace, next);
      else await this.ctx.client.create(Resources.endpoints, namespace, next);
    } catch (err) {
      // Creates in a terminating namespace keep failing: drop the key.
      if (!current && isNamespaceTerminating(err)) return;
      if (current) this.recorder.event(next, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${namespace}/${name}: ${errorMessage(err)}`);
      else this.recorder.event(next, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${namespace}/${name}: ${errorMessage(err)}`);
      throw err;
    }
  }
}
