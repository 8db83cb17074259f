/**
 * @module Path patterns as Helm matches them: Go's filepath.Match (for .helmignore and
 * `helm template --show-only`: `*` and `?` stop at "/", `[a-z]`, `[^x]`, `\` escapes) and
 * gobwas/glob with "/" as separator (for .Files.Glob: also `**` and `{a,b}`).
 */

/** A malformed pattern (Go's filepath.ErrBadPattern). */
export class BadPatternError extends Error {
  override name = 'BadPatternError';
  constructor(pattern: string) {
    super(`syntax error in pattern: ${pattern}`);
  }
}

const reEscape = (c: string) => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

function classToRegex(pattern: string, i: number): { re: string; next: number } {
  // pattern[i] === '['
  let j = i + 1;
  let re = '[';
  if (pattern[j] === '^' || pattern[j] === '!') {
    re += '^';
    j++;
  }
  let first = true;
  for (; j < pattern.length; j++) {
    let c = pattern[j];
    if (c === ']' && !first) return { re: `${re}]`, next: j + 1 };
    first = false;
    if (c === '\\') {
      j++;
      if (j >= pattern.length) throw new BadPatternError(pattern);
      c = pattern[j];
    }
    re += c === '-' && pattern[j + 1] !== ']' && re.length > 1 ? '-' : reEscape(c);
  }
  throw new BadPatternError(pattern);
}

const goMatchCache = new Map<string, RegExp>();

/** Go's filepath.Match(pattern, name) on "/"-separated paths. Throws BadPatternError. */
export function goPathMatch(pattern: string, name: string): boolean {
  let re = goMatchCache.get(pattern);
  if (!re) {
    let src = '^';
    for (let i = 0; i < pattern.length; ) {
      const c = pattern[i];
      if (c === '*') {
        src += '[^/]*';
        i++;
      } else if (c === '?') {
        src += '[^/]';
        i++;
      } else if (c === '[') {
        const r = classToRegex(pattern, i);
        src += r.re;
        i = r.next;
      } else if (c === '\\') {
        if (i + 1 >= pattern.length) throw new BadPatternError(pattern);
        src += reEscape(pattern[i + 1]);
        i += 2;
      } else {
        src += reEscape(c);
        i++;
      }
    }
    re = new RegExp(`${src}$`, 's');
    goMatchCache.set(pattern, re);
  }
  return re.test(name);
}

const globCache = new Map<string, RegExp>();

/** gobwas/glob with separator "/": `*` within a segment, `**` across, `?`, `[…]`, `{a,b}`. */
export function globMatch(pattern: string, name: string): boolean {
  let re = globCache.get(pattern);
  if (!re) {
    let src = '^';
    let braces = 0;
    for (let i = 0; i < pattern.length; ) {
      const c = pattern[i];
      if (c === '*' && pattern[i + 1] === '*') {
        src += '.*';
        i += 2;
      } else if (c === '*') {
        src += '[^/]*';
        i++;
      } else if (c === '?') {
        src += '[^/]';
        i++;
      } else if (c === '[') {
        const r = classToRegex(pattern, i);
        src += r.re;
        i = r.next;
      } else if (c === '{') {
        src += '(?:';
        braces++;
        i++;
      } else if (c === '}' && braces > 0) {
        src += ')';
        braces--;
        i++;
      } else if (c === ',' && braces > 0) {
        src += '|';
        i++;
      } else if (c === '\\' && i + 1 < pattern.length) {
        src += reEscape(pattern[i + 1]);
        i += 2;
      } else {
        src += reEscape(c);
        i++;
      }
    }
    if (braces) throw new BadPatternError(pattern);
    re = new RegExp(`${src}$`, 's');
    globCache.set(pattern, re);
  }
  return re.test(name);
}
