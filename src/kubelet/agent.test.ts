/** @module A single node agent on its own watches (the shape the process runtime will use), over the hollow runtime. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiError } from '../api/errors.js';
import { LoopbackClient } from '../apiserver/loopback.js';
import { startServer } from '../apiserver/server.js';
import { Resources } from '../client/index.js';
import { startNodeAgent } from './agent.js';
import { HollowRuntime } from './hollow/runtime.js';
import { defaultNodeLabels } from './node-status.js';
import { eventually as poll } from '../client/testing.js';

const eventually = <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000) =>
  poll(fn, what, timeoutMs, 20);

test('startNodeAgent registers, runs its pods from its own watch, and finishes their deletion', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-agent-'));
  const server = await startServer({ dataDir: dir, port: 0, log: () => {} });
  const abort = new AbortController();
  try {
    const client = new LoopbackClient(server.rest, 'kubelet');
    const running = await startNodeAgent({
      client,
      runtime: new HollowRuntime({ podCIDR: '10.42.9.0/24', podStartupMs: 10 }),
      facts: {
        name: 'solo',
        capacity: { cpu: '2', memory: '4Gi', pods: '10' },
        internalIP: '10.42.9.1',
        podCIDR: '10.42.9.0/24',
        labels: defaultNodeLabels('solo'),
        nodeInfo: { kubeletVersion: 'v1.32.0+skiff', containerRuntimeVersion: 'hollow://1.0', osImage: 'x', kernelVersion: 'x', operatingSystem: 'linux', architecture: 'amd64', machineID: 'm', systemUUID: 's', bootID: 'b' },
      },
      signal: abort.signal,
      recordNodeEvents: false,
    });
    const node = await client.get(Resources.nodes, undefined, 'solo');
    assert.equal(node.status.allocatable.cpu, '2');
    assert.equal((await client.get(Resources.leases, 'kube-node-lease', 'solo')).spec.holderIdentity, 'solo');

    await client.create(Resources.pods, 'default', { metadata: { name: 'mine', namespace: 'default' }, spec: { nodeName: 'solo', containers: [{ name: 'c', image: 'busybox' }] } });
    await client.create(Resources.pods, 'default', { metadata: { name: 'theirs', namespace: 'default' }, spec: { nodeName: 'elsewhere', containers: [{ name: 'c', image: 'busybox' }] } });
    const p = await eventually(async () => {
      const x = await client.get(Resources.pods, 'default', 'mine');
      return x.status?.phase === 'Running' && x;
    }, 'pod Running');
    assert.match(p.status.podIP, /^10\.42\.9\./);
    const other = await client.get(Resources.pods, 'default', 'theirs');
    assert.equal(other.status.phase, 'Pending', 'pods of other nodes are not touched');

    await client.delete(Resources.pods, 'default', 'mine', {});
    await eventually(async () => {
      try {
        await client.get(Resources.pods, 'default', 'mine');
        return false;
      } catch (e) {
        return e instanceof ApiError && e.code === 404;
      }
    }, 'pod deleted');
    await running.stop();
  } finally {
    abort.abort();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
