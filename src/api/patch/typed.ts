/**
 * @module Walks of an object against its merge metadata, as structured-merge-diff does
 * for server-side apply: the field set a value sets, the difference of two values
 * (added / modified / removed paths), the merge of an applied configuration into a live
 * object, and the removal of a set of paths.
 */
import {
  FieldSet,
  type FieldPath,
  fieldElement,
  keyElement,
  type PathElement,
  pathElementString,
  pathString,
  valueElement,
} from './fieldpath.js';
import type { PatchMeta } from './patch-meta.js';
import { clone, deepEqual, hasOwn, isMap, type JsonMap, setOwn, shapeOf } from './values.js';

/** Whether a list at this position merges by item (listType map or set) rather than as a whole. */
function isGranularList(meta: PatchMeta): boolean {
  return meta.kind === 'list' && meta.listType !== 'atomic';
}

/** The path element of one item of a granular list, or an error message. */
export function listItemElement(item: unknown, list: PatchMeta): PathElement | { error: string } {
  if (list.listType === 'set') {
    if (Array.isArray(item) || isMap(item)) return { error: `expected a scalar in a set, got ${shapeOf(item)}` };
    return valueElement(item);
  }
  if (!isMap(item)) return { error: `expected map, got ${shapeOf(item)}` };
  const key: JsonMap = {};
  for (const name of list.listMapKeys) {
    if (hasOwn(item, name) && item[name] !== null && item[name] !== undefined) {
      key[name] = item[name];
    } else if (hasOwn(list.keyDefaults, name)) {
      key[name] = list.keyDefaults[name];
    } else {
      return {
        error: `associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`,
      };
    }
  }
  return keyElement(key);
}

interface IndexedList {
  /** Path elements in list order; items without one get a unique placeholder. */
  elements: PathElement[];
  /** First item for each element. */
  items: Map<PathElement, unknown>;
  duplicates: Set<PathElement>;
}

function indexList(list: unknown[], meta: PatchMeta): IndexedList {
  const out: IndexedList = { elements: [], items: new Map(), duplicates: new Set() };
  list.forEach((item, i) => {
    const pe = listItemElement(item, meta);
    const element = typeof pe === 'string' ? pe : `#${i}`;
    out.elements.push(element);
    if (out.items.has(element)) out.duplicates.add(element);
    else out.items.set(element, item);
  });
  return out;
}

/**
 * Errors that make an applied configuration unusable: list items without their keys,
 * duplicate keys. Messages carry structured-merge-diff's path prefix.
 */
export function validateApplied(value: unknown, meta: PatchMeta): string[] {
  const errors: string[] = [];
  const walk = (v: unknown, m: PatchMeta, path: PathElement[]) => {
    if (m.kind === 'atomic') return;
    if (Array.isArray(v)) {
      if (!isGranularList(m)) return;
      const seen = new Set<PathElement>();
      v.forEach((item, i) => {
        const pe = listItemElement(item, m);
        if (typeof pe !== 'string') {
          errors.push(`${pathString(path)}: element ${i}: ${pe.error}`);
          return;
        }
        if (seen.has(pe)) {
          errors.push(`${pathString(path)}: duplicate entries for key ${pathElementString(pe)}`);
          return;
        }
        seen.add(pe);
        walk(item, m.elem, [...path, pe]);
      });
    } else if (isMap(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, m.field(k), [...path, fieldElement(k)]);
    }
  };
  walk(value, meta, []);
  return errors;
}

/**
 * The paths a value sets (structured-merge-diff's ToFieldSet): scalars, atomic lists and
 * maps, list items, null and empty maps are members; struct fields with children are not.
 */
export function toFieldSet(value: unknown, meta: PatchMeta): FieldSet {
  const set = new FieldSet();
  // Returns whether the walk inserted the path itself (a "leaf").
  const walk = (v: unknown, m: PatchMeta, path: PathElement[]): boolean => {
    if (m.kind === 'atomic' || (!Array.isArray(v) && !isMap(v))) {
      set.insert(path);
      return true;
    }
    if (Array.isArray(v)) {
      if (!isGranularList(m)) {
        set.insert(path);
        return true;
      }
      const index = indexList(v, m);
      for (const pe of index.elements) {
        if (pe.startsWith('#')) continue;
        const itemPath = [...path, pe];
        if (index.duplicates.has(pe)) {
          set.insert(itemPath);
          continue;
        }
        if (!walk(index.items.get(pe), m.elem, itemPath)) set.insert(itemPath);
      }
      return false;
    }
    if (m.kind === 'list') {
      set.insert(path);
      return true;
    }
    for (const [k, x] of Object.entries(v)) {
      const childPath = [...path, fieldElement(k)];
      if (walk(x, m.field(k), childPath)) continue;
      if (x === null || (isMap(x) && Object.keys(x).length === 0) || !m.isField(k)) set.insert(childPath);
    }
    return false;
  };
  walk(value, meta, []);
  return set;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * What changed from `lhs` to `rhs` (structured-merge-diff's Compare). A container that
 * appears or disappears is itself added/removed along with everything in it.
 */
export function compare(lhs: unknown, rhs: unknown, meta: PatchMeta): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const leaf = (l: unknown, r: unknown, path: PathElement[]) => {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!deepEqual(l, r)) c.modified.insert(path);
  };
  const walk = (l: unknown, r: unknown, m: PatchMeta, path: PathElement[]) => {
    const shapes = [l, r].filter((v) => v !== undefined && v !== null).map(shapeOf);
    const shape = shapes[0];
    // Atomic values, scalars, nulls and a change of JSON type compare as one leaf.
    if (m.kind === 'atomic' || shape === undefined || shapes.some((s) => s !== shape) || (shape !== 'map' && shape !== 'list')) {
      leaf(l, r, path);
      return;
    }
    if (shape === 'list') {
      const ll = Array.isArray(l) ? l : [];
      const rl = Array.isArray(r) ? r : [];
      if (!isGranularList(m) || (ll.length === 0 && rl.length === 0)) {
        leaf(l, r, path);
        return;
      }
      const li = indexList(ll, m);
      const ri = indexList(rl, m);
      const seen = new Set<PathElement>();
      for (const pe of [...ri.elements, ...li.elements]) {
        if (seen.has(pe) || pe.startsWith('#')) continue;
        seen.add(pe);
        walk(li.items.get(pe), ri.items.get(pe), m.elem, [...path, pe]);
      }
    } else {
      if (m.kind === 'list') {
        leaf(l, r, path);
        return;
      }
      const lm = isMap(l) ? l : {};
      const rm = isMap(r) ? r : {};
      if (Object.keys(lm).length === 0 && Object.keys(rm).length === 0) {
        leaf(l, r, path);
        return;
      }
      const keys = new Set([...Object.keys(lm), ...Object.keys(rm)]);
      for (const k of keys) {
        const lv = hasOwn(lm, k) ? lm[k] : undefined;
        const rv = hasOwn(rm, k) ? rm[k] : undefined;
        walk(lv, rv, m.field(k), [...path, fieldElement(k)]);
      }
    }
    if (path.length > 0) {
      if (l === undefined) c.added.insert(path);
      else if (r === undefined) c.removed.insert(path);
    }
  };
  walk(lhs, rhs, meta, []);
  return c;
}

/**
 * Merges an applied configuration into the live object (structured-merge-diff's Merge):
 * the configuration wins on scalars and atomic values; maps merge by key; granular lists
 * merge by item, keeping live-only items where they were and shared items in the
 * configuration's order. A null in the configuration removes the field.
 */
export function mergeApplied(live: unknown, config: unknown, meta: PatchMeta): unknown {
  if (config === undefined) return live;
  if (live === undefined || live === null || meta.kind === 'atomic') return withoutNulls(config);
  if (isMap(live) && isMap(config) && meta.kind !== 'list') {
    const out: JsonMap = { ...live };
    for (const [k, v] of Object.entries(config)) {
      if (v === null) {
        delete out[k];
        continue;
      }
      setOwn(out, k, mergeApplied(hasOwn(live, k) ? live[k] : undefined, v, meta.field(k)));
    }
    return out;
  }
  if (Array.isArray(live) && Array.isArray(config) && isGranularList(meta)) {
    return mergeListItems(live, config, meta);
  }
  return clone(config);
}

/** A copy without null members of maps (at any depth): an applied null means "unset". */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isMap(v)) return v;
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) setOwn(out, k, withoutNulls(x));
  return out;
}

/**
 * The object as kube's typed round trip would see it: Go's `omitempty` drops empty
 * `map[string]T` fields (labels: {} is no labels), so they compare as absent.
 */
export function withoutEmptyMaps(value: unknown, meta: PatchMeta): unknown {
  if (meta.kind === 'atomic') return value;
  if (Array.isArray(value)) {
    return isGranularList(meta) ? value.map((item) => withoutEmptyMaps(item, meta.elem)) : value;
  }
  if (!isMap(value) || meta.kind === 'list') return value;
  const out: JsonMap = {};
  for (const [k, v] of Object.entries(value)) {
    const child = meta.field(k);
    if (child.kind === 'map' && isMap(v) && Object.keys(v).length === 0) continue;
    setOwn(out, k, withoutEmptyMaps(v, child));
  }
  return out;
}

function mergeListItems(live: unknown[], config: unknown[], meta: PatchMeta): unknown[] {
  const l = indexList(live, meta);
  const r = indexList(config, meta);
  const mergeItem = (pe: PathElement) => {
    const lItem = l.duplicates.has(pe) ? undefined : l.items.get(pe);
    return mergeApplied(lItem, r.items.get(pe), meta.elem);
  };
  const shared = r.elements.filter((pe) => l.items.has(pe));
  let nextShared = shared.shift();
  const mergedFromConfig = new Set<PathElement>();
  const out: unknown[] = [];
  let li = 0;
  let ri = 0;
  while (li < l.elements.length || ri < r.elements.length) {
    if (li < l.elements.length && ri < r.elements.length) {
      const pe = l.elements[li];
      if (pe === r.elements[ri]) {
        mergedFromConfig.add(pe);
        out.push(mergeItem(pe));
        li++;
        ri++;
        nextShared = shared.shift();
        continue;
      }
      // A shared item further down the configuration: it is emitted in the configuration's order.
      if (r.items.has(pe) && nextShared !== undefined && nextShared !== pe) {
        li++;
        continue;
      }
    }
    if (li < l.elements.length) {
      const pe = l.elements[li];
      if (!r.items.has(pe)) {
        out.push(live[li]);
        li++;
        continue;
      }
      if (mergedFromConfig.has(pe)) {
        li++;
        continue;
      }
    }
    if (ri < r.elements.length) {
      const pe = r.elements[ri];
      mergedFromConfig.add(pe);
      out.push(mergeItem(pe));
      ri++;
      if (nextShared === pe) nextShared = shared.shift();
    }
  }
  return out;
}

/**
 * Removes every member of `set` from `value`: a member field or list item goes with
 * everything below it; atomic values are never entered. Maps of entries and lists that
 * end up empty are dropped, as Go's `omitempty` would drop them.
 */
export function removeItems(value: unknown, set: FieldSet, meta: PatchMeta): unknown {
  if (meta.kind === 'atomic') return value;
  if (isMap(value) && meta.kind !== 'list') {
    const out: JsonMap = {};
    for (const [k, v] of Object.entries(value)) {
      const sub = set.children.get(fieldElement(k));
      if (!sub) {
        setOwn(out, k, v);
        continue;
      }
      if (sub.member) continue;
      const child = meta.field(k);
      const kept = removeItems(v, sub, child);
      if (becameEmpty(v, kept) && (child.kind === 'map' || Array.isArray(kept))) continue;
      setOwn(out, k, kept);
    }
    return out;
  }
  if (Array.isArray(value) && isGranularList(meta)) {
    const out: unknown[] = [];
    for (const item of value) {
      const pe = listItemElement(item, meta);
      const sub = typeof pe === 'string' ? set.children.get(pe) : undefined;
      if (!sub) out.push(item);
      else if (!sub.member) out.push(removeItems(item, sub, meta.elem));
    }
    return out;
  }
  return value;
}

function becameEmpty(before: unknown, after: unknown): boolean {
  const size = (v: unknown) => (Array.isArray(v) ? v.length : isMap(v) ? Object.keys(v).length : -1);
  return size(after) === 0 && size(before) > 0;
}

/** Paths of a set as structured-merge-diff prints them, for tests and messages. */
export function describePaths(set: FieldSet): string[] {
  return set.paths().map((p: FieldPath) => pathString(p));
}
