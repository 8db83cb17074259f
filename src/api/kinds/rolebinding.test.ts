import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../errors.js';
import type { KObject } from '../types.js';
import type { ReprFieldError } from './kind-util.js';
import { clusterRoleResource } from './clusterrole.js';
import { clusterRoleBindingResource } from './clusterrolebinding.js';
import { roleResource, validateRBACName } from './role.js';
import { roleBindingResource } from './rolebinding.js';

const now = new Date('2024-05-01T12:00:00Z');

function binding(roleRef: KObject, subjects?: KObject[]): KObject {
  const b: KObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'read-pods', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' },
    roleRef,
    subjects,
  };
  roleBindingResource.defaults!(b);
  return b;
}

test('binding defaults put roleRef and User/Group subjects in the RBAC group', () => {
  const b = binding({ kind: 'Role', name: 'pod-reader' }, [
    { kind: 'User', name: 'jane' },
    { kind: 'ServiceAccount', name: 'default', namespace: 'default' },
  ]);
  assert.equal(b.roleRef.apiGroup, 'rbac.authorization.k8s.io');
  assert.equal(b.subjects[0].apiGroup, 'rbac.authorization.k8s.io');
  assert.equal(b.subjects[1].apiGroup, undefined);
  assert.deepEqual(roleBindingResource.validate!(b), []);
});

test('roleRef cannot change', () => {
  const old = binding({ kind: 'Role', name: 'pod-reader' });
  const next = binding({ kind: 'ClusterRole', name: 'view' });
  const errs = roleBindingResource.validateUpdate!(next, old);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'roleRef');
  assert.equal(errs[0].detail, 'cannot change roleRef');
  assert.equal(
    (errs[0] as ReprFieldError).valueRepr,
    'rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"view"}',
  );
  assert.deepEqual(roleBindingResource.validateUpdate!(binding({ kind: 'Role', name: 'pod-reader' }, [{ kind: 'User', name: 'x' }]), old), []);
});

test('binding validation messages', () => {
  const b = binding({ apiGroup: 'example.com', kind: 'Secret', name: '' }, [{ kind: 'Robot', name: 'r2' }, { kind: 'ServiceAccount', name: '' }]);
  assert.deepEqual(roleBindingResource.validate!(b).map(fieldErrorMessage), [
    'roleRef.apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"',
    'roleRef.kind: Unsupported value: "Secret": supported values: "Role", "ClusterRole"',
    'roleRef.name: Required value',
    'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    'subjects[1].name: Required value',
  ]);
  const crb = { ...binding({ kind: 'Role', name: 'x' }, [{ kind: 'ServiceAccount', name: 'sa' }]), kind: 'ClusterRoleBinding' };
  assert.deepEqual(clusterRoleBindingResource.validate!(crb).map(fieldErrorMessage), [
    'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    'subjects[0].namespace: Required value',
  ]);
});

test('binding table: NAME ROLE AGE + wide USERS GROUPS SERVICEACCOUNTS', () => {
  const { columns, cells } = roleBindingResource.table!;
  assert.deepEqual(
    columns.map((c) => [c.name, c.priority]),
    [['Name', 0], ['Role', 0], ['Age', 0], ['Users', 1], ['Groups', 1], ['ServiceAccounts', 1]],
  );
  const b = binding({ kind: 'ClusterRole', name: 'view' }, [
    { kind: 'User', name: 'jane' },
    { kind: 'User', name: 'joe' },
    { kind: 'Group', name: 'devs' },
    { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
  ]);
  assert.deepEqual(cells(b, now), ['read-pods', 'ClusterRole/view', '60m', 'jane, joe', 'devs', 'tools/ci']);
  assert.equal(clusterRoleBindingResource.table!.columns[3].description, 'Users in the clusterRoleBinding');
});

test('roles: policy rules and the default table', () => {
  const role: KObject = { metadata: { name: 'pod-reader', namespace: 'default' }, rules: [{ verbs: [], nonResourceURLs: ['/healthz'], resources: ['pods'] }] };
  assert.deepEqual(roleResource.validate!(role).map(fieldErrorMessage), [
    'rules[0].verbs: Required value: verbs must contain at least one value',
    'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
    'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: rules cannot apply to both regular resources and non-resource URLs',
  ]);
  assert.equal((roleResource.validate!(role)[1] as ReprFieldError).valueRepr, '[]string{"/healthz"}');
  const cr: KObject = { metadata: { name: 'system:healthz' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }, { verbs: ['get'] }] };
  assert.deepEqual(clusterRoleResource.validate!(cr).map(fieldErrorMessage), [
    'rules[1].apiGroups: Required value: resource rules must supply at least one api group',
    'rules[1].resources: Required value: resource rules must supply at least one resource',
  ]);
  assert.deepEqual(clusterRoleResource.validate!({ aggregationRule: {} }).map(fieldErrorMessage), [
    'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
  ]);
  const empty: KObject = { metadata: { name: 'e', namespace: 'default' } };
  roleResource.defaults!(empty);
  assert.equal(empty.rules, null);
  assert.equal(roleResource.table, undefined);
  assert.equal(clusterRoleResource.namespaced, false);
  assert.deepEqual(validateRBACName('system:controller:deployment-controller'), []);
  assert.deepEqual(validateRBACName('a/b'), ["may not contain '/'"]);
});
