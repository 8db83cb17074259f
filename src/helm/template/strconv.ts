/**
 * @module Go's strconv unquoting as text/template's parser uses it: Unquote/UnquoteChar of
 * string, raw string and rune literals in actions (Quote lives in fmt.ts, re-exported here).
 */

export { goQuote as quote, isPrint } from './fmt.js';

export class SyntaxError extends Error {
  constructor() {
    super('invalid syntax');
  }
}

/**
 * strconv.UnquoteChar: decodes the first character or escape of s inside a literal quoted
 * with q. Returns the code point (or a raw byte value for \x and octal escapes, flagged) and
 * the rest.
 */
export function unquoteChar(s: string, q: string): { value: number; byte: boolean; tail: string } {
  const c = s.codePointAt(0);
  if (c === undefined) throw new SyntaxError();
  const first = String.fromCodePoint(c);
  if (first === q && (q === "'" || q === '"')) throw new SyntaxError();
  if (first !== '\\') return { value: c, byte: false, tail: s.slice(first.length) };
  if (s.length <= 1) throw new SyntaxError();
  const e = s[1]!;
  let rest = s.slice(2);
  switch (e) {
    case 'a': return { value: 7, byte: false, tail: rest };
    case 'b': return { value: 8, byte: false, tail: rest };
    case 'f': return { value: 12, byte: false, tail: rest };
    case 'n': return { value: 10, byte: false, tail: rest };
    case 'r': return { value: 13, byte: false, tail: rest };
    case 't': return { value: 9, byte: false, tail: rest };
    case 'v': return { value: 11, byte: false, tail: rest };
    case 'x':
    case 'u':
    case 'U': {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      if (rest.length < n || !/^[0-9a-fA-F]+$/.test(rest.slice(0, n))) throw new SyntaxError();
      const v = parseInt(rest.slice(0, n), 16);
      rest = rest.slice(n);
      if (e === 'x') return { value: v, byte: true, tail: rest };
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new SyntaxError();
      return { value: v, byte: false, tail: rest };
    }
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
      const digits = s.slice(1, 4);
      if (!/^[0-7]{3}$/.test(digits)) throw new SyntaxError();
      const v = parseInt(digits, 8);
      if (v > 255) throw new SyntaxError();
      return { value: v, byte: true, tail: s.slice(4) };
    }
    case '\\': return { value: 92, byte: false, tail: rest };
    case "'":
    case '"':
      if (e !== q) throw new SyntaxError();
      return { value: e.charCodeAt(0), byte: false, tail: rest };
  }
  throw new SyntaxError();
}

/**
 * strconv.Unquote of a "…", `…` or '…' literal. Byte escapes (\xNN, octal) are collected and
 * decoded as UTF-8; invalid sequences become U+FFFD (a Go string would keep the raw bytes).
 */
export function unquote(s: string): string {
  const q = s[0];
  if (s.length < 2 || s[s.length - 1] !== q) throw new SyntaxError();
  const body = s.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) throw new SyntaxError();
    return body.replace(/\r/g, '');
  }
  if (q !== '"' && q !== "'") throw new SyntaxError();
  if (q === '"' && !body.includes('\\') && !body.includes('"') && !body.includes('\n')) return body;
  if (body.includes('\n')) throw new SyntaxError();
  let rest = body;
  let out = '';
  const bytes: number[] = [];
  const flush = () => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  let count = 0;
  while (rest.length > 0) {
    const r = unquoteChar(rest, q);
    rest = r.tail;
    count++;
    if (r.byte) bytes.push(r.value);
    else {
      flush();
      out += String.fromCodePoint(r.value);
    }
  }
  flush();
  if (q === "'" && count !== 1) throw new SyntaxError();
  return out;
}
