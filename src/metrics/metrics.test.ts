/** @module Metric computation: exposition round trip, metrics-server's rates from two readings, quantity formats, summary and cAdvisor renders. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseText, renderText } from './exposition.js';
import { formatCpu, formatMemory, goDuration, rateBetween, ResourceMetricsStorage } from './metrics-api.js';
import { parseResourceMetrics, renderResourceMetrics } from './resource.js';
import { renderCadvisorMetrics } from './cadvisor.js';
import { summaryOf } from './summary.js';
import { KubeletMetrics } from './kubelet.js';
import type { NodeStats } from './types.js';

const t0 = Date.parse('2025-03-01T12:00:00Z');

function stats(at: number, cpuSeconds: number, wsBytes: number): NodeStats {
  const c = {
    name: 'app',
    id: 'abc123',
    image: 'docker.io/library/nginx:latest',
    startTime: t0 - 60_000,
    cpuUsageCoreNanoSeconds: cpuSeconds * 1e9,
    usageNanoCores: 0,
    memoryUsageBytes: wsBytes + 4096,
    workingSetBytes: wsBytes,
    rssBytes: wsBytes,
    memoryLimitBytes: 128 * 1024 * 1024,
    cpuLimitCores: 0.5,
    cpuShares: 204,
  };
  return {
    timestamp: at,
    node: { nodeName: 'n1', startTime: t0 - 3_600_000, cpuUsageCoreNanoSeconds: cpuSeconds * 4e9, usageNanoCores: 0, memoryUsageBytes: 2 ** 30, workingSetBytes: 2 ** 29, rssBytes: 0, availableBytes: 2 ** 30 },
    pods: [{ namespace: 'default', name: 'web', uid: 'u1', startTime: t0 - 60_000, containers: [c] }],
  };
}

describe('exposition', () => {
  test('renders HELP/TYPE, escapes labels, keeps timestamps, and parses back', () => {
    const text = renderText([{ name: 'x_total', help: 'a "b"\nc', type: 'counter', samples: [{ labels: { l: 'q"\\\n' }, value: 1.5, timestamp: 1000 }] }]);
    assert.equal(text, '# HELP x_total a "b"\\nc\n# TYPE x_total counter\nx_total{l="q\\"\\\\\\n"} 1.5 1000\n');
    assert.deepEqual(parseText(text), [{ name: 'x_total', labels: { l: 'q"\\\n' }, value: 1.5, timestamp: 1000 }]);
  });
});

describe('metrics.k8s.io from /metrics/resource', () => {
  test('CPU is the rate between two cumulative readings, memory the latest working set', () => {
    const storage = new ResourceMetricsStorage();
    storage.store('n1', parseResourceMetrics(renderResourceMetrics(stats(t0, 10, 1024 * 1024)), t0), t0);
    assert.equal(storage.podMetrics('default', 'web'), undefined);
    assert.equal(storage.nodeMetrics('n1'), undefined);
    // 0.25 s of CPU over 10 s: 25 millicores; the node used 1 core-second in that time.
    storage.store('n1', parseResourceMetrics(renderResourceMetrics(stats(t0 + 10_000, 10.25, 2 * 1024 * 1024)), t0 + 10_000), t0 + 10_000);
    const pod = storage.podMetrics('default', 'web')!;
    assert.equal(pod.windowMs, 10_000);
    assert.equal(Math.round(pod.containers[0].nanoCores), 25_000_000);
    assert.equal(pod.containers[0].memoryBytes, 2 * 1024 * 1024);
    assert.equal(Math.round(storage.nodeMetrics('n1')!.nanoCores), 100_000_000);
    assert.deepEqual(storage.pods(), [['default', 'web']]);
  });

  test('a container started since the last scrape uses its start as the first reading; a restart resets', () => {
    const start = t0 + 5_000;
    assert.equal(rateBetween({ timestamp: start, cpuSeconds: 0, memoryBytes: 0 }, { timestamp: t0 + 10_000, cpuSeconds: 0.5, memoryBytes: 1 })!.nanoCores, 100_000_000);
    assert.equal(rateBetween({ timestamp: t0, cpuSeconds: 5, memoryBytes: 0 }, { timestamp: t0 + 10_000, cpuSeconds: 1, memoryBytes: 1 }), undefined);
    const storage = new ResourceMetricsStorage();
    storage.store('n1', { containers: new Map() }, t0);
    const fresh = new Map([['default/new/app', { namespace: 'default', pod: 'new', container: 'app', timestamp: t0 + 10_000, cpuSeconds: 0.5, memoryBytes: 4096, startTime: start }]]);
    storage.store('n1', { containers: fresh }, t0 + 10_000);
    assert.equal(Math.round(storage.podMetrics('default', 'new')!.containers[0].nanoCores), 100_000_000);
  });

  test('quantities and windows are formatted as metrics-server does', () => {
    assert.equal(formatCpu(250_000_000), '250m');
    assert.equal(formatCpu(12_345_678), '12345678n');
    assert.equal(formatCpu(0), '0');
    assert.equal(formatMemory(12 * 1024 * 1024), '12Mi');
    assert.equal(formatMemory(1234 * 1024), '1234Ki');
    assert.equal(formatMemory(1_000_001), '1000001');
    assert.equal(goDuration(15_013), '15.013s');
    assert.equal(goDuration(60_500), '1m0.5s');
    assert.equal(goDuration(500), '500ms');
  });
});

describe('kubelet renders', () => {
  test('summary, cAdvisor and kubelet_* carry the names and labels dashboards use', () => {
    const s = stats(t0, 10, 1024 * 1024);
    const summary = summaryOf(s) as { node: { nodeName: string }; pods: Array<{ podRef: { name: string }; containers: Array<{ cpu: { usageCoreNanoSeconds: number } }> }> };
    assert.equal(summary.node.nodeName, 'n1');
    assert.equal(summary.pods[0].podRef.name, 'web');
    assert.equal(summary.pods[0].containers[0].cpu.usageCoreNanoSeconds, 10e9);
    const cadvisor = parseText(renderCadvisorMetrics(s, { cpuCores: 4, memoryBytes: 2 ** 33 }));
    const container = cadvisor.find((x) => x.name === 'container_cpu_usage_seconds_total' && x.labels.container === 'app')!;
    assert.deepEqual(container.labels, { container: 'app', id: '/kubepods/podu1/abc123', image: 'docker.io/library/nginx:latest', name: 'abc123', namespace: 'default', pod: 'web' });
    assert.equal(container.value, 10);
    assert.equal(cadvisor.find((x) => x.name === 'container_spec_memory_limit_bytes' && x.labels.container === 'app')!.value, 128 * 1024 * 1024);
    assert.ok(cadvisor.some((x) => x.name === 'container_memory_working_set_bytes' && x.labels.id === '/'));
    const km = new KubeletMetrics();
    km.observePodStart('u1', 1.5);
    km.observePodStart('u1', 9);
    const kubelet = parseText(km.render({ nodeName: 'n1', runningPods: 1, containers: { running: 1 } }));
    assert.equal(kubelet.find((x) => x.name === 'kubelet_node_name')!.labels.node, 'n1');
    assert.equal(kubelet.find((x) => x.name === 'kubelet_pod_start_duration_seconds_count')!.value, 1);
    assert.equal(kubelet.find((x) => x.name === 'kubelet_pod_start_duration_seconds_bucket' && x.labels.le === '2')!.value, 1);
    assert.equal(kubelet.find((x) => x.name === 'kubelet_running_containers')!.labels.container_state, 'running');
  });
});
