/**
 * @module Pieces shared by the kind files: Table column definitions with kube-apiserver's
 * descriptions, Go-syntax rendering of bad values (field.Error prints `%#v`), label selector
 * validation/matching/printing, and the small validators every strategy uses.
 */
import { ApiError, type FieldError, fieldErrorMessage, invalid, required, forbidden, notSupported } from '../errors.js';
import { QuantityParseError, parseQuantity, tryParseQuantity } from '../quantity.js';
import type { KObject, TableColumn } from '../types.js';
import { isQualifiedName, isValidLabelValue, validateLabels, isDNS1123Label, isDNS1123Subdomain } from '../validation.js';

/** The object elements of a JSON array (anything else reads as empty). */
export function objectList(v: unknown): KObject[] {
  return Array.isArray(v) ? v.filter((x): x is KObject => x !== null && typeof x === 'object' && !Array.isArray(x)) : [];
}

// ---------------------------------------------------------------------------------------
// Table columns

export const nameDescription =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';

export const creationTimestampDescription =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** A column definition; priority 1 columns show only with -o wide. */
export function column(name: string, type: TableColumn['type'], description: string, priority = 0): TableColumn {
  return { name, type, format: '', description, priority };
}

export const nameColumn: TableColumn = { name: 'Name', type: 'string', format: 'name', description: nameDescription, priority: 0 };
export const ageColumn: TableColumn = column('Age', 'string', creationTimestampDescription);
export const containersColumn: TableColumn = column('Containers', 'string', 'Names of each container in the template.', 1);
export const imagesColumn: TableColumn = column('Images', 'string', 'Images referenced by each container in the template.', 1);

/** The CONTAINERS and IMAGES cells: names and images joined with "," (layoutContainerCells). */
export function containerCells(containers: KObject[] | undefined): [string, string] {
  const cs = Array.isArray(containers) ? containers : [];
  return [cs.map((c) => c?.name ?? '').join(','), cs.map((c) => c?.image ?? '').join(',')];
}

/** printBoolPtr: "True", "False" or "<unset>". */
export function boolCell(v: unknown): string {
  if (v === undefined || v === null) return '<unset>';
  return v ? 'True' : 'False';
}

// ---------------------------------------------------------------------------------------
// Go-syntax values in field errors

/** A field error carrying the Go `%#v` rendering of its bad value (FieldError.valueRepr). */
export type ReprFieldError = FieldError;

export function invalidRepr(field: string, value: unknown, repr: string, detail: string): ReprFieldError {
  return { ...invalid(field, value, detail), valueRepr: repr };
}

/** The text kube-apiserver gives for a field error (fieldErrorMessage, kept for callers of this module). */
export function kubeFieldErrorMessage(e: FieldError): string {
  return fieldErrorMessage(e);
}

/** `map[string]string{"a":"b", "c":"d"}` (Go sorts map keys when printing). */
export function goStringMap(m: Record<string, string> | undefined | null): string {
  if (!m) return 'map[string]string(nil)';
  const keys = Object.keys(m).sort();
  return `map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(m[k]))}`).join(', ')}}`;
}

function goStringSlice(xs: unknown): string {
  if (!Array.isArray(xs)) return '[]string(nil)';
  return `[]string{${xs.map((x) => JSON.stringify(String(x))).join(', ')}}`;
}

/** A metav1.LabelSelector as `%#v` prints it. */
export function goLabelSelector(sel: KObject | undefined | null): string {
  if (!sel) return '<nil>';
  const exprs = Array.isArray(sel.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${sel.matchExpressions
        .map(
          (e: KObject) =>
            `v1.LabelSelectorRequirement{Key:${JSON.stringify(e?.key ?? '')}, Operator:${JSON.stringify(e?.operator ?? '')}, Values:${goStringSlice(e?.values)}}`,
        )
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(sel.matchLabels)}, MatchExpressions:${exprs}}`;
}

/** An intstr.IntOrString as `%#v` prints it. */
export function goIntOrString(v: unknown): string {
  if (typeof v === 'string') return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${JSON.stringify(v)}}`;
  return `intstr.IntOrString{Type:0, IntVal:${typeof v === 'number' ? v : 0}, StrVal:""}`;
}

// ---------------------------------------------------------------------------------------
// Label selectors (metav1.LabelSelector)

const selectorOperators = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** ValidateLabelSelector: label keys/values and matchExpressions shape. */
export function validateLabelSelector(sel: KObject | undefined | null, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!sel || typeof sel !== 'object') return errs;
  errs.push(...validateLabels(sel.matchLabels, `${path}.matchLabels`));
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  exprs.forEach((e: KObject, i: number) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = Array.isArray(e?.values) ? e.values : [];
    switch (e?.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, e?.operator ?? '', 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(String(e?.key ?? ''))) errs.push(invalid(`${p}.key`, e?.key ?? '', m));
    values.forEach((v: unknown, j: number) => {
      for (const m of isValidLabelValue(String(v))) errs.push(invalid(`${p}.values[${j}]`, v, m));
    });
  });
  return errs;
}

/** Whether a selector has no requirements at all (it then matches everything). */
export function selectorIsEmpty(sel: KObject | undefined | null): boolean {
  return !!sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/**
 * LabelSelectorAsSelector(sel).Matches(labels): a nil selector matches nothing, an
 * empty one everything.
 */
export function selectorMatches(sel: KObject | undefined | null, labels: Record<string, string> | undefined | null): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of (sel.matchExpressions ?? []) as KObject[]) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const values: string[] = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(l[e.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** labels.Selector.String() of a LabelSelector: requirements sorted by key; "" when empty or nil. */
export function labelSelectorString(sel: KObject | undefined | null): string {
  if (!sel) return '';
  const reqs: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push([k, `${k}=${v}`]);
  for (const e of (sel.matchExpressions ?? []) as KObject[]) {
    const vals = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In':
        reqs.push([e.key, `${e.key} in (${vals})`]);
        break;
      case 'NotIn':
        reqs.push([e.key, `${e.key} notin (${vals})`]);
        break;
      case 'Exists':
        reqs.push([e.key, e.key]);
        break;
      case 'DoesNotExist':
        reqs.push([e.key, `!${e.key}`]);
        break;
    }
  }
  return reqs
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((r) => r[1])
    .join(',');
}

/** metav1.FormatLabelSelector: the selector string, "<none>" when empty, "<error>" when invalid. */
export function formatLabelSelector(sel: KObject | undefined | null): string {
  for (const e of (sel?.matchExpressions ?? []) as KObject[]) if (!selectorOperators.includes(e?.operator)) return '<error>';
  return labelSelectorString(sel) || '<none>';
}

// ---------------------------------------------------------------------------------------
// Small validators

export const nonNegativeMessage = 'must be greater than or equal to 0';

/** ValidateNonnegativeField. */
export function validateNonNegative(value: unknown, path: string): FieldError[] {
  if (typeof value === 'number' && value < 0) return [invalid(path, value, nonNegativeMessage)];
  return [];
}

/** "must be between lo and hi, inclusive" (validation.InclusiveRangeError). */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** Structural equality of two JSON values (apiequality.Semantic.DeepEqual for our purposes). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** ValidateImmutableField: `<path>: Invalid value: <new>: field is immutable`. */
export function validateImmutable(newValue: unknown, oldValue: unknown, path: string, repr?: string): FieldError[] {
  if (deepEqual(newValue, oldValue)) return [];
  return [repr === undefined ? invalid(path, newValue ?? null, 'field is immutable') : invalidRepr(path, newValue, repr, 'field is immutable')];
}

/** A value from a fixed set: Required when empty, NotSupported when unknown. */
export function validateEnum(value: unknown, allowed: string[], path: string, requiredWhenEmpty = true): FieldError[] {
  if (value === undefined || value === null || value === '') return requiredWhenEmpty ? [required(path, '')] : [];
  if (!allowed.includes(value as string)) return [notSupported(path, value, allowed)];
  return [];
}

export function validateDNS1123Label(value: string, path: string): FieldError[] {
  return isDNS1123Label(value).map((m) => invalid(path, value, m));
}

export function validateDNS1123Subdomain(value: string, path: string): FieldError[] {
  return isDNS1123Subdomain(value).map((m) => invalid(path, value, m));
}

export function validateQualifiedName(value: string, path: string): FieldError[] {
  return isQualifiedName(value).map((m) => invalid(path, value, m));
}

/** field.NotFound: `<path>: Not found: "<value>"`. */
export function notFound(field: string, value: unknown): FieldError {
  return { type: 'FieldValueNotFound', field, value };
}

// ---------------------------------------------------------------------------------------
// IntOrString percentages (maxSurge, maxUnavailable)

const percentRe = /^[0-9]+%$/;

/** ValidatePositiveIntOrPercent; with capAt100 also IsNotMoreThan100Percent. Bad values print as intstr.IntOrString. */
export function validateIntOrPercent(v: unknown, path: string, capAt100 = false): FieldError[] {
  const errs: FieldError[] = [];
  if (v === undefined || v === null) return errs;
  if (typeof v === 'string') {
    if (!percentRe.test(v)) {
      errs.push(
        invalidRepr(
          path,
          v,
          goIntOrString(v),
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      );
    } else if (capAt100 && Number.parseInt(v, 10) > 100) {
      errs.push(invalidRepr(path, v, goIntOrString(v), 'must not be greater than 100%'));
    }
  } else if (typeof v === 'number') {
    if (v < 0) errs.push(invalid(path, v, nonNegativeMessage));
  } else {
    errs.push(invalidRepr(path, v, goIntOrString(v), "must be an integer or percentage (e.g '5%')"));
  }
  return errs;
}

/** The numeric value of an IntOrString, percentages of `total` rounded up or down. */
export function intOrPercentValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && percentRe.test(v)) {
    const x = (Number.parseInt(v, 10) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return 0;
}

/** True when an IntOrString is zero ("0%" or 0). */
export function intOrPercentIsZero(v: unknown): boolean {
  return v === 0 || v === '0%' || (typeof v === 'string' && percentRe.test(v) && Number.parseInt(v, 10) === 0);
}

// ---------------------------------------------------------------------------------------
// Decode-time errors

/**
 * Runs defaulting that parses quantities; a malformed one becomes the 400 kube-apiserver
 * gives while decoding: `Pod in version "v1" cannot be handled as a Pod: quantities must ...`.
 */
export function withDecodeErrors(kind: string, version: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof QuantityParseError) throw ApiError.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${e.message}`);
    throw e;
  }
}

/** Canonical text of a quantity for printing, or the raw value when it does not parse. */
export function quantityCell(v: unknown): string {
  if (v === undefined || v === null) return '0';
  const q = tryParseQuantity(v);
  return q ? q.toString() : String(v);
}

/** Canonicalizes a single (non-ResourceList) quantity field in place. */
export function canonicalizeQuantityField(obj: KObject | undefined, key: string): void {
  if (!obj || obj[key] === undefined || obj[key] === null) return;
  obj[key] = parseQuantity(obj[key]).toString();
}

/**
 * A cmp.Diff-like rendering of the top-level fields that differ between two specs, as
 * kube-apiserver appends to "may not change" errors (values shown as JSON, not Go).
 */
export function specDiff(typeName: string, oldSpec: KObject | undefined, newSpec: KObject | undefined): string {
  const a = oldSpec ?? {};
  const b = newSpec ?? {};
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const lines = [`  ${typeName}{`];
  let same = 0;
  const flushSame = () => {
    if (same > 0) lines.push(`  \t... // ${same} identical field${same === 1 ? '' : 's'}`);
    same = 0;
  };
  for (const k of keys) {
    if (deepEqual(a[k], b[k])) {
      same++;
      continue;
    }
    flushSame();
    const goName = k.charAt(0).toUpperCase() + k.slice(1);
    lines.push(`- \t${goName}: ${a[k] === undefined ? 'nil' : JSON.stringify(a[k])},`);
    lines.push(`+ \t${goName}: ${b[k] === undefined ? 'nil' : JSON.stringify(b[k])},`);
  }
  flushSame();
  lines.push('  }');
  return lines.join('\n') + '\n';
}

/** The apps/v1 selector rules: required, well-formed, and not empty (`empty selector is invalid for <kind>`). */
export function validateWorkloadSelector(sel: KObject | undefined | null, path: string, kindLower: string): FieldError[] {
  if (!sel) return [required(path, '')];
  const errs = validateLabelSelector(sel, path);
  if (selectorIsEmpty(sel)) errs.push(invalidRepr(path, sel, goLabelSelector(sel), `empty selector is invalid for ${kindLower}`));
  return errs;
}

/** Selector facts validateControllerTemplate needs. */
export function selectorFacts(sel: KObject | undefined | null, labels: Record<string, string> | undefined): { selectorEmpty: boolean; selectorMatches: boolean } {
  return { selectorEmpty: !!sel && selectorIsEmpty(sel), selectorMatches: selectorMatches(sel, labels) };
}

/** apps/v1 forbids changing spec.selector: `spec.selector: Invalid value: v1.LabelSelector{...}: field is immutable`. */
export function validateSelectorImmutable(obj: KObject, old: KObject): FieldError[] {
  return validateImmutable(obj.spec?.selector, old.spec?.selector, 'spec.selector', goLabelSelector(obj.spec?.selector));
}
