/**
 * @module `npm run bench`: API server throughput and latency against a real `skiff
 * server` process over HTTPS, compared in the same run with raw better-sqlite3
 * single-row transactions (the ceiling). Prints a Markdown report and, with --write,
 * replaces the generated section of docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session } from 'node:http2';
import { request } from 'node:https';
import { cpus, totalmem, tmpdir, release } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { rawSqliteBaseline } from '../src/storage/sqlite/baseline.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skiffBin = join(root, 'dist', 'src', 'cli', 'main.js');
const N = Number(process.env.BENCH_N ?? 10_000);
const CONCURRENCY = 16;

/** HTTP/2 like kubectl and client-go: requests multiplexed over a couple of TLS sessions. */
interface Client {
  sessions: ClientHttp2Session[];
  next: number;
  url: URL;
  ca: string;
  cert: string;
  key: string;
}

function call(c: Client, method: string, path: string, body?: unknown): Promise<{ code: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const session = c.sessions[c.next++ % c.sessions.length];
    const req = session.request({ ':method': method, ':path': path, ...(data ? { 'content-type': 'application/json' } : {}) });
    let code = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (code = Number(h[':status'])));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => resolvePromise({ code, body: Buffer.concat(chunks).toString() }));
    req.on('error', reject);
    req.end(data);
  });
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs n operations with bounded concurrency; returns ops/s and sorted latencies (ms). */
async function measure(n: number, op: (i: number) => Promise<void>, concurrency = CONCURRENCY): Promise<{ rate: number; lat: number[] }> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now();
        await op(i);
        lat.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - start;
  lat.sort((a, b) => a - b);
  return { rate: n / (elapsed / 1000), lat };
}

async function startServer(dataDir: string): Promise<{ proc: ReturnType<typeof spawn>; url: string; kubeconfig: string; readyMs: number }> {
  const t0 = performance.now();
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server under load.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, skiffBin, 'server', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', () => {});
  const deadline = Date.now() + 30_000;
  while (!/kubeconfig: (\S+)/.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`server failed to start: ${out}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - t0;
  return { proc, url: /ready at (\S+)/.exec(out)![1], kubeconfig: /kubeconfig: (\S+)/.exec(out)![1], readyMs };
}

function clientFrom(kubeconfigPath: string, url: string): Client {
  const kc = YAML.parse(readFileSync(kubeconfigPath, 'utf8'));
  const b = (s: string) => Buffer.from(s, 'base64').toString();
  const tls = {
    ca: b(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b(kc.users[0].user['client-certificate-data']),
    key: b(kc.users[0].user['client-key-data']),
  };
  return { sessions: [connect(url, tls), connect(url, tls)], next: 0, url: new URL(url), ...tls };
}

/** utime + stime of a process, in milliseconds (USER_HZ = 100). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'skiff-bench-'));
  const results: string[] = [];
  const row = (what: string, value: string, note = '') => results.push(`| ${what} | ${value} | ${note} |`);
  try {
    // Reference: raw SQLite single-row transactions with the store's pragmas.
    const baseline = rawSqliteBaseline(join(work, 'baseline.db'), N);

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
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`;
  const report = [
    `Run: ${new Date().toISOString().slice(0, 10)} on ${machine}; N = ${N}.`,
    '',
    '| measurement | result | notes |',
    '| --- | --- | --- |',
    ...results,
  ].join('\n');
  process.stdout.write(`${report}\n`);
  if (process.argv.includes('--write')) {
    const docPath = join(root, 'docs', 'benchmarks.md');
    const doc = readFileSync(docPath, 'utf8');
    const start = '<!-- bench:apiserver:start -->';
    const end = '<!-- bench:apiserver:end -->';
    const updated = doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), `${start}\n${report}\n${end}`);
    writeFileSync(docPath, updated);
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
