/**
 * @module networking.k8s.io/v1 IngressClass (cluster-scoped): the scope default of its
 * parameters reference, ValidateIngressClass/Update (controller is a domain-prefixed path
 * and immutable) and the printer (NAME CONTROLLER PARAMETERS AGE).
 */
import { type FieldError, forbidden, invalid, notSupported, required } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../validation.js';
import { ageColumn, column, nameColumn, validateImmutable } from './kind-util.js';
import { isValidPathSegmentName } from './netmisc-util.js';

const maxControllerLength = 250;
const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";

/** The annotation marking the class used for Ingresses that name none. */
export const defaultIngressClassAnnotation = 'ingressclass.kubernetes.io/is-default-class';

export function defaultIngressClass(obj: KObject): void {
  const params = obj.spec?.parameters;
  if (params && typeof params === 'object' && params.scope == null) params.scope = 'Cluster';
}

/** IsDomainPrefixedPath: "example.com/ingress-controller". */
function validateDomainPrefixedPath(value: string, path: string): FieldError[] {
  if (value.length === 0) return [required(path)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || host.length === 0 || rest.length === 0)
    return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(host).map((m) => invalid(path, host, m));
  if (!new RegExp(`^${httpPathFmt}$`).test(rest))
    errs.push(invalid(path, rest, `Invalid path (regex used for validation is '${httpPathFmt}')`));
  return errs;
}

function validateParameters(params: KObject | undefined | null, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (params == null) return errs;
  if (params.apiGroup != null)
    for (const m of isDNS1123Subdomain(String(params.apiGroup))) errs.push(invalid(`${path}.apiGroup`, params.apiGroup, m));
  for (const key of ['kind', 'name']) {
    const v = String(params[key] ?? '');
    if (!v) errs.push(required(`${path}.${key}`));
    else for (const m of isValidPathSegmentName(v)) errs.push(invalid(`${path}.${key}`, v, m));
  }
  if (params.scope == null) {
    errs.push(required(`${path}.scope`));
    return errs;
  }
  if (!['Cluster', 'Namespace'].includes(params.scope)) {
    errs.push(notSupported(`${path}.scope`, params.scope, ['Cluster', 'Namespace']));
  } else if (params.scope === 'Namespace') {
    if (params.namespace == null) errs.push(required(`${path}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else for (const m of isDNS1123Label(String(params.namespace))) errs.push(invalid(`${path}.namespace`, params.namespace, m));
  } else if (params.namespace != null) {
    errs.push(forbidden(`${path}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

export function validateIngressClass(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const controller = String(obj.spec?.controller ?? '');
  if (!controller) errs.push(required('spec.controller'));
  else {
    if (controller.length > maxControllerLength)
      errs.push({ type: 'FieldValueTooLong', field: 'spec.controller', value: '', detail: `may not be more than ${maxControllerLength} bytes` });
    errs.push(...validateDomainPrefixedPath(controller, 'spec.controller'));
  }
  errs.push(...validateParameters(obj.spec?.parameters, 'spec.parameters'));
  return errs;
}

/** printIngressClass's PARAMETERS: "Kind.apiGroup/name" or "<none>". */
export function formatIngressClassParameters(params: KObject | undefined | null): string {
  if (params == null) return '<none>';
  let s = String(params.kind ?? '');
  if (params.apiGroup != null) s += `.${params.apiGroup}`;
  return `${s}/${params.name ?? ''}`;
}

export const ingressClassResource: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  defaults: defaultIngressClass,
  validate: validateIngressClass,
  validateUpdate: (obj, old) => validateImmutable(obj.spec?.controller ?? '', old.spec?.controller ?? '', 'spec.controller'),
  table: {
    columns: [
      nameColumn,
      column('Controller', 'string', 'Controller that is responsible for handling this class'),
      column('Parameters', 'string', 'A reference to a resource with additional parameters'),
      ageColumn,
    ],
    cells(obj: KObject, now: Date) {
      return [
        obj.metadata?.name ?? '',
        obj.spec?.controller ?? '',
        formatIngressClassParameters(obj.spec?.parameters),
        age(obj.metadata?.creationTimestamp, now),
      ];
    },
  },
};
