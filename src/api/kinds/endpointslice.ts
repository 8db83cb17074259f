/**
 * @module discovery.k8s.io/v1 EndpointSlice: port defaults (name "", protocol TCP),
 * ValidateEndpointSlice/Update with kube's messages, generation bumped on any change
 * outside metadata (slices have no spec), and the printer (NAME ADDRESSTYPE PORTS ENDPOINTS AGE).
 */
import { type FieldError, duplicate, invalid, notSupported, required } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { isDNS1123Subdomain, isValidLabelValue, validateLabels } from '../validation.js';
import { ageColumn, column, deepEqual, nameColumn, validateDNS1123Label, validateImmutable, validateQualifiedName } from './kind-util.js';
import {
  listWithMore,
  supportedPortProtocols,
  validateFullyQualifiedDomainName,
  validateIPv4Address,
  validateIPv6Address,
  validateNonSpecialIP,
} from './netmisc-util.js';

const supportedAddressTypes = ['FQDN', 'IPv4', 'IPv6'];
const maxTopologyLabels = 16;
const maxAddresses = 100;
const maxPorts = 20000;
const maxEndpoints = 1000;
const maxZoneHints = 8;

/** The label tying a slice to its Service (what `kubectl describe svc` lists by). */
export const serviceNameLabel = 'kubernetes.io/service-name';
/** The label naming the controller that manages a slice. */
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';

export function defaultEndpointSlice(obj: KObject): void {
  for (const p of obj.ports ?? []) {
    if (!p || typeof p !== 'object') continue;
    if (p.name == null) p.name = '';
    if (p.protocol == null) p.protocol = 'TCP';
  }
}

function tooMany(field: string, actual: number, max: number): FieldError {
  return { type: 'FieldValueTooMany', field, value: actual, detail: `must have at most ${max} items` };
}

export function validateEndpointSlice(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const addressType = obj.addressType ?? '';
  if (!addressType) errs.push(required('addressType'));
  else if (!supportedAddressTypes.includes(addressType)) errs.push(notSupported('addressType', addressType, supportedAddressTypes));

  const endpoints: KObject[] = Array.isArray(obj.endpoints) ? obj.endpoints : [];
  if (endpoints.length > maxEndpoints) errs.push(tooMany('endpoints', endpoints.length, maxEndpoints));
  else
    endpoints.forEach((ep, i) => {
      const p = `endpoints[${i}]`;
      const addresses: string[] = Array.isArray(ep?.addresses) ? ep.addresses : [];
      if (addresses.length === 0) errs.push(required(`${p}.addresses`, 'must contain at least 1 address'));
      else if (addresses.length > maxAddresses) errs.push(tooMany(`${p}.addresses`, addresses.length, maxAddresses));
      addresses.forEach((a, j) => {
        const ap = `${p}.addresses[${j}]`;
        const addr = String(a);
        // Unknown address types fall through unvalidated, as in kube.
        if (addressType === 'IPv4') {
          const e = validateIPv4Address(addr, ap);
          errs.push(...(e.length ? e : validateNonSpecialIP(addr, ap)));
        } else if (addressType === 'IPv6') {
          const e = validateIPv6Address(addr, ap);
          errs.push(...(e.length ? e : validateNonSpecialIP(addr, ap)));
        } else if (addressType === 'FQDN') {
          errs.push(...validateFullyQualifiedDomainName(addr, ap));
        }
      });
      if (ep?.nodeName != null) for (const m of isDNS1123Subdomain(String(ep.nodeName))) errs.push(invalid(`${p}.nodeName`, ep.nodeName, m));
      const topo = ep?.deprecatedTopology;
      if (topo != null) {
        if (Object.keys(topo).length > maxTopologyLabels) errs.push(tooMany(`${p}.deprecatedTopology`, Object.keys(topo).length, maxTopologyLabels));
        errs.push(...validateLabels(topo, `${p}.deprecatedTopology`));
      }
      if (ep?.hostname != null) errs.push(...validateDNS1123Label(String(ep.hostname), `${p}.hostname`));
      const zones: KObject[] = Array.isArray(ep?.hints?.forZones) ? ep.hints.forZones : [];
      if (zones.length > maxZoneHints) errs.push(tooMany(`${p}.hints.forZones`, zones.length, maxZoneHints));
      else {
        const seen = new Set<string>();
        zones.forEach((z, j) => {
          if (seen.has(z?.name)) errs.push(duplicate(`${p}.hints.forZones[${j}].name`, z?.name));
          else seen.add(z?.name);
          for (const m of isValidLabelValue(String(z?.name ?? ''))) errs.push(invalid(`${p}.hints.forZones[${j}].name`, z?.name ?? '', m));
        });
      }
    });

  const ports: KObject[] = Array.isArray(obj.ports) ? obj.ports : [];
  if (ports.length > maxPorts) errs.push(tooMany('ports', ports.length, maxPorts));
  else {
    const names = new Set<string>();
    ports.forEach((port, i) => {
      const p = `ports[${i}]`;
      const name = String(port?.name ?? '');
      if (name.length > 0) errs.push(...validateDNS1123Label(name, `${p}.name`));
      if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
      else names.add(name);
      if (port?.protocol == null) errs.push(required(`${p}.protocol`));
      else if (!supportedPortProtocols.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, supportedPortProtocols));
      if (port?.appProtocol != null) errs.push(...validateQualifiedName(String(port.appProtocol), `${p}.appProtocol`));
    });
  }
  return errs;
}

function bodyOf(obj: KObject): KObject {
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

/** formatDiscoveryPorts: the first three ports ("*" for all ports), then "+ N more...". */
export function formatDiscoveryPorts(ports: KObject[] | undefined): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const p of ports ?? []) {
    if (list.length < max) list.push(p?.port != null ? String(p.port) : p?.name != null ? String(p.name) : '*');
    else if (list.length === max) more = true;
    count++;
  }
  return listWithMore(list, more, count, max);
}

/** formatDiscoveryEndpoints: the first three addresses across endpoints, then "+ N more...". */
export function formatDiscoveryEndpoints(endpoints: KObject[] | undefined): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ep of endpoints ?? []) {
    for (const a of ep?.addresses ?? []) {
      if (list.length < max) list.push(String(a));
      else if (list.length === max) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, max);
}

export const endpointSliceResource: ResourceDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  // Generation is managed here: slices have no spec, yet kube bumps it on every content change.
  tracksGeneration: false,
  defaults: defaultEndpointSlice,
  prepareForCreate(obj) {
    obj.metadata = { ...(obj.metadata ?? {}), generation: 1 };
  },
  prepareForUpdate(obj, old) {
    const changed = !deepEqual(bodyOf(obj), bodyOf(old)) || !deepEqual(obj.metadata?.labels ?? {}, old.metadata?.labels ?? {});
    const gen = old.metadata?.generation ?? 0;
    obj.metadata = { ...(obj.metadata ?? {}), generation: changed ? gen + 1 : gen };
  },
  validate: validateEndpointSlice,
  validateUpdate: (obj, old) => validateImmutable(obj.addressType, old.addressType, 'addressType'),
  table: {
    columns: [
      nameColumn,
      column(
        'AddressType',
        'string',
        'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.',
      ),
      column(
        'Ports',
        'string',
        'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.',
      ),
      column('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
      ageColumn,
    ],
    cells(obj: KObject, now: Date) {
      return [
        obj.metadata?.name ?? '',
        obj.addressType ?? '',
        formatDiscoveryPorts(obj.ports),
        formatDiscoveryEndpoints(obj.endpoints),
        age(obj.metadata?.creationTimestamp, now),
      ];
    },
  },
};
