/**
 * @module `skiff agent --server URL --token TOKEN`: joins this machine to a cluster as a node
 * (k3s agent). It obtains the node's certificates with the join token, registers its Node
 * over HTTPS, waits for the node IPAM controller to give it a pod CIDR, then runs the
 * kubelet (process runtime, streaming server for logs/exec) and the node network (routes to
 * other nodes, cluster DNS, service proxy) until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { networkInterfaces, homedir } from 'node:os';
import { isIPv4 } from 'node:net';
import { join, resolve } from 'node:path';
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import { jsonLogger } from '../apiserver/server.js';
import { InformerFactory, Resources } from '../client/index.js';
import { ConnectionError, HttpClient } from '../client/http.js';
import { defaultNodeName, localKubeletVersion, localNodeFacts, startLocalNode } from '../kubelet/local-node.js';
import { initialNode } from '../kubelet/node-status.js';
import { startNodeNetwork } from '../network/index.js';
import { ensureAgentCredentials, JoinError, ServerUnreachableError, type AgentCredentials } from './agent-join.js';
import { defaultNetwork } from './cluster.js';

interface AgentFlags {
  server: string;
  token: string;
  nodeName?: string;
  nodeIp?: string;
  dataDir: string;
  runtime: string;
  podBridge: string;
  clusterCidr: string;
  serviceCidr: string;
  clusterDns?: string;
  clusterDomain: string;
  nodeStatusUpdateFrequency: number;
  crashLoopBackoffInitialMs?: number;
  crashLoopBackoffMaxMs?: number;
}

/** Human progress on stdout; the components log JSON on stderr. */
const say = (line: string) => process.stdout.write(`skiff agent: ${line}\n`);

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}

/** k3s's default node IP: the first non-loopback IPv4 address of the host. */
function defaultNodeIP(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
  });

/** Retries what fails only because the server is not reachable (yet), saying so each time. */
async function withRetry<T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  let delay = 1000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const transient = err instanceof ServerUnreachableError || err instanceof ConnectionError || (err instanceof ApiError && err.code >= 500);
      if (!transient || signal.aborted) throw err;
      process.stderr.write(`skiff agent: ${what}: ${(err as Error).message}; retrying in ${delay / 1000} s\n`);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/**
 * Registers the Node before the kubelet can run pods (it has no pod CIDR yet): Ready=False,
 * as kubelet reports while the network plugin is not initialized.
 */
async function preRegister(client: HttpClient, facts: ReturnType<typeof localNodeFacts>): Promise<KObject> {
  try {
    return await client.get(Resources.nodes, undefined, facts.name);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  const now = new Date();
  const node = initialNode(facts, now);
  const ts = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions: KObject[] = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
  node.status.conditions = conditions.map((c) =>
    c.type === 'Ready'
      ? { ...c, status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: no pod CIDR assigned yet', lastHeartbeatTime: ts, lastTransitionTime: ts }
      : c,
  );
  try {
    return await client.create(Resources.nodes, undefined, node, { fieldManager: 'kubelet' });
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'AlreadyExists') return client.get(Resources.nodes, undefined, facts.name);
    throw err;
  }
}

/** Waits until the node IPAM controller has written spec.podCIDR. */
async function waitForPodCIDR(client: HttpClient, nodeName: string, signal: AbortSignal): Promise<string> {
  const started = Date.now();
  let told = 0;
  for (;;) {
    const node = await withRetry('reading the Node', signal, () => client.get(Resources.nodes, undefined, nodeName));
    const cidr = node.spec?.podCIDR;
    if (typeof cidr === 'string' && cidr) return cidr;
    if (signal.aborted) throw new Error('stopped before a pod CIDR was assigned');
    if (Date.now() - started > (told + 1) * 10_000) {
      told++;
      say(`waiting for the node IPAM controller to assign a pod CIDR to node ${nodeName} (is the nodeipam controller running on the server?)`);
    }
    await sleep(250, signal);
  }
}

async function runAgent(opts: AgentFlags): Promise<void> {
  if (!['auto', 'process'].includes(opts.runtime)) throw new InvalidArgumentError(`--runtime must be process or auto, not "${opts.runtime}"`);
  let server: URL;
  try {
    server = new URL(opts.server);
  } catch {
    throw new InvalidArgumentError(`--server must be a URL like https://10.0.0.1:6443, not "${opts.server}"`);
  }
  if (server.protocol !== 'https:') throw new InvalidArgumentError(`--server must be an https:// URL, not "${opts.server}"`);
  const nodeName = opts.nodeName ?? defaultNodeName();
  const nodeIP = opts.nodeIp ?? defaultNodeIP();
  if (!isIPv4(nodeIP)) throw new InvalidArgumentError(`--node-ip must be an IPv4 address, not "${nodeIP}"`);
  const dataDir = resolve(opts.dataDir);
  // The agent's state lives apart from a server's on the same machine (k3s: agent/).
  const agentDir = join(dataDir, 'agent');
  const abort = new AbortController();
  const stops: Array<() => Promise<void>> = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    for (const s of stops.reverse()) await s().catch(() => {});
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  const creds: AgentCredentials = await withRetry('joining', abort.signal, () =>
    ensureAgentCredentials({ server: server.origin, token: opts.token, nodeName, nodeIP, dir: join(agentDir, 'tls'), passwordFile: join(agentDir, 'node-password') }),
  );
  say(`${creds.reused ? 'reusing the certificates in' : 'obtained node certificates, stored in'} ${join(agentDir, 'tls')} (system:node:${nodeName})`);
  const userAgent = `kubelet/${localKubeletVersion} (linux/${process.arch === 'x64' ? 'amd64' : process.arch}) skiff-agent`;
  const client = new HttpClient({ server: server.origin, ca: creds.caCertPem, cert: creds.clientCertPem, key: creds.clientKeyPem, userAgent, fieldManager: 'kubelet' });
  stops.push(async () => client.close());

  const facts = localNodeFacts({ nodeName, dataDir: agentDir, podCIDR: '', internalIP: nodeIP });
  delete facts.podCIDR;
  await withRetry('registering the Node', abort.signal, () => preRegister(client, facts));
  const podCIDR = await waitForPodCIDR(client, nodeName, abort.signal);
  say(`node ${nodeName} registered with pod CIDR ${podCIDR}, InternalIP ${nodeIP}`);
  // Pods' nameserver is the cluster's kube-dns address, as the server chose it (k3s agents take it from the server).
  const kubeDnsIP = async (): Promise<string> => {
    const ip: unknown = (await client.get(Resources.services, 'kube-system', 'kube-dns').catch(() => undefined))?.spec?.clusterIP;
    return typeof ip === 'string' && isIPv4(ip) ? ip : defaultNetwork.clusterDNS;
  };
  const clusterDns: string = opts.clusterDns ?? (await kubeDnsIP());

  const log = jsonLogger('kubelet');
  const heartbeatIntervalMs = opts.nodeStatusUpdateFrequency * 1000;
  const node = await startLocalNode({
    client,
    dataDir: agentDir,
    nodeName,
    podCIDR,
    internalIP: nodeIP,
    signal: abort.signal,
    log,
    heartbeatIntervalMs,
    restartBackoff: { initialMs: opts.crashLoopBackoffInitialMs, maxMs: opts.crashLoopBackoffMaxMs },
    runtime: { bridge: opts.podBridge, clusterDNS: [clusterDns], clusterDomain: opts.clusterDomain },
    // The API server reaches this kubelet on the node's address for logs, exec, attach and port-forward.
    streaming: { tls: { certPem: creds.servingCertPem, keyPem: creds.servingKeyPem, clientCaPem: creds.caCertPem } },
  });
  stops.push(() => node.stop());

  const informers = new InformerFactory(client, jsonLogger('informers'));
  const network = await startNodeNetwork({
    client,
    informers,
    nodeName,
    podCIDR,
    nodeIP,
    bridge: node.runtime.bridge,
    clusterCIDR: opts.clusterCidr,
    serviceCIDR: opts.serviceCidr,
    clusterDNS: clusterDns,
    clusterDomain: opts.clusterDomain,
    // Routes, nftables and addresses need what pod sandboxes need: root on Linux with iproute2.
    privileged: node.runtime.capabilities().network === 'pod',
    signal: abort.signal,
    log: jsonLogger('network'),
  });
  informers.start(abort.signal);
  stops.push(() => network.stop());
  say(`node ${nodeName} is running pods; joined ${server.origin}`);
}

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('join this machine to a cluster as a node')
    .requiredOption('--server <url>', 'the API server URL, e.g. https://10.0.0.1:6443')
    .requiredOption('--token <token>', 'the join token (<data-dir>/token on the server)')
    .option('--node-name <name>', 'name of this node (default: the host name)')
    .option('--node-ip <ip>', "this node's InternalIP, where the API server and other nodes reach it (default: the host's first IPv4 address)")
    .option('--data-dir <dir>', 'where certificates and pod state live (under <dir>/agent)', join(homedir(), '.skiff'))
    .option('--runtime <runtime>', 'container runtime: process (or auto, the same)', 'auto')
    .option('--pod-bridge <name>', "the Linux bridge this node's pods are plugged into", 'skiff0')
    .option('--cluster-cidr <cidr>', 'the pod network of the whole cluster (as on the server)', defaultNetwork.clusterCIDR)
    .option('--service-cidr <cidr>', 'the Service ClusterIP range (as on the server)', defaultNetwork.serviceCIDR)
    .option('--cluster-dns <ip>', "the cluster DNS address written into pods (default: the kube-dns Service's ClusterIP)")
    .option('--cluster-domain <domain>', 'the cluster domain', defaultNetwork.clusterDomain)
    .option('--node-status-update-frequency <seconds>', 'how often the node heartbeats (kubelet: 10)', parseSeconds, 10)
    .option('--crash-loop-backoff-initial-ms <ms>', 'first CrashLoopBackOff delay (kubelet: 10000)', parseCount)
    .option('--crash-loop-backoff-max-ms <ms>', 'longest CrashLoopBackOff delay (kubelet: 300000)', parseCount)
    .action(async (opts: AgentFlags) => {
      try {
        await runAgent(opts);
      } catch (err) {
        if (err instanceof JoinError || err instanceof InvalidArgumentError) {
          process.stderr.write(`skiff agent: ${err.message}\n`);
          process.exit(1);
        }
        throw err;
      }
    });
}
