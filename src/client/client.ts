/**
 * @module The only way components talk to each other: a typed-enough client over
 * resources (group, version, resource), with two transports behind it — the loopback
 * one inside `skiff server` (no HTTP, same semantics) and HTTPS for remote agents.
 * Errors are the API's own ApiError, whichever the transport.
 */
import type { KObject } from '../api/types.js';

/** A served resource: group ('' for core), version, lower-case plural. */
export interface Gvr {
  group: string;
  version: string;
  resource: string;
}

export const gvr = (group: string, version: string, resource: string): Gvr => ({ group, version, resource });

/** The resources controllers use most, by their Kubernetes names. */
export const Resources = {
  pods: gvr('', 'v1', 'pods'),
  nodes: gvr('', 'v1', 'nodes'),
  namespaces: gvr('', 'v1', 'namespaces'),
  services: gvr('', 'v1', 'services'),
  endpoints: gvr('', 'v1', 'endpoints'),
  events: gvr('', 'v1', 'events'),
  configmaps: gvr('', 'v1', 'configmaps'),
  secrets: gvr('', 'v1', 'secrets'),
  serviceaccounts: gvr('', 'v1', 'serviceaccounts'),
  persistentvolumeclaims: gvr('', 'v1', 'persistentvolumeclaims'),
  persistentvolumes: gvr('', 'v1', 'persistentvolumes'),
  replicationcontrollers: gvr('', 'v1', 'replicationcontrollers'),
  deployments: gvr('apps', 'v1', 'deployments'),
  replicasets: gvr('apps', 'v1', 'replicasets'),
  statefulsets: gvr('apps', 'v1', 'statefulsets'),
  daemonsets: gvr('apps', 'v1', 'daemonsets'),
  controllerrevisions: gvr('apps', 'v1', 'controllerrevisions'),
  jobs: gvr('batch', 'v1', 'jobs'),
  cronjobs: gvr('batch', 'v1', 'cronjobs'),
  horizontalpodautoscalers: gvr('autoscaling', 'v2', 'horizontalpodautoscalers'),
  endpointslices: gvr('discovery.k8s.io', 'v1', 'endpointslices'),
  leases: gvr('coordination.k8s.io', 'v1', 'leases'),
  ingresses: gvr('networking.k8s.io', 'v1', 'ingresses'),
  storageclasses: gvr('storage.k8s.io', 'v1', 'storageclasses'),
} as const;

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Events after this version; absent or "0": initial ADDED events for everything first. */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KObject;
}

export interface WatchHandle {
  stop(): void;
}

export interface WriteOptions {
  /** Defaults to the client's own manager name (e.g. "kube-controller-manager"). */
  fieldManager?: string;
  dryRun?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/**
 * Verbs over any served resource. Objects passed in are never mutated; objects returned
 * are the caller's to keep. Failures throw ApiError (code 404, 409 Conflict...).
 */
export interface Client {
  get(r: Gvr, namespace: string | undefined, name: string): Promise<KObject>;
  /** A List object: { metadata: { resourceVersion, continue? }, items }. Items carry apiVersion and kind. */
  list(r: Gvr, namespace: string | undefined, opts?: ListOptions): Promise<KObject>;
  /** Streams events until stop() or onEnd (server closed, error). */
  watch(r: Gvr, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void): Promise<WatchHandle>;
  create(r: Gvr, namespace: string | undefined, obj: KObject, opts?: WriteOptions): Promise<KObject>;
  /**
   * PUT; with subresource 'status' writes only status; 'finalize' (namespaces) writes
   * spec.finalizers. 409 Conflict on a stale resourceVersion.
   */
  update(r: Gvr, namespace: string | undefined, obj: KObject, opts?: WriteOptions & { subresource?: 'status' | 'finalize' }): Promise<KObject>;
  patch(
    r: Gvr,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts?: WriteOptions & { subresource?: 'status' | 'scale'; force?: boolean },
  ): Promise<KObject>;
  delete(r: Gvr, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<void>;
  /** POST to a subresource (pods/binding, pods/eviction). */
  createSubresource(r: Gvr, namespace: string | undefined, name: string, subresource: string, body: KObject): Promise<KObject>;
  /** GET/PUT of the scale subresource (autoscaling/v1 Scale). */
  getScale(r: Gvr, namespace: string | undefined, name: string): Promise<KObject>;
  updateScale(r: Gvr, namespace: string | undefined, name: string, scale: KObject): Promise<KObject>;
}

/** The apiVersion string of a resource's group and version ("v1", "apps/v1"). */
export function apiVersionOfGvr(r: Gvr): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** "namespace/name", or "name" for cluster-scoped objects: the work-queue key of an object. */
export function keyOf(obj: KObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name}` : `${obj.metadata?.name}`;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
