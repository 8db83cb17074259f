/**
 * @module End-to-end harness: starts a real `skiff server` process on a free port in a
 * temporary data dir, and runs the real kubectl against it with a fresh HOME so no
 * cached discovery leaks between runs. Waits poll with deadlines, never fixed sleeps.
 */
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { cleanupProcessNode } from '../../src/kubelet/runtime/process/index.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realpathSync, existsSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/e2e → repo root */
export const repoRoot = resolve(here, '..', '..', '..');
export const skiffBin = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The directory holding kubectl.1.27 … kubectl.1.33 beside the dispatcher on the PATH. */
export function kubectlDir(): string {
  for (const p of (process.env.PATH ?? '').split(':')) {
    const k = join(p, 'kubectl');
    if (existsSync(k)) return dirname(realpathSync(k));
  }
  return '/usr/lib/google-cloud-sdk/bin';
}

export function kubectlBinary(minor?: number): string {
  return minor ? join(kubectlDir(), `kubectl.1.${minor}`) : 'kubectl';
}

export class Cluster {
  private constructor(
    readonly proc: ChildProcess,
    readonly dataDir: string,
    readonly home: string,
    readonly url: string,
    readonly kubeconfig: string,
    readonly logs: { stdout: string; stderr: string },
    /** The local node's bridge and pod CIDR (process runtime only). */
    readonly node: { bridge?: string; podCIDR?: string; serviceCIDR?: string; ip?: string } = {},
  ) {}

  static async start(opts: { dataDir?: string; extraArgs?: string[]; timeoutMs?: number } = {}): Promise<Cluster> {
    const base = mkdtempSync(join(tmpdir(), 'skiff-e2e-'));
    const dataDir = opts.dataDir ?? join(base, 'data');
    const home = join(base, 'home');
    mkdirSync(home, { recursive: true });
    // Suites get no real (process) node unless they ask for one: `auto` would run pods on this
    // host as root, and two suites running at once would share its bridge and pod CIDR.
    const extra = opts.extraArgs ?? [];
    const runtime = extra.includes('--runtime') ? [] : ['--runtime', 'hollow'];
    // Suites on the process runtime run at the same time as others: each gets its own bridge and pod CIDR.
    const node: { bridge?: string; podCIDR?: string; serviceCIDR?: string; ip?: string } = {};
    // A restart on the same data dir is the same node: it keeps the bridge, CIDRs and address it had.
    const remembered = join(dataDir, 'harness-node.json');
    const before: typeof node = existsSync(remembered) ? JSON.parse(readFileSync(remembered, 'utf8')) : {};
    const i = extra.indexOf('--runtime');
    if (i >= 0 && extra[i + 1] !== 'hollow') {
      node.bridge = flagValue(extra, '--pod-bridge') ?? before.bridge ?? `skt${randomBytes(3).toString('hex')}`;
      node.podCIDR = flagValue(extra, '--pod-cidr') ?? before.podCIDR ?? unusedBlock('10.42');
      if (!extra.includes('--pod-bridge')) runtime.push('--pod-bridge', node.bridge);
      if (!extra.includes('--pod-cidr')) runtime.push('--pod-cidr', node.podCIDR);
      // Ports 80 and 443 of the node address are for one cluster at a time.
      if (!extra.includes('--ingress-http-port')) runtime.push('--ingress-http-port', '0');
      if (!extra.includes('--ingress-https-port')) runtime.push('--ingress-https-port', '0');
      // ... and its own service CIDR: the cluster DNS address (its 10th) lives on this host's interfaces.
      node.serviceCIDR = flagValue(extra, '--service-cidr') ?? before.serviceCIDR ?? unusedBlock('10.43');
      if (!extra.includes('--service-cidr')) runtime.push('--service-cidr', node.serviceCIDR);
      // ... and its own loopback node address: LoadBalancer ports on it are served per cluster.
      node.ip = flagValue(extra, '--node-ip') ?? before.ip ?? `127.${1 + randomInt(250)}.${randomInt(256)}.${1 + randomInt(250)}`;
      if (!extra.includes('--node-ip')) runtime.push('--node-ip', node.ip);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(remembered, JSON.stringify(node));
    }
    const proc = spawn(process.execPath, [skiffBin, 'server', '--port', '0', '--data-dir', dataDir, ...runtime, ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: home },
    });
    const logs = { stdout: '', stderr: '' };
    proc.stdout!.on('data', (d) => (logs.stdout += d));
    proc.stderr!.on('data', (d) => (logs.stderr += d));
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    while (!/kubeconfig: (\S+)/.test(logs.stdout)) {
      if (proc.exitCode !== null) throw new Error(`skiff server exited ${proc.exitCode}: ${logs.stderr}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`skiff server did not become ready: ${logs.stdout}\n${logs.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const url = /ready at (\S+)/.exec(logs.stdout)![1];
    const kubeconfig = /kubeconfig: (\S+)/.exec(logs.stdout)![1];
    return new Cluster(proc, dataDir, home, url, kubeconfig, logs, node);
  }

  /** Runs kubectl (the PATH dispatcher, or kubectl.1.<minor>) against this cluster. */
  kubectl(args: string[], opts: { stdin?: string; minor?: number; timeoutMs?: number } = {}): Promise<KubectlResult> {
    return new Promise((resolvePromise) => {
      const child = execFile(
        kubectlBinary(opts.minor),
        args,
        { env: { ...process.env, HOME: this.home, KUBECONFIG: this.kubeconfig }, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
          resolvePromise({ code, stdout: stdout.toString(), stderr: stderr.toString() });
        },
      );
      // Always close stdin: kubectl prompts (e.g. for a username) would otherwise hang.
      child.stdin!.end(opts.stdin ?? '');
    });
  }

  /** kubectl that must succeed; returns stdout. */
  async k(args: string[], opts: { stdin?: string; minor?: number } = {}): Promise<string> {
    const r = await this.kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Writes a manifest into the cluster's temp dir and returns its path. */
  writeFile(name: string, content: string): string {
    const p = join(dirname(this.dataDir), 'files', name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    return p;
  }

  async stop(opts: { keepData?: boolean; signal?: NodeJS.Signals } = {}): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill(opts.signal ?? 'SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (!opts.keepData) rmSync(dirname(this.dataDir), { recursive: true, force: true });
    // HOME lives in the cluster's own temp dir; when a suite chose the data dir (a restart), that dir holds nothing else.
    if (dirname(this.home) !== dirname(this.dataDir)) rmSync(dirname(this.home), { recursive: true, force: true });
    // The bridge outlives the node (as cni0 does); this suite's own one goes with it.
    if (this.node.bridge && !opts.keepData) spawnSync('ip', ['link', 'del', this.node.bridge], { stdio: 'ignore' });
  }
}

/**
 * Ends a suite on the process runtime: its workloads deleted (graceful, short), the server
 * stopped, then whatever pods remain — processes, namespaces, veths, cgroups — and the
 * bridge removed, and the temp dir.
 */
export async function stopProcessCluster(c: Cluster, opts: { removeCgroupParent?: boolean } = {}): Promise<void> {
  if (!c.node.podCIDR) return c.stop();
  await c.kubectl(['delete', 'deployments,statefulsets,daemonsets,jobs,pods', '--all', '--grace-period=1', '--timeout=60s']);
  await c.stop({ keepData: true });
  await cleanupProcessNode({ stateDir: join(c.dataDir, 'kubelet'), podCIDR: c.node.podCIDR!, bridge: c.node.bridge, removeBridge: true, removeCgroupParent: opts.removeCgroupParent });
  await c.stop();
}

/** A random /24 of `prefix` that no address or route of this host uses yet (another suite's bridge, DNS address or leftovers). */
function unusedBlock(prefix: '10.42' | '10.43'): string {
  for (let tries = 0; ; tries++) {
    const cidr = `${prefix}.${100 + randomInt(150)}.0/24`;
    const used = [['addr', 'show', 'to', cidr], ['route', 'show', 'root', cidr]].some((q) => spawnSync('ip', ['-4', '-o', ...q], { encoding: 'utf8' }).stdout.trim() !== '');
    if (!used || tries > 50) return cidr;
  }
}

function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Polls fn until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
