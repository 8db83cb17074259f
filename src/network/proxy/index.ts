/**
 * @module The service proxy (kube-proxy) of one node: watches Services and EndpointSlices
 * and keeps the node's data path in step. With root and `nft`, the kernel path of
 * kube-proxy's nftables mode (./nftables.ts): ClusterIPs, NodePorts, external and
 * load-balancer IPs DNATed to endpoints, only changed chains rewritten per sync, in one
 * transaction, at most once per minSyncPeriod. Otherwise, and for loopback node addresses
 * (which the kernel cannot NAT to pods), the userspace path (./userspace.ts) serves
 * NodePorts and load-balancer ports; ClusterIPs are then unreachable.
 */
import { Resources, type Informer } from '../../client/index.js';
import type { KObject } from '../../api/types.js';
import type { NodeNetwork, NodeNetworkOptions } from '../index.js';
import { clearUdpConntrack, ensureHairpin, ifaceSysctl, nftApply, nftDeleteTable, nftUsable, readSysctl, SysctlGuard } from './host.js';
import { proxyMetrics, type ProxyMetrics } from './metrics.js';
import { RulesetBuilder, changedChains, renderChanges, renderFull, type Ruleset, type RulesetConfig, type ServiceRulesInput } from './nftables.js';
import {
  categorizeEndpoints,
  endpointsFor,
  lastChangeTriggerTimeAnnotation,
  servicePortName,
  servicePortsOf,
  serviceNameLabel,
  type Endpoint,
  type ServicePort,
} from './service-ports.js';
import { SyncRunner } from './sync-runner.js';
import { UserspaceProxy, type Frontend } from './userspace.js';

export type ProxyMode = 'nftables' | 'userspace';

export interface ServiceProxyOptions extends NodeNetworkOptions {
  /** nftables table (default skiff-proxy-<bridge>): one per node, so nodes sharing a host never clash. */
  table?: string;
  /** kube-proxy --nftables-min-sync-period (default 1 s): syncs closer together are batched. */
  minSyncPeriodMs?: number;
  /** kube-proxy --nftables-sync-period (default 30 s): a full resync at least this often. */
  syncPeriodMs?: number;
  /** Called after every successful sync (benchmarks, tests). */
  onSync?: (info: SyncInfo) => void;
}

export interface SyncInfo {
  full: boolean;
  durationMs: number;
  /** Chains rewritten (kernel path). */
  chains: number;
  servicePorts: number;
}

export interface ServiceProxy extends NodeNetwork {
  readonly mode: ProxyMode;
  /** The nftables table (kernel path). */
  readonly table?: string;
  /** Resolves when no sync is running or pending. */
  idle(): Promise<void>;
  /** Frontends served in userspace ("tcp:127.0.0.1:30080"). */
  userspaceFrontends(): string[];
  /** Asks for a full resync (as the periodic one does). */
  resync(): void;
}

const serviceIndex = 'skiff-proxy/service';

/** 127.0.0.0/8: the kernel will not route these to pods (martian source), so they are served in userspace. */
function isLoopback(ip: string): boolean {
  return ip.startsWith('127.');
}

export function defaultTableName(bridge: string): string {
  return `skiff-proxy-${bridge}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const log = (m: Record<string, unknown>) => opts.log({ component: 'kube-proxy', ...m });
  const services = opts.informers.for(Resources.services);
  const slices = opts.informers.for(Resources.endpointslices);
  slices.addIndex(serviceIndex, (s) => {
    const svc = s.metadata?.labels?.[serviceNameLabel];
    return svc ? [`${s.metadata?.namespace}/${svc}`] : [];
  });

  let mode: ProxyMode = 'userspace';
  let why = '';
  if (!opts.privileged) why = 'the node is not privileged (root on Linux)';
  else if (process.platform !== 'linux') why = `nftables needs Linux (this is ${process.platform})`;
  else {
    const err = await nftUsable();
    if (err) why = `nft is not usable: ${err}`;
    else mode = 'nftables';
  }
  const table = mode === 'nftables' ? (opts.table ?? defaultTableName(opts.bridge)) : undefined;
  if (mode === 'userspace') {
    log({ level: 'warn', msg: `service proxy in userspace mode: ${why}; NodePorts and LoadBalancer ports are forwarded in userspace, ClusterIPs are not reachable` });
  } else {
    log({ level: 'info', msg: 'service proxy in nftables mode', table, bridge: opts.bridge, nodeIP: opts.nodeIP });
  }

  const metrics: ProxyMetrics | undefined = opts.metrics ? proxyMetrics(opts.metrics) : undefined;
  const userspace = new UserspaceProxy(log);
  const sysctls = new SysctlGuard();
  // Loopback node addresses are served in userspace even with root: kube-proxy's nftables mode does not NAT localhost.
  const userspaceIPs = mode === 'userspace' || isLoopback(opts.nodeIP) ? [opts.nodeIP] : [];
  const cfg: RulesetConfig | undefined = table
    ? {
        table,
        bridge: opts.bridge,
        clusterCIDR: opts.clusterCIDR,
        serviceCIDR: opts.serviceCIDR,
        nodePortIPs: isLoopback(opts.nodeIP) ? [] : [opts.nodeIP],
        masqueradeSameBridge: (await readSysctl('/proc/sys/net/bridge/bridge-nf-call-iptables')) !== '1',
      }
    : undefined;
  if (cfg?.masqueradeSameBridge) log({ level: 'info', msg: 'bridged traffic skips conntrack (br_netfilter off): masquerading Service traffic between pods of the same bridge' });

  const builder = cfg ? new RulesetBuilder(cfg) : undefined;
  let applied: Ruleset | undefined;
  /** UDP service addresses ("ip:port") → endpoint IPs in the rules, for conntrack cleanup. */
  let udpTargets = new Map<string, Set<string>>();
  /** Trigger times of endpoint changes not yet in the rules (network programming latency). */
  const pendingTriggers: number[] = [];
  let stopped = false;

  const noteSliceChange = (s: KObject) => {
    metrics?.endpointChanges.inc();
    const t = Date.parse(s.metadata?.annotations?.[lastChangeTriggerTimeAnnotation] ?? '');
    if (!Number.isNaN(t)) pendingTriggers.push(t);
    queue();
  };
  const noteServiceChange = () => {
    metrics?.serviceChanges.inc();
    queue();
  };
  const queue = () => {
    metrics?.lastQueuedTimestamp.set(Date.now() / 1000);
    runner.run();
  };

  const collect = (): ServiceRulesInput[] => {
    const out: ServiceRulesInput[] = [];
    for (const svc of services.list()) {
      const ports = servicePortsOf(svc);
      if (!ports.length) continue;
      const own = slices.byIndex(serviceIndex, `${svc.metadata?.namespace}/${svc.metadata?.name}`);
      for (const port of ports) out.push({ port, endpoints: endpointsFor(port, own, opts.nodeName) });
    }
    return out;
  };

  const sync = async (full: boolean) => {
    if (stopped) return;
    const start = performance.now();
    const triggers = pendingTriggers.splice(0);
    const inputs = collect();
    let chains = 0;
    let wasFull = false;
    try {
      if (cfg) {
        // Pods reach ClusterIPs through the bridge: routed, so the bridge must forward.
        await sysctls.ensure(ifaceSysctl('forwarding', opts.bridge), '1').catch((err) => log({ level: 'warn', msg: 'cannot enable forwarding on the pod bridge', bridge: opts.bridge, error: String(err) }));
        // Before any new endpoint is in the rules, its pod's bridge port must hairpin (br_netfilter bridges hairpin traffic).
        if (!cfg.masqueradeSameBridge) await ensureHairpin(opts.bridge);
        const next = builder!.build(inputs);
        if (full || !applied) {
          wasFull = true;
          // The periodic resync rewrites in place (affinity kept); the first sync and recovery replace the table.
          await nftApply(renderFull(cfg, next, applied));
          chains = next.chains.size;
        } else {
          const tx = renderChanges(cfg, applied, next);
          chains = changedChains(applied, next);
          if (tx) {
            try {
              await nftApply(tx);
            } catch (err) {
              // The table was changed behind our back (or a partial update is impossible): rebuild it whole.
              log({ level: 'warn', msg: 'partial nftables sync failed, resyncing the whole table', error: String(err) });
              metrics?.syncFailures.inc();
              wasFull = true;
              await nftApply(renderFull(cfg, next));
              chains = next.chains.size;
            }
          }
        }
        applied = next;
        udpTargets = clearStaleUdp(inputs, udpTargets);
      }
      if (userspaceIPs.length) await userspace.update(userspaceFrontends(inputs, userspaceIPs));
    } catch (err) {
      pendingTriggers.push(...triggers);
      metrics?.syncFailures.inc();
      applied = undefined;
      throw err;
    }
    const seconds = (performance.now() - start) / 1000;
    metrics?.syncDuration.observe(seconds);
    (wasFull ? metrics?.syncFullDuration : metrics?.syncPartialDuration)?.observe(seconds);
    metrics?.lastTimestamp.set(Date.now() / 1000);
    const now = Date.now();
    for (const t of triggers) metrics?.networkProgramming.observe(Math.max(0, (now - t) / 1000));
    opts.onSync?.({ full: wasFull, durationMs: seconds * 1000, chains, servicePorts: inputs.length });
    if (wasFull || chains > 0) log({ level: 'debug', msg: 'synced proxy rules', full: wasFull, chains, servicePorts: inputs.length, ms: Math.round(seconds * 1000) });
  };

  const runner = new SyncRunner({
    minIntervalMs: opts.minSyncPeriodMs ?? 1000,
    maxIntervalMs: opts.syncPeriodMs ?? 30_000,
    sync,
    onError: (err) => log({ level: 'error', msg: 'service proxy sync failed; retrying', error: String(err) }),
  });

  const handlers = (informer: Informer, note: (o: KObject) => void) =>
    informer.addEventHandlers({ add: note, update: (_o, n) => note(n), delete: note });
  handlers(services, noteServiceChange);
  handlers(slices, noteSliceChange);
  // No rules until both caches are complete: a partial view would reject live Services.
  const ready = Promise.all([services.waitForSync(), slices.waitForSync()]).then(() => {
    if (stopped) return;
    runner.start();
    runner.retry();
  });
  opts.signal.addEventListener('abort', () => void runner.stop(), { once: true });

  return {
    mode,
    table,
    async idle() {
      await ready;
      await runner.idle();
    },
    userspaceFrontends: () => userspace.serving(),
    resync: () => runner.retry(),
    async stop() {
      stopped = true;
      await runner.stop();
      await userspace.stop();
      if (table) await nftDeleteTable(table).catch((err) => log({ level: 'warn', msg: 'cannot delete nftables table', table, error: String(err) }));
      await sysctls.restore();
    },
  };
}

/**
 * After the rules changed: UDP flows to endpoints no longer used, and flows rejected while
 * a Service had no endpoints, are dropped from conntrack (in the background). Returns the
 * new address → endpoints table.
 */
function clearStaleUdp(inputs: ServiceRulesInput[], before: Map<string, Set<string>>): Map<string, Set<string>> {
  const now = new Map<string, Set<string>>();
  for (const { port: sp, endpoints } of inputs) {
    if (sp.protocol !== 'udp') continue;
    const eps = new Set(categorizeEndpoints(sp, endpoints).allReachable.map((e) => e.ip));
    for (const ip of [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerIPs]) now.set(`${ip}:${sp.port}`, eps);
  }
  for (const [addr, old] of before) {
    const [ip, port] = addr.split(':');
    const cur = now.get(addr);
    for (const ep of old) if (!cur?.has(ep)) void clearUdpConntrack(ip, Number(port), ep);
  }
  for (const [addr, cur] of now) {
    const [ip, port] = addr.split(':');
    if (cur.size > 0 && (before.get(addr)?.size ?? 0) === 0) void clearUdpConntrack(ip, Number(port));
  }
  return now;
}

/** NodePorts and load-balancer ports on the given local addresses, each to the endpoints its external traffic policy allows. */
export function userspaceFrontends(inputs: ServiceRulesInput[], localIPs: string[]): Frontend[] {
  const out: Frontend[] = [];
  for (const { port: sp, endpoints } of inputs) {
    const backends = externalBackends(sp, endpoints);
    const add = (ip: string, port: number, sourceRanges?: string[]) =>
      out.push({ protocol: sp.protocol, ip, port, servicePort: servicePortName(sp), backends, stickyMaxAgeSeconds: sp.stickyMaxAgeSeconds, ...(sourceRanges?.length ? { sourceRanges } : {}) });
    if (sp.nodePort > 0) for (const ip of localIPs) add(ip, sp.nodePort);
    // loadBalancerSourceRanges apply to the load-balancer IPs only, as in kube-proxy.
    for (const ip of sp.loadBalancerIPs) if (localIPs.includes(ip)) add(ip, sp.port, sp.loadBalancerSourceRanges);
    for (const ip of sp.externalIPs) if (localIPs.includes(ip) && !sp.loadBalancerIPs.includes(ip)) add(ip, sp.port);
  }
  return out;
}

function externalBackends(sp: ServicePort, endpoints: Endpoint[]): Array<{ ip: string; port: number }> {
  const { cluster, local } = categorizeEndpoints(sp, endpoints);
  return (sp.externalPolicyLocal ? local : cluster).map((e) => ({ ip: e.ip, port: e.port }));
}
