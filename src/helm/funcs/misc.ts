/** @module sprig's defaults, reflection, math, conversion, encoding, hash, path, URL and flow functions. */
import { createHash } from 'node:crypto';
import { goKindString, goTypeString, sprint } from '../template/fmt.js';
import { GoError, GoTyped, goFunc, type GoFunc, type GoObject, type GoValue } from '../template/values.js';
import { deepEqual, empty, i64, int64, num, parseGoInt, runtimeError, toFloat64, toInt64 } from './convert.js';

const I = 'interface{}';
const S = 'string';

// ---- exact decimal arithmetic (shopspring/decimal as sprig's addf… use it)
interface Dec {
  c: bigint;
  e: number;
}
function decFromFloat(f: number): Dec {
  if (f === 0 || !Number.isFinite(f)) return { c: 0n, e: 0 };
  const [m, ex] = Math.abs(f).toExponential().split('e');
  const digits = m!.replace('.', '');
  const c = BigInt(digits) * (f < 0 ? -1n : 1n);
  return { c, e: Number(ex) - (digits.length - 1) };
}
function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const e = Math.min(a.e, b.e);
  return [a.c * 10n ** BigInt(a.e - e), b.c * 10n ** BigInt(b.e - e), e];
}
function decToFloat(d: Dec): number {
  return Number(`${d.c}e${d.e}`);
}
const decOps: Record<string, (a: Dec, b: Dec) => Dec> = {
  add: (a, b) => {
    const [x, y, e] = align(a, b);
    return { c: x + y, e };
  },
  sub: (a, b) => {
    const [x, y, e] = align(a, b);
    return { c: x - y, e };
  },
  mul: (a, b) => ({ c: a.c * b.c, e: a.e + b.e }),
  div: (a, b) => {
    if (b.c === 0n) throw new GoError('decimal division by 0');
    // 16 decimal places, rounded half away from zero.
    const prec = 16;
    const shift = prec + a.e - b.e;
    let n = a.c;
    let d = b.c;
    if (shift >= 0) n *= 10n ** BigInt(shift);
    else d *= 10n ** BigInt(-shift);
    let q = n / d;
    const r = n % d;
    const abs = (x: bigint) => (x < 0n ? -x : x);
    if (2n * abs(r) >= abs(d)) q += (n < 0n) !== (d < 0n) ? -1n : 1n;
    return { c: q, e: -prec };
  },
};
function decimalOp(first: GoValue, rest: GoValue[], op: string): number {
  let acc = decFromFloat(toFloat64(first));
  for (const x of rest) acc = decOps[op]!(acc, decFromFloat(toFloat64(x)));
  return decToFloat(acc);
}

/** sprig's round: away from zero at roundOn (default .5) of the fractional part. */
function round(a: GoValue, p: GoValue, rOpt: GoValue[]): number {
  const roundOn = rOpt.length > 0 ? toFloat64(rOpt[0]!) : 0.5;
  const val = toFloat64(a);
  const pow = Math.pow(10, num(p));
  const digit = pow * val;
  const frac = digit - Math.trunc(digit);
  return (frac >= roundOn ? Math.ceil(digit) : Math.floor(digit)) / pow;
}

function intDivide(a: bigint, b: bigint, op: 'div' | 'mod'): GoTyped {
  if (b === 0n) throw runtimeError('integer divide by zero');
  return i64(op === 'div' ? a / b : a % b);
}

// ---- encoding
function b64decode(s: string): string {
  const err = checkBase64(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 4);
  if (err) return err;
  return Buffer.from(s.replace(/[\r\n]/g, ''), 'base64').toString('utf8');
}

/** encoding/base64 (and base32) strict decoding errors: "illegal base64 data at input byte N". */
function checkBase64(s: string, alphabet: string, quantum: number): string | undefined {
  const kind = quantum === 4 ? 'base64' : 'base32';
  const clean: number[] = [];
  const bytes = Buffer.from(s, 'utf8');
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 10 && bytes[i] !== 13) clean.push(i);
  let i = 0;
  const n = clean.length;
  while (i < n) {
    const group = clean.slice(i, i + quantum);
    let pad = -1;
    for (let j = 0; j < group.length; j++) {
      const ch = String.fromCharCode(bytes[group[j]!]!);
      if (ch === '=') {
        pad = j;
        break;
      }
      if (!alphabet.includes(ch)) return `illegal ${kind} data at input byte ${group[j]}`;
    }
    if (pad >= 0) {
      const minData = quantum === 4 ? 2 : 2;
      if (pad < minData) return `illegal ${kind} data at input byte ${group[pad]}`;
      for (let j = pad; j < group.length; j++) if (bytes[group[j]!] !== 61) return `illegal ${kind} data at input byte ${group[j]}`;
      if (group.length < quantum) return `illegal ${kind} data at input byte ${bytes.length}`;
      if (i + quantum < n) return `illegal ${kind} data at input byte ${clean[i + quantum]}`;
      return undefined;
    }
    if (group.length < quantum) {
      // Go reports an incomplete final quantum at its first byte.
      if (group.length !== 0) return `illegal ${kind} data at input byte ${group[0]}`;
    }
    i += quantum;
  }
  return undefined;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function b32encode(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i += 5) {
    const chunk = bytes.subarray(i, i + 5);
    let bits = 0n;
    for (let j = 0; j < 5; j++) bits = (bits << 8n) | BigInt(chunk[j] ?? 0);
    const chars = Math.ceil((chunk.length * 8) / 5);
    for (let j = 0; j < 8; j++) out += j < chars ? B32[Number((bits >> BigInt(35 - j * 5)) & 31n)] : '=';
  }
  return out;
}
function b32decode(s: string): string {
  const err = checkBase64(s, B32, 8);
  if (err) return err;
  const clean = s.replace(/[\r\n]/g, '').replace(/=+$/, '');
  const out: number[] = [];
  let bits = 0;
  let acc = 0;
  for (const ch of clean) {
    acc = (acc << 5) | B32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Buffer.from(out).toString('utf8');
}

function adler32(s: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s, 'utf8')) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

// ---- paths (Go's path package)
export function pathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!rooted) parts.push('..');
      continue;
    }
    parts.push(seg);
  }
  const out = (rooted ? '/' : '') + parts.join('/');
  return out === '' ? '.' : out;
}
function pathBase(p: string): string {
  if (p === '') return '.';
  p = p.replace(/\/+$/, '');
  const i = p.lastIndexOf('/');
  if (i >= 0) p = p.slice(i + 1);
  return p === '' ? '/' : p;
}
function pathDir(p: string): string {
  const i = p.lastIndexOf('/');
  return pathClean(p.slice(0, i + 1));
}
function pathExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

// ---- URLs (net/url)
function urlParse(v: string): GoObject {
  const m = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(.*)$/s.exec(v)!;
  let scheme = m[1] ?? '';
  let rest = m[2]!;
  if (!m[1]) rest = v;
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = decodeURIComponentSafe(rest.slice(hash + 1));
    rest = rest.slice(0, hash);
  }
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let opaque = '';
  let host = '';
  let userinfo = '';
  let path = '';
  if (scheme && !rest.startsWith('/')) opaque = rest;
  else if (rest.startsWith('//')) {
    const authEnd = rest.indexOf('/', 2);
    let authority = authEnd < 0 ? rest.slice(2) : rest.slice(2, authEnd);
    path = authEnd < 0 ? '' : rest.slice(authEnd);
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      userinfo = authority.slice(0, at);
      authority = authority.slice(at + 1);
    }
    host = authority;
  } else path = rest;
  scheme = scheme.toLowerCase();
  let hostname = host;
  if (hostname.startsWith('[')) hostname = hostname.slice(1, hostname.indexOf(']') >= 0 ? hostname.indexOf(']') : undefined);
  else if (/:\d*$/.test(hostname)) hostname = hostname.replace(/:\d*$/, '');
  return { scheme, host, hostname, path: decodeURIComponentSafe(path), query, opaque, fragment, userinfo };
}
function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
function urlJoin(d: GoObject): string {
  const get = (k: string): string => {
    if (!Object.prototype.hasOwnProperty.call(d, k)) return '';
    const v = d[k];
    if (typeof v !== 'string') throw new GoError(`unable to parse ${k} key, must be of type string, but ${goKindString(v)} found`);
    return v;
  };
  const scheme = get('scheme');
  const host = get('host');
  const path = get('path');
  const query = get('query');
  const opaque = get('opaque');
  const fragment = get('fragment');
  const userinfo = get('userinfo');
  let out = '';
  if (scheme) out += scheme + ':';
  if (opaque) out += opaque;
  else {
    if (scheme || host || userinfo) {
      if (host || path || userinfo) out += '//';
      if (userinfo) out += userinfo + '@';
      out += host;
    }
    let p = encodeURI(path).replace(/%5B/g, '[').replace(/%5D/g, ']').replace(/\?/g, '%3F');
    if (p && !p.startsWith('/') && host) p = '/' + p;
    if (out === '' && /^[^/]*:/.test(p)) p = './' + p;
    out += p;
  }
  if (query) out += '?' + query;
  if (fragment) out += '#' + encodeURI(fragment).replace(/%5B/g, '[').replace(/%5D/g, ']');
  return out;
}

export function miscFuncs(): Record<string, GoFunc> {
  const f: Record<string, GoFunc> = {
    hello: goFunc([], () => 'Hello!', { result: S }),
    // defaults
    default: goFunc([I], (d, ...given: GoValue[]) => (given.length === 0 || empty(given[0]!) ? d : given[0]!), { variadic: I }),
    empty: goFunc([I], (v) => empty(v), { result: 'bool' }),
    coalesce: goFunc([], (...vs: GoValue[]) => vs.find((v) => !empty(v)) ?? null, { variadic: I }),
    all: goFunc([], (...vs: GoValue[]) => vs.every((v) => !empty(v)), { variadic: I, result: 'bool' }),
    any: goFunc([], (...vs: GoValue[]) => vs.some((v) => !empty(v)), { variadic: I, result: 'bool' }),
    ternary: goFunc([I, I, 'bool'], (t, fv, c) => (c ? t : fv)),
    // reflection
    typeOf: goFunc([I], (v) => goTypeString(v), { result: S }),
    typeIs: goFunc([S, I], (t, v) => t === goTypeString(v), { result: 'bool' }),
    typeIsLike: goFunc([S, I], (t, v) => {
      const ty = goTypeString(v);
      return t === ty || '*' + t === ty;
    }, { result: 'bool' }),
    kindOf: goFunc([I], (v) => goKindString(v), { result: S }),
    kindIs: goFunc([S, I], (t, v) => t === goKindString(v), { result: 'bool' }),
    deepEqual: goFunc([I, I], (a, b) => deepEqual(a, b), { result: 'bool' }),
    // conversion
    int64: goFunc([I], (v) => i64(toInt64(v)), { result: 'int64' }),
    int: goFunc([I], (v) => toInt64(v), { result: 'int' }),
    float64: goFunc([I], (v) => toFloat64(v), { result: 'float64' }),
    toDecimal: goFunc([I], (v) => i64(parseGoInt(sprint([v]), 8) ?? 0n), { result: 'int64' }),
    // math
    add1: goFunc([I], (v) => i64(toInt64(v) + 1n), { result: 'int64' }),
    add: goFunc([], (...vs: GoValue[]) => i64(vs.reduce<bigint>((a, v) => int64(a + toInt64(v)), 0n)), { variadic: I, result: 'int64' }),
    sub: goFunc([I, I], (a, b) => i64(toInt64(a) - toInt64(b)), { result: 'int64' }),
    div: goFunc([I, I], (a, b) => intDivide(toInt64(a), toInt64(b), 'div'), { result: 'int64' }),
    mod: goFunc([I, I], (a, b) => intDivide(toInt64(a), toInt64(b), 'mod'), { result: 'int64' }),
    mul: goFunc([I], (a, ...vs: GoValue[]) => i64(vs.reduce<bigint>((acc, v) => int64(acc * toInt64(v)), toInt64(a))), { variadic: I, result: 'int64' }),
    add1f: goFunc([I], (v) => decimalOp(v, [1n], 'add'), { result: 'float64' }),
    addf: goFunc([], (...vs: GoValue[]) => decimalOp(0, vs, 'add'), { variadic: I, result: 'float64' }),
    subf: goFunc([I], (a, ...vs: GoValue[]) => decimalOp(a, vs, 'sub'), { variadic: I, result: 'float64' }),
    mulf: goFunc([I], (a, ...vs: GoValue[]) => decimalOp(a, vs, 'mul'), { variadic: I, result: 'float64' }),
    divf: goFunc([I], (a, ...vs: GoValue[]) => decimalOp(a, vs, 'div'), { variadic: I, result: 'float64' }),
    max: goFunc([I], (a, ...vs: GoValue[]) => i64(vs.reduce<bigint>((m, v) => (toInt64(v) > m ? toInt64(v) : m), toInt64(a))), { variadic: I, result: 'int64' }),
    min: goFunc([I], (a, ...vs: GoValue[]) => i64(vs.reduce<bigint>((m, v) => (toInt64(v) < m ? toInt64(v) : m), toInt64(a))), { variadic: I, result: 'int64' }),
    maxf: goFunc([I], (a, ...vs: GoValue[]) => vs.reduce<number>((m, v) => goMax(m, toFloat64(v)), toFloat64(a)), { variadic: I, result: 'float64' }),
    minf: goFunc([I], (a, ...vs: GoValue[]) => vs.reduce<number>((m, v) => goMin(m, toFloat64(v)), toFloat64(a)), { variadic: I, result: 'float64' }),
    floor: goFunc([I], (v) => Math.floor(toFloat64(v)), { result: 'float64' }),
    ceil: goFunc([I], (v) => Math.ceil(toFloat64(v)), { result: 'float64' }),
    round: goFunc([I, 'int'], (a, p, ...r: GoValue[]) => round(a, p, r), { variadic: 'float64', result: 'float64' }),
    // encoding and hashes
    b64enc: goFunc([S], (s: string) => Buffer.from(s, 'utf8').toString('base64'), { result: S }),
    b64dec: goFunc([S], (s: string) => b64decode(s), { result: S }),
    b32enc: goFunc([S], (s: string) => b32encode(s), { result: S }),
    b32dec: goFunc([S], (s: string) => b32decode(s), { result: S }),
    sha1sum: goFunc([S], (s: string) => createHash('sha1').update(s, 'utf8').digest('hex'), { result: S }),
    sha256sum: goFunc([S], (s: string) => createHash('sha256').update(s, 'utf8').digest('hex'), { result: S }),
    adler32sum: goFunc([S], (s: string) => String(adler32(s)), { result: S }),
    // paths (osBase… are filepath's, identical on Linux)
    base: goFunc([S], (p) => pathBase(p), { result: S }),
    dir: goFunc([S], (p) => pathDir(p), { result: S }),
    clean: goFunc([S], (p) => pathClean(p), { result: S }),
    ext: goFunc([S], (p) => pathExt(p), { result: S }),
    isAbs: goFunc([S], (p: string) => p.startsWith('/'), { result: 'bool' }),
    // URLs
    urlParse: goFunc([S], (v: string) => urlParse(v), { result: 'map[string]interface{}' }),
    urlJoin: goFunc(['map[string]interface{}'], (d: GoObject) => urlJoin(d), { result: S }),
    // flow
    fail: goFunc([S], (msg: string) => {
      throw new GoError(msg);
    }, { result: S }),
  };
  for (const k of ['base', 'dir', 'clean', 'ext', 'isAbs']) f['os' + k[0]!.toUpperCase() + k.slice(1)] = f[k]!;
  f.biggest = f.max!;
  return f;
}

function goMax(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (a === 0 && b === 0) return Object.is(a, -0) ? b : a;
  return a > b ? a : b;
}
function goMin(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (a === 0 && b === 0) return Object.is(a, -0) ? a : b;
  return a < b ? a : b;
}

