/** @module The release verbs of `skiff helm`: install, upgrade, rollback, uninstall, list, history, status, get, test — flags, output and errors as helm 3's. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConnectionError, HttpClient } from '../client/http.js';
import type { Client } from '../client/client.js';
import {
  ActionConfig,
  chartSource,
  generateReleaseName,
  getAllText,
  getRelease,
  history,
  historyElement,
  historyTable,
  hooksText,
  install,
  list,
  listElement,
  listTable,
  notesText,
  releaseTest,
  rollback,
  statusText,
  uninstall,
  upgrade,
  computedValues,
  toYaml,
  type ChartSource,
} from '../helm/actions/index.js';
import { loadChart } from '../helm/chart/loader.js';
import { ReleaseNotFoundError } from '../helm/release/storage.js';
import type { Release } from '../helm/release/types.js';
import { addValuesFlags, valuesFromFlags } from './helm-values.js';

/** A helm command failed; main prints "Error: " + message and exits 1. */
class HelmCliError extends Error {
  override name = 'HelmCliError';
}

/** Go's time.ParseDuration for --timeout ("5m0s", "300s", "1h30m", "500ms"). */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new HelmCliError(`time: invalid duration "${s}"`);
    total += Number(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  if (pos === 0) throw new HelmCliError(`time: invalid duration "${s}"`);
  return total;
}

interface GlobalOpts {
  namespace?: string;
  kubeconfig?: string;
  kubeContext?: string;
  debug?: boolean;
}

/** Runs an action with a cluster client; maps failures to helm's "Error: …" and exit code 1. */
async function withCluster(cmd: Command, prefix: string, fn: (cfg: ActionConfig, g: GlobalOpts) => Promise<void>): Promise<void> {
  const g = cmd.optsWithGlobals() as GlobalOpts;
  let client: HttpClient | undefined;
  try {
    client = HttpClient.fromKubeconfig(g.kubeconfig, g.kubeContext, { fieldManager: 'helm', userAgent: 'Helm/3 skiff' });
    const namespace = g.namespace || process.env.HELM_NAMESPACE || client.namespace;
    const log = g.debug ? (m: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), component: 'helm', ...m })}\n`) : undefined;
    await fn(new ActionConfig({ client: client as Client, namespace, log }), g);
  } catch (err) {
    // helm's wording when the API server cannot be reached.
    const msg = err instanceof ConnectionError ? `Kubernetes cluster unreachable: ${err.message}` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`Error: ${prefix}${msg}\n`);
    process.exitCode = 1;
  } finally {
    client?.close();
  }
}

function clusterFlags(c: Command): Command {
  return c
    .option('-n, --namespace <namespace>', 'namespace scope for this request')
    .option('--kubeconfig <path>', 'path to the kubeconfig file')
    .option('--kube-context <name>', 'name of the kubeconfig context to use')
    .option('--debug', 'enable verbose output');
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** --timeout as a Go duration, in milliseconds (default 5m0s). */
function timeoutOption(): Option {
  return new Option('--timeout <duration>', 'time to wait for any individual Kubernetes operation (like Jobs for hooks)')
    .argParser((v: string) => {
      try {
        return parseDuration(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    })
    .default(300_000, '5m0s');
}

function outputOption(): Option {
  return new Option('-o, --output <format>', 'prints the output in the specified format').choices(['table', 'json', 'yaml']).default('table');
}

/** The chart at a path (directory or .tgz), rendering with lookups against the cluster. */
function loadSource(path: string, cfg: ActionConfig): ChartSource {
  return chartSource(loadChart(path), { client: cfg.client });
}

function printRelease(rel: Release, output: string, opts: { debug?: boolean; showDescription?: boolean } = {}): void {
  if (output === 'json') process.stdout.write(`${JSON.stringify(rel)}\n`);
  else if (output === 'yaml') process.stdout.write(toYaml(rel));
  else process.stdout.write(statusText(rel, opts));
}

function printData(data: unknown, output: string, table: () => string): void {
  if (output === 'json') process.stdout.write(`${JSON.stringify(data)}\n`);
  else if (output === 'yaml') process.stdout.write(toYaml(data));
  else process.stdout.write(table());
}

const revisionArg = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`strconv.ParseInt: parsing "${v}": invalid syntax`);
  return n;
};

export function registerReleaseCommands(helm: Command): void {
  addValuesFlags(clusterFlags(helm.command('install')))
    .description('install a chart')
    .argument('[args...]', 'NAME CHART, or CHART with --generate-name')
    .option('-g, --generate-name', 'generate the name (and omit the NAME parameter)')
    .option('--create-namespace', 'create the release namespace if not present')
    .option('--wait', 'wait until all resources are ready before marking the release successful')
    .option('--wait-for-jobs', 'with --wait, also wait for Jobs to complete')
    .addOption(timeoutOption())
    .option('--atomic', 'delete the installation on failure (sets --wait)')
    .option('--dry-run', 'simulate an install')
    .option('--description <text>', 'add a custom description')
    .option('--no-hooks', 'prevent hooks from running during install')
    .option('--replace', 're-use the given name, only if that name is a deleted release')
    .addOption(outputOption())
    .action(async (args: string[], o, cmd: Command) => {
      const argError =
        args.length === 0
          ? '"helm install" requires at least 1 argument\n\nUsage:  helm install [NAME] [CHART] [flags]'
          : !o.generateName && args.length === 1
            ? 'must either provide a name or specify --generate-name'
            : args.length > (o.generateName ? 1 : 2)
              ? `expected at most ${o.generateName ? 'one argument' : 'two arguments'}, unexpected arguments: ${args.slice(o.generateName ? 1 : 2).join(', ')}`
              : undefined;
      if (argError) {
        process.stderr.write(`Error: ${argError}\n`);
        process.exitCode = 1;
        return;
      }
      await withCluster(cmd, 'INSTALLATION FAILED: ', async (cfg, g) => {
        const chartPath = o.generateName ? args[0] : args[1];
        const name = o.generateName ? generateReleaseName(chartPath, cfg.clock()) : args[0];
        const rel = await install(cfg, loadSource(chartPath, cfg), {
          releaseName: name,
          values: valuesFromFlags(o),
          createNamespace: o.createNamespace,
          wait: o.wait,
          waitForJobs: o.waitForJobs,
          timeoutMs: o.timeout,
          atomic: o.atomic,
          dryRun: o.dryRun,
          description: o.description,
          noHooks: o.hooks === false,
          replace: o.replace,
        });
        printRelease(rel, o.output, { debug: g.debug });
      });
    });

  addValuesFlags(clusterFlags(helm.command('upgrade')))
    .description('upgrade a release')
    .argument('<release>')
    .argument('<chart>')
    .option('-i, --install', 'if a release by this name does not already exist, run an install')
    .option('--create-namespace', 'with --install, create the release namespace if not present')
    .option('--reuse-values', "reuse the last release's values and merge in any overrides")
    .option('--reset-values', "reset the values to the ones built into the chart")
    .option('--wait', 'wait until all resources are ready before marking the release successful')
    .option('--wait-for-jobs', 'with --wait, also wait for Jobs to complete')
    .addOption(timeoutOption())
    .option('--atomic', 'roll back changes made in case of failed upgrade (sets --wait)')
    .option('--dry-run', 'simulate an upgrade')
    .option('--description <text>', 'add a custom description')
    .option('--no-hooks', 'disable pre/post upgrade hooks')
    .option('--history-max <n>', 'limit the maximum number of revisions saved per release (0 for no limit)', '10')
    .addOption(outputOption())
    .action(async (name: string, chartPath: string, o, cmd: Command) => {
      await withCluster(cmd, 'UPGRADE FAILED: ', async (cfg, g) => {
        const source = loadSource(chartPath, cfg);
        const values = valuesFromFlags(o);
        const common = { wait: o.wait, waitForJobs: o.waitForJobs, timeoutMs: o.timeout, atomic: o.atomic, dryRun: o.dryRun, description: o.description, noHooks: o.hooks === false };
        const past = o.install ? await cfg.releases.history(name) : [];
        // upgrade --install also takes over a release uninstalled with --keep-history.
        if (o.install && (past.length === 0 || past[past.length - 1].info.status === 'uninstalled')) {
          process.stdout.write(`Release "${name}" does not exist. Installing it now.\n`);
          const rel = await install(cfg, source, { releaseName: name, values, createNamespace: o.createNamespace, replace: past.length > 0, ...common });
          printRelease(rel, o.output, { debug: g.debug });
          return;
        }
        let rel: Release;
        try {
          rel = await upgrade(cfg, name, source, { values, reuseValues: o.reuseValues, resetValues: o.resetValues, historyMax: Number(o.historyMax), ...common });
        } catch (err) {
          if (err instanceof ReleaseNotFoundError) throw new HelmCliError(`"${name}" has no deployed releases`);
          throw err;
        }
        if (o.output === 'table') process.stdout.write(`Release "${name}" has been upgraded. Happy Helming!\n`);
        printRelease(rel, o.output, { debug: g.debug });
      });
    });

  clusterFlags(helm.command('rollback'))
    .description('roll back a release to a previous revision')
    .argument('<release>')
    .argument('[revision]')
    .option('--wait', 'wait until all resources are ready')
    .option('--wait-for-jobs', 'with --wait, also wait for Jobs to complete')
    .addOption(timeoutOption())
    .option('--dry-run', 'simulate a rollback')
    .option('--no-hooks', 'prevent hooks from running during rollback')
    .option('--history-max <n>', 'limit the maximum number of revisions saved per release (0 for no limit)', '10')
    .action(async (name: string, revision: string | undefined, o, cmd: Command) => {
      await withCluster(cmd, '', async (cfg) => {
        const rev = revision === undefined ? 0 : Number(revision);
        if (!Number.isInteger(rev)) throw new HelmCliError(`invalid argument "${revision}" for revision: strconv.Atoi: parsing "${revision}": invalid syntax`);
        await rollback(cfg, name, { revision: rev, wait: o.wait, waitForJobs: o.waitForJobs, timeoutMs: o.timeout, dryRun: o.dryRun, noHooks: o.hooks === false, historyMax: Number(o.historyMax) });
        process.stdout.write('Rollback was a success! Happy Helming!\n');
      });
    });

  clusterFlags(helm.command('uninstall'))
    .aliases(['del', 'delete', 'un'])
    .description('uninstall a release')
    .argument('<releases...>')
    .option('--keep-history', 'remove all associated resources and mark the release as deleted, but retain the release history')
    .option('--no-hooks', 'prevent hooks from running during uninstallation')
    .option('--wait', 'wait until all the resources are deleted')
    .addOption(timeoutOption())
    .option('--dry-run', 'simulate an uninstall')
    .option('--description <text>', 'add a custom description')
    .action(async (names: string[], o, cmd: Command) => {
      await withCluster(cmd, '', async (cfg) => {
        for (const name of names) {
          const res = await uninstall(cfg, name, { keepHistory: o.keepHistory, noHooks: o.hooks === false, wait: o.wait, timeoutMs: o.timeout, dryRun: o.dryRun, description: o.description });
          if (res.info) process.stdout.write(`${res.info}\n`);
          process.stdout.write(`release "${name}" uninstalled\n`);
        }
      });
    });

  clusterFlags(helm.command('list'))
    .alias('ls')
    .description('list releases')
    .option('-a, --all', 'show all releases without any filter applied')
    .option('-A, --all-namespaces', 'list releases across all namespaces')
    .option('-q, --short', 'output short (quiet) listing format')
    .option('-f, --filter <regex>', 'a regular expression; releases that match are listed')
    .option('-l, --selector <selector>', 'selector (label query) to filter on')
    .option('-d, --date', 'sort by release date')
    .option('-r, --reverse', 'reverse the sort order')
    .option('-m, --max <n>', 'maximum number of releases to fetch', '256')
    .option('--offset <n>', 'next release index in the list', '0')
    .option('--deployed', 'show deployed releases')
    .option('--failed', 'show failed releases')
    .option('--pending', 'show pending releases')
    .option('--superseded', 'show superseded releases')
    .option('--uninstalled', 'show uninstalled releases (if --keep-history was used)')
    .option('--uninstalling', 'show releases that are currently being uninstalled')
    .addOption(outputOption())
    .action(async (o, cmd: Command) => {
      await withCluster(cmd, '', async (cfg) => {
        const rels = await list(cfg, {
          all: o.all,
          allNamespaces: o.allNamespaces,
          filter: o.filter,
          selector: o.selector,
          byDate: o.date,
          reverse: o.reverse,
          max: Number(o.max),
          offset: Number(o.offset),
          deployed: o.deployed,
          failed: o.failed,
          pending: o.pending,
          superseded: o.superseded,
          uninstalled: o.uninstalled,
          uninstalling: o.uninstalling,
        });
        if (o.short) {
          const names = rels.map((r) => r.name);
          printData(names, o.output, () => names.map((n) => `${n}\n`).join(''));
          return;
        }
        printData(rels.map(listElement), o.output, () => listTable(rels));
      });
    });

  clusterFlags(helm.command('history'))
    .alias('hist')
    .description('fetch release history')
    .argument('<release>')
    .option('--max <n>', 'maximum number of revisions to include in history', '256')
    .addOption(outputOption())
    .action(async (name: string, o, cmd: Command) => {
      await withCluster(cmd, '', async (cfg) => {
        const h = await history(cfg, name, Number(o.max));
        printData(h.map(historyElement), o.output, () => historyTable(h));
      });
    });

  clusterFlags(helm.command('status'))
    .description('display the status of the named release')
    .argument('<release>')
    .option('--revision <n>', 'if set, display the status of the named release with revision', revisionArg)
    .option('--show-desc', 'if set, display the description message of the named release')
    .addOption(outputOption())
    .action(async (name: string, o, cmd: Command) => {
      await withCluster(cmd, '', async (cfg, g) => {
        printRelease(await getRelease(cfg, name, o.revision ?? 0), o.output, { debug: g.debug, showDescription: o.showDesc });
      });
    });

  const get = helm.command('get').description('download extended information of a named release');
  const getCmd = (sub: string, description: string) =>
    clusterFlags(get.command(sub)).description(description).argument('<release>').option('--revision <n>', 'get the named release with revision', revisionArg);
  getCmd('values', 'download the values file for a named release')
    .option('-a, --all', 'dump all (computed) values')
    .addOption(outputOption())
    .action(async (name: string, o, cmd: Command) => {
      await withCluster(cmd, '', async (cfg) => {
        const rel = await getRelease(cfg, name, o.revision ?? 0);
        const vals = o.all ? computedValues(rel) : (rel.config ?? null);
        printData(vals, o.output, () => `${o.all ? 'COMPUTED VALUES' : 'USER-SUPPLIED VALUES'}:\n${toYaml(vals)}`);
      });
    });
  getCmd('manifest', 'download the manifest for a named release').action(async (name: string, o, cmd: Command) => {
    await withCluster(cmd, '', async (cfg) => {
      process.stdout.write(`${(await getRelease(cfg, name, o.revision ?? 0)).manifest ?? ''}\n`);
    });
  });
  getCmd('notes', 'download the notes for a named release').action(async (name: string, o, cmd: Command) => {
    await withCluster(cmd, '', async (cfg) => {
      process.stdout.write(notesText(await getRelease(cfg, name, o.revision ?? 0)));
    });
  });
  getCmd('hooks', 'download all hooks for a named release').action(async (name: string, o, cmd: Command) => {
    await withCluster(cmd, '', async (cfg) => {
      process.stdout.write(hooksText(await getRelease(cfg, name, o.revision ?? 0)));
    });
  });
  getCmd('all', 'download all information for a named release').action(async (name: string, o, cmd: Command) => {
    await withCluster(cmd, '', async (cfg) => {
      process.stdout.write(getAllText(await getRelease(cfg, name, o.revision ?? 0)));
    });
  });

  clusterFlags(helm.command('test'))
    .description('run tests for a release')
    .argument('<release>')
    .addOption(timeoutOption())
    .option('--filter <filters>', 'specify tests by attribute (name=test1 or !name=test1)', collect)
    .option('--hide-notes', 'if set, do not show notes in test output')
    .action(async (name: string, o, cmd: Command) => {
      await withCluster(cmd, '', async (cfg, g) => {
        const include: string[] = [];
        const exclude: string[] = [];
        for (const f of ((o.filter as string[] | undefined) ?? []).flatMap((s) => s.split(','))) {
          const m = /^(!?)name=(.*)$/.exec(f.trim());
          if (m) (m[1] ? exclude : include).push(m[2]);
        }
        const { release, error } = await releaseTest(cfg, name, { timeoutMs: o.timeout, filters: { include, exclude } });
        process.stdout.write(statusText(release, { debug: g.debug, hideNotes: o.hideNotes }));
        if (error) throw error;
      });
    });
}
