/** @module Masterminds/semver v3 as sprig's semver and semverCompare use it: loose version parsing, constraint ranges (=, !=, <, >, ~, ^, x-ranges, hyphen ranges, ||), prerelease rules. */
import { GoError, GoTyped, goFunc, goMethods, goTypeName, type GoFunc, type GoObject, type GoValue } from '../template/values.js';

export interface SemVersion {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
  metadata: string;
  original: string;
}

const VERSION_RE = /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;
const CV = String.raw`v?([0-9|xX*]+)(\.[0-9|xX*]+)?(\.[0-9|xX*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const OPS = String.raw`=||!=|>|<|>=|=>|<=|=<|~|~>|\^`;
const CONSTRAINT_RE = new RegExp(String.raw`^\s*(${OPS})\s*(${CV})\s*$`);
const RANGE_RE = new RegExp(String.raw`\s*(${CV})\s+-\s+(${CV})\s*`, 'g');
const FIND_RE = new RegExp(String.raw`(${OPS})\s*(${CV})`, 'g');
const VALID_RE = new RegExp(String.raw`^(\s*(${OPS})\s*(${CV})\s*)((?:\s+|,\s*)(${OPS})\s*(${CV})\s*)*$`);
const MAX_U64 = (1n << 64n) - 1n;

function parseSegment(s: string): bigint {
  const v = BigInt(s);
  if (v > MAX_U64) throw new GoError(`Error parsing version segment: strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return v;
}

/** semver.NewVersion. */
export function parseVersion(v: string): SemVersion {
  const m = VERSION_RE.exec(v);
  if (!m) throw new GoError('Invalid Semantic Version');
  const sv: SemVersion = {
    major: parseSegment(m[1]!),
    minor: m[2] ? parseSegment(m[2].slice(1)) : 0n,
    patch: m[3] ? parseSegment(m[3].slice(1)) : 0n,
    pre: m[5] ?? '',
    metadata: m[8] ?? '',
    original: v,
  };
  if (sv.pre) {
    for (const p of sv.pre.split('.')) if (/^[0-9]+$/.test(p) && p.length > 1 && p[0] === '0') throw new GoError('Version segment starts with 0');
  }
  return sv;
}

export function versionString(v: SemVersion): string {
  return `${v.major}.${v.minor}.${v.patch}${v.pre ? '-' + v.pre : ''}${v.metadata ? '+' + v.metadata : ''}`;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
function prePart(s: string, o: string): number {
  if (s === o) return 0;
  if (s === '') return o !== '' ? -1 : 1;
  if (o === '') return 1;
  const sn = /^[0-9]+$/.test(s);
  const on = /^[0-9]+$/.test(o);
  if (!sn && !on) return s > o ? 1 : -1;
  if (!on) return -1;
  if (!sn) return 1;
  return BigInt(s) > BigInt(o) ? 1 : -1;
}
export function compareVersions(a: SemVersion, b: SemVersion): number {
  const d = cmp(a.major, b.major) || cmp(a.minor, b.minor) || cmp(a.patch, b.patch);
  if (d) return d;
  if (a.pre === '' && b.pre === '') return 0;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  const sp = a.pre.split('.');
  const op = b.pre.split('.');
  for (let i = 0; i < Math.max(sp.length, op.length); i++) {
    const r = prePart(sp[i] ?? '', op[i] ?? '');
    if (r) return r;
  }
  return 0;
}

interface Constraint {
  con: SemVersion;
  op: string;
  minorDirty: boolean;
  patchDirty: boolean;
  dirty: boolean;
}

const isX = (s: string) => s === 'x' || s === '*' || s === 'X';

function parseConstraint(c: string): Constraint {
  const m = CONSTRAINT_RE.exec(c);
  if (!m) throw new GoError(`improper constraint: ${c}`);
  const [, op, , major, minorDot = '', patchDot = '', pre = ''] = m as unknown as string[];
  let ver = m[2]!;
  let minorDirty = false;
  let patchDirty = false;
  let dirty = false;
  if (isX(major!) || major === '') {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minorDot.slice(1)) || minorDot === '') {
    minorDirty = dirty = true;
    ver = `${major}.0.0${pre}`;
  } else if (isX(patchDot.slice(1)) || patchDot === '') {
    dirty = patchDirty = true;
    ver = `${major}${minorDot}.0${pre}`;
  }
  let con: SemVersion;
  try {
    con = parseVersion(ver);
  } catch {
    throw new GoError('constraint Parser Error');
  }
  return { con, op: op!, minorDirty, patchDirty, dirty };
}

function check(v: SemVersion, c: Constraint): boolean {
  const preBlocked = v.pre !== '' && c.con.pre === '';
  const tilde = (): boolean => {
    if (preBlocked) return false;
    if (compareVersions(v, c.con) < 0) return false;
    if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
    if (v.major !== c.con.major) return false;
    if (v.minor !== c.con.minor && !c.minorDirty) return false;
    return true;
  };
  switch (c.op) {
    case '':
    case '=':
      if (preBlocked) return false;
      if (c.dirty) return tilde();
      return compareVersions(v, c.con) === 0;
    case '!=':
      if (c.dirty) {
        if (preBlocked) return false;
        if (c.con.major !== v.major) return true;
        if (c.con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (c.con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) {
          if (v.pre !== '' || c.con.pre !== '') return comparePre(v.pre, c.con.pre) !== 0;
          return false;
        }
      }
      return compareVersions(v, c.con) !== 0;
    case '>':
      if (preBlocked) return false;
      if (!c.dirty) return compareVersions(v, c.con) === 1;
      if (v.major > c.con.major) return true;
      if (v.major < c.con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > c.con.minor;
      return compareVersions(v, c.con) === 1;
    case '<':
      if (preBlocked) return false;
      return compareVersions(v, c.con) < 0;
    case '>=':
    case '=>':
      if (preBlocked) return false;
      return compareVersions(v, c.con) >= 0;
    case '<=':
    case '=<':
      if (preBlocked) return false;
      if (!c.dirty) return compareVersions(v, c.con) <= 0;
      if (v.major > c.con.major) return false;
      if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
      return true;
    case '~':
    case '~>':
      return tilde();
    case '^':
      if (preBlocked) return false;
      if (compareVersions(v, c.con) < 0) return false;
      if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
      if (c.con.major === 0n && v.major > 0n) return false;
      if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
      if (c.con.minor === 0n && v.minor > 0n) return false;
      return c.con.patch === v.patch;
  }
  return false;
}

function comparePre(a: string, b: string): number {
  return compareVersions({ major: 0n, minor: 0n, patch: 0n, pre: a, metadata: '', original: '' }, { major: 0n, minor: 0n, patch: 0n, pre: b, metadata: '', original: '' });
}

/** semver.NewConstraint: OR groups of AND-ed constraints. */
export function parseConstraints(c: string): Constraint[][] {
  c = c.replace(RANGE_RE, (_m, a: string, ...rest: string[]) => `>= ${a}, <= ${rest[9]}`);
  return c.split('||').map((part) => {
    if (!VALID_RE.test(part)) throw new GoError(`improper constraint: ${part}`);
    const found = part.match(FIND_RE) ?? [part];
    return found.map(parseConstraint);
  });
}

export function checkConstraints(cs: Constraint[][], v: SemVersion): boolean {
  return cs.some((and) => and.every((c) => check(v, c)));
}

/** The *semver.Version value templates see, with its methods. */
function versionValue(v: SemVersion): GoObject {
  const o: GoObject = {};
  const other = (x: GoValue): SemVersion => {
    const d = typeof x === 'object' && x !== null ? (x as unknown as { [versionData]?: SemVersion })[versionData] : undefined;
    if (!d) throw new GoError(`wrong type for value; expected *semver.Version; got ${x === null ? '<nil>' : typeof x === 'string' ? 'string' : 'interface {}'}`);
    return d;
  };
  const methods: Record<string, GoFunc> = {
    String: goFunc([], () => versionString(v), { result: 'string' }),
    Original: goFunc([], () => v.original, { result: 'string' }),
    Major: goFunc([], () => new GoTyped('uint64', v.major), { result: 'uint64' }),
    Minor: goFunc([], () => new GoTyped('uint64', v.minor), { result: 'uint64' }),
    Patch: goFunc([], () => new GoTyped('uint64', v.patch), { result: 'uint64' }),
    Prerelease: goFunc([], () => v.pre, { result: 'string' }),
    Metadata: goFunc([], () => v.metadata, { result: 'string' }),
    Compare: goFunc(['interface{}'], (x) => BigInt(compareVersions(v, other(x))), { result: 'int' }),
    LessThan: goFunc(['interface{}'], (x) => compareVersions(v, other(x)) < 0, { result: 'bool' }),
    GreaterThan: goFunc(['interface{}'], (x) => compareVersions(v, other(x)) > 0, { result: 'bool' }),
    Equal: goFunc(['interface{}'], (x) => compareVersions(v, other(x)) === 0, { result: 'bool' }),
    IncMajor: goFunc([], () => versionValue(inc(v, 'major')), { result: 'semver.Version' }),
    IncMinor: goFunc([], () => versionValue(inc(v, 'minor')), { result: 'semver.Version' }),
    IncPatch: goFunc([], () => versionValue(inc(v, 'patch')), { result: 'semver.Version' }),
  };
  Object.defineProperty(o, goTypeName, { value: '*semver.Version', enumerable: false });
  Object.defineProperty(o, goMethods, { value: methods, enumerable: false });
  Object.defineProperty(o, versionData, { value: v, enumerable: false });
  return o;
}
const versionData: unique symbol = Symbol('semver');

function inc(v: SemVersion, what: 'major' | 'minor' | 'patch'): SemVersion {
  const n: SemVersion = { ...v, pre: '', metadata: '' };
  if (what === 'major') Object.assign(n, { major: v.major + 1n, minor: 0n, patch: 0n });
  else if (what === 'minor') Object.assign(n, { minor: v.minor + 1n, patch: 0n });
  else if (v.pre === '') n.patch = v.patch + 1n;
  n.original = (v.original.startsWith('v') ? 'v' : '') + versionString(n);
  return n;
}

export function semverFuncs(): Record<string, GoFunc> {
  return {
    semver: goFunc(['string'], (s: string) => versionValue(parseVersion(s)), { result: '*semver.Version' }),
    semverCompare: goFunc(['string', 'string'], (c: string, v: string) => checkConstraints(parseConstraints(c), parseVersion(v)), { result: 'bool' }),
  };
}
