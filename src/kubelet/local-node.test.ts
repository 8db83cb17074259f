/**
 * @module The local node against a real API server: it registers the host's capacity and
 * identity, runs a bound pod as a process, keeps it across an agent restart, and removes
 * the sandbox of a pod force-deleted while the agent was down. Needs root on Linux for
 * the pod parts (its own bridge, CIDR and cgroup parent).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LoopbackClient } from '../apiserver/loopback.js';
import { startServer, type RunningServer } from '../apiserver/server.js';
import { Resources } from '../client/index.js';
import { localNodeFacts, startLocalNode, type LocalNode } from './local-node.js';
import { cleanupProcessNode } from './runtime/process/index.js';
import { eventually as poll } from '../client/testing.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const tag = (process.pid % 100_000).toString(36);
const podCIDR = `10.42.${150 + (process.pid % 40)}.0/24`;
const runtime = { bridge: `skn${tag}`, cgroupParent: `skiff-nodetest-${tag}` };

const eventually = <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15000) =>
  poll(fn, what, timeoutMs, 50);

describe('local node facts', () => {
  it('reports the host: cpus, memory, pods 110, storage, kernel, runtime', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-facts-'));
    try {
      const f = localNodeFacts({ nodeName: 'host-a', dataDir: dir, podCIDR: '10.42.0.0/24', internalIP: '127.0.0.1' });
      assert.equal(f.capacity.pods, '110');
      assert.match(f.capacity.cpu, /^\d+$/);
      assert.match(f.capacity.memory, /^\d+Ki$/);
      assert.match(f.capacity['ephemeral-storage'], /^\d+Ki$/);
      assert.ok(Number(f.allocatable!.memory.slice(0, -2)) < Number(f.capacity.memory.slice(0, -2)), 'allocatable keeps the eviction reserve');
      assert.equal(f.nodeInfo.containerRuntimeVersion, 'process://1.0');
      assert.equal(f.nodeInfo.kubeletVersion, 'v1.32.0+skiff');
      assert.equal(f.labels['kubernetes.io/hostname'], 'host-a');
      assert.equal(f.podCIDR, '10.42.0.0/24');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('local node (root)', { skip: isRoot ? false : 'needs root on Linux (network namespaces, cgroups)' }, () => {
  let server: RunningServer;
  let dataDir: string;
  let node: LocalNode | undefined;
  const abort = new AbortController();
  const client = () => new LoopbackClient(server.rest, 'test');

  const start = () =>
    startLocalNode({ client: new LoopbackClient(server.rest, 'kubelet'), dataDir, nodeName: 'local-test', podCIDR, signal: abort.signal, runtime, orphanCheckIntervalMs: 200, heartbeatIntervalMs: 1000 });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'skiff-local-node-'));
    server = await startServer({ dataDir, port: 0, log: () => {} });
  });

  after(async () => {
    await node?.stop();
    abort.abort();
    await cleanupProcessNode({ stateDir: join(dataDir, 'kubelet'), podCIDR, ...runtime, removeBridge: true, removeCgroupParent: true });
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function podManifest(name: string) {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { nodeName: 'local-test', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
    };
  }

  async function running(name: string) {
    return eventually(async () => {
      const p = await client().get(Resources.pods, 'default', name);
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
    }, `${name} to run`);
  }

  it('registers the node and runs a bound pod as a process', async () => {
    node = await start();
    const n = await client().get(Resources.nodes, undefined, 'local-test');
    assert.equal(n.status?.nodeInfo?.containerRuntimeVersion, 'process://1.0');
    assert.equal(n.status?.conditions?.find((c: { type: string }) => c.type === 'PodIsolation')?.status, 'True');
    await client().create(Resources.pods, 'default', podManifest('keep'));
    await client().create(Resources.pods, 'default', podManifest('doomed'));
    const p = await running('keep');
    await running('doomed');
    assert.ok(p.status.podIP.startsWith(podCIDR.split('.').slice(0, 3).join('.')));
  });

  it('keeps pods across an agent restart and removes those deleted while it was down', async () => {
    const sandboxes = () => node!.runtime.listPodSandboxes();
    const doomed = await client().get(Resources.pods, 'default', 'doomed');
    const keep = await client().get(Resources.pods, 'default', 'keep');
    const doomedSandbox = sandboxes().find((s) => s.uid === doomed.metadata?.uid)!;
    const keepSandbox = sandboxes().find((s) => s.uid === keep.metadata?.uid)!;
    const netns = node!.runtime.sandboxNetnsPath(doomedSandbox.id)!;
    await node!.stop();
    // Force-deleted while no agent runs: no worker will ever see it go.
    await client().delete(Resources.pods, 'default', 'doomed', { gracePeriodSeconds: 0 });
    node = await start();
    await eventually(async () => !node!.runtime.listPodSandboxes().some((s) => s.id === doomedSandbox.id), 'the orphan sandbox to be removed');
    assert.equal(existsSync(netns), false);
    assert.ok(node.runtime.listPodSandboxes().some((s) => s.id === keepSandbox.id), 'the surviving pod keeps its sandbox');
    const p = await running('keep');
    assert.equal(p.status.containerStatuses[0].restartCount, 0);
    await client().delete(Resources.pods, 'default', 'keep');
    await eventually(async () => node!.runtime.listPodSandboxes().length === 0, 'keep to be cleaned up');
  });
});
