/**
 * @module A node that dies, end to end in one process: a real API server, hollow nodes
 * and the node lifecycle controller. The hollow node is stopped by its label; the
 * controller marks it Unknown, taints it, evicts its pods and finishes their deletion,
 * and clears everything when the node comes back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiError } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { startServer, type RunningServer } from '../../apiserver/server.js';
import { EventRecorder, InformerFactory, Resources } from '../../client/index.js';
import { startHollowNodes, type HollowNodes } from '../../kubelet/hollow/index.js';
import { NodeLifecycleController } from './controller.js';
import { eventually as poll } from '../../client/testing.js';

const eventually = <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15000) =>
  poll(fn, what, timeoutMs, 25);

let dir: string;
let server: RunningServer;
let client: LoopbackClient;
let hollow: HollowNodes;
const abort = new AbortController();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-deadnode-'));
  server = await startServer({ dataDir: dir, port: 0, log: () => {} });
  client = new LoopbackClient(server.rest, 'test');
  hollow = await startHollowNodes({ client: new LoopbackClient(server.rest, 'kubelet'), count: 2, podStartupMs: 20, heartbeatIntervalMs: 200, signal: abort.signal });
  const cm = new LoopbackClient(server.rest, 'kube-controller-manager');
  const informers = new InformerFactory(cm);
  const controller = new NodeLifecycleController({
    client: cm,
    informers,
    now: () => new Date(),
    recorder: new EventRecorder(cm, { component: 'node-controller' }),
    evictionRecorder: new EventRecorder(cm, { component: 'taint-eviction-controller' }),
    gracePeriodSeconds: 1,
    monitorPeriodSeconds: 0.2,
  });
  informers.start(abort.signal);
  void controller.run(abort.signal, 2);
});

after(async () => {
  abort.abort();
  await hollow.stop();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function pod(name: string, tolerationSeconds: number): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName: 'hollow-node-1',
      containers: [{ name: 'nginx', image: 'nginx' }],
      tolerations: [
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds },
      ],
    },
  };
}

async function gone(name: string): Promise<boolean> {
  try {
    await client.get(Resources.pods, 'default', name);
    return false;
  } catch (e) {
    return e instanceof ApiError && e.code === 404;
  }
}

test('a node that stops heartbeating is marked Unknown and tainted, its pods evicted; it recovers when it comes back', async () => {
  await client.create(Resources.pods, 'default', pod('patient', 2));
  await client.create(Resources.pods, 'default', pod('impatient', 0));
  for (const n of ['patient', 'impatient'])
    await eventually(async () => (await client.get(Resources.pods, 'default', n)).status?.phase === 'Running', `${n} Running`);

  await client.patch(Resources.nodes, undefined, 'hollow-node-1', 'merge', { metadata: { labels: { 'skiff.dev/hollow-stop': 'true' } } });
  const stopped = Date.now();
  const node = await eventually(async () => {
    const n = await client.get(Resources.nodes, undefined, 'hollow-node-1');
    return n.status?.conditions?.find((c: KObject) => c.type === 'Ready')?.status === 'Unknown' && n;
  }, 'node Unknown');
  assert.equal(node.status.conditions.find((c: KObject) => c.type === 'Ready').reason, 'NodeStatusUnknown');
  await eventually(async () => {
    const n = await client.get(Resources.nodes, undefined, 'hollow-node-1');
    const keys = (n.spec?.taints ?? []).map((t: KObject) => `${t.key}:${t.effect}`).sort();
    return keys.join() === 'node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule';
  }, 'unreachable taints');
  await eventually(() => gone('impatient'), 'impatient evicted');
  const patientAlive = !(await gone('patient'));
  await eventually(() => gone('patient'), 'patient evicted after its toleration');
  assert.ok(patientAlive || Date.now() - stopped >= 2000, 'the tolerating pod outlived the intolerant one');
  const events = (await client.list(Resources.events, 'default')).items as KObject[];
  assert.ok(events.some((e) => e.reason === 'TaintManagerEviction' && e.message === 'Marking for deletion Pod default/patient'));
  assert.ok(events.some((e) => e.reason === 'NodeNotReady' && e.involvedObject?.name === 'hollow-node-1'));
  const healthy = await client.get(Resources.nodes, undefined, 'hollow-node-0');
  assert.equal(healthy.status.conditions.find((c: KObject) => c.type === 'Ready').status, 'True', 'the other node stays Ready');
  assert.equal(healthy.spec?.taints, undefined);

  await client.patch(Resources.nodes, undefined, 'hollow-node-1', 'merge', { metadata: { labels: { 'skiff.dev/hollow-stop': null } } });
  await eventually(async () => {
    const n = await client.get(Resources.nodes, undefined, 'hollow-node-1');
    return n.status?.conditions?.find((c: KObject) => c.type === 'Ready')?.status === 'True' && !n.spec?.taints?.length;
  }, 'node Ready again without taints');
});
