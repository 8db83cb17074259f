import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable, type Duplex, type Readable } from 'node:stream';
import { dialInNetns } from './host-exec.js';
import { ProcessStreaming } from './process.js';
import { ContainerNotRunningError } from './types.js';

async function readAll(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += c;
  return s;
}

function sink(): { w: Writable; text: () => string } {
  let s = '';
  return {
    w: new Writable({
      write(c, _e, cb) {
        s += c;
        cb();
      },
    }),
    text: () => s,
  };
}

async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((s) => {
    s.on('data', (d) => s.write(`echo:${d}`));
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

async function roundTrip(conn: Duplex, text: string): Promise<string> {
  let got = '';
  conn.on('data', (d) => (got += d));
  const ended = new Promise<void>((r) => conn.once('end', () => r()));
  conn.end(text);
  await ended;
  return got;
}

test('process streaming: logs from the CRI file (waiting for it when following), exec through the runtime placement, port-forward on the host network', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-process-streaming-'));
  const echo = await echoServer();
  try {
    let running = true;
    const streaming = new ProcessStreaming({
      logPath: (id) => join(dir, `${id}.log`),
      isRunning: () => running,
      // The prefix stands in for nsenter: the runtime decides how the command is placed.
      execTarget: () => ({ argvPrefix: ['env', 'PLACED_BY=runtime'], env: { PATH: '/usr/bin:/bin' }, cwd: dir }),
      netnsPath: () => undefined,
      pollMs: 20,
    });
    assert.equal(await readAll(await streaming.logs('none', {})), '');
    const following = streaming.logs('late', { follow: true });
    writeFileSync(join(dir, 'late.log'), '2024-01-01T00:00:00Z stdout F appeared\n');
    const r = await following;
    let text = '';
    r.on('data', (d) => (text += d));
    const ended = new Promise<void>((res) => r.once('end', () => res()));
    appendFileSync(join(dir, 'late.log'), '2024-01-01T00:00:01Z stderr F more\n');
    const deadline = Date.now() + 5000;
    while (!text.includes('more') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    running = false;
    await ended;
    assert.equal(text, 'appeared\nmore\n');

    running = true;
    const out = sink();
    const stdin = new PassThrough();
    stdin.end('from stdin');
    const code = await streaming.exec('c1', ['sh', '-c', 'printf "%s %s " "$PLACED_BY" "$(pwd)"; cat; exit 4'], { stdin, stdout: out.w, tty: false });
    assert.equal(code, 4);
    assert.equal(out.text(), `runtime ${dir} from stdin`);
    running = false;
    await assert.rejects(streaming.exec('c1', ['true'], { tty: false }), ContainerNotRunningError);
    await assert.rejects(streaming.attach('c1', { tty: false }), /not supported/);

    assert.equal(await roundTrip(await streaming.portForward('sb', echo.port), 'x'), 'echo:x');
  } finally {
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dialInNetns connects to localhost inside a network namespace (here: our own)', { skip: process.getuid?.() !== 0 ? 'needs root for nsenter' : false }, async () => {
  const echo = await echoServer();
  try {
    const conn = await dialInNetns(`/proc/${process.pid}/ns/net`, echo.port);
    assert.equal(await roundTrip(conn, 'through nsenter'), 'echo:through nsenter');
    await assert.rejects(dialInNetns(`/proc/${process.pid}/ns/net`, 1), /ECONNREFUSED|refused/);
  } finally {
    await echo.close();
  }
});
