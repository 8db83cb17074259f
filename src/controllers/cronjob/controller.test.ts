/** @module cronjob-controller on a fake clock: schedules, concurrency policies, deadlines, history limits, suspend, time zones. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseCronSchedule } from '../../api/kinds/cron-schedule.js';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { ControllerTestEnv, testContainers } from '../common/test-env.js';
import { CronJobController, jobNameFor, mostRecentScheduleTime, rfc1123z, rfc3339InZone } from './controller.js';

const start = new Date('2025-03-01T12:00:30Z');
let env: ControllerTestEnv;
let ctrl: CronJobController;

beforeEach(async () => {
  env = await ControllerTestEnv.create(start);
  ctrl = new CronJobController(env.ctx);
});
afterEach(async () => {
  ctrl.requeue.stop();
  await env.close();
});

function cronJob(spec: KObject = {}): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'cj', namespace: 'default' },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: {
        metadata: { labels: { app: 'report' }, annotations: { team: 'ops' } },
        spec: { template: { spec: { restartPolicy: 'OnFailure', containers: testContainers } } },
      },
      ...spec,
    },
  };
}

async function step(): Promise<KObject | undefined> {
  await env.refresh();
  await ctrl.sync('default/cj');
  await env.refresh();
  return env.get(Resources.cronjobs, 'cj');
}

async function jobs(): Promise<KObject[]> {
  return env.list(Resources.jobs);
}

/** Moves the clock to a wall-clock time ("12:05:00") plus 100 ms, as the requeue would. */
function at(hhmmss: string): void {
  env.now = new Date(Date.parse(`2025-03-01T${hhmmss}Z`) + 100);
}

async function finishJob(name: string, type: 'Complete' | 'Failed', when: string): Promise<void> {
  const j = await env.client.get(Resources.jobs, 'default', name);
  j.status = {
    startTime: when,
    conditions: [{ type, status: 'True', lastProbeTime: when, lastTransitionTime: when, reason: 'X', message: 'x' }],
  };
  if (type === 'Complete') j.status.completionTime = when;
  await env.client.update(Resources.jobs, 'default', j, { subresource: 'status' });
}

const minutes = (iso: string) => Math.floor(Date.parse(iso) / 60_000);

describe('cronjob-controller', () => {
  test('waits for the schedule, then creates the Job kube would, and requeues for the next time', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob());
    let cj = await step();
    assert.equal((await jobs()).length, 0);
    assert.equal(ctrl.requeue.requested.get('default/cj'), 4 * 60_000 + 30_000 + 100);

    at('12:05:00');
    cj = await step();
    const [job] = await jobs();
    assert.equal(job.metadata?.name, `cj-${minutes('2025-03-01T12:05:00Z')}`);
    assert.equal(job.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2025-03-01T12:05:00Z');
    assert.equal(job.metadata?.annotations?.team, 'ops');
    assert.equal(job.metadata?.labels?.app, 'report');
    assert.deepEqual(
      { kind: job.metadata?.ownerReferences?.[0]?.kind, name: job.metadata?.ownerReferences?.[0]?.name, controller: job.metadata?.ownerReferences?.[0]?.controller },
      { kind: 'CronJob', name: 'cj', controller: true },
    );
    assert.equal(cj?.status?.lastScheduleTime, '2025-03-01T12:05:00Z');
    assert.deepEqual(
      cj?.status?.active?.map((r: KObject) => [r.kind, r.name, r.uid, r.apiVersion]),
      [['Job', job.metadata?.name, job.metadata?.uid, 'batch/v1']],
    );
    assert.equal(ctrl.requeue.requested.get('default/cj'), 5 * 60_000);
    assert.ok((await env.events()).includes(`Normal SuccessfulCreate Created job ${job.metadata?.name}`));

    // Syncing again in the same minute creates nothing more.
    await step();
    assert.equal((await jobs()).length, 1);
  });

  test('a finished Job leaves the active list and sets lastSuccessfulTime', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob());
    at('12:05:00');
    await step();
    const [job] = await jobs();
    await finishJob(job.metadata!.name!, 'Complete', '2025-03-01T12:06:00Z');
    const cj = await step();
    assert.equal(cj?.status?.active, undefined);
    assert.equal(cj?.status?.lastSuccessfulTime, '2025-03-01T12:06:00Z');
    assert.ok((await env.events()).includes(`Normal SawCompletedJob Saw completed job: ${job.metadata?.name}, status: Complete`));
  });

  test('Forbid skips a run while one is active; Allow runs them side by side', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob({ concurrencyPolicy: 'Forbid' }));
    at('12:05:00');
    await step();
    at('12:10:00');
    let cj = await step();
    assert.equal((await jobs()).length, 1);
    assert.equal(cj?.status?.lastScheduleTime, '2025-03-01T12:05:00Z');
    assert.ok((await env.events()).includes('Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid'));

    await env.client.patch(Resources.cronjobs, 'default', 'cj', 'merge', { spec: { concurrencyPolicy: 'Allow' } });
    cj = await step();
    assert.equal((await jobs()).length, 2);
    assert.equal(cj?.status?.active?.length, 2);
  });

  test('Replace deletes the running Job before starting the next', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob({ concurrencyPolicy: 'Replace' }));
    at('12:05:00');
    await step();
    const [first] = await jobs();
    at('12:10:00');
    const cj = await step();
    const names = (await jobs()).map((j) => j.metadata?.name);
    assert.deepEqual(names, [`cj-${minutes('2025-03-01T12:10:00Z')}`]);
    assert.deepEqual(cj?.status?.active?.map((r: KObject) => r.name), names);
    assert.ok((await env.events()).includes(`Normal SuccessfulDelete Deleted job ${first.metadata?.name}`));
  });

  test('suspended CronJobs start nothing and do not requeue themselves', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob({ suspend: true }));
    at('12:05:00');
    await step();
    assert.equal((await jobs()).length, 0);
    assert.equal(ctrl.requeue.requested.has('default/cj'), false);
    await env.client.patch(Resources.cronjobs, 'default', 'cj', 'merge', { spec: { suspend: false } });
    await step();
    assert.equal((await jobs()).length, 1, 'the run missed while suspended starts on resume');
  });

  test('startingDeadlineSeconds: a run older than the deadline is skipped', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob({ startingDeadlineSeconds: 10 }));
    at('12:05:30');
    await step();
    assert.equal((await jobs()).length, 0, '30 s late with a 10 s deadline');
    at('12:10:05');
    await step();
    assert.equal((await jobs()).length, 1);
  });

  test('history limits keep the newest successful and failed Jobs', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob({ successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1, suspend: true }));
    await env.refresh();
    const cj = await env.client.get(Resources.cronjobs, 'default', 'cj');
    const ref = { apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: cj.metadata!.uid!, controller: true, blockOwnerDeletion: true };
    for (let i = 0; i < 6; i++) {
      await env.client.create(Resources.jobs, 'default', {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: `old-${i}`, ownerReferences: [ref] },
        spec: { template: { spec: { restartPolicy: 'Never', containers: testContainers } } },
      });
      await finishJob(`old-${i}`, i < 4 ? 'Complete' : 'Failed', `2025-03-01T1${i}:00:00Z`);
    }
    await step();
    assert.deepEqual(
      (await jobs()).map((j) => j.metadata?.name),
      ['old-2', 'old-3', 'old-5'],
    );
    const events = await env.events();
    for (const n of ['old-0', 'old-1', 'old-4']) assert.ok(events.includes(`Normal SuccessfulDelete Deleted job ${n}`), n);
  });

  test('a Job made by hand from the CronJob is reported, not adopted; a missing active Job is dropped', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob());
    await env.refresh();
    const cj = await env.client.get(Resources.cronjobs, 'default', 'cj');
    await env.client.create(Resources.jobs, 'default', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'manual',
        annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: cj.metadata!.uid!, controller: true }],
      },
      spec: { template: { spec: { restartPolicy: 'Never', containers: testContainers } } },
    });
    cj.status = { active: [{ kind: 'Job', namespace: 'default', name: 'gone', uid: 'u-gone', apiVersion: 'batch/v1' }] };
    await env.client.update(Resources.cronjobs, 'default', cj, { subresource: 'status' });
    const after = await step();
    assert.equal(after?.status?.active, undefined);
    const events = await env.events();
    assert.ok(events.includes('Warning UnexpectedJob Saw a job that the controller did not create or forgot: manual'));
    assert.ok(events.includes('Normal MissingJob Active job went missing: gone'));
  });

  test('time zones: the schedule runs on the zone wall clock and the annotation carries the offset', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob({ schedule: '0 13 * * *', timeZone: 'Europe/Paris' }));
    // Created at 12:00:30 UTC = 13:00:30 in Paris: today's run is just past, the next is tomorrow 12:00 UTC.
    await step();
    assert.equal(ctrl.requeue.requested.get('default/cj'), 24 * 3600_000 - 30_000 + 100);
    assert.equal((await jobs()).length, 0);
    env.now = new Date('2025-03-02T12:00:00.100Z');
    await step();
    const [job] = await jobs();
    assert.equal(job.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2025-03-02T13:00:00+01:00');
  });

  test('too many missed runs warn, and only the most recent one starts', async () => {
    await env.client.create(Resources.cronjobs, 'default', cronJob({ schedule: '* * * * *' }));
    env.advance(3 * 3600_000);
    await step();
    const names = (await jobs()).map((j) => j.metadata?.name);
    assert.deepEqual(names, [jobNameFor({ metadata: { name: 'cj' } }, Date.parse('2025-03-01T15:00:00Z'))]);
    assert.ok((await env.events()).includes('Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew'));
  });
});

describe('schedule arithmetic', () => {
  test('mostRecentScheduleTime finds the latest activation and counts misses', () => {
    const s = parseCronSchedule('*/10 * * * *');
    const cj = { metadata: { creationTimestamp: '2025-03-01T12:00:00Z' }, spec: {} };
    const r = mostRecentScheduleTime(cj, Date.parse('2025-03-01T12:35:00Z'), s, true);
    assert.equal(new Date(r.mostRecent!).toISOString(), '2025-03-01T12:30:00.000Z');
    assert.equal(r.missed, 'few');
    const none = mostRecentScheduleTime(cj, Date.parse('2025-03-01T12:05:00Z'), s, true);
    assert.equal(none.mostRecent, undefined);
  });

  test('time formats match Go', () => {
    assert.equal(rfc1123z(Date.parse('2025-03-01T12:05:00Z')), 'Sat, 01 Mar 2025 12:05:00 +0000');
    assert.equal(rfc3339InZone(Date.parse('2025-07-01T12:00:00Z'), 'America/New_York'), '2025-07-01T08:00:00-04:00');
    assert.equal(rfc3339InZone(Date.parse('2025-07-01T12:00:00Z'), undefined), '2025-07-01T12:00:00Z');
  });
});
