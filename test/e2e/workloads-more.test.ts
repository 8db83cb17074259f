/**
 * @module End to end with the real kubectl and three hollow nodes: StatefulSets (ordered
 * creation, stable names and claims, scale down from the top), DaemonSets (one pod per
 * node), Jobs (completion, backoffLimit, ttlSecondsAfterFinished) and CronJobs
 * (suspend/resume, `kubectl create job --from=cronjob/…`). Hollow pods become Running and
 * Ready and never finish on their own, so the Job tests mark pods Succeeded or Failed
 * themselves with `kubectl patch pod --subresource=status`, as a finishing container's
 * kubelet would report it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually } from './harness.js';

const statefulSet = `apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: None
  selector:
    app: nginx
  ports:
  - port: 80
    name: web
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
          name: web
`;

const parallelWithClaims = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 2
  podManagementPolicy: Parallel
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
      - name: db
        image: postgres:16
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
`;

const daemonSet = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
    spec:
      containers:
      - name: agent
        image: busybox:1.36
        command: [sleep, "3600"]
`;

const job = (name: string, extra = '') => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
${extra}  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        command: [sh, -c, "exit 0"]
`;

const cronJob = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "*/1 * * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: busybox:1.36
            command: [sh, -c, "date"]
`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

describe('statefulset, daemonset, job and cronjob controllers', () => {
  let c: Cluster;

  before(async () => {
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '3'], timeoutMs: 60_000 });
    await eventually(async () => (await c.k(['get', 'nodes', '--no-headers'])).split('\n').filter((l) => /\sReady\s/.test(l)).length === 3, {
      timeoutMs: 60_000,
      what: 'three Ready hollow nodes',
    });
  });

  after(async () => {
    await c?.stop();
  });

  async function getJson(args: string[]): Promise<Obj> {
    return JSON.parse(await c.k([...args, '-o', 'json']));
  }

  async function podsOf(selector: string): Promise<Obj[]> {
    return (await getJson(['get', 'pods', '-l', selector])).items;
  }

  /** What a kubelet reports when the pod's only container exits: the pod is finished. */
  async function finishPod(name: string, phase: 'Succeeded' | 'Failed'): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const exitCode = phase === 'Succeeded' ? 0 : 1;
    const status = {
      phase,
      conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: now }],
      containerStatuses: [
        {
          name: 'main',
          image: 'busybox:1.36',
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { terminated: { exitCode, reason: phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: now, finishedAt: now } },
        },
      ],
    };
    await c.k(['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  }

  test('StatefulSet: web-0, web-1, web-2 are created in order, each after its predecessor is Ready', async () => {
    await c.k(['apply', '-f', c.writeFile('web.yaml', statefulSet)]);
    await eventually(async () => (await c.k(['get', 'sts', 'web', '-o', 'jsonpath={.status.readyReplicas}'])) === '3', { timeoutMs: 90_000, what: 'web 3/3 ready' });
    const pods = await podsOf('app=nginx');
    const byName = new Map(pods.map((p) => [p.metadata.name, p]));
    assert.deepEqual([...byName.keys()].sort(), ['web-0', 'web-1', 'web-2']);
    for (const i of [0, 1, 2]) {
      const p = byName.get(`web-${i}`)!;
      assert.equal(p.spec.hostname, `web-${i}`);
      assert.equal(p.spec.subdomain, 'nginx');
      assert.equal(p.metadata.labels['statefulset.kubernetes.io/pod-name'], `web-${i}`);
      assert.equal(p.metadata.labels['apps.kubernetes.io/pod-index'], String(i));
      assert.match(p.metadata.labels['controller-revision-hash'], /^web-[a-z0-9]+$/);
    }
    // OrderedReady: web-(i+1) was created no earlier than web-i became Ready.
    for (const i of [0, 1]) {
      const readyAt = Date.parse(byName.get(`web-${i}`)!.status.conditions.find((x: Obj) => x.type === 'Ready').lastTransitionTime);
      const nextCreated = Date.parse(byName.get(`web-${i + 1}`)!.metadata.creationTimestamp);
      assert.ok(nextCreated >= readyAt, `web-${i + 1} created at ${nextCreated}, web-${i} Ready at ${readyAt}`);
    }
    const table = await c.k(['get', 'sts', 'web']);
    assert.match(table, /^NAME\s+READY\s+AGE\nweb\s+3\/3\s+\d+s/m);
    const status = (await getJson(['get', 'sts', 'web'])).status;
    assert.equal(status.currentRevision, status.updateRevision);
    assert.equal(status.updatedReplicas, 3);
    assert.equal(status.availableReplicas, 3);
    const describe = await c.k(['describe', 'sts', 'web']);
    assert.match(describe, /SuccessfulCreate\s+.*create Pod web-0 in StatefulSet web successful/);
    assert.match(describe, /SuccessfulCreate\s+.*create Pod web-2 in StatefulSet web successful/);
  });

  test('StatefulSet: scaling down removes the highest ordinals', async () => {
    await c.k(['scale', 'sts', 'web', '--replicas=1']);
    await eventually(async () => (await podsOf('app=nginx')).map((p) => p.metadata.name).join() === 'web-0', { timeoutMs: 60_000, what: 'only web-0 left' });
    await eventually(async () => (await c.k(['get', 'sts', 'web', '-o', 'jsonpath={.status.replicas}'])) === '1', { timeoutMs: 30_000 });
    const describe = await c.k(['describe', 'sts', 'web']);
    assert.match(describe, /SuccessfulDelete\s+.*delete Pod web-2 in StatefulSet web successful/);
    assert.match(describe, /SuccessfulDelete\s+.*delete Pod web-1 in StatefulSet web successful/);
  });

  test('StatefulSet: Parallel creates every member at once, each with its own claim', async () => {
    await c.k(['apply', '-f', c.writeFile('db.yaml', parallelWithClaims)]);
    await eventually(async () => (await podsOf('app=db')).length === 2, { timeoutMs: 30_000, what: 'db-0 and db-1' });
    const claims = (await getJson(['get', 'pvc'])).items.map((p: Obj) => p.metadata.name).sort();
    assert.deepEqual(claims, ['data-db-0', 'data-db-1']);
    const pod = (await getJson(['get', 'pod', 'db-1']));
    assert.deepEqual(pod.spec.volumes.find((v: Obj) => v.name === 'data').persistentVolumeClaim, { claimName: 'data-db-1' });
    await c.k(['delete', 'sts', 'db']);
    // Claims outlive their StatefulSet (persistentVolumeClaimRetentionPolicy Retain).
    const left = (await getJson(['get', 'pvc'])).items.map((p: Obj) => p.metadata.name).sort();
    assert.deepEqual(left, ['data-db-0', 'data-db-1']);
  });

  test('DaemonSet: one pod on each of the three nodes', async () => {
    await c.k(['apply', '-f', c.writeFile('agent.yaml', daemonSet)]);
    await eventually(async () => (await c.k(['get', 'ds', 'agent', '-o', 'jsonpath={.status.numberReady}'])) === '3', { timeoutMs: 60_000, what: 'agent ready on 3 nodes' });
    const pods = await podsOf('app=agent');
    assert.equal(pods.length, 3);
    assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), ['hollow-node-0', 'hollow-node-1', 'hollow-node-2']);
    for (const p of pods) {
      const term = p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
      assert.deepEqual(term.matchFields, [{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }]);
      assert.ok(p.spec.tolerations.some((t: Obj) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule'));
    }
    const table = await c.k(['get', 'ds', 'agent']);
    assert.match(table, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagent\s+3\s+3\s+3\s+3\s+3\s+<none>\s+\d+s/m);
  });

  test('DaemonSet: a deleted daemon pod is replaced on the same node', async () => {
    const [victim] = await podsOf('app=agent');
    await c.k(['delete', 'pod', victim.metadata.name, '--wait=false']);
    await eventually(
      async () => {
        const pods = (await podsOf('app=agent')).filter((p) => !p.metadata.deletionTimestamp);
        return pods.length === 3 && pods.some((p) => p.spec.nodeName === victim.spec.nodeName && p.metadata.name !== victim.metadata.name);
      },
      { timeoutMs: 60_000, what: 'replacement daemon pod' },
    );
  });

  test('Job: completes once its pod succeeds', async () => {
    await c.k(['apply', '-f', c.writeFile('pi.yaml', job('pi'))]);
    const pod = await eventually(async () => (await podsOf('batch.kubernetes.io/job-name=pi'))[0], { timeoutMs: 30_000, what: 'the Job pod' });
    assert.deepEqual(pod.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
    await eventually(async () => (await c.k(['get', 'job', 'pi', '-o', 'jsonpath={.status.active}'])) === '1', { timeoutMs: 30_000 });
    await finishPod(pod.metadata.name, 'Succeeded');
    await eventually(async () => (await c.k(['get', 'job', 'pi', '-o', 'jsonpath={.status.succeeded}'])) === '1', { timeoutMs: 30_000, what: 'succeeded 1' });
    await eventually(async () => /^pi\s+Complete\s+1\/1\s+\S+\s+\d+s/m.test(await c.k(['get', 'job', 'pi'])), { timeoutMs: 30_000, what: 'pi Complete 1/1' });
    const j = await getJson(['get', 'job', 'pi']);
    assert.deepEqual(
      j.status.conditions.map((x: Obj) => [x.type, x.status, x.reason]),
      [
        ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
        ['Complete', 'True', 'CompletionsReached'],
      ],
    );
    assert.ok(j.status.completionTime);
    assert.deepEqual(j.status.uncountedTerminatedPods, {});
    const finished = await getJson(['get', 'pod', pod.metadata.name]);
    assert.equal(finished.metadata.finalizers, undefined, 'the tracking finalizer is removed once counted');
    const describe = await c.k(['describe', 'job', 'pi']);
    assert.match(describe, new RegExp(`SuccessfulCreate\\s+.*Created pod: ${pod.metadata.name}`));
    assert.match(describe, /Completed\s+.*Job completed/);
  });

  test('Job: a failed pod beyond backoffLimit fails the Job', async () => {
    await c.k(['apply', '-f', c.writeFile('fail.yaml', job('fail', '  backoffLimit: 0\n'))]);
    const pod = await eventually(async () => (await podsOf('batch.kubernetes.io/job-name=fail'))[0], { timeoutMs: 30_000, what: 'the Job pod' });
    await eventually(async () => (await c.k(['get', 'pod', pod.metadata.name, '-o', 'jsonpath={.status.phase}'])) === 'Running', { timeoutMs: 30_000 });
    await finishPod(pod.metadata.name, 'Failed');
    await eventually(async () => /^fail\s+Failed\s+0\/1/m.test(await c.k(['get', 'job', 'fail'])), { timeoutMs: 30_000, what: 'fail Failed' });
    const j = await getJson(['get', 'job', 'fail']);
    const failed = j.status.conditions.find((x: Obj) => x.type === 'Failed');
    assert.equal(failed.reason, 'BackoffLimitExceeded');
    assert.equal(failed.message, 'Job has reached the specified backoff limit');
    assert.equal(j.status.failed, 1);
    assert.match(await c.k(['describe', 'job', 'fail']), /BackoffLimitExceeded\s+.*Job has reached the specified backoff limit/);
  });

  test('Job: ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
    await c.k(['apply', '-f', c.writeFile('ttl.yaml', job('ttl', '  ttlSecondsAfterFinished: 1\n'))]);
    const pod = await eventually(async () => (await podsOf('batch.kubernetes.io/job-name=ttl'))[0], { timeoutMs: 30_000, what: 'the Job pod' });
    await finishPod(pod.metadata.name, 'Succeeded');
    await eventually(async () => (await c.kubectl(['get', 'job', 'ttl'])).stderr.includes('NotFound'), { timeoutMs: 60_000, what: 'the Job deleted after its TTL' });
    await eventually(async () => (await podsOf('batch.kubernetes.io/job-name=ttl')).length === 0, { timeoutMs: 60_000, what: 'its pod deleted' });
  });

  test('Job: suspend removes running pods, resume recreates them', async () => {
    await c.k(['apply', '-f', c.writeFile('sus.yaml', job('sus', '  parallelism: 2\n  completions: 2\n'))]);
    await eventually(async () => (await podsOf('batch.kubernetes.io/job-name=sus')).length === 2, { timeoutMs: 30_000 });
    await c.k(['patch', 'job', 'sus', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await eventually(async () => /^sus\s+Suspended\s/m.test(await c.k(['get', 'job', 'sus'])), { timeoutMs: 30_000, what: 'sus Suspended' });
    await eventually(async () => (await podsOf('batch.kubernetes.io/job-name=sus')).length === 0, { timeoutMs: 60_000, what: 'pods removed' });
    await c.k(['patch', 'job', 'sus', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    await eventually(async () => (await podsOf('batch.kubernetes.io/job-name=sus')).length === 2, { timeoutMs: 30_000, what: 'pods back' });
    const describe = await c.k(['describe', 'job', 'sus']);
    assert.match(describe, /Suspended\s+.*Job suspended/);
    assert.match(describe, /Resumed\s+.*Job resumed/);
  });

  test('CronJob: suspend and resume; kubectl create job --from=cronjob', async () => {
    await c.k(['apply', '-f', c.writeFile('report.yaml', cronJob)]);
    assert.match(await c.k(['get', 'cronjob', 'report']), /^report\s+\*\/1 \* \* \* \*\s+<none>\s+True\s+0\s+<none>\s+\d+s/m);
    const out = await c.k(['create', 'job', 'report-manual', '--from=cronjob/report']);
    assert.match(out, /job.batch\/report-manual created/);
    const j = await getJson(['get', 'job', 'report-manual']);
    assert.equal(j.metadata.ownerReferences[0].kind, 'CronJob');
    assert.equal(j.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
    await eventually(async () => (await podsOf('batch.kubernetes.io/job-name=report-manual')).length === 1, { timeoutMs: 30_000, what: 'the manual run pod' });
    // The controller did not start it: kube reports such a Job as unexpected and leaves it out of status.active.
    await eventually(async () => /UnexpectedJob\s+.*Saw a job that the controller did not create or forgot: report-manual/.test(await c.k(['describe', 'cronjob', 'report'])), {
      timeoutMs: 30_000,
      what: 'UnexpectedJob event',
    });
    await c.k(['patch', 'cronjob', 'report', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    assert.match(await c.k(['get', 'cronjob', 'report']), /^report\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+/m);
    await c.k(['patch', 'cronjob', 'report', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    assert.match(await c.k(['get', 'cronjob', 'report']), /^report\s+\*\/1 \* \* \* \*\s+<none>\s+True\s+/m);
  });
});
