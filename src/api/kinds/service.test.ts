import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../errors.js';
import type { KObject, StrategyContext } from '../types.js';
import type { ReprFieldError } from './kind-util.js';
import {
  allocatedNodePorts,
  clusterIPAllocationError,
  defaultService,
  needsClusterIP,
  needsHealthCheckNodePort,
  needsNodePorts,
  normalizeClusterIPs,
  serviceResource,
  validateService,
  validateServiceName,
} from './service.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx: StrategyContext = { now, subresource: '' };

function svc(spec: KObject, name = 'web'): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', creationTimestamp: '2024-05-01T11:55:00Z' }, spec };
}

/** Defaults, then create preparation, as the API server runs them. */
function created(spec: KObject): KObject {
  const s = svc(spec);
  serviceResource.defaults!(s);
  serviceResource.prepareForCreate!(s, ctx);
  return s;
}

function messages(errs: FieldError[]): string[] {
  return errs.map((e) => {
    const repr = (e as ReprFieldError).valueRepr;
    // Until fieldErrorMessage learns valueRepr, render it the way kube does here.
    return repr === undefined ? fieldErrorMessage(e) : `${e.field}: Invalid value: ${repr}: ${e.detail}`;
  });
}

test('SetDefaults_Service for a ClusterIP service', () => {
  const s = created({ selector: { app: 'web' }, ports: [{ port: 80 }] });
  assert.equal(s.spec.type, 'ClusterIP');
  assert.equal(s.spec.sessionAffinity, 'None');
  assert.deepEqual(s.spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
  assert.equal(s.spec.internalTrafficPolicy, 'Cluster');
  assert.equal(s.spec.externalTrafficPolicy, undefined);
  assert.equal(s.spec.allocateLoadBalancerNodePorts, undefined);
  assert.equal(s.spec.ipFamilyPolicy, 'SingleStack');
  assert.deepEqual(s.spec.ipFamilies, ['IPv4']);
  assert.deepEqual(s.status, { loadBalancer: {} });
});

test('SetDefaults_Service for NodePort and LoadBalancer services', () => {
  const np = created({ type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] });
  assert.equal(np.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(np.spec.ports[0].targetPort, 'http');
  assert.equal(np.spec.allocateLoadBalancerNodePorts, undefined);
  const lb = created({ type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8000 }] });
  assert.equal(lb.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(lb.spec.allocateLoadBalancerNodePorts, true);
  assert.equal(lb.spec.internalTrafficPolicy, 'Cluster');
  const affinity = created({ sessionAffinity: 'ClientIP', ports: [{ port: 80 }] });
  assert.deepEqual(affinity.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
});

test('headless services without selector default to RequireDualStack with both families', () => {
  const s = created({ clusterIP: 'None', ports: [{ port: 80 }] });
  assert.equal(s.spec.ipFamilyPolicy, 'RequireDualStack');
  assert.deepEqual(s.spec.ipFamilies, ['IPv4', 'IPv6']);
  assert.deepEqual(s.spec.clusterIPs, ['None']);
  assert.deepEqual(validateService(s), []);
  const withSelector = created({ clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] });
  assert.equal(withSelector.spec.ipFamilyPolicy, 'SingleStack');
  assert.deepEqual(withSelector.spec.ipFamilies, ['IPv4']);
});

test('ExternalName services get no IP fields', () => {
  const s = created({ type: 'ExternalName', externalName: 'db.example.com' });
  assert.equal(s.spec.ipFamilyPolicy, undefined);
  assert.equal(s.spec.ipFamilies, undefined);
  assert.equal(s.spec.internalTrafficPolicy, undefined);
  assert.deepEqual(validateService(s), []);
  assert.equal(needsClusterIP(s), false);
});

test('allocation predicates', () => {
  assert.equal(needsClusterIP(created({ ports: [{ port: 80 }] })), true);
  assert.equal(needsClusterIP(created({ clusterIP: 'None', ports: [{ port: 80 }] })), false);
  assert.equal(needsNodePorts(created({ ports: [{ port: 80 }] })), false);
  assert.equal(needsNodePorts(created({ type: 'NodePort', ports: [{ port: 80 }] })), true);
  assert.equal(needsNodePorts(created({ type: 'LoadBalancer', ports: [{ port: 80 }] })), true);
  assert.equal(needsNodePorts(created({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] })), false);
  assert.equal(needsHealthCheckNodePort(created({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] })), true);
  assert.deepEqual(allocatedNodePorts(svc({ ports: [{ nodePort: 30001 }, { nodePort: 30001 }], healthCheckNodePort: 30002 })), [30001, 30002]);
});

test('ports are required unless headless or ExternalName', () => {
  const s = created({ selector: { app: 'web' } });
  assert.deepEqual(messages(validateService(s)), ['spec.ports: Required value']);
});

test('port names are required and unique when there are several ports', () => {
  const s = created({ ports: [{ port: 80 }, { name: 'a', port: 443 }, { name: 'a', port: 8443 }] });
  assert.deepEqual(messages(validateService(s)), ['spec.ports[0].name: Required value', 'spec.ports[2].name: Duplicate value: "a"']);
});

test('port numbers, protocols and node port range', () => {
  const s = created({ type: 'NodePort', ports: [{ name: 'a', port: 70000, protocol: 'ICMP' }, { name: 'b', port: 80, nodePort: 80 }] });
  assert.deepEqual(messages(validateService(s)), [
    'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    'spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.ports[1].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
  ]);
});

test('type values and nodePort on ClusterIP services', () => {
  const bad = created({ type: 'Magic', ports: [{ port: 80 }] });
  assert.ok(
    messages(validateService(bad)).includes(
      'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ),
  );
  const cip = created({ ports: [{ port: 80, nodePort: 30080 }] });
  assert.deepEqual(messages(validateService(cip)), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
});

test('duplicate ports are reported with the Go key kube prints', () => {
  const s = created({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] });
  const errs = validateService(s);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'spec.ports[1]');
  assert.equal(
    (errs[0] as ReprFieldError).valueRepr,
    'core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  );
});

test('clusterIP is immutable', () => {
  const old = created({ clusterIP: '10.43.0.10', ports: [{ port: 80 }] });
  const next = svc({ ...structuredClone(old.spec), clusterIP: '10.43.0.99', clusterIPs: ['10.43.0.99'] });
  serviceResource.defaults!(next);
  serviceResource.prepareForUpdate!(next, old, ctx);
  assert.deepEqual(messages(serviceResource.validateUpdate!(next, old)), [
    'spec.clusterIPs[0]: Invalid value: []string{"10.43.0.99"}: may not change once set',
  ]);
});

test('an update that omits allocated values keeps them (kubectl replace)', () => {
  const old = created({ type: 'NodePort', ports: [{ name: 'http', port: 80 }] });
  old.spec.clusterIP = '10.43.0.20';
  old.spec.clusterIPs = ['10.43.0.20'];
  old.spec.ports[0].nodePort = 30080;
  const next = svc({ type: 'NodePort', ports: [{ name: 'http', port: 80 }] });
  serviceResource.defaults!(next);
  serviceResource.prepareForUpdate!(next, old, ctx);
  assert.equal(next.spec.clusterIP, '10.43.0.20');
  assert.deepEqual(next.spec.clusterIPs, ['10.43.0.20']);
  assert.equal(next.spec.ports[0].nodePort, 30080);
  assert.deepEqual(serviceResource.validateUpdate!(next, old), []);
  assert.deepEqual(validateService(next), []);
});

test('switching to ClusterIP drops allocated node ports and the load-balancer status', () => {
  const old = created({ type: 'LoadBalancer', ports: [{ port: 80 }] });
  old.spec.clusterIP = '10.43.0.21';
  old.spec.clusterIPs = ['10.43.0.21'];
  old.spec.ports[0].nodePort = 31000;
  old.status = { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } };
  const next = structuredClone(old);
  next.spec.type = 'ClusterIP';
  serviceResource.defaults!(next);
  serviceResource.prepareForUpdate!(next, old, ctx);
  assert.equal(next.spec.ports[0].nodePort, undefined);
  assert.equal(next.spec.externalTrafficPolicy, undefined);
  assert.equal(next.spec.allocateLoadBalancerNodePorts, undefined);
  assert.deepEqual(next.status, { loadBalancer: {} });
  assert.deepEqual(validateService(next), []);
});

test('switching to ExternalName releases the cluster IP fields', () => {
  const old = created({ ports: [{ port: 80 }] });
  old.spec.clusterIP = '10.43.0.22';
  old.spec.clusterIPs = ['10.43.0.22'];
  const next = structuredClone(old);
  next.spec.type = 'ExternalName';
  next.spec.externalName = 'example.com';
  serviceResource.prepareForUpdate!(next, old, ctx);
  assert.equal(next.spec.clusterIP, undefined);
  assert.equal(next.spec.clusterIPs, undefined);
  assert.equal(next.spec.ipFamilies, undefined);
  assert.equal(next.spec.ipFamilyPolicy, undefined);
  assert.deepEqual(serviceResource.validateUpdate!(next, old), []);
});

test('normalizeClusterIPs syncs the singular field into the plural one', () => {
  const s = svc({ clusterIP: '10.43.0.5' });
  normalizeClusterIPs(s);
  assert.deepEqual(s.spec.clusterIPs, ['10.43.0.5']);
  const mismatch = created({ clusterIP: '10.43.0.5', clusterIPs: ['10.43.0.6'], ports: [{ port: 80 }] });
  assert.deepEqual(messages(validateService(mismatch)), ['spec.clusterIPs: Invalid value: []string{"10.43.0.6"}: first value must match `clusterIP`']);
});

test('headless NodePort and RequireDualStack on a single-stack cluster are rejected', () => {
  const np = created({ type: 'NodePort', clusterIP: 'None', selector: { a: 'b' }, ports: [{ port: 80 }] });
  assert.ok(messages(validateService(np)).includes('spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services'));
  const ds = created({ ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] });
  assert.deepEqual(messages(validateService(ds)), ['spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services']);
});

test('clusterIP allocation errors are worded as kube words them', () => {
  const s = created({ clusterIP: '10.43.0.1', ports: [{ port: 80 }] });
  const e = clusterIPAllocationError(s, '10.43.0.1', 'provided IP is already allocated');
  assert.deepEqual(messages([e]), ['spec.clusterIPs: Invalid value: []string{"10.43.0.1"}: failed to allocate IP 10.43.0.1: provided IP is already allocated']);
});

test('service names are DNS-1035 labels', () => {
  assert.deepEqual(validateServiceName('frontend-service'), []);
  assert.equal(validateServiceName('1abc').length, 1);
  const s = svc({ ports: [{ port: 80 }] }, '1abc');
  serviceResource.defaults!(s);
  serviceResource.prepareForCreate!(s, ctx);
  assert.deepEqual(messages(validateService(s)), [
    "metadata.name: Invalid value: \"1abc\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  ]);
});

test('table: ClusterIP, NodePort, LoadBalancer, ExternalName and headless rows', () => {
  const { columns, cells } = serviceResource.table!;
  assert.deepEqual(
    columns.map((c) => [c.name, c.priority]),
    [['Name', 0], ['Type', 0], ['Cluster-IP', 0], ['External-IP', 0], ['Port(s)', 0], ['Age', 0], ['Selector', 1]],
  );
  assert.equal(columns[0].format, 'name');

  const cip = created({ selector: { app: 'web', tier: 'fe' }, ports: [{ port: 80 }] });
  cip.spec.clusterIPs = ['10.43.0.15'];
  assert.deepEqual(cells(cip, now), ['web', 'ClusterIP', '10.43.0.15', '<none>', '80/TCP', '5m', 'app=web,tier=fe']);

  const np = created({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'https', port: 443, protocol: 'TCP' }] });
  np.spec.clusterIPs = ['10.43.0.16'];
  assert.deepEqual(cells(np, now).slice(1, 5), ['NodePort', '10.43.0.16', '<none>', '80:30080/TCP,443/TCP']);

  const lb = created({ type: 'LoadBalancer', ports: [{ port: 80, nodePort: 31234 }] });
  lb.spec.clusterIPs = ['10.43.0.17'];
  assert.equal(cells(lb, now)[3], '<pending>');
  lb.status = { loadBalancer: { ingress: [{ ip: '192.168.1.20' }, { ip: '192.168.1.10' }] } };
  assert.equal(cells(lb, now)[3], '192.168.1.10,192.168.1.20');
  lb.spec.externalIPs = ['203.0.113.5'];
  assert.equal(cells(lb, now)[3], '192.168.1.10,192.168.1.20,203.0.113.5');

  const ext = created({ type: 'ExternalName', externalName: 'db.example.com' });
  assert.deepEqual(cells(ext, now).slice(1, 6), ['ExternalName', '<none>', 'db.example.com', '<none>', '5m']);

  const headless = created({ clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] });
  assert.deepEqual(cells(headless, now).slice(2, 5), ['None', '<none>', '5432/TCP']);
  assert.equal(cells(svc({}), now)[6], '<none>');
});

test('identity: svc short name, "all" category, status subresource', () => {
  assert.equal(serviceResource.plural, 'services');
  assert.deepEqual(serviceResource.shortNames, ['svc']);
  assert.deepEqual(serviceResource.categories, ['all']);
  assert.equal(serviceResource.subresources?.status, true);
  defaultService(svc({}));
});
