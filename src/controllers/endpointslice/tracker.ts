/**
 * @module kube's EndpointSliceTracker: the generation of every slice this controller wrote
 * (or expects deleted), per Service, so a sync never acts on an informer cache that has
 * not yet seen the controller's own writes — acting on it would create duplicate slices.
 */
import type { KObject } from '../../api/types.js';
import { serviceNameLabel } from './reconciler.js';

const deletionExpected = -1;

/** The informer cache is behind this controller's own writes; the Service is retried. */
export class StaleInformerCacheError extends Error {
  constructor(message = 'EndpointSlice informer cache is out of date') {
    super(message);
    this.name = 'StaleInformerCacheError';
  }
}

function serviceKeyOf(slice: KObject): string | undefined {
  const svc = slice.metadata?.labels?.[serviceNameLabel];
  return svc ? `${slice.metadata?.namespace}/${svc}` : undefined;
}

export class EndpointSliceTracker {
  private readonly byService = new Map<string, Map<string, number>>();

  private gens(slice: KObject, create: boolean): Map<string, number> | undefined {
    const key = serviceKeyOf(slice);
    if (!key) return undefined;
    let m = this.byService.get(key);
    if (!m && create) this.byService.set(key, (m = new Map()));
    return m;
  }

  has(slice: KObject): boolean {
    return !!this.gens(slice, false)?.has(slice.metadata?.uid ?? '');
  }

  /** A slice this controller just created or updated, as the server returned it. */
  update(slice: KObject): void {
    this.gens(slice, true)!.set(slice.metadata!.uid!, slice.metadata?.generation ?? 0);
  }

  expectDeletion(slice: KObject): void {
    this.gens(slice, true)!.set(slice.metadata!.uid!, deletionExpected);
  }

  /** Whether a slice event is news: unknown to us, or newer than what we wrote. */
  shouldSync(slice: KObject): boolean {
    const g = this.gens(slice, false)?.get(slice.metadata?.uid ?? '');
    return g === undefined || (slice.metadata?.generation ?? 0) > g;
  }

  /** Forgets a deleted slice; true when this controller expected the deletion. */
  handleDeletion(slice: KObject): boolean {
    const m = this.gens(slice, false);
    const uid = slice.metadata?.uid ?? '';
    const g = m?.get(uid);
    m?.delete(uid);
    return g === deletionExpected;
  }

  /** Whether the cached slices of a Service lag behind what this controller wrote. */
  staleSlices(namespace: string, name: string, cached: KObject[]): boolean {
    const m = this.byService.get(`${namespace}/${name}`);
    if (!m) return false;
    const seen = new Set<string>();
    for (const slice of cached) {
      const uid = slice.metadata?.uid ?? '';
      seen.add(uid);
      const g = m.get(uid);
      if (g !== undefined && (g === deletionExpected || g > (slice.metadata?.generation ?? 0))) return true;
    }
    for (const [uid, g] of m) {
      if (seen.has(uid)) continue;
      if (g !== deletionExpected) return true;
      // The expected deletion has reached the cache.
      m.delete(uid);
    }
    return false;
  }

  deleteService(namespace: string, name: string): void {
    this.byService.delete(`${namespace}/${name}`);
  }
}
