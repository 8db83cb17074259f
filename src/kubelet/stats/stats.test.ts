/** @module The kubelet's stats collector (simulated hollow usage, limits from the spec, pass reuse) and the host readers. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import type { PodRuntime } from '../runtime.js';
import { NodeStatsCollector, hollowCpuUsageAnnotation } from './collector.js';
import { parseMeminfo, parseProcStatCpu } from './host.js';

describe('NodeStatsCollector', () => {
  let now = Date.parse('2025-03-01T12:00:00Z');
  const started = now - 10_000;
  const pod: KObject = {
    metadata: { name: 'web', namespace: 'default', uid: 'u1', annotations: { [hollowCpuUsageAnnotation]: '250m' } },
    spec: { containers: [{ name: 'app', resources: { requests: { cpu: '100m' }, limits: { cpu: '500m', memory: '64Mi' } } }] },
    status: { startTime: new Date(started).toISOString() },
  };
  const runtime = {
    listContainers: async () => [{ id: 'c1', sandboxId: 's1', name: 'app', attempt: 0, role: 'regular', state: 'CONTAINER_RUNNING', image: 'nginx', imageRef: 'nginx', createdAt: started, startedAt: started }],
  } as unknown as PodRuntime;
  const collector = new NodeStatsCollector({ nodeName: 'n1', workers: () => [{ pod, sandboxId: 's1', uid: 'u1' }], runtime, mode: 'simulated', machine: { cpuCores: 4, memoryBytes: 2 ** 34 }, now: () => now });

  test('simulated usage integrates the annotated rate since the container started; limits come from the spec', async () => {
    const s = await collector.collect();
    const c = s.pods[0].containers[0];
    assert.equal(c.usageNanoCores, 250_000_000);
    assert.equal(c.cpuUsageCoreNanoSeconds, 2.5e9);
    assert.equal(c.memoryLimitBytes, 64 * 2 ** 20);
    assert.equal(c.cpuLimitCores, 0.5);
    assert.equal(c.cpuShares, 102);
    assert.equal(s.node.nodeName, 'n1');
    // Within a second the pass is shared; later a new one counts on.
    assert.equal(await collector.collect(), s);
    now += 4_000;
    const later = await collector.collect();
    assert.equal(later.pods[0].containers[0].cpuUsageCoreNanoSeconds, 3.5e9);
    assert.ok(later.node.cpuUsageCoreNanoSeconds > s.node.cpuUsageCoreNanoSeconds);
    const state = await collector.kubeletState();
    assert.deepEqual(state, { nodeName: 'n1', runningPods: 1, containers: { created: 0, running: 1, exited: 0, unknown: 0 } });
  });
});

describe('host readers', () => {
  test('/proc/stat busy time and /proc/meminfo working set', () => {
    assert.equal(parseProcStatCpu('cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 1 2 3\n'), (160 / 100) * 1e9);
    assert.deepEqual(parseMeminfo('MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\n'), { usageBytes: 800 * 1024, workingSetBytes: 400 * 1024, availableBytes: 600 * 1024 });
  });
});
