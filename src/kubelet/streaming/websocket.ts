/**
 * @module The WebSocket side of kubectl's streams: the channel protocols of exec and
 * attach (`v5.channel.k8s.io`, `v4.channel.k8s.io`: every binary message starts with its
 * channel — 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize, and in v5 255 to close a
 * channel), and the byte-stream view of a WebSocket that carries SPDY frames for
 * port-forward (`SPDY/3.1+portforward.k8s.io`, kubectl 1.31+).
 */
import { Duplex, PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { TerminalSize } from './types.js';

export const channelProtocolV5 = 'v5.channel.k8s.io';
export const channelProtocolV4 = 'v4.channel.k8s.io';
/** Subprotocol of port-forward tunnelled over WebSocket (kubectl 1.31+). */
export const spdyTunnelProtocol = 'SPDY/3.1+portforward.k8s.io';

export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** The channel protocols we speak for exec/attach, picked in the client's order of preference. */
export function negotiateChannelProtocol(offered: Iterable<string>): string | undefined {
  for (const p of offered) if (p === channelProtocolV5 || p === channelProtocolV4) return p;
  return undefined;
}

/** The streams of one exec/attach session, whatever carries them (WebSocket channels or SPDY streams). */
export interface RemoteCommandChannels {
  stdin?: PassThrough;
  stdout?: Writable;
  stderr?: Writable;
  onResize(listener: (size: TerminalSize) => void): void;
  /** Writes the session's final status (a metav1.Status object, or text for old protocols). */
  writeStatus(status: Record<string, unknown>): Promise<void>;
  /** Ends the session once everything is written. */
  close(): Promise<void>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** Parses a resize message ({"Width":100,"Height":30}). */
export function parseTerminalSize(text: string): TerminalSize | undefined {
  try {
    const v = JSON.parse(text) as { Width?: unknown; Height?: unknown };
    const width = Number(v.Width);
    const height = Number(v.Height);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) return undefined;
    return { width, height };
  } catch {
    return undefined;
  }
}

function sendOn(ws: WebSocket, channel: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ws.readyState !== ws.OPEN) return reject(new Error('websocket closed'));
    ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, (err) => (err ? reject(err) : resolve()));
  });
}

/** A writable that sends each chunk as one message on a channel. */
function channelWriter(ws: WebSocket, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      sendOn(ws, channel, chunk).then(() => cb(), () => cb());
    },
  });
}

/**
 * Exec/attach channels over an accepted WebSocket. `want` says which streams the request
 * asked for; messages on channels it did not ask for are dropped.
 */
export function webSocketChannels(ws: WebSocket, protocol: string, want: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): RemoteCommandChannels {
  const abort = new AbortController();
  const resizeListeners: Array<(s: TerminalSize) => void> = [];
  const stdin = want.stdin ? new PassThrough() : undefined;
  const v5 = protocol === channelProtocolV5;
  ws.on('message', (data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary || buf.length === 0) return;
    const payload = buf.subarray(1);
    switch (buf[0]) {
      case Channel.stdin:
        if (stdin && !stdin.writableEnded && payload.length) {
          // Let a slow command push back on the client.
          if (!stdin.write(payload)) {
            ws.pause();
            stdin.once('drain', () => ws.resume());
          }
        }
        return;
      case Channel.resize: {
        const size = parseTerminalSize(payload.toString('utf8'));
        if (size) for (const l of resizeListeners) l(size);
        return;
      }
      case Channel.close:
        // v5: the client closed one of its channels; only stdin matters to us.
        if (v5 && payload[0] === Channel.stdin) stdin?.end();
        return;
    }
  });
  ws.on('close', () => {
    if (stdin && !stdin.writableEnded) stdin.end();
    abort.abort();
  });
  ws.on('error', () => abort.abort());
  return {
    stdin,
    stdout: want.stdout ? channelWriter(ws, Channel.stdout) : undefined,
    stderr: want.stderr && !want.tty ? channelWriter(ws, Channel.stderr) : undefined,
    onResize: (l) => resizeListeners.push(l),
    writeStatus: (status) => sendOn(ws, Channel.error, Buffer.from(JSON.stringify(status))).catch(() => {}),
    close: async () => {
      if (ws.readyState === ws.OPEN) ws.close(1000);
    },
    signal: abort.signal,
  };
}

/** kubelet's "connection established" signal: an empty message on the lowest writable channel. */
export async function announceChannels(ws: WebSocket, want: { stdout: boolean; stderr: boolean; tty: boolean }): Promise<void> {
  const channel = want.stdout ? Channel.stdout : want.stderr && !want.tty ? Channel.stderr : Channel.error;
  await sendOn(ws, channel, Buffer.alloc(0)).catch(() => {});
}

/** A WebSocket as a byte stream: binary messages in, each write one binary message out. */
export function webSocketStream(ws: WebSocket): Duplex {
  const stream = new Duplex({
    read() {
      ws.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb(new Error('websocket closed'));
      ws.send(chunk, { binary: true }, (err) => cb(err ?? null));
    },
    final(cb) {
      if (ws.readyState === ws.OPEN) ws.close(1000);
      cb();
    },
    destroy(err, cb) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
      cb(err);
    },
  });
  ws.on('message', (data: Buffer | Buffer[] | ArrayBuffer) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!stream.push(buf)) ws.pause();
  });
  ws.on('close', () => {
    stream.push(null);
    stream.destroy();
  });
  ws.on('error', (err) => stream.destroy(err));
  return stream;
}
