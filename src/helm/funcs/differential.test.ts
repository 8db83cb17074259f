/** @module Differential test of the function library against Go + sprig + Helm's functions (the oracle) over test/helm/funcs-corpus; skipped locally without the oracle, fails in CI. */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { goRenderManySync, loadOracle, oracleAvailable, repoRoot, type OracleRequest, type OracleResult } from '../../../test/helm/oracle.js';
import { TemplateSet, type GoValue } from '../template/index.js';
import { helmFuncMap } from './index.js';

interface Case {
  name: string;
  t: string;
  data?: unknown;
  /** Non-deterministic output: both sides must match this regular expression (whole output). */
  match?: string;
  /** A documented difference from Go: rendered but not compared. */
  diff?: string;
  /** Render once per generated data set (`.a`, `.b`: values of every kind). */
  gen?: boolean;
}

/** A seeded generator, so the generated values are the same on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const STRINGS = ['', 'x', 'hello world', 'ünïcødé ✓', '<a&b>', '0', 'true', 'yes', 'a: b', ' lead', 'line\nbreak\n', '%d', '1e3', '- x', 'null', "it's", 'tab\there'];
const NUMBERS = [0, 1, -1, 2.5, -0.5, 3, 1e21, 0.1, 123456789, 1e-7, 100, 1e6, 0.000001];

function genValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 1 ? 5 : 7));
  switch (k) {
    case 0:
    case 4:
      return STRINGS[Math.floor(r() * STRINGS.length)];
    case 1:
      return NUMBERS[Math.floor(r() * NUMBERS.length)];
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 5:
      return Array.from({ length: Math.floor(r() * 4) }, () => genValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 4);
      for (let i = 0; i < n; i++) o[['a', 'b', 'k10', 'k9', 'name', 'Z', 'y', '1'][Math.floor(r() * 8)]!] = genValue(r, depth + 1);
      return o;
    }
  }
}

/** Data sets with `.a` and `.b` of changing kinds, `.s` a string, `.n` a number. */
function generatedData(count: number): unknown[] {
  return Array.from({ length: count }, (_, i) => {
    const r = rng(4242 + i * 7919);
    return { a: genValue(r, 0), b: genValue(r, 0), s: STRINGS[i % STRINGS.length], n: NUMBERS[i % NUMBERS.length], l: [genValue(r, 1), genValue(r, 1)], m: { k: genValue(r, 1), j: genValue(r, 2) } };
  });
}

const GENERATED = generatedData(40);

/** The corpus with every `gen` case expanded into one case per generated data set. */
function expand(cases: Case[]): Case[] {
  return cases.flatMap((c) => (c.gen ? GENERATED.map((data, i) => ({ ...c, name: `${c.name} #${i}`, data, gen: false })) : [c]));
}

function loadCorpus(): Case[] {
  const dir = join(repoRoot(), 'test', 'helm', 'funcs-corpus');
  const cases: Case[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.yaml')) continue;
    const doc = YAML.parse(readFileSync(join(dir, f), 'utf8'), { intAsBigInt: false }) as Case[];
    for (const c of doc) cases.push({ ...c, name: `${f.replace(/\.yaml$/, '')}/${c.name}` });
  }
  return expand(cases);
}

const funcs = helmFuncMap();

function engineRender(req: OracleRequest): OracleResult {
  const set = new TemplateSet({ missingKey: 'default', funcs });
  try {
    for (const [name, text] of Object.entries(req.templates)) set.parse(name, text);
    return { output: set.execute(req.entry, (req.data ?? null) as GoValue) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function request(c: Case): OracleRequest {
  return { templates: { t: c.t }, entry: 't', data: c.data ?? null, mode: 'text', funcs: 'helm' };
}

const available = oracleAvailable();
if (!available && process.env.CI) throw new Error('CI must build the template oracle (scripts/build-template-oracle.sh) before the tests');

describe('sprig and Helm functions vs Go', { skip: available ? false : 'template oracle not built (scripts/build-template-oracle.sh)' }, () => {
  const cases = loadCorpus();
  let expected: OracleResult[] = [];

  before(async () => {
    await loadOracle();
    expected = goRenderManySync(cases.map(request));
  });

  it('renders every corpus case as Go does', () => {
    const failures: string[] = [];
    let compared = 0;
    cases.forEach((c, i) => {
      if (c.diff) return;
      compared++;
      const want = expected[i]!;
      const got = engineRender(request(c));
      if (c.match) {
        const re = new RegExp(`^(?:${c.match})$`, 's');
        const ok = (r: OracleResult) => 'output' in r && re.test(r.output);
        if (!ok(want) || !ok(got)) failures.push(`${c.name}\n  template: ${JSON.stringify(c.t)}\n  pattern: ${c.match}\n  go:     ${JSON.stringify(want)}\n  engine: ${JSON.stringify(got)}`);
        return;
      }
      try {
        assert.deepEqual(got, want);
      } catch {
        failures.push(`${c.name}\n  template: ${JSON.stringify(c.t)}\n  data: ${JSON.stringify(c.data)}\n  go:     ${JSON.stringify(want)}\n  engine: ${JSON.stringify(got)}`);
      }
    });
    assert.equal(failures.length, 0, `${failures.length}/${compared} cases differ:\n${failures.join('\n')}`);
    assert.ok(compared > 400, `only ${compared} cases compared`);
  });

  it('documented differences still differ (else the note is stale)', () => {
    cases.forEach((c, i) => {
      if (!c.diff) return;
      assert.notDeepEqual(engineRender(request(c)), expected[i], `${c.name}: documented difference "${c.diff}" no longer differs`);
    });
  });
});
