/**
 * @module `helm list` (Helm 3's action.List): the latest revision of each release, kept
 * by a state mask (deployed and failed unless told otherwise), a name regex and a label
 * selector, sorted by name or by date.
 */
import type { Release, ReleaseStatus } from '../release/types.js';
import { ReleaseStorage } from '../release/storage.js';
import type { ActionConfig } from './config.js';
import { HelmActionError } from './common.js';

export interface ListOptions {
  allNamespaces?: boolean;
  /** -a: every status. */
  all?: boolean;
  deployed?: boolean;
  failed?: boolean;
  pending?: boolean;
  superseded?: boolean;
  uninstalled?: boolean;
  uninstalling?: boolean;
  /** -f: a regular expression on release names. */
  filter?: string;
  /** -l: a label selector on the release Secrets (name=, status=, custom labels). */
  selector?: string;
  /** -d: sort by release date. */
  byDate?: boolean;
  reverse?: boolean;
  max?: number;
  offset?: number;
}

export async function list(cfg: ActionConfig, opts: ListOptions = {}): Promise<Release[]> {
  const storage = opts.allNamespaces ? new ReleaseStorage(cfg.client, undefined, cfg.log, cfg.clock) : cfg.releases;
  const selector: Record<string, string> = {};
  for (const part of (opts.selector ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=!]+)==?(.*)$/.exec(part);
    if (!m) throw new HelmActionError(`invalid selector: ${opts.selector}`);
    selector[m[1].trim()] = m[2].trim();
  }
  const all = await storage.query(selector);
  // The latest revision of each release (per namespace).
  const latest = new Map<string, Release>();
  for (const r of all) {
    const key = `${r.namespace}/${r.name}`;
    const cur = latest.get(key);
    if (!cur || r.version > cur.version) latest.set(key, r);
  }
  const mask = new Set<ReleaseStatus>();
  if (opts.all) ['deployed', 'failed', 'superseded', 'uninstalled', 'uninstalling', 'pending-install', 'pending-upgrade', 'pending-rollback', 'unknown'].forEach((s) => mask.add(s as ReleaseStatus));
  if (opts.deployed) mask.add('deployed');
  if (opts.failed) mask.add('failed');
  if (opts.superseded) mask.add('superseded');
  if (opts.uninstalled) mask.add('uninstalled');
  if (opts.uninstalling) mask.add('uninstalling');
  if (opts.pending) ['pending-install', 'pending-upgrade', 'pending-rollback'].forEach((s) => mask.add(s as ReleaseStatus));
  if (mask.size === 0) ['deployed', 'failed'].forEach((s) => mask.add(s as ReleaseStatus));
  let re: RegExp | undefined;
  if (opts.filter) {
    try {
      re = new RegExp(opts.filter);
    } catch (err) {
      throw new HelmActionError(`error parsing regexp: ${(err as Error).message}`);
    }
  }
  let out = [...latest.values()].filter((r) => mask.has(r.info.status ?? 'unknown') && (!re || re.test(r.name)));
  if (opts.byDate) out.sort((a, b) => Date.parse(a.info.last_deployed ?? '') - Date.parse(b.info.last_deployed ?? '') || a.version - b.version);
  else out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.namespace < b.namespace ? -1 : 1));
  if (opts.reverse) out.reverse();
  const offset = opts.offset ?? 0;
  const max = opts.max ?? 256;
  out = out.slice(offset, max > 0 ? offset + max : undefined);
  return out;
}
