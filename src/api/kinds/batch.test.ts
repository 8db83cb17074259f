import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../types.js';
import { cronJobDef } from './batch-cronjob.js';
import { controllerUidLabel, jobDef, jobNameLabel, legacyControllerUidLabel, legacyJobNameLabel } from './batch-job.js';
import { simulateCreate, simulateUpdate, testNow } from './strategy-test-util.js';

const uid = '0b9d0c4e-1111-2222-3333-444455556666';

function job(): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi' },
    spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }], restartPolicy: 'Never' } } },
  };
}

test('a new Job gets defaults, a generated selector and labels', () => {
  const { obj, errors } = simulateCreate(jobDef, job(), { uid });
  assert.deepEqual(errors, []);
  const spec = obj.spec;
  assert.equal(spec.completions, 1);
  assert.equal(spec.parallelism, 1);
  assert.equal(spec.backoffLimit, 6);
  assert.equal(spec.completionMode, 'NonIndexed');
  assert.equal(spec.suspend, false);
  assert.equal(spec.podReplacementPolicy, 'TerminatingOrFailed');
  assert.equal(spec.manualSelector, undefined);
  assert.deepEqual(spec.selector, { matchLabels: { [controllerUidLabel]: uid } });
  const want = { [legacyJobNameLabel]: 'pi', [jobNameLabel]: 'pi', [legacyControllerUidLabel]: uid, [controllerUidLabel]: uid };
  assert.deepEqual(spec.template.metadata.labels, want);
  assert.deepEqual(obj.metadata?.labels, want);
  assert.deepEqual(obj.status, {});
});

test('parallelism alone leaves completions unset', () => {
  const j = job();
  j.spec.parallelism = 3;
  const { obj } = simulateCreate(jobDef, j, { uid });
  assert.equal(obj.spec.completions, undefined);
  assert.equal(obj.spec.parallelism, 3);
  obj.status = { succeeded: 1 };
  assert.equal(jobDef.table!.cells(obj, testNow)[2], '1/1 of 3');
});

test('Job validation messages', () => {
  const noPolicy = job();
  delete noPolicy.spec.template.spec.restartPolicy;
  assert.deepEqual(simulateCreate(jobDef, noPolicy, { uid }).errors, ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);

  const ownSelector = job();
  ownSelector.spec.selector = { matchLabels: { a: 'b' } };
  ownSelector.spec.template.metadata = { labels: { a: 'b' } };
  assert.deepEqual(simulateCreate(jobDef, ownSelector, { uid }).errors, [
    `spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b", "${controllerUidLabel}":"${uid}"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: \`selector\` not auto-generated`,
  ]);

  const manual = job();
  manual.spec.manualSelector = true;
  manual.spec.selector = { matchLabels: { a: 'b' } };
  manual.spec.template.metadata = { labels: { a: 'c' } };
  assert.deepEqual(simulateCreate(jobDef, manual, { uid }).errors, [
    'spec.template.metadata.labels: Invalid value: map[string]string{"a":"c"}: `selector` does not match template `labels`',
  ]);

  const negative = job();
  negative.spec.backoffLimit = -1;
  assert.deepEqual(simulateCreate(jobDef, negative, { uid }).errors, ['spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0']);
});

test('Job updates keep the template and completions', () => {
  const { obj: old } = simulateCreate(jobDef, job(), { uid });
  assert.deepEqual(simulateUpdate(jobDef, old, structuredClone(old)).errors, []);
  const image = structuredClone(old);
  image.spec.template.spec.containers[0].image = 'perl:5.36';
  assert.deepEqual(simulateUpdate(jobDef, old, image).errors, ['spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable']);
  const completions = structuredClone(old);
  completions.spec.completions = 5;
  assert.deepEqual(simulateUpdate(jobDef, old, completions).errors, ['spec.completions: Invalid value: 5: field is immutable']);
  const suspendedOld = structuredClone(old);
  suspendedOld.spec.suspend = true;
  const moved = structuredClone(suspendedOld);
  moved.spec.template.spec.nodeSelector = { zone: 'a' };
  assert.deepEqual(simulateUpdate(jobDef, suspendedOld, moved).errors, []);
});

test('Job STATUS, COMPLETIONS, DURATION cells and field selector', () => {
  const { obj } = simulateCreate(jobDef, job(), { uid });
  obj.status = { startTime: '2025-01-01T11:59:00Z' };
  let cells = jobDef.table!.cells(obj, testNow);
  assert.deepEqual(cells.slice(0, 5), ['pi', 'Running', '0/1', '60s', '0s']);
  obj.status = { succeeded: 1, startTime: '2025-01-01T11:50:00Z', completionTime: '2025-01-01T11:50:12Z', conditions: [{ type: 'Complete', status: 'True' }] };
  cells = jobDef.table!.cells(obj, testNow);
  assert.deepEqual(cells.slice(0, 4), ['pi', 'Complete', '1/1', '12s']);
  assert.equal(cells[7], `${controllerUidLabel}=${uid}`);
  assert.equal(jobDef.fieldSelectors!['status.successful'](obj), '1');
  obj.status = { conditions: [{ type: 'Failed', status: 'True' }] };
  assert.equal(jobDef.table!.cells(obj, testNow)[1], 'Failed');
  obj.status = { conditions: [{ type: 'Suspended', status: 'True' }] };
  assert.equal(jobDef.table!.cells(obj, testNow)[1], 'Suspended');
});

function cronJob(): KObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello' },
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure' } } } } },
  };
}

test('a new CronJob gets its defaults', () => {
  const { obj, errors } = simulateCreate(cronJobDef, cronJob());
  assert.deepEqual(errors, []);
  assert.equal(obj.spec.concurrencyPolicy, 'Allow');
  assert.equal(obj.spec.suspend, false);
  assert.equal(obj.spec.successfulJobsHistoryLimit, 3);
  assert.equal(obj.spec.failedJobsHistoryLimit, 1);
  assert.equal(obj.spec.jobTemplate.metadata.creationTimestamp, null);
  assert.equal(obj.spec.jobTemplate.spec.backoffLimit, undefined);
  assert.equal(obj.spec.jobTemplate.spec.template.spec.containers[0].imagePullPolicy, 'Always');
});

test('CronJob validation messages', () => {
  const bad = cronJob();
  bad.spec.schedule = 'every minute';
  assert.deepEqual(simulateCreate(cronJobDef, bad).errors, ['spec.schedule: Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]']);
  const range = cronJob();
  range.spec.schedule = '70 * * * *';
  assert.deepEqual(simulateCreate(cronJobDef, range).errors, ['spec.schedule: Invalid value: "70 * * * *": end of range (70) above maximum (59): 70']);
  const tz = cronJob();
  tz.spec.schedule = 'TZ=UTC 0 * * * *';
  assert.deepEqual(simulateCreate(cronJobDef, tz).errors, ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']);
  const zone = cronJob();
  zone.spec.timeZone = 'Mars/Olympus';
  assert.deepEqual(simulateCreate(cronJobDef, zone).errors, ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']);
  const long = cronJob();
  long.metadata!.name = 'x'.repeat(53);
  assert.deepEqual(simulateCreate(cronJobDef, long).errors, [`metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`]);
  const policy = cronJob();
  policy.spec.concurrencyPolicy = 'Sometimes';
  policy.spec.jobTemplate.spec.template.spec.restartPolicy = 'Always';
  assert.deepEqual(simulateCreate(cronJobDef, policy).errors, [
    'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
  ]);
});

test('CronJob updates skip the create-only name limit but still check the schedule', () => {
  const { obj: old } = simulateCreate(cronJobDef, cronJob());
  old.metadata!.name = 'y'.repeat(60);
  const next = structuredClone(old);
  assert.deepEqual(simulateUpdate(cronJobDef, old, next).errors, []);
  next.spec.schedule = '* * *';
  assert.deepEqual(simulateUpdate(cronJobDef, old, next).errors, ['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]']);
});

test('CronJob table', () => {
  const { obj } = simulateCreate(cronJobDef, cronJob());
  assert.deepEqual(cronJobDef.table!.cells(obj, testNow), ['hello', '*/5 * * * *', '<none>', 'False', 0, '<none>', '0s', 'c', 'busybox', '<none>']);
  obj.spec.timeZone = 'Europe/Paris';
  obj.status = { active: [{ name: 'hello-1' }], lastScheduleTime: '2025-01-01T11:55:00Z' };
  assert.deepEqual(cronJobDef.table!.cells(obj, testNow).slice(2, 6), ['Europe/Paris', 'False', 1, '5m']);
  assert.deepEqual(
    cronJobDef.table!.columns.filter((c) => c.priority === 0).map((c) => c.name),
    ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age'],
  );
});
