/**
 * @module Child process of the scheduling benchmark, in kube-scheduler's scheduler_perf
 * shape: one process holds the API server, the store, the scheduler and the hollow nodes;
 * pods are created through a loopback client and counted as bound from a pod watch. Reads
 * its configuration as JSON from argv[2] and prints its result as one JSON line on stdout.
 */
import { performance } from 'node:perf_hooks';
import { LoopbackClient } from '../src/apiserver/loopback.js';
import type { KObject } from '../src/api/types.js';
import { startCluster } from '../src/cli/cluster.js';
import { Resources, type Client, type WatchHandle } from '../src/client/index.js';

export interface SchedulingWorkerConfig {
  dataDir: string;
  nodes: number;
  /** Pods scheduled first, unmeasured (scheduler_perf's initPods). */
  initPods: number;
  /** Pods timed from the first create to the last bound (scheduler_perf's measurePods). */
  measurePods: number;
  /** Pod creates in flight. */
  concurrency: number;
  /** Wall-clock budget of the whole run; the worker gives up (and says so) past it. */
  deadlineMs: number;
  /** Hollow kubelets write pod events and the ContainerCreating status (skiff server's defaults). */
  fullKubelet: boolean;
  /** Also wait until every measured pod reports Ready (hollow start included). */
  waitReady?: boolean;
  /** Controllers to run (default none, as scheduler_perf). */
  controllers?: string[];
  /**
   * Afterwards, print `{"serving":…}` with the API server's URL and kubeconfig and keep
   * serving until SIGTERM, so the parent can measure lists and memory of the loaded server.
   */
  serve?: boolean;
}

export interface SchedulingWorkerResult {
  nodes: number;
  /** startCluster until every hollow node was registered (Node + Lease). */
  nodesUpMs: number;
  initPods: number;
  measurePods: number;
  bound: number;
  /** First create sent → last create answered. */
  createMs: number;
  /** First create sent → last pod seen bound. */
  allBoundMs: number;
  /** Pods already bound when the last create was answered (the rest bind with no creates competing). */
  boundWhenCreated: number;
  podsPerSecond: number;
  /** First create sent → last pod seen Ready (waitReady only; 0 otherwise). */
  allReadyMs: number;
  ready: number;
  /** Bound pods per one-second window while measuring (scheduler_perf samples the same way). */
  perSecond: number[];
  /** Distinct nodes the measured pods landed on. */
  nodesUsed: number;
  maxPodsPerNode: number;
  /** Store revisions (every API write: pods, bindings, statuses, events, leases) while measuring. */
  apiWrites: number;
  /** CPU time of this process (all threads) while measuring. */
  cpuMs: number;
  /** Share of the measuring time the event loop was busy (1 = saturated). */
  eventLoopUtilization: number;
  rssBytes: number;
  timedOut: boolean;
}

/** scheduler_perf's pod-default.yaml: one pause container asking 100m CPU and 500Mi. */
function podTemplate(namespace: string, name: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      schedulerName: 'default-scheduler',
      containers: [
        {
          name: 'pause',
          image: 'registry.k8s.io/pause:3.10',
          ports: [{ containerPort: 80 }],
          resources: { limits: { cpu: '100m', memory: '500Mi' }, requests: { cpu: '100m', memory: '500Mi' } },
        },
      ],
    },
  };
}

interface Phase {
  createMs: number;
  boundWhenCreated: number;
  allBoundMs: number;
  bound: number;
  allReadyMs: number;
  ready: number;
  perSecond: number[];
  nodeOf: Map<string, string>;
  timedOut: boolean;
}

/** Creates `count` pods in `namespace` and waits until the watch has seen each one bound. */
async function createAndWaitBound(client: Client, namespace: string, count: number, concurrency: number, deadline: number, waitReady = false): Promise<Phase> {
  const nodeOf = new Map<string, string>();
  const ready = new Set<string>();
  let onAllBound: () => void = () => {};
  const allBound = new Promise<void>((resolve) => (onAllBound = resolve));
  let lastBoundAt = 0;
  let lastReadyAt = 0;
  const boundTimes: number[] = [];
  const watch: WatchHandle = await client.watch(
    Resources.pods,
    namespace,
    {},
    (ev) => {
      const name = ev.object.metadata?.name as string;
      const node = ev.object.spec?.nodeName as string | undefined;
      if (!node || (ev.type !== 'ADDED' && ev.type !== 'MODIFIED')) return;
      if (!nodeOf.has(name)) {
        nodeOf.set(name, node);
        lastBoundAt = performance.now();
        boundTimes.push(lastBoundAt);
      }
      if (waitReady && !ready.has(name) && (ev.object.status?.conditions as KObject[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True')) {
        ready.add(name);
        lastReadyAt = performance.now();
      }
      if (nodeOf.size >= count && (!waitReady || ready.size >= count)) onAllBound();
    },
    () => {},
  );
  const start = performance.now();
  let next = 0;
  let createdAt = start;
  let boundWhenCreated = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < count && Date.now() < deadline; i = next++) {
          await client.create(Resources.pods, namespace, podTemplate(namespace, `pod-${i}`));
          // A loopback create settles in microtasks only; requests arriving over the network
          // would interleave with watch delivery and the scheduler's loop, so yield as they would.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    createdAt = performance.now();
    boundWhenCreated = nodeOf.size;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allBound, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
  } finally {
    watch.stop();
  }
  const perSecond: number[] = [];
  for (const t of boundTimes) {
    const s = Math.floor((t - start) / 1000);
    perSecond[s] = (perSecond[s] ?? 0) + 1;
  }
  return {
    createMs: createdAt - start,
    boundWhenCreated,
    allBoundMs: (nodeOf.size >= count ? lastBoundAt : performance.now()) - start,
    bound: nodeOf.size,
    allReadyMs: waitReady ? (ready.size >= count ? lastReadyAt : performance.now()) - start : 0,
    ready: ready.size,
    perSecond: Array.from(perSecond, (v) => v ?? 0),
    nodeOf,
    timedOut: nodeOf.size < count || (waitReady && ready.size < count),
  };
}

/** V8 heap in use after a full collection when --expose-gc is on, else as it stands. */
function heapAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function run(cfg: SchedulingWorkerConfig): Promise<SchedulingWorkerResult> {
  const deadline = Date.now() + cfg.deadlineMs;
  const t0 = performance.now();
  const cluster = await startCluster({
    dataDir: cfg.dataDir,
    port: 0,
    // scheduler_perf runs the API server and the scheduler only: no controller manager.
    controllers: cfg.controllers ?? [],
    hollowNodes: {
      count: cfg.nodes,
      // scheduler_perf's node-default.yaml.
      capacity: { cpu: '4', memory: '32Gi', pods: '110' },
      podStartupMs: 500,
      options: cfg.fullKubelet ? {} : { recordPodEvents: false, reportPendingStatus: false },
    },
  });
  const nodesUpMs = performance.now() - t0;
  try {
    const client = new LoopbackClient(cluster.server.rest, 'scheduler-perf');
    for (const ns of ['namespace-1', 'namespace-2']) await client.create(Resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const init = cfg.initPods > 0 ? await createAndWaitBound(client, 'namespace-1', cfg.initPods, cfg.concurrency, deadline) : undefined;
    const revisionBefore = await cluster.server.store.currentRevision();
    const cpuBefore = process.cpuUsage();
    const eluBefore = performance.eventLoopUtilization();
    const measured = init?.timedOut
      ? undefined
      : await createAndWaitBound(client, 'namespace-2', cfg.measurePods, cfg.concurrency, deadline, cfg.waitReady);
    const cpu = process.cpuUsage(cpuBefore);
    const elu = performance.eventLoopUtilization(eluBefore);
    const apiWrites = (await cluster.server.store.currentRevision()) - revisionBefore;
    if (cfg.serve) {
      const stopped = new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
      process.stdout.write(`${JSON.stringify({ serving: true, url: cluster.server.url, kubeconfig: cluster.server.kubeconfigPath, bound: measured?.bound ?? 0, ready: measured?.ready ?? 0, allReadyMs: measured?.allReadyMs ?? 0, heapUsedBytes: heapAfterGc() })}\n`);
      await stopped;
    }
    const perNode = new Map<string, number>();
    for (const node of measured?.nodeOf.values() ?? []) perNode.set(node, (perNode.get(node) ?? 0) + 1);
    return {
      nodes: cfg.nodes,
      nodesUpMs,
      initPods: cfg.initPods,
      measurePods: cfg.measurePods,
      bound: measured?.bound ?? 0,
      createMs: measured?.createMs ?? 0,
      allBoundMs: measured?.allBoundMs ?? 0,
      boundWhenCreated: measured?.boundWhenCreated ?? 0,
      podsPerSecond: measured ? measured.bound / (measured.allBoundMs / 1000) : 0,
      allReadyMs: measured?.allReadyMs ?? 0,
      ready: measured?.ready ?? 0,
      perSecond: measured?.perSecond ?? [],
      nodesUsed: perNode.size,
      maxPodsPerNode: Math.max(0, ...perNode.values()),
      apiWrites,
      cpuMs: (cpu.user + cpu.system) / 1000,
      eventLoopUtilization: elu.utilization,
      rssBytes: process.memoryUsage.rss(),
      timedOut: !measured || measured.timedOut || !!init?.timedOut,
    };
  } finally {
    await cluster.close();
  }
}

run(JSON.parse(process.argv[2] ?? '{}') as SchedulingWorkerConfig).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`scheduling worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
