/**
 * @module rbac.authorization.k8s.io/v1 RoleBinding, and the roleRef/subject rules both
 * binding kinds share: defaults of the API groups, ValidateRoleBinding with kube's messages,
 * the immutable roleRef (`roleRef: Invalid value: rbac.RoleRef{...}: cannot change roleRef`)
 * and the printer (NAME ROLE AGE + wide USERS GROUPS SERVICEACCOUNTS).
 */
import { type FieldError, invalid, notSupported, required } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef, TableColumn } from '../types.js';
import { isDNS1123Subdomain } from '../validation.js';
import { ageColumn, column, nameColumn } from './kind-util.js';
import { goQuote, withRepr } from './netmisc-util.js';
import { rbacGroup, validateRBACName } from './role.js';

/** SetDefaults_RoleBinding / SetDefaults_Subject: roleRef and User/Group subjects belong to the RBAC group. */
export function defaultBinding(obj: KObject): void {
  if (obj.roleRef && typeof obj.roleRef === 'object' && !obj.roleRef.apiGroup) obj.roleRef.apiGroup = rbacGroup;
  for (const s of obj.subjects ?? []) {
    if (s && typeof s === 'object' && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = rbacGroup;
  }
}

export function validateSubject(subject: KObject, isNamespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = String(subject?.name ?? '');
  const apiGroup = String(subject?.apiGroup ?? '');
  if (!name) errs.push(required(`${path}.name`));
  switch (subject?.kind) {
    case 'ServiceAccount':
      if (name) for (const m of isDNS1123Subdomain(name)) errs.push(invalid(`${path}.name`, name, m));
      if (apiGroup) errs.push(notSupported(`${path}.apiGroup`, apiGroup, ['']));
      if (!isNamespaced && !subject.namespace) errs.push(required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== rbacGroup) errs.push(notSupported(`${path}.apiGroup`, apiGroup, [rbacGroup]));
      break;
    default:
      errs.push(notSupported(`${path}.kind`, subject?.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** ValidateRoleBinding / ValidateClusterRoleBinding without the metadata part. */
export function validateBinding(obj: KObject, isNamespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = obj.roleRef ?? {};
  if ((ref.apiGroup ?? '') !== rbacGroup) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [rbacGroup]));
  const kinds = isNamespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  const name = String(ref.name ?? '');
  if (!name) errs.push(required('roleRef.name'));
  else for (const m of validateRBACName(name)) errs.push(invalid('roleRef.name', name, m));
  ((obj.subjects ?? []) as KObject[]).forEach((s, i) => errs.push(...validateSubject(s, isNamespaced, `subjects[${i}]`)));
  return errs;
}

/** %#v of rbac.RoleRef. */
export function goRoleRef(ref: KObject | undefined): string {
  return `rbac.RoleRef{APIGroup:${goQuote(String(ref?.apiGroup ?? ''))}, Kind:${goQuote(String(ref?.kind ?? ''))}, Name:${goQuote(String(ref?.name ?? ''))}}`;
}

/** A binding's roleRef never changes: to point elsewhere, delete and recreate the binding. */
export function validateRoleRefUnchanged(obj: KObject, old: KObject): FieldError[] {
  const a = obj.roleRef ?? {};
  const b = old.roleRef ?? {};
  if ((a.apiGroup ?? '') === (b.apiGroup ?? '') && (a.kind ?? '') === (b.kind ?? '') && (a.name ?? '') === (b.name ?? '')) return [];
  return [withRepr(invalid('roleRef', a, 'cannot change roleRef'), goRoleRef(a))];
}

/** rbac.SubjectsStrings: users, groups and service accounts ("ns/name") of a binding. */
export function subjectsStrings(subjects: KObject[] | undefined): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const s of subjects ?? []) {
    switch (s?.kind) {
      case 'ServiceAccount':
        serviceAccounts.push(s.namespace ? `${s.namespace}/${s.name}` : String(s.name ?? ''));
        break;
      case 'User':
        users.push(String(s.name ?? ''));
        break;
      case 'Group':
        groups.push(String(s.name ?? ''));
        break;
    }
  }
  return { users, groups, serviceAccounts };
}

export function bindingColumns(what: 'roleBinding' | 'clusterRoleBinding', roleRefDescription: string): TableColumn[] {
  return [
    nameColumn,
    column('Role', 'string', roleRefDescription),
    ageColumn,
    column('Users', 'string', `Users in the ${what}`, 1),
    column('Groups', 'string', `Groups in the ${what}`, 1),
    column('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, 1),
  ];
}

export function bindingCells(obj: KObject, now: Date): unknown[] {
  const { users, groups, serviceAccounts } = subjectsStrings(obj.subjects);
  return [
    obj.metadata?.name ?? '',
    `${obj.roleRef?.kind ?? ''}/${obj.roleRef?.name ?? ''}`,
    age(obj.metadata?.creationTimestamp, now),
    users.join(', '),
    groups.join(', '),
    serviceAccounts.join(', '),
  ];
}

export const roleBindingResource: ResourceDef = {
  group: rbacGroup,
  version: 'v1',
  kind: 'RoleBinding',
  plural: 'rolebindings',
  nameValidator: validateRBACName,
  singular: 'rolebinding',
  namespaced: true,
  tracksGeneration: false,
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, true),
  validateUpdate: validateRoleRefUnchanged,
  table: {
    columns: bindingColumns(
      'roleBinding',
      'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.',
    ),
    cells: bindingCells,
  },
};
