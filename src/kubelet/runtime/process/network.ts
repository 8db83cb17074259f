/**
 * @module Pod networking for the process runtime, as the CNI bridge plugin with
 * host-local IPAM does it: one Linux bridge per node holding the first address of the
 * node's pod CIDR, one network namespace per pod joined to the bridge by a veth pair
 * (eth0 inside), an address from the CIDR recorded on disk so a restarted agent hands
 * out no address twice, loopback up and a default route via the bridge.
 */
import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';

/** A command the runtime ran (ip, nsenter…) failed. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly args: string[],
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(`${command} ${args.join(' ')}: ${stderr.trim() || `exit ${code}`}`);
    this.name = 'CommandError';
  }
}

/** Runs a host command; rejects with CommandError carrying its stderr. */
export function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new CommandError(command, args, (err as NodeJS.ErrnoException).code ?? null, String(stderr || err.message)));
      else resolve(String(stdout));
    });
    // The command may exit before reading its input: a closed pipe is not our error.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

// ---- IPv4 arithmetic ----

export function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`invalid IPv4 address "${ip}"`);
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function numberToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  network: number;
  prefix: number;
  /** Number of addresses in the block. */
  size: number;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (!Number.isInteger(prefix) || prefix < 8 || prefix > 30) throw new RangeError(`pod CIDR "${cidr}" must be an IPv4 block between /8 and /30`);
  const size = 2 ** (32 - prefix);
  const network = ipToNumber(ip) - (ipToNumber(ip) % size);
  return { network, prefix, size };
}

/** The bridge's address: the first host address of the block (10.42.0.1 for 10.42.0.0/24). */
export function gatewayOf(cidr: string): string {
  return numberToIp(parseCidr(cidr).network + 1);
}

// ---- host-local IPAM ----

interface IpamFile {
  cidr: string;
  /** The last address handed out: allocation continues after it (host-local's round robin). */
  last?: string;
  allocations: Record<string, string>;
}

/** Thrown when the pod CIDR has no free address left. */
export class AddressExhaustedError extends Error {
  constructor(readonly cidr: string) {
    super(`no free address left in pod CIDR ${cidr}`);
    this.name = 'AddressExhaustedError';
  }
}

/** host-local IPAM: addresses of one CIDR, each owned by a sandbox id, persisted as JSON. */
export class Ipam {
  private state?: IpamFile;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    readonly cidr: string,
  ) {}

  private async load(): Promise<IpamFile> {
    if (this.state) return this.state;
    let state: IpamFile = { cidr: this.cidr, allocations: {} };
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as IpamFile;
      // A different CIDR than last time: old addresses mean nothing in the new block.
      if (parsed.cidr === this.cidr) state = { cidr: this.cidr, last: parsed.last, allocations: parsed.allocations ?? {} };
    } catch {
      /* first start */
    }
    this.state = state;
    return state;
  }

  private async save(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(this.state));
    await rename(tmp, this.file);
  }

  /** Serializes IPAM operations: many pod workers allocate at once. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** The owner's address, allocating one if it has none. */
  allocate(owner: string): Promise<string> {
    return this.locked(async () => {
      const s = await this.load();
      const mine = Object.entries(s.allocations).find(([, o]) => o === owner);
      if (mine) return mine[0];
      const { network, size } = parseCidr(this.cidr);
      const first = network + 2;
      const lastUsable = network + size - 2;
      const count = lastUsable - first + 1;
      const start = s.last ? ipToNumber(s.last) + 1 : first;
      for (let i = 0; i < count; i++) {
        let n = start + i;
        if (n > lastUsable || n < first) n = first + ((n - first) % count + count) % count;
        const ip = numberToIp(n);
        if (s.allocations[ip]) continue;
        s.allocations[ip] = owner;
        s.last = ip;
        await this.save();
        return ip;
      }
      throw new AddressExhaustedError(this.cidr);
    });
  }

  /** Frees whatever the owner holds. */
  release(owner: string): Promise<void> {
    return this.locked(async () => {
      const s = await this.load();
      let changed = false;
      for (const [ip, o] of Object.entries(s.allocations))
        if (o === owner) {
          delete s.allocations[ip];
          changed = true;
        }
      if (changed) await this.save();
    });
  }

  /** Frees addresses whose owners no longer exist (after a crash). */
  retainOnly(owners: Set<string>): Promise<string[]> {
    return this.locked(async () => {
      const s = await this.load();
      const freed: string[] = [];
      for (const [ip, o] of Object.entries(s.allocations))
        if (!owners.has(o)) {
          delete s.allocations[ip];
          freed.push(ip);
        }
      if (freed.length) await this.save();
      return freed;
    });
  }

  async allocations(): Promise<Record<string, string>> {
    return { ...(await this.load()).allocations };
  }
}

// ---- bridge, namespaces, veths ----

export interface PodNetworkOptions {
  bridge: string;
  podCIDR: string;
  ipam: Ipam;
  ip?: string;
}

function ignoreMissing(err: unknown): void {
  const msg = err instanceof CommandError ? err.stderr : String(err);
  if (/No such file|Cannot find device|does not exist|not found/i.test(msg)) return;
  throw err;
}

/** The path `ip netns` mounts a named network namespace at. */
export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export class PodNetwork {
  readonly gateway: string;
  readonly prefix: number;
  private readonly ip: string;

  constructor(private readonly opts: PodNetworkOptions) {
    this.gateway = gatewayOf(opts.podCIDR);
    this.prefix = parseCidr(opts.podCIDR).prefix;
    this.ip = opts.ip ?? 'ip';
  }

  get bridge(): string {
    return this.opts.bridge;
  }

  private async linkExists(name: string): Promise<boolean> {
    try {
      await run(this.ip, ['link', 'show', 'dev', name]);
      return true;
    } catch {
      return false;
    }
  }

  /** Creates the node bridge with the gateway address once; an existing one is reused. */
  async ensureBridge(): Promise<void> {
    const br = this.opts.bridge;
    if (!(await this.linkExists(br))) {
      try {
        await run(this.ip, ['link', 'add', br, 'type', 'bridge']);
      } catch (err) {
        if (!(err instanceof CommandError && /File exists/.test(err.stderr))) throw err;
      }
    }
    const addrs = await run(this.ip, ['-o', '-4', 'addr', 'show', 'dev', br]);
    if (!addrs.includes(`inet ${this.gateway}/${this.prefix}`)) {
      try {
        await run(this.ip, ['addr', 'add', `${this.gateway}/${this.prefix}`, 'dev', br]);
      } catch (err) {
        if (!(err instanceof CommandError && /File exists/.test(err.stderr))) throw err;
      }
    }
    await run(this.ip, ['link', 'set', br, 'up']);
  }

  /** Deletes the bridge unless some pod (of any agent sharing it) is still plugged in; true when gone. */
  async removeBridge(): Promise<boolean> {
    if (!(await this.linkExists(this.opts.bridge))) return true;
    const ports = await run(this.ip, ['-o', 'link', 'show', 'master', this.opts.bridge]).catch(() => '');
    if (ports.trim()) return false;
    try {
      await run(this.ip, ['link', 'del', this.opts.bridge]);
    } catch (err) {
      ignoreMissing(err);
    }
    return true;
  }

  /**
   * Creates the pod's network namespace and plugs it into the bridge; returns its
   * address. A stale namespace or veth of the same name (a crash mid-setup) is replaced.
   */
  async setUp(owner: string, netns: string, hostVeth: string): Promise<string> {
    const ip = await this.opts.ipam.allocate(owner);
    // Two ip processes per pod (host side, then inside): under a burst of pods, forks are the cost.
    const host = [`netns add ${netns}`, `link add ${hostVeth} type veth peer name eth0 netns ${netns}`, `link set ${hostVeth} master ${this.opts.bridge} up`];
    const inside = ['link set lo up', `addr add ${ip}/${this.prefix} dev eth0`, 'link set eth0 up', `route add default via ${this.gateway} dev eth0`];
    try {
      try {
        await run(this.ip, ['-batch', '-'], host.join('\n') + '\n');
      } catch (err) {
        if (!(err instanceof CommandError && /File exists/.test(err.stderr))) throw err;
        // Left over from a crash mid-setup: replace it.
        await this.removeLinks(netns, hostVeth);
        await run(this.ip, ['-batch', '-'], host.join('\n') + '\n');
      }
      await run(this.ip, ['-n', netns, '-batch', '-'], inside.join('\n') + '\n');
      return ip;
    } catch (err) {
      await this.tearDown(owner, netns, hostVeth).catch(() => undefined);
      throw err;
    }
  }

  private async deleteNetns(netns: string): Promise<void> {
    try {
      await run(this.ip, ['netns', 'del', netns]);
    } catch (err) {
      ignoreMissing(err);
    }
  }

  private async removeLinks(netns: string, hostVeth: string): Promise<void> {
    await this.deleteNetns(netns);
    // The kernel destroys a namespace's devices asynchronously: delete our end now.
    try {
      await run(this.ip, ['link', 'del', hostVeth]);
    } catch (err) {
      ignoreMissing(err);
    }
  }

  /** Removes the namespace (and with it the veth pair) and frees the address. */
  async tearDown(owner: string, netns: string, hostVeth: string): Promise<void> {
    await this.removeLinks(netns, hostVeth);
    await this.opts.ipam.release(owner);
  }
}
