/**
 * @module Runs one probe handler (httpGet, tcpSocket, grpc, exec) against a container, as
 * kubelet's prober does: the host defaults to the pod IP, a named port is looked up in
 * the container's ports, exec goes through the runtime. On a simulated runtime (hollow)
 * nothing listens, so the verdict comes from the pod annotation
 * `hollow.skiff.dev/probe-fail: liveness,readiness,startup` — failing with the message
 * the real prober would print — and is success otherwise.
 */
import type { KObject } from '../../api/types.js';
import type { PodRuntime } from '../runtime.js';
import { grpcProbe } from './grpc.js';
import { httpProbe, probeURL } from './http.js';
import { tcpProbe } from './tcp.js';
import type { ProbeOutcome, ProbeType } from './types.js';

/** On hollow nodes: the probe types (comma-separated) that fail for this pod. */
export const hollowProbeFailAnnotation = 'hollow.skiff.dev/probe-fail';

/** What a handler runs against. */
export interface ProbeTarget {
  pod: KObject;
  /** The container's spec (ports for named ports). */
  container: KObject;
  containerId: string;
  podIP: string;
  runtime: Pick<PodRuntime, 'execInContainer' | 'simulated' | 'runtimeName'>;
}

/** A probe or hook names a port the container does not declare, or an invalid one. */
export class ProbePortError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbePortError';
  }
}

/** kube's ResolveContainerPort: a number, or the containerPort of the port with that name. */
export function resolveContainerPort(port: unknown, container: KObject): number {
  let n: number | undefined;
  if (typeof port === 'number') n = port;
  else if (typeof port === 'string') {
    const named = (Array.isArray(container.ports) ? container.ports : []).find((p: KObject) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^\d+$/.test(port)) n = Number(port);
    else throw new ProbePortError(`couldn't find port: ${port} in ${container.name}`);
  }
  if (n === undefined || !Number.isInteger(n) || n <= 0 || n >= 65536) throw new ProbePortError(`invalid port number: ${String(port)}`);
  return n;
}

/** The probe types the hollow annotation fails for this pod. */
export function hollowFailingProbes(pod: KObject): Set<string> {
  const v: unknown = pod.metadata?.annotations?.[hollowProbeFailAnnotation];
  return new Set(typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);
}

function simulatedFailure(probe: KObject, target: ProbeTarget): string {
  const host = probe.httpGet?.host || probe.tcpSocket?.host || target.podIP;
  const port = (p: unknown) => {
    try {
      return resolveContainerPort(p, target.container);
    } catch {
      return String(p);
    }
  };
  if (probe.httpGet) return 'HTTP probe failed with statuscode: 500';
  if (probe.tcpSocket) return `dial tcp ${host}:${port(probe.tcpSocket.port)}: connect: connection refused`;
  if (probe.grpc) return 'service unhealthy (responded with "NOT_SERVING")';
  return `command ${JSON.stringify((probe.exec?.command ?? []).join(' '))} exited with 1`;
}

/** Runs probe once against target (kubelet's prober.runProbe). */
export async function runProbe(type: ProbeType, probe: KObject, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutSeconds: number = typeof probe.timeoutSeconds === 'number' && probe.timeoutSeconds > 0 ? probe.timeoutSeconds : 1;
  if (target.runtime.simulated) {
    if (hollowFailingProbes(target.pod).has(type)) return { result: 'failure', output: simulatedFailure(probe, target) };
    return { result: 'success', output: '' };
  }
  try {
    if (probe.httpGet) {
      const g = probe.httpGet;
      return await httpProbe({
        scheme: g.scheme === 'HTTPS' ? 'HTTPS' : 'HTTP',
        host: g.host || target.podIP,
        port: resolveContainerPort(g.port, target.container),
        path: g.path ?? '',
        headers: Array.isArray(g.httpHeaders) ? g.httpHeaders : [],
        timeoutMs: timeoutSeconds * 1000,
      });
    }
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.host || target.podIP, resolveContainerPort(probe.tcpSocket.port, target.container), timeoutSeconds * 1000);
    if (probe.grpc) return await grpcProbe(target.podIP, resolveContainerPort(probe.grpc.port, target.container), probe.grpc.service ?? '', timeoutSeconds * 1000);
    if (probe.exec) {
      const command: string[] = Array.isArray(probe.exec.command) ? probe.exec.command : [];
      if (!target.runtime.execInContainer) return { result: 'unknown', output: `exec probes are not supported by the ${target.runtime.runtimeName} runtime` };
      const r = await target.runtime.execInContainer(target.containerId, command, timeoutSeconds);
      if (r.timedOut) return { result: 'failure', output: `command ${JSON.stringify(command.join(' '))} timed out` };
      return { result: r.exitCode === 0 ? 'success' : 'failure', output: r.output };
    }
  } catch (err) {
    return { result: 'unknown', output: err instanceof Error ? err.message : String(err) };
  }
  return { result: 'unknown', output: 'missing probe handler' };
}

/** The URL a httpGet handler targets (for hook messages and logs). */
export function handlerURL(g: KObject, target: ProbeTarget): string {
  let port: number | string = g.port;
  try {
    port = resolveContainerPort(g.port, target.container);
  } catch {
    // keep the name in the message
  }
  return probeURL(g.scheme === 'HTTPS' ? 'HTTPS' : 'HTTP', g.host || target.podIP, port as number, g.path ?? '');
}
