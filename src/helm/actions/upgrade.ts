/**
 * @module `helm upgrade` (Helm 3's action.Upgrade): render revision N+1 (values reused or
 * reset as Helm decides), record it pending-upgrade, run pre-upgrade hooks, apply the
 * three-way update (patch changed objects, create new ones, delete those the chart
 * dropped), wait if asked, run post-upgrade hooks, supersede the previous revision; on
 * failure mark failed and, with --atomic, roll back to the last successful revision.
 */
import type { Release } from '../release/types.js';
import { isPending } from '../release/types.js';
import { NoDeployedReleasesError, ReleaseNotFoundError } from '../release/storage.js';
import { defaultTimeoutMs, type ActionConfig, type ChartSource } from './config.js';
import { computedValues, errorMessage, HelmActionError, plainValues, releaseResources, validateReleaseName } from './common.js';
import { execHooks } from './hooks.js';
import { markOwned, resourceKey } from './kube.js';
import { renderRelease } from './install.js';
import { rollback } from './rollback.js';

export interface UpgradeOptions {
  values: Record<string, unknown>;
  reuseValues?: boolean;
  resetValues?: boolean;
  wait?: boolean;
  waitForJobs?: boolean;
  timeoutMs?: number;
  /** --atomic: roll back on failure; implies --wait. */
  atomic?: boolean;
  dryRun?: boolean;
  description?: string;
  noHooks?: boolean;
  /** --history-max (helm's default 10; 0 = unlimited). */
  historyMax?: number;
}

export async function upgrade(cfg: ActionConfig, name: string, chart: ChartSource, opts: UpgradeOptions): Promise<Release> {
  validateReleaseName(name);
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  const wait = opts.wait || opts.atomic;
  const history = await cfg.releases.history(name);
  if (history.length === 0) throw new ReleaseNotFoundError(name);
  const last = history[history.length - 1];
  if (isPending(last.info.status ?? 'unknown')) throw new HelmActionError('another operation (install/upgrade/rollback) is in progress');
  let current: Release;
  if (last.info.status === 'deployed') current = last;
  else {
    const deployed = history.filter((r) => r.info.status === 'deployed');
    if (deployed.length > 0) current = deployed[deployed.length - 1];
    else if (last.info.status === 'failed' || last.info.status === 'superseded') current = last;
    else throw new NoDeployedReleasesError(name);
  }

  // Helm's reuseValues: --reset-values ignores the old config; --reuse-values renders on the
  // old computed values; with neither and no new values, the old config carries over.
  let values = opts.values;
  let chartValues: Record<string, unknown> | undefined;
  if (!opts.resetValues) {
    if (opts.reuseValues) chartValues = computedValues(current);
    else if (Object.keys(values).length === 0 && Object.keys(current.config ?? {}).length > 0) values = current.config ?? {};
  }
  const revision = last.version + 1;
  const rendered = await renderRelease(chart, {
    values,
    chartValues,
    release: { name, namespace: cfg.namespace, revision, isInstall: false, isUpgrade: true },
    dryRun: !!opts.dryRun,
  });
  const upgraded: Release = {
    name,
    namespace: cfg.namespace,
    chart: chartValues ? { ...chart.json, values: chartValues } : chart.json,
    config: plainValues(values) as Record<string, unknown>,
    info: {
      first_deployed: current.info.first_deployed,
      last_deployed: cfg.now(),
      deleted: '',
      status: 'pending-upgrade',
      description: 'Preparing upgrade',
      notes: rendered.notes || undefined,
    },
    version: revision,
    manifest: rendered.manifest,
    hooks: rendered.hooks,
  };
  const currentResources = releaseResources(current);
  const targetResources = releaseResources(upgraded);
  for (const r of targetResources) markOwned(r, name, cfg.namespace);
  const known = new Set(currentResources.map(resourceKey));
  await cfg.kube.checkConflicts(
    targetResources.filter((r) => !known.has(resourceKey(r))),
    name,
    cfg.namespace,
  );
  if (opts.dryRun) {
    upgraded.info.description = opts.description || 'Dry run complete';
    return upgraded;
  }
  await cfg.releases.create(upgraded);
  const record = () => cfg.releases.update(upgraded);
  try {
    if (!opts.noHooks) await execHooks(cfg, upgraded, 'pre-upgrade', timeoutMs, record);
    await cfg.kube.update(currentResources, targetResources);
    if (wait) await cfg.kube.waitReady(targetResources, { timeoutMs, waitForJobs: opts.waitForJobs, intervalMs: cfg.pollIntervalMs });
    if (!opts.noHooks) await execHooks(cfg, upgraded, 'post-upgrade', timeoutMs, record);
  } catch (err) {
    return failUpgrade(cfg, upgraded, err, opts, timeoutMs);
  }
  current.info.status = 'superseded';
  await cfg.releases.update(current);
  upgraded.info.status = 'deployed';
  upgraded.info.description = opts.description || 'Upgrade complete';
  await cfg.releases.update(upgraded);
  await cfg.releases.pruneHistory(name, opts.historyMax ?? 0);
  return upgraded;
}

async function failUpgrade(cfg: ActionConfig, rel: Release, err: unknown, opts: UpgradeOptions, timeoutMs: number): Promise<never> {
  const msg = errorMessage(err);
  cfg.log({ level: 'warn', msg: 'upgrade failed', release: rel.name, error: msg });
  rel.info.status = 'failed';
  rel.info.description = `Upgrade "${rel.name}" failed: ${msg}`;
  await cfg.releases.update(rel);
  if (opts.atomic) {
    // Failed revisions are never superseded unless a later one succeeded: the newest
    // superseded or deployed revision is the last good one.
    const good = (await cfg.releases.history(rel.name)).filter((r) => r.info.status === 'superseded' || r.info.status === 'deployed');
    if (good.length === 0) throw new HelmActionError(`unable to find a previously successful release when attempting to rollback. original upgrade error: ${msg}`);
    try {
      await rollback(cfg, rel.name, { revision: good[good.length - 1].version, wait: true, waitForJobs: opts.waitForJobs, noHooks: opts.noHooks, timeoutMs });
    } catch (rerr) {
      throw new HelmActionError(`an error occurred while rolling back the release. original upgrade error: ${msg}: ${errorMessage(rerr)}`);
    }
    throw new HelmActionError(`release ${rel.name} failed, and has been rolled back due to atomic being set: ${msg}`);
  }
  throw new HelmActionError(msg);
}
