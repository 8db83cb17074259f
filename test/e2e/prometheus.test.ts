/**
 * @module End-to-end: every component's Prometheus exposition passes `promtool check
 * metrics` (API server, and the kubelet's /metrics, /metrics/cadvisor, /metrics/resource
 * on hollow and, as root, real nodes), and a real Prometheus with kubernetes_sd_configs
 * (roles node, endpoints and pod) pointed at skiff discovers the node, a Service's
 * endpoints and an annotated pod and scrapes them all successfully.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cluster, eventually, stopProcessCluster } from './harness.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const prometheusBin = '/usr/bin/prometheus';

/** GET over HTTPS with the cluster's admin certificate (what Prometheus presents too). */
function fetchTls(c: Cluster, url: string): Promise<{ status: number; body: string }> {
  const tls = join(c.dataDir, 'tls');
  return new Promise((resolve, reject) => {
    const req = request(url, { cert: readFileSync(join(tls, 'admin.crt')), key: readFileSync(join(tls, 'admin.key')), ca: readFileSync(join(tls, 'ca.crt')) }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function promtool(text: string): { code: number; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

async function kubeletUrl(c: Cluster, node: string): Promise<string> {
  const n = JSON.parse(await c.k(['get', 'node', node, '-o', 'json']));
  const host = n.metadata.annotations?.['skiff.dev/kubelet-address'] ?? n.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address;
  return `https://${host}:${n.status.daemonEndpoints.kubeletEndpoint.Port}`;
}

/** Checks the API server's and one kubelet's expositions with promtool; returns the kubelet texts. */
async function checkAll(c: Cluster, node: string): Promise<Record<string, string>> {
  const texts: Record<string, string> = { apiserver: await c.k(['get', '--raw', '/metrics']) };
  const base = await kubeletUrl(c, node);
  for (const path of ['/metrics', '/metrics/cadvisor', '/metrics/resource']) {
    const r = await fetchTls(c, `${base}${path}?node=${encodeURIComponent(node)}`);
    assert.equal(r.status, 200, `${path}: ${r.body}`);
    texts[path] = r.body;
  }
  for (const [what, text] of Object.entries(texts)) {
    const r = promtool(text);
    assert.equal(r.code, 0, `promtool check metrics on ${what}:\n${r.output}`);
    assert.equal(r.output.trim(), '', `promtool has remarks on ${what}`);
  }
  return texts;
}

describe('promtool check metrics', { skip: hasPromtool ? false : 'promtool (Debian package prometheus) is not installed' }, () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '1'] });
    await c.k(['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    await c.k(['rollout', 'status', 'deploy/web', '--timeout=30s']);
  });
  after(async () => {
    await c?.stop();
  });

  test('API server and hollow kubelet expositions pass, with the names dashboards use', async () => {
    const t = await checkAll(c, 'hollow-node-0');
    assert.match(t.apiserver, /^apiserver_request_total\{/m);
    assert.match(t.apiserver, /^# TYPE apiserver_request_duration_seconds histogram$/m);
    assert.match(t.apiserver, /^workqueue_adds_total\{/m);
    assert.match(t['/metrics'], /^kubelet_node_name\{node="hollow-node-0"\} 1$/m);
    assert.match(t['/metrics'], /^kubelet_running_pods 2$/m);
    assert.match(t['/metrics'], /^kubelet_running_containers\{container_state="running"\} 2$/m);
    assert.match(t['/metrics'], /^kubelet_pod_start_duration_seconds_count 2$/m);
    for (const name of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_memory_usage_bytes', 'container_spec_memory_limit_bytes'])
      assert.match(t['/metrics/cadvisor'], new RegExp(`^${name}\\{container="nginx",id="/kubepods/pod[0-9a-f-]+/[^"]+",image="[^"]+",name="[^"]+",namespace="default",pod="web-[^"]+"\\} \\S+ \\d+$`, 'm'));
    assert.match(t['/metrics/resource'], /^container_cpu_usage_seconds_total\{container="nginx",namespace="default",pod="web-[^"]+"\} \S+ \d+$/m);
    assert.match(t['/metrics/resource'], /^node_memory_working_set_bytes \d+ \d+$/m);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether this Prometheus build has the Kubernetes SD (Debian's leaves it out). */
function supportsKubernetesSd(dir: string): boolean {
  const probe = join(dir, 'probe.yml');
  writeFileSync(probe, 'scrape_configs:\n- job_name: probe\n  kubernetes_sd_configs: [{role: node}]\n');
  return spawnSync('promtool', ['check', 'config', probe], { stdio: 'ignore' }).status === 0;
}

const promSkip = !isRoot
  ? 'scraping a pod on its pod IP needs the process runtime as root'
  : !existsSync(prometheusBin) || !hasPromtool
    ? 'prometheus (Debian package) is not installed'
    : false;

describe('a real Prometheus discovers and scrapes the cluster', { skip: promSkip }, () => {
  let c: Cluster;
  let prom: ChildProcess | undefined;
  let promLog = '';
  const dir = mkdtempSync(join(tmpdir(), 'skiff-e2e-prom-'));
  /** The pod's metrics file, served by python's http.server from a host directory (outside /tmp). */
  const site = isRoot ? mkdtempSync('/var/tmp/skiff-e2e-prom-site-') : '';

  before(async () => {
    // No ingress controller: it would want port 80, which other suites may hold.
    c = await Cluster.start({ extraArgs: ['--runtime', 'process', '--no-ingress'] });
  });
  after(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    if (c) await stopProcessCluster(c);
    rmSync(dir, { recursive: true, force: true });
    if (site) rmSync(site, { recursive: true, force: true });
  });

  test('nodes, endpoints and annotated pods are discovered and up', async () => {
    writeFileSync(join(site, 'metrics'), '# HELP demo_requests_total Requests served.\n# TYPE demo_requests_total counter\ndemo_requests_total 7\n');
    await c.k(['apply', '-f', '-'], {
      stdin: `apiVersion: v1
kind: Pod
metadata:
  name: exporter
  labels: {app: exporter}
  annotations: {prometheus.io/scrape: "true", prometheus.io/port: "9100", prometheus.io/path: /metrics}
spec:
  containers:
  - name: exporter
    image: python
    command: [/usr/bin/python3, -m, http.server, "9100", --bind, 0.0.0.0, --directory, ${site}]
    ports: [{name: metrics, containerPort: 9100}]
    readinessProbe: {tcpSocket: {port: 9100}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: exporter}
spec:
  selector: {app: exporter}
  ports: [{name: metrics, port: 9100, targetPort: 9100}]
`,
    });
    await c.k(['wait', '--for=condition=Ready', 'pod/exporter', '--timeout=60s']);
    const node = JSON.parse(await c.k(['get', 'nodes', '-o', 'json'])).items[0].metadata.name;
    // The real node's kubelet (cgroup stats) passes promtool too.
    const t = await checkAll(c, node);
    assert.match(t['/metrics/cadvisor'], /^container_cpu_usage_seconds_total\{container="exporter",/m);

    const tls = join(c.dataDir, 'tls');
    const tlsConfig = `{ca_file: ${join(tls, 'ca.crt')}, cert_file: ${join(tls, 'admin.crt')}, key_file: ${join(tls, 'admin.key')}}`;
    // Debian's Prometheus is built without kubernetes_sd_configs: then the same roles come from
    // the API server's HTTP SD endpoint, with the same targets and __meta_kubernetes_* labels.
    const k8sSd = supportsKubernetesSd(dir);
    const sd = (role: string) =>
      k8sSd
        ? `kubernetes_sd_configs: [{role: ${role}, api_server: "${c.url}", tls_config: ${tlsConfig}}]`
        : `http_sd_configs: [{url: "${c.url}/skiff/prometheus/sd/${role}", refresh_interval: 1s, tls_config: ${tlsConfig}}]`;
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: kubernetes-nodes
  scheme: https
  tls_config: ${tlsConfig}
  ${sd('node')}
- job_name: kubernetes-cadvisor
  scheme: https
  metrics_path: /metrics/cadvisor
  tls_config: ${tlsConfig}
  ${sd('node')}
- job_name: kubernetes-service-endpoints
  ${sd('endpoints')}
  relabel_configs:
  - {source_labels: [__meta_kubernetes_service_name], action: keep, regex: exporter}
- job_name: kubernetes-pods
  ${sd('pod')}
  relabel_configs:
  - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], action: keep, regex: "true"}
  - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], action: replace, target_label: __metrics_path__, regex: (.+)}
  - {source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port], action: replace, regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: __address__}
- job_name: apiserver
  scheme: https
  tls_config: ${tlsConfig}
  static_configs: [{targets: ["${new URL(c.url).host}"]}]
`,
    );
    const check = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    prom = spawn(prometheusBin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (d) => (promLog += d));
    prom.stderr!.on('data', (d) => (promLog += d));
    const wanted = ['kubernetes-nodes', 'kubernetes-cadvisor', 'kubernetes-service-endpoints', 'kubernetes-pods', 'apiserver'];
    type Target = { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string };
    let last: Target[] = [];
    try {
      await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/targets?state=active`);
          last = ((await res.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
          return wanted.every((job) => last.some((t) => t.labels.job === job && t.health === 'up'));
        },
        { what: 'every job has an up target', timeoutMs: 45_000, intervalMs: 500 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${JSON.stringify(last, null, 1)}\n${promLog.slice(-3000)}`);
    }
    const pod = last.find((t) => t.labels.job === 'kubernetes-pods')!;
    const kubeletPort = JSON.parse(await c.k(['get', 'node', node, '-o', 'json'])).status.daemonEndpoints.kubeletEndpoint.Port;
    assert.equal(last.find((t) => t.labels.job === 'kubernetes-nodes')!.scrapeUrl.replace(/\?node=.*$/, ''), `https://${c.node.ip ?? '127.0.0.1'}:${kubeletPort}/metrics`);
    assert.match(pod.scrapeUrl, /^http:\/\/10\.42\.\d+\.\d+:9100\/metrics$/);
    const q = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('demo_requests_total')}`)).json()) as { data: { result: unknown[] } };
    assert.ok(q.data.result.length >= 1, JSON.stringify(q));
  });
});
