/**
 * @module What every benchmark section shares: a `skiff server` child process, an HTTP/2
 * client with the admin certificate as kubectl and client-go would use, bounded-concurrency
 * measurement, percentiles, process CPU and RSS from /proc, and the docs section writer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session } from 'node:http2';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const skiffBin = join(root, 'dist', 'src', 'cli', 'main.js');

/** HTTP/2 like kubectl and client-go: requests multiplexed over a couple of TLS sessions. */
export interface Client {
  sessions: ClientHttp2Session[];
  next: number;
  url: URL;
  ca: string;
  cert: string;
  key: string;
}

export interface CallOptions {
  /** Extra request headers (e.g. accept for Table output). */
  headers?: Record<string, string>;
  contentType?: string;
  /** Abandon the request after this long (the promise rejects). */
  timeoutMs?: number;
}

export function call(c: Client, method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<{ code: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const session = c.sessions[c.next++ % c.sessions.length];
    const req = session.request({
      ':method': method,
      ':path': path,
      ...(data ? { 'content-type': opts.contentType ?? 'application/json' } : {}),
      ...(opts.headers ?? {}),
    });
    let code = 0;
    const chunks: Buffer[] = [];
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          req.close();
          reject(new Error(`${method} ${path}: no answer in ${opts.timeoutMs} ms`));
        }, opts.timeoutMs)
      : undefined;
    req.on('response', (h) => (code = Number(h[':status'])));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      clearTimeout(timer);
      resolvePromise({ code, body: Buffer.concat(chunks).toString() });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(data);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs n operations with bounded concurrency; returns ops/s and sorted latencies (ms). */
export async function measure(n: number, op: (i: number) => Promise<void>, concurrency: number): Promise<{ rate: number; lat: number[] }> {
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

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  kubeconfig: string;
  readyMs: number;
  /** stderr so far (the server's JSON log), for failure reports. */
  stderr(): string;
}

/** Child processes still running: killed when the benchmark exits, even on failure. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Spawns a child process that is killed when the benchmark exits. */
export function spawnTracked(args: string[]): ChildProcess {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

/** Spawns `skiff server` on a free port and waits until it prints its kubeconfig (it is ready then). */
export async function startServer(dataDir: string, extraArgs: string[] = [], timeoutMs = 30_000): Promise<ServerProcess> {
  const t0 = performance.now();
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server under load.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // Benchmarks never run pods on this host (as root `auto` would start a process node).
  const runtime = extraArgs.includes('--runtime') ? [] : ['--runtime', 'hollow'];
  const proc = spawnTracked([...nodeArgs, skiffBin, 'server', '--port', '0', '--data-dir', dataDir, ...runtime, ...extraArgs]);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  // Keep only the tail: a busy server logs a lot.
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-20_000)));
  const deadline = Date.now() + timeoutMs;
  while (!/kubeconfig: (\S+)/.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`server failed to start: ${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - t0;
  return { proc, url: /ready at (\S+)/.exec(out)![1], kubeconfig: /kubeconfig: (\S+)/.exec(out)![1], readyMs, stderr: () => err };
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stopProcess(proc: ChildProcess, graceMs = 10_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function clientFrom(kubeconfigPath: string, url: string): Client {
  const kc = YAML.parse(readFileSync(kubeconfigPath, 'utf8'));
  const b = (s: string) => Buffer.from(s, 'base64').toString();
  const tls = {
    ca: b(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b(kc.users[0].user['client-certificate-data']),
    key: b(kc.users[0].user['client-key-data']),
  };
  return { sessions: [connect(url, tls), connect(url, tls)], next: 0, url: new URL(url), ...tls };
}

export function closeClient(c: Client): void {
  for (const s of c.sessions) s.close();
}

/** utime + stime of a process, in milliseconds (USER_HZ = 100). */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}

export function machineDescription(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

/** Replaces the text between `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->` in docs/benchmarks.md. */
export function writeDocSection(name: string, report: string): void {
  const docPath = join(root, 'docs', 'benchmarks.md');
  const doc = readFileSync(docPath, 'utf8');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  if (!doc.includes(start) || !doc.includes(end)) throw new Error(`docs/benchmarks.md has no ${start} … ${end} section`);
  writeFileSync(docPath, doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), () => `${start}\n${report}\n${end}`));
}

/** Polls `check` every `everyMs` until it returns a value or `timeoutMs` passes (then undefined). */
export async function pollUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
