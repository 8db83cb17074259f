/**
 * @module The kernel service proxy end to end on this host (root and nft only): three
 * pod-like network namespaces on a test bridge run tiny HTTP servers; the proxy, fed by an
 * in-process API server, must carry ClusterIP traffic from a pod and from the host to
 * ready endpoints only, spread over all of them, stick with ClientIP affinity, refuse at
 * once without endpoints, serve a NodePort on the node IP, handle hairpin traffic and
 * remove a deleted Service's rules — and everything when stopped. Its own bridge, CIDR,
 * netns and table names; traffic only to addresses inside them.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../../api/types.js';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { startServer, type RunningServer } from '../../apiserver/server.js';
import { InformerFactory, Resources } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { nftUsable } from './host.js';
import { startServiceProxy, type ServiceProxy } from './index.js';

const isRoot = process.getuid?.() === 0 && process.platform === 'linux';
const nftMissing = isRoot ? await nftUsable() : 'not root';
const skip = !isRoot ? 'needs root on Linux' : nftMissing ? `nft not usable: ${nftMissing}` : false;

const tag = randomBytes(2).toString('hex');
const octet = 100 + randomInt(150);
const bridge = `skt${tag}`;
const table = `skiff_test_${tag}`;
const gateway = `10.42.${octet}.1`;
const pods = ['a', 'b', 'c'].map((n, i) => ({ name: n, netns: `skt-${tag}-${n}`, veth: `skt${tag}${n}`, ip: `10.42.${octet}.${i + 2}` }));
const svcIP = (n: number) => `10.43.${octet}.${n}`;
const nodePort = 30000 + randomInt(2000);

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr: String(stderr) })) : resolve(String(stdout)))),
  );
}
const quiet = (p: Promise<unknown>) => p.catch(() => undefined);

/** One HTTP GET on a fresh connection (so each one is balanced anew); resolves to the body. */
function get(ip: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** curl from inside a pod's namespace. */
const curlFrom = (netns: string, ip: string, port: number) => sh('ip', ['netns', 'exec', netns, 'curl', '-sS', '-m', '3', `http://${ip}:${port}/`]);

/** Waits until the ClusterIP is in the table, so no early probe leaves through the default route. */
const programmed = (ip: string) =>
  eventually(async () => (await sh('nft', ['list', 'table', 'ip', table])).includes(`${ip} . tcp . 80`), `rules for ${ip}`, 10_000, 50);

async function spread(n: number, fetch: () => Promise<string>): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const who = await fetch();
    seen.set(who, (seen.get(who) ?? 0) + 1);
  }
  return seen;
}

describe('service proxy (nftables) on a test bridge', { skip }, () => {
  let server: RunningServer;
  let dir: string;
  let proxy: ServiceProxy;
  const abort = new AbortController();
  const servers: ChildProcess[] = [];
  let client: LoopbackClient;
  let forwardingBefore: string;

  const service = (name: string, ip: string, spec: KObject = {}) =>
    client.create(Resources.services, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, targetPort: 8000, protocol: 'TCP' }], ...spec },
    });
  const sliceEndpoints = (ready: Record<string, boolean>) =>
    Object.entries(ready).map(([pod, ok]) => ({ addresses: [pods.find((p) => p.name === pod)!.ip], conditions: { ready: ok, serving: ok, terminating: false }, nodeName: 'node-1' }));
  const putSlice = async (svc: string, ready: Record<string, boolean>) => {
    const body = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${svc}-abcde`, labels: { 'kubernetes.io/service-name': svc } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8000, protocol: 'TCP' }],
      endpoints: sliceEndpoints(ready),
    };
    try {
      const cur = await client.get(Resources.endpointslices, 'default', body.metadata.name);
      await client.update(Resources.endpointslices, 'default', { ...body, metadata: { ...cur.metadata, labels: body.metadata.labels } });
    } catch {
      await client.create(Resources.endpointslices, 'default', body);
    }
  };

  before(async () => {
    forwardingBefore = readFileSync('/proc/sys/net/ipv4/conf/all/forwarding', 'utf8').trim();
    await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await sh('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge]);
    await sh('ip', ['link', 'set', bridge, 'up']);
    for (const p of pods) {
      await sh('ip', ['netns', 'add', p.netns]);
      await sh('ip', ['link', 'add', p.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.netns]);
      await sh('ip', ['link', 'set', p.veth, 'master', bridge, 'up']);
      for (const args of [['link', 'set', 'lo', 'up'], ['addr', 'add', `${p.ip}/24`, 'dev', 'eth0'], ['link', 'set', 'eth0', 'up'], ['route', 'add', 'default', 'via', gateway]])
        await sh('ip', ['-n', p.netns, ...args]);
      const code =
        "require('http').createServer((q,s)=>s.end(process.env.POD)).listen(8000,'0.0.0.0');" +
        "const u=require('dgram').createSocket('udp4');u.on('message',(m,r)=>u.send(process.env.POD,r.port,r.address));u.bind(5353)";
      servers.push(spawn('ip', ['netns', 'exec', p.netns, process.execPath, '-e', code], { env: { ...process.env, POD: p.name }, stdio: 'ignore' }));
    }
    for (const p of pods) await eventually(() => get(p.ip, 8000).then((b) => b === p.name), `pod ${p.name} serving`, 10_000, 50);

    dir = mkdtempSync(join(tmpdir(), 'skiff-proxy-'));
    server = await startServer({ dataDir: dir, port: 0, log: () => {}, serviceCIDR: `10.43.${octet}.0/24` } as Parameters<typeof startServer>[0]);
    client = new LoopbackClient(server.rest, 'kube-proxy');
    const informers = new InformerFactory(client);
    proxy = await startServiceProxy({
      client,
      informers,
      nodeName: 'node-1',
      podCIDR: `10.42.${octet}.0/24`,
      // The bridge's address stands in for the node's InternalIP: NodePorts are served on it by the kernel path.
      nodeIP: gateway,
      bridge,
      clusterCIDR: '10.42.0.0/16',
      serviceCIDR: `10.43.${octet}.0/24`,
      clusterDNS: svcIP(10),
      clusterDomain: 'cluster.local',
      privileged: true,
      signal: abort.signal,
      log: () => {},
      table,
      minSyncPeriodMs: 50,
    });
    informers.start(abort.signal);
    assert.equal(proxy.mode, 'nftables');
  });

  after(async () => {
    abort.abort();
    await quiet(proxy?.stop() ?? Promise.resolve());
    for (const s of servers) s.kill('SIGKILL');
    await quiet(server?.close() ?? Promise.resolve());
    for (const p of pods) await quiet(sh('ip', ['netns', 'del', p.netns]));
    for (const p of pods) await quiet(sh('ip', ['link', 'del', p.veth]));
    await quiet(sh('ip', ['link', 'del', bridge]));
    await quiet(sh('nft', ['delete', 'table', 'ip', table]));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ClusterIP from a pod and from the host; scaling to three endpoints reaches all three', async () => {
    await service('web', svcIP(20));
    await putSlice('web', { b: true });
    await programmed(svcIP(20));
    assert.equal(await eventually(() => curlFrom(pods[0].netns, svcIP(20), 80), 'ClusterIP from pod a', 10_000, 50), 'b');
    assert.equal(await eventually(() => get(svcIP(20), 80), 'ClusterIP from the host', 10_000, 50), 'b');
    await putSlice('web', { a: true, b: true, c: true });
    await eventually(async () => (await spread(30, () => get(svcIP(20), 80))).size === 3, 'requests reaching all three pods', 10_000, 50);
    const fromPod = await spread(20, () => curlFrom(pods[0].netns, svcIP(20), 80));
    assert.ok(fromPod.size >= 2, `pod a's requests spread over the pods: ${[...fromPod.keys()]}`);
  });

  it('a not-ready endpoint receives nothing', async () => {
    await putSlice('web', { a: true, b: true, c: false });
    await eventually(async () => !(await spread(10, () => get(svcIP(20), 80))).has('c'), 'c out of rotation', 10_000, 50);
    const seen = await spread(40, () => get(svcIP(20), 80));
    assert.equal(seen.has('c'), false, `c got traffic: ${[...seen]}`);
    assert.deepEqual([...seen.keys()].sort(), ['a', 'b']);
  });

  it('a Service without endpoints is refused at once, from the host and from a pod', async () => {
    await service('empty', svcIP(21));
    await putSlice('empty', {});
    await eventually(async () => (await sh('nft', ['list', 'map', 'ip', table, 'no-endpoint-services'])).includes(svcIP(21)), 'reject element', 10_000, 50);
    const t0 = Date.now();
    await assert.rejects(get(svcIP(21), 80), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
    assert.ok(Date.now() - t0 < 1000, 'refused, not timed out');
    const t1 = Date.now();
    // curl's exit code 7: could not connect (the ICMP port-unreachable of kube-proxy's reject).
    await assert.rejects(curlFrom(pods[0].netns, svcIP(21), 80), (err: { code?: number }) => err.code === 7);
    assert.ok(Date.now() - t1 < 2000);
  });

  it('sessionAffinity ClientIP keeps a client on one endpoint', async () => {
    await service('sticky', svcIP(22), { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
    await putSlice('sticky', { a: true, b: true, c: true });
    await programmed(svcIP(22));
    await eventually(() => curlFrom(pods[0].netns, svcIP(22), 80), 'sticky service up', 10_000, 50);
    const seen = await spread(12, () => curlFrom(pods[0].netns, svcIP(22), 80));
    assert.equal(seen.size, 1, `one endpoint for one client: ${[...seen]}`);
    // The periodic full resync rewrites the table in place: the client stays where it was.
    proxy.resync();
    await proxy.idle();
    const after = await spread(6, () => curlFrom(pods[0].netns, svcIP(22), 80));
    assert.deepEqual([...after.keys()], [...seen.keys()]);
  });

  it('NodePort on the node IP, from the host and from a pod; hairpin back to the calling pod', async () => {
    await service('np', svcIP(23), { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8000, protocol: 'TCP', nodePort }] });
    await putSlice('np', { c: true });
    await programmed(svcIP(23));
    assert.equal(await eventually(() => get(gateway, nodePort), 'NodePort from the host', 10_000, 50), 'c');
    assert.equal(await curlFrom(pods[0].netns, gateway, nodePort), 'c');
    // Pod c reaching itself through its own Service: masqueraded, or its kernel drops the reply as a martian.
    assert.equal(await curlFrom(pods[2].netns, svcIP(23), 80), 'c');
    assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, 'utf8').trim(), '1');
  });

  it('UDP: a flow follows the endpoint change (stale conntrack entries are cleared)', async () => {
    await service('dns', svcIP(24), { ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] });
    const udpSlice = async (pod: string) => {
      const body = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'dns-abcde', labels: { 'kubernetes.io/service-name': 'dns' } },
        addressType: 'IPv4',
        ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
        endpoints: sliceEndpoints({ [pod]: true }),
      };
      try {
        const cur = await client.get(Resources.endpointslices, 'default', body.metadata.name);
        await client.update(Resources.endpointslices, 'default', { ...body, metadata: { ...cur.metadata, labels: body.metadata.labels } });
      } catch {
        await client.create(Resources.endpointslices, 'default', body);
      }
    };
    // The same source port every time: one conntrack flow, as a long-lived UDP client has.
    const ask = () =>
      sh('ip', ['netns', 'exec', pods[0].netns, process.execPath, '-e',
        `const s=require('dgram').createSocket('udp4');s.on('message',m=>{process.stdout.write(String(m));process.exit(0)});s.bind(40053,()=>s.send('q',53,'${svcIP(24)}'));setTimeout(()=>process.exit(1),1500)`]);
    await udpSlice('b');
    await eventually(async () => (await sh('nft', ['list', 'table', 'ip', table])).includes(`${svcIP(24)} . udp . 53`), 'udp rules', 10_000, 50);
    assert.equal(await eventually(ask, 'UDP answer from b', 10_000, 50), 'b');
    await udpSlice('c');
    assert.equal(await eventually(async () => ((await ask()) === 'c' ? 'c' : undefined), 'UDP flow moved to c', 10_000, 100), 'c');
  });

  it('a LoadBalancer IP with loadBalancerSourceRanges admits only those sources', async () => {
    await service('fw', svcIP(25), {
      type: 'LoadBalancer',
      ports: [{ name: 'http', port: 80, targetPort: 8000, protocol: 'TCP', nodePort: nodePort + 1 }],
      loadBalancerSourceRanges: [`${pods[1].ip}/32`],
    });
    // The bridge's address stands in for the node address ServiceLB would report.
    await client.patch(Resources.services, 'default', 'fw', 'merge', { status: { loadBalancer: { ingress: [{ ip: gateway, ipMode: 'VIP' }] } } }, { subresource: 'status' });
    await putSlice('fw', { c: true });
    await eventually(async () => (await sh('nft', ['list', 'map', 'ip', table, 'firewall-ips'])).includes(`${gateway} . tcp . 80`), 'firewall element', 10_000, 50);
    assert.equal(await eventually(() => curlFrom(pods[1].netns, gateway, 80), 'allowed source served', 10_000, 50), 'c');
    await assert.rejects(sh('ip', ['netns', 'exec', pods[0].netns, 'curl', '-sS', '-m', '1', `http://${gateway}:80/`]), (err: { code?: number }) => err.code === 28);
    assert.equal(await curlFrom(pods[0].netns, gateway, nodePort + 1), 'c', 'the NodePort is not subject to the ranges');
  });

  it('other ports of a ClusterIP and unallocated addresses of the service range are refused at once', async () => {
    const t0 = Date.now();
    await assert.rejects(get(svcIP(22), 81), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
    await assert.rejects(curlFrom(pods[0].netns, svcIP(22), 81), (err: { code?: number }) => err.code === 7);
    await assert.rejects(curlFrom(pods[0].netns, svcIP(99), 80), (err: { code?: number }) => err.code === 7);
    await assert.rejects(get(svcIP(99), 80), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
    assert.ok(Date.now() - t0 < 3000, 'refused, not timed out');
  });

  it("deleting a Service removes its rules; stop removes the table", async () => {
    await client.delete(Resources.services, 'default', 'web');
    await eventually(async () => !(await sh('nft', ['list', 'table', 'ip', table])).includes('default/web/'), 'web chains gone', 10_000, 50);
    const listing = await sh('nft', ['list', 'table', 'ip', table]);
    assert.ok(!listing.includes(`${svcIP(20)} . tcp . 80`), 'no map element for the deleted ClusterIP');
    assert.ok(listing.includes('default/sticky/'), 'other Services keep theirs');
    await proxy.stop();
    await assert.rejects(sh('nft', ['list', 'table', 'ip', table]));
    assert.equal(readFileSync('/proc/sys/net/ipv4/conf/all/forwarding', 'utf8').trim(), forwardingBefore, 'global forwarding untouched');
  });
});
