/**
 * @module networking.k8s.io/v1 Ingress: ValidateIngressCreate/Update with kube's messages
 * (pathType required, Exact/Prefix paths absolute and clean, backends naming a service
 * and a port), and the printer (NAME CLASS HOSTS ADDRESS PORTS AGE).
 */
import { type FieldError, invalid, notSupported, required } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../validation.js';
import { ageColumn, column, nameColumn } from './kind-util.js';
import {
  isValidPathSegmentName,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  loadBalancerIngressString,
  parseIP,
  validateIP,
} from './netmisc-util.js';

const supportedPathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];
const invalidPathSequences = ['//', '/./', '/../', '%2f', '%2F'];
const invalidPathSuffixes = ['/..', '/.'];
const ingressClassAnnotation = 'kubernetes.io/ingress.class';

function validateHost(host: string, path: string): FieldError[] {
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return msgs.map((m) => invalid(path, host, m));
}

/** validateIngressTypedLocalObjectReference: a resource backend. */
function validateTypedLocalObjectReference(ref: KObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ref.apiGroup != null) for (const m of isDNS1123Subdomain(String(ref.apiGroup))) errs.push(invalid(`${path}.apiGroup`, ref.apiGroup, m));
  for (const key of ['kind', 'name']) {
    const v = String(ref[key] ?? '');
    if (!v) errs.push(required(`${path}.${key}`));
    else for (const m of isValidPathSegmentName(v)) errs.push(invalid(`${path}.${key}`, v, m));
  }
  return errs;
}

export function validateIngressBackend(backend: KObject | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const hasResource = backend?.resource != null;
  const hasService = backend?.service != null;
  if (hasResource && hasService) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (hasResource) return validateTypedLocalObjectReference(backend!.resource, `${path}.resource`);
  if (!hasService) return [invalid(path, '', 'resource or service backend is required')];
  const svc = backend!.service;
  const name = String(svc.name ?? '');
  if (!name) errs.push(required(`${path}.service.name`));
  else for (const m of isDNS1035Label(name)) errs.push(invalid(`${path}.service.name`, name, m));
  const portName = String(svc.port?.name ?? '');
  const portNumber = svc.port?.number ?? 0;
  if (portName && portNumber) errs.push(invalid(path, '', 'cannot set both port name & port number'));
  else if (portName) for (const m of isValidPortName(portName)) errs.push(invalid(`${path}.service.port.name`, portName, m));
  else if (portNumber) for (const m of isValidPortNum(portNumber)) errs.push(invalid(`${path}.service.port.number`, portNumber, m));
  else errs.push(required(path, 'port name or number is required'));
  return errs;
}

function validateHTTPIngressPath(p: KObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (p?.pathType == null) return [required(`${path}.pathType`, 'pathType must be specified')];
  const value = String(p.path ?? '');
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(invalid(`${path}.path`, value, 'must be an absolute path'));
      if (value.length > 0) {
        for (const seq of invalidPathSequences) if (value.includes(seq)) errs.push(invalid(`${path}.path`, value, `must not contain '${seq}'`));
        for (const suf of invalidPathSuffixes) if (value.endsWith(suf)) errs.push(invalid(`${path}.path`, value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value.length > 0 && !value.startsWith('/')) errs.push(invalid(`${path}.path`, value, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(`${path}.pathType`, p.pathType, supportedPathTypes));
  }
  errs.push(...validateIngressBackend(p.backend, `${path}.backend`));
  return errs;
}

export function validateIngressSpec(spec: KObject | undefined, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  const rules: KObject[] = Array.isArray(spec?.rules) ? spec!.rules : [];
  if (rules.length === 0 && spec?.defaultBackend == null)
    errs.push(invalid(path, spec?.rules ?? null, 'either `defaultBackend` or `rules` must be specified'));
  if (spec?.defaultBackend != null) errs.push(...validateIngressBackend(spec.defaultBackend, `${path}.defaultBackend`));
  rules.forEach((rule, i) => {
    const rp = `${path}.rules[${i}]`;
    const host = String(rule?.host ?? '');
    if (host) {
      if (parseIP(host)) errs.push(invalid(`${rp}.host`, host, 'must be a DNS name, not an IP address'));
      errs.push(...validateHost(host, `${rp}.host`));
    }
    if (rule?.http != null) {
      const paths: KObject[] = Array.isArray(rule.http.paths) ? rule.http.paths : [];
      if (paths.length === 0) errs.push(required(`${rp}.http.paths`));
      paths.forEach((p, j) => errs.push(...validateHTTPIngressPath(p, `${rp}.http.paths[${j}]`)));
    }
  });
  ((spec?.tls ?? []) as KObject[]).forEach((tls, i) => {
    ((tls?.hosts ?? []) as string[]).forEach((h, j) => errs.push(...validateHost(String(h), `${path}.tls[${i}].hosts[${j}]`)));
    if (tls?.secretName) for (const m of isDNS1123Subdomain(tls.secretName)) errs.push(invalid(`${path}.tls[${i}].secretName`, tls.secretName, m));
  });
  if (spec?.ingressClassName != null)
    for (const m of isDNS1123Subdomain(String(spec.ingressClassName))) errs.push(invalid(`${path}.ingressClassName`, spec.ingressClassName, m));
  return errs;
}

function validateIngressStatus(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  ((obj.status?.loadBalancer?.ingress ?? []) as KObject[]).forEach((ing, i) => {
    const p = `status.loadBalancer.ingress[${i}]`;
    if (ing?.ip) errs.push(...validateIP(ing.ip, `${p}.ip`));
    if (ing?.hostname) {
      for (const m of isDNS1123Subdomain(ing.hostname)) errs.push(invalid(`${p}.hostname`, ing.hostname, m));
      if (parseIP(ing.hostname)) errs.push(invalid(`${p}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

export function validateIngress(obj: KObject): FieldError[] {
  return [...validateIngressSpec(obj.spec), ...validateIngressStatus(obj)];
}

/** ValidateIngressCreate's extra rule: the legacy class annotation must agree with ingressClassName. */
function validateIngressClassAnnotation(obj: KObject): FieldError[] {
  const ann = obj.metadata?.annotations?.[ingressClassAnnotation];
  const cls = obj.spec?.ingressClassName;
  if (ann !== undefined && cls != null && ann !== cls)
    return [invalid(`annotations.${ingressClassAnnotation}`, ann, 'must match `ingressClassName` when both are specified')];
  return [];
}

/** formatHosts: up to three hosts, "*" when no rule names one. */
export function formatIngressHosts(rules: KObject[] | undefined): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  const rs = Array.isArray(rules) ? rules : [];
  for (const r of rs) {
    if (list.length === max) more = true;
    if (!more && r?.host) list.push(r.host);
  }
  if (list.length === 0) return '*';
  const ret = list.join(',');
  return more ? `${ret} + ${rs.length - max} more...` : ret;
}

export const ingressResource: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  namespaced: true,
  shortNames: ['ing'],
  subresources: { status: true },
  prepareForCreate(obj) {
    obj.status = { loadBalancer: {} };
  },
  // kube checks the class annotation on create only; the hook has no create/update flag, and an
  // object that passed on create keeps passing unless a client makes the two disagree.
  validate: (obj) => [...validateIngress(obj), ...validateIngressClassAnnotation(obj)],
  table: {
    columns: [
      nameColumn,
      column('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
      column('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
      column('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
      column('Ports', 'string', 'Ports of TLS configurations that open'),
      ageColumn,
    ],
    cells(obj: KObject, now: Date) {
      const spec = obj.spec ?? {};
      return [
        obj.metadata?.name ?? '',
        spec.ingressClassName ?? '<none>',
        formatIngressHosts(spec.rules),
        loadBalancerIngressString(obj.status?.loadBalancer?.ingress),
        (spec.tls?.length ?? 0) > 0 ? '80, 443' : '80',
        age(obj.metadata?.creationTimestamp, now),
      ];
    },
  },
};
