/**
 * @module `helm rollback NAME [REVISION]` (Helm 3's action.Rollback): a new revision
 * carrying the chart, config, manifest and hooks of the chosen one, applied with the
 * same three-way update as an upgrade; every previously deployed revision is superseded.
 */
import type { Release } from '../release/types.js';
import { isPending } from '../release/types.js';
import { ReleaseNotFoundError } from '../release/storage.js';
import { defaultTimeoutMs, type ActionConfig } from './config.js';
import { errorMessage, HelmActionError, releaseResources, validateReleaseName } from './common.js';
import { execHooks } from './hooks.js';
import { markOwned } from './kube.js';

export interface RollbackOptions {
  /** 0 (default): the revision before the latest. */
  revision?: number;
  wait?: boolean;
  waitForJobs?: boolean;
  timeoutMs?: number;
  noHooks?: boolean;
  dryRun?: boolean;
  historyMax?: number;
}

export async function rollback(cfg: ActionConfig, name: string, opts: RollbackOptions = {}): Promise<Release> {
  validateReleaseName(name);
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  const revision = opts.revision ?? 0;
  if (revision < 0) throw new HelmActionError('invalid release revision');
  const history = await cfg.releases.history(name);
  if (history.length === 0) throw new ReleaseNotFoundError(name);
  const current = history[history.length - 1];
  if (isPending(current.info.status ?? 'unknown')) throw new HelmActionError('another operation (install/upgrade/rollback) is in progress');
  const previousVersion = revision === 0 ? current.version - 1 : revision;
  const previous = history.find((r) => r.version === previousVersion);
  if (!previous) throw new HelmActionError(`release has no ${previousVersion} version`);

  const target: Release = {
    name,
    namespace: current.namespace,
    chart: previous.chart,
    config: previous.config,
    info: {
      first_deployed: current.info.first_deployed,
      last_deployed: cfg.now(),
      deleted: '',
      status: 'pending-rollback',
      notes: previous.info.notes,
      description: `Rollback to ${previousVersion}`,
    },
    version: current.version + 1,
    manifest: previous.manifest,
    hooks: structuredClone(previous.hooks),
  };
  if (opts.dryRun) return target;
  await cfg.releases.create(target);
  const record = () => cfg.releases.update(target);

  const currentResources = releaseResources(current);
  const targetResources = releaseResources(target);
  if (!opts.noHooks) await execHooks(cfg, target, 'pre-rollback', timeoutMs, record);
  for (const r of targetResources) markOwned(r, name, target.namespace);
  try {
    await cfg.kube.update(currentResources, targetResources);
  } catch (err) {
    const msg = `Rollback "${name}" failed: ${errorMessage(err)}`;
    current.info.status = 'superseded';
    target.info.status = 'failed';
    target.info.description = msg;
    await cfg.releases.update(current);
    await cfg.releases.update(target);
    throw new HelmActionError(errorMessage(err));
  }
  if (opts.wait) {
    try {
      await cfg.kube.waitReady(targetResources, { timeoutMs, waitForJobs: opts.waitForJobs, intervalMs: cfg.pollIntervalMs });
    } catch (err) {
      target.info.status = 'failed';
      target.info.description = `Release "${name}" failed: ${errorMessage(err)}`;
      await cfg.releases.update(current);
      await cfg.releases.update(target);
      throw new HelmActionError(`release ${name} failed: ${errorMessage(err)}`);
    }
  }
  if (!opts.noHooks) await execHooks(cfg, target, 'post-rollback', timeoutMs, record);
  for (const rel of await cfg.releases.deployedAll(name)) {
    rel.info.status = 'superseded';
    await cfg.releases.update(rel);
  }
  target.info.status = 'deployed';
  await cfg.releases.update(target);
  await cfg.releases.pruneHistory(name, opts.historyMax ?? 0);
  return target;
}
