/**
 * @module `skiff helm` against a running skiff (hollow nodes), with the real kubectl
 * confirming the objects at each step: install → upgrade to a new image → rollback →
 * test → uninstall of examples/rest-api, --dry-run writing nothing, and an --atomic
 * upgrade that fails its --wait and is rolled back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cluster, eventually, repoRoot, skiffBin, type KubectlResult } from './harness.js';

const chart = join(repoRoot, 'examples', 'rest-api');
let c: Cluster;

function helm(args: string[], timeoutMs = 90_000): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [skiffBin, 'helm', ...args],
      { env: { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig, TZ: 'UTC' }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

async function helmOk(args: string[]): Promise<string> {
  const r = await helm(args);
  assert.equal(r.code, 0, `skiff helm ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const jsonpath = (args: string[], path: string) => c.k([...args, '-o', `jsonpath=${path}`]);
const image = () => jsonpath(['get', 'deployment', 'api-rest-api'], '{.spec.template.spec.containers[?(@.name=="api")].image}');
const secretStatus = (name: string, v: number) => jsonpath(['get', 'secret', `sh.helm.release.v1.${name}.v${v}`], '{.metadata.labels.status}');

describe('skiff helm against a running cluster', { timeout: 240_000 }, () => {
  before(async () => {
    c = await Cluster.start({ extraArgs: ['--hollow-nodes', '2', '--hollow-pod-startup-ms', '200'] });
  });
  after(async () => {
    await c?.stop();
  });

  it('install → upgrade → rollback → test → uninstall of the seed chart', async () => {
    const installed = await helmOk(['install', 'api', chart, '--set', 'database.url=postgres://db:5432/api']);
    assert.match(installed, /^NAME: api\nLAST DEPLOYED: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nNAMESPACE: default\nSTATUS: deployed\nREVISION: 1\nNOTES:\napi-rest-api 1\.0\.0 is installed in namespace default\./);
    assert.equal(await image(), 'example/rest-api:1.0.0');
    const env = JSON.parse(await jsonpath(['get', 'deployment', 'api-rest-api'], '{.spec.template.spec.containers[0].env}')) as { name: string; value: string }[];
    assert.equal(env.find((e) => e.name === 'DATABASE_URL')?.value, 'postgres://db:5432/api');
    assert.equal(await jsonpath(['get', 'service', 'api-rest-api'], '{.spec.type} {.spec.ports[0].port}'), 'LoadBalancer 80');
    assert.equal(await jsonpath(['get', 'deployment', 'api-rest-api'], '{.metadata.labels.app\\.kubernetes\\.io/managed-by} {.metadata.annotations.meta\\.helm\\.sh/release-name}'), 'Helm api');
    const secret = JSON.parse(await c.k(['get', 'secret', 'sh.helm.release.v1.api.v1', '-o', 'json']));
    assert.equal(secret.type, 'helm.sh/release.v1');
    const { modifiedAt, ...labels } = secret.metadata.labels;
    assert.deepEqual(labels, { name: 'api', owner: 'helm', status: 'deployed', version: '1' });
    assert.match(modifiedAt, /^\d{10}$/);
    await c.k(['rollout', 'status', 'deployment/api-rest-api', '--timeout=60s']);

    // The database URL was given at install: --reuse-values keeps it while the image changes.
    const upgraded = await helmOk(['upgrade', 'api', chart, '--reuse-values', '--set', 'image.tag=1.1.0']);
    assert.match(upgraded, /^Release "api" has been upgraded\. Happy Helming!\nNAME: api\n[^]*\nSTATUS: deployed\nREVISION: 2\n/);
    assert.equal(await image(), 'example/rest-api:1.1.0');
    assert.equal(await secretStatus('api', 1), 'superseded');
    assert.equal(await secretStatus('api', 2), 'deployed');
    await c.k(['rollout', 'status', 'deployment/api-rest-api', '--timeout=60s']);

    assert.equal(await helmOk(['rollback', 'api', '1']), 'Rollback was a success! Happy Helming!\n');
    assert.equal(await image(), 'example/rest-api:1.0.0');
    const hist = (await helmOk(['history', 'api'])).split('\n');
    assert.match(hist[0], /^REVISION\tUPDATED +\tSTATUS +\tCHART +\tAPP VERSION\tDESCRIPTION +$/);
    assert.match(hist[1], /^1 +\t\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\tsuperseded\trest-api-0\.1\.0\t1\.0\.0 +\tInstall complete/);
    assert.match(hist[2], /^2 +\t.*\tsuperseded\trest-api-0\.1\.0\t1\.0\.0 +\tUpgrade complete/);
    assert.match(hist[3], /^3 +\t.*\tdeployed  \trest-api-0\.1\.0\t1\.0\.0 +\tRollback to 1/);
    assert.deepEqual(
      (await c.k(['get', 'secrets', '-l', 'owner=helm,name=api', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.status} {end}'])).trim().split(' ').sort(),
      ['sh.helm.release.v1.api.v1=superseded', 'sh.helm.release.v1.api.v2=superseded', 'sh.helm.release.v1.api.v3=deployed'],
    );
    assert.match(await helmOk(['list']), /^NAME\tNAMESPACE\tREVISION\tUPDATED +\tSTATUS +\tCHART +\tAPP VERSION\napi \tdefault  \t3       \t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC\tdeployed\trest-api-0\.1\.0\t1\.0\.0      \n$/);
    assert.equal(await helmOk(['get', 'values', 'api']), 'USER-SUPPLIED VALUES:\ndatabase:\n  url: postgres://db:5432/api\n');
    assert.match(await helmOk(['get', 'manifest', 'api']), /^---\n# Source: rest-api\/templates\/configmap\.yaml\n/);

    // On hollow nodes a restartPolicy Never pod exits 0 shortly after it starts.
    const tested = await helmOk(['test', 'api', '--timeout', '60s']);
    assert.match(tested, /TEST SUITE:     api-rest-api-test-connection\nLast Started:   .+\nLast Completed: .+\nPhase:          Succeeded\n/);

    assert.equal(await helmOk(['uninstall', 'api']), 'release "api" uninstalled\n');
    const gone = await c.kubectl(['get', 'deployment', 'api-rest-api']);
    assert.match(gone.stderr, /NotFound/);
    assert.equal((await c.k(['get', 'secrets', '-l', 'owner=helm', '-o', 'name'])).trim(), '');
    const missing = await helm(['status', 'api']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: release: not found\n');
  });

  it('--dry-run writes nothing; a missing required value fails with the chart message', async () => {
    const dry = await helmOk(['install', 'dry', chart, '--set', 'database.url=x', '--dry-run']);
    assert.match(dry, /STATUS: pending-install\nREVISION: 1\n[^]*HOOKS:\n---\n# Source: rest-api\/templates\/tests\/test-connection\.yaml\n[^]*MANIFEST:\n---\n# Source: rest-api\/templates\/configmap\.yaml/);
    assert.match((await c.kubectl(['get', 'deployment', 'dry-rest-api'])).stderr, /NotFound/);
    assert.equal((await c.k(['get', 'secrets', '-l', 'owner=helm,name=dry', '-o', 'name'])).trim(), '');
    const noUrl = await helm(['install', 'nourl', chart]);
    assert.equal(noUrl.code, 1);
    assert.match(noUrl.stderr, /^Error: INSTALLATION FAILED: .*database\.url is required: pass it with --set database\.url=URL/);
  });

  it('--atomic rolls back an upgrade whose --wait times out', async () => {
    const base = ['--set', 'database.url=x', '--set', 'service.type=ClusterIP', '--set', 'replicaCount=1', '--set', 'redis.enabled=false'];
    await helmOk(['install', 'atom', chart, ...base, '--wait', '--timeout', '60s']);
    // Hollow nodes fail the readiness probe of pods annotated so: the new pods never become ready.
    // The rollback's own --wait shares the timeout: room for a loaded machine.
    const r = await helm(['upgrade', 'atom', chart, ...base, '--set', 'image.tag=2.0.0', '--set', 'podAnnotations.hollow\\.skiff\\.dev/probe-fail=readiness', '--atomic', '--timeout', '10s']);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stderr, 'Error: UPGRADE FAILED: release atom failed, and has been rolled back due to atomic being set: timed out waiting for the condition\n');
    const hist = await helmOk(['history', 'atom', '-o', 'json']);
    assert.deepEqual(
      (JSON.parse(hist) as { revision: number; status: string; description: string }[]).map((h) => `${h.revision} ${h.status} ${h.description}`),
      ['1 superseded Install complete', '2 failed Upgrade "atom" failed: timed out waiting for the condition', '3 deployed Rollback to 1'],
    );
    assert.equal(await jsonpath(['get', 'deployment', 'atom-rest-api'], '{.spec.template.spec.containers[0].image}'), 'example/rest-api:1.0.0');
    await eventually(async () => (await jsonpath(['get', 'deployment', 'atom-rest-api'], '{.status.readyReplicas}')) === '1', { timeoutMs: 30_000, what: 'the rolled-back Deployment ready' });
  });
});
