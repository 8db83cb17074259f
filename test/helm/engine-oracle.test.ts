/**
 * @module Differential test of the whole Helm rendering path (engine.ts renderTemplates: the
 * template engine, sprig and Helm's include/tpl/required) against the oracle's Helm mode (Go
 * text/template + sprig + Helm's functions), on chart-shaped templates: helpers with deep
 * includes, labels, range over maps, tpl, toYaml/nindent, required, with/else, defaults.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { loadFiles } from '../../src/helm/chart/loader.js';
import { capabilitiesValue, defaultKubeVersion, helmVersion, makeCapabilities, renderTemplates } from '../../src/helm/engine.js';
import type { GoObject } from '../../src/helm/template/index.js';
import { goRenderManySync, loadOracle, oracleAvailable, type OracleRequest } from './oracle.js';

const helpers = `{{/* Expand the name of the chart. */}}
{{- define "app.name" -}}
{{- default "app" .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "app.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "app" .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "app.selectorLabels" -}}
app.kubernetes.io/name: {{ include "app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "app.labels" -}}
helm.sh/chart: {{ printf "%s-%s" "app" "0.1.0" | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "app.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.extraLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "app.tplvalues" -}}
{{- if typeIs "string" .value }}
{{- tpl .value .context }}
{{- else }}
{{- tpl (.value | toYaml) .context }}
{{- end }}
{{- end }}
`;

const templates: Record<string, string> = {
  'deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
  {{- with .Values.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- if not .Values.autoscaling }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "app.selectorLabels" . | nindent 6 }}
  template:
    spec:
      containers:
        - name: {{ .Chart.Name | default "app" }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default "latest" }}"
          imagePullPolicy: {{ .Values.image.pullPolicy | default "IfNotPresent" | quote }}
          {{- with .Values.command }}
          command: {{ toJson . }}
          {{- end }}
          env:
            {{- range $k, $v := .Values.env }}
            - name: {{ $k | upper | replace "-" "_" }}
              value: {{ $v | toString | quote }}
            {{- end }}
            - name: DATABASE_URL
              value: {{ required "database.url is required" .Values.database.url | quote }}
          ports:
            {{- range .Values.ports }}
            - name: {{ .name | default (printf "port-%v" .port) }}
              containerPort: {{ .port }}
              protocol: {{ .protocol | default "TCP" }}
            {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
`,
  'configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "app.fullname" . }}-config
data:
  {{- range $key, $value := .Values.config }}
  {{ $key }}: {{ include "app.tplvalues" (dict "value" $value "context" $) | quote }}
  {{- end }}
  rendered: {{ tpl "{{ .Release.Name }}-{{ .Values.replicaCount }}" . | quote }}
  list: {{ .Values.ports | len }}
  joined: {{ keys .Values.env | sortAlpha | join "," | quote }}
  hash: {{ toJson .Values.env | sha256sum | trunc 12 }}
  {{- if and .Values.image (hasKey .Values.image "tag") }}
  tagged: "yes"
  {{- else }}
  tagged: "no"
  {{- end }}
  ternary: {{ ternary "on" "off" (eq (.Values.replicaCount | int) 1) }}
  nums: {{ range $i, $e := until (.Values.replicaCount | int) }}{{ $i }}{{ end }}
  first: {{ first .Values.ports | toYaml | nindent 4 }}
`,
  'extras.yaml': `{{- $kube := .Capabilities.KubeVersion }}
kind: Extras
chart: {{ .Chart.Name }}-{{ .Chart.Version }} app={{ .Chart.AppVersion | quote }} root={{ .Chart.IsRoot }}
kube: {{ $kube.Version }} major={{ $kube.Major }} minor={{ $kube.Minor }}
{{- if semverCompare ">=1.19-0" $kube.GitVersion }}
ingressApi: networking.k8s.io/v1
{{- else }}
ingressApi: networking.k8s.io/v1beta1
{{- end }}
helm: {{ .Capabilities.HelmVersion.Version | trimPrefix "v" }}
template: {{ .Template.Name }} in {{ .Template.BasePath }}
image: {{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- $merged := merge (dict "a" 1 "nested" (dict "x" "keep")) (deepCopy .Values.resources) }}
merged: {{ toYaml $merged | nindent 2 }}
{{- $list := list }}
{{- range $i, $p := .Values.ports }}
{{- $list = append $list (printf "%v/%s" $p.port ($p.protocol | default "TCP" | lower)) }}
{{- end }}
ports: {{ join ", " $list }}
secret: {{ .Values.database.url | default "none" | b64enc }}
dig: {{ dig "limits" "cpu" "n/a" .Values.resources }}
regex: {{ regexReplaceAll "[^a-z0-9-]" (.Release.Name | lower) "-" }}
{{- range $k, $v := .Values.annotations }}
annotation-{{ $k }}: {{ tpl (printf "{{ %q }}-%s" $k $v) $ }}
{{- end }}
{{- with .Values.extraLabels }}
{{- range $k, $v := . }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- else }}
labels: none
{{- end }}
`,
  'service.yaml': `{{- if .Values.service.enabled -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "app.fullname" . }}
spec:
  type: {{ .Values.service.type }}
  ports:
    {{- range .Values.ports }}
    - port: {{ .servicePort | default .port }}
      targetPort: {{ .port }}
    {{- end }}
  selector: {{- include "app.selectorLabels" . | nindent 4 }}
{{- end }}
`,
};

const baseValues = `
replicaCount: 2
image: {repository: registry.local/api, tag: "1.2.3", pullPolicy: Always}
database: {url: "postgres://db:5432/app"}
env: {log-level: debug, workers: 4, ratio: 0.5, enabled: true}
ports:
  - {name: http, port: 8000, servicePort: 80}
  - {port: 9090}
resources: {limits: {cpu: 500m, memory: 128Mi}, requests: {cpu: 100m}}
service: {enabled: true, type: LoadBalancer}
config:
  plain: value
  templated: "{{ .Release.Name }}-cfg"
  structured: {a: 1, b: [x, y]}
annotations: {checksum: abc}
extraLabels: {team: core}
`;

/** Value sets: the base, then variations that take other branches or fail. */
function valueSets(): { name: string; values: Record<string, unknown> }[] {
  const base = () => YAML.parse(baseValues) as Record<string, unknown>;
  const sets: { name: string; values: Record<string, unknown> }[] = [{ name: 'base', values: base() }];
  const vary = (name: string, f: (v: Record<string, unknown>) => void) => {
    const v = base();
    f(v);
    sets.push({ name, values: v });
  };
  vary('fullname override', (v) => (v.fullnameOverride = 'custom-name-that-is-quite-long-and-will-be-truncated-at-sixty-three-chars-'));
  vary('name override in release', (v) => (v.nameOverride = 'rel'));
  vary('one replica, no tag', (v) => {
    v.replicaCount = 1;
    delete (v.image as Record<string, unknown>).tag;
  });
  vary('autoscaling, no annotations, no extra labels', (v) => {
    v.autoscaling = true;
    delete v.annotations;
    delete v.extraLabels;
  });
  vary('service disabled', (v) => ((v.service as Record<string, unknown>).enabled = false));
  vary('command list', (v) => (v.command = ['/bin/app', '--port', 8000]));
  vary('missing database url', (v) => delete (v.database as Record<string, unknown>).url);
  vary('missing image', (v) => delete v.image);
  vary('empty env and config', (v) => {
    v.env = {};
    v.config = {};
  });
  vary('bad tpl value', (v) => ((v.config as Record<string, unknown>).templated = '{{ .Values.nope.deeper }}'));
  return sets;
}

const release = { Name: 'rel', Namespace: 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 };
const prefix = 'app/templates';
const chartData = { Name: 'app', Version: '0.1.0', AppVersion: '2.0.1', IsRoot: true };
const capabilitiesData = {
  KubeVersion: { Version: defaultKubeVersion, GitVersion: defaultKubeVersion, Major: '1', Minor: '32' },
  HelmVersion: { Version: helmVersion },
};

function chartFor(extra: Record<string, string> = {}) {
  const files = [
    { name: 'Chart.yaml', data: Buffer.from('apiVersion: v2\nname: app\nversion: 0.1.0\nappVersion: "2.0.1"\n') },
    { name: 'values.yaml', data: Buffer.from('{}\n') },
    { name: 'templates/_helpers.tpl', data: Buffer.from(helpers) },
    ...Object.entries({ ...templates, ...extra }).map(([n, t]) => ({ name: `templates/${n}`, data: Buffer.from(t) })),
  ];
  return loadFiles(files);
}

const skip = oracleAvailable() ? false : 'template oracle not built (scripts/build-template-oracle.sh)';
if (skip && process.env.CI) throw new Error('CI must build the template oracle before the tests');

describe('Helm rendering vs Go (oracle Helm mode)', { skip }, () => {
  before(loadOracle);

  it('renders chart-shaped templates as Helm does, for every value set', () => {
    const failures: string[] = [];
    let compared = 0;
    let failedAlike = 0;
    for (const { name: setName, values } of valueSets()) {
      const names = Object.keys(templates);
      // The engine renders the chart; .Chart.Name is "app" there and absent (→ default) in the oracle.
      let engineOut: Map<string, string> | undefined;
      let engineErr: string | undefined;
      try {
        engineOut = renderTemplates(chartFor(), { Values: values, Release: release as unknown as GoObject, Capabilities: capabilitiesValue(makeCapabilities()) });
      } catch (e) {
        engineErr = (e as Error).message;
      }
      const reqs: OracleRequest[] = names.map((n) => ({
        templates: { [`${prefix}/_helpers.tpl`]: helpers, ...Object.fromEntries(names.map((m) => [`${prefix}/${m}`, templates[m]!])) },
        entry: `${prefix}/${n}`,
        // Helm's structs (.Chart, .Capabilities) as maps with the same fields: field access reads alike.
        data: { Values: values, Release: release, Chart: chartData, Capabilities: capabilitiesData, Template: { Name: `${prefix}/${n}`, BasePath: prefix } },
        mode: 'helm',
        funcs: 'helm',
        root: 'gotpl',
      }));
      const want = goRenderManySync(reqs);
      const goErr = want.find((w): w is { error: string } => 'error' in w);
      if (goErr) {
        // Helm stops at the first failing template; the engine must fail too, naming Go's cause.
        const cause = goErr.error.replace(/HELM_ERR_START|HELM_ERR_END/g, '').split(': ').pop()!;
        if (engineErr === undefined || !engineErr.includes(cause)) failures.push(`${setName}: Go failed with ${JSON.stringify(goErr.error)}, engine ${engineErr ? JSON.stringify(engineErr) : 'rendered'}`);
        else failedAlike++;
        continue;
      }
      if (engineErr !== undefined) {
        failures.push(`${setName}: engine failed: ${engineErr}`);
        continue;
      }
      names.forEach((n, i) => {
        const w = (want[i] as { output: string }).output;
        const g = engineOut!.get(`${prefix}/${n}`);
        compared++;
        if (g !== w) failures.push(`${setName} ${n}:\n--- go\n${w}\n--- engine\n${g}`);
      });
    }
    assert.equal(failures.length, 0, failures.join('\n'));
    assert.ok(compared >= 20 && failedAlike >= 3, `compared ${compared} renders, ${failedAlike} failures alike`);
  });
});
