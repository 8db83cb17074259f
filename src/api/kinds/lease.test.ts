import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../errors.js';
import type { KObject, StrategyContext } from '../types.js';
import { leaseResource } from './lease.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx: StrategyContext = { now, subresource: '' };

function lease(spec: KObject): KObject {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-1', namespace: 'kube-node-lease', creationTimestamp: '2024-05-01T10:00:00Z' }, spec };
}

test('validation and printer', () => {
  const l = lease({ holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2024-05-01T11:59:50.000000Z' });
  assert.deepEqual(leaseResource.validate!(l), []);
  assert.deepEqual(leaseResource.table!.cells(l, now), ['node-1', 'node-1', '120m']);
  assert.deepEqual(leaseResource.table!.columns.map((c) => c.name), ['Name', 'Holder', 'Age']);
  assert.equal(leaseResource.table!.cells(lease({}), now)[1], '');
  assert.deepEqual(leaseResource.validate!(lease({ leaseDurationSeconds: 0, leaseTransitions: -1 })).map(fieldErrorMessage), [
    'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
  ]);
});

test('coordinated leader election fields are dropped (feature off in 1.32)', () => {
  const l = lease({ holderIdentity: 'a', strategy: 'OldestEmulationVersion', preferredHolder: 'b' });
  leaseResource.prepareForCreate!(l, ctx);
  assert.equal(l.spec.strategy, undefined);
  assert.equal(l.spec.preferredHolder, undefined);
  assert.equal(l.spec.holderIdentity, 'a');
});
