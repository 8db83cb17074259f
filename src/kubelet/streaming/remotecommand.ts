/**
 * @module exec and attach sessions (kubelet's remotecommand server): the request's
 * options, the SPDY flavour of the channel protocols (one SPDY stream per channel, named
 * by its `streamtype` header; kubectl 1.27–1.29 and the fallback of later ones), and the
 * session itself — run the command, flush its output, report how it ended on the error
 * channel (a metav1.Status from v4 on: Success, or NonZeroExitCode with an ExitCode cause
 * that kubectl prints as "command terminated with exit code N").
 */
import { PassThrough, Writable } from 'node:stream';
import { SpdySession, type SpdyStream } from './spdy.js';
import { ExecStartError, type StreamIO, type TerminalSize } from './types.js';
import type { RemoteCommandChannels } from './websocket.js';
import { parseTerminalSize } from './websocket.js';

/** Remote command protocol versions, newest first (X-Stream-Protocol-Version over SPDY). */
export const remoteCommandProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** exec only. */
  command: string[];
}

/** Thrown for a request kubelet answers 400 (no streams, no command). */
export class RemoteCommandRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteCommandRequestError';
  }
}

function flag(q: URLSearchParams, ...names: string[]): boolean {
  return names.some((n) => {
    const v = q.get(n);
    return v === '1' || v === 'true' || v === 'True';
  });
}

/**
 * Reads exec/attach options from a query. The kubelet's own names (input, output, error)
 * and the API server's (stdin, stdout, stderr) are both accepted.
 */
export function remoteCommandOptions(q: URLSearchParams, kind: 'exec' | 'attach'): RemoteCommandOptions {
  const opts: RemoteCommandOptions = {
    stdin: flag(q, 'input', 'stdin'),
    stdout: flag(q, 'output', 'stdout'),
    stderr: flag(q, 'error', 'stderr'),
    tty: flag(q, 'tty'),
    command: q.getAll('command'),
  };
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw new RemoteCommandRequestError('you must specify at least 1 of stdin, stdout, stderr');
  if (kind === 'exec' && opts.command.length === 0) throw new RemoteCommandRequestError('you must specify at least one command for the container');
  return opts;
}

/** The newest protocol both sides speak, or undefined. */
export function negotiateRemoteCommandProtocol(offered: string[]): string | undefined {
  for (const p of remoteCommandProtocols) if (offered.includes(p)) return p;
  return undefined;
}

/** Whether the protocol reports status as a JSON metav1.Status (v4 and later). */
export function statusIsJson(protocol: string): boolean {
  return protocol === 'v4.channel.k8s.io' || protocol === 'v5.channel.k8s.io';
}

/** Protocols with a resize stream (v3 and later). */
function hasResize(protocol: string): boolean {
  return protocol !== 'v2.channel.k8s.io' && protocol !== 'channel.k8s.io';
}

/** Splits a byte stream of concatenated JSON objects (the SPDY resize stream) into objects. */
export class JsonObjectSplitter {
  private buf = '';

  push(chunk: string): string[] {
    this.buf += chunk;
    const out: string[] = [];
    let depth = 0;
    let inString = false;
    let escaped = false;
    let start = -1;
    let consumed = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          out.push(this.buf.slice(start, i + 1));
          consumed = i + 1;
        }
      }
    }
    this.buf = this.buf.slice(consumed);
    return out;
  }
}

/**
 * Waits for the SPDY streams an exec/attach needs (error always; stdin, stdout, stderr as
 * asked; resize for a TTY) and returns them as channels. Rejects after timeoutMs.
 */
export function spdyChannels(session: SpdySession, protocol: string, opts: RemoteCommandOptions, timeoutMs: number): Promise<RemoteCommandChannels> {
  const needed = new Set<string>(['error']);
  if (opts.stdin) needed.add('stdin');
  if (opts.stdout) needed.add('stdout');
  if (opts.stderr && !opts.tty) needed.add('stderr');
  if (opts.tty && hasResize(protocol)) needed.add('resize');
  const got = new Map<string, SpdyStream>();
  const abort = new AbortController();
  session.once('close', () => abort.abort());
  session.once('goaway', () => abort.abort());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`timed out waiting for client to create streams (have ${[...got.keys()].join(', ') || 'none'})`));
    }, timeoutMs);
    timer.unref?.();
    const onStream = (stream: SpdyStream) => {
      const type = stream.header('streamtype') ?? '';
      got.set(type, stream);
      if (![...needed].every((n) => got.has(n))) return;
      clearTimeout(timer);
      session.off('stream', onStream);
      resolve(buildSpdyChannels(session, protocol, got, abort));
    };
    session.on('stream', onStream);
    session.once('close', () => {
      clearTimeout(timer);
      reject(new Error('connection closed before the streams were created'));
    });
  });
}

function buildSpdyChannels(session: SpdySession, protocol: string, streams: Map<string, SpdyStream>, abort: AbortController): RemoteCommandChannels {
  const resizeListeners: Array<(s: TerminalSize) => void> = [];
  const resize = streams.get('resize');
  if (resize) {
    const splitter = new JsonObjectSplitter();
    resize.on('data', (d: Buffer) => {
      for (const obj of splitter.push(d.toString('utf8'))) {
        const size = parseTerminalSize(obj);
        if (size) for (const l of resizeListeners) l(size);
      }
    });
    resize.on('error', () => {});
  }
  const stdinStream = streams.get('stdin');
  let stdin: PassThrough | undefined;
  if (stdinStream) {
    stdin = new PassThrough();
    stdinStream.pipe(stdin);
    stdinStream.on('close', () => {
      if (!stdin!.writableEnded) stdin!.end();
    });
    stdinStream.on('error', () => {});
  }
  const writer = (s: SpdyStream | undefined): Writable | undefined => {
    if (!s) return undefined;
    s.on('error', () => {});
    return s;
  };
  const errorStream = streams.get('error')!;
  errorStream.on('error', () => {});
  // Anything the client still sends on the error stream is meaningless; keep it flowing.
  errorStream.resume();
  return {
    stdin,
    stdout: writer(streams.get('stdout')),
    stderr: writer(streams.get('stderr')),
    onResize: (l) => resizeListeners.push(l),
    writeStatus: async (status) => {
      if (errorStream.localClosed) return;
      const json = statusIsJson(protocol);
      // Before v4 only failures are reported, as their message text.
      const body = json ? JSON.stringify(status) : status.status === 'Success' ? '' : String(status.message ?? '');
      await new Promise<void>((resolve) => {
        if (body) errorStream.write(body);
        errorStream.end(() => resolve());
      });
    },
    close: async () => {
      for (const s of streams.values()) if (!s.localClosed) s.end();
      await session.goAway();
      await session.flushed();
      // The client tears the connection down once it has read everything; a client that
      // never does is cut off after a while.
      const t = setTimeout(() => session.destroy(), 30_000);
      t.unref?.();
      session.once('close', () => clearTimeout(t));
    },
    signal: abort.signal,
  };
}

/** The Status of a command that ran (kubelet's exit status reporting). */
export function exitStatus(code: number, command: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The Status of a session that failed before or while running (kubelet's InternalError). */
export function internalErrorStatus(message: string): Record<string, unknown> {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** Ends a writable (if nobody did) and waits until everything written to it was handed on. */
export async function finishWritable(w: Writable | undefined): Promise<void> {
  if (!w || w.destroyed || w.writableFinished) return;
  await new Promise<void>((resolve) => {
    w.once('error', () => resolve());
    w.once('close', () => resolve());
    w.once('finish', () => resolve());
    if (!w.writableEnded) w.end();
  });
}

/**
 * Runs one exec or attach over its channels: `run` gets the client's streams and resolves
 * with an exit code (exec) or undefined (attach ended); then output is flushed, the status
 * written and the session closed.
 */
export async function serveRemoteCommand(
  channels: RemoteCommandChannels,
  opts: RemoteCommandOptions,
  run: (io: StreamIO) => Promise<number | undefined>,
  log?: (msg: Record<string, unknown>) => void,
): Promise<void> {
  // The runtime ends these itself only through the pipes it owns; wrap them so it never
  // ends the transport before the status is written.
  const guard = (w: Writable | undefined): Writable | undefined => {
    if (!w) return undefined;
    return new Writable({
      write(chunk, _enc, cb) {
        if (w.destroyed || w.writableEnded) return cb();
        w.write(chunk, () => cb());
      },
    });
  };
  const stdout = guard(channels.stdout);
  const stderr = guard(channels.stderr);
  let status: Record<string, unknown>;
  try {
    const code = await run({
      stdin: channels.stdin,
      stdout,
      stderr,
      tty: opts.tty,
      onResize: opts.tty ? (l) => channels.onResize(l) : undefined,
      signal: channels.signal,
    });
    status = code === undefined ? { metadata: {}, status: 'Success' } : exitStatus(code, opts.command);
  } catch (err) {
    const message = err instanceof ExecStartError ? `error executing command in container: ${err.message}` : err instanceof Error ? err.message : String(err);
    log?.({ level: 'info', msg: 'remote command failed', error: message });
    status = internalErrorStatus(message);
  }
  await Promise.all([finishWritable(stdout), finishWritable(stderr)]);
  await Promise.all([finishWritable(channels.stdout), finishWritable(channels.stderr)]);
  await channels.writeStatus(status);
  await channels.close();
}
