/**
 * @module Chart loading as Helm 3 does it (pkg/chart/loader): a chart directory (honouring
 * .helmignore) or a gzipped tar archive with one top-level folder; Chart.yaml (apiVersion
 * v1 with requirements.yaml, or v2), values.yaml, values.schema.json, templates/, charts/
 * (subcharts as folders or .tgz archives; names starting with "_" or "." skipped), and
 * every other file kept for .Files. Errors name the file and field as Helm's do.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as tar from 'tar';
import YAML from 'yaml';
import { parseValuesYaml } from '../values/yaml.js';
import { helmIgnoreFile, IgnoreRules } from './ignore.js';
import { validateMetadata } from './metadata.js';
import { apiVersionV1, type Chart, type ChartFile, type ChartLock, type ChartMetadata } from './types.js';

/** A chart that cannot be loaded; the message is Helm's. */
export class ChartLoadError extends Error {
  override name = 'ChartLoadError';
}

/** Helm refuses larger archives and files (pkg/chart/loader MaxDecompressedChartSize). */
export const maxDecompressedChartSize = 100 * 1024 * 1024;
export const maxDecompressedFileSize = 5 * 1024 * 1024;

/** Fields of chart.Metadata that are strings in Go: YAML scalars there keep their text ("1.0" stays "1.0"). */
const stringFields = ['name', 'home', 'version', 'description', 'icon', 'apiVersion', 'condition', 'tags', 'appVersion', 'kubeVersion', 'type'];

/**
 * Parses Chart.yaml (or requirements.yaml) into metadata as sigs.k8s.io/yaml fills a Go
 * struct: scalars for string fields stay text; `deprecated` is a bool.
 */
export function parseChartYaml(text: string, file = 'Chart.yaml'): Partial<ChartMetadata> {
  let doc: unknown;
  try {
    // The failsafe schema keeps every scalar as its text, as a Go string field receives it.
    doc = YAML.parse(text, { version: '1.1', schema: 'failsafe', merge: true });
  } catch (e) {
    const first = String((e as Error).message).split('\n')[0];
    throw new ChartLoadError(`cannot load ${file}: error converting YAML to JSON: yaml: ${first}`);
  }
  if (doc === null || doc === undefined || doc === '') return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ChartLoadError(`cannot load ${file}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${Array.isArray(doc) ? 'array' : 'string'} into Go value of type chart.Metadata`);
  }
  const raw = doc as Record<string, unknown>;
  const md: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (stringFields.includes(k)) {
      if (v !== null && typeof v === 'object') throw new ChartLoadError(`cannot load ${file}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${Array.isArray(v) ? 'array' : 'object'} into Go struct field Metadata.${k} of type string`);
      md[k] = nullable(v) ?? undefined;
    } else if (k === 'deprecated') md[k] = /^(true|yes|on|y)$/i.test(String(v));
    else if (k === 'dependencies') md[k] = Array.isArray(v) ? v.map(normalizeDependency) : v;
    else md[k] = nullableDeep(v);
  }
  return md as Partial<ChartMetadata>;
}

/** Failsafe parsing leaves "null"/"~" as text: they are nulls in Go. */
function nullable(v: unknown): unknown {
  return v === '' || v === '~' || v === 'null' || v === 'Null' || v === 'NULL' ? null : v;
}

function nullableDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(nullableDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, nullableDeep(x)]));
  return nullable(v);
}

function normalizeDependency(d: unknown): unknown {
  if (!d || typeof d !== 'object') return nullable(d);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d as Record<string, unknown>)) {
    if (k === 'enabled') out[k] = /^(true|yes|on|y)$/i.test(String(v));
    else out[k] = nullableDeep(v);
  }
  return out;
}

/** Builds a chart from its files (chart-relative names, "/" separators). */
export function loadFiles(files: ChartFile[]): Chart {
  const chart: Chart = { metadata: undefined as unknown as ChartMetadata, templates: [], values: {}, files: [], raw: files, dependencies: [] };
  const subcharts = new Map<string, ChartFile[]>();
  let requirements: Partial<ChartMetadata> | undefined;
  let sawChartYaml = false;
  for (const f of files) {
    const text = () => f.data.toString('utf8');
    if (f.name === 'Chart.yaml') {
      sawChartYaml = true;
      const md = parseChartYaml(text());
      // Helm 2 charts may omit apiVersion: they are v1.
      chart.metadata = { ...(chart.metadata ?? {}), ...md, apiVersion: md.apiVersion || apiVersionV1 } as ChartMetadata;
    } else if (f.name === 'Chart.lock' || f.name === 'requirements.lock') {
      try {
        chart.lock = YAML.parse(text(), { version: '1.1' }) as ChartLock;
      } catch (e) {
        throw new ChartLoadError(`cannot load ${f.name}: ${(e as Error).message.split('\n')[0]}`);
      }
      if (f.name === 'requirements.lock') chart.files.push(f);
    } else if (f.name === 'values.yaml') {
      try {
        chart.values = parseValuesYaml(text());
      } catch (e) {
        throw new ChartLoadError(`cannot load values.yaml: ${(e as Error).message}`);
      }
    } else if (f.name === 'values.schema.json') {
      chart.schema = f.data;
    } else if (f.name === 'requirements.yaml') {
      requirements = parseChartYaml(text(), 'requirements.yaml');
      chart.files.push(f);
    } else if (f.name.startsWith('templates/')) {
      chart.templates.push(f);
    } else if (f.name.startsWith('charts/')) {
      if (f.name.endsWith('.prov')) {
        chart.files.push(f);
        continue;
      }
      const rest = f.name.slice('charts/'.length);
      const cname = rest.split('/')[0];
      const list = subcharts.get(cname) ?? [];
      list.push({ name: rest, data: f.data });
      subcharts.set(cname, list);
    } else {
      chart.files.push(f);
    }
  }
  if (!sawChartYaml) throw new ChartLoadError('Chart.yaml file is missing');
  if (requirements?.dependencies && chart.metadata.apiVersion === apiVersionV1) chart.metadata.dependencies = requirements.dependencies;
  validateMetadata(chart.metadata);
  for (const [name, list] of [...subcharts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name.startsWith('_') || name.startsWith('.')) continue;
    let sub: Chart;
    try {
      if (name.endsWith('.tgz')) {
        const file = list[0];
        if (file.name !== name) throw new ChartLoadError(`error unpacking tar in ${chart.metadata.name}: expected ${name}, got ${file.name}`);
        sub = loadArchive(file.data);
      } else {
        const inner = list.filter((f) => f.name.includes('/')).map((f) => ({ name: f.name.slice(f.name.indexOf('/') + 1), data: f.data }));
        // A stray file directly in charts/ is not a chart.
        if (inner.length === 0) continue;
        sub = loadFiles(inner);
      }
    } catch (e) {
      throw new ChartLoadError(`error unpacking ${name} in ${chart.metadata.name}: ${(e as Error).message}`);
    }
    sub.parent = chart;
    chart.dependencies.push(sub);
  }
  return chart;
}

/** Reads a chart directory, skipping what .helmignore names. */
export function loadDir(dir: string): Chart {
  const top = realpathSync(dir);
  const ignorePath = join(top, helmIgnoreFile);
  const rules = existsSync(ignorePath) ? IgnoreRules.parse(readFileSync(ignorePath, 'utf8')) : IgnoreRules.parse('');
  const files: ChartFile[] = [];
  let total = 0;
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs).sort()) {
      const p = join(abs, entry);
      const rel = relative(top, p).split(sep).join('/');
      let st = lstatSync(p);
      if (st.isSymbolicLink()) st = statSync(p);
      if (st.isDirectory()) {
        if (rules.ignore(rel, true)) continue;
        walk(p);
        continue;
      }
      if (rules.ignore(rel, false)) continue;
      if (!st.isFile()) throw new ChartLoadError(`cannot load irregular file ${rel} as it has file mode type bits set`);
      if (st.size > maxDecompressedFileSize) throw new ChartLoadError(`chart file "${rel}" is larger than the maximum file size ${maxDecompressedFileSize}`);
      total += st.size;
      if (total > maxDecompressedChartSize) throw new ChartLoadError(`chart exceeds maximum decompressed size of ${maxDecompressedChartSize} bytes`);
      files.push({ name: rel, data: readFileSync(p) });
    }
  };
  walk(top);
  return loadFiles(files);
}

/** The files of a chart archive, the top-level folder stripped. */
export function archiveFiles(data: Buffer): ChartFile[] {
  if (data.length < 2 || data[0] !== 0x1f || data[1] !== 0x8b) {
    throw new ChartLoadError(`file does not appear to be a gzipped archive; got '${data.length >= 2 ? 'application/octet-stream' : 'empty'}'`);
  }
  const files: ChartFile[] = [];
  let total = 0;
  let failure: Error | undefined;
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (entry) => {
      if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
        entry.resume();
        return;
      }
      const parts = entry.path.replace(/\\/g, '/').split('/');
      const name = parts.slice(1).join('/').replace(/^\.\//, '');
      if (parts[0] === 'Chart.yaml') failure ??= new ChartLoadError('chart yaml not in base directory');
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => {
        total += c.length;
        chunks.push(c);
      });
      entry.on('end', () => {
        if (name !== '') files.push({ name, data: Buffer.concat(chunks) });
      });
    },
  });
  parser.on('warn', (_code: string, message: string) => (failure ??= new ChartLoadError(message)));
  parser.on('error', (e: Error) => (failure ??= new ChartLoadError(e.message)));
  parser.end(data);
  if (failure) throw failure;
  if (total > maxDecompressedChartSize) throw new ChartLoadError(`chart exceeds maximum decompressed size of ${maxDecompressedChartSize} bytes`);
  if (files.length === 0) throw new ChartLoadError('no files in chart archive');
  return files;
}

export function loadArchive(data: Buffer): Chart {
  return loadFiles(archiveFiles(data));
}

/** Loads a chart from a directory or a .tgz file (what `helm template NAME CHART` accepts as a local path). */
export function loadChart(path: string): Chart {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ChartLoadError(`path "${path}" not found`);
  }
  if (st.isDirectory()) {
    if (!existsSync(join(path, 'Chart.yaml'))) throw new ChartLoadError(`Chart.yaml file is missing`);
    return loadDir(path);
  }
  return loadArchive(readFileSync(path));
}
