/**
 * @module Node and container metrics shared by the kubelet (collection, /stats/summary,
 * /metrics/resource, /metrics/cadvisor, kubelet_* metrics) and the API server
 * (metrics.k8s.io computed from kubelet scrapes). Depends only on src/api.
 */
export * from './types.js';
export { renderText, parseText, textContentType, formatValue, ExpositionParseError, type MetricFamily, type MetricType, type Sample, type ParsedSample } from './exposition.js';
export { renderResourceMetrics, parseResourceMetrics, type ResourcePoint, type ResourceScrape } from './resource.js';
export { renderCadvisorMetrics, podCgroupId, type MachineInfo } from './cadvisor.js';
export { KubeletMetrics, HistogramData, podStartBuckets, type KubeletState } from './kubelet.js';
export { summaryOf } from './summary.js';
export {
  ResourceMetricsStorage,
  formatCpu,
  formatMemory,
  goDuration,
  rateBetween,
  nodeMetricsObject,
  podMetricsObject,
  metricsGroup,
  metricsVersion,
  metricsApiVersion,
  type WindowedUsage,
} from './metrics-api.js';
