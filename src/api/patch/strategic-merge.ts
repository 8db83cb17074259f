/**
 * @module Strategic merge patch (`application/strategic-merge-patch+json`) with
 * kube-apiserver's semantics: lists with `patchStrategy: merge` merge by their
 * `patchMergeKey` (or by value for scalars), other lists are replaced whole, `null`
 * deletes a field, and the directives `$patch` (delete/replace/merge), `$retainKeys`,
 * `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` are honoured.
 */
import { ApiError } from '../errors.js';
import type { PatchMeta } from './patch-meta.js';
import { clone, goFormat, goTypeName, hasOwn, isMap, type JsonMap, setOwn, shapeOf } from './values.js';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER_PREFIX = '$setElementOrder';
const DELETE_PRIMITIVE_PREFIX = '$deleteFromPrimitiveList';

/*
 * Errors: kube-apiserver maps the sentinel errors of the strategicpatch package to 400
 * (bad directive formats) or 422 (lists of lists, retainKeys mismatch); every other merge
 * error reaches the client as a bare Status with code 500, no reason and the raw text.
 */
const badRetainKeys = () => ApiError.badRequest('invalid patch format of retainKeys');
const badSetOrder = () => ApiError.badRequest('invalid patch format of setElementOrder list');
const badPrimitiveList = () => ApiError.badRequest('invalid patch format of primitive list');
const unprocessable = () =>
  new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
const mergeFailure = (message: string) => new ApiError(500, '', message);
const noMergeKey = (m: unknown, key: string) =>
  mergeFailure(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
const badArgType = (expected: string, actual: unknown) =>
  mergeFailure(`expected a ${expected}, but received a ${goTypeName(actual)}`);

/**
 * Applies a strategic merge patch to `original` (not modified) and returns the result.
 * `meta` is the kind's merge metadata (`lookupPatchMeta`). Throws `ApiError`s as kube does.
 */
export function strategicMergePatch(original: JsonMap, patch: unknown, meta: PatchMeta): JsonMap {
  if (patch === null || patch === undefined) return clone(original);
  if (!isMap(patch)) {
    throw ApiError.badRequest(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`);
  }
  return mergeMap(clone(original), patch, meta);
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function mergeMap(original: JsonMap | undefined, patchIn: JsonMap, meta: PatchMeta): JsonMap {
  if (hasOwn(patchIn, DIRECTIVE)) return mapDirective(patchIn[DIRECTIVE], patchIn, meta);
  const out: JsonMap = original ? { ...original } : {};
  const patch: JsonMap = { ...patchIn };
  applyRetainKeys(out, patch);
  mergeOrderedLists(out, patch, meta);

  for (const [rawKey, patchV] of Object.entries(patch)) {
    let key = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_PRIMITIVE_PREFIX)) {
      key = extractKey(rawKey, DELETE_PRIMITIVE_PREFIX, badPrimitiveList);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete out[key];
      continue;
    }
    const child = meta.field(key);
    if (!hasOwn(out, key)) {
      if (!isDeleteList) setOwn(out, key, fresh(patchV, child));
      continue;
    }
    const current = out[key];
    if (shapeOf(current) !== shapeOf(patchV)) {
      if (!isDeleteList) setOwn(out, key, fresh(patchV, child));
      continue;
    }
    if (isMap(current)) {
      const p = patchV as JsonMap;
      setOwn(out, key, child.patchStrategy === 'replace' ? fresh(p, child) : mergeMap(current, p, child));
    } else if (Array.isArray(current)) {
      setOwn(out, key, mergeListField(current, patchV as unknown[], child, isDeleteList));
    } else {
      setOwn(out, key, patchV);
    }
  }
  return out;
}

/** A map carrying `$patch`: `replace` takes the patch as is, `delete` empties the map. */
function mapDirective(directive: unknown, patch: JsonMap, meta: PatchMeta): JsonMap {
  if (directive === 'replace') {
    const rest: JsonMap = { ...patch };
    delete rest[DIRECTIVE];
    return fresh(rest, meta) as JsonMap;
  }
  if (directive === 'delete') return {};
  throw mergeFailure(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
}

/**
 * A patch value for a position the original lacks: kube takes it as is after dropping
 * nulls; we also resolve directives inside it, so none leaks into the stored object.
 */
function fresh(value: unknown, meta: PatchMeta): unknown {
  if (isMap(value)) return mergeMap(undefined, value, meta);
  if (Array.isArray(value)) {
    // Directive items (`$patch`) have nothing to act on in a list the original lacks.
    const items = meta.patchStrategy === 'merge' ? value.filter((v) => !(isMap(v) && hasOwn(v, DIRECTIVE))) : value;
    return items.map((item) => fresh(item, meta.elem));
  }
  return value;
}

/** `$retainKeys`: drop every key of the original that is not listed; the patch may only set listed keys. */
function applyRetainKeys(out: JsonMap, patch: JsonMap): void {
  if (!hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw badRetainKeys();
  const retained = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PRIMITIVE_PREFIX) || k.startsWith(SET_ORDER_PREFIX)) continue;
    if (!retained.has(k)) throw badRetainKeys();
  }
  for (const k of Object.keys(out)) if (!retained.has(k)) delete out[k];
}

function extractKey(s: string, prefix: string, onError: () => ApiError): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) throw onError();
  return s.slice(slash + 1);
}

/**
 * `$setElementOrder/<list>`: merge the list (if patched) and order it by the directive,
 * interleaving items only the server has by their position in the live list. Precedence:
 * $setElementOrder, then patch order, then live order.
 */
function mergeOrderedLists(out: JsonMap, patch: JsonMap, meta: PatchMeta): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER_PREFIX)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw badArgType('[]interface {}', order);
    const listKey = extractKey(key, SET_ORDER_PREFIX, badSetOrder);
    const foundOriginal = hasOwn(out, listKey);
    const foundPatch = hasOwn(patch, listKey);
    const originalList = foundOriginal ? out[listKey] : undefined;
    const patchList = foundPatch ? patch[listKey] : undefined;
    if (foundOriginal && !Array.isArray(originalList)) throw badArgType('[]interface {}', originalList);
    if (foundPatch && !Array.isArray(patchList)) throw badArgType('[]interface {}', patchList);
    const child = meta.field(listKey);
    const mergeKey = child.patchMergeKey ?? '';
    validatePatchWithSetOrderList((patchList as unknown[] | undefined) ?? [], order, mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalList as unknown[];
    else if (!foundOriginal && foundPatch) merged = fresh(patchList, child) as unknown[];
    else if (foundOriginal && foundPatch) merged = mergeListField(originalList as unknown[], patchList as unknown[], child, false);
    else continue;

    const isMapList = [...((originalList as unknown[]) ?? []), ...((patchList as unknown[]) ?? [])].some(isMap);
    if (merged.length > 0 && !(isMapList && mergeKey === '')) {
      const [inOrder, serverOnly] = partition(merged, order, mergeKey, isMapList);
      merged = normalizeElementOrder(
        inOrder,
        serverOnly,
        order,
        (originalList as unknown[]) ?? [],
        mergeKey,
        isMapList,
      );
    }
    setOwn(out, listKey, merged);
    delete patch[listKey];
  }
}

/** The items of the patch list must appear in the $setElementOrder list, in the same relative order. */
function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  let nonDelete = patchList;
  if (mergeKey) {
    nonDelete = [];
    for (const item of patchList) {
      if (!isMap(item)) throw badArgType('map[string]interface {}', item);
      if (item[DIRECTIVE] !== 'delete') nonDelete.push(item);
    }
  }
  let pi = 0;
  let si = 0;
  while (pi < nonDelete.length && si < order.length) {
    if (isMap(nonDelete[pi]) && hasOwn(nonDelete[pi] as JsonMap, DIRECTIVE)) {
      pi++;
      continue;
    }
    if (mergeKeyValueEqual(nonDelete[pi], order[si], mergeKey)) pi++;
    si++;
  }
  if (pi < nonDelete.length && si >= order.length) {
    throw mergeFailure(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ORDER_PREFIX} list:\n${goFormat(order)}\n`,
    );
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isMap(left)) throw badArgType('map[string]interface {}', left);
  if (!isMap(right)) throw badArgType('map[string]interface {}', right);
  if (!hasOwn(left, mergeKey)) throw noMergeKey(left, mergeKey);
  if (!hasOwn(right, mergeKey)) throw noMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

/** A list field present in both: merged when its strategy says so (or for deletion lists), else replaced. */
function mergeListField(original: unknown[], patch: unknown[], meta: PatchMeta, isDeleteList: boolean): unknown[] {
  if (meta.patchStrategy === 'merge' || isDeleteList) return mergeList(original, patch, meta, isDeleteList);
  return fresh(patch, meta) as unknown[];
}

type ElementType = 'map' | 'scalar';

/** All elements of the given lists share one JSON type (Go compares their reflect types). */
function sliceElementType(...lists: unknown[][]): ElementType {
  let prev: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const shape = shapeOf(v);
      if (prev === undefined) {
        if (shape === 'list') throw unprocessable();
        prev = shape;
      } else if (prev !== shape) {
        throw mergeFailure(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  return prev === 'map' ? 'map' : 'scalar';
}

function mergeList(original: unknown[], patch: unknown[], meta: PatchMeta, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const type = sliceElementType(original, patch);
  let merged: unknown[];
  let mergeKey = '';
  if (type !== 'map') {
    if (isDeleteList) return original.filter((v) => !patch.includes(v));
    merged = [];
    for (const v of [...original, ...patch]) if (!merged.includes(v)) merged.push(v);
  } else {
    mergeKey = meta.patchMergeKey ?? '';
    if (!mergeKey) throw mergeFailure(`cannot merge lists without merge key for ${meta.typeName}`);
    [original, patch] = mergeListSpecialElements(original as JsonMap[], patch as JsonMap[], mergeKey, meta.elem);
    merged = mergeListByKey(original as JsonMap[], patch as JsonMap[], mergeKey, meta.elem);
  }
  const [inPatch, serverOnly] = partition(merged, patch, mergeKey, type === 'map');
  return normalizeElementOrder(inPatch, serverOnly, patch, original, mergeKey, type === 'map');
}

/** Handles list items carrying `$patch`: `delete` removes by merge key, `replace` replaces the list with the other items. */
function mergeListSpecialElements(
  original: JsonMap[],
  patch: JsonMap[],
  mergeKey: string,
  elem: PatchMeta,
): [JsonMap[], JsonMap[]] {
  const plain: JsonMap[] = [];
  let replace = false;
  for (const item of patch) {
    if (!hasOwn(item, DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    switch (item[DIRECTIVE]) {
      case 'delete':
        if (!hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
        original = original.filter((o, i) => {
          if (!isMap(o)) throw mergeFailure(`value for key ${i} is not a map.`);
          return !(hasOwn(o, mergeKey) && o[mergeKey] === item[mergeKey]);
        });
        break;
      case 'replace':
        replace = true;
        break;
      case 'merge':
        throw mergeFailure('merging lists cannot yet be specified in the patch');
      default:
        throw mergeFailure(`unknown patch type: ${goFormat(item[DIRECTIVE])} in map: ${goFormat(item)}`);
    }
  }
  if (replace) return [plain.map((item) => fresh(item, elem) as JsonMap), []];
  return [original, plain];
}

function findByKey(list: unknown[], mergeKey: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isMap(item)) throw mergeFailure(`value for key ${i} is not a map.`);
    if (hasOwn(item, mergeKey) && item[mergeKey] === value) return i;
  }
  return -1;
}

function mergeListByKey(original: JsonMap[], patch: JsonMap[], mergeKey: string, elem: PatchMeta): unknown[] {
  const out: unknown[] = original.slice();
  for (const item of patch) {
    if (!hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const i = findByKey(out, mergeKey, item[mergeKey]);
    if (i >= 0) out[i] = mergeMap(out[i] as JsonMap, item, elem);
    else out.push(fresh(item, elem));
  }
  return out;
}

/** Splits merged items into those present in `by` (matched by merge key or value) and the rest. */
function partition(merged: unknown[], by: unknown[], mergeKey: string, isMapList: boolean): [unknown[], unknown[]] {
  const inBy: unknown[] = [];
  const rest: unknown[] = [];
  for (const v of merged) {
    let found: boolean;
    if (isMapList) {
      if (!isMap(v)) throw badArgType('map[string]interface {}', v);
      if (!hasOwn(v, mergeKey)) throw noMergeKey(v, mergeKey);
      found = findByKey(by, mergeKey, v[mergeKey]) >= 0;
    } else {
      found = by.includes(v);
    }
    (found ? inBy : rest).push(v);
  }
  return [inBy, rest];
}

function indexIn(list: unknown[], v: unknown, mergeKey: string, isMapList: boolean): number {
  if (!isMapList) return list.indexOf(v);
  const key = isMap(v) ? v[mergeKey] : undefined;
  return list.findIndex((x) => isMap(x) && x[mergeKey] === key);
}

/** Sorts patch items by the patch order and server-only items by the live order, then interleaves them. */
function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  isMapList: boolean,
): unknown[] {
  const sortedPatch = sortByOrder(patchItems, patchOrder, mergeKey, isMapList);
  const sortedServer = sortByOrder(serverOnly, serverOrder, mergeKey, isMapList);
  return interleave(sortedServer, sortedPatch, serverOrder, mergeKey, isMapList);
}

function sortByOrder(items: unknown[], order: unknown[], mergeKey: string, isMapList: boolean): unknown[] {
  if (isMapList) {
    for (const list of [items, order]) {
      for (const v of list) {
        if (!isMap(v)) throw badArgType('map[string]interface {}', v);
        if (!hasOwn(v, mergeKey)) throw noMergeKey(v, mergeKey);
      }
    }
  }
  const keep: unknown[] = [];
  const deleted: unknown[] = [];
  for (const v of items) (isMapList && isMap(v) && v[DIRECTIVE] === 'delete' ? deleted : keep).push(v);
  const ranked = keep.map((v, i) => ({ v, i, rank: indexIn(order, v, mergeKey, isMapList) }));
  ranked.sort((a, b) => {
    if (a.rank >= 0 && b.rank >= 0 && a.rank !== b.rank) return a.rank - b.rank;
    return a.i - b.i;
  });
  return [...ranked.map((r) => r.v), ...deleted];
}

/**
 * Inserts the server-only items (left) into the patch items (right): a left item goes
 * before the first right item that follows it in the live list. Right items the live
 * list lacks come first, as kube's merge does.
 */
function interleave(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, isMapList: boolean): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, isMapList);
      const ri = indexIn(serverOrder, right[j], mergeKey, isMapList);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}
