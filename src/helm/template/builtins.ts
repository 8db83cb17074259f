/**
 * @module text/template's predefined functions (Go 1.19): and, or, not, len, index, slice,
 * call, eq/ne/lt/le/gt/ge with Go's basic-kind comparison rules, print/printf/println,
 * html, js and urlquery — with the error messages Go's reflection produces.
 */
import { sprint, sprintf, sprintln, compareGoStrings } from './fmt.js';
import { isPrint } from './strconv.js';
import { Iface, argValue, assignable, basicKind, canBeNil, convertInt, elem, floatOf, goLen, intOf, isIntLike, isMapValue, paramTypeString, truth, typeOf, unwrap, utf8Length, zeroOf, elemType, type V } from './reflect.js';
import type { BuiltinFunc } from './exec.js';
import { GoError, GoTyped, isGoFunc, isGoStruct, typedGo, type GoParamType, type GoValue } from './values.js';

function builtin(params: GoParamType[], fn: (...args: V[]) => V, variadic?: GoParamType, result?: string): BuiltinFunc {
  return { kind: 'func', params, fn, variadic, result, builtin: true };
}

const RV: GoParamType = 'reflect.Value';

/** indexArg: an integer index within [0, cap]. */
function indexArg(index: V, cap: number): number {
  if (index instanceof Iface) throw new GoError('cannot index slice/array with type interface {}');
  const v = unwrap(index);
  const k = basicKind(v);
  if (v === undefined) throw new GoError('cannot index slice/array with nil');
  if (k !== 'int' && k !== 'uint') throw new GoError(`cannot index slice/array with type ${typeOf(v)}`);
  const x = intOf(v);
  if (x < 0n || x > BigInt(cap)) throw new GoError(`index out of range: ${x}`);
  return Number(x);
}

/** prepareArg: a value for a parameter of type t (nil → zero; int kinds convert). */
function prepareArg(value: V, t: string): V {
  if (value === undefined) {
    if (!canBeNil(t)) throw new GoError(`value is nil; should be of type ${paramTypeString(t)}`);
    return zeroOf(t);
  }
  if (assignable(value, t)) return value;
  const v = unwrap(value);
  if (isIntLike(typeOf(v)) && isIntLike(t)) return convertInt(v, t);
  throw new GoError(`value has type ${typeOf(value)}; should be ${paramTypeString(t)}`);
}

/** The type after reflect's indirect() follows a pointer (struct pointers print as the struct). */
function derefType(t: string): string {
  return t.startsWith('*') ? t.slice(1) : t;
}

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

function index(item: V, ...indexes: V[]): V {
  let cur: V = unwrap(item);
  if (cur === undefined) throw new GoError('index of untyped nil');
  for (const ix of indexes) {
    // index() looks through interface values; slice() (below) does not.
    const index = unwrap(ix);
    const v: GoValue = cur instanceof Iface ? cur.v : cur;
    if (v === null || v === undefined) throw new GoError('index of nil pointer');
    if (Array.isArray(v)) {
      const x = indexArg(index, v.length);
      if (x >= v.length) throw new GoError('reflect: slice index out of range');
      cur = elem(v, v[x]);
    } else if (v instanceof Uint8Array) {
      const x = indexArg(index, v.length);
      if (x >= v.length) throw new GoError('reflect: slice index out of range');
      cur = new GoTyped('uint8', BigInt(v[x]!));
    } else if (typeof v === 'string') {
      const b = utf8(v);
      const x = indexArg(index, b.length);
      if (x >= b.length) throw new GoError('reflect: string index out of range');
      cur = new GoTyped('uint8', BigInt(b[x]!));
    } else if (isMapValue(v)) {
      const key = prepareArg(index, 'string') as string;
      cur = Object.prototype.hasOwnProperty.call(v, key) ? elem(v, v[key]!) : zeroOf(elemType(v));
    } else {
      throw new GoError(`can't index item of type ${derefType(typeOf(v))}`);
    }
  }
  return cur;
}

function slice(item: V, ...indexes: V[]): V {
  const v = unwrap(item);
  if (v === undefined) throw new GoError('slice of untyped nil');
  if (indexes.length > 3) throw new GoError(`too many slice indexes: ${indexes.length}`);
  let cap: number;
  let len: number;
  if (typeof v === 'string') {
    if (indexes.length === 3) throw new GoError('cannot 3-index slice a string');
    cap = len = utf8Length(v);
  } else if (Array.isArray(v) || v instanceof Uint8Array) {
    cap = len = v.length;
  } else throw new GoError(`can't slice item of type ${typeOf(v)}`);
  const idx = [0, len, 0];
  indexes.forEach((ix, i) => (idx[i] = indexArg(ix, cap)));
  if (idx[0]! > idx[1]!) throw new GoError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new GoError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (typeof v === 'string') return utf8(v).subarray(idx[0], idx[1]).toString('utf8');
  const out = v.slice(idx[0], idx[1]);
  if (Array.isArray(v) && elemType(v) !== 'interface{}') return typedGo(out as GoValue[], elemType(v));
  return out as GoValue;
}

function length(item: V): V {
  if (item instanceof Iface && item.v === null) throw new GoError('len of nil pointer');
  const v = unwrap(item);
  if (v === undefined) throw new GoError('reflect: call of reflect.Value.Type on zero Value');
  const n = goLen(v);
  if (n === undefined) throw new GoError(`len of type ${derefType(typeOf(v))}`);
  return BigInt(n);
}

function call(fnv: V, ...args: V[]): V {
  const fn = unwrap(fnv);
  if (fn === undefined) throw new GoError('call of nil');
  if (!isGoFunc(fn)) throw new GoError(`non-function of type ${typeOf(fn)}`);
  const numIn = fn.params.length;
  if (fn.variadic) {
    if (args.length < numIn) throw new GoError(`wrong number of args: got ${args.length} want at least ${numIn}`);
  } else if (args.length !== numIn) throw new GoError(`wrong number of args: got ${args.length} want ${numIn}`);
  const argv = args.map((a, i) => {
    const t = i < numIn ? fn.params[i]! : fn.variadic!;
    try {
      return prepareArg(unwrap(a), t);
    } catch (e) {
      throw new GoError(`arg ${i}: ${(e as Error).message}`);
    }
  });
  const result = fn.fn(...argv.map(argValue));
  if (result === undefined || result === null) return new Iface(null);
  return fn.result === 'interface{}' ? new Iface(result) : result;
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';

function isComparable(v: GoValue): boolean {
  if (Array.isArray(v) || v instanceof Uint8Array || isGoFunc(v) || isMapValue(v)) return false;
  return true;
}

function eq(a1: V, ...a2: V[]): V {
  const arg1 = unwrap(a1);
  if (a2.length === 0) throw new GoError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const x of a2) {
    const arg = unwrap(x);
    const k2 = basicKind(arg);
    let t = false;
    if (k1 !== k2) {
      if (k1 === 'int' && k2 === 'uint') t = intOf(arg1) >= 0n && intOf(arg1) === intOf(arg);
      else if (k1 === 'uint' && k2 === 'int') t = intOf(arg) >= 0n && intOf(arg1) === intOf(arg);
      else if (arg1 !== undefined && arg !== undefined) throw new GoError(errBadComparison);
    } else {
      switch (k1) {
        case 'bool':
        case 'string':
          t = arg1 === arg;
          break;
        case 'float':
          t = floatOf(arg1) === floatOf(arg);
          break;
        case 'int':
        case 'uint':
          t = intOf(arg1) === intOf(arg);
          break;
        default: {
          const nil1 = arg1 === undefined;
          const nil2 = arg === undefined;
          if (!nil1 && !nil2 && kindName(arg1) !== kindName(arg)) {
            throw new GoError(sprintf('non-comparable types %s: %v, %s: %v', [arg1!, typeOf(arg1), typeOf(arg), arg!]));
          }
          if (nil1 || nil2) t = nil1 === nil2;
          else {
            if (!isComparable(arg!)) throw new GoError(sprintf('non-comparable type %s: %v', [arg!, typeOf(arg)]));
            t = arg1 === arg;
          }
        }
      }
    }
    if (t) return true;
  }
  return false;
}

/** reflect.Kind of a non-basic value, for canCompare. */
function kindName(v: GoValue): string {
  if (Array.isArray(v) || v instanceof Uint8Array) return 'slice';
  if (isGoFunc(v)) return 'func';
  if (isGoStruct(v)) return 'ptr';
  return 'map';
}

function lt(a1: V, a2: V): boolean {
  const arg1 = unwrap(a1);
  const k1 = basicKind(arg1);
  if (k1 === 'invalid') throw new GoError(errBadComparisonType);
  const arg2 = unwrap(a2);
  const k2 = basicKind(arg2);
  if (k2 === 'invalid') throw new GoError(errBadComparisonType);
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return intOf(arg1) < 0n || intOf(arg1) < intOf(arg2);
    if (k1 === 'uint' && k2 === 'int') return intOf(arg2) >= 0n && intOf(arg1) < intOf(arg2);
    throw new GoError(errBadComparison);
  }
  switch (k1) {
    case 'bool':
    case 'complex':
      throw new GoError(errBadComparisonType);
    case 'float':
      return floatOf(arg1) < floatOf(arg2);
    case 'string':
      return compareGoStrings(arg1 as string, arg2 as string) < 0;
    default:
      return intOf(arg1) < intOf(arg2);
  }
}

function le(a1: V, a2: V): boolean {
  return lt(a1, a2) || (eq(a1, a2) as boolean);
}

/** printableValue + fmt.Sprint as html/js/urlquery format their arguments. */
function evalArgs(args: V[]): string {
  if (args.length === 1) {
    const a = argValue(args[0]);
    if (typeof a === 'string') return a;
  }
  return sprint(args.map((a) => {
    const v = argValue(a);
    return v === null ? '<no value>' : v;
  }));
}

/** template.HTMLEscapeString. */
export function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\ufffd', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

/** template.JSEscapeString. */
export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    switch (ch) {
      case '\\': out += '\\\\'; continue;
      case "'": out += "\\'"; continue;
      case '"': out += '\\"'; continue;
      case '<': out += '\\u003C'; continue;
      case '>': out += '\\u003E'; continue;
      case '&': out += '\\u0026'; continue;
      case '=': out += '\\u003D'; continue;
    }
    if (r < 0x20) out += '\\u00' + r.toString(16).toUpperCase().padStart(2, '0');
    else if (r < 0x80) out += ch;
    else if (isPrint(r) && !(r >= 0xd800 && r <= 0xdfff)) out += ch;
    else out += '\\u' + (r >= 0xd800 && r <= 0xdfff ? 'FFFD' : r.toString(16).toUpperCase().padStart(4, '0'));
  }
  return out;
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function anyArgs(args: V[]): GoValue[] {
  return args.map(argValue);
}

/** The builtin function table. */
export const builtins: Record<string, BuiltinFunc> = {
  and: builtin([RV], () => undefined, RV, 'reflect.Value'),
  or: builtin([RV], () => undefined, RV, 'reflect.Value'),
  call: builtin([RV], call, RV, 'reflect.Value'),
  html: builtin([], (...a) => htmlEscape(evalArgs(a)), 'interface{}', 'string'),
  index: builtin([RV], index, RV, 'reflect.Value'),
  slice: builtin([RV], slice, RV, 'reflect.Value'),
  js: builtin([], (...a) => jsEscape(evalArgs(a)), 'interface{}', 'string'),
  len: builtin([RV], length, undefined, 'int'),
  not: builtin([RV], (a) => !truth(a), undefined, 'bool'),
  print: builtin([], (...a) => sprint(anyArgs(a)), 'interface{}', 'string'),
  printf: builtin(['string'], (f, ...a) => sprintf(f as string, anyArgs(a)), 'interface{}', 'string'),
  println: builtin([], (...a) => sprintln(anyArgs(a)), 'interface{}', 'string'),
  urlquery: builtin([], (...a) => queryEscape(evalArgs(a)), 'interface{}', 'string'),
  eq: builtin([RV], eq, RV, 'bool'),
  ne: builtin([RV, RV], (a, b) => !eq(a, b), undefined, 'bool'),
  lt: builtin([RV, RV], (a, b) => lt(a, b), undefined, 'bool'),
  le: builtin([RV, RV], (a, b) => le(a, b), undefined, 'bool'),
  gt: builtin([RV, RV], (a, b) => !le(a, b), undefined, 'bool'),
  ge: builtin([RV, RV], (a, b) => !lt(a, b), undefined, 'bool'),
};
