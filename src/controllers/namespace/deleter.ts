/**
 * @module Emptying a terminating namespace, as kube's NamespacedResourcesDeleter does: mark
 * it Terminating, delete every object of every served namespaced resource in it
 * (Background propagation), report progress in the five deletion conditions, and once
 * nothing is left remove the "kubernetes" token from spec.finalizers through /finalize.
 */
import { ApiError } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { Resources, type Client } from '../../client/index.js';
import { errorMessage, isConflict, isNotFound, rfc3339 } from '../common/index.js';
import type { KnownResource } from '../garbagecollector/resources.js';

/** The spec.finalizers token this controller owns. */
export const kubernetesFinalizer = 'kubernetes';
/** Waiting estimate when remaining objects carry finalizers (kube's finalizerEstimateSeconds). */
export const finalizerEstimateSeconds = 15;
/** Pods without terminationGracePeriodSeconds get the API default. */
const defaultTerminationGracePeriodSeconds = 30;

/** Content remains; the namespace should be looked at again after about `estimate` seconds. */
export class ResourcesRemainingError extends Error {
  constructor(readonly estimate: number) {
    super(`some content remains in the namespace, estimate ${estimate} seconds before it is removed`);
    this.name = 'ResourcesRemainingError';
  }
}

/** Condition types the deleter maintains, in kube's order. */
export const namespaceConditionTypes = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;
type NamespaceConditionType = (typeof namespaceConditionTypes)[number];

const okReasons: Record<NamespaceConditionType, string> = {
  NamespaceDeletionDiscoveryFailure: 'ResourcesDiscovered',
  NamespaceDeletionGroupVersionParsingFailure: 'ParsedGroupVersions',
  NamespaceDeletionContentFailure: 'ContentDeleted',
  NamespaceContentRemaining: 'ContentRemoved',
  NamespaceFinalizersRemaining: 'ContentHasNoFinalizers',
};

const okMessages: Record<NamespaceConditionType, string> = {
  NamespaceDeletionDiscoveryFailure: 'All resources successfully discovered',
  NamespaceDeletionGroupVersionParsingFailure: 'All legacy kube types successfully parsed',
  NamespaceDeletionContentFailure: 'All content successfully deleted, may be waiting on finalization',
  NamespaceContentRemaining: 'All content successfully removed',
  NamespaceFinalizersRemaining: 'All content-preserving finalizers finished',
};

interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** "/v1, Resource=pods" — how kube prints a GroupVersionResource in its errors. */
export function formatGvr(r: KnownResource): string {
  return `${r.gvr.group}/${r.gvr.version}, Resource=${r.gvr.resource}`;
}

interface GvrDeletionResult {
  estimate: number;
  remaining: number;
  finalizers: Map<string, number>;
}

/** What one pass over a namespace found: per-resource leftovers and failures, for the conditions. */
export interface ContentTotals {
  remainingByResource: Map<KnownResource, number>;
  finalizers: Map<string, number>;
  errors: string[];
}

/**
 * Merges the deletion conditions into status.conditions (kube's updateConditions): a
 * condition not failing gets its "ok" variant; lastTransitionTime moves only when the
 * status flips. Returns whether anything changed.
 */
export function updateNamespaceConditions(status: KObject, totals: ContentTotals, now: Date): boolean {
  const fresh = new Map<string, Omit<NamespaceCondition, 'lastTransitionTime'>>();
  if (totals.errors.length) {
    const msgs = [...totals.errors].sort();
    fresh.set('NamespaceDeletionContentFailure', {
      type: 'NamespaceDeletionContentFailure',
      status: 'True',
      reason: 'ContentDeletionFailed',
      message: `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}`,
    });
  }
  const remaining = [...totals.remainingByResource]
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r.gvr.resource}.${r.gvr.group} has ${n} resource instances`)
    .sort();
  if (remaining.length)
    fresh.set('NamespaceContentRemaining', {
      type: 'NamespaceContentRemaining',
      status: 'True',
      reason: 'SomeResourcesRemain',
      message: `Some resources are remaining: ${remaining.join(', ')}`,
    });
  const byFinalizer = [...totals.finalizers]
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${f} in ${n} resource instances`)
    .sort();
  if (byFinalizer.length)
    fresh.set('NamespaceFinalizersRemaining', {
      type: 'NamespaceFinalizersRemaining',
      status: 'True',
      reason: 'SomeFinalizersRemain',
      message: `Some content in the namespace has finalizers remaining: ${byFinalizer.join(', ')}`,
    });

  const conditions: NamespaceCondition[] = Array.isArray(status.conditions) ? status.conditions : [];
  let changed = false;
  for (const type of namespaceConditionTypes) {
    const want = fresh.get(type) ?? { type, status: 'False' as const, reason: okReasons[type], message: okMessages[type] };
    const have = conditions.find((c) => c.type === type);
    if (!have) {
      conditions.push({ ...want, lastTransitionTime: rfc3339(now) });
      changed = true;
    } else if (have.status !== want.status || have.reason !== want.reason || have.message !== want.message) {
      if (have.status !== want.status) have.lastTransitionTime = rfc3339(now);
      have.status = want.status;
      have.reason = want.reason;
      have.message = want.message;
      changed = true;
    }
  }
  status.conditions = conditions;
  return changed;
}

/**
 * Removes the "kubernetes" token from spec.finalizers through the namespace's `finalize`
 * subresource (PUT /api/v1/namespaces/NAME/finalize), the only write that may change
 * spec.finalizers; the API server deletes the namespace when that update leaves both
 * finalizer lists empty. Undefined when the namespace is gone.
 */
export async function finalizeNamespace(client: Client, ns: KObject): Promise<KObject | undefined> {
  const next = structuredClone(ns);
  next.spec ??= {};
  next.spec.finalizers = [...new Set(((ns.spec?.finalizers ?? []) as string[]).filter((f) => f !== kubernetesFinalizer))].sort();
  try {
    return await client.update(Resources.namespaces, undefined, next, { subresource: 'finalize' });
  } catch (err) {
    // Finished by someone else already.
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function isGone(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 404 || err.code === 405);
}

export interface DeleterOptions {
  client: Client;
  /** Namespaced resources to empty (the served ones; a 404 on list skips a resource). */
  resources: () => readonly KnownResource[];
  now: () => Date;
  log?: (msg: Record<string, unknown>) => void;
}

export class NamespacedResourcesDeleter {
  constructor(private readonly opts: DeleterOptions) {}

  /**
   * One pass over a namespace. Resolves when there is nothing (left) to do; throws
   * ResourcesRemainingError when content is still going away, or another error to retry.
   */
  async delete(name: string): Promise<void> {
    const { client } = this.opts;
    let ns = await this.getNamespace(name);
    if (!ns?.metadata?.deletionTimestamp) return;
    ns = await this.retryOnConflict(ns, (cur) => this.markTerminating(cur));
    if (!ns?.metadata?.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).length) return;

    const estimate = await this.deleteAllContent(ns);
    if (estimate > 0) throw new ResourcesRemainingError(estimate);
    await this.retryOnConflict(ns, (cur) => finalizeNamespace(client, cur));
  }

  private async getNamespace(name: string): Promise<KObject | undefined> {
    try {
      return await this.opts.client.get(Resources.namespaces, undefined, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async markTerminating(ns: KObject): Promise<KObject | undefined> {
    if (!ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return ns;
    const next = structuredClone(ns);
    next.status = { ...(next.status ?? {}), phase: 'Terminating' };
    return this.opts.client.update(Resources.namespaces, undefined, next, { subresource: 'status' });
  }

  /** Re-reads and retries fn on a 409 Conflict, refusing to act on a namespace recreated under the same name. */
  private async retryOnConflict(ns: KObject, fn: (cur: KObject) => Promise<KObject | undefined>): Promise<KObject | undefined> {
    let cur = ns;
    for (;;) {
      try {
        return await fn(cur);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        if (!isConflict(err)) throw err;
      }
      const latest = await this.getNamespace(cur.metadata!.name!);
      if (!latest) return undefined;
      if (latest.metadata?.uid !== cur.metadata?.uid) throw new Error('namespace uid has changed across retries');
      cur = latest;
    }
  }

  /** Deletes every resource's content; returns the longest wait estimate (0: all gone). */
  private async deleteAllContent(ns: KObject): Promise<number> {
    const namespace = ns.metadata!.name!;
    const deletedAt = new Date(ns.metadata!.deletionTimestamp!);
    const totals: ContentTotals = { remainingByResource: new Map(), finalizers: new Map(), errors: [] };
    let estimate = 0;
    for (const resource of this.opts.resources()) {
      if (!resource.namespaced) continue;
      try {
        const r = await this.deleteAllContentFor(resource, namespace, deletedAt);
        estimate = Math.max(estimate, r.estimate);
        if (r.remaining > 0) {
          totals.remainingByResource.set(resource, r.remaining);
          for (const [f, n] of r.finalizers) totals.finalizers.set(f, (totals.finalizers.get(f) ?? 0) + n);
        }
      } catch (err) {
        totals.errors.push(errorMessage(err));
        if (err instanceof UnexpectedRemainingError) totals.remainingByResource.set(resource, err.remaining);
      }
    }
    await this.writeConditions(ns, totals);
    this.opts.log?.({ level: 'info', msg: 'namespace content pass', namespace, estimate, errors: totals.errors.length });
    if (totals.errors.length) throw new Error(totals.errors.join('; '));
    return estimate;
  }

  private async deleteAllContentFor(resource: KnownResource, namespace: string, deletedAt: Date): Promise<GvrDeletionResult> {
    const { client } = this.opts;
    const items = await this.listContent(resource, namespace);
    if (items === undefined) return { estimate: 0, remaining: 0, finalizers: new Map() };
    let estimate = resource.gvr.group === '' && resource.gvr.resource === 'pods' ? this.estimateForPods(items, deletedAt) : 0;
    for (const item of items) {
      try {
        // The namespace controller never orphans: everything inside goes, dependents included.
        await client.delete(resource.gvr, namespace, item.metadata!.name!, { propagationPolicy: 'Background' });
      } catch (err) {
        if (!isGone(err)) throw err;
      }
    }
    const left = await this.listContent(resource, namespace);
    if (!left || left.length === 0) return { estimate: 0, remaining: 0, finalizers: new Map() };
    const finalizers = new Map<string, number>();
    for (const item of left) for (const f of item.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (estimate === 0 && finalizers.size > 0) estimate = finalizerEstimateSeconds;
    // Nothing explains what is left (pods past their grace period included): kube reports it as a failure and retries.
    if (estimate === 0) throw new UnexpectedRemainingError(`unexpected items still remain in namespace: ${namespace} for gvr: ${formatGvr(resource)}`, left.length);
    return { estimate, remaining: left.length, finalizers };
  }

  /** The longest grace period of the non-terminal pods, unless the namespace has been terminating longer than that. */
  private estimateForPods(pods: KObject[], deletedAt: Date): number {
    let estimate = 0;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const grace = pod.spec?.terminationGracePeriodSeconds ?? defaultTerminationGracePeriodSeconds;
      if (grace > estimate) estimate = grace;
    }
    const elapsedSeconds = (this.opts.now().getTime() - deletedAt.getTime()) / 1000;
    return elapsedSeconds >= estimate ? 0 : estimate;
  }

  /** Items of a resource in the namespace; undefined when the server does not serve it. */
  private async listContent(resource: KnownResource, namespace: string): Promise<KObject[] | undefined> {
    try {
      const list = await this.opts.client.list(resource.gvr, namespace);
      return list.items as KObject[];
    } catch (err) {
      if (isGone(err)) return undefined;
      throw err;
    }
  }

  private async writeConditions(ns: KObject, totals: ContentTotals): Promise<void> {
    const { client } = this.opts;
    let cur: KObject | undefined = ns;
    for (let attempt = 0; attempt < 3 && cur; attempt++) {
      const next = structuredClone(cur);
      next.status ??= {};
      if (!updateNamespaceConditions(next.status, totals, this.opts.now())) return;
      try {
        await client.update(Resources.namespaces, undefined, next, { subresource: 'status' });
        return;
      } catch (err) {
        if (!isConflict(err)) {
          // Conditions are informational: kube logs and carries on.
          this.opts.log?.({ level: 'warn', msg: 'could not update namespace conditions', namespace: ns.metadata?.name, error: String(err) });
          return;
        }
      }
      cur = await this.getNamespace(ns.metadata!.name!);
    }
  }
}

/** kube's "unexpected items still remain" error, carrying how many. */
class UnexpectedRemainingError extends Error {
  constructor(
    message: string,
    readonly remaining: number,
  ) {
    super(message);
    this.name = 'UnexpectedRemainingError';
  }
}
