/** @module Value precedence: coalescing with chart defaults, null deletion, subchart scoping, globals, -f merging, schema checks, Helm's YAML. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GoTyped } from '../template/values.js';
import { coalesceValues, mergeMaps, mergeValues, pathValue, type ValuesChart } from './coalesce.js';
import { mergeUserValues, ValuesError } from './options.js';
import { schemaReport, SchemaValidationError, validateAgainstSchema } from './schema.js';
import { parseHelmYaml, parseValuesYaml, YamlError } from './yaml.js';

const chart = (name: string, values: Record<string, unknown>, dependencies: ValuesChart[] = []): ValuesChart => ({ metadata: { name }, values, dependencies });

describe('coalesceValues', () => {
  it('puts user values over defaults, table by table', () => {
    const c = chart('top', { image: { repository: 'nginx', tag: 'stable', pullPolicy: 'IfNotPresent' }, replicas: 1, list: [1, 2] });
    const got = coalesceValues(c, { image: { tag: '1.25' }, list: [3] });
    assert.deepEqual(got, { image: { repository: 'nginx', tag: '1.25', pullPolicy: 'IfNotPresent' }, replicas: 1, list: [3] });
  });

  it('deletes a default when the user value is null, but merging keeps the null', () => {
    const c = chart('top', { a: 1, nested: { b: 2, c: 3 } });
    assert.deepEqual(coalesceValues(c, { a: null, nested: { b: null } }), { nested: { c: 3 } });
    assert.deepEqual(mergeValues(c, { a: null, nested: { b: null } }), { a: null, nested: { b: null, c: 3 } });
  });

  it('keeps a user scalar over a default table and warns', () => {
    const warnings: string[] = [];
    const got = coalesceValues(chart('top', { t: { x: 1 } }), { t: 'flat' }, (w) => warnings.push(w));
    assert.deepEqual(got, { t: 'flat' });
    const got2 = coalesceValues(chart('top', { s: 'flat' }), { s: { x: 1 } }, (w) => warnings.push(w));
    assert.deepEqual(got2, { s: { x: 1 } });
    assert.ok(warnings.some((w) => w.includes('skipped value for top.s: Not a table.')), warnings.join('\n'));
  });

  it('scopes subchart values under the subchart name and propagates globals down', () => {
    const sub = chart('db', { port: 5432, global: { region: 'eu', shared: { a: 1 } } });
    const top = chart('app', { global: { region: 'us', shared: { b: 2 } }, db: { port: 5433 } }, [sub]);
    const got = coalesceValues(top, { db: { user: 'admin' }, global: { env: 'prod' } });
    assert.deepEqual(got.db, { port: 5433, user: 'admin', global: { region: 'us', env: 'prod', shared: { a: 1, b: 2 } } });
    assert.deepEqual(got.global, { region: 'us', shared: { b: 2 }, env: 'prod' });
  });

  it('gives globals to grandchildren', () => {
    const leaf = chart('leaf', { x: 1 });
    const mid = chart('mid', {}, [leaf]);
    const top = chart('top', {}, [mid]);
    const got = coalesceValues(top, { global: { g: 'v' } });
    assert.deepEqual((got.mid as Record<string, Record<string, unknown>>).leaf.global, { g: 'v' });
  });

  it('refuses a subchart value that is not a table', () => {
    assert.throws(() => coalesceValues(chart('top', {}, [chart('db', {})]), { db: 'x' }), /type mismatch on db/);
  });

  it('does not mutate its inputs', () => {
    const defaults = { a: { b: 1 } };
    const user = { a: { c: 2 } };
    coalesceValues(chart('top', defaults), user);
    assert.deepEqual(defaults, { a: { b: 1 } });
    assert.deepEqual(user, { a: { c: 2 } });
  });

  it('finds values by dotted path', () => {
    assert.deepEqual(pathValue({ a: { b: { c: true } } }, 'a.b.c'), { found: true, value: true });
    assert.deepEqual(pathValue({ a: { b: {} } }, 'a.b'), { found: false });
    assert.deepEqual(pathValue({}, 'x.y'), { found: false });
  });
});

describe('-f and --set merging', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-values-'));
  it('merges files in order, then --set-json, --set, --set-string, --set-file', () => {
    writeFileSync(join(dir, 'a.yaml'), 'image:\n  tag: a\n  repo: r\nlist: [1]\n');
    writeFileSync(join(dir, 'b.yaml'), 'image:\n  tag: b\nlist: [2]\n');
    writeFileSync(join(dir, 'cfg.txt'), 'line1\nline2\n');
    const got = mergeUserValues({
      valueFiles: [join(dir, 'a.yaml'), join(dir, 'b.yaml')],
      jsonValues: ['obj={"k":1}'],
      values: ['image.tag=c,replicas=3'],
      stringValues: ['replicasString=3'],
      fileValues: [`config=${join(dir, 'cfg.txt')}`],
    });
    assert.deepEqual(got, {
      image: { tag: 'c', repo: 'r' },
      list: [2],
      obj: { k: 1 },
      replicas: new GoTyped('int64', 3n),
      replicasString: '3',
      config: 'line1\nline2\n',
    });
  });
  it('names the file that does not parse or exist', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'a: [1\n');
    assert.throws(() => mergeUserValues({ valueFiles: [join(dir, 'bad.yaml')] }), (e: unknown) => e instanceof ValuesError && e.message.startsWith(`failed to parse ${join(dir, 'bad.yaml')}: error converting YAML to JSON: yaml: line`));
    assert.throws(() => mergeUserValues({ valueFiles: [join(dir, 'none.yaml')] }), /open .*none\.yaml: no such file or directory/);
    assert.throws(() => mergeUserValues({ values: ['a.b'] }), /^ValuesError: failed parsing --set data: key "b" has no value$|failed parsing --set data: key "b" has no value/);
    assert.throws(() => mergeUserValues({ jsonValues: ['a={'] }), /failed parsing --set-json data a=\{/);
    rmSync(dir, { recursive: true, force: true });
  });
  it('mergeMaps replaces lists and scalars, merges tables', () => {
    assert.deepEqual(mergeMaps({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2] }, d: null }), { a: { b: 1, c: [2] }, d: null });
  });
});

describe("Helm's YAML", () => {
  it('reads YAML 1.1 scalars like go-yaml v2, numbers as float64, times as strings', () => {
    assert.deepEqual(parseHelmYaml('a: yes\nb: off\nc: 0755\nd: 12:30\ne: 2024-01-02\nf: 1.0\ng: ~\n1: one\n'), { a: true, b: false, c: 493, d: '12:30', e: '2024-01-02', f: 1, g: null, '1': 'one' });
  });
  it('reports syntax errors with the line', () => {
    assert.throws(() => parseValuesYaml('a:\n  b: 1\n c: 2\n'), (e: unknown) => e instanceof YamlError && /^error converting YAML to JSON: yaml: line \d+: /.test(e.message));
  });
  it('refuses a values document that is not a map', () => {
    assert.throws(() => parseValuesYaml('- a\n- b\n'), /cannot unmarshal array into Go value of type map\[string\]interface \{\}/);
    assert.deepEqual(parseValuesYaml(''), {});
    assert.deepEqual(parseValuesYaml('# only a comment\n'), {});
  });
});

describe('values.schema.json', () => {
  const schema = Buffer.from(
    JSON.stringify({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['image'],
      properties: {
        replicaCount: { type: 'integer', minimum: 1 },
        image: { type: 'object', properties: { pullPolicy: { enum: ['Always', 'IfNotPresent'] } }, additionalProperties: true },
      },
    }),
  );
  it('accepts valid values, including int64 from --set', () => {
    assert.equal(schemaReport({ metadata: { name: 'app' }, schema, dependencies: [] }, { replicaCount: new GoTyped('int64', 2n), image: {} }), '');
  });
  it("lists every violation per chart in Helm's words", () => {
    const sub = { metadata: { name: 'db' }, schema: Buffer.from('{"properties":{"port":{"type":"integer"}}}'), dependencies: [] };
    const top = { metadata: { name: 'app' }, schema, dependencies: [sub] };
    assert.throws(
      () => validateAgainstSchema(top, { replicaCount: 'three', db: { port: '5432' } }),
      (e: unknown) => {
        assert.ok(e instanceof SchemaValidationError);
        assert.match(e.message, /^values don't meet the specifications of the schema\(s\) in the following chart\(s\):\napp:\n/);
        assert.match(e.message, /- \(root\): image is required\n/);
        assert.match(e.message, /- replicaCount: Invalid type. Expected: integer, given: string\n/);
        assert.match(e.message, /db:\n- port: Invalid type. Expected: integer, given: string\n/);
        return true;
      },
    );
    assert.match(schemaReport(top, { replicaCount: 0, image: { pullPolicy: 'Never' }, db: {} }), /- replicaCount: Must be greater than or equal to 1\n- image.pullPolicy: image.pullPolicy must be one of the following: "Always", "IfNotPresent"\n/);
  });
});
