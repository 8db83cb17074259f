import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, request, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import type { KObject } from '../api/types.js';
import { issueKubeletTls, kubeletEndpointOf, registerPodStreaming } from './pod-streaming.js';
import type { WriteContext } from './rest.js';
import { startServer, type RunningServer } from './server.js';

let dir: string;
let api: RunningServer;
let kubelet: Server;
/** What the fake kubelet saw. */
const seen: Array<{ method: string; url: string; cn: string; headers: IncomingMessage['headers']; rawHeaders: string[] }> = [];

const ctx = (): WriteContext => ({ dryRun: false, fieldManager: 'test', fieldValidation: 'Ignore', warnings: [] });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-pod-streaming-'));
  api = await startServer({ dataDir: dir, port: 0, log: () => {} });
  registerPodStreaming(api);
  const tls = await issueKubeletTls(api.pki, { ips: ['127.0.0.1'] });
  const cnOf = (req: IncomingMessage) => String((req.socket as TLSSocket).getPeerCertificate()?.subject?.CN ?? '');
  // A stand-in kubelet: logs answer by container name, upgrades echo upper-cased bytes.
  kubelet = createHttpsServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.clientCaPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seen.push({ method: req.method!, url: req.url!, cn: cnOf(req), headers: req.headers, rawHeaders: req.rawHeaders });
    if (req.url!.startsWith('/containerLogs/default/p/waiting')) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('container "waiting" in pod "p" is waiting to start: ContainerCreating');
      return;
    }
    if (req.url!.startsWith('/containerLogs/default/p/gone')) {
      res.writeHead(404);
      res.end('pod "p" does not exist');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('line 1\n');
    res.end('line 2\n');
  });
  kubelet.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    seen.push({ method: req.method!, url: req.url!, cn: cnOf(req), headers: req.headers, rawHeaders: req.rawHeaders });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
    if (head.length) socket.write(head.toString().toUpperCase());
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', () => r()));
  const port = (kubelet.address() as AddressInfo).port;
  const nodes = api.registry.lookup('', 'v1', 'nodes')!;
  const pods = api.registry.lookup('', 'v1', 'pods')!;
  await api.rest.create(
    nodes,
    undefined,
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', annotations: { 'skiff.dev/kubelet-address': '127.0.0.1' } },
      status: { addresses: [{ type: 'InternalIP', address: '10.42.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
    },
    ctx(),
  );
  const podSpec = (name: string, containers: string[], nodeName?: string): KObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
  });
  await api.rest.create(pods, 'default', podSpec('p', ['c', 'waiting', 'gone'], 'n1'), ctx());
  await api.rest.create(pods, 'default', podSpec('solo', ['only'], 'n1'), ctx());
  await api.rest.create(pods, 'default', podSpec('unscheduled', ['c']), ctx());
});

after(async () => {
  await api.close();
  await new Promise<void>((r) => kubelet.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function apiGet(path: string): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(api.url);
    const req = request({ host: u.hostname, port: u.port, path, ca: api.pki.caCertPem, cert: api.pki.adminCertPem, key: api.pki.adminKeyPem, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function apiUpgrade(method: string, path: string, headers: string[], auth = true): Promise<{ head: string; socket: TLSSocket; rest: string }> {
  const u = new URL(api.url);
  const socket = connect({ host: u.hostname, port: Number(u.port), ca: api.pki.caCertPem, ...(auth ? { cert: api.pki.adminCertPem, key: api.pki.adminKeyPem } : {}), ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  socket.write([`${method} ${path} HTTP/1.1`, `Host: ${u.host}`, 'Connection: Upgrade', 'Authorization: Bearer secret-of-the-client', ...headers].join('\r\n') + '\r\n\r\n' + 'early');
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    // A 101 is complete once the echo of the early bytes is back; anything else ends with the connection.
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.startsWith('HTTP/1.1 101') && buf.includes('EARLY')) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
  });
  const i = buf.indexOf('\r\n\r\n');
  return { head: buf.slice(0, i), socket, rest: buf.slice(i + 4) };
}

test('the kubelet endpoint: annotation first, else the first InternalIP; port from the daemon endpoint', () => {
  assert.deepEqual(kubeletEndpointOf({ metadata: { annotations: { 'skiff.dev/kubelet-address': '127.0.0.1' } }, status: { daemonEndpoints: { kubeletEndpoint: { Port: 1234 } } } }), { host: '127.0.0.1', port: 1234 });
  assert.deepEqual(kubeletEndpointOf({ status: { addresses: [{ type: 'Hostname', address: 'h' }, { type: 'InternalIP', address: '10.0.0.5' }] } }), { host: '10.0.0.5', port: 10250 });
  assert.equal(kubeletEndpointOf({ status: {} }), undefined);
});

test('pods/log streams from the kubelet with the translated query and the apiserver client certificate', async () => {
  const r = await apiGet('/api/v1/namespaces/default/pods/p/log?container=c&follow=true&tailLines=5&timestamps=true&limitBytes=100&sinceSeconds=10');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'line 1\nline 2\n');
  assert.match(r.type ?? '', /^text\/plain/);
  const last = seen.at(-1)!;
  assert.equal(last.url, '/containerLogs/default/p/c?follow=true&timestamps=true&tailLines=5&limitBytes=100&sinceSeconds=10');
  assert.equal(last.cn, 'kube-apiserver-kubelet-client');
  // A pod with one container needs no container parameter.
  assert.equal((await apiGet('/api/v1/namespaces/default/pods/solo/log')).body, 'line 1\nline 2\n');
  assert.equal(seen.at(-1)!.url, '/containerLogs/default/solo/only');
});

test('pods/log errors: container choice, validation, kubelet answers, unscheduled pods', async () => {
  const many = await apiGet('/api/v1/namespaces/default/pods/p/log');
  assert.equal(many.status, 400);
  assert.equal(JSON.parse(many.body).message, 'a container name must be specified for pod p, choose one of: [c waiting gone]');
  const bad = await apiGet('/api/v1/namespaces/default/pods/p/log?container=zzz');
  assert.equal(JSON.parse(bad.body).message, 'container zzz is not valid for pod p');
  const neg = await apiGet('/api/v1/namespaces/default/pods/p/log?container=c&tailLines=-1');
  assert.equal(neg.status, 422);
  assert.equal(JSON.parse(neg.body).message, 'PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
  const waiting = await apiGet('/api/v1/namespaces/default/pods/p/log?container=waiting');
  assert.equal(waiting.status, 400);
  assert.deepEqual(JSON.parse(waiting.body).reason, 'BadRequest');
  assert.equal(JSON.parse(waiting.body).message, 'container "waiting" in pod "p" is waiting to start: ContainerCreating');
  const gone = await apiGet('/api/v1/namespaces/default/pods/p/log?container=gone');
  assert.equal(gone.status, 404);
  assert.equal(JSON.parse(gone.body).message, 'the server could not find the requested resource ( pods/log p)');
  const missing = await apiGet('/api/v1/namespaces/default/pods/nope/log');
  assert.equal(JSON.parse(missing.body).message, 'pods "nope" not found');
  const unscheduled = await apiGet('/api/v1/namespaces/default/pods/unscheduled/log');
  assert.equal(unscheduled.status, 204);
});

test('exec upgrades are forwarded with kubelet parameters, then bytes flow both ways', async () => {
  const { head, socket, rest } = await apiUpgrade('POST', '/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&command=echo%20hi&container=c&stdin=true&stdout=true&stderr=true', [
    'Upgrade: SPDY/3.1',
    'X-Stream-Protocol-Version: v4.channel.k8s.io',
    'X-Stream-Protocol-Version: v3.channel.k8s.io',
  ]);
  assert.match(head, /^HTTP\/1\.1 101/);
  assert.match(head, /X-Stream-Protocol-Version: v4.channel.k8s.io/);
  // Bytes sent right behind the request head reach the kubelet too.
  assert.equal(rest, 'EARLY');
  const last = seen.at(-1)!;
  assert.equal(last.url, '/exec/default/p/c?input=1&output=1&error=1&command=sh&command=-c&command=echo+hi');
  assert.equal(last.cn, 'kube-apiserver-kubelet-client');
  assert.equal(last.headers.authorization, undefined, "the client's credentials stay with the API server");
  assert.deepEqual(
    last.rawHeaders.filter((_, i, a) => i % 2 === 1 && a[i - 1] === 'X-Stream-Protocol-Version'),
    ['v4.channel.k8s.io', 'v3.channel.k8s.io'],
  );
  const echoed = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
  socket.write('ping');
  assert.equal(await echoed, 'PING');
  socket.destroy();
});

test('port-forward and attach upgrades go to the kubelet paths; bad requests are answered as Status', async () => {
  const pf = await apiUpgrade('GET', '/api/v1/namespaces/default/pods/p/portforward', ['Upgrade: websocket', 'Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io']);
  assert.match(pf.head, /^HTTP\/1\.1 101/);
  assert.equal(seen.at(-1)!.url, '/portForward/default/p');
  assert.equal(seen.at(-1)!.headers['sec-websocket-protocol'], 'SPDY/3.1+portforward.k8s.io');
  pf.socket.destroy();
  const at = await apiUpgrade('POST', '/api/v1/namespaces/default/pods/solo/attach?stdout=true&tty=true', ['Upgrade: SPDY/3.1']);
  assert.match(at.head, /^HTTP\/1\.1 101/);
  assert.equal(seen.at(-1)!.url, '/attach/default/solo/only?output=1&tty=1');
  at.socket.destroy();

  const choose = await apiUpgrade('POST', '/api/v1/namespaces/default/pods/p/exec?command=ls&stdout=true', ['Upgrade: SPDY/3.1']);
  assert.match(choose.head, /^HTTP\/1\.1 400/);
  assert.equal(JSON.parse(choose.rest).message, 'a container name must be specified for pod p, choose one of: [c waiting gone]');
  const noHost = await apiUpgrade('POST', '/api/v1/namespaces/default/pods/unscheduled/exec?command=ls&stdout=true', ['Upgrade: SPDY/3.1']);
  assert.equal(JSON.parse(noHost.rest).message, 'pod unscheduled does not have a host assigned');
  const anonymous = await apiUpgrade('POST', '/api/v1/namespaces/default/pods/p/exec?command=ls&stdout=true&container=c', ['Upgrade: SPDY/3.1'], false);
  assert.match(anonymous.head, /^HTTP\/1\.1 401/);
  const missing = await apiUpgrade('GET', '/api/v1/namespaces/default/pods/nope/portforward', ['Upgrade: SPDY/3.1']);
  assert.match(missing.head, /^HTTP\/1\.1 404/);
  for (const r of [choose, noHost, anonymous, missing]) r.socket.destroy();
});

test('other upgrade requests are served as ordinary requests', async () => {
  const r = await apiUpgrade('GET', '/api/v1/namespaces/default/pods/solo', ['Upgrade: websocket']);
  assert.match(r.head, /^HTTP\/1\.1 200/);
  assert.equal(JSON.parse(r.rest).metadata.name, 'solo');
  r.socket.destroy();
});
