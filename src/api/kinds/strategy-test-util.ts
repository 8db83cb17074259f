/**
 * @module Test helpers that run a ResourceDef's strategy the way the API server pipeline
 * does (defaults → prepare → validate), without the server.
 */
import type { KObject, ResourceDef } from '../types.js';
import { kubeFieldErrorMessage } from './kind-util.js';

export const testNow = new Date('2025-01-01T12:00:00Z');

/** Create: server-set metadata, defaults, PrepareForCreate, validation. */
export function simulateCreate(def: ResourceDef, input: KObject, opts: { uid?: string; now?: Date } = {}): { obj: KObject; errors: string[] } {
  const obj: KObject = structuredClone(input);
  obj.metadata ??= {};
  obj.metadata.uid = opts.uid ?? '11111111-2222-3333-4444-555555555555';
  obj.metadata.creationTimestamp = (opts.now ?? testNow).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (def.namespaced) obj.metadata.namespace ??= 'default';
  if (def.tracksGeneration !== false && 'spec' in obj) obj.metadata.generation = 1;
  def.defaults?.(obj);
  def.prepareForCreate?.(obj, { now: opts.now ?? testNow, subresource: '' });
  const errors = (def.validate?.(obj) ?? []).map(kubeFieldErrorMessage);
  return { obj, errors };
}

/** Update of the main resource or a subresource: status kept, defaults, PrepareForUpdate, validation. */
export function simulateUpdate(
  def: ResourceDef,
  old: KObject,
  input: KObject,
  subresource = '',
): { obj: KObject; errors: string[] } {
  let obj: KObject = structuredClone(input);
  obj.metadata = { ...obj.metadata, uid: old.metadata?.uid, creationTimestamp: old.metadata?.creationTimestamp, generation: old.metadata?.generation };
  if (obj.metadata.generation === undefined) delete obj.metadata.generation;
  if (subresource === 'status') {
    const next = structuredClone(old);
    next.status = obj.status;
    obj = next;
  } else if (def.subresources?.status) {
    obj.status = structuredClone(old.status);
  }
  def.defaults?.(obj);
  def.prepareForUpdate?.(obj, old, { now: testNow, subresource });
  const errors = [...(def.validate?.(obj) ?? []), ...(def.validateUpdate?.(obj, old) ?? [])].map(kubeFieldErrorMessage);
  return { obj, errors };
}
