/**
 * @module Validation and printing primitives shared by the networking, autoscaling,
 * events, coordination and RBAC kinds: port numbers and names, IP addresses the way
 * Go's net.ParseIP sees them, path-segment names, and Go-syntax value rendering for
 * field errors (the generic pieces live in kind-util.ts).
 */
import { type FieldError, invalid, required } from '../errors.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../validation.js';
import type { ReprFieldError } from './kind-util.js';

/** The protocols ServicePort, EndpointPort and EndpointSlice ports accept, sorted as sets.List returns them. */
export const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];

export function isValidPortNum(port: unknown): string[] {
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) return [];
  return ['must be between 1 and 65535, inclusive'];
}

/** IANA_SVC_NAME rules of k8s.io/apimachinery/pkg/util/validation.IsValidPortName. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** Names used as URL path segments (RBAC names, HPA scale target kind and name). */
export function isValidPathSegmentName(name: string): string[] {
  for (const bad of ['.', '..']) if (name === bad) return [`may not be '${bad}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** ValidatePortNumOrName for an IntOrString target port. */
export function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(path, port, m));
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(path, port, m));
  return [invalid(path, port, 'must be an integer or a string')];
}

const wildcardSubdomainFmt = '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';

export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!new RegExp(`^${wildcardSubdomainFmt}$`).test(value))
    errs.push(
      `a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '${wildcardSubdomainFmt}')`,
    );
  return errs;
}

/** IsFullyQualifiedDomainName: a DNS subdomain with at least two labels, trailing dot allowed. */
export function validateFullyQualifiedDomainName(value: string, path: string): FieldError[] {
  if (value.length === 0) return [required(path)];
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const sub = isDNS1123Subdomain(name);
  if (sub.length) return [invalid(path, name, sub.join(','))];
  const labels = name.split('.');
  if (labels.length < 2) return [invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const errs = isDNS1123Label(label);
    if (errs.length) return [invalid(path, label, errs.join(','))];
  }
  return [];
}

/** A parsed IP: 16 bytes (IPv4 as ::ffff:a.b.c.d), and whether Go's To4() would be non-nil. */
export interface ParsedIP {
  bytes: number[];
  is4: boolean;
}

function parseIPv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    // ParseIPSloppy tolerates leading zeros (read as decimal), which the API must keep accepting.
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

/** Go's net.ParseIP (sloppy IPv4): null when the string is not an IP address. */
export function parseIP(s: string): ParsedIP | null {
  if (typeof s !== 'string' || s.length === 0) return null;
  const v4 = parseIPv4(s);
  if (v4) return { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4], is4: true };
  if (!s.includes(':') || s.includes('%')) return null;
  let head = s;
  let tail4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const t = parseIPv4(s.slice(lastColon + 1));
    if (!t) return null;
    tail4 = t;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.split('::');
  if (dbl.length > 2) return null;
  const group = (g: string): number | null => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : null);
  const side = (x: string): number[] | null => {
    if (x === '') return [];
    const out: number[] = [];
    for (const g of x.split(':')) {
      const n = group(g);
      if (n === null) return null;
      out.push(n);
    }
    return out;
  };
  const left = side(dbl[0]);
  const right = dbl.length === 2 ? side(dbl[1]) : [];
  if (!left || !right) return null;
  let groups: number[];
  if (dbl.length === 2) {
    const fill = 8 - left.length - right.length;
    if (fill < 1) return null;
    groups = [...left, ...new Array(fill).fill(0), ...right];
  } else {
    if (left.length !== 8) return null;
    groups = left;
  }
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  if (tail4.length) bytes.splice(12, 4, ...tail4);
  const is4 = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return { bytes, is4 };
}

/** netutils.IsIPv6String: a valid IP that is not IPv4 (nor IPv4-mapped). */
export function isIPv6String(s: string): boolean {
  const ip = parseIP(s);
  return !!ip && !ip.is4;
}

export function ipFamilyOf(s: string): 'IPv4' | 'IPv6' | undefined {
  const ip = parseIP(s);
  if (!ip) return undefined;
  return ip.is4 ? 'IPv4' : 'IPv6';
}

export function validateIP(value: string, path: string): FieldError[] {
  return parseIP(value) ? [] : [invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

export function validateIPv4Address(value: string, path: string): FieldError[] {
  const ip = parseIP(value);
  return ip && ip.is4 ? [] : [invalid(path, value, 'must be a valid IPv4 address')];
}

export function validateIPv6Address(value: string, path: string): FieldError[] {
  const ip = parseIP(value);
  return ip && !ip.is4 ? [] : [invalid(path, value, 'must be a valid IPv6 address')];
}

/** IsValidCIDR: "a.b.c.d/n" or "x::/n". */
export function validateCIDR(value: string, path: string): FieldError[] {
  const slash = value.indexOf('/');
  const ok = (() => {
    if (slash < 0) return false;
    const ip = parseIP(value.slice(0, slash));
    const bits = value.slice(slash + 1);
    if (!ip || !/^[0-9]{1,3}$/.test(bits)) return false;
    return Number(bits) <= (ip.is4 && !value.slice(0, slash).includes(':') ? 32 : 128);
  })();
  return ok ? [] : [invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/**
 * ValidateNonSpecialIP / ValidateEndpointIP: unspecified, loopback and link-local addresses
 * make no sense as endpoints or external IPs (link-local tends to be node-centric, e.g. metadata services).
 */
export function validateNonSpecialIP(value: string, path: string): FieldError[] {
  const ip = parseIP(value);
  if (!ip) return [invalid(path, value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  const b = ip.bytes;
  const unspecified = ip.is4 ? b.slice(12).every((x) => x === 0) : b.every((x) => x === 0);
  const loopback = ip.is4 ? b[12] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  const linkLocalUnicast = ip.is4 ? b[12] === 169 && b[13] === 254 : b[0] === 0xfe && (b[1] & 0xc0) === 0x80;
  const linkLocalMulticast = ip.is4 ? b[12] === 224 && b[13] === 0 && b[14] === 0 : b[0] === 0xff && (b[1] & 0x0f) === 0x02;
  if (unspecified) errs.push(invalid(path, value, `may not be unspecified (${value})`));
  if (loopback) errs.push(invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocalUnicast) errs.push(invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast)
    errs.push(invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** Attaches the Go `%#v` rendering of the bad value (see ReprFieldError in kind-util.ts). */
export function withRepr(e: FieldError, valueRepr: string): ReprFieldError {
  return { ...e, valueRepr };
}

/** Go %#v of a string: a double-quoted Go string literal. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go %#v of a []string. */
export function goStringSlice(xs: string[] | undefined | null): string {
  if (xs === undefined || xs === null) return '[]string(nil)';
  return `[]string{${xs.map(goQuote).join(', ')}}`;
}

export function clone<T>(x: T): T {
  return x === undefined ? x : (JSON.parse(JSON.stringify(x)) as T);
}

/** "a + 3 more..." lists of kube's printers (formatEndpoints, formatDiscoveryPorts...), "<unset>" when empty. */
export function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

/** IP addresses (or hostnames) of a load-balancer status, sorted and de-duplicated like sets.NewString. */
export function loadBalancerIngressString(ingress: Array<{ ip?: string; hostname?: string }> | undefined): string {
  const set = new Set<string>();
  for (const ing of ingress ?? []) {
    if (ing?.ip) set.add(ing.ip);
    else if (ing?.hostname) set.add(ing.hostname);
  }
  return [...set].sort().join(',');
}
