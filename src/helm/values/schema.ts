/**
 * @module values.schema.json checks (pkg/chartutil/jsonschema.go): the final values of each
 * chart and subchart are validated against that chart's JSON Schema (draft-07 unless the
 * schema names 2019-09 or 2020-12), and failures are listed per chart as Helm lists them:
 * "mychart:\n- replicaCount: Invalid type. Expected: integer, given: string".
 */
import AjvDraft7, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019.js';
import Ajv2020 from 'ajv/dist/2020.js';
import { createHash } from 'node:crypto';
import { GoTyped } from '../template/values.js';
import type { Values } from './coalesce.js';

/** The schema of a chart: what validateAgainstSchema walks. */
export interface SchemaChart {
  metadata: { name: string };
  schema?: Uint8Array | null;
  dependencies: SchemaChart[];
}

/** Values that fail a chart's schema; `message` is Helm's whole error text. */
export class SchemaValidationError extends Error {
  override name = 'SchemaValidationError';
}

type AjvLike = { compile(schema: object): ValidateFunction };
const ajvs = new Map<string, AjvLike>();
const compiled = new Map<string, ValidateFunction>();

function ajvFor(schema: { $schema?: unknown }): AjvLike {
  const uri = typeof schema.$schema === 'string' ? schema.$schema : '';
  const flavour = uri.includes('2020-12') ? '2020' : uri.includes('2019-09') ? '2019' : '7';
  let ajv = ajvs.get(flavour);
  if (!ajv) {
    const opts = { allErrors: true, strict: false, validateFormats: true, logger: false as const };
    const Ctor = (flavour === '2020' ? Ajv2020 : flavour === '2019' ? Ajv2019 : AjvDraft7) as unknown as new (o: object) => AjvLike;
    ajv = new Ctor(opts);
    ajvs.set(flavour, ajv);
  }
  return ajv;
}

/** The values as JSON sees them (Helm marshals them to JSON before validating). */
export function toJsonValue(v: unknown): unknown {
  if (v instanceof GoTyped) return Number(v.value);
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toJsonValue(x);
    return out;
  }
  return v === undefined ? null : v;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur;
}

/** gojsonschema's field context: "(root)" or "image.tag". */
function fieldOf(pointer: string): string {
  if (pointer === '') return '(root)';
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function describe(e: ErrorObject, data: unknown): string {
  const field = fieldOf(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return `${field}: Invalid type. Expected: ${Array.isArray(p.type) ? p.type.join(', ') : p.type}, given: ${jsonType(valueAt(data, e.instancePath))}`;
    case 'required':
      return `${field}: ${p.missingProperty} is required`;
    case 'enum':
      return `${field}: ${field} must be one of the following: ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
    case 'const':
      return `${field}: ${field} does not match: ${JSON.stringify(p.allowedValue)}`;
    case 'minimum':
      return `${field}: Must be greater than or equal to ${p.limit}`;
    case 'maximum':
      return `${field}: Must be less than or equal to ${p.limit}`;
    case 'exclusiveMinimum':
      return `${field}: Must be greater than ${p.limit}`;
    case 'exclusiveMaximum':
      return `${field}: Must be less than ${p.limit}`;
    case 'minLength':
      return `${field}: String length must be greater than or equal to ${p.limit}`;
    case 'maxLength':
      return `${field}: String length must be less than or equal to ${p.limit}`;
    case 'pattern':
      return `${field}: Does not match pattern '${p.pattern}'`;
    case 'format':
      return `${field}: Does not match format '${p.format}'`;
    case 'additionalProperties':
      return `${field}: Additional property ${p.additionalProperty} is not allowed`;
    case 'minItems':
      return `${field}: Array must have at least ${p.limit} items`;
    case 'maxItems':
      return `${field}: Array must have at most ${p.limit} items`;
    case 'uniqueItems':
      return `${field}: array items[${p.j},${p.i}] must be unique`;
    case 'minProperties':
      return `${field}: Must have at least ${p.limit} properties`;
    case 'maxProperties':
      return `${field}: Must have at most ${p.limit} properties`;
    case 'multipleOf':
      return `${field}: Must be a multiple of ${p.multipleOf}`;
    case 'oneOf':
      return `${field}: Must validate one and only one schema (oneOf)`;
    case 'anyOf':
      return `${field}: Must validate at least one schema (anyOf)`;
    case 'not':
      return `${field}: Must not validate the schema (not)`;
    default:
      return `${field}: ${e.message ?? e.keyword}`;
  }
}

/** Validates one values table against one schema; returns Helm's "- field: problem\n" lines ('' when valid). */
export function validateAgainstSingleSchema(values: Values, schemaJson: Uint8Array | string): string {
  const text = typeof schemaJson === 'string' ? schemaJson : Buffer.from(schemaJson).toString('utf8');
  const key = createHash('sha256').update(text).digest('hex');
  let validate = compiled.get(key);
  if (!validate) {
    let schema: object;
    try {
      schema = JSON.parse(text);
    } catch (e) {
      throw new SchemaValidationError(`unable to parse values.schema.json: ${(e as Error).message}`);
    }
    try {
      validate = ajvFor(schema as { $schema?: unknown }).compile(schema);
    } catch (e) {
      throw new SchemaValidationError(`unable to compile values.schema.json: ${(e as Error).message}`);
    }
    compiled.set(key, validate);
  }
  const data = toJsonValue(values);
  if (validate(data)) return '';
  // Combinators report their branches' errors too; Helm's validator reports the combinator.
  const errors = (validate.errors ?? []).filter((e, _i, all) => !all.some((o) => (o.keyword === 'oneOf' || o.keyword === 'anyOf') && e !== o && e.schemaPath.startsWith(o.schemaPath.replace(/\/(oneOf|anyOf)$/, '/$1/'))));
  return errors.map((e) => `- ${describe(e, data)}\n`).join('');
}

/**
 * ValidateAgainstSchema: every chart of the tree with a schema against its values
 * (subcharts against the table under their name). Returns the per-chart report, '' if valid.
 */
export function schemaReport(chart: SchemaChart, values: Values): string {
  let out = '';
  if (chart.schema && chart.schema.length) {
    const errs = validateAgainstSingleSchema(values, chart.schema);
    if (errs) out += `${chart.metadata.name}:\n${errs}`;
  }
  for (const sub of chart.dependencies) {
    const subValues = values[sub.metadata.name];
    out += schemaReport(sub, (typeof subValues === 'object' && subValues !== null ? subValues : {}) as Values);
  }
  return out;
}

/** Throws SchemaValidationError with Helm's wording when the values break a chart's schema. */
export function validateAgainstSchema(chart: SchemaChart, values: Values): void {
  const report = schemaReport(chart, values);
  if (report) throw new SchemaValidationError(`values don't meet the specifications of the schema(s) in the following chart(s):\n${report}`);
}
