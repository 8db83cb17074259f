/**
 * @module The EndpointSlice controller (kube-controller-manager's `endpointslice`): for
 * every Service with a selector, EndpointSlices named `<service>-<random>` labelled
 * `kubernetes.io/service-name` and managed-by `endpointslice-controller.k8s.io`, owned
 * by the Service (the garbage collector removes them with it), holding one endpoint per
 * selected pod with its ready/serving/terminating conditions.
 */
import type { KObject } from '../../api/types.js';
import { Resources, splitKey, WorkQueue, type EventRecorder, type Informer } from '../../client/index.js';
import { errorMessage, isNamespaceTerminating, isNotFound, runController } from '../common/index.js';
import { enqueueServicesOnPodChanges, lastChangeTriggerTimeAnnotation, managesEndpoints, rfc3339Nano, selectedPods, TriggerTimeTracker } from '../endpoints/pod-endpoints.js';
import type { Controller, ControllerContext } from '../types.js';
import { controllerName, defaultMaxEndpointsPerSlice, managedByLabel, reconcileEndpointSlices, serviceNameLabel } from './reconciler.js';
import { EndpointSliceTracker, StaleInformerCacheError } from './tracker.js';

const serviceIndex = 'endpointslice:service';

function isManaged(slice: KObject): boolean {
  return slice.metadata?.labels?.[managedByLabel] === controllerName;
}

function serviceKeyOf(slice: KObject): string | undefined {
  const svc = slice.metadata?.labels?.[serviceNameLabel];
  return svc ? `${slice.metadata?.namespace}/${svc}` : undefined;
}

function setTriggerTime(slice: KObject, triggerTime: Date | undefined): void {
  slice.metadata ??= {};
  const annotations: Record<string, string> = { ...(slice.metadata.annotations ?? {}) };
  if (triggerTime) annotations[lastChangeTriggerTimeAnnotation] = rfc3339Nano(triggerTime);
  else delete annotations[lastChangeTriggerTimeAnnotation];
  slice.metadata.annotations = annotations;
}

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  readonly queue = new WorkQueue({ name: 'endpoint_slice' });
  readonly tracker = new EndpointSliceTracker();
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly slices: Informer;
  private readonly recorder: EventRecorder;
  private readonly triggerTimes = new TriggerTimeTracker();
  private readonly maxEndpointsPerSlice: number;

  constructor(private readonly ctx: ControllerContext) {
    const configured = Number(ctx.options.maxEndpointsPerSlice);
    this.maxEndpointsPerSlice = Number.isInteger(configured) && configured > 0 ? configured : defaultMaxEndpointsPerSlice;
    this.services = ctx.informers.for(Resources.services);
    this.pods = ctx.informers.for(Resources.pods);
    this.nodes = ctx.informers.for(Resources.nodes);
    this.slices = ctx.informers.for(Resources.endpointslices);
    this.recorder = ctx.recorder('endpointslice-controller');
    this.slices.addIndex(serviceIndex, (s) => {
      const key = isManaged(s) ? serviceKeyOf(s) : undefined;
      return key ? [key] : [];
    });

    const enqueueService = (svc: KObject) => this.queue.add(`${svc.metadata?.namespace}/${svc.metadata?.name}`);
    this.services.addEventHandlers({ add: enqueueService, update: (_o, n) => enqueueService(n), delete: enqueueService });

    enqueueServicesOnPodChanges(this.pods, this.services, this.queue);

    const enqueueSlice = (slice: KObject) => {
      const key = serviceKeyOf(slice);
      if (key) this.queue.add(key);
    };
    this.slices.addEventHandlers({
      add: (slice) => {
        if (isManaged(slice) && this.tracker.shouldSync(slice)) enqueueSlice(slice);
      },
      update: (oldSlice, slice) => {
        if (isManaged(oldSlice) !== isManaged(slice)) {
          enqueueSlice(oldSlice);
          enqueueSlice(slice);
        } else if (isManaged(slice) && this.tracker.shouldSync(slice)) {
          enqueueSlice(slice);
          if (serviceKeyOf(oldSlice) !== serviceKeyOf(slice)) enqueueSlice(oldSlice);
        }
      },
      delete: (slice) => {
        // A slice we did not delete ourselves is recreated.
        if (isManaged(slice) && !this.tracker.handleDeletion(slice)) enqueueSlice(slice);
      },
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.services, this.pods, this.nodes, this.slices],
      pools: [{ queue: this.queue, workers: Math.max(1, workers), sync: (key) => this.sync(key) }],
    });
  }

  /** The whole decision for one Service key (namespace/name). */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (!namespace) return;
    const svc = this.services.getByName(namespace, name);
    if (!svc) {
      // The slices go with the Service through their ownerReference (garbage collector).
      this.triggerTimes.deleteService(namespace, name);
      this.tracker.deleteService(namespace, name);
      return;
    }
    if (!managesEndpoints(svc)) return;

    const pods = selectedPods(svc, this.pods);
    const existing = this.slices.byIndex(serviceIndex, key).filter((s) => !s.metadata?.deletionTimestamp);
    if (this.tracker.staleSlices(namespace, name, existing)) throw new StaleInformerCacheError();
    const triggerTime = this.triggerTimes.compute(svc, pods);

    const plan = reconcileEndpointSlices({
      service: svc,
      pods,
      existing,
      node: (n) => this.nodes.getByName(undefined, n),
      maxEndpointsPerSlice: this.maxEndpointsPerSlice,
    });
    try {
      await this.apply(svc, plan.create, plan.update, plan.delete, triggerTime);
    } catch (err) {
      this.recorder.event(svc, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${namespace}/${name}: ${errorMessage(err)}`);
      throw err;
    }
    if (plan.errors.length) throw new Error(plan.errors.join('; '));
  }

  private async apply(svc: KObject, create: KObject[], update: KObject[], del: KObject[], triggerTime: Date | undefined): Promise<void> {
    const { client } = this.ctx;
    const namespace = svc.metadata!.namespace!;
    // No new slices for a Service on its way out: they would race the garbage collector.
    if (!svc.metadata?.deletionTimestamp) {
      for (const slice of create) {
        setTriggerTime(slice, triggerTime);
        try {
          this.tracker.update(await client.create(Resources.endpointslices, namespace, slice));
        } catch (err) {
          if (isNamespaceTerminating(err)) return;
          throw new Error(`failed to create EndpointSlice for Service ${namespace}/${svc.metadata?.name}: ${errorMessage(err)}`);
        }
      }
    }
    for (const slice of update) {
      setTriggerTime(slice, triggerTime);
      try {
        this.tracker.update(await client.update(Resources.endpointslices, namespace, slice));
      } catch (err) {
        throw new Error(`failed to update ${slice.metadata?.name} EndpointSlice for Service ${namespace}/${svc.metadata?.name}: ${errorMessage(err)}`);
      }
    }
    for (const slice of del) {
      try {
        await client.delete(Resources.endpointslices, namespace, slice.metadata!.name!);
        this.tracker.expectDeletion(slice);
      } catch (err) {
        if (isNotFound(err)) continue;
        throw new Error(`failed to delete ${slice.metadata?.name} EndpointSlice for Service ${namespace}/${svc.metadata?.name}: ${errorMessage(err)}`);
      }
    }
  }
}
