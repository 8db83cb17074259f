import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { startServer, type RunningServer } from '../../apiserver/server.js';
import { Resources, type Client } from '../../client/client.js';
import { eventually } from '../../client/testing.js';
import type { KObject } from '../../api/types.js';
import { NoDeployedReleasesError, ReleaseNotFoundError, ReleaseStorage } from '../release/storage.js';
import type { Release } from '../release/types.js';
import { ActionConfig, type ChartSource } from './config.js';
import { getRelease, history } from './get.js';
import { install } from './install.js';
import { list } from './list.js';
import { historyTable, listTable, statusText } from './output.js';
import { rollback } from './rollback.js';
import { releaseTest } from './test.js';
import { uninstall } from './uninstall.js';
import { upgrade } from './upgrade.js';

let server: RunningServer;
let dir: string;
let client: Client;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-helm-actions-'));
  server = await startServer({ dataDir: dir, port: 0, log: () => {} });
  client = new LoopbackClient(server.rest, 'test');
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

let nsCounter = 0;
async function freshNamespace(): Promise<string> {
  const ns = `helm-t${++nsCounter}`;
  await client.create(Resources.namespaces, undefined, { metadata: { name: ns } });
  return ns;
}
const cfgFor = (namespace: string) => new ActionConfig({ client, namespace, pollIntervalMs: 20 });

interface V {
  image?: string;
  replicas?: number;
  withConfig?: boolean;
  serviceType?: string;
  hooks?: string;
  noDeployment?: boolean;
}

/** A chart whose templates are functions of the values, like a rendered rest-api chart. */
function chart(version = '0.1.0'): ChartSource & { renders: { values: Record<string, unknown>; chartValues?: Record<string, unknown>; revision: number }[] } {
  const renders: { values: Record<string, unknown>; chartValues?: Record<string, unknown>; revision: number }[] = [];
  const defaults = { image: 'api:1', replicas: 2, withConfig: true, serviceType: 'ClusterIP' };
  return {
    renders,
    json: { metadata: { name: 'demo', version, apiVersion: 'v2', appVersion: '1.0' }, lock: null, templates: [], values: defaults, schema: null, files: [] },
    async render({ values, chartValues, release }) {
      renders.push({ values, chartValues, revision: release.revision });
      const v: V = { ...(chartValues ?? defaults), ...values };
      const manifests = [
        {
          name: 'demo/templates/deployment.yaml',
          content: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${release.name}
  labels: { app: demo }
spec:
  replicas: ${v.replicas}
  selector: { matchLabels: { app: demo } }
  template:
    metadata: { labels: { app: demo } }
    spec:
      containers:
      - name: api
        image: ${v.image}
        env:
        - { name: REV, value: "${release.revision}" }
`,
        },
        {
          name: 'demo/templates/service.yaml',
          content: `apiVersion: v1
kind: Service
metadata: { name: ${release.name} }
spec:
  type: ${v.serviceType}
  selector: { app: demo }
  ports: [{ port: 80, targetPort: 8000 }]
`,
        },
      ];
      if (v.noDeployment) manifests.shift();
      if (v.withConfig) manifests.push({ name: 'demo/templates/configmap.yaml', content: `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${release.name}-config }\ndata: { a: "1" }\n` });
      if (v.hooks) manifests.push({ name: 'demo/templates/hooks.yaml', content: v.hooks });
      return { manifests, notes: `Release ${release.name} at revision ${release.revision}` };
    },
  };
}

const getDeploy = (ns: string, name: string) => client.get(Resources.deployments, ns, name);
const exists = async (r: typeof Resources.configmaps, ns: string, name: string) => {
  try {
    await client.get(r, ns, name);
    return true;
  } catch {
    return false;
  }
};
const statuses = async (cfg: ActionConfig, name: string) => (await history(cfg, name)).map((r) => `${r.version}:${r.info.status}`);

describe('release storage', () => {
  it('orders history numerically, finds the latest and the deployed revision', async () => {
    const ns = await freshNamespace();
    const st = new ReleaseStorage(client, ns);
    const base = (version: number, status: Release['info']['status']): Release => ({
      name: 'r',
      namespace: ns,
      version,
      info: { deleted: '', status },
      chart: { metadata: { name: 'c', version: '1' }, lock: null, templates: null, values: null, schema: null, files: null },
    });
    for (let v = 1; v <= 11; v++) await st.create(base(v, v === 10 ? 'deployed' : v === 11 ? 'failed' : 'superseded'));
    assert.deepEqual((await st.history('r')).map((r) => r.version), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.equal((await st.last('r')).version, 11);
    assert.equal((await st.deployed('r')).version, 10);
    await assert.rejects(st.get('r', 12), ReleaseNotFoundError);
    await assert.rejects(st.deployed('nope'), NoDeployedReleasesError);
    const s = await client.get(Resources.secrets, ns, 'sh.helm.release.v1.r.v11');
    assert.equal(s.metadata?.labels?.status, 'failed');
    assert.match(s.metadata?.labels?.createdAt ?? '', /^\d{10}$/, 'and creations with createdAt');
    await st.pruneHistory('r', 3);
    assert.deepEqual((await st.history('r')).map((r) => r.version), [9, 10, 11]);
  });
});

describe('helm actions against an API server', () => {
  it('install creates the objects with Helm ownership and records revision 1; the name cannot be re-used', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    const rel = await install(cfg, chart(), { releaseName: 'api', values: { image: 'api:1' } });
    assert.equal(rel.info.status, 'deployed');
    assert.equal(rel.info.description, 'Install complete');
    const d = await getDeploy(ns, 'api');
    assert.equal(d.metadata?.labels?.['app.kubernetes.io/managed-by'], 'Helm');
    assert.equal(d.metadata?.annotations?.['meta.helm.sh/release-name'], 'api');
    assert.equal(d.metadata?.annotations?.['meta.helm.sh/release-namespace'], ns);
    const s = await client.get(Resources.secrets, ns, 'sh.helm.release.v1.api.v1');
    assert.equal(s.type, 'helm.sh/release.v1');
    const { modifiedAt, ...labels } = s.metadata?.labels ?? {};
    assert.deepEqual(labels, { name: 'api', owner: 'helm', status: 'deployed', version: '1' });
    assert.match(modifiedAt, /^\d{10}$/, 'Helm stamps updates with modifiedAt (Unix seconds)');
    assert.match(rel.manifest!, /^---\n# Source: demo\/templates\/configmap.yaml\n/, 'manifest sorted by kind as Helm installs');
    await assert.rejects(install(cfg, chart(), { releaseName: 'api', values: {} }), /cannot re-use a name that is still in use/);
    await assert.rejects(install(cfg, chart(), { releaseName: 'Bad_Name', values: {} }), /invalid release name/);
    const out = statusText(await getRelease(cfg, 'api'));
    assert.match(out, new RegExp(`^NAME: api\nLAST DEPLOYED: \\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}\nNAMESPACE: ${ns}\nSTATUS: deployed\nREVISION: 1\nTEST SUITE: None\nNOTES:\nRelease api at revision 1\n$`));
  });

  it('--dry-run writes nothing and reports the manifest', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    const rel = await install(cfg, chart(), { releaseName: 'dry', values: {}, dryRun: true });
    assert.equal(rel.info.description, 'Dry run complete');
    assert.equal(rel.info.status, 'pending-install');
    assert.equal(await exists(Resources.deployments, ns, 'dry'), false);
    assert.equal((await client.list(Resources.secrets, ns)).items.length, 0);
    assert.match(statusText(rel), /HOOKS:\nMANIFEST:\n---\n# Source: demo\/templates\/configmap.yaml/);
  });

  it('upgrade patches three-way, deletes dropped objects, rollback restores, uninstall removes', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    await install(cfg, chart(), { releaseName: 'web', values: { image: 'api:1' } });
    // Hand edits: an annotation and a sidecar the chart never mentions, replicas the chart sets.
    await client.patch(Resources.deployments, ns, 'web', 'strategic', {
      metadata: { annotations: { 'team/owner': 'ops' } },
      spec: { replicas: 5, template: { spec: { containers: [{ name: 'mesh-proxy', image: 'proxy:1' }] } } },
    });
    const up = await upgrade(cfg, 'web', chart('0.2.0'), { values: { image: 'api:2', withConfig: false } });
    assert.equal(up.version, 2);
    assert.equal(up.info.description, 'Upgrade complete');
    let d = await getDeploy(ns, 'web');
    const containers = d.spec.template.spec.containers as KObject[];
    assert.equal(containers.find((c) => c.name === 'api')?.image, 'api:2');
    assert.ok(containers.some((c) => c.name === 'mesh-proxy'), 'a container added by hand survives (not in the old or new manifest)');
    assert.equal(d.metadata?.annotations?.['team/owner'], 'ops', 'an annotation added by hand survives');
    assert.equal(d.spec.replicas, 2, 'a field the chart sets is brought back to the chart value');
    assert.equal(await exists(Resources.configmaps, ns, 'web-config'), false, 'the ConfigMap dropped from the chart is deleted');
    assert.deepEqual(await statuses(cfg, 'web'), ['1:superseded', '2:deployed']);

    const rb = await rollback(cfg, 'web', {});
    assert.equal(rb.version, 3);
    assert.equal(rb.info.description, 'Rollback to 1');
    d = await getDeploy(ns, 'web');
    assert.equal((d.spec.template.spec.containers as KObject[]).find((c) => c.name === 'api')?.image, 'api:1');
    assert.equal(await exists(Resources.configmaps, ns, 'web-config'), true, 'rollback re-creates what revision 1 had');
    assert.deepEqual(await statuses(cfg, 'web'), ['1:superseded', '2:superseded', '3:deployed']);
    await assert.rejects(rollback(cfg, 'web', { revision: 9 }), /release has no 9 version/);
    const table = historyTable(await history(cfg, 'web'));
    assert.match(table.split('\n')[0], /^REVISION\tUPDATED +\tSTATUS +\tCHART +\tAPP VERSION\tDESCRIPTION +$/);
    assert.match(table, /\n3 +\t.*\tdeployed +\tdemo-0\.1\.0\t1\.0 +\tRollback to 1/);

    const un = await uninstall(cfg, 'web', { keepHistory: true });
    assert.equal(un.release.info.status, 'uninstalled');
    assert.equal(await exists(Resources.deployments, ns, 'web'), false);
    assert.equal(await exists(Resources.services, ns, 'web'), false);
    assert.deepEqual((await list(cfg, {})).map((r) => r.name), [], 'list hides uninstalled releases');
    assert.deepEqual((await list(cfg, { all: true })).map((r) => `${r.name}:${r.info.status}`), ['web:uninstalled']);
    await assert.rejects(uninstall(cfg, 'web', { keepHistory: true }), /the release named "web" is already deleted/);
    const again = await install(cfg, chart(), { releaseName: 'web', values: {}, replace: true });
    assert.equal(again.version, 4, '--replace continues the uninstalled history');
    assert.deepEqual(await statuses(cfg, 'web'), ['1:superseded', '2:superseded', '3:superseded', '4:deployed']);
    await uninstall(cfg, 'web', { keepHistory: true });
    await uninstall(cfg, 'web', {});
    assert.equal((await client.list(Resources.secrets, ns, { labelSelector: 'owner=helm' })).items.length, 0, 'purged');
    await assert.rejects(uninstall(cfg, 'web', {}), /uninstall: Release not loaded: web: release: not found/);
  });

  it('upgrade --reuse-values keeps the old values; no values reuse the old config; --reset-values drops it', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    await install(cfg, chart(), { releaseName: 'vals', values: { image: 'api:7' } });
    const c1 = chart();
    await upgrade(cfg, 'vals', c1, { values: {} });
    assert.deepEqual(c1.renders[0].values, { image: 'api:7' });
    const c2 = chart();
    const r = await upgrade(cfg, 'vals', c2, { values: { replicas: 3 }, reuseValues: true });
    assert.equal(c2.renders[0].chartValues?.image, 'api:7');
    assert.equal((await getDeploy(ns, 'vals')).spec.template.spec.containers[0].image, 'api:7');
    assert.equal(r.chart.values?.image, 'api:7', 'the reused values are stored as the chart values, as Helm does');
    const c3 = chart();
    await upgrade(cfg, 'vals', c3, { values: {}, resetValues: true });
    assert.equal((await getDeploy(ns, 'vals')).spec.template.spec.containers[0].image, 'api:1');
  });

  it('refuses to adopt objects that exist without this release\'s ownership', async () => {
    const ns = await freshNamespace();
    await client.create(Resources.configmaps, ns, { metadata: { name: 'own-config' }, data: {} });
    await assert.rejects(
      install(cfgFor(ns), chart(), { releaseName: 'own', values: {} }),
      /rendered manifests contain a resource that already exists\. Unable to continue with install: ConfigMap "own-config" in namespace "helm-t\d+" exists and cannot be imported into the current release: invalid ownership metadata; label validation error: missing key "app.kubernetes.io\/managed-by": must be set to "Helm"/,
    );
  });

  it('--atomic install uninstalls after a failed --wait', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    // No service controller here: a LoadBalancer never gets an ingress, so --wait times out.
    await assert.rejects(
      install(cfg, chart(), { releaseName: 'atom', values: { serviceType: 'LoadBalancer' }, atomic: true, timeoutMs: 300 }),
      (err: Error) => /^release atom failed, and has been uninstalled due to atomic being set: timed out waiting for the condition$/.test(err.message),
    );
    assert.equal(await exists(Resources.deployments, ns, 'atom'), false);
    assert.equal((await client.list(Resources.secrets, ns, { labelSelector: 'owner=helm' })).items.length, 0);
  });

  it('--atomic upgrade rolls back to the last good revision', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    // Without a Deployment (no controllers here to make it ready) the rollback's own --wait can pass.
    await install(cfg, chart(), { releaseName: 'atup', values: { noDeployment: true } });
    await assert.rejects(
      upgrade(cfg, 'atup', chart(), { values: { noDeployment: true, withConfig: false, serviceType: 'LoadBalancer' }, atomic: true, timeoutMs: 300 }),
      /release atup failed, and has been rolled back due to atomic being set: timed out waiting for the condition/,
    );
    assert.deepEqual(await statuses(cfg, 'atup'), ['1:superseded', '2:failed', '3:deployed']);
    assert.equal(await exists(Resources.configmaps, ns, 'atup-config'), true, 'the rollback re-creates what the failed upgrade deleted');
    assert.equal((await client.get(Resources.services, ns, 'atup')).spec.type, 'ClusterIP');
    const h = await history(cfg, 'atup');
    assert.match(h[1].info.description!, /^Upgrade "atup" failed: timed out waiting for the condition$/);
  });

  it('runs hooks by weight with delete policies, and test hooks to completion', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    const hooks = `apiVersion: v1
kind: ConfigMap
metadata:
  name: second
  annotations: { "helm.sh/hook": pre-install, "helm.sh/hook-weight": "5" }
data: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: first
  annotations: { "helm.sh/hook": pre-install, "helm.sh/hook-weight": "-1", "helm.sh/hook-delete-policy": hook-succeeded }
data: {}
---
apiVersion: v1
kind: Pod
metadata:
  name: hooked-test
  annotations: { "helm.sh/hook": test }
spec:
  restartPolicy: Never
  containers: [{ name: t, image: busybox, command: [wget, http://hooked] }]
`;
    const created: string[] = [];
    const ac = new AbortController();
    const watch = await client.watch(Resources.configmaps, ns, {}, (ev) => ev.type === 'ADDED' && created.push(ev.object.metadata!.name!), () => {});
    const rel = await install(cfg, chart(), { releaseName: 'hooked', values: { hooks } });
    await eventually(() => created.includes('hooked-config'), 'watch events', 5000);
    watch.stop();
    assert.deepEqual(created.filter((n) => n === 'first' || n === 'second' || n === 'hooked-config').slice(0, 3), ['first', 'second', 'hooked-config'], 'weight order, hooks before the release objects');
    assert.equal(await exists(Resources.configmaps, ns, 'first'), false, 'hook-succeeded deletes it');
    assert.equal(await exists(Resources.configmaps, ns, 'second'), true, 'before-hook-creation keeps it until the next run');
    assert.equal(rel.hooks?.find((h) => h.name === 'second')?.last_run.phase, 'Succeeded');
    assert.equal(await exists(Resources.pods, ns, 'hooked-test'), false, 'test hooks wait for helm test');

    // No kubelet here: play its part and finish the test pod.
    const finisher = (async () => {
      while (!ac.signal.aborted) {
        try {
          const p = await client.get(Resources.pods, ns, 'hooked-test');
          if (!p.status?.phase || p.status.phase === 'Pending') await client.update(Resources.pods, ns, { ...p, status: { phase: 'Succeeded' } }, { subresource: 'status' });
        } catch {
          /* not created yet */
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const { release, error } = await releaseTest(cfg, 'hooked', { timeoutMs: 5000 });
    ac.abort();
    await finisher;
    assert.equal(error, undefined);
    const t = release.hooks?.find((h) => h.name === 'hooked-test');
    assert.equal(t?.last_run.phase, 'Succeeded');
    assert.match(statusText(release), /TEST SUITE:     hooked-test\nLast Started:   .+\nLast Completed: .+\nPhase:          Succeeded\n/);
    const stored = await getRelease(cfg, 'hooked');
    assert.equal(stored.hooks?.find((h) => h.name === 'hooked-test')?.last_run.phase, 'Succeeded', 'the run is recorded');
  });

  it('runs upgrade, rollback and delete hooks at their events', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    const hook = (name: string, events: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  annotations: { "helm.sh/hook": "${events}" }\ndata: {}\n`;
    const hooks = [hook('ev-upgrade', 'pre-upgrade,post-upgrade'), hook('ev-rollback', 'post-rollback'), hook('ev-delete', 'pre-delete')].join('---\n');
    const seen: string[] = [];
    const watch = await client.watch(Resources.configmaps, ns, {}, (ev) => ev.type === 'ADDED' && ev.object.metadata!.name! !== 'ev-config' && seen.push(ev.object.metadata!.name!), () => {});
    await install(cfg, chart(), { releaseName: 'ev', values: { hooks } });
    assert.equal(await exists(Resources.configmaps, ns, 'ev-upgrade'), false, 'no install hooks here');
    const up = await upgrade(cfg, 'ev', chart(), { values: { hooks, image: 'api:2' } });
    assert.equal(up.hooks?.find((h) => h.name === 'ev-upgrade')?.last_run.phase, 'Succeeded');
    await rollback(cfg, 'ev', {});
    await uninstall(cfg, 'ev', {});
    await eventually(() => seen.length >= 4, 'hook creations', 5000);
    watch.stop();
    // pre-upgrade and post-upgrade: created twice (before-hook-creation deletes the first).
    assert.deepEqual(seen, ['ev-upgrade', 'ev-upgrade', 'ev-rollback', 'ev-delete']);
  });

  it('keeps objects annotated helm.sh/resource-policy: keep; refuses while an operation is pending; a failing test is reported', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    const keep = `apiVersion: v1
kind: Secret
metadata:
  name: kept-secret
  annotations: { helm.sh/resource-policy: keep }
---
apiVersion: v1
kind: Pod
metadata:
  name: failing-test
  annotations: { "helm.sh/hook": test, "helm.sh/hook-delete-policy": hook-failed }
spec:
  restartPolicy: Never
  containers: [{ name: t, image: busybox, command: ["false"] }]
`;
    await install(cfg, chart(), { releaseName: 'kp', values: { hooks: keep } });
    const ac = new AbortController();
    const failer = (async () => {
      while (!ac.signal.aborted) {
        try {
          const p = await client.get(Resources.pods, ns, 'failing-test');
          if (p.status?.phase !== 'Failed') await client.update(Resources.pods, ns, { ...p, status: { phase: 'Failed' } }, { subresource: 'status' });
        } catch {
          /* not there */
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const { release, error } = await releaseTest(cfg, 'kp', { timeoutMs: 5000 });
    ac.abort();
    await failer;
    assert.equal(error?.message, 'warning: Hook test demo/templates/hooks.yaml failed: pod failing-test failed');
    assert.equal(release.hooks?.find((h) => h.name === 'failing-test')?.last_run.phase, 'Failed');
    assert.equal(await exists(Resources.pods, ns, 'failing-test'), false, 'hook-failed deletes it');

    const res = await uninstall(cfg, 'kp', {});
    assert.equal(res.info, 'These resources were kept due to the resource policy:\n[Secret] kept-secret\n');
    assert.equal(await exists(Resources.secrets, ns, 'kept-secret'), true);

    await install(cfg, chart(), { releaseName: 'pend', values: {} });
    const rel = await getRelease(cfg, 'pend');
    rel.info.status = 'pending-upgrade';
    await cfg.releases.update(rel);
    await assert.rejects(upgrade(cfg, 'pend', chart(), { values: {} }), /another operation \(install\/upgrade\/rollback\) is in progress/);
    await assert.rejects(install(cfgFor('no-such-ns'), chart(), { releaseName: 'x', values: {} }), /^ReleaseStorageError: create: failed to create: namespaces "no-such-ns" not found$/);
  });

  it('lists releases as helm list prints them', async () => {
    const ns = await freshNamespace();
    const cfg = cfgFor(ns);
    await install(cfg, chart(), { releaseName: 'b-rel', values: {} });
    await install(cfg, chart(), { releaseName: 'a-rel', values: {} });
    const rels = await list(cfg, {});
    assert.deepEqual(rels.map((r) => r.name), ['a-rel', 'b-rel']);
    const table = listTable(rels);
    assert.match(table.split('\n')[0], /^NAME +\tNAMESPACE\tREVISION\tUPDATED +\tSTATUS +\tCHART +\tAPP VERSION$/);
    assert.match(table.split('\n')[1], new RegExp(`^a-rel\\t${ns} *\\t1 +\\t\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? [+-]\\d{4} \\S+ *\\tdeployed\\tdemo-0\\.1\\.0\\t1\\.0 +$`));
    assert.deepEqual((await list(cfg, { filter: '^b' })).map((r) => r.name), ['b-rel']);
    assert.ok((await list(cfg, { allNamespaces: true })).some((r) => r.namespace === ns && r.name === 'a-rel'));
  });
});
