/**
 * @module The process runtime against the real kernel: sandboxes with their own network
 * namespace and address, containers as processes with logs, private /tmp, limits,
 * OOMKilled, start errors, graceful stop, exec, stats, recovery after a restart and
 * complete cleanup. Needs root on Linux (skipped otherwise); uses its own bridge, CIDR
 * and cgroup parent so it never meets a running node's.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { ContainerConfig, PodSandboxConfig, RuntimeEvent } from '../../runtime.js';
import { cleanupProcessNode, ContainerCreateError, ProcessRuntime, type ProcessRuntimeOptions } from './index.js';
import { eventually as poll } from '../../../client/testing.js';

const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root on Linux (network namespaces, cgroups)';

const tag = (process.pid % 100_000).toString(36);
const bridge = `skt${tag}`;
const cgroupParent = `skiff-test-${tag}`;
const podCIDR = `10.42.${200 + (process.pid % 50)}.0/24`;
const base = mkdtempSync(join(tmpdir(), 'skiff-process-test-'));
const stateDir = join(base, 'state');
const opened: ProcessRuntime[] = [];

after(async () => {
  for (const rt of opened) rt.close();
  if (isRoot) await cleanupProcessNode({ stateDir, podCIDR, bridge, cgroupParent, removeBridge: true, removeCgroupParent: true });
  rmSync(base, { recursive: true, force: true });
});

async function open(extra: Partial<ProcessRuntimeOptions> = {}): Promise<ProcessRuntime> {
  const rt = await ProcessRuntime.open({ stateDir, podCIDR, bridge, cgroupParent, relistIntervalMs: 100, ...extra });
  opened.push(rt);
  return rt;
}

let podSeq = 0;
function sandboxConfig(name?: string): PodSandboxConfig {
  podSeq++;
  const uid = `${(0xabc00000 + process.pid * 100 + podSeq).toString(16).padStart(8, '0')}-0000-4000-8000-${String(podSeq).padStart(12, '0')}`;
  return {
    name: name ?? `pod-${podSeq}`,
    namespace: 'default',
    uid,
    attempt: 0,
    hostname: name ?? `pod-${podSeq}`,
    labels: {},
    annotations: {},
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
  };
}

function container(name: string, command: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { name, image: 'debian', command, attempt: 0, role: 'regular', labels: {}, annotations: {}, ...extra };
}

const eventually = <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10000) =>
  poll(fn, what, timeoutMs, 25);

function logText(rt: ProcessRuntime, id: string): string {
  return readFileSync(rt.logPath(id), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').slice(3).join(' '))
    .join('\n');
}

async function exited(rt: ProcessRuntime, id: string) {
  return eventually(async () => {
    const s = await rt.containerStatus(id);
    return s.state === 'CONTAINER_EXITED' ? s : undefined;
  }, `container ${id} to exit`);
}

describe('process runtime (root)', { skip }, () => {
  it('runs a pod in its own network namespace with an address from the pod CIDR', async () => {
    const rt = await open();
    assert.equal(rt.capabilities().network, 'pod');
    assert.deepEqual(rt.capabilities().warnings, []);
    const cfg = sandboxConfig('net');
    const sb = await rt.runPodSandbox(cfg);
    const st = await rt.podSandboxStatus(sb);
    assert.equal(st.state, 'SANDBOX_READY');
    assert.ok(st.ip.startsWith(podCIDR.split('.').slice(0, 3).join('.') + '.'), st.ip);
    assert.equal(await rt.runPodSandbox(cfg), sb, 'asking again for a ready pod returns its sandbox');
    const events: RuntimeEvent[] = [];
    rt.subscribe((e) => events.push(e));
    const id = await rt.createContainer(sb, container('main', ['sh', '-c', 'ip -4 -o addr show dev eth0; hostname; cat /etc/resolv.conf; echo "$HOSTNAME $GREETING"; exit 3'], { env: [{ name: 'GREETING', value: 'hi' }] }));
    await rt.startContainer(id);
    const s = await exited(rt, id);
    assert.equal(s.exitCode, 3);
    assert.equal(s.reason, 'Error');
    const out = logText(rt, id);
    assert.match(out, new RegExp(`inet ${st.ip.replace(/\./g, '\\.')}/24`));
    assert.match(out, /^net$/m);
    assert.match(out, /nameserver 10\.43\.0\.10/);
    assert.match(out, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.match(out, /^net hi$/m);
    // The status can read EXITED (the exit file) a moment before the runtime's monitor reports the death.
    await eventually(() => events.length >= 2, 'the ContainerDied event');
    assert.deepEqual(
      events.map((e) => e.type),
      ['ContainerStarted', 'ContainerDied'],
    );
    await rt.removePodSandbox(sb);
  });

  it('containers of a pod share localhost; pods do not share /tmp; the host reaches pod IPs over the bridge', async () => {
    const rt = await open();
    const a = await rt.runPodSandbox(sandboxConfig('a'));
    const b = await rt.runPodSandbox(sandboxConfig('b'));
    const server = await rt.createContainer(a, container('server', ['python3', '-m', 'http.server', '8080']));
    await rt.startContainer(server);
    const client = await rt.createContainer(
      a,
      container('client', ['sh', '-c', 'echo mine > /tmp/secret; for i in $(seq 1 100); do python3 -c "import urllib.request as u; u.urlopen(\'http://127.0.0.1:8080/\')" 2>/dev/null && echo reached && exit 0; sleep 0.1; done; exit 1']),
    );
    await rt.startContainer(client);
    assert.equal((await exited(rt, client)).exitCode, 0);
    const other = await rt.createContainer(b, container('peek', ['sh', '-c', 'ls -A /tmp; test ! -e /tmp/secret']));
    await rt.startContainer(other);
    assert.equal((await exited(rt, other)).exitCode, 0, logText(rt, other));
    assert.equal(existsSync('/tmp/secret'), false, 'the host /tmp is not the container /tmp');
    const ip = (await rt.podSandboxStatus(a)).ip;
    const res = await eventually(() => fetch(`http://${ip}:8080/`).catch(() => undefined), 'the pod IP to answer');
    assert.equal(res.status, 200);
    await rt.removePodSandbox(a);
    await rt.removePodSandbox(b);
  });

  it('mounts volumes at their mountPath, read-only when asked, without touching the host path', async () => {
    const rt = await open();
    const vol = join(base, 'vol');
    mkdirSync(vol, { recursive: true });
    writeFileSync(join(vol, 'config.txt'), 'from-volume\n');
    const sb = await rt.runPodSandbox(sandboxConfig('vol'));
    const mountPath = `/skiff-test-${tag}/conf`;
    const id = await rt.createContainer(
      sb,
      container('c', ['sh', '-c', `cat ${mountPath}/config.txt; cat /tmp/data/config.txt; (echo x > ${mountPath}/w) 2>/dev/null && echo writable || echo readonly`], {
        mounts: [
          { hostPath: vol, containerPath: mountPath, readOnly: true },
          { hostPath: vol, containerPath: '/tmp/data', readOnly: false },
        ],
      }),
    );
    await rt.startContainer(id);
    assert.equal((await exited(rt, id)).exitCode, 0, logText(rt, id));
    assert.equal(logText(rt, id), 'from-volume\nfrom-volume\nreadonly');
    await rt.removePodSandbox(sb);
    assert.equal(existsSync(`/skiff-test-${tag}`), false, 'mount points skiff created are removed with the container');
  });

  it('runs as runAsUser/runAsGroup from the securityContext', async () => {
    const rt = await open();
    const sb = await rt.runPodSandbox(sandboxConfig('user'));
    const id = await rt.createContainer(sb, container('c', ['sh', '-c', 'id -u; id -g; id -G; echo $HOME'], { securityContext: { runAsUser: 65534, runAsGroup: 65534 } }));
    await rt.startContainer(id);
    assert.equal((await exited(rt, id)).exitCode, 0, logText(rt, id));
    assert.equal(logText(rt, id), '65534\n65534\n65534\n/nonexistent');
    await rt.removePodSandbox(sb);
  });

  it('reports OOMKilled when the memory limit kills the container', async () => {
    const rt = await open();
    const sb = await rt.runPodSandbox(sandboxConfig('oom'));
    const id = await rt.createContainer(sb, container('hog', ['python3', '-c', 'b = bytearray(256 * 1024 * 1024); import time; time.sleep(30)'], { resources: { limits: { memory: '32Mi' } } }));
    await rt.startContainer(id);
    const s = await exited(rt, id);
    assert.equal(s.reason, 'OOMKilled');
    assert.equal(s.exitCode, 137);
    await rt.removePodSandbox(sb);
  });

  it('fails creation without a command and start without an executable', async () => {
    const rt = await open();
    const sb = await rt.runPodSandbox(sandboxConfig('bad'));
    await assert.rejects(rt.createContainer(sb, container('nginx', [], { image: 'nginx' })), (err: unknown) => {
      assert.ok(err instanceof ContainerCreateError);
      assert.equal(err.reason, 'CreateContainerError');
      assert.equal(err.message, 'skiff process runtime: image entrypoint of "nginx" is unknown; set command');
      return true;
    });
    const id = await rt.createContainer(sb, container('missing', ['no-such-program-skiff', '--flag']));
    await rt.startContainer(id);
    const s = await exited(rt, id);
    assert.equal(s.reason, 'StartError');
    assert.equal(s.exitCode, 128);
    assert.equal(s.message, 'exec: "no-such-program-skiff": executable file not found in $PATH');
    await rt.removePodSandbox(sb);
  });

  it('stops gracefully with SIGTERM, and with SIGKILL after the grace period', async () => {
    const rt = await open();
    const sb = await rt.runPodSandbox(sandboxConfig('stop'));
    const out = join(base, 'out');
    mkdirSync(out, { recursive: true });
    const polite = await rt.createContainer(
      sb,
      container('polite', ['sh', '-c', `trap 'echo bye > /out/terminated; exit 0' TERM; echo ready; while :; do sleep 0.1; done`], {
        mounts: [{ hostPath: out, containerPath: '/out', readOnly: false }],
      }),
    );
    const stubborn = await rt.createContainer(sb, container('stubborn', ['sh', '-c', `trap '' TERM; echo ready; while :; do sleep 0.1; done`]));
    await rt.startContainer(polite);
    await rt.startContainer(stubborn);
    await eventually(() => logText(rt, polite).includes('ready') && logText(rt, stubborn).includes('ready'), 'both to be ready');
    await rt.stopContainer(polite, 10);
    const p = await rt.containerStatus(polite);
    assert.equal(p.exitCode, 0);
    assert.equal(p.reason, 'Completed');
    assert.equal(readFileSync(join(out, 'terminated'), 'utf8'), 'bye\n');
    const t0 = Date.now();
    await rt.stopContainer(stubborn, 1);
    const took = Date.now() - t0;
    const s = await rt.containerStatus(stubborn);
    assert.equal(s.exitCode, 137);
    assert.ok(took >= 900 && took < 5000, `SIGKILL after the 1 s grace period (took ${took} ms)`);
    await rt.removePodSandbox(sb);
  });

  it('execs in the container namespaces and reports stats from its cgroup', async () => {
    const rt = await open();
    const sb = await rt.runPodSandbox(sandboxConfig('exec'));
    const id = await rt.createContainer(sb, container('busy', ['sh', '-c', 'echo inside > /tmp/mark; while :; do :; done'], { resources: { limits: { cpu: '200m', memory: '64Mi' } } }));
    await rt.startContainer(id);
    const r = await eventually(async () => {
      const x = await rt.execInContainer(id, ['cat', '/tmp/mark'], 5);
      return x.exitCode === 0 ? x : undefined;
    }, 'exec to see the container /tmp');
    assert.equal(r.output, 'inside\n');
    const fail = await rt.execInContainer(id, ['sh', '-c', 'echo oops >&2; exit 4'], 5);
    assert.deepEqual(fail, { exitCode: 4, output: 'oops\n' });
    const slow = await rt.execInContainer(id, ['sleep', '10'], 1);
    assert.equal(slow.timedOut, true);
    await rt.stats(id);
    await new Promise((r) => setTimeout(r, 1100));
    const st = (await rt.stats(id))!;
    assert.ok(st.cpu.usageCoreNanoSeconds > 0);
    // The CFS quota holds a busy loop near 200m.
    assert.ok(st.cpu.usageNanoCores > 50_000_000 && st.cpu.usageNanoCores < 300_000_000, `usageNanoCores ${st.cpu.usageNanoCores}`);
    assert.ok(st.memory.workingSetBytes > 0);
    await rt.removePodSandbox(sb);
  });

  it('serves logs, exec and port-forward for the streaming server', async () => {
    const rt = await open();
    const sb = await rt.runPodSandbox(sandboxConfig('stream'));
    const id = await rt.createContainer(sb, container('web', ['sh', '-c', 'echo one; echo two >&2; echo inpod > /tmp/x; exec python3 -m http.server 8081']));
    await rt.startContainer(id);
    const text = async (r: NodeJS.ReadableStream) => {
      let s = '';
      for await (const chunk of r) s += chunk.toString();
      return s;
    };
    await eventually(async () => (await text(rt.logs(id, {}))).includes('two'), 'both lines in the log');
    assert.equal(await text(rt.logs(id, { tailLines: 1 })), 'two\n');
    const out = new PassThrough();
    const collected = text(out);
    const code = await rt.exec(id, ['sh', '-c', 'cat /tmp/x; hostname; exit 3'], { stdout: out, tty: false });
    out.end();
    assert.equal(code, 3);
    assert.equal(await collected, 'inpod\nstream\n');
    const conn = await eventually(() => rt.portForward(sb, 8081).catch(() => undefined), 'the port to accept');
    conn.write('GET / HTTP/1.0\r\n\r\n');
    assert.match(await text(conn), /^HTTP\/1\.0 200 OK/);
    await rt.removePodSandbox(sb);
  });

  it('finds running containers again after a restart, and notices exits that happened meanwhile', async () => {
    const first = await open();
    const sb = await first.runPodSandbox(sandboxConfig('survivor'));
    const long = await first.createContainer(sb, container('long', ['sleep', '3600']));
    const short = await first.createContainer(sb, container('short', ['sh', '-c', 'sleep 1; exit 5']));
    await first.startContainer(long);
    await first.startContainer(short);
    const pid = first.containerPid(long)!;
    first.close();
    const second = await open();
    assert.equal(second.containerPid(long), pid, 'same process');
    assert.equal((await second.containerStatus(long)).state, 'CONTAINER_RUNNING');
    assert.equal(await second.runPodSandbox(sandboxConfigOf(sb, second)), sb);
    const died = new Promise<RuntimeEvent>((resolve) => second.subscribe((e) => e.type === 'ContainerDied' && resolve(e)));
    const hold = setInterval(() => undefined, 1000);
    const ev = await died;
    clearInterval(hold);
    assert.equal(ev.containerId, short);
    assert.equal((await second.containerStatus(short)).exitCode, 5);
    await second.removePodSandbox(sb);
    assert.equal(existsSync(`/proc/${pid}`), false, 'removing the sandbox kills its processes');
  });

  it('removing a sandbox leaves nothing: namespace, veth, cgroups, files', async () => {
    const rt = await open();
    const cfg = sandboxConfig('gone');
    const sb = await rt.runPodSandbox(cfg);
    const id = await rt.createContainer(sb, container('c', ['sleep', '3600'], { resources: { limits: { memory: '16Mi' } } }));
    await rt.startContainer(id);
    const pid = rt.containerPid(id)!;
    const netns = rt.sandboxNetnsPath(sb)!;
    assert.ok(existsSync(netns));
    const cgroup = `/sys/fs/cgroup/memory/${cgroupParent}/pod${cfg.uid}`;
    assert.ok(existsSync(cgroup));
    await rt.removePodSandbox(sb);
    assert.equal(existsSync(netns), false);
    assert.equal(existsSync(cgroup), false);
    assert.equal(existsSync(`/proc/${pid}`), false);
    assert.doesNotMatch(execFileSync('ip', ['-o', 'link']).toString(), new RegExp(`skv${sb.slice(0, 12)}`));
    assert.equal(existsSync(join(stateDir, 'pods', `default_gone_${cfg.uid}`)), false);
    assert.equal(existsSync(join(stateDir, 'sandboxes', sb)), false);
    assert.equal(existsSync(join(stateDir, 'containers', id)), false);
    await assert.rejects(rt.podSandboxStatus(sb), /not found/);
  });
});

/** The config a pod worker would send again for an existing sandbox (same pod uid). */
function sandboxConfigOf(sandboxId: string, rt: ProcessRuntime): PodSandboxConfig {
  const s = rt.listPodSandboxes().find((x) => x.id === sandboxId)!;
  return { name: s.name, namespace: s.namespace, uid: s.uid, attempt: 0, hostname: s.name, labels: {}, annotations: {}, restartPolicy: 'Always', terminationGracePeriodSeconds: 30 };
}

describe('process runtime without isolation', () => {
  it('runs pods on the host network and says so', async () => {
    const rt = await ProcessRuntime.open({ stateDir: join(base, 'plain'), podCIDR, isolation: 'none', hostIP: '127.0.0.1', monitor: 'agent' });
    opened.push(rt);
    const caps = rt.capabilities();
    assert.equal(caps.network, 'host');
    assert.equal(caps.mountNamespaces, false);
    assert.equal(caps.cgroups, 'none');
    assert.ok(caps.warnings.some((w) => /host network/.test(w)));
    const sb = await rt.runPodSandbox(sandboxConfig('plain'));
    assert.equal((await rt.podSandboxStatus(sb)).ip, '127.0.0.1');
    const id = await rt.createContainer(sb, container('c', ['sh', '-c', 'echo plain; exit 0']));
    await rt.startContainer(id);
    const hold = setInterval(() => undefined, 1000);
    const s = await exited(rt, id);
    clearInterval(hold);
    assert.equal(s.reason, 'Completed');
    assert.equal(logText(rt, id), 'plain');
    await rt.removePodSandbox(sb);
  });
});
