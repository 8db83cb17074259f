/**
 * @module Hollow nodes (kubemark/kwok's role): N node agents over the hollow runtime in
 * one process, cheap enough for thousands — one shared pod watch dispatched by
 * spec.nodeName, one shared Node watch, one heartbeat timer that spreads lease renewals
 * over the 10 s period, one write limiter. A node whose Node object carries the label
 * `skiff.dev/hollow-stop=true` stops heartbeating and working (a node that lost power);
 * removing the label brings it back.
 */
import { join } from 'node:path';
import type { KObject } from '../../api/types.js';
import { EventRecorder, InformerFactory, Resources, type Client, type Informer } from '../../client/index.js';
import { NodeAgent, leaseRenewIntervalMs } from '../agent.js';
import { InformerObjectSource } from '../env/index.js';
import { Limiter } from '../limiter.js';
import { defaultNodeLabels, type NodeFacts } from '../node-status.js';
import { HollowRuntime } from './runtime.js';
import { NodeStatsCollector, statsRoutes } from '../stats/index.js';
import { tryParseQuantity } from '../../api/quantity.js';
import { HollowStreamingRuntime, KubeletStreamingServer, kubeletAddressAnnotation, type KubeletTls, type StreamingPodResolver } from '../streaming/index.js';

export { HollowRuntime, normalizeImage, imageRef, hollowRunMsAnnotation, hollowExitCodeAnnotation } from './runtime.js';

/** Label that stops a hollow node's heartbeats and pod work while it is "true". */
export const hollowStopLabel = 'skiff.dev/hollow-stop';
export const hollowInstanceType = 'hollow';
export const hollowKubeletVersion = 'v1.32.0+skiff';

export interface HollowCapacity {
  cpu: string;
  memory: string;
  pods: string;
}

export interface HollowNodesOptions {
  client: Client;
  count: number;
  /** Default "hollow-node-": nodes are hollow-node-0 … hollow-node-(N-1). */
  namePrefix?: string;
  /** Default 4 CPU / 16Gi / 110 pods. */
  capacity?: HollowCapacity;
  /** How long a pod takes from bound to Running and Ready (default 500 ms). */
  podStartupMs?: number;
  signal: AbortSignal;
  now?: () => Date;
  log?: (msg: Record<string, unknown>) => void;
  /** Event recorder for component "kubelet" on a host; default: one EventRecorder per node. */
  recorder?: (component: string, host: string) => EventRecorder;
  /**
   * Share the controller manager's informer caches (pods, nodes) instead of opening
   * this component's own watches — saves one copy of every pod in a single process.
   */
  informers?: InformerFactory;
  /** Write a ContainerCreating status before Running (default true). */
  reportPendingStatus?: boolean;
  /** Pulled/Created/Started/Killing events (default true). */
  recordPodEvents?: boolean;
  /** Starting/NodeHasSufficient…/NodeReady events (default: only for 100 nodes or fewer). */
  recordNodeEvents?: boolean;
  /**
   * Lease renew period (default 10 s, kubelet's). Must stay well under the node
   * controller's grace period: with `--node-monitor-grace-period 3` use ≤ 750 ms.
   */
  heartbeatIntervalMs?: number;
  /** In-flight API writes across all hollow nodes (default 64). */
  maxInFlight?: number;
  /**
   * The server's data dir: hollow pods' configMap/secret/downwardAPI/projected/emptyDir
   * volumes are then written under <dataDir>/hollow-kubelet/pods/<uid>/volumes (kept apart
   * from a real node's <dataDir>/kubelet). Without it volumes are checked, not written.
   */
  dataDir?: string;
  /**
   * Serve logs/exec/attach/port-forward for every hollow node from one kubelet streaming
   * server on `host` (default 127.0.0.1); each Node then carries that address in the
   * `skiff.dev/kubelet-address` annotation and the port in its daemon endpoint.
   */
  streaming?: { tls: KubeletTls; host?: string; port?: number };
}

export interface HollowNodes {
  nodes: string[];
  /** The agents by node name (tests, metrics). */
  agents: Map<string, NodeAgent>;
  stop(): Promise<void>;
}

/**
 * The pod CIDR of hollow node i: 10.42.i.0/24 for the first 256, then further /16s
 * (10.44…, skipping the service range 10.43.0.0/16). Never contacted: nothing runs.
 */
export function hollowPodCIDR(i: number): string {
  const block = Math.floor(i / 256);
  const second = block === 0 ? 42 : 43 + block;
  if (second > 255) throw new RangeError(`hollow node index ${i} is beyond the hollow address plan`);
  return `10.${second}.${i % 256}.0/24`;
}

export function hollowNodeFacts(name: string, i: number, capacity: HollowCapacity): NodeFacts {
  const podCIDR = hollowPodCIDR(i);
  const base = podCIDR.split('/')[0].split('.').slice(0, 3).join('.');
  const id = `${(0x1000 + i).toString(16)}`.padStart(8, '0');
  return {
    name,
    capacity: {
      cpu: capacity.cpu,
      'ephemeral-storage': '100Gi',
      'hugepages-1Gi': '0',
      'hugepages-2Mi': '0',
      memory: capacity.memory,
      pods: capacity.pods,
    },
    internalIP: `${base}.1`,
    podCIDR,
    labels: { ...defaultNodeLabels(name), 'node.kubernetes.io/instance-type': hollowInstanceType },
    nodeInfo: {
      kubeletVersion: hollowKubeletVersion,
      containerRuntimeVersion: 'hollow://1.0',
      osImage: 'skiff hollow node',
      kernelVersion: 'hollow',
      operatingSystem: 'linux',
      architecture: 'amd64',
      machineID: `${id}${'0'.repeat(24)}`,
      systemUUID: `${id}-0000-4000-8000-000000000000`,
      bootID: `${id}-0000-4000-8000-${Date.now().toString(16).padStart(12, '0').slice(-12)}`,
    },
  };
}

/** A hollow node's machine as its simulated stats report it (its capacity). */
function hollowMachine(capacity: HollowCapacity): { cpuCores: number; memoryBytes: number } {
  return { cpuCores: tryParseQuantity(capacity.cpu)?.scaledValue(0) ?? 4, memoryBytes: tryParseQuantity(capacity.memory)?.scaledValue(0) ?? 16 * 1024 ** 3 };
}

/** At most this many buckets split the heartbeat period (one timer tick per bucket). */
const maxHeartbeatBuckets = 100;

export async function startHollowNodes(opts: HollowNodesOptions): Promise<HollowNodes> {
  const prefix = opts.namePrefix ?? 'hollow-node-';
  const capacity = opts.capacity ?? { cpu: '4', memory: '16Gi', pods: '110' };
  const podStartupMs = opts.podStartupMs ?? 500;
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  const limiter = new Limiter(opts.maxInFlight ?? 64);
  const heartbeatLimiter = new Limiter(32);
  const recordNodeEvents = opts.recordNodeEvents ?? opts.count <= 100;
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });

  const agents = new Map<string, NodeAgent>();
  // One reader of ConfigMaps, Secrets, services and claims for every hollow node.
  const objects = new InformerObjectSource({ client: opts.client, informers: opts.informers, log });
  const rootDir = opts.dataDir ? join(opts.dataDir, 'hollow-kubelet') : undefined;
  const runtimes: Array<{ close(): void }> = [];
  const order: NodeAgent[] = [];
  const streamingRuntimes = new Map<string, HollowStreamingRuntime>();
  // One pod lookup for the shared streaming server: the pod's node, then that node's worker.
  let podsForStreaming: Informer | undefined;
  const resolvePod: StreamingPodResolver = (namespace, name, uid) => {
    const nodeName = podsForStreaming?.getByName(namespace, name)?.spec?.nodeName;
    const candidates = nodeName ? [nodeName] : [...agents.keys()];
    for (const n of candidates) {
      const worker = agents.get(n)?.podWorker(namespace, name);
      const runtime = streamingRuntimes.get(n);
      if (worker && runtime && (!uid || worker.uid === uid)) return { pod: worker.pod, sandboxId: worker.sandboxId, runtime };
    }
    return undefined;
  };
  let streamingServer: KubeletStreamingServer | undefined;
  const statsCollectors = new Map<string, NodeStatsCollector>();
  if (opts.streaming) {
    // Stats of every hollow node from the one server: simulated usage, `?node=NAME` picks the node.
    const routes = [statsRoutes(() => statsCollectors, log)];
    streamingServer = new KubeletStreamingServer({ resolve: resolvePod, tls: opts.streaming.tls, host: opts.streaming.host ?? '127.0.0.1', port: opts.streaming.port ?? 0, log, routes });
    await streamingServer.listen();
  }
  for (let i = 0; i < opts.count; i++) {
    const name = `${prefix}${i}`;
    const facts = hollowNodeFacts(name, i, capacity);
    const hollow = new HollowRuntime({ podCIDR: facts.podCIDR!, podStartupMs, now: () => now().getTime() });
    let runtime: HollowRuntime | HollowStreamingRuntime = hollow;
    if (streamingServer) {
      const streaming = new HollowStreamingRuntime(hollow, { now: () => now().getTime() });
      streamingRuntimes.set(name, streaming);
      runtime = streaming;
      facts.kubeletPort = streamingServer.port;
      facts.annotations = { ...(facts.annotations ?? {}), [kubeletAddressAnnotation]: opts.streaming!.host ?? '127.0.0.1' };
    }
    const recorder = opts.recorder ? opts.recorder('kubelet', name) : new EventRecorder(opts.client, { component: 'kubelet', host: name, now, log });
    const agent = new NodeAgent({
      client: opts.client,
      runtime,
      facts,
      now,
      log,
      recorder,
      limiter,
      heartbeatLimiter,
      reportPendingStatus: opts.reportPendingStatus ?? true,
      recordPodEvents: opts.recordPodEvents ?? true,
      recordNodeEvents,
      objects,
      rootDir,
    });
    agents.set(name, agent);
    if (streamingServer) statsCollectors.set(name, new NodeStatsCollector({ nodeName: name, workers: () => agent.podWorkers(), runtime, mode: 'simulated', machine: hollowMachine(capacity), now: () => now().getTime() }));
    order.push(agent);
    runtimes.push(runtime);
  }

  await Promise.all(order.map((a) => a.register()));

  // One watch of every bound pod, dispatched to its node's agent.
  const ownInformers = opts.informers ? undefined : new InformerFactory(opts.client, log);
  const pods: Informer = opts.informers ? opts.informers.for(Resources.pods) : ownInformers!.for(Resources.pods, { fieldSelector: 'spec.nodeName!=' });
  podsForStreaming = pods;
  const agentOf = (pod: KObject) => (pod.spec?.nodeName ? agents.get(pod.spec.nodeName) : undefined);
  pods.addEventHandlers({
    add: (p) => agentOf(p)?.handlePod(p),
    update: (_o, p) => agentOf(p)?.handlePod(p),
    delete: (p) => agentOf(p)?.handlePodDeleted(p),
  });
  const nodes: Informer = opts.informers
    ? opts.informers.for(Resources.nodes)
    : ownInformers!.for(Resources.nodes, { labelSelector: `node.kubernetes.io/instance-type=${hollowInstanceType}` });
  const onNode = (node: KObject | undefined, name: string) => {
    const agent = agents.get(name);
    if (!agent) return;
    agent.handleNode(node);
    const stopped = node?.metadata?.labels?.[hollowStopLabel] === 'true';
    if (stopped && !agent.paused) {
      log({ level: 'info', msg: 'hollow node stopped by label', node: name });
      agent.pause();
    } else if (!stopped && node && agent.paused && !abort.signal.aborted) {
      log({ level: 'info', msg: 'hollow node resumed', node: name });
      void agent.resume().catch((err) => log({ level: 'warn', msg: 'hollow node resume failed', node: name, error: String(err) }));
    }
  };
  nodes.addEventHandlers({
    add: (n) => onNode(n, n.metadata?.name ?? ''),
    update: (_o, n) => onNode(n, n.metadata?.name ?? ''),
    delete: (n) => onNode(undefined, n.metadata?.name ?? ''),
  });
  ownInformers?.start(abort.signal);

  // One timer for every node: bucket b renews at tick b, so renewals spread evenly.
  const heartbeatBuckets = Math.min(maxHeartbeatBuckets, Math.max(1, order.length));
  const beating = new Set<NodeAgent>();
  let tick = 0;
  const timer = setInterval(() => {
    const bucket = tick++ % heartbeatBuckets;
    for (let i = bucket; i < order.length; i += heartbeatBuckets) {
      const agent = order[i];
      if (beating.has(agent) || agent.paused) continue;
      beating.add(agent);
      void (async () => {
        try {
          await agent.renewLease();
          await agent.syncNodeStatus();
        } catch (err) {
          log({ level: 'warn', msg: 'hollow heartbeat failed', node: agent.nodeName, error: String(err) });
        } finally {
          beating.delete(agent);
        }
      })();
    }
  }, Math.max(1, (opts.heartbeatIntervalMs ?? leaseRenewIntervalMs) / heartbeatBuckets));
  timer.unref?.();

  let stopped = false;
  return {
    nodes: order.map((a) => a.nodeName),
    agents,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      abort.abort();
      opts.signal.removeEventListener('abort', onAbort);
      for (const a of order) a.stop();
      for (const r of runtimes) r.close();
      objects.stop();
      await streamingServer?.close();
    },
  };
}
