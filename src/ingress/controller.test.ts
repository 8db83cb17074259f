/**
 * The ingress controller against the real API pipeline (in-memory store), with backends as
 * HTTP servers on 127.0.0.1 behind a selector-less Service and hand-written EndpointSlices.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../api/types.js';
import { Resources, gvr } from '../client/index.js';
import { eventually, SeededInformerFactory } from '../client/testing.js';
import { ControllerTestEnv } from '../controllers/common/test-env.js';
import { startIngressController, type RunningIngressController } from './index.js';
import { selfSignedCertificate } from './tls.js';

interface Reply {
  status: number;
  body: string;
  backend?: string;
  headers?: Record<string, string>;
}

function get(port: number, host: string, path = '/'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        let parsed: { name?: string; headers?: Record<string, string> } = {};
        try {
          parsed = JSON.parse(body);
        } catch {
          /* not a backend's answer */
        }
        resolve({ status: res.statusCode ?? 0, body, backend: parsed.name, headers: parsed.headers });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function backendServer(name: string): Promise<Server> {
  const s = createServer((req, res) => {
    const reply = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, url: req.url, headers: req.headers }));
    if (req.url === '/slow') setTimeout(reply, 400);
    else reply();
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

let sliceVersion = 0;
const slice = (name: string, port: number, ready = true): KObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: 'default', resourceVersion: String(++sliceVersion), labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port, protocol: 'TCP' }],
  endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready } }],
});

describe('ingress controller', () => {
  let informers: SeededInformerFactory;
  const slices = () => informers.for(Resources.endpointslices);
  let env: ControllerTestEnv;
  let controller: RunningIngressController;
  const abort = new AbortController();
  const servers: Server[] = [];
  let ports: number[] = [];
  const logs: Array<Record<string, unknown>> = [];

  before(async () => {
    env = await ControllerTestEnv.create();
    servers.push(await backendServer('one'), await backendServer('two'));
    ports = servers.map((s) => (s.address() as AddressInfo).port);
    const c = env.client;
    await c.create(Resources.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    await c.create(Resources.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] } });
    const tls = await selfSignedCertificate('web.test', ['web.test']);
    await c.create(Resources.secrets, 'default', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'web-tls' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(tls.cert).toString('base64'), 'tls.key': Buffer.from(tls.key).toString('base64') },
    });
    await c.create(Resources.ingresses, 'default', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
      spec: {
        tls: [{ hosts: ['web.test'], secretName: 'web-tls' }],
        rules: [
          { host: 'web.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } },
          { host: 'empty.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'empty', port: { name: 'http' } } } }] } },
        ],
      },
    });
    // EndpointSlices with loopback addresses are refused by the API (as kube does): they go straight into the cache.
    informers = new SeededInformerFactory(c, [Resources.endpointslices]);
    slices().seed([slice('web-1', ports[0]), slice('web-2', ports[1])]);
    controller = await startIngressController({ client: c, informers, signal: abort.signal, log: (m) => logs.push(m), address: '127.0.0.1', httpPort: 0, httpsPort: 0 });
    informers.start(abort.signal);
  });

  after(async () => {
    abort.abort();
    await controller?.stop();
    for (const s of servers) s.close();
    await env?.close();
  });

  it('creates the default IngressClass and publishes the node address in Ingress status', async () => {
    const cls = await env.client.get(gvr('networking.k8s.io', 'v1', 'ingressclasses'), undefined, 'skiff');
    assert.equal(cls.spec.controller, 'skiff.dev/ingress-controller');
    assert.equal(cls.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
    await eventually(async () => (await env.client.get(Resources.ingresses, 'default', 'web')).status?.loadBalancer?.ingress?.[0]?.ip === '127.0.0.1', 'ingress status');
  });

  it('routes by host to every ready endpoint in turn, with forwarding headers', async () => {
    const seen = new Set<string>();
    await eventually(async () => {
      const r = await get(controller.httpPort, 'web.test', '/page');
      if (r.status === 200 && r.backend) seen.add(r.backend);
      return seen.size === 2;
    }, 'both backends to answer');
    const r = await get(controller.httpPort, 'web.test', '/page?q=1');
    assert.equal(r.headers?.['x-forwarded-host'], 'web.test');
    assert.equal(r.headers?.['x-forwarded-proto'], 'http');
    assert.equal(r.headers?.['x-forwarded-for'], '127.0.0.1');
  });

  it('answers 404 for unknown hosts and 503 for a backend without endpoints', async () => {
    const unknown = await get(controller.httpPort, 'nowhere.test');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body, '404 page not found\n');
    assert.equal((await get(controller.httpPort, 'empty.test')).status, 503);
  });

  it('an endpoint that is not ready receives nothing', async () => {
    slices().seed([slice('web-2', ports[1], false)]);
    await eventually(async () => {
      const answers = await Promise.all(Array.from({ length: 6 }, () => get(controller.httpPort, 'web.test')));
      return answers.every((a) => a.backend === 'one');
    }, 'only backend one');
  });

  it('serves TLS with the Secret of the SNI host, and a fallback certificate otherwise', async () => {
    const subjectFor = (servername: string) =>
      new Promise<{ cn: string; status: number }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: controller.httpsPort, servername, headers: { host: servername }, rejectUnauthorized: false }, (res) => {
          const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
          res.resume();
          res.on('end', () => resolve({ cn: String(cert.subject?.CN), status: res.statusCode ?? 0 }));
        });
        req.on('error', reject);
        req.end();
      });
    const web = await subjectFor('web.test');
    assert.equal(web.cn, 'web.test');
    assert.equal(web.status, 200);
    assert.equal((await subjectFor('other.test')).cn, 'Skiff Ingress Controller Fake Certificate');
  });

  it('a change of the Ingress does not drop a request in flight', async () => {
    const slow = get(controller.httpPort, 'web.test', '/slow');
    const ing = await env.client.get(Resources.ingresses, 'default', 'web');
    ing.spec.rules.push({ host: 'new.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } });
    await env.client.update(Resources.ingresses, 'default', ing);
    await eventually(async () => (await get(controller.httpPort, 'new.test')).status === 200, 'the new host to route');
    const r = await slow;
    assert.equal(r.status, 200);
    assert.equal(r.backend, 'one');
  });
});
