/**
 * @module The cluster DNS address on the node (NodeLocal DNSCache's approach): a dummy
 * interface in the node's network namespace (or loopback, without the dummy driver) carries
 * it as a /32, so pods reach a server on this node at that address through their default
 * route, with no proxy rule in between.
 */
import { execFile } from 'node:child_process';

export class InterfaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterfaceError';
  }
}

function ip(args: string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile('ip', args, { timeout: 10_000 }, (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stderr}` }));
  });
}

export interface NodeLocalAddress {
  /**
   * The address was there already (left by a server that was killed, or held by another one):
   * once this server has bound the port on it, no other does, and the address is this server's.
   */
  claim(): void;
  /** Takes the address off again when it is this server's (and the interface, when no address is left on it). */
  remove(): Promise<void>;
}

/**
 * Puts `address`/32 on dummy interface `name` (created when missing) and brings it up; where
 * the kernel has no dummy driver (some containers and sandboxes), on the loopback interface.
 */
export async function addNodeLocalAddress(name: string, address: string): Promise<NodeLocalAddress & { device: string }> {
  let device = name;
  const show = await ip(['link', 'show', 'dev', name]);
  if (!show.ok) {
    const add = await ip(['link', 'add', name, 'type', 'dummy']);
    if (!add.ok && !/exists/i.test(add.out)) device = 'lo';
  }
  if (device !== 'lo') {
    const up = await ip(['link', 'set', 'dev', device, 'up']);
    if (!up.ok) throw new InterfaceError(`cannot bring ${device} up: ${up.out.trim()}`);
  }
  const addr = await ip(['addr', 'add', `${address}/32`, 'dev', device]);
  // Another node agent in this namespace may hold it already: then it is not ours to remove.
  let added = addr.ok;
  if (!addr.ok && !/exists|already assigned/i.test(addr.out)) throw new InterfaceError(`cannot add ${address} to ${device}: ${addr.out.trim()}`);
  return {
    device,
    claim() {
      added = true;
    },
    async remove() {
      if (added) await ip(['addr', 'del', `${address}/32`, 'dev', device]);
      if (device === 'lo') return;
      // The interface is skiff's: whoever leaves it empty takes it away.
      const left = await ip(['-o', 'addr', 'show', 'dev', device]);
      if (left.ok && !/\binet\s/.test(left.out)) await ip(['link', 'del', device]);
    },
  };
}
