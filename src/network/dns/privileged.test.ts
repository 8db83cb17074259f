/**
 * @module The privileged cluster DNS in a network namespace of the test's own: the address on
 * a dummy interface (or loopback), port 53 there, a stale address from a killed server taken
 * over and everything removed at stop. Root on Linux with `ip` and `dig`; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const hasTools = spawnSync('ip', ['-V']).status === 0 && spawnSync('dig', ['-v']).status === 0;
const skip = !isRoot ? 'needs root on Linux' : !hasTools ? 'needs ip and dig' : false;

const here = dirname(fileURLToPath(import.meta.url));
const netns = `skt-dns-${randomBytes(3).toString('hex')}`;
const dnsIP = `10.43.${100 + randomInt(150)}.10`;

function inNetns(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', netns, ...args]);
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** A node process inside the namespace running startClusterDNS privileged, stopped by "stop" on stdin. */
function startChild(): Promise<ChildProcess> {
  const index = pathToFileURL(join(here, 'index.js')).href;
  const script = `
    import { startClusterDNS } from ${JSON.stringify(index)};
    const handlers = [];
    const informers = { for: (r) => ({ addEventHandlers: (h) => { if (r.resource === 'services') handlers.push(h); } }) };
    const dns = await startClusterDNS({ client: {}, informers, nodeName: 'n', podCIDR: '10.42.0.0/24', nodeIP: '127.0.0.1', bridge: 'skiff0',
      clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDNS: ${JSON.stringify(dnsIP)}, clusterDomain: 'cluster.local', privileged: true,
      signal: new AbortController().signal, log: (m) => process.stderr.write(JSON.stringify(m) + '\\n'), dns: { upstreams: [] } });
    for (const h of handlers) h.add({ metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.43.1.2', clusterIPs: ['10.43.1.2'], ports: [{ port: 80 }] } });
    process.stdout.write('ready ' + dns.port + '\\n');
    process.stdin.on('data', async () => { await dns.stop(); process.stdout.write('stopped\\n'); process.exit(0); });
  `;
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (e: Error) => {
      child.kill('SIGKILL');
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`the DNS child did not start: ${err}`)), 15_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      if (/ready (\d+)/.test(out)) {
        clearTimeout(timer);
        if (!out.includes('ready 53')) fail(new Error(`listening on the wrong port: ${out} ${err}`));
        else resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`the DNS child exited ${code}: ${err}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.stdin!.write('stop\n');
  await exited;
}

describe('privileged cluster DNS', { skip }, () => {
  before(() => {
    assert.ok(spawnSync('ip', ['netns', 'add', netns]).status === 0, 'netns add');
    inNetns(['ip', 'link', 'set', 'lo', 'up']);
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', netns]);
  });

  test('serves on port 53 of the cluster DNS address and takes the address away at stop', async () => {
    const child = await startChild();
    try {
      assert.match(inNetns(['ip', '-o', 'addr', 'show']).out, new RegExp(`inet ${dnsIP.replace(/\./g, '\\.')}/32`));
      const dig = inNetns(['dig', `@${dnsIP}`, '+short', '+time=2', '+tries=1', 'web.default.svc.cluster.local']);
      assert.equal(dig.out.trim(), '10.43.1.2');
    } finally {
      await stopChild(child);
    }
    assert.doesNotMatch(inNetns(['ip', '-o', 'addr', 'show']).out, new RegExp(`${dnsIP.replace(/\./g, '\\.')}/32`));
  });

  test('an address left behind by a killed server is taken over and removed at stop', async () => {
    inNetns(['ip', 'addr', 'add', `${dnsIP}/32`, 'dev', 'lo']);
    const child = await startChild();
    try {
      assert.equal(inNetns(['dig', `@${dnsIP}`, '+short', '+time=2', '+tries=1', 'web.default.svc.cluster.local']).out.trim(), '10.43.1.2');
    } finally {
      await stopChild(child);
    }
    assert.doesNotMatch(inNetns(['ip', '-o', 'addr', 'show']).out, new RegExp(`${dnsIP.replace(/\./g, '\\.')}/32`));
  });
});
