import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { startServer, type RunningServer } from '../../apiserver/server.js';
import { EventRecorder, InformerFactory, Resources } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { CidrError, CidrSet } from './cidrs.js';
import { NodeIpamController } from './controller.js';

let server: RunningServer;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-nodeipam-'));
  server = await startServer({ dataDir: dir, port: 0, log: () => {} });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('CidrSet hands out each block once, round robin, and reports exhaustion', () => {
  const set = new CidrSet('10.9.0.0/24', 26);
  assert.equal(set.maxCidrs, 4);
  assert.ok(set.occupy('10.9.0.64/26'));
  assert.equal(set.occupy('192.168.0.0/24'), false, 'outside the cluster CIDR');
  assert.deepEqual([set.allocateNext(), set.allocateNext(), set.allocateNext(), set.allocateNext()], ['10.9.0.0/26', '10.9.0.128/26', '10.9.0.192/26', undefined]);
  set.release('10.9.0.128/26');
  assert.equal(set.allocateNext(), '10.9.0.128/26');
  assert.throws(() => new CidrSet('10.9.0.0/24', 16), CidrError);
  assert.throws(() => new CidrSet('10.9.0.0/33', 24), /invalid CIDR address/);
});

function start(client: LoopbackClient, signal: AbortSignal, reserved: string[]): NodeIpamController {
  const informers = new InformerFactory(client);
  const c = new NodeIpamController({
    client,
    nodes: informers.for(Resources.nodes),
    recorder: new EventRecorder(client, { component: 'cidrAllocator' }),
    log: () => {},
    clusterCIDR: '10.42.0.0/16',
    nodeCIDRMaskSize: 24,
    reserved,
  });
  informers.start(signal);
  void c.run(signal, 2);
  return c;
}

const node = (name: string, podCIDR?: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });

test('nodes get distinct /24s, never the local node\'s or one already taken, also after a restart', async () => {
  const client = new LoopbackClient(server.rest, 'kube-controller-manager');
  const podCIDR = async (name: string) => (await client.get(Resources.nodes, undefined, name)).spec?.podCIDR as string | undefined;
  await client.create(Resources.nodes, undefined, node('taken', '10.42.2.0/24'));
  const first = new AbortController();
  start(client, first.signal, ['10.42.0.0/24']);
  await client.create(Resources.nodes, undefined, node('a'));
  await client.create(Resources.nodes, undefined, node('b'));
  const a = await eventually(() => podCIDR('a'), 'node a to get a pod CIDR');
  const b = await eventually(() => podCIDR('b'), 'node b to get a pod CIDR');
  assert.deepEqual([a, b].sort(), ['10.42.1.0/24', '10.42.3.0/24']);
  const got = await client.get(Resources.nodes, undefined, 'a');
  assert.deepEqual(got.spec.podCIDRs, [a]);
  assert.equal(await podCIDR('taken'), '10.42.2.0/24', 'a node that has one keeps it');
  first.abort();

  // A fresh controller rebuilds what is used from the Nodes alone.
  const second = new AbortController();
  try {
    start(client, second.signal, ['10.42.0.0/24']);
    await client.create(Resources.nodes, undefined, node('c'));
    const c = await eventually(() => podCIDR('c'), 'node c to get a pod CIDR');
    assert.ok(!['10.42.0.0/24', '10.42.1.0/24', '10.42.2.0/24', '10.42.3.0/24'].includes(c), `c got ${c}, which is in use`);
  } finally {
    second.abort();
  }
});
