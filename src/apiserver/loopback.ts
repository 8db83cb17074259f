/**
 * @module The loopback Client: components inside `skiff server` call the REST pipeline
 * directly, skipping HTTP and TLS but keeping every semantic (defaults, validation,
 * resourceVersion conflicts, watch ordering, managedFields).
 */
import { ApiError } from '../api/errors.js';
import type { KObject, ResourceDef } from '../api/types.js';
import type { Client, DeleteOptions, Gvr, ListOptions, PatchType, WatchEvent, WatchHandle, WatchOptions, WriteOptions } from '../client/client.js';
import type { RestStorage, WriteContext } from './rest.js';

export class LoopbackClient implements Client {
  constructor(
    private readonly rest: RestStorage,
    /** Field manager of writes that name none ("kube-controller-manager", "kube-scheduler"...). */
    private readonly manager: string,
  ) {}

  private def(r: Gvr): ResourceDef {
    const def = this.rest.registry.lookup(r.group, r.version, r.resource);
    if (!def) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return def;
  }

  private ctx(opts?: WriteOptions): WriteContext {
    return { dryRun: !!opts?.dryRun, fieldManager: opts?.fieldManager ?? this.manager, fieldValidation: 'Ignore', warnings: [], trusted: true };
  }

  get(r: Gvr, namespace: string | undefined, name: string): Promise<KObject> {
    return this.rest.get(this.def(r), namespace, name);
  }

  list(r: Gvr, namespace: string | undefined, opts: ListOptions = {}): Promise<KObject> {
    return this.rest.list(this.def(r), namespace, opts);
  }

  async watch(r: Gvr, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void): Promise<WatchHandle> {
    let ended = false;
    const end = (err?: Error) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      watcher?.cancel();
      onEnd(err);
    };
    const timer = opts.timeoutSeconds ? setTimeout(() => end(), opts.timeoutSeconds * 1000) : undefined;
    timer?.unref?.();
    // Events are delivered asynchronously (never inside the caller's write), as over HTTP.
    const watcher = await this.rest.watch(this.def(r), namespace, opts, (ev) => onEvent(ev as WatchEvent), end);
    return { stop: () => end() };
  }

  create(r: Gvr, namespace: string | undefined, obj: KObject, opts?: WriteOptions): Promise<KObject> {
    return this.rest.create(this.def(r), namespace, structuredClone(obj), this.ctx(opts));
  }

  update(r: Gvr, namespace: string | undefined, obj: KObject, opts?: WriteOptions & { subresource?: 'status' | 'finalize' }): Promise<KObject> {
    const name = obj.metadata?.name;
    if (!name) return Promise.reject(ApiError.badRequest('name is required for update'));
    // RestStorage.update copies its input before changing anything: no second copy here.
    return this.rest.update(this.def(r), namespace, name, obj, this.ctx(opts), opts?.subresource ?? '');
  }

  async patch(
    r: Gvr,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts?: WriteOptions & { subresource?: 'status' | 'scale'; force?: boolean },
  ): Promise<KObject> {
    const def = this.def(r);
    const body = Buffer.from(JSON.stringify(patch));
    if (opts?.subresource === 'scale') {
      const { applyPatchToScale } = await import('./patching.js');
      return this.rest.updateScale(def, namespace, name, this.ctx(opts), (scale) => applyPatchToScale(type, scale, body));
    }
    const { object } = await this.rest.patch(def, namespace, name, type, body, this.ctx(opts), opts?.subresource ?? '', !!opts?.force);
    return object;
  }

  async delete(r: Gvr, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<void> {
    await this.rest.delete(this.def(r), namespace, name, opts, this.ctx());
  }

  async createSubresource(r: Gvr, namespace: string | undefined, name: string, subresource: string, body: KObject): Promise<KObject> {
    const def = this.def(r);
    if (def.plural === 'pods' && subresource === 'binding') {
      const node = body.target?.name;
      if (!node) throw ApiError.invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
      const { bindPod } = await import('./pod-subresources.js');
      await bindPod(this.rest, def, namespace, name, body, false, () => new Date());
      return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
    }
    if (def.plural === 'pods' && subresource === 'eviction') {
      await this.rest.delete(def, namespace, name, (body.deleteOptions ?? {}) as DeleteOptions, this.ctx());
      return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }

  getScale(r: Gvr, namespace: string | undefined, name: string): Promise<KObject> {
    return this.rest.getScale(this.def(r), namespace, name);
  }

  updateScale(r: Gvr, namespace: string | undefined, name: string, scale: KObject): Promise<KObject> {
    return this.rest.updateScale(this.def(r), namespace, name, this.ctx(), () => structuredClone(scale));
  }
}
