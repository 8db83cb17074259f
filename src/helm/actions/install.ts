/**
 * @module `helm install` (Helm 3's action.Install): render, record revision 1 as
 * pending-install, run pre-install hooks, create the objects in install order, wait if
 * asked, run post-install hooks, mark deployed; on failure mark failed and, with
 * --atomic, uninstall again.
 */
import { ApiError } from '../../api/errors.js';
import { Resources } from '../../client/client.js';
import type { Release } from '../release/types.js';
import { defaultTimeoutMs, type ActionConfig, type ChartSource } from './config.js';
import { errorMessage, HelmActionError, plainValues, releaseResources, validateReleaseName } from './common.js';
import { execHooks } from './hooks.js';
import { markOwned } from './kube.js';
import { manifestString, sortManifests } from './manifests.js';
import { uninstall } from './uninstall.js';

export interface InstallOptions {
  releaseName: string;
  /** User-supplied values (-f, --set...), stored as the release's config. */
  values: Record<string, unknown>;
  createNamespace?: boolean;
  wait?: boolean;
  waitForJobs?: boolean;
  /** Helm's --timeout (default 5m). */
  timeoutMs?: number;
  /** --atomic: uninstall on failure; implies --wait. */
  atomic?: boolean;
  dryRun?: boolean;
  description?: string;
  noHooks?: boolean;
  /** --replace: re-use the name of an uninstalled or failed release. */
  replace?: boolean;
}

/** Helm's --generate-name: the chart path's base name (up to its first dot) and the Unix time. */
export function generateReleaseName(chartPath: string, now: Date): string {
  let base = chartPath.replace(/\/+$/, '').split('/').pop() ?? '';
  if (base === '.' || base === '') base = 'chart';
  const dot = base.indexOf('.');
  if (dot > 0) base = base.slice(0, dot);
  return `${base}-${Math.floor(now.getTime() / 1000)}`;
}

/** Renders a chart for a release: the manifest string, hooks and notes. */
export async function renderRelease(
  chart: ChartSource,
  opts: { values: Record<string, unknown>; chartValues?: Record<string, unknown>; release: { name: string; namespace: string; revision: number; isInstall: boolean; isUpgrade: boolean }; dryRun: boolean },
): Promise<Pick<Release, 'manifest' | 'hooks'> & { notes: string }> {
  const out = await chart.render(opts);
  const sorted = sortManifests(out.manifests);
  return { manifest: manifestString(sorted.manifests), hooks: out.hooks ?? sorted.hooks, notes: out.notes ?? '' };
}

export async function install(cfg: ActionConfig, chart: ChartSource, opts: InstallOptions): Promise<Release> {
  const name = opts.releaseName;
  validateReleaseName(name);
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  const wait = opts.wait || opts.atomic;
  if (!opts.dryRun) {
    const history = await cfg.releases.history(name);
    const last = history[history.length - 1];
    if (last && !(opts.replace && (last.info.status === 'uninstalled' || last.info.status === 'failed'))) {
      throw new HelmActionError('cannot re-use a name that is still in use');
    }
  }
  const config = plainValues(opts.values) as Record<string, unknown>;
  const rendered = await renderRelease(chart, {
    values: opts.values,
    release: { name, namespace: cfg.namespace, revision: 1, isInstall: true, isUpgrade: false },
    dryRun: !!opts.dryRun,
  });
  const now = cfg.now();
  const rel: Release = {
    name,
    info: { first_deployed: now, last_deployed: now, deleted: '', description: 'Initial install underway', status: 'pending-install', notes: rendered.notes || undefined },
    chart: chart.json,
    config,
    manifest: rendered.manifest,
    hooks: rendered.hooks,
    version: 1,
    namespace: cfg.namespace,
  };
  const resources = releaseResources(rel);
  if (opts.dryRun) {
    rel.info.description = opts.description || 'Dry run complete';
    return rel;
  }
  if (opts.createNamespace) {
    try {
      await cfg.client.create(Resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: cfg.namespace, labels: { name: cfg.namespace } } });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
  for (const r of resources) markOwned(r, name, cfg.namespace);
  await cfg.kube.checkConflicts(resources, name, cfg.namespace);
  // Helm's replaceRelease: the new record follows the old history, whose last revision is
  // superseded (a failed one keeps its status).
  if (opts.replace) {
    const past = await cfg.releases.history(name);
    const last = past[past.length - 1];
    if (last) {
      rel.version = last.version + 1;
      if (last.info.status !== 'failed') {
        last.info.status = 'superseded';
        await cfg.releases.update(last);
      }
    }
  }
  await cfg.releases.create(rel);
  const record = () => cfg.releases.update(rel);
  try {
    if (!opts.noHooks) await execHooks(cfg, rel, 'pre-install', timeoutMs, record);
    await cfg.kube.create(resources);
    if (wait) await cfg.kube.waitReady(resources, { timeoutMs, waitForJobs: opts.waitForJobs, intervalMs: cfg.pollIntervalMs });
    if (!opts.noHooks) await execHooks(cfg, rel, 'post-install', timeoutMs, record);
  } catch (err) {
    return failInstall(cfg, rel, err, opts, timeoutMs);
  }
  rel.info.status = 'deployed';
  rel.info.description = opts.description || 'Install complete';
  await cfg.releases.update(rel);
  return rel;
}

async function failInstall(cfg: ActionConfig, rel: Release, err: unknown, opts: InstallOptions, timeoutMs: number): Promise<never> {
  const msg = errorMessage(err);
  cfg.log({ level: 'warn', msg: 'install failed', release: rel.name, error: msg });
  rel.info.status = 'failed';
  rel.info.description = `Release "${rel.name}" failed: ${msg}`;
  await cfg.releases.update(rel);
  if (opts.atomic) {
    try {
      await uninstall(cfg, rel.name, { keepHistory: false, noHooks: opts.noHooks, timeoutMs });
    } catch (uerr) {
      throw new HelmActionError(`an error occurred while uninstalling the release. original install error: ${msg}: ${errorMessage(uerr)}`);
    }
    throw new HelmActionError(`release ${rel.name} failed, and has been uninstalled due to atomic being set: ${msg}`);
  }
  throw new HelmActionError(msg);
}
