/**
 * @module The process container runtime's public surface: `ProcessRuntime.open(...)`
 * (a PodRuntime running containers as host processes in per-pod namespaces), its
 * options, capabilities, stats and errors, the log file layout, and `cleanupProcessNode`
 * which removes everything a node's state dir records (tests, node teardown).
 */
import { ProcessRuntime } from './runtime.js';
import type { ProcessRuntimeOptions } from './types.js';

export { ProcessRuntime, cgroupLimitsFor, defaultContainerPath } from './runtime.js';
export { ContainerCreateError, SandboxCreateError } from './types.js';
export type {
  ContainerStats,
  ProcessContainerConfig,
  ProcessContainerExtras,
  ProcessRuntimeCapabilities,
  ProcessRuntimeOptions,
  ProcessSandboxConfig,
  ProcessSandboxExtras,
} from './types.js';
export { containerLogFile, podLogDir, defaultContainerLogMaxBytes, defaultContainerLogMaxFiles } from './logs.js';
export { CgroupManager, milliCPUToQuota, milliCPUToShares } from './cgroups.js';
export { gatewayOf, parseCidr } from './network.js';

/**
 * Removes every pod the state dir records — processes, cgroups, network namespaces,
 * veths, files — and optionally the node bridge. For tests' after hooks and for taking
 * a node out of service; a running agent must be stopped first.
 */
export async function cleanupProcessNode(
  opts: Pick<ProcessRuntimeOptions, 'stateDir' | 'podCIDR' | 'bridge' | 'cgroupParent' | 'log'> & { removeBridge?: boolean; removeCgroupParent?: boolean },
): Promise<void> {
  const rt = await ProcessRuntime.open({ ...opts, monitor: 'agent', relistIntervalMs: 60_000 });
  try {
    await rt.removeAll();
    if (opts.removeBridge) await rt.removeBridge();
    if (opts.removeCgroupParent) await rt.removeCgroupParent();
  } finally {
    rt.close();
  }
}
