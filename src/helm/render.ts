/**
 * @module Rendering a chart for a release, as Helm's install/upgrade/template do before
 * touching the cluster (pkg/action renderResources). The API the release actions use:
 *
 * ```ts
 * const r = await renderChart({ chart, values, release: { name, namespace, revision, isInstall, isUpgrade }, capabilities, client });
 * r.manifests  // [{ name: 'mychart/templates/deploy.yaml', content: 'apiVersion: …', kind: 'Deployment' }], one per
 *              // YAML document, empty ones dropped, in Helm's InstallOrder by kind (then file name, then position)
 * r.hooks      // Helm's release.Hook records (helm.sh/hook events, hook-weight, hook-delete-policy), ordered by kind
 * r.notes      // rendered NOTES.txt of the top chart (and of subcharts with subNotes), or undefined
 * r.crds       // crds/ files of the chart tree ({ name: 'mychart/crds/x.yaml', content })
 * r.values     // the computed values (user values over chart defaults, after dependency processing)
 * r.chart      // the chart tree after dependency processing (disabled subcharts pruned, aliases applied)
 * ```
 *
 * Steps, in Helm's order: dependencies (condition/tags/alias/import-values) on a copy of the
 * chart, coalescing user values over defaults, values.schema.json validation, the chart's
 * kubeVersion constraint, the engine (lookup answered by `client` when given, `{}` otherwise),
 * NOTES.txt set apart, then documents split and sorted into manifests and hooks.
 * Errors are RenderError/SchemaValidationError/… with the message Helm prints after "Error: ".
 */
import type { Client } from '../client/client.js';
import { manifestString, sortManifests, type ManifestDoc } from './actions/manifests.js';
import { processDependencies } from './chart/dependencies.js';
import { goPathMatch } from './chart/match.js';
import { satisfies } from './chart/metadata.js';
import { cloneChart, crdObjects, type Chart } from './chart/types.js';
import { capabilitiesValue, makeCapabilities, renderTemplatesWithLookups, RenderError, type Capabilities } from './engine.js';
import type { Hook } from './release/types.js';
import { coalesceValues, type Values, type WarnFn } from './values/coalesce.js';
import { validateAgainstSchema } from './values/schema.js';
import type { GoObject } from './template/values.js';

export interface ReleaseInfo {
  name: string;
  namespace: string;
  /** Defaults to 1. */
  revision?: number;
  /** Defaults to !isUpgrade. */
  isInstall?: boolean;
  isUpgrade?: boolean;
}

export interface RenderChartOptions {
  /** The chart as loaded; it is not modified. */
  chart: Chart;
  /** User-supplied values (-f/--set…), over the chart's values.yaml. */
  values?: Values;
  release: ReleaseInfo;
  /** Defaults to Kubernetes v1.32.0 with the built-in API versions (as `helm template`). */
  capabilities?: Capabilities;
  /** The cluster `lookup` reads; absent (template, client-side dry run): lookup returns {}. */
  client?: Client;
  /** missingkey=error */
  strict?: boolean;
  /** helm lint: required/fail do not fail, lookup is offline. */
  lintMode?: boolean;
  /** Also render subcharts' NOTES.txt (--render-subchart-notes). */
  subNotes?: boolean;
  skipSchemaValidation?: boolean;
  /** Helm's warnings (coalescing conflicts, bad conditions, lint-mode notes). */
  warn?: WarnFn;
}

export interface RenderChartResult {
  manifests: ManifestDoc[];
  hooks: Hook[];
  notes?: string;
  crds: Array<{ name: string; content: string }>;
  values: Values;
  chart: Chart;
  /** Every rendered template by name, before splitting (NOTES.txt included). */
  files: Map<string, string>;
}

/** .Release as Helm builds it (a map, so a missing key renders empty rather than failing). */
export function releaseValue(r: ReleaseInfo): GoObject {
  const isUpgrade = r.isUpgrade ?? false;
  return {
    Name: r.name,
    Namespace: r.namespace,
    IsUpgrade: isUpgrade,
    IsInstall: r.isInstall ?? !isUpgrade,
    Revision: BigInt(r.revision ?? 1),
    Service: 'Helm',
  };
}

/** Dependencies processed and values computed, schema checked: what the engine renders with. */
export function prepareChart(chart: Chart, userValues: Values, opts: { skipSchemaValidation?: boolean; warn?: WarnFn } = {}): { chart: Chart; values: Values } {
  const copy = cloneChart(chart);
  processDependencies(copy, userValues, opts.warn);
  const values = coalesceValues(copy, userValues, opts.warn);
  if (!opts.skipSchemaValidation) validateAgainstSchema(copy, values);
  return { chart: copy, values };
}

export async function renderChart(opts: RenderChartOptions): Promise<RenderChartResult> {
  const { chart, values } = prepareChart(opts.chart, opts.values ?? {}, opts);
  const caps = opts.capabilities ?? makeCapabilities();
  if (chart.metadata.kubeVersion && !satisfies(caps.kubeVersion.version, chart.metadata.kubeVersion)) {
    throw new RenderError(`chart requires kubeVersion: ${chart.metadata.kubeVersion} which is incompatible with Kubernetes ${caps.kubeVersion.version}`);
  }
  const files = await renderTemplatesWithLookups(
    chart,
    { Values: values, Release: releaseValue(opts.release), Capabilities: capabilitiesValue(caps) },
    { strict: opts.strict, lintMode: opts.lintMode, client: opts.client, warn: opts.warn },
  );
  const notesParts: string[] = [];
  const topNotes = `${chart.metadata.name}/templates/NOTES.txt`;
  const rest: Array<{ name: string; content: string }> = [];
  // Helm walks a Go map here; sorted names keep the joined notes deterministic.
  for (const name of [...files.keys()].sort()) {
    const content = files.get(name)!;
    if (name.endsWith('NOTES.txt')) {
      if (opts.subNotes || name === topNotes) notesParts.push(content);
      continue;
    }
    rest.push({ name, content });
  }
  let sorted;
  try {
    sorted = sortManifests(rest);
  } catch (e) {
    const err = new RenderError((e as Error).message);
    err.invalidYaml = true;
    err.files = files;
    throw err;
  }
  return {
    manifests: sorted.manifests,
    hooks: sorted.hooks,
    notes: notesParts.length ? notesParts.join('\n') : undefined,
    crds: crdObjects(chart).map((c) => ({ name: c.filename, content: c.file.data.toString('utf8') })),
    values,
    chart,
    files,
  };
}

export interface TemplateOutputOptions {
  includeCrds?: boolean;
  /** --show-only: template paths relative to the chart's parent ("templates/x.yaml"), globs allowed. */
  showOnly?: string[];
  skipTests?: boolean;
  noHooks?: boolean;
}

/** Thrown for --show-only naming no rendered template (Helm's wording). */
export class ShowOnlyError extends Error {
  override name = 'ShowOnlyError';
}

/** What `helm template` prints: CRDs (with --include-crds), the manifest, then the hooks. */
export function templateOutput(r: RenderChartResult, opts: TemplateOutputOptions = {}): string {
  let out = '';
  if (opts.includeCrds) for (const c of r.crds) out += `---\n# Source: ${c.name}\n${c.content}\n`;
  out += manifestString(r.manifests);
  let text = `${out.trim()}\n`;
  if (!opts.noHooks) {
    for (const h of r.hooks) {
      if (opts.skipTests && (h.events ?? []).includes('test')) continue;
      text += `---\n# Source: ${h.path}\n${h.manifest}\n`;
    }
  }
  // Helm prints the trimmed manifest with a newline even when it is empty.
  if (!opts.showOnly?.length) return text;
  const docs = text
    .split(/(?:^|\s*\n)---\s*/)
    .map((d) => d.trim())
    .filter((d) => d !== '');
  const picked: string[] = [];
  for (const pattern of opts.showOnly) {
    const want = pattern.replace(/\\/g, '/');
    let missing = true;
    for (const doc of docs) {
      const m = /# Source: [^/]+\/(.+)/.exec(doc);
      if (!m) continue;
      if (!goMatch(want, m[1])) continue;
      picked.push(doc);
      missing = false;
    }
    if (missing) throw new ShowOnlyError(`could not find template ${pattern} in chart`);
  }
  return picked.map((d) => `---\n${d}\n`).join('');
}


function goMatch(pattern: string, name: string): boolean {
  try {
    return goPathMatch(pattern, name);
  } catch {
    return false;
  }
}
