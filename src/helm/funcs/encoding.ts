/** @module Go's encoding/json, sigs.k8s.io/yaml (yaml.v2 output byte for byte) and BurntSushi/toml over the value model. */
import { parseAllDocuments, isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode } from 'yaml';
import { formatFloat, goTypeString } from '../template/fmt.js';
import { GoError, GoTyped, goMethods, goTypeName, isGoFunc, isGoMap, isGoStruct, type GoObject, type GoValue } from '../template/values.js';
import { compareGoStrings, goQuote } from '../template/fmt.js';
import { parseGoInt } from './convert.js';

// ---------------------------------------------------------------- JSON

/** encoding/json.Marshal (escapeHTML as Marshal does unless raw). Throws GoError like Go's errors. */
export function goJsonMarshal(v: GoValue, opts: { indent?: string; escapeHTML?: boolean } = {}): string {
  const escapeHTML = opts.escapeHTML ?? true;
  const indent = opts.indent;
  const enc = (x: GoValue, depth: number): string => {
    if (x === null || x === undefined) return 'null';
    switch (typeof x) {
      case 'boolean':
        return x ? 'true' : 'false';
      case 'string':
        return jsonString(x, escapeHTML);
      case 'bigint':
        return x.toString();
      case 'number':
        return jsonFloat(x, 64);
    }
    if (x instanceof GoTyped) return x.type === 'float32' ? jsonFloat(Number(x.value), 32) : BigInt(x.value).toString();
    if (x instanceof Uint8Array) return '"' + Buffer.from(x).toString('base64') + '"';
    if (isGoFunc(x)) throw new GoError(`json: unsupported type: ${goTypeString(x)}`);
    const methods = (x as GoObject)[goMethods];
    if (isGoStruct(x) && methods) {
      const typ = x[goTypeName];
      if (typ === 'time.Time') return jsonString(String(methods.Format!.fn('2006-01-02T15:04:05.999999999Z07:00')), escapeHTML);
      if (typ === '*semver.Version') return jsonString(String(methods.String!.fn()), escapeHTML);
    }
    const nl = indent !== undefined ? '\n' + indent.repeat(depth + 1) : '';
    const close = indent !== undefined ? '\n' + indent.repeat(depth) : '';
    const sep = indent !== undefined ? ': ' : ':';
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return '[' + x.map((e) => nl + enc(e, depth + 1)).join(',') + close + ']';
    }
    const keys = isGoMap(x) ? Object.keys(x).sort(compareGoStrings) : Object.keys(x).filter((k) => /^\p{Lu}/u.test(k));
    if (keys.length === 0) return '{}';
    return '{' + keys.map((k) => nl + jsonString(k, escapeHTML) + sep + enc((x as GoObject)[k], depth + 1)).join(',') + close + '}';
  };
  return enc(v, 0);
}

function jsonString(s: string, escapeHTML: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 0x20 || (escapeHTML && (ch === '<' || ch === '>' || ch === '&')) || c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16).padStart(4, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}

function jsonFloat(f: number, bits: 32 | 64): string {
  if (!Number.isFinite(f)) throw new GoError(`json: unsupported value: ${formatFloat(f, 'g', -1, bits)}`);
  const abs = Math.abs(f);
  let fmt = 'f';
  if (abs !== 0 && ((bits === 64 && (abs < 1e-6 || abs >= 1e21)) || (bits === 32 && (abs < 1e-6 || abs >= 1e21)))) fmt = 'e';
  let s = formatFloat(f, fmt, -1, bits);
  if (fmt === 'e') s = s.replace(/e([+-])0(\d)$/, 'e$1$2');
  return s;
}

/** encoding/json.Unmarshal into interface{}: numbers become float64, Go's error texts. */
export function goJsonUnmarshal(s: string): GoValue {
  if (s.trim() === '') throw new GoError('unexpected end of JSON input');
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch (e) {
    void e;
    throw new GoError(jsonSyntaxError(s));
  }
  return fromPlain(parsed);
}

/** The error encoding/json's scanner reports for invalid input (JSON.parse only says that it failed). */
function jsonSyntaxError(src: string): string {
  const b = Buffer.from(src, 'utf8');
  let i = 0;
  const err = (c: number, ctx: string) => `invalid character ${quoteChar(c)} ${ctx}`;
  const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
  const skip = () => {
    while (i < b.length && isSpace(b[i]!)) i++;
  };
  type R = string | undefined;
  const value = (): R => {
    skip();
    if (i >= b.length) return 'unexpected end of JSON input';
    const c = b[i]!;
    if (c === 0x7b) {
      i++;
      skip();
      if (b[i] === 0x7d) {
        i++;
        return undefined;
      }
      for (;;) {
        skip();
        if (i >= b.length) return 'unexpected end of JSON input';
        if (b[i] !== 0x22) return err(b[i]!, 'looking for beginning of object key string');
        const e = string();
        if (e) return e;
        skip();
        if (i >= b.length) return 'unexpected end of JSON input';
        if (b[i] !== 0x3a) return err(b[i]!, 'after object key');
        i++;
        const v = value();
        if (v) return v;
        skip();
        if (i >= b.length) return 'unexpected end of JSON input';
        if (b[i] === 0x2c) {
          i++;
          continue;
        }
        if (b[i] === 0x7d) {
          i++;
          return undefined;
        }
        return err(b[i]!, 'after object key:value pair');
      }
    }
    if (c === 0x5b) {
      i++;
      skip();
      if (b[i] === 0x5d) {
        i++;
        return undefined;
      }
      for (;;) {
        const v = value();
        if (v) return v;
        skip();
        if (i >= b.length) return 'unexpected end of JSON input';
        if (b[i] === 0x2c) {
          i++;
          continue;
        }
        if (b[i] === 0x5d) {
          i++;
          return undefined;
        }
        return err(b[i]!, 'after array element');
      }
    }
    if (c === 0x22) return string();
    if (c === 0x2d || isDigit(c)) return number();
    for (const lit of ['true', 'false', 'null']) {
      if (c === lit.charCodeAt(0)) {
        for (let k = 1; k < lit.length; k++) {
          i++;
          if (i >= b.length) return err(0x20, `in literal ${lit} (expecting ${quoteChar(lit.charCodeAt(k))})`);
          if (b[i] !== lit.charCodeAt(k)) return err(b[i]!, `in literal ${lit} (expecting ${quoteChar(lit.charCodeAt(k))})`);
        }
        i++;
        return undefined;
      }
    }
    return err(c, 'looking for beginning of value');
  };
  const string = (): R => {
    i++;
    while (i < b.length) {
      const c = b[i]!;
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c === 0x5c) {
        i++;
        if (i >= b.length) return err(0x20, 'in string escape code');
        const e = b[i]!;
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= b.length) return err(0x20, 'in \\u hexadecimal character escape');
            if (!/[0-9a-fA-F]/.test(String.fromCharCode(b[i]!))) return err(b[i]!, 'in \\u hexadecimal character escape');
          }
        } else if (!'bfnrt\\/"'.includes(String.fromCharCode(e))) return err(e, 'in string escape code');
        i++;
        continue;
      }
      if (c < 0x20) return err(c, 'in string literal');
      i++;
    }
    return 'unexpected end of JSON input';
  };
  const number = (): R => {
    if (b[i] === 0x2d) {
      i++;
      if (i >= b.length) return err(0x20, 'in numeric literal');
      if (!isDigit(b[i])) return err(b[i]!, 'in numeric literal');
    }
    if (b[i] === 0x30) i++;
    else while (isDigit(b[i])) i++;
    if (b[i] === 0x2e) {
      i++;
      if (i >= b.length) return err(0x20, 'after decimal point in numeric literal');
      if (!isDigit(b[i])) return err(b[i]!, 'after decimal point in numeric literal');
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (i >= b.length) return err(0x20, 'in exponent of numeric literal');
      if (!isDigit(b[i])) return err(b[i]!, 'in exponent of numeric literal');
      while (isDigit(b[i])) i++;
    }
    return undefined;
  };
  const r = value();
  if (r) return r;
  skip();
  if (i < b.length) return err(b[i]!, 'after top-level value');
  return 'unexpected end of JSON input';
}

/** encoding/json's quoteChar. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  const q = JSON.stringify(String.fromCharCode(c));
  return "'" + q.slice(1, -1) + "'";
}

/** Plain JS data (from JSON.parse) into the value model: numbers stay float64. */
export function fromPlain(v: unknown): GoValue {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(fromPlain);
  if (typeof v === 'object') {
    const out: GoObject = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = fromPlain(x);
    return out;
  }
  return v as GoValue;
}

// ---------------------------------------------------------------- YAML (sigs.k8s.io/yaml over yaml.v2)

type YScalar = { kind: 'int'; text: string } | { kind: 'float'; value: number; text: string } | { kind: 'bool'; value: boolean } | { kind: 'null' } | { kind: 'str'; value: string };
type YNode = YScalar | { kind: 'map'; entries: [string, YNode][] } | { kind: 'seq'; items: YNode[] };

const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const BOOL_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const BOOL_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);

/** yaml.v2 resolve() of a plain scalar. */
function resolvePlain(s: string): YScalar | { kind: 'timestamp' } {
  if (BOOL_TRUE.has(s)) return { kind: 'bool', value: true };
  if (BOOL_FALSE.has(s)) return { kind: 'bool', value: false };
  if (NULLS.has(s)) return { kind: 'null' };
  if (['.nan', '.NaN', '.NAN'].includes(s)) return { kind: 'float', value: NaN, text: s };
  if (['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].includes(s)) return { kind: 'float', value: Infinity, text: s };
  if (['-.inf', '-.Inf', '-.INF'].includes(s)) return { kind: 'float', value: -Infinity, text: s };
  const c = s[0];
  if (c === '.') {
    if (YAML_FLOAT.test(s) || /^\.\d/.test(s)) {
      const f = Number(s);
      if (!Number.isNaN(f)) return { kind: 'float', value: f, text: s };
    }
    return { kind: 'str', value: s };
  }
  if (c !== undefined && (c === '+' || c === '-' || (c >= '0' && c <= '9'))) {
    if (/^\d{4}-\d\d?-\d\d?([Tt ]|$)/.test(s) && isTimestamp(s)) return { kind: 'timestamp' };
    const plain = s.replace(/_/g, '');
    const i = parseGoInt(plain);
    if (i !== undefined) return { kind: 'int', text: i.toString() };
    if (/^\+?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|\d+)$/.test(plain)) {
      const u = plain.startsWith('+') ? plain.slice(1) : plain;
      try {
        const big = BigInt(/^0[0-7]+$/.test(u) ? '0o' + u.slice(1) : u);
        if (big < 1n << 64n) return { kind: 'int', text: big.toString() };
      } catch {
        /* not an unsigned int */
      }
    }
    if (YAML_FLOAT.test(plain)) return { kind: 'float', value: Number(plain), text: plain };
    const bin = /^(-?)0b([01]+)$/.exec(plain);
    if (bin) return { kind: 'int', text: (BigInt('0b' + bin[2]) * (bin[1] ? -1n : 1n)).toString() };
  }
  return { kind: 'str', value: s };
}

function isTimestamp(s: string): boolean {
  return /^\d{4}-\d\d?-\d\d?$/.test(s) || /^\d{4}-\d\d?-\d\d?([Tt]| +)\d\d?:\d\d?:\d\d?(\.\d*)?(Z|[+-]\d\d?(:\d\d)?| *(Z|[+-]\d\d?(:\d\d)?))?$/.test(s);
}

/** Parses the first YAML document the way yaml.v2 decodes into interface{}. */
function yamlDecode(src: string): YNode {
  const docs = parseAllDocuments(src, { schema: 'failsafe', uniqueKeys: false, merge: false, strict: false, prettyErrors: false }) as Document.Parsed[] | { errors: unknown[] };
  const list = Array.isArray(docs) ? docs : [];
  const doc = list[0];
  if (!doc) return { kind: 'null' };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = src.slice(0, e.pos[0]).split('\n').length;
    throw new GoError(`error converting YAML to JSON: yaml: ${yamlErrorText(e.code, e.message, line)}`);
  }
  const conv = (n: YamlNode | null | undefined): YNode => {
    if (n === null || n === undefined) return { kind: 'null' };
    if (isAlias(n)) {
      const target = n.resolve(doc);
      if (!target) throw new GoError(`error converting YAML to JSON: yaml: unknown anchor '${n.source}' referenced`);
      return conv(target as YamlNode);
    }
    if (isScalar(n)) {
      const raw = n.value === null || n.value === undefined ? '' : String(n.value);
      const tag = n.tag;
      if (tag && tag !== '!' && !tag.endsWith(':str')) {
        if (tag.endsWith(':int') || tag.endsWith(':float') || tag.endsWith(':bool') || tag.endsWith(':null')) {
          const r = resolvePlain(raw);
          return r.kind === 'timestamp' ? { kind: 'str', value: raw } : r;
        }
      }
      if (n.type !== 'PLAIN' || (tag && tag.endsWith(':str'))) return { kind: 'str', value: raw };
      const r = resolvePlain(raw);
      return r.kind === 'timestamp' ? { kind: 'str', value: raw } : r;
    }
    if (isMap(n)) {
      const entries: [string, YNode][] = [];
      const set = (k: string, v: YNode, override: boolean) => {
        const i = entries.findIndex((e) => e[0] === k);
        if (i >= 0) {
          if (override) entries[i] = [k, v];
        } else entries.push([k, v]);
      };
      const merges: YNode[] = [];
      for (const pair of n.items) {
        const keyNode = pair.key as YamlNode | null;
        if (isScalar(keyNode) && keyNode.type === 'PLAIN' && keyNode.value === '<<') {
          const v = conv(pair.value as YamlNode);
          if (v.kind === 'seq') merges.push(...v.items);
          else merges.push(v);
          continue;
        }
        const key = conv(keyNode);
        const value = conv(pair.value as YamlNode);
        if (key.kind === 'null') {
          const shown = value.kind === 'str' ? goQuote(value.value) : value.kind === 'int' ? value.text : value.kind === 'null' ? '<nil>' : value.kind === 'bool' ? String(value.value) : '…';
          throw new GoError(`error converting YAML to JSON: Unsupported map key of type: %!s(<nil>), key: <nil>, value: ${shown}`);
        }
        set(yamlKeyString(key), value, true);
      }
      for (const m of merges) if (m.kind === 'map') for (const [k, v] of m.entries) set(k, v, false);
      return { kind: 'map', entries };
    }
    if (isSeq(n)) return { kind: 'seq', items: n.items.map((x) => conv(x as YamlNode)) };
    return { kind: 'null' };
  };
  return conv(doc.contents as YamlNode);
}

/** yaml.v2's wording for the parse errors charts commonly hit. */
function yamlErrorText(code: string, message: string, line: number): string {
  if (/^Flow sequence/.test(message)) return `line ${line}: did not find expected ',' or ']'`;
  if (/^Flow map/.test(message)) return `line ${line}: did not find expected ',' or '}'`;
  if (code === 'BLOCK_AS_IMPLICIT_KEY') return 'mapping values are not allowed in this context';
  if (/same column/.test(message)) return `line ${line}: did not find expected key`;
  if (/Missing closing .?quote/.test(message)) return `line ${line}: found unexpected end of stream`;
  return `line ${line}: ${message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
}

/** sigs.k8s.io/yaml's JSON-able key for a resolved YAML key. */
function yamlKeyString(k: YNode): string {
  switch (k.kind) {
    case 'str':
      return k.value;
    case 'int':
      return k.text;
    case 'float':
      return formatFloat(k.value, 'g', -1, 64);
    case 'bool':
      return k.value ? 'true' : 'false';
    case 'null':
      return '';
    default:
      throw new GoError('error converting YAML to JSON: Unsupported map key');
  }
}

/** YAML → the value model as sigs.k8s.io/yaml.Unmarshal into interface{} gives it (numbers float64). */
function yamlToGo(n: YNode): GoValue {
  switch (n.kind) {
    case 'null':
      return null;
    case 'bool':
      return n.value;
    case 'str':
      return n.value;
    case 'int':
      return Number(n.text);
    case 'float':
      if (!Number.isFinite(n.value)) throw new GoError(`error converting YAML to JSON: json: unsupported value: ${formatFloat(n.value, 'g', -1)}`);
      return n.value;
    case 'seq':
      return n.items.map(yamlToGo);
    case 'map': {
      const out: GoObject = {};
      for (const [k, v] of n.entries) out[k] = yamlToGo(v);
      return out;
    }
  }
}

function jsonKind(v: GoValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return Array.isArray(v) ? 'array' : 'object';
}

/** sigs.k8s.io/yaml.Unmarshal into map[string]interface{} (want 'map') or []interface{} (want 'seq'). */
export function yamlUnmarshal(src: string, want: 'map' | 'seq' | 'any'): GoValue {
  const v = yamlToGo(yamlDecode(src));
  if (want === 'any' || v === null) return v;
  const ok = want === 'map' ? isGoMap(v) && !Array.isArray(v) : Array.isArray(v);
  if (!ok) {
    const target = want === 'map' ? 'map[string]interface {}' : '[]interface {}';
    throw new GoError(`error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(v)} into Go value of type ${target}`);
  }
  return v;
}

/**
 * The value as yaml.v2 sees it after sigs.k8s.io/yaml's JSON round trip, built directly:
 * numbers take their JSON text and are re-resolved as YAML scalars (1e6 → int 1000000).
 */
function toYNode(v: GoValue): YNode {
  if (v === null || v === undefined) return { kind: 'null' };
  switch (typeof v) {
    case 'boolean':
      return { kind: 'bool', value: v };
    case 'string':
      return { kind: 'str', value: v };
    case 'bigint':
      return { kind: 'int', text: v.toString() };
    case 'number':
      return numberNode(jsonFloat(v, 64));
  }
  if (v instanceof GoTyped) return v.type === 'float32' ? numberNode(jsonFloat(Number(v.value), 32)) : { kind: 'int', text: BigInt(v.value).toString() };
  if (v instanceof Uint8Array) return { kind: 'str', value: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { kind: 'seq', items: v.map(toYNode) };
  if (isGoFunc(v) || (isGoStruct(v) && (v as GoObject)[goMethods])) return toYNodeViaJson(v);
  const keys = isGoMap(v) ? Object.keys(v) : Object.keys(v).filter((k) => /^\p{Lu}/u.test(k));
  return { kind: 'map', entries: keys.map((k) => [k, toYNode((v as GoObject)[k])] as [string, YNode]) };
}

function numberNode(text: string): YNode {
  const r = resolvePlain(text);
  return r.kind === 'int' || r.kind === 'float' ? r : { kind: 'str', value: text };
}

/** Values with their own JSON form (time.Time, *semver.Version) or that json rejects. */
function toYNodeViaJson(v: GoValue): YNode {
  const json = goJsonMarshal(v, { escapeHTML: true });
  const walk = (x: unknown, raw: string | undefined): YNode => {
    void raw;
    if (x === null) return { kind: 'null' };
    if (typeof x === 'boolean') return { kind: 'bool', value: x };
    if (typeof x === 'string') return { kind: 'str', value: x };
    if (Array.isArray(x)) return { kind: 'seq', items: x.map((e) => walk(e, undefined)) };
    if (x instanceof NumTok) {
      const r = resolvePlain(x.text);
      return r.kind === 'int' || r.kind === 'float' ? r : { kind: 'str', value: x.text };
    }
    const entries = Object.entries(x as Record<string, unknown>).map(([k, e]) => [k, walk(e, undefined)] as [string, YNode]);
    return { kind: 'map', entries };
  };
  return walk(parseJsonKeepingNumbers(json), undefined);
}

class NumTok {
  constructor(readonly text: string) {}
}

/** JSON.parse that keeps number literals as their text (the YAML decoder re-resolves them). */
function parseJsonKeepingNumbers(s: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (s[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        const k = value() as string;
        ws();
        i++; // :
        Object.defineProperty(out, k, { value: value(), enumerable: true, writable: true, configurable: true });
        ws();
        if (s[i++] === '}') return out;
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (s[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (s[i++] === ']') return out;
      }
    }
    if (c === '"') {
      let j = i + 1;
      while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      const str = JSON.parse(s.slice(i, j + 1)) as string;
      i = j + 1;
      return str;
    }
    const m = /^(true|false|null|-?[0-9.eE+-]+)/.exec(s.slice(i, i + 400))!;
    i += m[0].length;
    if (m[0] === 'true') return true;
    if (m[0] === 'false') return false;
    if (m[0] === 'null') return null;
    return new NumTok(m[0]);
  };
  return value();
}

/** yaml.v2's map key order: numbers by value, strings "naturally" (digit runs compare as numbers). */
function yamlKeyLess(ar: number[], br: number[]): boolean {
  const isLetter = (c: number) => (c < 0x80 ? (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) : /^\p{L}$/u.test(String.fromCodePoint(c)));
  const isDigit = (c: number | undefined) => c !== undefined && (c < 0x80 ? c >= 0x30 && c <= 0x39 : /^\p{Nd}$/u.test(String.fromCodePoint(c)));
  const digitValue = (c: number) => (c < 0x80 ? c - 0x30 : Number(String.fromCodePoint(c).normalize('NFKD')) || 0);
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]!);
    const bl = isLetter(br[i]!);
    if (al && bl) return ar[i]! < br[i]!;
    if (al || bl) return bl;
    let an = 0;
    let bn = 0;
    if (ar[i] === 0x30 || br[i] === 0x30) {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== 0x30) {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10 + digitValue(ar[ai]!);
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10 + digitValue(br[bi]!);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i]! < br[i]!;
  }
  return ar.length < br.length;
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    out.push(c);
    if (c > 0xffff) i++;
  }
  return out;
}

// yaml emitter character classes (UTF-8 based in libyaml; here per code point)
const isYamlPrintable = (c: number) =>
  c === 0x0a || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) || c >= 0x10000;
const isBreak = (c: number | undefined) => c === 0x0d || c === 0x0a || c === 0x85 || c === 0x2028 || c === 0x2029;
const isBlankz = (c: number | undefined) => c === undefined || c === 0x20 || c === 0x09 || isBreak(c) || c === 0;

interface ScalarAnalysis {
  multiline: boolean;
  blockPlain: boolean;
  single: boolean;
  block: boolean;
}

function analyze(value: string): ScalarAnalysis {
  if (value.length === 0) return { multiline: false, blockPlain: true, single: true, block: false };
  const cps = [...value].map((c) => c.codePointAt(0)!);
  let blockInd = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let prevSpace = false;
  let prevBreak = false;
  if (value.startsWith('---') || value.startsWith('...')) blockInd = true;
  let precededByWs = true;
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    const ch = String.fromCodePoint(c);
    const followedByWs = isBlankz(cps[i + 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockInd = true;
      else if ((ch === '?' || ch === ':') && followedByWs) blockInd = true;
      else if (ch === '-' && followedByWs) blockInd = true;
    } else if (ch === ':' && followedByWs) blockInd = true;
    else if (ch === '#' && precededByWs) blockInd = true;
    if (!isYamlPrintable(c)) special = true;
    if (c === 0x20) {
      if (i === 0) leadingSpace = true;
      if (i === cps.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === cps.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWs = isBlankz(c);
  }
  let blockPlain = true;
  let single = true;
  let block = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
  if (trailingSpace) block = false;
  if (breakSpace) blockPlain = single = false;
  if (spaceBreak || special) blockPlain = single = block = false;
  if (lineBreaks) blockPlain = false;
  if (blockInd) blockPlain = false;
  return { multiline: lineBreaks, blockPlain, single, block };
}

const BEST_WIDTH = 80;
const SIMPLE = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

function runeLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/** A tiny libyaml-style writer that tracks the column for yaml.v2's 80-column folding. */
class YamlWriter {
  out = '';
  column = 0;
  put(s: string): void {
    this.out += s;
    const nl = s.lastIndexOf('\n');
    this.column = nl >= 0 ? runeLength(s.slice(nl + 1)) : this.column + runeLength(s);
  }
  newline(indent: number): void {
    // After a block scalar's final line break libyaml only pads to the indentation.
    this.put((this.column === 0 && this.out !== '' ? '' : '\n') + ' '.repeat(indent));
  }

  scalar(s: YScalar, indent: number, key: boolean): void {
    switch (s.kind) {
      case 'null':
        return this.put('null');
      case 'bool':
        return this.put(s.value ? 'true' : 'false');
      case 'int':
        return this.put(s.text);
      case 'float': {
        const t = formatFloat(s.value, 'g', -1, 64);
        return this.put(t === '+Inf' ? '.inf' : t === '-Inf' ? '-.inf' : t === 'NaN' ? '.nan' : t);
      }
    }
    this.string(s.value, indent, key);
  }

  string(v: string, indent: number, key: boolean): void {
    // Fast path: a plain word-like string that resolves to itself and needs no folding.
    if (SIMPLE.test(v) && !BOOL_TRUE.has(v) && !BOOL_FALSE.has(v) && !NULLS.has(v) && this.column + v.length <= BEST_WIDTH) {
      this.put(v);
      return;
    }
    const r = resolvePlain(v);
    const canPlain = r.kind === 'str' && !(BASE60_FLOAT.test(v) && /^[-+0-9]/.test(v));
    let style: 'plain' | 'single' | 'double' | 'literal' = v.includes('\n') ? 'literal' : canPlain ? 'plain' : 'double';
    const a = analyze(v);
    if (key && a.multiline) style = 'double';
    if (style === 'plain') {
      if (!a.blockPlain) style = 'single';
      if (v.length === 0 && key) style = 'single';
    }
    if (style === 'single' && !a.single) style = 'double';
    if (style === 'literal' && (!a.block || key)) style = 'double';
    const allowBreaks = !key;
    switch (style) {
      case 'plain':
        return this.plain(v, indent, allowBreaks);
      case 'single':
        return this.single(v, indent, allowBreaks);
      case 'double':
        return this.double(v, indent, allowBreaks);
      case 'literal':
        return this.literal(v, indent);
    }
  }

  private plain(v: string, indent: number, allowBreaks: boolean): void {
    const cps = [...v];
    let spaces = false;
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i]!;
      if (ch === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && cps[i + 1] !== ' ') this.newline(indent);
        else this.put(ch);
        spaces = true;
      } else {
        this.put(ch);
        spaces = false;
      }
    }
  }

  private single(v: string, indent: number, allowBreaks: boolean): void {
    this.put("'");
    const cps = [...v];
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i]!;
      if (ch === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cps.length - 1 && cps[i + 1] !== ' ') this.newline(indent);
        else this.put(ch);
        spaces = true;
      } else if (isBreak(ch.codePointAt(0))) {
        if (!breaks && ch === '\n') this.put('\n');
        this.put('\n');
        breaks = true;
      } else {
        if (breaks) this.put(' '.repeat(indent));
        this.put(ch === "'" ? "''" : ch);
        spaces = false;
        breaks = false;
      }
    }
    this.put("'");
  }

  private double(v: string, indent: number, allowBreaks: boolean): void {
    this.put('"');
    const cps = [...v];
    let spaces = false;
    for (let i = 0; i < cps.length; i++) {
      const ch = cps[i]!;
      const c = ch.codePointAt(0)!;
      if (!isYamlPrintable(c) || c === 0xfeff || isBreak(c) || ch === '"' || ch === '\\') {
        const esc: Record<number, string> = { 0: '0', 7: 'a', 8: 'b', 9: 't', 10: 'n', 11: 'v', 12: 'f', 13: 'r', 0x1b: 'e', 0x22: '"', 0x5c: '\\', 0x85: 'N', 0xa0: '_', 0x2028: 'L', 0x2029: 'P' };
        if (esc[c] !== undefined) this.put('\\' + esc[c]);
        else if (c <= 0xff) this.put('\\x' + c.toString(16).toUpperCase().padStart(2, '0'));
        else if (c <= 0xffff) this.put('\\u' + c.toString(16).toUpperCase().padStart(4, '0'));
        else this.put('\\U' + c.toString(16).toUpperCase().padStart(8, '0'));
        spaces = false;
      } else if (ch === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cps.length - 1) {
          this.newline(indent);
          if (cps[i + 1] === ' ') this.put('\\');
        } else this.put(ch);
        spaces = true;
      } else {
        this.put(ch);
        spaces = false;
      }
    }
    this.put('"');
  }

  private literal(v: string, indent: number): void {
    this.put('|');
    const cps = [...v];
    if (cps[0] === ' ' || isBreak(cps[0]!.codePointAt(0))) this.put('2');
    const last = cps.length - 1;
    if (!isBreak(cps[last]!.codePointAt(0))) this.put('-');
    else if (last === 0 || isBreak(cps[last - 1]!.codePointAt(0))) this.put('+');
    this.put('\n');
    let breaks = true;
    for (const ch of cps) {
      if (isBreak(ch.codePointAt(0))) {
        this.put('\n');
        breaks = true;
      } else {
        if (breaks) this.put(' '.repeat(indent));
        this.put(ch);
        breaks = false;
      }
    }
  }

  /** A node as a block value; `indent` is the indentation of its own block. */
  node(n: YNode, indent: number, ctx: 'root' | 'mapvalue' | 'seqitem'): void {
    if (n.kind === 'map') {
      if (n.entries.length === 0) return this.put(ctx === 'root' ? '{}' : (ctx === 'mapvalue' ? ' ' : '') + '{}');
      const entries = n.entries
        .map((e) => ({ e, cps: codePoints(e[0]) }))
        .sort((a, b) => (yamlKeyLess(a.cps, b.cps) ? -1 : yamlKeyLess(b.cps, a.cps) ? 1 : 0))
        .map((x) => x.e);
      entries.forEach(([k, v], i) => {
        if (i > 0 || ctx === 'mapvalue') this.newline(indent);
        this.string(k, indent, true);
        this.put(':');
        this.value(v, indent);
      });
      return;
    }
    if (n.kind === 'seq') {
      if (n.items.length === 0) return this.put(ctx === 'mapvalue' ? ' []' : '[]');
      n.items.forEach((item, i) => {
        if (i > 0 || ctx === 'mapvalue') this.newline(indent);
        this.put('-');
        if (item.kind === 'map' && item.entries.length > 0) {
          this.put(' ');
          this.node(item, indent + 2, 'seqitem');
        } else if (item.kind === 'seq' && item.items.length > 0) {
          this.put(' ');
          this.node(item, indent + 2, 'seqitem');
        } else {
          this.put(' ');
          if (item.kind === 'map' || item.kind === 'seq') this.node(item, indent + 2, 'seqitem');
          else this.scalar(item, indent + 2, false);
        }
      });
      return;
    }
    if (ctx === 'mapvalue') this.put(' ');
    // libyaml indents a root scalar's continuation lines by one step.
    this.scalar(n, ctx === 'root' ? 2 : indent, false);
  }

  private value(v: YNode, keyIndent: number): void {
    if (v.kind === 'map') {
      if (v.entries.length === 0) return this.put(' {}');
      return this.node(v, keyIndent + 2, 'mapvalue');
    }
    if (v.kind === 'seq') {
      if (v.items.length === 0) return this.put(' []');
      // yaml.v2 writes a sequence inside a mapping at the mapping's own indentation.
      return this.node(v, keyIndent, 'mapvalue');
    }
    this.put(' ');
    this.scalar(v, keyIndent + 2, false);
  }
}

/** sigs.k8s.io/yaml.Marshal (without the trailing newline Helm's toYaml trims). */
export function yamlMarshal(v: GoValue): string {
  const n = toYNode(v);
  const w = new YamlWriter();
  w.node(n, 0, 'root');
  return w.out.endsWith('\n') ? w.out : w.out + '\n';
}

// ---------------------------------------------------------------- TOML (BurntSushi/toml encoder)

const TOML_ESC: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
function tomlQuote(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (TOML_ESC[ch]) out += TOML_ESC[ch];
    else if (c < 0x20 || c === 0x7f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return '"' + out + '"';
}
function tomlKeyPart(k: string): string {
  return k !== '' && /^[A-Za-z0-9_-]+$/.test(k) ? k : tomlQuote(k);
}
const isTable = (v: GoValue) => isGoMap(v);
const isArrayOfTables = (v: GoValue) => Array.isArray(v) && v.length > 0 && v.every((x) => isGoMap(x));

function tomlElement(v: GoValue): string {
  if (typeof v === 'string') return tomlQuote(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' || (v instanceof GoTyped && v.type === 'float32')) {
    const f = Number(v instanceof GoTyped ? v.value : v);
    if (Number.isNaN(f)) return 'nan';
    if (!Number.isFinite(f)) return f > 0 ? 'inf' : '-inf';
    const s = formatFloat(f, 'f', -1, v instanceof GoTyped ? 32 : 64);
    return s.includes('.') ? s : s + '.0';
  }
  if (v instanceof GoTyped) return BigInt(v.value).toString();
  if (Array.isArray(v)) {
    if (v.some((x) => x === null || x === undefined)) throw new GoError('toml: cannot encode array with nil element');
    return '[' + v.map(tomlElement).join(', ') + ']';
  }
  if (isGoMap(v)) {
    const keys = Object.keys(v).sort(compareGoStrings).filter((k) => v[k] !== null && v[k] !== undefined);
    return '{' + keys.map((k) => `${tomlKeyPart(k)} = ${tomlElement(v[k])}`).join(', ') + '}';
  }
  throw new GoError(`toml: cannot encode a value of type ${goTypeString(v)}`);
}

/** BurntSushi/toml Encoder.Encode with its default two-space table indentation. */
export function tomlMarshal(v: GoValue): string {
  if (!isGoMap(v)) throw new GoError('toml: top-level values must be Go maps or structs');
  let out = '';
  const newline = () => {
    if (out !== '') out += '\n';
  };
  const indentStr = (key: string[]) => '  '.repeat(Math.max(0, key.length - 1));
  const keyStr = (key: string[]) => key.map(tomlKeyPart).join('.');
  const encodeMap = (key: string[], m: GoObject) => {
    const direct: string[] = [];
    const sub: string[] = [];
    for (const k of Object.keys(m)) (isTable(m[k]) || isArrayOfTables(m[k]) ? sub : direct).push(k);
    for (const list of [direct.sort(compareGoStrings), sub.sort(compareGoStrings)]) {
      for (const k of list) {
        const val = m[k];
        if (val === null || val === undefined) continue;
        encode([...key, k], val);
      }
    }
  };
  const encode = (key: string[], val: GoValue) => {
    if (isTable(val)) {
      if (key.length === 1) newline();
      out += `${indentStr(key)}[${keyStr(key)}]`;
      newline();
      encodeMap(key, val as GoObject);
      return;
    }
    if (isArrayOfTables(val)) {
      for (const t of val as GoObject[]) {
        newline();
        out += `${indentStr(key)}[[${keyStr(key)}]]`;
        newline();
        encodeMap(key, t);
      }
      return;
    }
    out += `${indentStr(key)}${tomlKeyPart(key[key.length - 1]!)} = ${tomlElement(val)}`;
    newline();
  };
  encodeMap([], v);
  return out;
}
