/**
 * @module Install-to-ready time of the seed chart (examples/rest-api, issue 6): `skiff helm
 * install --wait` against a real `skiff server` — on the process runtime when run as root
 * on Linux (the API and its Redis sidecar run as real processes), else on hollow nodes —
 * timed from the command's start to its exit. Reference in the same run: the same
 * rendered manifest (`skiff helm get manifest`) applied with `kubectl apply` and waited
 * for with `kubectl rollout status`. Runs alternate; medians are reported.
 */
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupProcessNode } from '../src/kubelet/runtime/process/index.js';
import { machineDescription, root, skiffBin, startServer, stopProcess } from './util.js';

const RUNS = Number(process.env.BENCH_HELM_RUNS ?? 3);
const bridge = 'skbhelm0';
const podCIDR = '10.42.248.0/24';

function run(cmd: string, args: string[], env: Record<string, string>, timeoutMs = 180_000): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr}${stdout}`));
      else resolve({ ms: performance.now() - t0, stdout: stdout.toString() });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function helmInstallSection(work: string): Promise<string> {
  const processRuntime = process.platform === 'linux' && process.getuid?.() === 0;
  const runtimeArgs = processRuntime ? ['--runtime', 'process', '--pod-bridge', bridge, '--pod-cidr', podCIDR] : [];
  const dataDir = join(work, 'helm-install');
  const server = await startServer(dataDir, runtimeArgs);
  const env = { KUBECONFIG: server.kubeconfig, HOME: join(work, 'helm-home') };
  const chart = join(root, 'examples', 'rest-api');
  // ClusterIP: --wait on a LoadBalancer Service also waits for a load balancer to be assigned.
  const values = ['--set', 'database.url=postgres://db:5432/api', '--set', 'service.type=ClusterIP'];
  const helmMs: number[] = [];
  const refMs: number[] = [];
  try {
    await run('kubectl', ['wait', '--for=condition=Ready', 'node', '--all', '--timeout=60s'], env);
    for (let i = 0; i < RUNS; i++) {
      const ns = `bench-helm-${i}`;
      const h = await run(process.execPath, [skiffBin, 'helm', 'install', 'api', chart, '-n', ns, '--create-namespace', '--wait', '--timeout', '120s', ...values], env);
      helmMs.push(h.ms);
      const manifest = (await run(process.execPath, [skiffBin, 'helm', 'get', 'manifest', 'api', '-n', ns], env)).stdout;
      await run(process.execPath, [skiffBin, 'helm', 'uninstall', 'api', '-n', ns, '--wait'], env);
      const file = join(work, `helm-ref-${i}.yaml`);
      writeFileSync(file, manifest);
      const refNs = `bench-ref-${i}`;
      await run('kubectl', ['create', 'namespace', refNs], env);
      const t0 = performance.now();
      await run('kubectl', ['apply', '-n', refNs, '-f', file], env);
      await run('kubectl', ['rollout', 'status', '-n', refNs, 'deployment/api-rest-api', '--timeout=120s'], env);
      refMs.push(performance.now() - t0);
      await run('kubectl', ['delete', 'namespace', refNs, '--timeout=120s'], env);
    }
  } finally {
    await stopProcess(server.proc);
    if (processRuntime) {
      await cleanupProcessNode({ stateDir: join(dataDir, 'kubelet'), podCIDR, bridge, removeBridge: true });
      spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
    }
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const h = median(helmMs);
  const r = median(refMs);
  return [
    `Machine: ${machineDescription()}. Runtime: ${processRuntime ? 'process (real API and Redis processes per pod)' : 'hollow (not root: simulated pods)'}; ${RUNS} runs each, medians.`,
    '',
    '| measure | value | notes |',
    '| --- | --- | --- |',
    `| \`skiff helm install --wait\` of examples/rest-api (2 replicas, API + Redis sidecar), command start → exit | ${s(h)} | all runs: ${helmMs.map(s).join(', ')} |`,
    `| reference: \`kubectl apply\` of the same rendered manifest + \`kubectl rollout status\` | ${s(r)} | all runs: ${refMs.map(s).join(', ')} |`,
    `| ratio helm / kubectl | ${(h / r).toFixed(2)} | helm also renders the chart, records revision 1 and checks ownership |`,
  ].join('\n');
}
