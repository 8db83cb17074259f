/**
 * @module JSON patch (RFC 6902, `application/json-patch+json`) as kube-apiserver applies
 * it: a body that is not a list of operations is a 400, more than 10000 operations a
 * 413, and any operation that fails (a `test` that does not hold, a path that does not
 * exist) a 422 with kube's generic message.
 */
import jsonpatch from 'fast-json-patch';
import { ApiError } from '../errors.js';
import { clone, isMap, type JsonMap } from './values.js';

/** kube-apiserver's cap on the operations of one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (isMap(v)) return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

const rejected = () => new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});

/** Applies `patch` (the decoded request body) to `doc` (not modified) and returns the result. */
export function applyJsonPatch(doc: JsonMap, patch: unknown): JsonMap {
  if (patch === null || patch === undefined) return clone(doc);
  if (!Array.isArray(patch)) {
    throw ApiError.badRequest(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of patch) {
    if (!isMap(op)) {
      throw ApiError.badRequest(`json: cannot unmarshal ${jsonKind(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw ApiError.tooLarge(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`,
    );
  }
  // Only RFC 6902's six operations: fast-json-patch's private `_get` is not one.
  if (patch.some((op) => !OPS.has(String((op as JsonMap).op)))) throw rejected();
  let result: unknown;
  try {
    result = jsonpatch.applyPatch(clone(doc), patch as jsonpatch.Operation[], true, true).newDocument;
  } catch {
    throw rejected();
  }
  if (!isMap(result)) throw rejected();
  return result;
}
