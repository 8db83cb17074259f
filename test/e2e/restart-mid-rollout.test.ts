/**
 * @module End to end: the control plane killed in the middle of a rolling update comes back
 * from its store and converges to the same result (every sync is idempotent and desired
 * state lives only in the store).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually } from './harness.js';

const args = ['--hollow-nodes', '3', '--hollow-pod-startup-ms', '1500'];
let c: Cluster | undefined;
after(async () => {
  await c?.stop();
});

test('a server killed with SIGKILL mid-rollout finishes the rollout after restart', { timeout: 120_000 }, async () => {
  c = await Cluster.start({ extraArgs: args });
  await c.k(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=6']);
  await c.k(['rollout', 'status', 'deploy/web', '--timeout=60s']);
  await c.k(['set', 'image', 'deploy/web', 'nginx=nginx:1.26']);
  // Wait until the rollout is under way but not finished: a new ReplicaSet with some pods.
  await eventually(
    async () => {
      const rs = await c!.k(['get', 'rs', '-o', 'jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}={.status.replicas};{end}']);
      const m = /nginx:1\.26=(\d+)/.exec(rs);
      return m && Number(m[1]) > 0 && /nginx:1\.25=[1-9]/.test(rs);
    },
    { what: 'a rollout in progress', timeoutMs: 30_000, intervalMs: 50 },
  );
  c.proc.kill('SIGKILL');
  await c.stop({ keepData: true });
  c = await Cluster.start({ dataDir: c.dataDir, extraArgs: args });
  await c.k(['rollout', 'status', 'deploy/web', '--timeout=90s']);
  const pods = (await c.k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image} {.status.phase}{"\\n"}{end}']))
    .trim()
    .split('\n');
  await eventually(
    async () => {
      const now = (await c!.k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image} {.status.phase}{"\\n"}{end}'])).trim().split('\n');
      return now.length === 6 && now.every((l) => l === 'nginx:1.26 Running');
    },
    { what: 'six updated running pods and no old ones', timeoutMs: 60_000 },
  ).catch((e) => {
    throw new Error(`${(e as Error).message}; pods were: ${pods.join(' | ')}`);
  });
  const rs = await c.k(['get', 'rs', '-o', 'jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}={.spec.replicas};{end}']);
  assert.match(rs, /nginx:1\.26=6;/);
  assert.match(rs, /nginx:1\.25=0;/);
  const deploy = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.status.updatedReplicas}/{.status.availableReplicas}/{.metadata.annotations.deployment\\.kubernetes\\.io/revision}']);
  assert.equal(deploy, '6/6/2');
});
