/**
 * @module The streaming half of the runtime interface (CRI's ReattachContainer/Exec/
 * Attach/PortForward and the kubelet's log reading): what the kubelet streaming server
 * needs from a runtime to serve `kubectl logs`, `exec`, `attach` and `port-forward`.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { KObject } from '../../api/types.js';
import type { PodRuntime } from '../runtime.js';

/**
 * Node annotation with the address the node's kubelet streaming endpoint serves on; the
 * API server dials it (with Node.status.daemonEndpoints.kubeletEndpoint.Port) instead of
 * the first InternalIP. The API server side names the same key.
 */
export const kubeletAddressAnnotation = 'skiff.dev/kubelet-address';

/** kubelet's PodLogOptions as the runtime sees them (previous is resolved to a container id before). */
export interface LogOptions {
  follow?: boolean;
  /** Only the last N records. */
  tailLines?: number;
  /** Only records newer than this many seconds (relative to the clock of the reader). */
  sinceSeconds?: number;
  /** RFC 3339 time: only records at or after it. */
  sinceTime?: string;
  /** Prefix each record with its RFC 3339 (nanosecond) timestamp. */
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  /** Stops a follow. */
  signal?: AbortSignal;
}

export interface TerminalSize {
  width: number;
  height: number;
}

/** The client's streams for exec and attach; absent streams were not asked for. */
export interface StreamIO {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  /**
   * Registers a listener for terminal size changes (kubectl sends one right after the
   * session starts, then one per SIGWINCH). Only called for TTY sessions.
   */
  onResize?: (listener: (size: TerminalSize) => void) => void;
  /** The client went away: stop. */
  signal?: AbortSignal;
}

/**
 * What a runtime offers the streaming server. Unknown ids throw RuntimeNotFoundError;
 * a command that cannot start throws ExecStartError.
 */
export interface StreamingRuntime {
  /** The container's output as kubelet serves it (CRI log records formatted per opts). */
  logs(containerId: string, opts: LogOptions): Readable | Promise<Readable>;
  /** Runs cmd in the container; resolves with its exit code once it exited and output is flushed. */
  exec(containerId: string, cmd: string[], io: StreamIO): Promise<number>;
  /** Attaches to the container's own stdio; resolves when the container or the client ends it. */
  attach(containerId: string, io: StreamIO): Promise<void>;
  /** A byte stream to `port` on the sandbox's loopback (the pod's network namespace). */
  portForward(sandboxId: string, port: number): Promise<Duplex>;
}

/** A command could not be started (not found, not executable): kubelet's "error executing command". */
export class ExecStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecStartError';
  }
}

/** The container exists but is not running, so exec/attach cannot reach it. */
export class ContainerNotRunningError extends Error {
  constructor(
    readonly containerId: string,
    readonly state: string,
  ) {
    super(`container is in ${state} state`);
    this.name = 'ContainerNotRunningError';
  }
}

/** A pod as the streaming server sees it: the API object, its sandbox, and the runtime running it. */
export interface StreamingPod {
  pod: KObject;
  sandboxId?: string;
  runtime: PodRuntime & StreamingRuntime;
}

/** Finds a pod this kubelet runs (kubelet's GetPodByName); uid, when given, must match. */
export type StreamingPodResolver = (namespace: string, name: string, uid?: string) => StreamingPod | undefined;

export function isStreamingRuntime(r: unknown): r is StreamingRuntime {
  const x = r as Partial<StreamingRuntime> | undefined;
  return !!x && typeof x.logs === 'function' && typeof x.exec === 'function' && typeof x.attach === 'function' && typeof x.portForward === 'function';
}
