/**
 * @module flannel's host-gw backend: for every other Node with a pod CIDR and an InternalIP,
 * a kernel route `podCIDR via InternalIP` on this node, kept in step with the Nodes (added,
 * moved, removed when the Node goes away) and removed when the agent stops. IP forwarding is
 * turned on, since the node routes its pods' packets. Nothing here masquerades: pod-to-pod
 * traffic between nodes keeps its pod source address.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import type { KObject } from '../../api/types.js';
import type { Informer } from '../../client/index.js';
import type { Logger } from '../index.js';

/** One route this node wants: the other node's pod CIDR through its InternalIP. */
export interface PodRoute {
  cidr: string;
  via: string;
  node: string;
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  if (!isIPv4(ip) || !isIPv4(base)) return false;
  const size = 2 ** (32 - Number(bits));
  const b = ipv4ToNumber(base);
  const n = ipv4ToNumber(ip);
  return n >= b - (b % size) && n < b - (b % size) + size;
}

function internalIPOf(node: KObject): string | undefined {
  const addresses: KObject[] = Array.isArray(node.status?.addresses) ? node.status.addresses : [];
  return addresses.find((a) => a.type === 'InternalIP' && isIPv4(String(a.address)))?.address;
}

function podCIDRsOf(node: KObject): string[] {
  const list: string[] = Array.isArray(node.spec?.podCIDRs) ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
  return list.filter((c) => isIPv4(String(c).split('/')[0]));
}

/**
 * The routes this node needs. Nodes that cannot be a next hop are left out: this node
 * itself, nodes on its own address (one host), loopback addresses, and addresses inside the
 * cluster CIDR (simulated hollow nodes live there).
 */
export function desiredPodRoutes(nodes: KObject[], self: { nodeName: string; nodeIP: string; clusterCIDR: string }): PodRoute[] {
  const routes: PodRoute[] = [];
  for (const n of nodes) {
    const name = String(n.metadata?.name);
    if (name === self.nodeName || n.metadata?.deletionTimestamp) continue;
    const via = internalIPOf(n);
    if (!via || via === self.nodeIP || inCidr(via, '127.0.0.0/8') || inCidr(via, self.clusterCIDR)) continue;
    for (const cidr of podCIDRsOf(n)) routes.push({ cidr, via, node: name });
  }
  return routes.sort((a, b) => a.cidr.localeCompare(b.cidr));
}

export type IpRunner = (args: string[]) => Promise<string>;

/** Runs `ip ARGS`; a failure carries ip's own message. */
export const runIp: IpRunner = (args) =>
  new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });

/** Turns on IPv4 forwarding in this network namespace; returns whether it had to. */
export async function enableIpForwarding(path = '/proc/sys/net/ipv4/ip_forward'): Promise<boolean> {
  if ((await readFile(path, 'utf8')).trim() === '1') return false;
  await writeFile(path, '1\n');
  return true;
}

export interface PodRouterOptions {
  nodes: Informer;
  nodeName: string;
  nodeIP: string;
  clusterCIDR: string;
  log: Logger;
  ip?: IpRunner;
}

/** Keeps this node's routes to other nodes' pod CIDRs equal to desiredPodRoutes(Nodes). */
export class PodRouter {
  /** cidr → next hop of the routes this router installed. */
  private readonly applied = new Map<string, PodRoute>();
  /** Routes that failed, so a bad next hop is logged once, not on every Node update. */
  private readonly failed = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private queued = false;
  private readonly ip: IpRunner;

  constructor(private readonly opts: PodRouterOptions) {
    this.ip = opts.ip ?? runIp;
    const kick = () => this.reconcile();
    opts.nodes.addEventHandlers({ add: kick, update: kick, delete: kick });
  }

  /** Installed routes, for tests and diagnostics. */
  routes(): PodRoute[] {
    return [...this.applied.values()];
  }

  /** Queues one reconcile after those already queued; resolves when it ran. */
  reconcile(): Promise<void> {
    // Node heartbeats arrive in bursts: one pending pass covers every event before it runs.
    if (this.queued) return this.chain;
    this.queued = true;
    this.chain = this.chain.then(() => {
      this.queued = false;
      return this.stopped ? undefined : this.sync();
    });
    return this.chain;
  }

  private async sync(): Promise<void> {
    const want = new Map(desiredPodRoutes(this.opts.nodes.list(), this.opts).map((r) => [r.cidr, r]));
    for (const [cidr, r] of [...this.applied]) {
      const w = want.get(cidr);
      if (w && w.via === r.via) continue;
      if (!w) await this.remove(r);
    }
    for (const r of want.values()) {
      const have = this.applied.get(r.cidr);
      if (have && have.via === r.via) continue;
      try {
        await this.ip(['route', 'replace', r.cidr, 'via', r.via]);
        this.applied.set(r.cidr, r);
        this.failed.delete(r.cidr);
        this.opts.log({ level: 'info', msg: 'route to node pod CIDR', node: r.node, podCIDR: r.cidr, via: r.via });
      } catch (err) {
        if (this.failed.get(r.cidr) !== r.via) this.opts.log({ level: 'warn', msg: 'cannot route to node pod CIDR (is its InternalIP on a directly connected network?)', node: r.node, podCIDR: r.cidr, via: r.via, error: String(err) });
        this.failed.set(r.cidr, r.via);
      }
    }
  }

  private async remove(r: PodRoute): Promise<void> {
    try {
      await this.ip(['route', 'del', r.cidr, 'via', r.via]);
      this.opts.log({ level: 'info', msg: 'removed route to node pod CIDR', node: r.node, podCIDR: r.cidr, via: r.via });
    } catch (err) {
      // Already gone (the interface went down, someone removed it): nothing left to undo.
      this.opts.log({ level: 'debug', msg: 'route removal failed', podCIDR: r.cidr, error: String(err) });
    }
    this.applied.delete(r.cidr);
  }

  /** Removes every route this router installed. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain.catch(() => {});
    for (const r of [...this.applied.values()]) await this.remove(r);
  }
}

