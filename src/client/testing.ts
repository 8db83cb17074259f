/**
 * @module Test support for components built on the client: polling with a deadline
 * (tests never sleep a fixed time), and informers over hand-made objects.
 */
import type { Client, Gvr } from './client.js';
import { Informer, InformerFactory, type InformerOptions } from './informer.js';

/** Polls fn until it returns a truthy value; fails with the last error after timeoutMs. */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * An InformerFactory whose informers for the given resources are caches the caller fills
 * with `seed()` (never listed or watched) — for objects the API would refuse in a test,
 * such as EndpointSlices with loopback addresses; every other resource is informed as usual.
 */
export class SeededInformerFactory extends InformerFactory {
  private readonly seeded = new Map<string, Informer>();

  constructor(client: Client, resources: Gvr[]) {
    super(client);
    for (const r of resources) this.seeded.set(r.resource, new Informer(client, r, {}));
  }

  override for(r: Gvr, o: Omit<InformerOptions, 'log'> = {}): Informer {
    return this.seeded.get(r.resource) ?? super.for(r, o);
  }
}
