/**
 * @module The shape of one served resource: identity (group, version, plural, scope,
 * short names), the strategy kube-apiserver keeps per kind (defaults, validation,
 * prepare-for-create/update) and its server-side printer. One file per kind under
 * src/api/kinds/ exports one or more of these; the generic handler does the rest.
 */
import type { FieldError } from './errors.js';

/** Any Kubernetes object as JSON. Kind files narrow it with kubernetes-types where useful. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KObject = Record<string, any> & {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
};

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [k: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** A column of a meta.k8s.io/v1 Table, as kube-apiserver declares it. */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0: always shown; >0: only with -o wide. */
  priority: number;
}

export interface TablePrinter {
  columns: TableColumn[];
  /** One row's cells, same order as columns. `now` is for AGE-like columns (use humanDuration). */
  cells(obj: KObject, now: Date): unknown[];
}

/** Where the scale subresource reads and writes (autoscaling/v1 Scale). */
export interface ScaleSubresource {
  /** Dotted path of spec replicas, e.g. "spec.replicas". */
  specReplicasPath: string;
  statusReplicasPath: string;
  /** Path of the status field holding the label selector string, or of spec.selector (a LabelSelector object). */
  labelSelectorPath?: string;
}

/** Context passed to strategy hooks. */
export interface StrategyContext {
  /** Current time (tests pass a fixed clock). */
  now: Date;
  /** The subresource being written, '' for the main resource. */
  subresource: '' | 'status' | 'scale' | string;
}

export interface ResourceDef {
  /** API group: '' for core. */
  group: string;
  version: string;
  kind: string;
  /** Lower-case plural, the URL segment: "deployments". */
  plural: string;
  /** Lower-case singular: "deployment". */
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  /** ["all"] puts the resource in `kubectl get all`. */
  categories?: string[];
  /** Defaults to every verb: create delete deletecollection get list patch update watch. */
  verbs?: string[];
  /** Subresources served through the generic handler. */
  subresources?: {
    status?: boolean;
    scale?: ScaleSubresource;
  };
  /** Other subresource names served by special handlers (binding, eviction, log, exec, ...), for discovery. */
  extraSubresources?: string[];
  /**
   * Storage identity: several served versions (autoscaling/v1 and v2) or groups (core and
   * events.k8s.io Event) share one storage resource; the default is { resource: plural }.
   * Objects are stored as `storageVersion` ("group/version") and converted on the way in/out.
   */
  storage?: { resource: string; version: string };
  /** Convert an object of this served version to the storage version (only when storage.version differs). */
  toStorage?(obj: KObject): KObject;
  /** Convert a stored object to this served version. */
  fromStorage?(obj: KObject): KObject;

  /** Fill defaults in place, as the defaulting functions of k8s.io/api do (runs on create, update, patch results). */
  defaults?(obj: KObject): void;
  /** Strategy PrepareForCreate: reset status, set initial status fields... (in place). */
  prepareForCreate?(obj: KObject, ctx: StrategyContext): void;
  /** Strategy PrepareForUpdate (in place). Generic code already keeps status / spec per subresource and bumps generation. */
  prepareForUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): void;
  /** Validation of the whole object (metadata is validated generically). Paths like "spec.replicas". */
  validate?(obj: KObject): FieldError[];
  /** Extra rules on update (immutable fields...), run after validate. */
  validateUpdate?(obj: KObject, old: KObject): FieldError[];
  /** False for kinds whose metadata.generation is never bumped by spec changes (e.g. ConfigMap). Default true when the object has a spec. */
  tracksGeneration?: boolean;
  /** Supported field selectors beyond metadata.name/metadata.namespace: label → value getter. */
  fieldSelectors?: Record<string, (obj: KObject) => string | undefined>;
  /** Server-side printer. When absent, the default NAME / CREATED AT table is used. */
  table?: TablePrinter;
  /** metadata.name rule; default DNS-1123 subdomain (RBAC: path segment names, Service: DNS-1035 label). */
  nameValidator?: (name: string) => string[];
  /** Names of the kind in a cluster-scoped namespace (e.g. Namespace: metadata.name is the namespace). */
  isNamespace?: boolean;
}

/** The effective storage resource and version of a def. */
export function storageOf(def: ResourceDef): { resource: string; version: string } {
  return def.storage ?? { resource: def.plural, version: def.group ? `${def.group}/${def.version}` : def.version };
}

export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}
