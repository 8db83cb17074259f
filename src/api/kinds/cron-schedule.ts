/**
 * @module Cron schedules as the CronJob API and controller read them (robfig/cron v3
 * ParseStandard): five fields or an @descriptor, an optional TZ=/CRON_TZ= prefix, the
 * parser's exact error texts (they surface in `spec.schedule: Invalid value` errors),
 * and Next() in a time zone.
 */

/** Thrown for a schedule robfig/cron would reject; the message is robfig's. */
export class CronParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronParseError';
  }
}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const minutes: Bounds = { min: 0, max: 59 };
const hours: Bounds = { min: 0, max: 23 };
const doms: Bounds = { min: 1, max: 31 };
const months: Bounds = {
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const dows: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

/** A parsed field: allowed values and whether it was written as * or ?. */
interface Field {
  values: Set<number>;
  star: boolean;
}

function goAtoiError(s: string): string {
  return /^[+-]?\d+$/.test(s) ? `strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range` : `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`;
}

function mustParseInt(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr) || Math.abs(Number(expr)) > Number.MAX_SAFE_INTEGER)
    throw new CronParseError(`failed to parse int from ${expr}: ${goAtoiError(expr)}`);
  const n = Number.parseInt(expr, 10);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, b: Bounds): number {
  const named = b.names?.[expr.toLowerCase()];
  return named ?? mustParseInt(expr);
}

function getRange(expr: string, b: Bounds): Field {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0], b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1], b);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step: number;
  if (rangeAndStep.length === 1) step = 1;
  else if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]);
    // "N/step" means "N-max/step".
    if (singleDigit) end = b.max;
    if (step > 1) star = false;
  } else throw new CronParseError(`too many slashes: ${expr}`);
  if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  const values = new Set<number>();
  for (let v = start; v <= end; v += step) values.add(v);
  return { values, star };
}

function getField(field: string, b: Bounds): Field {
  const out: Field = { values: new Set(), star: false };
  for (const expr of field.split(',').filter((e) => e !== '')) {
    const r = getRange(expr, b);
    for (const v of r.values) out.values.add(v);
    out.star ||= r.star;
  }
  return out;
}

function all(b: Bounds, star = true): Field {
  const values = new Set<number>();
  for (let v = b.min; v <= b.max; v++) values.add(v);
  return { values, star };
}

function one(v: number): Field {
  return { values: new Set([v]), star: false };
}

/** Whether an IANA time zone name is known to this runtime. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset (ms) at an instant. */
function offsetAt(tz: string, instant: number): number {
  if (tz === 'UTC') return 0;
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(instant))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}

function toWall(tz: string, instant: number): number {
  return instant + offsetAt(tz, instant);
}

function fromWall(tz: string, wall: number): number {
  const guess = wall - offsetAt(tz, wall);
  return wall - offsetAt(tz, guess);
}

/** Go's time.ParseDuration for @every (whole seconds are kept). */
function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  return pos === 0 ? undefined : total;
}

/** A parsed schedule: Next() answers the first activation strictly after a time. */
export interface CronSchedule {
  /** The zone of the schedule's wall clock ("UTC" unless TZ=/CRON_TZ= or opts.timeZone). */
  readonly timeZone: string;
  /** The next activation after `after`, or undefined when none within five years. */
  next(after: Date): Date | undefined;
}

class SpecSchedule implements CronSchedule {
  constructor(
    readonly timeZone: string,
    private readonly minute: Field,
    private readonly hour: Field,
    private readonly dom: Field,
    private readonly month: Field,
    private readonly dow: Field,
  ) {}

  private dayMatches(d: Date): boolean {
    const domMatch = this.dom.values.has(d.getUTCDate());
    const dowMatch = this.dow.values.has(d.getUTCDay());
    if (this.dom.star || this.dow.star) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  next(after: Date): Date | undefined {
    const tz = this.timeZone;
    const start = Math.floor(after.getTime() / 1000) * 1000 + 1000;
    let t = new Date(toWall(tz, start));
    const yearLimit = t.getUTCFullYear() + 5;
    let added = false;
    const set = (y: number, mo: number, d: number, h = 0, mi = 0) => {
      t = new Date(Date.UTC(y, mo, d, h, mi, 0));
    };
    wrap: for (;;) {
      if (t.getUTCFullYear() > yearLimit) return undefined;
      while (!this.month.values.has(t.getUTCMonth() + 1)) {
        if (!added) {
          added = true;
          set(t.getUTCFullYear(), t.getUTCMonth(), 1);
        }
        set(t.getUTCFullYear(), t.getUTCMonth() + 1, 1);
        if (t.getUTCMonth() === 0) continue wrap;
      }
      while (!this.dayMatches(t)) {
        if (!added) {
          added = true;
          set(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
        }
        set(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate() + 1);
        if (t.getUTCDate() === 1) continue wrap;
      }
      while (!this.hour.values.has(t.getUTCHours())) {
        if (!added) {
          added = true;
          set(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours());
        }
        set(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours() + 1);
        if (t.getUTCHours() === 0) continue wrap;
      }
      while (!this.minute.values.has(t.getUTCMinutes())) {
        if (!added) {
          added = true;
          set(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes());
        }
        set(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes() + 1);
        if (t.getUTCMinutes() === 0) continue wrap;
      }
      // Standard schedules fire at second 0.
      if (t.getUTCSeconds() !== 0) {
        set(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes() + 1);
        added = true;
        continue wrap;
      }
      return new Date(fromWall(tz, t.getTime()));
    }
  }
}

class EverySchedule implements CronSchedule {
  constructor(
    readonly timeZone: string,
    private readonly everyMs: number,
  ) {}

  next(after: Date): Date {
    const t = after.getTime();
    return new Date(t - (((t % 1000) + 1000) % 1000) + this.everyMs);
  }
}

/**
 * Parses a schedule as cron.ParseStandard does. opts.timeZone is the zone used when the
 * spec has no TZ= prefix (the CronJob's spec.timeZone, or the controller's zone).
 */
export function parseCronSchedule(spec: string, opts: { timeZone?: string } = {}): CronSchedule {
  if (spec.length === 0) throw new CronParseError('empty spec string');
  let tz = opts.timeZone ?? 'UTC';
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    const name = i < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, i);
    if (!isValidTimeZone(name)) throw new CronParseError(`provided bad location ${name}: unknown time zone ${name}`);
    tz = name;
    spec = i < 0 ? '' : spec.slice(i).trim();
  }
  if (spec.startsWith('@')) {
    switch (spec) {
      case '@yearly':
      case '@annually':
        return new SpecSchedule(tz, one(0), one(0), one(1), one(1), all(dows));
      case '@monthly':
        return new SpecSchedule(tz, one(0), one(0), one(1), all(months), all(dows));
      case '@weekly':
        return new SpecSchedule(tz, one(0), one(0), all(doms), all(months), one(0));
      case '@daily':
      case '@midnight':
        return new SpecSchedule(tz, one(0), one(0), all(doms), all(months), all(dows));
      case '@hourly':
        return new SpecSchedule(tz, one(0), all(hours), all(doms), all(months), all(dows));
    }
    if (spec.startsWith('@every ')) {
      const text = spec.slice('@every '.length);
      const ms = parseGoDuration(text);
      if (ms === undefined) throw new CronParseError(`failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(text)}`);
      return new EverySchedule(tz, Math.max(1000, Math.floor(ms / 1000) * 1000));
    }
    throw new CronParseError(`unrecognized descriptor: ${spec}`);
  }
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  return new SpecSchedule(
    tz,
    getField(fields[0], minutes),
    getField(fields[1], hours),
    getField(fields[2], doms),
    getField(fields[3], months),
    getField(fields[4], dows),
  );
}

/** robfig's error text for an invalid schedule, undefined when it parses. */
export function cronScheduleError(spec: string): string | undefined {
  try {
    parseCronSchedule(spec);
    return undefined;
  } catch (e) {
    if (e instanceof CronParseError) return e.message;
    throw e;
  }
}
