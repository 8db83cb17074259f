/**
 * @module End to end: `kubectl logs`, `exec`, `attach` and `port-forward` through the API
 * server to a hollow node's kubelet streaming endpoint, with kubectl 1.32 (WebSocket
 * channels, SPDY tunnelled in WebSocket for port-forward) and kubectl 1.28 (SPDY/3.1).
 * Hollow containers print lifecycle and tick lines, exec runs host processes, and
 * port-forward reaches 127.0.0.1:<port>, where the test serves HTTP itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, get as httpGet, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Cluster, eventually, kubectlBinary } from './harness.js';

const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: ticker
  annotations: {hollow.skiff.dev/log-interval-ms: "200"}
spec:
  containers:
  - {name: app, image: registry.local/app:1, command: [serve, --port, "8000"]}
---
apiVersion: v1
kind: Pod
metadata:
  name: listener
spec:
  containers:
  - {name: app, image: busybox, stdin: true}
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createTcpServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function fetchText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const versions: Array<{ label: string; minor?: number }> = [
  { label: 'kubectl 1.32 (WebSocket)' },
  { label: 'kubectl 1.28 (SPDY)', minor: 28 },
];

describe('kubectl logs, exec, attach and port-forward on a hollow node', () => {
  let c: Cluster;
  let target: Server;
  let targetPort: number;
  const children = new Set<ChildProcess>();

  /** A long-running kubectl (logs -f, port-forward, attach) whose output the test watches. */
  const spawnKubectl = (args: string[], minor?: number, stdin?: string) => {
    const child = spawn(kubectlBinary(minor), args, { env: { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const out = { stdout: '', stderr: '' };
    child.stdout!.on('data', (d) => (out.stdout += d));
    child.stderr!.on('data', (d) => (out.stderr += d));
    if (stdin !== undefined) child.stdin!.write(stdin);
    return { child, out };
  };
  const stop = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };

  before(async () => {
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '1'] });
    target = createHttpServer((req, res) => res.end(`hello through port-forward ${req.url}`));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    targetPort = (target.address() as AddressInfo).port;
    await c.k(['apply', '-f', c.writeFile('pods.yaml', manifest)]);
    await eventually(async () => (await c.k(['get', 'pods', '-o', 'jsonpath={.items[*].status.phase}'])) === 'Running Running', { timeoutMs: 20_000, what: 'pods Running' });
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await new Promise<void>((r) => target?.close(() => r()) ?? r());
    await c?.stop();
  });

  for (const v of versions) {
    test(`${v.label}: logs, --tail, --timestamps`, async () => {
      const all = await c.k(['logs', 'ticker'], { minor: v.minor });
      assert.match(all, /^hollow container "app" started: serve --port 8000\n/);
      await eventually(async () => (await c.k(['logs', 'ticker', '-c', 'app'], { minor: v.minor })).includes('tick 2\n'), { what: 'two ticks' });
      const tail = await c.k(['logs', 'ticker', '--tail=2'], { minor: v.minor });
      assert.match(tail, /^hollow container "app" tick \d+\nhollow container "app" tick \d+\n$/);
      const stamped = await c.k(['logs', 'ticker', '--tail=1', '--timestamps'], { minor: v.minor });
      assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z hollow container "app" tick \d+\n$/);
    });

    test(`${v.label}: logs -f sees new lines as they are written`, async () => {
      const { child, out } = spawnKubectl(['logs', '-f', 'ticker', '--tail=1'], v.minor);
      try {
        const ticks = await eventually(
          () => {
            const n = [...out.stdout.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
            return n.length >= 3 ? n : undefined;
          },
          { timeoutMs: 10_000, what: `three tick lines from logs -f (got ${JSON.stringify(out)})` },
        );
        assert.ok(ticks[2] > ticks[0], `ticks grow: ${ticks}`);
        assert.equal(child.exitCode, null, 'logs -f keeps following');
      } finally {
        await stop(child);
      }
    });

    test(`${v.label}: exec prints the command's output and reports exit codes`, async () => {
      assert.equal(await c.k(['exec', 'ticker', '--', 'echo', 'hi'], { minor: v.minor }), 'hi\n');
      const failed = await c.kubectl(['exec', 'ticker', '--', 'sh', '-c', 'echo partial; exit 3'], { minor: v.minor });
      assert.equal(failed.code, 3);
      assert.equal(failed.stdout, 'partial\n');
      assert.match(failed.stderr, /command terminated with exit code 3/);
      const piped = await c.kubectl(['exec', '-i', 'ticker', '--', 'cat'], { minor: v.minor, stdin: 'piped through stdin\n' });
      assert.equal(piped.code, 0, piped.stderr);
      assert.equal(piped.stdout, 'piped through stdin\n');
    });

    test(`${v.label}: exec -it gets a terminal the size of kubectl's`, async () => {
      // util-linux script gives kubectl a terminal of its own, sized by stty.
      const cmd = `stty cols 123 rows 45; ${kubectlBinary(v.minor)} exec -it ticker -- sh -c 'sleep 0.5; stty size; exit 4'`;
      const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { env: { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
      children.add(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      clearTimeout(deadline);
      children.delete(child);
      assert.match(out, /45 123\r?\n/);
      assert.match(out, /command terminated with exit code 4/);
      assert.equal(code, 4);
    });

    test(`${v.label}: port-forward reaches a port on the pod's loopback`, async () => {
      const local = await freePort();
      const { child, out } = spawnKubectl(['port-forward', 'pod/ticker', `${local}:${targetPort}`], v.minor);
      try {
        await eventually(() => out.stdout.includes(`Forwarding from 127.0.0.1:${local} -> ${targetPort}`), { timeoutMs: 10_000, what: `port-forward ready (${JSON.stringify(out)})` });
        assert.equal(await fetchText(local, '/first'), 'hello through port-forward /first');
        assert.equal(await fetchText(local, '/second'), 'hello through port-forward /second');
        assert.equal(child.exitCode, null, 'port-forward keeps serving');
      } finally {
        await stop(child);
      }
    });

    test(`${v.label}: attach streams the container's output, attach -i feeds its stdin`, async () => {
      const { child, out } = spawnKubectl(['attach', 'ticker'], v.minor);
      try {
        await eventually(() => /tick \d+/.test(out.stdout), { timeoutMs: 10_000, what: `attach output (${JSON.stringify(out)})` });
      } finally {
        await stop(child);
      }
      const line = `typed into attach ${v.minor ?? 32}`;
      const fed = spawnKubectl(['attach', '-i', 'listener'], v.minor, `${line}\n`);
      try {
        await eventually(async () => (await c.k(['logs', 'listener'])).includes(`${line}\n`), { timeoutMs: 10_000, what: 'attached stdin in the log' });
      } finally {
        await stop(fed.child);
      }
    });
  }

  test('logs errors: a container the pod does not have, invalid options', async () => {
    const missing = await c.kubectl(['logs', 'ticker', '-c', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /container nope is not valid for pod ticker/);
    const raw = await c.kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/ticker/log?tailLines=-1']);
    assert.match(raw.stderr, /tailLines: Invalid value: -1: must be greater than or equal to 0/);
  });
});
