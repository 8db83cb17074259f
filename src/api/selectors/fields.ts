/**
 * @module Field selectors as k8s.io/apimachinery/pkg/fields parses them:
 * `metadata.name=x,status.phase!=Succeeded` (also `==`), with `\,` `\=` `\\` escapes in
 * values. Which fields a resource supports, and their values, are the caller's business;
 * `checkSupported` answers kube's 400 `field label not supported: x`.
 */
import { ApiError } from '../errors.js';

export interface FieldRequirement {
  field: string;
  /** `==` is read as `=`, as kube does. */
  op: '=' | '!=';
  /** Unescaped value. */
  value: string;
}

/** Reads a field's value from an object; undefined counts as the empty string. */
export type FieldGetter = (field: string) => string | undefined;

export class FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}

  matches(get: FieldGetter): boolean {
    return this.requirements.every((r) => {
      const v = get(r.field) ?? '';
      return r.op === '=' ? v === r.value : v !== r.value;
    });
  }

  empty(): boolean {
    return this.requirements.length === 0;
  }

  /** The value `field` must equal, when a `=` requirement pins it (kube's RequiresExactMatch). */
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.op === '=')?.value;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.op}${escapeFieldValue(r.value)}`).join(',');
  }
}

/** Splits on commas not escaped by a backslash; escapes stay in the terms. */
function splitTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** `!=` and `==` are tried before `=`, at the first position where any matches. */
function splitTerm(term: string): [string, '=' | '==' | '!=', string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/** fields.UnescapeValue */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw ApiError.badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') {
      // Go prints the rune with %v, i.e. as its code point.
      throw ApiError.badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else out += c;
  }
  if (inSlash) throw ApiError.badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** fields.EscapeValue */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** fields.ParseSelector: requirements sorted by their text; errors are 400 BadRequest. */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) throw ApiError.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [field, op, raw] = split;
    reqs.push({ field, op: op === '!=' ? '!=' : '=', value: unescapeFieldValue(raw) });
  }
  return new FieldSelector(reqs);
}

/** 400 `field label not supported: x` for the first field not in `supported`. */
export function checkSupported(sel: FieldSelector, supported: Iterable<string>): void {
  const ok = new Set(supported);
  for (const r of sel.requirements) {
    if (!ok.has(r.field)) throw ApiError.badRequest(`field label not supported: ${r.field}`);
  }
}

/** The selector from exact values, as fields.SelectorFromSet builds it. */
export function fieldSelectorFromSet(set: Record<string, string>): FieldSelector {
  return new FieldSelector(
    Object.keys(set)
      .sort()
      .map((field) => ({ field, op: '=' as const, value: set[field] })),
  );
}
