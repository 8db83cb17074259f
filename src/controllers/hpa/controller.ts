/**
 * @module kube-controller-manager's horizontal-pod-autoscaler controller (autoscaling/v2):
 * every sync period it reads the target's scale subresource, computes a replica count per
 * metric from metrics.k8s.io (Resource and ContainerResource metrics: utilization of
 * requests or average value), takes the largest, normalizes it (stabilization, rate
 * limits, min/max), updates the scale, and writes status (currentReplicas,
 * desiredReplicas, currentMetrics, lastScaleTime, the AbleToScale / ScalingActive /
 * ScalingLimited conditions) and events with kube's reasons and messages.
 */
import type { KObject } from '../../api/types.js';
import { Quantity } from '../../api/quantity.js';
import { parseLabelSelector } from '../../api/selectors/index.js';
import { Resources, WorkQueue, gvr, keyOf, splitKey, type EventRecorder, type Gvr, type Informer } from '../../client/index.js';
import { DelayedRequeue, errorMessage, isNotFound, rfc3339, runController, semanticEqual } from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import { ScalingHistory } from './behavior.js';
import { milliValue, podMetricsFromList, rawResourceReplicas, resourceReplicas, type CalculatorOptions } from './replica-calculator.js';

export const hpaDefaults = {
  syncPeriodSeconds: 15,
  downscaleStabilizationSeconds: 300,
  tolerance: 0.1,
  cpuInitializationPeriodSeconds: 300,
  initialReadinessDelaySeconds: 30,
};

const metricsPods = gvr('metrics.k8s.io', 'v1beta1', 'pods');

/** An error that already set its condition and event; the sync logs it and moves on. */
class ReconcileError extends Error {}

/** The resource of a scale target kind (kube's RESTMapper for the kinds with a scale subresource). */
export function scaleTargetResource(ref: KObject | undefined): Gvr | undefined {
  const apiVersion = String(ref?.apiVersion ?? '');
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const plural: Record<string, string> = { Deployment: 'deployments', ReplicaSet: 'replicasets', StatefulSet: 'statefulsets', ReplicationController: 'replicationcontrollers' };
  const resource = plural[String(ref?.kind)];
  if (!resource) return undefined;
  return gvr(group, version || 'v1', resource);
}

type ConditionStatus = 'True' | 'False';

export class HorizontalPodAutoscalerController implements Controller {
  readonly name = 'horizontalpodautoscaling';
  readonly queue = new WorkQueue({ name: 'horizontalpodautoscaler' });
  readonly requeue = new DelayedRequeue(this.queue);
  readonly hpas: Informer;
  readonly pods: Informer;
  private readonly recorder: EventRecorder;
  readonly history: ScalingHistory;
  private readonly syncPeriodMs: number;
  private readonly tolerance: number;
  private readonly cpuInitializationPeriodMs: number;
  private readonly initialReadinessDelayMs: number;

  constructor(private readonly ctx: ControllerContext) {
    const o = ctx.options;
    this.syncPeriodMs = (o.horizontalPodAutoscalerSyncPeriodSeconds ?? hpaDefaults.syncPeriodSeconds) * 1000;
    this.tolerance = o.horizontalPodAutoscalerTolerance ?? hpaDefaults.tolerance;
    this.cpuInitializationPeriodMs = (o.horizontalPodAutoscalerCpuInitializationPeriodSeconds ?? hpaDefaults.cpuInitializationPeriodSeconds) * 1000;
    this.initialReadinessDelayMs = (o.horizontalPodAutoscalerInitialReadinessDelaySeconds ?? hpaDefaults.initialReadinessDelaySeconds) * 1000;
    this.history = new ScalingHistory(o.horizontalPodAutoscalerDownscaleStabilizationSeconds ?? hpaDefaults.downscaleStabilizationSeconds);
    this.recorder = ctx.recorder('horizontal-pod-autoscaler');
    this.hpas = ctx.informers.for(Resources.horizontalpodautoscalers);
    this.pods = ctx.informers.for(Resources.pods);
    // kube enqueues rate-limited at the sync period: a new HPA is first synced one period later.
    this.hpas.addEventHandlers({
      add: (h) => this.requeue.after(keyOf(h), this.syncPeriodMs),
      update: (_o, h) => this.requeue.after(keyOf(h), this.syncPeriodMs),
      delete: (h) => {
        if (h?.metadata?.name) this.history.forget(keyOf(h));
      },
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.hpas, this.pods],
      pools: [{ queue: this.queue, workers, sync: (k) => this.syncAndRequeue(k) }],
      stopped: () => this.requeue.stop(),
    });
  }

  /** One sync, then the next one a sync period later while the HPA exists (errors included, as kube). */
  private async syncAndRequeue(key: string): Promise<void> {
    try {
      await this.sync(key);
    } catch (err) {
      this.ctx.log({ level: err instanceof ReconcileError ? 'info' : 'warn', msg: 'failed to reconcile HPA', controller: this.name, key, error: errorMessage(err) });
    }
    const { namespace, name } = splitKey(key);
    if (this.hpas.getByName(namespace, name)) this.requeue.after(key, this.syncPeriodMs);
  }

  private now(): number {
    return this.ctx.now().getTime();
  }

  private setCondition(hpa: KObject, type: string, status: ConditionStatus, reason: string, message: string): void {
    const conditions: KObject[] = (hpa.status.conditions ??= []);
    const existing = conditions.find((c) => c.type === type);
    if (existing) {
      if (existing.status !== status) existing.lastTransitionTime = rfc3339(this.ctx.now());
      Object.assign(existing, { status, reason, message });
      return;
    }
    conditions.push({ type, status, lastTransitionTime: rfc3339(this.ctx.now()), reason, message });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.hpas.getByName(namespace, name);
    if (!cached) {
      this.history.forget(key);
      return;
    }
    const hpa = structuredClone(cached);
    hpa.status ??= {};
    const original = structuredClone(hpa.status);
    try {
      await this.reconcile(key, hpa);
    } finally {
      await this.updateStatusIfNeeded(hpa, original);
    }
  }

  private async updateStatusIfNeeded(hpa: KObject, original: KObject): Promise<void> {
    if (semanticEqual(hpa.status, original)) return;
    try {
      await this.ctx.client.update(Resources.horizontalpodautoscalers, String(hpa.metadata?.namespace), hpa, { subresource: 'status' });
    } catch (err) {
      if (isNotFound(err)) return;
      this.recorder.event(hpa, 'Warning', 'FailedUpdateStatus', errorMessage(err));
      throw err;
    }
  }

  private async reconcile(key: string, hpa: KObject): Promise<void> {
    const spec = hpa.spec ?? {};
    const ref = spec.scaleTargetRef ?? {};
    const reference = `${ref.kind}/${String(hpa.metadata?.namespace)}/${ref.name}`;
    const target = scaleTargetResource(ref);
    let scale: KObject;
    try {
      if (!target) {
        const group = String(ref.apiVersion ?? '').split('/').slice(0, -1).join('/');
        throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
      }
      scale = await this.ctx.client.getScale(target, String(hpa.metadata?.namespace), String(ref.name));
    } catch (err) {
      this.recorder.event(hpa, 'Warning', 'FailedGetScale', errorMessage(err));
      this.setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${errorMessage(err)}`);
      throw new ReconcileError(`failed to query scale subresource for ${reference}: ${errorMessage(err)}`);
    }
    this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const currentReplicas: number = scale.spec?.replicas ?? 0;
    const now = this.now();
    this.history.recordInitial(key, currentReplicas, now);
    const minReplicas: number = spec.minReplicas ?? 1;
    const maxReplicas: number = spec.maxReplicas;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let metricStatuses: KObject[] = hpa.status.currentMetrics ?? [];
    let rescale: boolean;
    if (currentReplicas === 0 && minReplicas !== 0) {
      // Scaling to zero by hand turns autoscaling off until the target is scaled up again.
      desiredReplicas = 0;
      rescale = false;
      this.setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
      rescale = true;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
      rescale = true;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, spec.metrics ?? []);
      metricStatuses = computed.statuses;
      if (computed.error && computed.replicas === -1) {
        this.setStatus(hpa, currentReplicas, hpa.status.desiredReplicas ?? currentReplicas, metricStatuses, false);
        this.recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error);
        throw new ReconcileError(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${computed.error}`);
      }
      let rescaleMetric = '';
      if (computed.replicas > desiredReplicas) {
        desiredReplicas = computed.replicas;
        rescaleMetric = computed.metric;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const normalized = spec.behavior
        ? this.history.normalizeWithBehavior(key, spec.behavior, currentReplicas, desiredReplicas, minReplicas, maxReplicas, now)
        : this.history.normalize(key, currentReplicas, desiredReplicas, minReplicas, maxReplicas, now);
      this.setCondition(hpa, 'AbleToScale', 'True', normalized.ableToScale[0], normalized.ableToScale[1]);
      this.setCondition(hpa, 'ScalingLimited', normalized.isLimited ? 'True' : 'False', normalized.limited.reason, normalized.limited.message);
      desiredReplicas = normalized.replicas;
      rescale = desiredReplicas !== currentReplicas;
    }
    if (rescale) {
      try {
        await this.ctx.client.updateScale(target, String(hpa.metadata?.namespace), String(ref.name), { ...scale, spec: { ...(scale.spec ?? {}), replicas: desiredReplicas } });
      } catch (err) {
        this.recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${errorMessage(err)}`);
        this.setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${errorMessage(err)}`);
        this.setStatus(hpa, currentReplicas, hpa.status.desiredReplicas ?? currentReplicas, metricStatuses, false);
        throw new ReconcileError(`failed to rescale ${reference}: ${errorMessage(err)}`);
      }
      this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.history.storeScaleEvent(key, spec.behavior, currentReplicas, desiredReplicas, now);
      this.ctx.log({ level: 'info', msg: 'successful rescale', controller: this.name, hpa: key, currentReplicas, desiredReplicas, reason: rescaleReason });
    } else desiredReplicas = currentReplicas;
    this.setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale);
  }

  private setStatus(hpa: KObject, currentReplicas: number, desiredReplicas: number, metricStatuses: KObject[], rescale: boolean): void {
    const status: KObject = { currentReplicas, desiredReplicas };
    if (metricStatuses.length) status.currentMetrics = metricStatuses;
    const last = rescale ? rfc3339(this.ctx.now()) : hpa.status.lastScaleTime;
    if (last) status.lastScaleTime = last;
    if (hpa.status.conditions) status.conditions = hpa.status.conditions;
    if (hpa.status.observedGeneration !== undefined) status.observedGeneration = hpa.status.observedGeneration;
    hpa.status = status;
  }

  /** computeReplicasForMetrics: the largest proposal over valid metrics; invalid ones fail the sync unless others scale up. */
  private async computeReplicasForMetrics(hpa: KObject, scale: KObject, metricSpecs: KObject[]): Promise<{ replicas: number; metric: string; statuses: KObject[]; error?: string }> {
    const selectorText: string = scale.status?.selector ?? '';
    if (!selectorText) {
      const msg = 'selector is required';
      this.recorder.event(hpa, 'Warning', 'SelectorRequired', msg);
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      return { replicas: -1, metric: '', statuses: [], error: msg };
    }
    let pods: KObject[];
    try {
      const selector = parseLabelSelector(selectorText);
      pods = this.pods.byNamespace(String(hpa.metadata?.namespace)).filter((p) => selector.matches(p.metadata?.labels ?? {}));
    } catch (err) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${errorMessage(err)}`;
      this.recorder.event(hpa, 'Warning', 'InvalidSelector', msg);
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', `the HPA target's scale has an invalid selector: ${errorMessage(err)}`);
      return { replicas: -1, metric: '', statuses: [], error: msg };
    }
    const specReplicas: number = scale.spec?.replicas ?? 0;
    const statuses: KObject[] = metricSpecs.map(() => ({ type: '' }));
    let replicas = 0;
    let metric = '';
    let invalid = 0;
    let firstError: string | undefined;
    let firstCondition: [string, string] | undefined;
    for (let i = 0; i < metricSpecs.length; i++) {
      const r = await this.computeReplicasForMetric(hpa, metricSpecs[i], specReplicas, selectorText, pods);
      if ('error' in r) {
        if (invalid === 0) {
          firstError = r.error;
          firstCondition = r.condition;
        }
        invalid++;
        continue;
      }
      statuses[i] = r.status;
      if (replicas === 0 || r.replicas > replicas) {
        replicas = r.replicas;
        metric = r.metric;
      }
    }
    let error: string | undefined;
    if (firstError !== undefined) error = `invalid metrics (${invalid} invalid out of ${metricSpecs.length}), first error is: ${firstError}`;
    if (invalid >= metricSpecs.length || (invalid > 0 && replicas < specReplicas)) {
      if (firstCondition) this.setCondition(hpa, 'ScalingActive', 'False', firstCondition[0], firstCondition[1]);
      return { replicas: -1, metric: '', statuses, error };
    }
    this.setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
    return { replicas, metric, statuses, error };
  }

  private calculatorOptions(): CalculatorOptions {
    return { tolerance: this.tolerance, cpuInitializationPeriodMs: this.cpuInitializationPeriodMs, delayOfInitialReadinessStatusMs: this.initialReadinessDelayMs, now: this.now() };
  }

  private async podMetricsList(namespace: string, selector: string): Promise<KObject> {
    try {
      return this.ctx.listPodMetrics ? await this.ctx.listPodMetrics(namespace, selector) : await this.ctx.client.list(metricsPods, namespace, { labelSelector: selector });
    } catch (err) {
      throw new Error(`unable to fetch metrics from resource metrics API: ${errorMessage(err)}`);
    }
  }

  /** One metric's proposal (Resource and ContainerResource); other source types need custom/external metrics APIs skiff does not serve. */
  private async computeReplicasForMetric(
    hpa: KObject,
    spec: KObject,
    specReplicas: number,
    selector: string,
    pods: KObject[],
  ): Promise<{ replicas: number; metric: string; status: KObject } | { error: string; condition: [string, string] }> {
    const type = spec.type;
    if (type !== 'Resource' && type !== 'ContainerResource') {
      const metricName: string = spec[String(type).charAt(0).toLowerCase() + String(type).slice(1)]?.metric?.name ?? '';
      const err = `unable to get metric ${metricName}: no custom or external metrics API is served`;
      const reason = type === 'External' ? 'FailedGetExternalMetric' : type === 'Object' ? 'FailedGetObjectMetric' : type === 'Pods' ? 'FailedGetPodsMetric' : 'InvalidMetricSourceType';
      this.recorder.event(hpa, 'Warning', reason, err);
      const wrapped = type === 'External' ? `failed to get ${metricName} external metric value: ${err}` : type === 'Object' ? `failed to get object metric value: ${err}` : type === 'Pods' ? `failed to get pods metric value: ${err}` : err;
      return { error: wrapped, condition: [reason, `the HPA was unable to compute the replica count: ${err}`] };
    }
    const key = type === 'Resource' ? 'resource' : 'containerResource';
    const source: KObject = spec[key] ?? {};
    const resource = String(source.name);
    const container = type === 'ContainerResource' ? String(source.container ?? '') : '';
    const targetSpec: KObject = source.target ?? {};
    const reason = type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
    const fail = (err: string) => {
      this.recorder.event(hpa, 'Warning', reason, err);
      const wrapped = type === 'Resource' ? `failed to get ${resource} resource metric value: ${err}` : `failed to get ${container} container metric value: ${err}`;
      return { error: wrapped, condition: [reason, `the HPA was unable to compute the replica count: ${err}`] as [string, string] };
    };
    const averageValue = targetSpec.averageValue != null ? milliValue(targetSpec.averageValue) : undefined;
    if (averageValue === undefined && targetSpec.averageUtilization == null)
      return fail('invalid resource metric source: neither an average utilization target nor an average value target was set');
    let metrics;
    try {
      metrics = podMetricsFromList(await this.podMetricsList(String(hpa.metadata?.namespace), selector), resource, container).metrics;
    } catch (err) {
      return fail(`failed to get ${resource} utilization: unable to get metrics for resource ${resource}: ${errorMessage(err)}`);
    }
    try {
      if (averageValue !== undefined) {
        const r = rawResourceReplicas(specReplicas, averageValue, resource, metrics, pods, this.calculatorOptions());
        return {
          replicas: r.replicas,
          metric: `${resource} resource`,
          status: { type, [key]: { name: resource, ...(container ? { container } : {}), current: { averageValue: Quantity.fromMilli(r.rawAverage).toString() } } },
        };
      }
      const target = Number(targetSpec.averageUtilization);
      const r = resourceReplicas(specReplicas, target, resource, metrics, pods, this.calculatorOptions(), container);
      return {
        replicas: r.replicas,
        metric: type === 'ContainerResource' ? `${resource} container resource utilization (percentage of request)` : `${resource} resource utilization (percentage of request)`,
        status: { type, [key]: { name: resource, ...(container ? { container } : {}), current: { averageUtilization: r.utilization, averageValue: Quantity.fromMilli(r.rawAverage).toString() } } },
      };
    } catch (err) {
      return fail(`failed to get ${resource} utilization: ${errorMessage(err)}`);
    }
  }
}
