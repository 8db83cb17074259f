/**
 * @module rbac.authorization.k8s.io/v1 ClusterRole (cluster-scoped): rules may name
 * non-resource URLs; an aggregationRule needs at least one selector (the aggregation
 * controller fills the rules). Printed with the default NAME / CREATED AT table.
 */
import { type FieldError, required } from '../errors.js';
import type { KObject, ResourceDef } from '../types.js';
import { validateLabelSelector } from './kind-util.js';
import { defaultRules, rbacGroup, validateRBACName, validateRules } from './role.js';

export function validateClusterRole(obj: KObject): FieldError[] {
  const errs = validateRules(obj, false);
  const agg = obj.aggregationRule;
  if (agg != null) {
    const selectors: KObject[] = Array.isArray(agg.clusterRoleSelectors) ? agg.clusterRoleSelectors : [];
    if (selectors.length === 0)
      errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((s, i) => errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return errs;
}

export const clusterRoleResource: ResourceDef = {
  group: rbacGroup,
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  nameValidator: validateRBACName,
  singular: 'clusterrole',
  namespaced: false,
  tracksGeneration: false,
  defaults: defaultRules,
  validate: validateClusterRole,
};
