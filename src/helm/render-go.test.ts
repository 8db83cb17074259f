/**
 * @module Differential rendering against the real thing: Go's text/template with sprig v3
 * (Debian's golang-go and golang-github-masterminds-sprig-dev, built natively) and Helm's
 * include/tpl/toYaml render the same chart trees with the same per-template data; every
 * template's output must be identical. Skips when Go or the sprig sources are missing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildGoReference, generateChart, goInput, runGoReference } from '../../bench/helm.js';
import { loadDir } from './chart/loader.js';
import { capabilitiesValue, makeCapabilities, renderTemplates } from './engine.js';
import { prepareChart, releaseValue } from './render.js';

const work = mkdtempSync(join(tmpdir(), 'skiff-helm-go-'));
after(() => rmSync(work, { recursive: true, force: true }));
let bin: string | undefined;

function writeChart(dir: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const funcsChart: Record<string, string> = {
  'Chart.yaml': 'apiVersion: v2\nname: funcs\nversion: 0.2.0\nappVersion: "1.2.3"\ndependencies:\n  - name: cachechart\n    version: 0.1.0\n    alias: cache\n    condition: cache.enabled\n  - name: disabled\n    version: 0.1.0\n    condition: disabled.enabled\n',
  'values.yaml': [
    'replicas: 3',
    'ratio: 0.25',
    'big: 1000000',
    'name: My App',
    'tags: [b, a, c]',
    'labels: {zeta: z, alpha: a, mid: m}',
    'nested: {a: {b: {c: deep}}}',
    'empty: ""',
    'nothing: null',
    'flag: true',
    'text: |',
    '  line one',
    '  line two',
    'tplValue: "{{ .Values.name | lower | replace \\" \\" \\"-\\" }}-{{ .Release.Name }}"',
    'list: [{name: x, port: 80}, {name: y, port: 443}]',
    'cache:',
    '  enabled: true',
    '  size: 2Gi',
    'disabled:',
    '  enabled: false',
    'global:',
    '  env: prod',
    '',
  ].join('\n'),
  'templates/_helpers.tpl': '{{- define "funcs.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}\n',
  'templates/extras.yaml': [
    'a: {{ .Values.replicas }} {{ .Values.ratio }} {{ .Values.big }} {{ mul .Values.replicas 2 }} {{ div 7 2 }} {{ .Values.replicas | int64 | add 1 }}',
    'b: {{ .Values.name | quote }} {{ .Values.name | upper | trunc 3 }} {{ .Values.name | b64enc }} {{ .Values.name | sha256sum | trunc 8 }}',
    'c: {{ range $i, $t := .Values.tags }}{{ $i }}={{ $t }},{{ end }} {{ .Values.tags | sortAlpha | join "+" }}',
    'd: {{ range $k, $v := .Values.labels }}{{ $k }}:{{ $v }};{{ end }} {{ keys .Values.labels | sortAlpha | toJson }}',
    'e: {{ .Values.nested.a.b.c }} {{ dig "a" "b" "c" "none" .Values.nested }} {{ .Values.absent | default "dflt" }}',
    'f: "{{ .Values.nothing }}" "{{ .Values.absent }}" {{ empty .Values.empty }} {{ hasKey .Values "flag" }} {{ ternary "yes" "no" .Values.flag }}',
    'g: {{ tpl .Values.tplValue . }}',
    'h: {{- toYaml .Values.list | nindent 2 }}',
    'i: {{ dict "a" 1 "b" (list 1 2 3) | toJson }} {{ merge (dict "x" 1) (dict "x" 2 "y" 3) | toJson }}',
    'j: {{ printf "%s-%d-%v-%.2f" "s" 7 true 3.14159 }} {{ printf "%v" .Values.ratio }} {{ printf "%v" .Values.list }}',
    'k: {{ semverCompare ">=1.2.0" .Chart.AppVersion }} {{ until 4 | toJson }} {{ .Values.text | indent 4 | trim }}',
    'l: {{ include "funcs.fullname" . }} {{ .Template.Name }} {{ .Template.BasePath }}',
    '{{- with .Values.cache }}',
    'm: {{ .size }}',
    '{{- else }}',
    'm: none',
    '{{- end }}',
    'o: {{ .Values.text | toJson }} {{ toYaml .Values.labels | nindent 2 }}',
    'p: {{- toYaml (dict "text" .Values.text "n" 1 "s" "yes" "e" "") | nindent 2 }}',
    '',
  ].join('\n'),
  'charts/cachechart/Chart.yaml': 'apiVersion: v2\nname: cachechart\nversion: 0.1.0\n',
  'charts/cachechart/values.yaml': 'size: 1Gi\ndefaultOnly: from-sub\nglobal:\n  env: dev\n  region: eu\n',
  'charts/cachechart/templates/cm.yaml': [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: {{ .Release.Name }}-{{ .Chart.Name }}',
    'data:',
    '  size: {{ .Values.size | quote }}',
    '  env: {{ .Values.global.env | quote }}',
    '  region: {{ .Values.global.region | quote }}',
    '  enabled: {{ .Values.enabled | quote }}',
    '  default: {{ .Values.defaultOnly | quote }}',
    '  name: {{ include "funcs.fullname" . }}',
    '',
  ].join('\n'),
  'charts/disabled/Chart.yaml': 'apiVersion: v2\nname: disabled\nversion: 0.1.0\n',
  'charts/disabled/templates/cm.yaml': 'kind: ConfigMap\n',
};

/** Renders a chart directory with skiff and with Go; returns both outputs by template name. */
function both(dir: string, userValues: Record<string, unknown> = {}): { skiff: Map<string, string>; go: Record<string, string> } {
  const { chart, values } = prepareChart(loadDir(dir), userValues);
  const release = { name: 'rel', namespace: 'default' };
  const skiff = renderTemplates(chart, { Values: values, Release: releaseValue(release), Capabilities: capabilitiesValue(makeCapabilities()) });
  const go = runGoReference(bin!, goInput(chart, values, 1, release), work).output;
  return { skiff, go };
}

describe('rendering identical to Go text/template + sprig', { timeout: 600_000 }, () => {
  before(() => {
    bin = buildGoReference(work);
  });

  it('the 50-template benchmark chart with 3 subcharts', (t) => {
    if (!bin) return t.skip('golang-go and golang-github-masterminds-sprig-dev are not installed');
    const dir = join(work, 'bench');
    generateChart(dir);
    const { skiff, go } = both(dir);
    assert.equal(skiff.size, 65);
    for (const [name, content] of skiff) assert.equal(content, go[name], name);
  });

  it('functions, value types, aliased subcharts, globals and conditions', (t) => {
    if (!bin) return t.skip('golang-go and golang-github-masterminds-sprig-dev are not installed');
    const dir = writeChart(join(work, 'funcs'), funcsChart);
    const { skiff, go } = both(dir);
    assert.deepEqual([...skiff.keys()].sort(), ['funcs/charts/cache/templates/cm.yaml', 'funcs/templates/extras.yaml']);
    for (const [name, content] of skiff) assert.equal(content, go[name], name);
    const off = both(dir, { cache: { enabled: false } });
    assert.deepEqual([...off.skiff.keys()], ['funcs/templates/extras.yaml']);
    assert.equal(off.skiff.get('funcs/templates/extras.yaml'), off.go['funcs/templates/extras.yaml']);
  });
});
