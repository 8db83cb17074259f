import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { createServer, type Server, type AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import type { KObject } from '../../api/types.js';
import { HollowRuntime } from '../hollow/runtime.js';
import { HollowStreamingRuntime } from './hollow.js';
import { KubeletStreamingServer } from './server.js';
import { TestSpdyClient, rawWebSocket, testCerts, upgradeRequest, type TestCerts } from './test-support.js';
import { webSocketStream } from './websocket.js';

let certs: TestCerts;
let server: KubeletStreamingServer;
let runtime: HollowStreamingRuntime;
let sandboxId: string;
let containerId: string;
let echoServer: Server;
let echoPort: number;
let closedPort: number;
let pod: KObject;

before(async () => {
  certs = testCerts();
  runtime = new HollowStreamingRuntime(new HollowRuntime({ podCIDR: '10.42.0.0/24', podStartupMs: 0 }));
  sandboxId = await runtime.runPodSandbox({
    name: 'p',
    namespace: 'ns',
    uid: 'uid-1',
    attempt: 0,
    hostname: 'p',
    labels: {},
    annotations: {},
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
  });
  containerId = await runtime.createContainer(sandboxId, {
    name: 'c',
    image: 'busybox',
    attempt: 0,
    role: 'regular',
    labels: {},
    annotations: {},
    stdin: true,
    env: [{ name: 'GREETING', value: 'hola' }],
  });
  await runtime.startContainer(containerId);
  pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'uid-1' },
    spec: { containers: [{ name: 'c' }, { name: 'waiting' }] },
    status: { containerStatuses: [{ name: 'waiting', state: { waiting: { reason: 'ContainerCreating' } } }] },
  };
  server = new KubeletStreamingServer({
    resolve: (ns, name) => (ns === 'ns' && name === 'p' ? { pod, sandboxId, runtime } : undefined),
    tls: { certPem: certs.serverCertPem, keyPem: certs.serverKeyPem, clientCaPem: certs.caPem },
    streamCreationTimeoutMs: 2000,
  });
  await server.listen();
  // The port-forward target: upper-cases what it gets, closes after the client's FIN.
  echoServer = createServer((s) => {
    s.on('data', (d) => s.write(d.toString().toUpperCase()));
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => echoServer.listen(0, '127.0.0.1', () => r()));
  echoPort = (echoServer.address() as AddressInfo).port;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});

after(async () => {
  await server.close();
  runtime.close();
  await new Promise<void>((r) => echoServer.close(() => r()));
});

function get(path: string, auth: 'client' | 'none' | 'stranger' = 'client'): Promise<{ status: number; body: string }> {
  const cred = auth === 'client' ? { cert: certs.clientCertPem, key: certs.clientKeyPem } : auth === 'stranger' ? { cert: certs.strangerCertPem, key: certs.strangerKeyPem } : {};
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, ca: certs.caPem, ...cred, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface WsResult {
  protocol: string;
  messages: Buffer[];
  channel(n: number): string;
  status(): Record<string, unknown> | undefined;
}

/** Runs a WebSocket session: sends `send` (already channel-prefixed) once open, collects until close. */
function wsSession(path: string, protocols: string[], send: Buffer[] = [], opts: { delayMs?: number } = {}): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}${path}`, protocols, { ca: certs.caPem, cert: certs.clientCertPem, key: certs.clientKeyPem });
    const messages: Buffer[] = [];
    ws.on('open', () => {
      const go = () => send.forEach((m) => ws.send(m));
      if (opts.delayMs) setTimeout(go, opts.delayMs);
      else go();
    });
    ws.on('message', (d: Buffer) => messages.push(d));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`unexpected ${res.statusCode}`)));
    ws.on('error', reject);
    ws.on('close', () =>
      resolve({
        protocol: ws.protocol,
        messages,
        channel: (n) => Buffer.concat(messages.filter((m) => m[0] === n).map((m) => m.subarray(1))).toString(),
        status: () => {
          const m = messages.find((x) => x[0] === 3);
          return m ? JSON.parse(m.subarray(1).toString()) : undefined;
        },
      }),
    );
  });
}

const ch = (n: number, data: string | number[]) => Buffer.concat([Buffer.from([n]), Buffer.from(data as string)]);
const q = (cmd: string[], flags: string) => `${cmd.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&${flags}`;

test('logs need a client certificate from the cluster CA', async () => {
  assert.equal((await get('/containerLogs/ns/p/c', 'none')).status, 401);
  assert.equal((await get('/containerLogs/ns/p/c', 'stranger')).status, 401);
  const ok = await get('/containerLogs/ns/p/c');
  assert.equal(ok.status, 200);
  assert.match(ok.body, /^hollow container "c" started: busybox\n/);
});

test('logs errors are kubelet\'s: unknown pod 404, unknown container 404, waiting container 400', async () => {
  assert.deepEqual(await get('/containerLogs/ns/nope/c'), { status: 404, body: 'pod "nope" does not exist' });
  assert.deepEqual(await get('/containerLogs/ns/p/zzz'), { status: 404, body: 'container "zzz" not found in pod "p"' });
  assert.deepEqual(await get('/containerLogs/ns/p/waiting'), { status: 400, body: 'container "waiting" in pod "p" is waiting to start: ContainerCreating' });
  assert.deepEqual(await get('/containerLogs/ns/p/c?previous=true'), { status: 400, body: 'previous terminated container "c" in pod "p" not found' });
  assert.equal((await get('/exec/ns/p/c?command=ls&output=1')).status, 400);
});

test('WebSocket v5 exec: output channels, env of the container, exit code in the status', async () => {
  const r = await wsSession(`/exec/ns/p/c?${q(['sh', '-c', 'echo $GREETING; echo err >&2; exit 3'], 'output=1&error=1')}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
  assert.equal(r.protocol, 'v5.channel.k8s.io');
  // kubelet's "streams are ready" signal: an empty message on stdout first.
  assert.deepEqual([...r.messages[0]], [1]);
  assert.equal(r.channel(1), 'hola\n');
  assert.equal(r.channel(2), 'err\n');
  assert.deepEqual(r.status(), {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c echo $GREETING; echo err >&2; exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
});

test('WebSocket v5 exec with stdin: the close signal on channel 0 is EOF for the command', async () => {
  const r = await wsSession(`/exec/ns/p/c?${q(['cat'], 'input=1&output=1&error=1')}`, ['v5.channel.k8s.io'], [ch(0, 'abc '), ch(0, 'def'), Buffer.from([255, 0])]);
  assert.equal(r.channel(1), 'abc def');
  assert.deepEqual(r.status(), { metadata: {}, status: 'Success' });
});

test('WebSocket v4 is negotiated for clients that offer only it', async () => {
  const r = await wsSession(`/exec/ns/p/c?${q(['echo', 'hi there'], 'output=1')}`, ['v4.channel.k8s.io']);
  assert.equal(r.protocol, 'v4.channel.k8s.io');
  assert.equal(r.channel(1), 'hi there\n');
  assert.deepEqual(r.status(), { metadata: {}, status: 'Success' });
});

test('a command that does not exist is an InternalError status', async () => {
  const r = await wsSession(`/exec/ns/p/c?${q(['no-such-binary-xyz'], 'output=1')}`, ['v5.channel.k8s.io']);
  const s = r.status()!;
  assert.equal(s.reason, 'InternalError');
  assert.match(String(s.message), /executable file not found/);
});

test('TTY exec gets a terminal whose size follows resize messages', async () => {
  const r = await wsSession(`/exec/ns/p/c?${q(['sh', '-c', 'sleep 0.5; stty size'], 'input=1&output=1&tty=1')}`, ['v5.channel.k8s.io'], [ch(4, '{"Width":100,"Height":30}')]);
  assert.match(r.channel(1), /30 100/);
  assert.equal(r.channel(2), '');
  assert.deepEqual(r.status(), { metadata: {}, status: 'Success' });
});

test('WebSocket attach: what the container prints reaches the client (a hollow container echoes its stdin)', async () => {
  const r = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/attach/ns/p/c?input=1&output=1`, ['v5.channel.k8s.io'], { ca: certs.caPem, cert: certs.clientCertPem, key: certs.clientKeyPem });
    let out = '';
    ws.on('open', () => ws.send(ch(0, 'typed line\n')));
    ws.on('message', (d: Buffer) => {
      if (d[0] !== 1) return;
      out += d.subarray(1).toString();
      if (out.includes('typed line\n')) {
        ws.close();
        resolve(out);
      }
    });
    ws.on('error', reject);
  });
  assert.equal(r, 'typed line\n');
  assert.match((await get('/containerLogs/ns/p/c?tailLines=1')).body, /^typed line\n$/);
});

async function spdyUpgrade(path: string, versions: string[]) {
  const r = await upgradeRequest(server.port, certs, 'POST', path, [['Upgrade', 'SPDY/3.1'], ...versions.map((v): [string, string] => ['X-Stream-Protocol-Version', v])]);
  const client = r.status === 101 ? new TestSpdyClient(r.socket, r.rest) : undefined;
  r.socket.resume();
  return { ...r, client };
}

test('SPDY exec (kubectl 1.27–1.29): streams by streamtype, v4 status on the error stream', async () => {
  const { status, headers, client } = await spdyUpgrade(`/exec/ns/p/c?${q(['sh', '-c', 'echo out; echo err >&2; exit 2'], 'output=1&error=1')}`, [
    'v4.channel.k8s.io',
    'v3.channel.k8s.io',
    'v2.channel.k8s.io',
    'channel.k8s.io',
  ]);
  assert.equal(status, 101);
  assert.equal(headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
  assert.equal(headers.upgrade, 'SPDY/3.1');
  const error = await client!.open({ streamtype: 'error' });
  const stdout = await client!.open({ streamtype: 'stdout' });
  const stderr = await client!.open({ streamtype: 'stderr' });
  await client!.until(() => error.remoteFin && stdout.remoteFin && stderr.remoteFin);
  assert.ok(error.replied && stdout.replied && stderr.replied);
  assert.equal(client!.text(stdout), 'out\n');
  assert.equal(client!.text(stderr), 'err\n');
  const st = JSON.parse(client!.text(error));
  assert.equal(st.reason, 'NonZeroExitCode');
  assert.deepEqual(st.details.causes, [{ reason: 'ExitCode', message: '2' }]);
  // The server says it is done; the client closes the connection.
  await client!.until(() => client!.frames.some((f) => f.type === 'goAway'));
  client!.ping(1);
  await client!.until(() => client!.frames.some((f) => f.type === 'ping' && f.id === 1));
  client!.close();
});

test('SPDY exec with stdin (v5 offered by kubectl 1.30+ on fallback) and the v2 text error', async () => {
  const a = await spdyUpgrade(`/exec/ns/p/c?${q(['cat'], 'input=1&output=1')}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
  assert.equal(a.headers['x-stream-protocol-version'], 'v5.channel.k8s.io');
  const error = await a.client!.open({ streamtype: 'error' });
  const stdin = await a.client!.open({ streamtype: 'stdin' });
  const stdout = await a.client!.open({ streamtype: 'stdout' });
  await a.client!.until(() => stdin.replied);
  a.client!.send(stdin, 'piped input', true);
  await a.client!.until(() => error.remoteFin && stdout.remoteFin);
  assert.equal(a.client!.text(stdout), 'piped input');
  assert.deepEqual(JSON.parse(a.client!.text(error)), { metadata: {}, status: 'Success' });
  a.client!.close();

  const b = await spdyUpgrade(`/exec/ns/p/c?${q(['sh', '-c', 'exit 7'], 'output=1')}`, ['v2.channel.k8s.io']);
  const e2 = await b.client!.open({ streamtype: 'error' });
  await b.client!.open({ streamtype: 'stdout' });
  await b.client!.until(() => e2.remoteFin);
  assert.match(b.client!.text(e2), /exit code 7/);
  b.client!.close();

  const c = await spdyUpgrade(`/exec/ns/p/c?${q(['true'], 'output=1')}`, ['v9.channel.k8s.io']);
  assert.equal(c.status, 403);
  assert.match(c.body!, /unable to negotiate protocol/);
});

async function portForwardPair(client: TestSpdyClient, port: number, requestId: string) {
  const error = await client.open({ streamtype: 'error', port: String(port), requestid: requestId });
  const data = await client.open({ streamtype: 'data', port: String(port), requestid: requestId });
  await client.until(() => error.replied && data.replied);
  return { error, data };
}

test('SPDY port-forward: stream pairs per connection, bytes both ways, FIN both ways, errors on the error stream', async () => {
  const { status, headers, client } = await spdyUpgrade('/portForward/ns/p', ['portforward.k8s.io']);
  assert.equal(status, 101);
  assert.equal(headers['x-stream-protocol-version'], 'portforward.k8s.io');
  const a = await portForwardPair(client!, echoPort, '0');
  const b = await portForwardPair(client!, echoPort, '1');
  client!.send(a.data, 'hello ');
  client!.send(b.data, 'other', true);
  client!.send(a.data, 'world', true);
  await client!.until(() => a.data.remoteFin && b.data.remoteFin && a.error.remoteFin && b.error.remoteFin);
  assert.equal(client!.text(a.data), 'HELLO WORLD');
  assert.equal(client!.text(b.data), 'OTHER');
  assert.equal(client!.text(a.error), '');
  const bad = await portForwardPair(client!, closedPort, '2');
  await client!.until(() => bad.error.remoteFin);
  assert.match(client!.text(bad.error), new RegExp(`^error forwarding port ${closedPort} to pod ${sandboxId}, uid : dial tcp 127.0.0.1:${closedPort}: connect: connection refused$`));
  client!.close();
});

test('port-forward tunnelled in WebSocket (SPDY/3.1+portforward.k8s.io, kubectl 1.31+)', async () => {
  const { ws, protocol } = await rawWebSocket(server.port, certs, '/portForward/ns/p', 'SPDY/3.1+portforward.k8s.io');
  assert.equal(protocol, 'SPDY/3.1+portforward.k8s.io');
  const client = new TestSpdyClient(webSocketStream(ws));
  const p = await portForwardPair(client, echoPort, '0');
  client.send(p.data, 'tunnel', true);
  await client.until(() => p.data.remoteFin && p.error.remoteFin);
  assert.equal(client.text(p.data), 'TUNNEL');
  client.close();
});

test('exec into a container that is not running fails before upgrading', async () => {
  const stopped = await runtime.createContainer(sandboxId, { name: 'waiting', image: 'x', attempt: 0, role: 'regular', labels: {}, annotations: {} });
  assert.ok(stopped);
  const r = await upgradeRequest(server.port, certs, 'POST', `/exec/ns/p/waiting?${q(['true'], 'output=1')}`, [
    ['Upgrade', 'SPDY/3.1'],
    ['X-Stream-Protocol-Version', 'v4.channel.k8s.io'],
  ]);
  assert.equal(r.status, 500);
  assert.equal(r.body, 'container not found ("waiting")');
  r.socket.destroy();
});
