/**
 * @module JSON merge patch (RFC 7386, `application/merge-patch+json`): objects merge key
 * by key, `null` deletes, anything else (lists included) replaces. A body that is not a
 * JSON object is a 400 `Invalid JSON Patch`, as kube-apiserver answers.
 */
import { ApiError } from '../errors.js';
import { clone, hasOwn, isMap, type JsonMap, setOwn } from './values.js';

/** Applies `patch` (the decoded request body) to `doc` (not modified) and returns the result. */
export function applyMergePatch(doc: JsonMap, patch: unknown): JsonMap {
  if (!isMap(patch)) throw ApiError.badRequest('Invalid JSON Patch');
  return mergeInto(clone(doc), patch);
}

function mergeInto(target: JsonMap, patch: JsonMap): JsonMap {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete target[k];
    } else if (isMap(v)) {
      const cur = hasOwn(target, k) ? target[k] : undefined;
      setOwn(target, k, isMap(cur) ? mergeInto(cur, v) : pruneNulls(clone(v)));
    } else {
      setOwn(target, k, clone(v));
    }
  }
  return target;
}

/** Values set where the target had nothing lose their null members, recursively (lists keep null items). */
function pruneNulls<T>(v: T): T {
  if (Array.isArray(v)) {
    for (const item of v) pruneNulls(item);
  } else if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) delete v[k];
      else pruneNulls(x);
    }
  }
  return v;
}
