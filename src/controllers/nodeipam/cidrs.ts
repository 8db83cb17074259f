/**
 * @module IPv4 CIDR arithmetic and the CIDR set of the node IPAM controller (kube's
 * pkg/controller/nodeipam/ipam/cidrset): a cluster CIDR cut into equal node blocks, handed
 * out round-robin from the last allocation, each at most once until released.
 */

/** A parsed IPv4 block: network address as a 32-bit number and prefix length. */
export interface Ipv4Cidr {
  base: number;
  prefix: number;
}

/** A CIDR that cannot be parsed, or a mask size that does not fit the cluster CIDR. */
export class CidrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CidrError';
  }
}

export function parseIpv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "10.42.0.0/16"; host bits are masked off, as Go's net.ParseCIDR does. */
export function parseCidr(cidr: string): Ipv4Cidr {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr.trim());
  const ip = m ? parseIpv4(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new CidrError(`invalid CIDR address: ${cidr}`);
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

/** Whether `inner` lies wholly inside `outer`. */
export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base < outer.base + 2 ** (32 - outer.prefix);
}

/** The node blocks of a cluster CIDR (cidrset.CidrSet): allocate, occupy, release. */
export class CidrSet {
  private readonly cluster: Ipv4Cidr;
  private readonly blockSize: number;
  readonly maxCidrs: number;
  private readonly used = new Set<number>();
  private next = 0;

  constructor(clusterCIDR: string, readonly nodeMaskSize: number) {
    this.cluster = parseCidr(clusterCIDR);
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize < this.cluster.prefix || nodeMaskSize > 30)
      throw new CidrError(`node CIDR mask size ${nodeMaskSize} must be between the cluster CIDR's prefix (${this.cluster.prefix}) and 30`);
    this.blockSize = 2 ** (32 - nodeMaskSize);
    this.maxCidrs = 2 ** (nodeMaskSize - this.cluster.prefix);
  }

  get allocatedCount(): number {
    return this.used.size;
  }

  /** The next free block after the last one handed out, or undefined when all are taken. */
  allocateNext(): string | undefined {
    for (let i = 0; i < this.maxCidrs; i++) {
      const index = (this.next + i) % this.maxCidrs;
      if (this.used.has(index)) continue;
      this.used.add(index);
      this.next = (index + 1) % this.maxCidrs;
      return formatCidr({ base: this.cluster.base + index * this.blockSize, prefix: this.nodeMaskSize });
    }
    return undefined;
  }

  /** Marks every node block overlapping `cidr` used; false when it lies outside the cluster CIDR. */
  occupy(cidr: string): boolean {
    const range = this.indexRange(cidr);
    if (!range) return false;
    for (let i = range[0]; i <= range[1]; i++) this.used.add(i);
    return true;
  }

  release(cidr: string): void {
    const range = this.indexRange(cidr);
    if (!range) return;
    for (let i = range[0]; i <= range[1]; i++) this.used.delete(i);
  }

  isUsed(cidr: string): boolean {
    const range = this.indexRange(cidr);
    return !!range && this.used.has(range[0]);
  }

  private indexRange(cidr: string): [number, number] | undefined {
    let c: Ipv4Cidr;
    try {
      c = parseCidr(cidr);
    } catch {
      return undefined;
    }
    const end = c.base + 2 ** (32 - c.prefix) - 1;
    const clusterEnd = this.cluster.base + this.blockSize * this.maxCidrs - 1;
    if (end < this.cluster.base || c.base > clusterEnd) return undefined;
    const first = Math.floor((Math.max(c.base, this.cluster.base) - this.cluster.base) / this.blockSize);
    const last = Math.floor((Math.min(end, clusterEnd) - this.cluster.base) / this.blockSize);
    return [first, last];
  }
}
