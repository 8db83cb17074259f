/**
 * @module Indexed Jobs (completionMode: Indexed): the completion index on each pod
 * (annotation, label, hostname, JOB_COMPLETION_INDEX env), status.completedIndexes as
 * ordered intervals ("0-2,4"), the lowest pending indexes and duplicate-index removal.
 */
import type { KObject } from '../../api/types.js';
import { compareActivePods } from '../common/index.js';

export const completionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';
export const completionIndexEnvName = 'JOB_COMPLETION_INDEX';

/** The pod's completion index, or -1 when missing or malformed. */
export function completionIndexOf(pod: KObject): number {
  const v = pod.metadata?.annotations?.[completionIndexAnnotation];
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return -1;
  return Number.parseInt(v, 10);
}

/** Parses "0-2,4" (tolerating garbage as kube does: bad parts are skipped) up to `completions`. */
export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let i = lo; i <= hi && i < completions; i++) out.add(i);
  }
  return out;
}

/** Ordered intervals: consecutive runs collapse to "a-b". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The lowest indexes that have neither succeeded nor an active pod. */
export function firstPendingIndexes(count: number, completions: number, succeeded: Set<number>, activePods: KObject[]): number[] {
  const taken = new Set(succeeded);
  for (const p of activePods) taken.add(completionIndexOf(p));
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

/** Adds JOB_COMPLETION_INDEX (from the annotation) to every container that lacks it. */
export function addCompletionIndexEnv(template: KObject): void {
  const spec = template.spec ?? {};
  for (const list of [spec.initContainers, spec.containers]) {
    for (const c of (list ?? []) as KObject[]) {
      const env: KObject[] = (c.env ??= []);
      if (env.some((e) => e.name === completionIndexEnvName)) continue;
      env.push({ name: completionIndexEnvName, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${completionIndexAnnotation}']` } } });
    }
  }
}

/**
 * Pods to remove first in an Indexed Job: those without a valid index, then all but one pod
 * per repeated index (keeping the one furthest along); the rest are "left" for ordinary
 * removal.
 */
export function duplicateIndexPodsForRemoval(pods: KObject[], completions: number): { rm: KObject[]; left: KObject[] } {
  const rm: KObject[] = [];
  const left: KObject[] = [];
  const byIndex = new Map<number, KObject[]>();
  for (const p of pods) {
    const ix = completionIndexOf(p);
    if (ix < 0 || ix >= completions) rm.push(p);
    else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
  }
  for (const group of byIndex.values()) {
    group.sort(compareActivePods);
    rm.push(...group.slice(0, -1));
    left.push(group[group.length - 1]);
  }
  return { rm, left };
}
