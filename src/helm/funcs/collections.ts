/** @module sprig's list and dict functions (list.go, dict.go) with mergo's merge rules and Go's panics as errors. */
import { compareGoStrings, goKindString, goTypeString } from '../template/fmt.js';
import { GoError, GoTyped, goElemType, goFunc, isGoMap, isGoStruct, typedGo, type GoFunc, type GoObject, type GoValue } from '../template/values.js';
import { deepEqual, empty, nilDeref, num, sliceElems, strval, toInt64 } from './convert.js';

const I = 'interface{}';
const M = 'map[string]interface{}';

/** The list functions' reflect dispatch: slices and arrays, else "Cannot VERB on type KIND". */
function listOf(v: GoValue, what: string): GoValue[] {
  if (v === null || v === undefined) throw nilDeref();
  const elems = sliceElems(v);
  if (!elems) throw new GoError(`${what} ${goKindString(v)}`);
  return elems;
}

function elemTypeOf(v: GoValue): string | undefined {
  return Array.isArray(v) ? (v as { [goElemType]?: string })[goElemType] : v instanceof Uint8Array ? 'uint8' : undefined;
}

/** A pair of GoFuncs NAME / mustNAME that share one implementation (sprig panics in the first, returns the error in the second; templates see both as errors). */
function both(f: Record<string, GoFunc>, name: string, fn: GoFunc): void {
  f[name] = fn;
  f['must' + name[0]!.toUpperCase() + name.slice(1)] = fn;
}

/** copystructure.Copy of the value model. */
export function deepCopy(v: GoValue): GoValue {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) {
    const out = v.map(deepCopy);
    const et = elemTypeOf(v);
    return et ? typedGo(out, et) : out;
  }
  if (typeof v === 'object' && !(v instanceof GoTyped) && (isGoMap(v) || isGoStruct(v))) {
    const out: GoObject = {};
    for (const k of Object.keys(v)) out[k] = deepCopy(v[k]);
    for (const s of Object.getOwnPropertySymbols(v)) Object.defineProperty(out, s, { value: (v as Record<symbol, unknown>)[s], enumerable: false });
    return out;
  }
  return v;
}

function isSliceKind(v: GoValue): boolean {
  return Array.isArray(v) || v instanceof Uint8Array;
}

/** mergo.isEmptyValue. */
function mergoEmpty(v: GoValue): boolean {
  if (isGoStruct(v)) return false;
  return empty(v);
}

/** mergo.Merge / MergeWithOverwrite of map[string]interface{} src into dst, in place. */
export function mergoMerge(dst: GoObject, src: GoObject, overwrite: boolean): void {
  for (const key of Object.keys(src)) {
    const s = src[key];
    const hasDst = Object.prototype.hasOwnProperty.call(dst, key);
    const d = hasDst ? dst[key] : undefined;
    if (s === null || s === undefined) {
      if (overwrite) dst[key] = null;
      continue;
    }
    if (isGoMap(s)) {
      if (hasDst && d !== null && d !== undefined && isGoMap(d)) mergoMerge(d, s, overwrite);
    } else if (isSliceKind(s)) {
      // mergo decides with the emptiness of the parent maps here, not of the elements.
      let ds: GoValue = !hasDst || d === null || d === undefined ? [] : d;
      if (!mergoEmpty(src) && (overwrite || mergoEmpty(dst))) ds = s;
      dst[key] = ds;
    }
    if (hasDst && !mergoEmpty(d) && (isGoMap(s) || isSliceKind(s))) continue;
    if (overwrite || !hasDst || mergoEmpty(d)) dst[key] = s;
  }
}

function typeAssertion(v: GoValue, want: string): GoError {
  return new GoError(`interface conversion: interface {} is ${v === null || v === undefined ? 'nil' : goTypeString(v)}, not ${want}`);
}

export function collectionFuncs(): Record<string, GoFunc> {
  const f: Record<string, GoFunc> = {};
  const list = goFunc([], (...xs: GoValue[]) => xs, { variadic: I, result: '[]interface{}' });
  f.list = list;
  f.tuple = list;
  const push = goFunc([I, I], (l, v) => [...listOf(l, 'Cannot push on type'), v], { result: '[]interface{}' });
  both(f, 'append', push);
  both(f, 'push', push);
  both(f, 'prepend', goFunc([I, I], (l, v) => [v, ...listOf(l, 'Cannot prepend on type')], { result: '[]interface{}' }));
  both(f, 'chunk', goFunc(['int', I], (size, l) => {
    const xs = listOf(l, 'Cannot chunk type');
    const n = num(size);
    const len = xs.length;
    const count = Math.floor((len - 1) / n) + 1;
    if (!Number.isFinite(count) || count < 0) throw new GoError('runtime error: makeslice: len out of range');
    const out: GoValue[] = [];
    for (let i = 0; i < count; i++) {
      let clen = n;
      if (i === count - 1) {
        clen = Math.floor(len % n);
        if (clen === 0) clen = n;
      }
      if (i * n + clen > len) throw new GoError(`runtime error: index out of range [${len}] with length ${len}`);
      out.push(xs.slice(i * n, i * n + clen));
    }
    return typedGo(out, '[]interface {}');
  }, { result: '[][]interface{}' }));
  both(f, 'last', goFunc([I], (l) => {
    const xs = listOf(l, 'Cannot find last on type');
    return xs.length === 0 ? null : xs[xs.length - 1]!;
  }));
  both(f, 'first', goFunc([I], (l) => {
    const xs = listOf(l, 'Cannot find first on type');
    return xs.length === 0 ? null : xs[0]!;
  }));
  both(f, 'rest', goFunc([I], (l) => listOf(l, 'Cannot find rest on type').slice(1), { result: '[]interface{}' }));
  both(f, 'initial', goFunc([I], (l) => listOf(l, 'Cannot find initial on type').slice(0, -1), { result: '[]interface{}' }));
  both(f, 'reverse', goFunc([I], (l) => [...listOf(l, 'Cannot find reverse on type')].reverse(), { result: '[]interface{}' }));
  both(f, 'compact', goFunc([I], (l) => listOf(l, 'Cannot compact on type').filter((x) => !empty(x)), { result: '[]interface{}' }));
  both(f, 'uniq', goFunc([I], (l) => {
    const out: GoValue[] = [];
    for (const x of listOf(l, 'Cannot find uniq on type')) if (!out.some((y) => deepEqual(x, y))) out.push(x);
    return out;
  }, { result: '[]interface{}' }));
  both(f, 'without', goFunc([I], (l, ...omit: GoValue[]) => listOf(l, 'Cannot find without on type').filter((x) => !omit.some((o) => deepEqual(x, o))), { variadic: I, result: '[]interface{}' }));
  both(f, 'has', goFunc([I, I], (needle, hay) => {
    if (hay === null || hay === undefined) return false;
    return listOf(hay, 'Cannot find has on type').some((x) => deepEqual(needle, x));
  }, { result: 'bool' }));
  both(f, 'slice', goFunc([I], (l, ...idx: GoValue[]) => {
    const xs = listOf(l, 'list should be type of slice or array but');
    if (xs.length === 0) return null;
    const start = idx.length > 0 ? Number(toInt64(idx[0]!)) : 0;
    const end = idx.length < 2 ? xs.length : Number(toInt64(idx[1]!));
    if (start < 0 || end < start || end > xs.length) throw new GoError('reflect.Value.Slice: slice index out of bounds');
    if (l instanceof Uint8Array) return l.slice(start, end);
    const out = xs.slice(start, end);
    const et = elemTypeOf(l);
    return et ? typedGo(out, et) : out;
  }, { variadic: I }));
  f.concat = goFunc([], (...lists: GoValue[]) => {
    const out: GoValue[] = [];
    for (const l of lists) {
      if (l === null || l === undefined) throw nilDeref();
      const xs = sliceElems(l);
      if (!xs) throw new GoError(`Cannot concat type ${goKindString(l)} as list`);
      out.push(...xs);
    }
    return out;
  }, { variadic: I });
  f.sortAlpha = goFunc([I], (l) => {
    if (isSliceKind(l)) return typedGo(toStrings(l).sort(compareGoStrings), 'string');
    return typedGo([strval(l)], 'string');
  }, { result: '[]string' });
  f.toStrings = goFunc([I], (v) => typedGo(toStrings(v), 'string'), { result: '[]string' });
  f.join = goFunc(['string', I], (sep: string, v) => toStrings(v).join(sep), { result: 'string' });

  // dicts
  f.dict = goFunc([], (...kv: GoValue[]) => {
    const out: GoObject = {};
    for (let i = 0; i < kv.length; i += 2) out[strval(kv[i]!)] = i + 1 < kv.length ? kv[i + 1]! : '';
    return out;
  }, { variadic: I, result: M });
  f.get = goFunc([M, 'string'], (d: GoObject, k: string) => (Object.prototype.hasOwnProperty.call(d, k) ? d[k]! : ''));
  f.set = goFunc([M, 'string', I], (d: GoObject, k: string, v) => {
    if (d === null || d === undefined) throw new GoError('assignment to entry in nil map');
    d[k] = v;
    return d;
  }, { result: M });
  f.unset = goFunc([M, 'string'], (d: GoObject, k: string) => {
    if (d) delete d[k];
    return d;
  }, { result: M });
  f.hasKey = goFunc([M, 'string'], (d: GoObject, k: string) => !!d && Object.prototype.hasOwnProperty.call(d, k), { result: 'bool' });
  f.pluck = goFunc(['string'], (k: string, ...ds: GoObject[]) => ds.filter((d) => d && Object.prototype.hasOwnProperty.call(d, k)).map((d) => d[k]!), { variadic: M, result: '[]interface{}' });
  f.keys = goFunc([], (...ds: GoObject[]) => typedGo(ds.flatMap((d) => (d ? Object.keys(d) : [])), 'string'), { variadic: M, result: '[]string' });
  f.values = goFunc([M], (d: GoObject) => (d ? Object.keys(d).map((k) => d[k]!) : []), { result: '[]interface{}' });
  f.pick = goFunc([M], (d: GoObject, ...ks: string[]) => {
    const out: GoObject = {};
    for (const k of ks) if (d && Object.prototype.hasOwnProperty.call(d, k)) out[k] = d[k]!;
    return out;
  }, { variadic: 'string', result: M });
  f.omit = goFunc([M], (d: GoObject, ...ks: string[]) => {
    const out: GoObject = {};
    for (const k of d ? Object.keys(d) : []) if (!ks.includes(k)) out[k] = d[k]!;
    return out;
  }, { variadic: 'string', result: M });
  const merger = (overwrite: boolean) =>
    goFunc([M], (dst: GoObject, ...srcs: GoObject[]) => {
      for (const s of srcs) if (s) mergoMerge(dst, s, overwrite);
      return dst;
    }, { variadic: M });
  both(f, 'merge', merger(false));
  both(f, 'mergeOverwrite', merger(true));
  both(f, 'deepCopy', goFunc([I], (v) => {
    if (v === null || v === undefined) throw new GoError('reflect: call of reflect.Value.Type on zero Value');
    return deepCopy(v);
  }));
  f.dig = goFunc([], (...ps: GoValue[]) => {
    if (ps.length < 3) throw new GoError('dig needs at least three arguments');
    const d = ps[ps.length - 1]!;
    if (!isGoMap(d) || (d as { [goElemType]?: string })[goElemType]) throw typeAssertion(d, 'map[string]interface {}');
    const def = ps[ps.length - 2]!;
    const keys = ps.slice(0, -2).map((k) => {
      if (typeof k !== 'string') throw typeAssertion(k, 'string');
      return k;
    });
    let cur: GoObject = d;
    for (let i = 0; i < keys.length; i++) {
      if (!Object.prototype.hasOwnProperty.call(cur, keys[i]!)) return def;
      const step = cur[keys[i]!]!;
      if (i === keys.length - 1) return step;
      if (!isGoMap(step)) throw typeAssertion(step, 'map[string]interface {}');
      cur = step;
    }
    return def;
  }, { variadic: I });

  // sequences
  f.until = goFunc(['int'], (c) => {
    const n = num(c);
    return untilStep(0, n, n < 0 ? -1 : 1);
  }, { result: '[]int' });
  f.untilStep = goFunc(['int', 'int', 'int'], (a, b, s) => untilStep(num(a), num(b), num(s)), { result: '[]int' });
  f.seq = goFunc([], (...ps: GoValue[]) => seq(ps.map(num)), { variadic: 'int', result: 'string' });
  return f;
}

/** sprig's strslice (toStrings): nil elements dropped, others through strval. */
export function toStrings(v: GoValue): string[] {
  if (v === null || v === undefined) return [];
  const xs = sliceElems(v);
  if (xs) return xs.filter((x) => x !== null && x !== undefined).map(strval);
  return [strval(v)];
}

export function untilStep(start: number, stop: number, step: number): GoValue[] {
  const out: GoValue[] = [];
  if (stop < start) {
    if (step >= 0) return typedGo(out, 'int');
    for (let i = start; i > stop; i += step) out.push(BigInt(i));
    return typedGo(out, 'int');
  }
  if (step <= 0) return typedGo(out, 'int');
  for (let i = start; i < stop; i += step) out.push(BigInt(i));
  return typedGo(out, 'int');
}

function seq(ps: number[]): string {
  const join = (xs: GoValue[]) => xs.map(String).join(' ');
  switch (ps.length) {
    case 0:
      return '';
    case 1: {
      const end = ps[0]!;
      const inc = end < 1 ? -1 : 1;
      return join(untilStep(1, end + inc, inc));
    }
    case 2: {
      const [start, end] = ps as [number, number];
      const step = end < start ? -1 : 1;
      return join(untilStep(start, end + step, step));
    }
    case 3: {
      const [start, step, end] = ps as [number, number, number];
      let inc = 1;
      if (end < start) {
        inc = -1;
        if (step > 0) return '';
      }
      return join(untilStep(start, end + inc, step));
    }
    default:
      return '';
  }
}
