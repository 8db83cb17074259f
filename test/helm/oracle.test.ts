/** @module Smoke test of the Go template oracle loader (test/helm/oracle.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { goRender, goRenderMany, oracleAvailable } from './oracle.js';

const skip = oracleAvailable() ? false : 'template oracle not built (scripts/build-template-oracle.sh)';
if (skip && process.env.CI) throw new Error('CI must build the template oracle before the tests');

describe('template oracle', { skip }, () => {
  it('renders text/template with data decoded as Helm values are', async () => {
    const r = await goRender({ templates: { t: '{{ .a }} {{ printf "%T" .a }} {{ printf "%T" .b }}' }, entry: 't', data: { a: 1, b: 2n } });
    assert.deepEqual(r, { output: '1 float64 int' });
  });

  it('reports Go errors and applies the modes', async () => {
    const [text, helm, strict, parse, sprig] = await goRenderMany([
      { templates: { t: '{{ .missing }}' }, entry: 't', data: {} },
      { templates: { t: '{{ .missing }}|{{ include "x" . | upper }}', x: '{{ define "x" }}in{{ end }}' }, entry: 't', data: {}, mode: 'helm' },
      { templates: { t: '{{ .missing }}' }, entry: 't', data: {}, mode: 'helm-strict' },
      { templates: { t: '{{ if }}' }, entry: 't', data: {} },
      { templates: { t: '{{ toYaml . }}' }, entry: 't', data: { b: [1, 'x'], a: { c: true } }, mode: 'helm' },
    ]);
    assert.deepEqual(text, { output: '<no value>' });
    assert.deepEqual(helm, { output: '|IN' });
    assert.deepEqual(strict, { error: 'template: t:1:3: executing "t" at <.missing>: map has no entry for key "missing"' });
    assert.deepEqual(parse, { error: 'template: t:1: missing value for if' });
    assert.deepEqual(sprig, { output: 'a:\n  c: true\nb:\n- 1\n- x' });
  });

  it('names the template set as asked (Helm: gotpl)', async () => {
    const r = await goRender({ templates: { a: 'x' }, entry: 'nope', data: null, mode: 'helm', root: 'gotpl' });
    assert.deepEqual(r, { error: 'template: no template "nope" associated with template "gotpl"' });
  });

  it('survives a panicking function and keeps rendering', async () => {
    const [p, ok] = await goRenderMany([
      { templates: { t: '{{ t_panic }}' }, entry: 't', data: null },
      { templates: { t: 'ok' }, entry: 't', data: null },
    ]);
    assert.match((p as { error: string }).error, /boom/);
    assert.deepEqual(ok, { output: 'ok' });
  });
});
