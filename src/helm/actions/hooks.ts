/**
 * @module Helm's execHook: the hooks of one event run one at a time, by weight then name
 * (kind order kept for equals); each is deleted first under before-hook-creation (the
 * default policy), created, and watched — Jobs until complete, Pods until they exit —
 * then deleted by hook-failed / hook-succeeded as its policies say. Every run is recorded
 * in the hook's last_run.
 */
import { ApiError } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import type { Hook, HookDeletePolicy, HookEvent, Release } from '../release/types.js';
import type { ActionConfig } from './config.js';
import { buildResources, parseManifest, WaitTimeoutError, type Resource } from './kube.js';

/** A hook failed; the message is Helm's. */
export class HookFailedError extends Error {
  override name = 'HookFailedError';
}

export function hooksFor(rel: Release, event: HookEvent): Hook[] {
  const hooks = (rel.hooks ?? []).map((h, i) => ({ h, i })).filter(({ h }) => h.events?.includes(event));
  hooks.sort((a, b) => (a.h.weight ?? 0) - (b.h.weight ?? 0) || ((a.h.name ?? '') < (b.h.name ?? '') ? -1 : (a.h.name ?? '') > (b.h.name ?? '') ? 1 : 0) || a.i - b.i);
  return hooks.map(({ h }) => h);
}

function hookResources(cfg: ActionConfig, rel: Release, h: Hook): Resource[] {
  return buildResources(parseManifest(h.manifest ?? '', h.path), rel.namespace);
}

async function deleteByPolicy(cfg: ActionConfig, rel: Release, h: Hook, policy: HookDeletePolicy, timeoutMs: number): Promise<void> {
  if (h.kind === 'CustomResourceDefinition') return;
  if (!(h.delete_policies ?? []).includes(policy)) return;
  const resources = hookResources(cfg, rel, h);
  for (const r of resources) {
    try {
      await cfg.client.delete(r.gvr, r.namespace, r.name, { propagationPolicy: 'Background' });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
  // A hook recreated under the same name must not meet its terminating predecessor.
  if (policy === 'before-hook-creation') await cfg.kube.waitDeleted(resources, { timeoutMs, intervalMs: cfg.pollIntervalMs });
}

/** Watches a hook object until it has run: Jobs complete, Pods succeed; other kinds at once. */
async function watchUntilDone(cfg: ActionConfig, r: Resource, timeoutMs: number): Promise<void> {
  if (r.kind !== 'Job' && r.kind !== 'Pod') return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const o: KObject | undefined = await cfg.kube.getLive(r);
    if (!o) throw new Error(`${r.kind.toLowerCase()} ${r.name} not found`);
    if (r.kind === 'Job') {
      const conds = (o.status?.conditions ?? []) as { type?: string; status?: string; reason?: string }[];
      const failed = conds.find((c) => c.type === 'Failed' && c.status === 'True');
      if (failed) throw new Error(`job ${r.name} failed: ${failed.reason ?? ''}`);
      if (conds.some((c) => c.type === 'Complete' && c.status === 'True')) return;
    } else {
      if (o.status?.phase === 'Failed') throw new Error(`pod ${r.name} failed`);
      if (o.status?.phase === 'Succeeded') return;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError([`${r.kind} ${r.name}`]);
    await new Promise((res) => setTimeout(res, Math.min(cfg.pollIntervalMs, Math.max(0, deadline - Date.now()))));
  }
}

/**
 * Runs the hooks of one event. `record` persists the release after each change of a
 * hook's last_run (Helm records the release as hooks start).
 */
export async function execHooks(cfg: ActionConfig, rel: Release, event: HookEvent, timeoutMs: number, record?: () => Promise<void>): Promise<void> {
  const executing = hooksFor(rel, event);
  for (const h of executing) {
    if (!h.delete_policies || h.delete_policies.length === 0) h.delete_policies = ['before-hook-creation'];
    await deleteByPolicy(cfg, rel, h, 'before-hook-creation', timeoutMs);
    const resources = hookResources(cfg, rel, h);
    h.last_run = { started_at: cfg.now(), completed_at: '', phase: 'Running' };
    await record?.();
    h.last_run.phase = 'Unknown';
    try {
      for (const r of resources) await cfg.client.create(r.gvr, r.namespace, r.obj, { fieldManager: 'helm' });
    } catch (err) {
      h.last_run.completed_at = cfg.now();
      h.last_run.phase = 'Failed';
      throw new HookFailedError(`warning: Hook ${event} ${h.path} failed: ${(err as Error).message}`);
    }
    try {
      for (const r of resources) await watchUntilDone(cfg, r, timeoutMs);
    } catch (err) {
      h.last_run.completed_at = cfg.now();
      h.last_run.phase = 'Failed';
      await deleteByPolicy(cfg, rel, h, 'hook-failed', timeoutMs);
      throw new HookFailedError(`warning: Hook ${event} ${h.path} failed: ${(err as Error).message}`);
    }
    h.last_run.completed_at = cfg.now();
    h.last_run.phase = 'Succeeded';
  }
  for (const h of [...executing].reverse()) await deleteByPolicy(cfg, rel, h, 'hook-succeeded', timeoutMs);
}
