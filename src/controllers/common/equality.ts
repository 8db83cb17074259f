/**
 * @module Comparing API objects as kube does: apiequality.Semantic.DeepEqual (an absent field
 * equals its empty value) and a canonical JSON text (sorted keys) for keys, sort orders and hashes.
 */

const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/**
 * apiequality.Semantic.DeepEqual over JSON: nil and empty maps/slices are equal, and an
 * absent field equals its empty value.
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => semanticEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) if (!semanticEqual(ao[k], bo[k])) return false;
  return true;
}

export interface CanonicalJsonOptions {
  /**
   * Leave out object fields whose value is null, as a Go struct decoded from the JSON would
   * (`creationTimestamp: null` and no creationTimestamp are then the same text).
   */
  omitNullFields?: boolean;
}

/** JSON with object keys sorted and undefined fields left out, so equal objects give equal text whatever their key order. */
export function canonicalJson(v: unknown, opts: CanonicalJsonOptions = {}): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x, opts)).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined && !(opts.omitNullFields && o[k] === null))
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k], opts)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
