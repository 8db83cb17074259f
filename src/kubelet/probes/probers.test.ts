/** @module The probers against real loopback servers: HTTP (status, redirects, headers, TLS, errors), TCP, gRPC health (hand-encoded), exec and lifecycle hooks. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import type { ExecResult } from '../runtime.js';
import { FakeClock, settle } from './fake-clock.js';
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  grpcFrame,
  grpcMessages,
  grpcProbe,
  httpProbe,
  resolveContainerPort,
  runLifecycleHandler,
  runProbe,
  tcpProbe,
  type ProbeTarget,
} from './index.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe('HTTP prober', () => {
  let server: http.Server;
  let port: number;
  let lastHeaders: http.IncomingHttpHeaders = {};
  before(async () => {
    server = http.createServer((req, res) => {
      lastHeaders = req.headers;
      const url = req.url ?? '/';
      if (url === '/healthz?full=1') return res.end('ok');
      if (url === '/fail') return void res.writeHead(500).end('boom');
      if (url === '/moved') return void res.writeHead(302, { Location: '/healthz?full=1' }).end();
      if (url === '/away') return void res.writeHead(301, { Location: 'http://example.invalid/' }).end('gone away');
      if (url === '/loop') return void res.writeHead(302, { Location: '/loop' }).end();
      if (url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      if (url === '/big') return res.end('x'.repeat(20_000));
      res.writeHead(404).end();
    });
    port = await listen(server);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const get = (path: string, extra: Partial<Parameters<typeof httpProbe>[0]> = {}) => httpProbe({ scheme: 'HTTP', host: '127.0.0.1', port, path, timeoutMs: 1000, ...extra });

  test('2xx is success with the body; kube-probe headers are sent', async () => {
    assert.deepEqual(await get('/healthz?full=1'), { result: 'success', output: 'ok' });
    assert.equal(lastHeaders['user-agent'], 'kube-probe/1.32');
    assert.equal(lastHeaders.accept, '*/*');
    assert.equal(lastHeaders.host, `127.0.0.1:${port}`);
  });

  test('custom headers override defaults; a Host header sets the request host', async () => {
    await get('/healthz?full=1', { headers: [{ name: 'X-Probe', value: 'yes' }, { name: 'Accept', value: 'text/plain' }, { name: 'Host', value: 'app.local' }] });
    assert.equal(lastHeaders['x-probe'], 'yes');
    assert.equal(lastHeaders.accept, 'text/plain');
    assert.equal(lastHeaders.host, 'app.local');
  });

  test('a 500 fails with kubelet\'s message', async () => {
    assert.deepEqual(await get('/fail'), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    assert.deepEqual(await get('/nothing'), { result: 'failure', output: 'HTTP probe failed with statuscode: 404' });
  });

  test('redirects: same host followed, another host ends in a warning, loops stop after 10', async () => {
    assert.deepEqual(await get('/moved'), { result: 'success', output: 'ok' });
    assert.deepEqual(await get('/away'), { result: 'warning', output: 'Probe terminated redirects, Response body: gone away' });
    const loop = await get('/loop');
    assert.equal(loop.result, 'failure');
    assert.match(loop.output, /stopped after 10 redirects/);
  });

  test('connection refused and timeouts read as Go\'s errors', async () => {
    const dead = await closedPort();
    assert.deepEqual(await httpProbe({ scheme: 'HTTP', host: '127.0.0.1', port: dead, path: '/health', timeoutMs: 1000 }), {
      result: 'failure',
      output: `Get "http://127.0.0.1:${dead}/health": dial tcp 127.0.0.1:${dead}: connect: connection refused`,
    });
    const t0 = Date.now();
    const slow = await get('/slow', { timeoutMs: 200 });
    assert.equal(slow.result, 'failure');
    assert.equal(slow.output, `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
    assert.ok(Date.now() - t0 < 1500, 'the timeout bounds the probe');
  });

  test('the body kept in the output is at most 10 KiB', async () => {
    assert.equal((await get('/big')).output.length, 10 * 1024);
  });

  test('HTTPS skips certificate verification', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-probe-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=selfsigned'], { stdio: 'ignore' });
      const tls = https.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => res.end('secure'));
      const p = await listen(tls);
      try {
        assert.deepEqual(await httpProbe({ scheme: 'HTTPS', host: '127.0.0.1', port: p, path: '/', timeoutMs: 2000 }), { result: 'success', output: 'secure' });
      } finally {
        tls.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TCP prober', () => {
  test('open port succeeds, closed port is refused', async () => {
    const s = net.createServer((c) => c.destroy());
    const port = await listen(s);
    try {
      assert.deepEqual(await tcpProbe('127.0.0.1', port, 1000), { result: 'success', output: '' });
    } finally {
      s.close();
    }
    const dead = await closedPort();
    assert.deepEqual(await tcpProbe('127.0.0.1', dead, 1000), { result: 'failure', output: `dial tcp 127.0.0.1:${dead}: connect: connection refused` });
  });
});

describe('gRPC health prober', () => {
  test('hand-encoded HealthCheckRequest / HealthCheckResponse match protobuf wire format', () => {
    assert.deepEqual([...encodeHealthCheckRequest('')], []);
    assert.deepEqual([...encodeHealthCheckRequest('db')], [0x0a, 0x02, 0x64, 0x62]);
    assert.deepEqual([...grpcFrame(Buffer.from([0x08, 0x01]))], [0, 0, 0, 0, 2, 0x08, 0x01]);
    assert.equal(decodeHealthCheckResponse(Buffer.from([0x08, 0x01])), 1);
    assert.equal(decodeHealthCheckResponse(Buffer.from([0x08, 0x02])), 2);
    assert.equal(decodeHealthCheckResponse(Buffer.alloc(0)), 0, 'proto3 omits UNKNOWN');
    // An unknown length-delimited field 2 before the status is skipped.
    assert.equal(decodeHealthCheckResponse(Buffer.from([0x12, 0x01, 0x41, 0x08, 0x03])), 3);
    const long = 'x'.repeat(200);
    const enc = encodeHealthCheckRequest(long);
    assert.deepEqual([...enc.subarray(0, 3)], [0x0a, 0xc8, 0x01], 'lengths over 127 use a two-byte varint');
    assert.deepEqual(grpcMessages(Buffer.concat([grpcFrame(Buffer.from([1])), grpcFrame(Buffer.from([2, 3]))])).map((b) => [...b]), [[1], [2, 3]]);
  });

  let server: http2.Http2Server;
  let port: number;
  const statuses: Record<string, number> = { '': 1, db: 2 };
  let seenServices: string[] = [];
  before(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      if (headers[':path'] !== '/grpc.health.v1.Health/Check') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown service' }, { endStream: true });
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const [msg] = grpcMessages(Buffer.concat(chunks));
        // service is field 1 (0x0a, len, bytes).
        const service = msg.length ? msg.subarray(2).toString() : '';
        seenServices.push(service);
        if (service === 'missing') {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'unknown%20service' }, { endStream: true });
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(grpcFrame(Buffer.from([0x08, statuses[service] ?? 3])));
      });
    });
    port = await listen(server);
  });
  after(() => server.close());

  test('SERVING succeeds, anything else fails with kubelet\'s message', async () => {
    seenServices = [];
    assert.deepEqual(await grpcProbe('127.0.0.1', port, '', 1000), { result: 'success', output: '' });
    assert.deepEqual(await grpcProbe('127.0.0.1', port, 'db', 1000), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    assert.deepEqual(await grpcProbe('127.0.0.1', port, 'other', 1000), { result: 'failure', output: 'service unhealthy (responded with "SERVICE_UNKNOWN")' });
    assert.deepEqual(seenServices, ['', 'db', 'other']);
    const missing = await grpcProbe('127.0.0.1', port, 'missing', 1000);
    assert.deepEqual(missing, { result: 'failure', output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service' });
  });

  test('nothing listening: failed to connect', async () => {
    const dead = await closedPort();
    const r = await grpcProbe('127.0.0.1', dead, '', 500);
    assert.equal(r.result, 'failure');
    assert.match(r.output, new RegExp(`^timeout: failed to connect service "127\\.0\\.0\\.1:${dead}" within 0\\.5s`));
  });
});

describe('probe handlers and lifecycle hooks', () => {
  const execCalls: Array<{ id: string; cmd: string[]; timeout: number }> = [];
  let nextExec: ExecResult = { exitCode: 0, output: '' };
  const runtime = {
    runtimeName: 'test',
    async execInContainer(id: string, cmd: string[], timeout: number): Promise<ExecResult> {
      execCalls.push({ id, cmd, timeout });
      return nextExec;
    },
  };
  const target = (container: KObject = { name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }): ProbeTarget => ({
    pod: { metadata: { name: 'web', namespace: 'default', uid: 'u-1' } },
    container,
    containerId: 'cid',
    podIP: '127.0.0.1',
    runtime,
  });

  test('named ports resolve through the container ports; unknown names are errors', () => {
    const c = { name: 'app', ports: [{ name: 'http', containerPort: 8080 }] };
    assert.equal(resolveContainerPort('http', c), 8080);
    assert.equal(resolveContainerPort(9090, c), 9090);
    assert.throws(() => resolveContainerPort('grpc', c), /couldn't find port: grpc in app/);
    assert.throws(() => resolveContainerPort(70000, c), /invalid port number/);
  });

  test('exec probes run through the runtime with the probe timeout', async () => {
    nextExec = { exitCode: 1, output: "cat: can't open '/tmp/healthy': No such file or directory\n" };
    const r = await runProbe('liveness', { exec: { command: ['cat', '/tmp/healthy'] }, timeoutSeconds: 3 }, target());
    assert.deepEqual(r, { result: 'failure', output: nextExec.output });
    assert.deepEqual(execCalls.at(-1), { id: 'cid', cmd: ['cat', '/tmp/healthy'], timeout: 3 });
    nextExec = { exitCode: 0, output: '', timedOut: true };
    assert.deepEqual(await runProbe('liveness', { exec: { command: ['sleep', '9'] } }, target()), { result: 'failure', output: 'command "sleep 9" timed out' });
    const noExec = await runProbe('liveness', { exec: { command: ['true'] } }, { ...target(), runtime: { runtimeName: 'bare' } });
    assert.equal(noExec.result, 'unknown');
  });

  test('an httpGet probe with a named port goes to the pod IP', async () => {
    const s = http.createServer((_q, res) => res.end('pong'));
    const port = await listen(s);
    try {
      const r = await runProbe('readiness', { httpGet: { path: '/ping', port: 'web' } }, target({ name: 'app', ports: [{ name: 'web', containerPort: port }] }));
      assert.deepEqual(r, { result: 'success', output: 'pong' });
      const missing = await runProbe('readiness', { httpGet: { path: '/', port: 'nope' } }, target());
      assert.equal(missing.result, 'unknown');
    } finally {
      s.close();
    }
  });

  test('exec hooks: success, and kubelet\'s failure message', async () => {
    nextExec = { exitCode: 0, output: '' };
    assert.deepEqual(await runLifecycleHandler({ exec: { command: ['sh', '-c', 'echo hi'] } }, target()), { ok: true });
    nextExec = { exitCode: 1, output: 'nope' };
    const r = await runLifecycleHandler({ exec: { command: ['sh', '-c', 'exit 1'] } }, target());
    assert.deepEqual(r, { ok: false, message: `Exec lifecycle hook ([sh -c exit 1]) for Container "app" in Pod "web_default(u-1)" failed - error: command 'sh -c exit 1' exited with 1: nope, message: "nope"` });
  });

  test('httpGet hooks: any answer is success, a refused connection fails', async () => {
    let ua = '';
    const s = http.createServer((req, res) => {
      ua = req.headers['user-agent'] ?? '';
      res.writeHead(500).end();
    });
    const port = await listen(s);
    try {
      assert.deepEqual(await runLifecycleHandler({ httpGet: { path: '/stop', port } }, target()), { ok: true });
      assert.equal(ua, 'kube-lifecycle/1.32');
    } finally {
      s.close();
    }
    const dead = await closedPort();
    const r = await runLifecycleHandler({ httpGet: { path: '/stop', port: dead } }, target());
    assert.equal(r.ok, false);
    assert.equal(r.message, `HTTP lifecycle hook (/stop) for Container "app" in Pod "web_default(u-1)" failed - error: Get "http://127.0.0.1:${dead}/stop": dial tcp 127.0.0.1:${dead}: connect: connection refused`);
    assert.deepEqual(await runLifecycleHandler({ httpGet: { path: '/x', port: dead } }, { ...target(), runtime: { runtimeName: 'hollow', simulated: true } }), { ok: true }, 'hollow hooks do not dial');
  });

  test('sleep hooks wait on the clock; tcpSocket is not a hook', async () => {
    const clock = new FakeClock();
    let done = false;
    const p = runLifecycleHandler({ sleep: { seconds: 5 } }, target(), { clock }).then((r) => {
      done = true;
      return r;
    });
    await clock.advance(4000);
    assert.equal(done, false);
    await clock.advance(1000);
    await settle();
    assert.deepEqual(await p, { ok: true });
    const tcp = await runLifecycleHandler({ tcpSocket: { port: 80 } }, target());
    assert.equal(tcp.ok, false);
    assert.match(tcp.message!, /^Cannot run handler: invalid handler/);
  });
});
