import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { inflateSync, deflateSync, constants } from 'node:zlib';
import {
  FrameParser,
  HeaderCompressor,
  HeaderDecompressor,
  SpdySession,
  decodeHeaderBlock,
  encodeFrame,
  encodeHeaderBlock,
  flagFin,
  spdy3Dictionary,
  type SpdyFrame,
  type SpdyStream,
} from './spdy.js';
import { TestSpdyClient } from './test-support.js';

test('the SPDY/3 dictionary is the 1423 bytes of the spec, starting and ending as it does', () => {
  assert.equal(spdy3Dictionary.length, 1423);
  assert.deepEqual([...spdy3Dictionary.subarray(0, 11)], [0, 0, 0, 7, ...Buffer.from('options')]);
  assert.equal(spdy3Dictionary.subarray(-6).toString(), 'enq=0.');
});

test('every frame type survives encode → parse, also when split at every byte', () => {
  const frames: SpdyFrame[] = [
    { type: 'data', streamId: 7, flags: flagFin, data: Buffer.from('hello') },
    { type: 'synStream', streamId: 1, associatedId: 0, priority: 3, flags: 0, headerBlock: Buffer.from([1, 2, 3]) },
    { type: 'synReply', streamId: 1, flags: 0, headerBlock: Buffer.from([9]) },
    { type: 'rstStream', streamId: 3, flags: 0, status: 5 },
    { type: 'settings', flags: 0, entries: [{ id: 7, flags: 1, value: 65536 }] },
    { type: 'ping', flags: 0, id: 0xfffffffe },
    { type: 'goAway', flags: 0, lastGoodStreamId: 9, status: 0 },
    { type: 'headers', streamId: 5, flags: flagFin, headerBlock: Buffer.from([4]) },
    { type: 'windowUpdate', streamId: 5, flags: 0, delta: 1234 },
  ];
  const wire = Buffer.concat(frames.map(encodeFrame));
  assert.deepEqual(new FrameParser().push(wire), frames);
  const p = new FrameParser();
  const got: SpdyFrame[] = [];
  for (const b of wire) got.push(...p.push(Buffer.from([b])));
  assert.deepEqual(got, frames);
  assert.equal(p.pending, 0);
});

test('the control bit, version and 24-bit length sit where SPDY/3 puts them', () => {
  const ping = encodeFrame({ type: 'ping', flags: 0, id: 1 });
  assert.deepEqual([...ping], [0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]);
  const data = encodeFrame({ type: 'data', streamId: 3, flags: flagFin, data: Buffer.from('ab') });
  assert.deepEqual([...data], [0, 0, 0, 3, 0x01, 0, 0, 2, 0x61, 0x62]);
});

test('header blocks: counts, lower-case names, NUL-separated values', () => {
  const block = encodeHeaderBlock({ StreamType: 'error', Port: '8080', Multi: ['a', 'b'] });
  assert.equal(block.readUInt32BE(0), 3);
  assert.deepEqual(decodeHeaderBlock(block), { streamtype: ['error'], port: ['8080'], multi: ['a', 'b'] });
  assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({})), {});
});

test('compression uses one context per direction: later blocks depend on earlier ones', async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const first = await c.compress({ streamtype: 'data', port: '80', requestid: '0' });
  const second = await c.compress({ streamtype: 'data', port: '80', requestid: '1' });
  assert.ok(second.length < first.length, 'the second block reuses the first from the window');
  assert.deepEqual(await d.decompress(first), { streamtype: ['data'], port: ['80'], requestid: ['0'] });
  assert.deepEqual(await d.decompress(second), { streamtype: ['data'], port: ['80'], requestid: ['1'] });
  // A block ends in a sync flush, and the stream starts with the dictionary id a peer checks.
  assert.deepEqual([...first.subarray(-4)], [0, 0, 0xff, 0xff]);
  const whole = inflateSync(Buffer.concat([first, second]), { dictionary: spdy3Dictionary, finishFlush: constants.Z_SYNC_FLUSH });
  assert.deepEqual(decodeHeaderBlock(whole.subarray(0, encodeHeaderBlock({ streamtype: 'data', port: '80', requestid: '0' }).length)), {
    streamtype: ['data'],
    port: ['80'],
    requestid: ['0'],
  });
  c.close();
  d.close();
});

test('a block compressed by another zlib with the dictionary decodes', async () => {
  const d = new HeaderDecompressor();
  const raw = encodeHeaderBlock({ streamtype: 'stdout' });
  const block = deflateSync(raw, { dictionary: spdy3Dictionary, finishFlush: constants.Z_SYNC_FLUSH });
  assert.deepEqual(await d.decompress(block), { streamtype: ['stdout'] });
  d.close();
});

async function sessionPair(): Promise<{ session: SpdySession; client: TestSpdyClient; streams: SpdyStream[]; close(): Promise<void> }> {
  const streams: SpdyStream[] = [];
  let serverSide: Socket | undefined;
  const server = createServer((s) => (serverSide = s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  while (!serverSide) await new Promise((r) => setTimeout(r, 5));
  const session = new SpdySession(serverSide);
  session.on('stream', (s: SpdyStream) => streams.push(s));
  const client = new TestSpdyClient(sock);
  return {
    session,
    client,
    streams,
    async close() {
      client.close();
      session.destroy();
      sock.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('a session replies to each stream, carries data both ways, and FIN half-closes', async () => {
  const { session, client, streams, close } = await sessionPair();
  try {
    const s1 = await client.open({ streamtype: 'error' });
    const s3 = await client.open({ streamtype: 'stdout', extra: 'x' });
    await client.until(() => s1.replied && s3.replied);
    assert.equal(streams.length, 2);
    assert.equal(streams[1].header('streamtype'), 'stdout');
    assert.equal(streams[1].header('Extra'), 'x');
    client.send(s3, 'from client', true);
    const got = await new Promise<string>((resolve) => {
      let text = '';
      streams[1].on('data', (d: Buffer) => (text += d));
      streams[1].on('end', () => resolve(text));
    });
    assert.equal(got, 'from client');
    streams[1].write('from server');
    streams[1].end();
    await client.until(() => s3.remoteFin);
    assert.equal(client.text(s3), 'from server');
    // Both sides closed: the session forgets the stream.
    await client.until(() => session.streamCount === 1);
    // The reply of a stream always precedes its data.
    const order = client.frames.filter((f) => 'streamId' in f && f.streamId === s3.id).map((f) => f.type);
    assert.equal(order[0], 'synReply');
  } finally {
    await close();
  }
});

test('pings from the client are echoed; a reset closes the stream; GOAWAY is announced', async () => {
  const { session, client, streams, close } = await sessionPair();
  try {
    client.ping(1);
    await client.until(() => client.frames.some((f) => f.type === 'ping' && f.id === 1));
    const s = await client.open({ streamtype: 'data' });
    await client.until(() => s.replied);
    const closed = new Promise<void>((r) => streams[0].once('close', () => r()));
    client.socket.write(encodeFrame({ type: 'rstStream', streamId: s.id, flags: 0, status: 5 }));
    await closed;
    assert.equal(session.streamCount, 0);
    const goaway = new Promise<void>((r) => session.once('goaway', () => r()));
    client.socket.write(encodeFrame({ type: 'goAway', flags: 0, lastGoodStreamId: 1, status: 0 }));
    await goaway;
    // After GOAWAY from either side new streams are refused.
    const late = await client.open({ streamtype: 'data' });
    await client.until(() => late.reset);
  } finally {
    await close();
  }
});

test('large writes are split into frames of at most 32 KiB', async () => {
  const { client, streams, close } = await sessionPair();
  try {
    const s = await client.open({ streamtype: 'stdout' });
    await client.until(() => s.replied);
    streams[0].end(Buffer.alloc(100_000, 7));
    await client.until(() => s.remoteFin);
    assert.equal(Buffer.concat(s.data).length, 100_000);
    const sizes = client.frames.filter((f): f is Extract<SpdyFrame, { type: 'data' }> => f.type === 'data').map((f) => f.data.length);
    assert.ok(sizes.every((n) => n <= 32 * 1024));
    assert.ok(sizes.length >= 4);
  } finally {
    await close();
  }
});
