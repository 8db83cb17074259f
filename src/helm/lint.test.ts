/** @module helm lint rules, the create scaffold and packaging, in process. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadChart } from './chart/loader.js';
import { createChart, scaffoldFiles } from './create.js';
import { formatLintMessage, lintChart } from './lint.js';
import { marshalMetadata, packageChart } from './package.js';
import { renderChart } from './render.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'skiff-lint-'));
after(() => rmSync(work, { recursive: true, force: true }));

function chartDir(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const lines = async (dir: string, values = {}) => (await lintChart(dir, { values })).messages.map(formatLintMessage);

describe('helm lint rules', () => {
  it('checks Chart.yaml fields', async () => {
    const dir = chartDir('chartfile', { 'Chart.yaml': 'apiVersion: v3\nname: x\nversion: 1.0\nappVersion: 2\nmaintainers:\n  - email: a@b.c\nsources:\n  - not a url\n', 'values.yaml': '' });
    const got = await lines(dir);
    assert.ok(got.includes('[ERROR] Chart.yaml: apiVersion \'v3\' is not valid. The value must be either "v1" or "v2"'), got.join('\n'));
    assert.ok(got.includes("[ERROR] Chart.yaml: version should be of type string but it's of type float64") || got.includes("[ERROR] Chart.yaml: version should be of type string but it's of type int"), got.join('\n'));
    assert.ok(got.includes("[ERROR] Chart.yaml: appVersion should be of type string but it's of type int"), got.join('\n'));
    assert.ok(got.includes('[ERROR] Chart.yaml: each maintainer requires a name'));
    assert.ok(got.includes("[ERROR] Chart.yaml: invalid source URL 'not a url'"));
    assert.ok(got.includes('[INFO] Chart.yaml: icon is recommended'));
  });

  it('checks values against the schema, with overrides', async () => {
    const dir = chartDir('schema', {
      'Chart.yaml': 'apiVersion: v2\nname: schema\nversion: 1.0.0\nicon: https://example.com/i.png\n',
      'values.yaml': 'port: 80\n',
      'values.schema.json': '{"properties":{"port":{"type":"integer"}}}',
    });
    assert.deepEqual(await lines(dir), []);
    assert.deepEqual(await lines(dir, { port: 'eighty' }), ['[ERROR] values.yaml: - port: Invalid type. Expected: integer, given: string']);
  });

  it('checks rendered templates: extension, YAML, names, selectors; required passes in lint mode', async () => {
    const dir = chartDir('tmpl', {
      'Chart.yaml': 'apiVersion: v2\nname: tmpl\nversion: 1.0.0\nicon: https://example.com/i.png\n',
      'values.yaml': 'name: Bad_Name\n',
      'templates/notes.md': 'x',
      'templates/deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  replicas: 1\n',
      'templates/req.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  url: "{{ required "url is required" .Values.url }}"\n',
      'templates/broken.yaml': 'a: b\n  c: d: e\n',
    });
    const got = await lines(dir);
    assert.ok(got.includes("[ERROR] templates/notes.md: file extension '.md' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt"), got.join('\n'));
    assert.ok(got.some((l) => l.startsWith('[ERROR] templates/broken.yaml: unable to parse YAML: error converting YAML to JSON: yaml: ')), got.join('\n'));
    assert.ok(got.some((l) => l.startsWith('[WARNING] templates/deploy.yaml: object name does not conform to Kubernetes naming requirements: "Bad_Name"')), got.join('\n'));
    assert.ok(got.includes('[ERROR] templates/deploy.yaml: a Deployment must contain matchLabels or matchExpressions, and "Bad_Name" does not'), got.join('\n'));
    assert.ok(!got.some((l) => l.includes('url is required')), 'required does not fail in lint mode');
  });

  it('reports dependencies missing from charts/', async () => {
    const dir = chartDir('deps', { 'Chart.yaml': 'apiVersion: v2\nname: deps\nversion: 1.0.0\nicon: https://example.com/i.png\ndependencies:\n  - name: redis\n    version: 1.x\n', 'values.yaml': '' });
    assert.deepEqual(await lines(dir), [`[WARNING] ${dir}: chart directory is missing these dependencies: redis`]);
  });
});

describe('helm create and package', () => {
  it('scaffolds the files helm create writes, rendering with every option on', async () => {
    assert.deepEqual(Object.keys(scaffoldFiles('x')).sort(), [
      '.helmignore',
      'Chart.yaml',
      'templates/NOTES.txt',
      'templates/_helpers.tpl',
      'templates/deployment.yaml',
      'templates/hpa.yaml',
      'templates/ingress.yaml',
      'templates/service.yaml',
      'templates/serviceaccount.yaml',
      'templates/tests/test-connection.yaml',
      'values.yaml',
    ]);
    const dir = createChart(join(work, 'scaffold'));
    const r = await renderChart({
      chart: loadChart(dir),
      values: { ingress: { enabled: true, tls: [{ secretName: 's', hosts: ['h'] }] }, autoscaling: { enabled: true, targetMemoryUtilizationPercentage: 70 }, service: { type: 'NodePort' } },
      release: { name: 'demo', namespace: 'default' },
    });
    assert.deepEqual(r.manifests.map((m) => m.kind), ['ServiceAccount', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'Ingress']);
    assert.equal(r.notes, '1. Get the application URL by running these commands:\n  https://chart-example.local/\n', 'the ingress wins over the service type');
    assert.deepEqual((await lintChart(dir)).messages.map(formatLintMessage), ['[INFO] Chart.yaml: icon is recommended']);
  });

  it('writes Chart.yaml as Helm marshals metadata (sorted keys, empty fields dropped)', () => {
    assert.equal(marshalMetadata({ name: 'a', version: '1.0.0', apiVersion: 'v2', description: '', appVersion: '1.0', deprecated: false }), 'apiVersion: v2\nappVersion: "1.0"\nname: a\nversion: 1.0.0\n');
  });

  it('packages with --version and --app-version', async () => {
    const out = await packageChart(join(root, 'test', 'helm', 'charts', 'legacy'), { destination: join(work, 'pkg'), version: '0.4.0', appVersion: '9' });
    assert.equal(out, join(work, 'pkg', 'legacy-0.4.0.tgz'));
    const c = loadChart(out);
    assert.equal(c.metadata.version, '0.4.0');
    assert.equal(c.metadata.appVersion, '9');
    assert.equal(c.metadata.dependencies?.[0].name, 'child', 'requirements.yaml kept for a v1 chart');
    await assert.rejects(packageChart(join(root, 'test', 'helm', 'charts', 'legacy'), { destination: join(work, 'pkg'), version: 'x.y' }), /Invalid Semantic Version/);
  });
});
