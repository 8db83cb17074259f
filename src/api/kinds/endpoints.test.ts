import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../errors.js';
import type { KObject } from '../types.js';
import { endpointsResource, formatEndpoints } from './endpoints.js';

const now = new Date('2024-05-01T12:00:00Z');

function ep(subsets: KObject[] | undefined): KObject {
  const e: KObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' }, subsets };
  endpointsResource.defaults!(e);
  return e;
}

test('ports default to TCP', () => {
  const e = ep([{ addresses: [{ ip: '10.42.0.5' }], ports: [{ port: 8000 }] }]);
  assert.equal(e.subsets[0].ports[0].protocol, 'TCP');
  assert.deepEqual(endpointsResource.validate!(e), []);
});

test('ENDPOINTS column: three addresses then "+ N more..."', () => {
  const e = ep([
    {
      addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }, { ip: '10.42.0.7' }, { ip: '10.42.0.8' }],
      ports: [{ port: 8000 }],
    },
  ]);
  assert.equal(formatEndpoints(e), '10.42.0.5:8000,10.42.0.6:8000,10.42.0.7:8000 + 1 more...');
  assert.equal(formatEndpoints(ep([{ addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }], ports: [{ port: 8000 }] }])), '10.42.0.5:8000,10.42.0.6:8000');
  assert.equal(formatEndpoints(ep([{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }])), '[fd00::1]:80');
  assert.equal(formatEndpoints(ep([{ addresses: [{ ip: '10.42.0.9' }] }])), '10.42.0.9');
  assert.equal(formatEndpoints(ep(undefined)), '<none>');
  // Only ready addresses are shown.
  assert.equal(formatEndpoints(ep([{ notReadyAddresses: [{ ip: '10.42.0.5' }], ports: [{ port: 80 }] }])), '');
  assert.deepEqual(endpointsResource.table!.cells(ep(undefined), now), ['web', '<none>', '60m']);
  assert.deepEqual(endpointsResource.table!.columns.map((c) => c.name), ['Name', 'Endpoints', 'Age']);
});

test('validation messages', () => {
  const e = ep([
    { ports: [{ port: 80 }] },
    {
      addresses: [{ ip: '127.0.0.1' }, { ip: 'not-an-ip' }],
      ports: [{ port: 0, protocol: 'ICMP' }, { name: 'b', port: 80 }],
    },
  ]);
  assert.deepEqual(endpointsResource.validate!(e).map(fieldErrorMessage), [
    'subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`',
    'subsets[1].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    'subsets[1].addresses[1].ip: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    'subsets[1].addresses[1].ip: Invalid value: "not-an-ip": must be a valid IP address',
    'subsets[1].ports[0].name: Required value',
    'subsets[1].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'subsets[1].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  ]);
});

test('identity', () => {
  assert.deepEqual(endpointsResource.shortNames, ['ep']);
  assert.equal(endpointsResource.singular, 'endpoints');
  assert.equal(endpointsResource.categories, undefined);
});
