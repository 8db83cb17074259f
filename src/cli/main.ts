#!/usr/bin/env node
/**
 * @module The `skiff` command: `server` starts the control plane and a local node,
 * `agent` joins another node, `helm` is the chart tool.
 */
import { Command, InvalidArgumentError } from 'commander';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ClusterOptions } from './cluster.js';
import { defaultClusterDNS, ipv4InCIDR, parseNodePortRange } from '../api/kinds/service.js';
import { parseIP } from '../api/kinds/netmisc-util.js';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

/** A Go duration ("15s", "1m30s", "500ms") or plain seconds, as kube's duration flags take them. */
function parseDurationSeconds(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    end = re.lastIndex;
  }
  if (end !== v.length || v === '') throw new InvalidArgumentError(`must be a duration like 15s or 5m0s, not "${v}"`);
  return total;
}

function parseRatio(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a non-negative number');
  return n;
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}

interface ServerFlags {
  dataDir: string;
  runtime: string;
  nodeName?: string;
  podCidr: string;
  podBridge: string;
  crashLoopBackoffInitialMs?: number;
  crashLoopBackoffMaxMs?: number;
  port: number;
  bindAddress: string;
  hollowNodes: number;
  hollowNodeCpu: string;
  hollowNodeMemory: string;
  hollowNodePods: string;
  hollowPodStartupMs: number;
  nodeMonitorGracePeriod: number;
  controllers: string;
  scheduler: boolean;
  eventTtl: number;
  ingress: boolean;
  ingressHttpPort: number;
  ingressHttpsPort: number;
  metricResolution: number;
  horizontalPodAutoscalerSyncPeriod: number;
  horizontalPodAutoscalerDownscaleStabilization: number;
  horizontalPodAutoscalerTolerance: number;
  horizontalPodAutoscalerCpuInitializationPeriod: number;
  horizontalPodAutoscalerInitialReadinessDelay: number;
  serviceCidr: string;
  clusterDns?: string;
  clusterDomain: string;
  serviceNodePortRange?: { base: number; size: number };
  nodeIp: string;
  tlsSan: string[];
  clusterCidr: string;
  nodeCidrMaskSize: number;
}

/** Repeatable, comma-separated list flags (k3s's --tls-san a,b --tls-san c). */
function collectList(v: string, previous: string[] = []): string[] {
  return [...previous, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

/**
 * `--runtime`: process runs this machine as a node; auto does so when it can isolate pods
 * (root on Linux) and no hollow nodes were asked for (a simulated cluster stays simulated).
 */
function localNodeFor(opts: ServerFlags): ClusterOptions['localNode'] {
  const runtime = opts.runtime;
  if (!['auto', 'process', 'hollow'].includes(runtime)) throw new InvalidArgumentError(`--runtime must be auto, process or hollow, not "${runtime}"`);
  const canIsolate = process.platform === 'linux' && process.getuid?.() === 0;
  if (runtime === 'hollow' || (runtime === 'auto' && (!canIsolate || opts.hollowNodes > 0))) return undefined;
  return {
    nodeName: opts.nodeName,
    podCIDR: opts.podCidr,
    internalIP: opts.nodeIp,
    runtime: { bridge: opts.podBridge },
    restartBackoff: { initialMs: opts.crashLoopBackoffInitialMs, maxMs: opts.crashLoopBackoffMaxMs },
  };
}

function parseServiceCIDR(v: string): string {
  if (!defaultClusterDNS(v)) throw new InvalidArgumentError('must be an IPv4 CIDR of at least 16 addresses, e.g. 10.43.0.0/16');
  return v;
}

function parseIPv4(v: string): string {
  if (!parseIP(v)?.is4) throw new InvalidArgumentError('must be an IPv4 address');
  return v;
}

function parsePortRange(v: string): { base: number; size: number } {
  const r = parseNodePortRange(v);
  if (!r) throw new InvalidArgumentError('must be a port range like 30000-32767');
  return r;
}

const program = new Command();
program.name('skiff').description('A Kubernetes-compatible container orchestrator').version('0.1.0');
// Program options only before the verb, so `skiff helm package --version X` reaches the verb.
program.enablePositionalOptions();

program
  .command('server')
  .description('start the control plane on this machine')
  .option('--data-dir <dir>', 'where the store, certificates and kubeconfig live', join(homedir(), '.skiff'))
  .option('--port <port>', 'HTTPS port of the API server (0 picks a free one)', parsePort, 6443)
  .option('--bind-address <addr>', 'address to listen on', '127.0.0.1')
  .option('--runtime <runtime>', 'container runtime of the local node: auto (process when root on Linux without --hollow-nodes), process, or hollow (no local node)', 'auto')
  .option('--node-name <name>', 'name of the local node (default: the host name)')
  .option('--pod-cidr <cidr>', "the local node's pod CIDR", '10.42.0.0/24')
  .option('--node-ip <ip>', "the local node's InternalIP (other nodes and the API server reach its kubelet and pods there)", '127.0.0.1')
  .option('--tls-san <names>', 'extra host names or IPs of the API server certificate (repeatable, comma separated)', collectList, [])
  .option('--cluster-cidr <cidr>', 'the pod network of the whole cluster; node IPAM gives each node a block of it', '10.42.0.0/16')
  .option('--node-cidr-mask-size <bits>', 'prefix length of each node\'s pod CIDR', parseCount, 24)
  .option('--pod-bridge <name>', "the Linux bridge the local node's pods are plugged into", 'skiff0')
  .option('--crash-loop-backoff-initial-ms <ms>', 'first CrashLoopBackOff delay of the local node (kubelet: 10000)', parseCount)
  .option('--crash-loop-backoff-max-ms <ms>', 'longest CrashLoopBackOff delay of the local node (kubelet: 300000)', parseCount)
  .option('--hollow-nodes <n>', 'simulated nodes that run pods as timers (kwok-style)', parseCount, 0)
  .option('--hollow-node-cpu <quantity>', 'CPU capacity of each hollow node', '4')
  .option('--hollow-node-memory <quantity>', 'memory capacity of each hollow node', '16Gi')
  .option('--hollow-node-pods <n>', 'pod capacity of each hollow node', '110')
  .option('--hollow-pod-startup-ms <ms>', 'time from binding to Running and Ready on hollow nodes', parseCount, 500)
  .option('--node-monitor-grace-period <seconds>', 'how long a node may miss heartbeats before it is NotReady', parseCount, 40)
  .option('--controllers <names>', "controllers to run, comma separated ('*' = all, '' = none)", '*')
  .option('--no-scheduler', 'do not run the scheduler')
  .option('--event-ttl <seconds>', 'how long events are kept', parseCount, 3600)
  .option('--no-ingress', 'do not run the ingress controller (k3s: --disable traefik)')
  .option('--ingress-http-port <port>', "the ingress controller's HTTP port on the node address (0 picks a free one)", parsePort, 80)
  .option('--ingress-https-port <port>', "the ingress controller's HTTPS port on the node address (0 picks a free one)", parsePort, 443)
  .option('--metric-resolution <duration>', 'how often metrics.k8s.io scrapes the kubelets (metrics-server: 15s; 0 turns it off)', parseDurationSeconds, 15)
  .option('--horizontal-pod-autoscaler-sync-period <duration>', 'how often HPAs are synced', parseDurationSeconds, 15)
  .option('--horizontal-pod-autoscaler-downscale-stabilization <duration>', 'default scale-down stabilization window of HPAs', parseDurationSeconds, 300)
  .option('--horizontal-pod-autoscaler-tolerance <ratio>', 'usage/target ratio change below which HPAs do not scale', parseRatio, 0.1)
  .option('--horizontal-pod-autoscaler-cpu-initialization-period <duration>', 'after a pod starts, how long its CPU samples may be skipped', parseDurationSeconds, 300)
  .option('--horizontal-pod-autoscaler-initial-readiness-delay <duration>', 'after a pod starts, how long readiness changes count as its first readiness', parseDurationSeconds, 30)
  .option('--service-cidr <cidr>', 'the range ClusterIPs are allocated from', parseServiceCIDR, '10.43.0.0/16')
  .option('--cluster-dns <ip>', "the cluster DNS address in pods' resolv.conf and of the kube-dns Service (default: the service CIDR's 10th address)", parseIPv4)
  .option('--cluster-domain <domain>', 'the cluster DNS domain', 'cluster.local')
  .option('--service-node-port-range <range>', 'the range NodePorts are allocated from (default: "30000-32767")', parsePortRange)
  .action(async (opts: ServerFlags) => {
    const started = Date.now();
    // The kube-dns Service takes the cluster DNS address from the service CIDR.
    if (opts.clusterDns && !ipv4InCIDR(opts.clusterDns, opts.serviceCidr))
      throw new InvalidArgumentError(`--cluster-dns ${opts.clusterDns} is not inside --service-cidr ${opts.serviceCidr}`);
    const cluster = await (await import('./cluster.js')).startCluster({
      dataDir: resolve(opts.dataDir),
      port: opts.port,
      host: opts.bindAddress,
      scheduler: opts.scheduler,
      controllers: opts.controllers.split(',').map((c) => c.trim()).filter(Boolean),
      controllerOptions: {
        horizontalPodAutoscalerSyncPeriodSeconds: opts.horizontalPodAutoscalerSyncPeriod,
        horizontalPodAutoscalerDownscaleStabilizationSeconds: opts.horizontalPodAutoscalerDownscaleStabilization,
        horizontalPodAutoscalerTolerance: opts.horizontalPodAutoscalerTolerance,
        horizontalPodAutoscalerCpuInitializationPeriodSeconds: opts.horizontalPodAutoscalerCpuInitializationPeriod,
        horizontalPodAutoscalerInitialReadinessDelaySeconds: opts.horizontalPodAutoscalerInitialReadinessDelay,
        nodeMonitorGracePeriodSeconds: opts.nodeMonitorGracePeriod, clusterCIDR: opts.clusterCidr, nodeCIDRMaskSize: opts.nodeCidrMaskSize },
      tlsSans: [...opts.tlsSan, ...(opts.nodeIp !== '127.0.0.1' ? [opts.nodeIp] : [])],
      network: {
        clusterCIDR: opts.clusterCidr,
        serviceCIDR: opts.serviceCidr,
        clusterDNS: opts.clusterDns ?? defaultClusterDNS(opts.serviceCidr),
        clusterDomain: opts.clusterDomain,
      },
      nodePortRange: opts.serviceNodePortRange,
      eventTtlSeconds: opts.eventTtl,
      ingress: opts.ingress,
      ingressPorts: { http: opts.ingressHttpPort, https: opts.ingressHttpsPort },
      metricResolutionMs: Math.round(opts.metricResolution * 1000),
      localNode: localNodeFor(opts),
      hollowNodes: {
        count: opts.hollowNodes,
        capacity: { cpu: opts.hollowNodeCpu, memory: opts.hollowNodeMemory, pods: opts.hollowNodePods },
        podStartupMs: opts.hollowPodStartupMs,
      },
    });
    const server = cluster.server;
    process.stdout.write(`skiff server ready at ${server.url} in ${Date.now() - started} ms\n`);
    process.stdout.write(`kubeconfig: ${server.kubeconfigPath}\n`);
    process.stdout.write(`try: KUBECONFIG=${server.kubeconfigPath} kubectl get namespaces\n`);
    const stop = async () => {
      await cluster.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

// A verb's modules load only when it runs: `skiff helm` starts without the API server's code, `skiff server` without Helm's.
const verb = process.argv.slice(2).find((a) => !a.startsWith('-'));
const all = verb === undefined || verb === 'help';
if (all || verb === 'agent') (await import('./agent.js')).registerAgentCommand(program);
if (all || verb === 'helm') (await import('./helm.js')).registerHelmCommand(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`skiff: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
