/**
 * @module kubelet's gRPC prober without a protobuf library: grpc.health.v1.Health/Check
 * over cleartext HTTP/2. The request (HealthCheckRequest{service}) and response
 * (HealthCheckResponse{status}) are one field each, so they are encoded by hand inside
 * gRPC's 5-byte message framing; the verdict and messages are kubelet's.
 */
import http2 from 'node:http2';
import { goNetError, probeUserAgent } from './http.js';
import type { ProbeOutcome } from './types.js';

/** grpc.health.v1.HealthCheckResponse.ServingStatus. */
export const servingStatusNames = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

export const healthCheckPath = '/grpc.health.v1.Health/Check';

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** gRPC length-prefixed message: flag 0 (uncompressed), 4-byte big-endian length, bytes. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(0, 0);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** HealthCheckRequest{service}: field 1, length-delimited; proto3 omits the empty default. */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (!service) return Buffer.alloc(0);
  const s = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), varint(s.length), s]);
}

/** Reads a varint at offset; returns [value, next offset]. */
function readVarint(buf: Buffer, offset: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = offset; i < buf.length; i++) {
    const b = buf[i];
    if (shift < 32) value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, i + 1];
  }
  throw new Error('truncated varint');
}

/** HealthCheckResponse.status (field 1, varint); unknown fields are skipped, absent means UNKNOWN (0). */
export function decodeHealthCheckResponse(message: Buffer): number {
  let status = 0;
  let i = 0;
  while (i < message.length) {
    const [key, next] = readVarint(message, i);
    i = next;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const [v, n2] = readVarint(message, i);
      i = n2;
      if (field === 1) status = v;
    } else if (wire === 2) {
      const [len, n2] = readVarint(message, i);
      i = n2 + len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return status;
}

/** The messages of a gRPC body (concatenated length-prefixed frames). */
export function grpcMessages(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 5 <= body.length) {
    const len = body.readUInt32BE(i + 1);
    out.push(body.subarray(i + 5, i + 5 + len));
    i += 5 + len;
  }
  return out;
}

const codeNames = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

/** The status codes kubelet words specially. */
const unimplemented = 12;
const deadlineExceeded = 4;

export function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const within = `${timeoutMs / 1000}s`;
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    const session = http2.connect(`http://${addr}`);
    const done = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => {
      done({
        result: 'failure',
        output: connected ? `timeout: health rpc did not complete within ${within}` : `timeout: failed to connect service "${addr}" within ${within}: context deadline exceeded`,
      });
    }, timeoutMs);
    const connectFailed = (err: Error) => {
      const cause = ((err as { cause?: unknown }).cause ?? err) as NodeJS.ErrnoException;
      done({ result: 'failure', output: `timeout: failed to connect service "${addr}" within ${within}: ${goNetError(cause, addr)}` });
    };
    session.on('error', connectFailed);
    session.on('connect', () => (connected = true));
    const req = session.request({
      ':method': 'POST',
      ':path': healthCheckPath,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': probeUserAgent,
      'grpc-timeout': `${Math.max(1, Math.round(timeoutMs))}m`,
    });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    const statusFrom = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) {
        grpcStatus = String(h['grpc-status']);
        grpcMessage = decodeURIComponent(String(h['grpc-message'] ?? ''));
      }
    };
    req.on('response', statusFrom);
    req.on('trailers', statusFrom);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (err) => (connected ? done({ result: 'failure', output: `error: health rpc probe failed: ${err.message}` }) : connectFailed(err)));
    req.on('end', () => {
      const code = Number(grpcStatus ?? 2);
      if (code !== 0) {
        if (code === unimplemented)
          return done({ result: 'failure', output: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${grpcMessage}` });
        if (code === deadlineExceeded) return done({ result: 'failure', output: `timeout: health rpc did not complete within ${within}` });
        return done({ result: 'failure', output: `error: health rpc probe failed: rpc error: code = ${codeNames[code] ?? code} desc = ${grpcMessage}` });
      }
      const [msg] = grpcMessages(Buffer.concat(chunks));
      let status = 0;
      try {
        status = decodeHealthCheckResponse(msg ?? Buffer.alloc(0));
      } catch (err) {
        return done({ result: 'failure', output: `error: health rpc probe failed: ${(err as Error).message}` });
      }
      if (status === 1) return done({ result: 'success', output: '' });
      done({ result: 'failure', output: `service unhealthy (responded with "${servingStatusNames[status] ?? status}")` });
    });
    req.end(grpcFrame(encodeHealthCheckRequest(service)));
  });
}
