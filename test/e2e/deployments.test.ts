/**
 * @module End to end with the real kubectl and three hollow nodes: Deployments and
 * ReplicaSets as kube-controller-manager runs them — `rollout status`, a deleted pod
 * replaced, a rolling update watched step by step within maxSurge/maxUnavailable,
 * `rollout history/undo/pause/resume/restart`, `scale`, the Recreate strategy, and the
 * events `describe deploy` shows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually } from './harness.js';

const web = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
  annotations:
    kubernetes.io/change-cause: initial
spec:
  replicas: 3
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: nginx:1.25
        ports:
        - containerPort: 80
`;

const batch = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: batch
spec:
  replicas: 2
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app: batch
  template:
    metadata:
      labels:
        app: batch
    spec:
      containers:
      - name: worker
        image: busybox:1.36
        command: ["sleep", "3600"]
`;

const slow = { timeoutMs: 90_000, intervalMs: 250 };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface RsView {
  name: string;
  image: string;
  desired: number;
  replicas: number;
  ready: number;
  revision: string;
}

describe('deployments and replicasets', () => {
  let c: Cluster;
  before(async () => {
    // Pods take a second to become ready, so a rollout lasts long enough to be watched step by step.
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '3', '--hollow-pod-startup-ms', '1000'] });
  });
  after(async () => {
    await c?.stop();
  });

  const replicaSets = async (app: string): Promise<RsView[]> => {
    const list = JSON.parse(await c.k(['get', 'rs', '-l', `app=${app}`, '-o', 'json']));
    return (list.items as Array<Record<string, Json>>)
      .map((rs) => ({
        name: rs.metadata.name as string,
        image: rs.spec.template.spec.containers[0].image as string,
        desired: rs.spec.replicas ?? 0,
        replicas: rs.status?.replicas ?? 0,
        ready: rs.status?.readyReplicas ?? 0,
        revision: rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '',
      }))
      .sort((a, b) => Number(a.revision) - Number(b.revision));
  };
  const livePods = async (app: string): Promise<string[]> => {
    const list = JSON.parse(await c.k(['get', 'pods', '-l', `app=${app}`, '-o', 'json']));
    return (list.items as Array<Record<string, Json>>).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name as string);
  };
  const rolledOut = async (name: string) => {
    const out = await c.k(['rollout', 'status', `deploy/${name}`, '--timeout=90s']);
    assert.match(out, new RegExp(`deployment "${name}" successfully rolled out`));
  };
  const history = async () => {
    const out = await c.k(['rollout', 'history', 'deploy/web']);
    return out
      .split('\n')
      .slice(2)
      .filter((l) => l.trim())
      .map((l) => l.trim().split(/\s{2,}/).join(' '));
  };

  test('a Deployment of 3 rolls out: rollout status succeeds and get deploy shows 3/3', async () => {
    const out = await c.k(['apply', '-f', c.writeFile('web.yaml', web)]);
    assert.match(out, /deployment.apps\/web created/);
    await rolledOut('web');
    const table = await c.k(['get', 'deploy', 'web']);
    assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/m);
    assert.match(table, /^web\s+3\/3\s+3\s+3\s+\d+s/m);
    const [rs] = await replicaSets('web');
    assert.match(rs.name, /^web-[4-9bcdf]+$/);
    assert.deepEqual([rs.desired, rs.replicas, rs.ready, rs.revision], [3, 3, 3, '1']);
    const rsTable = await c.k(['get', 'rs', '-l', 'app=web']);
    assert.match(rsTable, new RegExp(`^${rs.name}\\s+3\\s+3\\s+3\\s+\\d+s`, 'm'));
    const owner = await c.k(['get', 'rs', rs.name, '-o', 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].controller}']);
    assert.equal(owner, 'Deployment/web true');
    const pods = await livePods('web');
    assert.equal(pods.length, 3);
    for (const p of pods) assert.ok(p.startsWith(`${rs.name}-`), p);
  });

  test('kubectl delete pod: the ReplicaSet replaces it', async () => {
    const [victim] = await livePods('web');
    const t0 = Date.now();
    await c.k(['delete', 'pod', victim, '--wait=false']);
    const pods = await eventually(
      async () => {
        const now = await livePods('web');
        return now.length === 3 && !now.includes(victim) ? now : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'a replacement pod' },
    );
    assert.equal(pods.length, 3);
    assert.ok(Date.now() - t0 < 10_000);
    const events = await c.k(['get', 'events', '--field-selector', 'reason=SuccessfulDelete,involvedObject.kind=ReplicaSet', '-o', 'name']);
    assert.equal(events.trim(), '', 'the ReplicaSet did not delete anything itself');
    await rolledOut('web');
  });

  test('kubectl set image: a rolling update within maxSurge and maxUnavailable, step by step', async () => {
    await c.k(['set', 'image', 'deploy/web', 'app=nginx:1.26']);
    // The change-cause goes to the new ReplicaSet (the controller copies it to the current one);
    // it is set while polling already runs, so polling cannot miss the start of the rollout.
    const annotated = c.k(['annotate', 'deploy/web', 'kubernetes.io/change-cause=image 1.26', '--overwrite']);
    const states = new Set<string>();
    const status = c.k(['rollout', 'status', 'deploy/web', '--timeout=90s']);
    let done = false;
    status.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      const rss = await replicaSets('web');
      const desired = rss.reduce((n, r) => n + r.desired, 0);
      const ready = rss.reduce((n, r) => n + r.ready, 0);
      assert.ok(desired <= 4, `replicas + maxSurge exceeded: ${JSON.stringify(rss)}`);
      assert.ok(ready >= 2, `ready below replicas - maxUnavailable: ${JSON.stringify(rss)}`);
      states.add(rss.map((r) => `${r.image}:${r.desired}`).join(','));
    }
    assert.match(await status, /deployment "web" successfully rolled out/);
    await annotated;
    const rss = await replicaSets('web');
    assert.deepEqual(rss.map((r) => [r.image, r.desired, r.revision]), [
      ['nginx:1.25', 0, '1'],
      ['nginx:1.26', 3, '2'],
    ]);
    assert.ok(states.size >= 2, `intermediate states seen: ${[...states].join(' | ')}`);
  });

  test('rollout history lists revisions with CHANGE-CAUSE', async () => {
    const out = await c.k(['rollout', 'history', 'deploy/web']);
    assert.match(out, /^deployment.apps\/web\s*\nREVISION\s+CHANGE-CAUSE/m);
    assert.deepEqual(await history(), ['1 initial', '2 image 1.26']);
    const one = await c.k(['rollout', 'history', 'deploy/web', '--revision=1']);
    assert.match(one, /Image:\s+nginx:1\.25/);
  });

  test('rollout undo --to-revision=1 brings the first template back as revision 3', async () => {
    const out = await c.k(['rollout', 'undo', 'deploy/web', '--to-revision=1']);
    assert.match(out, /deployment.apps\/web rolled back/);
    await rolledOut('web');
    assert.equal(await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.25');
    assert.deepEqual(await history(), ['2 image 1.26', '3 initial']);
    const rss = await replicaSets('web');
    assert.equal(rss.length, 2, 'the old ReplicaSet was reused');
    assert.deepEqual(rss.map((r) => [r.image, r.desired]), [
      ['nginx:1.26', 0],
      ['nginx:1.25', 3],
    ]);
  });

  test('rollout pause holds back a template change; resume rolls it out', async () => {
    assert.match(await c.k(['rollout', 'pause', 'deploy/web']), /deployment.apps\/web paused/);
    await c.k(['set', 'image', 'deploy/web', 'app=nginx:1.27']);
    await eventually(async () => {
      const gen = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.generation} {.status.observedGeneration}']);
      const [g, o] = gen.split(' ');
      return g === o;
    }, { ...slow, what: 'the paused spec to be observed' });
    const progressing = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}']);
    assert.equal(progressing, 'DeploymentPaused');
    assert.ok(!(await replicaSets('web')).some((r) => r.image === 'nginx:1.27'), 'no rollout while paused');
    assert.match(await c.k(['rollout', 'resume', 'deploy/web']), /deployment.apps\/web resumed/);
    await rolledOut('web');
    const rss = await replicaSets('web');
    assert.deepEqual(rss.at(-1)?.image, 'nginx:1.27');
    assert.equal(rss.at(-1)?.desired, 3);
  });

  test('rollout restart rolls out new pods', async () => {
    const before = new Set(await livePods('web'));
    assert.match(await c.k(['rollout', 'restart', 'deploy/web']), /deployment.apps\/web restarted/);
    await rolledOut('web');
    const restartedAt = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}']);
    assert.match(restartedAt, /^\d{4}-\d{2}-\d{2}T/);
    const after = await eventually(async () => {
      const pods = await livePods('web');
      return pods.length === 3 ? pods : undefined;
    }, slow);
    for (const p of after) assert.ok(!before.has(p), `${p} survived the restart`);
  });

  test('scale --replicas=5, then 1', async () => {
    assert.match(await c.k(['scale', 'deploy/web', '--replicas=5']), /deployment.apps\/web scaled/);
    await rolledOut('web');
    assert.match(await c.k(['get', 'deploy', 'web']), /^web\s+5\/5\s+5\s+5\s/m);
    assert.equal((await livePods('web')).length, 5);
    await c.k(['scale', 'deploy/web', '--replicas=1']);
    await rolledOut('web');
    assert.match(await c.k(['get', 'deploy', 'web']), /^web\s+1\/1\s+1\s+1\s/m);
    await eventually(async () => (await livePods('web')).length === 1, { ...slow, what: 'one pod left' });
  });

  test('Recreate: old pods are gone before new ones start', async () => {
    await c.k(['apply', '-f', c.writeFile('batch.yaml', batch)]);
    await rolledOut('batch');
    await c.k(['set', 'image', 'deploy/batch', 'worker=busybox:1.37']);
    const status = c.k(['rollout', 'status', 'deploy/batch', '--timeout=90s']);
    let done = false;
    status.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      // Terminating pods included: a new pod may only exist once every old one is gone.
      const pods = JSON.parse(await c.k(['get', 'pods', '-l', 'app=batch', '-o', 'json'])).items as Array<Record<string, Json>>;
      const images = new Set(pods.map((p) => p.spec.containers[0].image));
      assert.ok(images.size <= 1, `old and new pods at once: ${pods.map((p) => `${p.metadata.name}=${p.spec.containers[0].image}`).join(', ')}`);
    }
    assert.match(await status, /deployment "batch" successfully rolled out/);
    const rss = await replicaSets('batch');
    assert.deepEqual(rss.map((r) => [r.image, r.desired]), [
      ['busybox:1.36', 0],
      ['busybox:1.37', 2],
    ]);
  });

  test('describe deploy shows replica sets, conditions and the controller events', async () => {
    const out = await c.k(['describe', 'deploy', 'web']);
    assert.match(out, /^Name:\s+web$/m);
    assert.match(out, /^Replicas:\s+1 desired \| 1 updated \| 1 total \| 1 available \| 0 unavailable$/m);
    assert.match(out, /^StrategyType:\s+RollingUpdate$/m);
    assert.match(out, /^RollingUpdateStrategy:\s+1 max unavailable, 1 max surge$/m);
    assert.match(out, /^\s+Available\s+True\s+MinimumReplicasAvailable$/m);
    assert.match(out, /^\s+Progressing\s+True\s+NewReplicaSetAvailable$/m);
    assert.match(out, /^NewReplicaSet:\s+web-[4-9bcdf]+ \(1\/1 replicas created\)$/m);
    assert.match(out, /^Events:/m);
    assert.match(out, /Normal\s+ScalingReplicaSet\s+.*deployment-controller\s+Scaled up replica set web-[4-9bcdf]+ from 0 to 3/);
    assert.match(out, /Normal\s+ScalingReplicaSet\s+.*deployment-controller\s+Scaled down replica set web-[4-9bcdf]+ from 5 to 1/);
    const rs = (await replicaSets('web')).at(-1)!;
    const rsOut = await c.k(['describe', 'rs', rs.name]);
    assert.match(rsOut, /^Controlled By:\s+Deployment\/web$/m);
    assert.match(rsOut, /Normal\s+SuccessfulCreate\s+.*replicaset-controller\s+Created pod: /);
  });
});
