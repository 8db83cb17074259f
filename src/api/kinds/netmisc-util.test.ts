import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../errors.js';
import {
  goStringSlice,
  ipFamilyOf,
  isValidPortName,
  isWildcardDNS1123Subdomain,
  parseIP,
  validateCIDR,
  validateNonSpecialIP,
} from './netmisc-util.js';

test('parseIP follows Go net.ParseIP', () => {
  assert.deepEqual(parseIP('10.42.0.5')?.bytes.slice(12), [10, 42, 0, 5]);
  assert.equal(parseIP('10.42.0.5')?.is4, true);
  assert.equal(parseIP('::ffff:10.0.0.1')?.is4, true);
  assert.equal(parseIP('fd00::1')?.is4, false);
  assert.deepEqual(parseIP('2001:db8::ffff')?.bytes.slice(0, 4), [0x20, 0x01, 0x0d, 0xb8]);
  assert.equal(parseIP('::')?.bytes.every((b) => b === 0), true);
  for (const bad of ['', '1.2.3', '256.1.1.1', '1.2.3.4.5', 'fe80::1%eth0', '1::2::3', 'abc', '1:2:3:4:5:6:7:8:9'])
    assert.equal(parseIP(bad), null, bad);
  assert.equal(ipFamilyOf('10.0.0.1'), 'IPv4');
  assert.equal(ipFamilyOf('fd00::10'), 'IPv6');
  assert.equal(ipFamilyOf('nope'), undefined);
});

test('special addresses are refused as endpoints', () => {
  const msg = (ip: string) => validateNonSpecialIP(ip, 'ip').map(fieldErrorMessage);
  assert.deepEqual(msg('10.42.0.5'), []);
  assert.deepEqual(msg('0.0.0.0'), ['ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)']);
  assert.deepEqual(msg('::1'), ['ip: Invalid value: "::1": may not be in the loopback range (127.0.0.0/8, ::1/128)']);
  assert.deepEqual(msg('169.254.169.254'), ['ip: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)']);
  assert.deepEqual(msg('224.0.0.1'), ['ip: Invalid value: "224.0.0.1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)']);
});

test('port names, CIDRs, wildcard hosts and Go slices', () => {
  assert.deepEqual(isValidPortName('http'), []);
  assert.deepEqual(isValidPortName('-http--metrics-port-'), [
    'must be no more than 15 characters',
    'must not contain consecutive hyphens',
    'must not begin or end with a hyphen',
  ]);
  assert.deepEqual(isValidPortName('8080'), ['must contain at least one letter (a-z)']);
  assert.deepEqual(validateCIDR('10.0.0.0/8', 'x'), []);
  assert.deepEqual(validateCIDR('2001:db8::/64', 'x'), []);
  assert.equal(validateCIDR('10.0.0.0/33', 'x').length, 1);
  assert.deepEqual(isWildcardDNS1123Subdomain('*.example.com'), []);
  assert.equal(isWildcardDNS1123Subdomain('a.*.example.com').length, 1);
  assert.equal(goStringSlice(['10.0.0.1', 'fd00::1']), '[]string{"10.0.0.1", "fd00::1"}');
  assert.equal(goStringSlice(undefined), '[]string(nil)');
});
