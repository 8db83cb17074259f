/** @module job-controller decisions against the real REST pipeline with a fake clock: completions, parallelism, Indexed, backoff, deadline, suspend. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { JobController, jobTrackingFinalizer } from './controller.js';
import { ControllerTestEnv, testContainers } from '../common/test-env.js';

function job(name: string, spec: KObject = {}): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: testContainers } }, ...spec },
  };
}

let env: ControllerTestEnv;
let ctrl: JobController;

beforeEach(async () => {
  env = await ControllerTestEnv.create();
  ctrl = new JobController(env.ctx);
});
afterEach(async () => {
  ctrl.requeue.stop();
  await env.close();
});

/** One round: the cache catches up, then the controller syncs. */
async function step(key = 'default/pi'): Promise<KObject | undefined> {
  await env.refresh();
  await ctrl.sync(key);
  await env.refresh();
  return env.get(Resources.jobs, key.split('/')[1]);
}

async function pods(): Promise<KObject[]> {
  return env.list(Resources.pods);
}

async function activePods(): Promise<KObject[]> {
  return (await pods()).filter((p) => !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase));
}

function condition(j: KObject | undefined, type: string): KObject | undefined {
  return (j?.status?.conditions ?? []).find((c: KObject) => c.type === type);
}

describe('job-controller', () => {
  test('runs completions with parallelism and completes with kube conditions and events', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi', { completions: 3, parallelism: 2 }));
    let j = await step();
    let ps = await pods();
    assert.equal(ps.length, 2);
    for (const p of ps) {
      assert.match(p.metadata!.name!, /^pi-[a-z0-9]{5}$/);
      assert.equal(p.metadata?.labels?.['batch.kubernetes.io/job-name'], 'pi');
      assert.equal(p.metadata?.labels?.['batch.kubernetes.io/controller-uid'], j?.metadata?.uid);
      assert.deepEqual(p.metadata?.finalizers, [jobTrackingFinalizer]);
      assert.equal(p.metadata?.ownerReferences?.[0]?.kind, 'Job');
      assert.equal(p.metadata?.ownerReferences?.[0]?.controller, true);
    }
    assert.equal(j?.status?.active, 2);
    assert.equal(j?.status?.ready, 0);
    assert.equal(j?.status?.terminating, 0);
    assert.equal(j?.status?.startTime, '2025-03-01T12:00:00Z');

    // A second sync on the same cache changes nothing (idempotent).
    j = await step();
    assert.equal((await pods()).length, 2);

    await env.setPodStatus(ps[0].metadata!.name!, 'Running');
    j = await step();
    assert.equal(j?.status?.ready, 1);

    env.advance(5000);
    await env.setPodStatus(ps[0].metadata!.name!, 'Succeeded');
    j = await step();
    assert.equal(j?.status?.succeeded, 1);
    assert.deepEqual(j?.status?.uncountedTerminatedPods, {});
    const done = (await pods()).find((p) => p.metadata?.name === ps[0].metadata?.name);
    assert.equal(done?.metadata?.finalizers, undefined, 'finalizer removed once counted');
    assert.equal((await activePods()).length, 2, 'a replacement keeps parallelism');

    for (const p of await activePods()) await env.setPodStatus(p.metadata!.name!, 'Succeeded');
    j = await step();
    j = await step();
    assert.equal(j?.status?.succeeded, 3);
    assert.equal(j?.status?.active, 0);
    assert.equal(condition(j, 'SuccessCriteriaMet')?.reason, 'CompletionsReached');
    assert.equal(condition(j, 'Complete')?.status, 'True');
    assert.equal(condition(j, 'Complete')?.message, 'Reached expected number of succeeded pods');
    assert.equal(j?.status?.completionTime, '2025-03-01T12:00:05Z');
    const events = await env.events();
    assert.equal(events.filter((e) => /^Normal SuccessfulCreate Created pod: pi-[a-z0-9]{5}$/.test(e)).length, 3);
    assert.ok(events.includes('Normal Completed Job completed'));
    ps = await pods();
    assert.ok(ps.every((p) => !p.metadata?.finalizers), 'no pod keeps the tracking finalizer');
  });

  test('a Job without completions is complete when one pod succeeds and the rest finish', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi', { parallelism: 2, completions: null }));
    await step();
    const [a, b] = await pods();
    await env.setPodStatus(a.metadata!.name!, 'Succeeded');
    let j = await step();
    assert.equal(j?.status?.succeeded, 1);
    assert.equal((await pods()).length, 2, 'no new pods after a success');
    assert.equal(condition(j, 'Complete'), undefined, 'waits for the other pod');
    await env.setPodStatus(b.metadata!.name!, 'Succeeded');
    j = await step();
    assert.equal(condition(j, 'Complete')?.status, 'True');
  });

  test('Indexed Jobs give each pod a completion index and track completedIndexes', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi', { completions: 3, parallelism: 2, completionMode: 'Indexed' }));
    await step();
    const ps = await pods();
    const indexes = ps.map((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
    assert.deepEqual(indexes, ['0', '1']);
    for (const p of ps) {
      const ix = p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'];
      assert.equal(p.metadata?.labels?.['batch.kubernetes.io/job-completion-index'], ix);
      assert.equal(p.spec?.hostname, `pi-${ix}`);
      assert.match(p.metadata!.name!, new RegExp(`^pi-${ix}-[a-z0-9]{5}$`));
      const env0 = p.spec.containers[0].env.find((e: KObject) => e.name === 'JOB_COMPLETION_INDEX');
      assert.equal(env0.valueFrom.fieldRef.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    }
    const one = ps.find((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '1')!;
    await env.setPodStatus(one.metadata!.name!, 'Succeeded');
    let j = await step();
    assert.equal(j?.status?.completedIndexes, '1');
    assert.equal(j?.status?.succeeded, 1);
    const next = (await activePods()).map((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
    assert.deepEqual(next, ['0', '2'], 'the lowest pending index is started');
    for (const p of await activePods()) await env.setPodStatus(p.metadata!.name!, 'Succeeded');
    j = await step();
    j = await step();
    assert.equal(j?.status?.completedIndexes, '0-2');
    assert.equal(condition(j, 'Complete')?.status, 'True');
  });

  test('failed pods are replaced after an exponential backoff, then backoffLimit fails the Job', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi', { backoffLimit: 1 }));
    await step();
    const [first] = await pods();
    await env.setPodStatus(first.metadata!.name!, 'Failed');
    let j = await step();
    assert.equal(j?.status?.failed, 1);
    assert.equal((await activePods()).length, 0, 'no replacement during the backoff');
    assert.equal(ctrl.requeue.requested.get('default/pi'), 10_000);

    env.advance(4000);
    await step();
    assert.equal((await activePods()).length, 0);
    assert.equal(ctrl.requeue.requested.get('default/pi'), 6000);

    env.advance(6000);
    j = await step();
    const [second] = await activePods();
    assert.ok(second, 'replacement created once the backoff passed');
    assert.equal(j?.status?.active, 1);

    await env.setPodStatus(second.metadata!.name!, 'Failed');
    j = await step();
    assert.equal(j?.status?.failed, 2);
    assert.equal(condition(j, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
    assert.equal(condition(j, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.equal(condition(j, 'Failed')?.message, 'Job has reached the specified backoff limit');
    assert.equal(j?.status?.completionTime, undefined);
    assert.ok((await env.events()).includes('Warning BackoffLimitExceeded Job has reached the specified backoff limit'));
  });

  test('the backoff doubles per consecutive failure', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi', { backoffLimit: 10 }));
    await step();
    for (const expected of [10_000, 20_000, 40_000]) {
      const [p] = await activePods();
      await env.setPodStatus(p.metadata!.name!, 'Failed');
      await step();
      assert.equal(ctrl.requeue.requested.get('default/pi'), expected);
      env.advance(expected);
      await step();
    }
  });

  test('activeDeadlineSeconds fails the Job with DeadlineExceeded and removes its pods', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi', { activeDeadlineSeconds: 30, parallelism: 2, completions: 4 }));
    await step();
    assert.equal(ctrl.requeue.requested.get('default/pi'), 30_000);
    assert.equal((await pods()).length, 2);
    env.advance(30_000);
    let j: KObject | undefined;
    for (let i = 0; i < 5 && condition(j, 'Failed')?.status !== 'True'; i++) j = await step();
    assert.equal(condition(j, 'Failed')?.reason, 'DeadlineExceeded');
    assert.equal(condition(j, 'Failed')?.message, 'Job was active longer than specified deadline');
    assert.equal(j?.status?.active, 0);
    assert.equal(j?.status?.failed, 2, 'pods removed by the deadline count as failed');
    assert.equal((await pods()).length, 0);
    assert.ok((await env.events()).includes('Warning DeadlineExceeded Job was active longer than specified deadline'));
  });

  test('suspend deletes active pods without counting failures; resume restarts the clock', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi', { suspend: true, completions: 2, parallelism: 2 }));
    let j = await step();
    assert.equal((await pods()).length, 0);
    assert.equal(condition(j, 'Suspended')?.status, 'True');
    assert.equal(condition(j, 'Suspended')?.reason, 'JobSuspended');
    assert.equal(j?.status?.startTime, undefined);

    env.advance(60_000);
    await env.client.patch(Resources.jobs, 'default', 'pi', 'merge', { spec: { suspend: false } });
    j = await step();
    assert.equal(condition(j, 'Suspended')?.status, 'False');
    assert.equal(condition(j, 'Suspended')?.reason, 'JobResumed');
    assert.equal(j?.status?.startTime, '2025-03-01T12:01:00Z');
    assert.equal((await pods()).length, 2);

    await env.client.patch(Resources.jobs, 'default', 'pi', 'merge', { spec: { suspend: true } });
    j = await step();
    assert.equal((await pods()).length, 0, 'pods deleted (unbound pods go at once)');
    assert.equal(j?.status?.failed ?? 0, 0);
    assert.equal(condition(j, 'Suspended')?.status, 'True');
    const events = await env.events();
    assert.ok(events.includes('Normal Suspended Job suspended'));
    assert.ok(events.includes('Normal Resumed Job resumed'));
    assert.equal(events.filter((e) => e.startsWith('Normal SuccessfulDelete Deleted pod: pi-')).length, 2);
  });

  test('lowering parallelism removes the least progressed pods', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi', { completions: 10, parallelism: 3 }));
    await step();
    const ps = await pods();
    await env.setPodStatus(ps[0].metadata!.name!, 'Running');
    await env.client.patch(Resources.jobs, 'default', 'pi', 'merge', { spec: { parallelism: 1 } });
    const j = await step();
    const left = await activePods();
    assert.equal(left.length, 1);
    assert.equal(left[0].metadata?.name, ps[0].metadata?.name, 'the running pod stays');
    assert.equal(j?.status?.active, 1);
    assert.equal(j?.status?.failed ?? 0, 0);
  });

  test('a stale cache holding our previous status write is not acted on', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi', { completions: 1 }));
    await step();
    const [p] = await pods();
    await env.setPodStatus(p.metadata!.name!, 'Succeeded');
    await env.refresh();
    await ctrl.sync('default/pi');
    // The status write (succeeded: 1) is not in the cache yet, but the pod lost its finalizer.
    const informer = env.informers.for(Resources.pods);
    informer.seed([await env.client.get(Resources.pods, 'default', p.metadata!.name!)]);
    await ctrl.sync('default/pi');
    assert.equal((await pods()).length, 1, 'no second pod from a stale succeeded count');
    const j = await step();
    assert.equal(j?.status?.succeeded, 1);
  });

  test('orphaned pods lose the tracking finalizer', async () => {
    await env.client.create(Resources.jobs, 'default', job('pi'));
    await step();
    const [p] = await pods();
    await env.client.delete(Resources.jobs, 'default', 'pi', { propagationPolicy: 'Orphan' });
    // The orphan finalizer is the garbage collector's; emulate its orphaning.
    const j = await env.client.get(Resources.jobs, 'default', 'pi');
    await env.client.patch(Resources.pods, 'default', p.metadata!.name!, 'strategic', { metadata: { ownerReferences: [{ $patch: 'delete', uid: j.metadata?.uid }] } });
    await env.refresh();
    await ctrl.syncOrphanPod(`default/${p.metadata!.name}`);
    const after = await env.get(Resources.pods, p.metadata!.name!);
    assert.equal(after?.metadata?.finalizers, undefined);
  });
});
