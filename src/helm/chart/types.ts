/**
 * @module Helm's chart model (pkg/chart): Chart.yaml metadata with its dependencies, the
 * templates, values, schema and other files of one chart, and its subcharts.
 */
import { deepCopy } from '../values/coalesce.js';

/** A file of a chart, by its path relative to the chart root ("templates/deploy.yaml"). */
export interface ChartFile {
  name: string;
  data: Buffer;
}

export interface Maintainer {
  name?: string;
  email?: string;
  url?: string;
}

/** One entry of Chart.yaml `dependencies` (or requirements.yaml for apiVersion v1). */
export interface Dependency {
  name: string;
  version?: string;
  repository?: string;
  condition?: string;
  tags?: string[];
  enabled?: boolean;
  /** Strings ("data" → exports.data) or { child, parent } tables. */
  'import-values'?: unknown[];
  alias?: string;
}

/** Chart.yaml, with Helm's field names. */
export interface ChartMetadata {
  name: string;
  home?: string;
  sources?: string[];
  version: string;
  description?: string;
  keywords?: string[];
  maintainers?: Maintainer[];
  icon?: string;
  apiVersion: string;
  condition?: string;
  tags?: string;
  appVersion?: string;
  deprecated?: boolean;
  annotations?: Record<string, string>;
  kubeVersion?: string;
  dependencies?: Dependency[];
  type?: string;
}

/** Chart.lock / requirements.lock. */
export interface ChartLock {
  generated?: string;
  digest?: string;
  dependencies?: Array<{ name: string; version?: string; repository?: string }>;
}

export interface Chart {
  metadata: ChartMetadata;
  lock?: ChartLock;
  /** templates/** (partials included). */
  templates: ChartFile[];
  /** values.yaml, parsed (numbers are float64 = JS number). */
  values: Record<string, unknown>;
  /** values.schema.json as loaded. */
  schema?: Buffer;
  /** Every other file (README, crds/, config files…): what .Files serves. */
  files: ChartFile[];
  /** Every file as loaded, for packaging and `helm show`. */
  raw: ChartFile[];
  /** Subcharts from charts/ (after dependency processing: only the enabled ones, aliased). */
  dependencies: Chart[];
  parent?: Chart;
}

export const apiVersionV1 = 'v1';
export const apiVersionV2 = 'v2';

export function isRoot(c: Chart): boolean {
  return c.parent === undefined;
}

/** "mychart" for the root, "mychart/charts/sub" for a subchart: the prefix of its template names. */
export function chartFullPath(c: Chart): string {
  return c.parent ? `${chartFullPath(c.parent)}/charts/${c.metadata.name}` : c.metadata.name;
}

export function isLibrary(c: Chart): boolean {
  return c.metadata.type === 'library';
}

/** The CRDs of the chart and its subcharts (files under crds/ ending in .yaml, .yml or .json). */
export function crdObjects(c: Chart): Array<{ name: string; filename: string; file: ChartFile }> {
  const out: Array<{ name: string; filename: string; file: ChartFile }> = [];
  for (const f of c.files) {
    if (f.name.startsWith('crds/') && /\.(ya?ml|json)$/.test(f.name)) out.push({ name: f.name, filename: `${chartFullPath(c)}/${f.name}`, file: f });
  }
  for (const d of c.dependencies) out.push(...crdObjects(d));
  return out;
}

/** A deep enough copy that dependency processing can change metadata, values and subcharts. */
export function cloneChart(c: Chart, parent?: Chart): Chart {
  const copy: Chart = {
    ...c,
    metadata: deepCopy(c.metadata),
    values: deepCopy(c.values),
    dependencies: [],
    parent,
  };
  copy.dependencies = c.dependencies.map((d) => cloneChart(d, copy));
  return copy;
}
