/** @module Probe state machines on a fake clock: thresholds, initial delay, startup gating, liveness hold, the pod's answers and events. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import type { EventRecorder } from '../../client/index.js';
import type { ContainerStatus } from '../runtime.js';
import { FakeClock, settle } from './fake-clock.js';
import { PodProbes, ProbeWorker, hollowProbeFailAnnotation, podHasProbes, probeTiming, runProbe, type ProbeOutcome, type ProbeTarget, type ProbeType, type ProbedContainer } from './index.js';

const ok: ProbeOutcome = { result: 'success', output: '' };
const bad: ProbeOutcome = { result: 'failure', output: 'HTTP probe failed with statuscode: 500' };

function harness(type: ProbeType, probe: KObject, container: ProbedContainer) {
  const clock = new FakeClock();
  const state = { container: { ...container, startedAt: container.startedAt ?? clock.now() }, next: ok as ProbeOutcome, probes: 0, reports: [] as Array<[string, boolean]>, observed: [] as ProbeOutcome[] };
  const w = new ProbeWorker({
    type,
    timing: probeTiming(probe),
    clock,
    container: () => state.container,
    probe: async () => {
      state.probes++;
      return state.next;
    },
    observed: (o) => state.observed.push(o),
    report: (id, s) => state.reports.push([id, s]),
  });
  return { clock, state, w };
}

describe('ProbeWorker', () => {
  test('probeTiming applies kube defaults', () => {
    assert.deepEqual(probeTiming({}), { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(probeTiming({ periodSeconds: 2, failureThreshold: 1, initialDelaySeconds: 5 }).periodSeconds, 2);
  });

  test('liveness: success until failureThreshold consecutive failures, then held until a new container', async () => {
    const { clock, state, w } = harness('liveness', { periodSeconds: 1, failureThreshold: 3 }, { id: 'c1', running: true, started: true });
    assert.equal(w.result('c1'), true, 'liveness starts as success');
    w.start();
    await clock.advance(0);
    assert.equal(state.probes, 1, 'the first probe runs at once');
    state.next = bad;
    await clock.advance(1000);
    await clock.advance(1000);
    assert.equal(w.result('c1'), true, 'two failures are below the threshold');
    state.next = ok;
    await clock.advance(1000);
    state.next = bad;
    await clock.advance(1000);
    await clock.advance(1000);
    assert.equal(w.result('c1'), true, 'a success in between resets the run');
    await clock.advance(1000);
    assert.equal(w.result('c1'), false);
    assert.deepEqual(state.reports, [['c1', false]]);
    const before = state.probes;
    await clock.advance(5000);
    assert.equal(state.probes, before, 'held: no probes for the failed container');
    state.container = { id: 'c2', running: true, startedAt: clock.now(), started: true };
    state.next = ok;
    await clock.advance(1000);
    assert.equal(state.probes, before + 1, 'the restarted container is probed');
    assert.equal(w.result('c2'), true);
    w.stop();
    assert.equal(clock.pending(), 0);
  });

  test('readiness: starts false, successThreshold successes make it true, failures take it away', async () => {
    const { clock, state, w } = harness('readiness', { periodSeconds: 2, successThreshold: 2, failureThreshold: 2 }, { id: 'c1', running: true, started: true });
    assert.equal(w.result('c1'), false);
    w.start();
    await clock.advance(0);
    assert.equal(w.result('c1'), false, 'one success is below successThreshold 2');
    await clock.advance(2000);
    assert.equal(w.result('c1'), true);
    state.next = bad;
    await clock.advance(2000);
    assert.equal(w.result('c1'), true);
    await clock.advance(2000);
    assert.equal(w.result('c1'), false);
    state.next = ok;
    await clock.advance(4000);
    assert.equal(w.result('c1'), true, 'readiness keeps probing after failures (no hold)');
    assert.deepEqual(state.reports, [['c1', true], ['c1', false], ['c1', true]]);
    assert.equal(state.observed.filter((o) => o.result === 'failure').length, 2, 'every failed probe is observed (an Unhealthy event)');
    state.container = { ...state.container, running: false };
    await clock.advance(2000);
    assert.equal(w.result('c1'), false, 'a stopped container is not ready');
    w.stop();
  });

  test('initialDelaySeconds: no probe counts before the delay since the container started', async () => {
    const { clock, state, w } = harness('readiness', { periodSeconds: 1, initialDelaySeconds: 5 }, { id: 'c1', running: true, started: true });
    w.start();
    await clock.advance(4000);
    assert.equal(state.probes, 0);
    await clock.advance(1000);
    assert.equal(state.probes, 1);
    assert.equal(w.result('c1'), true);
    w.stop();
  });

  test('startup stops once passed; liveness waits for it', async () => {
    const s = harness('startup', { periodSeconds: 1, failureThreshold: 30 }, { id: 'c1', running: true, started: false });
    s.w.start();
    s.state.next = bad;
    await s.clock.advance(3000);
    assert.equal(s.w.result('c1'), undefined, 'failures under the threshold leave startup unknown');
    s.state.next = ok;
    await s.clock.advance(1000);
    assert.equal(s.w.result('c1'), true);
    s.state.container = { ...s.state.container, started: true };
    const n = s.state.probes;
    await s.clock.advance(5000);
    assert.equal(s.state.probes, n, 'no startup probes once started');
    s.w.stop();

    const l = harness('liveness', { periodSeconds: 1 }, { id: 'c1', running: true, started: false });
    l.w.start();
    await l.clock.advance(5000);
    assert.equal(l.state.probes, 0, 'liveness is gated by the startup probe');
    l.w.stop();
  });

  test('an unknown outcome (probe could not run) keeps the previous result', async () => {
    const { clock, state, w } = harness('readiness', { periodSeconds: 1, failureThreshold: 1 }, { id: 'c1', running: true, started: true });
    w.start();
    await clock.advance(0);
    assert.equal(w.result('c1'), true);
    state.next = { result: 'unknown', output: "couldn't find port: http in c" };
    await clock.advance(3000);
    assert.equal(w.result('c1'), true);
    w.stop();
  });
});

function status(name: string, id: string, state: ContainerStatus['state'], startedAt: number): ContainerStatus {
  return { id, sandboxId: 's', name, attempt: 0, role: 'regular', state, image: 'x', imageRef: 'x', createdAt: startedAt, startedAt };
}

class RecordingRecorder {
  events: string[] = [];
  event(_o: KObject, type: string, reason: string, message: string): void {
    this.events.push(`${type} ${reason} ${message}`);
  }
}

describe('PodProbes', () => {
  function setup(pod: KObject, outcomes: Partial<Record<ProbeType, ProbeOutcome>> = {}, simulated = false) {
    const clock = new FakeClock();
    const recorder = new RecordingRecorder();
    let changes = 0;
    const probes = new PodProbes({
      clock,
      runtime: { runtimeName: 'test', simulated },
      pod: () => pod,
      podIP: () => '10.42.0.5',
      recorder: () => recorder as unknown as EventRecorder,
      onChange: () => changes++,
      runProbe: simulated ? undefined : async (type) => outcomes[type] ?? ok,
    });
    return { clock, recorder, probes, changes: () => changes };
  }

  const pod: KObject = {
    metadata: { name: 'web', namespace: 'default', uid: 'u', annotations: {} },
    spec: {
      containers: [
        { name: 'app', livenessProbe: { httpGet: { port: 80 }, periodSeconds: 1, failureThreshold: 2 }, readinessProbe: { httpGet: { port: 80 }, periodSeconds: 1 }, startupProbe: { httpGet: { port: 80 }, periodSeconds: 1 } },
        { name: 'plain' },
      ],
    },
  };

  test('started and ready follow the startup and readiness probes; containers without probes are ready when running', async () => {
    assert.equal(podHasProbes(pod), true);
    assert.equal(podHasProbes({ spec: { containers: [{ name: 'x' }] } }), false);
    const outcomes: Partial<Record<ProbeType, ProbeOutcome>> = { startup: bad };
    const { clock, probes, changes } = setup(pod, outcomes);
    const app = status('app', 'a1', 'CONTAINER_RUNNING', clock.now());
    const plain = status('plain', 'p1', 'CONTAINER_RUNNING', clock.now());
    assert.equal(probes.isStarted(app), false);
    assert.equal(probes.isReady(plain), true);
    assert.equal(probes.isStarted(plain), true);
    probes.update(new Map([['app', app], ['plain', plain]]));
    await clock.advance(0);
    assert.equal(probes.isStarted(app), false, 'not started while the startup probe fails');
    assert.equal(probes.isReady(app), false, 'never ready before started');
    outcomes.startup = ok;
    await clock.advance(1000);
    assert.equal(probes.isStarted(app), true);
    assert.equal(probes.isReady(app), true, 'readiness runs once started');
    assert.ok(changes() >= 2, 'started and ready changes re-sync the pod');
    const stopped = { ...app, state: 'CONTAINER_EXITED' as const };
    assert.equal(probes.isReady(stopped), false);
    probes.stop();
  });

  test('liveness failures record Unhealthy events and ask for the container to be killed', async () => {
    const { clock, probes, recorder } = setup(pod, { liveness: bad });
    const app = status('app', 'a1', 'CONTAINER_RUNNING', clock.now());
    probes.update(new Map([['app', app]]));
    await clock.advance(0);
    assert.equal(probes.failedProbe(app), undefined, 'one failure is below failureThreshold 2');
    await clock.advance(1000);
    assert.equal(probes.failedProbe(app), 'liveness');
    assert.ok(recorder.events.includes('Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 500'), recorder.events.join('\n'));
    const restarted = status('app', 'a2', 'CONTAINER_RUNNING', clock.now());
    probes.update(new Map([['app', restarted]]));
    assert.equal(probes.failedProbe(restarted), undefined, 'the new container starts healthy');
    probes.stop();
  });

  test('hollow: probes succeed unless the probe-fail annotation names their type', async () => {
    const hollowPod: KObject = structuredClone(pod);
    const { clock, probes, recorder } = setup(hollowPod, {}, true);
    const app = status('app', 'a1', 'CONTAINER_RUNNING', clock.now());
    probes.update(new Map([['app', app]]));
    await clock.advance(1000);
    assert.equal(probes.isReady(app), true);
    hollowPod.metadata!.annotations![hollowProbeFailAnnotation] = 'readiness';
    await clock.advance(3000);
    assert.equal(probes.isReady(app), false);
    assert.equal(probes.failedProbe(app), undefined, 'liveness is unaffected');
    assert.ok(recorder.events.includes('Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 500'));
    probes.stop();
    await settle();
  });

  test('runProbe on a simulated runtime answers from the annotation for every handler kind', async () => {
    const target = (ann?: string): ProbeTarget => ({
      pod: { metadata: { annotations: ann ? { [hollowProbeFailAnnotation]: ann } : {} } },
      container: { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] },
      containerId: 'x',
      podIP: '10.42.0.9',
      runtime: { runtimeName: 'hollow', simulated: true },
    });
    assert.deepEqual(await runProbe('liveness', { tcpSocket: { port: 'http' } }, target()), { result: 'success', output: '' });
    assert.deepEqual(await runProbe('liveness', { tcpSocket: { port: 'http' } }, target('liveness, startup')), { result: 'failure', output: 'dial tcp 10.42.0.9:8080: connect: connection refused' });
    assert.equal((await runProbe('startup', { grpc: { port: 9000 } }, target('liveness,startup'))).output, 'service unhealthy (responded with "NOT_SERVING")');
    assert.equal((await runProbe('readiness', { exec: { command: ['true'] } }, target('liveness'))).result, 'success');
  });
});
