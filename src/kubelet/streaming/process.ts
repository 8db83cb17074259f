/**
 * @module Streaming for runtimes that run containers as host processes (the process
 * driver): logs from each container's CRI log file, exec as a process placed by the
 * runtime (typically `nsenter` into the container's namespaces, as its user, with its
 * env and working dir), port-forward to localhost inside the sandbox's network namespace.
 * The runtime supplies the facts through ProcessStreamingHooks; this supplies the rest.
 */
import { existsSync } from 'node:fs';
import { Readable, type Duplex } from 'node:stream';
import { dialInNetns, dialTcp, runHostCommand, type ExecTarget } from './host-exec.js';
import { readCriLog } from './logs.js';
import { ContainerNotRunningError, type LogOptions, type StreamIO, type StreamingRuntime } from './types.js';

export interface ProcessStreamingHooks {
  /** The container's current CRI log file (throw RuntimeNotFoundError for unknown ids). */
  logPath(containerId: string): string;
  /** Whether the container still runs (follows end once it does not). */
  isRunning(containerId: string): boolean | Promise<boolean>;
  /** Where and how an exec'd command runs, e.g. { argvPrefix: ['nsenter', '-t', pid, '-m', '-u', '-i', '-n', '-p', '--'], env, cwd, uid, gid }. */
  execTarget(containerId: string): ExecTarget | Promise<ExecTarget>;
  /** The sandbox's network namespace (e.g. /proc/PID/ns/net); undefined: the host network. */
  netnsPath(sandboxId: string): string | undefined | Promise<string | undefined>;
  /** Attaching to the container's own stdio, when the runtime keeps it. */
  attach?(containerId: string, io: StreamIO): Promise<void>;
  /** Log follow poll period (default 250 ms). */
  pollMs?: number;
}

export class ProcessStreaming implements StreamingRuntime {
  constructor(private readonly hooks: ProcessStreamingHooks) {}

  async logs(containerId: string, opts: LogOptions): Promise<Readable> {
    const path = this.hooks.logPath(containerId);
    const follow = { isRunning: () => this.hooks.isRunning(containerId), pollMs: this.hooks.pollMs };
    if (!existsSync(path)) {
      // A container that has not written yet has no file; a follow waits for one.
      if (!opts.follow) return Readable.from([]);
      const deadline = async () => {
        while (!existsSync(path)) {
          if (opts.signal?.aborted || !(await this.hooks.isRunning(containerId))) return false;
          await new Promise((r) => setTimeout(r, this.hooks.pollMs ?? 250));
        }
        return true;
      };
      if (!(await deadline())) return Readable.from([]);
    }
    return readCriLog(path, opts, follow);
  }

  async exec(containerId: string, cmd: string[], io: StreamIO): Promise<number> {
    if (!(await this.hooks.isRunning(containerId))) throw new ContainerNotRunningError(containerId, 'CONTAINER_EXITED');
    return runHostCommand(cmd, io, await this.hooks.execTarget(containerId));
  }

  async attach(containerId: string, io: StreamIO): Promise<void> {
    if (!this.hooks.attach) throw new Error('attach is not supported by this runtime');
    if (!(await this.hooks.isRunning(containerId))) throw new ContainerNotRunningError(containerId, 'CONTAINER_EXITED');
    return this.hooks.attach(containerId, io);
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    const netns = await this.hooks.netnsPath(sandboxId);
    return netns ? dialInNetns(netns, port) : dialTcp('127.0.0.1', port);
  }
}
