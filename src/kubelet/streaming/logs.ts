/**
 * @module Container logs as the kubelet reads them: CRI log records
 * (`<RFC 3339 nano time> <stdout|stderr> <F|P> <content>`), the per-container log file
 * with size-based rotation, in-memory logs for hollow containers, and the one renderer
 * both feed — tail, since, timestamps, limitBytes and follow (which ends once the
 * container is no longer running and everything written has been read), as kubelet's
 * ReadLogs does.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, statSync, unlinkSync, watch, writeSync, readdirSync, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { LogOptions } from './types.js';

export type LogStreamName = 'stdout' | 'stderr';

/** One CRI log record: a line the container wrote, or a piece of a line longer than the runtime's buffer. */
export interface LogRecord {
  /** As written: RFC 3339 with up to nanoseconds. */
  timestamp: string;
  /** Milliseconds since the epoch (for since comparisons). */
  timeMs: number;
  stream: LogStreamName;
  /** P records are continued by the next record; F records end a line. */
  partial: boolean;
  content: Buffer;
}

/** The CRI timestamp of a moment: UTC, nine fractional digits (containerd's format). */
export function criTimestamp(ms: number, extraNanos = 0): string {
  const iso = new Date(ms).toISOString(); // 2024-01-01T00:00:00.123Z
  const nanos = String(extraNanos % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 23)}${nanos}Z`;
}

/** Go's RFC3339Nano output (what kubelet prints with --timestamps): trailing fractional zeros dropped. */
export function rfc3339Nano(timestamp: string): string {
  return timestamp.replace(/\.(\d+)(?=Z|[+-]\d\d:\d\d$)/, (_m, frac: string) => {
    const t = frac.replace(/0+$/, '');
    return t ? `.${t}` : '';
  });
}

/** Parses an RFC 3339 time with any fractional precision into epoch milliseconds. */
export function parseTimeMs(ts: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return NaN;
  const base = Date.parse(`${m[1]}${m[3]}`);
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return base + Math.floor(frac);
}

/** Parses one line of a CRI log file (without its newline); undefined for lines that are not records. */
export function parseCriLogLine(line: Buffer): LogRecord | undefined {
  const sp1 = line.indexOf(0x20);
  if (sp1 < 0) return undefined;
  const sp2 = line.indexOf(0x20, sp1 + 1);
  if (sp2 < 0) return undefined;
  const timestamp = line.subarray(0, sp1).toString('latin1');
  const stream = line.subarray(sp1 + 1, sp2).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  let sp3 = line.indexOf(0x20, sp2 + 1);
  // A record with empty content may end right after its tag.
  if (sp3 < 0) sp3 = line.length;
  // Tags are colon-separated for forward compatibility; the first is P or F.
  const tag = line.subarray(sp2 + 1, sp3).toString('latin1').split(':')[0];
  const timeMs = parseTimeMs(timestamp);
  if (Number.isNaN(timeMs)) return undefined;
  return { timestamp, timeMs, stream, partial: tag === 'P', content: Buffer.from(line.subarray(Math.min(line.length, sp3 + 1))) };
}

/** A record as one line of a CRI log file, newline included. */
export function formatCriLogLine(rec: Pick<LogRecord, 'timestamp' | 'stream' | 'partial' | 'content'>): Buffer {
  return Buffer.concat([Buffer.from(`${rec.timestamp} ${rec.stream} ${rec.partial ? 'P' : 'F'} `, 'latin1'), rec.content, Buffer.from('\n')]);
}

/** The earliest time the options let through (sinceTime, or now − sinceSeconds); undefined: all. */
export function sinceMs(opts: LogOptions, now: number): number | undefined {
  if (opts.sinceTime) {
    const t = parseTimeMs(opts.sinceTime);
    if (!Number.isNaN(t)) return t;
  }
  if (opts.sinceSeconds !== undefined && opts.sinceSeconds > 0) return now - opts.sinceSeconds * 1000;
  return undefined;
}

/**
 * Renders records as kubectl receives them: since filters, timestamps prefix every
 * record (partial ones too, as kubelet does), F records end with a newline, limitBytes
 * cuts the output (mid-record if need be) and ends the stream.
 */
export function renderLogs(records: AsyncIterable<LogRecord>, opts: LogOptions, now: () => number = Date.now): Readable {
  const since = sinceMs(opts, now());
  let remaining = opts.limitBytes !== undefined && opts.limitBytes > 0 ? opts.limitBytes : Infinity;
  async function* render(): AsyncGenerator<Buffer> {
    for await (const rec of records) {
      if (since !== undefined && rec.timeMs < since) continue;
      const parts: Buffer[] = [];
      if (opts.timestamps) parts.push(Buffer.from(`${rfc3339Nano(rec.timestamp)} `, 'latin1'));
      parts.push(rec.content);
      if (!rec.partial) parts.push(Buffer.from('\n'));
      let out = Buffer.concat(parts);
      if (out.length >= remaining) {
        out = out.subarray(0, remaining);
        if (out.length) yield out;
        return;
      }
      remaining -= out.length;
      yield out;
    }
  }
  return Readable.from(render(), { objectMode: false });
}

// ---- files ----

export interface CriFileFollow {
  /** Whether the container still runs; a follow ends once this is false and the file is drained. */
  isRunning: () => boolean | Promise<boolean>;
  /** Fallback poll period when no file events arrive (default 250 ms). */
  pollMs?: number;
}

/** Where the last `n` lines of a file start (kubelet's tail.FindTailLineStartIndex). */
export function tailStart(fd: number, size: number, n: number): number {
  if (n <= 0) return size;
  const block = 64 * 1024;
  let pos = size;
  let newlines = 0;
  let first = true;
  const buf = Buffer.alloc(block);
  while (pos > 0) {
    const len = Math.min(block, pos);
    pos -= len;
    readSync(fd, buf, 0, len, pos);
    for (let i = len - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) {
        first = false;
        continue;
      }
      // A newline that ends the file ends the last line; it does not start one.
      if (first && pos + i === size - 1) {
        first = false;
        continue;
      }
      newlines++;
      if (newlines === n) return pos + i + 1;
    }
  }
  return 0;
}

/** Records of a CRI log file from an offset, following appends and rotation when asked. */
async function* fileRecords(path: string, opts: LogOptions, follow?: CriFileFollow): AsyncGenerator<LogRecord> {
  let fd = openSync(path, 'r');
  let pos = opts.tailLines !== undefined && opts.tailLines >= 0 ? tailStart(fd, fstatSync(fd).size, opts.tailLines) : 0;
  let pending: Buffer = Buffer.alloc(0);
  const buf = Buffer.alloc(64 * 1024);
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  const signal = opts.signal;
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      // Drain what the file holds now.
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        pos += n;
        pending = pending.length ? Buffer.concat([pending, buf.subarray(0, n)]) : Buffer.from(buf.subarray(0, n));
        let nl: number;
        while ((nl = pending.indexOf(0x0a)) >= 0) {
          const rec = parseCriLogLine(pending.subarray(0, nl));
          pending = pending.subarray(nl + 1);
          if (rec) yield rec;
          if (signal?.aborted) return;
        }
      }
      if (!follow?.isRunning || signal?.aborted) return;
      // Rotated: the path now names a new file; the old one is drained, continue with the new.
      const rotated = (() => {
        try {
          const st = statSync(path);
          return st.ino !== fstatSync(fd).ino;
        } catch {
          return false;
        }
      })();
      if (rotated) {
        closeSync(fd);
        fd = openSync(path, 'r');
        pos = 0;
        pending = Buffer.alloc(0);
        continue;
      }
      if (!(await follow.isRunning())) {
        // One last read: the container may have written right before exiting.
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n > 0) continue;
        return;
      }
      watcher ??= (() => {
        try {
          const w = watch(dirname(path), { persistent: false }, (_ev, file) => {
            if (!file || file === basename(path)) wake?.();
          });
          w.on('error', () => {});
          return w;
        } catch {
          return undefined;
        }
      })();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => done(), follow.pollMs ?? 250);
        const done = () => {
          clearTimeout(t);
          wake = undefined;
          resolve();
        };
        wake = done;
      });
      if (signal?.aborted) return;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    watcher?.close();
    closeSync(fd);
  }
}

/**
 * Reads a CRI log file as kubelet serves it: tail, since, timestamps, limitBytes, and
 * follow (appends, rotation, ending when the container stops).
 */
export function readCriLog(path: string, opts: LogOptions, follow?: CriFileFollow, now: () => number = Date.now): Readable {
  return renderLogs(fileRecords(path, opts, opts.follow ? follow : undefined), opts, now);
}

export interface CriLogWriterOptions {
  /** Rotate once the file reaches this size (kubelet's containerLogMaxSize, 10 MiB). */
  maxBytes?: number;
  /** Files kept, the live one included (containerLogMaxFiles, 5). */
  maxFiles?: number;
  /** Longest record; longer lines become P records (containerd's 16 KiB buffer). */
  maxLineBytes?: number;
  now?: () => number;
}

/**
 * Writes a container's output as CRI records: lines split per stream, over-long lines as
 * partial records, size-based rotation to `<file>.<UTC timestamp>` keeping maxFiles.
 * The process runtime points a container's stdout/stderr here.
 */
export class CriLogWriter {
  private fd: number;
  private size: number;
  private readonly partial: Record<LogStreamName, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly maxLine: number;
  private readonly now: () => number;
  private closed = false;

  constructor(
    readonly path: string,
    opts: CriLogWriterOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.maxFiles = Math.max(1, opts.maxFiles ?? 5);
    this.maxLine = opts.maxLineBytes ?? 16 * 1024;
    this.now = opts.now ?? Date.now;
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  /** Output of the container on one stream; complete lines become records at once. */
  write(stream: LogStreamName, data: Buffer | string): void {
    if (this.closed) return;
    let buf = Buffer.concat([this.partial[stream], typeof data === 'string' ? Buffer.from(data) : data]);
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      this.emitLine(stream, buf.subarray(0, nl));
      buf = buf.subarray(nl + 1);
    }
    while (buf.length >= this.maxLine) {
      this.record(stream, buf.subarray(0, this.maxLine), true);
      buf = buf.subarray(this.maxLine);
    }
    this.partial[stream] = Buffer.from(buf);
  }

  private emitLine(stream: LogStreamName, line: Buffer): void {
    while (line.length > this.maxLine) {
      this.record(stream, line.subarray(0, this.maxLine), true);
      line = line.subarray(this.maxLine);
    }
    this.record(stream, line, false);
  }

  private record(stream: LogStreamName, content: Buffer, partial: boolean): void {
    const out = formatCriLogLine({ timestamp: criTimestamp(this.now()), stream, partial, content });
    if (this.size > 0 && this.size + out.length > this.maxBytes) this.rotate();
    writeSync(this.fd, out);
    this.size += out.length;
  }

  /** Renames the live file aside and starts a new one, dropping the oldest beyond maxFiles. */
  rotate(): void {
    closeSync(this.fd);
    const stamp = new Date(this.now()).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    let target = `${this.path}.${stamp}`;
    for (let i = 1; existsQuiet(target); i++) target = `${this.path}.${stamp}.${i}`;
    renameSync(this.path, target);
    const dir = dirname(this.path);
    const base = basename(this.path);
    const rotated = readdirSync(dir)
      .filter((f) => f.startsWith(`${base}.`))
      .sort();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - (this.maxFiles - 1)))) {
      try {
        unlinkSync(join(dir, old));
      } catch {
        /* already gone */
      }
    }
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }

  /** Flushes unterminated output as a final F record per stream and closes the file. */
  close(): void {
    if (this.closed) return;
    for (const s of ['stdout', 'stderr'] as const) if (this.partial[s].length) this.record(s, this.partial[s], false);
    this.closed = true;
    closeSync(this.fd);
  }
}

function existsQuiet(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

// ---- memory ----

/**
 * A container's output kept in memory (hollow containers): bounded, with followers woken
 * on every append and released when the log is closed (the container exited).
 */
export class MemoryLog {
  private readonly records: Array<LogRecord & { seq: number }> = [];
  private nextSeq = 0;
  private bytes = 0;
  private readonly waiters = new Set<() => void>();
  private _closed = false;

  constructor(
    private readonly limits: { maxRecords?: number; maxBytes?: number } = {},
    private readonly now: () => number = Date.now,
  ) {}

  get closed(): boolean {
    return this._closed;
  }

  get length(): number {
    return this.records.length;
  }

  /** Appends output; each line becomes an F record (a trailing fragment too). */
  append(stream: LogStreamName, text: string | Buffer): void {
    if (this._closed) return;
    const buf = typeof text === 'string' ? Buffer.from(text) : text;
    const lines: Buffer[] = [];
    let rest = buf;
    let nl: number;
    while ((nl = rest.indexOf(0x0a)) >= 0) {
      lines.push(rest.subarray(0, nl));
      rest = rest.subarray(nl + 1);
    }
    if (rest.length) lines.push(rest);
    const t = this.now();
    for (const content of lines) {
      this.records.push({ timestamp: criTimestamp(t), timeMs: t, stream, partial: false, content: Buffer.from(content), seq: this.nextSeq++ });
      this.bytes += content.length;
    }
    const maxRecords = this.limits.maxRecords ?? 1000;
    const maxBytes = this.limits.maxBytes ?? 1024 * 1024;
    while (this.records.length > 1 && (this.records.length > maxRecords || this.bytes > maxBytes)) this.bytes -= this.records.shift()!.content.length;
    for (const w of [...this.waiters]) w();
  }

  /** No more output will come (the container exited). */
  close(): void {
    this._closed = true;
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once the log is closed. */
  whenClosed(): Promise<void> {
    if (this._closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (!this._closed) return;
        this.waiters.delete(done);
        resolve();
      };
      this.waiters.add(done);
    });
  }

  /**
   * The records as an async iterator: the tail first, then appends while following. Where
   * the tail starts is fixed when this is called, not when iteration begins.
   */
  iterate(opts: LogOptions): AsyncGenerator<LogRecord> {
    const tail = opts.tailLines !== undefined && opts.tailLines >= 0 ? opts.tailLines : Infinity;
    // Sequence numbers keep our place while old records are dropped from the front.
    const first = this.records.length > tail ? this.records[this.records.length - tail]?.seq ?? this.nextSeq : this.records.length ? this.records[0].seq : this.nextSeq;
    return this.from(first, opts);
  }

  private async *from(first: number, opts: LogOptions): AsyncGenerator<LogRecord> {
    let next = first;
    for (;;) {
      for (const rec of this.records.filter((r) => r.seq >= next)) {
        next = rec.seq + 1;
        const { seq: _seq, ...out } = rec;
        yield out;
        if (opts.signal?.aborted) return;
      }
      if (!opts.follow || this._closed || opts.signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Rendered per kubelet's options. */
  read(opts: LogOptions): Readable {
    return renderLogs(this.iterate(opts), opts, this.now);
  }
}
