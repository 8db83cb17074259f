/**
 * @module Metrics and autoscaling (issue 7): (1) what one stats pass costs the agent at 100
 * pods — CPU per pass and per pod for the collection plus the /metrics/resource and
 * /metrics/cadvisor renders, and the memory its per-pod state holds — for hollow pods
 * (simulated usage) and, as root, for 100 real cgroups read the way the process runtime
 * reads a container's (reference: reading the same cgroup files with nothing else, the
 * floor); (2) HPA reaction time on a real `skiff server` with hollow nodes, from load
 * arriving on the running pod to the new replicas Ready, against the floor its settings
 * allow (one metric resolution + one sync period + the hollow pod start time).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../src/api/types.js';
import { NodeStatsCollector } from '../src/kubelet/stats/index.js';
import { CgroupManager } from '../src/kubelet/runtime/process/index.js';
import type { ContainerStatus, PodRuntime } from '../src/kubelet/runtime.js';
import { renderCadvisorMetrics, renderResourceMetrics } from '../src/metrics/index.js';
import { call, clientFrom, closeClient, machineDescription, percentile, pollUntil, startServer, stopProcess } from './util.js';

const PODS = Number(process.env.BENCH_PODS ?? 100);
const PASSES = 200;

function fakePods(n: number): Array<{ pod: KObject; sandboxId: string; uid: string }> {
  return Array.from({ length: n }, (_, i) => ({
    uid: `uid-${i}`,
    sandboxId: `sb-${i}`,
    pod: {
      metadata: { name: `web-${i}`, namespace: 'default', uid: `uid-${i}` },
      spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '100m' }, limits: { memory: '128Mi' } } }] },
      status: { phase: 'Running', startTime: new Date(Date.now() - 60_000).toISOString() },
    },
  }));
}

function fakeRuntime(stats?: (id: string) => Promise<unknown>): PodRuntime {
  const started = Date.now() - 60_000;
  return {
    listContainers: async (f?: { sandboxId?: string }) =>
      [{ id: `c-${f?.sandboxId}`, sandboxId: f?.sandboxId ?? '', name: 'app', attempt: 0, role: 'regular', state: 'CONTAINER_RUNNING', image: 'nginx', imageRef: 'nginx', createdAt: started, startedAt: started }] as ContainerStatus[],
    ...(stats ? { stats } : {}),
  } as unknown as PodRuntime;
}

/** CPU (µs) of `passes` collect + render passes, and the heap the collector keeps. */
async function passCost(collector: NodeStatsCollector, passes: number): Promise<{ cpuUsPerPass: number; wallMsPerPass: number }> {
  await collector.collect();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < passes; i++) {
    const s = await collector.collect();
    renderResourceMetrics(s);
    renderCadvisorMetrics(s, collector.machine);
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuUsPerPass: (cpu.user + cpu.system) / passes, wallMsPerPass: (performance.now() - t0) / passes };
}

/** Heap growth across build() (with --expose-gc the garbage is collected first; else an upper bound). */
async function heapAfter(build: () => Promise<void>): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  await build();
  gc?.();
  return process.memoryUsage().heapUsed - before;
}

async function collectionSection(rows: string[]): Promise<void> {
  const machine = { cpuCores: 4, memoryBytes: 16 * 2 ** 30 };
  const readHost = async () => ({ cpuUsageCoreNanoSeconds: 0, memoryUsageBytes: 0, workingSetBytes: 0, rssBytes: 0, availableBytes: 0 });
  const pods = fakePods(PODS);
  const hollow = new NodeStatsCollector({ nodeName: 'n', workers: () => pods, runtime: fakeRuntime(), mode: 'simulated', machine, maxAgeMs: 0 });
  const h = await passCost(hollow, PASSES);
  // Ten nodes' worth of collectors after one pass each, so the per-pod state stands out of the heap's noise.
  const kept: NodeStatsCollector[] = [];
  const heap =
    (await heapAfter(async () => {
      for (let i = 0; i < 10; i++) {
        const k = new NodeStatsCollector({ nodeName: 'n', workers: () => fakePods(PODS), runtime: fakeRuntime(), mode: 'simulated', machine, maxAgeMs: 0 });
        await k.collect();
        kept.push(k);
      }
    })) / 10;
  rows.push(`| hollow pods: stats pass + /metrics/resource + /metrics/cadvisor renders, ${PODS} pods | ${(h.cpuUsPerPass / 1000).toFixed(2)} ms CPU per pass | **${(h.cpuUsPerPass / PODS).toFixed(1)} µs per pod**; collector state ≈ ${heap > 0 ? `${((heap / PODS) / 1024).toFixed(1)} KiB per pod` : 'below measurement'} |`);

  const cg = CgroupManager.detect({ parent: `skiff-bench-${process.pid}` });
  if (cg.mode === 'none') {
    rows.push('| process pods (cgroups) | not measured | needs root on Linux with cgroups |');
    return;
  }
  const rels = Array.from({ length: PODS }, (_, i) => cg.containerPath(`bench${i}`, `c${i}`));
  try {
    for (const rel of rels) await cg.create(rel, { memoryLimitBytes: 128 * 2 ** 20, cpuShares: 102 });
    const byId = new Map(pods.map((p, i) => [`c-${p.sandboxId}`, rels[i]]));
    const runtime = fakeRuntime(async (id) => {
      const st = await cg.stats(byId.get(id)!);
      return st && { cpu: { usageCoreNanoSeconds: st.cpuUsageNanoSeconds, usageNanoCores: 0 }, memory: { workingSetBytes: st.workingSetBytes, usageBytes: st.memoryUsageBytes, rssBytes: st.rssBytes } };
    });
    const real = new NodeStatsCollector({ nodeName: 'n', workers: () => pods, runtime, mode: 'host', machine, maxAgeMs: 0, readHost });
    const p = await passCost(real, 50);
    // Reference: the same three cgroup files per container read synchronously, nothing else.
    const files = rels.flatMap((rel) => {
      const d = cg.dirs(rel);
      const acct = d.find((x) => x.includes('/cpuacct/')) ?? d[0];
      const mem = d.find((x) => x.includes('/memory/')) ?? d[0];
      return cg.mode === 'v1' ? [join(acct, 'cpuacct.usage'), join(mem, 'memory.usage_in_bytes'), join(mem, 'memory.stat')] : [join(d[0], 'cpu.stat'), join(d[0], 'memory.current'), join(d[0], 'memory.stat')];
    });
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < 50; i++) for (const f of files) readFileSync(f, 'utf8');
    const ref = process.cpuUsage(cpu0);
    const refUs = (ref.user + ref.system) / 50;
    rows.push(`| raw reads of the same cgroup files, ${PODS} containers (reference) | ${(refUs / 1000).toFixed(2)} ms CPU per pass | ${(refUs / PODS).toFixed(1)} µs per container (cgroup ${cg.mode}) |`);
    rows.push(`| process pods: stats pass from ${PODS} real cgroups + both renders | ${(p.cpuUsPerPass / 1000).toFixed(2)} ms CPU per pass, ${p.wallMsPerPass.toFixed(1)} ms wall | **${(p.cpuUsPerPass / PODS).toFixed(1)} µs per pod; ${(p.cpuUsPerPass / refUs).toFixed(2)}× the raw reads** |`);
  } finally {
    for (const rel of rels) await cg.remove(rel).catch(() => undefined);
    for (let i = 0; i < PODS; i++) await cg.remove(cg.podPath(`bench${i}`)).catch(() => undefined);
    await cg.removeParent().catch(() => undefined);
  }
}

/** Time from load on the running pod to the new replicas Ready, over `rounds` rounds. */
async function hpaSection(work: string, rows: string[]): Promise<void> {
  const resolutionS = 1;
  const syncS = 1;
  const startupMs = 500;
  const server = await startServer(join(work, 'hpa'), ['--hollow-nodes', '2', '--hollow-pod-startup-ms', String(startupMs), '--metric-resolution', `${resolutionS}s`, '--horizontal-pod-autoscaler-sync-period', `${syncS}s`, '--horizontal-pod-autoscaler-downscale-stabilization', '2s']);
  const c = clientFrom(server.kubeconfig, server.url);
  const times: number[] = [];
  try {
    const ok = (r: { code: number; body: string }, what: string) => {
      if (r.code >= 300) throw new Error(`${what}: ${r.code} ${r.body}`);
      return r;
    };
    ok(
      await call(c, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' }, annotations: { 'hollow.skiff.dev/cpu-usage': '10m' } }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '100m' } } }] } },
        },
      }),
      'create deployment',
    );
    ok(
      await call(c, 'POST', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web' },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 4, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
      }),
      'create hpa',
    );
    const deployment = async () => JSON.parse((await call(c, 'GET', '/apis/apps/v1/namespaces/default/deployments/web')).body);
    for (let round = 0; round < 5; round++) {
      // Idle at one Ready replica with a metric reading.
      const idle = await pollUntil(async () => {
        const d = await deployment();
        const h = JSON.parse((await call(c, 'GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web')).body);
        return d.spec.replicas === 1 && d.status?.readyReplicas === 1 && h.status?.currentMetrics?.[0]?.resource ? true : undefined;
      }, 60_000, 50);
      if (!idle) throw new Error('the HPA did not settle at one replica');
      const pods = JSON.parse((await call(c, 'GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).body).items as KObject[];
      const running = pods.find((p) => !p.metadata?.deletionTimestamp)!;
      // Load arrives on the running pod: 250% of its request.
      const t0 = performance.now();
      ok(await call(c, 'PATCH', `/api/v1/namespaces/default/pods/${running.metadata!.name}`, { metadata: { annotations: { 'hollow.skiff.dev/cpu-usage': '250m' } } }, { contentType: 'application/merge-patch+json' }), 'annotate pod');
      const scaled = await pollUntil(async () => {
        const d = await deployment();
        return d.spec.replicas > 1 && d.status?.readyReplicas === d.spec.replicas ? performance.now() - t0 : undefined;
      }, 60_000, 20);
      if (scaled === undefined) throw new Error('the HPA did not scale up');
      times.push(scaled);
      // The load goes away with the pod: the HPA scales back to one.
      ok(await call(c, 'DELETE', `/api/v1/namespaces/default/pods/${running.metadata!.name}`), 'delete loaded pod');
    }
  } finally {
    closeClient(c);
    await stopProcess(server.proc);
  }
  times.sort((a, b) => a - b);
  const floor = resolutionS * 1000 + syncS * 1000 + startupMs;
  rows.push(`| HPA floor with these settings: metric resolution ${resolutionS} s + sync period ${syncS} s + hollow pod start ${startupMs} ms (reference) | ${(floor / 1000).toFixed(1)} s | a fresh reading, a sync, a pod start |`);
  rows.push(`| HPA reaction: load on the running pod → new replicas Ready (hollow nodes, ${times.length} rounds) | p50 ${(percentile(times, 50) / 1000).toFixed(2)} s, max ${(times[times.length - 1] / 1000).toFixed(2)} s | **${(percentile(times, 50) / floor).toFixed(2)}× the floor**; kube's defaults (15 s + 15 s) make the floor ≈ 30 s |`);
}

export async function metricsSection(work: string): Promise<string> {
  const rows: string[] = [];
  await collectionSection(rows);
  await hpaSection(work, rows);
  return [`Measured on ${machineDescription()}, load average ${loadavg()[0].toFixed(1)} at the end (the machine is shared: CPU figures grow with it).`, '', '| what | result | notes |', '| --- | --- | --- |', ...rows].join('\n');
}
