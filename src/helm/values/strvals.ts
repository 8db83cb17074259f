/**
 * @module Helm's strvals: the `--set a.b[0].c=v,x={1,2}` syntax of `--set`, `--set-string`,
 * `--set-file` and `--set-json` (helm.sh/helm/v3 pkg/strvals). Dots descend into maps,
 * `[i]` into lists (growing them with nulls), `{a,b}` is a list value, `\` escapes the next
 * character, `null` sets null (which later deletes a chart default), and a bare integer
 * not starting with 0 becomes an int64, as Helm types it.
 */
import { GoTyped, type GoValue } from '../template/values.js';

/** A malformed `--set` expression; the message is Helm's. */
export class StrvalsError extends Error {
  override name = 'StrvalsError';
}

/** Helm's limits: deeper names or larger list indices are refused. */
export const maxNestedNameLevel = 30;
export const maxIndex = 65536;

type Values = Record<string, unknown>;
/** Turns the raw runes of a value into the stored value (typed, string, or a file's content). */
export type ValueReader = (raw: string) => unknown;

const EOF = Symbol('EOF');
class NotList extends Error {}

/** A rune scanner with one rune of push-back, over the UTF-16 string as code points. */
class Scanner {
  private readonly chars: string[];
  pos = 0;
  constructor(s: string) {
    this.chars = Array.from(s);
  }
  read(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }
  unread(): void {
    this.pos--;
  }
  rest(): string {
    return this.chars.slice(this.pos).join('');
  }
  /** Skips `n` UTF-16 code units of the rest (what a JSON decoder consumed). */
  skipUnits(n: number): void {
    let units = 0;
    while (units < n && this.pos < this.chars.length) units += this.chars[this.pos++].length;
  }
}

/** Reads until a stop rune (returned as `last`), honouring `\` escapes; `last` is EOF at the end. */
function runesUntil(sc: Scanner, stop: string): { v: string; last: string | typeof EOF } {
  let v = '';
  for (;;) {
    const r = sc.read();
    if (r === EOF) return { v, last: EOF };
    if (stop.includes(r)) return { v, last: r };
    if (r === '\\') {
      const next = sc.read();
      if (next === EOF) return { v, last: EOF };
      v += next;
    } else v += r;
  }
}

/** Helm's typedVal: true/false/null (any case), 0, and decimal int64s not starting with 0. */
export function typedVal(val: string, stringsOnly: boolean): unknown {
  if (stringsOnly) return val;
  const lower = val.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (val === '0') return new GoTyped('int64', 0n);
  if (val.length > 0 && val[0] !== '0' && /^[+-]?\d+$/.test(val)) {
    const n = BigInt(val);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return new GoTyped('int64', n);
  }
  return val;
}

/** Decodes one JSON value from the start of `s`, as Go's json.Decoder does: returns it and the characters used. */
function decodeJsonPrefix(s: string): { value: unknown; used: number } {
  let i = 0;
  while (i < s.length && /\s/.test(s[i])) i++;
  if (i >= s.length) throw new StrvalsError('EOF');
  const start = i;
  const c = s[i];
  if (c === '{' || c === '[') {
    let depth = 0;
    let inString = false;
    for (; i < s.length; i++) {
      const ch = s[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
    }
  } else if (c === '"') {
    for (i++; i < s.length; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === '"') {
        i++;
        break;
      }
    }
  } else {
    while (i < s.length && !/[\s,{}[\]"]/.test(s[i])) i++;
  }
  const text = s.slice(start, i);
  try {
    return { value: JSON.parse(text), used: i };
  } catch (e) {
    throw new StrvalsError(text.length === 0 ? `invalid character '${s[start]}' looking for beginning of value` : (e as Error).message);
  }
}

class Parser {
  constructor(
    private readonly sc: Scanner,
    private readonly data: Values,
    private readonly reader: ValueReader,
    private readonly isJson: boolean,
  ) {}

  parse(): void {
    for (;;) {
      const r = this.key(this.data, 0);
      if (r === EOF) return;
    }
  }

  /** Consumes blanks up to a comma or the end (true: the value is empty) or stops before anything else. */
  private emptyVal(): boolean {
    for (;;) {
      const r = this.sc.read();
      if (r === EOF || r === ',') return true;
      if (!/\s/u.test(r)) {
        this.sc.unread();
        return false;
      }
    }
  }

  private jsonValue(): unknown {
    const { value, used } = decodeJsonPrefix(this.sc.rest());
    this.sc.skipUnits(used);
    this.emptyVal();
    return value;
  }

  private key(data: Values, nested: number): void | typeof EOF {
    const { v: k, last } = runesUntil(this.sc, '=[,.');
    if (last === EOF) {
      if (k.length === 0) return EOF;
      throw new StrvalsError(`key "${k}" has no value`);
    }
    switch (last) {
      case '[': {
        const i = this.keyIndex();
        let list: unknown[] = [];
        if (k in data) {
          if (!Array.isArray(data[k])) throw new StrvalsError(`unable to parse key: interface conversion: interface {} is ${goKindOf(data[k])}, not []interface {}`);
          list = data[k] as unknown[];
        }
        const { list: out, eof } = this.listItem(list, i, nested);
        set(data, k, out);
        return eof ? EOF : undefined;
      }
      case '=': {
        if (this.isJson) {
          if (this.emptyVal()) {
            set(data, k, null);
            return;
          }
          set(data, k, this.jsonValue());
          return;
        }
        let vl: unknown[];
        try {
          vl = this.valList();
        } catch (e) {
          if (e === EOF) {
            set(data, k, '');
            return EOF;
          }
          if (!(e instanceof NotList)) throw e;
          const { v } = runesUntil(this.sc, ',');
          set(data, k, this.reader(v));
          return;
        }
        set(data, k, vl);
        return;
      }
      case ',':
        set(data, k, '');
        throw new StrvalsError(`key "${k}" has no value (cannot end with ,)`);
      case '.': {
        nested++;
        if (nested > maxNestedNameLevel) throw new StrvalsError(`value name nested level is greater than maximum supported nested level of ${maxNestedNameLevel}`);
        let inner: Values = {};
        if (k in data) {
          const existing = data[k];
          if (!isPlainMap(existing)) throw new StrvalsError(`unable to parse key: interface conversion: interface {} is ${goKindOf(existing)}, not map[string]interface {}`);
          inner = existing;
        }
        const r = this.key(inner, nested);
        if (r !== EOF && Object.keys(inner).length === 0) throw new StrvalsError(`key map "${k}" has no value`);
        if (Object.keys(inner).length !== 0) set(data, k, inner);
        return r;
      }
    }
  }

  private keyIndex(): number {
    const { v, last } = runesUntil(this.sc, ']');
    if (last === EOF) throw new StrvalsError('error parsing index: EOF');
    if (!/^[+-]?\d+$/.test(v)) throw new StrvalsError(`error parsing index: strconv.Atoi: parsing "${v}": invalid syntax`);
    return Number(v);
  }

  private listItem(list: unknown[], i: number, nested: number): { list: unknown[]; eof: boolean } {
    if (i < 0) throw new StrvalsError(`negative ${i} index not allowed`);
    const { v: k, last } = runesUntil(this.sc, '[.=');
    if (k.length > 0) throw new StrvalsError(`unexpected data at end of array index: "${k}"`);
    if (last === EOF) return { list, eof: true };
    switch (last) {
      case '=': {
        if (this.isJson) {
          if (this.emptyVal()) return { list: setIndex(list, i, null), eof: false };
          return { list: setIndex(list, i, this.jsonValue()), eof: false };
        }
        try {
          return { list: setIndex(list, i, this.valList()), eof: false };
        } catch (e) {
          if (e === EOF) return { list: setIndex(list, i, ''), eof: true };
          if (!(e instanceof NotList)) throw e;
          const { v, last: l } = runesUntil(this.sc, ',');
          return { list: setIndex(list, i, this.reader(v)), eof: l === EOF };
        }
      }
      case '[': {
        const next = this.keyIndex();
        let current: unknown[] = [];
        if (list.length > i && list[i] != null) {
          if (!Array.isArray(list[i])) throw new StrvalsError(`unable to parse key: interface conversion: interface {} is ${goKindOf(list[i])}, not []interface {}`);
          current = list[i] as unknown[];
        }
        const r = this.listItem(current, next, nested);
        return { list: setIndex(list, i, r.list), eof: r.eof };
      }
      case '.': {
        let inner: Values = {};
        if (list.length > i) {
          if (isPlainMap(list[i])) inner = list[i] as Values;
          else list[i] = inner;
        }
        const r = this.key(inner, nested);
        return { list: setIndex(list, i, inner), eof: r === EOF };
      }
    }
    throw new StrvalsError(`parse error: unexpected token ${String(last)}`);
  }

  /** `{a,b,c}` as a list; NotList when the value does not start with `{`; EOF when there is nothing. */
  private valList(): unknown[] {
    const r = this.sc.read();
    if (r === EOF) throw EOF;
    if (r !== '{') {
      this.sc.unread();
      throw new NotList();
    }
    const list: unknown[] = [];
    for (;;) {
      const { v, last } = runesUntil(this.sc, ',}');
      if (last === EOF) throw new StrvalsError("list must terminate with '}'");
      if (last === '}') {
        const next = this.sc.read();
        if (next !== EOF && next !== ',') this.sc.unread();
        list.push(this.reader(v));
        return list;
      }
      list.push(this.reader(v));
    }
  }
}

function set(data: Values, key: string, val: unknown): void {
  if (key.length === 0) return;
  data[key] = val;
}

function setIndex(list: unknown[], index: number, val: unknown): unknown[] {
  if (index < 0) throw new StrvalsError(`negative ${index} index not allowed`);
  if (index > maxIndex) throw new StrvalsError(`index of ${index} is greater than maximum supported index of ${maxIndex}`);
  while (list.length <= index) list.push(null);
  list[index] = val;
  return list;
}

function isPlainMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoTyped) && !(v instanceof Uint8Array);
}

function goKindOf(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoTyped) return v.type;
  if (typeof v === 'number') return 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  if (v === null || v === undefined) return 'nil';
  return 'map[string]interface {}';
}

function run(s: string, dest: Values, reader: ValueReader, isJson: boolean): Values {
  try {
    new Parser(new Scanner(s), dest, reader, isJson).parse();
  } catch (e) {
    if (e instanceof StrvalsError) throw e;
    throw new StrvalsError(e instanceof Error ? e.message : String(e));
  }
  return dest;
}

/** `--set`: parses `s` into `dest` (mutated and returned), typing values as Helm does. */
export function parseInto(s: string, dest: Values = {}): Values {
  return run(s, dest, (raw) => typedVal(raw, false), false);
}

/** `--set-string`: every value stays a string. */
export function parseIntoString(s: string, dest: Values = {}): Values {
  return run(s, dest, (raw) => typedVal(raw, true), false);
}

/** `--set-file`: each value is a path; `readFile` returns the content stored. */
export function parseIntoFile(s: string, dest: Values, readFile: (path: string) => string): Values {
  return run(s, dest, readFile, false);
}

/** `--set-json`: each value is a JSON document (numbers become float64, as Go decodes them). */
export function parseJson(s: string, dest: Values = {}): Values {
  return run(s, dest, (raw) => raw, true);
}

/** `--set-literal`: the whole right-hand side is one string, no escapes or lists. */
export function parseLiteralInto(s: string, dest: Values = {}): Values {
  const eq = s.indexOf('=');
  if (eq < 0) throw new StrvalsError(`key "${s}" has no value`);
  const path = s.slice(0, eq);
  const value = s.slice(eq + 1);
  // The key part keeps the usual syntax; only the value is literal.
  return run(`${path}=x`, dest, () => value as GoValue, false);
}
