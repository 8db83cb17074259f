/** @module ttl-after-finished-controller: finished Jobs are deleted (foreground) once their TTL passes, on a fake clock. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { ControllerTestEnv, testContainers } from '../common/test-env.js';
import { TtlAfterFinishedController } from './ttl-after-finished.js';

let env: ControllerTestEnv;
let ctrl: TtlAfterFinishedController;

beforeEach(async () => {
  env = await ControllerTestEnv.create();
  ctrl = new TtlAfterFinishedController(env.ctx);
});
afterEach(async () => {
  ctrl.requeue.stop();
  await env.close();
});

async function finishedJob(name: string, ttl: number | undefined, type = 'Complete'): Promise<void> {
  const spec: KObject = { template: { spec: { restartPolicy: 'Never', containers: testContainers } } };
  if (ttl !== undefined) spec.ttlSecondsAfterFinished = ttl;
  const j = await env.client.create(Resources.jobs, 'default', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec });
  const ts = '2025-03-01T12:00:00Z';
  j.status = { conditions: [{ type, status: 'True', lastProbeTime: ts, lastTransitionTime: ts, reason: 'X', message: 'x' }], startTime: ts };
  if (type === 'Complete') j.status.completionTime = ts;
  await env.client.update(Resources.jobs, 'default', j, { subresource: 'status' });
  await env.refresh();
}

describe('ttl-after-finished-controller', () => {
  test('waits for the TTL, then deletes the Job in the foreground', async () => {
    await finishedJob('pi', 100);
    env.advance(40_000);
    await ctrl.sync('default/pi');
    assert.equal(ctrl.requeue.requested.get('default/pi'), 60_000);
    let j = await env.get(Resources.jobs, 'pi');
    assert.equal(j?.metadata?.deletionTimestamp, undefined);

    env.advance(60_000);
    await ctrl.sync('default/pi');
    j = await env.get(Resources.jobs, 'pi');
    // Without a garbage collector the foreground finalizer keeps it visible, being deleted.
    assert.ok(j?.metadata?.deletionTimestamp);
    assert.deepEqual(j?.metadata?.finalizers, ['foregroundDeletion']);
  });

  test('failed Jobs expire too; Jobs without a TTL or unfinished are kept', async () => {
    await finishedJob('failed', 0, 'Failed');
    await finishedJob('keep', undefined);
    await env.client.create(Resources.jobs, 'default', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'running' },
      spec: { ttlSecondsAfterFinished: 0, template: { spec: { restartPolicy: 'Never', containers: testContainers } } },
    });
    await env.refresh();
    for (const k of ['failed', 'keep', 'running']) await ctrl.sync(`default/${k}`);
    assert.ok((await env.get(Resources.jobs, 'failed'))?.metadata?.deletionTimestamp);
    assert.equal((await env.get(Resources.jobs, 'keep'))?.metadata?.deletionTimestamp, undefined);
    assert.equal((await env.get(Resources.jobs, 'running'))?.metadata?.deletionTimestamp, undefined);
  });

  test('a TTL raised since the cache was filled is honoured from a fresh read', async () => {
    await finishedJob('pi', 10);
    await env.client.patch(Resources.jobs, 'default', 'pi', 'merge', { spec: { ttlSecondsAfterFinished: 3600 } });
    env.advance(20_000);
    await ctrl.sync('default/pi');
    assert.equal((await env.get(Resources.jobs, 'pi'))?.metadata?.deletionTimestamp, undefined);
    assert.equal(ctrl.requeue.requested.get('default/pi'), 3_580_000);
  });
});
