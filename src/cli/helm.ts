/**
 * @module `skiff helm …`: the helm command line for the verbs skiff supports. The chart
 * verbs live here (template, lint, create, package, show, dependency list); the release
 * verbs (install, upgrade, …) come from ./helm-release.js. Output and exit codes follow
 * helm 3: results on stdout, "Error: …" on stderr with exit code 1.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { validateReleaseName } from '../helm/actions/common.js';
import { loadChart } from '../helm/chart/loader.js';
import { satisfies } from '../helm/chart/metadata.js';
import { crdObjects, type Chart } from '../helm/chart/types.js';
import { createChart } from '../helm/create.js';
import { makeCapabilities, RenderError } from '../helm/engine.js';
import { formatLintMessage, lintChart } from '../helm/lint.js';
import { marshalMetadata, packageChart } from '../helm/package.js';
import { renderChart, templateOutput } from '../helm/render.js';
import { addValuesFlags, valuesFromFlags, type ValuesFlags } from './helm-values.js';
import { registerReleaseCommands } from './helm-release.js';

export { addValuesFlags, valuesFromFlags, type ValuesFlags } from './helm-values.js';

/** A failure helm reports as "Error: <message>" with exit code 1. */
export class HelmCommandError extends Error {
  override name = 'HelmCommandError';
}

async function run(fn: () => Promise<void> | void): Promise<void> {
  // `skiff helm template … | head` closes stdout early: end quietly, as helm does on SIGPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  try {
    await fn();
  } catch (e) {
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];
const collectSplit = (v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(',').filter((s) => s !== '')];

interface TemplateFlags extends ValuesFlags {
  namespace?: string;
  showOnly?: string[];
  releaseName?: boolean;
  includeCrds?: boolean;
  skipCrds?: boolean;
  skipTests?: boolean;
  hooks?: boolean;
  kubeVersion?: string;
  apiVersions?: string[];
  isUpgrade?: boolean;
  outputDir?: string;
  generateName?: boolean;
  nameTemplate?: string;
  renderSubchartNotes?: boolean;
  skipSchemaValidation?: boolean;
  debug?: boolean;
}

/** Writes one manifest into --output-dir as helm does (appending when the file was already written). */
function writeToOutputDir(dir: string, name: string, content: string, written: Set<string>): void {
  const file = join(dir, name);
  mkdirSync(dirname(file), { recursive: true });
  const text = `---\n# Source: ${name}\n${content}\n`;
  if (written.has(file)) appendFileSync(file, text);
  else writeFileSync(file, text);
  written.add(file);
  process.stdout.write(`wrote ${file}\n`);
}

async function templateCommand(args: string[], o: TemplateFlags): Promise<void> {
  if (args.length === 0) throw new HelmCommandError('"helm template" requires at least 1 argument\n\nUsage:  helm template [NAME] [CHART] [flags]');
  if (args.length > 2) throw new HelmCommandError(`expected at most two arguments, unexpected arguments: ${args.slice(2).join(', ')}`);
  const chartPath = args.length === 2 ? args[1] : args[0];
  const chart = loadChart(chartPath);
  let name = args.length === 2 ? args[0] : 'release-name';
  if (o.generateName || o.nameTemplate) name = `${chart.metadata.name}-${Math.floor(Date.now() / 1000)}`;
  // action.CheckInstallable: only application charts install.
  if (chart.metadata.type && chart.metadata.type !== 'application') throw new HelmCommandError(`${chart.metadata.type} charts are not installable`);
  validateReleaseName(name);
  const values = valuesFromFlags(o);
  const namespace = o.namespace ?? 'default';
  let r;
  try {
    r = await renderChart({
      chart,
      values,
      release: { name, namespace, revision: 1, isInstall: !o.isUpgrade, isUpgrade: !!o.isUpgrade },
      capabilities: makeCapabilities({ kubeVersion: o.kubeVersion, apiVersions: o.apiVersions }),
      subNotes: o.renderSubchartNotes,
      skipSchemaValidation: o.skipSchemaValidation,
      warn: (m) => process.stderr.write(`${m}\n`),
    });
  } catch (e) {
    if (e instanceof RenderError && e.invalidYaml) {
      if (o.debug && e.files) {
        for (const [file, content] of [...e.files].sort(([a], [b]) => (a < b ? -1 : 1))) if (!file.endsWith('NOTES.txt')) process.stdout.write(`---\n# Source: ${file}\n${content}\n`);
      }
      throw new HelmCommandError(o.debug ? e.message : `${e.message}\n\nUse --debug flag to render out invalid YAML`);
    }
    throw e;
  }
  const noHooks = o.hooks === false;
  if (o.outputDir) {
    const dir = o.releaseName ? join(o.outputDir, name) : o.outputDir;
    const written = new Set<string>();
    if (o.includeCrds) for (const c of r.crds) writeToOutputDir(dir, c.name, c.content, written);
    for (const m of r.manifests) writeToOutputDir(dir, m.name, m.content, written);
    if (!noHooks) for (const h of r.hooks) if (!(o.skipTests && h.events?.includes('test'))) writeToOutputDir(dir, h.path ?? '', h.manifest ?? '', written);
    return;
  }
  process.stdout.write(templateOutput(r, { includeCrds: o.includeCrds && !o.skipCrds, showOnly: o.showOnly, skipTests: o.skipTests, noHooks }));
}

interface LintFlags extends ValuesFlags {
  strict?: boolean;
  quiet?: boolean;
  namespace?: string;
  kubeVersion?: string;
  withSubcharts?: boolean;
}

async function lintCommand(paths: string[], o: LintFlags): Promise<void> {
  if (paths.length === 0) paths = ['.'];
  const values = valuesFromFlags(o);
  let out = '';
  let failed = 0;
  let errorsOrWarnings = 0;
  const all: string[] = [];
  for (const p of paths) {
    all.push(p);
    if (o.withSubcharts && existsSync(join(p, 'charts'))) {
      for (const sub of readdirSync(join(p, 'charts')).sort()) {
        const sp = join(p, 'charts', sub);
        if (statSync(sp).isDirectory() && existsSync(join(sp, 'Chart.yaml'))) all.push(sp);
      }
    }
  }
  for (const p of all) {
    if (!existsSync(join(p, 'Chart.yaml'))) {
      out += `==> Linting ${p}\nError unable to check Chart.yaml file in chart: stat ${join(p, 'Chart.yaml')}: no such file or directory\n\n`;
      failed++;
      continue;
    }
    const result = await lintChart(p, { values, namespace: o.namespace, kubeVersion: o.kubeVersion });
    const threshold = o.strict ? 2 : 3;
    const failedHere = result.highest >= threshold;
    if (o.quiet && result.highest < 2) continue;
    out += `==> Linting ${p}\n`;
    for (const m of result.messages) {
      if (!o.quiet || m.severity !== 'INFO') out += `${formatLintMessage(m)}\n`;
    }
    if (result.highest >= 2) errorsOrWarnings++;
    if (failedHere) failed++;
    out += '\n';
  }
  process.stdout.write(out);
  const summary = `${all.length} chart(s) linted, ${failed} chart(s) failed`;
  if (failed > 0) throw new HelmCommandError(summary);
  if (!o.quiet || errorsOrWarnings > 0) process.stdout.write(`${summary}\n`);
}

const readmeNames = ['readme.md', 'readme.txt', 'readme'];

function findReadme(chart: Chart): Buffer | undefined {
  for (const n of readmeNames) {
    const f = chart.files.find((x) => x.name.toLowerCase() === n);
    if (f) return f.data;
  }
  return undefined;
}

function showCommand(what: 'all' | 'chart' | 'values' | 'readme' | 'crds', path: string): void {
  const chart = loadChart(path);
  const cf = marshalMetadata(chart.metadata);
  const valuesRaw = chart.raw.find((f) => f.name === 'values.yaml')?.data.toString('utf8');
  let out = '';
  if (what === 'chart' || what === 'all') out += `${cf}\n`;
  if (what === 'values' && valuesRaw !== undefined) out += `${valuesRaw}\n`;
  if (what === 'all' && valuesRaw !== undefined) out += `---\n${valuesRaw}\n`;
  const readme = findReadme(chart);
  if (what === 'readme' && readme) out += `${readme.toString('utf8')}\n`;
  if (what === 'all' && readme) out += `---\n${readme.toString('utf8')}\n`;
  if (what === 'crds' || what === 'all') for (const c of crdObjects(chart)) out += `---\n${c.file.data.toString('utf8')}\n`;
  process.stdout.write(out);
}

/** Pads columns as helm's uitable does (cells left-aligned, separated by a tab). */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('\t').trimEnd()).join('\n') + '\n';
}

function dependencyList(path: string): void {
  const chart = loadChart(path);
  const deps = chart.metadata.dependencies ?? [];
  if (deps.length === 0) {
    process.stdout.write(`WARNING: no dependencies at ${join(path, 'charts')}\n`);
    return;
  }
  const chartsDir = join(path, 'charts');
  const entries = existsSync(chartsDir) ? readdirSync(chartsDir) : [];
  const rows = [['NAME', 'VERSION', 'REPOSITORY', 'STATUS']];
  for (const d of deps) {
    let status = 'missing';
    const archive = entries.find((e) => e.startsWith(`${d.name}-`) && e.endsWith('.tgz'));
    const sub = chart.dependencies.find((c) => c.metadata.name === d.name);
    if (archive) {
      try {
        const c = loadChart(join(chartsDir, archive));
        status = c.metadata.name !== d.name ? 'misnamed' : d.version && !satisfies(c.metadata.version, d.version) ? 'wrong version' : 'ok';
      } catch {
        status = 'corrupt';
      }
    } else if (sub && existsSync(join(chartsDir, d.name))) {
      status = d.version && !satisfies(sub.metadata.version, d.version) ? 'wrong version' : 'unpacked';
    }
    rows.push([d.name, d.version ?? '', d.repository ?? '', status]);
  }
  let out = table(rows);
  const declared = new Set(deps.map((d) => d.name));
  for (const c of chart.dependencies) if (!declared.has(c.metadata.name)) out += `WARNING: "${c.metadata.name}" is not in Chart.yaml.\n`;
  process.stdout.write(`${out}\n`);
}

export function registerHelmCommand(program: Command): void {
  const helm = program.command('helm').description('Helm-compatible chart tool');

  addValuesFlags(helm.command('template'))
    .description('locally render templates')
    .argument('[args...]', '[NAME] CHART')
    .option('-n, --namespace <namespace>', 'namespace scope for this request')
    .option('-s, --show-only <path>', 'only show manifests rendered from the given templates', collect)
    .option('--release-name', 'use release name in the output-dir path')
    .option('--include-crds', 'include CRDs in the templated output')
    .option('--skip-crds', 'if set, no CRDs will be installed')
    .option('--skip-tests', 'skip tests from templated output')
    .option('--no-hooks', 'prevent hooks from running during install')
    .option('--kube-version <version>', 'Kubernetes version used for Capabilities.KubeVersion')
    .option('-a, --api-versions <versions>', 'Kubernetes api versions used for Capabilities.APIVersions', collectSplit)
    .option('--is-upgrade', 'set .Release.IsUpgrade instead of .Release.IsInstall')
    .option('--output-dir <dir>', 'writes the executed templates to files in output-dir instead of stdout')
    .option('-g, --generate-name', 'generate the name (and omit the NAME parameter)')
    .option('--name-template <template>', 'specify template used to name the release')
    .option('--render-subchart-notes', 'if set, render subchart notes along with the parent')
    .option('--skip-schema-validation', 'if set, disables JSON schema validation')
    .option('--debug', 'enable verbose output')
    .action((args: string[], o: TemplateFlags) => run(() => templateCommand(args, o)));

  addValuesFlags(helm.command('lint'))
    .description('examine a chart for possible issues')
    .argument('[paths...]', 'chart paths')
    .option('--strict', 'fail on lint warnings')
    .option('--quiet', 'print only warnings and errors')
    .option('--with-subcharts', 'lint dependent charts')
    .option('-n, --namespace <namespace>', 'namespace scope for this request')
    .option('--kube-version <version>', 'Kubernetes version used for capabilities and deprecation checks')
    .action((paths: string[], o: LintFlags) => run(() => lintCommand(paths, o)));

  helm
    .command('create')
    .description('create a new chart with the given name')
    .argument('<name>', 'chart name (a path: its last element is the name)')
    .action((name: string) =>
      run(() => {
        process.stdout.write(`Creating ${name}\n`);
        createChart(name, (m) => process.stderr.write(`${m}\n`));
      }),
    );

  helm
    .command('package')
    .description('package a chart directory into a chart archive')
    .argument('<paths...>', 'chart directories')
    .option('-d, --destination <dir>', 'location to write the chart.', '.')
    .option('--version <version>', 'set the version on the chart to this semver version')
    .option('--app-version <version>', 'set the appVersion on the chart to this version')
    .action((paths: string[], o: { destination: string; version?: string; appVersion?: string }) =>
      run(async () => {
        for (const p of paths) {
          if (!existsSync(p) || !statSync(p).isDirectory()) throw new HelmCommandError(`stat ${p}: no such file or directory`);
          const out = await packageChart(p, { destination: o.destination, version: o.version, appVersion: o.appVersion });
          process.stdout.write(`Successfully packaged chart and saved it to: ${resolve(out)}\n`);
        }
      }),
    );

  const show = helm.command('show').alias('inspect').description('show information of a chart');
  for (const [verb, desc] of [
    ['all', "show all information of the chart"],
    ['chart', "show the chart's definition"],
    ['values', "show the chart's values"],
    ['readme', "show the chart's README"],
    ['crds', "show the chart's CRDs"],
  ] as const) {
    show
      .command(verb)
      .description(desc)
      .argument('<chart>', 'chart path (directory or .tgz)')
      .action((path: string) => run(() => showCommand(verb, path)));
  }

  const dep = helm.command('dependency').alias('dep').description("manage a chart's dependencies");
  dep
    .command('list')
    .alias('ls')
    .description('list the dependencies for the given chart')
    .argument('[chart]', 'chart path', '.')
    .action((path: string) => run(() => dependencyList(path)));

  registerReleaseCommands(helm);
}
