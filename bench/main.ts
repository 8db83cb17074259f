/**
 * @module `npm run bench`: API server throughput and latency against a real `skiff
 * server` process over HTTPS, and the workloads and scheduling benchmarks of issue 3
 * (bench/scheduling.ts), each compared in the same run with raw better-sqlite3
 * single-row transactions (the ceiling). Prints a Markdown report and, with --write,
 * replaces the generated sections of docs/benchmarks.md. `--only NAME` runs one
 * section (see `sections`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSqliteBaseline, type BaselineResult } from '../src/storage/sqlite/baseline.js';
import { helmInstallSection } from './helm-install.js';
import { helmRenderSection } from './helm.js';
import { dnsSection } from './dns.js';
import { ingressSection } from './ingress.js';
import { podStartSection } from './pod-start.js';
import { metricsSection } from './metrics.js';
import { serviceProxySection } from './service-proxy.js';
import { workloadsBenchmark } from './scheduling.js';
import { call, clientFrom, cpuMsOf, machineDescription, measure as measureWith, percentile, rssOf, startServer, writeDocSection } from './util.js';

const N = Number(process.env.BENCH_N ?? 10_000);
const CONCURRENCY = 16;

/** Runs n operations with bounded concurrency (16 in flight unless told); returns ops/s and sorted latencies (ms). */
function measure(n: number, op: (i: number) => Promise<void>, concurrency = CONCURRENCY): Promise<{ rate: number; lat: number[] }> {
  return measureWith(n, op, concurrency);
}

/** The API server section (issue 2): returns its Markdown report. */
async function apiserverSection(work: string, baseline: BaselineResult): Promise<string> {
  const results: string[] = [];
  const row = (what: string, value: string, note = '') => results.push(`| ${what} | ${value} | ${note} |`);
  {
    // Cold start: a fresh data dir (PKI generated) and a warm restart (PKI reused).
    const first = await startServer(join(work, 'data'));
    first.proc.kill('SIGTERM');
    await new Promise((r) => first.proc.once('exit', r));
    const server = await startServer(join(work, 'data'));
    const c = clientFrom(server.kubeconfig, server.url);
    await call(c, 'GET', '/readyz');
    const idleRss = rssOf(server.proc.pid!);

    // Watch delivery: one watch open over the whole run, timestamps of arrival per object.
    const arrivals = new Map<string, number>();
    const sentAt = new Map<string, number>();
    const watchReq = request({
      host: c.url.hostname,
      port: c.url.port,
      path: '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1',
      ca: c.ca,
      cert: c.cert,
      key: c.key,
    });
    let buf = '';
    let watchDone: () => void = () => {};
    const allArrived = new Promise<void>((r) => (watchDone = r));
    watchReq.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          const ev = JSON.parse(line);
          if (ev.type === 'ADDED') arrivals.set(ev.object.metadata.name, performance.now());
          if (arrivals.size >= N) watchDone();
        }
      });
    });
    watchReq.end();

    const payload = (i: number) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
      data: { 'config.yaml': 'x'.repeat(512) },
    });
    const cpuBeforeCreates = cpuMsOf(server.proc.pid!);
    const creates = await measure(N, async (i) => {
      sentAt.set(`cm-${i}`, performance.now());
      const r = await call(c, 'POST', '/api/v1/namespaces/default/configmaps', payload(i));
      if (r.code !== 201) throw new Error(`create ${i}: ${r.code} ${r.body}`);
    });
    const createCpuMs = cpuMsOf(server.proc.pid!) - cpuBeforeCreates;
    await Promise.race([allArrived, new Promise((r) => setTimeout(r, 30_000))]);
    watchReq.destroy();
    const watchLat = [...arrivals.entries()].map(([n, t]) => t - (sentAt.get(n) ?? t)).sort((a, b) => a - b);

    const cpuBeforeGets = cpuMsOf(server.proc.pid!);
    const gets = await measure(N, async (i) => {
      const r = await call(c, 'GET', `/api/v1/namespaces/default/configmaps/cm-${i}`);
      if (r.code !== 200) throw new Error(`get ${i}: ${r.code}`);
    });
    const getCpuMs = cpuMsOf(server.proc.pid!) - cpuBeforeGets;
    // Latency without queueing: one request at a time.
    const getsSerial = await measure(2000, async (i) => {
      const r = await call(c, 'GET', `/api/v1/namespaces/default/configmaps/cm-${i}`);
      if (r.code !== 200) throw new Error(`get ${i}: ${r.code}`);
    }, 1);
    const lists = await measure(50, async () => {
      const r = await call(c, 'GET', '/api/v1/namespaces/default/configmaps?limit=500');
      if (r.code !== 200) throw new Error(`list: ${r.code}`);
    }, 1);
    const t = performance.now();
    const full = await call(c, 'GET', '/api/v1/namespaces/default/configmaps');
    const fullListMs = performance.now() - t;
    const fullCount = JSON.parse(full.body).items.length;
    const selected = await measure(20, async () => {
      const r = await call(c, 'GET', '/api/v1/namespaces/default/configmaps?labelSelector=shard%3D3&limit=500');
      if (r.code !== 200) throw new Error(`list: ${r.code}`);
    }, 1);
    const loadedRss = rssOf(server.proc.pid!);
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
    for (const s of c.sessions) s.close();

    const f = (x: number, d = 1) => x.toFixed(d);
    row('raw better-sqlite3 single-row transactions (reference)', `${f(baseline.txPerSecond, 0)} tx/s`, `${baseline.journalMode}, same pragmas as the store`);
    row(`API creates (ConfigMap, ${CONCURRENCY} in flight, HTTP/2 over TLS)`, `${f(creates.rate, 0)} /s`, `p50 ${f(percentile(creates.lat, 50), 2)} ms, p99 ${f(percentile(creates.lat, 99), 2)} ms; **${f(creates.rate / baseline.txPerSecond, 3)}× raw SQLite**`);
    row('server CPU per create (incl. TLS, watch fan-out)', `${f((createCpuMs / N) * 1000, 0)} µs`, `the server alone could do ~${f(N / (createCpuMs / 1000), 0)} creates/s per core; the load generator shares the 2 cores`);
    row('API GET by name', `${f(gets.rate, 0)} /s`, `p50 ${f(percentile(gets.lat, 50), 2)} ms, p99 ${f(percentile(gets.lat, 99), 2)} ms; server CPU ${f((getCpuMs / N) * 1000, 0)} µs per GET`);
    row('API GET by name, one at a time', `p50 ${f(percentile(getsSerial.lat, 50), 2)} ms`, `p99 ${f(percentile(getsSerial.lat, 99), 2)} ms`);
    row('API list, limit=500 page (one at a time)', `${f(lists.rate, 1)} /s`, `p50 ${f(percentile(lists.lat, 50), 1)} ms, p99 ${f(percentile(lists.lat, 99), 1)} ms`);
    row(`API list of all ${fullCount} objects (one request)`, `${f(fullListMs, 0)} ms`, '');
    row('API list with labelSelector (1 in 10 match), limit=500 (one at a time)', `${f(selected.rate, 1)} /s`, `p50 ${f(percentile(selected.lat, 50), 1)} ms`);
    row('watch event delivery (create sent → event received)', `${arrivals.size}/${N} events`, `p50 ${f(percentile(watchLat, 50), 2)} ms, p99 ${f(percentile(watchLat, 99), 2)} ms`);
    row('cold start to ready, fresh data dir (CA and certs generated)', `${f(first.readyMs, 0)} ms`, 'process spawn → kubeconfig printed (ready)');
    row('cold start to ready, existing data dir', `${f(server.readyMs, 0)} ms`, '');
    row('server RSS idle (after start)', `${f(idleRss / 1048576, 1)} MB`, '');
    row(`server RSS after ${N} objects`, `${f(loadedRss / 1048576, 1)} MB`, '');
  }
  return [
    `Run: ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}; N = ${N}.`,
    '',
    '| measurement | result | notes |',
    '| --- | --- | --- |',
    ...results,
  ].join('\n');
}

/** The workloads and scheduling section (issue 3): returns its Markdown report. */
async function workloadsSection(work: string, baseline: BaselineResult): Promise<string> {
  const load = loadavg()[0];
  const rows = await workloadsBenchmark({ work, baseline, progress: (msg) => process.stderr.write(`bench: ${msg}\n`) });
  return [
    `Run: ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}; load average ${load.toFixed(1)} at the start; raw SQLite reference ${baseline.txPerSecond.toFixed(0)} tx/s.`,
    '',
    '| measurement | result | notes |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/**
 * Every section of docs/benchmarks.md, by the name of its markers and of `--only NAME`.
 * Adding a benchmark is adding its module and one line here.
 */
const sections: Record<string, (ctx: { work: string; baseline: () => BaselineResult }) => Promise<string>> = {
  apiserver: ({ work, baseline }) => apiserverSection(work, baseline()),
  workloads: ({ work, baseline }) => workloadsSection(work, baseline()),
  'pod-start': ({ work }) => podStartSection(work),
  ingress: ({ work }) => ingressSection(work),
  'helm-render': ({ work }) => helmRenderSection(work),
  'helm-install': ({ work }) => helmInstallSection(work),
  dns: () => dnsSection(),
  proxy: ({ work }) => serviceProxySection(work),
  metrics: ({ work }) => metricsSection(work),
};

async function main(): Promise<void> {
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
  if (only !== undefined && !(only in sections)) throw new Error(`--only takes one of ${Object.keys(sections).join(', ')}, not ${only}`);
  const work = mkdtempSync(join(tmpdir(), 'skiff-bench-'));
  const reports: Array<[string, string]> = [];
  let baseline: BaselineResult | undefined;
  try {
    // Reference: raw SQLite single-row transactions with the store's pragmas (measured once, when a section needs it).
    const ctx = { work, baseline: () => (baseline ??= rawSqliteBaseline(join(work, 'baseline.db'), N)) };
    for (const [name, run] of Object.entries(sections)) {
      if (only !== undefined && only !== name) continue;
      process.stderr.write(`bench: section ${name}\n`);
      reports.push([name, await run(ctx)]);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  for (const [name, report] of reports) {
    process.stdout.write(`\n## ${name}\n\n${report}\n`);
    if (process.argv.includes('--write')) writeDocSection(name, report);
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
