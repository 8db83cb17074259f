/**
 * @module Helm 3's three-way patch of an upgrade or rollback: the change from the live
 * object to the new manifest, plus the deletion of what the old manifest had and the new
 * one dropped (apimachinery's CreateThreeWayMergePatch). Fields the chart never set —
 * a sidecar injected by hand, an annotation added by a tool — survive; fields the chart
 * sets are brought back to the chart's value.
 */
import type { PatchMeta } from '../../api/patch/patch-meta.js';
import { deepEqual, isMap, type JsonMap } from '../../api/patch/values.js';

/**
 * A strategic merge patch (or, with plain-JSON metadata, a JSON merge patch) taking
 * `current` to `modified` while deleting what `original` had and `modified` dropped.
 * An empty object means nothing to do.
 */
export function threeWayPatch(original: JsonMap | undefined, modified: JsonMap, current: JsonMap, meta: PatchMeta, strategic = true): JsonMap {
  return diffMaps(original, modified, current, meta, strategic);
}

function diffMaps(original: JsonMap | undefined, modified: JsonMap, current: JsonMap, meta: PatchMeta, strategic: boolean): JsonMap {
  const patch: JsonMap = {};
  for (const [k, mv] of Object.entries(modified)) {
    const cv = current[k];
    const child = meta.field(k);
    if (mv === null) {
      if (cv !== undefined && cv !== null) patch[k] = null;
      continue;
    }
    if (cv === undefined || cv === null) {
      patch[k] = mv;
      continue;
    }
    const ov = original?.[k];
    if (isMap(mv) && isMap(cv) && !(strategic && child.patchStrategy === 'replace')) {
      const sub = diffMaps(isMap(ov) ? ov : undefined, mv, cv, child, strategic);
      if (Object.keys(sub).length > 0) patch[k] = sub;
    } else if (strategic && Array.isArray(mv) && Array.isArray(cv) && child.patchStrategy === 'merge') {
      diffMergeList(patch, k, Array.isArray(ov) ? ov : undefined, mv, cv, child, strategic);
    } else if (!deepEqual(mv, cv)) {
      patch[k] = mv;
    }
  }
  if (original) {
    for (const k of Object.keys(original)) {
      if (!(k in modified) && k in current) patch[k] = null;
    }
  }
  return patch;
}

function diffMergeList(patch: JsonMap, k: string, original: unknown[] | undefined, modified: unknown[], current: unknown[], meta: PatchMeta, strategic: boolean): void {
  const mergeKey = meta.patchMergeKey;
  const mapItems = [...modified, ...current].some(isMap);
  if (!mapItems) {
    // Sets of scalars: add what is missing, delete what the chart dropped.
    const added = modified.filter((m) => !current.some((c) => deepEqual(c, m)));
    const dropped = (original ?? []).filter((o) => !modified.some((m) => deepEqual(m, o)) && current.some((c) => deepEqual(c, o)));
    if (added.length > 0) patch[k] = added;
    if (dropped.length > 0) patch[`$deleteFromPrimitiveList/${k}`] = dropped;
    return;
  }
  if (!mergeKey) {
    if (!deepEqual(modified, current)) patch[k] = modified;
    return;
  }
  const keyOf = (item: unknown) => (isMap(item) ? (item[mergeKey] ?? meta.keyDefaults[mergeKey]) : undefined);
  const find = (list: unknown[] | undefined, key: unknown) => list?.find((i) => deepEqual(keyOf(i), key)) as JsonMap | undefined;
  const items: unknown[] = [];
  for (const m of modified) {
    if (!isMap(m)) continue;
    const key = keyOf(m);
    const c = find(current, key);
    if (!c) {
      items.push(m);
      continue;
    }
    const sub = diffMaps(find(original, key), m, c, meta.elem, strategic);
    if (Object.keys(sub).length > 0) items.push({ [mergeKey]: m[mergeKey] ?? key, ...sub });
  }
  for (const o of original ?? []) {
    const key = keyOf(o);
    if (key === undefined || find(modified, key) || !find(current, key)) continue;
    items.push({ [mergeKey]: key, $patch: 'delete' });
  }
  if (items.length > 0) patch[k] = items;
}
