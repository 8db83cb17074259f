/**
 * @module `helm uninstall` (Helm 3's action.Uninstall): mark the latest revision
 * uninstalling, run pre-delete hooks, delete the release's objects in uninstall order
 * (keeping those annotated helm.sh/resource-policy: keep), run post-delete hooks, then
 * purge every revision — or, with --keep-history, record it uninstalled.
 */
import type { Release } from '../release/types.js';
import { defaultTimeoutMs, type ActionConfig } from './config.js';
import { errorMessage, HelmActionError, releaseResources, validateReleaseName } from './common.js';
import { execHooks } from './hooks.js';

export interface UninstallOptions {
  keepHistory?: boolean;
  noHooks?: boolean;
  wait?: boolean;
  timeoutMs?: number;
  description?: string;
  dryRun?: boolean;
}

export interface UninstallResult {
  release: Release;
  /** "These resources were kept due to the resource policy:\n[Kind] name\n…" or "". */
  info: string;
}

export async function uninstall(cfg: ActionConfig, name: string, opts: UninstallOptions = {}): Promise<UninstallResult> {
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  try {
    validateReleaseName(name);
  } catch {
    throw new HelmActionError(`uninstall: Release name is invalid: ${name}`);
  }
  const rels = await cfg.releases.history(name);
  if (rels.length === 0) throw new HelmActionError(`uninstall: Release not loaded: ${name}: release: not found`);
  const rel = rels[rels.length - 1];
  if (opts.dryRun) return { release: rel, info: '' };
  if (rel.info.status === 'uninstalled') {
    if (!opts.keepHistory) {
      for (const r of rels) await cfg.releases.delete(r);
      return { release: rel, info: '' };
    }
    throw new HelmActionError(`the release named "${name}" is already deleted`);
  }
  rel.info.status = 'uninstalling';
  rel.info.deleted = cfg.now();
  rel.info.description = 'Deletion in progress (or silently failed)';
  if (!opts.noHooks) await execHooks(cfg, rel, 'pre-delete', timeoutMs);
  await cfg.releases.update(rel);

  const errs: string[] = [];
  let info = '';
  let deleted: ReturnType<typeof releaseResources> = [];
  try {
    const result = await cfg.kube.delete(releaseResources(rel));
    deleted = result.deleted;
    errs.push(...result.errors);
    if (result.kept.length > 0) info = `These resources were kept due to the resource policy:\n${result.kept.map((r) => `[${r.kind}] ${r.name}\n`).join('')}`;
  } catch (err) {
    errs.push(errorMessage(err));
  }
  if (opts.wait) {
    try {
      await cfg.kube.waitDeleted(deleted, { timeoutMs, intervalMs: cfg.pollIntervalMs });
    } catch (err) {
      errs.push(errorMessage(err));
    }
  }
  if (!opts.noHooks) {
    try {
      await execHooks(cfg, rel, 'post-delete', timeoutMs);
    } catch (err) {
      errs.push(errorMessage(err));
    }
  }
  rel.info.status = 'uninstalled';
  rel.info.description = opts.description || 'Uninstallation complete';
  if (!opts.keepHistory) {
    for (const r of rels) {
      try {
        await cfg.releases.delete(r);
      } catch (err) {
        errs.push(`uninstall: Failed to purge the release: ${errorMessage(err)}`);
      }
    }
  } else {
    await cfg.releases.update(rel);
  }
  if (errs.length > 0) throw new HelmActionError(`uninstallation completed with ${errs.length} error(s): ${errs.join('; ')}`);
  return { release: rel, info };
}
