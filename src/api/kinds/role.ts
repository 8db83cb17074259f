/**
 * @module rbac.authorization.k8s.io/v1 Role, and the PolicyRule validation Role and
 * ClusterRole share. Printed with the default NAME / CREATED AT table, as kube does.
 */
import { type FieldError, invalid, required } from '../errors.js';
import type { KObject, ResourceDef } from '../types.js';
import { goStringSlice, isValidPathSegmentName, withRepr } from './netmisc-util.js';

export const rbacGroup = 'rbac.authorization.k8s.io';

/** ValidateRBACName: names are URL path segments, so "system:controller:x" is fine. */
export function validateRBACName(name: string): string[] {
  return isValidPathSegmentName(name);
}

/** ValidatePolicyRule: namespaced rules may not name non-resource URLs. */
export function validatePolicyRule(rule: KObject, isNamespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const len = (k: string) => (Array.isArray(rule?.[k]) ? rule[k].length : 0);
  if (len('verbs') === 0) errs.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
  if (len('nonResourceURLs') > 0) {
    const urls = rule.nonResourceURLs as string[];
    if (isNamespaced)
      errs.push(withRepr(invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'), goStringSlice(urls)));
    if (len('apiGroups') > 0 || len('resources') > 0 || len('resourceNames') > 0)
      errs.push(
        withRepr(invalid(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'), goStringSlice(urls)),
      );
    return errs;
  }
  if (len('apiGroups') === 0) errs.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (len('resources') === 0) errs.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRules(obj: KObject, isNamespaced: boolean): FieldError[] {
  const rules: KObject[] = Array.isArray(obj.rules) ? obj.rules : [];
  return rules.flatMap((r, i) => validatePolicyRule(r, isNamespaced, `rules[${i}]`));
}

/** `rules` has no omitempty: an empty role reads back as `rules: null`. */
export function defaultRules(obj: KObject): void {
  if (obj.rules === undefined) obj.rules = null;
}

export const roleResource: ResourceDef = {
  group: rbacGroup,
  version: 'v1',
  kind: 'Role',
  plural: 'roles',
  nameValidator: validateRBACName,
  singular: 'role',
  namespaced: true,
  tracksGeneration: false,
  defaults: defaultRules,
  validate: (obj) => validateRules(obj, true),
};
