import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../errors.js';
import type { KObject, StrategyContext } from '../types.js';
import { endpointSliceResource, formatDiscoveryEndpoints, formatDiscoveryPorts } from './endpointslice.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx: StrategyContext = { now, subresource: '' };

function slice(extra: KObject): KObject {
  const s: KObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abcde', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' }, creationTimestamp: '2024-05-01T11:59:00Z' },
    addressType: 'IPv4',
    ...extra,
  };
  endpointSliceResource.defaults!(s);
  return s;
}

test('port defaults: empty name and TCP', () => {
  const s = slice({ ports: [{ port: 8000 }], endpoints: [{ addresses: ['10.42.0.5'], conditions: { ready: true } }] });
  assert.deepEqual(s.ports, [{ port: 8000, name: '', protocol: 'TCP' }]);
  assert.deepEqual(endpointSliceResource.validate!(s), []);
});

test('validation messages', () => {
  const missing = slice({ addressType: undefined });
  assert.deepEqual(endpointSliceResource.validate!(missing).map(fieldErrorMessage), ['addressType: Required value']);
  const s = slice({
    addressType: 'IPv4',
    endpoints: [{ addresses: [] }, { addresses: ['fd00::1', '127.0.0.1'], hostname: 'Bad_Host' }],
    ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81, protocol: 'ICMP' }],
  });
  assert.deepEqual(endpointSliceResource.validate!(s).map(fieldErrorMessage), [
    'endpoints[0].addresses: Required value: must contain at least 1 address',
    'endpoints[1].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
    'endpoints[1].addresses[1]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    'endpoints[1].hostname: Invalid value: "Bad_Host": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')',
    'ports[1].name: Duplicate value: "http"',
    'ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  ]);
  assert.deepEqual(endpointSliceResource.validate!(slice({ addressType: 'IPX' })).map(fieldErrorMessage), [
    'addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"',
  ]);
  assert.deepEqual(endpointSliceResource.validate!(slice({ addressType: 'FQDN', endpoints: [{ addresses: ['db'] }] })).map(fieldErrorMessage), [
    'endpoints[0].addresses[0]: Invalid value: "db": should be a domain with at least two segments separated by dots',
  ]);
  const old = slice({});
  assert.deepEqual(endpointSliceResource.validateUpdate!(slice({ addressType: 'IPv6' }), old).map(fieldErrorMessage), [
    'addressType: Invalid value: "IPv6": field is immutable',
  ]);
});

test('generation starts at 1 and moves on any change outside metadata', () => {
  const s = slice({ endpoints: [{ addresses: ['10.42.0.5'] }] });
  endpointSliceResource.prepareForCreate!(s, ctx);
  assert.equal(s.metadata!.generation, 1);
  const same = structuredClone(s);
  same.metadata!.annotations = { a: 'b' };
  endpointSliceResource.prepareForUpdate!(same, s, ctx);
  assert.equal(same.metadata!.generation, 1);
  const moved = structuredClone(s);
  moved.endpoints.push({ addresses: ['10.42.0.6'] });
  endpointSliceResource.prepareForUpdate!(moved, s, ctx);
  assert.equal(moved.metadata!.generation, 2);
});

test('table: NAME ADDRESSTYPE PORTS ENDPOINTS AGE', () => {
  const { columns, cells } = endpointSliceResource.table!;
  assert.deepEqual(columns.map((c) => c.name), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  const s = slice({
    ports: [{ port: 8000 }, { name: 'metrics', port: 9090 }],
    endpoints: [{ addresses: ['10.42.0.5'] }, { addresses: ['10.42.0.6'] }, { addresses: ['10.42.0.7'] }, { addresses: ['10.42.0.8'] }],
  });
  assert.deepEqual(cells(s, now), ['web-abcde', 'IPv4', '8000,9090', '10.42.0.5,10.42.0.6,10.42.0.7 + 1 more...', '60s']);
  assert.equal(formatDiscoveryPorts([]), '<unset>');
  assert.equal(formatDiscoveryPorts([{ name: '' }]), '<unset>');
  assert.equal(formatDiscoveryPorts([{}]), '*');
  assert.equal(formatDiscoveryPorts([{ port: 1 }, { port: 2 }, { port: 3 }, { port: 4 }, { port: 5 }]), '1,2,3 + 2 more...');
  assert.equal(formatDiscoveryEndpoints(undefined), '<unset>');
});
