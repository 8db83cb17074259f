import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../api/types.js';
import { hostOnly, prefixMatches, RoutingTable } from './routes.js';

function ingress(name: string, spec: KObject, created = '2026-01-01T00:00:00Z'): KObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default', creationTimestamp: created }, spec };
}

const backend = (service: string, number = 80) => ({ service: { name: service, port: { number } } });
const path = (p: string, pathType: string, service: string) => ({ path: p, pathType, backend: backend(service) });

describe('ingress routing table', () => {
  it('Prefix matches whole path elements; Exact only the path itself', () => {
    assert.equal(prefixMatches('/foo', '/foo'), true);
    assert.equal(prefixMatches('/foo', '/foo/bar'), true);
    assert.equal(prefixMatches('/foo/', '/foo'), true);
    assert.equal(prefixMatches('/foo', '/foobar'), false);
    assert.equal(prefixMatches('/', '/anything'), true);
    const t = new RoutingTable([ingress('a', { rules: [{ http: { paths: [path('/exact', 'Exact', 'ex'), path('/app', 'Prefix', 'app')] } }] })]);
    assert.equal(t.match('x', '/exact')?.backend.service, 'ex');
    assert.equal(t.match('x', '/exact/more'), undefined);
    assert.equal(t.match('x', '/app/page')?.backend.service, 'app');
    assert.equal(t.match('x', '/apple'), undefined);
  });

  it('the longest path wins, and Exact beats Prefix of the same path', () => {
    const t = new RoutingTable([
      ingress('a', {
        rules: [{ http: { paths: [path('/', 'Prefix', 'root'), path('/api', 'Prefix', 'api'), path('/api/v2', 'Prefix', 'v2'), path('/api', 'Exact', 'api-exact')] } }],
      }),
    ]);
    assert.equal(t.match('h', '/')?.backend.service, 'root');
    assert.equal(t.match('h', '/api')?.backend.service, 'api-exact');
    assert.equal(t.match('h', '/api/users')?.backend.service, 'api');
    assert.equal(t.match('h', '/api/v2/users')?.backend.service, 'v2');
    assert.equal(t.match('h', '/static/x.js')?.backend.service, 'root');
  });

  it('hosts: exact name first, then a one-label wildcard, then rules without a host; the port is ignored', () => {
    const t = new RoutingTable([
      ingress('a', {
        rules: [
          { host: 'shop.example.com', http: { paths: [path('/', 'Prefix', 'shop')] } },
          { host: '*.example.com', http: { paths: [path('/', 'Prefix', 'wild')] } },
          { http: { paths: [path('/', 'Prefix', 'any')] } },
        ],
      }),
    ]);
    assert.equal(t.match('shop.example.com:8080', '/')?.backend.service, 'shop');
    assert.equal(t.match('Blog.Example.com', '/')?.backend.service, 'wild');
    assert.equal(t.match('a.b.example.com', '/')?.backend.service, 'any', 'a wildcard covers exactly one label');
    assert.equal(t.match('other.org', '/')?.backend.service, 'any');
    assert.equal(hostOnly('[::1]:80'), '::1');
  });

  it('a host with no matching path falls to the default backend, not to another host', () => {
    const t = new RoutingTable([
      ingress('a', { defaultBackend: backend('fallback'), rules: [{ host: 'a.test', http: { paths: [path('/only', 'Exact', 'only')] } }, { http: { paths: [path('/', 'Prefix', 'any')] } }] }),
    ]);
    assert.equal(t.match('a.test', '/other')?.backend.service, 'fallback');
    assert.equal(new RoutingTable([ingress('b', { rules: [{ host: 'a.test', http: { paths: [path('/only', 'Exact', 'only')] } }] })]).match('a.test', '/x'), undefined);
  });

  it('the oldest Ingress keeps a host and path that two claim; TLS hosts map to their Secrets', () => {
    const newer = ingress('newer', { rules: [{ host: 'a.test', http: { paths: [path('/', 'Prefix', 'new')] } }] }, '2026-02-01T00:00:00Z');
    const older = ingress('older', { tls: [{ hosts: ['a.test', '*.w.test'], secretName: 'a-tls' }], rules: [{ host: 'a.test', http: { paths: [path('/', 'Prefix', 'old')] } }] }, '2026-01-01T00:00:00Z');
    const t = new RoutingTable([newer, older]);
    assert.equal(t.match('a.test', '/')?.backend.service, 'old');
    assert.equal(t.match('a.test', '/')?.ingress, 'default/older');
    assert.deepEqual(t.tlsFor('a.test'), { namespace: 'default', secretName: 'a-tls' });
    assert.deepEqual(t.tlsFor('x.w.test'), { namespace: 'default', secretName: 'a-tls' });
    assert.equal(t.tlsFor('b.test'), undefined);
  });
});
