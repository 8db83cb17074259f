/**
 * @module Rendering charts shaped like the widely used public ones: deep helpers, a library
 * chart, folder and .tgz subcharts with alias/condition/tags/import-values, range over maps,
 * tpl, required, fail, lookup against a cluster, .Files, .Capabilities, hooks and ordering,
 * and Helm's error messages.
 */
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import type { Client, Gvr } from '../client/client.js';
import { loadChart, loadFiles } from './chart/loader.js';
import type { Chart } from './chart/types.js';
import { makeCapabilities, RenderError } from './engine.js';
import { renderChart, templateOutput, type RenderChartResult } from './render.js';
import { SchemaValidationError } from './values/schema.js';
import { GoTyped } from './template/values.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixtures = join(root, 'test', 'helm', 'charts');
const release = { name: 'rel', namespace: 'prod' };

function chartOf(files: Record<string, string>): Chart {
  return loadFiles(Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text) })));
}

const basic = (templates: Record<string, string>, values = '', extra: Record<string, string> = {}) =>
  chartOf({ 'Chart.yaml': 'apiVersion: v2\nname: mychart\nversion: 0.1.0\nappVersion: "1.0"\n', 'values.yaml': values, ...templates, ...extra });

function doc(r: RenderChartResult, kind: string, nameIncludes = ''): Record<string, any> {
  const m = r.manifests.find((x) => x.kind === kind && x.name.includes(nameIncludes));
  assert.ok(m, `no ${kind} from ${nameIncludes}: ${r.manifests.map((x) => `${x.kind}:${x.name}`).join(', ')}`);
  return YAML.parse(m.content);
}

describe('the webapp chart (deep helpers, library chart, subcharts)', async () => {
  const chart = loadChart(join(fixtures, 'webapp'));
  const r = await renderChart({ chart, values: {}, release });

  it('renders manifests in Helm install order, skipping disabled subcharts and library templates', () => {
    assert.deepEqual(
      r.manifests.map((m) => `${m.kind} ${m.name}`),
      [
        'ServiceAccount webapp/templates/serviceaccount.yaml',
        'Secret webapp/templates/secret.yaml',
        'ConfigMap webapp/templates/configmap.yaml',
        'ConfigMap webapp/templates/configmap.yaml',
        'Service webapp/charts/redis/templates/master-service.yaml',
        'Service webapp/templates/service.yaml',
        'Deployment webapp/templates/deployment.yaml',
        'StatefulSet webapp/charts/redis/templates/master-statefulset.yaml',
      ],
    );
  });

  it('expands nested helpers, tpl values, maps in key order and the library image helper', () => {
    const d = doc(r, 'Deployment');
    assert.equal(d.metadata.name, 'rel-webapp');
    assert.equal(d.spec.replicas, 2);
    assert.deepEqual(d.metadata.labels, {
      'helm.sh/chart': 'webapp-1.4.2',
      'app.kubernetes.io/name': 'webapp',
      'app.kubernetes.io/instance': 'rel',
      'app.kubernetes.io/version': '2.7.0',
      'app.kubernetes.io/managed-by': 'Helm',
      team: 'platform',
    });
    const c = d.spec.template.spec.containers[0];
    assert.equal(c.image, 'docker.io/skiff/webapp:2.7.0');
    assert.deepEqual(
      c.env.map((e: { name: string; value: string }) => [e.name, e.value]),
      [
        ['CACHE_TTL', '300'],
        ['FEATURE_X', 'true'],
        ['LOG_LEVEL', 'info'],
        ['GREETING', 'Hello from rel in prod'],
        ['REDIS_HOST', 'rel-redis-master'],
      ],
    );
    assert.match(d.spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
    assert.deepEqual(c.resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  });

  it("lets the parent's define win over a subchart's definition of the same name", () => {
    assert.equal(doc(r, 'Service', 'templates/service.yaml').spec.selector['app.kubernetes.io/name'], 'webapp');
  });

  it('scopes subchart values, globals, .Chart and .Template', () => {
    const sts = doc(r, 'StatefulSet', 'redis');
    assert.equal(sts.metadata.name, 'rel-redis-master');
    assert.equal(sts.metadata.labels.architecture, 'standalone', 'parent value under the subchart name wins');
    assert.equal(sts.spec.volumeClaimTemplates[0].spec.storageClassName, 'standard', 'parent global wins over subchart global');
    assert.equal(sts.spec.template.spec.containers[0].image, 'redis:7.0.5');
    const svc = doc(r, 'Service', 'redis');
    assert.equal(svc.metadata.annotations['parent-chart'], 'subchart');
    assert.equal(svc.metadata.annotations.template, 'webapp/charts/redis/templates/master-service.yaml');
  });

  it('serves .Files (Get, Lines, Glob.AsConfig) without ignored files', () => {
    const cm = doc(r, 'ConfigMap', 'configmap');
    assert.equal(cm.data['app.properties'], 'server.port=8000\nserver.threads=4\n');
    assert.equal(cm.data['first-line'], '[logging]');
    assert.equal(cm.data.greeting, 'Hello from rel in prod');
    assert.equal(cm.data['settings.yaml'], "port: '8000'\n");
    const files = YAML.parse(r.manifests.filter((m) => m.kind === 'ConfigMap')[1].content);
    assert.deepEqual(Object.keys(files.data).sort(), ['app.properties', 'logging.conf']);
    assert.match(files.data['logging.conf'], /^\[logging\]\nlevel=info\n?$/);
  });

  it('separates hooks with events, weights and delete policies, and the top NOTES.txt', () => {
    assert.deepEqual(
      r.hooks.map((h) => [h.kind, h.path, h.events, h.weight ?? 0, h.delete_policies ?? []]),
      [
        ['Pod', 'webapp/templates/tests/test-connection.yaml', ['test'], 0, []],
        ['Job', 'webapp/templates/hooks/db-migrate-job.yaml', ['pre-install', 'pre-upgrade'], -5, ['before-hook-creation', 'hook-succeeded']],
      ],
    );
    assert.match(r.hooks[1].manifest ?? '', /"--revision", "1"/);
    assert.equal(r.notes, '1. webapp 1.4.2 is installed as rel (revision 1).\n   kubectl --namespace prod port-forward svc/rel-webapp 8080:80\n');
    assert.equal(r.crds[0].name, 'webapp/crds/widgets.example.com.yaml');
  });

  it('enables the aliased .tgz subchart by tag, imports its values and renders it under the alias', async () => {
    const r2 = await renderChart({ chart, values: { tags: { backend: true } }, release });
    const pg = doc(r2, 'StatefulSet', 'charts/db/');
    assert.equal(pg.metadata.name, 'rel-db', '.Chart.Name is the alias');
    assert.equal(pg.spec.template.spec.containers[0].image, 'postgres:15.1.0');
    const env = doc(r2, 'Deployment').spec.template.spec.containers[0].env;
    assert.deepEqual(env.find((e: { name: string }) => e.name === 'DATABASE_PORT'), { name: 'DATABASE_PORT', value: '5432' });
    assert.equal(r2.values.dbName, 'app', 'exports.defaults imported at the root');
  });

  it('renders the subchart notes with --render-subchart-notes', async () => {
    const r3 = await renderChart({ chart, values: {}, release, subNotes: true });
    assert.match(r3.notes ?? '', /Redis is reachable at rel-redis-master:6379\./);
  });

  it('prints like helm template, with --show-only and --include-crds', () => {
    const text = templateOutput(r, { includeCrds: true });
    assert.ok(text.startsWith('---\n# Source: webapp/crds/widgets.example.com.yaml\napiVersion: apiextensions.k8s.io/v1\n'));
    assert.ok(text.includes('\n---\n# Source: webapp/templates/tests/test-connection.yaml\n'));
    const only = templateOutput(r, { showOnly: ['templates/service.yaml'] });
    assert.equal(only.split('---\n').length, 2);
    assert.ok(only.startsWith('---\n# Source: webapp/templates/service.yaml\n'));
    assert.throws(() => templateOutput(r, { showOnly: ['templates/nope.yaml'] }), /could not find template templates\/nope.yaml in chart/);
    assert.ok(!templateOutput(r, { skipTests: true }).includes('test-connection'));
  });

  it('checks values against the schema', async () => {
    await assert.rejects(
      renderChart({ chart, values: { replicaCount: 'two', service: { type: 'Weird' } }, release }),
      (e: unknown) => e instanceof SchemaValidationError && /^values don't meet the specifications of the schema\(s\) in the following chart\(s\):\nwebapp:\n- replicaCount: Invalid type. Expected: integer, given: string\n- service.type: service.type must be one of the following: "ClusterIP", "NodePort", "LoadBalancer"\n$/.test(e.message),
    );
  });

  it("refuses a cluster outside the chart's kubeVersion", async () => {
    await assert.rejects(renderChart({ chart, release, capabilities: makeCapabilities({ kubeVersion: 'v1.19.3' }) }), /chart requires kubeVersion: >=1.20.0-0 which is incompatible with Kubernetes v1.19.3/);
  });
});

describe('template semantics Helm adds', () => {
  it('types --set integers as int64 and YAML numbers as float64', async () => {
    const c = basic({ 'templates/cm.yaml': 'a: {{ .Values.n }} {{ typeOf .Values.n }}\nb: {{ .Values.f }} {{ typeOf .Values.f }}\nc: {{ .Values.big }}\n' }, 'f: 3\nbig: 1000000\n');
    const r = await renderChart({ chart: c, values: { n: new GoTyped('int64', 3n) }, release });
    assert.equal(r.files.get('mychart/templates/cm.yaml'), 'a: 3 int64\nb: 3 float64\nc: 1e+06\n');
  });

  it('removes "<no value>" and fails on missing keys only in strict mode', async () => {
    const c = basic({ 'templates/cm.yaml': 'a: "{{ .Values.missing }}"\nb: "{{ .Values.nested.deeper }}"\n' }, 'nested: {}\n');
    const r = await renderChart({ chart: c, release });
    assert.equal(r.files.get('mychart/templates/cm.yaml'), 'a: ""\nb: ""\n');
    await assert.rejects(renderChart({ chart: c, release, strict: true }), /template: mychart\/templates\/cm\.yaml:1:14: executing "mychart\/templates\/cm\.yaml" at <\.Values\.missing>: map has no entry for key "missing"/);
  });

  it('reports required and fail as "execution error at (file:line:col)"', async () => {
    const c = basic({ 'templates/a.yaml': 'x: 1\ny: {{ required "database.url is required" .Values.database.url }}\n' }, 'database: {}\n');
    await assert.rejects(renderChart({ chart: c, release }), (e: unknown) => e instanceof RenderError && e.message === 'execution error at (mychart/templates/a.yaml:2:6): database.url is required');
    const f = basic({ 'templates/_h.tpl': '{{ define "check" }}{{ fail "unsupported mode" }}{{ end }}', 'templates/b.yaml': '{{ include "check" . }}' });
    await assert.rejects(renderChart({ chart: f, release }), (e: unknown) => e instanceof RenderError && e.message === 'execution error at (mychart/templates/b.yaml:1:3): unsupported mode');
    const lint = await renderChart({ chart: c, release, lintMode: true });
    assert.equal(lint.files.get('mychart/templates/a.yaml'), 'x: 1\ny: \n');
  });

  it("reports parse errors as Helm's cleanupParseError does", async () => {
    const c = basic({ 'templates/a.yaml': 'ok\n{{ if }}\n' });
    await assert.rejects(renderChart({ chart: c, release }), (e: unknown) => e instanceof RenderError && /^parse error at \(mychart\/templates\/a\.yaml:2\): missing value for if$/.test(e.message));
    const d = basic({ 'templates/a.yaml': '{{ nosuchfunc 1 }}' });
    await assert.rejects(renderChart({ chart: d, release }), /^RenderError: parse error at \(mychart\/templates\/a\.yaml:1\): function "nosuchfunc" not defined$|parse error at \(mychart\/templates\/a\.yaml:1\): function "nosuchfunc" not defined/);
  });

  it("stops recursive includes at Helm's limit", async () => {
    const c = basic({ 'templates/_loop.tpl': '{{ define "loop" }}{{ include "loop" . }}{{ end }}', 'templates/a.yaml': '{{ include "loop" . }}' });
    await assert.rejects(renderChart({ chart: c, release }), /rendering template has a nested reference name: loop: unable to execute template/);
  });

  it('gives tpl the template set, so includes and defines work inside it', async () => {
    const c = basic(
      { 'templates/_h.tpl': '{{ define "who" }}{{ .Release.Name }}{{ end }}', 'templates/a.yaml': 'a: {{ tpl .Values.t . }}\nb: {{ tpl "{{ define \\"x\\" }}X{{ end }}{{ include \\"x\\" . }}" . }}\n' },
      't: "{{ include \\"who\\" . }}-{{ .Values.suffix }}"\nsuffix: s\n',
    );
    const r = await renderChart({ chart: c, release });
    assert.equal(r.files.get('mychart/templates/a.yaml'), 'a: rel-s\nb: X\n');
    const bad = basic({ 'templates/a.yaml': '{{ tpl "{{ .Values.x.y }}" . }}' }, 'x: 1\n');
    await assert.rejects(renderChart({ chart: bad, release }), /error calling tpl: error during tpl function execution for "\{\{ \.Values\.x\.y \}\}": template: gotpl:1:11: executing "gotpl" at <\.Values\.x\.y>: can't evaluate field y in type float64|error during tpl function execution/);
  });

  it('exposes .Capabilities, .Release and .Chart as Helm does', async () => {
    const c = basic({
      'templates/a.yaml': [
        'kube: {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.KubeVersion.GitVersion }}',
        'has: {{ .Capabilities.APIVersions.Has "apps/v1" }} {{ .Capabilities.APIVersions.Has "example.com/v1" }}',
        'rel: {{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Revision }} {{ .Release.IsInstall }} {{ .Release.IsUpgrade }} {{ .Release.Service }}',
        'chart: {{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.APIVersion }} {{ .Chart.IsRoot }}',
        'helm: {{ .Capabilities.HelmVersion.Version }}',
        'tmpl: {{ .Template.Name }} {{ .Template.BasePath }}',
        '',
      ].join('\n'),
    });
    const r = await renderChart({ chart: c, release: { ...release, revision: 4, isUpgrade: true }, capabilities: makeCapabilities({ kubeVersion: '1.29', apiVersions: ['example.com/v1'] }) });
    assert.equal(
      r.files.get('mychart/templates/a.yaml'),
      'kube: v1.29.0 29 v1.29.0\nhas: true true\nrel: rel prod 4 false true Helm\nchart: mychart 0.1.0 1.0 v2 true\nhelm: v3.16.0\ntmpl: mychart/templates/a.yaml mychart/templates\n',
    );
    await assert.rejects(renderChart({ chart: basic({ 'templates/a.yaml': '{{ .Chart.Nope }}' }), release }), /can't evaluate field Nope in type/);
  });

  it('serves .Files.GetBytes, AsSecrets and Glob patterns', async () => {
    const c = basic({ 'templates/a.yaml': 'bytes: {{ .Files.GetBytes "conf/a.txt" | len }}\n{{ (.Files.Glob "conf/**.txt").AsSecrets }}\nnone: "{{ .Files.Get "missing" }}"\n' }, '', { 'conf/a.txt': 'hello', 'conf/sub/b.txt': 'world', 'conf/c.md': 'no' });
    const r = await renderChart({ chart: c, release });
    assert.equal(r.files.get('mychart/templates/a.yaml'), 'bytes: 5\na.txt: aGVsbG8=\nb.txt: d29ybGQ=\nnone: ""\n');
  });

  it('splits documents, drops empty ones and sorts unknown kinds last', async () => {
    const c = basic({ 'templates/a.yaml': '---\n# just a comment\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n---\n\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n' });
    const r = await renderChart({ chart: c, release });
    assert.deepEqual(r.manifests.map((m) => m.kind), ['Namespace', 'Widget']);
    const bad = basic({ 'templates/a.yaml': 'a: [1\n' });
    await assert.rejects(renderChart({ chart: bad, release }), (e: unknown) => e instanceof RenderError && e.invalidYaml && /^YAML parse error on mychart\/templates\/a\.yaml/.test(e.message));
  });
});

/** A Client that answers get/list from a fixed set of objects. */
function fakeClient(objects: KObject[]): { client: Client; calls: string[] } {
  const calls: string[] = [];
  const match = (r: Gvr, o: KObject) => o.kind?.toLowerCase() + 's' === r.resource;
  const client = {
    async get(r: Gvr, ns: string | undefined, name: string) {
      calls.push(`get ${r.resource} ${ns ?? ''} ${name}`);
      const o = objects.find((x) => match(r, x) && x.metadata?.name === name && (ns === undefined || x.metadata?.namespace === ns));
      if (!o) throw new ApiError(404, 'NotFound', `${r.resource} "${name}" not found`);
      return structuredClone(o);
    },
    async list(r: Gvr, ns: string | undefined) {
      calls.push(`list ${r.resource} ${ns ?? ''}`);
      return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '7' }, items: objects.filter((x) => match(r, x) && (ns === undefined || x.metadata?.namespace === ns)) } as KObject;
    },
  } as unknown as Client;
  return { client, calls };
}

describe('lookup', () => {
  const secret: KObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'rel-webapp-db', namespace: 'prod' }, data: { password: 'c2VjcmV0' } };
  const cms: KObject[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: 'prod' }, data: { k: 'v' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'two', namespace: 'prod' } },
  ];

  it('keeps a generated secret from the cluster (the public-chart pattern)', async () => {
    const { client, calls } = fakeClient([secret]);
    const r = await renderChart({ chart: loadChart(join(fixtures, 'webapp')), release, client });
    assert.equal(doc(r, 'Secret').data.password, 'c2VjcmV0');
    assert.deepEqual(calls, ['get secrets prod rel-webapp-db']);
  });

  it('returns {} for missing objects and without a cluster, lists with a name of ""', async () => {
    const c = basic({
      'templates/a.yaml': [
        '{{- $none := lookup "v1" "ConfigMap" "prod" "absent" }}',
        'absent: {{ empty $none }}',
        '{{- $list := lookup "v1" "ConfigMap" "prod" "" }}',
        'count: {{ len $list.items }}',
        'names: {{ range $list.items }}{{ .metadata.name }} {{ end }}',
        'rv: {{ $list.metadata.resourceVersion }}',
        '',
      ].join('\n'),
    });
    const { client } = fakeClient(cms);
    const r = await renderChart({ chart: c, release, client });
    assert.equal(r.files.get('mychart/templates/a.yaml'), '\nabsent: true\ncount: 2\nnames: one two \nrv: 7\n');
    // Offline (helm template) lookup returns an empty map: .items is nil, as in Helm.
    await assert.rejects(renderChart({ chart: c, release }), /at <len \$list\.items>: error calling len: len of nil pointer/);
  });

  it('decodes whole numbers of cluster objects as int64', async () => {
    const dep: KObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'prod' }, spec: { replicas: 3 } };
    const c = basic({ 'templates/a.yaml': '{{ $d := lookup "apps/v1" "Deployment" "prod" "d" }}r: {{ $d.spec.replicas }} {{ typeOf $d.spec.replicas }}\n' });
    const r = await renderChart({ chart: c, release, client: fakeClient([dep]).client });
    assert.equal(r.files.get('mychart/templates/a.yaml'), 'r: 3 int64\n');
  });

  it('fails for a kind the cluster does not serve', async () => {
    const c = basic({ 'templates/a.yaml': '{{ lookup "example.com/v1" "Widget" "" "w" }}' });
    await assert.rejects(renderChart({ chart: c, release, client: fakeClient([]).client }), /error calling lookup: unable to get apiresource from unstructured: example.com\/v1, Kind=Widget/);
  });
});
