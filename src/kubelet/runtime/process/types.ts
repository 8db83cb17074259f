/**
 * @module The process runtime's own types: options, capabilities, stats and errors, and
 * names for the optional parts of the shared runtime contract it honours (hostNetwork and
 * DNS on the sandbox config, resources and securityContext on the container config).
 */
import type { ContainerConfig, PodSandboxConfig } from '../../runtime.js';

/** Pod-level settings the process runtime honours (network and DNS; see PodSandboxConfig). */
export type ProcessSandboxExtras = Pick<PodSandboxConfig, 'hostNetwork' | 'dnsPolicy' | 'dnsConfig' | 'hostAliases' | 'subdomain'>;

/** Container-level settings the process runtime honours (limits and user; see ContainerConfig). */
export type ProcessContainerExtras = Pick<ContainerConfig, 'resources' | 'securityContext'>;

export type ProcessSandboxConfig = PodSandboxConfig;
export type ProcessContainerConfig = ContainerConfig;

export interface ProcessRuntimeOptions {
  /** Where sandboxes, containers, logs and IPAM live (<data-dir>/kubelet). */
  stateDir: string;
  /** The node's pod CIDR ("10.42.0.0/24"); the bridge takes its first address. */
  podCIDR: string;
  /** Node bridge name (default "skiff0"). */
  bridge?: string;
  /** cgroup parent of every pod (default "skiff"). */
  cgroupParent?: string;
  /** Cluster DNS servers written to resolv.conf (default ["10.43.0.10"]). */
  clusterDNS?: string[];
  /** Cluster domain (default "cluster.local"). */
  clusterDomain?: string;
  /** The node's address: host-network pods get it as their IP (default "127.0.0.1"). */
  hostIP?: string;
  /** "none" runs pods on the host network without namespaces or cgroups even as root. */
  isolation?: 'auto' | 'none';
  /** Who watches container processes: skiff-shim (survives agent restarts) or the agent. */
  monitor?: 'auto' | 'shim' | 'agent';
  /** Start containers with skiff-launch (default, when a C compiler works) rather than the shell preamble. */
  nativeLauncher?: boolean;
  /** kubelet's containerLogMaxSize in bytes (default 10 MiB). */
  containerLogMaxBytes?: number;
  /** kubelet's containerLogMaxFiles (default 5). */
  containerLogMaxFiles?: number;
  /** pids.max per container (default: no limit). */
  podPidsLimit?: number;
  /** PLEG relist period for containers the agent did not start itself (default 1000 ms). */
  relistIntervalMs?: number;
  log?: (msg: Record<string, unknown>) => void;
  now?: () => number;
}

/** What this host lets the runtime do; the node agent reports what is missing. */
export interface ProcessRuntimeCapabilities {
  /** "pod": a network namespace per pod on the node bridge; "host": pods share the host network. */
  network: 'pod' | 'host';
  /** Private mount namespace per container (volumes at mountPath, own /tmp). */
  mountNamespaces: boolean;
  cgroups: 'v1' | 'v2' | 'none';
  /** runAsUser/runAsGroup are honoured. */
  runAsUser: boolean;
  /** Containers outlive an agent restart (skiff-shim is available). */
  survivesRestart: boolean;
  /** One sentence per missing capability, for the node condition and event. */
  warnings: string[];
}

/** Usage of one running container (kubelet summary API's ContainerStats, trimmed). */
export interface ContainerStats {
  /** Milliseconds since the epoch. */
  timestamp: number;
  cpu: { usageCoreNanoSeconds: number; usageNanoCores: number };
  memory: { workingSetBytes: number; usageBytes: number; rssBytes: number };
}

/**
 * The container cannot be created (kubelet's CreateContainerError): reported as the
 * container's waiting reason and a Failed event, retried with backoff.
 */
export class ContainerCreateError extends Error {
  readonly reason = 'CreateContainerError';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerCreateError';
  }
}

/** The sandbox cannot be created (network, files): kubelet's FailedCreatePodSandBox. */
export class SandboxCreateError extends Error {
  readonly reason = 'FailedCreatePodSandBox';
  constructor(message: string) {
    super(message);
    this.name = 'SandboxCreateError';
  }
}
