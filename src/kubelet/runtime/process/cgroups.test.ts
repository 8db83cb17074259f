/**
 * @module kubelet's resource conversions for container cgroups (shares, CFS quota, v2
 * weight), the limits derived from a container's resources, and the parsing of cgroup
 * stat files.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CgroupManager, milliCPUToQuota, milliCPUToShares, parseFlatKeyed, sharesToWeight } from './cgroups.js';
import { cgroupLimitsFor } from './runtime.js';

describe('cgroup conversions', () => {
  it('follows kubelet: 1 CPU = 1024 shares (at least 2), quota = limit × 100 ms period (at least 1 ms)', () => {
    assert.equal(milliCPUToShares(0), 2);
    assert.equal(milliCPUToShares(1), 2);
    assert.equal(milliCPUToShares(250), 256);
    assert.equal(milliCPUToShares(1000), 1024);
    assert.equal(milliCPUToQuota(0), 0);
    assert.equal(milliCPUToQuota(5), 1000);
    assert.equal(milliCPUToQuota(500), 50_000);
    assert.equal(milliCPUToQuota(2000), 200_000);
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(262_144), 10_000);
  });

  it('derives limits from a container’s resources (requests default to limits)', () => {
    assert.deepEqual(cgroupLimitsFor({ limits: { memory: '32Mi', cpu: '500m' } }), { memoryLimitBytes: 32 * 1024 * 1024, cpuShares: 512, cpuQuotaUs: 50_000 });
    assert.deepEqual(cgroupLimitsFor({ requests: { cpu: '100m' }, limits: { cpu: '1' } }, 256), { cpuShares: 102, cpuQuotaUs: 100_000, pidsMax: 256 });
    assert.deepEqual(cgroupLimitsFor(undefined), { cpuShares: 2 });
    assert.throws(() => cgroupLimitsFor({ limits: { memory: 'lots' } }));
  });

  it('parses flat keyed files and knows where each container lives', () => {
    const stat = parseFlatKeyed('cache 4096\ntotal_inactive_file 100\noom_kill 2\nunder_oom 0\n');
    assert.equal(stat.get('total_inactive_file'), 100);
    assert.equal(stat.get('oom_kill'), 2);
    const m = CgroupManager.detect({ enabled: false, parent: 'skiff' });
    assert.equal(m.mode, 'none');
    assert.equal(m.podPath('abc'), 'skiff/podabc');
    assert.equal(m.containerPath('abc', 'f'.repeat(64)), `skiff/podabc/${'f'.repeat(24)}`);
    assert.deepEqual(m.procsFiles('skiff/podabc'), []);
  });
});
