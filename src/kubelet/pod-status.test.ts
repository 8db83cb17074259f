/** @module The pod status a node agent reports, from runtime facts alone (no server). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../api/types.js';
import { desiredNodeStatus, nodeStatusChanged, type NodeFacts } from './node-status.js';
import { generatePodStatus, sameJson, statusUpToDate } from './pod-status.js';
import type { ContainerStatus, PodSandboxStatus } from './runtime.js';

const now = new Date('2025-03-01T12:00:00Z');
const sandbox: PodSandboxStatus = { id: 'sb', state: 'SANDBOX_READY', ip: '10.42.0.7', createdAt: now.getTime() };

function pod(spec: KObject = {}, status: KObject = {}): KObject {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec },
    status: { phase: 'Pending', qosClass: 'BestEffort', ...status },
  };
}

function container(over: Partial<ContainerStatus>): ContainerStatus {
  return {
    id: 'c1',
    sandboxId: 'sb',
    name: 'app',
    attempt: 0,
    role: 'regular',
    state: 'CONTAINER_RUNNING',
    image: 'docker.io/library/nginx:latest',
    imageRef: 'docker.io/library/nginx@sha256:abc',
    createdAt: now.getTime() - 2000,
    startedAt: now.getTime() - 1000,
    ...over,
  };
}

const base = { runtimeName: 'hollow', hostIP: '10.42.0.1', now };

describe('generatePodStatus', () => {
  test('before the sandbox: Pending, containers waiting in ContainerCreating, not ready', () => {
    const s = generatePodStatus({ ...base, pod: pod(), containers: [] });
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(s.containerStatuses[0].state, { waiting: { reason: 'ContainerCreating' } });
    assert.equal(s.conditions.find((c: KObject) => c.type === 'PodReadyToStartContainers').status, 'False');
    const ready = s.conditions.find((c: KObject) => c.type === 'Ready');
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'ContainersNotReady');
    assert.equal(ready.message, 'containers with unready status: [app]');
    assert.equal(s.podIP, undefined);
    assert.equal(s.hostIP, '10.42.0.1');
  });

  test('running: Running and Ready, kubelet condition order, foreign conditions kept', () => {
    const p = pod({}, { conditions: [{ type: 'DisruptionTarget', status: 'True' }, { type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-03-01T11:00:00Z' }] });
    const s = generatePodStatus({ ...base, pod: p, sandbox, containers: [container({})] });
    assert.equal(s.phase, 'Running');
    assert.deepEqual(
      s.conditions.map((c: KObject) => `${c.type}=${c.status}`),
      ['DisruptionTarget=True', 'PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
    );
    assert.equal(s.conditions.at(-1).lastTransitionTime, '2025-03-01T11:00:00Z');
    assert.equal(s.podIP, '10.42.0.7');
    assert.equal(s.containerStatuses[0].containerID, 'hollow://c1');
    assert.equal(s.containerStatuses[0].state.running.startedAt, '2025-03-01T11:59:59Z');
  });

  test('lastTransitionTime holds while a condition keeps its status', () => {
    const first = generatePodStatus({ ...base, pod: pod(), sandbox, containers: [container({})] });
    const later = new Date(now.getTime() + 60_000);
    const again = generatePodStatus({ ...base, now: later, pod: pod({}, first), sandbox, containers: [container({})] });
    assert.deepEqual(again.conditions, first.conditions);
    assert.ok(statusUpToDate({ ...first, qosClass: 'BestEffort' }, again));
  });

  test('an exited container in back-off reports CrashLoopBackOff with its last termination', () => {
    const s = generatePodStatus({
      ...base,
      pod: pod(),
      sandbox,
      containers: [container({ attempt: 2, state: 'CONTAINER_EXITED', exitCode: 1, reason: 'Error', finishedAt: now.getTime() })],
      waiting: new Map([['app', { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=app pod=p_default(u1)' }]]),
    });
    assert.equal(s.phase, 'Running');
    const cs = s.containerStatuses[0];
    assert.equal(cs.state.waiting.reason, 'CrashLoopBackOff');
    assert.equal(cs.lastState.terminated.exitCode, 1);
    assert.equal(cs.restartCount, 2);
    assert.equal(cs.ready, false);
  });

  test('restartPolicy Never: all exited 0 is Succeeded, any failure is Failed', () => {
    const ok = generatePodStatus({ ...base, pod: pod({ restartPolicy: 'Never' }), sandbox, containers: [container({ state: 'CONTAINER_EXITED', exitCode: 0 })] });
    assert.equal(ok.phase, 'Succeeded');
    assert.equal(ok.conditions.find((c: KObject) => c.type === 'Ready').reason, 'PodCompleted');
    const bad = generatePodStatus({ ...base, pod: pod({ restartPolicy: 'Never' }), sandbox, containers: [container({ state: 'CONTAINER_EXITED', exitCode: 2 })] });
    assert.equal(bad.phase, 'Failed');
    assert.equal(bad.containerStatuses[0].state.terminated.reason, 'Error');
  });

  test('pending init containers keep the pod Pending and Initialized False', () => {
    const p = pod({ initContainers: [{ name: 'init', image: 'busybox' }] });
    const s = generatePodStatus({ ...base, pod: p, sandbox, containers: [container({ id: 'i1', name: 'init', role: 'init' })] });
    assert.equal(s.phase, 'Pending');
    const init = s.conditions.find((c: KObject) => c.type === 'Initialized');
    assert.equal(init.status, 'False');
    assert.equal(init.message, 'containers with incomplete status: [init]');
    assert.deepEqual(s.containerStatuses[0].state, { waiting: { reason: 'PodInitializing' } });
  });

  test('readiness gates hold Ready back until their condition is True', () => {
    const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] });
    const s = generatePodStatus({ ...base, pod: p, sandbox, containers: [container({})] });
    const ready = s.conditions.find((c: KObject) => c.type === 'Ready');
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'ReadinessGatesNotReady');
    assert.equal(s.conditions.find((c: KObject) => c.type === 'ContainersReady').status, 'True');
  });

  test('pods stopped for deletion end terminal', () => {
    const s = generatePodStatus({ ...base, pod: pod(), sandbox: { ...sandbox, state: 'SANDBOX_NOTREADY', ip: '' }, containers: [container({ state: 'CONTAINER_EXITED', exitCode: 143 })], terminated: true });
    assert.equal(s.phase, 'Failed');
  });
});

describe('status comparison', () => {
  test('null, missing and {} are the same once through the API server', () => {
    assert.ok(sameJson({ a: null, b: {} }, {}));
    assert.ok(!sameJson({ a: 1 }, { a: 2 }));
    assert.ok(!sameJson([1, 2], [1]));
  });

  test('node status changes are detected without heartbeat noise', () => {
    const facts: NodeFacts = {
      name: 'n',
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      internalIP: '10.42.0.1',
      labels: {},
      nodeInfo: { kubeletVersion: 'v', containerRuntimeVersion: 'r', osImage: 'o', kernelVersion: 'k', operatingSystem: 'linux', architecture: 'amd64', machineID: 'm', systemUUID: 's', bootID: 'b' },
    };
    const posted = { status: desiredNodeStatus(facts, undefined, now) };
    const later = desiredNodeStatus(facts, posted, new Date(now.getTime() + 10_000));
    assert.equal(nodeStatusChanged(posted, later), false);
    assert.equal(later.conditions[3].lastTransitionTime, posted.status.conditions[3].lastTransitionTime);
    const unknown = structuredClone(posted);
    unknown.status.conditions[3].status = 'Unknown';
    assert.equal(nodeStatusChanged(unknown, later), true);
  });
});
