/**
 * @module End-to-end: `skiff server --runtime process` runs pods as real processes, driven
 * by the real kubectl — Running 1/1 with an address from the node's pod CIDR, containers
 * of a pod talking over localhost, pods that cannot see each other's /tmp, an OOMKilled
 * container, a crash loop with growing backoff, graceful termination, pods surviving a
 * restart of the agent, and nothing left behind once pods are deleted. Needs root on Linux.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanupProcessNode } from '../../src/kubelet/runtime/process/index.js';
import { Cluster, eventually } from './harness.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const skip = isRoot ? false : 'the process runtime isolates pods only as root on Linux';

interface PodJson {
  metadata: { uid: string; name: string };
  status: {
    phase?: string;
    podIP?: string;
    containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; state: Record<string, Record<string, unknown>>; lastState: Record<string, Record<string, unknown>> }>;
  };
}

describe('pods as processes', { skip }, () => {
  let c: Cluster;
  let dataDir: string;
  /** Outside /tmp: a container's /tmp is its own. */
  const shared = isRoot ? mkdtempSync('/var/tmp/skiff-e2e-process-') : '';
  const args = ['--runtime', 'process', '--crash-loop-backoff-initial-ms', '1000', '--crash-loop-backoff-max-ms', '8000'];

  async function pod(name: string): Promise<PodJson> {
    return JSON.parse(await c.k(['get', 'pod', name, '-o', 'json'])) as PodJson;
  }

  async function apply(manifest: string): Promise<void> {
    await c.k(['apply', '-f', '-'], { stdin: manifest });
  }

  function stateDir(): string {
    return join(dataDir, 'kubelet');
  }

  /** The CRI log of a pod's container attempt, as the process runtime writes it. */
  function logOf(p: PodJson, container: string, attempt = 0): string {
    const path = join(stateDir(), 'pods', `default_${p.metadata.name}_${p.metadata.uid}`, container, `${attempt}.log`);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  /** What the runtime recorded for a pod: its namespace, veth, cgroup and container pids. */
  function runtimeRecords(uid: string): { netns?: string; hostVeth?: string; pids: number[] } {
    const out: { netns?: string; hostVeth?: string; pids: number[]; sandboxIds: string[] } = { pids: [], sandboxIds: [] };
    // Other pods' records may vanish between the listing and the read (containers being removed).
    const record = (path: string) => {
      try {
        return JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    };
    for (const id of readdirSync(join(stateDir(), 'sandboxes'))) {
      const s = record(join(stateDir(), 'sandboxes', id, 'sandbox.json'));
      if (!s || s.config.uid !== uid) continue;
      out.netns = s.netns;
      out.hostVeth = s.hostVeth;
      out.sandboxIds.push(s.id);
    }
    for (const id of readdirSync(join(stateDir(), 'containers'))) {
      const rec = record(join(stateDir(), 'containers', id, 'container.json'));
      if (rec && out.sandboxIds.includes(rec.status.sandboxId) && rec.status.state === 'CONTAINER_RUNNING') out.pids.push(rec.pid);
    }
    return out;
  }

  before(async () => {
    c = await Cluster.start({ extraArgs: args, timeoutMs: 60_000 });
    dataDir = c.dataDir;
    await eventually(async () => / Ready /.test(await c.k(['get', 'nodes', '--no-headers'])), { timeoutMs: 20_000, what: 'the local node to be Ready' });
  });

  after(async () => {
    if (!c) return;
    await c.kubectl(['delete', 'pods', '--all', '--grace-period=1', '--timeout=60s']);
    await c.stop({ keepData: true });
    await cleanupProcessNode({ stateDir: join(dataDir, 'kubelet'), podCIDR: c.node.podCIDR!, bridge: c.node.bridge, removeBridge: true, removeCgroupParent: true });
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
    rmSync(shared, { recursive: true, force: true });
  });

  test('the node reports the host and the process runtime', async () => {
    const node = JSON.parse(await c.k(['get', 'nodes', '-o', 'json'])).items[0];
    assert.equal(node.status.nodeInfo.containerRuntimeVersion, 'process://1.0');
    assert.equal(node.spec.podCIDR, c.node.podCIDR);
    assert.equal(node.status.capacity.pods, '110');
    assert.ok(Number(node.status.capacity.cpu) >= 1);
    const isolation = node.status.conditions.find((x: { type: string }) => x.type === 'PodIsolation');
    assert.equal(isolation?.status, 'True');
  });

  test('a pod runs as a process: Running 1/1 with an address from the pod CIDR', async () => {
    await c.k(['run', 'hello', '--image=busybox', '--restart=Always', '--command', '--', 'sh', '-c', 'echo hello; sleep 3600']);
    const p = await eventually(
      async () => {
        const x = await pod('hello');
        return x.status.phase === 'Running' && x.status.containerStatuses?.[0]?.ready ? x : undefined;
      },
      { timeoutMs: 20_000, what: 'hello to run' },
    );
    assert.ok((p.status.podIP ?? '').startsWith(c.node.podCIDR!.replace(/0\/24$/, '')), `${p.status.podIP} is in ${c.node.podCIDR}`);
    assert.match(await c.k(['get', 'pod', 'hello']), /hello\s+1\/1\s+Running\s+0\s/);
    await eventually(() => /stdout F hello$/m.test(logOf(p, 'hello')), { what: 'hello in the container log' });
  });

  test('containers of a pod talk over localhost; the node reaches the pod IP', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: duo}
spec:
  restartPolicy: Never
  containers:
  - name: server
    image: python
    command: [python3, -m, http.server, "8000"]
  - name: client
    image: python
    command: [sh, -c, 'for i in $(seq 1 150); do python3 -c "import urllib.request as u; print(u.urlopen(\\"http://localhost:8000/\\").status)" 2>/dev/null && exit 0; sleep 0.2; done; exit 1']
`);
    const p = await eventually(
      async () => {
        const x = await pod('duo');
        const client = x.status.containerStatuses?.find((s) => s.name === 'client');
        return client?.state.terminated ? x : undefined;
      },
      { timeoutMs: 40_000, what: 'the client container to finish' },
    );
    const client = p.status.containerStatuses!.find((s) => s.name === 'client')!;
    assert.equal(client.state.terminated.exitCode, 0);
    assert.equal(client.state.terminated.reason, 'Completed');
    assert.match(logOf(p, 'client'), /stdout F 200$/m);
    const res = await fetch(`http://${p.status.podIP}:8000/`);
    assert.equal(res.status, 200);
  });

  test('two pods never see each other’s /tmp', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: tmp-a}
spec:
  containers:
  - name: a
    image: busybox
    command: [sh, -c, 'echo secret > /tmp/only-a && echo written; sleep 3600']
`);
    await eventually(async () => /stdout F written$/m.test(logOf(await pod('tmp-a'), 'a')), { timeoutMs: 20_000, what: 'tmp-a to write its file' });
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: tmp-b}
spec:
  restartPolicy: Never
  containers:
  - name: b
    image: busybox
    command: [sh, -c, 'test ! -e /tmp/only-a && touch /tmp/only-b']
`);
    const b = await eventually(
      async () => {
        const x = await pod('tmp-b');
        return x.status.phase === 'Succeeded' || x.status.phase === 'Failed' ? x : undefined;
      },
      { timeoutMs: 20_000, what: 'tmp-b to finish' },
    );
    assert.equal(b.status.phase, 'Succeeded');
    assert.equal(existsSync('/tmp/only-a'), false);
    assert.equal(existsSync('/tmp/only-b'), false);
  });

  test('a container over its 32Mi memory limit is OOMKilled and restarted', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  containers:
  - name: hog
    image: python
    command: [python3, -c, 'import time; b = bytearray(256 * 1024 * 1024); time.sleep(60)']
    resources:
      limits: {memory: 32Mi}
`);
    const s = await eventually(
      async () => {
        const cs = (await pod('hog')).status.containerStatuses?.[0];
        return cs && cs.restartCount >= 2 && cs.lastState.terminated ? cs : undefined;
      },
      { timeoutMs: 30_000, what: 'hog to be OOMKilled twice' },
    );
    assert.equal(s.lastState.terminated.reason, 'OOMKilled');
    assert.equal(s.lastState.terminated.exitCode, 137);
  });

  test('a crashing container goes into CrashLoopBackOff with growing backoff', async () => {
    await c.k(['run', 'crash', '--image=busybox', '--command', '--', 'sh', '-c', 'echo failing; exit 1']);
    const seen = new Set<string>();
    await eventually(
      async () => {
        const cs = (await pod('crash')).status.containerStatuses?.[0];
        const m = /back-off (\d+)s/.exec(String(cs?.state.waiting?.message ?? ''));
        if (m) seen.add(m[1]);
        return seen.has('1') && seen.has('2') && seen.has('4');
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `back-off to grow 1s → 2s → 4s (saw ${[...seen].join(', ')})` },
    );
    const cs = (await pod('crash')).status.containerStatuses![0];
    assert.ok(cs.restartCount >= 3, `restartCount ${cs.restartCount}`);
    assert.equal(cs.lastState.terminated.exitCode, 1);
    assert.match(await c.k(['get', 'pod', 'crash']), /crash\s+0\/1\s+(CrashLoopBackOff|Error)\s+\d+/);
    const events = await c.k(['get', 'events', '--field-selector', 'involvedObject.name=crash', '-o', 'custom-columns=REASON:.reason', '--no-headers']);
    assert.match(events, /BackOff/);
  });

  test('deleting a pod sends SIGTERM and waits for it to exit', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: polite}
spec:
  terminationGracePeriodSeconds: 20
  containers:
  - name: polite
    image: busybox
    command: [sh, -c, 'trap "echo got-sigterm > ${shared}/polite; exit 0" TERM; echo ready; while :; do sleep 0.1; done']
`);
    await eventually(async () => /stdout F ready$/m.test(logOf(await pod('polite'), 'polite')), { timeoutMs: 20_000, what: 'polite to be ready' });
    const t0 = Date.now();
    await c.k(['delete', 'pod', 'polite', '--wait=true', '--timeout=30s']);
    assert.ok(Date.now() - t0 < 15_000, 'the container ended on SIGTERM, not after the grace period');
    assert.equal(readFileSync(join(shared, 'polite'), 'utf8'), 'got-sigterm\n');
  });

  test('pods keep running across a restart of the server and its agent', async () => {
    const before = await pod('hello');
    const pids = runtimeRecords(before.metadata.uid).pids;
    assert.ok(pids.length > 0 && pids.every((p) => existsSync(`/proc/${p}`)));
    await c.stop({ keepData: true });
    assert.ok(pids.every((p) => existsSync(`/proc/${p}`)), 'stopping the agent does not stop its pods');
    c = await Cluster.start({ dataDir, extraArgs: args, timeoutMs: 60_000 });
    await eventually(async () => / Ready /.test(await c.k(['get', 'nodes', '--no-headers'])), { timeoutMs: 20_000, what: 'the node to be Ready again' });
    const after = await eventually(
      async () => {
        const x = await pod('hello');
        return x.status.phase === 'Running' && x.status.containerStatuses?.[0]?.ready ? x : undefined;
      },
      { timeoutMs: 20_000, what: 'hello to be Running after the restart' },
    );
    assert.equal(after.status.containerStatuses![0].restartCount, 0);
    assert.equal(after.status.podIP, before.status.podIP);
    assert.deepEqual(runtimeRecords(after.metadata.uid).pids, pids);
  });

  test('deleted pods leave no namespace, veth, cgroup, process or file behind', async () => {
    const names = ['hello', 'duo', 'tmp-a', 'hog'];
    const records = await Promise.all(names.map(async (n) => ({ uid: (await pod(n)).metadata.uid, ...runtimeRecords((await pod(n)).metadata.uid) })));
    for (const r of records) assert.ok(r.netns && r.hostVeth, `pod ${r.uid} has a namespace and a veth`);
    await c.k(['delete', 'pod', ...names, '--grace-period=1', '--wait=true', '--timeout=60s']);
    const netns = execFileSync('ip', ['netns', 'list']).toString();
    const links = execFileSync('ip', ['-o', 'link']).toString();
    for (const r of records) {
      assert.ok(!netns.includes(r.netns!), `netns ${r.netns} is gone`);
      assert.ok(!links.includes(r.hostVeth!), `veth ${r.hostVeth} is gone`);
      for (const p of r.pids) assert.equal(existsSync(`/proc/${p}`), false, `process ${p} is gone`);
      for (const h of ['memory', 'cpu', 'pids', 'unified']) assert.equal(existsSync(`/sys/fs/cgroup/${h}/skiff/pod${r.uid}`), false, `cgroup ${h}/skiff/pod${r.uid} is gone`);
      assert.equal(
        readdirSync(join(stateDir(), 'pods')).some((d) => d.endsWith(r.uid)),
        false,
        'the pod log directory is gone',
      );
    }
  });
});
