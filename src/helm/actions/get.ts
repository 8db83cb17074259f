/** @module `helm status`, `helm history` and `helm get`: reads of stored releases (Helm's releaseContent and History). */
import type { Release } from '../release/types.js';
import { ReleaseNotFoundError } from '../release/storage.js';
import type { ActionConfig } from './config.js';
import { validateReleaseName } from './common.js';

/** A revision of a release (0 or absent: the latest), as Helm's releaseContent. */
export async function getRelease(cfg: ActionConfig, name: string, revision = 0): Promise<Release> {
  validateReleaseName(name);
  if (revision > 0) return cfg.releases.get(name, revision);
  return cfg.releases.last(name);
}

/** Every revision, oldest first, the last `max` (helm history --max, default 256). */
export async function history(cfg: ActionConfig, name: string, max = 256): Promise<Release[]> {
  validateReleaseName(name);
  const h = await cfg.releases.history(name);
  if (h.length === 0) throw new ReleaseNotFoundError(name);
  return max > 0 ? h.slice(-max) : h;
}
