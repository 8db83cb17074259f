/**
 * @module The kubelet's own metrics at its /metrics, with kubelet's names: kubelet_node_name,
 * kubelet_running_pods, kubelet_running_containers{container_state},
 * kubelet_pod_start_duration_seconds and kubelet_started_pods_total. Gauges are read from
 * the node's state at scrape time; pod starts are observed once per pod.
 */
import { renderText, type MetricFamily, type Sample } from './exposition.js';

/** kubelet's pod start buckets (metrics.PodStartDuration). */
export const podStartBuckets = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

/** A Prometheus histogram kept by hand (cumulative buckets, sum, count). */
export class HistogramData {
  private readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly buckets: number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
  }

  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    const out: Sample[] = this.buckets.map((le, i) => ({ name: `${name}_bucket`, labels: { ...labels, le: String(le) }, value: this.counts[i] }));
    out.push({ name: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: this.count });
    out.push({ name: `${name}_sum`, labels, value: this.sum });
    out.push({ name: `${name}_count`, labels, value: this.count });
    return out;
  }
}

/** What the node looks like right now, for the gauges. */
export interface KubeletState {
  nodeName: string;
  runningPods: number;
  /** Containers by CRI state name: created, running, exited, unknown. */
  containers: Record<string, number>;
}

export class KubeletMetrics {
  private readonly podStart = new HistogramData(podStartBuckets);
  private startedPods = 0;
  private readonly seen = new Set<string>();

  /** Records a pod's first start (duration from the kubelet seeing it to it running); once per pod uid. */
  observePodStart(uid: string, seconds: number): void {
    if (this.seen.has(uid)) return;
    this.seen.add(uid);
    this.startedPods++;
    this.podStart.observe(Math.max(0, seconds));
  }

  /** Forgets pods no longer on the node (their start stays counted). */
  retain(uids: Set<string>): void {
    for (const uid of this.seen) if (!uids.has(uid)) this.seen.delete(uid);
  }

  render(state: KubeletState): string {
    const families: MetricFamily[] = [
      { name: 'kubelet_node_name', help: "[ALPHA] The node's name. The count is always 1.", type: 'gauge', samples: [{ labels: { node: state.nodeName }, value: 1 }] },
      { name: 'kubelet_running_pods', help: '[ALPHA] Number of pods that have a running pod sandbox', type: 'gauge', samples: [{ value: state.runningPods }] },
      {
        name: 'kubelet_running_containers',
        help: '[ALPHA] Number of containers currently running',
        type: 'gauge',
        samples: Object.entries(state.containers).map(([s, n]) => ({ labels: { container_state: s }, value: n })),
      },
      {
        name: 'kubelet_pod_start_duration_seconds',
        help: '[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
        type: 'histogram',
        samples: this.podStart.samples('kubelet_pod_start_duration_seconds'),
      },
      { name: 'kubelet_started_pods_total', help: '[ALPHA] Cumulative number of pods started', type: 'counter', samples: [{ value: this.startedPods }] },
    ];
    return renderText(families);
  }
}
