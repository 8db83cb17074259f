/**
 * @module How the HPA turns a raw recommendation into the replica count it sets (kube's
 * horizontal.go normalization): without spec.behavior, the highest recommendation of the
 * downscale stabilization window and a scale-up cap of max(2×current, 4); with behavior,
 * per-direction stabilization windows over past recommendations and rate limits from the
 * scaleUp/scaleDown policies (Pods / Percent per periodSeconds, selectPolicy Max / Min /
 * Disabled) over the scale events of each period. Each result names the condition reason
 * and message kube sets for it.
 */
import type { KObject } from '../../api/types.js';

interface Recommendation {
  recommendation: number;
  timestamp: number;
}

interface ScaleEvent {
  replicaChange: number;
  timestamp: number;
  outdated: boolean;
}

export interface Limited {
  replicas: number;
  reason: string;
  message: string;
}

/** kube's scaleUpLimitFactor and scaleUpLimitMinimum for HPAs without behavior. */
const scaleUpLimitFactor = 2;
const scaleUpLimitMinimum = 4;

/** convertDesiredReplicasWithRules: min/max and the default scale-up rate. */
export function convertDesiredReplicasWithRules(currentReplicas: number, desiredReplicas: number, minReplicas: number, maxReplicas: number): Limited {
  const scaleUpLimit = Math.max(scaleUpLimitFactor * currentReplicas, scaleUpLimitMinimum);
  let maximumAllowed: number;
  let reason: string;
  let message: string;
  if (maxReplicas > scaleUpLimit) {
    maximumAllowed = scaleUpLimit;
    reason = 'ScaleUpLimit';
    message = 'the desired replica count is increasing faster than the maximum scale rate';
  } else {
    maximumAllowed = maxReplicas;
    reason = 'TooManyReplicas';
    message = 'the desired replica count is more than the maximum replica count';
  }
  if (desiredReplicas < minReplicas) return { replicas: minReplicas, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  if (desiredReplicas > maximumAllowed) return { replicas: maximumAllowed, reason, message };
  return { replicas: desiredReplicas, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

function replicasChangePerPeriod(periodSeconds: number, events: ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.timestamp > cutoff) sum += e.replicaChange;
  return sum;
}

/** calculateScaleUpLimitWithScalingRules. */
export function scaleUpLimit(currentReplicas: number, upEvents: ScaleEvent[], downEvents: ScaleEvent[], rules: KObject, now: number): number {
  const select = rules.selectPolicy ?? 'Max';
  if (select === 'Disabled') return currentReplicas;
  let result = select === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of (rules.policies ?? []) as KObject[]) {
    const start = currentReplicas - replicasChangePerPeriod(p.periodSeconds, upEvents, now) + replicasChangePerPeriod(p.periodSeconds, downEvents, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = select === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors (Min picks the largest limit, i.e. the smallest change). */
export function scaleDownLimit(currentReplicas: number, upEvents: ScaleEvent[], downEvents: ScaleEvent[], rules: KObject, now: number): number {
  const select = rules.selectPolicy ?? 'Max';
  if (select === 'Disabled') return currentReplicas;
  let result = select === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of (rules.policies ?? []) as KObject[]) {
    const start = currentReplicas - replicasChangePerPeriod(p.periodSeconds, upEvents, now) + replicasChangePerPeriod(p.periodSeconds, downEvents, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = select === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** The per-HPA memory of kube's horizontal controller: recommendations and scale events by key. */
export class ScalingHistory {
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly upEvents = new Map<string, ScaleEvent[]>();
  private readonly downEvents = new Map<string, ScaleEvent[]>();

  constructor(
    /** --horizontal-pod-autoscaler-downscale-stabilization in seconds. */
    private readonly downscaleStabilizationSeconds: number,
  ) {}

  forget(key: string): void {
    this.recommendations.delete(key);
    this.upEvents.delete(key);
    this.downEvents.delete(key);
  }

  /** recordInitialRecommendation: the current size is the first recommendation of a new HPA. */
  recordInitial(key: string, currentReplicas: number, now: number): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ recommendation: currentReplicas, timestamp: now }]);
  }

  private record(key: string, list: Recommendation[], oldIndex: number | undefined, rec: Recommendation): void {
    if (oldIndex !== undefined) list[oldIndex] = rec;
    else list.push(rec);
    this.recommendations.set(key, list);
  }

  /** normalizeDesiredReplicas (no spec.behavior): the AbleToScale and ScalingLimited outcomes with the count. */
  normalize(key: string, currentReplicas: number, prenormalized: number, minReplicas: number, maxReplicas: number, now: number): { replicas: number; ableToScale: [string, string]; limited: Limited; isLimited: boolean } {
    const list = this.recommendations.get(key) ?? [];
    const cutoff = now - this.downscaleStabilizationSeconds * 1000;
    let max = prenormalized;
    let oldIndex: number | undefined;
    list.forEach((r, i) => {
      if (r.timestamp < cutoff) oldIndex = i;
      else if (r.recommendation > max) max = r.recommendation;
    });
    this.record(key, list, oldIndex, { recommendation: prenormalized, timestamp: now });
    const ableToScale: [string, string] =
      max !== prenormalized
        ? ['ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation']
        : ['ReadyForNewScale', 'recommended size matches current size'];
    const limited = convertDesiredReplicasWithRules(currentReplicas, max, minReplicas, maxReplicas);
    return { replicas: limited.replicas, ableToScale, limited, isLimited: limited.replicas !== max };
  }

  /** normalizeDesiredReplicasWithBehaviors: stabilization windows, then the policies' rate limits. */
  normalizeWithBehavior(
    key: string,
    behavior: KObject,
    currentReplicas: number,
    prenormalized: number,
    minReplicas: number,
    maxReplicas: number,
    now: number,
  ): { replicas: number; ableToScale: [string, string]; limited: Limited; isLimited: boolean } {
    const up: KObject = behavior.scaleUp ?? {};
    const down: KObject = behavior.scaleDown ?? {};
    // maybeInitScaleDownStabilizationWindow: an unset window is the controller's flag.
    const downWindow: number = down.stabilizationWindowSeconds ?? this.downscaleStabilizationSeconds;
    const upWindow: number = up.stabilizationWindowSeconds ?? 0;
    const upCutoff = now - upWindow * 1000;
    const downCutoff = now - downWindow * 1000;
    let upRec = prenormalized;
    let downRec = prenormalized;
    let oldIndex: number | undefined;
    const list = this.recommendations.get(key) ?? [];
    list.forEach((r, i) => {
      if (r.timestamp > upCutoff) upRec = Math.min(r.recommendation, upRec);
      if (r.timestamp > downCutoff) downRec = Math.max(r.recommendation, downRec);
      if (r.timestamp < upCutoff && r.timestamp < downCutoff) oldIndex = i;
    });
    let stabilized = currentReplicas;
    if (stabilized < upRec) stabilized = upRec;
    if (stabilized > downRec) stabilized = downRec;
    this.record(key, list, oldIndex, { recommendation: prenormalized, timestamp: now });
    let ableToScale: [string, string] = ['ReadyForNewScale', 'recommended size matches current size'];
    if (stabilized !== prenormalized)
      ableToScale =
        prenormalized >= currentReplicas
          ? ['ScaleUpStabilized', 'recent recommendations were lower than current one, applying the lowest recent recommendation']
          : ['ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation'];
    const limited = this.convertWithBehaviorRate(key, up, down, currentReplicas, stabilized, minReplicas, maxReplicas, now);
    return { replicas: limited.replicas, ableToScale, limited, isLimited: limited.replicas !== stabilized };
  }

  private convertWithBehaviorRate(key: string, up: KObject, down: KObject, currentReplicas: number, desired: number, minReplicas: number, maxReplicas: number, now: number): Limited {
    const upEvents = this.upEvents.get(key) ?? [];
    const downEvents = this.downEvents.get(key) ?? [];
    if (desired > currentReplicas) {
      // No further scale-up until the period's events age out.
      const limit = Math.max(currentReplicas, scaleUpLimit(currentReplicas, upEvents, downEvents, up, now));
      let maximumAllowed = maxReplicas;
      let reason = 'TooManyReplicas';
      let message = 'the desired replica count is more than the maximum replica count';
      if (maximumAllowed > limit) {
        maximumAllowed = limit;
        reason = 'ScaleUpLimit';
        message = 'the desired replica count is increasing faster than the maximum scale rate';
      }
      if (desired > maximumAllowed) return { replicas: maximumAllowed, reason, message };
    } else if (desired < currentReplicas) {
      const limit = Math.min(currentReplicas, scaleDownLimit(currentReplicas, upEvents, downEvents, down, now));
      let minimumAllowed = minReplicas;
      let reason = 'TooFewReplicas';
      let message = 'the desired replica count is less than the minimum replica count';
      if (minimumAllowed < limit) {
        minimumAllowed = limit;
        reason = 'ScaleDownLimit';
        message = 'the desired replica count is decreasing faster than the maximum scale rate';
      }
      if (desired < minimumAllowed) return { replicas: minimumAllowed, reason, message };
    }
    return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  }

  /** storeScaleEvent: remembered only for HPAs with behavior, one slot reused once older than the longest policy period. */
  storeScaleEvent(key: string, behavior: KObject | undefined, prevReplicas: number, newReplicas: number, now: number): void {
    if (!behavior) return;
    const upward = newReplicas > prevReplicas;
    const rules: KObject = (upward ? behavior.scaleUp : behavior.scaleDown) ?? {};
    const longest = Math.max(0, ...((rules.policies ?? []) as KObject[]).map((p) => Number(p.periodSeconds) || 0));
    const map = upward ? this.upEvents : this.downEvents;
    const events = map.get(key) ?? [];
    const cutoff = now - longest * 1000;
    let oldIndex: number | undefined;
    events.forEach((e, i) => {
      if (e.timestamp < cutoff) e.outdated = true;
      if (e.outdated) oldIndex = i;
    });
    const event = { replicaChange: Math.abs(newReplicas - prevReplicas), timestamp: now, outdated: false };
    if (oldIndex !== undefined) events[oldIndex] = event;
    else events.push(event);
    map.set(key, events);
  }
}
