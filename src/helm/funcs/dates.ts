/** @module Go's time.Time for templates (layouts, parsing, durations, zoneinfo zones) and sprig's date functions. */
import { readFileSync } from 'node:fs';
import { GoError, GoTyped, goFunc, goMethods, goTypeName, type GoFunc, type GoObject, type GoParamType, type GoValue } from '../template/values.js';
import { goInt, i64, num } from './convert.js';

const timeData: unique symbol = Symbol('goTime');

/** A Go time zone. */
export interface GoLocation {
  name: string;
  /** Offset east of UTC (seconds) and abbreviation at a Unix second. */
  lookup(unixSec: number): { offset: number; abbr: string };
}

interface TimeData {
  /** Unix nanoseconds. */
  ns: bigint;
  loc: GoLocation;
  /** Monotonic clock reading printed by String() ("m=+0.001"), for times from now(). */
  mono?: number;
}

export const UTC: GoLocation = { name: 'UTC', lookup: () => ({ offset: 0, abbr: 'UTC' }) };

/** TZif abbreviations by offset, read from the zoneinfo file Go would read. */
function tzifAbbrevs(path: string): { transitions: number[]; types: { offset: number; abbr: string }[]; idx: number[] } | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return undefined;
  }
  if (buf.toString('latin1', 0, 4) !== 'TZif') return undefined;
  const parse = (start: number, timeSize: number) => {
    const counts = [0, 1, 2, 3, 4, 5].map((k) => buf.readUInt32BE(start + 20 + k * 4));
    const [isut, isstd, leap, timecnt, typecnt, charcnt] = counts as [number, number, number, number, number, number];
    let p = start + 44;
    const transitions: number[] = [];
    for (let k = 0; k < timecnt; k++) transitions.push(timeSize === 8 ? Number(buf.readBigInt64BE(p + k * 8)) : buf.readInt32BE(p + k * 4));
    p += timecnt * timeSize;
    const idx = Array.from(buf.subarray(p, p + timecnt));
    p += timecnt;
    const raw: { offset: number; ai: number }[] = [];
    for (let k = 0; k < typecnt; k++) raw.push({ offset: buf.readInt32BE(p + k * 6), ai: buf[p + k * 6 + 5]! });
    p += typecnt * 6;
    const chars = buf.toString('latin1', p, p + charcnt);
    p += charcnt + leap * (timeSize + 4) + isstd + isut;
    const types = raw.map((t) => ({ offset: t.offset, abbr: chars.slice(t.ai, chars.indexOf('\0', t.ai)) }));
    return { transitions, types, idx, end: p };
  };
  const v1 = parse(0, 4);
  if (buf[4]! >= 0x32 && v1.end + 44 <= buf.length) return parse(v1.end, 8);
  return v1;
}

const zoneCache = new Map<string, GoLocation | null>();

/** A named IANA zone (time.LoadLocation), or undefined when unknown. */
export function loadLocation(name: string): GoLocation | undefined {
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local') return localLocation();
  if (zoneCache.has(name)) return zoneCache.get(name) ?? undefined;
  let loc: GoLocation | undefined;
  if (!/(^|\/)\.\.(\/|$)/.test(name) && !name.startsWith('/')) loc = zoneFromFile(name, '/usr/share/zoneinfo/' + name);
  zoneCache.set(name, loc ?? null);
  return loc;
}

function zoneFromFile(name: string, path: string, intlZone = name): GoLocation | undefined {
  const tz = tzifAbbrevs(path);
  if (!tz) return undefined;
  let fmt: Intl.DateTimeFormat | undefined;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: intlZone, timeZoneName: 'shortOffset' });
  } catch {
    fmt = undefined;
  }
  const intlOffset = (sec: number): number | undefined => {
    if (!fmt) return undefined;
    const part = fmt.formatToParts(new Date(sec * 1000)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT(?:([+-])(\d+)(?::(\d+))?)?/.exec(part);
    if (!m || !m[1]) return 0;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60);
  };
  return {
    name,
    lookup(sec: number) {
      let i = -1;
      for (let k = 0; k < tz.transitions.length && tz.transitions[k]! <= sec; k++) i = k;
      const fromTable = i >= 0 ? tz.types[tz.idx[i]!] : tz.types[0];
      const within = i >= 0 && i < tz.transitions.length - 1;
      if (within && fromTable) return fromTable;
      const off = intlOffset(sec);
      if (off === undefined || (fromTable && fromTable.offset === off && (i >= 0 || tz.transitions.length === 0))) return fromTable ?? { offset: 0, abbr: 'UTC' };
      const match = [...tz.types].reverse().find((t) => t.offset === off);
      return match ?? { offset: off, abbr: formatOffsetAbbr(off) };
    },
  };
}

function formatOffsetAbbr(off: number): string {
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const h = String(Math.floor(a / 3600)).padStart(2, '0');
  const m = Math.floor((a % 3600) / 60);
  return sign + h + (m ? String(m).padStart(2, '0') : '');
}

let local: GoLocation | undefined;
/** time.Local: $TZ, else /etc/localtime; named "Local" as Go names it. */
export function localLocation(): GoLocation {
  if (local) return local;
  const tz = process.env.TZ;
  let loc: GoLocation | undefined;
  if (tz === undefined) loc = zoneFromFile('Local', '/etc/localtime', Intl.DateTimeFormat().resolvedOptions().timeZone);
  else if (tz !== '' && tz !== 'UTC') {
    const name = tz.startsWith(':') ? tz.slice(1) : tz;
    loc = zoneFromFile('Local', name.startsWith('/') ? name : '/usr/share/zoneinfo/' + name, name);
  }
  local = loc ?? { name: 'Local', lookup: () => ({ offset: 0, abbr: 'UTC' }) };
  return local;
}

/** Builds a time.Time value. */
export function makeTime(ns: bigint, loc: GoLocation, mono?: number): GoObject {
  const t: GoObject = {};
  Object.defineProperty(t, timeData, { value: { ns, loc, mono } satisfies TimeData, enumerable: false });
  Object.defineProperty(t, goTypeName, { value: 'time.Time', enumerable: false });
  Object.defineProperty(t, goMethods, { value: timeMethods(t), enumerable: false });
  return t;
}

export function isTime(v: GoValue): v is GoObject {
  return typeof v === 'object' && v !== null && timeData in v;
}

function data(t: GoObject): TimeData {
  return (t as unknown as Record<symbol, TimeData>)[timeData]!;
}

/** The value as a time.Time, or the error text-template reports for a wrong argument type. */
export function asTime(v: GoValue): GoObject {
  if (isTime(v)) return v;
  throw new GoError(`wrong type for value; expected time.Time; got ${v === null || v === undefined ? '<nil>' : describeType(v)}`);
}

function describeType(v: GoValue): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoTyped) return v.type;
  return Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}';
}

const ZERO_UNIX = -62135596800n;
/** The zero time.Time (0001-01-01 00:00:00 UTC). */
export function zeroTime(): GoObject {
  return makeTime(ZERO_UNIX * 1_000_000_000n, UTC);
}

interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  wday: number;
  yday: number;
  offset: number;
  abbr: string;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** Proleptic Gregorian date of a day count since 1970-01-01 (any range Go's time supports). */
function civilFromDays(days: bigint): { year: number; month: number; day: number } {
  const z = days + 719468n;
  const era = floorDiv(z, 146097n);
  const doe = Number(z - era * 146097n);
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: Number(era * 400n) + yoe + (month <= 2 ? 1 : 0), month, day };
}

function daysFromCivil(year: number, month: number, day: number): bigint {
  const y = BigInt(year - (month <= 2 ? 1 : 0));
  const era = floorDiv(y, 400n);
  const yoe = Number(y - era * 400n);
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097n + BigInt(doe) - 719468n;
}

/** Go's unixToInternal + internalToAbsolute: Unix seconds → seconds since year -292277022399. */
const UNIX_TO_ABSOLUTE = 9223372028715321600n;

function civil(d: TimeData): Civil {
  const sec = floorDiv(d.ns, 1_000_000_000n);
  const nsec = Number(d.ns - sec * 1_000_000_000n);
  const { offset, abbr } = d.loc.lookup(Number(sec));
  // Go computes calendar fields from uint64 "absolute" seconds, which wrap for extreme times.
  const local = BigInt.asUintN(64, sec + BigInt(offset) + UNIX_TO_ABSOLUTE) - UNIX_TO_ABSOLUTE;
  const days = floorDiv(local, 86400n);
  const sod = Number(local - days * 86400n);
  const { year, month, day } = civilFromDays(days);
  const wday = Number(((days % 7n) + 11n) % 7n);
  return {
    year,
    month,
    day,
    hour: Math.floor(sod / 3600),
    min: Math.floor((sod % 3600) / 60),
    sec: sod % 60,
    nsec,
    wday,
    yday: Number(days - daysFromCivil(year, 1, 1)) + 1,
    offset,
    abbr,
  };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

type Chunk =
  | { kind: 'lit'; text: string }
  | { kind: 'std'; std: string; digits?: number; sep?: string };

/** Splits a Go layout into literal text and std chunks (Go's nextStdChunk). */
function layoutChunks(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let lit = '';
  const push = (c: Chunk) => {
    if (lit) out.push({ kind: 'lit', text: lit });
    lit = '';
    out.push(c);
  };
  const L = layout;
  let i = 0;
  outer: while (i < L.length) {
    const c = L[i]!;
    const at = (s: string) => L.startsWith(s, i);
    const std = (s: string, len = s.length) => {
      push({ kind: 'std', std: s });
      i += len;
    };
    switch (c) {
      case 'J':
        if (at('January')) {
          std('January');
          continue outer;
        }
        if (at('Jan')) {
          std('Jan');
          continue outer;
        }
        break;
      case 'M':
        if (at('Monday')) {
          std('Monday');
          continue outer;
        }
        if (at('Mon')) {
          std('Mon');
          continue outer;
        }
        if (at('MST')) {
          std('MST');
          continue outer;
        }
        break;
      case '0':
        if (L[i + 1]! >= '1' && L[i + 1]! <= '6') {
          std(L.slice(i, i + 2));
          continue outer;
        }
        if (at('002')) {
          std('002');
          continue outer;
        }
        break;
      case '1':
        if (at('15')) {
          std('15');
          continue outer;
        }
        std('1');
        continue outer;
      case '2':
        if (at('2006')) {
          std('2006');
          continue outer;
        }
        std('2');
        continue outer;
      case '_':
        if (at('_2')) {
          if (at('_2006')) {
            lit += '_';
            i++;
            std('2006');
            continue outer;
          }
          std('_2');
          continue outer;
        }
        if (at('__2')) {
          std('__2');
          continue outer;
        }
        break;
      case '3':
      case '4':
      case '5':
        std(c);
        continue outer;
      case 'P':
        if (at('PM')) {
          std('PM');
          continue outer;
        }
        break;
      case 'p':
        if (at('pm')) {
          std('pm');
          continue outer;
        }
        break;
      case '-':
      case 'Z':
        for (const z of ['070000', '07:00:00', '0700', '07:00', '07']) {
          if (L.startsWith(z, i + 1)) {
            std(c + z);
            continue outer;
          }
        }
        break;
      case '.':
      case ',':
        if (L[i + 1] === '0' || L[i + 1] === '9') {
          const ch = L[i + 1]!;
          let j = i + 1;
          while (j < L.length && L[j] === ch) j++;
          if (!(L[j]! >= '0' && L[j]! <= '9')) {
            push({ kind: 'std', std: ch === '0' ? 'frac0' : 'frac9', digits: j - i - 1, sep: c });
            i = j;
            continue outer;
          }
        }
        break;
    }
    lit += c;
    i++;
  }
  if (lit) out.push({ kind: 'lit', text: lit });
  return out;
}

const pad = (n: number, w: number) => String(Math.abs(n)).padStart(w, '0');

/** time.Time.Format. */
export function formatTime(t: GoObject, layout: string): string {
  const c = civil(data(t));
  let out = '';
  for (const ch of layoutChunks(layout)) {
    if (ch.kind === 'lit') {
      out += ch.text;
      continue;
    }
    switch (ch.std) {
      case 'January':
        out += MONTHS[c.month - 1];
        break;
      case 'Jan':
        out += MONTHS[c.month - 1]!.slice(0, 3);
        break;
      case 'Monday':
        out += DAYS[c.wday];
        break;
      case 'Mon':
        out += DAYS[c.wday]!.slice(0, 3);
        break;
      case 'MST':
        out += c.abbr !== '' ? c.abbr : (c.offset < 0 ? '-' : '+') + pad(Math.floor(Math.abs(c.offset) / 3600), 2) + pad(Math.floor((Math.abs(c.offset) % 3600) / 60), 2);
        break;
      case '01':
        out += pad(c.month, 2);
        break;
      case '02':
        out += pad(c.day, 2);
        break;
      case '03':
        out += pad(c.hour % 12 === 0 ? 12 : c.hour % 12, 2);
        break;
      case '04':
        out += pad(c.min, 2);
        break;
      case '05':
        out += pad(c.sec, 2);
        break;
      case '06':
        out += pad(c.year % 100, 2);
        break;
      case '002':
        out += pad(c.yday, 3);
        break;
      case '__2':
        out += String(c.yday).padStart(3, ' ');
        break;
      case '1':
        out += c.month;
        break;
      case '15':
        out += pad(c.hour, 2);
        break;
      case '2006':
        out += c.year < 0 ? '-' + pad(c.year, 4) : pad(c.year, 4);
        break;
      case '2':
        out += c.day;
        break;
      case '_2':
        out += String(c.day).padStart(2, ' ');
        break;
      case '3':
        out += c.hour % 12 === 0 ? 12 : c.hour % 12;
        break;
      case '4':
        out += c.min;
        break;
      case '5':
        out += c.sec;
        break;
      case 'PM':
        out += c.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += c.hour >= 12 ? 'pm' : 'am';
        break;
      case 'frac0':
        out += ch.sep + String(c.nsec).padStart(9, '0').slice(0, ch.digits);
        break;
      case 'frac9': {
        const f = String(c.nsec).padStart(9, '0').slice(0, ch.digits).replace(/0+$/, '');
        if (f) out += ch.sep + f;
        break;
      }
      default: {
        // zone offsets
        const z = ch.std;
        if (z[0] === 'Z' && c.offset === 0) {
          out += 'Z';
          break;
        }
        const off = Math.abs(c.offset);
        const sign = c.offset < 0 ? '-' : '+';
        const hh = pad(Math.floor(off / 3600), 2);
        const mm = pad(Math.floor((off % 3600) / 60), 2);
        const ss = pad(off % 60, 2);
        const body = z.slice(1);
        if (body === '07') out += sign + hh;
        else if (body === '0700') out += sign + hh + mm;
        else if (body === '07:00') out += sign + hh + ':' + mm;
        else if (body === '070000') out += sign + hh + mm + ss;
        else out += sign + hh + ':' + mm + ':' + ss;
      }
    }
  }
  return out;
}

/** time.Time.String(). */
export function timeString(t: GoObject): string {
  let s = formatTime(t, '2006-01-02 15:04:05.999999999 -0700 MST');
  const mono = data(t).mono;
  if (mono !== undefined) s += ' m=' + (mono < 0 ? '-' : '+') + Math.abs(mono).toFixed(9);
  return s;
}

function quoteGo(s: string): string {
  return JSON.stringify(s);
}

/** time.ParseInLocation for the layout elements charts use; Go's error texts. */
export function parseTime(layout: string, value: string, loc: GoLocation): GoObject {
  const fail = (elem: string, rest: string, extra = '') =>
    new GoError(`parsing time ${quoteGo(value)} as ${quoteGo(layout)}: cannot parse ${quoteGo(rest)} as ${quoteGo(elem)}${extra}`);
  let year = 1;
  let month = 1;
  let day = 1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let pm: boolean | undefined;
  let zoneOffset: number | undefined;
  let zoneName: string | undefined;
  let v = value;
  const num = (re: RegExp, elem: string): number => {
    const m = re.exec(v);
    if (!m) throw fail(elem, v);
    v = v.slice(m[0].length);
    return Number(m[0]);
  };
  const chunks = layoutChunks(layout);
  for (let k = 0; k < chunks.length; k++) {
    const ch = chunks[k]!;
    if (ch.kind === 'lit') {
      if (!v.startsWith(ch.text)) throw fail(ch.text, v);
      v = v.slice(ch.text.length);
      continue;
    }
    const s = ch.std;
    switch (s) {
      case '2006':
        year = num(/^\d{4}/, s);
        break;
      case '06': {
        const y = num(/^\d{2}/, s);
        year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case 'January':
      case 'Jan': {
        const names = s === 'January' ? MONTHS : MONTHS.map((m) => m.slice(0, 3));
        const idx = names.findIndex((m) => v.toLowerCase().startsWith(m.toLowerCase()));
        if (idx < 0) throw fail(s, v);
        v = v.slice(names[idx]!.length);
        month = idx + 1;
        break;
      }
      case 'Monday':
      case 'Mon': {
        const names = s === 'Monday' ? DAYS : DAYS.map((d) => d.slice(0, 3));
        const idx = names.findIndex((d) => v.toLowerCase().startsWith(d.toLowerCase()));
        if (idx < 0) throw fail(s, v);
        v = v.slice(names[idx]!.length);
        break;
      }
      case '01':
        month = num(/^\d{2}/, s);
        break;
      case '1':
        month = num(/^\d{1,2}/, s);
        break;
      case '02':
        day = num(/^\d{2}/, s);
        break;
      case '_2':
        if (v.startsWith(' ')) v = v.slice(1);
        day = num(/^\d{1,2}/, s);
        break;
      case '2':
        day = num(/^\d{1,2}/, s);
        break;
      case '15':
        hour = num(/^\d{1,2}/, s);
        break;
      case '03':
        hour = num(/^\d{2}/, s);
        break;
      case '3':
        hour = num(/^\d{1,2}/, s);
        break;
      case '04':
        min = num(/^\d{2}/, s);
        break;
      case '4':
        min = num(/^\d{1,2}/, s);
        break;
      case '05':
        sec = num(/^\d{2}/, s);
        // Go accepts fractional seconds after the seconds field even when the layout has none.
        if (/^[.,]\d/.test(v) && !(chunks[k + 1]?.kind === 'std' && (chunks[k + 1] as { std: string }).std.startsWith('frac'))) {
          const m = /^[.,](\d+)/.exec(v)!;
          nsec = Number(m[1]!.slice(0, 9).padEnd(9, '0'));
          v = v.slice(m[0].length);
        }
        break;
      case '5':
        sec = num(/^\d{1,2}/, s);
        break;
      case 'PM':
      case 'pm': {
        const m = /^(AM|PM|am|pm)/.exec(v);
        if (!m) throw fail(s, v);
        pm = m[1]!.toUpperCase() === 'PM';
        v = v.slice(2);
        break;
      }
      case 'frac0':
      case 'frac9': {
        const m = /^[.,](\d+)/.exec(v);
        if (!m) {
          if (s === 'frac9') break;
          throw fail(ch.sep + '0'.repeat(ch.digits ?? 0), v);
        }
        nsec = Number(m[1]!.slice(0, 9).padEnd(9, '0'));
        v = v.slice(m[0].length);
        break;
      }
      case 'MST': {
        const m = /^([A-Z]{3,5}|[+-]\d\d(\d\d)?)/.exec(v);
        if (!m) throw fail(s, v);
        zoneName = m[1]!;
        v = v.slice(m[0].length);
        break;
      }
      default: {
        if (s[0] === 'Z' && v.startsWith('Z')) {
          v = v.slice(1);
          zoneOffset = 0;
          zoneName = 'UTC';
          break;
        }
        const m = /^([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?/.exec(v);
        if (!m) throw fail(s, v);
        zoneOffset = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0));
        v = v.slice(m[0].length);
      }
    }
  }
  if (v !== '') throw new GoError(`parsing time ${quoteGo(value)}: extra text: ${quoteGo(v)}`);
  if (pm !== undefined) {
    if (pm && hour < 12) hour += 12;
    else if (!pm && hour === 12) hour = 0;
  }
  if (month < 1 || month > 12) throw new GoError(`parsing time ${quoteGo(value)}: month out of range`);
  const dim = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day < 1 || day > (month === 2 ? (leap ? 29 : 28) : dim) || hour > 23 || min > 59 || sec > 59)
    throw new GoError(`parsing time ${quoteGo(value)}: ${day < 1 || day > 31 ? 'day' : hour > 23 ? 'hour' : min > 59 ? 'minute' : sec > 59 ? 'second' : 'day'} out of range`);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  const wall = BigInt(d.getTime() / 1000);
  let offset: number;
  let tzLoc = loc;
  if (zoneOffset !== undefined) {
    offset = zoneOffset;
    const lo = loc.lookup(Number(wall) - offset);
    if (lo.offset !== offset || (zoneName === 'UTC' && loc !== UTC)) tzLoc = fixedZone(zoneName === 'UTC' && offset === 0 ? 'UTC' : '', offset);
    if (zoneName === 'UTC' && offset === 0) tzLoc = UTC;
  } else if (zoneName !== undefined) {
    const guess = loc.lookup(Number(wall));
    if (guess.abbr === zoneName) offset = guess.offset;
    else {
      offset = zoneName === 'UTC' ? 0 : 0;
      tzLoc = zoneName === 'UTC' ? UTC : fixedZone(zoneName, 0);
    }
  } else {
    // Wall time in loc: find the offset in effect at that local time.
    let o = loc.lookup(Number(wall)).offset;
    o = loc.lookup(Number(wall) - o).offset;
    offset = o;
  }
  return makeTime((wall - BigInt(offset)) * 1_000_000_000n + BigInt(nsec), tzLoc);
}

export function fixedZone(name: string, offset: number): GoLocation {
  return { name, lookup: () => ({ offset, abbr: name }) };
}

// ---- durations
const UNITS: Record<string, bigint> = { ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/** time.ParseDuration, in nanoseconds. */
export function parseDuration(s: string): bigint {
  const orig = s;
  const err = () => new GoError(`time: invalid duration ${quoteGo(orig)}`);
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw err();
  let total = 0;
  let totalNs = 0n;
  while (s !== '') {
    const m = /^(\d*)(\.(\d*))?/.exec(s)!;
    if (m[0] === '' || m[0] === '.' || (m[1] === '' && (m[3] ?? '') === '')) throw err();
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw new GoError(`time: missing unit in duration ${quoteGo(orig)}`);
    const unit = UNITS[u[0]];
    if (unit === undefined) throw new GoError(`time: unknown unit ${quoteGo(u[0])} in duration ${quoteGo(orig)}`);
    s = s.slice(u[0].length);
    let v = BigInt(m[1] || '0') * unit;
    if (m[3]) {
      const frac = m[3];
      v += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    }
    totalNs += v;
    total++;
    if (totalNs > (1n << 63n) - 1n) throw err();
  }
  void total;
  return neg ? -totalNs : totalNs;
}

/** time.Duration.String(). */
export function durationString(d: bigint): string {
  if (d === 0n) return '0s';
  const neg = d < 0n;
  let u = neg ? -d : d;
  let out: string;
  if (u < 1_000_000_000n) {
    let unit: string;
    let div: bigint;
    if (u < 1000n) return (neg ? '-' : '') + u + 'ns';
    if (u < 1_000_000n) {
      unit = 'µs';
      div = 1000n;
    } else {
      unit = 'ms';
      div = 1_000_000n;
    }
    out = fracString(u, div) + unit;
  } else {
    const h = u / 3_600_000_000_000n;
    u -= h * 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u -= m * 60_000_000_000n;
    out = fracString(u, 1_000_000_000n) + 's';
    if (h > 0n || m > 0n) out = m + 'm' + out;
    if (h > 0n) out = h + 'h' + out;
  }
  return (neg ? '-' : '') + out;
}

function fracString(v: bigint, div: bigint): string {
  const whole = v / div;
  const frac = v % div;
  if (frac === 0n) return String(whole);
  const digits = String(div).length - 1;
  return whole + '.' + String(frac).padStart(digits, '0').replace(/0+$/, '');
}

/** time.Duration.Round(m). */
function roundDuration(d: bigint, m: bigint): bigint {
  let r = d % m;
  if (d < 0n) {
    r = -r;
    if (r + r < m) return d + r;
    return d - m + r;
  }
  if (r + r < m) return d - r;
  return d + m - r;
}

function timeMethods(t: GoObject): Record<string, GoFunc> {
  const d = () => data(t);
  const c = () => civil(d());
  const unix = () => floorDiv(d().ns, 1_000_000_000n);
  return {
    String: goFunc([], () => timeString(t), { result: 'string' }),
    Format: goFunc(['string'], (l: string) => formatTime(t, l), { result: 'string' }),
    UTC: goFunc([], () => makeTime(d().ns, UTC), { result: 'time.Time' }),
    Local: goFunc([], () => makeTime(d().ns, localLocation()), { result: 'time.Time' }),
    Unix: goFunc([], () => i64(unix()), { result: 'int64' }),
    UnixMilli: goFunc([], () => i64(floorDiv(d().ns, 1_000_000n)), { result: 'int64' }),
    UnixNano: goFunc([], () => i64(d().ns), { result: 'int64' }),
    Year: goFunc([], () => BigInt(c().year), { result: 'int' }),
    Month: goFunc([], () => MONTHS[c().month - 1]!, { result: 'time.Month' }),
    Day: goFunc([], () => BigInt(c().day), { result: 'int' }),
    Hour: goFunc([], () => BigInt(c().hour), { result: 'int' }),
    Minute: goFunc([], () => BigInt(c().min), { result: 'int' }),
    Second: goFunc([], () => BigInt(c().sec), { result: 'int' }),
    Nanosecond: goFunc([], () => BigInt(c().nsec), { result: 'int' }),
    YearDay: goFunc([], () => BigInt(c().yday), { result: 'int' }),
    Weekday: goFunc([], () => DAYS[c().wday]!, { result: 'time.Weekday' }),
    IsZero: goFunc([], () => d().ns === ZERO_UNIX * 1_000_000_000n, { result: 'bool' }),
    Add: goFunc(['int64'], (x) => makeTime(d().ns + (goInt(x) ?? 0n), d().loc), { result: 'time.Time' }),
    AddDate: goFunc(['int', 'int', 'int'], (y, m, dd) => {
      const cv = c();
      const nd = new Date(0);
      nd.setUTCFullYear(cv.year + num(y), cv.month - 1 + num(m), cv.day + num(dd));
      nd.setUTCHours(cv.hour, cv.min, cv.sec);
      const wall = BigInt(nd.getTime() / 1000);
      const off = d().loc.lookup(Number(wall) - cv.offset).offset;
      return makeTime((wall - BigInt(off)) * 1_000_000_000n + BigInt(cv.nsec), d().loc);
    }, { result: 'time.Time' }),
  };
}

/**
 * time.Time parameters are declared interface{} and checked by asTime: the engine's check of
 * named parameter types (reflect.ts assignable) does not match struct type names yet.
 */
const TIME: GoParamType = 'interface{}';

/** sprig's date functions. */
export function dateFuncs(now: () => Date): Record<string, GoFunc> {
  const nowTime = () => {
    const ms = now().getTime();
    return makeTime(BigInt(ms) * 1_000_000n, localLocation(), process.uptime());
  };
  const toT = (v: GoValue, int32ok = true): GoObject => {
    if (isTime(v)) return v;
    if (typeof v === 'bigint') return makeTime(v * 1_000_000_000n, localLocation());
    if (v instanceof GoTyped && (v.type === 'int64' || (int32ok && v.type === 'int32'))) return makeTime(BigInt(v.value) * 1_000_000_000n, localLocation());
    return nowTime();
  };
  const inZone = (layout: string, v: GoValue, zone: string) => {
    const t = toT(v);
    const loc = loadLocation(zone) ?? UTC;
    return formatTime(makeTime(data(t).ns, loc), layout);
  };
  const f: Record<string, GoFunc> = {
    now: goFunc([], () => nowTime(), { result: 'time.Time' }),
    date: goFunc(['string', 'interface{}'], (l: string, v) => inZone(l, v, 'Local'), { result: 'string' }),
    dateInZone: goFunc(['string', 'interface{}', 'string'], (l: string, v, z: string) => inZone(l, v, z), { result: 'string' }),
    htmlDate: goFunc(['interface{}'], (v) => inZone('2006-01-02', v, 'Local'), { result: 'string' }),
    htmlDateInZone: goFunc(['interface{}', 'string'], (v, z: string) => inZone('2006-01-02', v, z), { result: 'string' }),
    dateModify: goFunc(['string', TIME], (s: string, v) => {
      const t = asTime(v);
      let dur: bigint;
      try {
        dur = parseDuration(s);
      } catch {
        return t;
      }
      return makeTime(data(t).ns + dur, data(t).loc);
    }, { result: 'time.Time' }),
    mustDateModify: goFunc(['string', TIME], (s: string, v) => {
      const t = asTime(v);
      return makeTime(data(t).ns + parseDuration(s), data(t).loc);
    }, { result: 'time.Time' }),
    ago: goFunc(['interface{}'], (v) => {
      const t = isTime(v) ? v : toT(v, false);
      const since = BigInt(now().getTime()) * 1_000_000n - data(t).ns;
      return durationString(roundDuration(since, 1_000_000_000n));
    }, { result: 'string' }),
    duration: goFunc(['interface{}'], (v) => {
      let n = 0n;
      if (typeof v === 'string') n = /^[+-]?\d+$/.test(v) ? BigInt(v) : 0n;
      else if (v instanceof GoTyped && v.type === 'int64') n = BigInt(v.value);
      return durationString(BigInt.asIntN(64, n * 1_000_000_000n));
    }, { result: 'string' }),
    durationRound: goFunc(['interface{}'], (v) => {
      let d = 0n;
      if (typeof v === 'string') {
        try {
          d = parseDuration(v);
        } catch {
          d = 0n;
        }
      } else if (v instanceof GoTyped && v.type === 'int64') d = BigInt(v.value);
      else if (isTime(v)) d = BigInt(now().getTime()) * 1_000_000n - data(v).ns;
      const u = d < 0n ? -d : d;
      const units: [bigint, string][] = [
        [3_600_000_000_000n * 24n * 365n, 'y'],
        [3_600_000_000_000n * 24n * 30n, 'mo'],
        [3_600_000_000_000n * 24n, 'd'],
        [3_600_000_000_000n, 'h'],
        [60_000_000_000n, 'm'],
        [1_000_000_000n, 's'],
      ];
      for (const [size, name] of units) if (u > size) return u / size + name;
      return '0s';
    }, { result: 'string' }),
    toDate: goFunc(['string', 'string'], (l: string, s: string) => {
      try {
        return parseTime(l, s, localLocation());
      } catch {
        return zeroTime();
      }
    }, { result: 'time.Time' }),
    mustToDate: goFunc(['string', 'string'], (l: string, s: string) => parseTime(l, s, localLocation()), { result: 'time.Time' }),
    unixEpoch: goFunc([TIME], (v) => String(floorDiv(data(asTime(v)).ns, 1_000_000_000n)), { result: 'string' }),
  };
  f.date_in_zone = f.dateInZone!;
  f.date_modify = f.dateModify!;
  f.must_date_modify = f.mustDateModify!;
  return f;
}
