/**
 * @module The cluster DNS zone as an in-memory index (the records of CoreDNS's kubernetes
 * plugin and the Kubernetes DNS specification): Services, their EndpointSlices and, in
 * `verified` pod mode, Pods go in through informer events; every query is a few map look-ups.
 */
import type { Answer as PacketAnswer, OptAnswer } from 'dns-packet';
import type { KObject } from '../../api/types.js';

/** A resource record (dns-packet's answers without the EDNS pseudo-record). */
export type Answer = Exclude<PacketAnswer, OptAnswer>;

/** CoreDNS's kubernetes plugin default. */
export const recordTTL = 5;

/** How `a-b-c-d.ns.pod.<zone>` is answered: CoreDNS's `pods` option (k3s: insecure). */
export type PodsMode = 'disabled' | 'insecure' | 'verified';

export interface LookupResult {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: Answer[];
  additionals: Answer[];
  authorities: Answer[];
  /** An ExternalName target outside the zone: the server resolves it upstream and appends. */
  chase?: string;
}

type Srv = { priority: number; weight: number; port: number; target: string };

/** One owner name's records. */
interface Entry {
  a: string[];
  aaaa: string[];
  srv: Srv[];
  cname?: string;
  txt?: string[];
}

interface Contribution {
  names: string[];
  ptrs: Array<[string, string]>;
}

const serviceNameLabel = 'kubernetes.io/service-name';

/** 10.43.0.5 → 5.0.43.10.in-addr.arpa; IPv6 nibbles under ip6.arpa. */
export function reverseName(ip: string): string | undefined {
  if (ip.includes('.') && !ip.includes(':')) {
    const parts = ip.split('.');
    if (parts.length !== 4) return undefined;
    return `${parts.reverse().join('.')}.in-addr.arpa`;
  }
  const groups = expandIPv6(ip);
  if (!groups) return undefined;
  const hex = groups.map((g) => g.toString(16).padStart(4, '0')).join('');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}

function expandIPv6(ip: string): number[] | undefined {
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - left.length - right.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const out = [...left, ...new Array(fill).fill(0), ...right];
  return out.some((n) => Number.isNaN(n) || n < 0 || n > 0xffff) ? undefined : out;
}

function isIPv4(s: string): boolean {
  const p = s.split('.');
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255);
}

/** An endpoint's DNS label: its hostname, else its address with dashes (CoreDNS's endpointHostname). */
function endpointLabel(ep: KObject, ip: string): string {
  if (typeof ep.hostname === 'string' && ep.hostname) return ep.hostname.toLowerCase();
  return ip.includes(':') ? (expandIPv6(ip) ?? []).map((g) => g.toString(16)).join('-') : ip.replace(/\./g, '-');
}

export class DnsIndex {
  readonly zone: string;
  private readonly services = new Map<string, KObject>();
  private readonly slices = new Map<string, Map<string, KObject>>();
  private readonly sliceOwner = new Map<string, string>();
  private readonly names = new Map<string, Entry>();
  /** Names that exist because something lives below them (empty non-terminals answer NODATA). */
  private readonly interior = new Map<string, number>();
  private readonly ptrs = new Map<string, string[]>();
  private readonly contributions = new Map<string, Contribution>();
  private readonly podIPs = new Map<string, Map<string, number>>();
  /** SOA serial: the time of the last change, in seconds (as CoreDNS does). */
  private serial = Math.floor(Date.now() / 1000);
  /** Moves on every change: answers cached against an older generation are stale. */
  generation = 0;

  constructor(
    zone: string,
    /** The cluster DNS address: the zone's NS record points at it. */
    private readonly nameserverIP: string,
    private readonly podsMode: PodsMode = 'insecure',
  ) {
    this.zone = zone.toLowerCase().replace(/\.$/, '');
  }

  /** Whether a (lower-cased, without the final dot) name is in the cluster zone. */
  inZone(name: string): boolean {
    return name === this.zone || name.endsWith(`.${this.zone}`);
  }

  // ---- informer events ----

  upsertService(svc: KObject): void {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    this.services.set(key, svc);
    this.rebuild(key);
  }

  deleteService(svc: KObject): void {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    this.services.delete(key);
    this.rebuild(key);
  }

  upsertSlice(slice: KObject): void {
    const sliceKey = `${slice.metadata?.namespace}/${slice.metadata?.name}`;
    const svcName = slice.metadata?.labels?.[serviceNameLabel];
    const owner = svcName ? `${slice.metadata?.namespace}/${svcName}` : undefined;
    const prev = this.sliceOwner.get(sliceKey);
    if (prev && prev !== owner) {
      this.slices.get(prev)?.delete(sliceKey);
      this.rebuild(prev);
    }
    if (!owner) {
      this.sliceOwner.delete(sliceKey);
      return;
    }
    this.sliceOwner.set(sliceKey, owner);
    let m = this.slices.get(owner);
    if (!m) this.slices.set(owner, (m = new Map()));
    m.set(sliceKey, slice);
    this.rebuild(owner);
  }

  deleteSlice(slice: KObject): void {
    const sliceKey = `${slice.metadata?.namespace}/${slice.metadata?.name}`;
    const owner = this.sliceOwner.get(sliceKey);
    if (!owner) return;
    this.sliceOwner.delete(sliceKey);
    const m = this.slices.get(owner);
    m?.delete(sliceKey);
    if (m && m.size === 0) this.slices.delete(owner);
    this.rebuild(owner);
  }

  /** Pods by IP, for `pods verified`. */
  upsertPod(pod: KObject, old?: KObject): void {
    this.generation++;
    if (old) this.deletePod(old);
    const ns = pod.metadata?.namespace ?? '';
    for (const p of (pod.status?.podIPs ?? (pod.status?.podIP ? [{ ip: pod.status.podIP }] : [])) as Array<{ ip?: string }>) {
      if (!p?.ip) continue;
      let m = this.podIPs.get(p.ip);
      if (!m) this.podIPs.set(p.ip, (m = new Map()));
      m.set(ns, (m.get(ns) ?? 0) + 1);
    }
  }

  deletePod(pod: KObject): void {
    this.generation++;
    const ns = pod.metadata?.namespace ?? '';
    for (const p of (pod.status?.podIPs ?? (pod.status?.podIP ? [{ ip: pod.status.podIP }] : [])) as Array<{ ip?: string }>) {
      const m = p?.ip ? this.podIPs.get(p.ip) : undefined;
      if (!m) continue;
      const n = (m.get(ns) ?? 0) - 1;
      if (n > 0) m.set(ns, n);
      else m.delete(ns);
      if (m.size === 0) this.podIPs.delete(p.ip!);
    }
  }

  // ---- building ----

  private rebuild(key: string): void {
    this.generation++;
    this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000));
    const prev = this.contributions.get(key);
    if (prev) {
      for (const n of prev.names) this.removeName(n);
      for (const [rev, target] of prev.ptrs) {
        const list = (this.ptrs.get(rev) ?? []).filter((t) => t !== target);
        if (list.length) this.ptrs.set(rev, list);
        else this.ptrs.delete(rev);
      }
      this.contributions.delete(key);
    }
    const svc = this.services.get(key);
    if (!svc) return;
    const c: Contribution = { names: [], ptrs: [] };
    this.contributions.set(key, c);
    const ns = String(svc.metadata?.namespace ?? '').toLowerCase();
    const name = String(svc.metadata?.name ?? '').toLowerCase();
    const base = `${name}.${ns}.svc.${this.zone}`;
    const spec = svc.spec ?? {};
    const entry = this.entry(c, base);
    if (spec.type === 'ExternalName') {
      if (spec.externalName) entry.cname = String(spec.externalName).toLowerCase().replace(/\.$/, '');
      return;
    }
    const ports: KObject[] = spec.ports ?? [];
    const ips: string[] = ((spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []) as string[]).filter((ip) => ip && ip !== 'None');
    if (ips.length > 0) {
      for (const ip of ips) (isIPv4(ip) ? entry.a : entry.aaaa).push(ip);
      for (const p of ports) {
        const srv: Srv = { priority: 0, weight: 100, port: p.port, target: base };
        entry.srv.push(srv);
        if (p.name) this.entry(c, `_${String(p.name).toLowerCase()}._${String(p.protocol ?? 'TCP').toLowerCase()}.${base}`).srv.push(srv);
      }
      for (const ip of ips) {
        const rev = reverseName(ip);
        if (rev) this.addPtr(c, rev, base);
      }
      return;
    }
    // Headless: the endpoints themselves, each with its own name.
    const publishNotReady = spec.publishNotReadyAddresses === true;
    const seen = new Set<string>();
    const srvByPort: Array<{ owner: string; port: number; target: string }> = [];
    for (const slice of this.slices.get(key)?.values() ?? []) {
      if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
      for (const ep of (slice.endpoints ?? []) as KObject[]) {
        // A nil ready condition means ready (discovery/v1).
        if (ep.conditions?.ready === false && !publishNotReady) continue;
        for (const ip of (ep.addresses ?? []) as string[]) {
          const label = endpointLabel(ep, ip);
          const host = `${label}.${base}`;
          const v4 = isIPv4(ip);
          if (!seen.has(ip)) {
            seen.add(ip);
            (v4 ? entry.a : entry.aaaa).push(ip);
            const rev = reverseName(ip);
            if (rev) this.addPtr(c, rev, host);
          }
          const hostEntry = this.entry(c, host);
          const list = v4 ? hostEntry.a : hostEntry.aaaa;
          if (!list.includes(ip)) list.push(ip);
          for (const p of (slice.ports ?? []) as KObject[]) {
            if (typeof p?.port !== 'number') continue;
            const owner = p.name ? `_${String(p.name).toLowerCase()}._${String(p.protocol ?? 'TCP').toLowerCase()}.${base}` : '';
            if (!srvByPort.some((s) => s.owner === owner && s.port === p.port && s.target === host)) srvByPort.push({ owner, port: p.port, target: host });
          }
        }
      }
    }
    for (const s of srvByPort) {
      const srv: Srv = { priority: 0, weight: 100, port: s.port, target: s.target };
      if (s.owner) this.entry(c, s.owner).srv.push(srv);
      entry.srv.push(srv);
    }
  }

  private entry(c: Contribution, name: string): Entry {
    let e = this.names.get(name);
    if (!e) {
      e = { a: [], aaaa: [], srv: [] };
      this.names.set(name, e);
      c.names.push(name);
      for (let n = parentOf(name); n !== undefined && this.inZone(n); n = parentOf(n)) this.interior.set(n, (this.interior.get(n) ?? 0) + 1);
    }
    return e;
  }

  private removeName(name: string): void {
    if (!this.names.delete(name)) return;
    for (let n = parentOf(name); n !== undefined && this.inZone(n); n = parentOf(n)) {
      const k = (this.interior.get(n) ?? 0) - 1;
      if (k > 0) this.interior.set(n, k);
      else this.interior.delete(n);
    }
  }

  private addPtr(c: Contribution, rev: string, target: string): void {
    const list = this.ptrs.get(rev) ?? [];
    if (!list.includes(target)) list.push(target);
    this.ptrs.set(rev, list);
    c.ptrs.push([rev, target]);
  }

  // ---- answering ----

  /** Whether this index holds a PTR for the (lower-cased) reverse name. */
  hasPtr(name: string): boolean {
    return this.ptrs.has(name);
  }

  private soa(): Answer {
    return {
      name: this.zone,
      type: 'SOA',
      ttl: recordTTL,
      class: 'IN',
      data: { mname: `ns.dns.${this.zone}`, rname: `hostmaster.${this.zone}`, serial: this.serial >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: recordTTL },
    };
  }

  private empty(rcode: 'NOERROR' | 'NXDOMAIN'): LookupResult {
    return { rcode, answers: [], additionals: [], authorities: [this.soa()] };
  }

  /**
   * Answers a question about a name in the zone or a reverse name (lower-cased, no trailing
   * dot). Reverse names this index does not hold answer NXDOMAIN; the server forwards them.
   */
  lookup(name: string, type: string): LookupResult {
    if (!this.inZone(name)) {
      const targets = this.ptrs.get(name);
      if (!targets) return this.empty('NXDOMAIN');
      if (type !== 'PTR' && type !== 'ANY') return this.empty('NOERROR');
      return { rcode: 'NOERROR', answers: targets.map((t) => ({ name, type: 'PTR', ttl: recordTTL, class: 'IN', data: t }) as Answer), additionals: [], authorities: [] };
    }
    if (name === this.zone) return this.apex(type);
    if (name === `ns.dns.${this.zone}`) {
      if (type === 'A' || type === 'ANY') return { rcode: 'NOERROR', answers: [this.a(name, this.nameserverIP)], additionals: [], authorities: [] };
      return this.empty('NOERROR');
    }
    if (name === `dns-version.${this.zone}`) {
      // The Kubernetes DNS specification's schema version record.
      if (type === 'TXT' || type === 'ANY') return { rcode: 'NOERROR', answers: [{ name, type: 'TXT', ttl: recordTTL, class: 'IN', data: '1.1.0' }], additionals: [], authorities: [] };
      return this.empty('NOERROR');
    }
    const pod = this.podRecord(name, type);
    if (pod) return pod;
    const e = this.names.get(name);
    if (!e) return this.empty(this.interior.has(name) || this.isStructural(name) ? 'NOERROR' : 'NXDOMAIN');
    if (e.cname) {
      const cname: Answer = { name, type: 'CNAME', ttl: recordTTL, class: 'IN', data: e.cname };
      if (type === 'CNAME') return { rcode: 'NOERROR', answers: [cname], additionals: [], authorities: [] };
      if (this.inZone(e.cname)) {
        const inner = this.lookup(e.cname, type);
        return { ...inner, answers: [cname, ...inner.answers] };
      }
      return { rcode: 'NOERROR', answers: [cname], additionals: [], authorities: [], chase: type === 'A' || type === 'AAAA' ? e.cname : undefined };
    }
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    if (type === 'A' || type === 'ANY') for (const ip of e.a) answers.push(this.a(name, ip));
    if (type === 'AAAA' || type === 'ANY') for (const ip of e.aaaa) answers.push({ name, type: 'AAAA', ttl: recordTTL, class: 'IN', data: ip });
    if (type === 'SRV' || type === 'ANY') {
      const targets = new Set<string>();
      // CoreDNS shares a weight of 100 among the records of one priority.
      const weight = Math.max(1, Math.floor(100 / Math.max(1, e.srv.length)));
      for (const s of e.srv) {
        answers.push({ name, type: 'SRV', ttl: recordTTL, class: 'IN', data: { ...s, weight } });
        targets.add(s.target);
      }
      // The targets' addresses ride along, as CoreDNS adds them to the additional section.
      for (const t of targets) {
        const te = this.names.get(t);
        for (const ip of te?.a ?? []) additionals.push(this.a(t, ip));
        for (const ip of te?.aaaa ?? []) additionals.push({ name: t, type: 'AAAA', ttl: recordTTL, class: 'IN', data: ip });
      }
    }
    if (answers.length === 0) return this.empty('NOERROR');
    return { rcode: 'NOERROR', answers, additionals, authorities: [] };
  }

  private a(name: string, ip: string): Answer {
    return { name, type: 'A', ttl: recordTTL, class: 'IN', data: ip };
  }

  private apex(type: string): LookupResult {
    const answers: Answer[] = [];
    if (type === 'SOA' || type === 'ANY') answers.push(this.soa());
    if (type === 'NS' || type === 'ANY') answers.push({ name: this.zone, type: 'NS', ttl: recordTTL, class: 'IN', data: `ns.dns.${this.zone}` });
    if (answers.length === 0) return this.empty('NOERROR');
    const additionals = type === 'NS' || type === 'ANY' ? [this.a(`ns.dns.${this.zone}`, this.nameserverIP)] : [];
    return { rcode: 'NOERROR', answers, additionals, authorities: [] };
  }

  /** `svc.<zone>`, `pod.<zone>` and `<ns>.pod.<zone>` always exist. */
  private isStructural(name: string): boolean {
    const rel = name.slice(0, -(this.zone.length + 1));
    const labels = rel.split('.');
    if (labels.length === 1) return labels[0] === 'svc' || (labels[0] === 'pod' && this.podsMode !== 'disabled');
    return labels.length === 2 && labels[1] === 'pod' && this.podsMode !== 'disabled';
  }

  /** `1-2-3-4.ns.pod.<zone>`: the address spelled in the name (insecure) or a pod that has it (verified). */
  private podRecord(name: string, type: string): LookupResult | undefined {
    if (this.podsMode === 'disabled') return undefined;
    const rel = name.slice(0, -(this.zone.length + 1));
    const labels = rel.split('.');
    if (labels.length !== 3 || labels[2] !== 'pod') return undefined;
    const ip = labels[0].replace(/-/g, '.');
    let addr: string | undefined;
    let v4 = false;
    if (isIPv4(ip)) {
      addr = ip;
      v4 = true;
    } else if (labels[0].includes('-') && expandIPv6(labels[0].replace(/-/g, ':'))) {
      addr = labels[0].replace(/-/g, ':');
    }
    if (!addr) return this.empty('NXDOMAIN');
    if (this.podsMode === 'verified' && !this.podIPs.get(addr)?.has(labels[1])) return this.empty('NXDOMAIN');
    if ((v4 && (type === 'A' || type === 'ANY')) || (!v4 && (type === 'AAAA' || type === 'ANY')))
      return { rcode: 'NOERROR', answers: [{ name, type: v4 ? 'A' : 'AAAA', ttl: recordTTL, class: 'IN', data: addr }], additionals: [], authorities: [] };
    return this.empty('NOERROR');
  }

  /** Counts for logs and tests. */
  get size(): { names: number; ptrs: number; services: number } {
    return { names: this.names.size, ptrs: this.ptrs.size, services: this.services.size };
  }
}

function parentOf(name: string): string | undefined {
  const i = name.indexOf('.');
  return i < 0 ? undefined : name.slice(i + 1);
}
