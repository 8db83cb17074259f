/**
 * @module Helm's value precedence (pkg/chartutil/coalesce.go): user values over chart
 * defaults, table by table; a user `null` deletes the default (coalescing, not when
 * merging); each subchart sees the table under its name, and the parent's `global` table is
 * copied down into every subchart's `global` (the parent wins).
 */
import { GoTyped } from '../template/values.js';

export type Values = Record<string, unknown>;

/** Where coalescing warnings go (Helm prints them on stderr and carries on). */
export type WarnFn = (message: string) => void;

/** A chart as coalescing sees it: its defaults, its name and its (enabled) subcharts. */
export interface ValuesChart {
  metadata: { name: string };
  values: Values;
  dependencies: ValuesChart[];
}

export const globalKey = 'global';

/** A map table (not a list, byte slice, typed number or null). */
export function isTable(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoTyped) && !(v instanceof Uint8Array) && Object.getPrototypeOf(v) === Object.prototype;
}

/** A deep copy of plain values (maps and lists; scalars and typed numbers are shared). */
export function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (isTable(v)) {
    const out: Values = {};
    for (const [k, x] of Object.entries(v)) out[k] = deepCopy(x);
    return out as T;
  }
  return v;
}

function concatPrefix(a: string, b: string): string {
  return a === '' ? b : `${a}.${b}`;
}

const noWarn: WarnFn = () => {};

/**
 * CoalesceValues: the chart's defaults (and its subcharts', recursively) under `userValues`;
 * user nulls delete defaults. Neither input is mutated.
 */
export function coalesceValues(chart: ValuesChart, userValues: Values | undefined, warn: WarnFn = noWarn): Values {
  return coalesce(chart, deepCopy(userValues ?? {}), '', false, warn);
}

/** MergeValues: like coalesceValues but nulls are kept (Helm uses it while processing dependencies). */
export function mergeValues(chart: ValuesChart, userValues: Values | undefined, warn: WarnFn = noWarn): Values {
  return coalesce(chart, deepCopy(userValues ?? {}), '', true, warn);
}

function coalesce(chart: ValuesChart, dest: Values, prefix: string, merge: boolean, warn: WarnFn): Values {
  coalesceChartValues(chart, dest, prefix, merge, warn);
  return coalesceDeps(chart, dest, prefix, merge, warn);
}

function coalesceChartValues(chart: ValuesChart, v: Values, prefix: string, merge: boolean, warn: WarnFn): void {
  const subPrefix = concatPrefix(prefix, chart.metadata.name);
  const defaults = deepCopy(chart.values ?? {});
  for (const [key, val] of Object.entries(defaults)) {
    if (key in v) {
      const value = v[key];
      if (value === null && !merge) delete v[key];
      else if (isTable(value)) {
        if (!isTable(val)) {
          if (val !== null) warn(`warning: skipped value for ${subPrefix}.${key}: Not a table.`);
        } else coalesceTablesFullKey(value, val, concatPrefix(subPrefix, key), merge, warn);
      }
    } else v[key] = val;
  }
}

function coalesceDeps(chart: ValuesChart, dest: Values, prefix: string, merge: boolean, warn: WarnFn): Values {
  for (const sub of chart.dependencies) {
    const name = sub.metadata.name;
    if (!(name in dest)) dest[name] = {};
    else if (!isTable(dest[name])) throw new Error(`type mismatch on ${name}: %!t(${goTypeName(dest[name])}=${String(dest[name])})`);
    const dv = dest[name] as Values;
    const subPrefix = concatPrefix(prefix, chart.metadata.name);
    coalesceGlobals(dv, dest, subPrefix, warn);
    dest[name] = coalesce(sub, dv, subPrefix, merge, warn);
  }
  return dest;
}

function goTypeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoTyped) return v.type;
  if (Array.isArray(v)) return '[]interface {}';
  return 'interface {}';
}

/** Copies `src.global` into `dest.global`, the source (the parent) winning, tables merged top-down. */
function coalesceGlobals(dest: Values, src: Values, prefix: string, warn: WarnFn): void {
  let dg: Values;
  if (!(globalKey in dest)) dg = {};
  else if (isTable(dest[globalKey])) dg = dest[globalKey] as Values;
  else {
    warn(`warning: skipping globals because destination ${globalKey} is not a table.`);
    return;
  }
  let sg: Values;
  if (!(globalKey in src)) sg = {};
  else if (isTable(src[globalKey])) sg = src[globalKey] as Values;
  else {
    warn(`warning: skipping globals because source ${globalKey} is not a table.`);
    return;
  }
  for (const [key, val] of Object.entries(sg)) {
    if (isTable(val)) {
      const vv = deepCopy(val);
      if (!(key in dg)) dg[key] = vv;
      else if (!isTable(dg[key])) warn(`Conflict: cannot merge map onto non-map for "${key}". Skipping.`);
      else {
        coalesceTablesFullKey(vv, dg[key] as Values, concatPrefix(prefix, key), true, warn);
        dg[key] = vv;
      }
    } else if (key in dg && isTable(dg[key])) warn(`key ${key} is table. Skipping`);
    else dg[key] = val;
  }
  dest[globalKey] = dg;
}

/** CoalesceTables: `src` under `dst` (dst wins), nulls in dst deleting src's keys. Mutates and returns dst. */
export function coalesceTables(dst: Values | undefined, src: Values | undefined, warn: WarnFn = noWarn): Values {
  return coalesceTablesFullKey(dst, src, '', false, warn);
}

/** MergeTables: like coalesceTables but nulls in dst are kept. */
export function mergeTables(dst: Values | undefined, src: Values | undefined, warn: WarnFn = noWarn): Values {
  return coalesceTablesFullKey(dst, src, '', true, warn);
}

function coalesceTablesFullKey(dst: Values | undefined, src: Values | undefined, prefix: string, merge: boolean, warn: WarnFn): Values {
  if (!src) return dst ?? {};
  if (!dst) return src;
  for (const [key, val] of Object.entries(src)) {
    const fullKey = concatPrefix(prefix, key);
    const has = key in dst;
    const dv = dst[key];
    if (has && !merge && dv === null) delete dst[key];
    else if (!has) dst[key] = val;
    else if (isTable(val)) {
      if (isTable(dv)) coalesceTablesFullKey(dv, val, fullKey, merge, warn);
      else warn(`warning: cannot overwrite table with non table for ${fullKey} (${formatGo(val)})`);
    } else if (isTable(dv) && val !== null) warn(`warning: destination for ${fullKey} is a table. Ignoring non-table value (${formatGo(val)})`);
  }
  return dst;
}

function formatGo(v: unknown): string {
  if (isTable(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${formatGo(v[k])}`).join(' ')}]`;
  if (Array.isArray(v)) return `[${v.map(formatGo).join(' ')}]`;
  if (v === null || v === undefined) return '<nil>';
  if (v instanceof GoTyped) return String(v.value);
  return String(v);
}

/** The `-f` file merge of Helm's CLI (mergeMaps): later maps win, tables merge recursively, nulls are kept. */
export function mergeMaps(a: Values, b: Values): Values {
  const out: Values = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (isTable(v) && isTable(out[k])) out[k] = mergeMaps(out[k] as Values, v);
    else out[k] = v;
  }
  return out;
}

/** Values.Table: the table at a dotted path, or undefined. */
export function tableAt(values: Values, path: string): Values | undefined {
  let cur: unknown = values;
  for (const part of path.split('.')) {
    if (part === '') continue;
    if (!isTable(cur) || !(part in cur)) return undefined;
    cur = cur[part];
  }
  return isTable(cur) ? cur : undefined;
}

/** Values.PathValue: the non-table value at a dotted path; `found` false when absent. */
export function pathValue(values: Values, path: string): { found: boolean; value?: unknown } {
  const parts = path.split('.');
  const last = parts.pop()!;
  const table = parts.length ? tableAt(values, parts.join('.')) : values;
  if (!table || !(last in table) || isTable(table[last])) return { found: false };
  return { found: true, value: table[last] };
}

/** pathToMap: nests `data` under a dotted path ("." is the root). */
export function pathToMap(path: string, data: Values): Values {
  if (path === '.') return data;
  const parts = path.split('.').filter((p) => p !== '');
  let out: Values = data;
  for (let i = parts.length - 1; i >= 0; i--) out = { [parts[i]]: out };
  return out;
}
