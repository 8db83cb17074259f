/** @module The userspace proxy on loopback: round robin over backends, refused without any, ClientIP affinity, failover on a dead backend, UDP flows. */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { request } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { UserspaceProxy, type Frontend } from './userspace.js';

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('userspace proxy', () => {
  const backends: Array<{ server: Server; port: number }> = [];
  const proxy = new UserspaceProxy(() => {});
  let port: number;

  before(async () => {
    for (const name of ['one', 'two']) {
      const server = createHttpServer((_q, s) => s.end(name));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      backends.push({ server, port: (server.address() as AddressInfo).port });
    }
    port = await freePort();
  });
  after(async () => {
    await proxy.stop();
    for (const b of backends) b.server.close();
  });

  const frontend = (extra: Partial<Frontend> = {}): Frontend => ({
    protocol: 'tcp',
    ip: '127.0.0.1',
    port,
    servicePort: 'default/web:http',
    backends: backends.map((b) => ({ ip: '127.0.0.1', port: b.port })),
    ...extra,
  });

  it('forwards round robin to every backend', async () => {
    await proxy.update([frontend()]);
    assert.deepEqual(proxy.serving(), [`tcp:127.0.0.1:${port}`]);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await get(port));
    assert.deepEqual([...seen].sort(), ['one', 'two']);
  });

  it('skips a backend that refuses connections', async () => {
    const dead = await freePort();
    await proxy.update([frontend({ backends: [{ ip: '127.0.0.1', port: dead }, { ip: '127.0.0.1', port: backends[1].port }] })]);
    for (let i = 0; i < 3; i++) assert.equal(await get(port), 'two');
  });

  it('ClientIP affinity keeps a client on one backend', async () => {
    await proxy.update([frontend({ stickyMaxAgeSeconds: 60 })]);
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) seen.add(await get(port));
    assert.equal(seen.size, 1);
  });

  it('loadBalancerSourceRanges: a client outside the ranges is cut off, one inside served', async () => {
    await proxy.update([frontend({ sourceRanges: ['10.0.0.0/8'] })]);
    await assert.rejects(get(port));
    await proxy.update([frontend({ sourceRanges: ['10.0.0.0/8', '127.0.0.0/8'] })]);
    assert.match(await get(port), /one|two/);
  });

  it('no backends: no listener, connections refused at once', async () => {
    await proxy.update([frontend({ backends: [] })]);
    assert.deepEqual(proxy.serving(), []);
    await assert.rejects(get(port), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  });

  it('UDP: each flow gets a backend and its replies', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
    const udpPort = await freePort();
    await proxy.update([{ protocol: 'udp', ip: '127.0.0.1', port: udpPort, servicePort: 'default/dns:dns', backends: [{ ip: '127.0.0.1', port: echo.address().port }] }]);
    const client = createSocket('udp4');
    const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(String(m))));
    client.send('hi', udpPort, '127.0.0.1');
    assert.equal(await reply, 'echo:hi');
    client.close();
    echo.close();
  });
});
