/**
 * @module Field sets of server-side apply, as structured-merge-diff models them: trees of
 * path elements (`f:name` field, `k:{"name":"x"}` list item by key, `v:"x"` set item,
 * `i:0` index) where a node may itself be a member (`.` in FieldsV1). Sets serialize to
 * and from the FieldsV1 JSON stored in metadata.managedFields.
 */
import { isMap, type JsonMap } from './values.js';

/** A serialized path element, e.g. `f:spec`, `k:{"containerPort":80,"protocol":"TCP"}`, `v:"a"`, `i:0`. */
export type PathElement = string;
export type FieldPath = readonly PathElement[];

/** A node of a field set: `member` is the path itself; `children` the paths below it. */
export class FieldSet {
  member = false;
  readonly children = new Map<PathElement, FieldSet>();

  static of(...paths: FieldPath[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: FieldPath): void {
    let node: FieldSet = this;
    for (const pe of path) {
      let next = node.children.get(pe);
      if (!next) {
        next = new FieldSet();
        node.children.set(pe, next);
      }
      node = next;
    }
    if (path.length > 0) node.member = true;
  }

  has(path: FieldPath): boolean {
    const node = this.at(path);
    return node !== undefined && node.member && path.length > 0;
  }

  /** The subtree below `path` (its members are relative to it), if any. */
  at(path: FieldPath): FieldSet | undefined {
    let node: FieldSet | undefined = this;
    for (const pe of path) {
      node = node.children.get(pe);
      if (!node) return undefined;
    }
    return node;
  }

  /** True when no path is a member. */
  empty(): boolean {
    for (const child of this.children.values()) if (child.member || !child.empty()) return false;
    return true;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    out.member = this.member;
    for (const [pe, child] of this.children) out.children.set(pe, child.clone());
    return out;
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    mergeInto(out, other);
    return out;
  }

  /** Members of this set that are not members of `other`. */
  difference(other: FieldSet): FieldSet {
    return combine(this, other, (a, b) => a && !b) ?? new FieldSet();
  }

  intersection(other: FieldSet): FieldSet {
    return combine(this, other, (a, b) => a && b) ?? new FieldSet();
  }

  /** Drops the given paths and everything below them (kube's reset-fields filter). */
  withoutPrefixes(prefixes: readonly FieldPath[]): FieldSet {
    const out = this.clone();
    for (const prefix of prefixes) {
      if (prefix.length === 0) return new FieldSet();
      const parent = out.at(prefix.slice(0, -1));
      parent?.children.delete(prefix[prefix.length - 1]);
    }
    return prune(out) ?? new FieldSet();
  }

  /** Keeps only the given paths and everything below them. */
  onlyPrefixes(prefixes: readonly FieldPath[]): FieldSet {
    const out = new FieldSet();
    for (const prefix of prefixes) {
      const node = this.at(prefix);
      if (!node) continue;
      let target: FieldSet = out;
      for (const pe of prefix.slice(0, -1)) {
        let next = target.children.get(pe);
        if (!next) {
          next = new FieldSet();
          target.children.set(pe, next);
        }
        target = next;
      }
      if (prefix.length === 0) return this.clone();
      target.children.set(prefix[prefix.length - 1], node.clone());
    }
    return prune(out) ?? new FieldSet();
  }

  /**
   * Makes every field (`f:`) on the way to a member a member itself: structured-merge-diff's
   * EnsureNamedFieldsAreMembers, which lets pruning remove a whole struct field.
   */
  withNamedFieldsAsMembers(): FieldSet {
    const out = this.clone();
    const walk = (node: FieldSet) => {
      for (const [pe, child] of node.children) {
        if (pe.startsWith('f:')) child.member = true;
        walk(child);
      }
    };
    walk(out);
    return out;
  }

  /** Every member path, in structured-merge-diff's order: a node's member children first, then each subtree. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    const walk = (node: FieldSet, prefix: PathElement[]) => {
      const keys = [...node.children.keys()].sort(comparePathElements);
      for (const pe of keys) if (node.children.get(pe)!.member) out.push([...prefix, pe]);
      for (const pe of keys) {
        const child = node.children.get(pe)!;
        if (child.children.size > 0) walk(child, [...prefix, pe]);
      }
    };
    walk(this, []);
    return out;
  }

  /** The FieldsV1 JSON of this set: `{"f:spec":{"f:replicas":{}}}`, "." marking a member with children. */
  toFieldsV1(): JsonMap {
    const encode = (node: FieldSet, root: boolean): JsonMap => {
      const out: JsonMap = {};
      if (!root && node.member && node.children.size > 0) out['.'] = {};
      for (const pe of [...node.children.keys()].sort(comparePathElements)) {
        const child = node.children.get(pe)!;
        if (!child.member && child.empty()) continue;
        out[pe] = encode(child, false);
      }
      return out;
    };
    return encode(this, true);
  }

  /** Parses FieldsV1 JSON; throws a plain Error describing the first malformed entry. */
  static fromFieldsV1(json: unknown): FieldSet {
    const decode = (value: unknown, node: FieldSet, where: string) => {
      if (!isMap(value)) throw new Error(`expected an object at ${where || 'the root'}`);
      for (const [key, child] of Object.entries(value)) {
        if (key === '.') {
          if (where === '') throw new Error('unexpected "." at the root');
          node.member = true;
          continue;
        }
        const pe = canonicalPathElement(key);
        let next = node.children.get(pe);
        if (!next) {
          next = new FieldSet();
          node.children.set(pe, next);
        }
        if (isMap(child) && Object.keys(child).length === 0) next.member = true;
        else decode(child, next, `${where}${pathElementString(pe)}`);
      }
    };
    const set = new FieldSet();
    decode(json, set, '');
    return set;
  }
}

function mergeInto(target: FieldSet, source: FieldSet): void {
  target.member ||= source.member;
  for (const [pe, child] of source.children) {
    const existing = target.children.get(pe);
    if (existing) mergeInto(existing, child);
    else target.children.set(pe, child.clone());
  }
}

function combine(a: FieldSet, b: FieldSet | undefined, keep: (inA: boolean, inB: boolean) => boolean): FieldSet | undefined {
  const out = new FieldSet();
  for (const [pe, child] of a.children) {
    const other = b?.children.get(pe);
    const sub = combine(child, other, keep);
    const member = keep(child.member, other?.member ?? false);
    if (sub || member) {
      const node = sub ?? new FieldSet();
      node.member = member;
      out.children.set(pe, node);
    }
  }
  return out.children.size > 0 ? out : undefined;
}

function prune(node: FieldSet): FieldSet | undefined {
  for (const [pe, child] of [...node.children]) {
    const kept = prune(child);
    if (!kept && !child.member) node.children.delete(pe);
  }
  return node.children.size > 0 || node.member ? node : undefined;
}

/** `f:<name>` */
export function fieldElement(name: string): PathElement {
  return `f:${name}`;
}

/** `k:{...}` with the key fields sorted by name, as structured-merge-diff keeps them. */
export function keyElement(fields: Record<string, unknown>): PathElement {
  return `k:${canonicalJson(fields)}`;
}

/** `v:<json>` for an item of a set list. */
export function valueElement(value: unknown): PathElement {
  return `v:${canonicalJson(value)}`;
}

export function indexElement(i: number): PathElement {
  return `i:${i}`;
}

/** JSON with object keys sorted, so equal values give equal path elements. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isMap(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

function canonicalPathElement(key: string): PathElement {
  const kind = key.slice(0, 2);
  const body = key.slice(2);
  switch (kind) {
    case 'f:':
      return key;
    case 'k:': {
      const parsed = parseJson(body, key);
      if (!isMap(parsed)) throw new Error(`invalid key path element ${JSON.stringify(key)}`);
      return keyElement(parsed);
    }
    case 'v:':
      return valueElement(parseJson(body, key));
    case 'i:':
      if (!/^\d+$/.test(body)) throw new Error(`invalid index path element ${JSON.stringify(key)}`);
      return key;
    default:
      throw new Error(`unknown path element ${JSON.stringify(key)}`);
  }
}

function parseJson(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`invalid path element ${JSON.stringify(key)}`);
  }
}

/** Go's value.ToString: strings quoted, everything else plain. */
function valueString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v) || isMap(v)) return canonicalJson(v);
  return String(v);
}

/** One element as structured-merge-diff prints it: `.name`, `[name="x",port=80]`, `[="v"]`, `[0]`. */
export function pathElementString(pe: PathElement): string {
  const body = pe.slice(2);
  switch (pe.slice(0, 2)) {
    case 'f:':
      return `.${body}`;
    case 'k:': {
      const fields = JSON.parse(body) as JsonMap;
      return `[${Object.keys(fields)
        .sort()
        .map((k) => `${k}=${valueString(fields[k])}`)
        .join(',')}]`;
    }
    case 'v:':
      return `[=${valueString(JSON.parse(body))}]`;
    case 'i:':
      return `[${body}]`;
    default:
      return '{{invalid path element}}';
  }
}

/** `.spec.template.spec.containers[name="nginx"].image` */
export function pathString(path: FieldPath): string {
  return path.map(pathElementString).join('');
}

const KIND_RANK: Record<string, number> = { 'f:': 0, 'k:': 1, 'v:': 2, 'i:': 3 };

/** structured-merge-diff's ordering of path elements: fields, then keys, values, indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  const ka = KIND_RANK[a.slice(0, 2)] ?? 4;
  const kb = KIND_RANK[b.slice(0, 2)] ?? 4;
  if (ka !== kb) return ka - kb;
  const ba = a.slice(2);
  const bb = b.slice(2);
  switch (ka) {
    case 0:
      return compareStrings(ba, bb);
    case 1:
      return compareKeys(JSON.parse(ba) as JsonMap, JSON.parse(bb) as JsonMap);
    case 2:
      return compareValues(JSON.parse(ba), JSON.parse(bb));
    case 3:
      return Number(ba) - Number(bb);
    default:
      return compareStrings(a, b);
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(a: JsonMap, b: JsonMap): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  for (let i = 0; ; i++) {
    if (i >= ka.length && i >= kb.length) return 0;
    if (i >= ka.length) return -1;
    if (i >= kb.length) return 1;
    const c = compareStrings(ka[i], kb[i]) || compareValues(a[ka[i]], b[kb[i]]);
    if (c !== 0) return c;
  }
}

/** structured-merge-diff's total order of values: numbers < strings < booleans < lists < maps < null. */
function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown) =>
    typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : Array.isArray(v) ? 3 : isMap(v) ? 4 : 5;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return (a as number) - (b as number);
  if (ra === 1) return compareStrings(a as string, b as string);
  if (ra === 2) return Number(a) - Number(b);
  return compareStrings(canonicalJson(a), canonicalJson(b));
}
