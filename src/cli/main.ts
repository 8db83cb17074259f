#!/usr/bin/env node
/**
 * @module The `skiff` command: `server` starts the control plane (and, with later
 * issues, a local node); more verbs (`agent`, `helm`) join as they are built.
 */
import { Command, InvalidArgumentError } from 'commander';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { registerAgentCommand } from './agent.js';
import { startCluster, type ClusterOptions } from './cluster.js';
import { registerHelmCommand } from './helm.js';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
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
    runtime: { bridge: opts.podBridge },
    restartBackoff: { initialMs: opts.crashLoopBackoffInitialMs, maxMs: opts.crashLoopBackoffMaxMs },
  };
}

const program = new Command();
program.name('skiff').description('A Kubernetes-compatible container orchestrator').version('0.1.0');

program
  .command('server')
  .description('start the control plane on this machine')
  .option('--data-dir <dir>', 'where the store, certificates and kubeconfig live', join(homedir(), '.skiff'))
  .option('--port <port>', 'HTTPS port of the API server (0 picks a free one)', parsePort, 6443)
  .option('--bind-address <addr>', 'address to listen on', '127.0.0.1')
  .option('--runtime <runtime>', 'container runtime of the local node: auto (process when root on Linux without --hollow-nodes), process, or hollow (no local node)', 'auto')
  .option('--node-name <name>', 'name of the local node (default: the host name)')
  .option('--pod-cidr <cidr>', "the local node's pod CIDR", '10.42.0.0/24')
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
  .action(async (opts: ServerFlags) => {
    const started = Date.now();
    const cluster = await startCluster({
      dataDir: resolve(opts.dataDir),
      port: opts.port,
      host: opts.bindAddress,
      scheduler: opts.scheduler,
      controllers: opts.controllers.split(',').map((c) => c.trim()).filter(Boolean),
      controllerOptions: { nodeMonitorGracePeriodSeconds: opts.nodeMonitorGracePeriod },
      eventTtlSeconds: opts.eventTtl,
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

registerAgentCommand(program);
registerHelmCommand(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`skiff: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
