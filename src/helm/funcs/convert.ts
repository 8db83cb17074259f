/** @module Go conversions shared by the function library: spf13/cast's ToInt64/ToFloat64, sprig's strval and empty, reflect.DeepEqual, Go runtime panics and byte-indexed strings. */
import { formatValue } from '../template/fmt.js';
import { GoError, GoTyped, goElemType, goMethods, goTypeName, isGoFunc, isGoMap, isGoStruct, type GoObject, type GoValue } from '../template/values.js';

/** Go's int64 wrap-around. */
export function int64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** Wraps a JS value as Go int64. */
export function i64(v: bigint): GoTyped {
  return new GoTyped('int64', int64(v));
}

const MIN_INT64 = -(1n << 63n);

/** float64 → int64 as Go converts it (truncation; out of range and NaN give the minimum int64, as on amd64). */
export function floatToInt64(f: number): bigint {
  if (!Number.isFinite(f) || f >= 9223372036854775808 || f < -9223372036854775808) return MIN_INT64;
  return BigInt(Math.trunc(f));
}

/** Integer value of any Go integer kind, or undefined. */
export function goInt(v: GoValue): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (v instanceof GoTyped && v.type !== 'float32') return typeof v.value === 'bigint' ? v.value : BigInt(v.value);
  return undefined;
}

/** Float value of a Go float kind, or undefined. */
export function goFloat(v: GoValue): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof GoTyped && v.type === 'float32') return Number(v.value);
  return undefined;
}

/** A JS number out of an int-typed parameter (the engine passes bigint, GoTyped or number). */
export function num(v: GoValue): number {
  const i = goInt(v);
  if (i !== undefined) return Number(i);
  const f = goFloat(v);
  if (f !== undefined) return Math.trunc(f);
  return 0;
}

/** strings.TrimRight of trailing zeros after a decimal point ("1.00" → "1"), as cast does before ParseInt. */
function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') {
      if (foundZero) return s.slice(0, i - 1);
    } else if (c === '0') foundZero = true;
    else return s;
  }
  return s;
}

/** strconv.ParseInt(s, 0, 64): sign, base prefixes 0x 0o 0b and leading-0 octal, underscores between digits. */
export function parseGoInt(s: string, base = 0): bigint | undefined {
  let t = s;
  let neg = false;
  if (t.startsWith('+') || t.startsWith('-')) {
    neg = t[0] === '-';
    t = t.slice(1);
  }
  let b = base;
  let prefixed = false;
  if (base === 0) {
    b = 10;
    if (/^0[xX]/.test(t)) {
      b = 16;
      t = t.slice(2);
      prefixed = true;
    } else if (/^0[oO]/.test(t)) {
      b = 8;
      t = t.slice(2);
      prefixed = true;
    } else if (/^0[bB]/.test(t)) {
      b = 2;
      t = t.slice(2);
      prefixed = true;
    } else if (t.length > 1 && t[0] === '0') {
      b = 8;
      t = t.slice(1);
      prefixed = true;
    }
    if (t.includes('_')) {
      // Underscores only between digits (or right after a prefix).
      if (!/^_?[0-9a-zA-Z]+(_[0-9a-zA-Z]+)*$/.test(t) || (t.startsWith('_') && !prefixed)) return undefined;
      t = t.replace(/_/g, '');
    }
  }
  if (t === '') return undefined;
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, b);
  let v = 0n;
  for (const ch of t.toLowerCase()) {
    const d = digits.indexOf(ch);
    if (d < 0) return undefined;
    v = v * BigInt(b) + BigInt(d);
  }
  if (neg) v = -v;
  if (v < MIN_INT64 || v > (1n << 63n) - 1n) return undefined;
  return v;
}

/** strconv.ParseFloat(s, 64) (decimal and hex forms, inf, nan). */
export function parseGoFloat(s: string): number | undefined {
  const t = s.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (t === 'nan') return NaN;
  if (/^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)(e[+-]?\d+)?$/.test(t)) {
    if (t.includes('_')) return undefined;
    return Number(t);
  }
  const hex = /^([+-]?)0x([0-9a-f]*)\.?([0-9a-f]*)p([+-]?\d+)$/.exec(t);
  if (hex && (hex[2] || hex[3])) {
    const mant = parseInt((hex[2] || '0') + (hex[3] || ''), 16);
    const v = mant * 2 ** (Number(hex[4]) - 4 * (hex[3] ?? '').length);
    return hex[1] === '-' ? -v : v;
  }
  return undefined;
}

/** cast.ToInt64 as sprig uses it: errors become 0. */
export function toInt64(v: GoValue): bigint {
  if (v === null || v === undefined) return 0n;
  const i = goInt(v);
  if (i !== undefined) return int64(i);
  const f = goFloat(v);
  if (f !== undefined) return floatToInt64(f);
  if (typeof v === 'string') return parseGoInt(trimZeroDecimal(v)) ?? 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return 0n;
}

/** cast.ToFloat64 as sprig uses it: errors become 0. */
export function toFloat64(v: GoValue): number {
  if (v === null || v === undefined) return 0;
  const i = goInt(v);
  if (i !== undefined) return Number(i);
  const f = goFloat(v);
  if (f !== undefined) return f;
  if (typeof v === 'string') return parseGoFloat(v) ?? 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return 0;
}

/** sprig's strval: strings and []byte as text, errors and Stringers through their method, else %v. */
export function strval(v: GoValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return formatValue(v);
}

/** sprig's empty: the zero value of its type (structs never are). */
export function empty(v: GoValue): boolean {
  if (v === null || v === undefined) return true;
  switch (typeof v) {
    case 'boolean':
      return !v;
    case 'string':
      return v.length === 0;
    case 'bigint':
      return v === 0n;
    case 'number':
      return v === 0;
  }
  if (v instanceof GoTyped) return Number(v.value) === 0;
  if (v instanceof Uint8Array || Array.isArray(v)) return v.length === 0;
  if (isGoFunc(v)) return false;
  if (isGoStruct(v)) return false;
  return Object.keys(v).length === 0;
}

/** reflect.DeepEqual over the value model (types must match: int 1 ≠ float64 1). */
export function deepEqual(a: GoValue, b: GoValue): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (typeof a !== 'object' || typeof b !== 'object') return typeof a === typeof b && a === b;
  if (a instanceof GoTyped || b instanceof GoTyped) return a instanceof GoTyped && b instanceof GoTyped && a.type === b.type && a.value === b.value;
  if (a instanceof Uint8Array || b instanceof Uint8Array) return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || elemType(a) !== elemType(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]!));
  }
  if (isGoFunc(a) || isGoFunc(b)) return false;
  if (isGoStruct(a) !== isGoStruct(b)) return false;
  if (isGoStruct(a) && a[goTypeName] !== (b as GoObject)[goTypeName]) return false;
  if (isGoMap(a) && elemType(a) !== elemType(b as GoObject)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b as GoObject);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as GoObject)[k], (b as GoObject)[k]));
}

function elemType(v: object): string | undefined {
  return (v as { [goElemType]?: string })[goElemType];
}

/** A Go runtime panic (text/template turns it into "error calling NAME: runtime error: …"). */
export function runtimeError(msg: string): GoError {
  return new GoError('runtime error: ' + msg);
}

/** The panic of reflect.TypeOf(nil).Kind(): sprig's list functions called on nil. */
export function nilDeref(): GoError {
  return runtimeError('invalid memory address or nil pointer dereference');
}

/** Elements of a Go slice or array value (reflect Slice/Array kind), or undefined for other kinds. */
export function sliceElems(v: GoValue): GoValue[] | undefined {
  if (Array.isArray(v)) return v;
  if (v instanceof Uint8Array) return Array.from(v, (b) => new GoTyped('uint8', BigInt(b)));
  return undefined;
}

/** The reflect.Kind name sprig's error messages print ("Cannot find first on type string"). */
export { goKindString as kindName } from '../template/fmt.js';

/** Byte length of a Go string. */
export function byteLen(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** s[a:b] on the UTF-8 bytes, with Go's panics for bad bounds. */
export function byteSlice(s: string, a: number | undefined, b: number | undefined): string {
  const buf = Buffer.from(s, 'utf8');
  const len = buf.length;
  const lo = a ?? 0;
  const hi = b ?? len;
  if (b !== undefined && (hi > len || hi < 0)) throw runtimeError(`slice bounds out of range [:${hi}] with length ${len}`);
  if (lo > hi || lo < 0) throw runtimeError(`slice bounds out of range [${lo}:${hi}]`);
  if (/^[\x00-\x7f]*$/.test(s)) return s.slice(lo, hi);
  return buf.subarray(lo, hi).toString('utf8');
}

/** Does the value carry a Go method (Stringer, Error…) of this name? */
export function hasMethod(v: GoValue, name: string): boolean {
  return typeof v === 'object' && v !== null && !!(v as GoObject)[goMethods]?.[name];
}

/** unicode.IsSpace. */
export function isSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(ch);
}
