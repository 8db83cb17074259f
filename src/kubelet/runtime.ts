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

/** One container of a sandbox (CRI ContainerConfig, trimmed). */
export interface ContainerConfig {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  workingDir?: string;
  /** Restart attempt: 0 for the first run, then the restart count. */
  attempt: number;
  role: ContainerRole;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  tty?: boolean;
  stdin?: boolean;
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
  /** Subscribes to container lifecycle events; returns the unsubscribe function. */
  subscribe(listener: (ev: RuntimeEvent) => void): () => void;
}
