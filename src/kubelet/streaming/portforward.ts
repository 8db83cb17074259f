/**
 * @module port-forward over SPDY (kubelet's portforward httpstream handler): kubectl
 * opens two streams per local connection — `streamtype: error` and `streamtype: data`,
 * both carrying `port` and `requestid` — and the pair is forwarded to the port in the
 * pod. When one direction ends the other gets a second to finish (as containerd's
 * forwarder does); then the data stream is closed and the error stream closed, after
 * carrying the failure text if the forward failed.
 */
import type { Duplex } from 'node:stream';
import type { SpdySession, SpdyStream } from './spdy.js';

/** The SPDY protocol name kubectl asks for (X-Stream-Protocol-Version). */
export const portForwardProtocolV1 = 'portforward.k8s.io';

export interface PortForwardContext {
  /** Opens a byte stream to the port inside the pod. */
  dial(port: number): Promise<Duplex>;
  /** For error messages ("error forwarding port 80 to pod <pod>, uid <uid>: …"). */
  podName: string;
  uid: string;
  /** How long a half-created pair may wait for its other stream (kubelet: 30 s). */
  streamCreationTimeoutMs?: number;
  log?: (msg: Record<string, unknown>) => void;
}

interface Pair {
  requestId: string;
  data?: SpdyStream;
  error?: SpdyStream;
  timer?: NodeJS.Timeout;
  started: boolean;
}

/** kubelet's request id: the header, or (old clients) derived from the stream ids. */
export function pairRequestId(stream: SpdyStream): string {
  const id = stream.header('requestid');
  if (id) return id;
  return stream.header('streamtype') === 'data' ? String(stream.id - 2) : String(stream.id);
}

/** Serves every port-forward stream pair the client opens on this session. */
export function servePortForward(session: SpdySession, ctx: PortForwardContext): void {
  const pairs = new Map<string, Pair>();
  const timeoutMs = ctx.streamCreationTimeoutMs ?? 30_000;
  session.on('stream', (stream: SpdyStream) => {
    stream.on('error', () => {});
    const type = stream.header('streamtype');
    const requestId = pairRequestId(stream);
    let pair = pairs.get(requestId);
    if (!pair) {
      pair = { requestId, started: false };
      pairs.set(requestId, pair);
      const p = pair;
      p.timer = setTimeout(() => {
        pairs.delete(requestId);
        fail(p, 'timed out waiting for streams');
      }, timeoutMs);
      p.timer.unref?.();
    }
    if (type === 'data') pair.data = stream;
    else if (type === 'error') pair.error = stream;
    else {
      stream.reset();
      return;
    }
    if (pair.data && pair.error && !pair.started) {
      pair.started = true;
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      void forward(pair, ctx);
    }
  });
  session.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
}

function fail(p: Pair, message: string): void {
  if (p.error && !p.error.localClosed) {
    p.error.write(message);
    p.error.end();
  }
  if (p.data && !p.data.localClosed) p.data.end();
}

async function forward(p: Pair, ctx: PortForwardContext): Promise<void> {
  const data = p.data!;
  const error = p.error!;
  // Whatever the client writes on the error stream is ignored.
  error.resume();
  const portText = data.header('port') ?? '';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    fail(p, `error forwarding port ${portText} to pod ${ctx.podName}, uid ${ctx.uid}: invalid port ${JSON.stringify(portText)}`);
    return;
  }
  let target: Duplex;
  try {
    target = await ctx.dial(port);
  } catch (err) {
    fail(p, `error forwarding port ${port} to pod ${ctx.podName}, uid ${ctx.uid}: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  await new Promise<void>((resolve) => {
    let directionsDone = 0;
    let grace: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(grace);
      resolve();
    };
    const oneDone = () => {
      directionsDone++;
      if (directionsDone >= 2) finish();
      else if (!grace) {
        grace = setTimeout(finish, 1000);
        grace.unref?.();
      }
    };
    // Pod → client: the target's end becomes FIN on the data stream.
    let toClientDone = false;
    const toClient = () => {
      if (toClientDone) return;
      toClientDone = true;
      if (!data.localClosed) data.end();
      oneDone();
    };
    target.on('data', (chunk: Buffer) => {
      if (data.localClosed) return;
      if (!data.write(chunk)) {
        target.pause();
        data.once('drain', () => target.resume());
      }
    });
    target.once('end', toClient);
    target.once('close', toClient);
    target.once('error', toClient);
    // Client → pod: FIN from kubectl half-closes the connection to the pod.
    let toPodDone = false;
    const toPod = () => {
      if (toPodDone) return;
      toPodDone = true;
      if (!target.writableEnded && !target.destroyed) target.end();
      oneDone();
    };
    data.on('data', (chunk: Buffer) => {
      if (target.destroyed || target.writableEnded) return;
      if (!target.write(chunk)) {
        data.pause();
        target.once('drain', () => data.resume());
      }
    });
    data.once('end', toPod);
    data.once('close', () => {
      // A reset from kubectl ends both directions at once.
      toPod();
      toClient();
    });
  });
  target.destroy();
  if (!data.localClosed) data.end();
  if (!error.localClosed) error.end();
}
