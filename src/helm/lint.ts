/**
 * @module `helm lint` (pkg/lint): Chart.yaml rules, values.yaml (parses, meets the schema),
 * templates (render in lint mode, allowed extensions, each rendered document parses as
 * YAML, names are DNS-1123, workloads have selectors), dependencies present in charts/.
 * Messages read "[SEVERITY] path: problem" as helm prints them.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { splitDocuments } from './actions/manifests.js';
import { loadDir } from './chart/loader.js';
import { isStrictSemverV2, isValidSemver } from './chart/metadata.js';
import type { Chart } from './chart/types.js';
import { makeCapabilities } from './engine.js';
import { renderChart } from './render.js';
import { coalesceTables, deepCopy, type Values } from './values/coalesce.js';
import { validateAgainstSingleSchema } from './values/schema.js';
import { parseValuesYaml } from './values/yaml.js';

export type Severity = 'INFO' | 'WARNING' | 'ERROR';
const rank: Record<Severity, number> = { INFO: 1, WARNING: 2, ERROR: 3 };

export interface LintMessage {
  severity: Severity;
  path: string;
  message: string;
}

export interface LintResult {
  messages: LintMessage[];
  /** The highest severity found (0 when clean). */
  highest: number;
}

export function formatLintMessage(m: LintMessage): string {
  return `[${m.severity}] ${m.path}: ${m.message}`;
}

export interface LintOptions {
  values?: Values;
  namespace?: string;
  kubeVersion?: string;
}

class Linter {
  readonly messages: LintMessage[] = [];
  highest = 0;
  /** Records a failed rule; returns whether the rule passed. */
  rule(severity: Severity, path: string, problem: string | undefined | null): boolean {
    if (!problem) return true;
    this.messages.push({ severity, path, message: problem });
    this.highest = Math.max(this.highest, rank[severity]);
    return false;
  }
}

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function goType(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (v && typeof v === 'object') return 'map[string]interface {}';
  return 'string';
}

function isUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol !== '' && u.host !== '';
  } catch {
    return false;
  }
}

function lintChartfile(l: Linter, dir: string): void {
  const file = 'Chart.yaml';
  const path = join(dir, file);
  if (existsSync(path) && statSync(path).isDirectory()) {
    l.rule('ERROR', file, 'should be a file, not a directory');
    return;
  }
  let text: string;
  let raw: Record<string, unknown>;
  try {
    text = readFileSync(path, 'utf8');
    raw = (YAML.parse(text, { version: '1.1' }) ?? {}) as Record<string, unknown>;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a map');
  } catch (e) {
    l.rule('ERROR', file, `unable to parse YAML\n\t${(e as Error).message.split('\n')[0]}`);
    return;
  }
  const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const name = str(raw.name);
  l.rule('ERROR', file, name === '' ? 'name is required' : name.includes('/') || name.includes('\\') ? `chart name "${name}" is invalid` : undefined);
  const apiVersion = str(raw.apiVersion);
  l.rule('ERROR', file, apiVersion === '' ? 'apiVersion is required. The value must be either "v1" or "v2"' : apiVersion !== 'v1' && apiVersion !== 'v2' ? `apiVersion '${apiVersion}' is not valid. The value must be either "v1" or "v2"` : undefined);
  if (raw.version !== undefined && typeof raw.version !== 'string') l.rule('ERROR', file, `version should be of type string but it's of type ${goType(raw.version)}`);
  const version = str(raw.version);
  l.rule('ERROR', file, version === '' ? 'version is required' : !isValidSemver(version) ? `version '${version}' is not a valid SemVer` : undefined);
  if (raw.appVersion !== undefined && raw.appVersion !== null && typeof raw.appVersion !== 'string') l.rule('ERROR', file, `appVersion should be of type string but it's of type ${goType(raw.appVersion)}`);
  for (const m of (Array.isArray(raw.maintainers) ? raw.maintainers : []) as Array<Record<string, unknown>>) {
    if (!m || !m.name) l.rule('ERROR', file, 'each maintainer requires a name');
    else if (m.email && !/^[^@\s]+@[^@\s]+$/.test(String(m.email))) l.rule('ERROR', file, `invalid email '${m.email}' for maintainer '${m.name}'`);
    else if (m.url && !isUrl(String(m.url))) l.rule('ERROR', file, `invalid url '${m.url}' for maintainer '${m.name}'`);
  }
  for (const s of (Array.isArray(raw.sources) ? raw.sources : []) as unknown[]) {
    if (!isUrl(String(s))) l.rule('ERROR', file, `invalid source URL '${s}'`);
  }
  l.rule('INFO', file, raw.icon ? undefined : 'icon is recommended');
  if (raw.icon && !isUrl(String(raw.icon))) l.rule('ERROR', file, `invalid icon URL '${raw.icon}'`);
  if (apiVersion === 'v1' && raw.type) l.rule('ERROR', file, `chart type is not valid in apiVersion '${apiVersion}'. It is valid in apiVersion 'v2'`);
  if (apiVersion === 'v1' && raw.dependencies) l.rule('ERROR', file, `dependencies are not valid in the Chart file with apiVersion '${apiVersion}'. They are valid in apiVersion 'v2'`);
  if (version && isValidSemver(version) && !isStrictSemverV2(version)) l.rule('WARNING', file, `version '${version}' is not a valid SemVerV2`);
}

function lintValues(l: Linter, dir: string, overrides: Values): void {
  const file = 'values.yaml';
  const path = join(dir, file);
  if (!l.rule('INFO', file, existsSync(path) ? undefined : 'file does not exist')) return;
  let values: Values;
  try {
    values = parseValuesYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    l.rule('ERROR', file, `unable to parse YAML: ${(e as Error).message}`);
    return;
  }
  const schemaPath = join(dir, 'values.schema.json');
  if (!existsSync(schemaPath)) return;
  const merged = coalesceTables(deepCopy(overrides), values);
  try {
    l.rule('ERROR', file, validateAgainstSingleSchema(merged, readFileSync(schemaPath)).replace(/\n$/, ''));
  } catch (e) {
    l.rule('ERROR', file, (e as Error).message);
  }
}

function validateTopIndentLevel(content: string): string | undefined {
  for (const line of content.split('\n')) {
    const t = line.trimStart();
    if (t === '' || t.startsWith('#') || t.startsWith('---')) continue;
    if (line.length > t.length) return `document starts with an illegal indent: ${JSON.stringify(line.slice(0, line.length - t.length))}, which may cause parsing problems`;
    return undefined;
  }
  return undefined;
}

async function lintTemplates(l: Linter, dir: string, values: Values, opts: LintOptions): Promise<void> {
  const fpath = 'templates/';
  const tdir = join(dir, 'templates');
  if (existsSync(tdir) && !statSync(tdir).isDirectory()) {
    l.rule('WARNING', fpath, 'not a directory');
    return;
  }
  if (!existsSync(tdir)) return;
  let chart: Chart;
  try {
    chart = loadDir(dir);
  } catch (e) {
    l.rule('ERROR', fpath, (e as Error).message);
    return;
  }
  let rendered: Map<string, string>;
  try {
    const r = await renderChart({
      chart,
      values,
      release: { name: 'test-release', namespace: opts.namespace ?? 'default' },
      capabilities: makeCapabilities({ kubeVersion: opts.kubeVersion }),
      lintMode: true,
    });
    rendered = r.files;
  } catch (e) {
    // Helm reports YAML problems per template below, not as a render failure.
    if (!/^YAML parse error on /.test((e as Error).message)) {
      l.rule('ERROR', fpath, (e as Error).message);
      return;
    }
    rendered = (e as { files?: Map<string, string> }).files ?? new Map();
  }
  for (const t of chart.templates) {
    const name = t.name;
    const ext = name.includes('.') ? name.slice(name.lastIndexOf('.')) : '';
    l.rule('ERROR', name, ['.yaml', '.yml', '.tpl', '.txt'].includes(ext) ? undefined : `file extension '${ext}' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt`);
    if (ext !== '.yaml') continue;
    const content = rendered.get(`${chart.metadata.name}/${name}`) ?? '';
    if (content.trim() === '') continue;
    l.rule('WARNING', name, validateTopIndentLevel(content));
    for (const doc of splitDocuments(content)) {
      let obj: Record<string, unknown> | null;
      try {
        obj = YAML.parse(doc, { version: '1.1' }) as Record<string, unknown> | null;
      } catch (e) {
        l.rule('ERROR', name, `unable to parse YAML: error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`);
        break;
      }
      if (!obj || typeof obj !== 'object') continue;
      const md = (obj.metadata ?? {}) as Record<string, unknown>;
      const objName = md.name === undefined ? '' : String(md.name);
      if (objName !== '' && !dns1123Subdomain.test(objName)) {
        l.rule('WARNING', name, `object name does not conform to Kubernetes naming requirements: ${JSON.stringify(objName)}: metadata.name: Invalid value: ${JSON.stringify(objName)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
      }
      const kind = String(obj.kind ?? '');
      if (String(obj.apiVersion ?? '') === 'apps/v1' && ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet'].includes(kind)) {
        const sel = ((obj.spec ?? {}) as Record<string, unknown>).selector as Record<string, unknown> | undefined;
        if (!sel || (!sel.matchLabels && !sel.matchExpressions)) l.rule('ERROR', name, `a ${kind} must contain matchLabels or matchExpressions, and ${JSON.stringify(objName)} does not`);
      }
    }
  }
}

function lintDependencies(l: Linter, dir: string): void {
  let c: Chart;
  try {
    c = loadDir(dir);
  } catch (e) {
    l.rule('ERROR', '', `unable to load chart\n\t${(e as Error).message}`);
    return;
  }
  const declared = new Set((c.metadata.dependencies ?? []).map((d) => d.name));
  const present = new Set(c.dependencies.map((d) => d.metadata.name));
  const notDeclared = [...present].filter((n) => !declared.has(n));
  if (c.metadata.dependencies && notDeclared.length) l.rule('ERROR', dir, `chart metadata is missing these dependencies: ${notDeclared.join(',')}`);
  const missing = [...declared].filter((n) => !present.has(n));
  if (missing.length) l.rule('WARNING', dir, `chart directory is missing these dependencies: ${missing.join(',')}`);
}

/** Lints one chart directory. */
export async function lintChart(dir: string, opts: LintOptions = {}): Promise<LintResult> {
  const l = new Linter();
  const values = opts.values ?? {};
  lintChartfile(l, dir);
  lintValues(l, dir, values);
  await lintTemplates(l, dir, values, opts);
  lintDependencies(l, dir);
  return { messages: l.messages, highest: l.highest };
}
