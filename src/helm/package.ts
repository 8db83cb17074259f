/**
 * @module `helm package` (pkg/chartutil Save): a chart written as NAME-VERSION.tgz with every
 * file under "NAME/", Chart.yaml re-serialized from its metadata (so --version and
 * --app-version apply), subcharts written out as folders, files left out by .helmignore
 * left out; the dependencies Chart.yaml names must be present in charts/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tar from 'tar';
import { yamlMarshal } from './funcs/encoding.js';
import { loadChart } from './chart/loader.js';
import { isValidSemver } from './chart/metadata.js';
import { apiVersionV1, type Chart, type ChartMetadata } from './chart/types.js';
import type { GoValue } from './template/values.js';

export class PackageError extends Error {
  override name = 'PackageError';
}

/** Chart.yaml as Helm writes it: Go's omitempty JSON fields, keys sorted. */
export function marshalMetadata(md: ChartMetadata): string {
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length ? v.map(clean) : undefined;
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const c = clean(x);
        if (c !== undefined) out[k] = c;
      }
      return Object.keys(out).length ? out : undefined;
    }
    return v === '' || v === false || v === null ? undefined : v;
  };
  const copy: Record<string, unknown> = { ...md };
  // Helm 2 charts keep their dependencies in requirements.yaml.
  if (md.apiVersion === apiVersionV1) delete copy.dependencies;
  return yamlMarshal((clean(copy) ?? {}) as GoValue);
}

function chartFiles(c: Chart, prefix: string, out: Map<string, Buffer>): void {
  const base = `${prefix}${c.metadata.name}`;
  out.set(`${base}/Chart.yaml`, Buffer.from(marshalMetadata(c.metadata)));
  for (const f of c.raw) {
    if (f.name === 'Chart.lock' && c.metadata.apiVersion !== apiVersionV1) out.set(`${base}/${f.name}`, f.data);
    if (f.name === 'values.yaml') out.set(`${base}/values.yaml`, f.data);
  }
  if (c.schema) {
    try {
      JSON.parse(c.schema.toString('utf8'));
    } catch {
      throw new PackageError('Invalid JSON in values.schema.json');
    }
    out.set(`${base}/values.schema.json`, c.schema);
  }
  for (const f of c.templates) out.set(`${base}/${f.name}`, f.data);
  for (const f of c.files) out.set(`${base}/${f.name}`, f.data);
  for (const d of c.dependencies) chartFiles(d, `${base}/charts/`, out);
}

export interface PackageOptions {
  destination?: string;
  version?: string;
  appVersion?: string;
}

/** Packages the chart at `path`; returns the absolute path of the archive written. */
export async function packageChart(path: string, opts: PackageOptions = {}): Promise<string> {
  const chart = loadChart(path);
  if (opts.version !== undefined) {
    if (!isValidSemver(opts.version)) throw new PackageError(`Invalid Semantic Version`);
    chart.metadata.version = opts.version;
  }
  if (opts.appVersion !== undefined) chart.metadata.appVersion = opts.appVersion;
  const present = new Set(chart.dependencies.map((d) => d.metadata.name));
  const missing = (chart.metadata.dependencies ?? []).filter((d) => !present.has(d.name)).map((d) => d.name);
  if (missing.length) throw new PackageError(`found in Chart.yaml, but missing in charts/ directory: ${missing.join(', ')}`);
  const files = new Map<string, Buffer>();
  chartFiles(chart, '', files);
  const dest = resolve(opts.destination ?? '.');
  mkdirSync(dest, { recursive: true });
  const out = join(dest, `${chart.metadata.name}-${chart.metadata.version}.tgz`);
  const stage = mkdtempSync(join(tmpdir(), 'skiff-package-'));
  try {
    for (const [name, data] of files) {
      mkdirSync(dirname(join(stage, name)), { recursive: true });
      writeFileSync(join(stage, name), data, { mode: 0o644 });
    }
    await tar.c({ gzip: true, file: out, cwd: stage, portable: true, noDirRecurse: true }, [...files.keys()]);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return out;
}
