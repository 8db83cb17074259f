/**
 * @module The resources the garbage collector and the namespace controller know about,
 * kept in one place: identity (GVR, kind, scope) for each storage resource skiff may serve,
 * resolution of an ownerReference's apiVersion/kind, and the probe that keeps only those
 * the API server actually serves (a list answered 404 means "not served").
 */
import { ApiError } from '../../api/errors.js';
import { gvr, Resources, type Client, type Gvr } from '../../client/index.js';

export interface KnownResource {
  gvr: Gvr;
  kind: string;
  namespaced: boolean;
}

const r = (g: Gvr, kind: string, namespaced: boolean): KnownResource => ({ gvr: g, kind, namespaced });

/**
 * One entry per storage resource (a resource served in two versions, such as events or
 * horizontalpodautoscalers, appears once). Entries the server does not serve are dropped
 * by `servedResources`, so kinds that arrive later only need a line here.
 */
export const knownResources: readonly KnownResource[] = [
  r(Resources.pods, 'Pod', true),
  r(Resources.nodes, 'Node', false),
  r(Resources.namespaces, 'Namespace', false),
  r(Resources.services, 'Service', true),
  r(Resources.endpoints, 'Endpoints', true),
  r(Resources.events, 'Event', true),
  r(Resources.configmaps, 'ConfigMap', true),
  r(Resources.secrets, 'Secret', true),
  r(Resources.serviceaccounts, 'ServiceAccount', true),
  r(Resources.persistentvolumeclaims, 'PersistentVolumeClaim', true),
  r(gvr('', 'v1', 'persistentvolumes'), 'PersistentVolume', false),
  r(Resources.replicationcontrollers, 'ReplicationController', true),
  r(gvr('', 'v1', 'podtemplates'), 'PodTemplate', true),
  r(gvr('', 'v1', 'limitranges'), 'LimitRange', true),
  r(gvr('', 'v1', 'resourcequotas'), 'ResourceQuota', true),
  r(Resources.deployments, 'Deployment', true),
  r(Resources.replicasets, 'ReplicaSet', true),
  r(Resources.statefulsets, 'StatefulSet', true),
  r(Resources.daemonsets, 'DaemonSet', true),
  r(Resources.controllerrevisions, 'ControllerRevision', true),
  r(Resources.jobs, 'Job', true),
  r(Resources.cronjobs, 'CronJob', true),
  r(Resources.horizontalpodautoscalers, 'HorizontalPodAutoscaler', true),
  r(Resources.endpointslices, 'EndpointSlice', true),
  r(Resources.leases, 'Lease', true),
  r(Resources.ingresses, 'Ingress', true),
  r(gvr('networking.k8s.io', 'v1', 'ingressclasses'), 'IngressClass', false),
  r(gvr('networking.k8s.io', 'v1', 'networkpolicies'), 'NetworkPolicy', true),
  r(gvr('policy', 'v1', 'poddisruptionbudgets'), 'PodDisruptionBudget', true),
  r(gvr('rbac.authorization.k8s.io', 'v1', 'roles'), 'Role', true),
  r(gvr('rbac.authorization.k8s.io', 'v1', 'rolebindings'), 'RoleBinding', true),
  r(gvr('rbac.authorization.k8s.io', 'v1', 'clusterroles'), 'ClusterRole', false),
  r(gvr('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings'), 'ClusterRoleBinding', false),
];

/** The group of an apiVersion ("apps/v1" → "apps", "v1" → ""). */
export function groupOf(apiVersion: string | undefined): string {
  const v = apiVersion ?? '';
  const i = v.indexOf('/');
  return i < 0 ? '' : v.slice(0, i);
}

/**
 * The resource an ownerReference points at, by group and kind (any version of the group
 * resolves, as the RESTMapper does for served versions). Undefined for kinds we do not know.
 */
export function resourceForKind(resources: readonly KnownResource[], apiVersion: string | undefined, kind: string | undefined): KnownResource | undefined {
  const group = groupOf(apiVersion);
  return resources.find((res) => res.kind === kind && res.gvr.group === group);
}

export function gvrKey(g: Gvr): string {
  return `${g.group}/${g.version}/${g.resource}`;
}

/**
 * The subset of `candidates` the server serves. A 404 (or 405) on list means the resource
 * is not served; any other error keeps it (its informer retries), as discovery failures
 * must not make a controller forget a resource.
 */
export async function servedResources(client: Client, candidates: readonly KnownResource[] = knownResources): Promise<KnownResource[]> {
  const served = await Promise.all(
    candidates.map(async (res) => {
      try {
        await client.list(res.gvr, undefined, { limit: 1 });
        return true;
      } catch (err) {
        return !(err instanceof ApiError && (err.code === 404 || err.code === 405));
      }
    }),
  );
  return candidates.filter((_, i) => served[i]);
}
