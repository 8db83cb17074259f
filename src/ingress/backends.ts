/**
 * @module Where an Ingress backend's traffic goes: the Service port it names (by number or
 * name), then the ready endpoints of that port in the Service's EndpointSlices — pod
 * addresses directly, as ingress-nginx and Traefik do, not the ClusterIP — taken in turn.
 */
import type { KObject } from '../api/types.js';
import type { Informer } from '../client/index.js';
import type { BackendRef } from './routes.js';

export interface Endpoint {
  address: string;
  port: number;
}

export const serviceNameLabel = 'kubernetes.io/service-name';

export class Backends {
  private readonly turn = new Map<string, number>();

  constructor(
    private readonly services: Informer,
    private readonly slices: Informer,
  ) {}

  /** Ready endpoints of the backend; an empty list when the Service or its port is unknown. */
  endpoints(b: BackendRef): Endpoint[] {
    const svc = this.services.get(`${b.namespace}/${b.service}`);
    if (!svc) return [];
    const ports = (svc.spec?.ports ?? []) as KObject[];
    const port = ports.find((p) => (b.port.name ? p.name === b.port.name : p.port === b.port.number));
    if (!port) return [];
    const portName = String(port.name ?? '');
    const out: Endpoint[] = [];
    const seen = new Set<string>();
    for (const slice of this.slices.list()) {
      if (slice.metadata?.namespace !== b.namespace || slice.metadata?.labels?.[serviceNameLabel] !== b.service) continue;
      if (slice.addressType && slice.addressType !== 'IPv4') continue;
      const sp = ((slice.ports ?? []) as KObject[]).find((p) => String(p.name ?? '') === portName);
      const number = sp?.port ?? (typeof port.targetPort === 'number' ? port.targetPort : undefined);
      if (typeof number !== 'number') continue;
      for (const ep of (slice.endpoints ?? []) as KObject[]) {
        if (ep.conditions?.ready === false) continue;
        for (const address of (ep.addresses ?? []) as string[]) {
          const k = `${address}:${number}`;
          if (seen.has(k)) continue;
          seen.add(k);
          out.push({ address, port: number });
        }
      }
    }
    return out;
  }

  /** The next endpoint of the backend in round-robin order. */
  pick(b: BackendRef): Endpoint | undefined {
    const eps = this.endpoints(b);
    if (eps.length === 0) return undefined;
    const key = `${b.namespace}/${b.service}:${b.port.name ?? b.port.number}`;
    const i = (this.turn.get(key) ?? 0) % eps.length;
    this.turn.set(key, i + 1);
    return eps[i];
  }
}
