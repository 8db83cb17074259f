/**
 * @module Prometheus service discovery for builds without kubernetes_sd_configs (Debian's
 * prometheus package leaves the Kubernetes SD out): `GET /skiff/prometheus/sd/<role>` for
 * roles node, pod and endpoints answers Prometheus's HTTP SD format (a list of target
 * groups) with the same targets and `__meta_kubernetes_*` labels Prometheus's Kubernetes
 * SD derives from the same objects, so the relabel rules written for kubernetes_sd_configs
 * work unchanged under http_sd_configs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import { writeJson } from './handler.js';
import { kubeletEndpointOf } from './pod-streaming.js';
import type { ResourceRegistry } from './registry.js';
import type { RestStorage } from './rest.js';

export const prometheusSdPrefix = '/skiff/prometheus/sd/';

interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** Prometheus's strutil.SanitizeLabelName: anything outside [a-zA-Z0-9_] becomes "_". */
function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** The label/labelpresent/annotation/annotationpresent meta labels of an object under a prefix. */
function metaOf(prefix: string, obj: KObject, labels: Record<string, string>): void {
  for (const [k, v] of Object.entries((obj.metadata?.labels ?? {}) as Record<string, string>)) {
    labels[`${prefix}_label_${sanitize(k)}`] = v;
    labels[`${prefix}_labelpresent_${sanitize(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries((obj.metadata?.annotations ?? {}) as Record<string, string>)) {
    labels[`${prefix}_annotation_${sanitize(k)}`] = v;
    labels[`${prefix}_annotationpresent_${sanitize(k)}`] = 'true';
  }
}

const hostPort = (host: string, port: number | string) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * Role node: one target per node at its kubelet endpoint — the address the API server reaches it
 * on (the skiff.dev/kubelet-address annotation, else the InternalIP) and its daemon endpoint port.
 */
export function nodeTargets(nodes: KObject[]): TargetGroup[] {
  return nodes.flatMap((node) => {
    const endpoint = kubeletEndpointOf(node);
    if (!endpoint) return [];
    // __param_node makes Prometheus add ?node=NAME: one kubelet server fronting every hollow node serves each by it.
    const labels: Record<string, string> = { __meta_kubernetes_node_name: String(node.metadata?.name), instance: String(node.metadata?.name), __param_node: String(node.metadata?.name) };
    metaOf('__meta_kubernetes_node', node, labels);
    for (const a of (node.status?.addresses ?? []) as KObject[]) labels[`__meta_kubernetes_node_address_${sanitize(String(a.type))}`] ??= String(a.address);
    return [{ targets: [hostPort(endpoint.host, endpoint.port)], labels }];
  });
}

function podLabels(pod: KObject): Record<string, string> {
  const labels: Record<string, string> = {
    __meta_kubernetes_namespace: String(pod.metadata?.namespace),
    __meta_kubernetes_pod_name: String(pod.metadata?.name),
    __meta_kubernetes_pod_ip: String(pod.status?.podIP ?? ''),
    __meta_kubernetes_pod_ready: String(((pod.status?.conditions ?? []) as KObject[]).find((c) => c.type === 'Ready')?.status === 'True'),
    __meta_kubernetes_pod_phase: String(pod.status?.phase ?? ''),
    __meta_kubernetes_pod_node_name: String(pod.spec?.nodeName ?? ''),
    __meta_kubernetes_pod_host_ip: String(pod.status?.hostIP ?? ''),
    __meta_kubernetes_pod_uid: String(pod.metadata?.uid ?? ''),
  };
  const owner = ((pod.metadata?.ownerReferences ?? []) as KObject[]).find((o) => o.controller);
  if (owner) {
    labels.__meta_kubernetes_pod_controller_kind = String(owner.kind);
    labels.__meta_kubernetes_pod_controller_name = String(owner.name);
  }
  metaOf('__meta_kubernetes_pod', pod, labels);
  return labels;
}

/** Role pod: a target per declared container port, one portless target for a container without ports. */
export function podTargets(pods: KObject[]): TargetGroup[] {
  const out: TargetGroup[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip) continue;
    const base = podLabels(pod);
    const containers: Array<[KObject, boolean]> = [
      ...((pod.spec?.containers ?? []) as KObject[]).map((c): [KObject, boolean] => [c, false]),
      ...((pod.spec?.initContainers ?? []) as KObject[]).map((c): [KObject, boolean] => [c, true]),
    ];
    for (const [c, init] of containers) {
      const common = { ...base, __meta_kubernetes_pod_container_name: String(c.name), __meta_kubernetes_pod_container_image: String(c.image ?? ''), __meta_kubernetes_pod_container_init: String(init) };
      const ports = (c.ports ?? []) as KObject[];
      if (ports.length === 0) {
        if (!init) out.push({ targets: [ip], labels: common });
        continue;
      }
      for (const p of ports)
        out.push({
          targets: [hostPort(ip, p.containerPort)],
          labels: {
            ...common,
            __meta_kubernetes_pod_container_port_name: String(p.name ?? ''),
            __meta_kubernetes_pod_container_port_number: String(p.containerPort),
            __meta_kubernetes_pod_container_port_protocol: String(p.protocol ?? 'TCP'),
          },
        });
    }
  }
  return out;
}

/** Role endpoints: a target per address and port of every Endpoints object, with its Service's and pod's labels. */
export function endpointsTargets(endpoints: KObject[], services: Map<string, KObject>, pods: Map<string, KObject>): TargetGroup[] {
  const out: TargetGroup[] = [];
  for (const ep of endpoints) {
    const ns = String(ep.metadata?.namespace);
    const base: Record<string, string> = { __meta_kubernetes_namespace: ns, __meta_kubernetes_endpoints_name: String(ep.metadata?.name) };
    metaOf('__meta_kubernetes_endpoints', ep, base);
    const svc = services.get(`${ns}/${ep.metadata?.name}`);
    if (svc) {
      base.__meta_kubernetes_service_name = String(svc.metadata?.name);
      metaOf('__meta_kubernetes_service', svc, base);
    }
    for (const subset of (ep.subsets ?? []) as KObject[]) {
      const addresses: Array<[KObject, boolean]> = [
        ...((subset.addresses ?? []) as KObject[]).map((a): [KObject, boolean] => [a, true]),
        ...((subset.notReadyAddresses ?? []) as KObject[]).map((a): [KObject, boolean] => [a, false]),
      ];
      for (const [addr, ready] of addresses)
        for (const port of (subset.ports ?? []) as KObject[]) {
          const labels: Record<string, string> = {
            ...base,
            __meta_kubernetes_endpoint_port_name: String(port.name ?? ''),
            __meta_kubernetes_endpoint_port_protocol: String(port.protocol ?? 'TCP'),
            __meta_kubernetes_endpoint_ready: String(ready),
          };
          if (addr.nodeName) labels.__meta_kubernetes_endpoint_node_name = String(addr.nodeName);
          if (addr.hostname) labels.__meta_kubernetes_endpoint_hostname = String(addr.hostname);
          const ref = addr.targetRef;
          if (ref) {
            labels.__meta_kubernetes_endpoint_address_target_kind = String(ref.kind);
            labels.__meta_kubernetes_endpoint_address_target_name = String(ref.name);
            const pod = ref.kind === 'Pod' ? pods.get(`${ref.namespace ?? ns}/${ref.name}`) : undefined;
            if (pod) Object.assign(labels, podLabels(pod));
          }
          out.push({ targets: [hostPort(String(addr.ip), port.port)], labels });
        }
    }
  }
  return out;
}

/** The route answering Prometheus's http_sd_configs. */
export function prometheusSdRoute(rest: RestStorage, registry: ResourceRegistry): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  const def = (plural: string) => registry.lookup('', 'v1', plural)!;
  const list = async (plural: string, namespace?: string): Promise<KObject[]> => (await rest.list(def(plural), namespace, {})).items ?? [];
  return async (req, res, url) => {
    if (!url.pathname.startsWith(prometheusSdPrefix)) return false;
    if (req.method !== 'GET') throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    const role = url.pathname.slice(prometheusSdPrefix.length).replace(/\/+$/, '');
    const namespace = url.searchParams.get('namespace') ?? undefined;
    let groups: TargetGroup[];
    if (role === 'node') groups = nodeTargets(await list('nodes'));
    else if (role === 'pod') groups = podTargets(await list('pods', namespace));
    else if (role === 'endpoints') {
      const key = (o: KObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
      const services = new Map((await list('services', namespace)).map((s) => [key(s), s]));
      const pods = new Map((await list('pods', namespace)).map((p) => [key(p), p]));
      groups = endpointsTargets(await list('endpoints', namespace), services, pods);
    } else throw ApiError.notFound('prometheus discovery roles', '', role);
    writeJson(res, 200, groups);
    return true;
  };
}
