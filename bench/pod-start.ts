/**
 * @module Pod start latency on the process runtime (issue 4): 100 pods created at once
 * against a real `skiff server --runtime process`, each timed from its create request to
 * the watch event that shows it Ready, and the server's memory before and with the 100
 * pods running (control plane and agent share the process). Reference in the same run:
 * the same 100 sandboxes made by hand with `ip netns add` + a veth pair + a process
 * started inside — the kernel's floor that every runtime pays. Needs root on Linux.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cleanupProcessNode } from '../src/kubelet/runtime/process/index.js';
import { call, clientFrom, closeClient, cpuMsOf, machineDescription, percentile, pollUntil, rssOf, startServer, stopProcess, type Client } from './util.js';

const PODS = Number(process.env.BENCH_PODS ?? 100);
const bridge = 'skbench0';
const podCIDR = '10.42.251.0/24';

/** Streams pod watch events of a namespace; calls onReady(name, t) the first time a pod is Ready. */
function watchReady(c: Client, onReady: (name: string, t: number) => void): () => void {
  const req = c.sessions[0].request({ ':method': 'GET', ':path': '/api/v1/namespaces/default/pods?watch=true' });
  const seen = new Set<string>();
  let buf = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      const ev = JSON.parse(line) as { object: { metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } } };
      const name = ev.object.metadata.name;
      if (seen.has(name)) continue;
      if (ev.object.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) {
        seen.add(name);
        onReady(name, performance.now());
      }
    }
  });
  req.on('error', () => {});
  req.end();
  return () => req.close();
}

/** The reference: n sandboxes (netns + veth + a process inside) made serially by hand, then removed. */
function handMadeSandboxes(n: number): { totalMs: number; perSandboxMs: number } {
  const tag = process.pid.toString(36);
  const script = (verb: 'add' | 'del') =>
    Array.from({ length: n }, (_, i) =>
      verb === 'add'
        ? `ip netns add skb-${tag}-${i} && ip link add skbv${tag}${i} type veth peer name eth0 netns skb-${tag}-${i} && ip netns exec skb-${tag}-${i} sh -c 'sleep 30 >/dev/null 2>&1 &'`
        : `ip link del skbv${tag}${i} 2>/dev/null; ip netns del skb-${tag}-${i} 2>/dev/null`,
    ).join('\n');
  const t0 = performance.now();
  const r = spawnSync('sh', ['-e'], { input: script('add'), stdio: ['pipe', 'ignore', 'pipe'] });
  const totalMs = performance.now() - t0;
  spawnSync('sh', [], { input: script('del') + '\ntrue', stdio: ['pipe', 'ignore', 'ignore'] });
  spawnSync('pkill', ['-f', '^sleep 30$']);
  if (r.status !== 0) throw new Error(`hand-made sandboxes failed: ${r.stderr}`);
  return { totalMs, perSandboxMs: totalMs / n };
}

export async function podStartSection(work: string): Promise<string> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'Not run: pod start on the process runtime needs root on Linux.';
  const dataDir = join(work, 'pod-start');
  const server = await startServer(dataDir, ['--runtime', 'process', '--pod-bridge', bridge, '--pod-cidr', podCIDR]);
  const c = clientFrom(server.kubeconfig, server.url);
  const rows: string[] = [];
  try {
    await pollUntil(async () => {
      const r = await call(c, 'GET', '/api/v1/nodes');
      return /"type":"Ready","status":"True"/.test(r.body) || undefined;
    }, 30_000);
    // Settled: the node registered and the first heartbeats are done.
    await new Promise((r) => setTimeout(r, 2000));
    const idleRss = rssOf(server.proc.pid!);

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let allReady: () => void = () => {};
    const done = new Promise<void>((r) => (allReady = r));
    const stopWatch = watchReady(c, (name, t) => {
      const s = sentAt.get(name);
      if (s === undefined) return;
      latencies.push(t - s);
      if (latencies.length === PODS) allReady();
    });
    await new Promise((r) => setTimeout(r, 200));
    const cpu0 = cpuMsOf(server.proc.pid!);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: PODS }, async (_, i) => {
        const name = `start-${i}`;
        sentAt.set(name, performance.now());
        const r = await call(c, 'POST', '/api/v1/namespaces/default/pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
        });
        if (r.code !== 201) throw new Error(`create ${name}: ${r.code} ${r.body}`);
      }),
    );
    const timedOut = await Promise.race([done.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 120_000))]);
    const wallMs = performance.now() - t0;
    const cpuMs = cpuMsOf(server.proc.pid!) - cpu0;
    stopWatch();
    const runningRss = rssOf(server.proc.pid!);
    latencies.sort((a, b) => a - b);
    const hand = handMadeSandboxes(PODS);

    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    rows.push(`| ${PODS} pods created at once: create → Ready, p50 | ${s(percentile(latencies, 50))} | ${timedOut ? `only ${latencies.length} Ready within 120 s` : ''} |`);
    rows.push(`| same, p99 | ${s(percentile(latencies, 99))} | aim < 1 s |`);
    rows.push(`| all ${PODS} Ready | ${s(wallMs)} | ${(PODS / (wallMs / 1000)).toFixed(1)} pods/s; server CPU ${(cpuMs / PODS).toFixed(1)} ms per pod (${((cpuMs / wallMs) * 100).toFixed(0)}% of a core) |`);
    rows.push(`| reference: ${PODS} sandboxes by hand (ip netns add + veth + a process inside), serially | ${s(hand.totalMs)} | ${hand.perSandboxMs.toFixed(1)} ms each; skiff/hand = ${(wallMs / hand.totalMs).toFixed(2)} |`);
    rows.push(`| server RSS (control plane + agent), node idle | ${(idleRss / 1048576).toFixed(1)} MB | |`);
    rows.push(`| server RSS with ${PODS} pods running | ${(runningRss / 1048576).toFixed(1)} MB | +${((runningRss - idleRss) / 1048576 / PODS).toFixed(2)} MB per pod |`);

    await call(c, 'DELETE', '/api/v1/namespaces/default/pods');
    await pollUntil(async () => {
      const r = await call(c, 'GET', '/api/v1/namespaces/default/pods');
      return (JSON.parse(r.body).items.length === 0) || undefined;
    }, 60_000);
  } finally {
    closeClient(c);
    await stopProcess(server.proc);
    await cleanupProcessNode({ stateDir: join(dataDir, 'kubelet'), podCIDR, bridge, removeBridge: true });
    spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  }
  return [
    `Run: ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}.`,
    '',
    '| measurement | result | notes |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}

