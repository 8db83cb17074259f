/**
 * @module Server-side apply (`application/apply-patch+yaml`) and managedFields tracking:
 * which manager owns which fields (FieldsV1), conflicts with other owners (409 unless
 * forced), pruning of fields an applier stopped applying, and the ownership updates of
 * ordinary create/update/patch requests, following kube-apiserver's fieldmanager.
 */
import { parseAllDocuments } from 'yaml';
import { ApiError, required, type StatusCause } from '../errors.js';
import type { KObject, ManagedFieldsEntry } from '../types.js';
import { FieldSet, type FieldPath, pathString } from './fieldpath.js';
import { type PatchMeta, patchMetaFor } from './patch-meta.js';
import { compare, mergeApplied, removeItems, toFieldSet, validateApplied, withoutEmptyMaps } from './typed.js';
import { deepEqual, isMap } from './values.js';

/** More Update managers than this are folded, oldest first, into "ancient-changes". */
export const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = 'ancient-changes';
/** The owner kube gives every field of an object that had no managedFields when first applied to. */
const BEFORE_FIRST_APPLY = 'before-first-apply';

/** Fields no manager owns: identity and server-maintained metadata (kube's StripMetaManager). */
const STRIPPED: FieldSet = FieldSet.of(
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map(
    (f): FieldPath => ['f:metadata', `f:${f}`],
  ),
);

export interface ApplyOptions {
  /** The fieldManager query parameter (required for apply). */
  manager: string;
  /** The force query parameter: take ownership of conflicting fields. */
  force: boolean;
  /** apiVersion of the endpoint ("apps/v1"); the applied object must carry it. */
  apiVersion: string;
  /** Kind of the endpoint; when given, the applied object must carry it. */
  kind?: string;
  now: Date;
  /** Merge metadata of the kind (lookupPatchMeta). */
  meta: PatchMeta;
  /** '' for the main resource, or "status", "scale"... */
  subresource?: string;
  /**
   * Field paths the operation cannot own (kube's reset fields), e.g. [["status"]].
   * Default: status for the main resource; everything but status for /status.
   */
  ignoredFields?: string[][];
}

export interface UpdateOptions {
  manager: string;
  operation?: 'Update';
  apiVersion: string;
  now: Date;
  subresource?: string;
  /** Defaults to the metadata of the updated object's apiVersion and kind. */
  meta?: PatchMeta;
  ignoredFields?: string[][];
}

interface ManagerRecord {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string;
  time?: string;
  set: FieldSet;
}

type Managed = Map<string, ManagerRecord>;

/** kube's manager identifier: the entry's JSON without time and fields (and without apiVersion for appliers). */
function identifier(r: Pick<ManagerRecord, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  const id: Record<string, string> = {};
  if (r.manager) id.manager = r.manager;
  id.operation = r.operation;
  if (r.operation === 'Update' && r.apiVersion) id.apiVersion = r.apiVersion;
  if (r.subresource) id.subresource = r.subresource;
  return JSON.stringify(id);
}

/** How conflict messages name a manager: `"kubectl"`, `"x" using apps/v1`, `"x" with subresource "status" using v1`. */
function printManager(r: ManagerRecord): string {
  let s = JSON.stringify(r.manager);
  if (r.subresource) s += ` with subresource ${JSON.stringify(r.subresource)}`;
  if (r.operation === 'Update') s += ` using ${r.apiVersion}`;
  return s;
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

function decodeManagedFields(entries: unknown): Managed {
  const managed: Managed = new Map();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  for (const e of entries) {
    if (!isMap(e)) throw new Error('managedFields entries must be objects');
    if (e.fieldsType !== undefined && e.fieldsType !== 'FieldsV1') {
      throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)}`);
    }
    const operation = e.operation === 'Apply' ? 'Apply' : 'Update';
    const rec: ManagerRecord = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation,
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      subresource: typeof e.subresource === 'string' ? e.subresource : '',
      time: typeof e.time === 'string' ? e.time : undefined,
      set: FieldSet.fromFieldsV1(e.fieldsV1 ?? {}),
    };
    const id = identifier(rec);
    const prev = managed.get(id);
    if (prev) prev.set = prev.set.union(rec.set);
    else managed.set(id, rec);
  }
  return managed;
}

function unixSeconds(time: string | undefined): number {
  const t = time ? Date.parse(time) : NaN;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** Entries in kube's order: Apply before Update, then by time, manager, apiVersion, subresource. */
function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] {
  const recs = [...managed.values()].filter((r) => !r.set.empty());
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  recs.sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      unixSeconds(p.time) - unixSeconds(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource, q.subresource),
  );
  return recs.map((r) => {
    const e: ManagedFieldsEntry = { manager: r.manager, operation: r.operation, apiVersion: r.apiVersion };
    if (r.time) e.time = r.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = r.set.toFieldsV1();
    if (r.subresource) e.subresource = r.subresource;
    return e;
  });
}

/** kube's cap on Update managers: the oldest are merged, per apiVersion, into "ancient-changes". */
function capUpdateManagers(managed: Managed): void {
  const updaters = [...managed.entries()].filter(([, r]) => r.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(([ia, a], [ib, b]) => unixSeconds(a.time) - unixSeconds(b.time) || (ia < ib ? -1 : ia > ib ? 1 : 0));
  const firstOfVersion = new Map<string, string>();
  let count = updaters.length;
  for (const [id, rec] of updaters) {
    if (count <= MAX_UPDATE_MANAGERS) break;
    const bucket = identifier({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: rec.apiVersion, subresource: '' });
    const first = firstOfVersion.get(rec.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(rec.apiVersion, id);
      continue;
    }
    if (!managed.has(bucket)) {
      const firstRec = managed.get(first)!;
      managed.delete(first);
      managed.set(bucket, { ...firstRec, manager: ANCIENT_CHANGES, operation: 'Update', subresource: '' });
    }
    const b = managed.get(bucket)!;
    b.set = b.set.union(rec.set);
    b.time = rec.time;
    b.apiVersion = rec.apiVersion;
    if (id !== bucket) managed.delete(id);
    count--;
  }
}

/** The filter of paths an operation may own (kube's reset fields per subresource). */
function ownershipFilter(subresource: string | undefined, ignored: string[][] | undefined): (s: FieldSet) => FieldSet {
  const toPath = (p: string[]): FieldPath => p.map((f) => `f:${f}`);
  if (ignored) return (s) => s.withoutPrefixes(ignored.map(toPath));
  if (subresource === 'status') return (s) => s.onlyPrefixes([['f:status']]);
  return (s) => s.withoutPrefixes([['f:status']]);
}

function withoutManagedFields(obj: KObject): KObject {
  if (!isMap(obj.metadata) || !('managedFields' in obj.metadata)) return obj;
  const metadata = { ...obj.metadata };
  delete metadata.managedFields;
  return { ...obj, metadata };
}

function withManagedFields(obj: KObject, managed: Managed): KObject {
  const entries = encodeManagedFields(managed);
  const metadata = { ...(isMap(obj.metadata) ? obj.metadata : {}) };
  if (entries.length > 0) metadata.managedFields = entries;
  else delete metadata.managedFields;
  return { ...obj, metadata };
}

function gvkString(obj: KObject): string {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return `${group}/${version}, Kind=${typeof obj.kind === 'string' ? obj.kind : ''}`;
}

/**
 * Decodes an apply body: JSON, or YAML with Go's YAML 1.1 scalars (yes/no/on/off are
 * booleans; timestamps stay strings). Only the first document counts.
 */
export function decodeApplyBody(body: string | Uint8Array): KObject {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    try {
      const docs = parseAllDocuments(text, {
        version: '1.1',
        customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
      });
      const doc = Array.isArray(docs) ? docs[0] : docs;
      if (doc && doc.errors.length > 0) throw doc.errors[0];
      value = doc ? doc.toJS() : null;
    } catch (e) {
      throw ApiError.badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
  }
  if (value === null || value === undefined) return {};
  if (!isMap(value)) {
    const kind = Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value;
    throw ApiError.badRequest(
      `error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`,
    );
  }
  return value as KObject;
}

/**
 * Server-side apply of `applied` to `current` (undefined: the object is being created).
 * Returns the new object with metadata.managedFields updated. Throws 409 Conflict when
 * fields owned by other managers would change value and `force` is false.
 */
export function applyPatch(current: KObject | undefined, applied: KObject, opts: ApplyOptions): KObject {
  if (!opts.manager) {
    throw ApiError.invalid('PatchOptions', 'meta.k8s.io', '', [required('fieldManager', 'is required for apply requests')]);
  }
  if (!isMap(applied)) throw ApiError.badRequest('the apply configuration must be an object');
  if (isMap(applied.metadata) && applied.metadata.managedFields !== undefined && applied.metadata.managedFields !== null) {
    throw ApiError.badRequest('metadata.managedFields must be nil');
  }
  if (applied.apiVersion !== opts.apiVersion || (opts.kind !== undefined && applied.kind !== opts.kind)) {
    throw ApiError.badRequest(`invalid object type: ${gvkString(applied)}`);
  }
  const meta = opts.meta;
  const errors = validateApplied(applied, meta);
  if (errors.length > 0) {
    const detail = errors.length === 1 ? errors[0] : `errors:\n  ${errors.join('\n  ')}`;
    throw ApiError.badRequest(`failed to create typed patch object (${gvkString(applied)}): ${detail}`);
  }

  const filter = ownershipFilter(opts.subresource, opts.ignoredFields);
  const configSet = filter(toFieldSet(applied, meta));
  const self: ManagerRecord = {
    manager: opts.manager,
    operation: 'Apply',
    apiVersion: opts.apiVersion,
    subresource: opts.subresource ?? '',
    time: timestamp(opts.now),
    set: configSet.difference(STRIPPED),
  };
  const selfId = identifier(self);

  if (!current) {
    const created = mergeApplied({}, applied, meta) as KObject;
    return withManagedFields(created, new Map([[selfId, self]]));
  }

  let managed: Managed;
  try {
    managed = decodeManagedFields(current.metadata?.managedFields);
  } catch (e) {
    throw new ApiError(500, '', `failed to decode managed fields: ${(e as Error).message}`);
  }
  const live = withoutManagedFields(current);
  if (managed.size === 0) {
    // Objects that never had managedFields: everything they hold belongs to a placeholder updater.
    const seed: ManagerRecord = {
      manager: BEFORE_FIRST_APPLY,
      operation: 'Update',
      apiVersion: opts.apiVersion,
      subresource: '',
      time: timestamp(opts.now),
      set: filter(toFieldSet(live, meta)).difference(STRIPPED),
    };
    managed.set(identifier(seed), seed);
  }

  const previous = managed.get(selfId);
  const merged = mergeApplied(live, applied, meta) as KObject;
  const pruned = previous && !previous.set.empty() ? prune(merged, previous.set, managed, selfId, configSet, meta) : merged;

  const diff = compare(withoutEmptyMaps(live, meta), withoutEmptyMaps(pruned, meta), meta);
  const changed = filter(diff.modified.union(diff.added));
  const removed = filter(diff.removed);
  const conflicts: { rec: ManagerRecord; id: string; set: FieldSet }[] = [];
  for (const [id, rec] of managed) {
    if (id === selfId) continue;
    const overlap = rec.set.intersection(changed);
    if (!overlap.empty()) conflicts.push({ rec, id, set: overlap });
  }
  if (conflicts.length > 0 && !opts.force) throw conflictError(conflicts);
  for (const c of conflicts) c.rec.set = c.rec.set.difference(c.set);
  for (const [id, rec] of managed) {
    if (id === selfId) continue;
    rec.set = rec.set.difference(removed);
    if (rec.set.empty()) managed.delete(id);
  }

  const objectChanged = !deepEqual(live, pruned);
  self.time = objectChanged || !previous?.time ? timestamp(opts.now) : previous.time;
  managed.set(selfId, self);
  capUpdateManagers(managed);
  return withManagedFields(pruned, managed);
}

/**
 * Removes what the applier owned last time, no longer applies, and nobody else owns
 * (structured-merge-diff's prune). Whole struct fields go when nothing under them is owned.
 */
function prune(
  merged: KObject,
  lastSet: FieldSet,
  managed: Managed,
  selfId: string,
  configSet: FieldSet,
  meta: PatchMeta,
): KObject {
  let owned = configSet;
  for (const [id, rec] of managed) if (id !== selfId) owned = owned.union(rec.set);
  const removal = toFieldSet(merged, meta)
    .withNamedFieldsAsMembers()
    .difference(owned.withNamedFieldsAsMembers())
    .intersection(lastSet.withNamedFieldsAsMembers())
    .difference(STRIPPED);
  if (removal.empty()) return merged;
  return removeItems(merged, removal, meta) as KObject;
}

function conflictError(conflicts: { rec: ManagerRecord; id: string; set: FieldSet }[]): ApiError {
  conflicts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const flat = conflicts.flatMap((c) => c.set.paths().map((p) => ({ rec: c.rec, path: pathString(p) })));
  const causes: StatusCause[] = flat.map((f) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(f.rec)}`,
    field: f.path,
  }));
  let message: string;
  if (flat.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(flat[0].rec)}: ${flat[0].path}`;
  } else {
    const lines: string[] = [];
    for (const c of conflicts) {
      lines.push(`conflicts with ${printManager(c.rec)}:`);
      for (const p of c.set.paths()) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${flat.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

/**
 * managedFields bookkeeping of a create (old undefined), update or non-apply patch:
 * the fields that changed become `manager`'s (operation Update) and leave every other
 * manager's set. A request whose managedFields is `[{}]` strips them entirely; a request
 * carrying other managedFields replaces the live ones (kubectl's apply migration).
 */
export function updateManagedFields(old: KObject | undefined, updated: KObject, opts: UpdateOptions): KObject {
  const meta = opts.meta ?? patchMetaFor(updated);
  const requested = updated.metadata?.managedFields as unknown;
  if (Array.isArray(requested) && requested.length === 1 && isMap(requested[0]) && Object.keys(requested[0]).length === 0) {
    return withoutManagedFields(updated);
  }
  let managed: Managed | undefined;
  if (!opts.subresource) {
    try {
      const fromRequest = decodeManagedFields(requested);
      if (fromRequest.size > 0) managed = fromRequest;
    } catch {
      // Clients that mangle managedFields get the live ones back, as kube does.
    }
  }
  if (!managed) {
    try {
      managed = decodeManagedFields(old?.metadata?.managedFields);
    } catch (e) {
      throw new ApiError(500, '', `failed to decode managed fields: ${(e as Error).message}`);
    }
  }

  const filter = ownershipFilter(opts.subresource, opts.ignoredFields);
  const before = old ? withoutManagedFields(old) : meta.zeroValue();
  const after = withoutManagedFields(updated);
  const diff = compare(withoutEmptyMaps(before, meta), withoutEmptyMaps(after, meta), meta);
  const changed = filter(diff.modified.union(diff.added));
  const removed = filter(diff.removed);
  for (const [id, rec] of managed) {
    rec.set = rec.set.difference(changed).difference(removed);
    if (rec.set.empty()) managed.delete(id);
  }
  const owned = changed.difference(STRIPPED);
  if (!owned.empty()) {
    const rec: ManagerRecord = {
      manager: opts.manager,
      operation: 'Update',
      apiVersion: opts.apiVersion,
      subresource: opts.subresource ?? '',
      time: timestamp(opts.now),
      set: owned,
    };
    const id = identifier(rec);
    const prev = managed.get(id);
    if (prev) rec.set = rec.set.union(prev.set);
    managed.set(id, rec);
  }
  capUpdateManagers(managed);
  return withManagedFields(after, managed);
}

/** The paths a managedFields entry owns, as kube prints them (".spec.replicas"), for diagnostics. */
export function ownedPaths(entry: ManagedFieldsEntry): string[] {
  return FieldSet.fromFieldsV1(entry.fieldsV1 ?? {})
    .paths()
    .map((p) => pathString(p));
}

