/**
 * @module The node this machine is: a NodeAgent over the process runtime, registered
 * with the host's real capacity (CPUs, memory, pods 110, ephemeral storage of the data
 * dir's filesystem) and identity (kernel, OS image, machine and boot ids). It reports
 * missing pod isolation (no root, not Linux) as a node condition and event, and after a
 * restart removes the sandboxes of pods that were deleted while it was down.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { arch as osArch, cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/types.js';
import { EventRecorder, InformerFactory, Resources, type Client, type Informer } from '../client/index.js';
import { NodeAgent, leaseRenewIntervalMs } from './agent.js';
import { defaultNodeLabels, type NodeFacts } from './node-status.js';
import { restartBackoff } from './pod-worker.js';
import { ProcessRuntime, type ProcessRuntimeCapabilities, type ProcessRuntimeOptions } from './runtime/process/index.js';
import { KubeletStreamingServer, kubeletAddressAnnotation, type KubeletTls, type StreamingPodResolver } from './streaming/index.js';
import { NodeStatsCollector, machineInfo, statsRoutes } from './stats/index.js';

export const localKubeletVersion = 'v1.32.0+skiff';
/** The node condition that says whether pods get their own namespaces and cgroups. */
export const podIsolationCondition = 'PodIsolation';

/** kubelet's default hard eviction thresholds, which allocatable subtracts from capacity. */
const evictionMemoryBytes = 100 * 1024 * 1024;
const evictionNodefsFraction = 0.1;

export interface LocalNodeOptions {
  client: Client;
  /** Where the store lives; the agent keeps its state in <dataDir>/kubelet. */
  dataDir: string;
  /** Default: the host name, lower-cased. */
  nodeName?: string;
  /** The node's pod CIDR (default 10.42.0.0/24). */
  podCIDR?: string;
  /** The node's InternalIP (default 127.0.0.1: one host, nothing else to reach it on). */
  internalIP?: string;
  signal: AbortSignal;
  log?: (msg: Record<string, unknown>) => void;
  /** Share the controller manager's informers (an unfiltered pod informer) instead of opening own watches. */
  informers?: InformerFactory;
  recorder?: EventRecorder;
  /** Lease renew period (default 10 s). */
  heartbeatIntervalMs?: number;
  /** Crash-loop backoff (kubelet: 10 s doubling to 5 min); shorter values are for tests. */
  restartBackoff?: { initialMs?: number; maxMs?: number };
  /** Passed to the process runtime (bridge name, cgroup parent, isolation…). */
  runtime?: Partial<Omit<ProcessRuntimeOptions, 'stateDir' | 'podCIDR'>>;
  /** How often sandboxes of vanished pods are looked for (default 30 s). */
  orphanCheckIntervalMs?: number;
  /**
   * Serve logs/exec/attach/port-forward for this node's pods from a kubelet streaming
   * server on `host` (default: the node's InternalIP); the Node then carries its address.
   */
  streaming?: { tls: KubeletTls; host?: string; port?: number };
}

export interface LocalNode {
  nodeName: string;
  podCIDR: string;
  internalIP: string;
  agent: NodeAgent;
  runtime: ProcessRuntime;
  /** Stops the agent; pods keep running for the next start (kubelet semantics). */
  stop(): Promise<void>;
}

function readTrim(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function osImage(): string {
  const text = readTrim('/etc/os-release') ?? '';
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m?.[1] ?? `${process.platform} ${release()}`;
}

function goArch(): string {
  const a = osArch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

/** The host's capacity, identity and addresses as kubelet reports them. */
export function localNodeFacts(opts: { nodeName: string; dataDir: string; podCIDR: string; internalIP: string }): NodeFacts {
  const memKi = Math.floor(totalmem() / 1024);
  let storageBytes = 0;
  try {
    const fs = statfsSync(opts.dataDir);
    storageBytes = Number(fs.blocks) * Number(fs.bsize);
  } catch {
    storageBytes = 0;
  }
  const capacity: Record<string, string> = {
    cpu: String(cpus().length || 1),
    'ephemeral-storage': `${Math.floor(storageBytes / 1024)}Ki`,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${memKi}Ki`,
    pods: '110',
  };
  const allocatable: Record<string, string> = {
    ...capacity,
    'ephemeral-storage': String(Math.floor(storageBytes * (1 - evictionNodefsFraction))),
    memory: `${Math.max(0, memKi - evictionMemoryBytes / 1024)}Ki`,
  };
  const machineID = readTrim('/etc/machine-id') ?? readTrim('/var/lib/dbus/machine-id') ?? '';
  const systemUUID = (readTrim('/sys/class/dmi/id/product_uuid') ?? machineID.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5')).toLowerCase();
  const labels = { ...defaultNodeLabels(opts.nodeName, process.platform === 'darwin' ? 'darwin' : 'linux', goArch()), 'node.kubernetes.io/instance-type': 'skiff' };
  return {
    name: opts.nodeName,
    capacity,
    allocatable,
    internalIP: opts.internalIP,
    podCIDR: opts.podCIDR,
    labels,
    nodeInfo: {
      kubeletVersion: localKubeletVersion,
      containerRuntimeVersion: 'process://1.0',
      osImage: osImage(),
      kernelVersion: release(),
      operatingSystem: process.platform === 'darwin' ? 'darwin' : 'linux',
      architecture: goArch(),
      machineID,
      systemUUID,
      bootID: readTrim('/proc/sys/kernel/random/boot_id') ?? '',
    },
  };
}

/** The default node name: the host name as a DNS subdomain. */
export function defaultNodeName(): string {
  const name = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return name || 'localhost';
}

function isolationCondition(caps: ProcessRuntimeCapabilities, now: Date): KObject {
  const ts = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ok = caps.warnings.length === 0;
  return {
    type: podIsolationCondition,
    status: ok ? 'True' : 'False',
    reason: ok ? 'PodSandboxesIsolated' : 'HostNetworkFallback',
    message: ok ? 'pods run in their own network and mount namespaces with cgroup limits' : caps.warnings.join('; '),
    lastHeartbeatTime: ts,
    lastTransitionTime: ts,
  };
}

/** Starts the agent of this machine over the process runtime. */
export async function startLocalNode(opts: LocalNodeOptions): Promise<LocalNode> {
  const nodeName = opts.nodeName ?? defaultNodeName();
  const podCIDR = opts.podCIDR ?? '10.42.0.0/24';
  const internalIP = opts.internalIP ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  if (opts.restartBackoff) {
    // kubelet's backoff is process-wide; tests shorten it for the whole agent.
    if (opts.restartBackoff.initialMs !== undefined) restartBackoff.initialMs = opts.restartBackoff.initialMs;
    if (opts.restartBackoff.maxMs !== undefined) restartBackoff.maxMs = opts.restartBackoff.maxMs;
  }
  const runtime = await ProcessRuntime.open({ ...(opts.runtime ?? {}), stateDir: join(opts.dataDir, 'kubelet'), podCIDR, hostIP: internalIP, log });
  const caps = runtime.capabilities();
  const facts = localNodeFacts({ nodeName, dataDir: opts.dataDir, podCIDR, internalIP });
  const recorder = opts.recorder ?? new EventRecorder(opts.client, { component: 'kubelet', host: nodeName, log });
  let agent: NodeAgent | undefined;
  let streamingServer: KubeletStreamingServer | undefined;
  if (opts.streaming) {
    const resolve: StreamingPodResolver = (namespace, name, uid) => {
      const worker = agent?.podWorker(namespace, name);
      if (!worker || (uid && worker.uid !== uid)) return undefined;
      return { pod: worker.pod, sandboxId: worker.sandboxId, runtime };
    };
    const host = opts.streaming.host ?? internalIP;
    // /stats/summary, /metrics/resource, /metrics/cadvisor and /metrics from the pods' cgroups.
    const stats = new NodeStatsCollector({ nodeName, workers: () => agent?.podWorkers() ?? [], runtime, mode: 'host', machine: machineInfo() });
    const routes = [statsRoutes(() => new Map([[nodeName, stats]]), log)];
    streamingServer = new KubeletStreamingServer({ resolve, tls: opts.streaming.tls, host, port: opts.streaming.port ?? 0, log, routes });
    try {
      facts.kubeletPort = await streamingServer.listen();
    } catch (err) {
      runtime.close();
      throw err;
    }
    facts.annotations = { ...(facts.annotations ?? {}), [kubeletAddressAnnotation]: host };
  }
  agent = new NodeAgent({ client: opts.client, runtime, facts, log, recorder, rootDir: join(opts.dataDir, 'kubelet'), informers: opts.informers });
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await agent.register();
    await reportIsolation(agent, caps, recorder);
  } catch (err) {
    opts.signal.removeEventListener('abort', onAbort);
    agent.stop();
    runtime.close();
    await streamingServer?.close();
    throw err;
  }
  for (const w of caps.warnings) log({ level: 'warn', msg: 'pod isolation unavailable', node: nodeName, reason: w });

  const own = opts.informers ? undefined : new InformerFactory(opts.client, log);
  const pods: Informer = opts.informers ? opts.informers.for(Resources.pods) : own!.for(Resources.pods, { fieldSelector: `spec.nodeName=${nodeName}` });
  const mine = (p: KObject) => p.spec?.nodeName === nodeName;
  pods.addEventHandlers({
    add: (p) => mine(p) && agent.handlePod(p),
    update: (_o, p) => mine(p) && agent.handlePod(p),
    delete: (p) => mine(p) && agent.handlePodDeleted(p),
  });
  const nodes: Informer = opts.informers ? opts.informers.for(Resources.nodes) : own!.for(Resources.nodes, { fieldSelector: `metadata.name=${nodeName}` });
  nodes.addEventHandlers({
    add: (n) => n.metadata?.name === nodeName && agent.handleNode(n),
    update: (_o, n) => n.metadata?.name === nodeName && agent.handleNode(n),
    delete: (n) => n.metadata?.name === nodeName && agent.handleNode(undefined),
  });
  own?.start(abort.signal);

  const beat = async () => {
    try {
      await agent.renewLease();
      await agent.syncNodeStatus();
    } catch (err) {
      log({ level: 'warn', msg: 'heartbeat failed', node: nodeName, error: String(err) });
    }
  };
  const heartbeat = setInterval(() => void beat(), opts.heartbeatIntervalMs ?? leaseRenewIntervalMs);
  heartbeat.unref?.();

  // kubelet's HandlePodCleanups: sandboxes whose pods left the API while the agent was down.
  const cleanupOrphans = async () => {
    if (abort.signal.aborted || !pods.hasSynced()) return;
    const known = new Set(pods.list().filter(mine).map((p) => p.metadata?.uid));
    const workers = new Map(agent.podWorkers().map((w) => [w.uid, w]));
    for (const s of runtime.listPodSandboxes()) {
      const w = workers.get(s.uid);
      const orphan = !w && !known.has(s.uid);
      // A sandbox the worker replaced (after a reboot); not one it is still creating.
      const stale = !!w && !!w.sandboxId && w.sandboxId !== s.id && s.state === 'SANDBOX_NOTREADY';
      if (!orphan && !stale) continue;
      log({ level: 'info', msg: 'removing sandbox of a pod that is gone', node: nodeName, pod: `${s.namespace}/${s.name}`, uid: s.uid, sandbox: s.id });
      try {
        await runtime.removePodSandbox(s.id);
      } catch (err) {
        log({ level: 'warn', msg: 'orphan sandbox removal failed', sandbox: s.id, error: String(err) });
      }
    }
  };
  void pods.waitForSync().then(() => cleanupOrphans());
  const orphanTimer = setInterval(() => void cleanupOrphans(), opts.orphanCheckIntervalMs ?? 30_000);
  orphanTimer.unref?.();

  let stopped = false;
  return {
    nodeName,
    podCIDR,
    internalIP,
    agent,
    runtime,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(heartbeat);
      clearInterval(orphanTimer);
      abort.abort();
      opts.signal.removeEventListener('abort', onAbort);
      agent.stop();
      runtime.close();
      await streamingServer?.close();
    },
  };
}

/** Puts the PodIsolation condition on the Node (and a warning event when pods share the host network). */
async function reportIsolation(agent: NodeAgent, caps: ProcessRuntimeCapabilities, recorder: EventRecorder): Promise<void> {
  const now = agent.now();
  const current: KObject[] = Array.isArray(agent.node?.status?.conditions) ? agent.node!.status.conditions : [];
  const prev = current.find((c) => c.type === podIsolationCondition);
  const cond = isolationCondition(caps, now);
  if (prev && prev.status === cond.status) cond.lastTransitionTime = prev.lastTransitionTime ?? cond.lastTransitionTime;
  const conditions = [...current.filter((c) => c.type !== podIsolationCondition), cond];
  const written = await agent.client.patch(Resources.nodes, undefined, agent.nodeName, 'merge', { status: { conditions } }, { subresource: 'status' });
  agent.handleNode(written);
  if (caps.warnings.length)
    recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: agent.nodeName, uid: agent.nodeName } }, 'Warning', 'HostNetworkFallback', caps.warnings.join('; '));
}
