/**
 * @module The node IPAM controller (kube-controller-manager's nodeipam with
 * --allocate-node-cidrs and the RangeAllocator): every Node without spec.podCIDR gets the
 * next free block of the cluster CIDR (10.42.0.0/16 in /24s) as spec.podCIDR/podCIDRs;
 * blocks already on Nodes — the server's local node keeps its --pod-cidr — are marked used
 * before anything is handed out, so a restart rebuilds the set from the Nodes and never
 * gives a block twice; a deleted Node's block is released.
 */
import type { KObject } from '../../api/types.js';
import { Resources, WorkQueue, type Client, type EventRecorder, type Informer } from '../../client/index.js';
import { isNotFound, runController } from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import { CidrSet } from './cidrs.js';

export interface NodeIpamOptions {
  client: Client;
  nodes: Informer;
  recorder: EventRecorder;
  log: (msg: Record<string, unknown>) => void;
  /** kube's --cluster-cidr (k3s: 10.42.0.0/16). */
  clusterCIDR: string;
  /** kube's --node-cidr-mask-size (24 for IPv4). */
  nodeCIDRMaskSize: number;
  /** Blocks in use outside any Node yet (the local node's --pod-cidr before it registers). */
  reserved?: string[];
}

export const defaultClusterCIDR = '10.42.0.0/16';
export const defaultNodeCIDRMaskSize = 24;

function podCIDRsOf(node: KObject): string[] {
  const list = Array.isArray(node.spec?.podCIDRs) ? (node.spec.podCIDRs as string[]) : [];
  if (list.length) return list;
  return typeof node.spec?.podCIDR === 'string' && node.spec.podCIDR ? [node.spec.podCIDR] : [];
}

export class NodeIpamController implements Controller {
  readonly name = 'nodeipam';
  readonly queue = new WorkQueue({ name: 'nodeipam' });
  private readonly set: CidrSet;
  /** Which node holds which block, so a deleted node's block can be released. */
  private readonly byNode = new Map<string, string[]>();

  constructor(private readonly opts: NodeIpamOptions) {
    this.set = new CidrSet(opts.clusterCIDR, opts.nodeCIDRMaskSize);
    for (const r of opts.reserved ?? []) this.set.occupy(r);
    opts.nodes.addEventHandlers({
      add: (n) => this.queue.add(String(n.metadata?.name)),
      update: (o, n) => {
        if (podCIDRsOf(n).join() !== podCIDRsOf(o).join() || !podCIDRsOf(n).length) this.queue.add(String(n.metadata?.name));
      },
      delete: (n) => this.queue.add(String(n.metadata?.name)),
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    return runController(this.name, this.opts.log, signal, {
      informers: [this.opts.nodes],
      // Every block already on a Node is taken before the first new one is handed out.
      started: () => this.occupyExisting(),
      pools: [{ queue: this.queue, workers, sync: (key) => this.sync(key) }],
    });
  }

  /** Marks the blocks of every cached Node used (kube's occupyCIDRs at start-up). */
  occupyExisting(): void {
    for (const node of this.opts.nodes.list()) this.occupy(node);
  }

  private occupy(node: KObject): void {
    const name = String(node.metadata?.name);
    const cidrs = podCIDRsOf(node);
    if (!cidrs.length) return;
    for (const c of cidrs) {
      if (!this.set.occupy(c)) this.opts.log({ level: 'debug', msg: 'node pod CIDR is outside the cluster CIDR', node: name, podCIDR: c, clusterCIDR: this.opts.clusterCIDR });
    }
    this.byNode.set(name, cidrs);
  }

  async sync(name: string): Promise<void> {
    const node = this.opts.nodes.getByName(undefined, name);
    if (!node) {
      const held = this.byNode.get(name);
      if (held) for (const c of held) this.set.release(c);
      this.byNode.delete(name);
      return;
    }
    if (podCIDRsOf(node).length) {
      this.occupy(node);
      return;
    }
    // A block handed out whose write has not reached the cache yet.
    const pending = this.byNode.get(name);
    const cidr = pending?.[0] ?? this.set.allocateNext();
    if (!cidr) {
      this.opts.recorder.event(node, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      throw new Error(`failed to allocate cidr from cluster cidr ${this.opts.clusterCIDR}: CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range`);
    }
    this.byNode.set(name, [cidr]);
    try {
      await this.opts.client.patch(Resources.nodes, undefined, name, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
      this.opts.log({ level: 'info', msg: 'set node pod CIDR', node: name, podCIDR: cidr });
    } catch (err) {
      this.byNode.delete(name);
      this.set.release(cidr);
      if (isNotFound(err)) return;
      this.opts.recorder.event(node, 'Warning', 'CIDRAssignmentFailed', `Node ${name} status is now: CIDRAssignmentFailed`);
      throw err;
    }
  }
}

/** Built from the controller manager's options: clusterCIDR, nodeCIDRMaskSize, reservedPodCIDRs (comma separated). */
export function newNodeIpamController(ctx: ControllerContext): NodeIpamController {
  const o = ctx.options;
  const reserved = typeof o.reservedPodCIDRs === 'string' ? o.reservedPodCIDRs.split(',').map((s) => s.trim()).filter(Boolean) : [];
  return new NodeIpamController({
    client: ctx.client,
    nodes: ctx.informers.for(Resources.nodes),
    recorder: ctx.recorder('cidrAllocator'),
    log: ctx.log,
    clusterCIDR: typeof o.clusterCIDR === 'string' && o.clusterCIDR ? o.clusterCIDR : defaultClusterCIDR,
    nodeCIDRMaskSize: typeof o.nodeCIDRMaskSize === 'number' ? o.nodeCIDRMaskSize : defaultNodeCIDRMaskSize,
    reserved,
  });
}
