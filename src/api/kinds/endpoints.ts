/**
 * @module core/v1 Endpoints: port protocol defaulting, ValidateEndpoints with kube's
 * messages, and the ENDPOINTS column ("10.42.0.5:8000,10.42.0.6:8000 + 1 more...").
 */
import { type FieldError, invalid, notSupported, required } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { isDNS1123Subdomain } from '../validation.js';
import { ageColumn, column, nameColumn, validateDNS1123Label, validateQualifiedName } from './kind-util.js';
import { isValidPortNum, supportedPortProtocols, validateIP, validateNonSpecialIP } from './netmisc-util.js';

export function defaultEndpoints(obj: KObject): void {
  for (const ss of obj.subsets ?? []) for (const p of ss?.ports ?? []) if (p && !p.protocol) p.protocol = 'TCP';
}

function validateEndpointAddress(addr: KObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ip = String(addr?.ip ?? '');
  errs.push(...validateIP(ip, `${path}.ip`));
  if (addr?.hostname) errs.push(...validateDNS1123Label(addr.hostname, `${path}.hostname`));
  if (addr?.nodeName != null)
    for (const m of isDNS1123Subdomain(String(addr.nodeName))) errs.push(invalid(`${path}.nodeName`, addr.nodeName, m));
  errs.push(...validateNonSpecialIP(ip, `${path}.ip`));
  return errs;
}

function validateEndpointPort(port: KObject, requireName: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof port?.name === 'string' ? port.name : '';
  if (requireName && !name) errs.push(required(`${path}.name`));
  else if (name) errs.push(...validateDNS1123Label(name, `${path}.name`));
  for (const m of isValidPortNum(port?.port)) errs.push(invalid(`${path}.port`, port?.port ?? 0, m));
  if (!port?.protocol) errs.push(required(`${path}.protocol`));
  else if (!supportedPortProtocols.includes(port.protocol)) errs.push(notSupported(`${path}.protocol`, port.protocol, supportedPortProtocols));
  if (port?.appProtocol != null) errs.push(...validateQualifiedName(String(port.appProtocol), `${path}.appProtocol`));
  return errs;
}

export function validateEndpoints(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  ((obj.subsets ?? []) as KObject[]).forEach((ss, i) => {
    const path = `subsets[${i}]`;
    const addresses: KObject[] = ss?.addresses ?? [];
    const notReady: KObject[] = ss?.notReadyAddresses ?? [];
    // Headless services may publish addresses without ports, but never ports without addresses.
    if (addresses.length === 0 && notReady.length === 0) errs.push(required(path, 'must specify `addresses` or `notReadyAddresses`'));
    addresses.forEach((a, j) => errs.push(...validateEndpointAddress(a, `${path}.addresses[${j}]`)));
    notReady.forEach((a, j) => errs.push(...validateEndpointAddress(a, `${path}.notReadyAddresses[${j}]`)));
    const ports: KObject[] = ss?.ports ?? [];
    ports.forEach((p, j) => errs.push(...validateEndpointPort(p, ports.length > 1, `${path}.ports[${j}]`)));
  });
  return errs;
}

/** net.JoinHostPort: IPv6 hosts are bracketed. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** formatEndpoints with every port: the first three ready addresses, then "+ N more...". */
export function formatEndpoints(obj: KObject): string {
  const subsets: KObject[] = obj.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses: KObject[] = ss?.addresses ?? [];
    const ports: KObject[] = ss?.ports ?? [];
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a?.ip ?? '');
      }
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(a?.ip ?? '', p?.port ?? 0));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  tracksGeneration: false,
  defaults: defaultEndpoints,
  validate: validateEndpoints,
  table: {
    columns: [
      nameColumn,
      column('Endpoints', 'string', 'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.'),
      ageColumn,
    ],
    cells(obj: KObject, now: Date) {
      return [obj.metadata?.name ?? '', formatEndpoints(obj), age(obj.metadata?.creationTimestamp, now)];
    },
  },
};
