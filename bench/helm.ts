/**
 * @module The chart rendering benchmark of issue 6: a generated chart with 50 templates and
 * 3 subcharts (helpers, range over maps, toYaml, tpl, include, subchart scoping and
 * globals) rendered by skiff's engine. The reference, in the same run: the real Go
 * text/template with sprig (Debian's golang-go and golang-github-masterminds-sprig-dev,
 * built natively here) rendering the same templates with the same values and Helm's
 * include/tpl/toYaml, when Go is installed; and always the cost of parsing and
 * re-serializing the rendered YAML with the `yaml` package. The Go run's output is also
 * compared with skiff's, document by document.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadDir } from '../src/helm/chart/loader.js';
import { chartFullPath, isLibrary, type Chart } from '../src/helm/chart/types.js';
import { capabilitiesValue, makeCapabilities, renderTemplates } from '../src/helm/engine.js';
import { prepareChart, releaseValue, renderChart } from '../src/helm/render.js';
import { machineDescription } from './util.js';

const TEMPLATES = 50;
const SUBCHARTS = 3;

const helpers = (n: string) => `{{- define "${n}.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "${n}.fullname" -}}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}{{ printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}{{ end }}
{{- end }}
{{- define "${n}.selectorLabels" -}}
app.kubernetes.io/name: {{ include "${n}.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "${n}.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{ include "${n}.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- range $k, $v := .Values.commonLabels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}
`;

const deployment = (n: string, i: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "${n}.fullname" . }}-d${i}
  labels:
    {{- include "${n}.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "${n}.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      annotations:
        rollme: {{ printf "%s-%d" .Template.Name ${i} | sha256sum | trunc 16 | quote }}
      labels:
        {{- include "${n}.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: app-${i}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          env:
            {{- range $key, $value := .Values.env }}
            - name: {{ $key | upper }}
              value: {{ $value | quote }}
            {{- end }}
            - name: GREETING
              value: {{ tpl .Values.greeting . | quote }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          {{- with .Values.probes }}
          livenessProbe:
            {{- toYaml .liveness | nindent 12 }}
          {{- end }}
`;

const service = (n: string, i: number) => `apiVersion: v1
kind: Service
metadata:
  name: {{ include "${n}.fullname" . }}-s${i}
  labels:
    {{- include "${n}.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    {{- range $i, $p := .Values.service.ports }}
    - name: {{ $p.name }}
      port: {{ add $p.port ${i} }}
      targetPort: {{ $p.targetPort }}
    {{- end }}
  selector:
    {{- include "${n}.selectorLabels" . | nindent 4 }}
`;

const configmap = (n: string, i: number) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "${n}.fullname" . }}-c${i}
data:
  {{- range $k, $v := .Values.config }}
  {{ $k }}: {{ $v | toString | quote }}
  {{- end }}
  region: {{ .Values.global.region | default "none" | quote }}
  list: {{ join "," .Values.items | quote }}
  json: {{ toJson .Values.service | quote }}
`;

export function generateChart(dir: string): void {
  const write = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  const values = (n: string) => ({
    replicaCount: 2,
    image: { repository: `example/${n}`, tag: '' },
    commonLabels: { team: 'bench', tier: 'backend', costCenter: 'c42' },
    env: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`var_${k}`, `value-${k}`])),
    greeting: 'hello {{ .Release.Name }} from {{ .Chart.Name }}',
    resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    probes: { liveness: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 10 } },
    service: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8000 }, { name: 'metrics', port: 9090, targetPort: 9090 }] },
    config: Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`key${k}`, k % 2 ? k * 1.5 : `text ${k}`])),
    items: ['a', 'b', 'c', 'd'],
  });
  const file = (n: string, i: number) => (i % 3 === 0 ? deployment(n, i) : i % 3 === 1 ? service(n, i) : configmap(n, i));
  write('Chart.yaml', `apiVersion: v2\nname: bench\nversion: 1.0.0\nappVersion: "3.1.4"\ndependencies:\n${Array.from({ length: SUBCHARTS }, (_, s) => `  - name: sub${s}\n    version: 0.1.0\n`).join('')}`);
  write('values.yaml', YAML.stringify({ ...values('bench'), global: { region: 'eu-west' }, ...Object.fromEntries(Array.from({ length: SUBCHARTS }, (_, s) => [`sub${s}`, { replicaCount: 1 }])) }));
  write('templates/_helpers.tpl', helpers('bench'));
  for (let i = 0; i < TEMPLATES; i++) write(`templates/t${String(i).padStart(2, '0')}.yaml`, file('bench', i));
  for (let s = 0; s < SUBCHARTS; s++) {
    const n = `sub${s}`;
    write(`charts/${n}/Chart.yaml`, `apiVersion: v2\nname: ${n}\nversion: 0.1.0\nappVersion: "1.0.${s}"\n`);
    write(`charts/${n}/values.yaml`, YAML.stringify(values(n)));
    write(`charts/${n}/templates/_helpers.tpl`, helpers(n));
    for (let i = 0; i < 5; i++) write(`charts/${n}/templates/t${i}.yaml`, file(n, i));
  }
}

/** The Go reference: text/template + sprig with Helm's include, tpl and toYaml, timed inside Go. */
const goProgram = `package main

import (
	"encoding/json"
	"os"
	"path"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

type tpl struct {
	Name string
	Text string
	Data map[string]interface{}
}

type input struct {
	Templates  []tpl
	Iterations int
}

func render(in *input) map[string]string {
	t := template.New("gotpl").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = func(v interface{}) string {
		b, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(b), "\\n")
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var b strings.Builder
		err := t.ExecuteTemplate(&b, name, data)
		return b.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		c, err := t.Clone()
		if err != nil {
			return "", err
		}
		c, err = c.New("gotpl").Parse(text)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		err = c.Execute(&b, data)
		return strings.ReplaceAll(b.String(), "<no value>", ""), err
	}
	t.Funcs(funcs)
	names := make([]string, 0, len(in.Templates))
	byName := map[string]tpl{}
	for _, f := range in.Templates {
		names = append(names, f.Name)
		byName[f.Name] = f
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := names[i], names[j]
		ca, cb := strings.Count(a, "/"), strings.Count(b, "/")
		if ca == cb {
			return a > b
		}
		return ca > cb
	})
	for _, n := range names {
		if _, err := t.New(n).Parse(byName[n].Text); err != nil {
			panic(err)
		}
	}
	out := map[string]string{}
	for _, n := range names {
		if strings.HasPrefix(path.Base(n), "_") {
			continue
		}
		var b strings.Builder
		if err := t.ExecuteTemplate(&b, n, byName[n].Data); err != nil {
			panic(err)
		}
		out[n] = strings.ReplaceAll(b.String(), "<no value>", "")
	}
	return out
}

func main() {
	raw, _ := os.ReadFile(os.Args[1])
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		panic(err)
	}
	first := render(&in)
	start := time.Now()
	for i := 0; i < in.Iterations; i++ {
		render(&in)
	}
	ms := float64(time.Since(start).Microseconds()) / 1000 / float64(in.Iterations)
	res, _ := json.Marshal(map[string]interface{}{"msPerRender": ms, "output": first})
	os.Stdout.Write(res)
}
`;

/**
 * Builds the Go reference in `work`; undefined when Go or the Debian packages are missing.
 * Go's own build cache (~/.cache/go-build) makes rebuilds quick; without a home, `work` holds it.
 */
export function buildGoReference(work: string): string | undefined {
  if (spawnSync('go', ['version']).status !== 0 || !existsSync('/usr/share/gocode/src/github.com/Masterminds/sprig')) return undefined;
  const src = join(work, 'gopath', 'src', 'helmbench');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'main.go'), goProgram);
  const bin = join(work, 'helmbench');
  try {
    execFileSync('go', ['build', '-o', bin, '.'], {
      cwd: src,
      env: {
        ...process.env,
        GOPATH: `${join(work, 'gopath')}:/usr/share/gocode`,
        GO111MODULE: 'off',
        ...(process.env.GOCACHE || process.env.HOME ? {} : { GOCACHE: join(work, 'gocache') }),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300_000,
    });
  } catch (e) {
    process.stderr.write(`bench: Go reference not built: ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}\n`);
    return undefined;
  }
  return bin;
}

/** The per-template data the engine gives each template, as plain JSON for the Go reference. */
export function goInput(chart: Chart, values: Record<string, unknown>, iterations: number, rel = { name: 'bench', namespace: 'default' }): unknown {
  const templates: Array<{ Name: string; Text: string; Data: unknown }> = [];
  const release = { Name: rel.name, Namespace: rel.namespace, IsInstall: true, IsUpgrade: false, Revision: 1, Service: 'Helm' };
  const walk = (c: Chart, vals: Record<string, unknown>) => {
    const prefix = chartFullPath(c);
    const chartData = { Name: c.metadata.name, Version: c.metadata.version, AppVersion: c.metadata.appVersion ?? '' };
    for (const t of c.templates) {
      if (isLibrary(c) && !t.name.split('/').pop()!.startsWith('_')) continue;
      const name = `${prefix}/${t.name}`;
      templates.push({ Name: name, Text: t.data.toString('utf8'), Data: { Values: vals, Release: release, Chart: chartData, Template: { Name: name, BasePath: `${prefix}/templates` } } });
    }
    for (const d of c.dependencies) walk(d, (vals[d.metadata.name] ?? {}) as Record<string, unknown>);
  };
  walk(chart, values);
  return { Templates: templates, Iterations: iterations };
}

/** Runs the Go reference on `input`; returns its mean time per render and the first rendering. */
export function runGoReference(bin: string, input: unknown, work: string): { msPerRender: number; output: Record<string, string> } {
  const inputPath = join(work, `go-input-${process.pid}.json`);
  writeFileSync(inputPath, JSON.stringify(input));
  return JSON.parse(execFileSync(bin, [inputPath], { maxBuffer: 64 * 1024 * 1024 }).toString());
}

function timeIt(iterations: number, fn: () => unknown): number {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return (performance.now() - start) / iterations;
}

/** Runs the benchmark in `work`; returns the rows of its Markdown table. */
export async function helmBenchmark(opts: { work: string; progress: (msg: string) => void }): Promise<string[]> {
  const dir = join(opts.work, 'bench-chart');
  generateChart(dir);
  const chart = loadDir(dir);
  const templateCount = chart.templates.length + chart.dependencies.reduce((n, d) => n + d.templates.length, 0);
  const release = { name: 'bench', namespace: 'default' };
  const iterations = Number(process.env.BENCH_HELM_N ?? 100);

  const t0 = performance.now();
  const first = await renderChart({ chart, values: {}, release });
  const coldMs = performance.now() - t0;
  opts.progress(`helm: rendered ${first.manifests.length} manifests cold in ${coldMs.toFixed(1)} ms`);
  for (let i = 0; i < 5; i++) await renderChart({ chart, values: {}, release });
  let total = 0;
  for (let i = 0; i < iterations; i++) {
    const s = performance.now();
    await renderChart({ chart, values: {}, release });
    total += performance.now() - s;
  }
  const fullMs = total / iterations;

  // Engine only (parse + execute every template), what the Go reference does.
  const { chart: prepared, values } = prepareChart(chart, {});
  const top = { Values: values, Release: releaseValue(release), Capabilities: capabilitiesValue(makeCapabilities()) };
  const engineMs = timeIt(iterations, () => renderTemplates(prepared, top));
  const rendered = renderTemplates(prepared, top);
  const text = [...rendered.values()].join('\n---\n');
  const bytes = Buffer.byteLength(text);
  const yamlMs = timeIt(Math.max(10, iterations / 4), () => YAML.parseAllDocuments(text).map((d) => d.toString()));

  const f = (x: number, d = 2) => x.toFixed(d);
  const rows: string[] = [];
  const row = (what: string, value: string, note = '') => rows.push(`| ${what} | ${value} | ${note} |`);
  row(`skiff renderChart: ${templateCount} templates (${TEMPLATES} in the chart, ${SUBCHARTS} subcharts), ${first.manifests.length} manifests, ${(bytes / 1024).toFixed(0)} KiB`, `${f(fullMs)} ms`, `mean of ${iterations}; dependencies, coalescing, schema, engine, split and sort by kind; first (cold) render ${f(coldMs, 1)} ms`);
  row('skiff engine only (parse + execute every template)', `${f(engineMs)} ms`, '');

  const bin = buildGoReference(opts.work);
  if (bin) {
    const out = runGoReference(bin, goInput(prepared, values, iterations), opts.work);
    let same = 0;
    const differing: string[] = [];
    for (const [name, content] of rendered) {
      if (out.output[name] === content) same++;
      else differing.push(name);
    }
    row('Go text/template + sprig v3, native (reference): same templates, values and include/tpl/toYaml', `${f(out.msPerRender)} ms`, `**skiff engine ${f(engineMs / out.msPerRender, 1)}× the Go time**; outputs identical for ${same}/${rendered.size} templates${differing.length ? ` (differ: ${differing.slice(0, 3).join(', ')})` : ''}`);
    if (differing.length) writeFileSync(join(opts.work, 'go-diff.json'), JSON.stringify({ name: differing[0], go: out.output[differing[0]], skiff: rendered.get(differing[0]) }, null, 2));
  } else {
    row('Go text/template + sprig reference', 'not run', 'golang-go and golang-github-masterminds-sprig-dev are needed (see the log for the build error)');
  }
  row('YAML parse + stringify of the rendered output (`yaml` package, reference)', `${f(yamlMs)} ms`, `skiff's whole render is ${f(fullMs / yamlMs, 1)}× this`);
  return rows;
}

/** The `helm-render` section of docs/benchmarks.md. */
export async function helmRenderSection(work: string): Promise<string> {
  const load = loadavg()[0];
  const rows = await helmBenchmark({ work, progress: (msg) => process.stderr.write(`bench: ${msg}\n`) });
  return [
    `Run: ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}; load average ${load.toFixed(1)} at the start.`,
    '',
    '| measurement | result | notes |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}
