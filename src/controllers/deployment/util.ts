/**
 * @module Deployment rules without I/O (kube's pkg/controller/deployment/util): the
 * pod-template-hash, revisions and the annotations copied to ReplicaSets, maxSurge and
 * maxUnavailable fenceposts, ReplicaSet orderings, proportional scaling, conditions and
 * the status computed from a Deployment's ReplicaSets.
 */
import type { KObject } from '../../api/types.js';
import { rfc3339, semanticEqual } from '../common/index.js';
import { deploymentMaxSurge, deploymentMaxUnavailable, resolveFenceposts, scaledValue } from '../../api/intstr.js';

export const podTemplateHashLabel = 'pod-template-hash';
export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
/** The annotation round-tripping extensions/v1beta1's spec.rollbackTo. */
export const rollbackToAnnotation = 'deprecated.deployment.rollback.to';
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
/** kube's maxRevHistoryLengthInChars. */
export const maxRevisionHistoryChars = 2000;
const maxInt32 = 2147483647;

/** Condition reasons (kube's deployment util constants). */
export const Reasons = {
  replicaSetUpdated: 'ReplicaSetUpdated',
  failedRSCreate: 'ReplicaSetCreateError',
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

// ---- pod-template-hash ----

/** EqualIgnoreHash: templates equal once the pod-template-hash label is removed from both. */
export function equalIgnoreHash(a: KObject | undefined, b: KObject | undefined): boolean {
  const strip = (t: KObject | undefined): KObject => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels[podTemplateHashLabel];
    return c;
  };
  return semanticEqual(strip(a), strip(b));
}

// ---- surge / unavailable ----

export function isRollingUpdate(d: KObject): boolean {
  return d.spec?.strategy?.type === 'RollingUpdate';
}

export function replicasOf(obj: KObject | undefined): number {
  return obj?.spec?.replicas ?? 0;
}

export { resolveFenceposts, scaledValue };

export const maxSurge = deploymentMaxSurge;
export const maxUnavailable = deploymentMaxUnavailable;

// ---- revisions and annotations ----

/** The revision annotation as a number (0 when absent); NaN when unparsable. */
export function revisionOf(obj: KObject | undefined): number {
  const v = obj?.metadata?.annotations?.[revisionAnnotation];
  if (v === undefined) return 0;
  return /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
}

export function maxRevision(rss: KObject[]): number {
  let max = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (!Number.isNaN(v) && v > max) max = v;
  }
  return max;
}

/** LastRevision: the second-highest revision (the one before the current). */
export function lastRevision(rss: KObject[]): number {
  let max = 0;
  let second = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (Number.isNaN(v)) continue;
    if (v >= max) {
      second = max;
      max = v;
    } else if (v > second) second = v;
  }
  return second;
}

const annotationsNotCopied = new Set([
  lastAppliedAnnotation,
  revisionAnnotation,
  revisionHistoryAnnotation,
  desiredReplicasAnnotation,
  maxReplicasAnnotation,
  rollbackToAnnotation,
]);

/** skipCopyAnnotation: annotations that belong to the Deployment or its controller only. */
export function skipCopyAnnotation(key: string): boolean {
  return annotationsNotCopied.has(key);
}

/** copyDeploymentAnnotationsToReplicaSet: true when rs's annotations changed (in place). */
export function copyDeploymentAnnotationsToReplicaSet(d: KObject, rs: KObject): boolean {
  rs.metadata ??= {};
  const anns = (rs.metadata.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries((d.metadata?.annotations ?? {}) as Record<string, string>)) {
    if (skipCopyAnnotation(k) || anns[k] === v) continue;
    anns[k] = v;
    changed = true;
  }
  return changed;
}

/** SetReplicasAnnotations: desired-replicas and max-replicas (in place); true when changed. */
export function setReplicasAnnotations(rs: KObject, desired: number, max: number): boolean {
  rs.metadata ??= {};
  const anns = (rs.metadata.annotations ??= {});
  let changed = false;
  if (anns[desiredReplicasAnnotation] !== String(desired)) {
    anns[desiredReplicasAnnotation] = String(desired);
    changed = true;
  }
  if (anns[maxReplicasAnnotation] !== String(max)) {
    anns[maxReplicasAnnotation] = String(max);
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: KObject, desired: number, max: number): boolean {
  const anns = rs.metadata?.annotations;
  if (!anns) return true;
  return anns[desiredReplicasAnnotation] !== String(desired) || anns[maxReplicasAnnotation] !== String(max);
}

/**
 * SetNewReplicaSetAnnotations (in place): copies the Deployment's annotations, moves the
 * revision up to newRevision (keeping the previous numbers in revision-history when an
 * old ReplicaSet becomes new again, as after a rollback, capped at maxHistoryChars), and
 * for a ReplicaSet about to be created, the replicas annotations. True when changed.
 */
export function setNewReplicaSetAnnotations(d: KObject, rs: KObject, newRevision: string, exists: boolean, maxHistoryChars = maxRevisionHistoryChars): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const anns = (rs.metadata!.annotations ??= {});
  const had = Object.prototype.hasOwnProperty.call(anns, revisionAnnotation);
  const oldRevision: string = anns[revisionAnnotation] ?? '';
  let oldRevisionNum = 0;
  if (oldRevision !== '') {
    if (!/^-?\d+$/.test(oldRevision)) return false;
    oldRevisionNum = Number(oldRevision);
  }
  if (!/^-?\d+$/.test(newRevision)) return false;
  const newRevisionNum = Number(newRevision);
  if (oldRevisionNum < newRevisionNum) {
    anns[revisionAnnotation] = newRevision;
    changed = true;
  }
  if (had && oldRevisionNum < newRevisionNum) {
    const history: string = anns[revisionHistoryAnnotation] ?? '';
    const previous = history.split(',');
    if (previous[0].length === 0) {
      anns[revisionHistoryAnnotation] = oldRevision;
    } else {
      let total = history.length + oldRevision.length + 1;
      let start = 0;
      while (total > maxHistoryChars && start < previous.length) {
        total -= previous[start].length + 1;
        start++;
      }
      if (total <= maxHistoryChars) anns[revisionHistoryAnnotation] = [...previous.slice(start), oldRevision].join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/** SetDeploymentRevision (in place): true when the Deployment's revision annotation changed. */
export function setDeploymentRevision(d: KObject, revision: string): boolean {
  d.metadata ??= {};
  const anns = (d.metadata.annotations ??= {});
  if (anns[revisionAnnotation] === revision) return false;
  anns[revisionAnnotation] = revision;
  return true;
}

// ---- ReplicaSet sets and orderings ----

const created = (rs: KObject): number => Date.parse(rs.metadata?.creationTimestamp ?? '') || 0;

/** ReplicaSetsByCreationTimestamp: older first, then by name. */
export function byCreationTimestamp(a: KObject, b: KObject): number {
  const d = created(a) - created(b);
  if (d !== 0) return d;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** ReplicaSetsBySizeOlder: larger first, ties older first. */
export function bySizeOlder(a: KObject, b: KObject): number {
  const d = replicasOf(b) - replicasOf(a);
  return d !== 0 ? d : byCreationTimestamp(a, b);
}

/** ReplicaSetsBySizeNewer: larger first, ties newer first. */
export function bySizeNewer(a: KObject, b: KObject): number {
  const d = replicasOf(b) - replicasOf(a);
  return d !== 0 ? d : byCreationTimestamp(b, a);
}

/** ReplicaSetsByRevision: lower revision first; unparsable or equal revisions by creation. */
export function byRevision(a: KObject, b: KObject): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (Number.isNaN(ra) || Number.isNaN(rb) || ra === rb) return byCreationTimestamp(a, b);
  return ra - rb;
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's (ignoring the hash). */
export function findNewReplicaSet(d: KObject, rss: KObject[]): KObject | undefined {
  return [...rss].sort(byCreationTimestamp).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** FindOldReplicaSets: every ReplicaSet but the new one. */
export function findOldReplicaSets(d: KObject, rss: KObject[]): KObject[] {
  const newRS = findNewReplicaSet(d, rss);
  return rss.filter((rs) => !newRS || rs.metadata?.uid !== newRS.metadata?.uid);
}

export function filterActive(rss: Array<KObject | undefined>): KObject[] {
  return rss.filter((rs): rs is KObject => !!rs && replicasOf(rs) > 0);
}

/** Sum of spec.replicas. */
export function specReplicaCount(rss: Array<KObject | undefined>): number {
  return rss.reduce((n, rs) => n + (rs ? replicasOf(rs) : 0), 0);
}

/** Sum of status.replicas. */
export function actualReplicaCount(rss: Array<KObject | undefined>): number {
  return rss.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}

export function readyReplicaCount(rss: Array<KObject | undefined>): number {
  return rss.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

export function availableReplicaCount(rss: Array<KObject | undefined>): number {
  return rss.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

/** FindActiveOrLatest: the only active ReplicaSet, or the newest when none is active; undefined when several are. */
export function findActiveOrLatest(newRS: KObject | undefined, oldRSs: KObject[]): KObject | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort(byCreationTimestamp).reverse();
  const active = filterActive([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** IsSaturated: the new ReplicaSet runs the full count and all of it is available. */
export function isSaturated(d: KObject, rs: KObject | undefined): boolean {
  if (!rs) return false;
  const desired = rs.metadata?.annotations?.[desiredReplicasAnnotation];
  if (desired === undefined || !/^-?\d+$/.test(desired)) return false;
  const replicas = replicasOf(d);
  return replicasOf(rs) === replicas && Number(desired) === replicas && (rs.status?.availableReplicas ?? 0) === replicas;
}

/** NewRSNewReplicas: how big the new ReplicaSet may be now. */
export function newRSNewReplicas(d: KObject, allRSs: Array<KObject | undefined>, newRS: KObject): number {
  if (isRollingUpdate(d)) {
    const replicas = replicasOf(d);
    const surge = scaledValue(d.spec.strategy.rollingUpdate?.maxSurge ?? 0, replicas, true);
    const current = specReplicaCount(allRSs);
    const maxTotal = replicas + surge;
    if (current >= maxTotal) return replicasOf(newRS);
    const up = Math.min(maxTotal - current, replicas - replicasOf(newRS));
    return replicasOf(newRS) + up;
  }
  return replicasOf(d);
}

/** math.Round / integer.RoundToInt32: halves away from zero. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** getReplicaSetFraction: this ReplicaSet's share of the new total, minus its size. */
function replicaSetFraction(rs: KObject, d: KObject): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const ann = rs.metadata?.annotations?.[maxReplicasAnnotation];
  // Without the annotation the current size is the best guess; min/max in getProportion keep us in bounds.
  const annotated = ann !== undefined && /^-?\d+$/.test(ann) ? Number(ann) : (d.status?.replicas ?? 0);
  const size = (replicasOf(rs) * deploymentReplicas) / annotated;
  return roundHalfAway(size) - replicasOf(rs);
}

/** GetProportion: how many replicas this ReplicaSet gains or loses in a proportional scale. */
export function proportion(rs: KObject | undefined, d: KObject, toAdd: number, added: number): number {
  if (!rs || replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

// ---- conditions and status ----

export function hasProgressDeadline(d: KObject): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== null && p !== maxInt32;
}

export function hasRevisionHistoryLimit(d: KObject): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return l !== undefined && l !== null && l !== maxInt32;
}

export function getCondition(status: KObject | undefined, type: string): DeploymentCondition | undefined {
  return (status?.conditions as DeploymentCondition[] | undefined)?.find((c) => c.type === type);
}

export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string, now: Date): DeploymentCondition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/**
 * SetDeploymentCondition (in place): nothing when status and reason are unchanged; keeps
 * lastTransitionTime when only the reason changes; the condition moves to the end.
 */
export function setCondition(status: KObject, cond: DeploymentCondition): void {
  const current = getCondition(status, cond.type);
  if (current && current.status === cond.status && current.reason === cond.reason) return;
  const next = { ...cond };
  if (current && current.status === cond.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...((status.conditions ?? []) as DeploymentCondition[]).filter((c) => c.type !== cond.type), next];
}

export function removeCondition(status: KObject, type: string): void {
  if (!status.conditions) return;
  status.conditions = (status.conditions as DeploymentCondition[]).filter((c) => c.type !== type);
}

/** calculateStatus: counts over every ReplicaSet, updated ones over the new, and the Available condition. */
export function calculateStatus(allRSs: Array<KObject | undefined>, newRS: KObject | undefined, d: KObject, now: Date): KObject {
  const available = availableReplicaCount(allRSs);
  const total = specReplicaCount(allRSs);
  const status: KObject = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    conditions: structuredClone(d.status?.conditions ?? []),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= replicasOf(d) - maxUnavailable(d))
    setCondition(status, newCondition('Available', 'True', Reasons.minimumReplicasAvailable, 'Deployment has minimum availability.', now));
  else setCondition(status, newCondition('Available', 'False', Reasons.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  return status;
}

/** DeploymentComplete: every replica updated and available, and the latest spec observed. */
export function deploymentComplete(d: KObject, status: KObject): boolean {
  const r = replicasOf(d);
  return (status.updatedReplicas ?? 0) === r && (status.replicas ?? 0) === r && (status.availableReplicas ?? 0) === r && (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** DeploymentProgressing: more updated, fewer old, more ready or more available replicas than before. */
export function deploymentProgressing(d: KObject, status: KObject): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut: the Progressing condition was last updated more than progressDeadlineSeconds ago. */
export function deploymentTimedOut(d: KObject, status: KObject, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(status, 'Progressing');
  if (!cond) return false;
  if (cond.reason === Reasons.newRSAvailable) return false;
  if (cond.reason === Reasons.timedOut) return true;
  const from = Date.parse(cond.lastUpdateTime ?? '') || 0;
  return from + d.spec.progressDeadlineSeconds * 1000 < now.getTime();
}

/** DeploymentStatus as kube serializes it: every field omitted when zero or empty. */
export function compactDeploymentStatus(s: KObject): KObject {
  const out: KObject = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined || v === null) continue;
    if (k === 'collisionCount') out[k] = v;
    else if (typeof v === 'number' ? v !== 0 : !(Array.isArray(v) && v.length === 0)) out[k] = v;
  }
  return out;
}
