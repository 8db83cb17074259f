/**
 * @module The probes of one pod (kubelet's prober manager, per pod): a worker per
 * container and probe type, fed the containers' latest attempts on every pod sync, and
 * the answers the pod worker asks for — is this container started (startup probe), ready
 * (readiness probe), or must it be killed (liveness or startup failure). Probe failures
 * are recorded as kubelet's Unhealthy events; a change that matters re-syncs the pod.
 */
import type { KObject } from '../../api/types.js';
import { isRestartableInitContainer } from '../../api/kinds/podspec.js';
import type { Clock, EventRecorder } from '../../client/index.js';
import type { ContainerStatus, PodRuntime } from '../runtime.js';
import { runProbe } from './handler.js';
import { probeTypeTitle, type ProbeOutcome, type ProbeType } from './types.js';
import { ProbeWorker, probeTiming } from './worker.js';

const probeFields: Record<ProbeType, string> = { startup: 'startupProbe', liveness: 'livenessProbe', readiness: 'readinessProbe' };
const probeTypes: ProbeType[] = ['startup', 'liveness', 'readiness'];
/** Keep events readable: kubelet's probe output can be a whole response body. */
const maxEventOutput = 1024;

export interface PodProbesOptions {
  clock: Clock;
  runtime: Pick<PodRuntime, 'execInContainer' | 'simulated' | 'runtimeName'>;
  /** The pod as last seen (annotations may change while it runs). */
  pod(): KObject;
  podIP(): string;
  recorder(): EventRecorder | undefined;
  /** Something the pod's status or actions depend on changed. */
  onChange(): void;
  /** Replaces the real probers (tests). */
  runProbe?: typeof runProbe;
}

function list(v: unknown): KObject[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as KObject[]) : [];
}

/** Containers that can have probes: regular ones and sidecars (restartable init containers). */
function probedSpecs(pod: KObject): KObject[] {
  return [...list(pod.spec?.initContainers).filter(isRestartableInitContainer), ...list(pod.spec?.containers)];
}

/** True when some container of the pod declares a probe. */
export function podHasProbes(pod: KObject): boolean {
  return probedSpecs(pod).some((c) => probeTypes.some((t) => c[probeFields[t]]));
}

export class PodProbes {
  private readonly workers = new Map<string, ProbeWorker>();
  private latest = new Map<string, ContainerStatus>();
  private stopped = false;

  constructor(private readonly opts: PodProbesOptions) {}

  private spec(name: string): KObject | undefined {
    return probedSpecs(this.opts.pod()).find((c) => c.name === name);
  }

  /** The latest attempt of each container, after a sync: starts workers, nudges them on restarts. */
  update(latest: Map<string, ContainerStatus>): void {
    if (this.stopped) return;
    const previous = this.latest;
    this.latest = latest;
    for (const spec of probedSpecs(this.opts.pod())) {
      const c = latest.get(spec.name);
      if (!c) continue;
      for (const type of probeTypes) {
        const probe = spec[probeFields[type]];
        if (!probe) continue;
        const key = `${spec.name}/${type}`;
        let w = this.workers.get(key);
        if (!w) {
          w = this.newWorker(spec.name, type, probe);
          this.workers.set(key, w);
          w.start();
        } else if (previous.get(spec.name)?.id !== c.id || previous.get(spec.name)?.state !== c.state) w.trigger();
      }
    }
  }

  private newWorker(name: string, type: ProbeType, probe: KObject): ProbeWorker {
    const timing = probeTiming(probe);
    const run = this.opts.runProbe ?? runProbe;
    return new ProbeWorker({
      type,
      timing,
      clock: this.opts.clock,
      container: () => {
        const c = this.latest.get(name);
        if (!c) return undefined;
        return { id: c.id, running: c.state === 'CONTAINER_RUNNING', startedAt: c.startedAt, started: this.startedOf(name, c.id) };
      },
      probe: (containerId) => {
        const spec = this.spec(name) ?? { name };
        return run(type, spec[probeFields[type]] ?? probe, { pod: this.opts.pod(), container: spec, containerId, podIP: this.opts.podIP(), runtime: this.opts.runtime });
      },
      observed: (o) => this.record(type, o),
      report: () => this.opts.onChange(),
    });
  }

  private record(type: ProbeType, o: ProbeOutcome): void {
    const r = this.opts.recorder();
    if (!r) return;
    const output = o.output.length > maxEventOutput ? `${o.output.slice(0, maxEventOutput)}…` : o.output;
    const t = probeTypeTitle(type);
    if (o.result === 'failure') r.event(this.opts.pod(), 'Warning', 'Unhealthy', `${t} probe failed: ${output}`);
    else if (o.result === 'warning') r.event(this.opts.pod(), 'Warning', 'ProbeWarning', `${t} probe warning: ${output}`);
    else if (o.result === 'unknown') r.event(this.opts.pod(), 'Warning', 'Unhealthy', `${t} probe errored: ${output}`);
  }

  private startedOf(name: string, id: string): boolean {
    const w = this.workers.get(`${name}/startup`);
    if (!w) return !this.spec(name)?.startupProbe;
    return w.result(id) === true;
  }

  /** kubelet's container "started": running, and past its startup probe if it has one. */
  isStarted(c: ContainerStatus): boolean {
    if (c.state !== 'CONTAINER_RUNNING') return false;
    return this.startedOf(c.name, c.id);
  }

  /** Ready: started, and its readiness probe succeeded if it has one. */
  isReady(c: ContainerStatus): boolean {
    if (!this.isStarted(c)) return false;
    const w = this.workers.get(`${c.name}/readiness`);
    if (!w) return !this.spec(c.name)?.readinessProbe;
    return w.result(c.id) === true;
  }

  /** The probe whose failure means this running container must be killed and restarted. */
  failedProbe(c: ContainerStatus): 'liveness' | 'startup' | undefined {
    if (c.state !== 'CONTAINER_RUNNING') return undefined;
    if (this.workers.get(`${c.name}/liveness`)?.result(c.id) === false) return 'liveness';
    if (this.workers.get(`${c.name}/startup`)?.result(c.id) === false) return 'startup';
    return undefined;
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers.values()) w.stop();
    this.workers.clear();
  }
}
