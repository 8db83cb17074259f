/**
 * @module End to end on one hollow node with the real kubectl: readiness probes taking a
 * pod out of Ready and out of its Service's endpoints, a liveness failure restarting the
 * container with kubelet's events in `kubectl describe pod` (both driven by the hollow
 * `hollow.skiff.dev/probe-fail` annotation, as hollow pods have nothing to probe), env
 * from a ConfigMap that does not exist yet (CreateContainerConfigError), and a configMap
 * volume materialized under the data dir that follows `kubectl apply` of the ConfigMap.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cluster, eventually } from './harness.js';

const web = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: app
    image: nginx:1.25
    ports:
    - name: http
      containerPort: 8080
    readinessProbe:
      httpGet:
        path: /ready
        port: http
      periodSeconds: 1
      failureThreshold: 1
`;

const flaky = `apiVersion: v1
kind: Pod
metadata:
  name: flaky
  annotations:
    hollow.skiff.dev/probe-fail: liveness
spec:
  containers:
  - name: app
    image: nginx:1.25
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
      periodSeconds: 1
      failureThreshold: 2
`;

const envPod = `apiVersion: v1
kind: Pod
metadata:
  name: needs-config
spec:
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo $(MODE); sleep 3600"]
    env:
    - name: MODE
      valueFrom:
        configMapKeyRef:
          name: app-settings
          key: mode
`;

const settings = (value: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  app.properties: |
    greeting=${value}
`;

const configured = `apiVersion: v1
kind: Pod
metadata:
  name: configured
spec:
  volumes:
  - name: conf
    configMap:
      name: app-config
  containers:
  - name: app
    image: nginx:1.25
    volumeMounts:
    - name: conf
      mountPath: /etc/app
`;

describe('probes, env and volumes on a hollow node', () => {
  let c: Cluster;

  before(async () => {
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '1', '--hollow-pod-startup-ms', '100'], timeoutMs: 60_000 });
  });

  after(async () => {
    await c?.stop();
  });

  const json = async (args: string[]) => JSON.parse(await c.k([...args, '-o', 'json']));
  const condition = (pod: { status?: { conditions?: Array<{ type: string; status: string }> } }, type: string) => pod.status?.conditions?.find((x) => x.type === type)?.status;

  test('a failing readiness probe takes the pod out of Ready and out of the Service endpoints', async () => {
    await c.k(['apply', '-f', c.writeFile('web.yaml', web)]);
    const pod = await eventually(
      async () => {
        const p = await json(['get', 'pod', 'web']);
        return condition(p, 'Ready') === 'True' && p;
      },
      { what: 'web Ready', timeoutMs: 20_000 },
    );
    const ip: string = pod.status.podIP;
    await eventually(async () => (await c.k(['get', 'endpoints', 'web', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).split(' ').includes(ip), { what: 'pod in the endpoints' });
    assert.match(await c.k(['get', 'pod', 'web']), /web\s+1\/1\s+Running/);

    await c.k(['annotate', 'pod', 'web', 'hollow.skiff.dev/probe-fail=readiness']);
    await eventually(async () => condition(await json(['get', 'pod', 'web']), 'Ready') === 'False', { what: 'web not Ready' });
    const p = await json(['get', 'pod', 'web']);
    assert.equal(condition(p, 'ContainersReady'), 'False');
    assert.equal(p.status.phase, 'Running');
    assert.match(await c.k(['get', 'pod', 'web']), /web\s+0\/1\s+Running/);
    await eventually(
      async () => {
        const ep = await json(['get', 'endpoints', 'web']);
        const ready = (ep.subsets ?? []).flatMap((s: { addresses?: Array<{ ip: string }> }) => s.addresses ?? []).map((a: { ip: string }) => a.ip);
        const notReady = (ep.subsets ?? []).flatMap((s: { notReadyAddresses?: Array<{ ip: string }> }) => s.notReadyAddresses ?? []).map((a: { ip: string }) => a.ip);
        return !ready.includes(ip) && notReady.includes(ip);
      },
      { what: 'pod moved to notReadyAddresses' },
    );
    const describe = await c.k(['describe', 'pod', 'web']);
    assert.match(describe, /Unhealthy\s+.*Readiness probe failed: HTTP probe failed with statuscode: 500/);

    await c.k(['annotate', 'pod', 'web', 'hollow.skiff.dev/probe-fail-']);
    await eventually(async () => condition(await json(['get', 'pod', 'web']), 'Ready') === 'True', { what: 'web Ready again' });
  });

  test('a failing liveness probe restarts the container, with kubelet\'s events in describe', async () => {
    await c.k(['apply', '-f', c.writeFile('flaky.yaml', flaky)]);
    await eventually(async () => (await json(['get', 'pod', 'flaky'])).status?.containerStatuses?.[0]?.restartCount >= 1, { what: 'a restart', timeoutMs: 20_000 });
    const describe = await c.k(['describe', 'pod', 'flaky']);
    assert.match(describe, /Unhealthy\s+.*Liveness probe failed: HTTP probe failed with statuscode: 500/);
    assert.match(describe, /Killing\s+.*Container app failed liveness probe, will be restarted/);
    assert.match(describe, /Last State:\s+Terminated/);
    assert.match(describe, /Restart Count:\s+[1-9]/);
    assert.match(describe, /Liveness:\s+http-get http:\/\/:8080\/healthz/);
  });

  test('env from a missing ConfigMap: CreateContainerConfigError until it is created', async () => {
    await c.k(['apply', '-f', c.writeFile('needs-config.yaml', envPod)]);
    await eventually(async () => /needs-config\s+0\/1\s+CreateContainerConfigError/.test(await c.k(['get', 'pod', 'needs-config'])), { what: 'CreateContainerConfigError', timeoutMs: 20_000 });
    const p = await json(['get', 'pod', 'needs-config']);
    assert.equal(p.status.containerStatuses[0].state.waiting.message, 'configmap "app-settings" not found');
    assert.match(await c.k(['describe', 'pod', 'needs-config']), /Failed\s+.*Error: configmap "app-settings" not found/);
    await c.k(['create', 'configmap', 'app-settings', '--from-literal=mode=fast']);
    await eventually(async () => /needs-config\s+1\/1\s+Running/.test(await c.k(['get', 'pod', 'needs-config'])), { what: 'Running once the ConfigMap exists', timeoutMs: 20_000 });
  });

  test('a configMap volume is written under the data dir and follows kubectl apply', async () => {
    await c.k(['apply', '-f', c.writeFile('settings-v1.yaml', settings('hello'))]);
    await c.k(['apply', '-f', c.writeFile('configured.yaml', configured)]);
    const pod = await eventually(
      async () => {
        const p = await json(['get', 'pod', 'configured']);
        return p.status?.phase === 'Running' && p;
      },
      { what: 'configured Running', timeoutMs: 20_000 },
    );
    const dir = join(c.dataDir, 'hollow-kubelet', 'pods', pod.metadata.uid, 'volumes', 'kubernetes.io~configmap', 'conf');
    const file = join(dir, 'app.properties');
    await eventually(() => existsSync(file), { what: 'the materialized file' });
    assert.equal(readFileSync(file, 'utf8'), 'greeting=hello\n');
    assert.equal(readlinkSync(file), '..data/app.properties', 'visible files point through the ..data symlink');
    const firstVersion = readlinkSync(join(dir, '..data'));

    await c.k(['apply', '-f', c.writeFile('settings-v2.yaml', settings('bonjour'))]);
    await eventually(() => readFileSync(file, 'utf8') === 'greeting=bonjour\n', { what: 'the file updated in place', timeoutMs: 20_000 });
    assert.notEqual(readlinkSync(join(dir, '..data')), firstVersion, 'the update swapped ..data to a new version');

    await c.k(['delete', 'pod', 'configured', '--wait=true']);
    await eventually(() => !existsSync(join(c.dataDir, 'hollow-kubelet', 'pods', pod.metadata.uid)), { what: 'volumes removed with the pod' });
  });
});
