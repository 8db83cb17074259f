/**
 * @module Differential test of the template engine against Go's text/template (the oracle,
 * test/helm/oracle.ts): every case of test/helm/corpus/*.yaml, several with generated values,
 * must render identically or fail with the same message. Without the oracle the suite is
 * skipped locally and fails in CI.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { goRenderManySync, loadOracle, oracleAvailable, type OracleResult } from '../../../test/helm/oracle.js';
import { engineRender, generatedData, generatedTemplates, loadCorpus, normalize, runs, type Case } from '../../../test/helm/template-diff.js';

const available = oracleAvailable();
if (!available && process.env.CI) throw new Error('CI must build the template oracle (scripts/build-template-oracle.sh) before the tests');

describe('template engine vs Go text/template', { skip: available ? false : 'template oracle not built (scripts/build-template-oracle.sh)' }, () => {
  const cases = [...loadCorpus(), ...generatedTemplates(300).map((t, i): Case => ({ name: `generated/${i}`, t, gen: true }))];
  const all = runs(cases.filter((c) => !c.name.startsWith('generated/')), generatedData(12)).concat(
    runs(cases.filter((c) => c.name.startsWith('generated/')), generatedData(3)),
  );
  let expected: OracleResult[] = [];

  before(async () => {
    await loadOracle();
    expected = goRenderManySync(all.map((r) => r.req));
  });

  it(`renders ${all.length} corpus cases as Go does`, () => {
    const failures: string[] = [];
    const diffs = new Map(cases.filter((c) => c.diff).map((c) => [c.name, c.diff!]));
    let compared = 0;
    all.forEach((run, i) => {
      const base = run.label.replace(/ \[.*$| #\d+$/, '');
      if (diffs.has(base)) return;
      compared++;
      const want = normalize(expected[i]!);
      const got = normalize(engineRender(run.req));
      try {
        assert.deepEqual(got, want);
      } catch {
        failures.push(`${run.label}\n  template: ${JSON.stringify(run.req.templates.t)}\n  data: ${JSON.stringify(run.req.data, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}\n  go:     ${JSON.stringify(want)}\n  engine: ${JSON.stringify(got)}`);
      }
    });
    assert.ok(compared > 300, `only ${compared} cases compared`);
    assert.equal(failures.length, 0, `${failures.length}/${compared} cases differ:\n${failures.slice(0, 12).join('\n')}`);
  });

  it('documented differences still differ (else the note is stale)', () => {
    for (const c of cases.filter((c) => c.diff)) {
      const rs = runs([{ ...c, diff: undefined }], generatedData(2));
      const want = goRenderManySync(rs.map((r) => r.req)).map(normalize);
      const got = rs.map((r) => engineRender(r.req));
      assert.notDeepEqual(got, want, `${c.name}: documented difference "${c.diff}" no longer differs`);
    }
  });
});
