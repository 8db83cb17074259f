/**
 * @module Test support for the streaming server: a throwaway CA with a 127.0.0.1 serving
 * certificate and a client certificate (made with the openssl CLI), and a minimal SPDY/3.1
 * client that speaks the way kubectl's spdystream does.
 */
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { FrameParser, HeaderCompressor, HeaderDecompressor, encodeFrame, flagFin, type SpdyFrame } from './spdy.js';

export interface TestCerts {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** A client certificate from another CA (must be refused). */
  strangerCertPem: string;
  strangerKeyPem: string;
}

let cached: TestCerts | undefined;

export function testCerts(): TestCerts {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'skiff-streaming-certs-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (name: string) => ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  for (const n of ['ca', 'server', 'client', 'other-ca', 'stranger']) key(n);
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=test-ca', '-days', '2', '-out', 'ca.crt');
  ssl('req', '-x509', '-new', '-key', 'other-ca.key', '-subj', '/CN=other-ca', '-days', '2', '-out', 'other-ca.crt');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  const leaf = (name: string, cn: string, ca: string, ext: string) => {
    ssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.crt`);
  };
  leaf('server', 'kubelet', 'ca', 'server.ext');
  leaf('client', 'kube-apiserver-kubelet-client', 'ca', 'client.ext');
  leaf('stranger', 'stranger', 'other-ca', 'client.ext');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  cached = {
    caPem: read('ca.crt'),
    serverCertPem: read('server.crt'),
    serverKeyPem: read('server.key'),
    clientCertPem: read('client.crt'),
    clientKeyPem: read('client.key'),
    strangerCertPem: read('stranger.crt'),
    strangerKeyPem: read('stranger.key'),
  };
  rmSync(dir, { recursive: true, force: true });
  return cached;
}

/** Opens a TLS connection, sends an upgrade request and resolves after the response head. */
export async function upgradeRequest(
  port: number,
  certs: TestCerts,
  method: string,
  path: string,
  headers: Array<[string, string]>,
): Promise<{ socket: TLSSocket; status: number; headers: Record<string, string>; rest: Buffer; body?: string }> {
  const socket = connect({ host: '127.0.0.1', port, ca: certs.caPem, cert: certs.clientCertPem, key: certs.clientKeyPem, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  socket.write([`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: Upgrade', ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n') + '\r\n\r\n');
  let buf = Buffer.alloc(0);
  const head = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      socket.off('data', onData);
      const text = buf.subarray(0, i).toString('latin1');
      buf = buf.subarray(i + 4);
      resolve(text);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed before a response: ${buf.toString()}`)));
  });
  socket.pause();
  const [statusLine, ...lines] = head.split('\r\n');
  const hdrs: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    hdrs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const status = Number(statusLine.split(' ')[1]);
  let body: string | undefined;
  if (status !== 101) {
    const len = Number(hdrs['content-length'] ?? 0);
    while (buf.length < len) {
      socket.resume();
      const d = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
      buf = Buffer.concat([buf, d]);
    }
    body = buf.subarray(0, len).toString('utf8');
  }
  return { socket, status, headers: hdrs, rest: buf, body };
}

/**
 * A WebSocket client for subprotocols the ws client refuses to send (kubectl's
 * `SPDY/3.1+portforward.k8s.io` has a "/"): handshake by hand, then ws frames the socket.
 */
export async function rawWebSocket(port: number, certs: TestCerts, path: string, protocol: string): Promise<{ ws: WebSocket; protocol: string }> {
  const key = randomBytes(16).toString('base64');
  const r = await upgradeRequest(port, certs, 'GET', path, [
    ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Protocol', protocol],
  ]);
  if (r.status !== 101) throw new Error(`websocket handshake failed: ${r.status} ${r.body}`);
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  if (r.headers['sec-websocket-accept'] !== accept) throw new Error('bad Sec-WebSocket-Accept');
  const ws = new WebSocket(null as unknown as string, undefined, {});
  // Client frames must be masked: make the socket-less WebSocket a client before handing it the socket.
  (ws as unknown as { _isServer: boolean })._isServer = false;
  (ws as unknown as { setSocket(s: unknown, h: Buffer, o: object): void }).setSocket(r.socket, r.rest, { maxPayload: 64 * 1024 * 1024, skipUTF8Validation: false });
  r.socket.resume();
  return { ws, protocol: r.headers['sec-websocket-protocol'] ?? '' };
}

export interface ClientStream {
  id: number;
  data: Buffer[];
  replied: boolean;
  remoteFin: boolean;
  reset: boolean;
}

/** A SPDY client session (odd stream ids), like the client side of moby/spdystream. */
export class TestSpdyClient extends EventEmitter {
  private readonly parser = new FrameParser();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private nextId = 1;
  readonly streams = new Map<number, ClientStream>();
  readonly frames: SpdyFrame[] = [];
  private chain: Promise<void> = Promise.resolve();
  closed = false;

  constructor(readonly socket: { write(b: Buffer): unknown; on(ev: string, cb: (...a: never[]) => void): unknown; end(): unknown }, initial?: Buffer) {
    super();
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
      this.emit('change');
    });
    if (initial?.length) this.onData(initial);
  }

  private onData(d: Buffer): void {
    for (const f of this.parser.push(d)) {
      this.chain = this.chain.then(async () => {
        this.frames.push(f);
        if (f.type === 'synReply') {
          await this.decompressor.decompress(f.headerBlock);
          const s = this.streams.get(f.streamId);
          if (s) s.replied = true;
        } else if (f.type === 'data') {
          const s = this.streams.get(f.streamId);
          if (s) {
            if (f.data.length) s.data.push(f.data);
            if (f.flags & flagFin) s.remoteFin = true;
          }
        } else if (f.type === 'rstStream') {
          const s = this.streams.get(f.streamId);
          if (s) s.reset = true;
        }
        this.emit('change');
      });
    }
  }

  async open(headers: Record<string, string>): Promise<ClientStream> {
    const id = this.nextId;
    this.nextId += 2;
    const s: ClientStream = { id, data: [], replied: false, remoteFin: false, reset: false };
    this.streams.set(id, s);
    const block = await this.compressor.compress(headers);
    this.socket.write(encodeFrame({ type: 'synStream', streamId: id, associatedId: 0, priority: 0, flags: 0, headerBlock: block }));
    return s;
  }

  send(stream: ClientStream, data: Buffer | string, fin = false): void {
    this.socket.write(encodeFrame({ type: 'data', streamId: stream.id, flags: fin ? flagFin : 0, data: Buffer.from(data) }));
  }

  ping(id: number): void {
    this.socket.write(encodeFrame({ type: 'ping', flags: 0, id }));
  }

  /** Resolves when cond() holds (re-checked on every frame), rejects after timeoutMs. */
  until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('change', check);
        reject(new Error('timed out waiting for SPDY frames'));
      }, timeoutMs);
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        this.off('change', check);
        resolve();
      };
      this.on('change', check);
    });
  }

  text(stream: ClientStream): string {
    return Buffer.concat(stream.data).toString('utf8');
  }

  close(): void {
    this.compressor.close();
    this.decompressor.close();
    this.socket.end();
  }
}

