/**
 * @module End-to-end: the ingress controller of `skiff server --runtime process` with real
 * pods, driven by the real kubectl — host and path rules to the pods of a Deployment,
 * every replica reached after a scale-up, TLS from a Secret made by `kubectl create secret
 * tls`, ADDRESS in `kubectl get ingress`, and rules gone with the Ingress. Needs root.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { selfSignedCertificate } from '../../src/ingress/tls.js';
import { Cluster, eventually, stopProcessCluster } from './harness.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const skip = isRoot ? false : 'the process runtime isolates pods only as root on Linux';
/** The cluster's node address, where the ingress controller listens. */
let nodeIP = '127.0.0.1';

function get(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: nodeIP, port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const app = `apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: web
        image: python
        # Each replica serves its own pod name.
        command: [sh, -c, 'mkdir -p /tmp/www/api && hostname > /tmp/www/index.html && echo "api $(hostname)" > /tmp/www/api/index.html && cd /tmp/www && exec python3 -m http.server 8080']
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: echo}
spec:
  tls: [{hosts: [echo.local], secretName: echo-tls}]
  rules:
  - host: echo.local
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: echo, port: {name: http}}}}
`;

describe('ingress on the process runtime', { skip }, () => {
  let c: Cluster;
  let httpPort = 0;
  let httpsPort = 0;

  before(async () => {
    c = await Cluster.start({ extraArgs: ['--runtime', 'process'], timeoutMs: 60_000 });
    const m = await eventually(() => /"msg":"ingress controller listening".*?"httpPort":(\d+),"httpsPort":(\d+)/.exec(c.logs.stderr) ?? undefined, { timeoutMs: 20_000, what: 'the ingress controller to listen' });
    nodeIP = c.node.ip!;
    httpPort = Number(m[1]);
    httpsPort = Number(m[2]);
  });

  after(async () => {
    if (!c) return;
    await stopProcessCluster(c);
  });

  test('host and path rules reach the pods; a scale-up adds replicas to the rotation; ADDRESS is shown', async () => {
    const pair = await selfSignedCertificate('echo.local', ['echo.local']);
    const crt = c.writeFile('tls/tls.crt', pair.cert);
    const key = c.writeFile('tls/tls.key', pair.key);
    await c.k(['create', 'secret', 'tls', 'echo-tls', `--cert=${crt}`, `--key=${key}`]);
    await c.k(['apply', '-f', '-'], { stdin: app });
    await c.k(['rollout', 'status', 'deployment/echo', '--timeout=60s']);
    const first = await eventually(async () => {
      const r = await get(httpPort, 'echo.local');
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 30_000, what: 'the page through the ingress' });
    assert.match(first.body, /^echo-/);
    assert.match((await get(httpPort, 'echo.local', '/api/')).body, /^api echo-/);
    assert.equal((await get(httpPort, 'unknown.local')).status, 404);
    let table = '';
    await eventually(async () => new RegExp(`echo\\s+skiff\\s+echo\\.local\\s+${nodeIP.replace(/\./g, '\\.')}\\s+80, 443`).test((table = await c.k(['get', 'ingress', 'echo']))), { timeoutMs: 20_000, what: 'ADDRESS in kubectl get ingress' }).catch((e) => {
      throw new Error(`${e}\n${table}`);
    });

    await c.k(['scale', 'deployment/echo', '--replicas=3']);
    await c.k(['rollout', 'status', 'deployment/echo', '--timeout=60s']);
    const seen = new Set<string>();
    await eventually(async () => {
      const r = await get(httpPort, 'echo.local');
      if (r.status === 200) seen.add(r.body.trim());
      return seen.size === 3;
    }, { timeoutMs: 30_000, intervalMs: 20, what: 'all three replicas to answer' });
  });

  test('TLS with the certificate of the Secret named in spec.tls', async () => {
    const reply = await new Promise<{ cn: string; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: nodeIP, port: httpsPort, servername: 'echo.local', headers: { host: 'echo.local' }, rejectUnauthorized: false }, (res) => {
        const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN);
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ cn, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(reply.cn, 'echo.local');
    assert.match(reply.body, /^echo-/);
  });

  test('deleting the Ingress removes its routes', async () => {
    await c.k(['delete', 'ingress', 'echo']);
    await eventually(async () => (await get(httpPort, 'echo.local')).status === 404, { timeoutMs: 20_000, what: 'a 404 once the Ingress is gone' });
  });
});
