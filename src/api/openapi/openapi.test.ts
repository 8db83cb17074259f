/** @module Tests of the OpenAPI v2/v3 documents kubectl downloads. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ResourceDef } from '../types.js';
import { gnosticDocumentType } from './gnostic.js';
import { OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_DOTTED, OpenApiSchemasUnavailableError, OpenApiService, PATCH_CONTENT_TYPES, defaultSchemasPath } from './openapi.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const resources: ResourceDef[] = [
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, subresources: { status: true }, extraSubresources: ['log', 'exec', 'binding', 'eviction'] },
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, subresources: { status: true }, extraSubresources: ['finalize'] },
  {
    group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true,
    subresources: { status: true, scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas' } },
  },
  { group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', plural: 'pods', singular: '', namespaced: true, verbs: ['get', 'list'] },
];

let schemasPath = defaultSchemasPath();
let tmp: string | undefined;

before(() => {
  if (existsSync(schemasPath)) return;
  // Not built with `npm run build`: generate into a temp dir with the build script.
  tmp = mkdtempSync(join(tmpdir(), 'skiff-openapi-'));
  schemasPath = join(tmp, 'schemas.json');
  const script = fileURLToPath(new URL('../../../../scripts/gen-openapi.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--force', '--out', schemasPath], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function v3(service: OpenApiService, gv: string): Json {
  const doc = service.v3Document(gv);
  assert.ok(doc, `no document for ${gv}`);
  return JSON.parse(doc.body.toString('utf8'));
}

function refsOf(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refsOf(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsOf(v, out);
    }
  }
  return out;
}

describe('OpenApiService v3', () => {
  test('index points at each group-version with the hash of its document', () => {
    const service = new OpenApiService(resources, schemasPath);
    const index = service.v3Index();
    assert.deepEqual(Object.keys(index.paths).sort(), ['api/v1', 'apis/apps/v1', 'apis/metrics.k8s.io/v1beta1']);
    const apps = service.v3Document('apis/apps/v1')!;
    assert.equal(index.paths['apis/apps/v1'].serverRelativeURL, `/openapi/v3/apis/apps/v1?hash=${apps.hash}`);
    assert.match(apps.hash, /^[0-9A-F]{128}$/);
    assert.equal(apps.etag, `"${apps.hash}"`);
    assert.equal(service.v3Document('apis/batch/v1'), undefined);
  });

  test('Deployment schema carries its group-version-kind, descriptions and typed fields', () => {
    const doc = v3(new OpenApiService(resources, schemasPath), 'apis/apps/v1');
    const schemas = doc.components.schemas;
    const deployment = schemas['io.k8s.api.apps.v1.Deployment'];
    assert.deepEqual(deployment['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    assert.match(deployment.description, /Deployment/);
    assert.deepEqual(deployment.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    const spec = schemas['io.k8s.api.apps.v1.DeploymentSpec'];
    assert.deepEqual(spec.required, ['selector', 'template']);
    assert.deepEqual(spec.properties.replicas.type, 'integer');
    assert.equal(spec.properties.replicas.format, 'int32');
    assert.match(spec.properties.strategy.description, /deployment strategy/i);
    assert.equal(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.generation.format, 'int64');
    const intOrString = schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'];
    assert.equal(intOrString.format, 'int-or-string');
    assert.equal(intOrString['x-kubernetes-int-or-string'], true);
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Time'], {
      description: schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Time'].description, type: 'string', format: 'date-time',
    });
    assert.ok(schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'], 'Quantity reachable through PodSpec resources');
    assert.ok(schemas['io.k8s.api.core.v1.Container'].required.includes('name'));
    assert.equal(schemas['io.k8s.api.core.v1.PodSpec'].properties.containers.items.$ref, '#/components/schemas/io.k8s.api.core.v1.Container');
  });

  test('PATCH operations carry the GVK, fieldValidation and no strategic merge patch', () => {
    const doc = v3(new OpenApiService(resources, schemasPath), 'apis/apps/v1');
    const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
    const fieldValidation = item.patch.parameters.find((p: Json) => p.name === 'fieldValidation');
    assert.equal(fieldValidation?.in, 'query');
    assert.deepEqual(Object.keys(item.patch.requestBody.content), PATCH_CONTENT_TYPES);
    assert.ok(!('application/strategic-merge-patch+json' in item.patch.requestBody.content));
    for (const verb of ['get', 'put', 'delete']) assert.ok(item[verb], `${verb} on the item path`);
    const collection = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments'];
    assert.equal(collection.post['x-kubernetes-action'], 'post');
    assert.equal(collection.get.operationId, 'listAppsV1NamespacedDeployment');
    assert.ok(doc.paths['/apis/apps/v1/deployments'].get, 'list across namespaces');
    const scale = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
    assert.deepEqual(scale.patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
    assert.ok(scale.patch.parameters.some((p: Json) => p.name === 'fieldValidation'));
    assert.ok(doc.components.schemas['io.k8s.api.autoscaling.v1.Scale']);
    const status = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status'];
    assert.equal(status.patch.operationId, 'patchAppsV1NamespacedDeploymentStatus');
  });

  test('core paths: cluster-scoped namespaces, pod subresources', () => {
    const doc = v3(new OpenApiService(resources, schemasPath), 'api/v1');
    assert.ok(doc.paths['/api/v1/namespaces/{name}'].patch);
    assert.equal(doc.paths['/api/v1/namespaces/{name}'].parameters.some((p: Json) => p.name === 'namespace'), false);
    assert.equal(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction'].post['x-kubernetes-group-version-kind'].kind, 'Eviction');
    assert.equal(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec'].get['x-kubernetes-action'], 'connect');
    assert.ok(doc.components.schemas['io.k8s.api.policy.v1.Eviction']);
    assert.ok(doc.components.schemas['io.k8s.api.core.v1.Binding']);
  });

  test('every $ref resolves inside its own document', () => {
    const service = new OpenApiService(resources, schemasPath);
    for (const gv of Object.keys(service.v3Index().paths)) {
      const doc = v3(service, gv);
      const refs = refsOf(doc);
      assert.ok(refs.length > 10);
      for (const ref of refs) {
        assert.ok(ref.startsWith('#/components/schemas/'), ref);
        assert.ok(doc.components.schemas[ref.slice('#/components/schemas/'.length)], `${gv}: dangling ${ref}`);
      }
    }
  });

  test('kinds without generated types get a permissive schema with their GVK', () => {
    const doc = v3(new OpenApiService(resources, schemasPath), 'apis/metrics.k8s.io/v1beta1');
    const item = doc.paths['/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/{name}'];
    assert.ok(item.get);
    assert.equal(item.patch, undefined, 'only the declared verbs');
    const name = item.get.responses['200'].content['application/json'].schema.$ref.split('/').pop();
    const schema = doc.components.schemas[name];
    assert.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: 'metrics.k8s.io', kind: 'PodMetrics', version: 'v1beta1' }]);
    assert.equal(schema['x-kubernetes-preserve-unknown-fields'], true);
  });
});

describe('OpenApiService v2', () => {
  test('JSON uses #/definitions references that all resolve', () => {
    const doc = JSON.parse(new OpenApiService(resources, schemasPath).v2Json().toString('utf8'));
    assert.equal(doc.swagger, '2.0');
    for (const ref of refsOf(doc)) {
      assert.ok(ref.startsWith('#/definitions/'), ref);
      assert.ok(doc.definitions[ref.slice('#/definitions/'.length)], `dangling ${ref}`);
    }
    assert.deepEqual(doc.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].type, 'string');
    assert.equal(doc.definitions['io.k8s.api.apps.v1.Deployment'].properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    assert.deepEqual(patch.consumes, PATCH_CONTENT_TYPES);
    assert.equal(patch.parameters[0].in, 'body');
  });

  test('protobuf decodes to a gnostic Document with the same definitions', () => {
    const service = new OpenApiService(resources, schemasPath);
    const json = JSON.parse(service.v2Json().toString('utf8'));
    const type = gnosticDocumentType();
    const decoded = type.toObject(type.decode(service.v2Protobuf()), { defaults: false }) as Json;
    assert.equal(decoded.swagger, '2.0');
    assert.equal(decoded.definitions.additional_properties.length, Object.keys(json.definitions).length);
    const deployment = decoded.definitions.additional_properties.find((d: Json) => d.name === 'io.k8s.api.apps.v1.Deployment').value;
    const gvk = deployment.vendor_extension.find((e: Json) => e.name === 'x-kubernetes-group-version-kind');
    assert.deepEqual(JSON.parse(gvk.value.yaml), [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    const spec = decoded.definitions.additional_properties.find((d: Json) => d.name === 'io.k8s.api.apps.v1.DeploymentSpec').value;
    assert.deepEqual(spec.required, ['selector', 'template']);
    assert.deepEqual(spec.type.value, ['object']);
    const path = decoded.paths.path.find((p: Json) => p.name === '/apis/apps/v1/namespaces/{namespace}/deployments/{name}').value;
    const names = path.patch.parameters.map((p: Json) => p.parameter.non_body_parameter?.query_parameter_sub_schema?.name).filter(Boolean);
    assert.ok(names.includes('fieldValidation'));
    assert.equal(path.patch.parameters[0].parameter.body_parameter.schema._ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
    assert.ok(path.parameters.some((p: Json) => p.parameter.non_body_parameter?.path_parameter_sub_schema?.name === 'namespace'));
  });
});

describe('OpenApiService lifecycle and HTTP answers', () => {
  test('reads nothing until a document is asked for', () => {
    const service = new OpenApiService(resources, '/nonexistent/schemas.json');
    assert.throws(() => service.v3Index(), OpenApiSchemasUnavailableError);
  });

  test('hashed v3 URLs are immutable; stale hashes redirect; ETag revalidates', () => {
    const service = new OpenApiService(resources, schemasPath);
    const now = new Date('2025-01-01T00:00:00Z');
    const url = new URL(`http://x${service.v3Index().paths['apis/apps/v1'].serverRelativeURL}`);
    const ok = service.respond(url.pathname, url.searchParams, { accept: 'application/json' }, now)!;
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['Content-Type'], 'application/json');
    assert.equal(ok.headers['Cache-Control'], 'public, immutable');
    assert.equal(ok.headers.Expires, 'Thu, 01 Jan 2026 00:00:00 GMT');
    const stale = service.respond(url.pathname, new URLSearchParams('hash=ABC'), {}, now)!;
    assert.equal(stale.status, 301);
    assert.equal(stale.headers.Location, url.pathname + url.search);
    const again = service.respond(url.pathname, new URLSearchParams(), { 'if-none-match': ok.headers.ETag }, now)!;
    assert.equal(again.status, 304);
    assert.equal(service.respond('/openapi/v3/apis/nope/v1', new URLSearchParams(), {})!.status, 404);
    assert.equal(service.respond('/api/v1', new URLSearchParams(), {}), undefined);
  });

  test('/openapi/v2 negotiates protobuf or JSON', () => {
    const service = new OpenApiService(resources, schemasPath);
    const pb = service.respond('/openapi/v2', new URLSearchParams('timeout=32s'), { accept: `${OPENAPI_V2_PROTOBUF}, */*` })!;
    assert.equal(pb.headers['Content-Type'], OPENAPI_V2_PROTOBUF_DOTTED);
    assert.deepEqual(pb.body, service.v2Protobuf());
    const json = service.respond('/openapi/v2', new URLSearchParams(), { accept: 'application/json' })!;
    assert.equal(json.headers['Content-Type'], 'application/json');
    assert.equal(JSON.parse(json.body.toString()).swagger, '2.0');
    assert.equal(service.respond('/openapi/v2', new URLSearchParams(), { accept: 'application/yaml' })!.status, 406);
    assert.equal(service.respond('/openapi/v3', new URLSearchParams(), {})!.status, 200);
  });
});
