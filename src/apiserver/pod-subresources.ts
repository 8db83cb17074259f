/**
 * @module pods/binding and pods/eviction: how the scheduler assigns a pod to a node
 * (kube-apiserver's BindingREST: only an unassigned, live pod can be bound) and how
 * `kubectl drain` evicts one (policy/v1 Eviction: a delete with its DeleteOptions).
 */
import { ApiError } from '../api/errors.js';
import type { KObject, ResourceDef } from '../api/types.js';
import type { SubresourceHandler } from './handler.js';
import { writeJson } from './handler.js';
import { rfc3339, type DeleteOptions, type RestStorage } from './rest.js';

const success = (code: number) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code });

/** Assigns a pod to binding.target.name (kube-apiserver's assignPod): once, and never a pod being deleted. */
export async function bindPod(
  rest: RestStorage,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  b: KObject,
  dryRun: boolean,
  clock: () => Date,
): Promise<KObject> {
  const node = b.target?.name as string;
  return rest.mutateStored(def, namespace, name, dryRun, (pod: KObject) => {
    const conflict = (why: string) => ApiError.conflict('pods/binding', '', name, why);
    if (pod.metadata?.deletionTimestamp) throw conflict(`pod ${name} is being deleted, cannot be assigned to a host`);
    if (pod.spec?.nodeName) throw conflict(`pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    if (b.metadata?.uid && b.metadata.uid !== pod.metadata?.uid)
      throw conflict(`Precondition failed: UID in precondition: ${b.metadata.uid}, UID in object meta: ${pod.metadata?.uid}`);
    pod.spec.nodeName = node;
    for (const [k, v] of Object.entries((b.metadata?.annotations as Record<string, string> | undefined) ?? {})) {
      pod.metadata!.annotations ??= {};
      pod.metadata!.annotations[k] = v;
    }
    pod.status ??= {};
    const conditions: KObject[] = (pod.status.conditions ??= []);
    const scheduled = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(clock()) };
    const i = conditions.findIndex((c) => c.type === 'PodScheduled');
    if (i >= 0) conditions[i] = scheduled;
    else conditions.push(scheduled);
  });
}

export function podSubresourceHandlers(rest: RestStorage, clock: () => Date): Map<string, SubresourceHandler> {
  const binding: SubresourceHandler = async ({ req, res, def, namespace, name, body, writeContext }) => {
    if (req.method !== 'POST') throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    const b = await body();
    if (b.kind && b.kind !== 'Binding') throw ApiError.badRequest(`the kind in the data (${b.kind}) does not match the expected kind (Binding)`);
    if (b.metadata?.name && b.metadata.name !== name)
      throw ApiError.badRequest(`the name of the object (${b.metadata.name}) does not match the name on the URL (${name})`);
    const node = b.target?.name;
    if (!node) throw ApiError.invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
    if (b.target?.kind && b.target.kind !== 'Node')
      throw ApiError.invalid('Binding', '', name, [{ type: 'FieldValueNotSupported', field: 'target.kind', value: b.target.kind, supported: ['Node'] }]);
    await bindPod(rest, def, namespace, name, b, writeContext.dryRun, clock);
    writeJson(res, 201, success(201));
  };

  const eviction: SubresourceHandler = async ({ req, res, def, namespace, name, body, writeContext }) => {
    if (req.method !== 'POST') throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
    const e = await body();
    if (e.kind && e.kind !== 'Eviction') throw ApiError.badRequest(`the kind in the data (${e.kind}) does not match the expected kind (Eviction)`);
    if (e.metadata?.name && e.metadata.name !== name)
      throw ApiError.badRequest(`name in URL does not match name in Eviction object`);
    // No PodDisruptionBudgets are served yet, so every eviction is allowed.
    const opts = (e.deleteOptions ?? {}) as DeleteOptions & { dryRun?: string[] };
    const dryRun = writeContext.dryRun || (opts.dryRun ?? []).includes('All');
    await rest.delete(def, namespace, name, opts, { ...writeContext, dryRun });
    writeJson(res, 201, success(201));
  };

  return new Map([
    ['/pods/binding', binding],
    ['/pods/eviction', eviction],
  ]);
}
