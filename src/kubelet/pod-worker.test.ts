/** @module The pod worker with env, volumes, probes and hooks wired in: one agent over the hollow runtime against a real in-process API server. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KObject } from '../api/types.js';
import { LoopbackClient } from '../apiserver/loopback.js';
import { startServer, type RunningServer } from '../apiserver/server.js';
import { EventRecorder, Resources } from '../client/index.js';
import { startNodeAgent, type NodeAgent } from './agent.js';
import { HollowRuntime } from './hollow/runtime.js';
import { defaultNodeLabels } from './node-status.js';
import { hollowProbeFailAnnotation } from './probes/index.js';
import type { ContainerConfig, ExecResult } from './runtime.js';
import { eventually as poll } from '../client/testing.js';

const eventually = <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15000) =>
  poll(fn, what, timeoutMs, 25);

/** The hollow runtime, remembering container configs and failing exec commands that mention "fail". */
class RecordingRuntime extends HollowRuntime {
  readonly configs: ContainerConfig[] = [];
  readonly execs: string[][] = [];
  override async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    this.configs.push(config);
    return super.createContainer(sandboxId, config);
  }
  override async execInContainer(id: string, cmd: string[], t: number): Promise<ExecResult> {
    this.execs.push(cmd);
    if (cmd.some((c) => c.includes('fail'))) return { exitCode: 1, output: 'hook failed' };
    return super.execInContainer(id, cmd, t);
  }
}

describe('pod worker: env, volumes, probes, hooks', () => {
  let dir: string;
  let server: RunningServer;
  let client: LoopbackClient;
  let runtime: RecordingRuntime;
  let running: { agent: NodeAgent; stop(): Promise<void> };
  const abort = new AbortController();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-podworker-'));
    server = await startServer({ dataDir: join(dir, 'store'), port: 0, log: () => {} });
    client = new LoopbackClient(server.rest, 'kubelet');
    runtime = new RecordingRuntime({ podCIDR: '10.42.7.0/24', podStartupMs: 5 });
    running = await startNodeAgent({
      client,
      runtime,
      rootDir: join(dir, 'kubelet'),
      facts: {
        name: 'n1',
        capacity: { cpu: '2', memory: '4Gi', pods: '20' },
        internalIP: '10.42.7.1',
        podCIDR: '10.42.7.0/24',
        labels: defaultNodeLabels('n1'),
        nodeInfo: { kubeletVersion: 'v1.32.0+skiff', containerRuntimeVersion: 'hollow://1.0', osImage: 'x', kernelVersion: 'x', operatingSystem: 'linux', architecture: 'amd64', machineID: 'm', systemUUID: 's', bootID: 'b' },
      },
      signal: abort.signal,
      recorder: new EventRecorder(client, { component: 'kubelet', host: 'n1' }),
      recordNodeEvents: false,
    });
  });

  after(async () => {
    await running.stop();
    abort.abort();
    runtime.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const getPod = (name: string) => client.get(Resources.pods, 'default', name);
  const events = async (name: string): Promise<string[]> =>
    (await client.list(Resources.events, 'default')).items.filter((e: KObject) => e.involvedObject?.name === name).map((e: KObject) => `${e.type} ${e.reason} ${e.message}`);
  const create = (name: string, spec: KObject, annotations: Record<string, string> = {}) =>
    client.create(Resources.pods, 'default', { metadata: { name, namespace: 'default', annotations }, spec: { nodeName: 'n1', ...spec } });

  test('a missing ConfigMap is CreateContainerConfigError until it appears; env then resolves with service links', async () => {
    await create('env', {
      containers: [
        {
          name: 'app',
          image: 'busybox',
          command: ['echo', '$(GREETING)'],
          env: [
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'greetings', key: 'hello' } } },
            { name: 'ME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
        },
      ],
    });
    const waiting = await eventually(async () => {
      const p = await getPod('env');
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' && w;
    }, 'CreateContainerConfigError');
    assert.equal(waiting.message, 'configmap "greetings" not found');
    await eventually(async () => (await events('env')).includes('Warning Failed Error: configmap "greetings" not found'), 'Failed event');
    await client.create(Resources.configmaps, 'default', { metadata: { name: 'greetings', namespace: 'default' }, data: { hello: 'hi there' } });
    await eventually(async () => (await getPod('env')).status?.phase === 'Running', 'Running after the ConfigMap appears', 5_000);
    const cfg = runtime.configs.find((c) => c.name === 'app' && c.labels['io.kubernetes.pod.name'] === 'env')!;
    const env = new Map(cfg.env!.map((e) => [e.name, e.value]));
    assert.equal(env.get('GREETING'), 'hi there');
    assert.equal(env.get('ME'), 'env');
    assert.match(env.get('IP')!, /^10\.42\.7\./);
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), (await client.get(Resources.services, 'default', 'kubernetes')).spec.clusterIP);
    assert.deepEqual(cfg.command, ['echo', 'hi there'], 'command expands with the final env');
  });

  test('a configMap volume is written under the root dir, follows updates, and goes with the pod', async () => {
    await client.create(Resources.configmaps, 'default', { metadata: { name: 'site', namespace: 'default' }, data: { 'index.html': 'v1' } });
    const pod = await create('vol', {
      volumes: [{ name: 'html', configMap: { name: 'site' } }, { name: 'cache', emptyDir: {} }],
      containers: [{ name: 'web', image: 'nginx', volumeMounts: [{ name: 'html', mountPath: '/usr/share/nginx/html' }, { name: 'cache', mountPath: '/cache' }] }],
    });
    const file = join(dir, 'kubelet', 'pods', pod.metadata!.uid!, 'volumes', 'kubernetes.io~configmap', 'html', 'index.html');
    await eventually(async () => (await getPod('vol')).status?.phase === 'Running', 'Running');
    assert.equal(readFileSync(file, 'utf8'), 'v1');
    const cfg = runtime.configs.find((c) => c.labels['io.kubernetes.pod.name'] === 'vol')!;
    assert.deepEqual(cfg.mounts, [
      { hostPath: join(dir, 'kubelet', 'pods', pod.metadata!.uid!, 'volumes', 'kubernetes.io~configmap', 'html'), containerPath: '/usr/share/nginx/html', readOnly: true },
      { hostPath: join(dir, 'kubelet', 'pods', pod.metadata!.uid!, 'volumes', 'kubernetes.io~empty-dir', 'cache'), containerPath: '/cache', readOnly: false },
    ]);
    await client.patch(Resources.configmaps, 'default', 'site', 'merge', { data: { 'index.html': 'v2' } });
    await eventually(async () => readFileSync(file, 'utf8') === 'v2', 'the file follows the ConfigMap', 5_000);
    await client.delete(Resources.pods, 'default', 'vol', { gracePeriodSeconds: 0 });
    await eventually(async () => !existsSync(join(dir, 'kubelet', 'pods', pod.metadata!.uid!)), 'the pod directory is removed');
  });

  test('an unbound claim keeps the pod in ContainerCreating with FailedMount', async () => {
    await create('claim', { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'nope' } }], containers: [{ name: 'c', image: 'x' }] });
    await eventually(async () => (await events('claim')).some((e) => e.startsWith('Warning FailedMount Unable to attach or mount volumes: unmounted volumes=[data]')), 'FailedMount');
    const p = await getPod('claim');
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.status.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
    assert.equal(runtime.configs.some((c) => c.labels['io.kubernetes.pod.name'] === 'claim'), false, 'no container was created');
  });

  test('readiness from probes drives Ready; the hollow annotation flips it', async () => {
    await create('ready', {
      containers: [{ name: 'app', image: 'x', readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 } }],
    });
    const ready = (p: KObject) => p.status?.conditions?.find((c: KObject) => c.type === 'Ready')?.status;
    await eventually(async () => ready(await getPod('ready')) === 'True', 'Ready');
    await client.patch(Resources.pods, 'default', 'ready', 'merge', { metadata: { annotations: { [hollowProbeFailAnnotation]: 'readiness' } } });
    const p = await eventually(async () => {
      const x = await getPod('ready');
      return ready(x) === 'False' && x;
    }, 'not Ready');
    assert.equal(p.status.containerStatuses[0].ready, false);
    assert.equal(p.status.containerStatuses[0].started, true);
    assert.equal(p.status.phase, 'Running');
    assert.ok((await events('ready')).includes('Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 500'));
  });

  test('a liveness failure restarts the container with kubelet\'s events', async () => {
    await create(
      'live',
      { containers: [{ name: 'app', image: 'x', livenessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1, failureThreshold: 2 } }] },
      { [hollowProbeFailAnnotation]: 'liveness' },
    );
    const p = await eventually(async () => {
      const x = await getPod('live');
      return x.status?.containerStatuses?.[0]?.restartCount >= 1 && x;
    }, 'a restart');
    assert.equal(p.status.containerStatuses[0].lastState.terminated.exitCode, 143);
    const ev = await events('live');
    assert.ok(ev.some((e) => /^Warning Unhealthy Liveness probe failed: dial tcp 10\.42\.7\.\d+:80: connect: connection refused$/.test(e)), ev.join('\n'));
    assert.ok(ev.includes('Normal Killing Container app failed liveness probe, will be restarted'), ev.join('\n'));
  });

  test('postStart failure kills the container (FailedPostStartHook); preStop runs before the stop', async () => {
    await create('hooks', {
      terminationGracePeriodSeconds: 5,
      containers: [
        { name: 'bad', image: 'x', lifecycle: { postStart: { exec: { command: ['sh', '-c', 'fail'] } } } },
        { name: 'good', image: 'x', lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo started'] } }, preStop: { exec: { command: ['sh', '-c', 'drain'] } } } },
      ],
    });
    await eventually(async () => (await events('hooks')).some((e) => e.startsWith('Warning FailedPostStartHook Exec lifecycle hook ([sh -c fail]) for Container "bad" in Pod "hooks_default(')), 'FailedPostStartHook');
    assert.ok((await events('hooks')).includes('Normal Killing FailedPostStartHook'));
    await eventually(async () => (await getPod('hooks')).status?.containerStatuses?.find((c: KObject) => c.name === 'good')?.state?.running, 'good running');
    await client.delete(Resources.pods, 'default', 'hooks', {});
    await eventually(async () => runtime.execs.some((c) => c.join(' ') === 'sh -c drain'), 'preStop ran');
  });
});
