/** @module Prefix ranges over keys in SQLite's byte order (UTF-8 memcmp), shared by the SQLite backend's queries and merges. */

/**
 * The smallest key greater than every key starting with prefix, or undefined when no
 * such string exists (empty prefix). Incrementing the last code point works because
 * UTF-8 preserves code point order and is prefix-free.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // Surrogate code points cannot appear in a well-formed string; jump over them.
      const next = last === 0xd7ff ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/**
 * Upper bound to bind in `name < ?`: SQLite orders every TEXT value before every BLOB,
 * so an empty BLOB bounds the empty prefix while keeping the query an index range.
 */
export function upperBound(prefix: string): string | Buffer {
  return prefixEnd(prefix) ?? Buffer.alloc(0);
}

/** Compares keys the way SQLite's BINARY collation does (UTF-8 bytes), which differs from `<` only past the BMP. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts surrogates (U+10000 and up) below U+E000..U+FFFF; UTF-8 puts them above.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (xs ? y : x) >= 0xe000) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
