/**
 * @module The generic registry store: every verb of every kind runs through this one
 * pipeline (kube-apiserver's genericregistry.Store + rest.BeforeCreate/BeforeUpdate),
 * calling the kind's strategy from its ResourceDef. HTTP knows nothing of storage and
 * this file knows nothing of HTTP.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ApiError, type FieldError } from '../api/errors.js';
import type { KObject, ResourceDef, StrategyContext } from '../api/types.js';
import { apiVersionOf, storageOf } from '../api/types.js';
import { validateObjectMeta } from '../api/validation.js';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type KeyValue,
  type Store,
  type WatchEvent,
  type Watcher,
} from '../storage/store.js';
import type { ResourceRegistry } from './registry.js';
import { compileSelectors, type CompiledSelectors } from './selection.js';
import { applyPatchBody, recordManagedFields, type PatchType } from './patching.js';

export type Clock = () => Date;

/** Per-request options that shape a write, from query parameters and the user. */
export interface WriteContext {
  dryRun: boolean;
  /** The fieldManager query parameter, or the one derived from the User-Agent. */
  fieldManager: string;
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  /** Warnings to send back as `Warning: 299 - "..."` headers. */
  warnings: string[];
  /**
   * In-process components (loopback clients) hand over objects that were never JSON text:
   * there is nothing to decode, so the schema walk is skipped.
   */
  trusted?: boolean;
}

export interface ListParams {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface WatchParams extends ListParams {
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  orphanDependents?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ApiWatchEvent {
  type: WatchEventType;
  object: KObject;
}

/**
 * Side effects a resource's storage adds around writes (kube's BeginCreate / BeginUpdate /
 * AfterDelete), e.g. the Service ClusterIP and NodePort allocators. `begin*` runs after
 * validation and before the store write, may fill in fields, throws an ApiError to refuse;
 * the returned function is told whether the write happened (commit or revert).
 */
export interface StorageHooks {
  beginCreate?(obj: KObject, dryRun: boolean): (success: boolean) => void;
  beginUpdate?(obj: KObject, old: KObject, dryRun: boolean): (success: boolean) => void;
  /** The object is gone from the store. */
  afterDelete?(obj: KObject): void;
}

/** Unknown-field checks against the kind's schema (OpenAPI); returns paths like "spec.x". */
export type UnknownFieldChecker = (def: ResourceDef, obj: KObject, prune: boolean) => string[];

const maxUpdateRetries = 5;
const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** kube's optimistic-concurrency 409: the object changed since the client (or our read) saw it. */
function modifiedConflict(def: ResourceDef, name: string): ApiError {
  return ApiError.conflict(def.plural, def.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
}

export class RestStorage {
  unknownFields?: UnknownFieldChecker;
  /** Per-resource write hooks (see StorageHooks). */
  readonly hooks = new Map<ResourceDef, StorageHooks>();

  constructor(
    private readonly store: Store,
    readonly registry: ResourceRegistry,
    private readonly clock: Clock,
  ) {}

  // ---- encoding between served versions and storage ----

  decode(def: ResourceDef, kv: KeyValue): KObject {
    let obj = JSON.parse(kv.value) as KObject;
    obj.metadata ??= {};
    obj.metadata.resourceVersion = String(kv.modRevision);
    const storageVersion = storageOf(def).version;
    if (def.fromStorage && storageVersion !== apiVersionOf(def)) obj = def.fromStorage(obj);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    return obj;
  }

  private converts(def: ResourceDef): boolean {
    return !!def.toStorage && storageOf(def).version !== apiVersionOf(def);
  }

  /** Storage bytes: the storage version, without resourceVersion (the store's revision is the truth). */
  private encode(def: ResourceDef, obj: KObject): string {
    if (this.converts(def)) {
      const out = def.toStorage!(clone(obj));
      if (out.metadata) delete out.metadata.resourceVersion;
      return JSON.stringify(out);
    }
    const meta = obj.metadata;
    const rv = meta?.resourceVersion;
    if (meta) delete meta.resourceVersion;
    try {
      return JSON.stringify(obj);
    } finally {
      if (meta && rv !== undefined) meta.resourceVersion = rv;
    }
  }

  /** The object as written: the caller's own copy with the new revision, unless conversion applies. */
  private written(def: ResourceDef, obj: KObject, kv: KeyValue): KObject {
    if (this.converts(def)) return this.decode(def, kv);
    obj.metadata ??= {};
    obj.metadata.resourceVersion = String(kv.modRevision);
    return obj;
  }

  private key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return this.registry.storageKey(def, namespace, name);
  }

  private strategyContext(subresource: string): StrategyContext {
    return { now: this.clock(), subresource };
  }

  // ---- reads ----

  async get(def: ResourceDef, namespace: string | undefined, name: string): Promise<KObject> {
    const kv = await this.store.get(this.key(def, namespace, name));
    if (!kv) throw ApiError.notFound(def.plural, def.group, name);
    return this.decode(def, kv);
  }

  async list(def: ResourceDef, namespace: string | undefined, params: ListParams): Promise<KObject> {
    const selectors = compileSelectors(def, params.labelSelector, params.fieldSelector);
    const prefix = this.registry.storageKeyPrefix(def, namespace);
    const limit = params.limit && params.limit > 0 ? params.limit : 0;
    let startAfter: string | undefined;
    let revision = 0;
    if (params.continue) {
      if (params.resourceVersion && params.resourceVersion !== '0')
        throw ApiError.badRequest('specifying resource version is not allowed when using continue');
      const token = decodeContinue(params.continue);
      startAfter = prefix + token.start;
      // rv -1: the inconsistent continuation handed out with a 410 reads the latest state.
      revision = token.rv < 0 ? 0 : token.rv;
    } else if (params.resourceVersionMatch === 'Exact' && params.resourceVersion) {
      revision = Number(params.resourceVersion);
      if (!Number.isInteger(revision) || revision < 0) throw ApiError.badRequest(`invalid resource version: ${params.resourceVersion}`);
    }
    const items: KObject[] = [];
    let more = false;
    let remaining: number | undefined;
    let lastKey: string | undefined;
    let readRevision = 0;
    // With selectors the limit counts matching objects, so keep reading chunks at one revision.
    const chunk = limit ? Math.max(limit, selectors.trivial ? limit : 500) : 0;
    for (;;) {
      let page;
      try {
        page = await this.store.list(prefix, { limit: chunk || undefined, startAfter, revision: revision || undefined });
      } catch (e) {
        if (e instanceof CompactedError) {
          if (params.continue)
            throw new ApiError(
              410,
              'Expired',
              'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
              undefined,
              { continue: encodeContinue(-1, startAfter!.slice(prefix.length)) },
            );
          throw ApiError.gone('The resourceVersion for the provided list is too old.');
        }
        if (e instanceof FutureRevisionError) throw new ApiError(504, 'Timeout', `Too large resource version: ${revision}, current: ${e.current}`);
        throw e;
      }
      readRevision = page.revision;
      revision = page.revision;
      let stoppedEarly = false;
      for (const kv of page.items) {
        lastKey = kv.key;
        const obj = this.decode(def, kv);
        if (!selectors.matches(obj)) continue;
        items.push(obj);
        if (limit && items.length >= limit) {
          stoppedEarly = kv !== page.items[page.items.length - 1] || page.more;
          break;
        }
      }
      if (limit && items.length >= limit) {
        more = stoppedEarly;
        if (more && selectors.trivial && kvIsLast(page, lastKey)) remaining = page.remaining;
        break;
      }
      if (!page.more || !chunk) break;
      startAfter = lastKey;
    }
    const metadata: Record<string, unknown> = { resourceVersion: String(readRevision) };
    if (more && lastKey) {
      metadata.continue = encodeContinue(readRevision, lastKey.slice(prefix.length));
      if (remaining !== undefined) metadata.remainingItemCount = remaining;
    }
    for (const item of items) {
      delete item.apiVersion;
      delete item.kind;
    }
    return { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata, items };
  }

  // ---- watch ----

  /**
   * Streams events to `send` until the returned watcher is cancelled or `onEnd` fires
   * (store error). Initial state arrives as ADDED events when no resourceVersion (or "0")
   * is given, as kube-apiserver does.
   */
  async watch(
    def: ResourceDef,
    namespace: string | undefined,
    params: WatchParams,
    send: (ev: ApiWatchEvent) => void,
    onEnd: (err?: Error) => void,
  ): Promise<Watcher> {
    const selectors = compileSelectors(def, params.labelSelector, params.fieldSelector);
    const prefix = this.registry.storageKeyPrefix(def, namespace);
    const rv = params.resourceVersion;
    let after: number;
    let lastRevision: number;
    const initial = rv === undefined || rv === '' || rv === '0' || params.sendInitialEvents === true;
    if (initial) {
      const page = await this.store.list(prefix);
      for (const kv of page.items) {
        const obj = this.decode(def, kv);
        if (selectors.matches(obj)) send({ type: 'ADDED', object: obj });
      }
      after = page.revision;
      if (params.sendInitialEvents && params.allowWatchBookmarks)
        send({
          type: 'BOOKMARK',
          object: {
            kind: def.kind,
            apiVersion: apiVersionOf(def),
            metadata: { resourceVersion: String(after), annotations: { 'k8s.io/initial-events-end': 'true' } },
          },
        });
    } else {
      after = Number(rv);
      if (!Number.isInteger(after) || after < 0) throw ApiError.badRequest(`invalid resource version: ${rv}`);
    }
    lastRevision = after;
    const onEvents = (events: WatchEvent[]) => {
      for (const ev of events) {
        const out = this.toApiEvent(def, ev, selectors);
        lastRevision = ev.kv.modRevision;
        if (out) send(out);
      }
    };
    // The store reports a compacted start revision through onError; kube-apiserver answers
    // that with an ERROR event carrying 410 Expired, then ends the stream.
    const watcher = this.store.watch(prefix, {
      afterRevision: after,
      onEvents,
      onError: (err) => {
        if (err instanceof CompactedError)
          send({ type: 'ERROR', object: new ApiError(410, 'Expired', `too old resource version: ${after} (${err.compacted})`).toStatus() });
        onEnd(err instanceof CompactedError ? undefined : err);
      },
    });
    let bookmarkTimer: NodeJS.Timeout | undefined;
    if (params.allowWatchBookmarks) {
      bookmarkTimer = setInterval(() => {
        send({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(lastRevision) } } });
      }, 60_000);
      bookmarkTimer.unref();
    }
    return {
      cancel() {
        if (bookmarkTimer) clearInterval(bookmarkTimer);
        watcher.cancel();
      },
    };
  }

  private toApiEvent(def: ResourceDef, ev: WatchEvent, selectors: CompiledSelectors): ApiWatchEvent | undefined {
    // Without selectors only the previous value's existence matters: decoding it for every
    // watcher of every write was a tenth of the CPU of a busy scheduling run.
    if (selectors.trivial && ev.type !== 'delete') return { type: ev.prevKv ? 'MODIFIED' : 'ADDED', object: this.decode(def, ev.kv) };
    const prev = ev.prevKv ? this.decode(def, ev.prevKv) : undefined;
    const prevMatch = prev ? selectors.matches(prev) : false;
    if (ev.type === 'delete') {
      if (!prev || !prevMatch) return undefined;
      // The deleted object carries the revision of its deletion, as kube-apiserver's watch does.
      prev.metadata!.resourceVersion = String(ev.kv.modRevision);
      return { type: 'DELETED', object: prev };
    }
    const obj = this.decode(def, ev.kv);
    const match = selectors.matches(obj);
    if (match && prevMatch) return { type: 'MODIFIED', object: obj };
    if (match) return { type: 'ADDED', object: obj };
    if (prevMatch) {
      // Leaving the selector: the last state that matched, stamped with the new revision.
      prev!.metadata!.resourceVersion = String(ev.kv.modRevision);
      return { type: 'DELETED', object: prev! };
    }
    return undefined;
  }

  // ---- create ----

  async create(def: ResourceDef, namespace: string | undefined, input: KObject, ctx: WriteContext, managedByApply = false): Promise<KObject> {
    const obj = this.admitForCreate(def, namespace, input, ctx, managedByApply);
    if (def.namespaced) await this.checkNamespace(obj.metadata!.namespace!);
    const finish = this.hooks.get(def)?.beginCreate?.(obj, ctx.dryRun);
    if (!finish) return this.persistNew(def, obj, ctx);
    let ok = false;
    try {
      const out = await this.persistNew(def, obj, ctx);
      ok = true;
      return out;
    } finally {
      finish(ok);
    }
  }

  /**
   * BeforeCreate: identity checks, server-set metadata, defaults, PrepareForCreate,
   * validation. Takes ownership of `obj` (request bodies are decoded fresh per request).
   */
  private admitForCreate(def: ResourceDef, namespace: string | undefined, obj: KObject, ctx: WriteContext, managedByApply: boolean): KObject {
    this.checkTypeMeta(def, obj);
    // Decoding comes first: wrong JSON types fail before anything reads the object.
    this.validateFields(def, obj, ctx);
    obj.metadata ??= {};
    const meta = obj.metadata;
    omitEmptyLists(meta);
    if (def.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace)
        throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = namespace ?? meta.namespace;
    } else if (meta.namespace) {
      // Cluster-scoped objects silently drop a namespace, as kube-apiserver does.
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) {
      // SimpleNameGenerator: the base is cut to 58 characters so the name stays within 63.
      meta.name = meta.generateName.slice(0, 58) + randomSuffix(5);
    }
    if (meta.resourceVersion) throw new ApiError(500, '', 'resourceVersion should not be set on objects to be created');
    const now = this.clock();
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(now);
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    delete meta.selfLink;
    if (def.tracksGeneration !== false && 'spec' in obj) meta.generation = 1;
    else delete meta.generation;
    def.defaults?.(obj);
    def.prepareForCreate?.(obj, this.strategyContext(''));
    const errs: FieldError[] = [...validateObjectMeta(meta, def.namespaced, nameValidatorFor(def)), ...(def.validate?.(obj) ?? [])];
    if (errs.length) throw ApiError.invalid(def.kind, def.group, meta.name ?? meta.generateName ?? '', errs);
    if (!managedByApply)
      recordManagedFields(undefined, obj, { manager: ctx.fieldManager, operation: 'Update', apiVersion: apiVersionOf(def), now, subresource: '' });
    return obj;
  }

  private async persistNew(def: ResourceDef, obj: KObject, ctx: WriteContext): Promise<KObject> {
    const name = obj.metadata!.name!;
    const key = this.key(def, obj.metadata!.namespace, name);
    if (ctx.dryRun) {
      if (await this.store.get(key)) throw ApiError.alreadyExists(def.plural, def.group, name);
      return obj;
    }
    try {
      const kv = await this.store.create(key, this.encode(def, obj));
      return this.written(def, obj, kv);
    } catch (e) {
      if (e instanceof KeyExistsError) throw ApiError.alreadyExists(def.plural, def.group, name);
      throw e;
    }
  }

  private checkTypeMeta(def: ResourceDef, obj: KObject): void {
    const expected = apiVersionOf(def);
    if (obj.apiVersion && obj.apiVersion !== expected) {
      // Served versions of one storage resource accept each other's objects only through conversion.
      throw ApiError.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
    }
    if (obj.kind && obj.kind !== def.kind) throw ApiError.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${def.kind})`);
    obj.apiVersion = expected;
    obj.kind = def.kind;
  }

  /**
   * Decoding as kube-apiserver's typed decoder: wrong JSON types always fail; unknown fields
   * fail under Strict and are dropped otherwise (with a warning under Warn), so they never
   * reach storage.
   */
  private validateFields(def: ResourceDef, obj: KObject, ctx: WriteContext): void {
    if (!this.unknownFields || ctx.trusted) return;
    const unknown = this.unknownFields(def, obj, ctx.fieldValidation !== 'Strict');
    if (!unknown.length || ctx.fieldValidation === 'Ignore') return;
    if (ctx.fieldValidation === 'Strict')
      throw ApiError.badRequest(
        `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`,
      );
    for (const f of unknown) ctx.warnings.push(`unknown field "${f}"`);
  }

  private async checkNamespace(namespace: string): Promise<void> {
    const kv = await this.store.get(`/registry/namespaces/${namespace}`);
    if (!kv) throw ApiError.notFound('namespaces', '', namespace);
    // Parsing every namespace on every create is measurable; only a terminating one needs it.
    if (!kv.value.includes('deletionTimestamp') && !kv.value.includes('Terminating')) return;
    const ns = JSON.parse(kv.value) as KObject;
    if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating')
      throw new ApiError(
        403,
        'Forbidden',
        `unable to create new content in namespace ${namespace} because it is being terminated`,
        { causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }] },
      );
  }

  // ---- update / patch ----

  /** PUT: replace the object (or its status), with optimistic concurrency on metadata.resourceVersion. */
  async update(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    input: KObject,
    ctx: WriteContext,
    subresource: '' | 'status' | 'finalize' = '',
  ): Promise<KObject> {
    const obj = clone(input);
    this.checkTypeMeta(def, obj);
    this.validateFields(def, obj, ctx);
    obj.metadata ??= {};
    if (obj.metadata.name && obj.metadata.name !== name)
      throw ApiError.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    if (def.namespaced && obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace)
      throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    obj.metadata.name = name;
    if (def.namespaced) obj.metadata.namespace = namespace;
    const wantedRv = obj.metadata.resourceVersion;
    const wantedUid = obj.metadata.uid;
    return this.guaranteedUpdate(def, namespace, name, ctx, subresource, wantedRv || undefined, (current) => {
      // A uid in the body is a precondition (kube's defaultUpdatedObjectInfo).
      if (wantedUid && wantedUid !== current.metadata!.uid)
        throw ApiError.conflict(def.plural, def.group, name, `Precondition failed: UID in precondition: ${wantedUid}, UID in object meta: ${current.metadata!.uid}`);
      return obj;
    });
  }

  async patch(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    patchType: PatchType,
    body: Buffer,
    ctx: WriteContext,
    subresource: '' | 'status' = '',
    force = false,
  ): Promise<{ object: KObject; created: boolean }> {
    const key = this.key(def, namespace, name);
    if (patchType === 'apply') {
      const exists = await this.store.get(key);
      if (!exists) {
        if (subresource) throw ApiError.notFound(def.plural, def.group, name);
        const applied = applyPatchBody(def, 'apply', undefined, body, { manager: ctx.fieldManager, force, now: this.clock() });
        applied.metadata ??= {};
        if (applied.metadata.name && applied.metadata.name !== name)
          throw ApiError.badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
        applied.metadata.name = name;
        try {
          return { object: await this.create(def, namespace, applied, ctx, true), created: true };
        } catch (e) {
          if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
          // Lost a create race: fall through and apply onto the winner.
        }
      }
    }
    const object = await this.guaranteedUpdate(def, namespace, name, ctx, subresource, undefined, (current) => {
      const patched = applyPatchBody(def, patchType, current, body, { manager: ctx.fieldManager, force, now: this.clock(), subresource });
      this.validateFields(def, patched, ctx);
      patched.metadata ??= {};
      if (patched.metadata.uid && patched.metadata.uid !== current.metadata!.uid)
        throw ApiError.invalid(def.kind, def.group, name, [{ type: 'FieldValueInvalid', field: 'metadata.uid', value: patched.metadata.uid, detail: 'field is immutable' }]);
      // A resourceVersion inside a patch is a precondition (kube-apiserver's patcher).
      const rv = patched.metadata.resourceVersion;
      if (rv && rv !== current.metadata!.resourceVersion) {
        throw modifiedConflict(def, name);
      }
      if (patched.metadata.name && patched.metadata.name !== name)
        throw ApiError.badRequest(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`);
      patched.metadata.name = name;
      if (def.namespaced) patched.metadata.namespace = namespace;
      patched.apiVersion = apiVersionOf(def);
      patched.kind = def.kind;
      return patched;
    }, patchType === 'apply');
    return { object, created: false };
  }

  /**
   * kube-apiserver's GuaranteedUpdate: read, transform, compare-and-swap, retrying on a
   * conflict unless the client pinned a resourceVersion.
   */
  private async guaranteedUpdate(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    ctx: WriteContext,
    subresource: '' | 'status' | 'scale' | 'finalize',
    preconditionRv: string | undefined,
    transform: (current: KObject) => KObject,
    managedByApply = false,
  ): Promise<KObject> {
    const key = this.key(def, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw ApiError.notFound(def.plural, def.group, name);
      const old = this.decode(def, kv);
      if (preconditionRv !== undefined && preconditionRv !== old.metadata!.resourceVersion)
        throw modifiedConflict(def, name);
      // A second decode is the cheapest private copy for the transform to change.
      const next = this.admitForUpdate(def, old, transform(this.decode(def, kv)), ctx, subresource, managedByApply);
      const hooks = subresource === '' ? this.hooks.get(def) : undefined;
      const finish = hooks?.beginUpdate?.(next, old, ctx.dryRun);
      let ok = false;
      if (sameObject(old, next)) {
        finish?.(true);
        return old;
      }
      if (ctx.dryRun) {
        finish?.(true);
        return next;
      }
      try {
        // An update that removes the last finalizer of an object being deleted completes the
        // deletion (for a namespace, spec.finalizers too: the namespace controller's finalize).
        // A pod still inside its grace period waits for the kubelet's delete (grace 0).
        if (
          next.metadata?.deletionTimestamp &&
          !next.metadata.finalizers?.length &&
          !(def.isNamespace && next.spec?.finalizers?.length) &&
          !(next.metadata.deletionGracePeriodSeconds ?? 0)
        ) {
          const deleted = await this.store.delete(key, kv.modRevision);
          const out = this.decode(def, { ...deleted, value: this.encode(def, next) });
          finish?.(false);
          hooks?.afterDelete?.(old);
          ok = true;
          return out;
        }
        const written = await this.store.update(key, this.encode(def, next), kv.modRevision);
        ok = true;
        finish?.(true);
        return this.written(def, next, written);
      } catch (e) {
        if (!ok) finish?.(false);
        if (e instanceof ConflictError && preconditionRv === undefined && attempt < maxUpdateRetries) continue;
        if (e instanceof ConflictError)
          throw modifiedConflict(def, name);
        if (e instanceof KeyNotFoundError) throw ApiError.notFound(def.plural, def.group, name);
        throw e;
      }
    }
  }

  /** BeforeUpdate: keep what the client may not change, strategy, generation, validation. */
  private admitForUpdate(
    def: ResourceDef,
    old: KObject,
    obj: KObject,
    ctx: WriteContext,
    subresource: '' | 'status' | 'scale' | 'finalize',
    managedByApply: boolean,
  ): KObject {
    obj.metadata ??= {};
    const meta = obj.metadata;
    const oldMeta = old.metadata!;
    if (oldMeta.deletionTimestamp) {
      const before = new Set(oldMeta.finalizers ?? []);
      const added = (meta.finalizers ?? []).filter((f) => !before.has(f));
      if (added.length)
        throw ApiError.invalid(def.kind, def.group, oldMeta.name ?? '', [
          {
            type: 'FieldValueForbidden',
            field: 'metadata.finalizers',
            detail: `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
          },
        ]);
    }
    omitEmptyLists(meta);
    // Server-owned metadata is never taken from the client.
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    meta.deletionTimestamp = oldMeta.deletionTimestamp;
    meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
    if (meta.deletionTimestamp === undefined) delete meta.deletionTimestamp;
    if (meta.deletionGracePeriodSeconds === undefined) delete meta.deletionGracePeriodSeconds;
    meta.generation = oldMeta.generation;
    if (meta.generation === undefined) delete meta.generation;
    if (oldMeta.generateName && meta.generateName === undefined) meta.generateName = oldMeta.generateName;
    if (subresource === 'status') {
      // The status subresource changes status only (and keeps the rest of the stored object).
      const status = obj.status;
      const next = clone(old);
      if (status === undefined) delete next.status;
      else next.status = status;
      next.metadata!.managedFields = meta.managedFields ?? oldMeta.managedFields;
      // Status strategies reset spec and labels but let annotations through (the deployment
      // controller records deployment.kubernetes.io/revision this way).
      if (meta.annotations === undefined) delete next.metadata!.annotations;
      else next.metadata!.annotations = meta.annotations;
      obj = next;
    } else if (def.subresources?.status) {
      if (old.status === undefined) delete obj.status;
      else obj.status = clone(old.status);
    }
    def.defaults?.(obj);
    def.prepareForUpdate?.(obj, old, this.strategyContext(subresource));
    if (subresource !== 'status' && def.tracksGeneration !== false && obj.metadata!.generation !== undefined && specChanged(old, obj))
      obj.metadata!.generation = (old.metadata!.generation ?? 0) + 1;
    const errs: FieldError[] = [
      ...validateObjectMeta(obj.metadata, def.namespaced, nameValidatorFor(def)),
      ...(def.validate?.(obj) ?? []),
      ...(def.validateUpdate?.(obj, old) ?? []),
    ];
    if (errs.length) throw ApiError.invalid(def.kind, def.group, obj.metadata!.name ?? '', errs);
    if (!managedByApply && !sameObject(old, obj))
      recordManagedFields(old, obj, {
        manager: ctx.fieldManager,
        operation: 'Update',
        apiVersion: apiVersionOf(def),
        now: this.clock(),
        subresource,
      });
    return obj;
  }

  /**
   * Read-modify-write of the stored object without the kind's strategy, for server-side
   * subresources that own one field (kube's pods/binding assignPod). Retries on conflict.
   */
  async mutateStored(def: ResourceDef, namespace: string | undefined, name: string, dryRun: boolean, mutate: (obj: KObject) => void): Promise<KObject> {
    const key = this.key(def, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw ApiError.notFound(def.plural, def.group, name);
      const obj = this.decode(def, kv);
      mutate(obj);
      if (dryRun) return obj;
      try {
        return this.decode(def, await this.store.update(key, this.encode(def, obj), kv.modRevision));
      } catch (e) {
        if (e instanceof ConflictError && attempt < maxUpdateRetries) continue;
        throw e;
      }
    }
  }

  // ---- scale subresource ----

  async getScale(def: ResourceDef, namespace: string | undefined, name: string): Promise<KObject> {
    return toScale(def, await this.get(def, namespace, name));
  }

  /** Writes spec.replicas of the parent from a Scale object (PUT) or a patch of the Scale. */
  async updateScale(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    ctx: WriteContext,
    change: (scale: KObject) => KObject,
  ): Promise<KObject> {
    const scaleDef = def.subresources?.scale;
    if (!scaleDef) throw ApiError.notFound(def.plural, def.group, name);
    const updated = await this.guaranteedUpdate(def, namespace, name, ctx, 'scale', undefined, (current) => {
      const scale = change(toScale(def, current));
      const replicas = scale.spec?.replicas;
      if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== current.metadata!.resourceVersion) {
        throw modifiedConflict(def, name);
      }
      if (typeof replicas !== 'number' || !Number.isInteger(replicas))
        throw ApiError.invalid('Scale', 'autoscaling', name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be an integer' }]);
      if (replicas < 0)
        throw ApiError.invalid('Scale', 'autoscaling', name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' }]);
      setPath(current, scaleDef.specReplicasPath, replicas);
      return current;
    });
    return toScale(def, updated);
  }

  // ---- delete ----

  /**
   * DELETE: immediate when nothing holds the object; otherwise sets deletionTimestamp and
   * leaves the object to its finalizers (202) or, for a pod on a node, to the kubelet's
   * graceful termination (200).
   */
  async delete(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
    ctx: WriteContext,
  ): Promise<{ code: number; body: KObject }> {
    const key = this.key(def, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw ApiError.notFound(def.plural, def.group, name);
      const obj = this.decode(def, kv);
      const meta = obj.metadata!;
      const pre = opts.preconditions;
      // rest.BeforeDelete names the Kind (with its group), not the resource.
      if (pre?.uid && pre.uid !== meta.uid)
        throw ApiError.conflict(
          def.kind,
          def.group,
          name,
          `the UID in the precondition (${pre.uid}) does not match the UID in record (${meta.uid}). The object might have been deleted and then recreated`,
        );
      if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion)
        throw ApiError.conflict(
          def.kind,
          def.group,
          name,
          `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${meta.resourceVersion}). The object might have been modified`,
        );
      const policy = opts.propagationPolicy ?? (opts.orphanDependents ? 'Orphan' : undefined);
      const finalizers = new Set(meta.finalizers ?? []);
      if (policy === 'Foreground') {
        finalizers.add('foregroundDeletion');
        finalizers.delete('orphan');
      } else if (policy === 'Orphan') {
        finalizers.add('orphan');
        finalizers.delete('foregroundDeletion');
      } else if (policy === 'Background') {
        finalizers.delete('orphan');
        finalizers.delete('foregroundDeletion');
      }
      const grace = this.gracePeriod(def, obj, opts);
      // A namespace waits Terminating for its spec.finalizers (the namespace controller empties it).
      const graceful = grace > 0 || (!!def.isNamespace && (obj.spec?.finalizers?.length ?? 0) > 0);
      if (finalizers.size > 0 || graceful) {
        const next = clone(obj);
        const now = this.clock();
        if (!next.metadata!.deletionTimestamp) {
          next.metadata!.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
          next.metadata!.deletionGracePeriodSeconds = grace;
        } else if ((next.metadata!.deletionGracePeriodSeconds ?? Infinity) > grace) {
          // A second delete may shorten the grace period (to 0: the kubelet is done), never extend it.
          next.metadata!.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
          next.metadata!.deletionGracePeriodSeconds = grace;
        }
        next.metadata!.finalizers = [...finalizers];
        if (!next.metadata!.finalizers.length) delete next.metadata!.finalizers;
        if (def.isNamespace) next.status = { ...(next.status ?? {}), phase: 'Terminating' };
        // handlers/delete.go answers 202 only when orphanDependents=false was asked for.
        const code = !graceful && opts.orphanDependents === false ? 202 : 200;
        if (ctx.dryRun) return { code, body: next };
        if (sameObject(obj, next)) return { code, body: obj };
        try {
          const written = await this.store.update(key, this.encode(def, next), kv.modRevision);
          return { code, body: this.decode(def, written) };
        } catch (e) {
          if (e instanceof ConflictError && attempt < maxUpdateRetries) continue;
          throw e;
        }
      }
      if (ctx.dryRun) return { code: 200, body: this.deletedResponse(def, obj) };
      try {
        const deleted = await this.store.delete(key, kv.modRevision);
        const last = this.decode(def, { ...deleted, value: deleted.value || kv.value });
        this.hooks.get(def)?.afterDelete?.(last);
        return { code: 200, body: this.deletedResponse(def, last) };
      } catch (e) {
        if (e instanceof ConflictError && attempt < maxUpdateRetries) continue;
        if (e instanceof KeyNotFoundError) throw ApiError.notFound(def.plural, def.group, name);
        throw e;
      }
    }
  }

  /** Pods bound to a node terminate gracefully (the kubelet finishes the delete); everything else at once. */
  private gracePeriod(def: ResourceDef, obj: KObject, opts: DeleteOptions): number {
    if (def.group !== '' || def.kind !== 'Pod') return 0;
    if (!obj.spec?.nodeName) return 0;
    const phase = obj.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    const g = opts.gracePeriodSeconds ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  }

  private deletedResponse(def: ResourceDef, obj: KObject): KObject {
    // kube-apiserver returns the deleted object for pods and a Status for most other kinds.
    if (def.group === '' && def.kind === 'Pod') return obj;
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: obj.metadata?.name, group: def.group || undefined, kind: def.plural, uid: obj.metadata?.uid },
    };
  }

  async deleteCollection(
    def: ResourceDef,
    namespace: string | undefined,
    params: ListParams,
    opts: DeleteOptions,
    ctx: WriteContext,
  ): Promise<KObject> {
    const list = await this.list(def, namespace, { labelSelector: params.labelSelector, fieldSelector: params.fieldSelector });
    const deleted: KObject[] = [];
    for (const item of list.items as KObject[]) {
      try {
        const r = await this.delete(def, item.metadata?.namespace ?? namespace, item.metadata!.name!, opts, ctx);
        deleted.push(r.body.kind === 'Status' ? item : r.body);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    for (const d of deleted) {
      delete d.apiVersion;
      delete d.kind;
    }
    return { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: list.metadata?.resourceVersion }, items: deleted };
  }
}

// ---- helpers ----

function kvIsLast(page: { items: KeyValue[] }, lastKey: string | undefined): boolean {
  return page.items.length > 0 && page.items[page.items.length - 1].key === lastKey;
}

/** Go's omitempty: empty finalizer and ownerReference lists are not stored. */
function omitEmptyLists(meta: KObject['metadata']): void {
  if (!meta) return;
  if (Array.isArray(meta.finalizers) && meta.finalizers.length === 0) delete meta.finalizers;
  if (Array.isArray(meta.ownerReferences) && meta.ownerReferences.length === 0) delete meta.ownerReferences;
}

function randomSuffix(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += generateNameAlphabet[bytes[i] % generateNameAlphabet.length];
  return s;
}

function nameValidatorFor(def: ResourceDef): ((name: string) => string[]) | undefined {
  return def.nameValidator;
}

export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${start}\u0000` })).toString('base64');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad');
    return { rv: t.rv, start: t.start.replace(/\u0000$/, '') };
  } catch {
    throw ApiError.badRequest('invalid continue token: continue key is not valid: illegal base64 data at input byte 0');
  }
}

/** Equality ignoring managedFields timestamps and resourceVersion (a no-op write is not written). */
function sameObject(a: KObject, b: KObject): boolean {
  return jsonEqual(stripVolatile(a), stripVolatile(b));
}

function stripVolatile(o: KObject): KObject {
  const c = { ...o, metadata: { ...(o.metadata ?? {}) } };
  delete c.metadata.resourceVersion;
  if (c.metadata.managedFields)
    c.metadata.managedFields = (c.metadata.managedFields as Array<Record<string, unknown>>).map((m) => ({ ...m, time: undefined }));
  return c;
}


const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Equality of the canonical JSON texts (sorted keys) without building the strings (two of them
 * per update were a tenth of a busy server's CPU): keys whose value is undefined do not
 * count, undefined array items equal null, primitives compare as their JSON text.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const aObject = a !== null && typeof a === 'object';
  const bObject = b !== null && typeof b === 'object';
  if (!aObject || !bObject) return !aObject && !bObject && (JSON.stringify(a) ?? 'null') === (JSON.stringify(b) ?? 'null');
  const aArray = Array.isArray(a);
  if (aArray !== Array.isArray(b)) return false;
  if (aArray) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!jsonEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const k of Object.keys(x)) {
    if (x[k] === undefined) continue;
    defined++;
    if (!hasOwn.call(y, k) || y[k] === undefined || !jsonEqual(x[k], y[k])) return false;
  }
  for (const k of Object.keys(y)) if (y[k] !== undefined) defined--;
  return defined === 0;
}

/** Generation moves when anything but metadata and status changes. */
function specChanged(old: KObject, obj: KObject): boolean {
  const strip = (o: KObject) => {
    const c: Record<string, unknown> = { ...o };
    delete c.metadata;
    delete c.status;
    delete c.apiVersion;
    delete c.kind;
    return c;
  };
  return !jsonEqual(strip(old), strip(obj));
}

export function getPath(obj: KObject, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(obj: KObject, path: string, value: unknown): void {
  const parts = path.replace(/^\./, '').split('.');
  let cur: Record<string, unknown> = obj;
  for (const part of parts.slice(0, -1)) {
    if (cur[part] === null || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

/** The autoscaling/v1 Scale view of an object with a scale subresource. */
export function toScale(def: ResourceDef, obj: KObject): KObject {
  const s = def.subresources!.scale!;
  const meta = obj.metadata!;
  const selectorSource = s.labelSelectorPath ? getPath(obj, s.labelSelectorPath) : undefined;
  const scale: KObject = {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    spec: { replicas: (getPath(obj, s.specReplicasPath) as number | undefined) ?? 0 },
    status: { replicas: (getPath(obj, s.statusReplicasPath) as number | undefined) ?? 0 },
  };
  const selector = typeof selectorSource === 'string' ? selectorSource : selectorSource ? labelSelectorString(selectorSource as Parameters<typeof labelSelectorString>[0]) : '';
  if (selector) scale.status.selector = selector;
  return scale;
}

/** metav1.FormatLabelSelector-style rendering of a LabelSelector (for Scale.status.selector). */
export function labelSelectorString(sel: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }): string {
  const parts: string[] = [];
  for (const k of Object.keys(sel.matchLabels ?? {}).sort()) parts.push(`${k}=${sel.matchLabels![k]}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
    }
  }
  return parts.join(',');
}

