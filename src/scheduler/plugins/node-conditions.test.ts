/** @module NodeUnschedulable, NodeReady, NodeName and NodePorts filters. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterEach, makeCluster, makeNode, makePod } from '../test-util.js';
import { nodeNameName } from './node-name.js';
import { nodePortsName } from './node-ports.js';
import { nodeReadyName } from './node-ready.js';
import { nodeUnschedulableName } from './node-unschedulable.js';

describe('NodeUnschedulable', () => {
  const { framework } = makeCluster([makeNode('up'), makeNode('cordoned', { unschedulable: true })]);
  test('a cordoned node takes no pods', () => {
    assert.deepEqual(filterEach(framework, nodeUnschedulableName, makePod('p')), { up: '', cordoned: 'UnschedulableAndUnresolvable: node(s) were unschedulable' });
  });
  test('unless the pod tolerates node.kubernetes.io/unschedulable', () => {
    const pod = makePod('ds', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    assert.deepEqual(filterEach(framework, nodeUnschedulableName, pod), { up: '', cordoned: '' });
  });
});

describe('NodeReady', () => {
  const { framework } = makeCluster([makeNode('ready'), makeNode('down', { ready: 'False' }), makeNode('lost', { ready: 'Unknown' }), makeNode('new', { ready: null })]);
  test('nodes whose Ready condition is not True take no pods', () => {
    const no = 'UnschedulableAndUnresolvable: node(s) were not ready';
    assert.deepEqual(filterEach(framework, nodeReadyName, makePod('p')), { ready: '', down: no, lost: no, new: no });
  });
  test('tolerating not-ready admits NotReady nodes; unreachable admits unknown ones', () => {
    const notReady = makePod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] } });
    const got = filterEach(framework, nodeReadyName, notReady);
    assert.equal(got.down, '');
    assert.match(got.lost, /not ready/);
    const unreachable = makePod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }] } });
    assert.equal(filterEach(framework, nodeReadyName, unreachable).lost, '');
  });
});

describe('NodeName', () => {
  const { framework } = makeCluster([makeNode('a'), makeNode('b')]);
  test('a pod naming a node fits only that node', () => {
    assert.deepEqual(filterEach(framework, nodeNameName, makePod('p', { nodeName: 'b' })), { a: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name", b: '' });
    assert.deepEqual(filterEach(framework, nodeNameName, makePod('p')), { a: '', b: '' });
  });
});

describe('NodePorts', () => {
  const withPort = (name: string, hostPort: number, extra: object = {}) =>
    makePod(name, { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPort, ...extra }] }] } });
  const { framework } = makeCluster([makeNode('a'), makeNode('b'), makeNode('c')], [
    { ...withPort('x', 8080), spec: { ...withPort('x', 8080).spec, nodeName: 'a' } },
    { ...withPort('y', 8080, { hostIP: '10.0.0.1' }), spec: { ...withPort('y', 8080, { hostIP: '10.0.0.1' }).spec, nodeName: 'b' } },
  ]);
  const taken = "Unschedulable: node(s) didn't have free ports for the requested pod ports";
  test('the same protocol and port on the wildcard address conflicts', () => {
    assert.deepEqual(filterEach(framework, nodePortsName, withPort('p', 8080)), { a: taken, b: taken, c: '' });
  });
  test('different host IPs or protocols do not conflict', () => {
    assert.deepEqual(filterEach(framework, nodePortsName, withPort('p', 8080, { hostIP: '10.0.0.2' })), { a: taken, b: '', c: '' });
    assert.deepEqual(filterEach(framework, nodePortsName, withPort('p', 8080, { protocol: 'UDP' })), { a: '', b: '', c: '' });
  });
});
