/**
 * @module Helm's rendering engine (pkg/engine): every template of a chart and its
 * subcharts parsed into one template set under Helm's names ("mychart/templates/x.yaml",
 * "mychart/charts/sub/templates/y.yaml"; deeper paths first so a parent's `define` wins),
 * then each non-partial executed with its chart's data (.Values scoped to the subchart,
 * .Chart, .Release, .Capabilities, .Files, .Subcharts, .Template). It adds Helm's own
 * functions: include (with Helm's recursion limit), tpl, required and fail (lint mode
 * lets them pass), and lookup. "<no value>" is removed from the output, and errors are
 * reworded as Helm prints them ("execution error at (file:line:col): message").
 */
import type { Client } from '../client/client.js';
import { ApiError } from '../api/errors.js';
import { mapKind } from './actions/kube.js';
import { chartFullPath, isLibrary, isRoot, type Chart, type ChartFile } from './chart/types.js';
import { globMatch } from './chart/match.js';
import { yamlMarshal } from './funcs/encoding.js';
import { helmFuncMap, WARN_END, WARN_START } from './funcs/index.js';
import { TemplateSet } from './template/index.js';
import { goFunc, GoError, goMethods, goTypeName, GoTyped, type GoFunc, type GoObject, type GoValue } from './template/values.js';

/** Helm's limit on nested `include`s of one template name. */
export const recursionMaxNums = 1000;
/**
 * Nested includes of any names: the JavaScript stack ends well before Helm's 1000 per name,
 * so skiff stops (with Helm's message) at this depth, far beyond what real charts nest.
 */
export const maxIncludeDepth = 250;

const warnRegex = new RegExp(`${WARN_START}([\\s\\S]*)${WARN_END}`);

/** A template that failed to parse or execute; `message` is what Helm prints after "Error: ". */
export class RenderError extends Error {
  override name = 'RenderError';
  /** Set when templates rendered but a document is not valid YAML (helm template suggests --debug). */
  invalidYaml = false;
  /** The rendered templates, when rendering itself succeeded. */
  files?: Map<string, string>;
}

/** The cluster's identity as templates see it (.Capabilities). */
export interface Capabilities {
  kubeVersion: { version: string; major: string; minor: string };
  apiVersions: string[];
  helmVersion: { version: string; gitCommit: string; gitTreeState: string; goVersion: string };
}

/** What `helm template` assumes without a cluster; skiff reports Kubernetes 1.32. */
export const defaultKubeVersion = 'v1.32.0';
export const helmVersion = 'v3.16.0';

/** Parses "v1.32.0" or "1.32" as --kube-version accepts it. */
export function parseKubeVersion(v: string): Capabilities['kubeVersion'] {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?([-+].*)?$/.exec(v.trim());
  if (!m) throw new RenderError(`invalid kube version '${v}': Invalid Semantic Version`);
  return { version: `v${m[1]}.${m[2]}.${m[3] ?? '0'}${m[4] ?? ''}`, major: m[1], minor: m[2] };
}

/** The API versions every cluster serves (Helm's DefaultVersionSet comes from client-go's scheme). */
export const defaultApiVersions: readonly string[] = [
  'v1',
  'admissionregistration.k8s.io/v1',
  'apiextensions.k8s.io/v1',
  'apiregistration.k8s.io/v1',
  'apps/v1',
  'authentication.k8s.io/v1',
  'authorization.k8s.io/v1',
  'autoscaling/v1',
  'autoscaling/v2',
  'batch/v1',
  'certificates.k8s.io/v1',
  'coordination.k8s.io/v1',
  'discovery.k8s.io/v1',
  'events.k8s.io/v1',
  'flowcontrol.apiserver.k8s.io/v1',
  'networking.k8s.io/v1',
  'node.k8s.io/v1',
  'policy/v1',
  'rbac.authorization.k8s.io/v1',
  'scheduling.k8s.io/v1',
  'storage.k8s.io/v1',
];

export function makeCapabilities(opts: { kubeVersion?: string; apiVersions?: string[] } = {}): Capabilities {
  return {
    kubeVersion: parseKubeVersion(opts.kubeVersion ?? defaultKubeVersion),
    apiVersions: [...defaultApiVersions, ...(opts.apiVersions ?? [])],
    helmVersion: { version: helmVersion, gitCommit: '', gitTreeState: 'clean', goVersion: 'go1.22' },
  };
}

function struct(typeName: string, fields: Record<string, GoValue>, methods?: Record<string, GoFunc>): GoObject {
  const o: GoObject = { ...fields };
  o[goTypeName] = typeName;
  if (methods) o[goMethods] = methods;
  return o;
}

/** .Capabilities as Go's *chartutil.Capabilities. */
export function capabilitiesValue(caps: Capabilities): GoObject {
  const kv = caps.kubeVersion;
  const apiVersions: GoValue[] = [...caps.apiVersions];
  // VersionSet is a []string with a Has method.
  (apiVersions as unknown as GoObject)[goMethods] = { Has: goFunc(['string'], (v: string) => caps.apiVersions.includes(v), { result: 'bool' }) };
  return struct('*chartutil.Capabilities', {
    APIVersions: apiVersions,
    KubeVersion: struct(
      'chartutil.KubeVersion',
      { Version: kv.version, Major: kv.major, Minor: kv.minor },
      {
        String: goFunc([], () => kv.version, { result: 'string' }),
        GitVersion: goFunc([], () => kv.version, { result: 'string' }),
      },
    ),
    HelmVersion: struct('version.BuildInfo', {
      Version: caps.helmVersion.version,
      GitCommit: caps.helmVersion.gitCommit,
      GitTreeState: caps.helmVersion.gitTreeState,
      GoVersion: caps.helmVersion.goVersion,
    }),
  });
}

/** .Chart: Helm's chart.Metadata exported fields plus IsRoot. */
export function chartValue(c: Chart): GoObject {
  const md = c.metadata;
  const strs = (v: unknown) => (Array.isArray(v) ? v.map(String) : null);
  return struct('struct { chart.Metadata; IsRoot bool }', {
    Name: md.name ?? '',
    Home: md.home ?? '',
    Sources: strs(md.sources),
    Version: md.version ?? '',
    Description: md.description ?? '',
    Keywords: strs(md.keywords),
    Maintainers: Array.isArray(md.maintainers)
      ? md.maintainers.map((m) => struct('*chart.Maintainer', { Name: m?.name ?? '', Email: m?.email ?? '', URL: m?.url ?? '' }))
      : null,
    Icon: md.icon ?? '',
    APIVersion: md.apiVersion ?? '',
    Condition: md.condition ?? '',
    Tags: md.tags ?? '',
    AppVersion: md.appVersion ?? '',
    Deprecated: md.deprecated ?? false,
    Annotations: md.annotations ? { ...md.annotations } : null,
    KubeVersion: md.kubeVersion ?? '',
    Dependencies: Array.isArray(md.dependencies)
      ? md.dependencies.map((d) =>
          struct('*chart.Dependency', {
            Name: d.name ?? '',
            Version: d.version ?? '',
            Repository: d.repository ?? '',
            Condition: d.condition ?? '',
            Tags: strs(d.tags),
            Enabled: d.enabled ?? false,
            ImportValues: (d['import-values'] as GoValue[] | undefined) ?? null,
            Alias: d.alias ?? '',
          }),
        )
      : null,
    Type: md.type ?? '',
    IsRoot: isRoot(c),
  });
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** .Files: Get, GetBytes, Glob, Lines, AsConfig, AsSecrets over the chart's non-template files. */
export function filesValue(files: ChartFile[] | Map<string, Buffer>, toYaml: (v: GoValue) => string): GoObject {
  const map = files instanceof Map ? files : new Map(files.map((f) => [f.name, f.data]));
  const asMap = (encode: (b: Buffer) => string): GoObject => {
    const m: GoObject = {};
    for (const [k, v] of map) m[baseName(k)] = encode(v);
    return m;
  };
  return struct('engine.files', {}, {
    Get: goFunc(['string'], (name: string) => map.get(name)?.toString('utf8') ?? '', { result: 'string' }),
    GetBytes: goFunc(['string'], (name: string) => new Uint8Array(map.get(name) ?? Buffer.alloc(0)), { result: '[]uint8' }),
    Glob: goFunc(['string'], (pattern: string) => {
      const out = new Map<string, Buffer>();
      for (const [k, v] of map) if (globMatch(pattern, k)) out.set(k, v);
      return filesValue(out, toYaml);
    }, { result: 'engine.files' }),
    Lines: goFunc(['string'], (name: string) => {
      const data = map.get(name);
      if (!data || data.length === 0) return [];
      let s = data.toString('utf8');
      if (s.endsWith('\n')) s = s.slice(0, -1);
      return s.split('\n');
    }, { result: '[]string' }),
    AsConfig: goFunc([], () => (map.size === 0 ? '' : toYaml(asMap((b) => b.toString('utf8')))), { result: 'string' }),
    AsSecrets: goFunc([], () => (map.size === 0 ? '' : toYaml(asMap((b) => b.toString('base64')))), { result: 'string' }),
  });
}

/** Go values of an object read from the cluster, as unstructured JSON decodes it (whole numbers are int64). */
export function unstructuredValue(v: unknown): GoValue {
  if (typeof v === 'number') return Number.isInteger(v) ? new GoTyped('int64', BigInt(v)) : v;
  if (Array.isArray(v)) return v.map(unstructuredValue);
  if (v && typeof v === 'object') {
    const out: GoObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = unstructuredValue(x);
    return out;
  }
  return (v ?? null) as GoValue;
}

/**
 * Answers `lookup` during rendering. Templates are synchronous and the cluster is not:
 * a pass answers from what it has and notes what it lacks; the engine fetches that and
 * renders again (templates are pure, so the last pass is the rendering of record).
 */
export class LookupCache {
  private readonly answers = new Map<string, { value?: GoValue; error?: string }>();
  private pending = new Map<string, [string, string, string, string]>();

  constructor(private readonly client: Client) {}

  get(args: [string, string, string, string]): GoValue {
    const key = JSON.stringify(args);
    const a = this.answers.get(key);
    if (a) {
      if (a.error !== undefined) throw new GoError(a.error);
      return a.value!;
    }
    this.pending.set(key, args);
    return {};
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }

  async fetchPending(): Promise<void> {
    const work = [...this.pending.entries()];
    this.pending = new Map();
    await Promise.all(work.map(async ([key, args]) => this.answers.set(key, await this.fetch(...args))));
  }

  private async fetch(apiVersion: string, kind: string, namespace: string, name: string): Promise<{ value?: GoValue; error?: string }> {
    let info;
    try {
      info = mapKind(apiVersion, kind);
    } catch {
      return { error: `unable to get apiresource from unstructured: ${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}, Kind=${kind}: no matches for kind "${kind}" in version "${apiVersion}"` };
    }
    const ns = info.namespaced && namespace !== '' ? namespace : undefined;
    try {
      const obj = name !== '' ? await this.client.get(info.gvr, ns, name) : await this.client.list(info.gvr, ns);
      return { value: unstructuredValue(obj) };
    } catch (e) {
      // Not found is an empty map, so `if not (lookup …)` works.
      if (e instanceof ApiError && e.code === 404) return { value: {} };
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }
}

export interface EngineOptions {
  /** missingkey=error: a missing map key fails instead of rendering empty. */
  strict?: boolean;
  /** `helm lint`: required and fail do not fail; lookup is the offline stub. */
  lintMode?: boolean;
  /** Answers lookup from the cluster; absent (template, dry-run): lookup returns {}. */
  lookup?: LookupCache;
  /** Where Helm's log lines go (missing required values in lint mode). */
  warn?: (message: string) => void;
}

interface Renderable {
  text: string;
  vals: GoObject;
  basePath: string;
}

/** The data of one chart (and, recursively, its subcharts), and its templates into `out` (Helm's recAllTpls). */
function collect(c: Chart, out: Map<string, Renderable>, parentVals: { Values: unknown; Release: GoValue; Capabilities: GoValue }, toYaml: (v: GoValue) => string): GoObject {
  const subcharts: GoObject = {};
  let values: unknown = {};
  if (isRoot(c)) values = parentVals.Values;
  else {
    const pv = parentVals.Values as Record<string, unknown> | null;
    const mine = pv && typeof pv === 'object' ? pv[c.metadata.name] : undefined;
    if (mine && typeof mine === 'object' && !Array.isArray(mine)) values = mine;
  }
  const next: GoObject = {
    Chart: chartValue(c),
    Files: filesValue(c.files, toYaml),
    Release: parentVals.Release,
    Capabilities: parentVals.Capabilities,
    Values: values as GoValue,
    Subcharts: subcharts,
  };
  for (const child of c.dependencies) {
    subcharts[child.metadata.name] = collect(child, out, { Values: next.Values, Release: next.Release ?? null, Capabilities: next.Capabilities ?? null }, toYaml);
  }
  const prefix = chartFullPath(c);
  for (const t of c.templates) {
    // A library chart contributes only its partials (definitions).
    if (isLibrary(c) && !baseName(t.name).startsWith('_')) continue;
    out.set(`${prefix}/${t.name}`, { text: t.data.toString('utf8'), vals: next, basePath: `${prefix}/templates` });
  }
  return next;
}

/** Helm's sortTemplates: deeper paths first, then reverse lexical order. */
function sortTemplates(names: string[]): string[] {
  const depth = (s: string) => s.split('/').length - 1;
  return [...names].sort((a, b) => depth(b) - depth(a) || (a < b ? 1 : a > b ? -1 : 0));
}

/** Helm's cleanupParseError. */
function parseErrorOf(filename: string, e: unknown): RenderError {
  const msg = e instanceof Error ? e.message : String(e);
  const tokens = msg.split(': ');
  if (tokens.length === 1) return new RenderError(`parse error in (${filename}): ${msg}`);
  return new RenderError(`parse error at (${tokens[1]}): ${tokens[tokens.length - 1]}`);
}

/** Helm's cleanupExecError: required/fail messages become "execution error at (location): message". */
function execErrorOf(filename: string, e: unknown): RenderError {
  const msg = e instanceof Error ? e.message : String(e);
  if (!msg.startsWith('template: ')) return new RenderError(msg);
  const first = msg.indexOf(': ');
  const second = msg.indexOf(': ', first + 2);
  if (second < 0) return new RenderError(`execution error in (${filename}): ${msg}`);
  const location = msg.slice(first + 2, second);
  const m = warnRegex.exec(msg.slice(second + 2));
  if (m) return new RenderError(`execution error at (${location}): ${m[1]}`);
  return new RenderError(msg);
}

/** Lint-mode and error-wrapping versions of Helm's template-level functions, closed over one template set. */
function engineFuncs(set: TemplateSet, includedNames: Map<string, number>, opts: EngineOptions): Record<string, GoFunc> {
  const warn = opts.warn ?? (() => {});
  const include = goFunc(['string', 'interface{}'], (name: string, data: GoValue) => {
    const n = includedNames.get(name) ?? 0;
    const depth = includedNames.get('\0depth') ?? 0;
    if (n > recursionMaxNums || depth >= maxIncludeDepth) throw new GoError(`rendering template has a nested reference name: ${name}: unable to execute template`);
    includedNames.set(name, n + 1);
    includedNames.set('\0depth', depth + 1);
    try {
      return set.execute(name, data);
    } catch (e) {
      // The JavaScript stack runs out before Helm's count does; report it as Helm reports the limit.
      // (String tests only: this runs with almost no stack left, where compiling a regexp can abort the process.)
      const msg = e instanceof Error ? e.message : '';
      if (e instanceof RangeError || (msg.startsWith('template: ') && msg.includes('exceeded maximum template depth') && !msg.includes('error calling'))) {
        throw new GoError(`rendering template has a nested reference name: ${name}: unable to execute template`);
      }
      throw e;
    } finally {
      includedNames.set(name, (includedNames.get(name) ?? 1) - 1);
      includedNames.set('\0depth', depth);
    }
  }, { result: 'string' });
  const tpl = goFunc(['string', 'interface{}'], (text: string, vals: GoValue) => {
    // Plain text needs no template (Helm 3.15+ returns it untouched).
    if (!text.includes('{{') && !text.includes('}}')) return text;
    const clone = set.clone();
    clone.addFuncs(engineFuncs(clone, includedNames, opts));
    try {
      clone.parse('gotpl', text);
    } catch (e) {
      throw new GoError(`cannot parse template ${goQuote(text)}: ${(e as Error).message}`);
    }
    let out: string;
    try {
      out = clone.execute('gotpl', vals);
    } catch (e) {
      throw new GoError(`error during tpl function execution for ${goQuote(text)}: ${(e as Error).message}`);
    }
    return out.replaceAll('<no value>', '');
  }, { result: 'string' });
  const fail = goFunc(['string'], (message: string) => {
    if (opts.lintMode) {
      warn(`[INFO] Fail: ${message}`);
      return '';
    }
    throw new GoError(`${WARN_START}${message}${WARN_END}`);
  }, { result: 'string' });
  const cache = opts.lintMode ? undefined : opts.lookup;
  const lookup = goFunc(['string', 'string', 'string', 'string'], (apiVersion: string, kind: string, namespace: string, name: string) =>
    cache ? cache.get([apiVersion, kind, namespace, name]) : {},
  { result: 'map[string]interface {}' });
  return { include, tpl, fail, lookup, getHostByName: goFunc(['string'], () => '', { result: 'string' }) };
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Top-level render data of a release (chartutil.ToRenderValues without the coalescing). */
export interface RenderValues {
  Values: Record<string, unknown>;
  Release: GoObject;
  Capabilities: GoObject;
}

/**
 * Renders every template of the chart tree (Engine.Render): a map from template name
 * ("mychart/templates/x.yaml") to output; partials are not rendered, NOTES.txt is.
 * Synchronous: lookups answer from `opts.lookup` (see LookupCache). Throws RenderError.
 */
export function renderTemplates(chart: Chart, top: RenderValues, opts: EngineOptions = {}): Map<string, string> {
  // Helm's funcMap(): sprig without env/expandenv, Helm's functions (required knows lint mode).
  const funcs = helmFuncMap({ lintMode: opts.lintMode, onInfo: opts.warn });
  const toYaml = (v: GoValue) => yamlMarshal(v).replace(/\n$/, '');
  const tpls = new Map<string, Renderable>();
  collect(chart, tpls, { Values: top.Values, Release: top.Release, Capabilities: top.Capabilities }, toYaml);
  const set = new TemplateSet({ missingKey: opts.strict ? 'error' : 'zero', funcs, name: 'gotpl' });
  const includedNames = new Map<string, number>();
  set.addFuncs(engineFuncs(set, includedNames, opts));
  const keys = sortTemplates([...tpls.keys()]);
  for (const name of keys) {
    try {
      set.parse(name, tpls.get(name)!.text);
    } catch (e) {
      throw parseErrorOf(name, e);
    }
  }
  const rendered = new Map<string, string>();
  for (const name of keys) {
    if (baseName(name).startsWith('_')) continue;
    const r = tpls.get(name)!;
    r.vals.Template = { Name: name, BasePath: r.basePath };
    let out: string;
    try {
      out = set.execute(name, r.vals);
    } catch (e) {
      if (e instanceof RangeError) throw new RenderError(`rendering template failed: ${e.message}`);
      throw execErrorOf(name, e);
    }
    rendered.set(name, out.replaceAll('<no value>', ''));
  }
  return rendered;
}

/** Renders, fetching what `lookup` asked for and rendering again until nothing is missing (at most `maxPasses`). */
export async function renderTemplatesWithLookups(chart: Chart, top: RenderValues, opts: EngineOptions & { client?: Client; maxPasses?: number } = {}): Promise<Map<string, string>> {
  if (!opts.client || opts.lintMode) return renderTemplates(chart, top, opts);
  const cache = opts.lookup ?? new LookupCache(opts.client);
  const maxPasses = opts.maxPasses ?? 8;
  for (let pass = 1; ; pass++) {
    let out: Map<string, string>;
    try {
      out = renderTemplates(chart, top, { ...opts, lookup: cache });
    } catch (e) {
      // A pass that had to answer {} may fail where the real object would not.
      if (!cache.hasPending() || pass >= maxPasses) throw e;
      await cache.fetchPending();
      continue;
    }
    if (!cache.hasPending() || pass >= maxPasses) return out;
    await cache.fetchPending();
  }
}
