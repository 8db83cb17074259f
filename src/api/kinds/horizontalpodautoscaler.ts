/**
 * @module HorizontalPodAutoscaler, stored as autoscaling/v2 and also served as
 * autoscaling/v1 (what `kubectl autoscale` posts). v1 carries only the CPU target; the
 * rest of a v2 object rides in the `autoscaling.alpha.kubernetes.io/*` annotations, as
 * kube's v1 conversion does. Defaults (80% CPU, scaling behavior), validation with kube's
 * messages and the printer (TARGETS like "cpu: 72%/50%") follow kube-apiserver 1.32.
 */
import type { FieldError } from '../errors.js';
import { forbidden, invalid, notSupported, required } from '../errors.js';
import { age } from '../print.js';
import { tryParseQuantity } from '../quantity.js';
import type { KObject, ResourceDef } from '../types.js';
import {
  ageColumn,
  canonicalizeQuantityField,
  column,
  nameColumn,
  quantityCell,
  validateDNS1123Label,
  withDecodeErrors,
} from './kind-util.js';
import { clone, isValidPathSegmentName } from './netmisc-util.js';

export const metricSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/metrics';
export const metricStatusesAnnotation = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const conditionsAnnotation = 'autoscaling.alpha.kubernetes.io/conditions';
export const behaviorSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/behavior';
const roundTripAnnotations = [metricSpecsAnnotation, behaviorSpecsAnnotation, metricStatusesAnnotation, conditionsAnnotation];

/** The implicit target of autoscaling/v1, explicit since v2beta1. */
export const defaultCPUUtilization = 80;

const maxPeriodSeconds = 1800;
const maxStabilizationWindowSeconds = 3600;

// ---------------------------------------------------------------------------
// Defaults (autoscaling/v2 SetDefaults_HorizontalPodAutoscaler).

/** The scale-up rules kube fills in: at most 4 pods or 100% per 15s, no stabilization. */
export function defaultScaleUpRules(): KObject {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/** Scale-down rules: 100% per 15s; the stabilization window stays unset (controller flag decides). */
export function defaultScaleDownRules(): KObject {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

function fillScalingRules(from: KObject | undefined | null, defaults: KObject): KObject {
  if (!from) return defaults;
  if (from.selectPolicy != null) defaults.selectPolicy = from.selectPolicy;
  if (from.stabilizationWindowSeconds != null) defaults.stabilizationWindowSeconds = from.stabilizationWindowSeconds;
  if (from.policies != null) defaults.policies = from.policies;
  return defaults;
}

function canonicalizeTarget(t: KObject | undefined): void {
  canonicalizeQuantityField(t, 'value');
  canonicalizeQuantityField(t, 'averageValue');
}

export function defaultHPAv2(obj: KObject): void {
  if (!obj.spec || typeof obj.spec !== 'object') obj.spec = {};
  const spec = obj.spec;
  if (spec.minReplicas == null) spec.minReplicas = 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } } },
    ];
  }
  if (spec.behavior != null && typeof spec.behavior === 'object') {
    spec.behavior.scaleUp = fillScalingRules(spec.behavior.scaleUp, defaultScaleUpRules());
    spec.behavior.scaleDown = fillScalingRules(spec.behavior.scaleDown, defaultScaleDownRules());
  }
  // Quantities come back in canonical form, as kube re-serializes them after decoding.
  withDecodeErrors('HorizontalPodAutoscaler', 'v2', () => {
    for (const m of spec.metrics ?? []) {
      for (const src of [m?.object, m?.pods, m?.resource, m?.containerResource, m?.external]) canonicalizeTarget(src?.target);
    }
    for (const m of obj.status?.currentMetrics ?? []) {
      for (const src of [m?.object, m?.pods, m?.resource, m?.containerResource, m?.external]) canonicalizeTarget(src?.current);
    }
  });
}

function defaultHPAv1(obj: KObject): void {
  if (!obj.spec || typeof obj.spec !== 'object') obj.spec = {};
  if (obj.spec.minReplicas == null) obj.spec.minReplicas = 1;
}

// ---------------------------------------------------------------------------
// autoscaling/v1 <-> autoscaling/v2.

/** True for an object in the autoscaling/v1 shape. */
export function isHPAv1(obj: KObject): boolean {
  if (typeof obj.apiVersion === 'string') return obj.apiVersion === 'autoscaling/v1';
  const spec = obj.spec ?? {};
  return 'targetCPUUtilizationPercentage' in spec || 'currentCPUUtilizationPercentage' in (obj.status ?? {}) || !('metrics' in spec);
}

function withoutRoundTripAnnotations(meta: KObject | undefined): KObject {
  const m = clone(meta ?? {});
  if (m.annotations) {
    for (const k of roundTripAnnotations) delete m.annotations[k];
    if (Object.keys(m.annotations).length === 0) delete m.annotations;
  }
  return m;
}

function setIf(o: KObject, key: string, v: unknown): void {
  if (v !== undefined && v !== null) o[key] = v;
}

function v1MetricSpecToV2(m: KObject): KObject {
  const out: KObject = { type: m.type };
  if (m.object) {
    const o = m.object;
    const target: KObject = { type: o.averageValue == null ? 'Value' : 'AverageValue', value: o.targetValue ?? '0' };
    setIf(target, 'averageValue', o.averageValue);
    const metric: KObject = { name: o.metricName ?? '' };
    setIf(metric, 'selector', o.selector);
    out.object = { describedObject: clone(o.target ?? {}), target, metric };
  }
  if (m.pods) {
    const metric: KObject = { name: m.pods.metricName ?? '' };
    setIf(metric, 'selector', m.pods.selector);
    out.pods = { metric, target: { type: 'AverageValue', averageValue: m.pods.targetAverageValue ?? '0' } };
  }
  for (const key of ['resource', 'containerResource'] as const) {
    const r = m[key];
    if (!r) continue;
    const target: KObject = { type: r.targetAverageUtilization == null ? 'AverageValue' : 'Utilization' };
    setIf(target, 'averageUtilization', r.targetAverageUtilization);
    setIf(target, 'averageValue', r.targetAverageValue);
    out[key] = key === 'resource' ? { name: r.name, target } : { name: r.name, target, container: r.container };
  }
  if (m.external) {
    const e = m.external;
    const target: KObject = { type: e.targetValue == null ? 'AverageValue' : 'Value' };
    setIf(target, 'value', e.targetValue);
    setIf(target, 'averageValue', e.targetAverageValue);
    const metric: KObject = { name: e.metricName ?? '' };
    setIf(metric, 'selector', e.metricSelector);
    out.external = { metric, target };
  }
  return out;
}

function v2MetricSpecToV1(m: KObject): KObject {
  const out: KObject = { type: m.type };
  if (m.object) {
    const o = m.object;
    const r: KObject = {
      target: { kind: o.describedObject?.kind ?? '', name: o.describedObject?.name ?? '' },
      metricName: o.metric?.name ?? '',
      targetValue: o.target?.value ?? '0',
    };
    setIf(r.target, 'apiVersion', o.describedObject?.apiVersion);
    setIf(r, 'selector', o.metric?.selector);
    setIf(r, 'averageValue', o.target?.averageValue);
    out.object = r;
  }
  if (m.pods) {
    const r: KObject = { metricName: m.pods.metric?.name ?? '', targetAverageValue: m.pods.target?.averageValue ?? '0' };
    setIf(r, 'selector', m.pods.metric?.selector);
    out.pods = r;
  }
  for (const key of ['resource', 'containerResource'] as const) {
    const src = m[key];
    if (!src) continue;
    const r: KObject = { name: src.name };
    setIf(r, 'targetAverageUtilization', src.target?.averageUtilization);
    setIf(r, 'targetAverageValue', src.target?.averageValue);
    if (key === 'containerResource') r.container = src.container ?? '';
    out[key] = r;
  }
  if (m.external) {
    const e = m.external;
    const r: KObject = { metricName: e.metric?.name ?? '' };
    setIf(r, 'metricSelector', e.metric?.selector);
    setIf(r, 'targetValue', e.target?.value);
    setIf(r, 'targetAverageValue', e.target?.averageValue);
    out.external = r;
  }
  return out;
}

function v1MetricStatusToV2(m: KObject): KObject {
  const out: KObject = { type: m.type };
  if (m.object) {
    const o = m.object;
    const current: KObject = { value: o.currentValue ?? '0' };
    setIf(current, 'averageValue', o.averageValue);
    const metric: KObject = { name: o.metricName ?? '' };
    setIf(metric, 'selector', o.selector);
    out.object = { metric, current, describedObject: clone(o.target ?? {}) };
  }
  if (m.pods) {
    const metric: KObject = { name: m.pods.metricName ?? '' };
    setIf(metric, 'selector', m.pods.selector);
    out.pods = { metric, current: { averageValue: m.pods.currentAverageValue ?? '0' } };
  }
  for (const key of ['resource', 'containerResource'] as const) {
    const r = m[key];
    if (!r) continue;
    const current: KObject = {};
    setIf(current, 'averageValue', r.currentAverageValue ?? '0');
    setIf(current, 'averageUtilization', r.currentAverageUtilization);
    out[key] = key === 'resource' ? { name: r.name, current } : { name: r.name, current, container: r.container };
  }
  if (m.external) {
    const e = m.external;
    const current: KObject = { value: e.currentValue ?? '0' };
    setIf(current, 'averageValue', e.currentAverageValue);
    const metric: KObject = { name: e.metricName ?? '' };
    setIf(metric, 'selector', e.metricSelector);
    out.external = { metric, current };
  }
  return out;
}

function v2MetricStatusToV1(m: KObject): KObject {
  const out: KObject = { type: m.type };
  if (m.object) {
    const o = m.object;
    const r: KObject = {
      target: { kind: o.describedObject?.kind ?? '', name: o.describedObject?.name ?? '' },
      metricName: o.metric?.name ?? '',
      currentValue: o.current?.value ?? '0',
    };
    setIf(r.target, 'apiVersion', o.describedObject?.apiVersion);
    setIf(r, 'selector', o.metric?.selector);
    setIf(r, 'averageValue', o.current?.averageValue);
    out.object = r;
  }
  if (m.pods) {
    const r: KObject = { metricName: m.pods.metric?.name ?? '', currentAverageValue: m.pods.current?.averageValue ?? '0' };
    setIf(r, 'selector', m.pods.metric?.selector);
    out.pods = r;
  }
  for (const key of ['resource', 'containerResource'] as const) {
    const src = m[key];
    if (!src) continue;
    const r: KObject = { name: src.name };
    setIf(r, 'currentAverageUtilization', src.current?.averageUtilization);
    r.currentAverageValue = src.current?.averageValue ?? '0';
    if (key === 'containerResource') r.container = src.container ?? '';
    out[key] = r;
  }
  if (m.external) {
    const e = m.external;
    const r: KObject = { metricName: e.metric?.name ?? '' };
    setIf(r, 'metricSelector', e.metric?.selector);
    r.currentValue = e.current?.value ?? '0';
    setIf(r, 'currentAverageValue', e.current?.averageValue);
    out.external = r;
  }
  return out;
}

/**
 * The behavior annotation holds kube's internal struct as encoding/json writes it: Go field
 * names, nil pointers as null (e.g. {"ScaleUp":{"StabilizationWindowSeconds":0,...},...}).
 */
function behaviorToAnnotation(b: KObject): string {
  const rules = (r: KObject | undefined | null) =>
    r == null
      ? null
      : {
          StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null,
          SelectPolicy: r.selectPolicy ?? null,
          Policies: Array.isArray(r.policies)
            ? r.policies.map((p: KObject) => ({ Type: p?.type ?? '', Value: p?.value ?? 0, PeriodSeconds: p?.periodSeconds ?? 0 }))
            : null,
        };
  return JSON.stringify({ ScaleUp: rules(b.scaleUp), ScaleDown: rules(b.scaleDown) });
}

/** encoding/json matches field names case-insensitively; so do we. */
function pick(o: KObject | undefined | null, name: string): KObject[string] {
  if (!o || typeof o !== 'object') return undefined;
  const k = Object.keys(o).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : o[k];
}

function behaviorFromAnnotation(text: string): KObject | undefined {
  let raw: KObject;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const rules = (r: KObject | undefined | null): KObject | undefined => {
    if (r == null || typeof r !== 'object') return undefined;
    const out: KObject = {};
    setIf(out, 'stabilizationWindowSeconds', pick(r, 'StabilizationWindowSeconds'));
    setIf(out, 'selectPolicy', pick(r, 'SelectPolicy'));
    const policies = pick(r, 'Policies');
    if (Array.isArray(policies))
      out.policies = policies.map((p: KObject) => ({
        type: pick(p, 'Type') ?? '',
        value: pick(p, 'Value') ?? 0,
        periodSeconds: pick(p, 'PeriodSeconds') ?? 0,
      }));
    return out;
  };
  const scaleUp = rules(pick(raw, 'ScaleUp'));
  const scaleDown = rules(pick(raw, 'ScaleDown'));
  if (!scaleUp && !scaleDown) return undefined;
  const b: KObject = {};
  setIf(b, 'scaleUp', scaleUp);
  setIf(b, 'scaleDown', scaleDown);
  return b;
}

function parseAnnotationList(text: string | undefined): KObject[] | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text);
    return Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isCPUUtilizationMetric(m: KObject): boolean {
  return m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.averageUtilization != null;
}

/** Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler, ending in the v2 shape. */
export function hpaV1ToV2(v1: KObject): KObject {
  const ann: Record<string, string> = v1.metadata?.annotations ?? {};
  const spec = v1.spec ?? {};
  const status = v1.status;
  const outSpec: KObject = { scaleTargetRef: clone(spec.scaleTargetRef ?? {}) };
  setIf(outSpec, 'minReplicas', spec.minReplicas);
  outSpec.maxReplicas = spec.maxReplicas ?? 0;
  const metrics: KObject[] = (parseAnnotationList(ann[metricSpecsAnnotation]) ?? []).map(v1MetricSpecToV2);
  if (spec.targetCPUUtilizationPercentage != null)
    metrics.push({
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } },
    });
  if (metrics.length === 0)
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } } });
  outSpec.metrics = metrics;
  if (ann[behaviorSpecsAnnotation] !== undefined) {
    const b = behaviorFromAnnotation(ann[behaviorSpecsAnnotation]);
    if (b) outSpec.behavior = b;
  }

  const out: KObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: withoutRoundTripAnnotations(v1.metadata),
    spec: outSpec,
  };
  if (status != null) {
    const s: KObject = {};
    setIf(s, 'observedGeneration', status.observedGeneration);
    setIf(s, 'lastScaleTime', status.lastScaleTime);
    if (status.currentReplicas) s.currentReplicas = status.currentReplicas;
    s.desiredReplicas = status.desiredReplicas ?? 0;
    const current = parseAnnotationList(ann[metricStatusesAnnotation]);
    if (current) {
      if (current.length) s.currentMetrics = current.map(v1MetricStatusToV2);
    } else if (status.currentCPUUtilizationPercentage != null) {
      s.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
    }
    const conditions = parseAnnotationList(ann[conditionsAnnotation]);
    if (conditions?.length) s.conditions = clone(conditions);
    out.status = s;
  }
  defaultHPAv2(out);
  return out;
}

/** Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler, from the v2 shape. */
export function hpaV2ToV1(v2: KObject): KObject {
  const spec = v2.spec ?? {};
  const status = v2.status ?? {};
  const metrics: KObject[] = Array.isArray(spec.metrics) ? spec.metrics : [];
  const outSpec: KObject = { scaleTargetRef: clone(spec.scaleTargetRef ?? {}) };
  setIf(outSpec, 'minReplicas', spec.minReplicas);
  outSpec.maxReplicas = spec.maxReplicas ?? 0;
  const cpu = metrics.find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu');
  if (cpu?.resource?.target?.averageUtilization != null) outSpec.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;

  const outStatus: KObject = {};
  setIf(outStatus, 'observedGeneration', status.observedGeneration);
  setIf(outStatus, 'lastScaleTime', status.lastScaleTime);
  outStatus.currentReplicas = status.currentReplicas ?? 0;
  outStatus.desiredReplicas = status.desiredReplicas ?? 0;
  const currentMetrics: KObject[] = Array.isArray(status.currentMetrics) ? status.currentMetrics : [];
  for (const m of currentMetrics) {
    if (m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.current?.averageUtilization != null)
      outStatus.currentCPUUtilizationPercentage = m.resource.current.averageUtilization;
  }

  const meta = withoutRoundTripAnnotations(v2.metadata);
  const extra: Record<string, string> = {};
  const otherMetrics = metrics.filter((m) => !isCPUUtilizationMetric(m)).map(v2MetricSpecToV1);
  if (otherMetrics.length) extra[metricSpecsAnnotation] = JSON.stringify(otherMetrics);
  if (currentMetrics.length) extra[metricStatusesAnnotation] = JSON.stringify(currentMetrics.map(v2MetricStatusToV1));
  const conditions: KObject[] = Array.isArray(status.conditions) ? status.conditions : [];
  if (conditions.length) extra[conditionsAnnotation] = JSON.stringify(conditions);
  if (spec.behavior != null) extra[behaviorSpecsAnnotation] = behaviorToAnnotation(spec.behavior);
  if (Object.keys(extra).length) meta.annotations = { ...(meta.annotations ?? {}), ...extra };

  return { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: meta, spec: outSpec, status: outStatus };
}

/** Either shape, as autoscaling/v2. */
export function asHPAv2(obj: KObject): KObject {
  return isHPAv1(obj) ? hpaV1ToV2(obj) : obj;
}

// ---------------------------------------------------------------------------
// Validation (ValidateHorizontalPodAutoscaler, on the v2 shape).

function validateCrossVersionObjectReference(ref: KObject | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['kind', 'name']) {
    const v = String(ref?.[key] ?? '');
    if (!v) errs.push(required(`${path}.${key}`));
    else for (const m of isValidPathSegmentName(v)) errs.push(invalid(`${path}.${key}`, v, m));
  }
  return errs;
}

function validateMetricTarget(t: KObject | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = t?.type ?? '';
  if (!type) errs.push(required(`${path}.type`, 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(type))
    errs.push(invalid(`${path}.type`, type, 'must be either Utilization, Value, or AverageValue'));
  for (const key of ['value', 'averageValue']) {
    if (t?.[key] == null) continue;
    const q = tryParseQuantity(t[key]);
    if (!q || q.sign() !== 1) errs.push(invalid(`${path}.${key}`, t[key], 'must be positive'));
  }
  if (t?.averageUtilization != null && !(t.averageUtilization >= 1))
    errs.push(invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricIdentifier(id: KObject | undefined, path: string): FieldError[] {
  const name = String(id?.name ?? '');
  if (!name) return [required(`${path}.name`, 'must specify a metric name')];
  return isValidPathSegmentName(name).map((m) => invalid(`${path}.name`, name, m));
}

function validateMetricSource(key: string, src: KObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const t = src.target ?? {};
  const tp = `${path}.target`;
  switch (key) {
    case 'object':
      errs.push(...validateCrossVersionObjectReference(src.describedObject, `${path}.describedObject`));
      errs.push(...validateMetricIdentifier(src.metric, `${path}.metric`));
      errs.push(...validateMetricTarget(src.target, tp));
      if (t.value == null && t.averageValue == null) errs.push(required(`${tp}.averageValue`, 'must set either a target value or averageValue'));
      break;
    case 'external':
      errs.push(...validateMetricIdentifier(src.metric, `${path}.metric`));
      errs.push(...validateMetricTarget(src.target, tp));
      if (t.value == null && t.averageValue == null)
        errs.push(required(`${tp}.averageValue`, 'must set either a target value for metric or a per-pod target'));
      if (t.value != null && t.averageValue != null)
        errs.push(forbidden(`${tp}.value`, 'may not set both a target value for metric and a per-pod target'));
      break;
    case 'pods':
      errs.push(...validateMetricIdentifier(src.metric, `${path}.metric`));
      errs.push(...validateMetricTarget(src.target, tp));
      if (t.averageValue == null) errs.push(required(`${tp}.averageValue`, 'must specify a positive target averageValue'));
      break;
    case 'resource':
    case 'containerResource':
      if (!src.name) errs.push(required(`${path}.name`, 'must specify a resource name'));
      if (key === 'containerResource') {
        if (!src.container) errs.push(required(`${path}.container`, 'must specify a container'));
        else errs.push(...validateDNS1123Label(String(src.container), `${path}.container`));
      }
      errs.push(...validateMetricTarget(src.target, tp));
      if (t.averageUtilization == null && t.averageValue == null)
        errs.push(required(`${tp}.averageUtilization`, 'must set either a target raw value or a target utilization'));
      if (t.averageUtilization != null && t.averageValue != null)
        errs.push(forbidden(`${tp}.averageValue`, 'may not set both a target raw value and a target utilization'));
      break;
  }
  return errs;
}

const metricSourceTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const fieldOfType: Record<string, string> = {
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
  External: 'external',
  ContainerResource: 'containerResource',
};

function validateMetricSpec(spec: KObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = spec?.type ?? '';
  if (!type) errs.push(required(`${path}.type`, 'must specify a metric source type'));
  if (!metricSourceTypes.includes(type)) errs.push(notSupported(`${path}.type`, type, metricSourceTypes));
  const present: string[] = [];
  for (const key of ['object', 'external', 'pods', 'resource', 'containerResource']) {
    if (spec?.[key] == null) continue;
    present.push(key);
    // Only the first source given is validated; the others are reported as extra below.
    if (present.length === 1) errs.push(...validateMetricSource(key, spec[key], `${path}.${key}`));
  }
  const expected = fieldOfType[type];
  if (expected) {
    if (spec?.[expected] == null) errs.push(required(`${path}.${expected}`, 'must populate information for the given metric source'));
  } else {
    errs.push(notSupported(`${path}.type`, type, metricSourceTypes));
  }
  if (present.length !== 1)
    for (const key of present) if (key !== expected) errs.push(forbidden(`${path}.${key}`, 'must populate the given metric source only'));
  return errs;
}

function validateScalingRules(rules: KObject | undefined | null, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (rules == null) return errs;
  const w = rules.stabilizationWindowSeconds;
  if (w != null && w < 0) errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (w != null && w > maxStabilizationWindowSeconds)
    errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, `must be less than or equal to ${maxStabilizationWindowSeconds}`));
  if (rules.selectPolicy != null && !['Disabled', 'Max', 'Min'].includes(rules.selectPolicy))
    errs.push(notSupported(`${path}.selectPolicy`, rules.selectPolicy, ['Disabled', 'Max', 'Min']));
  const policies: KObject[] = Array.isArray(rules.policies) ? rules.policies : [];
  if (policies.length === 0) errs.push(required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (p?.type !== 'Pods' && p?.type !== 'Percent') errs.push(notSupported(`${pp}.type`, p?.type ?? '', ['Percent', 'Pods']));
    if (!((p?.value ?? 0) > 0)) errs.push(invalid(`${pp}.value`, p?.value ?? 0, 'must be greater than zero'));
    const period = p?.periodSeconds ?? 0;
    if (!(period > 0)) errs.push(invalid(`${pp}.periodSeconds`, period, 'must be greater than zero'));
    if (period > maxPeriodSeconds) errs.push(invalid(`${pp}.periodSeconds`, period, `must be less than or equal to ${maxPeriodSeconds}`));
  });
  return errs;
}

/** validateHorizontalPodAutoscalerSpec with HPAScaleToZero off (minReplicas >= 1). */
export function validateHPAv2(obj: KObject, minReplicasLowerBound = 1): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj.spec ?? {};
  const min = spec.minReplicas;
  const max = spec.maxReplicas ?? 0;
  if (min != null && min < minReplicasLowerBound)
    errs.push(invalid('spec.minReplicas', min, `must be greater than or equal to ${minReplicasLowerBound}`));
  if (max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (min != null && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  const metrics: KObject[] = Array.isArray(spec.metrics) ? spec.metrics : [];
  metrics.forEach((m, i) => errs.push(...validateMetricSpec(m, `spec.metrics[${i}]`)));
  if (min === 0 && !metrics.some((m) => m?.type === 'Object' || m?.type === 'External'))
    errs.push(forbidden('spec.metrics', 'must specify at least one Object or External metric to support scaling to zero replicas'));
  if (spec.behavior != null) {
    errs.push(...validateScalingRules(spec.behavior.scaleUp, 'spec.behavior.scaleUp'));
    errs.push(...validateScalingRules(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  const status = obj.status ?? {};
  for (const key of ['currentReplicas', 'desiredReplicas'])
    if (typeof status[key] === 'number' && status[key] < 0) errs.push(invalid(`status.${key}`, status[key], 'must be greater than or equal to 0'));
  return errs;
}

// ---------------------------------------------------------------------------
// Printer.

/** formatHPAMetrics: at most two "name: current/target" entries, then "+ N more...". */
export function formatHPAMetrics(specs: KObject[] | undefined, statuses: KObject[] | undefined): string {
  const list: string[] = [];
  const st: KObject[] = Array.isArray(statuses) ? statuses : [];
  const ms: KObject[] = Array.isArray(specs) ? specs : [];
  if (ms.length === 0) return '<none>';
  const max = 2;
  ms.forEach((spec, i) => {
    const status = st[i];
    switch (spec?.type) {
      case 'External': {
        const t = spec.external?.target ?? {};
        if (t.averageValue != null) {
          const cur = status?.external?.current?.averageValue != null ? quantityCell(status.external.current.averageValue) : '<unknown>';
          list.push(`${cur}/${quantityCell(t.averageValue)} (avg)`);
        } else {
          const cur = status?.external ? quantityCell(status.external.current?.value) : '<unknown>';
          list.push(`${cur}/${quantityCell(t.value)}`);
        }
        break;
      }
      case 'Pods': {
        const cur = status?.pods ? quantityCell(status.pods.current?.averageValue) : '<unknown>';
        list.push(`${cur}/${quantityCell(spec.pods?.target?.averageValue)}`);
        break;
      }
      case 'Object': {
        const t = spec.object?.target ?? {};
        if (t.averageValue != null) {
          const cur = status?.object?.current?.averageValue != null ? quantityCell(status.object.current.averageValue) : '<unknown>';
          list.push(`${cur}/${quantityCell(t.averageValue)} (avg)`);
        } else {
          const cur = status?.object ? quantityCell(status.object.current?.value) : '<unknown>';
          list.push(`${cur}/${quantityCell(t.value)}`);
        }
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const src = spec[key] ?? {};
        const t = src.target ?? {};
        const cur = status?.[key];
        if (t.averageValue != null) {
          const current = cur?.current?.averageValue != null ? quantityCell(cur.current.averageValue) : '<unknown>';
          list.push(`${src.name}: ${current}/${quantityCell(t.averageValue)}`);
        } else {
          const current = cur?.current?.averageUtilization != null ? `${cur.current.averageUtilization}%` : '<unknown>';
          const target = t.averageUtilization != null ? `${t.averageUtilization}%` : '<auto>';
          list.push(`${src.name}: ${current}/${target}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

export function hpaCells(obj: KObject, now: Date): unknown[] {
  const hpa = asHPAv2(obj);
  const spec = hpa.spec ?? {};
  const ref = spec.scaleTargetRef ?? {};
  return [
    hpa.metadata?.name ?? '',
    `${ref.kind ?? ''}/${ref.name ?? ''}`,
    formatHPAMetrics(spec.metrics, hpa.status?.currentMetrics),
    spec.minReplicas != null ? String(spec.minReplicas) : '<unset>',
    spec.maxReplicas ?? 0,
    hpa.status?.currentReplicas ?? 0,
    age(hpa.metadata?.creationTimestamp, now),
  ];
}

const hpaTable: ResourceDef['table'] = {
  columns: [
    nameColumn,
    column(
      'Reference',
      'string',
      'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.',
    ),
    column(
      'Targets',
      'string',
      'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond. If not set, the default metric will be set to 80% average CPU utilization.',
    ),
    column(
      'MinPods',
      'string',
      'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.',
    ),
    column(
      'MaxPods',
      'string',
      'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.',
    ),
    column(
      'Replicas',
      'string',
      'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.',
    ),
    ageColumn,
  ],
  cells: hpaCells,
};

function prepareHPAForCreate(obj: KObject): void {
  // Create cannot set status; the controller fills it.
  obj.status = isHPAv1(obj) ? { currentReplicas: 0, desiredReplicas: 0 } : { desiredReplicas: 0 };
}

export const horizontalPodAutoscalerV2Resource: ResourceDef = {
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: { status: true },
  tracksGeneration: false,
  defaults: (obj) => (isHPAv1(obj) ? defaultHPAv1(obj) : defaultHPAv2(obj)),
  prepareForCreate: prepareHPAForCreate,
  validate: (obj) => validateHPAv2(asHPAv2(obj)),
  table: hpaTable,
};

export const horizontalPodAutoscalerV1Resource: ResourceDef = {
  group: 'autoscaling',
  version: 'v1',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: { status: true },
  tracksGeneration: false,
  storage: { resource: 'horizontalpodautoscalers', version: 'autoscaling/v2' },
  toStorage: (obj) => (isHPAv1(obj) ? hpaV1ToV2(obj) : obj),
  fromStorage: (obj) => (isHPAv1(obj) ? obj : hpaV2ToV1(obj)),
  defaults: (obj) => (isHPAv1(obj) ? defaultHPAv1(obj) : defaultHPAv2(obj)),
  prepareForCreate: prepareHPAForCreate,
  validate: (obj) => validateHPAv2(asHPAv2(obj)),
  table: hpaTable,
};
