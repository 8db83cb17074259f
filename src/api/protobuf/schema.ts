/**
 * @module The message tables of k8s.io/api's generated.proto files, loaded from
 * descriptors.json (extracted from kubectl by scripts/gen-proto-descriptors.mjs),
 * and the map from an apiVersion to its proto package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** FieldDescriptorProto.Type numbers. */
export const T = {
  DOUBLE: 1,
  FLOAT: 2,
  INT64: 3,
  UINT64: 4,
  INT32: 5,
  FIXED64: 6,
  FIXED32: 7,
  BOOL: 8,
  STRING: 9,
  GROUP: 10,
  MESSAGE: 11,
  BYTES: 12,
  UINT32: 13,
  ENUM: 14,
  SFIXED32: 15,
  SFIXED64: 16,
  SINT32: 17,
  SINT64: 18,
} as const;

const FLAG_REPEATED = 1;
const FLAG_NON_NULLABLE = 2;
const FLAG_REQUIRED = 4;
const FLAG_INLINE = 8;

/**
 * apimachinery types whose JSON is not the plain object of their fields: each has a
 * hand-written MarshalJSON in Kubernetes.
 */
export type SpecialKind = 'time' | 'microtime' | 'duration' | 'quantity' | 'intorstring' | 'rawjson' | 'verbs';

const SPECIAL: Record<string, SpecialKind> = {
  'k8s.io.apimachinery.pkg.apis.meta.v1.Time': 'time',
  'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': 'microtime',
  'k8s.io.apimachinery.pkg.apis.meta.v1.Duration': 'duration',
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': 'rawjson',
  'k8s.io.apimachinery.pkg.apis.meta.v1.Verbs': 'verbs',
  'k8s.io.apimachinery.pkg.runtime.RawExtension': 'rawjson',
  'k8s.io.apimachinery.pkg.api.resource.Quantity': 'quantity',
  'k8s.io.apimachinery.pkg.api.resource.QuantityValue': 'quantity',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'intorstring',
};

export interface FieldDesc {
  /** The proto field name, which in k8s.io/api is the JSON name. */
  readonly name: string;
  readonly no: number;
  readonly type: number;
  readonly repeated: boolean;
  /** A Go value field (gogoproto.nullable=false): always on the wire, zero when unset. */
  readonly nonNullable: boolean;
  /** Kept in JSON even when zero (OpenAPI "required", no omitempty). */
  readonly required: boolean;
  /** An embedded struct whose fields sit in the parent's JSON object. */
  readonly inline: boolean;
  readonly typeName?: string;
}

export interface MessageDesc {
  readonly name: string;
  readonly fields: readonly FieldDesc[];
  readonly byNo: ReadonlyMap<number, FieldDesc>;
  readonly isMapEntry: boolean;
  readonly special?: SpecialKind;
}

type FieldTuple = [string, number, number, number, string?];
interface DescriptorFile {
  source: string;
  messages: Record<string, { map?: boolean; fields: FieldTuple[] }>;
}

let table: Map<string, MessageDesc> | undefined;
let source = '';

function descriptorPath(): string {
  const candidates = [
    new URL('./descriptors.json', import.meta.url),
    // Compiled to dist/src/api/protobuf/ when tsc did not copy the JSON beside it.
    new URL('../../../../src/api/protobuf/descriptors.json', import.meta.url),
  ];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  throw new Error('src/api/protobuf/descriptors.json is missing: run node scripts/gen-proto-descriptors.mjs');
}

function load(): Map<string, MessageDesc> {
  if (table) return table;
  const file = JSON.parse(readFileSync(descriptorPath(), 'utf8')) as DescriptorFile;
  source = file.source;
  const out = new Map<string, MessageDesc>();
  for (const [name, m] of Object.entries(file.messages)) {
    const fields = m.fields.map(
      ([fname, no, type, flags, typeName]): FieldDesc => ({
        name: fname,
        no,
        type,
        repeated: (flags & FLAG_REPEATED) !== 0,
        nonNullable: (flags & FLAG_NON_NULLABLE) !== 0,
        required: (flags & FLAG_REQUIRED) !== 0,
        inline: (flags & FLAG_INLINE) !== 0,
        typeName,
      }),
    );
    out.set(name, {
      name,
      fields,
      byNo: new Map(fields.map((f) => [f.no, f])),
      isMapEntry: m.map === true,
      special: SPECIAL[name],
    });
  }
  table = out;
  return out;
}

export function message(name: string): MessageDesc | undefined {
  return load().get(name);
}

/** Which kubectl the tables were extracted from, e.g. "kubectl.1.33". */
export function descriptorSource(): string {
  load();
  return source;
}

/** Every top-level message name (kinds and their parts), for tests and tooling. */
export function messageNames(): string[] {
  return [...load().keys()];
}

/** API group → proto package prefix (the version is appended). */
const GROUP_PACKAGES: Record<string, string> = {
  '': 'k8s.io.api.core',
  apps: 'k8s.io.api.apps',
  batch: 'k8s.io.api.batch',
  autoscaling: 'k8s.io.api.autoscaling',
  policy: 'k8s.io.api.policy',
  'networking.k8s.io': 'k8s.io.api.networking',
  'discovery.k8s.io': 'k8s.io.api.discovery',
  'coordination.k8s.io': 'k8s.io.api.coordination',
  'events.k8s.io': 'k8s.io.api.events',
  'rbac.authorization.k8s.io': 'k8s.io.api.rbac',
  'scheduling.k8s.io': 'k8s.io.api.scheduling',
  'storage.k8s.io': 'k8s.io.api.storage',
  'metrics.k8s.io': 'k8s.io.metrics.pkg.apis.metrics',
  'meta.k8s.io': 'k8s.io.apimachinery.pkg.apis.meta',
};

/**
 * The proto message of a kind, e.g. ("apps/v1", "Deployment") →
 * "k8s.io.api.apps.v1.Deployment"; undefined when skiff has no table for it.
 */
export function protobufMessageName(apiVersion: string, kind: string): string | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (!Object.hasOwn(GROUP_PACKAGES, group)) return undefined;
  if (!/^v\d+((alpha|beta)\d+)?$/.test(version) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  const name = `${GROUP_PACKAGES[group]}.${version}.${kind}`;
  const m = message(name);
  return m && !m.isMapEntry && !m.special ? name : undefined;
}
