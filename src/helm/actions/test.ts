/**
 * @module `helm test` (Helm 3's action.ReleaseTesting): runs the latest revision's hooks
 * annotated helm.sh/hook: test — Pods run to completion — and records their last runs.
 */
import type { Release } from '../release/types.js';
import { defaultTimeoutMs, type ActionConfig } from './config.js';
import { errorMessage, HelmActionError, validateReleaseName } from './common.js';
import { execHooks } from './hooks.js';

export interface TestOptions {
  timeoutMs?: number;
  /** --filter name=X / !name=X: which test hooks run. */
  filters?: { include: string[]; exclude: string[] };
}

/** Runs the tests; resolves with the release and the failure (if any), so the caller can print both as helm does. */
export async function releaseTest(cfg: ActionConfig, name: string, opts: TestOptions = {}): Promise<{ release: Release; error?: Error }> {
  validateReleaseName(name);
  const rel = await cfg.releases.last(name);
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs;
  const include = opts.filters?.include ?? [];
  const exclude = opts.filters?.exclude ?? [];
  const all = rel.hooks ?? [];
  const skipped = all.filter((h) => h.events?.includes('test') && ((include.length > 0 && !include.includes(h.name ?? '')) || exclude.includes(h.name ?? '')));
  rel.hooks = all.filter((h) => !skipped.includes(h));
  let error: Error | undefined;
  try {
    await execHooks(cfg, rel, 'test', timeoutMs, () => cfg.releases.update({ ...rel, hooks: [...skipped, ...(rel.hooks ?? [])] }));
  } catch (err) {
    error = new HelmActionError(errorMessage(err));
  }
  rel.hooks = [...skipped, ...(rel.hooks ?? [])];
  await cfg.releases.update(rel);
  return { release: rel, error };
}
