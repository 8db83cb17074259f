/**
 * @module End to end: the controller manager's work queues and the scheduler report on the
 * server's /metrics with kube's metric names once they have done some work.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';

let c: Cluster;
before(async () => {
  c = await Cluster.start({ extraArgs: ['--hollow-nodes', '2'] });
});
after(async () => {
  await c?.stop();
});

test('workqueue_* and scheduler_* metrics count the work of a rollout', async () => {
  await c.k(['create', 'deployment', 'm', '--image=nginx', '--replicas=2']);
  await c.k(['rollout', 'status', 'deploy/m', '--timeout=30s']);
  const text = await c.k(['get', '--raw', '/metrics']);
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  assert.match(text, /^# TYPE workqueue_adds_total counter$/m);
  assert.ok(value(/^workqueue_adds_total\{name="replicaset"\} (\d+)$/m) >= 1, 'the replicaset queue saw adds');
  assert.ok(value(/^workqueue_adds_total\{name="deployment"\} (\d+)$/m) >= 1, 'the deployment queue saw adds');
  assert.match(text, /^workqueue_depth\{name="replicaset"\} \d+$/m);
  assert.equal(value(/^scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} (\d+)$/m), 2);
  assert.match(text, /^# TYPE scheduler_scheduling_attempt_duration_seconds histogram$/m);
  assert.match(text, /^scheduler_scheduling_attempt_duration_seconds_bucket\{result="scheduled",profile="default-scheduler",le="\+Inf"\} 2$/m);
  assert.match(text, /^scheduler_pending_pods\{queue="active"\} 0$/m);
});
