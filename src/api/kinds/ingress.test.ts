import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../errors.js';
import type { KObject } from '../types.js';
import { ingressResource } from './ingress.js';
import { ingressClassResource } from './ingressclass.js';

const now = new Date('2024-05-01T12:00:00Z');

function ing(spec: KObject, status?: KObject): KObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T11:58:00Z' }, spec, status };
}

const backend = (name: string, port: KObject) => ({ service: { name, port } });

test('a typical ingress validates', () => {
  const i = ing({
    ingressClassName: 'skiff',
    rules: [{ host: 'app.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: backend('backend-service', { number: 8000 }) }] } }],
    tls: [{ hosts: ['app.example.com'], secretName: 'app-tls' }],
  });
  assert.deepEqual(ingressResource.validate!(i), []);
});

test('rules, pathType and backends are validated with kube messages', () => {
  const i = ing({
    rules: [
      {
        host: '10.0.0.1',
        http: {
          paths: [
            { path: '/a', backend: backend('svc', { number: 80 }) },
            { path: 'relative', pathType: 'Prefix', backend: backend('svc', { number: 80 }) },
            { path: '/a//b', pathType: 'Exact', backend: backend('Svc', { name: 'http', number: 80 }) },
            { path: '/a', pathType: 'Regex', backend: backend('svc', {}) },
            { path: '/', pathType: 'ImplementationSpecific', backend: {} },
          ],
        },
      },
      { host: '*.example.com', http: { paths: [] } },
    ],
  });
  assert.deepEqual(ingressResource.validate!(i).map(fieldErrorMessage), [
    'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    'spec.rules[0].http.paths[1].path: Invalid value: "relative": must be an absolute path',
    'spec.rules[0].http.paths[2].path: Invalid value: "/a//b": must not contain \'//\'',
    'spec.rules[0].http.paths[2].backend.service.name: Invalid value: "Svc": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')',
    'spec.rules[0].http.paths[2].backend: Invalid value: "": cannot set both port name & port number',
    'spec.rules[0].http.paths[3].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    'spec.rules[0].http.paths[3].backend: Required value: port name or number is required',
    'spec.rules[0].http.paths[4].backend: Invalid value: "": resource or service backend is required',
    'spec.rules[1].http.paths: Required value',
  ]);
  assert.deepEqual(ingressResource.validate!(ing({})).map(fieldErrorMessage), [
    'spec: Invalid value: null: either `defaultBackend` or `rules` must be specified',
  ]);
});

test('table: NAME CLASS HOSTS ADDRESS PORTS AGE', () => {
  const { columns, cells } = ingressResource.table!;
  assert.deepEqual(columns.map((c) => c.name), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
  const rule = (host?: string) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('s', { number: 80 }) }] } });
  assert.deepEqual(cells(ing({ rules: [rule()] }), now), ['web', '<none>', '*', '', '80', '2m']);
  const many = ing(
    { ingressClassName: 'nginx', rules: [rule('a.io'), rule('b.io'), rule('c.io'), rule('d.io'), rule('e.io')], tls: [{ hosts: ['a.io'] }] },
    { loadBalancer: { ingress: [{ ip: '192.168.1.5' }, { hostname: 'lb.example.com' }] } },
  );
  assert.deepEqual(cells(many, now), ['web', 'nginx', 'a.io,b.io,c.io + 2 more...', '192.168.1.5,lb.example.com', '80, 443', '2m']);
});

test('IngressClass: parameters scope default, controller rules and printer', () => {
  const ic: KObject = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'skiff', creationTimestamp: '2024-05-01T11:00:00Z' },
    spec: { controller: 'skiff.io/ingress-controller', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } },
  };
  ingressClassResource.defaults!(ic);
  assert.equal(ic.spec.parameters.scope, 'Cluster');
  assert.deepEqual(ingressClassResource.validate!(ic), []);
  assert.deepEqual(ingressClassResource.table!.cells(ic, now), [
    'skiff',
    'skiff.io/ingress-controller',
    'IngressParameters.k8s.example.com/external-lb',
    '60m',
  ]);
  assert.equal(ingressClassResource.table!.cells({ metadata: { name: 'x' }, spec: { controller: 'a.io/b' } }, now)[2], '<none>');
  assert.deepEqual(ingressClassResource.validate!({ spec: { controller: 'nginx' } }).map(fieldErrorMessage), [
    'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
  ]);
  const changed = { ...ic, spec: { ...ic.spec, controller: 'other.io/x' } };
  assert.deepEqual(ingressClassResource.validateUpdate!(changed, ic).map(fieldErrorMessage), [
    'spec.controller: Invalid value: "other.io/x": field is immutable',
  ]);
  assert.equal(ingressClassResource.namespaced, false);
  assert.deepEqual(ingressResource.shortNames, ['ing']);
});
