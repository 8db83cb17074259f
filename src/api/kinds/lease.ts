/**
 * @module coordination.k8s.io/v1 Lease: node heartbeats and leader election. ValidateLease
 * with kube's messages, the alpha coordinated-leader-election fields dropped as 1.32 does
 * with the feature off, and the printer (NAME HOLDER AGE).
 */
import { type FieldError, invalid } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { ageColumn, column, nameColumn } from './kind-util.js';

/** Where node leases live (kubelet heartbeats). */
export const nodeLeaseNamespace = 'kube-node-lease';

export function validateLease(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj.spec ?? {};
  if (spec.leaseDurationSeconds != null && !(spec.leaseDurationSeconds > 0))
    errs.push(invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  if (spec.leaseTransitions != null && spec.leaseTransitions < 0)
    errs.push(invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  return errs;
}

/** CoordinatedLeaderElection is off in 1.32: its fields are dropped unless already in use. */
function dropDisabledFields(obj: KObject, old?: KObject): void {
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object') return;
  const inUse = old?.spec?.strategy != null || old?.spec?.preferredHolder != null;
  if (!inUse) {
    delete spec.strategy;
    delete spec.preferredHolder;
  }
}

export const leaseResource: ResourceDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  tracksGeneration: false,
  prepareForCreate: (obj) => dropDisabledFields(obj),
  prepareForUpdate: (obj, old) => dropDisabledFields(obj, old),
  validate: validateLease,
  table: {
    columns: [nameColumn, column('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), ageColumn],
    cells(obj: KObject, now: Date) {
      return [obj.metadata?.name ?? '', obj.spec?.holderIdentity ?? '', age(obj.metadata?.creationTimestamp, now)];
    },
  },
};
