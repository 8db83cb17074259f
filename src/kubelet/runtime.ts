/**
 * @module The container runtime interface the node agent drives — a small, CRI-shaped
 * contract (sandboxes, images, containers, status, and a PLEG-like event stream). The
 * hollow runtime implements it with timers; the process runtime will implement it with
 * host processes. Nothing here knows the Kubernetes API.
 */

/** Pod-level facts a sandbox is created from (CRI PodSandboxConfig, trimmed). */
export interface PodSandboxConfig {
  name: string;
  namespace: string;
  uid: string;
  /** How many sandboxes this pod had before (CRI metadata.attempt). */
  attempt: number;
  hostname: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Pod-level restart rule, for runtimes that simulate container exits (hollow). */
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** Seconds the pod asked for between SIGTERM and SIGKILL. */
  terminationGracePeriodSeconds: number;
  /** spec.hostNetwork: the pod shares the node's network namespace. */
  hostNetwork?: boolean;
  /** spec.dnsPolicy, dnsConfig, hostAliases and subdomain: the pod's resolv.conf and /etc/hosts. */
  dnsPolicy?: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: Array<{ name: string; value?: string }> };
  hostAliases?: Array<{ ip: string; hostnames?: string[] }>;
  subdomain?: string;
  /** Containers' ports with a hostPort (CRI port_mappings): reachable on the node. */
  portMappings?: PortMapping[];
}

export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort: number;
  /** Empty: every address of the node. */
  hostIP?: string;
}

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandboxStatus {
  id: string;
  state: SandboxState;
  /** The pod's address inside its network namespace. */
  ip: string;
  createdAt: number;
}

/** Init containers run to completion in order; sidecars are restartable init containers. */
export type ContainerRole = 'init' | 'sidecar' | 'regular';

/**
 * A host path the runtime makes visible inside a container (CRI Mount, a bind mount): the
 * node agent has already materialized the volume under its data dir and resolved subPath.
 */
export interface ContainerMount {
  /** The volume's directory on the host, joined with the mount's subPath when it has one. */
  hostPath: string;
  /** Where it appears inside the container: the volumeMount's mountPath. */
  containerPath: string;
  readOnly: boolean;
}

/** One container of a sandbox (CRI ContainerConfig, trimmed). */
export interface ContainerConfig {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  /** The final environment, after envFrom, valueFrom, $(VAR) expansion and service links. */
  env?: Array<{ name: string; value: string }>;
  workingDir?: string;
  /** Volume mounts in the container's volumeMounts order. */
  mounts?: ContainerMount[];
  /** The container's spec.resources (API quantities): cgroup limits. */
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  /** The effective user and groups (container securityContext over the pod's). */
  securityContext?: { runAsUser?: number; runAsGroup?: number; supplementalGroups?: number[] };
  /** Restart attempt: 0 for the first run, then the restart count. */
  attempt: number;
  role: ContainerRole;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  tty?: boolean;
  stdin?: boolean;
  /** Close the container's stdin once the first attacher leaves (kubectl run -i). */
  stdinOnce?: boolean;
}

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface ContainerStatus {
  id: string;
  sandboxId: string;
  name: string;
  attempt: number;
  role: ContainerRole;
  state: ContainerState;
  /** The image as the runtime names it ("docker.io/library/nginx:latest"). */
  image: string;
  /** Digest reference ("docker.io/library/nginx@sha256:…"). */
  imageRef: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  /** "Completed", "Error", "OOMKilled"… for exited containers. */
  reason?: string;
  message?: string;
}

export interface PulledImage {
  imageRef: string;
  /** False when the image was already present (kubelet's "already present on machine"). */
  pulled: boolean;
}

/** PLEG: something about a sandbox's containers changed (started, died, removed). */
export interface RuntimeEvent {
  sandboxId: string;
  containerId?: string;
  type: 'ContainerStarted' | 'ContainerDied' | 'ContainerRemoved' | 'SandboxChanged';
}

/** What a command run inside a container returned (probes, lifecycle hooks). */
export interface ExecResult {
  exitCode: number;
  /** stdout and stderr, interleaved, possibly truncated. */
  output: string;
  /** The command did not finish within its timeout (and was killed). */
  timedOut?: boolean;
}

/** Thrown by runtime calls that name a sandbox or container the runtime does not have. */
export class RuntimeNotFoundError extends Error {
  constructor(
    readonly what: 'sandbox' | 'container',
    readonly id: string,
  ) {
    super(`${what} ${id} not found`);
    this.name = 'RuntimeNotFoundError';
  }
}

/**
 * The CRI-like surface the pod workers drive. Calls are idempotent where CRI's are
 * (stopping a stopped container succeeds); unknown ids throw RuntimeNotFoundError.
 */
export interface PodRuntime {
  /** The containerID scheme ("hollow" → "hollow://<id>"). */
  readonly runtimeName: string;
  /** "hollow://1.0": what Node.status.nodeInfo.containerRuntimeVersion shows. */
  readonly runtimeVersion: string;
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus>;
  stopPodSandbox(sandboxId: string): Promise<void>;
  removePodSandbox(sandboxId: string): Promise<void>;
  pullImage(image: string): Promise<PulledImage>;
  createContainer(sandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM, then SIGKILL after timeoutSeconds. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  containerStatus(containerId: string): Promise<ContainerStatus>;
  listContainers(filter?: { sandboxId?: string }): Promise<ContainerStatus[]>;
  /**
   * True when the runtime runs nothing (hollow): pods have no reachable address, so the
   * agent simulates network probes and hooks instead of dialing them.
   */
  readonly simulated?: boolean;
  /**
   * Runs cmd inside a running container (CRI ExecSync) for exec probes and exec hooks;
   * timeoutSeconds 0 means no limit. Non-zero exit codes resolve, they do not throw.
   */
  execInContainer?(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult>;
  /** Subscribes to container lifecycle events; returns the unsubscribe function. */
  subscribe(listener: (ev: RuntimeEvent) => void): () => void;
}
