/** @module `skiff helm` chart verbs run as a user runs them: template, lint, create, package, show, dependency list. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadChart } from '../helm/chart/loader.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const skiff = join(root, 'dist', 'src', 'cli', 'main.js');
const webapp = join(root, 'test', 'helm', 'charts', 'webapp');
const work = mkdtempSync(join(tmpdir(), 'skiff-helm-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

function helm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [skiff, 'helm', ...args], { cwd: work, timeout: 60_000 }, (err, stdout, stderr) => {
      resolvePromise({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('skiff helm template', () => {
  it('prints every manifest with its # Source, values from -f and --set applied', async () => {
    writeFileSync(join(work, 'prod.yaml'), 'replicaCount: 5\nservice:\n  port: 8080\n');
    const r = await helm('template', 'web', webapp, '-n', 'shop', '-f', join(work, 'prod.yaml'), '--set', 'image.tag=2.8.1,extraEnv.MODE=fast', '--set-string', 'commonLabels.build=42');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith('---\n# Source: webapp/templates/serviceaccount.yaml\napiVersion: v1\nkind: ServiceAccount\n'), r.stdout.slice(0, 200));
    assert.match(r.stdout, /\n  replicas: 5\n/);
    assert.match(r.stdout, /image: docker\.io\/skiff\/webapp:2\.8\.1\n/);
    assert.match(r.stdout, /- name: MODE\n              value: "fast"\n/);
    assert.match(r.stdout, /    build: "42"\n/);
    assert.match(r.stdout, /kubectl --namespace shop|namespace: shop|in shop/);
    assert.match(r.stdout, /---\n# Source: webapp\/templates\/hooks\/db-migrate-job\.yaml\n/);
    assert.ok(!r.stdout.includes('CustomResourceDefinition'), 'CRDs only with --include-crds');
  });

  it('shows one template with --show-only and CRDs with --include-crds', async () => {
    const r = await helm('template', 'web', webapp, '-s', 'templates/service.yaml', '--include-crds');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('# Source:').length, 2);
    assert.match(r.stdout, /^---\n# Source: webapp\/templates\/service\.yaml\n/);
    const crds = await helm('template', webapp, '--include-crds');
    assert.match(crds.stdout, /^---\n# Source: webapp\/crds\/widgets\.example\.com\.yaml\n/);
    assert.match(crds.stdout, /name: release-name-webapp\n/, 'one argument: the release is "release-name"');
  });

  it('fails like helm with "Error: …" on stderr and exit code 1', async () => {
    const bad = await helm('template', 'web', webapp, '--set', 'replicaCount=many');
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, '');
    assert.equal(bad.stderr, "Error: values don't meet the specifications of the schema(s) in the following chart(s):\nwebapp:\n- replicaCount: Invalid type. Expected: integer, given: string\n\n");
    const missing = await helm('template', 'web', webapp, '-s', 'templates/nope.yaml');
    assert.equal(missing.stderr, 'Error: could not find template templates/nope.yaml in chart\n');
    const noChart = await helm('template', 'web', join(work, 'absent'));
    assert.match(noChart.stderr, /^Error: path ".*absent" not found\n$/);
    const badSet = await helm('template', 'web', webapp, '--set', 'a.b');
    assert.equal(badSet.stderr, 'Error: failed parsing --set data: key "b" has no value\n');
  });
});

describe('skiff helm create, lint, package, show', () => {
  it('scaffolds a chart that lints and renders clean', async () => {
    const c = await helm('create', 'mychart');
    assert.equal(c.stdout, 'Creating mychart\n');
    for (const f of ['Chart.yaml', 'values.yaml', '.helmignore', 'templates/deployment.yaml', 'templates/service.yaml', 'templates/ingress.yaml', 'templates/hpa.yaml', 'templates/serviceaccount.yaml', 'templates/_helpers.tpl', 'templates/NOTES.txt', 'templates/tests/test-connection.yaml']) {
      assert.ok(existsSync(join(work, 'mychart', f)), f);
    }
    const l = await helm('lint', 'mychart');
    assert.equal(l.code, 0, l.stdout + l.stderr);
    assert.equal(l.stdout, '==> Linting mychart\n[INFO] Chart.yaml: icon is recommended\n\n1 chart(s) linted, 0 chart(s) failed\n');
    const t = await helm('template', 'demo', 'mychart', '--set', 'ingress.enabled=true,autoscaling.enabled=true');
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /kind: Ingress/);
    assert.match(t.stdout, /kind: HorizontalPodAutoscaler/);
    assert.match(t.stdout, /image: "nginx:1\.16\.0"/);
  });

  it('reports lint errors per file and fails', async () => {
    const dir = join(work, 'broken');
    mkdirSync(join(dir, 'templates'), { recursive: true });
    writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: broken\nversion: 1.0.0\nicon: https://example.com/i.png\n');
    writeFileSync(join(dir, 'values.yaml'), 'name: Not_Valid\n');
    writeFileSync(join(dir, 'templates', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n');
    writeFileSync(join(dir, 'templates', 'bad.yaml'), 'a: {{ .Values.name\n');
    const l = await helm('lint', dir);
    assert.equal(l.code, 1);
    assert.match(l.stdout, /^==> Linting .*broken\n\[ERROR\] templates\/: parse error at \(broken\/templates\/bad\.yaml:2\): unclosed action started at broken\/templates\/bad\.yaml:1\n/);
    assert.equal(l.stderr, 'Error: 1 chart(s) linted, 1 chart(s) failed\n');
    rmSync(join(dir, 'templates', 'bad.yaml'));
    const warn = await helm('lint', dir);
    assert.equal(warn.code, 0, warn.stdout);
    assert.match(warn.stdout, /\[WARNING\] templates\/cm\.yaml: object name does not conform to Kubernetes naming requirements: "Not_Valid"/);
    const strict = await helm('lint', dir, '--strict');
    assert.equal(strict.code, 1);
  });

  it('packages NAME-VERSION.tgz that loads back, and shows chart and values', async () => {
    const p = await helm('package', webapp, '-d', join(work, 'dist'), '--version', '1.5.0');
    assert.equal(p.code, 0, p.stderr);
    const out = join(work, 'dist', 'webapp-1.5.0.tgz');
    assert.equal(p.stdout, `Successfully packaged chart and saved it to: ${out}\n`);
    const c = loadChart(out);
    assert.equal(c.metadata.version, '1.5.0');
    assert.deepEqual(c.dependencies.map((d) => d.metadata.name).sort(), ['common', 'postgresql', 'redis']);
    assert.ok(!c.files.some((f) => f.name.endsWith('.bak')), '.helmignore applies');
    const fromArchive = await helm('template', 'web', out, '-s', 'templates/deployment.yaml');
    assert.equal(fromArchive.code, 0, fromArchive.stderr);
    const chart = await helm('show', 'chart', webapp);
    assert.match(chart.stdout, /^annotations:\n  category: Web\napiVersion: v2\nappVersion: 2\.7\.0\n/);
    const values = await helm('show', 'values', webapp);
    assert.ok(values.stdout.startsWith('# Default values for webapp.\nreplicaCount: 2\n'));
    const deps = await helm('dependency', 'list', webapp);
    assert.equal(
      deps.stdout,
      'NAME      \tVERSION \tREPOSITORY                \tSTATUS\n' +
        'common    \t2.x.x   \tfile://./charts/common    \tunpacked\n' +
        'redis     \t>=17.0.0\thttps://charts.example.com\tunpacked\n' +
        'postgresql\t12.1.x  \thttps://charts.example.com\tok\n\n',
    );
  });
});
