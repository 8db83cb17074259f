/**
 * @module Deployment controller decisions, run with the ReplicaSet controller against the
 * real REST pipeline and a simulated kubelet: first rollout, rolling updates within
 * maxSurge/maxUnavailable, Recreate order, rollback, pause, history cleanup,
 * proportional scaling, the progress deadline, adoption and annotations.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { newReplicaSetController, type ReplicaSetController } from '../replicaset/controller.js';
import { ControllerTestEnv, deployment } from '../common/test-env.js';
import { newDeploymentController, type DeploymentController } from './controller.js';
import { controllerFactory } from './index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

describe('Deployment controller', () => {
  let env: ControllerTestEnv;
  let dc: DeploymentController;
  let rsc: ReplicaSetController;

  beforeEach(async () => {
    env = await ControllerTestEnv.create();
    dc = newDeploymentController(env.ctx);
    rsc = newReplicaSetController(env.ctx);
  });
  afterEach(async () => {
    await env.close();
  });

  const controllers = () => [
    { c: dc, informer: dc.deploymentInformer },
    { c: rsc, informer: rsc.rsInformer },
  ];
  /** The kubelet of these tests: every pod runs and becomes ready; graceful deletions finish. */
  const kubelet = async () => {
    await env.runPods();
    await env.finishDeletions();
  };
  const settle = (between: () => Promise<void> = kubelet, afterRound?: () => Promise<void>) => env.settle(controllers(), { between, afterRound });
  const rsList = async (): Promise<Loose[]> => ((await env.list(Resources.replicasets)) as Loose[]).sort((a, b) => Number(a.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) - Number(b.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0));
  const getD = async (): Promise<Loose> => (await env.get(Resources.deployments, 'web'))!;
  const setImage = (image: string) =>
    env.client.patch(Resources.deployments, 'default', 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } });
  const activePods = async () => (await env.list(Resources.pods)).filter((p) => !p.metadata?.deletionTimestamp);
  const sizes = async () => (await rsList()).map((r) => `${r.spec.template.spec.containers[0].image}=${r.spec.replicas}`);

  test('the factory builds a controller named deployment', () => {
    assert.equal(controllerFactory(env.ctx).name, 'deployment');
  });

  test('first rollout: a hashed ReplicaSet with revision 1, pods, complete status and events', async () => {
    const created = await env.client.create(Resources.deployments, 'default', deployment('web', 3));
    await settle();
    const [rs] = await rsList();
    assert.equal((await rsList()).length, 1);
    const hash = rs.metadata.labels['pod-template-hash'];
    assert.match(hash, /^[4-9bcdf]+$/);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.deepEqual(rs.spec.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
    assert.deepEqual(rs.spec.template.metadata.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: created.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(rs.metadata.annotations['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs.metadata.annotations['deployment.kubernetes.io/max-replicas'], '4');
    const pods = await env.list(Resources.pods);
    assert.equal(pods.length, 3);
    for (const p of pods) assert.equal(p.metadata!.labels!['pod-template-hash'], hash);

    const d = await getD();
    const { conditions, ...counts } = d.status;
    assert.deepEqual(counts, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    const byType = Object.fromEntries(conditions.map((c: KObject) => [c.type, c]));
    assert.equal(byType.Available.status, 'True');
    assert.equal(byType.Available.reason, 'MinimumReplicasAvailable');
    assert.equal(byType.Available.message, 'Deployment has minimum availability.');
    assert.equal(byType.Progressing.status, 'True');
    assert.equal(byType.Progressing.reason, 'NewReplicaSetAvailable');
    assert.equal(byType.Progressing.message, `ReplicaSet "${rs.metadata.name}" has successfully progressed.`);
    const events = await env.objectEvents();
    assert.ok(events.includes(`Deployment/web Normal ScalingReplicaSet Scaled up replica set ${rs.metadata.name} from 0 to 3`), events.join('\n'));
  });

  test('rolling update: steps never exceed replicas + maxSurge nor drop below replicas - maxUnavailable ready', async () => {
    await env.client.create(Resources.deployments, 'default', deployment('web', 4, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    await settle();
    const [oldRS] = await rsList();
    await setImage('nginx:1.26');
    const seen: string[] = [];
    const rounds = await settle(kubelet, async () => {
      const rss = await rsList();
      const total = rss.reduce((n, r) => n + r.spec.replicas, 0);
      assert.ok(total <= 5, `spec replicas ${total} > replicas + maxSurge`);
      const pods = await activePods();
      assert.ok(pods.length <= 5, `${pods.length} pods > replicas + maxSurge`);
      const ready = pods.filter((p) => p.status?.conditions?.some((c: KObject) => c.type === 'Ready' && c.status === 'True')).length;
      assert.ok(ready >= 3, `${ready} ready < replicas - maxUnavailable`);
      seen.push((await sizes()).join(' '));
    });
    assert.ok(rounds > 2, 'the rollout took several steps');
    assert.ok(seen.some((s) => /1\.25=[1-3] nginx:1\.26=[1-4]/.test(s)), `a mixed step was observed: ${seen.join(' | ')}`);
    const [first, second] = await rsList();
    assert.equal(first.metadata.name, oldRS.metadata.name);
    assert.equal(first.spec.replicas, 0);
    assert.equal(second.spec.replicas, 4);
    assert.equal(second.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    const d = await getD();
    assert.equal(d.status.updatedReplicas, 4);
    assert.equal(d.status.replicas, 4);
    assert.equal(d.status.availableReplicas, 4);
    const events = await env.objectEvents();
    assert.ok(events.includes(`Deployment/web Normal ScalingReplicaSet Scaled up replica set ${second.metadata.name} from 0 to 1`), events.join('\n'));
    assert.ok(events.includes(`Deployment/web Normal ScalingReplicaSet Scaled down replica set ${first.metadata.name} from 4 to 3`), events.join('\n'));
    assert.ok(events.includes(`Deployment/web Normal ScalingReplicaSet Scaled down replica set ${first.metadata.name} from 1 to 0`), events.join('\n'));
  });

  test('Recreate: old ReplicaSets go to zero, and the new one is created only once their pods are gone', async () => {
    await env.client.create(Resources.deployments, 'default', deployment('web', 2, { strategy: { type: 'Recreate' } }));
    await settle();
    await setImage('nginx:1.26');
    await env.refresh();
    await dc.sync('default/web');
    assert.deepEqual(await sizes(), ['nginx:1.25=0']);
    const oldKey = `default/${(await rsList())[0].metadata.name}`;
    await env.refresh();
    await rsc.sync(oldKey);
    assert.equal((await env.list(Resources.pods)).filter((p) => p.metadata?.deletionTimestamp).length, 2, 'old pods terminate gracefully');
    await env.refresh();
    await rsc.sync(oldKey);
    assert.equal((await rsList())[0].status.replicas, 0, 'terminating pods no longer count for the ReplicaSet');
    await env.refresh();
    await dc.sync('default/web');
    assert.equal((await rsList()).length, 1, 'no new ReplicaSet while old pods still exist');
    await env.finishDeletions();
    await env.refresh();
    await dc.sync('default/web');
    assert.deepEqual(await sizes(), ['nginx:1.25=0', 'nginx:1.26=2']);
    await settle();
    const events = (await env.objectEvents()).filter((e) => e.includes('ScalingReplicaSet'));
    const [oldRS, newRS] = await rsList();
    assert.deepEqual(events, [
      `Deployment/web Normal ScalingReplicaSet Scaled up replica set ${oldRS.metadata.name} from 0 to 2`,
      `Deployment/web Normal ScalingReplicaSet Scaled down replica set ${oldRS.metadata.name} from 2 to 0`,
      `Deployment/web Normal ScalingReplicaSet Scaled up replica set ${newRS.metadata.name} from 0 to 2`,
    ]);
    assert.equal((await getD()).status.updatedReplicas, 2);
  });

  test('rollback (as kubectl rollout undo patches it): the old ReplicaSet is reused and moves up to revision 3', async () => {
    await env.client.create(Resources.deployments, 'default', deployment('web', 2));
    await settle();
    await setImage('nginx:1.26');
    await settle();
    const [v1] = await rsList();
    const template = structuredClone(v1.spec.template);
    delete template.metadata.labels['pod-template-hash'];
    await env.client.patch(Resources.deployments, 'default', 'web', 'json', [{ op: 'replace', path: '/spec/template', value: template }]);
    await settle();
    const rss = await rsList();
    assert.equal(rss.length, 2);
    const [v2, back] = rss;
    assert.equal(back.metadata.name, v1.metadata.name);
    assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(back.spec.replicas, 2);
    assert.equal(v2.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    assert.equal(v2.spec.replicas, 0);
  });

  test('rollback through the deprecated rollback annotation restores the template and clears it', async () => {
    await env.client.create(Resources.deployments, 'default', deployment('web', 1));
    await settle();
    await setImage('nginx:1.26');
    await settle();
    await env.client.patch(Resources.deployments, 'default', 'web', 'merge', { metadata: { annotations: { 'deprecated.deployment.rollback.to': '1' } } });
    await settle();
    const d = await getD();
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.25');
    assert.equal(d.metadata.annotations?.['deprecated.deployment.rollback.to'], undefined);
    assert.ok((await env.objectEvents()).includes('Deployment/web Normal DeploymentRollback Rolled back deployment "web" to revision 1'));
    assert.deepEqual(await sizes(), ['nginx:1.26=0', 'nginx:1.25=1']);
  });

  test('paused: no rollout, scaling still applies; resume rolls out', async () => {
    await env.client.create(Resources.deployments, 'default', deployment('web', 2));
    await settle();
    await env.client.patch(Resources.deployments, 'default', 'web', 'merge', { spec: { paused: true } });
    await setImage('nginx:1.26');
    await settle();
    assert.deepEqual(await sizes(), ['nginx:1.25=2']);
    let progressing = (await getD()).status.conditions.find((c: KObject) => c.type === 'Progressing');
    assert.deepEqual([progressing.status, progressing.reason, progressing.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
    await env.client.patch(Resources.deployments, 'default', 'web', 'merge', { spec: { replicas: 3 } });
    await settle();
    assert.deepEqual(await sizes(), ['nginx:1.25=3']);
    await env.client.patch(Resources.deployments, 'default', 'web', 'merge', { spec: { paused: false } });
    await env.refresh();
    await dc.sync('default/web');
    progressing = (await getD()).status.conditions.find((c: KObject) => c.type === 'Progressing');
    assert.ok(['DeploymentResumed', 'NewReplicaSetCreated', 'ReplicaSetUpdated'].includes(progressing.reason), progressing.reason);
    await settle();
    assert.deepEqual(await sizes(), ['nginx:1.25=0', 'nginx:1.26=3']);
    progressing = (await getD()).status.conditions.find((c: KObject) => c.type === 'Progressing');
    assert.equal(progressing.reason, 'NewReplicaSetAvailable');
  });

  test('revisionHistoryLimit removes the oldest empty ReplicaSets', async () => {
    await env.client.create(Resources.deployments, 'default', deployment('web', 1, { revisionHistoryLimit: 1 }));
    await settle();
    for (const image of ['nginx:1.26', 'nginx:1.27', 'nginx:1.28']) {
      await setImage(image);
      await settle();
    }
    const rss = await rsList();
    assert.deepEqual(
      rss.map((r) => [r.spec.template.spec.containers[0].image, r.metadata.annotations['deployment.kubernetes.io/revision'], r.spec.replicas]),
      [
        ['nginx:1.27', '3', 0],
        ['nginx:1.28', '4', 1],
      ],
    );
  });

  test('proportional scaling mid-rollout: 10 → 15 adds 3 to the old and 2 to the new ReplicaSet', async () => {
    await env.client.create(Resources.deployments, 'default', deployment('web', 10, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
    await settle();
    await setImage('nginx:bad');
    // The new pods never become ready: the rollout stops at 8 old + 5 new.
    const stuck = async () => {
      await env.runPods({ ready: false, filter: (p) => p.spec.containers[0].image === 'nginx:bad' });
      await env.finishDeletions();
    };
    await settle(stuck);
    assert.deepEqual(await sizes(), ['nginx:1.25=8', 'nginx:bad=5']);
    await env.client.patch(Resources.deployments, 'default', 'web', 'merge', { spec: { replicas: 15 } });
    await settle(stuck);
    assert.deepEqual(await sizes(), ['nginx:1.25=11', 'nginx:bad=7']);
    const [oldRS, newRS] = await rsList();
    for (const r of [oldRS, newRS]) {
      assert.equal(r.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '15');
      assert.equal(r.metadata.annotations['deployment.kubernetes.io/max-replicas'], '18');
    }
    const events = await env.objectEvents();
    assert.ok(events.includes(`Deployment/web Normal ScalingReplicaSet Scaled up replica set ${oldRS.metadata.name} from 8 to 11`), events.join('\n'));
    assert.ok(events.includes(`Deployment/web Normal ScalingReplicaSet Scaled up replica set ${newRS.metadata.name} from 5 to 7`), events.join('\n'));
  });

  test('progress deadline: Progressing turns False with ProgressDeadlineExceeded', async () => {
    await env.client.create(Resources.deployments, 'default', deployment('web', 2, { progressDeadlineSeconds: 30 }));
    const notReady = () => env.runPods({ ready: false });
    await settle(notReady);
    let d = await getD();
    let progressing = d.status.conditions.find((c: KObject) => c.type === 'Progressing');
    assert.equal(progressing.status, 'True');
    const available = d.status.conditions.find((c: KObject) => c.type === 'Available');
    assert.deepEqual([available.status, available.reason], ['False', 'MinimumReplicasUnavailable']);
    assert.equal(d.status.unavailableReplicas, 2);
    env.advance(31_000);
    await settle(notReady);
    d = await getD();
    progressing = d.status.conditions.find((c: KObject) => c.type === 'Progressing');
    const [rs] = await rsList();
    assert.deepEqual([progressing.status, progressing.reason, progressing.message], ['False', 'ProgressDeadlineExceeded', `ReplicaSet "${rs.metadata.name}" has timed out progressing.`]);
  });

  test('kubernetes.io/change-cause is copied to the new ReplicaSet; last-applied is not', async () => {
    const d = deployment('web', 1);
    d.metadata!.annotations = { 'kubernetes.io/change-cause': 'first', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    await env.client.create(Resources.deployments, 'default', d);
    await settle();
    await env.client.patch(Resources.deployments, 'default', 'web', 'merge', {
      metadata: { annotations: { 'kubernetes.io/change-cause': 'kubectl set image deployment/web app=nginx:1.26' } },
      spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.26' }] } } },
    });
    await settle();
    const [first, second] = await rsList();
    assert.equal(first.metadata.annotations['kubernetes.io/change-cause'], 'first');
    assert.equal(second.metadata.annotations['kubernetes.io/change-cause'], 'kubectl set image deployment/web app=nginx:1.26');
    assert.equal(second.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  });

  test('adopts a matching orphan ReplicaSet instead of creating one', async () => {
    const d = deployment('web', 2);
    const labels = { app: 'web', 'pod-template-hash': 'manual' };
    await env.client.create(Resources.replicasets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-manual', labels },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: d.spec.template.spec } },
    });
    const created = await env.client.create(Resources.deployments, 'default', d);
    await settle();
    const rss = await rsList();
    assert.equal(rss.length, 1);
    assert.equal(rss[0].metadata.name, 'web-manual');
    assert.equal(rss[0].metadata.ownerReferences[0].uid, created.metadata!.uid);
    assert.equal(rss[0].metadata.annotations['deployment.kubernetes.io/revision'], '1');
    assert.equal((await getD()).status.availableReplicas, 2);
  });

  test('scale to zero and back, and a deleted Deployment is ignored', async () => {
    await env.client.create(Resources.deployments, 'default', deployment('web', 2));
    await settle();
    await env.client.patch(Resources.deployments, 'default', 'web', 'merge', { spec: { replicas: 0 } });
    await settle();
    assert.deepEqual(await sizes(), ['nginx:1.25=0']);
    assert.equal((await activePods()).length, 0);
    await env.client.patch(Resources.deployments, 'default', 'web', 'merge', { spec: { replicas: 1 } });
    await settle();
    assert.equal((await activePods()).length, 1);
    await env.client.delete(Resources.deployments, 'default', 'web');
    await env.refresh();
    await dc.sync('default/web');
  });

  test('run() drives a rollout through real informers and workers', async () => {
    const abort = new AbortController();
    const runs = [dc.run(abort.signal, 2), rsc.run(abort.signal, 2)];
    env.informers.start(abort.signal);
    try {
      await env.client.create(Resources.deployments, 'default', deployment('web', 2));
      const end = Date.now() + 5000;
      for (;;) {
        await env.runPods();
        const d = await getD();
        if (d.status?.availableReplicas === 2 && d.status?.conditions?.some((c: KObject) => c.reason === 'NewReplicaSetAvailable')) break;
        if (Date.now() > end) throw new Error(`rollout did not complete: ${JSON.stringify(d.status)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      abort.abort();
      await Promise.all(runs);
    }
  });
});
