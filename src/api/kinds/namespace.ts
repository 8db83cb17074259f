/**
 * @module core/v1 Namespace: the `kubernetes.io/metadata.name` label, phase Active and the
 * "kubernetes" finalizer on create, spec.finalizers changed only through /finalize, the
 * phase rules of status updates, and the NAME STATUS AGE printer.
 */
import { type FieldError, invalid } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef, StrategyContext } from '../types.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../validation.js';
import { ageColumn, column, nameColumn } from './kind-util.js';

/** The label kube-apiserver keeps equal to a namespace's name. */
export const namespaceNameLabel = 'kubernetes.io/metadata.name';

/** The finalizer the namespace controller removes once the namespace is empty. */
export const kubernetesFinalizer = 'kubernetes';

const standardFinalizers = ['kubernetes', 'orphan', 'foregroundDeletion'];

/** validateFinalizerName: a qualified name, and unprefixed names must be standard ones. */
export function validateFinalizerName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(path, name, m));
  if (!name.includes('/') && !standardFinalizers.includes(name))
    errs.push(invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  return errs;
}

export const namespaceDef: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  isNamespace: true,
  shortNames: ['ns'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: { status: true },
  extraSubresources: ['finalize'],
  tracksGeneration: false,
  defaults(obj) {
    const name = obj.metadata?.name;
    if (name) {
      obj.metadata!.labels ??= {};
      obj.metadata!.labels[namespaceNameLabel] = name;
    }
    obj.status ??= {};
    obj.status.phase ||= 'Active';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Active' };
    obj.spec ??= {};
    const finalizers: string[] = Array.isArray(obj.spec.finalizers) ? obj.spec.finalizers : [];
    if (!finalizers.includes(kubernetesFinalizer)) obj.spec.finalizers = [...finalizers, kubernetesFinalizer];
  },
  prepareForUpdate(obj, old, ctx: StrategyContext) {
    // spec.finalizers changes only through the finalize subresource.
    if (ctx.subresource === '' || ctx.subresource === 'status') {
      const prev = old.spec?.finalizers;
      obj.spec ??= {};
      if (prev === undefined) delete obj.spec.finalizers;
      else obj.spec.finalizers = [...prev];
    }
    if (ctx.subresource === 'finalize') {
      if (old.status === undefined) delete obj.status;
      else obj.status = structuredClone(old.status);
    }
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const name = obj.metadata?.name;
    // Namespace names are DNS-1123 labels (the generic metadata check only knows subdomains).
    if (name && isDNS1123Subdomain(name).length === 0)
      for (const m of isDNS1123Label(name)) errs.push(invalid('metadata.name', name, m));
    for (const f of (obj.spec?.finalizers ?? []) as string[]) errs.push(...validateFinalizerName(String(f), 'spec.finalizers'));
    return errs;
  },
  validateUpdate(obj: KObject, old: KObject) {
    if (obj.status?.phase === old.status?.phase) return [];
    const phase = obj.status?.phase ?? '';
    if (!obj.metadata?.deletionTimestamp) {
      if (phase !== 'Active') return [invalid('status.Phase', phase, "may only be 'Active' if `deletionTimestamp` is empty")];
    } else if (phase !== 'Terminating') {
      return [invalid('status.Phase', phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")];
    }
    return [];
  },
  fieldSelectors: {
    'status.phase': (o) => o.status?.phase ?? '',
  },
  table: {
    columns: [nameColumn, column('Status', 'string', 'The status of the namespace'), ageColumn],
    cells: (obj, now) => [obj.metadata?.name ?? '', obj.status?.phase ?? '', age(obj.metadata?.creationTimestamp, now)],
  },
};
