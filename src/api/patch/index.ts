/**
 * @module The patch engines of the API server: JSON patch, JSON merge patch, strategic
 * merge patch, server-side apply with managedFields, and the merge metadata of the
 * served kinds. `patchObject` dispatches on the request's Content-Type.
 */
import { ApiError } from '../errors.js';
import type { KObject } from '../types.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import type { PatchMeta } from './patch-meta.js';
import { strategicMergePatch } from './strategic-merge.js';

export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json-patch.js';
export { applyMergePatch } from './merge-patch.js';
export { strategicMergePatch } from './strategic-merge.js';
export {
  applyPatch,
  decodeApplyBody,
  updateManagedFields,
  ownedPaths,
  MAX_UPDATE_MANAGERS,
  type ApplyOptions,
  type UpdateOptions,
} from './apply.js';
export {
  lookupPatchMeta,
  hasPatchMeta,
  patchMetaFor,
  plainJsonMeta,
  type PatchMeta,
  type ListType,
  type MetaKind,
} from './patch-meta.js';
export { FieldSet, pathString, type FieldPath, type PathElement } from './fieldpath.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/**
 * Applies a non-apply patch by media type (parameters such as `; charset=utf-8` ignored).
 * `body` is the decoded JSON body. Server-side apply needs ownership data: use applyPatch.
 */
export function patchObject(contentType: string, current: KObject, body: unknown, meta: PatchMeta): KObject {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  switch (mediaType) {
    case JSON_PATCH:
      return applyJsonPatch(current, body) as KObject;
    case MERGE_PATCH:
      return applyMergePatch(current, body) as KObject;
    case STRATEGIC_MERGE_PATCH:
      return strategicMergePatch(current, body, meta) as KObject;
    default:
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${APPLY_PATCH}, ${STRATEGIC_MERGE_PATCH}`,
      );
  }
}
