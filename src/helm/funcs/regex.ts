/** @module sprig's regex functions: Go RE2 syntax translated to JavaScript RegExp, with Go's match iteration, `$name` expansion and error texts. */
import { GoError, goFunc, typedGo, type GoFunc, type GoValue } from '../template/values.js';
import { num } from './convert.js';

const S = 'string';

/** regexp.Compile's error ("error parsing regexp: missing closing ): `(`"). */
class RegexpError extends GoError {}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

function parseError(code: string, arg: string): RegexpError {
  return new RegexpError(`error parsing regexp: ${code}: \`${arg}\``);
}

/** Translates an RE2 pattern into a JS RegExp source and flags, or throws Go's parse error. */
function translate(expr: string): { source: string; flags: string } {
  let flags = 'u';
  let out = '';
  let i = 0;
  let depth = 0;
  const chars = [...expr];
  const n = chars.length;
  let lastAtom = false;
  while (i < n) {
    const c = chars[i]!;
    if (c === '\\') {
      const d = chars[i + 1];
      if (d === undefined) throw parseError('trailing backslash at end of expression', '');
      if (d === 'Q') {
        const end = expr.indexOf('\\E', i + 2);
        const lit = end < 0 ? chars.slice(i + 2).join('') : chars.slice(i + 2, end).join('');
        out += lit.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? n : [...expr.slice(0, end)].length + 2;
        lastAtom = true;
        continue;
      }
      if (d === 'z') out += '(?![\\s\\S])';
      else if (d === 'A') out += '(?<![\\s\\S])';
      else if (d === 'p' || d === 'P') {
        if (chars[i + 2] === '{') {
          const close = chars.indexOf('}', i + 3);
          out += `\\${d}{${chars.slice(i + 3, close).join('')}}`;
          i = close + 1;
          lastAtom = true;
          continue;
        }
        out += `\\${d}{${chars[i + 2]}}`;
        i += 3;
        lastAtom = true;
        continue;
      } else if (/[0-9]/.test(d) && d !== '0') throw parseError('invalid escape sequence', '\\' + d);
      else if (/[a-zA-Z]/.test(d) && !'dDsSwWbBtnrfvx0aCz'.includes(d)) throw parseError('invalid escape sequence', '\\' + d);
      else if (d === 'a') out += '\\x07';
      else if (d === 'C') out += '[\\s\\S]';
      else if (/[^a-zA-Z0-9]/.test(d) && !JS_SYNTAX.has(d)) out += d === '-' ? '-' : escapeLiteral(d);
      else out += '\\' + d;
      i += 2;
      lastAtom = true;
      continue;
    }
    if (c === '[') {
      // Character class: copy through, translating POSIX classes and stray escapes.
      let j = i + 1;
      let cls = '[';
      if (chars[j] === '^') {
        cls += '^';
        j++;
      }
      if (chars[j] === ']') {
        cls += '\\]';
        j++;
      }
      let closed = false;
      while (j < n) {
        const e = chars[j]!;
        if (e === ']') {
          closed = true;
          j++;
          break;
        }
        if (e === '[' && chars[j + 1] === ':') {
          const end = expr.indexOf(':]', [...chars.slice(0, j)].join('').length + 2);
          const name = chars.slice(j + 2).join('').split(':]')[0]!;
          const neg = name.startsWith('^');
          const set = POSIX[neg ? name.slice(1) : name];
          if (end < 0 || set === undefined) throw parseError('invalid character class range', `[:${name}:]`);
          if (neg) throw parseError('invalid character class range', `[:${name}:]`);
          cls += set;
          j += name.length + 4;
          continue;
        }
        if (e === '\\') {
          const d = chars[j + 1]!;
          if (d === 'p' || d === 'P') {
            if (chars[j + 2] === '{') {
              const close = chars.indexOf('}', j + 3);
              cls += `\\${d}{${chars.slice(j + 3, close).join('')}}`;
              j = close + 1;
            } else {
              cls += `\\${d}{${chars[j + 2]}}`;
              j += 3;
            }
            continue;
          }
          cls += /[a-zA-Z0-9]/.test(d) || JS_SYNTAX.has(d) || d === '-' ? '\\' + d : escapeLiteral(d);
          j += 2;
          continue;
        }
        if (e === '[' || e === '/' || e === '|' || e === '(' || e === ')' || e === '{' || e === '}') cls += '\\' + e;
        else cls += e;
        j++;
      }
      if (!closed) throw parseError('missing closing ]', chars.slice(i).join(''));
      out += cls + ']';
      i = j;
      lastAtom = true;
      continue;
    }
    if (c === '(') {
      if (chars[i + 1] === '?') {
        const rest = chars.slice(i + 2).join('');
        const named = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
        if (named) {
          out += `(?<${named[1]}>`;
          i += 2 + named[0].length;
          depth++;
          lastAtom = false;
          continue;
        }
        const fl = /^([imsU]*)(?:-([imsU]*))?(\)|:)/.exec(rest);
        if (!fl) throw parseError('invalid or unsupported Perl syntax', '(?' + (rest[0] ?? ''));
        // JS has no scoped flags before Node 22: apply the set flags to the whole pattern.
        for (const x of fl[1]!) if (x !== 'U' && !flags.includes(x)) flags += x;
        i += 2 + fl[0].length;
        if (fl[3] === ':') {
          out += '(?:';
          depth++;
        }
        lastAtom = false;
        continue;
      }
      out += '(';
      depth++;
      i++;
      lastAtom = false;
      continue;
    }
    if (c === ')') {
      if (depth === 0) throw parseError('unexpected )', expr);
      depth--;
      out += ')';
      i++;
      lastAtom = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      if (!lastAtom) throw parseError('missing argument to repetition operator', c);
      out += c;
      i++;
      if (chars[i] === '?') {
        out += '?';
        i++;
      }
      if (chars[i] === '*' || chars[i] === '+' || (chars[i] === '?' && false)) throw parseError('invalid nested repetition operator', c + chars[i]);
      lastAtom = true;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(chars.slice(i).join(''));
      if (m) {
        if (!lastAtom) throw parseError('missing argument to repetition operator', m[0]);
        if (Number(m[1]) > 1000 || (m[3] && Number(m[3]) > 1000) || (m[3] && Number(m[3]) < Number(m[1]))) throw parseError('invalid repeat count', m[0]);
        out += m[0];
        i += m[0].length;
        continue;
      }
      out += '\\{';
      i++;
      lastAtom = true;
      continue;
    }
    if (c === '}' || c === '/' || c === ']') {
      out += '\\' + c;
      i++;
      lastAtom = true;
      continue;
    }
    if (c === '|') lastAtom = false;
    else lastAtom = c !== '^';
    out += c;
    i++;
  }
  if (depth > 0) throw parseError('missing closing )', expr);
  return { source: out, flags };
}

function escapeLiteral(ch: string): string {
  return `\\u{${ch.codePointAt(0)!.toString(16)}}`;
}

const cache = new Map<string, RegExp>();
/** regexp.Compile: a global JS RegExp, or Go's parse error. */
export function compile(expr: string): RegExp {
  let re = cache.get(expr);
  if (!re) {
    const { source, flags } = translate(expr);
    try {
      re = new RegExp(source, flags + 'g');
    } catch {
      throw parseError('invalid or unsupported Perl syntax', expr);
    }
    if (cache.size > 500) cache.clear();
    cache.set(expr, re);
  }
  re.lastIndex = 0;
  return re;
}

/** regexp.MustCompile's panic. */
function mustCompile(expr: string): RegExp {
  try {
    return compile(expr);
  } catch (e) {
    throw new GoError(`regexp: Compile(${goBackquote(expr)}): ${(e as Error).message}`);
  }
}

function goBackquote(s: string): string {
  return /[`\x00-\x08\x0a-\x1f\x7f]/.test(s) ? JSON.stringify(s) : '`' + s + '`';
}

/** Go's allMatches: successive leftmost matches, skipping an empty match that abuts the previous one. */
function allMatches(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    let accept = true;
    if (end === start) {
      if (start === prevEnd) accept = false;
      pos = start + (s.codePointAt(start)! > 0xffff ? 2 : 1);
    } else pos = end;
    prevEnd = end;
    if (accept) out.push(m);
  }
  return out;
}

/** Go's Regexp.Expand template: $1, ${1}, $name, ${name}, $$. */
function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    const rest = template.slice(i + 1);
    if (rest.startsWith('$')) {
      out += '$';
      i++;
      continue;
    }
    const br = /^\{([A-Za-z0-9_]+)\}/.exec(rest);
    const bare = /^[A-Za-z0-9_]+/.exec(rest);
    const name = br ? br[1]! : bare ? bare[0] : undefined;
    if (name === undefined) {
      out += '$';
      continue;
    }
    i += br ? br[0].length : name.length;
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? '';
    else out += m.groups?.[name] ?? '';
  }
  return out;
}

function replaceAll(re: RegExp, s: string, repl: (m: RegExpExecArray) => string): string {
  let out = '';
  let lastEnd = 0;
  let pos = 0;
  while (pos <= s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += s.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += repl(m);
    lastEnd = end;
    const width = pos < s.length ? (s.codePointAt(pos)! > 0xffff ? 2 : 1) : 1;
    if (pos + width > end) pos += width;
    else if (pos + 1 > end) pos++;
    else pos = end;
  }
  return out + s.slice(lastEnd);
}

function split(re: RegExp, expr: string, s: string, n: number): string[] {
  if (n === 0) return [];
  if (expr.length > 0 && s.length === 0) return [''];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of allMatches(re, s, n)) {
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    if (m.index + m[0].length !== 0) out.push(s.slice(beg, end));
    beg = m.index + m[0].length;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

function strs(xs: string[]): GoValue {
  return typedGo(xs, 'string');
}

export function regexFuncs(): Record<string, GoFunc> {
  const findAll = (re: RegExp, s: string, n: GoValue) => strs(allMatches(re, s, num(n)).map((m) => m[0]));
  const find = (re: RegExp, s: string) => allMatches(re, s, 1)[0]?.[0] ?? '';
  const repl = (re: RegExp, s: string, r: string) => replaceAll(re, s, (m) => expand(r, m));
  const replLit = (re: RegExp, s: string, r: string) => replaceAll(re, s, () => r);
  return {
    regexMatch: goFunc([S, S], (r: string, s: string) => {
      try {
        return allMatches(compile(r), s, 1).length > 0;
      } catch {
        return false;
      }
    }, { result: 'bool' }),
    mustRegexMatch: goFunc([S, S], (r: string, s: string) => allMatches(compile(r), s, 1).length > 0, { result: 'bool' }),
    regexFindAll: goFunc([S, S, 'int'], (r: string, s: string, n) => findAll(mustCompile(r), s, n), { result: '[]string' }),
    mustRegexFindAll: goFunc([S, S, 'int'], (r: string, s: string, n) => findAll(compile(r), s, n), { result: '[]string' }),
    regexFind: goFunc([S, S], (r: string, s: string) => find(mustCompile(r), s), { result: S }),
    mustRegexFind: goFunc([S, S], (r: string, s: string) => find(compile(r), s), { result: S }),
    regexReplaceAll: goFunc([S, S, S], (r: string, s: string, x: string) => repl(mustCompile(r), s, x), { result: S }),
    mustRegexReplaceAll: goFunc([S, S, S], (r: string, s: string, x: string) => repl(compile(r), s, x), { result: S }),
    regexReplaceAllLiteral: goFunc([S, S, S], (r: string, s: string, x: string) => replLit(mustCompile(r), s, x), { result: S }),
    mustRegexReplaceAllLiteral: goFunc([S, S, S], (r: string, s: string, x: string) => replLit(compile(r), s, x), { result: S }),
    regexSplit: goFunc([S, S, 'int'], (r: string, s: string, n) => strs(split(mustCompile(r), r, s, num(n))), { result: '[]string' }),
    mustRegexSplit: goFunc([S, S, 'int'], (r: string, s: string, n) => strs(split(compile(r), r, s, num(n))), { result: '[]string' }),
    regexQuoteMeta: goFunc([S], (s: string) => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&'), { result: S }),
  };
}
