#!/usr/bin/env node
// Build step: turns the kubernetes-types .d.ts files (one per API group-version, with
// the API's field documentation as JSDoc) into OpenAPI schemas named the way
// kube-apiserver names them (io.k8s.api.apps.v1.Deployment, ...), written to
// dist/openapi/schemas.json for src/api/openapi/openapi.ts to serve as /openapi/v2 and
// /openapi/v3. Skips the work when the output is newer than kubernetes-types and this
// script. Usage: node scripts/gen-openapi.mjs [--force] [--out FILE]
import { closeSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const force = args.includes('--force');
const outIndex = args.indexOf('--out');
const outPath = outIndex >= 0 ? resolve(args[outIndex + 1]) : join(root, 'dist/openapi/schemas.json');

const typesPackageJson = require.resolve('kubernetes-types/package.json', { paths: [root] });
const typesDir = dirname(typesPackageJson);
const typesVersion = JSON.parse(readFileSync(typesPackageJson, 'utf8')).version;

function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}
const source = `kubernetes-types@${typesVersion}`;
// npm stamps installed files with a fixed 1985 mtime, so the version recorded in the
// output decides as well as the times.
function upToDate() {
  if (mtime(outPath) <= Math.max(mtime(typesPackageJson), mtime(fileURLToPath(import.meta.url)))) return false;
  const head = Buffer.alloc(128);
  const fd = openSync(outPath, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return head.toString('utf8').startsWith(JSON.stringify({ source }).slice(0, -1));
}
if (!force && upToDate()) process.exit(0);

const ts = require('typescript');

const REF_PREFIX = '#/components/schemas/';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** OpenAPI name prefix of a kubernetes-types module ("apps/v1", "meta/v1", "runtime"). */
function packageOf(module) {
  switch (module) {
    case 'meta/v1':
      return META;
    case 'api/resource':
      return 'io.k8s.apimachinery.pkg.api.resource';
    case 'runtime':
      return 'io.k8s.apimachinery.pkg.runtime';
    case 'version':
      return 'io.k8s.apimachinery.pkg.version';
    case 'util/intstr':
      return 'io.k8s.apimachinery.pkg.util.intstr';
    case 'apiextensions/v1':
      return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
    default:
      return `io.k8s.api.${module.replace(/\//g, '.')}`;
  }
}

// Go int64 fields (every other integer in k8s.io/api is int32), keyed "Type.field".
const INT64_FIELDS = new Set([
  'TokenRequestSpec.expirationSeconds', 'CSIDriverSpec.nodeAllocatableUpdatePeriodSeconds',
  'Condition.observedGeneration', 'ContainerImage.sizeBytes', 'ControllerRevision.revision',
  'CronJobSpec.startingDeadlineSeconds', 'DaemonSetStatus.observedGeneration',
  'DeleteOptions.gracePeriodSeconds', 'DeploymentStatus.observedGeneration',
  'HorizontalPodAutoscalerStatus.observedGeneration', 'JobSpec.activeDeadlineSeconds',
  'ListMeta.remainingItemCount', 'ObjectMeta.deletionGracePeriodSeconds', 'ObjectMeta.generation',
  'PodCondition.observedGeneration', 'PodDisruptionBudgetStatus.observedGeneration',
  'PodSecurityContext.fsGroup', 'PodSecurityContext.runAsGroup', 'PodSecurityContext.runAsUser',
  'PodSecurityContext.supplementalGroups', 'PodSpec.activeDeadlineSeconds',
  'PodSpec.terminationGracePeriodSeconds', 'PodStatus.observedGeneration',
  'Probe.terminationGracePeriodSeconds', 'ReplicaSetStatus.observedGeneration',
  'ReplicationControllerStatus.observedGeneration', 'ResourcePool.generation',
  'ResourcePool.resourceSliceCount', 'SecurityContext.runAsGroup', 'SecurityContext.runAsUser',
  'ServiceAccountTokenProjection.expirationSeconds', 'SleepAction.seconds',
  'StatefulSetStatus.observedGeneration', 'Toleration.tolerationSeconds',
  'ValidatingAdmissionPolicyStatus.observedGeneration', 'StorageVersionCondition.observedGeneration',
  'NamedResourcesAttribute.int', 'NamedResourcesIntSlice.ints', 'JSONSchemaProps.maxItems',
  'JSONSchemaProps.maxLength', 'JSONSchemaProps.maxProperties', 'JSONSchemaProps.minItems',
  'JSONSchemaProps.minLength', 'JSONSchemaProps.minProperties',
]);
// Go float64 fields.
const DOUBLE_FIELDS = new Set(['JSONSchemaProps.maximum', 'JSONSchemaProps.minimum', 'JSONSchemaProps.multipleOf']);
// Go []byte fields: base64 strings on the wire.
const BYTE_FIELDS = new Set([
  'WebhookClientConfig.caBundle', 'CertificateSigningRequestSpec.request',
  'CertificateSigningRequestStatus.certificate', 'ConfigMap.binaryData', 'Secret.data',
]);
// Go structs whose JSON form is any value (apiextensions JSON) rather than an object.
const ARBITRARY_TYPES = new Set(['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON']);

/** Types whose JSON is a scalar, described the way kube-openapi describes them. */
function specialSchema(name, description) {
  const d = description ? { description } : {};
  switch (name) {
    case `${META}.Time`:
      return { ...d, type: 'string', format: 'date-time' };
    case `${META}.MicroTime`:
      return { ...d, type: 'string', format: 'date-time' };
    case 'io.k8s.apimachinery.pkg.api.resource.Quantity':
      return { ...d, oneOf: [{ type: 'string' }, { type: 'number' }] };
    case INT_OR_STRING:
      return {
        ...d,
        format: 'int-or-string',
        oneOf: [{ type: 'integer' }, { type: 'string' }],
        'x-kubernetes-int-or-string': true,
      };
    default:
      return undefined;
  }
}

function jsDocText(node) {
  const docs = node.jsDoc;
  if (!docs || docs.length === 0) return undefined;
  const text = ts.getTextOfJSDocComment(docs[docs.length - 1].comment);
  return text ? text.trim() : undefined;
}

const definitions = {};

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

for (const file of walk(typesDir, []).sort()) {
  const module = relative(typesDir, file).replace(/\.d\.ts$/, '').split('\\').join('/');
  const pkg = packageOf(module);
  const sourceFile = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);

  // Local identifier → OpenAPI name, through the file's imports.
  const imported = new Map();
  for (const st of sourceFile.statements) {
    if (!ts.isImportDeclaration(st) || !st.importClause?.namedBindings) continue;
    const from = resolve(dirname(file), st.moduleSpecifier.text);
    const fromPkg = packageOf(relative(typesDir, from).split('\\').join('/'));
    for (const el of st.importClause.namedBindings.elements ?? []) {
      imported.set(el.name.text, `${fromPkg}.${(el.propertyName ?? el.name).text}`);
    }
  }
  const qualify = (id) => imported.get(id) ?? `${pkg}.${id}`;
  const ref = (name) => ({ $ref: REF_PREFIX + name });

  function schemaOf(node, owner, field) {
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword:
        return BYTE_FIELDS.has(`${owner}.${field}`) ? { type: 'string', format: 'byte' } : { type: 'string' };
      case ts.SyntaxKind.BooleanKeyword:
        return { type: 'boolean' };
      case ts.SyntaxKind.NumberKeyword: {
        const key = `${owner}.${field}`;
        if (DOUBLE_FIELDS.has(key)) return { type: 'number', format: 'double' };
        return { type: 'integer', format: INT64_FIELDS.has(key) ? 'int64' : 'int32' };
      }
      case ts.SyntaxKind.LiteralType:
        return { type: 'string' };
      case ts.SyntaxKind.AnyKeyword:
      case ts.SyntaxKind.UnknownKeyword:
        return {};
      case ts.SyntaxKind.ArrayType:
        return { type: 'array', items: schemaOf(node.elementType, owner, field) };
      case ts.SyntaxKind.ParenthesizedType:
        return schemaOf(node.type, owner, field);
      case ts.SyntaxKind.UnionType: {
        const kinds = node.types.map((t) => t.kind).sort();
        if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
          return ref(INT_OR_STRING);
        }
        return {};
      }
      case ts.SyntaxKind.TypeLiteral: {
        const index = node.members.find((m) => ts.isIndexSignatureDeclaration(m));
        if (index) return { type: 'object', additionalProperties: schemaOf(index.type, owner, field) };
        return { type: 'object' };
      }
      case ts.SyntaxKind.TypeReference: {
        const id = node.typeName.getText(sourceFile);
        if (id === 'Array' && node.typeArguments?.length === 1) {
          return { type: 'array', items: schemaOf(node.typeArguments[0], owner, field) };
        }
        return ref(qualify(id));
      }
      default:
        throw new Error(`${module}: ${owner}.${field}: unsupported type syntax ${ts.SyntaxKind[node.kind]}`);
    }
  }

  for (const st of sourceFile.statements) {
    if (ts.isInterfaceDeclaration(st)) {
      const typeName = st.name.text;
      const name = `${pkg}.${typeName}`;
      const description = jsDocText(st);
      const special = specialSchema(name, description);
      if (special) {
        definitions[name] = special;
        continue;
      }
      if (ARBITRARY_TYPES.has(name)) {
        definitions[name] = description ? { description } : {};
        continue;
      }
      const properties = {};
      const required = [];
      let group, version, kind;
      for (const m of st.members) {
        if (!ts.isPropertySignature(m) || !m.type) continue;
        const field = m.name.getText(sourceFile).replace(/^["']|["']$/g, '');
        let schema = schemaOf(m.type, typeName, field);
        const fieldDescription = jsDocText(m);
        if (schema.$ref && fieldDescription) {
          // kube-openapi's v3 form: the field's description beside the referenced type's.
          schema = { description: fieldDescription, allOf: [schema] };
        } else if (fieldDescription) {
          schema = { description: fieldDescription, ...schema };
        }
        properties[field] = schema;
        if (!m.questionToken) required.push(field);
        if (ts.isLiteralTypeNode(m.type) && ts.isStringLiteral(m.type.literal)) {
          if (field === 'kind') kind = m.type.literal.text;
          if (field === 'apiVersion') {
            const av = m.type.literal.text;
            const slash = av.indexOf('/');
            group = slash < 0 ? '' : av.slice(0, slash);
            version = slash < 0 ? av : av.slice(slash + 1);
          }
        }
      }
      const schema = {};
      if (description) schema.description = description;
      schema.type = 'object';
      if (Object.keys(properties).length) schema.properties = properties;
      if (required.length) schema.required = required;
      if (kind && version) schema['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
      definitions[name] = schema;
    } else if (ts.isTypeAliasDeclaration(st)) {
      const name = `${pkg}.${st.name.text}`;
      const description = jsDocText(st);
      definitions[name] = specialSchema(name, description) ?? (description ? { description } : {});
    }
  }
}

// kubernetes-types leaves out JSONSchemaProps' x-kubernetes-* fields (not valid TS names).
{
  const name = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps';
  const props = definitions[name]?.properties;
  if (props) {
    const strings = { type: 'array', items: { type: 'string' } };
    Object.assign(props, {
      'x-kubernetes-embedded-resource': { description: 'The value is a complete object with apiVersion, kind and metadata (validated as such).', type: 'boolean' },
      'x-kubernetes-int-or-string': { description: 'The value is either an integer or a string.', type: 'boolean' },
      'x-kubernetes-list-map-keys': { description: 'With x-kubernetes-list-type=map: the item fields that identify an item.', ...strings },
      'x-kubernetes-list-type': { description: 'How the list merges in server-side apply: atomic, set or map.', type: 'string' },
      'x-kubernetes-map-type': { description: 'How the object merges in server-side apply: granular or atomic.', type: 'string' },
      'x-kubernetes-preserve-unknown-fields': { description: 'Keep fields the schema does not declare instead of pruning them.', type: 'boolean' },
      'x-kubernetes-validations': {
        description: 'CEL validation rules of this schema node.',
        type: 'array',
        items: { $ref: `${REF_PREFIX}io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule` },
      },
    });
    definitions[name].properties = Object.fromEntries(Object.keys(props).sort().map((k) => [k, props[k]]));
  }
}

// kubernetes-types inlines IntOrString as `number | string`; kube names it.
definitions[INT_OR_STRING] = specialSchema(
  INT_OR_STRING,
  'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
);

const dangling = new Set();
JSON.stringify(definitions, (key, value) => {
  if (key === '$ref' && typeof value === 'string' && !definitions[value.slice(REF_PREFIX.length)]) dangling.add(value);
  return value;
});
if (dangling.size) throw new Error(`unresolved references: ${[...dangling].join(', ')}`);

const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
mkdirSync(dirname(outPath), { recursive: true });
const tmp = `${outPath}.${process.pid}.tmp`;
writeFileSync(tmp, JSON.stringify({ source, definitions: sorted }));
renameSync(tmp, outPath);
console.log(`gen-openapi: ${Object.keys(sorted).length} schemas from ${source} → ${relative(root, outPath)}`);
