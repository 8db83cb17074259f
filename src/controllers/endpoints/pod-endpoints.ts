/**
 * @module The pod-to-endpoint rules shared by the Endpoints and EndpointSlice controllers
 * (kube's endpointslice/util and api/v1/pod helpers): which pods a Service selects, which
 * of them belong in endpoints, readiness, target-port resolution (numbers, and names
 * looked up in the pod's container ports), hostnames, and the last-change trigger time.
 */
import { selectorFromSet } from '../../api/selectors/index.js';
import type { KObject } from '../../api/types.js';
import type { Informer, WorkQueue } from '../../client/index.js';
import { canonicalJson, isPodReady, isPodTerminal } from '../common/index.js';

/** Annotation with the time of the pod or Service change an endpoints object reflects. */
export const lastChangeTriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Label present on the endpoints of a Service without a cluster IP. */
export const headlessServiceLabel = 'service.kubernetes.io/headless';

/** The pod's IPs, status.podIPs first, falling back to status.podIP. */
export function podIPs(pod: KObject): string[] {
  const list = ((pod.status?.podIPs ?? []) as KObject[]).map((p) => String(p?.ip ?? '')).filter(Boolean);
  if (list.length) return list;
  return pod.status?.podIP ? [String(pod.status.podIP)] : [];
}

export function isIPv6(ip: string): boolean {
  return ip.includes(':');
}

/**
 * endpointsliceutil.ShouldPodBeInEndpoints: not terminal, has an IP, and (unless
 * terminating pods are wanted) not being deleted.
 */
export function shouldPodBeInEndpoints(pod: KObject, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIPs(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** A hostname is published when the pod names one and its subdomain is this Service (same namespace). */
export function shouldSetHostname(pod: KObject, svc: KObject): boolean {
  return !!pod.spec?.hostname && pod.spec?.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace;
}

/** helper.IsServiceIPSet: a cluster IP other than None. */
export function isServiceIPSet(svc: KObject): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/**
 * podutil.FindPort: a numeric targetPort as is; a named one looked up (with the same
 * protocol) in the pod's containers, then in its restartable init (sidecar) containers.
 */
export function findPort(pod: KObject, servicePort: KObject): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  const protocol = servicePort.protocol ?? 'TCP';
  if (typeof target === 'number') return target;
  if (typeof target === 'string' && /^\d+$/.test(target)) return Number(target);
  if (typeof target !== 'string' || target === '') return undefined;
  const search = (containers: KObject[] | undefined, sidecarsOnly: boolean): number | undefined => {
    for (const c of containers ?? []) {
      if (sidecarsOnly && c?.restartPolicy !== 'Always') continue;
      for (const p of (c?.ports ?? []) as KObject[]) if (p?.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
    return undefined;
  };
  return search(pod.spec?.containers, false) ?? search(pod.spec?.initContainers, true);
}

/** A Service selects pods only with a selector; kube's endpoint controllers skip the rest (and ExternalName). */
export function managesEndpoints(svc: KObject): boolean {
  return svc.spec?.selector != null && svc.spec?.type !== 'ExternalName';
}

/** The pods in the Service's namespace its selector matches (kube's podLister.List(selector)). */
export function selectedPods(svc: KObject, pods: Informer): KObject[] {
  const selector = selectorFromSet(svc.spec?.selector);
  return pods.byNamespace(svc.metadata!.namespace!).filter((p) => selector.matches(p.metadata?.labels));
}

/** Keys of the Services in the pod's namespace whose selector matches it (GetPodServiceMemberships). */
export function servicesSelecting(pod: KObject, services: Informer): string[] {
  const ns = pod.metadata?.namespace;
  if (!ns) return [];
  const keys: string[] = [];
  for (const svc of services.byNamespace(ns)) {
    if (svc.spec?.selector == null) continue;
    if (selectorFromSet(svc.spec.selector).matches(pod.metadata?.labels)) keys.push(`${ns}/${svc.metadata?.name}`);
  }
  return keys;
}

/**
 * Whether a pod update can change any endpoint (kube's podEndpointsChanged plus labels):
 * IPs, readiness, deletion, node, hostname/subdomain, phase, labels and container ports.
 */
export function podEndpointsChanged(oldPod: KObject, pod: KObject): boolean {
  if (canonicalJson(oldPod.metadata?.labels) !== canonicalJson(pod.metadata?.labels)) return true;
  if (!!oldPod.metadata?.deletionTimestamp !== !!pod.metadata?.deletionTimestamp) return true;
  if (isPodReady(oldPod) !== isPodReady(pod)) return true;
  if (isPodTerminal(oldPod) !== isPodTerminal(pod)) return true;
  if (canonicalJson(podIPs(oldPod)) !== canonicalJson(podIPs(pod))) return true;
  if (oldPod.spec?.nodeName !== pod.spec?.nodeName) return true;
  if (oldPod.spec?.hostname !== pod.spec?.hostname || oldPod.spec?.subdomain !== pod.spec?.subdomain) return true;
  const ports = (p: KObject) => canonicalJson([...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].map((c: KObject) => c?.ports ?? []));
  return ports(oldPod) !== ports(pod);
}

/** Go's time.RFC3339Nano in UTC (fractional seconds without trailing zeros). */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.?0+Z$/, 'Z').replace(/\.Z$/, 'Z');
}

function podTriggerTime(pod: KObject): number | undefined {
  const ready = ((pod.status?.conditions ?? []) as KObject[]).find((c) => c?.type === 'Ready');
  const t = ready?.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

interface ServiceTriggerState {
  pods: Map<string, number>;
  service: number;
}

/**
 * kube's TriggerTimeTracker: the earliest pod (Ready transition) or Service change not yet
 * reflected in the Service's endpoints; the Service's creation time the first time it is seen.
 */
export class TriggerTimeTracker {
  private readonly states = new Map<string, ServiceTriggerState>();

  /** Undefined when nothing changed since the last sync. */
  compute(svc: KObject, pods: KObject[]): Date | undefined {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    const prev = this.states.get(key);
    const changed: number[] = [];
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const t = podTriggerTime(pod);
      if (t === undefined) continue;
      const name = pod.metadata!.name!;
      podTimes.set(name, t);
      if (t > (prev?.pods.get(name) ?? -Infinity)) changed.push(t);
    }
    const created = Date.parse(svc.metadata?.creationTimestamp ?? '');
    const serviceTime = Number.isNaN(created) ? 0 : created;
    if (serviceTime > (prev?.service ?? -Infinity)) changed.push(serviceTime);
    this.states.set(key, { pods: podTimes, service: serviceTime });
    if (!prev) return Number.isNaN(created) ? undefined : new Date(created);
    return changed.length ? new Date(Math.min(...changed)) : undefined;
  }

  deleteService(namespace: string, name: string): void {
    this.states.delete(`${namespace}/${name}`);
  }
}

/**
 * The pod handlers both endpoint controllers register: a pod added or deleted wakes the
 * Services selecting it; an update does only when it can change an endpoint, waking the
 * Services of its old and new labels.
 */
export function enqueueServicesOnPodChanges(pods: Informer, services: Informer, queue: WorkQueue): void {
  const enqueueFor = (pod: KObject) => {
    for (const key of servicesSelecting(pod, services)) queue.add(key);
  };
  pods.addEventHandlers({
    add: enqueueFor,
    update: (oldPod, pod) => {
      if (!podEndpointsChanged(oldPod, pod)) return;
      enqueueFor(pod);
      enqueueFor(oldPod);
    },
    delete: enqueueFor,
  });
}
