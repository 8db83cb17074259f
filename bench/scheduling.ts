/**
 * @module The workloads and scheduling benchmarks of issue 3: scheduling throughput in
 * kube-scheduler's scheduler_perf shape (an in-process cluster in a child process, see
 * scheduling-worker.ts); a real `skiff server` with 1,000 hollow nodes for the time a
 * 1,000-replica Deployment takes to be Ready; memory and list latency at 30,000 pods.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BaselineResult } from '../src/storage/sqlite/baseline.js';
import type { SchedulingWorkerConfig, SchedulingWorkerResult } from './scheduling-worker.js';
import { call, clientFrom, closeClient, cpuMsOf, pollUntil, root, rssOf, spawnTracked, startServer, stopProcess, type Client } from './util.js';

const workerBin = join(root, 'dist', 'bench', 'scheduling-worker.js');

export interface ServingInfo {
  url: string;
  kubeconfig: string;
  bound: number;
  ready: number;
  allReadyMs: number;
  heapUsedBytes: number;
}

/**
 * Runs one scheduling worker; kills it past `timeoutMs`. Its log goes nowhere unless it
 * fails. With cfg.serve, `onServing` runs against the loaded server before it is stopped.
 */
async function runWorker(cfg: SchedulingWorkerConfig, timeoutMs: number, onServing?: (info: ServingInfo, pid: number) => Promise<void>): Promise<SchedulingWorkerResult> {
  // --expose-gc: the worker collects garbage before reporting its heap.
  const nodeArgs = ['--expose-gc', ...(process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const proc = spawnTracked([...nodeArgs, workerBin, JSON.stringify(cfg)]);
  let out = '';
  let err = '';
  let servingError: unknown;
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-10_000)));
  proc.stdout!.on('data', (d) => {
    out += d;
    const line = out.split('\n').find((l) => l.startsWith('{"serving":true'));
    if (!line || !onServing) return;
    const callback = onServing;
    onServing = undefined;
    void callback(JSON.parse(line) as ServingInfo, proc.pid!)
      .catch((e) => (servingError = e))
      .finally(() => proc.kill('SIGTERM'));
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  clearTimeout(timer);
  if (servingError) throw servingError;
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{') || last.startsWith('{"serving"')) throw new Error(`scheduling worker (${cfg.nodes} nodes) failed with ${code}: ${err.slice(-3000)}`);
  return JSON.parse(last) as SchedulingWorkerResult;
}

const deploymentName = 'web';

function deployment(replicas: number): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: deploymentName },
    spec: {
      replicas,
      selector: { matchLabels: { app: deploymentName } },
      template: {
        metadata: { labels: { app: deploymentName } },
        // Small requests: 30 of them per node fit the hollow node's 4 CPU and 32Gi.
        spec: { containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      },
    },
  };
}

async function readyReplicas(c: Client): Promise<number> {
  const r = await call(c, 'GET', `/apis/apps/v1/namespaces/default/deployments/${deploymentName}`, undefined, { timeoutMs: 30_000 });
  if (r.code !== 200) throw new Error(`get deployment: ${r.code} ${r.body.slice(0, 300)}`);
  return Number(JSON.parse(r.body).status?.readyReplicas ?? 0);
}

/** Polls the Deployment until `want` replicas are Ready; the time it took, or undefined (and how far it got) past the budget. */
async function waitReady(c: Client, want: number, budgetMs: number): Promise<{ ms?: number; ready: number }> {
  const t0 = performance.now();
  let ready = 0;
  const done = await pollUntil(async () => {
    ready = await readyReplicas(c);
    return ready >= want ? true : undefined;
  }, budgetMs);
  return { ms: done ? performance.now() - t0 : undefined, ready };
}

/** Lists every page of `path` with limit=500 as kubectl does; total time and item count. */
async function listPaged(c: Client, path: string, headers: Record<string, string> = {}): Promise<{ ms: number; items: number; pages: number }> {
  const t0 = performance.now();
  let items = 0;
  let pages = 0;
  let cont = '';
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await call(c, 'GET', `${path}${sep}limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, undefined, { headers, timeoutMs: 60_000 });
    if (r.code !== 200) throw new Error(`list ${path}: ${r.code} ${r.body.slice(0, 300)}`);
    const page = JSON.parse(r.body);
    items += (page.items ?? page.rows ?? []).length;
    cont = page.metadata?.continue ?? '';
    pages++;
  } while (cont && pages < 1000);
  return { ms: performance.now() - t0, items, pages };
}

function kubectl(kubeconfig: string, home: string, args: string[]): Promise<{ ms: number; lines: number }> {
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home }, timeout: 120_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout) => {
      if (err) reject(err);
      else resolvePromise({ ms: performance.now() - t0, lines: stdout.split('\n').filter(Boolean).length });
    });
  });
}

export interface WorkloadsOptions {
  work: string;
  baseline: BaselineResult;
  /** Progress lines (stderr). */
  progress: (msg: string) => void;
  /** Parts to run (default all). */
  parts?: Array<'scheduling' | 'cluster' | 'memory'>;
}

/** Runs every workload benchmark; returns the Markdown table rows. */
export async function workloadsBenchmark(opts: WorkloadsOptions): Promise<string[]> {
  const { work, baseline, progress } = opts;
  const rows: string[] = [];
  const row = (what: string, value: string, note = '') => rows.push(`| ${what} | ${value} | ${note} |`);
  const f = (x: number, d = 0) => x.toFixed(d);
  const rawTx = baseline.txPerSecond;

  // 1. Scheduling throughput, scheduler_perf's SchedulingBasic shape.
  const scheduling: SchedulingWorkerResult[] = [];
  const parts = opts.parts ?? ['scheduling', 'cluster', 'memory'];
  for (const nodes of parts.includes('scheduling') ? [5000, 1000] : []) {
    progress(`scheduling: 10000 pods onto ${nodes} hollow nodes`);
    const dataDir = join(work, `sched-${nodes}`);
    try {
      scheduling.push(await runWorker({ dataDir, nodes, initPods: 1000, measurePods: 10_000, concurrency: 64, deadlineMs: 120_000, fullKubelet: false }, 180_000));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  for (const s of scheduling) {
    const ref = s.nodes === 5000 ? 'scheduler_perf floor 680 pods/s (SchedulingBasic/5000Nodes_10000Pods)' : 'no scheduler_perf workload of this size';
    const status = s.timedOut ? ` — **timed out, ${s.bound}/${s.measurePods} bound**` : '';
    row(
      `scheduling throughput, ${s.measurePods.toLocaleString('en')} pods onto ${s.nodes.toLocaleString('en')} hollow nodes (${s.initPods.toLocaleString('en')} scheduled before)`,
      `${f(s.podsPerSecond)} pods/s${status}`,
      `first create → last bound ${f(s.allBoundMs / 1000, 1)} s (creates done at ${f(s.createMs / 1000, 1)} s); ${ref}; **${f(s.podsPerSecond / rawTx, 4)}× raw SQLite tx/s**`,
    );
  }
  for (const s of scheduling) {
    row(
      `… API writes and CPU while measuring (${s.nodes.toLocaleString('en')} nodes)`,
      `${f(s.apiWrites / (s.allBoundMs / 1000))} writes/s`,
      `${f(s.apiWrites / Math.max(1, s.bound), 2)} writes per pod (create, binding, Scheduled event, Running status, node leases); ${f((s.cpuMs * 1000) / Math.max(1, s.apiWrites))} µs CPU per write; event loop ${f(s.eventLoopUtilization * 100)}% busy; **${f(s.apiWrites / (s.allBoundMs / 1000) / rawTx, 3)}× raw SQLite tx/s**`,
    );
  }
  for (const s of scheduling) {
    const drainMs = s.allBoundMs - s.createMs;
    const drained = s.bound - s.boundWhenCreated;
    row(
      `… binding once every pod exists (${s.nodes.toLocaleString('en')} nodes)`,
      drainMs > 500 && drained > 0 ? `${f(drained / (drainMs / 1000))} pods/s` : 'n/a',
      `${drained.toLocaleString('en')} pods bound after the last create returned, no creates competing for the core; ${f(s.boundWhenCreated / (s.createMs / 1000))} pods/s while creates were running`,
    );
  }
  for (const s of scheduling) {
    const busiest = Math.max(0, ...s.perSecond.slice(0, -1));
    row(
      `… spread and memory (${s.nodes.toLocaleString('en')} nodes)`,
      `${s.nodesUsed.toLocaleString('en')} nodes used, ≤ ${s.maxPodsPerNode} measured pods per node`,
      `best one-second window ${busiest} pods/s; hollow nodes up in ${f(s.nodesUpMs / 1000, 1)} s; process RSS ${f(s.rssBytes / 2 ** 20)} MB`,
    );
  }

  // 2. A real `skiff server` (every controller, the scheduler, 1,000 hollow nodes with their defaults).
  if (parts.includes('cluster')) {
    const dataDir = join(work, 'deploy');
    progress('cluster: skiff server --hollow-nodes 1000, Deployment with 1000 replicas');
    const server = await startServer(dataDir, ['--hollow-nodes', '1000', '--hollow-node-memory', '32Gi'], 60_000);
    let c: Client | undefined;
    try {
      c = clientFrom(server.kubeconfig, server.url);
      const pid = server.proc.pid!;
      row('`skiff server --hollow-nodes 1000` start to ready', `${f(server.readyMs / 1000, 1)} s`, `1,000 Nodes and Leases registered first; RSS then ${f(rssOf(pid) / 2 ** 20)} MB`);
      const created = await call(c, 'POST', '/apis/apps/v1/namespaces/default/deployments', deployment(1000), { timeoutMs: 30_000 });
      if (created.code !== 201) throw new Error(`create deployment: ${created.code} ${created.body.slice(0, 300)}`);
      const cpu0 = cpuMsOf(pid);
      const first = await waitReady(c, 1000, 90_000);
      const deployCpu = cpuMsOf(pid) - cpu0;
      row(
        '1,000-replica Deployment: create → all Ready',
        first.ms === undefined ? `**not Ready in 90 s (${first.ready} Ready)**` : `${f(first.ms / 1000, 1)} s`,
        `${first.ms ? f(1000 / (first.ms / 1000)) : '–'} pods/s through the Deployment and ReplicaSet controllers, scheduler and hollow kubelets (500 ms simulated start, kubelet pod events on, as \`skiff server\` defaults); server CPU ${f(deployCpu / 1000, 1)} s`,
      );
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\nserver log tail:\n${server.stderr().slice(-3000)}`);
    } finally {
      if (c) closeClient(c);
      await stopProcess(server.proc);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  // 3. 30,000 pods on 1,000 hollow nodes, every controller running: memory and lists.
  if (parts.includes('memory')) {
    const dataDir = join(work, 'memory');
    const home = join(work, 'kube-home');
    mkdirSync(home, { recursive: true });
    const total = 30_000;
    progress(`memory: ${total} pods on 1000 hollow nodes`);
    let serving: ServingInfo | undefined;
    try {
      await runWorker(
        { dataDir, nodes: 1000, initPods: 0, measurePods: total, concurrency: 64, deadlineMs: 150_000, fullKubelet: false, waitReady: true, controllers: ['*'], serve: true },
        240_000,
        async (info, pid) => {
          serving = info;
          const rss = rssOf(pid);
          row(
            `${info.ready.toLocaleString('en')} pods Ready on 1,000 hollow nodes, every controller running`,
            `${f(info.allReadyMs / 1000, 1)} s`,
            `first create → last Ready, ${f(info.ready / (info.allReadyMs / 1000))} pods/s (bare pods, created in-process)`,
          );
          row(
            `server RSS at 1,000 nodes / ${info.ready.toLocaleString('en')} pods`,
            `${f(rss / 2 ** 20)} MB`,
            `${f(rss / Math.max(1, info.ready) / 1024, 1)} KB per pod all in (API server, store, informer and scheduler caches, hollow kubelets in one process); V8 heap ${f(info.heapUsedBytes / 2 ** 20)} MB live after a full GC; kwok keeps 1k nodes / 100k pods on a laptop`,
          );
          const lc = clientFrom(info.kubeconfig, info.url);
          try {
            const t = performance.now();
            const full = await call(lc, 'GET', '/api/v1/pods', undefined, { timeoutMs: 120_000 });
            const fullMs = performance.now() - t;
            if (full.code !== 200) throw new Error(`list pods: ${full.code}`);
            const fullCount = JSON.parse(full.body).items.length;
            row(`list all ${fullCount.toLocaleString('en')} pods, one request`, `${f(fullMs)} ms`, `${f(full.body.length / 2 ** 20)} MB of JSON over HTTPS`);
            const table = await listPaged(lc, '/api/v1/pods', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
            row('list all pods as Table, pages of 500 (what `kubectl get pods -A` asks)', `${f(table.ms)} ms`, `${table.pages} pages, ${table.items.toLocaleString('en')} rows`);
            try {
              const k = await kubectl(info.kubeconfig, home, ['get', 'pods', '-A', '--no-headers']);
              row('`kubectl get pods -A`, real kubectl, wall clock', `${f(k.ms)} ms`, `${k.lines.toLocaleString('en')} lines printed`);
            } catch (e) {
              row('`kubectl get pods -A`, real kubectl, wall clock', 'failed', String(e).slice(0, 200));
            }
            const byNode = await median3(async () => {
              const r = await call(lc, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dhollow-node-7', undefined, { timeoutMs: 60_000 });
              if (r.code !== 200) throw new Error(`list by node: ${r.code}`);
            });
            row('list one node\'s pods (fieldSelector spec.nodeName, as a kubelet does)', `${f(byNode)} ms`, `median of 3, filtering ${fullCount.toLocaleString('en')} pods`);
          } finally {
            closeClient(lc);
          }
        },
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    if (!serving) row(`${total.toLocaleString('en')} pods on 1,000 hollow nodes`, '**did not finish**', '');
  }
  return rows;
}

/** Median latency (ms) of three sequential runs of `op`. */
async function median3(op: () => Promise<void>): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await op();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return lat[1];
}
