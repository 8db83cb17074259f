/**
 * @module Helm's kube client over skiff's Client: manifests to resources (kinds mapped to
 * resources through the served kinds), create in Helm's install order, three-way updates
 * that delete what the chart dropped, deletes in uninstall order, ownership checks, and
 * --wait readiness as Helm's ReadyChecker judges it.
 */
import { parseAllDocuments } from 'yaml';
import { ApiError } from '../../api/errors.js';
import { allResources } from '../../api/kinds/index.js';
import { hasPatchMeta, patchMetaFor, plainJsonMeta } from '../../api/patch/patch-meta.js';
import type { KObject } from '../../api/types.js';
import { Resources, type Client, type Gvr } from '../../client/client.js';
import { threeWayPatch } from './threeway.js';
import { deploymentMaxUnavailable, scaledValue } from '../../api/intstr.js';

export const managedByLabel = 'app.kubernetes.io/managed-by';
export const releaseNameAnnotation = 'meta.helm.sh/release-name';
export const releaseNamespaceAnnotation = 'meta.helm.sh/release-namespace';
export const resourcePolicyAnnotation = 'helm.sh/resource-policy';

/** Helm's InstallOrder (pkg/releaseutil/kind_sorter.go); unknown kinds go last, alphabetically. */
export const installOrder = [
  'PriorityClass', 'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy', 'PodDisruptionBudget',
  'ServiceAccount', 'Secret', 'SecretList', 'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim',
  'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleList', 'ClusterRoleBinding', 'ClusterRoleBindingList', 'Role',
  'RoleList', 'RoleBinding', 'RoleBindingList', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet',
  'Deployment', 'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
];

/** Helm's UninstallOrder: validation before mutation, workloads before what they use. */
export const uninstallOrder = [
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService', 'Ingress', 'IngressClass', 'Service',
  'CronJob', 'Job', 'StatefulSet', 'HorizontalPodAutoscaler', 'Deployment', 'ReplicaSet', 'ReplicationController', 'Pod',
  'DaemonSet', 'RoleBindingList', 'RoleBinding', 'RoleList', 'Role', 'ClusterRoleBindingList', 'ClusterRoleBinding',
  'ClusterRoleList', 'ClusterRole', 'CustomResourceDefinition', 'PersistentVolumeClaim', 'PersistentVolume', 'StorageClass',
  'ConfigMap', 'SecretList', 'Secret', 'ServiceAccount', 'PodDisruptionBudget', 'PodSecurityPolicy', 'LimitRange',
  'ResourceQuota', 'NetworkPolicy', 'Namespace', 'PriorityClass',
];

/** Stable sort by kind in the given order, as Helm's sortManifestsByKind. */
export function sortByKind<T>(items: T[], kindOf: (t: T) => string, order: string[]): T[] {
  const rank = new Map(order.map((k, i) => [k, i]));
  return items
    .map((t, i) => ({ t, i }))
    .sort((a, b) => {
      const ka = kindOf(a.t);
      const kb = kindOf(b.t);
      const ra = rank.get(ka);
      const rb = rank.get(kb);
      if (ra === undefined && rb === undefined) return ka === kb ? a.i - b.i : ka < kb ? -1 : 1;
      if (ra === undefined) return 1;
      if (rb === undefined) return -1;
      return ra - rb || a.i - b.i;
    })
    .map((x) => x.t);
}

/** One object of a manifest, mapped to its resource. */
export interface Resource {
  obj: KObject;
  gvr: Gvr;
  kind: string;
  name: string;
  /** undefined for cluster-scoped kinds. */
  namespace: string | undefined;
}

/** A manifest names a kind the server does not serve (Helm: "resource mapping not found"). */
export class ResourceMappingError extends Error {
  override name = 'ResourceMappingError';
}

/** Objects of a rendered manifest could not be parsed. */
export class ManifestParseError extends Error {
  override name = 'ManifestParseError';
}

/** An object to install exists already and this release may not adopt it. */
export class ResourceConflictError extends Error {
  override name = 'ResourceConflictError';
}

/** A create, patch or delete the API refused, with Helm's context ("cannot patch "x" with kind Deployment: …"). */
export class KubeOperationError extends Error {
  override name = 'KubeOperationError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** --wait ran out of time: Helm's (wait.Poll's) "timed out waiting for the condition". */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
  constructor(readonly pending: string[]) {
    super('timed out waiting for the condition');
  }
}

/** Resource identity: group/kind/namespace/name, as Helm's ResourceList compares objects. */
export function resourceKey(r: Resource): string {
  return `${r.gvr.group}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

/** "Deployment \"web\" in namespace \"default\"" — Helm's phrasing in errors. */
export function describe(r: Resource): string {
  return r.namespace ? `${r.kind} "${r.name}" in namespace "${r.namespace}"` : `${r.kind} "${r.name}"`;
}

/** Parses a multi-document YAML manifest into objects (empty documents skipped). */
export function parseManifest(manifest: string, source = 'manifest'): KObject[] {
  const out: KObject[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    if (doc.errors.length > 0) throw new ManifestParseError(`error parsing ${source}: ${doc.errors[0].message}`);
    const v = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw new ManifestParseError(`error parsing ${source}: object expected`);
    const o = v as KObject;
    if (o.kind?.endsWith('List') && Array.isArray(o.items)) out.push(...(o.items as KObject[]));
    else out.push(o);
  }
  return out;
}

interface KindInfo {
  gvr: Gvr;
  namespaced: boolean;
}

const kindTable = new Map<string, KindInfo>();
for (const def of allResources) {
  const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  kindTable.set(`${apiVersion}/${def.kind}`, { gvr: { group: def.group, version: def.version, resource: def.plural }, namespaced: def.namespaced });
}

/** The resource serving apiVersion+kind (the REST mapping Helm gets from discovery). */
export function mapKind(apiVersion: string | undefined, kind: string | undefined): KindInfo {
  const info = kindTable.get(`${apiVersion}/${kind}`);
  if (!info) {
    throw new ResourceMappingError(`resource mapping not found for kind "${kind}" in version "${apiVersion}"\nensure CRDs are installed first`);
  }
  return info;
}

/** Objects to resources; namespaced objects without a namespace go to the release's. */
export function buildResources(objs: KObject[], namespace: string): Resource[] {
  return objs.map((obj) => {
    if (!obj.kind || !obj.apiVersion) throw new ManifestParseError(`error validating data: ${!obj.apiVersion ? 'apiVersion' : 'kind'} not set`);
    const name = obj.metadata?.name;
    if (!name) throw new ManifestParseError(`error validating data: metadata.name not set on ${obj.kind}`);
    const { gvr, namespaced } = mapKind(obj.apiVersion, obj.kind);
    const ns = namespaced ? obj.metadata?.namespace || namespace : undefined;
    const copy: KObject = structuredClone(obj);
    if (ns) copy.metadata = { ...copy.metadata, namespace: ns };
    else if (copy.metadata) delete copy.metadata.namespace;
    return { obj: copy, gvr, kind: obj.kind, name, namespace: ns };
  });
}

/** Helm's setMetadataVisitor: the ownership marks every release object carries (since Helm 3.2). */
export function markOwned(r: Resource, releaseName: string, releaseNamespace: string): void {
  const md = (r.obj.metadata ??= {});
  md.labels = { ...(md.labels ?? {}), [managedByLabel]: 'Helm' };
  md.annotations = { ...(md.annotations ?? {}), [releaseNameAnnotation]: releaseName, [releaseNamespaceAnnotation]: releaseNamespace };
}

/** Helm's checkOwnership: the errors that make an existing object not adoptable by this release, [] when it is. */
export function ownershipErrors(live: KObject, releaseName: string, releaseNamespace: string): string[] {
  const errs: string[] = [];
  const labels = live.metadata?.labels ?? {};
  const ann = live.metadata?.annotations ?? {};
  const check = (what: 'label' | 'annotation', map: Record<string, string>, key: string, want: string) => {
    if (!(key in map)) errs.push(`${what} validation error: missing key "${key}": must be set to "${want}"`);
    else if (map[key] !== want) errs.push(`${what} validation error: key "${key}" must equal "${want}": current value is "${map[key]}"`);
  };
  check('label', labels, managedByLabel, 'Helm');
  check('annotation', ann, releaseNameAnnotation, releaseName);
  check('annotation', ann, releaseNamespaceAnnotation, releaseNamespace);
  return errs;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Helm's --wait-for-jobs. */
  waitForJobs?: boolean;
  signal?: AbortSignal;
  /** Poll interval (ms). */
  intervalMs?: number;
}

/** Helm's kube.Client for one release namespace. */
export class KubeClient {
  constructor(
    readonly client: Client,
    private readonly log: (msg: Record<string, unknown>) => void = () => {},
  ) {}

  async getLive(r: Resource): Promise<KObject | undefined> {
    try {
      return await this.client.get(r.gvr, r.namespace, r.name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  /**
   * Helm's existingResourceConflict: objects of the chart that already exist must carry
   * this release's ownership marks; those that do are returned to be adopted (updated
   * instead of created).
   */
  async checkConflicts(resources: Resource[], releaseName: string, releaseNamespace: string): Promise<Resource[]> {
    const adopt: Resource[] = [];
    for (const r of resources) {
      const live = await this.getLive(r);
      if (!live) continue;
      const errs = ownershipErrors(live, releaseName, releaseNamespace);
      if (errs.length > 0) {
        throw new ResourceConflictError(
          `rendered manifests contain a resource that already exists. Unable to continue with install: ${describe(r)} exists and cannot be imported into the current release: invalid ownership metadata; ${errs.join('; ')}`,
        );
      }
      adopt.push(r);
    }
    return adopt;
  }

  /** Creates in Helm's install order; objects that exist already (adopted) are updated in place. */
  async create(resources: Resource[]): Promise<void> {
    for (const r of sortByKind(resources, (x) => x.kind, installOrder)) {
      try {
        await this.client.create(r.gvr, r.namespace, r.obj, { fieldManager: 'helm' });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
        await this.patchTo(r, undefined);
      }
    }
  }

  /** Patches the live object toward r.obj (three-way against `original`); returns whether anything changed. */
  private async patchTo(r: Resource, original: KObject | undefined): Promise<boolean> {
    const live = await this.getLive(r);
    if (!live) {
      await this.client.create(r.gvr, r.namespace, r.obj, { fieldManager: 'helm' });
      return true;
    }
    const strategic = hasPatchMeta(r.gvr.group, r.gvr.version, r.kind);
    const meta = strategic ? patchMetaFor(r.obj) : plainJsonMeta;
    const patch = threeWayPatch(original, r.obj, live, meta, strategic);
    if (Object.keys(patch).length === 0) return false;
    this.log({ msg: 'patching', kind: r.kind, name: r.name, namespace: r.namespace });
    try {
      await this.client.patch(r.gvr, r.namespace, r.name, strategic ? 'strategic' : 'merge', patch, { fieldManager: 'helm' });
    } catch (err) {
      throw new KubeOperationError(`cannot patch "${r.name}" with kind ${r.kind}: ${(err as Error).message}`, err);
    }
    return true;
  }

  /**
   * Helm 3's Update: objects in both releases are patched three-way, new ones created,
   * objects the new release dropped deleted (unless annotated helm.sh/resource-policy: keep).
   */
  async update(original: Resource[], target: Resource[]): Promise<{ created: Resource[]; updated: Resource[]; deleted: Resource[] }> {
    const originals = new Map(original.map((r) => [resourceKey(r), r]));
    const targetKeys = new Set(target.map(resourceKey));
    const created: Resource[] = [];
    const updated: Resource[] = [];
    for (const r of sortByKind(target, (x) => x.kind, installOrder)) {
      const before = originals.get(resourceKey(r));
      const live = await this.getLive(r);
      if (!live) {
        try {
          await this.client.create(r.gvr, r.namespace, r.obj, { fieldManager: 'helm' });
        } catch (err) {
          throw new KubeOperationError(`failed to create resource: ${(err as Error).message}`, err);
        }
        created.push(r);
        continue;
      }
      if (await this.patchTo(r, before?.obj)) updated.push(r);
    }
    const deleted: Resource[] = [];
    for (const r of sortByKind(original, (x) => x.kind, uninstallOrder)) {
      if (targetKeys.has(resourceKey(r))) continue;
      if (r.obj.metadata?.annotations?.[resourcePolicyAnnotation] === 'keep') continue;
      const live = await this.getLive(r);
      if (live?.metadata?.annotations?.[resourcePolicyAnnotation] === 'keep') continue;
      if (await this.deleteOne(r)) deleted.push(r);
    }
    return { created, updated, deleted };
  }

  /** Deletes one object in the background (as Helm), true when it existed. */
  async deleteOne(r: Resource): Promise<boolean> {
    try {
      await this.client.delete(r.gvr, r.namespace, r.name, { propagationPolicy: 'Background' });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return false;
      throw err;
    }
  }

  /** Deletes in Helm's uninstall order; returns the objects kept by helm.sh/resource-policy: keep. */
  async delete(resources: Resource[]): Promise<{ deleted: Resource[]; kept: Resource[]; errors: string[] }> {
    const deleted: Resource[] = [];
    const kept: Resource[] = [];
    const errors: string[] = [];
    for (const r of sortByKind(resources, (x) => x.kind, uninstallOrder)) {
      if (r.obj.metadata?.annotations?.[resourcePolicyAnnotation] === 'keep') {
        kept.push(r);
        continue;
      }
      try {
        if (await this.deleteOne(r)) deleted.push(r);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    return { deleted, kept, errors };
  }

  /** Waits until every resource is ready (Helm's --wait); throws WaitTimeoutError. */
  async waitReady(resources: Resource[], opts: WaitOptions): Promise<void> {
    await this.poll(opts, async () => {
      const pending: string[] = [];
      for (const r of resources) if (!(await this.isReady(r, opts))) pending.push(describe(r));
      return pending;
    });
  }

  /** Waits until every resource is gone (uninstall --wait). */
  async waitDeleted(resources: Resource[], opts: WaitOptions): Promise<void> {
    await this.poll(opts, async () => {
      const pending: string[] = [];
      for (const r of resources) if (await this.getLive(r)) pending.push(describe(r));
      return pending;
    });
  }

  private async poll(opts: WaitOptions, pendingNow: () => Promise<string[]>): Promise<void> {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const pending = await pendingNow();
      if (pending.length === 0) return;
      if (Date.now() >= deadline || opts.signal?.aborted) throw new WaitTimeoutError(pending);
      this.log({ msg: 'waiting for resources', pending });
      await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs ?? 250, Math.max(0, deadline - Date.now()))));
    }
  }

  /** Helm's ReadyChecker.IsReady. */
  async isReady(r: Resource, opts: { waitForJobs?: boolean } = {}): Promise<boolean> {
    const o = await this.getLive(r);
    if (!o) return false;
    const spec = o.spec ?? {};
    const status = o.status ?? {};
    const generationSeen = (status.observedGeneration ?? 0) >= (o.metadata?.generation ?? 0);
    switch (r.kind) {
      case 'Pod':
        return podReady(o);
      case 'Job':
        return !opts.waitForJobs || jobComplete(o);
      case 'Deployment': {
        if (spec.paused) return true;
        if (!generationSeen) return false;
        const rs = await this.newReplicaSet(o);
        if (!rs) return false;
        return (rs.status?.readyReplicas ?? 0) >= (spec.replicas ?? 1) - deploymentMaxUnavailable(o);
      }
      case 'ReplicaSet':
      case 'ReplicationController':
        return generationSeen && (status.readyReplicas ?? 0) >= (spec.replicas ?? 1);
      case 'StatefulSet': {
        if (spec.updateStrategy?.type === 'OnDelete') return true;
        if (!generationSeen) return false;
        const replicas = spec.replicas ?? 1;
        const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
        if ((status.updatedReplicas ?? 0) < replicas - partition) return false;
        if ((status.readyReplicas ?? 0) !== replicas) return false;
        return partition > 0 || !status.updateRevision || status.currentRevision === status.updateRevision;
      }
      case 'DaemonSet': {
        if (spec.updateStrategy?.type === 'OnDelete') return true;
        if (!generationSeen) return false;
        const desired = status.desiredNumberScheduled ?? 0;
        if ((status.updatedNumberScheduled ?? 0) !== desired) return false;
        const mu = scaledValue(spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired, true);
        return (status.numberReady ?? 0) >= desired - mu;
      }
      case 'Service':
        if (spec.type === 'ExternalName') return true;
        if (!spec.clusterIP) return false;
        if (spec.type === 'LoadBalancer') return (spec.externalIPs?.length ?? 0) > 0 || Array.isArray(status.loadBalancer?.ingress);
        return true;
      case 'PersistentVolumeClaim':
        return status.phase === 'Bound';
      default:
        return true;
    }
  }

  /** The ReplicaSet of the Deployment's current template: owned by it, at its revision. */
  private async newReplicaSet(d: KObject): Promise<KObject | undefined> {
    const list = await this.client.list(Resources.replicasets, d.metadata?.namespace);
    const owned = ((list.items ?? []) as KObject[]).filter((rs) => rs.metadata?.ownerReferences?.some((ref) => ref.uid === d.metadata?.uid && ref.controller));
    const rev = d.metadata?.annotations?.['deployment.kubernetes.io/revision'];
    if (rev) return owned.find((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === rev);
    return undefined;
  }
}

export function podReady(pod: KObject): boolean {
  return (pod.status?.conditions ?? []).some((c: { type?: string; status?: string }) => c.type === 'Ready' && c.status === 'True');
}

function jobComplete(job: KObject): boolean {
  const conds = (job.status?.conditions ?? []) as { type?: string; status?: string }[];
  if (conds.some((c) => c.type === 'Failed' && c.status === 'True')) throw new Error(`job ${job.metadata?.name} failed`);
  return conds.some((c) => c.type === 'Complete' && c.status === 'True');
}

