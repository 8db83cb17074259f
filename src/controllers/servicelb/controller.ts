/**
 * @module The built-in service load balancer (k3s's ServiceLB): every LoadBalancer Service
 * without a loadBalancerClass (or with skiff's) is exposed on the nodes that run a service
 * proxy, and its status.loadBalancer.ingress lists those nodes' addresses — ExternalIPs
 * when any node has one, InternalIPs otherwise, sorted, ipMode VIP — so `kubectl get svc`
 * shows an EXTERNAL-IP. With externalTrafficPolicy Local only nodes with a ready endpoint
 * count. The status is cleared when the Service stops being a LoadBalancer.
 */
import type { KObject } from '../../api/types.js';
import { Resources, WorkQueue, keyOf, splitKey, type EventRecorder, type Informer } from '../../client/index.js';
import { isNotFound, runController } from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';

/** The loadBalancerClass this controller implements besides "none". */
export const loadBalancerClass = 'skiff.dev/servicelb';
/** k3s's node label: when some node carries it, only nodes labelled "true" serve load balancers. */
export const enableLBLabel = 'svccontroller.k3s.cattle.io/enablelb';
/** Hollow (simulated) nodes run no service proxy. */
const hollowInstanceType = 'hollow';
const serviceNameLabel = 'kubernetes.io/service-name';

/** Whether this controller owns the Service's load balancer. */
export function handledByServiceLB(svc: KObject): boolean {
  const cls = svc.spec?.loadBalancerClass;
  return svc.spec?.type === 'LoadBalancer' && (cls == null || cls === loadBalancerClass);
}

function nodeReady(node: KObject): boolean {
  return ((node.status?.conditions ?? []) as KObject[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Nodes that expose load balancers: Ready, running a proxy, and selected by the enablelb label when it is in use. */
export function servingNodes(nodes: KObject[]): KObject[] {
  const labelled = nodes.some((n) => n.metadata?.labels?.[enableLBLabel] !== undefined);
  return nodes.filter(
    (n) =>
      nodeReady(n) &&
      !n.spec?.unschedulable &&
      n.metadata?.labels?.['node.kubernetes.io/instance-type'] !== hollowInstanceType &&
      (!labelled || n.metadata?.labels?.[enableLBLabel] === 'true'),
  );
}

const isIPv4 = (ip: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

/** The ingress list for a Service (k3s's getStatus/podIPs/filterByIPFamily). */
export function desiredIngress(svc: KObject, nodes: KObject[], slices: KObject[]): KObject[] {
  let eligible = servingNodes(nodes);
  if (svc.spec?.externalTrafficPolicy === 'Local') {
    const withEndpoints = new Set<string>();
    for (const s of slices)
      for (const ep of (s.endpoints ?? []) as KObject[])
        if (ep.targetRef?.kind === 'Pod' && ep.conditions?.ready === true && ep.nodeName) withEndpoints.add(ep.nodeName);
    eligible = eligible.filter((n) => withEndpoints.has(n.metadata?.name ?? ''));
  }
  const external = new Set<string>();
  const internal = new Set<string>();
  for (const n of eligible) {
    for (const a of (n.status?.addresses ?? []) as KObject[]) {
      if (a.type === 'ExternalIP') external.add(a.address);
      else if (a.type === 'InternalIP') internal.add(a.address);
    }
  }
  const ips = [...(external.size ? external : internal)];
  const v4 = ips.filter(isIPv4).sort();
  const v6 = ips.filter((ip) => ip.includes(':')).sort();
  const families: string[] = svc.spec?.ipFamilies?.length ? svc.spec.ipFamilies : ['IPv4'];
  const out: string[] = [];
  for (const f of families) out.push(...(f === 'IPv6' ? v6 : v4));
  return out.map((ip) => ({ ip, ipMode: 'VIP' }));
}

function ingressKey(ingress: KObject[] | undefined): string {
  return JSON.stringify((ingress ?? []).map((i) => [i.ip ?? '', i.hostname ?? '', i.ipMode ?? '']));
}

const ingressIPs = (ingress: KObject[] | undefined) => `[${(ingress ?? []).map((i) => i.ip ?? i.hostname).join(' ')}]`;

export class ServiceLBController implements Controller {
  readonly name = 'service-lb-controller';
  readonly queue = new WorkQueue({ name: 'servicelb' });
  private readonly services: Informer;
  private readonly nodes: Informer;
  private readonly slices: Informer;
  private readonly recorder: EventRecorder;

  constructor(private readonly ctx: ControllerContext) {
    this.services = ctx.informers.for(Resources.services);
    this.nodes = ctx.informers.for(Resources.nodes);
    this.slices = ctx.informers.for(Resources.endpointslices);
    this.recorder = ctx.recorder(this.name);
    const enqueue = (s: KObject) => this.queue.add(keyOf(s));
    this.services.addEventHandlers({ add: enqueue, update: (_o, n) => enqueue(n) });
    // Node readiness or addresses change every LoadBalancer's ingress.
    const allLBs = () => {
      for (const s of this.services.list()) if (s.spec?.type === 'LoadBalancer') enqueue(s);
    };
    this.nodes.addEventHandlers({
      add: allLBs,
      update: (o, n) => {
        if (JSON.stringify([o.status?.addresses, nodeReady(o), o.metadata?.labels, o.spec?.unschedulable]) !== JSON.stringify([n.status?.addresses, nodeReady(n), n.metadata?.labels, n.spec?.unschedulable])) allLBs();
      },
      delete: allLBs,
    });
    // With externalTrafficPolicy Local the serving nodes follow the endpoints.
    const onSlice = (s: KObject) => {
      const svc = s.metadata?.labels?.[serviceNameLabel];
      if (svc) this.queue.add(`${s.metadata?.namespace}/${svc}`);
    };
    this.slices.addEventHandlers({ add: onSlice, update: (_o, n) => onSlice(n), delete: onSlice });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.services, this.nodes, this.slices],
      pools: [{ queue: this.queue, workers, sync: (k) => this.sync(k) }],
    });
  }

  async sync(key: string): Promise<void> {
    const svc = this.services.get(key);
    if (!svc || svc.metadata?.deletionTimestamp) return;
    const current: KObject[] = svc.status?.loadBalancer?.ingress ?? [];
    let desired: KObject[];
    if (handledByServiceLB(svc)) {
      const { namespace, name } = splitKey(key);
      const own = this.slices.byNamespace(namespace ?? 'default').filter((s) => s.metadata?.labels?.[serviceNameLabel] === name);
      desired = desiredIngress(svc, this.nodes.list(), own);
    } else if (svc.spec?.type !== 'LoadBalancer' && current.length > 0) {
      // No longer a LoadBalancer: the address it had is not served any more.
      desired = [];
    } else return;
    if (ingressKey(current) === ingressKey(desired)) return;
    const { namespace, name } = splitKey(key);
    try {
      const updated = await this.ctx.client.patch(Resources.services, namespace, name, 'merge', { status: { loadBalancer: desired.length ? { ingress: desired } : null } }, { subresource: 'status' });
      if (svc.spec?.type !== 'LoadBalancer') return;
      if (desired.length === 0) this.recorder.event(updated, 'Warning', 'UnAvailableLoadBalancer', 'There are no available nodes for LoadBalancer');
      else this.recorder.event(updated, 'Normal', 'UpdatedLoadBalancer', `Updated LoadBalancer with new IPs: ${ingressIPs(current)} -> ${ingressIPs(desired)}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
