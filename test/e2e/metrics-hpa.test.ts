/**
 * @module End-to-end: metrics.k8s.io and the HorizontalPodAutoscaler driven by the real
 * kubectl — `kubectl top nodes/pods` (--containers, -A, --sort-by, -l) and `kubectl
 * autoscale` / `get hpa` / `describe hpa` scaling a Deployment up and back down, first on
 * hollow nodes (simulated usage from the hollow.skiff.dev/cpu-usage annotation), then, as
 * root, on the process runtime with pods that burn CPU in a busy loop until told to stop.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Cluster, eventually, stopProcessCluster } from './harness.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
/** Fast metrics and HPA loops: scrapes and syncs every second, a 3 s scale-down window. */
const fast = ['--metric-resolution', '1s', '--horizontal-pod-autoscaler-sync-period', '1s', '--horizontal-pod-autoscaler-downscale-stabilization', '3s'];

/** Rows of a kubectl table as arrays of cells (header first). */
function rows(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));
}

function deployment(name: string, opts: { namespace?: string; replicas: number; cpuUsage: string; request?: string; labels?: Record<string, string> }): string {
  const labels = { app: name, ...(opts.labels ?? {}) };
  const labelYaml = Object.entries(labels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${opts.namespace ?? 'default'}}
spec:
  replicas: ${opts.replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {${labelYaml}}
      annotations: {hollow.skiff.dev/cpu-usage: ${opts.cpuUsage}, hollow.skiff.dev/memory-usage: 20Mi}
    spec:
      containers:
      - name: main
        image: nginx
${opts.request ? `        resources: {requests: {cpu: ${opts.request}}}\n` : ''}      - name: sidecar
        image: busybox
${opts.request ? `        resources: {requests: {cpu: ${opts.request}}}\n` : ''}`;
}

describe('kubectl top and the HPA on hollow nodes', () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '2', ...fast] });
    await c.k(['create', 'namespace', 'team']);
    await c.k(['apply', '-f', '-'], { stdin: deployment('busy', { replicas: 2, cpuUsage: '90m', request: '100m', labels: { tier: 'hot' } }) });
    await c.k(['apply', '-f', '-'], { stdin: deployment('idle', { namespace: 'team', replicas: 1, cpuUsage: '3m' }) });
  });
  after(async () => {
    await c?.stop();
  });

  test('metrics.k8s.io is in discovery', async () => {
    const out = await c.k(['api-resources', '--api-group=metrics.k8s.io']);
    assert.match(out, /^nodes\s+metrics\.k8s\.io\/v1beta1\s+false\s+NodeMetrics$/m);
    assert.match(out, /^pods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics$/m);
  });

  test('kubectl top pods and nodes print usage as on a real cluster', async () => {
    const top = await eventually(
      async () => {
        const r = await c.kubectl(['top', 'pods']);
        return r.code === 0 && rows(r.stdout).length === 3 ? r.stdout : undefined;
      },
      { what: 'kubectl top pods lists both busy pods', timeoutMs: 15_000 },
    );
    const t = rows(top);
    assert.deepEqual(t[0], ['NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    // Two containers at 90m each; memory 20Mi each.
    for (const r of t.slice(1)) {
      assert.match(r[0], /^busy-/);
      assert.equal(r[1], '180m');
      assert.equal(r[2], '40Mi');
    }
    const containers = rows(await c.k(['top', 'pods', '--containers']));
    assert.deepEqual(containers[0], ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    assert.deepEqual(containers.slice(1).map((r) => [r[1], r[2]]).sort(), [['main', '90m'], ['main', '90m'], ['sidecar', '90m'], ['sidecar', '90m']]);
    const all = await eventually(
      async () => {
        const r = rows(await c.k(['top', 'pods', '-A', '--sort-by=cpu']));
        return r.length === 4 ? r : undefined;
      },
      { what: 'kubectl top pods -A lists every namespace', timeoutMs: 10_000 },
    );
    assert.deepEqual(all[0], ['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    assert.deepEqual(all.slice(1).map((r) => r[0]), ['default', 'default', 'team']);
    const selected = rows(await c.k(['top', 'pods', '-A', '-l', 'tier=hot', '--sort-by=memory']));
    assert.equal(selected.length, 3);
    const nodes = rows(await c.k(['top', 'nodes']));
    assert.deepEqual(nodes[0], ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    assert.deepEqual(nodes.slice(1).map((r) => r[0]).sort(), ['hollow-node-0', 'hollow-node-1']);
    for (const r of nodes.slice(1)) assert.match(r[1], /^\d+m$/);
    // metrics-server's table for `kubectl get`.
    const table = rows(await c.k(['get', 'pods.metrics.k8s.io', '-n', 'team']));
    assert.deepEqual(table[0], ['NAME', 'CPU', 'MEMORY', 'WINDOW']);
    assert.deepEqual(table[1].slice(1, 3), ['6m', '40Mi']);
    const raw = JSON.parse(await c.k(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/team/pods']));
    assert.equal(raw.kind, 'PodMetricsList');
    assert.match(raw.items[0].window, /^\d+(\.\d+)?m?s$/);
    assert.deepEqual(raw.items[0].containers[0].usage, { cpu: '3m', memory: '20Mi' });
  });

  test('an HPA without requests to measure against reports <unknown> and why', async () => {
    assert.match(await c.k(['autoscale', 'deployment', 'idle', '-n', 'team', '--cpu-percent=50', '--min=1', '--max=3']), /horizontalpodautoscaler.autoscaling\/idle autoscaled/);
    const describe = await eventually(
      async () => {
        const d = await c.k(['describe', 'hpa', 'idle', '-n', 'team']);
        // The event is recorded before the status with its conditions is written: wait for both.
        return /FailedGetResourceMetric/.test(d) && /ScalingActive\s/.test(d) ? d : undefined;
      },
      { what: 'the HPA reports the missing request', timeoutMs: 15_000 },
    );
    assert.match(describe, /ScalingActive\s+False\s+FailedGetResourceMetric\s+the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container main of Pod idle-/);
    // The status (REPLICAS) is written right after the event.
    const get = await eventually(
      async () => {
        const r = rows(await c.k(['get', 'hpa', '-n', 'team']));
        return r[1]?.[5] === '1' ? r : undefined;
      },
      { what: 'the HPA status shows the current replicas', timeoutMs: 10_000 },
    );
    assert.deepEqual(get[0], ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    assert.deepEqual(get[1].slice(0, 6), ['idle', 'Deployment/idle', 'cpu: <unknown>/50%', '1', '3', '1']);
  });

  test('kubectl autoscale scales a busy Deployment up, and down once the load stops', async () => {
    // 180m of a 200m request: 90% against a 50% target.
    await c.k(['autoscale', 'deployment', 'busy', '--cpu-percent=50', '--min=1', '--max=5']);
    await eventually(
      async () => {
        const r = rows(await c.k(['get', 'hpa', 'busy']))[1];
        return r[2] === 'cpu: 90%/50%' && r[5] === '5';
      },
      { what: 'the HPA scaled busy to 5', timeoutMs: 30_000 },
    );
    const d = await c.k(['describe', 'hpa', 'busy']);
    assert.match(d, /resource cpu on pods\s+\(as a percentage of request\):\s+90% \(180m\) \/ 50%/);
    assert.match(d, /Normal\s+SuccessfulRescale\s+\S+\s+horizontal-pod-autoscaler\s+New size: \d; reason: cpu resource utilization \(percentage of request\) above target/);
    assert.match(d, /AbleToScale\s+True/);
    assert.match(d, /ScalingActive\s+True\s+ValidMetricFound/);
    const hpa = JSON.parse(await c.k(['get', 'hpa.v2.autoscaling', 'busy', '-o', 'json']));
    assert.equal(hpa.status.desiredReplicas, 5);
    assert.ok(hpa.status.lastScaleTime);
    // The load stops (a new template with idle containers).
    await c.k(['patch', 'deployment', 'busy', '-p', '{"spec":{"template":{"metadata":{"annotations":{"hollow.skiff.dev/cpu-usage":"5m"}}}}}']);
    await eventually(
      async () => {
        const r = rows(await c.k(['get', 'hpa', 'busy']))[1];
        return r[5] === '1';
      },
      { what: 'the HPA scaled busy back to 1', timeoutMs: 40_000 },
    );
    assert.match(await c.k(['describe', 'hpa', 'busy']), /New size: 1; reason: All metrics below target/);
    assert.equal(JSON.parse(await c.k(['get', 'deploy', 'busy', '-o', 'json'])).spec.replicas, 1);
  });
});

describe('CPU-burning pods on the process runtime', { skip: isRoot ? false : 'the process runtime measures pods through cgroups only as root on Linux' }, () => {
  let c: Cluster;
  /** Outside /tmp (a container's /tmp is its own): the burners stop when `stop` appears here. */
  const shared = isRoot ? mkdtempSync('/var/tmp/skiff-e2e-hpa-') : '';
  before(async () => {
    // No ingress controller: it would want port 80, which other suites may hold.
    c = await Cluster.start({ extraArgs: ['--runtime', 'process', '--no-ingress', ...fast] });
  });
  after(async () => {
    writeFileSync(`${shared}/stop`, '');
    if (c) await stopProcessCluster(c);
    rmSync(shared, { recursive: true, force: true });
  });

  test('kubectl top shows the burn; the HPA scales 1 → 3 under load and back to 1', async () => {
    // A CPU limit keeps each burner at 0.2 core (CFS quota): bounded load on a shared machine.
    await c.k(['apply', '-f', '-'], {
      stdin: `apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: burn
        image: busybox
        command: [sh, -c, 'while [ ! -e ${shared}/stop ]; do :; done; exec sleep 3600']
        resources: {requests: {cpu: 100m}, limits: {cpu: 200m}}
`,
    });
    await c.k(['rollout', 'status', 'deploy/burn', '--timeout=60s']);
    const milli = await eventually(
      async () => {
        const r = await c.kubectl(['top', 'pods', '-l', 'app=burn', '--no-headers']);
        const cpu = /\s(\d+)m\s/.exec(r.stdout)?.[1];
        return cpu !== undefined && Number(cpu) >= 100 ? Number(cpu) : undefined;
      },
      { what: 'kubectl top pods shows the busy loop', timeoutMs: 30_000 },
    );
    assert.ok(milli <= 260, `the CFS quota holds the burner near 200m, saw ${milli}m`);
    const nodes = rows(await c.k(['top', 'nodes']));
    assert.equal(nodes.length, 2);
    assert.match(nodes[1][1], /^\d+m$/);
    await c.k(['autoscale', 'deployment', 'burn', '--cpu-percent=50', '--min=1', '--max=3']);
    await eventually(
      async () => {
        const d = JSON.parse(await c.k(['get', 'deploy', 'burn', '-o', 'json']));
        return d.spec.replicas === 3 && d.status.readyReplicas === 3;
      },
      { what: 'the HPA scaled the burners to 3 Ready replicas', timeoutMs: 60_000 },
    );
    writeFileSync(`${shared}/stop`, '');
    await eventually(
      async () => {
        const d = JSON.parse(await c.k(['get', 'deploy', 'burn', '-o', 'json']));
        return d.spec.replicas === 1;
      },
      { what: 'the HPA scaled back to 1 once the load stopped', timeoutMs: 60_000 },
    );
    assert.match(await c.k(['describe', 'hpa', 'burn']), /New size: 1; reason: All metrics below target/);
  });
});
