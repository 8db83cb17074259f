/**
 * End-to-end: a server and two agents joined with the token, each agent in its own network
 * namespace standing in for a host (veth pairs on a test bridge, addresses from
 * 172.31.R.0/24). Checks node registration with InternalIPs and pod CIDRs from node IPAM,
 * pod-to-pod traffic across nodes over host-gw routes, logs/exec through the API server to
 * an agent's kubelet, NotReady when an agent dies, certificate reuse on restart, and wrong
 * tokens. Root only; traffic goes only to addresses inside the namespaces and bridge made here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Cluster, eventually, skiffBin } from './harness.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const hasTools = isRoot && spawnSync('ip', ['-V']).status === 0 && spawnSync('nsenter', ['--version']).status === 0;
const skip = !isRoot ? 'needs root on Linux (network namespaces)' : !hasTools ? 'needs iproute2 and nsenter (util-linux)' : false;

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

/** A /24 of 172.31.0.0/16 that no interface of this host uses yet. */
function freeSubnet(): number {
  const used = spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
  for (;;) {
    const r = randomInt(16, 250);
    if (!used.includes(`172.31.${r}.`)) return r;
  }
}

/**
 * 10.42.P.0/24 for this test's pod CIDRs: below the 100-250 other e2e suites draw their
 * node's pod CIDR from, and not routed on this host yet.
 */
function freePodBlock(): number {
  const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
  for (;;) {
    const p = randomInt(20, 100);
    if (!routes.includes(`10.42.${p}.`)) return p;
  }
}

interface Host {
  netns: string;
  veth: string;
  ip: string;
  nodeName: string;
  dataDir: string;
  proc?: ChildProcess;
  out: string;
}

/** A test bridge in the root namespace (172.31.R.1) and one network namespace per "host" on it. */
class TestNet {
  readonly tag = randomBytes(2).toString('hex');
  readonly subnet = skip ? 0 : freeSubnet();
  readonly podBlock = skip ? 0 : freePodBlock();
  readonly bridge = `skt${this.tag}m`;
  readonly gateway = `172.31.${this.subnet}.1`;
  readonly base = mkdtempSync(join(tmpdir(), 'skiff-multinode-'));
  readonly hosts: Host[];
  cluster!: Cluster;
  token = '';

  constructor(names: string[]) {
    this.hosts = names.map((h, i) => ({
      netns: `skt-host${h.toUpperCase()}-${this.tag}`,
      veth: `skt${this.tag}${h}`,
      ip: `172.31.${this.subnet}.${i + 2}`,
      nodeName: `skt-node-${h}-${this.tag}`,
      dataDir: join(this.base, h),
      out: '',
    }));
  }

  /** Pod CIDRs are /26 blocks of 10.42.P.0/24, a range of this test's own. */
  get clusterCIDR(): string {
    return `10.42.${this.podBlock}.0/24`;
  }

  async setUp(serverArgs: string[]): Promise<void> {
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.gateway}/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
    for (const h of this.hosts) {
      ip('netns', 'add', h.netns);
      ip('link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns);
      ip('link', 'set', h.veth, 'master', this.bridge, 'up');
      ip('-n', h.netns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0');
      ip('-n', h.netns, 'link', 'set', 'lo', 'up');
      ip('-n', h.netns, 'link', 'set', 'eth0', 'up');
    }
    this.cluster = await Cluster.start({
      extraArgs: ['--bind-address', this.gateway, '--cluster-cidr', this.clusterCIDR, '--node-cidr-mask-size', '26', '--node-monitor-grace-period', '5', ...serverArgs],
    });
    this.token = readFileSync(join(this.cluster.dataDir, 'token'), 'utf8').trim();
    for (const h of this.hosts) this.startAgent(h);
  }

  /** Pods first, so their agents tear the sandboxes down; then the agents, then the "hosts". */
  async tearDown(): Promise<void> {
    if (this.cluster) await this.cluster.kubectl(['delete', 'pods', '--all', '--wait=true', '--timeout=20s']).catch(() => {});
    for (const h of this.hosts) await this.stopAgent(h);
    if (this.cluster) {
      await this.cluster.stop();
      // A restarted server (same data dir) got a HOME of its own beside it.
      rmSync(dirname(this.cluster.home), { recursive: true, force: true });
    }
    for (const h of this.hosts) {
      spawnSync('ip', ['link', 'del', h.veth], { stdio: 'ignore' });
      spawnSync('ip', ['netns', 'del', h.netns], { stdio: 'ignore' });
    }
    spawnSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
    rmSync(this.base, { recursive: true, force: true });
  }

  /** `skiff agent` inside the host's network namespace. */
  spawnAgent(h: Host, args: string[]): ChildProcess {
    // nsenter switches only the network namespace: `ip netns exec` would also remount /sys
    // and hide the cgroup hierarchy from the agent.
    return spawn('nsenter', [`--net=/run/netns/${h.netns}`, '--', process.execPath, skiffBin, 'agent', '--server', this.cluster.url, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  startAgent(h: Host): ChildProcess {
    h.out = '';
    const proc = this.spawnAgent(h, [
      '--token', this.token, '--node-name', h.nodeName, '--node-ip', h.ip, '--data-dir', h.dataDir,
      '--pod-bridge', `skt${this.tag}p`, '--cluster-cidr', this.clusterCIDR, '--node-status-update-frequency', '1',
    ]);
    proc.stdout!.on('data', (d) => (h.out += d));
    proc.stderr!.on('data', (d) => (h.out += d));
    h.proc = proc;
    return proc;
  }

  async stopAgent(h: Host, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = h.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  /** Routes, forwarding and route logs of every host, for failure messages. */
  diagnose(): string {
    return this.hosts
      .map((h) => {
        const routes = spawnSync('ip', ['-n', h.netns, 'route'], { encoding: 'utf8' }).stdout;
        const fwd = spawnSync('ip', ['netns', 'exec', h.netns, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }).stdout.trim();
        const logs = h.out.split('\n').filter((l) => /route|forward|network/i.test(l)).slice(-8).join('\n');
        return `${h.netns}: ip_forward=${fwd}\n${routes}${logs}`;
      })
      .join('\n');
  }

  async nodeReady(name: string): Promise<string> {
    return (await this.cluster.k(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).trim();
  }

  async podIP(name: string): Promise<string | undefined> {
    const out = await this.cluster.k(['get', 'pod', name, '-o', 'jsonpath={.status.phase} {.status.podIP}']);
    const [phase, podIP] = out.trim().split(' ');
    return phase === 'Running' && podIP ? podIP : undefined;
  }

  /** GET url from inside a pod with curl; the body once it answers. */
  curlFrom(pod: string, url: string, what: string): Promise<string> {
    return eventually(
      async () => {
        const r = await this.cluster.kubectl(['exec', pod, '--', 'curl', '-sS', '--max-time', '3', url]);
        return r.code === 0 ? r.stdout : undefined;
      },
      { timeoutMs: 20_000, what: `${what} (${this.diagnose()})` },
    );
  }
}

/** A pod running `cmd` on the named node (the process runtime ignores the image). */
const pod = (name: string, node: string, cmd: string[]) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: name } },
  spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'skiff/host', command: cmd }] },
});

/** An HTTP server on 8080 that names itself and the address the request came from. */
const webServer = [process.execPath, '-e', `require('http').createServer((q, s) => s.end('hello from ' + require('os').hostname() + ' to ' + q.socket.remoteAddress.replace(/^::ffff:/, '') + '\\n')).listen(8080, () => console.log('listening on 8080'))`];

describe('multi-node: agents join with the token and pods reach each other across nodes', { skip }, () => {
  const net = new TestNet(['a', 'b']);
  const { hosts, base } = net;
  const podBlock = net.podBlock;
  let cluster: Cluster;
  let token = '';
  const startAgent = (h: Host) => net.startAgent(h);
  const stopAgent = (h: Host, signal?: NodeJS.Signals) => net.stopAgent(h, signal);
  const nodeReady = (name: string) => net.nodeReady(name);

  before(async () => {
    await net.setUp([]);
    cluster = net.cluster;
    token = net.token;
  });

  after(() => net.tearDown());

  test('both agents register Ready nodes with their InternalIPs and distinct pod CIDRs', async () => {
    await eventually(async () => (await nodeReady(hosts[0].nodeName)) === 'True' && (await nodeReady(hosts[1].nodeName)) === 'True', {
      timeoutMs: 40_000,
      what: `both nodes Ready (agent logs: ${hosts.map((h) => h.out.slice(-2000)).join('\n---\n')})`,
    });
    const wide = await cluster.k(['get', 'nodes', '-o', 'wide']);
    for (const h of hosts) assert.match(wide, new RegExp(`${h.nodeName}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.32\\.0\\+skiff\\s+${h.ip.replace(/\./g, '\\.')}\\s`), wide);
    const cidrs = (await cluster.k(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.spec.podCIDR}{" "}{end}'])).trim().split(' ');
    assert.equal(new Set(cidrs).size, 2, `distinct pod CIDRs: ${cidrs}`);
    for (const c of cidrs) assert.match(c, new RegExp(`^10\\.42\\.${podBlock}\\.(0|64|128|192)/26$`));
    for (const h of hosts) assert.match(h.out, /obtained node certificates/);
  });

  test('a pod on node A reaches a pod on node B by pod IP; logs and exec reach the agent\'s kubelet', async () => {
    const manifest = { apiVersion: 'v1', kind: 'List', items: [pod('web-b', hosts[1].nodeName, webServer), pod('client-a', hosts[0].nodeName, ['sleep', '3600'])] };
    await cluster.k(['apply', '-f', '-'], { stdin: JSON.stringify(manifest) });
    const webIP = await eventually(() => net.podIP('web-b'), { timeoutMs: 30_000, what: 'web-b Running with an IP' });
    const clientIP = await eventually(() => net.podIP('client-a'), { timeoutMs: 30_000, what: 'client-a Running' });
    const cidrB = (await cluster.k(['get', 'node', hosts[1].nodeName, '-o', 'jsonpath={.spec.podCIDR}'])).trim();
    assert.ok(webIP.startsWith(`10.42.${podBlock}.`), `web-b's IP ${webIP} comes from node B's pod CIDR ${cidrB}`);

    // kubectl logs and exec go API server → node B's kubelet on 172.31.R.3.
    await eventually(async () => /listening on 8080/.test(await cluster.k(['logs', 'web-b'])), { timeoutMs: 10_000, what: 'logs of web-b' });
    assert.equal((await cluster.k(['exec', 'web-b', '--', 'sh', '-c', 'echo exec-ok'])).trim(), 'exec-ok');

    const body = await net.curlFrom('client-a', `http://${webIP}:8080/`, `client-a on node A to reach ${webIP}:8080 on node B`);
    assert.match(body, /^hello from /);
    // host-gw keeps pod source addresses: node B sees node A's pod IP, not a masqueraded node IP.
    assert.ok(body.trim().endsWith(` to ${clientIP}`), `web-b saw the client as ${body.trim()}, not as its pod IP ${clientIP}`);
    const routeA = spawnSync('ip', ['-n', hosts[0].netns, 'route', 'show', cidrB], { encoding: 'utf8' }).stdout;
    assert.match(routeA, new RegExp(`via ${hosts[1].ip.replace(/\./g, '\\.')}`), `route to node B's pods on host A: ${routeA}`);
  });

  test('a ClusterIP Service backed by a pod on node B answers a pod on node A', async () => {
    await cluster.k(['expose', 'pod', 'web-b', '--name', 'web-b', '--port', '80', '--target-port', '8080']);
    const clusterIP = (await cluster.k(['get', 'svc', 'web-b', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    assert.match(clusterIP, /^10\.43\.\d+\.\d+$/, 'a ClusterIP from the service CIDR');
    const body = await net.curlFrom('client-a', `http://${clusterIP}/`, `client-a on node A to reach Service ${clusterIP}:80 (endpoint on node B)`);
    assert.match(body, /^hello from /);
  });

  test('agents ride out a server killed with SIGKILL: they reconnect and run new pods', async () => {
    const port = new URL(cluster.url).port;
    await cluster.stop({ keepData: true, signal: 'SIGKILL' });
    net.cluster = cluster = await Cluster.start({
      dataDir: cluster.dataDir,
      extraArgs: ['--port', port, '--bind-address', net.gateway, '--cluster-cidr', net.clusterCIDR, '--node-cidr-mask-size', '26', '--node-monitor-grace-period', '5'],
    });
    await cluster.k(['apply', '-f', '-'], { stdin: JSON.stringify(pod('after-restart', hosts[0].nodeName, ['sleep', '3600'])) });
    await eventually(() => net.podIP('after-restart'), { timeoutMs: 30_000, what: `a new pod Running on node A after the restart (agent: ${hosts[0].out.slice(-1500)})` });
    for (const h of hosts) assert.equal(await nodeReady(h.nodeName), 'True');
  });

  test('a stopped agent\'s node goes NotReady; restarted, it reuses its certificates and is Ready again', async () => {
    const h = hosts[1];
    const certPath = join(h.dataDir, 'agent', 'tls', 'client-kubelet.crt');
    const before = readFileSync(certPath, 'utf8');
    const mtime = statSync(certPath).mtimeMs;
    await stopAgent(h, 'SIGKILL');
    await eventually(async () => (await nodeReady(h.nodeName)) === 'Unknown', { timeoutMs: 30_000, what: 'node B NotReady (Unknown) after its agent died' });
    const wide = await cluster.k(['get', 'node', h.nodeName]);
    assert.match(wide, /NotReady/);
    startAgent(h);
    await eventually(async () => (await nodeReady(h.nodeName)) === 'True', { timeoutMs: 30_000, what: `node B Ready again (agent: ${h.out.slice(-1500)})` });
    assert.match(h.out, /reusing the certificates/);
    assert.equal(readFileSync(certPath, 'utf8'), before);
    assert.equal(statSync(certPath).mtimeMs, mtime);
  });

  test('a stopped agent removes its routes; a deleted Node\'s pod CIDR is no longer routed', async () => {
    const [a, b] = hosts;
    const cidrB = (await cluster.k(['get', 'node', b.nodeName, '-o', 'jsonpath={.spec.podCIDR}'])).trim();
    const cidrA = (await cluster.k(['get', 'node', a.nodeName, '-o', 'jsonpath={.spec.podCIDR}'])).trim();
    const routes = (h: Host) => spawnSync('ip', ['-n', h.netns, 'route'], { encoding: 'utf8' }).stdout;
    assert.match(routes(b), new RegExp(`^${cidrA.replace(/\./g, '\\.')} via ${a.ip.replace(/\./g, '\\.')}`, 'm'));
    // Node B's pods go first, while its kubelet can still tear them down.
    await cluster.k(['delete', 'pod', 'web-b', '--ignore-not-found', '--wait=true', '--timeout=20s']);
    await stopAgent(b);
    assert.doesNotMatch(routes(b), new RegExp(`^${cidrA.replace(/\./g, '\\.')} `, 'm'), 'node B removed its routes on stop');
    await cluster.k(['delete', 'node', b.nodeName]);
    await eventually(() => !routes(a).includes(`${cidrB} via`), { timeoutMs: 10_000, what: `host A to drop its route to ${cidrB}` });
  });

  test('a wrong token is refused with a clear message and exit code 1', async () => {
    const run = (tok: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = net.spawnAgent(hosts[0], ['--token', tok, '--node-name', 'skt-intruder', '--node-ip', hosts[0].ip, '--data-dir', join(base, 'intruder')]);
        let out = '';
        p.stdout!.on('data', (d) => (out += d));
        p.stderr!.on('data', (d) => (out += d));
        const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
        p.on('exit', (code) => (clearTimeout(t), resolve({ code, out })));
      });
    const badHash = await run(token.replace(/^K10[0-9a-f]{4}/, 'K100000'));
    assert.equal(badHash.code, 1, badHash.out);
    assert.match(badHash.out, /token CA hash does not match the Cluster CA certificate hash/);
    const badSecret = await run(token.replace(/:server:.*$/, ':server:not-the-secret'));
    assert.equal(badSecret.code, 1, badSecret.out);
    assert.match(badSecret.out, /refused the join token \(401 Unauthorized\)/);
    const nodes = await cluster.k(['get', 'nodes', '-o', 'name']);
    assert.doesNotMatch(nodes, /skt-intruder/);
  });
});

describe('multi-node: the server\'s own node (--node-ip) and an agent route pods to each other', { skip }, () => {
  const net = new TestNet(['c']);
  const serverNode = `skt-server-${net.tag}`;
  const serverCIDR = `10.42.${net.podBlock}.0/26`;

  before(() => net.setUp(['--runtime', 'process', '--node-name', serverNode, '--node-ip', net.gateway, '--pod-cidr', serverCIDR]));
  after(() => net.tearDown());

  test('node IPAM skips the server node\'s --pod-cidr; pods on both nodes reach each other; logs from the server node', async () => {
    const { cluster, hosts } = net;
    const agent = hosts[0];
    await eventually(async () => (await net.nodeReady(agent.nodeName)) === 'True' && (await net.nodeReady(serverNode)) === 'True', {
      timeoutMs: 40_000,
      what: `both nodes Ready (agent: ${agent.out.slice(-1500)})`,
    });
    const wide = await cluster.k(['get', 'nodes', '-o', 'wide']);
    assert.match(wide, new RegExp(`${serverNode}\\s+Ready\\s+\\S+\\s+\\S+\\s+\\S+\\s+${net.gateway.replace(/\./g, '\\.')}\\s`), wide);
    assert.equal((await cluster.k(['get', 'node', serverNode, '-o', 'jsonpath={.spec.podCIDR}'])).trim(), serverCIDR);
    const agentCIDR = (await cluster.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.spec.podCIDR}'])).trim();
    assert.notEqual(agentCIDR, serverCIDR);

    const manifest = { apiVersion: 'v1', kind: 'List', items: [pod('web-c', agent.nodeName, webServer), pod('web-s', serverNode, webServer)] };
    await cluster.k(['apply', '-f', '-'], { stdin: JSON.stringify(manifest) });
    const ipC = await eventually(() => net.podIP('web-c'), { timeoutMs: 30_000, what: 'web-c Running' });
    const ipS = await eventually(() => net.podIP('web-s'), { timeoutMs: 30_000, what: 'web-s Running' });
    // The server node's kubelet serves on --node-ip with a certificate for it.
    await eventually(async () => /listening on 8080/.test(await cluster.k(['logs', 'web-s'])), { timeoutMs: 10_000, what: 'logs of web-s' });
    assert.ok((await net.curlFrom('web-s', `http://${ipC}:8080/`, 'server node pod → agent pod')).trim().endsWith(` to ${ipS}`));
    assert.ok((await net.curlFrom('web-c', `http://${ipS}:8080/`, 'agent pod → server node pod')).trim().endsWith(` to ${ipC}`));
  });
});
