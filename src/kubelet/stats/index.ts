/**
 * @module The kubelet's resource stats: the collector (cgroups through the runtime, or
 * simulated on hollow nodes), the machine's totals, and the HTTP routes serving them.
 */
export { NodeStatsCollector, hollowCpuUsageAnnotation, hollowMemoryUsageAnnotation, type NodeStatsCollectorOptions, type StatsPodWorker } from './collector.js';
export { readHostUsage, machineInfo, bootTime, parseMeminfo, parseProcStatCpu, type HostUsage } from './host.js';
export { statsRoutes, type KubeletRouteHandler } from './routes.js';
