/**
 * @module The host facilities the kernel proxy uses: the `nft` binary (one transaction per
 * call, read from stdin) and per-interface sysctls it sets and later restores.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';

/** `nft` failed; stderr says which line of the transaction. */
export class NftError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`nft ${args.join(' ')}: ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
    this.name = 'NftError';
  }
}

export function nft(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new NftError(args, String(stderr || err.message)));
      else resolve(String(stdout));
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

/** Applies one transaction: all of it or nothing. */
export function nftApply(transaction: string): Promise<string> {
  return nft(['-f', '-'], transaction);
}

/** Whether `nft` runs and may change the ruleset (a throwaway table, created and deleted in one transaction). */
export async function nftUsable(): Promise<string | undefined> {
  const probe = `skiff_probe_${process.pid}`;
  try {
    await nftApply(`add table ip ${probe}\ndelete table ip ${probe}\n`);
    return undefined;
  } catch (err) {
    return err instanceof NftError ? err.stderr.trim() || err.message : String(err);
  }
}

/** Deletes a table; quiet when it does not exist. */
export async function nftDeleteTable(table: string): Promise<void> {
  await nftApply(`add table ip ${table}\ndelete table ip ${table}\n`);
}

function sysctlPath(name: string): string {
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

/** An interface name inside a sysctl path (dots in names would be read as separators). */
export function ifaceSysctl(key: 'forwarding' | 'route_localnet', iface: string): string {
  return `/proc/sys/net/ipv4/conf/${iface}/${key}`;
}

export async function readSysctl(pathOrName: string): Promise<string | undefined> {
  try {
    return (await readFile(pathOrName.startsWith('/') ? pathOrName : sysctlPath(pathOrName), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Sysctls set by the proxy, remembered so stop() puts back what was there. */
export class SysctlGuard {
  private readonly saved = new Map<string, string>();

  /** Sets path to value when it differs; false when the path does not exist (yet). */
  async ensure(path: string, value: string): Promise<boolean> {
    const cur = await readSysctl(path);
    if (cur === undefined) return false;
    if (cur === value) return true;
    if (!this.saved.has(path)) this.saved.set(path, cur);
    await writeFile(path, value);
    return true;
  }

  async restore(): Promise<void> {
    for (const [path, value] of this.saved) await writeFile(path, value).catch(() => undefined);
    this.saved.clear();
  }
}

/**
 * Turns on hairpin mode on every port of the bridge (kubelet's --hairpin-mode=hairpin-veth,
 * the CNI bridge plugin's hairpinMode). With br_netfilter, a pod's packet DNATed back to
 * itself is bridged, and a bridge sends nothing back out the port it came in on otherwise.
 * Returns how many ports were changed.
 */
export async function ensureHairpin(bridge: string): Promise<number> {
  let ports: string[];
  try {
    ports = await readdir(`/sys/class/net/${bridge}/brif`);
  } catch {
    return 0;
  }
  let changed = 0;
  for (const port of ports) {
    const path = `/sys/class/net/${bridge}/brif/${port}/hairpin_mode`;
    if ((await readSysctl(path)) === '0') {
      await writeFile(path, '1').catch(() => undefined);
      changed++;
    }
  }
  return changed;
}

/**
 * Deletes UDP conntrack entries (kube-proxy's conntrack cleanup): UDP has no connection to
 * end, so without this a client keeps talking to an endpoint that is gone, or keeps being
 * rejected after a Service got its first endpoint. `endpoint` narrows it to entries NATed to
 * that address. Quiet when `conntrack` is missing or nothing matched.
 */
export function clearUdpConntrack(serviceIP: string, port: number, endpoint?: string): Promise<void> {
  const args = ['-D', '-p', 'udp', '--orig-dst', serviceIP, '--dport', String(port), ...(endpoint ? ['--reply-src', endpoint] : [])];
  return new Promise((resolve) => execFile('conntrack', args, { timeout: 10_000 }, () => resolve()));
}
