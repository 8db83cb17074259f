/**
 * @module The namespace controller (kube-controller-manager's `namespace`): a Namespace
 * with a deletionTimestamp is emptied by the NamespacedResourcesDeleter, then released
 * by removing "kubernetes" from spec.finalizers. While content is still terminating the
 * key comes back after about half the estimate (kube's estimate/2 + 1 s); pod deletions
 * in a terminating namespace bring it back sooner.
 */
import type { KObject } from '../../api/types.js';
import { Resources, WorkQueue, type Informer } from '../../client/index.js';
import { runController } from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import { knownResources, servedResources, type KnownResource } from '../garbagecollector/resources.js';
import { NamespacedResourcesDeleter, ResourcesRemainingError } from './deleter.js';

export interface NamespaceControllerOptions {
  /** Namespaced resources to empty. Absent: the served subset of the shared known list, probed at run(). */
  resources?: readonly KnownResource[];
}

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  /** kube's namespace queue: 5 ms first retry, at most 1000 s. */
  readonly queue = new WorkQueue({ name: 'namespace', baseDelayMs: 5, maxDelayMs: 1_000_000 });
  readonly deleter: NamespacedResourcesDeleter;
  private readonly namespaces: Informer;
  private readonly pods: Informer;
  private resources: readonly KnownResource[];

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: NamespaceControllerOptions = {},
  ) {
    this.resources = opts.resources ?? knownResources.filter((r) => r.namespaced);
    this.deleter = new NamespacedResourcesDeleter({
      client: ctx.client,
      resources: () => this.resources,
      now: ctx.now,
      log: (m) => ctx.log({ component: 'namespace-controller', ...m }),
    });
    this.namespaces = ctx.informers.for(Resources.namespaces);
    this.pods = ctx.informers.for(Resources.pods);
    const enqueueIfDeleting = (ns: KObject) => {
      if (ns.metadata?.deletionTimestamp && ns.metadata.name) this.queue.add(ns.metadata.name);
    };
    this.namespaces.addEventHandlers({ add: enqueueIfDeleting, update: (_old, ns) => enqueueIfDeleting(ns) });
    // Not in kube (which only waits out its estimate): a terminating namespace is looked at again as its pods go.
    this.pods.addEventHandlers({
      delete: (pod) => {
        const ns = pod.metadata?.namespace ? this.namespaces.getByName(undefined, pod.metadata.namespace) : undefined;
        if (ns) enqueueIfDeleting(ns);
      },
    });
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    if (!this.opts.resources) this.resources = (await servedResources(this.ctx.client, knownResources)).filter((r) => r.namespaced);
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.namespaces, this.pods],
      pools: [{ queue: this.queue, workers: Math.max(1, workers), sync: (key) => this.syncWithRequeue(key) }],
    });
  }

  /** Content still going away is not a failure: wait about half the estimate, without backoff. */
  private async syncWithRequeue(name: string): Promise<void> {
    try {
      await this.sync(name);
    } catch (err) {
      if (!(err instanceof ResourcesRemainingError)) throw err;
      this.queue.addAfter(name, (Math.floor(err.estimate / 2) + 1) * 1000);
    }
  }

  /** The whole decision for one namespace; throws ResourcesRemainingError while content terminates. */
  async sync(name: string): Promise<void> {
    const ns = this.namespaces.getByName(undefined, name);
    if (!ns?.metadata?.deletionTimestamp) return;
    await this.deleter.delete(name);
  }
}
