/**
 * @module The protobuf form of an OpenAPI v2 document (gnostic's openapi.v2.Document),
 * which kubectl 1.27/1.28 download from /openapi/v2. The message descriptor was taken
 * from a kubectl binary by scripts/gen-openapi-descriptor.mjs; vendor extensions,
 * enums and defaults travel as YAML text in openapi.v2.Any, as gnostic stores them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Json } from './paths.js';

type Protobuf = typeof import('protobufjs');
type ProtoType = import('protobufjs').Type;

let documentType: ProtoType | undefined;

/** The openapi.v2.Document message type, loaded on first use. */
export function gnosticDocumentType(): ProtoType {
  if (!documentType) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as Protobuf;
    const descriptor = JSON.parse(readFileSync(new URL('./openapiv2-descriptor.json', import.meta.url), 'utf8'));
    documentType = protobuf.Root.fromJSON(descriptor).lookupType('openapi.v2.Document');
  }
  return documentType;
}

/** Encodes a swagger 2.0 JSON document as a gnostic openapi.v2.Document. */
export function encodeGnosticDocument(doc: Json): Buffer {
  const type = gnosticDocumentType();
  const message = type.fromObject(documentToGnostic(doc));
  return Buffer.from(type.encode(message).finish());
}

// JSON is valid YAML, and gnostic readers only parse the text back.
const anyOf = (value: unknown): Json => ({ yaml: JSON.stringify(value) });

function vendorExtensions(obj: Json): Json[] {
  return Object.keys(obj)
    .filter((k) => k.startsWith('x-'))
    .map((name) => ({ name, value: anyOf(obj[name]) }));
}

export function documentToGnostic(doc: Json): Json {
  const out: Json = { swagger: doc.swagger ?? '2.0' };
  if (doc.info) out.info = { title: doc.info.title ?? '', version: doc.info.version ?? '', description: doc.info.description };
  if (doc.consumes) out.consumes = doc.consumes;
  if (doc.produces) out.produces = doc.produces;
  out.paths = {
    path: Object.entries((doc.paths ?? {}) as Json).map(([name, item]) => ({ name, value: pathItemToGnostic(item) })),
  };
  out.definitions = {
    additional_properties: Object.entries((doc.definitions ?? {}) as Json).map(([name, s]) => ({ name, value: schemaToGnostic(s) })),
  };
  out.vendor_extension = vendorExtensions(doc);
  return out;
}

function pathItemToGnostic(item: Json): Json {
  const out: Json = {};
  for (const verb of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch']) {
    if (item[verb]) out[verb] = operationToGnostic(item[verb]);
  }
  if (item.parameters) out.parameters = item.parameters.map(parameterToGnostic);
  out.vendor_extension = vendorExtensions(item);
  return out;
}

function operationToGnostic(op: Json): Json {
  const out: Json = {};
  for (const k of ['tags', 'summary', 'description', 'produces', 'consumes', 'schemes', 'deprecated']) {
    if (op[k] !== undefined) out[k] = op[k];
  }
  if (op.operationId) out.operation_id = op.operationId;
  if (op.parameters) out.parameters = op.parameters.map(parameterToGnostic);
  out.responses = {
    response_code: Object.entries((op.responses ?? {}) as Json).map(([code, r]) => {
      const response: Json = { description: r.description ?? '' };
      if (r.schema) response.schema = { schema: schemaToGnostic(r.schema) };
      return { name: code, value: { response } };
    }),
  };
  out.vendor_extension = vendorExtensions(op);
  return out;
}

const SIMPLE_PARAMETER_FIELDS: Record<string, string> = {
  required: 'required', in: 'in', description: 'description', name: 'name', type: 'type', format: 'format',
  collectionFormat: 'collection_format', maximum: 'maximum', exclusiveMaximum: 'exclusive_maximum', minimum: 'minimum',
  exclusiveMinimum: 'exclusive_minimum', maxLength: 'max_length', minLength: 'min_length', pattern: 'pattern',
  maxItems: 'max_items', minItems: 'min_items', uniqueItems: 'unique_items', multipleOf: 'multiple_of',
};

function parameterToGnostic(p: Json): Json {
  if (p.$ref) return { json_reference: { _ref: p.$ref } };
  if (p.in === 'body') {
    const body: Json = { name: p.name, in: 'body', required: !!p.required, schema: schemaToGnostic(p.schema ?? {}) };
    if (p.description) body.description = p.description;
    return { parameter: { body_parameter: body } };
  }
  const sub: Json = {};
  for (const [k, field] of Object.entries(SIMPLE_PARAMETER_FIELDS)) if (p[k] !== undefined) sub[field] = p[k];
  if (p.default !== undefined) sub.default = anyOf(p.default);
  if (p.enum) sub.enum = p.enum.map(anyOf);
  if (p.items) sub.items = { type: p.items.type, format: p.items.format };
  sub.vendor_extension = vendorExtensions(p);
  const kind = ({ query: 'query', path: 'path', header: 'header', formData: 'form_data' } as Record<string, string>)[p.in] ?? 'query';
  return { parameter: { non_body_parameter: { [`${kind}_parameter_sub_schema`]: sub } } };
}

const SIMPLE_SCHEMA_FIELDS: Record<string, string> = {
  $ref: '_ref', format: 'format', title: 'title', description: 'description', multipleOf: 'multiple_of',
  maximum: 'maximum', exclusiveMaximum: 'exclusive_maximum', minimum: 'minimum', exclusiveMinimum: 'exclusive_minimum',
  maxLength: 'max_length', minLength: 'min_length', pattern: 'pattern', maxItems: 'max_items', minItems: 'min_items',
  uniqueItems: 'unique_items', maxProperties: 'max_properties', minProperties: 'min_properties', required: 'required',
  discriminator: 'discriminator', readOnly: 'read_only',
};

export function schemaToGnostic(s: Json): Json {
  const out: Json = {};
  for (const [k, field] of Object.entries(SIMPLE_SCHEMA_FIELDS)) if (s[k] !== undefined) out[field] = s[k];
  if (s.default !== undefined) out.default = anyOf(s.default);
  if (s.example !== undefined) out.example = anyOf(s.example);
  if (s.enum) out.enum = s.enum.map(anyOf);
  if (s.type !== undefined) out.type = { value: Array.isArray(s.type) ? s.type : [s.type] };
  if (s.items !== undefined) out.items = { schema: (Array.isArray(s.items) ? s.items : [s.items]).map(schemaToGnostic) };
  if (s.allOf) out.all_of = s.allOf.map(schemaToGnostic);
  if (s.properties) {
    out.properties = {
      additional_properties: Object.entries(s.properties as Json).map(([name, v]) => ({ name, value: schemaToGnostic(v) })),
    };
  }
  if (typeof s.additionalProperties === 'boolean') out.additional_properties = { boolean: s.additionalProperties };
  else if (s.additionalProperties) out.additional_properties = { schema: schemaToGnostic(s.additionalProperties) };
  out.vendor_extension = vendorExtensions(s);
  return out;
}
