/** @module Hollow nodes against a real in-process API server: registration, leases, the pod lifecycle and graceful deletion. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { startServer, type RunningServer } from '../../apiserver/server.js';
import { Resources } from '../../client/index.js';
import { hollowPodCIDR, hollowStopLabel, startHollowNodes, type HollowNodes } from './index.js';
import { eventually as poll } from '../../client/testing.js';

const eventually = <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10000) =>
  poll(fn, what, timeoutMs, 20);

function pod(name: string, node: string, extra: KObject = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...(extra.metadata ?? {}) },
    spec: { nodeName: node, containers: [{ name: 'nginx', image: 'nginx' }], ...(extra.spec ?? {}) },
  };
}

describe('hollow nodes', () => {
  let dir: string;
  let server: RunningServer;
  let client: LoopbackClient;
  let hollow: HollowNodes;
  const abort = new AbortController();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-hollow-'));
    server = await startServer({ dataDir: dir, port: 0, log: () => {} });
    client = new LoopbackClient(server.rest, 'kubelet');
    hollow = await startHollowNodes({ client, count: 3, podStartupMs: 30, signal: abort.signal });
  });

  after(async () => {
    abort.abort();
    await hollow.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('registers Ready nodes with kubelet labels, capacity, nodeInfo and a pod CIDR', async () => {
    assert.deepEqual(hollow.nodes, ['hollow-node-0', 'hollow-node-1', 'hollow-node-2']);
    const node = await client.get(Resources.nodes, undefined, 'hollow-node-1');
    assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], 'hollow-node-1');
    assert.equal(node.metadata?.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(node.metadata?.labels?.['kubernetes.io/arch'], 'amd64');
    assert.equal(node.metadata?.labels?.['node.kubernetes.io/instance-type'], 'hollow');
    assert.equal(node.spec?.podCIDR, '10.42.1.0/24');
    assert.equal(node.status?.capacity?.cpu, '4');
    assert.equal(node.status?.capacity?.memory, '16Gi');
    assert.equal(node.status?.allocatable?.pods, '110');
    assert.equal(node.status?.nodeInfo?.kubeletVersion, 'v1.32.0+skiff');
    assert.equal(node.status?.nodeInfo?.containerRuntimeVersion, 'hollow://1.0');
    const ready = node.status?.conditions?.find((c: KObject) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.reason, 'KubeletReady');
    assert.deepEqual(
      node.status?.conditions?.map((c: KObject) => c.type),
      ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'],
    );
    assert.deepEqual(node.status?.addresses, [
      { type: 'InternalIP', address: '10.42.1.1' },
      { type: 'Hostname', address: 'hollow-node-1' },
    ]);
  });

  test('heartbeats through a Lease in kube-node-lease', async () => {
    const lease = await client.get(Resources.leases, 'kube-node-lease', 'hollow-node-0');
    assert.equal(lease.spec?.holderIdentity, 'hollow-node-0');
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
    assert.match(lease.spec?.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(lease.metadata?.ownerReferences?.[0]?.kind, 'Node');
    const agent = hollow.agents.get('hollow-node-0')!;
    await new Promise((r) => setTimeout(r, 5));
    await agent.renewLease();
    const renewed = await client.get(Resources.leases, 'kube-node-lease', 'hollow-node-0');
    assert.notEqual(renewed.metadata?.resourceVersion, lease.metadata?.resourceVersion);
    assert.ok(renewed.spec.renewTime > lease.spec.renewTime);
  });

  test('moves a bound pod to Running and Ready with kubelet-shaped status and events', async () => {
    await client.create(Resources.pods, 'default', pod('web', 'hollow-node-2'));
    const running = await eventually(async () => {
      const p = await client.get(Resources.pods, 'default', 'web');
      return p.status?.phase === 'Running' && p;
    }, 'pod Running');
    const s = running.status!;
    assert.equal(s.hostIP, '10.42.2.1');
    assert.match(s.podIP, /^10\.42\.2\.\d+$/);
    assert.deepEqual(s.podIPs, [{ ip: s.podIP }]);
    assert.ok(s.startTime);
    assert.equal(s.qosClass, 'BestEffort');
    assert.deepEqual(
      s.conditions.map((c: KObject) => [c.type, c.status]),
      [
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['Ready', 'True'],
        ['ContainersReady', 'True'],
        ['PodScheduled', 'True'],
      ],
    );
    for (const c of s.conditions) assert.ok(c.lastTransitionTime, `${c.type} has lastTransitionTime`);
    const cs = s.containerStatuses[0];
    assert.equal(cs.name, 'nginx');
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 0);
    assert.equal(cs.image, 'docker.io/library/nginx:latest');
    assert.match(cs.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.match(cs.containerID, /^hollow:\/\/[0-9a-f]{64}$/);
    assert.ok(cs.state.running.startedAt);
    const events = await eventually(async () => {
      const list = await client.list(Resources.events, 'default');
      const mine = (list.items as KObject[]).filter((e) => e.involvedObject?.name === 'web');
      return mine.length >= 3 && mine;
    }, 'kubelet events');
    const byReason = new Map(events.map((e) => [e.reason, e]));
    assert.equal(byReason.get('Pulled')?.message, 'Container image "nginx" already present on machine');
    assert.equal(byReason.get('Created')?.message, 'Created container: nginx');
    assert.equal(byReason.get('Started')?.message, 'Started container nginx');
    assert.equal(byReason.get('Started')?.source?.component, 'kubelet');
    assert.equal(byReason.get('Started')?.source?.host, 'hollow-node-2');
  });

  test('finishes a graceful deletion: containers stopped, then the pod deleted with grace 0', async () => {
    await client.create(Resources.pods, 'default', pod('doomed', 'hollow-node-0'));
    await eventually(async () => (await client.get(Resources.pods, 'default', 'doomed')).status?.phase === 'Running', 'pod Running');
    await client.delete(Resources.pods, 'default', 'doomed', {});
    await eventually(async () => {
      try {
        await client.get(Resources.pods, 'default', 'doomed');
        return false;
      } catch (e) {
        return e instanceof ApiError && e.code === 404;
      }
    }, 'pod deleted');
    const events = await eventually(async () => {
      const list = await client.list(Resources.events, 'default');
      return (list.items as KObject[]).find((e) => e.involvedObject?.name === 'doomed' && e.reason === 'Killing');
    }, 'Killing event');
    assert.equal(events.message, 'Stopping container nginx');
    const agent = hollow.agents.get('hollow-node-0')!;
    await eventually(() => !agent.podWorkers().some((w) => w.pod.metadata?.name === 'doomed'), 'worker forgotten');
  });

  test('runs init containers first and completes pods that do not restart', async () => {
    await client.create(
      Resources.pods,
      'default',
      pod('job-like', 'hollow-node-1', {
        spec: { restartPolicy: 'Never', initContainers: [{ name: 'setup', image: 'busybox' }], containers: [{ name: 'work', image: 'busybox' }] },
      }),
    );
    const done = await eventually(async () => {
      const p = await client.get(Resources.pods, 'default', 'job-like');
      return p.status?.phase === 'Succeeded' && p;
    }, 'pod Succeeded');
    assert.equal(done.status.initContainerStatuses[0].state.terminated.exitCode, 0);
    assert.equal(done.status.containerStatuses[0].state.terminated.reason, 'Completed');
    assert.equal(done.status.conditions.find((c: KObject) => c.type === 'Ready').reason, 'PodCompleted');
  });

  test('restarts exiting containers of restartPolicy Always pods and counts restarts', async () => {
    await client.create(Resources.pods, 'default', pod('flappy', 'hollow-node-1', { metadata: { annotations: { 'hollow.skiff.dev/run-ms': '30', 'hollow.skiff.dev/exit-code': '1' } } }));
    const p = await eventually(async () => {
      const x = await client.get(Resources.pods, 'default', 'flappy');
      const cs = x.status?.containerStatuses?.[0];
      return cs?.state?.waiting?.reason === 'CrashLoopBackOff' && x;
    }, 'CrashLoopBackOff');
    const cs = p.status.containerStatuses[0];
    assert.equal(cs.restartCount, 1);
    assert.equal(cs.lastState.terminated.exitCode, 1);
    assert.equal(cs.lastState.terminated.reason, 'Error');
    assert.match(cs.state.waiting.message, /^back-off 10s restarting failed container=nginx pod=flappy_default\(/);
    assert.equal(p.status.phase, 'Running');
  });

  test('a node labelled skiff.dev/hollow-stop=true stops heartbeating; removing the label resumes it', async () => {
    const agent = hollow.agents.get('hollow-node-2')!;
    await client.patch(Resources.nodes, undefined, 'hollow-node-2', 'merge', { metadata: { labels: { [hollowStopLabel]: 'true' } } });
    await eventually(() => agent.paused, 'agent paused');
    const before = await client.get(Resources.leases, 'kube-node-lease', 'hollow-node-2');
    await agent.renewLease();
    const same = await client.get(Resources.leases, 'kube-node-lease', 'hollow-node-2');
    assert.equal(same.spec.renewTime, before.spec.renewTime, 'a stopped node does not renew');
    await client.patch(Resources.nodes, undefined, 'hollow-node-2', 'merge', { metadata: { labels: { [hollowStopLabel]: null } } });
    await eventually(() => !agent.paused, 'agent resumed');
    await eventually(async () => (await client.get(Resources.leases, 'kube-node-lease', 'hollow-node-2')).spec.renewTime > before.spec.renewTime, 'lease renewed');
  });
});

test('hollow pod CIDRs stay inside 10.0.0.0/8 and skip the service range', () => {
  assert.equal(hollowPodCIDR(0), '10.42.0.0/24');
  assert.equal(hollowPodCIDR(255), '10.42.255.0/24');
  assert.equal(hollowPodCIDR(256), '10.44.0.0/24');
  assert.equal(hollowPodCIDR(4999), '10.62.135.0/24');
});
