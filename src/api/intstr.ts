/**
 * @module IntOrString rules shared by the controllers and by anything that judges rollouts
 * (Helm's --wait): intstr.GetScaledValueFromIntOrPercent and the Deployment's
 * maxSurge/maxUnavailable fenceposts (deploymentutil.ResolveFenceposts).
 */
import type { KObject } from './types.js';

/**
 * intstr.GetScaledValueFromIntOrPercent: ints as they are, "N%" of total rounded up or
 * down; anything else is an error (validation never lets it through).
 */
export function scaledValue(v: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** ResolveFenceposts: surge rounds up, unavailable down; both zero makes unavailable 1. */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): [number, number] {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

function rollingUpdateOf(d: KObject): KObject | undefined {
  return d.spec?.strategy?.type === 'RollingUpdate' ? (d.spec.strategy.rollingUpdate ?? {}) : undefined;
}

/** deploymentutil.MaxSurge: 0 unless the Deployment rolls. */
export function deploymentMaxSurge(d: KObject): number {
  const ru = rollingUpdateOf(d);
  return ru ? resolveFenceposts(ru.maxSurge, ru.maxUnavailable, d.spec?.replicas ?? 0)[0] : 0;
}

/** deploymentutil.MaxUnavailable: rolling updates only, never more than the replicas. */
export function deploymentMaxUnavailable(d: KObject): number {
  const replicas = d.spec?.replicas ?? 0;
  const ru = rollingUpdateOf(d);
  if (!ru || replicas === 0) return 0;
  return Math.min(resolveFenceposts(ru.maxSurge, ru.maxUnavailable, replicas)[1], replicas);
}
