/**
 * @module rbac.authorization.k8s.io/v1 ClusterRoleBinding (cluster-scoped): binds a
 * ClusterRole cluster-wide; service-account subjects must name their namespace. Shares
 * the binding rules and printer of rolebinding.ts.
 */
import type { ResourceDef } from '../types.js';
import { bindingCells, bindingColumns, defaultBinding, validateBinding, validateRoleRefUnchanged } from './rolebinding.js';
import { rbacGroup, validateRBACName } from './role.js';

export const clusterRoleBindingResource: ResourceDef = {
  group: rbacGroup,
  version: 'v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  nameValidator: validateRBACName,
  singular: 'clusterrolebinding',
  namespaced: false,
  tracksGeneration: false,
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, false),
  validateUpdate: validateRoleRefUnchanged,
  table: {
    columns: bindingColumns(
      'clusterRoleBinding',
      'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.',
    ),
    cells: bindingCells,
  },
};
