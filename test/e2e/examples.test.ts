/**
 * @module End-to-end on the process runtime with real programs: the manifests of
 * examples/ (nginx configured by a ConfigMap file; an API with a Redis sidecar over
 * localhost, probes and limits), and what an operator does with them through the real
 * kubectl — `logs -f`, `exec -it` with a terminal, a ConfigMap edit that reaches the
 * mounted file, a preStop hook on delete. Needs root on Linux, nginx, redis-server.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Cluster, eventually, stopProcessCluster, repoRoot } from './harness.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status === 0;
const skip = !isRoot ? 'the process runtime isolates pods only as root on Linux' : !has('nginx') || !has('redis-server') ? 'nginx and redis-server are needed (apt-get install nginx redis-server)' : false;

interface PodJson {
  metadata: { name: string; labels?: Record<string, string> };
  status: { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string }>; containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number }> };
}

describe('examples on the process runtime', { skip }, () => {
  let c: Cluster;

  async function readyPods(label: string, count: number): Promise<PodJson[]> {
    return eventually(
      async () => {
        const items = (JSON.parse(await c.k(['get', 'pods', '-l', label, '-o', 'json'])) as { items: PodJson[] }).items;
        const ready = items.filter((p) => p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
        return ready.length === count ? ready : undefined;
      },
      { timeoutMs: 60_000, what: `${count} ready pods with ${label}` },
    );
  }

  before(async () => {
    c = await Cluster.start({ extraArgs: ['--runtime', 'process'], timeoutMs: 60_000 });
    await eventually(async () => / Ready /.test(await c.k(['get', 'nodes', '--no-headers'])), { timeoutMs: 20_000, what: 'the local node to be Ready' });
  });

  after(async () => {
    if (!c) return;
    await stopProcessCluster(c);
  });

  test('nginx serves the page its ConfigMap configures, and an edit of the ConfigMap reaches the mounted file', async () => {
    await c.k(['apply', '-f', join(repoRoot, 'examples', 'nginx', 'nginx.yaml')]);
    const [pod] = await readyPods('app=nginx', 1);
    const page = await fetch(`http://${pod.status.podIP}:8080/index.html`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Hello from nginx on skiff/);

    await c.k(['patch', 'configmap', 'nginx-conf', '--type=merge', '-p', JSON.stringify({ data: { 'index.html': '<h1>edited</h1>\n' } })]);
    // kubelet refreshes configMap volumes in place (atomic symlink swap); nginx serves the new file.
    await eventually(async () => /edited/.test(await (await fetch(`http://${pod.status.podIP}:8080/index.html`)).text()), { timeoutMs: 30_000, what: 'the edited page' });
    assert.match(await c.k(['exec', pod.metadata.name, '--', 'cat', '/usr/share/skiff-site/index.html']), /edited/);
  });

  test('kubectl logs -f follows the access log as requests arrive', async () => {
    const [pod] = await readyPods('app=nginx', 1);
    const follower = spawn('kubectl', ['logs', '-f', pod.metadata.name], { env: { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig } });
    let out = '';
    follower.stdout.on('data', (d) => (out += d));
    try {
      // Requests made after the follow started must show up in its output.
      await eventually(
        async () => {
          await fetch(`http://${pod.status.podIP}:8080/followed-${process.pid}`).catch(() => undefined);
          return out.includes(`/followed-${process.pid}`);
        },
        { timeoutMs: 20_000, intervalMs: 500, what: 'the request in the followed log' },
      );
      assert.equal(follower.exitCode, null, 'logs -f is still following');
    } finally {
      follower.kill();
    }
  });

  test('kubectl exec -it runs a shell on a terminal inside the pod', async () => {
    const [pod] = await readyPods('app=nginx', 1);
    // script(1) gives kubectl a terminal, as a person's shell would.
    const cmd = `kubectl exec -it ${pod.metadata.name} -- sh -c 'tty; echo cols=$(stty size)'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig, COLUMNS: '100', LINES: '30' }, encoding: 'utf8', timeout: 30_000, input: '' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.doesNotMatch(r.stdout, /not a tty/);
    const exit = spawnSync('script', ['-qec', `kubectl exec -it ${pod.metadata.name} -- sh -c 'exit 7'`, '/dev/null'], { env: { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig }, encoding: 'utf8', timeout: 30_000, input: '' });
    assert.match(exit.stdout + exit.stderr, /command terminated with exit code 7/);
  });

  test('kubectl run -i sends input to the container, and -it gives it a terminal', async () => {
    const env = { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig };
    const piped = spawnSync('kubectl', ['run', 'talk', '--image=busybox', '--restart=Never', '-i', '--command', '--', 'sh', '-c', 'read x; echo got:$x'], { env, input: 'hello\n', encoding: 'utf8', timeout: 60_000 });
    assert.equal(piped.status, 0, piped.stderr);
    assert.match(piped.stdout, /got:hello/);
    // stdinOnce: the container saw its input end when kubectl's did.
    await eventually(async () => /Completed/.test(await c.k(['get', 'pod', 'talk', '--no-headers'])), { timeoutMs: 20_000, what: 'talk to complete' });

    const cmd = `kubectl run term --image=busybox --restart=Never -it --command -- sh -c 'read x; tty; stty size; echo got:$x'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { ...env, COLUMNS: '91', LINES: '27' }, input: 'typed\r', encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /got:typed/);
  });

  test('the API and its Redis sidecar talk over localhost behind /health probes', async () => {
    await c.k(['apply', '-f', join(repoRoot, 'examples', 'api-redis', 'api-redis.yaml')]);
    const pods = await readyPods('app=api', 2);
    for (const p of pods) {
      assert.deepEqual(p.status.containerStatuses?.map((s) => s.ready).sort(), [true, true]);
      const first = (await (await fetch(`http://${p.status.podIP}:8000/`)).json()) as { hits: number; database: string };
      const second = (await (await fetch(`http://${p.status.podIP}:8000/`)).json()) as { hits: number };
      assert.equal(second.hits, first.hits + 1, 'each pod counts in its own Redis');
      assert.equal(first.database, 'postgres://api@db:5432/api');
    }
    const deploy = JSON.parse(await c.k(['get', 'deployment', 'api', '-o', 'json']));
    assert.equal(deploy.status.readyReplicas, 2);
    assert.deepEqual(deploy.spec.template.spec.containers[0].resources.limits, { cpu: '1', memory: '256Mi' });
  });

  test('a failing liveness probe restarts the container; a failing readiness probe takes the pod out of Ready', async () => {
    await c.k(['apply', '-f', '-'], {
      stdin: `apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  containers:
  - name: web
    image: python
    command: [sh, -c, 'touch /tmp/alive /tmp/ready; exec python3 -m http.server 8000']
    livenessProbe:
      exec: {command: [test, -f, /tmp/alive]}
      periodSeconds: 1
      failureThreshold: 2
    readinessProbe:
      httpGet: {path: /tmp/ready, port: 8000}
      periodSeconds: 1
`,
    });
    const ready = async (want: boolean) =>
      eventually(
        async () => {
          const p = JSON.parse(await c.k(['get', 'pod', 'probed', '-o', 'json'])) as PodJson;
          return p.status.conditions?.some((x) => x.type === 'Ready' && x.status === (want ? 'True' : 'False')) ? p : undefined;
        },
        { timeoutMs: 30_000, what: `probed Ready=${want}` },
      );
    await ready(true);
    // http.server serves the container's cwd (/): the readiness file is /tmp/ready inside the pod.
    await c.k(['exec', 'probed', '--', 'rm', '/tmp/ready']);
    await ready(false);
    assert.match(await c.k(['get', 'pod', 'probed', '--no-headers']), /probed\s+0\/1\s+Running/);
    await c.k(['exec', 'probed', '--', 'touch', '/tmp/ready']);
    await ready(true);

    await c.k(['exec', 'probed', '--', 'rm', '/tmp/alive']);
    const p = await eventually(
      async () => {
        const x = JSON.parse(await c.k(['get', 'pod', 'probed', '-o', 'json'])) as PodJson;
        return (x.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? x : undefined;
      },
      { timeoutMs: 30_000, what: 'the container to be restarted' },
    );
    assert.ok(p.status.containerStatuses![0].restartCount >= 1);
    const events = await c.k(['get', 'events', '--field-selector', 'involvedObject.name=probed']);
    assert.match(events, /Liveness probe failed/);
    assert.match(events, /Container web failed liveness probe, will be restarted/);
  });

  test('a hostPort reaches the pod from the node', async () => {
    const hostPort = 20_000 + (process.pid % 9000);
    await c.k(['apply', '-f', '-'], {
      stdin: `apiVersion: v1
kind: Pod
metadata: {name: ported}
spec:
  containers:
  - name: web
    image: python
    command: [python3, -m, http.server, "8000"]
    ports: [{containerPort: 8000, hostPort: ${hostPort}, hostIP: 127.0.0.1}]
`,
    });
    await eventually(async () => (await fetch(`http://127.0.0.1:${hostPort}/`).catch(() => undefined))?.status === 200, { timeoutMs: 30_000, what: `the pod on 127.0.0.1:${hostPort}` });
    await c.k(['delete', 'pod', 'ported', '--grace-period=1']);
    await eventually(async () => (await fetch(`http://127.0.0.1:${hostPort}/`).catch(() => undefined)) === undefined, { timeoutMs: 20_000, what: 'the hostPort to close with the pod' });
  });

  test('a preStop hook runs before the container is stopped', async () => {
    const marker = `/var/tmp/skiff-prestop-${process.pid}`;
    await c.k(['apply', '-f', '-'], {
      stdin: `apiVersion: v1
kind: Pod
metadata: {name: hooked}
spec:
  terminationGracePeriodSeconds: 10
  volumes: [{name: out, hostPath: {path: /var/tmp, type: Directory}}]
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'trap "echo term >> /out/$(basename ${marker}); exit 0" TERM; while :; do sleep 0.1; done']
    volumeMounts: [{name: out, mountPath: /out}]
    lifecycle:
      preStop:
        exec: {command: [sh, -c, 'echo prestop >> /out/$(basename ${marker})']}
`,
    });
    await eventually(async () => /Running/.test(await c.k(['get', 'pod', 'hooked', '--no-headers'])), { timeoutMs: 20_000, what: 'hooked to run' });
    await c.k(['delete', 'pod', 'hooked', '--timeout=60s']);
    const lines = readFileSync(marker, 'utf8').trim().split('\n');
    spawnSync('rm', ['-f', marker]);
    // kubelet runs preStop first, then sends SIGTERM.
    assert.deepEqual(lines, ['prestop', 'term']);
  });
});
