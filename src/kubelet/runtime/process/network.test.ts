/**
 * @module host-local IPAM and CIDR arithmetic of the process runtime's pod network: no
 * address twice, round-robin reuse, persistence across restarts, exhaustion.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AddressExhaustedError, Ipam, gatewayOf, ipToNumber, numberToIp, parseCidr } from './network.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-ipam-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('CIDR arithmetic', () => {
  it('parses blocks and finds the gateway (first address)', () => {
    assert.deepEqual(parseCidr('10.42.0.0/24'), { network: ipToNumber('10.42.0.0'), prefix: 24, size: 256 });
    assert.equal(numberToIp(parseCidr('10.42.3.77/24').network), '10.42.3.0');
    assert.equal(gatewayOf('10.42.0.0/24'), '10.42.0.1');
    assert.equal(gatewayOf('10.42.8.0/22'), '10.42.8.1');
    assert.throws(() => parseCidr('10.42.0.0/31'), RangeError);
    assert.throws(() => parseCidr('10.42.0.300/24'), RangeError);
  });
});

describe('host-local IPAM', () => {
  it('hands out .2 upwards, one address per owner, and the same one when asked again', async () => {
    const ipam = new Ipam(join(dir, 'a.json'), '10.42.0.0/24');
    const got = await Promise.all(['s1', 's2', 's3'].map((o) => ipam.allocate(o)));
    assert.deepEqual(got, ['10.42.0.2', '10.42.0.3', '10.42.0.4']);
    assert.equal(await ipam.allocate('s2'), '10.42.0.3');
  });

  it('continues after the last address instead of reusing a freed one at once', async () => {
    const ipam = new Ipam(join(dir, 'b.json'), '10.42.0.0/24');
    await ipam.allocate('a');
    await ipam.allocate('b');
    await ipam.release('a');
    assert.equal(await ipam.allocate('c'), '10.42.0.4');
  });

  it('survives a restart and frees the addresses of owners that are gone', async () => {
    const file = join(dir, 'c.json');
    const first = new Ipam(file, '10.42.5.0/24');
    await first.allocate('keep');
    await first.allocate('lost');
    const second = new Ipam(file, '10.42.5.0/24');
    assert.deepEqual(await second.retainOnly(new Set(['keep'])), ['10.42.5.3']);
    assert.deepEqual(await second.allocations(), { '10.42.5.2': 'keep' });
    assert.equal(await second.allocate('next'), '10.42.5.4');
  });

  it('forgets allocations made for a different CIDR', async () => {
    const file = join(dir, 'd.json');
    await new Ipam(file, '10.42.6.0/24').allocate('x');
    assert.deepEqual(await new Ipam(file, '10.42.7.0/24').allocations(), {});
  });

  it('wraps around and reports exhaustion', async () => {
    const ipam = new Ipam(join(dir, 'e.json'), '10.42.9.0/29');
    const all = [];
    for (let i = 0; i < 5; i++) all.push(await ipam.allocate(`o${i}`));
    assert.deepEqual(all, ['10.42.9.2', '10.42.9.3', '10.42.9.4', '10.42.9.5', '10.42.9.6']);
    await assert.rejects(ipam.allocate('one-too-many'), AddressExhaustedError);
    await ipam.release('o1');
    assert.equal(await ipam.allocate('again'), '10.42.9.3');
  });
});
