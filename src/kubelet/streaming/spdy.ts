/**
 * @module SPDY/3.1, the subset kubectl's streams use (moby/spdystream on the other end):
 * frame encoding and incremental parsing, header blocks compressed with zlib and the
 * SPDY/3 dictionary (one persistent context per direction, each block sync-flushed), and
 * a server-side session that accepts peer streams, replies to them, echoes PINGs and
 * honours RST_STREAM and GOAWAY. Flow control is not enforced either way, as spdystream
 * does not enforce it.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

export const spdyVersion = 3;

export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

export const flagFin = 0x01;
export const flagUnidirectional = 0x02;

/** RST_STREAM status codes (SPDY/3 section 2.6.3). */
export const RstStatus = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6, streamInUse: 8, streamAlreadyClosed: 9 } as const;

/** Largest DATA payload we send in one frame; the format allows 16 MiB, peers buffer whole frames. */
export const maxDataFrame = 32 * 1024;
/** Frames larger than this are a protocol violation as far as we are concerned. */
const maxFrameLength = 16 * 1024 * 1024 - 1;

/** Header names are lower case on the wire; a name can carry several values (NUL-separated). */
export type SpdyHeaders = Record<string, string[]>;

export type SpdyFrame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'synStream'; streamId: number; associatedId: number; priority: number; flags: number; headerBlock: Buffer }
  | { type: 'synReply'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'rstStream'; streamId: number; flags: number; status: number }
  | { type: 'settings'; flags: number; entries: Array<{ id: number; flags: number; value: number }> }
  | { type: 'ping'; flags: number; id: number }
  | { type: 'goAway'; flags: number; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'windowUpdate'; streamId: number; flags: number; delta: number }
  | { type: 'unknown'; controlType: number; flags: number; payload: Buffer };

/** The peer broke the framing rules; the session cannot continue. */
export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

/**
 * The SPDY/3 header compression dictionary (draft 3, section 2.6.10.1): length-prefixed
 * header names and common values, then a run of common status lines, dates and types.
 */
export const spdy3Dictionary: Buffer = (() => {
  const words = [
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
    'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
    'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
    'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
    'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
    'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
    'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie',
    'keep-alive', 'origin',
  ];
  const tail =
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
    '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
    'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
    'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
    'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  const parts: Buffer[] = [];
  for (const w of words) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
})();

// ---- frames ----

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/** Serializes one frame (header blocks must already be compressed). */
export function encodeFrame(frame: SpdyFrame): Buffer {
  switch (frame.type) {
    case 'data': {
      if (frame.data.length > maxFrameLength) throw new RangeError('SPDY data frame too large');
      const head = Buffer.alloc(8);
      head.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      head.writeUInt32BE((((frame.flags & 0xff) << 24) | frame.data.length) >>> 0, 4);
      return Buffer.concat([head, frame.data]);
    }
    case 'synStream': {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      fixed.writeUInt32BE(frame.associatedId & 0x7fffffff, 4);
      fixed.writeUInt8((frame.priority & 0x7) << 5, 8);
      return fixedControl(FrameType.synStream, frame.flags, Buffer.concat([fixed, frame.headerBlock]));
    }
    case 'synReply':
      return fixedControl(FrameType.synReply, frame.flags, Buffer.concat([u32(frame.streamId & 0x7fffffff), frame.headerBlock]));
    case 'headers':
      return fixedControl(FrameType.headers, frame.flags, Buffer.concat([u32(frame.streamId & 0x7fffffff), frame.headerBlock]));
    case 'rstStream':
      return fixedControl(FrameType.rstStream, frame.flags, u32(frame.streamId & 0x7fffffff, frame.status));
    case 'settings': {
      const body = Buffer.alloc(4 + frame.entries.length * 8);
      body.writeUInt32BE(frame.entries.length, 0);
      frame.entries.forEach((e, i) => {
        body.writeUInt32BE((((e.flags & 0xff) << 24) | (e.id & 0xffffff)) >>> 0, 4 + i * 8);
        body.writeUInt32BE(e.value >>> 0, 8 + i * 8);
      });
      return fixedControl(FrameType.settings, frame.flags, body);
    }
    case 'ping':
      return fixedControl(FrameType.ping, frame.flags, u32(frame.id));
    case 'goAway':
      return fixedControl(FrameType.goAway, frame.flags, u32(frame.lastGoodStreamId & 0x7fffffff, frame.status));
    case 'windowUpdate':
      return fixedControl(FrameType.windowUpdate, frame.flags, u32(frame.streamId & 0x7fffffff, frame.delta & 0x7fffffff));
    case 'unknown':
      return fixedControl(frame.controlType, frame.flags, frame.payload);
  }
}

function fixedControl(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | spdyVersion, 0);
  head.writeUInt16BE(type, 2);
  if (payload.length > maxFrameLength) throw new RangeError(`SPDY frame payload of ${payload.length} bytes is too large`);
  head.writeUInt32BE((((flags & 0xff) << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

/** Splits a byte stream into frames; feed it chunks as they arrive. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SpdyFrame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: SpdyFrame[] = [];
    while (this.buf.length >= 8) {
      const length = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + length) break;
      const flags = this.buf[4];
      const payload = this.buf.subarray(8, 8 + length);
      const first = this.buf.readUInt32BE(0);
      frames.push(first & 0x80000000 ? parseControl(first, flags, payload) : { type: 'data', streamId: first & 0x7fffffff, flags, data: Buffer.from(payload) });
      this.buf = this.buf.subarray(8 + length);
    }
    return frames;
  }

  /** Bytes received but not yet a whole frame. */
  get pending(): number {
    return this.buf.length;
  }
}

function parseControl(first: number, flags: number, payload: Buffer): SpdyFrame {
  const version = (first >>> 16) & 0x7fff;
  const type = first & 0xffff;
  if (version !== spdyVersion) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
  const need = (n: number) => {
    if (payload.length < n) throw new SpdyProtocolError(`SPDY control frame type ${type} too short (${payload.length} bytes)`);
  };
  switch (type) {
    case FrameType.synStream:
      need(10);
      return {
        type: 'synStream',
        flags,
        streamId: payload.readUInt32BE(0) & 0x7fffffff,
        associatedId: payload.readUInt32BE(4) & 0x7fffffff,
        priority: payload[8] >>> 5,
        headerBlock: Buffer.from(payload.subarray(10)),
      };
    case FrameType.synReply:
      need(4);
      return { type: 'synReply', flags, streamId: payload.readUInt32BE(0) & 0x7fffffff, headerBlock: Buffer.from(payload.subarray(4)) };
    case FrameType.headers:
      need(4);
      return { type: 'headers', flags, streamId: payload.readUInt32BE(0) & 0x7fffffff, headerBlock: Buffer.from(payload.subarray(4)) };
    case FrameType.rstStream:
      need(8);
      return { type: 'rstStream', flags, streamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.readUInt32BE(4) };
    case FrameType.settings: {
      need(4);
      const n = payload.readUInt32BE(0);
      need(4 + n * 8);
      const entries = [];
      for (let i = 0; i < n; i++) {
        const w = payload.readUInt32BE(4 + i * 8);
        entries.push({ flags: w >>> 24, id: w & 0xffffff, value: payload.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', flags, entries };
    }
    case FrameType.ping:
      need(4);
      return { type: 'ping', flags, id: payload.readUInt32BE(0) };
    case FrameType.goAway:
      need(8);
      return { type: 'goAway', flags, lastGoodStreamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.readUInt32BE(4) };
    case FrameType.windowUpdate:
      need(8);
      return { type: 'windowUpdate', flags, streamId: payload.readUInt32BE(0) & 0x7fffffff, delta: payload.readUInt32BE(4) & 0x7fffffff };
    default:
      return { type: 'unknown', controlType: type, flags, payload: Buffer.from(payload) };
  }
}

// ---- header blocks ----

/** The uncompressed name/value block: a count, then length-prefixed names and NUL-joined values. */
export function encodeHeaderBlock(headers: Record<string, string | string[]>): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(Array.isArray(value) ? value.join('\0') : value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const out: SpdyHeaders = {};
  if (block.length === 0) return out;
  const read = (off: number): [Buffer, number] => {
    if (off + 4 > block.length) throw new SpdyProtocolError('truncated SPDY header block');
    const len = block.readUInt32BE(off);
    if (off + 4 + len > block.length) throw new SpdyProtocolError('truncated SPDY header block');
    return [block.subarray(off + 4, off + 4 + len), off + 4 + len];
  };
  if (block.length < 4) throw new SpdyProtocolError('truncated SPDY header block');
  const count = block.readUInt32BE(0);
  let off = 4;
  for (let i = 0; i < count; i++) {
    const [name, o1] = read(off);
    const [value, o2] = read(o1);
    off = o2;
    const key = name.toString('utf8').toLowerCase();
    (out[key] ??= []).push(...value.toString('utf8').split('\0'));
  }
  return out;
}

/**
 * One direction's zlib context. Blocks pass through it strictly in order (frames must leave
 * and be read in the order their blocks were compressed), each ending in a sync flush so
 * the peer can decode it without waiting for more.
 */
class ZlibContext {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly z: zlib.Deflate | zlib.Inflate) {
    z.on('error', () => {});
  }

  run(input: Buffer): Promise<Buffer> {
    const step = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const onError = (err: Error) => reject(err);
          this.z.once('error', onError);
          if (input.length) this.z.write(input);
          this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.z.off('error', onError);
            const chunks: Buffer[] = [];
            for (let c = this.z.read() as Buffer | null; c !== null; c = this.z.read() as Buffer | null) chunks.push(c);
            resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.chain = step.catch(() => {});
    return step;
  }

  close(): void {
    this.z.destroy();
  }
}

/** Compresses outgoing header blocks (one persistent context). */
export class HeaderCompressor {
  private readonly ctx = new ZlibContext(zlib.createDeflate({ dictionary: spdy3Dictionary }));

  compress(headers: Record<string, string | string[]>): Promise<Buffer> {
    return this.ctx.run(encodeHeaderBlock(headers));
  }

  close(): void {
    this.ctx.close();
  }
}

/** Decompresses incoming header blocks (one persistent context). */
export class HeaderDecompressor {
  private readonly ctx = new ZlibContext(zlib.createInflate({ dictionary: spdy3Dictionary }));

  async decompress(block: Buffer): Promise<SpdyHeaders> {
    return decodeHeaderBlock(await this.ctx.run(block));
  }

  close(): void {
    this.ctx.close();
  }
}

// ---- session ----

/** One SPDY stream as a Duplex: reads are the peer's DATA, writes become our DATA, end() sends FIN. */
export class SpdyStream extends Duplex {
  /** The peer sent FIN or RST: nothing more will be read. */
  remoteClosed = false;
  /** We sent FIN or RST. */
  localClosed = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super({ allowHalfOpen: true });
  }

  /** First value of a header (names are lower case). */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.localClosed) return cb(new Error(`write on closed SPDY stream ${this.id}`));
    this.session.sendData(this.id, chunk, false).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.localClosed) return cb();
    this.localClosed = true;
    this.session.sendData(this.id, Buffer.alloc(0), true).then(
      () => {
        this.session.maybeForget(this);
        cb();
      },
      cb,
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Tearing down a stream that is still open on either side is a reset (kubelet's stream.Reset()).
    if (!this.localClosed || !this.remoteClosed) this.reset();
    cb(err);
  }

  /** Sends RST_STREAM (CANCEL) and forgets the stream. */
  reset(status: number = RstStatus.cancel): void {
    const wasOpen = !this.localClosed || !this.remoteClosed;
    this.localClosed = true;
    this.remoteClosed = true;
    if (wasOpen) void this.session.sendFrame({ type: 'rstStream', streamId: this.id, flags: 0, status }).catch(() => {});
    this.session.maybeForget(this);
    if (!this.destroyed && !this.readableEnded) this.push(null);
  }

  /** @internal the peer sent data. */
  receive(data: Buffer, fin: boolean): void {
    if (this.remoteClosed) return;
    if (data.length) this.push(data);
    if (fin) {
      this.remoteClosed = true;
      this.push(null);
      this.session.maybeForget(this);
    }
  }

  /** @internal the peer reset the stream. */
  receiveReset(): void {
    this.remoteClosed = true;
    this.localClosed = true;
    this.session.maybeForget(this);
    this.destroy();
  }
}

export interface SpdySessionOptions {
  /**
   * Whether to accept a stream the peer opened (default: all). A refused stream gets
   * RST_STREAM REFUSED_STREAM; an accepted one a SYN_REPLY, queued before the 'stream'
   * event so nothing of ours on it can overtake the reply.
   */
  accept?: (stream: SpdyStream) => boolean;
  log?: (msg: Record<string, unknown>) => void;
}

/**
 * The server side of a SPDY/3.1 connection over any byte stream (a TLS socket after an
 * HTTP upgrade, or a WebSocket tunnel). Emits 'stream' for each accepted peer stream,
 * 'goaway' when the peer will open no more, 'close' once the transport is gone.
 */
export class SpdySession extends EventEmitter {
  private readonly parser = new FrameParser();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private outChain: Promise<void> = Promise.resolve();
  private inChain: Promise<void> = Promise.resolve();
  private lastPeerStreamId = 0;
  private goneAway = false;
  closed = false;

  constructor(
    private readonly transport: Duplex,
    private readonly opts: SpdySessionOptions = {},
  ) {
    super();
    transport.on('data', (chunk: Buffer) => this.onData(chunk));
    transport.on('end', () => this.destroy());
    transport.on('close', () => this.destroy());
    // A peer that vanishes is the normal end of most sessions, not worth a log line.
    transport.on('error', () => this.destroy());
  }

  /** Open streams (tests). */
  get streamCount(): number {
    return this.streams.size;
  }

  private onData(chunk: Buffer): void {
    let frames: SpdyFrame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      this.opts.log?.({ level: 'warn', msg: 'spdy protocol error', error: String(err) });
      this.destroy();
      return;
    }
    for (const f of frames) {
      this.inChain = this.inChain.then(() => this.handleFrame(f)).catch((err) => {
        this.opts.log?.({ level: 'warn', msg: 'spdy frame handling failed', error: String(err) });
        this.destroy();
      });
    }
  }

  private async handleFrame(f: SpdyFrame): Promise<void> {
    if (this.closed) return;
    switch (f.type) {
      case 'synStream': {
        const headers = await this.decompressor.decompress(f.headerBlock);
        // Peer-initiated stream ids are odd and increasing (the client side of spdystream).
        if (f.streamId % 2 === 0 || f.streamId <= this.lastPeerStreamId || this.goneAway) {
          await this.sendFrame({ type: 'rstStream', streamId: f.streamId, flags: 0, status: RstStatus.protocolError });
          return;
        }
        this.lastPeerStreamId = f.streamId;
        const stream = new SpdyStream(this, f.streamId, headers);
        this.streams.set(f.streamId, stream);
        if (f.flags & flagFin) stream.receive(Buffer.alloc(0), true);
        if (f.flags & flagUnidirectional) stream.localClosed = true;
        let accepted = true;
        try {
          accepted = this.opts.accept ? this.opts.accept(stream) : true;
        } catch (err) {
          this.opts.log?.({ level: 'warn', msg: 'spdy stream filter failed', error: String(err) });
          accepted = false;
        }
        if (!accepted) {
          stream.reset(RstStatus.refusedStream);
          return;
        }
        if (!(f.flags & flagUnidirectional)) {
          void this.enqueue(async () => encodeFrame({ type: 'synReply', streamId: f.streamId, flags: 0, headerBlock: await this.compressor.compress({}) })).catch(() => {});
        }
        this.emit('stream', stream);
        return;
      }
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (s) s.receive(f.data, (f.flags & flagFin) !== 0);
        return;
      }
      case 'rstStream': {
        this.streams.get(f.streamId)?.receiveReset();
        return;
      }
      case 'ping':
        // Our own pings would be even; echo the peer's (odd) ones as spdystream does.
        if (f.id % 2 === 1) await this.sendFrame({ type: 'ping', flags: 0, id: f.id });
        this.emit('ping', f.id);
        return;
      case 'goAway':
        this.goneAway = true;
        this.emit('goaway');
        return;
      case 'headers':
        // Extra headers on a stream carry nothing kubectl's protocols use; decode to keep the zlib context in step.
        await this.decompressor.decompress(f.headerBlock);
        if (f.flags & flagFin) this.streams.get(f.streamId)?.receive(Buffer.alloc(0), true);
        return;
      case 'synReply':
        await this.decompressor.decompress(f.headerBlock);
        return;
      case 'settings':
      case 'windowUpdate':
      case 'unknown':
        return;
    }
  }

  /** Queues a frame behind every frame queued before it; resolves once handed to the transport. */
  sendFrame(frame: SpdyFrame): Promise<void> {
    return this.enqueue(() => encodeFrame(frame));
  }

  /** Sends data on a stream in frames of at most maxDataFrame bytes; fin closes our side. */
  sendData(streamId: number, data: Buffer, fin: boolean): Promise<void> {
    if (data.length <= maxDataFrame) return this.sendFrame({ type: 'data', streamId, flags: fin ? flagFin : 0, data });
    let last: Promise<void> = Promise.resolve();
    for (let off = 0; off < data.length; off += maxDataFrame) {
      const end = Math.min(data.length, off + maxDataFrame);
      last = this.sendFrame({ type: 'data', streamId, flags: fin && end === data.length ? flagFin : 0, data: data.subarray(off, end) });
    }
    return last;
  }

  private enqueue(produce: () => Buffer | Promise<Buffer>): Promise<void> {
    const step = this.outChain.then(async () => {
      if (this.closed) throw new Error('SPDY session closed');
      const buf = await produce();
      if (this.closed) throw new Error('SPDY session closed');
      if (!this.transport.write(buf)) await new Promise<void>((resolve) => {
        const done = () => {
          this.transport.off('drain', done);
          this.transport.off('close', done);
          resolve();
        };
        this.transport.on('drain', done);
        this.transport.on('close', done);
      });
    });
    this.outChain = step.catch(() => {});
    return step;
  }

  /** @internal drops a stream once both sides are closed. */
  maybeForget(stream: SpdyStream): void {
    if (stream.localClosed && stream.remoteClosed && this.streams.get(stream.id) === stream) {
      this.streams.delete(stream.id);
      this.emit('streamClosed', stream);
    }
  }

  /** Sends GOAWAY (no new streams) without closing the transport. */
  async goAway(): Promise<void> {
    if (this.goneAway && this.closed) return;
    this.goneAway = true;
    await this.sendFrame({ type: 'goAway', flags: 0, lastGoodStreamId: this.lastPeerStreamId, status: 0 }).catch(() => {});
  }

  /** Waits until everything queued so far has been written. */
  flushed(): Promise<void> {
    return this.outChain;
  }

  /** GOAWAY, then ends the transport once queued frames are out. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.goAway();
    await this.flushed();
    this.transport.end();
    this.destroy();
  }

  /** Tears everything down at once. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) {
      s.remoteClosed = true;
      s.localClosed = true;
      s.destroy();
    }
    this.streams.clear();
    this.compressor.close();
    this.decompressor.close();
    if (!this.transport.destroyed && this.transport.writableEnded) {
      // Let the FIN we queued reach the peer before the socket goes.
      setTimeout(() => this.transport.destroy(), 1000).unref?.();
    } else if (!this.transport.destroyed) this.transport.destroy();
    this.emit('close');
  }
}
