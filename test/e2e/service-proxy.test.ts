/**
 * @module End-to-end: Services carrying real traffic on the process runtime (root only): a
 * Deployment behind a ClusterIP and a LoadBalancer Service; the built-in load balancer shows
 * the node's address as EXTERNAL-IP; requests through the ClusterIP (from a pod, kernel path)
 * and through EXTERNAL-IP:80 and the NodePort (loopback node address, userspace path) reach
 * every replica after scaling from 1 to 3; kube-proxy's sync metrics are exported.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Cluster, eventually, stopProcessCluster } from './harness.js';

const isRoot = process.getuid?.() === 0 && process.platform === 'linux';
const nodeIP = `127.0.${1 + randomInt(250)}.${2 + randomInt(250)}`;

const server = `import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ["POD_NAME"].encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("", 8000), H).serve_forever()
`;

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: python
        command: [python3, -c, ${JSON.stringify(server)}]
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        ports: [{containerPort: 8000}]
        readinessProbe:
          httpGet: {path: /, port: 8000}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - name: client
    image: curl
    command: [sleep, "3600"]
`;

function get(ip: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port, path: '/', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('Service traffic on the process runtime', { skip: isRoot ? false : 'needs root on Linux' }, () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({ extraArgs: ['--runtime', 'process', '--node-ip', nodeIP], timeoutMs: 60_000 });
  });
  after(async () => {
    if (c) await stopProcessCluster(c);
  });

  const podNames = async () => (await c.k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/).filter(Boolean);
  const readyEndpoints = async () =>
    (await c.k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}'])).trim().split(/\s+/).filter(Boolean).length;
  /** Requests from inside the client pod, each a new connection through the kernel's ClusterIP rules. */
  const fromPod = async (url: string, n: number) =>
    (await c.k(['exec', 'client', '--', 'sh', '-c', `for i in $(seq ${n}); do curl -s -m 2 ${url}; echo; done`])).trim().split('\n').filter(Boolean);

  test('LoadBalancer shows the node address as EXTERNAL-IP; ClusterIP, EXTERNAL-IP:80 and the NodePort reach the pod', async () => {
    await c.k(['apply', '-f', '-'], { stdin: manifest });
    await eventually(async () => (await c.k(['get', 'svc', 'web-lb'])).includes(nodeIP), { timeoutMs: 20_000, what: 'EXTERNAL-IP' });
    assert.match(await c.k(['get', 'svc', 'web-lb']), new RegExp(`^web-lb\\s+LoadBalancer\\s+10\\.43\\.\\d+\\.\\d+\\s+${nodeIP.replace(/\./g, '\\.')}\\s+80:3\\d{4}/TCP`, 'm'));
    await eventually(async () => (await readyEndpoints()) === 1, { timeoutMs: 60_000, what: 'a ready web pod' });
    await eventually(async () => (await c.k(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])) === 'Running', { timeoutMs: 60_000, what: 'client running' });
    const clusterIP = (await c.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    // The rules must be in before a probe could leave through the default route.
    const table = `skiff-proxy-${c.node.bridge}`;
    await eventually(() => execFileSync('nft', ['list', 'table', 'ip', table]).toString().includes(`${clusterIP} . tcp . 80`), { timeoutMs: 15_000, what: 'ClusterIP rules' });
    const [pod] = await podNames();
    assert.deepEqual(await fromPod(`http://${clusterIP}/`, 2), [pod, pod]);
    assert.equal(await eventually(() => get(nodeIP, 80), { timeoutMs: 15_000, what: 'EXTERNAL-IP:80' }), pod);
    const nodePort = Number(await c.k(['get', 'svc', 'web-lb', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
    assert.equal(await get(nodeIP, nodePort), pod);
  });

  test('scaled to 3 replicas, requests through the ClusterIP and the load balancer reach all three', async () => {
    await c.k(['scale', 'deployment', 'web', '--replicas=3']);
    await eventually(async () => (await readyEndpoints()) === 3, { timeoutMs: 60_000, what: 'three ready endpoints' });
    const pods = (await podNames()).sort();
    assert.equal(pods.length, 3);
    const clusterIP = (await c.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    await eventually(async () => new Set(await fromPod(`http://${clusterIP}/`, 30)).size === 3, { timeoutMs: 20_000, what: 'ClusterIP reaching all three pods' });
    await eventually(
      async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 9; i++) seen.add(await get(nodeIP, 80));
        return [...seen].sort().join() === pods.join();
      },
      { timeoutMs: 20_000, what: 'EXTERNAL-IP:80 reaching all three pods' },
    );
  });

  test("kube-proxy's sync metrics are on /metrics", async () => {
    const metrics = await c.k(['get', '--raw', '/metrics']);
    assert.match(metrics, /^kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/m);
    assert.match(metrics, /^kubeproxy_sync_proxy_rules_last_timestamp_seconds [1-9]/m);
    assert.match(metrics, /^kubeproxy_network_programming_duration_seconds_count [1-9]/m);
  });
});
