/** @module sprig's string functions (strings.go, goutils, xstrings) with Go's byte-indexed string semantics. */
import { goQuote } from '../template/fmt.js';
import { GoError, goFunc, typedGo, type GoFunc, type GoValue } from '../template/values.js';
import { byteLen, byteSlice, isSpace, num, parseGoInt, runtimeError, strval } from './convert.js';

const S = 'string';

/** unicode.ToUpper/ToLower/ToTitle of one rune: simple case mapping only, as Go does. */
function mapRune(ch: string, to: 'upper' | 'lower'): string {
  const m = to === 'upper' ? ch.toUpperCase() : ch.toLowerCase();
  return [...m].length === 1 ? m : ch;
}
export function goUpper(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s.toUpperCase() : Array.from(s, (c) => mapRune(c, 'upper')).join('');
}
export function goLower(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s.toLowerCase() : Array.from(s, (c) => mapRune(c, 'lower')).join('');
}
const isUpper = (c: string) => /^\p{Lu}$/u.test(c);
const isLower = (c: string) => /^\p{Ll}$/u.test(c);
const isTitle = (c: string) => /^\p{Lt}$/u.test(c);
const isLetter = (c: string) => /^\p{L}$/u.test(c);
const isNumber = (c: string) => /^\p{N}$/u.test(c);
const isPunct = (c: string) => /^\p{P}$/u.test(c);
const isCJK = (c: string) => /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]$/u.test(c);
const isAlphabet = (c: string) => isLetter(c) && !isCJK(c);

/** strings.TrimSpace. */
export function trimSpace(s: string): string {
  const chars = [...s];
  let a = 0;
  let b = chars.length;
  while (a < b && isSpace(chars[a]!)) a++;
  while (b > a && isSpace(chars[b - 1]!)) b--;
  return chars.slice(a, b).join('');
}

/** strings.Trim(s, cutset). */
function trimCutset(s: string, cutset: string): string {
  const cut = new Set(cutset);
  const chars = [...s];
  let a = 0;
  let b = chars.length;
  while (a < b && cut.has(chars[a]!)) a++;
  while (b > a && cut.has(chars[b - 1]!)) b--;
  return chars.slice(a, b).join('');
}

/** strings.Title: upper-cases the first letter of each word (words split at Go's isSeparator). */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? mapRune(ch, 'upper') : ch;
    prev = ch;
  }
  return out;
}
function isSeparator(ch: string): boolean {
  const r = ch.codePointAt(0)!;
  if (r <= 0x7f) {
    if (/[0-9a-zA-Z_]/.test(ch)) return false;
    return true;
  }
  if (isLetter(ch) || isNumber(ch)) return false;
  return isSpace(ch);
}

/** goutils.AbbreviateFull (byte offsets, like the Go code). */
function abbreviateFull(str: string, offset: number, maxWidth: number): string {
  if (str === '') return '';
  if (maxWidth < 4) return '';
  const len = byteLen(str);
  if (len <= maxWidth) return str;
  if (offset > len) offset = len;
  if (len - offset < maxWidth - 3) offset = len - (maxWidth - 3);
  if (offset <= 4) return byteSlice(str, 0, maxWidth - 3) + '...';
  if (maxWidth < 7) return '';
  if (offset + maxWidth - 3 < len) return '...' + abbreviateFull(byteSlice(str, offset, len), 0, maxWidth - 3);
  return '...' + byteSlice(str, len - (maxWidth - 3), len);
}

/** Go string bytes where each byte is re-read as a rune (goutils' byte loops do `rune(str[i])`). */
function latin1Bytes(s: string): string[] {
  return Array.from(Buffer.from(s, 'utf8'), (b) => String.fromCharCode(b));
}

/** goutils.WrapCustom over bytes. */
function wrapCustom(str: string, wrapLength: number, newLine: string, wrapLong: boolean): string {
  if (str === '') return '';
  if (newLine === '') newLine = '\n';
  if (wrapLength < 1) wrapLength = 1;
  const buf = Buffer.from(str, 'utf8');
  const len = buf.length;
  const sub = (a: number, b: number) => buf.subarray(a, b).toString('utf8');
  let offset = 0;
  let out = '';
  while (len - offset > wrapLength) {
    if (buf[offset] === 0x20) {
      offset++;
      continue;
    }
    const end = wrapLength + offset + 1;
    const spaceToWrapAt = buf.subarray(offset, Math.min(end, len)).lastIndexOf(0x20) + offset;
    if (end > len) throw runtimeError(`slice bounds out of range [:${end}] with length ${len}`);
    if (spaceToWrapAt >= offset) {
      out += sub(offset, spaceToWrapAt) + newLine;
      offset = spaceToWrapAt + 1;
    } else if (wrapLong) {
      out += sub(offset, wrapLength + offset) + newLine;
      offset += wrapLength;
    } else {
      const e = wrapLength + offset;
      const index = buf.subarray(e).indexOf(0x20);
      if (index === -1) {
        out += sub(offset, len);
        offset = len;
      } else {
        out += sub(offset, index + e) + newLine;
        offset = index + e + 1;
      }
    }
  }
  return out + sub(offset, len);
}

function swapCase(s: string): string {
  let ws = true;
  let out = '';
  for (const ch of s) {
    if (isUpper(ch) || isTitle(ch)) {
      out += mapRune(ch, 'lower');
      ws = false;
    } else if (isLower(ch)) {
      out += ws ? mapRune(ch, 'upper') : mapRune(ch, 'upper');
      ws = false;
    } else {
      out += ch;
      ws = isSpace(ch);
    }
  }
  return out;
}

const isConnector = (c: string) => c === '-' || c === '_' || isSpace(c);

/** xstrings.ToCamelCase. */
function camelcase(s: string): string {
  if (s === '') return '';
  const runes = [...s];
  let i = 0;
  let out = '';
  let r0 = '';
  for (; i < runes.length; i++) {
    r0 = runes[i]!;
    if (!isConnector(r0)) {
      r0 = mapRune(r0, 'upper');
      i++;
      break;
    }
    out += r0;
  }
  // A string of connectors only ends with its last connector written twice, as xstrings does.
  if (i >= runes.length) return out + r0;
  for (; i < runes.length; i++) {
    const r1 = r0;
    r0 = runes[i]!;
    if (isConnector(r0) && isConnector(r1)) {
      out += r1;
      continue;
    }
    if (isConnector(r1)) r0 = mapRune(r0, 'upper');
    else {
      r0 = mapRune(r0, 'lower');
      out += r1;
    }
  }
  return out + r0;
}

type WordType = 'invalid' | 'number' | 'upper' | 'alpha' | 'connector' | 'punct' | 'other';

/** xstrings' nextWord: splits the next word off runes[start:]. */
function nextWord(runes: string[], start: number): [WordType, number] {
  let i = start;
  const r = runes[i]!;
  i++;
  const take = (pred: (c: string) => boolean) => {
    while (i < runes.length && pred(runes[i]!)) i++;
  };
  if (isConnector(r)) {
    take(isConnector);
    return ['connector', i];
  }
  if (isPunct(r)) {
    take(isPunct);
    return ['punct', i];
  }
  if (isUpper(r)) {
    if (i >= runes.length) return ['upper', i];
    const n = runes[i]!;
    if (isUpper(n)) {
      take(isUpper);
      // "HTTPStatus" splits into "HTTP" and "Status".
      if (i < runes.length && isAlphabet(runes[i]!)) i--;
    } else if (isAlphabet(n)) take((c) => isAlphabet(c) && !isUpper(c));
    return ['upper', i];
  }
  if (isAlphabet(r)) {
    take((c) => isAlphabet(c) && !isUpper(c));
    return ['alpha', i];
  }
  if (isNumber(r)) {
    take(isNumber);
    return ['number', i];
  }
  take((c) => !(isConnector(c) || isAlphabet(c) || isNumber(c) || isPunct(c)));
  return ['other', i];
}

/** xstrings.ToSnakeCase / ToKebabCase. */
function camelToLower(s: string, connector: string): string {
  if (s === '') return '';
  const runes = [...s];
  let out = '';
  const lower = (wt: WordType, a: number, b: number) => {
    const w = runes.slice(a, b);
    if (wt !== 'upper' && wt !== 'connector') out += w.join('');
    else for (const c of w) out += isConnector(c) ? connector : isUpper(c) ? mapRune(c, 'lower') : c;
  };
  let pos = 0;
  let [wt, end] = nextWord(runes, pos);
  let wordStart = pos;
  pos = end;
  const advance = () => {
    wordStart = pos;
    if (pos >= runes.length) {
      wt = 'invalid';
      return;
    }
    [wt, end] = nextWord(runes, pos);
    pos = end;
  };
  while (pos < runes.length) {
    if (wt !== 'connector') lower(wt, wordStart, pos);
    const prev = wt;
    const lastStart = wordStart;
    const lastEnd = pos;
    advance();
    switch (prev) {
      case 'number':
        while (wt === 'alpha' || wt === 'number') {
          lower(wt, wordStart, pos);
          advance();
        }
        if (wt !== 'invalid' && wt !== 'punct' && wt !== 'connector') out += connector;
        break;
      case 'connector':
        lower(prev, lastStart, lastEnd);
        break;
      case 'punct':
        break;
      default: {
        if (wt !== 'number') {
          if (wt !== 'connector' && wt !== 'punct') out += connector;
          break;
        }
        if (pos >= runes.length) break;
        const numStart = wordStart;
        const numEnd = pos;
        advance();
        const after = wt as WordType;
        if (after !== 'alpha') {
          lower('number', numStart, numEnd);
          if (after !== 'connector' && after !== 'punct') out += connector;
          break;
        }
        out += connector;
        lower('number', numStart, numEnd);
        while ((wt as WordType) === 'alpha' || wt === 'number') {
          lower(wt, wordStart, pos);
          advance();
        }
        if (wt !== 'invalid' && wt !== 'connector' && wt !== 'punct') out += connector;
      }
    }
  }
  if (wt !== 'invalid') lower(wt, wordStart, pos);
  return out;
}

/** strings.SplitN semantics (n < 0: all; n == 0: none), splitting "" separators into UTF-8 sequences. */
export function splitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const chars = [...s];
    if (n < 0 || n >= chars.length) return chars;
    return [...chars.slice(0, n - 1), chars.slice(n - 1).join('')];
  }
  const parts = s.split(sep);
  if (n < 0 || n >= parts.length) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function splitMap(parts: string[]): GoValue {
  const out: Record<string, GoValue> = {};
  parts.forEach((p, i) => (out['_' + i] = p));
  return typedGo(out, 'string');
}

/** strconv.Atoi (errors → 0, as sprig wraps it). */
function atoi(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) return 0n;
  return parseGoInt(s, 10) ?? 0n;
}

export function stringFuncs(): Record<string, GoFunc> {
  const f: Record<string, GoFunc> = {
    abbrev: goFunc(['int', S], (w, s) => (num(w) < 4 ? s : abbreviateFull(s, 0, num(w))), { result: S }),
    abbrevboth: goFunc(['int', 'int', S], (l, r, s) => {
      const left = num(l);
      const right = num(r);
      if (right < 4 || (left > 0 && right < 7)) return s;
      return abbreviateFull(s, left, right);
    }, { result: S }),
    trunc: goFunc(['int', S], (c, s: string) => {
      const n = num(c);
      const len = byteLen(s);
      if (n < 0 && len + n > 0) return byteSlice(s, len + n, len);
      if (n >= 0 && len > n) return byteSlice(s, 0, n);
      return s;
    }, { result: S }),
    trim: goFunc([S], (s) => trimSpace(s), { result: S }),
    upper: goFunc([S], (s) => goUpper(s), { result: S }),
    lower: goFunc([S], (s) => goLower(s), { result: S }),
    title: goFunc([S], (s) => title(s), { result: S }),
    untitle: goFunc([S], (s: string) => {
      let next = true;
      let out = '';
      for (const ch of s) {
        if (isSpace(ch)) {
          next = true;
          out += ch;
        } else if (next) {
          out += mapRune(ch, 'lower');
          next = false;
        } else out += ch;
      }
      return out;
    }, { result: S }),
    substr: goFunc(['int', 'int', S], (a, b, s: string) => {
      const start = num(a);
      const end = num(b);
      if (start < 0) return byteSlice(s, undefined, end);
      if (end < 0 || end > byteLen(s)) {
        if (start > byteLen(s)) throw runtimeError(`slice bounds out of range [${start}:${byteLen(s)}]`);
        return byteSlice(s, start, undefined);
      }
      return byteSlice(s, start, end);
    }, { result: S }),
    repeat: goFunc(['int', S], (c, s: string) => {
      const n = num(c);
      if (n < 0) throw new GoError('strings: negative Repeat count');
      return s.repeat(n);
    }, { result: S }),
    trimAll: goFunc([S, S], (a, b) => trimCutset(b, a), { result: S }),
    trimSuffix: goFunc([S, S], (a: string, b: string) => (a !== '' && b.endsWith(a) ? b.slice(0, b.length - a.length) : b), { result: S }),
    trimPrefix: goFunc([S, S], (a: string, b: string) => (a !== '' && b.startsWith(a) ? b.slice(a.length) : b), { result: S }),
    nospace: goFunc([S], (s: string) => {
      const bytes = latin1Bytes(s);
      const kept = bytes.filter((c) => !isSpace(c));
      return kept.length === bytes.length ? s : kept.join('');
    }, { result: S }),
    initials: goFunc([S], (s: string) => {
      let out = '';
      let gap = true;
      for (const c of latin1Bytes(s)) {
        if (isSpace(c)) gap = true;
        else if (gap) {
          out += c;
          gap = false;
        }
      }
      return out;
    }, { result: S }),
    swapcase: goFunc([S], (s) => swapCase(s), { result: S }),
    snakecase: goFunc([S], (s) => camelToLower(s, '_'), { result: S }),
    kebabcase: goFunc([S], (s) => camelToLower(s, '-'), { result: S }),
    camelcase: goFunc([S], (s) => camelcase(s), { result: S }),
    wrap: goFunc(['int', S], (l, s) => wrapCustom(s, num(l), '', false), { result: S }),
    wrapWith: goFunc(['int', S, S], (l, sep, s) => wrapCustom(s, num(l), sep, true), { result: S }),
    contains: goFunc([S, S], (sub: string, s: string) => s.includes(sub), { result: 'bool' }),
    hasPrefix: goFunc([S, S], (sub: string, s: string) => s.startsWith(sub), { result: 'bool' }),
    hasSuffix: goFunc([S, S], (sub: string, s: string) => s.endsWith(sub), { result: 'bool' }),
    quote: goFunc([], (...xs: GoValue[]) => xs.filter((x) => x !== null && x !== undefined).map((x) => goQuote(strval(x))).join(' '), { variadic: 'interface{}', result: S }),
    squote: goFunc([], (...xs: GoValue[]) => xs.filter((x) => x !== null && x !== undefined).map((x) => `'${strval(x)}'`).join(' '), { variadic: 'interface{}', result: S }),
    cat: goFunc([], (...xs: GoValue[]) => xs.filter((x) => x !== null && x !== undefined).map((x) => strval(x)).join(' '), { variadic: 'interface{}', result: S }),
    indent: goFunc(['int', S], (n, s: string) => indent(num(n), s), { result: S }),
    nindent: goFunc(['int', S], (n, s: string) => '\n' + indent(num(n), s), { result: S }),
    replace: goFunc([S, S, S], (o: string, n: string, s: string) => replaceAll(s, o, n), { result: S }),
    plural: goFunc([S, S, 'int'], (one, many, c) => (num(c) === 1 ? one : many), { result: S }),
    toString: goFunc(['interface{}'], (v) => strval(v), { result: S }),
    atoi: goFunc([S], (s) => atoi(s), { result: 'int' }),
    split: goFunc([S, S], (sep, s) => splitMap(splitN(s, sep, -1)), { result: 'map[string]string' }),
    splitList: goFunc([S, S], (sep, s) => typedGo(splitN(s, sep, -1), 'string'), { result: '[]string' }),
    splitn: goFunc([S, 'int', S], (sep, n, s) => splitMap(splitN(s, sep, num(n))), { result: 'map[string]string' }),
  };
  f.trimall = f.trimAll!;
  return f;
}

function indent(n: number, s: string): string {
  if (n < 0) throw new GoError('strings: negative Repeat count');
  const pad = ' '.repeat(n);
  return pad + s.replace(/\n/g, '\n' + pad);
}

/** strings.Replace(s, old, new, -1); an empty old inserts new around every rune. */
function replaceAll(s: string, old: string, rep: string): string {
  if (old === '') return rep + [...s].join(rep) + (s === '' ? '' : rep);
  return s.split(old).join(rep);
}
