/**
 * @module Service proxy benchmark (issue 5): HTTP requests/s and p99 latency through a
 * ClusterIP (the kernel nftables path) versus straight to the pod IP in the same run, and
 * through the userspace path (what serves loopback node addresses) for contrast; then how
 * long an EndpointSlice change takes to reach the kernel's rules (API write → nft
 * transaction committed) with kube's 1 s min-sync-period, and full versus partial sync
 * cost with many Services. A pod-like network namespace on its own bridge runs the
 * server; an in-process API server feeds the proxy. Needs root, Linux and nft.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../src/api/types.js';
import { LoopbackClient } from '../src/apiserver/loopback.js';
import { startServer } from '../src/apiserver/server.js';
import { InformerFactory, Resources } from '../src/client/index.js';
import { nftUsable } from '../src/network/proxy/host.js';
import { startServiceProxy, type SyncInfo } from '../src/network/proxy/index.js';
import { UserspaceProxy } from '../src/network/proxy/userspace.js';
import { machineDescription, measure, percentile } from './util.js';

const REQUESTS = Number(process.env.BENCH_PROXY_REQUESTS ?? 10_000);
const CONCURRENCY = 16;
const ROUNDS = 6;
const CHANGES = 10;
const MANY_SERVICES = 500;
const bridge = 'skbenchp0';
const octet = 252;
const gateway = `10.42.${octet}.1`;
const pods = [0, 1].map((i) => ({ netns: `skbench-p${i}`, veth: `skbenchp${i}v`, ip: `10.42.${octet}.${i + 2}` }));
const table = 'skiff_bench_proxy';
const clusterIP = `10.43.${octet}.20`;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const quiet = (fn: () => unknown) => {
  try {
    fn();
  } catch {
    /* already gone */
  }
};

function cleanup(): void {
  for (const p of pods) quiet(() => sh('ip', ['netns', 'del', p.netns]));
  for (const p of pods) quiet(() => sh('ip', ['link', 'del', p.veth]));
  quiet(() => sh('ip', ['link', 'del', bridge]));
  quiet(() => sh('nft', ['delete', 'table', 'ip', table]));
}

function get(agent: Agent, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

async function load(host: string, port: number): Promise<{ rate: number; p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    await measure(500, () => get(agent, host, port), CONCURRENCY);
    const r = await measure(REQUESTS, () => get(agent, host, port), CONCURRENCY);
    return { rate: r.rate, p50: percentile(r.lat, 50), p99: percentile(r.lat, 99) };
  } finally {
    agent.destroy();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(2);

export async function serviceProxySection(work: string): Promise<string> {
  if (process.getuid?.() !== 0 || process.platform !== 'linux') return '_Skipped: needs root on Linux._';
  const nftErr = await nftUsable();
  if (nftErr) return `_Skipped: nft not usable (${nftErr})._`;
  cleanup();
  const servers: ChildProcess[] = [];
  const abort = new AbortController();
  const dir = mkdtempSync(join(work, 'proxy-'));
  const api = await startServer({ dataDir: dir, port: 0, log: () => {} });
  const syncs: Array<SyncInfo & { at: number }> = [];
  let proxy: Awaited<ReturnType<typeof startServiceProxy>> | undefined;
  const userspace = new UserspaceProxy(() => {});
  try {
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
    for (const p of pods) {
      sh('ip', ['netns', 'add', p.netns]);
      sh('ip', ['link', 'add', p.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.netns]);
      sh('ip', ['link', 'set', p.veth, 'master', bridge, 'up']);
      for (const args of [['link', 'set', 'lo', 'up'], ['addr', 'add', `${p.ip}/24`, 'dev', 'eth0'], ['link', 'set', 'eth0', 'up'], ['route', 'add', 'default', 'via', gateway]]) sh('ip', ['-n', p.netns, ...args]);
    }
    // One server, in the first pod: both paths end at the same process.
    const code = "require('http').createServer((q,s)=>s.end('ok')).listen(8000,'0.0.0.0')";
    servers.push(spawn('ip', ['netns', 'exec', pods[0].netns, process.execPath, '-e', code], { stdio: 'ignore' }));
    for (let i = 0; i < 100; i++) {
      try {
        await get(new Agent(), pods[0].ip, 8000);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    const client = new LoopbackClient(api.rest, 'kube-proxy');
    const informers = new InformerFactory(client);
    proxy = await startServiceProxy({
      client,
      informers,
      nodeName: 'bench-node',
      podCIDR: `10.42.${octet}.0/24`,
      nodeIP: gateway,
      bridge,
      clusterCIDR: '10.42.0.0/16',
      serviceCIDR: '10.43.0.0/16',
      clusterDNS: '10.43.0.10',
      clusterDomain: 'cluster.local',
      privileged: true,
      signal: abort.signal,
      log: () => {},
      table,
      // No periodic full resync in the middle of the measurements (kube's default is 30 s).
      syncPeriodMs: 600_000,
      onSync: (info) => syncs.push({ ...info, at: performance.now() }),
    });
    informers.start(abort.signal);
    const slice = (name: string, svc: string, ips: string[]): KObject => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, labels: { 'kubernetes.io/service-name': svc } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8000, protocol: 'TCP' }],
      endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    });
    await client.create(Resources.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'http', port: 80, targetPort: 8000 }] } });
    await client.create(Resources.endpointslices, 'default', slice('web-1', 'web', [pods[0].ip]));
    await proxy.idle();
    for (let i = 0; i < 100 && !sh('nft', ['list', 'table', 'ip', table]).includes(clusterIP); i++) await new Promise((r) => setTimeout(r, 50));

    // Userspace path: a loopback frontend to the same pod.
    await userspace.update([{ protocol: 'tcp', ip: '127.0.0.1', port: 38080, servicePort: 'default/web:http', backends: [{ ip: pods[0].ip, port: 8000 }] }]);

    // Interleaved rounds so every path sees the same machine load; medians over rounds, and each
    // path's ratio to direct is the median of per-round ratios (robust to bursts from other jobs).
    type Run = { rate: number; p50: number; p99: number };
    const runs: Record<'direct' | 'cluster' | 'userspace', Run[]> = { direct: [], cluster: [], userspace: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [k, host, port] of [['direct', pods[0].ip, 8000], ['cluster', clusterIP, 80], ['userspace', '127.0.0.1', 38080]] as const) runs[k].push(await load(host, port));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const summary = (k: keyof typeof runs) => ({
      rate: median(runs[k].map((r) => r.rate)),
      p50: median(runs[k].map((r) => r.p50)),
      p99: median(runs[k].map((r) => r.p99)),
      ratio: median(runs[k].map((r, i) => r.rate / runs.direct[i].rate)),
    });
    const paths = { direct: summary('direct'), cluster: summary('cluster'), userspace: summary('userspace') };

    // Endpoint change → rules committed: flip the slice between one and two endpoints, 1.1 s apart (past the min-sync-period).
    const latencies: number[] = [];
    const partial: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      await new Promise((r) => setTimeout(r, 1100));
      const cur = await client.get(Resources.endpointslices, 'default', 'web-1');
      const ips = i % 2 === 0 ? [pods[0].ip, pods[1].ip] : [pods[0].ip];
      const before = syncs.length;
      const t0 = performance.now();
      await client.update(Resources.endpointslices, 'default', { ...slice('web-1', 'web', ips), metadata: cur.metadata });
      for (let j = 0; j < 2000 && !syncs.slice(before).some((s) => s.chains > 0); j++) await new Promise((r) => setTimeout(r, 2));
      const done = syncs.slice(before).find((s) => s.chains > 0);
      if (done) {
        latencies.push(done.at - t0);
        partial.push(done.durationMs);
      }
    }
    latencies.sort((a, b) => a - b);
    partial.sort((a, b) => a - b);

    // Many Services: one full resync of the table, then one changed endpoint.
    for (let i = 0; i < MANY_SERVICES; i++) {
      const ip = `10.43.${200 + Math.floor(i / 250)}.${(i % 250) + 2}`;
      await client.create(Resources.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}` }, spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, targetPort: 8000 }] } });
      await client.create(Resources.endpointslices, 'default', slice(`s${i}-1`, `s${i}`, [pods[0].ip, pods[1].ip]));
    }
    // Until the rules hold every Service and its endpoints (the watch may lag behind the writes).
    const fullTable = () => {
      const last = syncs[syncs.length - 1];
      if (last?.servicePorts !== MANY_SERVICES + 1) return false;
      const endpointChains = sh('nft', ['list', 'chains', 'ip', table]).split('\n').filter((x) => x.includes('chain endpoint-')).length;
      return endpointChains === 2 * MANY_SERVICES + 1;
    };
    for (let j = 0; j < 600 && !fullTable(); j++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1100));
    await proxy.idle();
    const fullBefore = syncs.length;
    proxy.resync();
    for (let j = 0; j < 5000 && !syncs.slice(fullBefore).some((s) => s.full); j++) await new Promise((r) => setTimeout(r, 2));
    const fullMs = syncs.slice(fullBefore).find((s) => s.full)?.durationMs ?? NaN;
    const rulesCount = sh('nft', ['list', 'table', 'ip', table]).split('\n').length;
    await new Promise((r) => setTimeout(r, 1100));
    const one = await client.get(Resources.endpointslices, 'default', 's7-1');
    const beforeOne = syncs.length;
    await client.update(Resources.endpointslices, 'default', { ...slice('s7-1', 's7', [pods[0].ip]), metadata: one.metadata });
    for (let j = 0; j < 2000 && !syncs.slice(beforeOne).some((s) => s.chains > 0 && !s.full); j++) await new Promise((r) => setTimeout(r, 2));
    const onePartial = syncs.slice(beforeOne).find((s) => s.chains > 0 && !s.full);

    const ratio = paths.cluster.ratio;
    const lines = [
      `Machine: ${machineDescription()}, load average ${loadavg()[0].toFixed(1)} at the end of the run. One HTTP server (Node, in a pod network namespace on a test bridge); the client on the host, ${CONCURRENCY} keep-alive connections, ${fmt(REQUESTS)} requests per run, ${ROUNDS} interleaved rounds; medians over rounds, "vs direct" the median of per-round ratios.`,
      '',
      '| path | requests/s | p50 ms | p99 ms | vs direct |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| straight to the pod IP (reference) | ${fmt(paths.direct.rate)} | ${ms(paths.direct.p50)} | ${ms(paths.direct.p99)} | 1.00 |`,
      `| ClusterIP, kernel nftables path | ${fmt(paths.cluster.rate)} | ${ms(paths.cluster.p50)} | ${ms(paths.cluster.p99)} | ${ratio.toFixed(2)} |`,
      `| loopback frontend, userspace path | ${fmt(paths.userspace.rate)} | ${ms(paths.userspace.p50)} | ${ms(paths.userspace.p99)} | ${paths.userspace.ratio.toFixed(2)} |`,
      '',
      '| rules update | value |',
      '| --- | ---: |',
      `| EndpointSlice write → nft transaction committed, p50 / max of ${latencies.length} changes (min-sync-period 1 s, changes 1.1 s apart) | ${ms(percentile(latencies, 50))} / ${ms(latencies[latencies.length - 1] ?? 0)} ms |`,
      `| partial sync (one Service's chains), p50 | ${ms(percentile(partial, 50))} ms |`,
      `| full resync with ${MANY_SERVICES + 1} Services × 2 endpoints (${fmt(rulesCount)} lines in \`nft list table\`) | ${ms(fullMs)} ms |`,
      `| partial sync with ${MANY_SERVICES + 1} Services, one endpoint removed | ${onePartial ? ms(onePartial.durationMs) : 'n/a'} ms (${onePartial?.chains ?? 0} chains rewritten) |`,
      '',
      `The ClusterIP path costs one DNAT lookup per new connection; with keep-alive the rest of a connection's packets follow conntrack, so it runs at ${ratio.toFixed(2)} of direct (aim: ≥ 0.9). The userspace path copies every byte through Node and serves only loopback node addresses, where the kernel cannot NAT to pods.`,
    ];
    return lines.join('\n');
  } finally {
    abort.abort();
    await userspace.stop();
    await proxy?.stop().catch(() => undefined);
    for (const s of servers) s.kill('SIGKILL');
    await api.close();
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
