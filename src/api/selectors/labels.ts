/**
 * @module Label selectors as k8s.io/apimachinery/pkg/labels parses, matches and prints
 * them: `a=b,c!=d,e in (x,y),f notin (z),g,!h` (also `==`, `a>1`, `a<1`), and
 * metav1.LabelSelector objects (matchLabels, matchExpressions). Parse errors are 400
 * BadRequest ApiErrors carrying kube's messages.
 */
import { ApiError, type FieldError, fieldErrorMessage, invalid, notSupported } from '../errors.js';
import { isQualifiedName, isValidLabelValue } from '../validation.js';

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted for parsed selectors; as given for LabelSelector objects. */
  values: string[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** metav1.LabelSelector */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Labels = Record<string, string> | undefined | null;

/** A parsed selector. `nothing` selectors (a null LabelSelector) match no object. */
export class LabelSelector {
  constructor(
    readonly requirements: readonly LabelRequirement[],
    readonly nothing = false,
  ) {}

  /** True when every requirement holds for `labels`. */
  matches(labels: Labels): boolean {
    if (this.nothing) return false;
    const ls = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, ls));
  }

  /** True when the selector places no requirement (matches everything). */
  empty(): boolean {
    return !this.nothing && this.requirements.length === 0;
  }

  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }

  /**
   * The value a key must equal for this selector to match, when a requirement pins it
   * (`k=v`, `k==v`, `k in (v)`): kube's RequiresExactMatch, used to narrow lookups.
   */
  requiresExactMatch(key: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== key) continue;
      if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
    }
    return undefined;
  }
}

function has(ls: Record<string, string>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(ls, key);
}

const INTEGER = /^[+-]?\d+$/;

function requirementMatches(r: LabelRequirement, ls: Record<string, string>): boolean {
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has(ls, r.key) && r.values.includes(ls[r.key]);
    case 'notin':
    case '!=':
      return !has(ls, r.key) || !r.values.includes(ls[r.key]);
    case 'exists':
      return has(ls, r.key);
    case '!':
      return !has(ls, r.key);
    case 'gt':
    case 'lt': {
      if (!has(ls, r.key) || r.values.length !== 1) return false;
      if (!INTEGER.test(ls[r.key]) || !INTEGER.test(r.values[0])) return false;
      const have = BigInt(ls[r.key]);
      const want = BigInt(r.values[0]);
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  const values = r.values.length === 1 ? r.values[0] : [...r.values].sort().join(',');
  switch (r.operator) {
    case '!':
      return `!${r.key}`;
    case 'exists':
      return r.key;
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

/** A selector matching everything. */
export const everything = new LabelSelector([]);
/** A selector matching nothing (what a null LabelSelector means). */
export const nothing = new LabelSelector([], true);

// ---- requirement construction (labels.NewRequirement) ----

const OPERATORS: readonly string[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt', 'exists', '!'];

/** The field.Path text of a nil path, which kube's parser passes. */
const NIL_PATH = '<nil>';

function aggregate(errs: FieldError[]): string {
  const msgs = errs.map(fieldMessage);
  return msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
}

/** field.Error.Error(): "<path>: <body>"; list values print as Go's %#v of a []string. */
function fieldMessage(e: FieldError): string {
  if (Array.isArray(e.value)) {
    const list = `[]string{${e.value.map((v) => JSON.stringify(v)).join(', ')}}`;
    return `${e.field}: Invalid value: ${list}: ${e.detail ?? ''}`;
  }
  return `${e.field}: ${fieldErrorMessage({ ...e, field: '' })}`;
}

function labelKeyError(key: string, path: string): FieldError | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? invalid(path, key, errs.join('; ')) : undefined;
}

/** Validates a requirement the way labels.NewRequirement does; returns its errors. */
function requirementErrors(key: string, op: LabelOperator, values: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const child = (name: string) => (path ? `${path}.${name}` : name);
  const keyErr = labelKeyError(key, child('key'));
  if (keyErr) errs.push(keyErr);
  const valuesPath = child('values');
  switch (op) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid(valuesPath, values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid(valuesPath, values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid(valuesPath, values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid(valuesPath, values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (!INTEGER.test(v)) errs.push(invalid(`${valuesPath}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
    default:
      errs.push(notSupported(child('operator'), op, [...OPERATORS]));
  }
  values.forEach((v, i) => {
    const valueErrs = isValidLabelValue(v);
    if (valueErrs.length) errs.push(invalid(`${valuesPath}[${i}][${key}]`, v, valueErrs.join('; ')));
  });
  return errs;
}

/** A validated requirement, or a 400 BadRequest with kube's message. */
export function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const errs = requirementErrors(key, operator, values, '');
  if (errs.length) throw ApiError.badRequest(aggregate(errs));
  return { key, operator, values };
}

// ---- string syntax (labels.Parse) ----

type Token =
  | 'end'
  | 'identifier'
  | 'error'
  | ')'
  | ','
  | '!'
  | '=='
  | '='
  | '>'
  | 'in'
  | '<'
  | '!='
  | 'notin'
  | '(';

const LITERALS: Record<string, Token> = {
  ')': ')',
  ',': ',',
  '!': '!',
  '==': '==',
  '=': '=',
  '>': '>',
  in: 'in',
  '<': '<',
  '!=': '!=',
  notin: 'notin',
  '(': '(',
};

const isSpecial = (c: string) => '=!(),><'.includes(c);
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';

function lex(input: string): { tok: Token; lit: string }[] {
  const out: { tok: Token; lit: string }[] = [];
  let i = 0;
  for (;;) {
    while (i < input.length && isSpace(input[i])) i++;
    if (i >= input.length) {
      out.push({ tok: 'end', lit: '' });
      return out;
    }
    if (isSpecial(input[i])) {
      // Longest run of special characters that still forms an operator.
      let buf = '';
      let last: { tok: Token; lit: string } | undefined;
      while (i < input.length && isSpecial(input[i])) {
        buf += input[i];
        const tok = LITERALS[buf];
        if (tok) {
          last = { tok, lit: buf };
          i++;
        } else if (last) {
          break;
        } else {
          i++;
        }
      }
      out.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
      if (!last) {
        out.push({ tok: 'end', lit: '' });
        return out;
      }
      continue;
    }
    let buf = '';
    while (i < input.length && !isSpecial(input[i]) && !isSpace(input[i])) buf += input[i++];
    out.push({ tok: LITERALS[buf] ?? 'identifier', lit: buf });
  }
}

class ParseError extends Error {}

class Parser {
  private pos = 0;
  constructor(private readonly items: { tok: Token; lit: string }[]) {}

  /** In a values context the keywords `in` and `notin` are plain identifiers. */
  private look(values: boolean): { tok: Token; lit: string } {
    const it = this.items[Math.min(this.pos, this.items.length - 1)];
    return values && (it.tok === 'in' || it.tok === 'notin') ? { tok: 'identifier', lit: it.lit } : it;
  }

  private next(values: boolean): { tok: Token; lit: string } {
    const it = this.look(values);
    this.pos++;
    return it;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.look(true);
      if (tok === 'identifier' || tok === '!') {
        let r: LabelRequirement;
        try {
          r = this.requirement();
        } catch (e) {
          throw new ParseError(`unable to parse requirement: ${(e as Error).message}`);
        }
        reqs.push(r);
        const after = this.next(true);
        if (after.tok === 'end') return reqs;
        if (after.tok === ',') {
          const t2 = this.look(true);
          if (t2.tok !== 'identifier' && t2.tok !== '!') {
            throw new ParseError(`found '${t2.lit}', expected: identifier after ','`);
          }
          continue;
        }
        throw new ParseError(`found '${after.lit}', expected: ',' or 'end of string'`);
      }
      if (tok === 'end') return reqs;
      throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
    }
  }

  private requirement(): LabelRequirement {
    let op: LabelOperator | undefined;
    let { tok, lit } = this.next(true);
    if (tok === '!') {
      op = '!';
      ({ tok, lit } = this.next(true));
    }
    if (tok !== 'identifier') throw new Error(`found '${lit}', expected: identifier`);
    const key = lit;
    const keyErr = labelKeyError(key, NIL_PATH);
    if (keyErr) throw new Error(fieldMessage(keyErr));
    const t = this.look(true).tok;
    // `!key` is complete by itself: whatever follows is checked by the caller (`!a=b` fails there).
    if (op === '!' || t === 'end' || t === ',') return this.build(key, op ?? 'exists', []);
    const opTok = this.next(false);
    let binary: LabelOperator;
    switch (opTok.tok) {
      case 'in':
        binary = 'in';
        break;
      case '=':
        binary = '=';
        break;
      case '==':
        binary = '==';
        break;
      case '>':
        binary = 'gt';
        break;
      case '<':
        binary = 'lt';
        break;
      case 'notin':
        binary = 'notin';
        break;
      case '!=':
        binary = '!=';
        break;
      default:
        throw new Error(`found '${opTok.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    const values = binary === 'in' || binary === 'notin' ? this.setValues() : this.exactValue();
    return this.build(key, binary, values);
  }

  private build(key: string, op: LabelOperator, values: string[]): LabelRequirement {
    const sorted = [...new Set(values)].sort();
    const errs = requirementErrors(key, op, sorted, '');
    if (errs.length) throw new Error(aggregate(errs));
    return { key, operator: op, values: sorted };
  }

  private setValues(): string[] {
    const open = this.next(true);
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.look(true);
    if (tok === 'identifier' || tok === ',') {
      const s = this.identifiers();
      if (this.next(true).tok !== ')') throw new Error(`found '${lit}', expected: ')'`);
      return s;
    }
    if (tok === ')') {
      this.next(true);
      return [''];
    }
    throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
  }

  private identifiers(): string[] {
    const s = new Set<string>();
    for (;;) {
      const { tok, lit } = this.next(true);
      if (tok === 'identifier') {
        s.add(lit);
        const t2 = this.look(true);
        if (t2.tok === ',') continue;
        if (t2.tok === ')') return [...s];
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
      }
      if (tok === ',') {
        if (s.size === 0) s.add('');
        const t2 = this.look(true);
        if (t2.tok === ')') {
          s.add('');
          return [...s];
        }
        if (t2.tok === ',') {
          this.next(true);
          s.add('');
        }
        continue;
      }
      throw new Error(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private exactValue(): string[] {
    const t = this.look(true).tok;
    if (t === 'end' || t === ',') return [''];
    const { tok, lit } = this.next(true);
    if (tok === 'identifier') return [lit];
    throw new Error(`found '${lit}', expected: identifier`);
  }
}

function byKey(reqs: LabelRequirement[]): LabelRequirement[] {
  return reqs
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.key < b.r.key ? -1 : a.r.key > b.r.key ? 1 : a.i - b.i))
    .map((x) => x.r);
}

/** labels.Parse: the empty string selects everything; errors are 400 BadRequest. */
export function parseLabelSelector(selector: string): LabelSelector {
  try {
    return new LabelSelector(byKey(new Parser(lex(selector)).parse()));
  } catch (e) {
    if (e instanceof ParseError) throw ApiError.badRequest(e.message);
    throw e;
  }
}

/** labels.SelectorFromSet: one `=` requirement per label. */
export function selectorFromSet(set: Record<string, string> | undefined | null): LabelSelector {
  const reqs = Object.entries(set ?? {}).map(([k, v]) => newRequirement(k, '=', [v]));
  return new LabelSelector(byKey(reqs));
}

const EXPRESSION_OPERATORS: Record<string, LabelOperator> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * metav1.LabelSelectorAsSelector: null selects nothing, `{}` everything; matchLabels and
 * matchExpressions (In, NotIn, Exists, DoesNotExist) are ANDed. Errors are 400 BadRequest.
 */
export function fromLabelSelector(sel: LabelSelectorObject | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return nothing;
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push(newRequirement(k, '=', [v]));
  for (const expr of sel.matchExpressions ?? []) {
    const op = EXPRESSION_OPERATORS[expr.operator];
    if (!op) throw ApiError.badRequest(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    reqs.push(newRequirement(expr.key, op, [...(expr.values ?? [])]));
  }
  if (reqs.length === 0) return everything;
  return new LabelSelector(byKey(reqs));
}

/** The selector's string form, as kube renders it (`app=nginx,tier in (web)`). */
export function selectorToString(sel: LabelSelector | LabelSelectorObject | null | undefined): string {
  if (sel instanceof LabelSelector) return sel.toString();
  return fromLabelSelector(sel).toString();
}

/** metav1.FormatLabelSelector, as describe prints selectors: `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(sel: LabelSelectorObject | null | undefined): string {
  try {
    const s = fromLabelSelector(sel).toString();
    return s === '' ? '<none>' : s;
  } catch {
    return '<error>';
  }
}

/** Whether `labels` match a metav1.LabelSelector (null matches nothing, `{}` everything). */
export function labelSelectorMatches(sel: LabelSelectorObject | null | undefined, labels: Labels): boolean {
  return fromLabelSelector(sel).matches(labels);
}
