/**
 * @module kube-proxy's sync metrics, with its names, on the registry the API server's
 * /metrics serves: how long rule syncs take (all, full, partial), when the last one ran
 * and was queued, how long an endpoint change took to reach the rules, changes seen and
 * failed syncs. Several proxies in one process share the collectors.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ProxyMetrics {
  syncDuration: Histogram;
  syncFullDuration: Histogram;
  syncPartialDuration: Histogram;
  lastTimestamp: Gauge;
  lastQueuedTimestamp: Gauge;
  networkProgramming: Histogram;
  endpointChanges: Counter;
  serviceChanges: Counter;
  syncFailures: Counter;
}

const syncBuckets = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384];
const programmingBuckets = [0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 65, 70, 75, 80, 85, 90, 95, 100, 105, 110, 115, 120, 150, 180, 210, 240, 270, 300];

function get<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function proxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  const histogram = (name: string, help: string, buckets: number[]) => get(registry, name, () => new Histogram({ name, help, buckets, registers }));
  const gauge = (name: string, help: string) => get(registry, name, () => new Gauge({ name, help, registers }));
  const counter = (name: string, help: string) => get(registry, name, () => new Counter({ name, help, registers }));
  return {
    syncDuration: histogram('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds', syncBuckets),
    syncFullDuration: histogram('kubeproxy_sync_full_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for full resyncs', syncBuckets),
    syncPartialDuration: histogram('kubeproxy_sync_partial_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for partial resyncs', syncBuckets),
    lastTimestamp: gauge('kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'The last time proxy rules were successfully synced'),
    lastQueuedTimestamp: gauge('kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', 'The last time a sync of proxy rules was queued'),
    networkProgramming: histogram('kubeproxy_network_programming_duration_seconds', 'In Cluster Network Programming Latency in seconds', programmingBuckets),
    endpointChanges: counter('kubeproxy_sync_proxy_rules_endpoint_changes_total', 'Cumulative proxy rules Endpoint changes'),
    serviceChanges: counter('kubeproxy_sync_proxy_rules_service_changes_total', 'Cumulative proxy rules Service changes'),
    syncFailures: counter('kubeproxy_sync_proxy_rules_nftables_sync_failures_total', 'Cumulative proxy nftables sync failures'),
  };
}
