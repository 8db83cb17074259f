/**
 * @module The Service ClusterIP and NodePort allocators of kube-apiserver (its bitmap
 * allocators with a static band, and the service REST's allocate/release transactions
 * around create, update and delete). State lives in memory, rebuilt from the stored
 * Services at start-up (what kube's repair controller checks); every allocation is a
 * synchronous step of the one API server process, so concurrent creates never share a value.
 */
import { randomInt } from 'node:crypto';
import { ApiError, type FieldError } from '../api/errors.js';
import {
  allocatedClusterIPs,
  allocatedNodePorts,
  clusterIPAllocationError,
  healthCheckNodePortError,
  needsClusterIP,
  needsHealthCheckNodePort,
  needsNodePorts,
  nodePortAllocatedError,
  nodePortNotInRangeError,
  serviceNetworkConfig,
} from '../api/kinds/service.js';
import { parseIP } from '../api/kinds/netmisc-util.js';
import type { KObject } from '../api/types.js';
import type { StorageHooks } from './rest.js';

/** The allocator's reasons, worded as kube's allocator errors. */
export class RangeFullError extends Error {
  constructor() {
    super('range is full');
  }
}
export class AlreadyAllocatedError extends Error {
  constructor(what: 'IP' | 'port') {
    super(`provided ${what} is already allocated`);
  }
}
export class NotInRangeError extends Error {}

/** "10.43.0.0/16" → numbers, IPv4 only (the service network is single-stack IPv4). */
export function parseServiceCIDR(cidr: string): { network: number; prefix: number } {
  const [ip, bits] = cidr.split('/');
  const prefix = Number(bits);
  const parsed = parseIP(ip ?? '');
  if (!parsed?.is4 || !Number.isInteger(prefix) || prefix < 8 || prefix > 30)
    throw new RangeError(`service CIDR "${cidr}" must be an IPv4 block between /8 and /30`);
  const n = ipv4ToNumber(ip);
  const size = 2 ** (32 - prefix);
  return { network: n - (n % size), prefix };
}

function ipv4ToNumber(ip: string): number {
  const b = parseIP(ip)!.bytes.slice(12);
  return ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
}

function numberToIPv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * kube's calculateRangeOffset: the lower part of a range (size/step, clamped to [min, max])
 * is the static band that dynamic allocation uses only once the upper part is full, so
 * well-known values (10.43.0.10 for DNS, low NodePorts) stay free for users who ask.
 */
function staticBand(size: number, min: number, max: number, step: number): number {
  if (size < min) return 0;
  return Math.max(min, Math.min(max, Math.floor(size / step)));
}

/** An allocation map over offsets 0..size-1 with owners (the Service key), as kube's bitmap. */
class RangeMap {
  readonly owners = new Map<number, string>();
  constructor(
    readonly size: number,
    private readonly staticSize: number,
    private readonly random: (n: number) => number,
  ) {}

  has(offset: number): boolean {
    return this.owners.has(offset);
  }

  /** A free offset: random in the dynamic band, scanning forward; then the static band. */
  next(): number {
    const bands: Array<[number, number]> = [
      [this.staticSize, this.size],
      [0, this.staticSize],
    ];
    for (const [lo, hi] of bands) {
      const n = hi - lo;
      if (n <= 0) continue;
      const start = this.random(n);
      for (let i = 0; i < n; i++) {
        const o = lo + ((start + i) % n);
        if (!this.owners.has(o)) return o;
      }
    }
    throw new RangeFullError();
  }
}

/** One create or update: what it took (released on revert) and what it gives up (on commit). */
class Transaction {
  readonly ips: number[] = [];
  readonly ports: number[] = [];
  readonly releaseIPs: number[] = [];
  readonly releasePorts: number[] = [];
  constructor(
    private readonly alloc: ServiceAllocator,
    readonly owner: string,
    readonly dryRun: boolean,
  ) {}

  finish = (success: boolean): void => {
    if (this.dryRun) return;
    if (success) {
      for (const o of this.releaseIPs) this.alloc.freeIP(o, this.owner);
      for (const p of this.releasePorts) this.alloc.freePort(p, this.owner);
    } else {
      for (const o of this.ips) this.alloc.freeIP(o, this.owner);
      for (const p of this.ports) this.alloc.freePort(p, this.owner);
    }
  };
}

export interface ServiceAllocatorOptions {
  /** --service-cluster-ip-range (k3s --service-cidr), IPv4. */
  serviceCIDR: string;
  /** --service-node-port-range, inclusive. */
  nodePortRange?: { base: number; size: number };
  /** Uniform integer in [0, n) (tests make it deterministic). */
  random?: (n: number) => number;
  log?: (msg: Record<string, unknown>) => void;
}

function ownerOf(svc: KObject): string {
  return `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
}

export class ServiceAllocator {
  readonly cidr: string;
  private readonly first: number;
  private readonly ipMap: RangeMap;
  private readonly portBase: number;
  private readonly portMap: RangeMap;
  private readonly log: (msg: Record<string, unknown>) => void;

  constructor(opts: ServiceAllocatorOptions) {
    const random = opts.random ?? ((n: number) => randomInt(n));
    const { network, prefix } = parseServiceCIDR(opts.serviceCIDR);
    this.cidr = `${numberToIPv4(network)}/${prefix}`;
    // The network and broadcast addresses are never handed out (kube's bitmap for IPv4).
    this.first = network + 1;
    const ipSize = 2 ** (32 - prefix) - 2;
    this.ipMap = new RangeMap(ipSize, staticBand(ipSize, 16, 256, 16), random);
    const ports = opts.nodePortRange ?? serviceNetworkConfig.nodePortRange;
    this.portBase = ports.base;
    this.portMap = new RangeMap(ports.size, staticBand(ports.size, 16, 128, 32), random);
    this.log = opts.log ?? (() => {});
  }

  /** The n-th usable address of the range (1 → 10.43.0.1 for `kubernetes`, 10 → the DNS address). */
  ipAt(n: number): string {
    return numberToIPv4(this.first + n - 1);
  }

  private ipOffset(ip: string): number {
    const parsed = parseIP(ip);
    const off = parsed?.is4 ? ipv4ToNumber(ip) - this.first : -1;
    if (off < 0 || off >= this.ipMap.size)
      throw new NotInRangeError(`the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr}`);
    return off;
  }

  private portOffset(port: number): number {
    const off = port - this.portBase;
    if (!Number.isInteger(off) || off < 0 || off >= this.portMap.size) {
      const r = `${this.portBase}-${this.portBase + this.portMap.size - 1}`;
      throw new NotInRangeError(`provided port is not in the valid range. The range of valid ports is ${r}`);
    }
    return off;
  }

  isIPAllocated(ip: string): boolean {
    try {
      return this.ipMap.has(this.ipOffset(ip));
    } catch {
      return false;
    }
  }

  isPortAllocated(port: number): boolean {
    return this.portMap.has(port - this.portBase);
  }

  /** Counts for metrics and tests. */
  get used(): { ips: number; ports: number } {
    return { ips: this.ipMap.owners.size, ports: this.portMap.owners.size };
  }

  freeIP(offset: number, owner: string): void {
    if (this.ipMap.owners.get(offset) === owner) this.ipMap.owners.delete(offset);
  }

  freePort(port: number, owner: string): void {
    const off = port - this.portBase;
    if (this.portMap.owners.get(off) === owner) this.portMap.owners.delete(off);
  }

  /** Marks what stored Services hold (start-up); conflicts and strays are logged as kube's repair loop reports them. */
  rebuild(services: KObject[]): void {
    this.ipMap.owners.clear();
    this.portMap.owners.clear();
    const sorted = [...services].sort((a, b) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')));
    for (const svc of sorted) {
      const owner = ownerOf(svc);
      for (const ip of allocatedClusterIPs(svc)) {
        if (parseIP(ip)?.is4 !== true) continue;
        let off: number;
        try {
          off = this.ipOffset(ip);
        } catch {
          this.log({ level: 'warn', msg: 'Cluster IP is not within the configured Service CIDR; please recreate service', reason: 'ClusterIPOutOfRange', service: owner, clusterIP: ip, serviceCIDR: this.cidr });
          continue;
        }
        const holder = this.ipMap.owners.get(off);
        if (holder && holder !== owner) this.log({ level: 'warn', msg: 'Cluster IP was assigned to multiple services; please recreate service', reason: 'ClusterIPAlreadyAllocated', service: owner, other: holder, clusterIP: ip });
        else this.ipMap.owners.set(off, owner);
      }
      for (const port of allocatedNodePorts(svc)) {
        const off = port - this.portBase;
        if (off < 0 || off >= this.portMap.size) {
          this.log({ level: 'warn', msg: 'Port is not within the port range; please recreate service', reason: 'PortOutOfRange', service: owner, nodePort: port });
          continue;
        }
        const holder = this.portMap.owners.get(off);
        if (holder && holder !== owner) this.log({ level: 'warn', msg: 'Port was assigned to multiple services; please recreate service', reason: 'PortAlreadyAllocated', service: owner, other: holder, nodePort: port });
        else this.portMap.owners.set(off, owner);
      }
    }
  }

  // ---- the transaction steps ----

  private takeIP(txn: Transaction, svc: KObject, requested: string | undefined): string {
    let off: number;
    if (requested) {
      try {
        off = this.ipOffset(requested);
      } catch (e) {
        throw invalidService(svc, [clusterIPAllocationError(svc, requested, (e as Error).message)]);
      }
      const holder = this.ipMap.owners.get(off);
      if (holder !== undefined && !(holder === txn.owner && txn.ips.includes(off)))
        throw invalidService(svc, [clusterIPAllocationError(svc, requested, new AlreadyAllocatedError('IP').message)]);
    } else {
      try {
        off = this.ipMap.next();
      } catch (e) {
        throw ApiError.internal(`failed to allocate a serviceIP: ${(e as Error).message}`);
      }
    }
    if (!txn.dryRun) this.ipMap.owners.set(off, txn.owner);
    txn.ips.push(off);
    return numberToIPv4(this.first + off);
  }

  /** Allocates one node port; `fieldError` words a refused explicit value. */
  private takePort(txn: Transaction, requested: number, fieldError: (reason: string) => FieldError, svc: KObject): number {
    let off: number;
    if (requested) {
      try {
        off = this.portOffset(requested);
      } catch (e) {
        throw invalidService(svc, [fieldError((e as Error).message)]);
      }
      if (this.portMap.has(off)) throw invalidService(svc, [fieldError(new AlreadyAllocatedError('port').message)]);
    } else {
      try {
        off = this.portMap.next();
      } catch (e) {
        throw ApiError.internal(`failed to allocate a nodePort: ${(e as Error).message}`);
      }
    }
    if (!txn.dryRun) this.portMap.owners.set(off, txn.owner);
    txn.ports.push(this.portBase + off);
    return this.portBase + off;
  }

  /** Fills clusterIP/clusterIPs with the allocated address (requested or next). */
  private allocateClusterIP(txn: Transaction, svc: KObject): void {
    const spec = svc.spec;
    const requested: string | undefined = spec.clusterIPs?.[0] || spec.clusterIP || undefined;
    const ip = this.takeIP(txn, svc, requested);
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  }

  /**
   * Node ports of a new Service (kube's initNodePorts): explicit values are allocated as
   * asked, the rest get the next free one; ports sharing a port number (dns 53/UDP and
   * 53/TCP) share one node port.
   */
  private allocateNodePorts(txn: Transaction, svc: KObject, keep: Set<number>): void {
    const ports: KObject[] = svc.spec?.ports ?? [];
    const allocate = needsNodePorts(svc);
    const byServicePort = new Map<number, number>();
    const taken = new Set<number>();
    ports.forEach((p, i) => {
      if (!p) return;
      const np: number = typeof p.nodePort === 'number' ? p.nodePort : 0;
      if (np === 0 && !allocate) return;
      if (np !== 0) {
        if (!keep.has(np) && !taken.has(np)) this.takePort(txn, np, (reason) => portFieldError(i, np, reason), svc);
        taken.add(np);
        if (!byServicePort.has(p.port)) byServicePort.set(p.port, np);
        return;
      }
      const shared = byServicePort.get(p.port) ?? findRequestedNodePort(ports, p.port);
      if (shared) {
        if (!keep.has(shared) && !taken.has(shared)) this.takePort(txn, shared, (reason) => portFieldError(i, shared, reason), svc);
        p.nodePort = shared;
      } else {
        p.nodePort = this.takePort(txn, 0, (reason) => portFieldError(i, 0, reason), svc);
      }
      taken.add(p.nodePort);
      byServicePort.set(p.port, p.nodePort);
    });
  }

  private allocateHealthCheckNodePort(txn: Transaction, svc: KObject): void {
    const hc: number = svc.spec.healthCheckNodePort ?? 0;
    if (hc && txn.ports.includes(hc)) return;
    svc.spec.healthCheckNodePort = this.takePort(
      txn,
      hc,
      (reason) => healthCheckNodePortError(hc, `failed to allocate requested HealthCheck NodePort ${hc}: ${reason}`),
      svc,
    );
  }

  /** BeginCreate of the Service storage. */
  beginCreate(svc: KObject, dryRun: boolean): (success: boolean) => void {
    const txn = new Transaction(this, ownerOf(svc), dryRun);
    try {
      svc.spec ??= {};
      if (needsClusterIP(svc)) this.allocateClusterIP(txn, svc);
      this.allocateNodePorts(txn, svc, new Set());
      if (needsHealthCheckNodePort(svc)) this.allocateHealthCheckNodePort(txn, svc);
    } catch (e) {
      txn.finish(false);
      throw e;
    }
    return txn.finish;
  }

  /**
   * BeginUpdate: type changes take and give back addresses and ports as kube's
   * allocateUpdate does (ExternalName → ClusterIP allocates an IP, ClusterIP → NodePort
   * allocates node ports, NodePort → ClusterIP releases them); what the old object held and
   * the new one no longer does is released once the write succeeds.
   */
  beginUpdate(svc: KObject, old: KObject, dryRun: boolean): (success: boolean) => void {
    const txn = new Transaction(this, ownerOf(svc), dryRun);
    try {
      svc.spec ??= {};
      const oldIPs = allocatedClusterIPs(old);
      // Also a Service stored without one (written before the allocator existed) gets its address now.
      if (needsClusterIP(svc) && (!needsClusterIP(old) || oldIPs.length === 0)) this.allocateClusterIP(txn, svc);
      const newIPs = new Set(allocatedClusterIPs(svc));
      for (const ip of oldIPs) {
        if (newIPs.has(ip)) continue;
        try {
          txn.releaseIPs.push(this.ipOffset(ip));
        } catch {
          /* out of the range: never ours */
        }
      }
      const oldPorts = new Set(((old.spec?.ports ?? []) as KObject[]).map((p) => p?.nodePort).filter((n): n is number => typeof n === 'number' && n > 0));
      this.allocateNodePorts(txn, svc, oldPorts);
      const oldHC: number = needsHealthCheckNodePort(old) ? old.spec?.healthCheckNodePort ?? 0 : 0;
      if (needsHealthCheckNodePort(svc)) {
        const hc: number = svc.spec.healthCheckNodePort ?? 0;
        if (oldHC && hc !== oldHC)
          throw invalidService(svc, [healthCheckNodePortError(hc, 'cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update')]);
        if (!oldHC) this.allocateHealthCheckNodePort(txn, svc);
      }
      const held = new Set(allocatedNodePorts(svc));
      for (const p of allocatedNodePorts(old)) if (!held.has(p)) txn.releasePorts.push(p);
    } catch (e) {
      txn.finish(false);
      throw e;
    }
    return txn.finish;
  }

  /** AfterDelete: the Service's addresses and ports go back to the pool. */
  release(svc: KObject): void {
    const owner = ownerOf(svc);
    for (const ip of allocatedClusterIPs(svc)) {
      try {
        this.freeIP(this.ipOffset(ip), owner);
      } catch {
        /* out of the range: never ours */
      }
    }
    for (const p of allocatedNodePorts(svc)) this.freePort(p, owner);
  }

  /** The hooks the REST storage calls around Service writes. */
  hooks(): StorageHooks {
    return {
      beginCreate: (obj, dryRun) => this.beginCreate(obj, dryRun),
      beginUpdate: (obj, old, dryRun) => this.beginUpdate(obj, old, dryRun),
      afterDelete: (obj) => this.release(obj),
    };
  }
}

/** A later port with the same port number that names its node port (kube's findRequestedNodePort). */
function findRequestedNodePort(ports: KObject[], port: number): number {
  for (const p of ports) if (p?.port === port && typeof p.nodePort === 'number' && p.nodePort > 0) return p.nodePort;
  return 0;
}

function portFieldError(i: number, np: number, reason: string): FieldError {
  if (reason.startsWith('provided port is not in the valid range')) return nodePortNotInRangeError(i, np);
  if (reason === new AlreadyAllocatedError('port').message) return nodePortAllocatedError(i, np);
  return { type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: np, detail: reason };
}

function invalidService(svc: KObject, errs: FieldError[]): ApiError {
  return ApiError.invalid('Service', '', svc.metadata?.name ?? '', errs);
}
