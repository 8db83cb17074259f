/**
 * @module The Kubernetes service environment variables (kubelet's getServiceEnvVarMap and
 * envvars.FromServices): FOO_SERVICE_HOST / FOO_SERVICE_PORT(_NAME) plus the Docker-link
 * style FOO_PORT / FOO_PORT_80_TCP… for each service with a cluster IP — the pod's own
 * namespace when enableServiceLinks, and the master `kubernetes` service always.
 */
import type { KObject } from '../../api/types.js';

/** kubelet's --master-service-namespace and the services always exported from it. */
export const masterServiceNamespace = 'default';
const masterServices = new Set(['kubernetes']);

export interface EnvVar {
  name: string;
  value: string;
}

/** "my-svc" → "MY_SVC", the prefix of every variable of that service. */
export function serviceEnvName(serviceName: string): string {
  return serviceName.toUpperCase().replace(/-/g, '_');
}

/** A cluster IP is set unless empty or "None" (headless); ExternalName services have none. */
export function isServiceIPSet(svc: KObject): boolean {
  const ip = svc.spec?.clusterIP;
  return typeof ip === 'string' && ip !== '' && ip !== 'None';
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The variables of the given services, in the order kubelet builds them per service. */
export function serviceEnvVars(services: KObject[]): EnvVar[] {
  const out: EnvVar[] = [];
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const ports: KObject[] = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];
    if (ports.length === 0) continue;
    const prefix = serviceEnvName(svc.metadata?.name ?? '');
    const ip: string = svc.spec.clusterIP;
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    // The first port keeps the name without a port suffix, for compatibility.
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(ports[0].port) });
    for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${serviceEnvName(p.name)}`, value: String(p.port) });
    ports.forEach((p, i) => {
      const proto = String(p.protocol || 'TCP').toLowerCase();
      const url = `${proto}://${hostPort(ip, p.port)}`;
      // Docker links special-case the first port as FOO_PORT.
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: proto }, { name: `${pp}_PORT`, value: String(p.port) }, { name: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * The service variables a pod in `namespace` gets: the master services from the default
 * namespace always, the namespace's own services too when enableServiceLinks (a service of
 * the same name in the pod's namespace wins over the master one).
 */
export function serviceEnvMap(services: KObject[], namespace: string, enableServiceLinks: boolean): Map<string, string> {
  const chosen = new Map<string, KObject>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name: string = svc.metadata?.name ?? '';
    const ns: string = svc.metadata?.namespace ?? '';
    if (ns === masterServiceNamespace && masterServices.has(name)) {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (ns === namespace && enableServiceLinks) chosen.set(name, svc);
  }
  const ordered = [...chosen.values()].sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  return new Map(serviceEnvVars(ordered).map((e) => [e.name, e.value]));
}
