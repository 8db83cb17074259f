/** @module Chart loading (directories, archives, v1/v2, .helmignore, subcharts), Chart.yaml validation and dependency processing. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { coalesceValues } from '../values/coalesce.js';
import { processDependencies } from './dependencies.js';
import { IgnoreRules } from './ignore.js';
import { archiveFiles, ChartLoadError, loadChart, loadDir, parseChartYaml } from './loader.js';
import { globMatch, goPathMatch } from './match.js';
import { ChartValidationError, satisfies } from './metadata.js';
import { chartFullPath, cloneChart, crdObjects, type Chart } from './types.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const fixtures = join(root, 'test', 'helm', 'charts');
const work = mkdtempSync(join(tmpdir(), 'skiff-chart-'));
after(() => rmSync(work, { recursive: true, force: true }));

function writeChart(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const names = (c: Chart) => c.dependencies.map((d) => d.metadata.name).sort();

describe('loadDir', () => {
  const c = loadDir(join(fixtures, 'webapp'));

  it('reads Chart.yaml, values, schema, templates, files and subcharts', () => {
    assert.equal(c.metadata.name, 'webapp');
    assert.equal(c.metadata.version, '1.4.2');
    assert.equal(c.metadata.appVersion, '2.7.0');
    assert.equal(c.metadata.apiVersion, 'v2');
    assert.equal(c.metadata.dependencies?.length, 3);
    assert.equal(c.values.replicaCount, 2);
    assert.ok(c.schema && c.schema.length > 0);
    assert.ok(c.templates.some((t) => t.name === 'templates/_helpers.tpl'));
    assert.ok(c.templates.some((t) => t.name === 'templates/tests/test-connection.yaml'));
    assert.deepEqual(names(c), ['common', 'postgresql', 'redis']);
    assert.equal(c.dependencies.find((d) => d.metadata.name === 'postgresql')?.metadata.version, '12.1.6', 'the .tgz subchart is loaded');
    assert.equal(chartFullPath(c.dependencies.find((d) => d.metadata.name === 'redis')!), 'webapp/charts/redis');
  });

  it('keeps other files for .Files and honours .helmignore', () => {
    const files = c.files.map((f) => f.name).sort();
    assert.ok(files.includes('files/app.properties'));
    assert.ok(files.includes('README.md'));
    assert.ok(files.includes('crds/widgets.example.com.yaml'));
    assert.ok(!files.includes('files/old.bak'), 'ignored by *.bak');
    assert.ok(!files.includes('values.yaml') && !files.includes('Chart.yaml'));
    assert.deepEqual(
      crdObjects(c).map((x) => x.filename),
      ['webapp/crds/widgets.example.com.yaml'],
    );
  });

  it('loads an apiVersion v1 chart with requirements.yaml', () => {
    const legacy = loadChart(join(fixtures, 'legacy'));
    assert.equal(legacy.metadata.apiVersion, 'v1');
    assert.equal(legacy.metadata.dependencies?.[0].name, 'child');
    assert.ok(legacy.files.some((f) => f.name === 'requirements.yaml'));
  });
});

describe('archives', () => {
  it('loads a .tgz chart with its top folder stripped', async () => {
    const tgz = join(work, 'postgresql.tgz');
    await tar.c({ gzip: true, file: tgz, cwd: join(fixtures, '_src') }, ['postgresql']);
    const c = loadChart(tgz);
    assert.equal(c.metadata.name, 'postgresql');
    assert.equal(c.templates.length, 3);
  });
  it('refuses files that are not gzip', () => {
    writeFileSync(join(work, 'plain.tgz'), 'not a tarball');
    assert.throws(() => loadChart(join(work, 'plain.tgz')), /does not appear to be a gzipped archive/);
  });
  it('refuses a Chart.yaml at the archive root', async () => {
    const dir = writeChart(join(work, 'flat'), { 'Chart.yaml': 'apiVersion: v2\nname: flat\nversion: 1.0.0\n' });
    const tgz = join(work, 'flat.tgz');
    await tar.c({ gzip: true, file: tgz, cwd: dir }, ['Chart.yaml']);
    assert.throws(() => archiveFiles(readFileSync(tgz)), /chart yaml not in base directory/);
  });
});

describe('Chart.yaml validation', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['no-version', 'apiVersion: v2\nname: x\n', /^validation: chart\.metadata\.version is required$/],
    ['no-name', 'apiVersion: v2\nversion: 1.0.0\n', /^validation: chart\.metadata\.name is required$/],
    ['bad-version', 'apiVersion: v2\nname: x\nversion: one\n', /^validation: chart\.metadata\.version "one" is invalid$/],
    ['bad-type', 'apiVersion: v2\nname: x\nversion: 1.0.0\ntype: plugin\n', /chart\.metadata\.type must be application or library/],
    ['dup-dep', 'apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n- name: a\n- name: b\n  alias: a\n', /more than one dependency with name or alias "a"/],
  ];
  for (const [name, yaml, re] of cases) {
    it(`refuses ${name}`, () => {
      const dir = writeChart(join(work, name), { 'Chart.yaml': yaml });
      assert.throws(() => loadDir(dir), (e: unknown) => e instanceof ChartValidationError && re.test(e.message));
    });
  }
  it('names the file with a YAML error', () => {
    const dir = writeChart(join(work, 'bad-values'), { 'Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\n', 'values.yaml': 'a: [1\n' });
    assert.throws(() => loadDir(dir), (e: unknown) => e instanceof ChartLoadError && /^cannot load values\.yaml: error converting YAML to JSON: yaml: /.test(e.message));
  });
  it('reports a missing Chart.yaml', () => {
    const dir = writeChart(join(work, 'no-chart'), { 'values.yaml': 'a: 1\n' });
    assert.throws(() => loadChart(dir), /Chart\.yaml file is missing/);
  });
  it('keeps Chart.yaml scalars as text, as a Go string field receives them', () => {
    const md = parseChartYaml('apiVersion: v2\nname: x\nversion: 1.10\nappVersion: 1.0\ndeprecated: true\n');
    assert.equal(md.version, '1.10');
    assert.equal(md.appVersion, '1.0');
    assert.equal(md.deprecated, true);
  });
  it('names a subchart that fails to load', () => {
    const dir = writeChart(join(work, 'bad-sub'), {
      'Chart.yaml': 'apiVersion: v2\nname: top\nversion: 1.0.0\n',
      'charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\n',
      'charts/_skipped/Chart.yaml': 'not: a chart',
    });
    assert.throws(() => loadDir(dir), /^ChartLoadError: error unpacking sub in top: validation: chart\.metadata\.version is required$|error unpacking sub in top: validation: chart\.metadata\.version is required/);
  });
});

describe('.helmignore and patterns', () => {
  it('matches like pkg/ignore', () => {
    const r = IgnoreRules.parse('*.bak\n/root-only.txt\ndocs/\nsub/*.md\n# comment\n');
    assert.equal(r.ignore('a/b/c.bak', false), true);
    assert.equal(r.ignore('root-only.txt', false), true);
    assert.equal(r.ignore('x/root-only.txt', false), false);
    assert.equal(r.ignore('docs', true), true);
    assert.equal(r.ignore('docs', false), false);
    assert.equal(r.ignore('sub/readme.md', false), true);
    assert.equal(r.ignore('templates/.hidden.yaml', false), true, 'dotfiles in templates/ are always ignored');
    assert.throws(() => IgnoreRules.parse('**/x'), /double-star/);
  });
  it('implements filepath.Match and gobwas/glob', () => {
    assert.equal(goPathMatch('templates/*.yaml', 'templates/a.yaml'), true);
    assert.equal(goPathMatch('templates/*.yaml', 'templates/x/a.yaml'), false);
    assert.equal(goPathMatch('[a-c]?.txt', 'b1.txt'), true);
    assert.equal(globMatch('files/**', 'files/a/b.txt'), true);
    assert.equal(globMatch('files/*', 'files/a/b.txt'), false);
    assert.equal(globMatch('files/*.{conf,properties}', 'files/app.properties'), true);
  });
  it('checks semver constraints like Masterminds/semver', () => {
    assert.equal(satisfies('12.1.6', '12.1.x'), true);
    assert.equal(satisfies('12.2.0', '12.1.x'), false);
    assert.equal(satisfies('17.3.7', '>=17.0.0'), true);
    assert.equal(satisfies('v1.32.0', '>=1.20.0-0'), true);
    assert.equal(satisfies('v1.19.0', '>=1.20.0-0'), false);
  });
});

describe('dependencies', () => {
  const base = loadDir(join(fixtures, 'webapp'));
  const processed = (values: Record<string, unknown>) => {
    const c = cloneChart(base);
    processDependencies(c, values);
    return c;
  };

  it('prunes by condition and tags; the condition wins over tags', () => {
    assert.deepEqual(names(processed({})), ['common', 'redis'], 'db: tag backend=false; redis.enabled=true');
    assert.deepEqual(names(processed({ redis: { enabled: false } })), ['common']);
    assert.deepEqual(names(processed({ tags: { backend: true } })), ['common', 'db', 'redis'], 'alias renames postgresql to db');
    assert.deepEqual(names(processed({ tags: { backend: true }, db: { enabled: false } })), ['common', 'redis']);
    assert.deepEqual(names(processed({ db: { enabled: true } })), ['common', 'db', 'redis']);
  });

  it('imports child values into the parent (child/parent and exports forms), below the parent values', () => {
    const c = processed({ db: { enabled: true } });
    assert.deepEqual(c.values.dbService, { type: 'ClusterIP', port: 5432 });
    assert.equal(c.values.dbName, 'app');
    const values = coalesceValues(c, { db: { enabled: true } });
    assert.equal((values.db as Record<string, unknown>).enabled, true);
    assert.equal(((values.db as Record<string, Record<string, unknown>>).global).storageClass, 'standard', 'globals reach the aliased subchart');
  });

  it('does not change the loaded chart', () => {
    processed({ db: { enabled: true } });
    assert.deepEqual(names(base), ['common', 'postgresql', 'redis']);
    assert.equal(base.values.dbService, undefined);
  });

  it('uses requirements.yaml conditions of v1 charts (first path holding a bool wins)', () => {
    const legacy = loadDir(join(fixtures, 'legacy'));
    const off = cloneChart(legacy);
    processDependencies(off, { child: { enabled: false } });
    assert.deepEqual(names(off), []);
    const on = cloneChart(legacy);
    processDependencies(on, { child: { enabled: 'yes' }, global: { childEnabled: true } });
    assert.deepEqual(names(on), ['child']);
  });
});
