/**
 * @module End-to-end: Service ClusterIP/NodePort allocation as kubectl sees it (CLUSTER-IP and
 * PORT(S) columns, kube's refusals of taken addresses and ports, release on delete, survival of
 * a restart), and — as root on the process runtime — cluster DNS from inside a pod: its
 * resolv.conf, a Service by short name, by `svc.ns`, by FQDN, a headless Service and a pod's
 * hostname.subdomain record, all answered by the node-local DNS server at the cluster DNS address.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cluster, eventually, stopProcessCluster } from './harness.js';

describe('Service allocation through kubectl', () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start();
  });
  after(async () => {
    await c?.stop();
  });

  test('ClusterIP and NodePort Services show their allocated address and ports', async () => {
    await c.k(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
    await c.k(['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30555']);
    await c.k(['create', 'service', 'nodeport', 'auto', '--tcp=8080:8080']);
    const out = await c.k(['get', 'svc']);
    assert.match(out, /^web\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP\s+/m);
    assert.match(out, /^np\s+NodePort\s+10\.43\.\d+\.\d+\s+<none>\s+80:30555\/TCP\s+/m);
    assert.match(out, /^auto\s+NodePort\s+10\.43\.\d+\.\d+\s+<none>\s+8080:3\d{4}\/TCP\s+/m);
    const ips = (await c.k(['get', 'svc', '-o', 'jsonpath={.items[*].spec.clusterIP}'])).split(' ');
    assert.equal(new Set(ips).size, ips.length, 'every Service has its own address');
    const described = await c.k(['describe', 'svc', 'np']);
    assert.match(described, /^IP Families:\s+IPv4$/m);
    assert.match(described, /^IPs?:\s+10\.43\.\d+\.\d+$/m);
    assert.match(described, /^NodePort:\s+80-8080\s+30555\/TCP$/m);
    const web = JSON.parse(await c.k(['get', 'svc', 'web', '-o', 'json']));
    assert.deepEqual(web.spec.ipFamilies, ['IPv4']);
    assert.equal(web.spec.ipFamilyPolicy, 'SingleStack');
  });

  test('kubernetes and kube-dns hold the first and the tenth address', async () => {
    assert.match(await c.k(['get', 'svc', 'kubernetes']), /^kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP/m);
    const dns = await c.k(['get', 'svc', '-n', 'kube-system', 'kube-dns']);
    assert.match(dns, /^kube-dns\s+ClusterIP\s+10\.43\.0\.10\s+<none>\s+53\/UDP,53\/TCP,9153\/TCP/m);
  });

  test('a taken ClusterIP or NodePort is refused with kube-apiserver’s message', async () => {
    const ip = (await c.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const dup = await c.kubectl(['apply', '-f', '-'], {
      stdin: `apiVersion: v1\nkind: Service\nmetadata: {name: dup}\nspec:\n  clusterIP: ${ip}\n  ports: [{port: 80}]\n`,
    });
    assert.notEqual(dup.code, 0);
    assert.match(
      dup.stderr,
      new RegExp(`The Service "dup" is invalid: spec\\.clusterIPs: Invalid value: \\[\\]string\\{"${ip.replace(/\./g, '\\.')}"\\}: failed to allocate IP ${ip.replace(/\./g, '\\.')}: provided IP is already allocated`),
    );
    const port = await c.kubectl(['create', 'service', 'nodeport', 'np2', '--tcp=81:8080', '--node-port=30555']);
    assert.notEqual(port.code, 0);
    // kubectl create service words it "failed to create NodePort service: Service ... is invalid".
    assert.match(port.stderr, /Service "np2" is invalid: spec\.ports\[0\]\.nodePort: Invalid value: 30555: provided port is already allocated/);
    const range = await c.kubectl(['create', 'service', 'clusterip', 'far', '--tcp=80:80', '--clusterip=10.99.0.1']);
    assert.match(range.stderr, /failed to allocate IP 10\.99\.0\.1: the provided IP \(10\.99\.0\.1\) is not in the valid range\. The range of valid IPs is 10\.43\.0\.0\/16/);
    assert.match((await c.kubectl(['get', 'svc', 'dup'])).stderr, /NotFound|not found/);
  });

  test('a deleted Service gives its address and node port back', async () => {
    const ip = (await c.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    await c.k(['delete', 'svc', 'web', 'np']);
    await c.k(['create', 'service', 'clusterip', 'again', '--tcp=80:8080', `--clusterip=${ip}`]);
    await c.k(['create', 'service', 'nodeport', 'np3', '--tcp=80:8080', '--node-port=30555']);
    assert.match(await c.k(['get', 'svc', 'again']), new RegExp(`${ip.replace(/\./g, '\\.')}`));
  });

  test('changing the type allocates and releases node ports', async () => {
    await c.k(['patch', 'svc', 'again', '-p', '{"spec":{"type":"NodePort"}}']);
    assert.match(await c.k(['get', 'svc', 'again']), /NodePort\s+\S+\s+<none>\s+80:3\d{4}\/TCP/);
    await c.k(['patch', 'svc', 'np3', '--type=json', '-p', '[{"op":"replace","path":"/spec/type","value":"ClusterIP"},{"op":"remove","path":"/spec/ports/0/nodePort"},{"op":"remove","path":"/spec/externalTrafficPolicy"}]']);
    assert.match(await c.k(['get', 'svc', 'np3']), /ClusterIP\s+\S+\s+<none>\s+80\/TCP/);
    await c.k(['create', 'service', 'nodeport', 'np4', '--tcp=80:8080', '--node-port=30555']);
  });

  test('allocations survive a restart of the server', async () => {
    const ip = (await c.k(['get', 'svc', 'again', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    await c.stop({ keepData: true });
    c = await Cluster.start({ dataDir: c.dataDir });
    const dup = await c.kubectl(['create', 'service', 'clusterip', 'after', '--tcp=80:80', `--clusterip=${ip}`]);
    assert.match(dup.stderr, /provided IP is already allocated/);
    const port = await c.kubectl(['create', 'service', 'nodeport', 'np5', '--tcp=80:8080', '--node-port=30555']);
    assert.match(port.stderr, /provided port is already allocated/);
  });
});

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const hasPython = spawnSync('python3', ['--version']).status === 0;
const hasDig = spawnSync('dig', ['-v']).status === 0;
const skip = !isRoot ? 'cluster DNS at its address and pods in their own network need root on Linux' : !hasPython ? 'python3 is not installed' : false;

describe('cluster DNS from inside a pod', { skip }, () => {
  let c: Cluster;
  let dataDir: string;
  let dnsIP: string;
  const manifest = `apiVersion: v1
kind: Service
metadata: {name: backend}
spec:
  selector: {app: backend}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: backend-hl}
spec:
  clusterIP: None
  selector: {app: backend}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: backend-0, labels: {app: backend}}
spec:
  hostname: backend-0
  subdomain: backend-hl
  containers:
  - name: http
    image: python
    command: [python3, -m, http.server, "8080"]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - name: sh
    image: python
    command: [sleep, "3600"]
`;

  /** The IPv4 address a name resolves to inside the client pod (A queries only). */
  async function resolveInPod(name: string): Promise<string> {
    return (await c.k(['exec', 'client', '--', 'python3', '-c', `import socket; print(socket.gethostbyname(${JSON.stringify(name)}))`])).trim();
  }

  before(async () => {
    c = await Cluster.start({ extraArgs: ['--runtime', 'process'], timeoutMs: 60_000 });
    dataDir = c.dataDir;
    dnsIP = c.node.serviceCIDR!.replace(/\.0\/24$/, '.10');
    await eventually(async () => / Ready /.test(await c.k(['get', 'nodes', '--no-headers'])), { timeoutMs: 20_000, what: 'the local node to be Ready' });
    await c.k(['apply', '-f', '-'], { stdin: manifest });
    await eventually(
      async () => {
        const pods = JSON.parse(await c.k(['get', 'pods', '-o', 'json'])).items as Array<{ status: { containerStatuses?: Array<{ ready: boolean }> } }>;
        return pods.length === 2 && pods.every((p) => p.status.containerStatuses?.[0]?.ready);
      },
      { timeoutMs: 30_000, what: 'backend-0 and client to be ready' },
    );
  });

  after(async () => {
    if (c) await stopProcessCluster(c, { removeCgroupParent: true });
  });

  test('the pod’s resolv.conf points at the cluster DNS with the namespace search path and ndots:5', async () => {
    const text = await c.k(['exec', 'client', '--', 'cat', '/etc/resolv.conf']);
    assert.match(text, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/m);
    assert.match(text, new RegExp(`^nameserver ${dnsIP.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(text, /^options ndots:5$/m);
    assert.match(await c.k(['get', 'svc', '-n', 'kube-system', 'kube-dns']), new RegExp(`\\s${dnsIP.replace(/\./g, '\\.')}\\s`));
  });

  test('a Service resolves by name, by name.namespace and by its FQDN', async () => {
    const ip = (await c.k(['get', 'svc', 'backend', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    assert.equal(await resolveInPod('backend'), ip);
    assert.equal(await resolveInPod('backend.default'), ip);
    // The trailing dot makes it absolute: no search list, so nothing leaves the cluster zone.
    assert.equal(await resolveInPod('backend.default.svc.cluster.local.'), ip);
  });

  test('a headless Service resolves to the pod, and so does its hostname.subdomain', async () => {
    const podIP = (await c.k(['get', 'pod', 'backend-0', '-o', 'jsonpath={.status.podIP}'])).trim();
    await eventually(async () => (await resolveInPod('backend-hl')) === podIP, { timeoutMs: 10_000, what: 'backend-hl to resolve to the pod' });
    assert.equal(await resolveInPod('backend-0.backend-hl'), podIP);
    const missing = await c.kubectl(['exec', 'client', '--', 'python3', '-c', 'import socket; socket.gethostbyname("nothing-here.default.svc.cluster.local.")']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Name or service not known|gaierror/);
  });

  test('the node itself asks the DNS address directly (dig) and scrapes its metrics', { skip: hasDig ? false : 'dig is not installed' }, async () => {
    const ip = (await c.k(['get', 'svc', 'backend', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const out = execFileSync('dig', [`@${dnsIP}`, '+short', '+time=2', '+tries=1', 'backend.default.svc.cluster.local']).toString().trim();
    assert.equal(out, ip);
    const srv = execFileSync('dig', [`@${dnsIP}`, '+short', '+time=2', '+tries=1', 'SRV', '_http._tcp.backend.default.svc.cluster.local']).toString().trim();
    assert.equal(srv, '0 100 80 backend.default.svc.cluster.local.');
    // CoreDNS's metrics port, as the kube-dns Service advertises it.
    const metrics = await (await fetch(`http://${dnsIP}:9153/metrics`)).text();
    assert.match(metrics, /coredns_dns_requests_total\{[^}]*type="SRV"\} [1-9]/);
    assert.match(await c.k(['get', '--raw', '/metrics']), /coredns_dns_requests_total\{[^}]*type="SRV"\} [1-9]/, 'and on the API server’s /metrics');
  });

  test('stopping the server takes the DNS address off the node', async () => {
    const before = spawnSync('ip', ['-o', 'addr', 'show']).stdout.toString();
    assert.ok(before.includes(`${dnsIP}/32`));
    await c.kubectl(['delete', 'pods', '--all', '--grace-period=1', '--timeout=60s']);
    await c.stop({ keepData: true });
    const afterStop = spawnSync('ip', ['-o', 'addr', 'show']).stdout.toString();
    assert.ok(!afterStop.includes(`${dnsIP}/32`), 'the address is gone');
  });
});
