/**
 * @module The four PATCH content types applied to a stored object, and managedFields
 * bookkeeping for ordinary writes: thin glue between the REST pipeline and src/api/patch.
 */
import { ApiError } from '../api/errors.js';
import { applyPatch, decodeApplyBody, updateManagedFields } from '../api/patch/apply.js';
import { applyJsonPatch } from '../api/patch/json-patch.js';
import { applyMergePatch } from '../api/patch/merge-patch.js';
import { lookupPatchMeta, patchMetaFor } from '../api/patch/patch-meta.js';
import { strategicMergePatch } from '../api/patch/strategic-merge.js';
import type { KObject, ResourceDef } from '../api/types.js';
import { apiVersionOf } from '../api/types.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

function parsePatchJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (!text.trim()) throw ApiError.badRequest('the body of the request was empty');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw ApiError.badRequest(`error decoding patch: ${(e as Error).message}`);
  }
}

/**
 * Applies a patch body to `current` (undefined only for apply that creates) and returns
 * the patched object; apply also updates managedFields and raises ownership conflicts.
 */
export function applyPatchBody(
  def: ResourceDef,
  type: PatchType,
  current: KObject | undefined,
  body: Buffer,
  opts: { manager: string; force: boolean; now: Date; subresource?: string },
): KObject {
  switch (type) {
    case 'json':
      return applyJsonPatch(current ?? {}, parsePatchJson(body)) as KObject;
    case 'merge':
      return applyMergePatch(current ?? {}, parsePatchJson(body)) as KObject;
    case 'strategic':
      return strategicMergePatch(current ?? {}, parsePatchJson(body), lookupPatchMeta(def.group, def.version, def.kind)) as KObject;
    case 'apply':
      return applyPatch(current, decodeApplyBody(body), {
        manager: opts.manager,
        force: opts.force,
        apiVersion: apiVersionOf(def),
        kind: def.kind,
        now: opts.now,
        meta: lookupPatchMeta(def.group, def.version, def.kind),
        subresource: opts.subresource ?? '',
      });
  }
}

/** Assigns the fields an Update changed to its manager (metadata.managedFields, in place). */
export function recordManagedFields(
  old: KObject | undefined,
  obj: KObject,
  opts: { manager: string; operation: 'Update'; apiVersion: string; now: Date; subresource: string },
): void {
  const out = updateManagedFields(old, obj, { manager: opts.manager, operation: 'Update', apiVersion: opts.apiVersion, now: opts.now, subresource: opts.subresource });
  obj.metadata ??= {};
  if (out.metadata?.managedFields) obj.metadata.managedFields = out.metadata.managedFields;
  else delete obj.metadata.managedFields;
}

/** PATCH …/scale: the patch applies to the autoscaling/v1 Scale view. */
export function applyPatchToScale(type: PatchType, scale: KObject, body: Buffer): KObject {
  switch (type) {
    case 'json':
      return applyJsonPatch(scale, parsePatchJson(body)) as KObject;
    case 'merge':
      return applyMergePatch(scale, parsePatchJson(body)) as KObject;
    case 'strategic':
      return strategicMergePatch(scale, parsePatchJson(body), patchMetaFor(scale)) as KObject;
    case 'apply': {
      const applied = decodeApplyBody(body);
      return { ...scale, spec: { ...scale.spec, ...(applied.spec ?? {}) } };
    }
  }
}
