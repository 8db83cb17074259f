/** @module Volumes: the atomic writer's `..data` swap, payload rules, and the manager's layout, updates, checks, mounts and teardown. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { CreateContainerConfigError } from '../env/env.js';
import { FakeObjectSource } from '../env/fake-source.js';
import { AtomicWriter, InvalidPayloadPathError, VolumeManager, checkHostPathType, configMapPayload, mountPointsUnder, podVolumeReferences, projectedPayload, secretPayload, type Payload } from './index.js';

const scratch = mkdtempSync(join(tmpdir(), 'skiff-volumes-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(scratch, `d${n++}`);

function payload(entries: Record<string, string>, mode = 0o644): Payload {
  return new Map(Object.entries(entries).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));
}

describe('AtomicWriter', () => {
  test('writes a versioned directory behind ..data with visible symlinks', async () => {
    const dir = fresh();
    const w = new AtomicWriter(dir);
    assert.equal(await w.write(payload({ 'app.conf': 'a=1', 'nested/inner.txt': 'x' })), true);
    const version = readlinkSync(join(dir, '..data'));
    assert.match(version, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\./);
    assert.equal(readlinkSync(join(dir, 'app.conf')), '..data/app.conf');
    assert.equal(readlinkSync(join(dir, 'nested')), '..data/nested');
    assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'a=1');
    assert.equal(readFileSync(join(dir, 'nested', 'inner.txt'), 'utf8'), 'x');
    assert.equal(statSync(join(dir, 'app.conf')).mode & 0o777, 0o644);
  });

  test('an update swaps ..data, drops removed keys and the old version; the same payload writes nothing', async () => {
    const dir = fresh();
    const w = new AtomicWriter(dir);
    await w.write(payload({ a: '1', b: '2' }));
    const v1 = readlinkSync(join(dir, '..data'));
    assert.equal(await w.write(payload({ a: '1', b: '2' })), false);
    assert.equal(readlinkSync(join(dir, '..data')), v1, 'unchanged content keeps the version');
    assert.equal(await w.write(payload({ a: 'one', c: '3' })), true);
    const v2 = readlinkSync(join(dir, '..data'));
    assert.notEqual(v2, v1);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'one');
    assert.equal(readFileSync(join(dir, 'c'), 'utf8'), '3');
    assert.equal(existsSync(join(dir, 'b')), false, 'a key removed from the object disappears');
    assert.equal(existsSync(join(dir, v1)), false, 'the old version directory is removed');
    assert.deepEqual(readdirSync(dir).sort(), ['..data', v2, 'a', 'c'].sort());
  });

  test('a mode change alone is a new version; modes ignore the umask', async () => {
    const dir = fresh();
    const w = new AtomicWriter(dir);
    await w.write(payload({ k: 'v' }, 0o600));
    assert.equal(statSync(join(dir, 'k')).mode & 0o777, 0o600);
    assert.equal(await w.write(payload({ k: 'v' }, 0o777)), true);
    assert.equal(statSync(join(dir, 'k')).mode & 0o777, 0o777);
  });

  test('rejects paths kube rejects', async () => {
    for (const bad of ['/abs', '../up', 'a/../b', '..hidden', ''])
      await assert.rejects(new AtomicWriter(fresh()).write(payload({ [bad]: 'x' })), InvalidPayloadPathError, bad);
  });
});

describe('payloads', () => {
  const src = new FakeObjectSource();
  src.put('configmaps', { metadata: { name: 'cm', namespace: 'ns' }, data: { 'nginx.conf': 'server {}', other: 'o' }, binaryData: { 'logo.bin': Buffer.from([0, 1, 2]).toString('base64') } });
  src.put('secrets', { metadata: { name: 's', namespace: 'ns' }, data: { token: Buffer.from('t0k').toString('base64') } });
  const pod: KObject = { metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { b: '2', a: '1' } }, spec: { containers: [{ name: 'c', resources: { limits: { memory: '128Mi' } } }] } };
  const ctx = { pod, source: src, podIPs: ['10.42.0.9'], hostIPs: ['10.0.0.1'], nodeAllocatable: {} };

  test('configMap: all keys (data and binaryData) or the chosen items with modes', async () => {
    const all = await configMapPayload({ name: 'cm', defaultMode: 0o640 }, ctx);
    assert.deepEqual([...all.keys()].sort(), ['logo.bin', 'nginx.conf', 'other']);
    assert.deepEqual([...all.get('logo.bin')!.data], [0, 1, 2]);
    assert.equal(all.get('other')!.mode, 0o640);
    const items = await configMapPayload({ name: 'cm', items: [{ key: 'nginx.conf', path: 'conf/nginx.conf', mode: 0o600 }] }, ctx);
    assert.deepEqual([...items.keys()], ['conf/nginx.conf']);
    assert.equal(items.get('conf/nginx.conf')!.mode, 0o600);
  });

  test('missing objects and keys: kubelet messages, or nothing when optional', async () => {
    await assert.rejects(configMapPayload({ name: 'gone' }, ctx), { message: 'configmap "gone" not found' });
    await assert.rejects(secretPayload({ secretName: 'gone' }, ctx), { message: 'secret "gone" not found' });
    await assert.rejects(configMapPayload({ name: 'cm', items: [{ key: 'nope', path: 'x' }] }, ctx), /configmap references non-existent config key: nope/);
    await assert.rejects(secretPayload({ secretName: 's', items: [{ key: 'nope', path: 'x' }] }, ctx), /references non-existent secret key: nope/);
    assert.equal((await configMapPayload({ name: 'gone', optional: true }, ctx)).size, 0);
    assert.equal((await secretPayload({ secretName: 's', optional: true, items: [{ key: 'nope', path: 'x' }] }, ctx)).size, 0);
    assert.equal((await secretPayload({ secretName: 's' }, ctx)).get('token')!.data.toString(), 't0k');
  });

  test('projected: sources merge; a token the API cannot issue is skipped with a warning', async () => {
    const warnings: Array<{ reason: string; message: string }> = [];
    const p = await projectedPayload(
      {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
          { configMap: { name: 'cm', items: [{ key: 'other', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }, { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }] } },
        ],
      },
      { ...ctx, warnings, volumeName: 'kube-api-access-x' },
    );
    assert.deepEqual([...p.keys()].sort(), ['ca.crt', 'labels', 'mem', 'namespace']);
    assert.equal(p.get('labels')!.data.toString(), 'a="1"\nb="2"');
    assert.equal(p.get('mem')!.data.toString(), '128');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /skipped the service account token "token" of volume "kube-api-access-x"/);
    src.token = 'jwt';
    const withToken = await projectedPayload({ sources: [{ serviceAccountToken: { path: 'token' } }] }, ctx);
    assert.equal(withToken.get('token')!.data.toString(), 'jwt');
    src.token = undefined;
  });
});

describe('VolumeManager', () => {
  const ctx = { podIPs: ['10.42.0.9'], hostIPs: ['10.0.0.1'], nodeAllocatable: { memory: '1Gi' } };
  function makePod(uid: string, volumes: KObject[], containers: KObject[] = [{ name: 'c', image: 'x' }]): KObject {
    return { metadata: { name: `p-${uid}`, namespace: 'ns', uid, labels: { app: 'web' } }, spec: { volumes, containers } };
  }

  test('configMap volumes land under pods/<uid>/volumes/kubernetes.io~configmap/<name> and follow the object', async () => {
    const root = fresh();
    const src = new FakeObjectSource();
    src.put('configmaps', { metadata: { name: 'web', namespace: 'ns' }, data: { 'index.html': 'v1' } });
    const vm = new VolumeManager({ rootDir: root, source: src });
    const pod = makePod('u1', [{ name: 'site', configMap: { name: 'web', defaultMode: 0o644 } }]);
    const r = await vm.setUp(pod, ctx);
    assert.equal(r.ready, true);
    const dir = join(root, 'pods', 'u1', 'volumes', 'kubernetes.io~configmap', 'site');
    assert.equal(r.volumes.get('site')!.hostPath, dir);
    assert.equal(readFileSync(join(dir, 'index.html'), 'utf8'), 'v1');
    assert.deepEqual(r.references, ['configmaps/ns/web']);
    src.put('configmaps', { metadata: { name: 'web', namespace: 'ns' }, data: { 'index.html': 'v2' } });
    await vm.setUp(pod, ctx);
    assert.equal(readFileSync(join(dir, 'index.html'), 'utf8'), 'v2');
    // The configMap disappears: the running pod keeps its files and gets a FailedMount event.
    src.remove('configmaps', 'ns', 'web');
    const r3 = await vm.setUp(pod, ctx);
    assert.equal(r3.ready, true);
    assert.deepEqual(r3.events, [{ type: 'Warning', reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "site" : configmap "web" not found' }]);
    assert.equal(readFileSync(join(dir, 'index.html'), 'utf8'), 'v2');
    await vm.tearDown('u1');
    assert.equal(existsSync(join(root, 'pods', 'u1')), false);
  });

  test('a missing required configMap keeps the pod from starting until it appears', async () => {
    const src = new FakeObjectSource();
    const vm = new VolumeManager({ rootDir: fresh(), source: src });
    const pod = makePod('u2', [{ name: 'cfg', configMap: { name: 'later' } }]);
    const r = await vm.setUp(pod, ctx);
    assert.equal(r.ready, false);
    assert.equal(r.events[0].message, 'MountVolume.SetUp failed for volume "cfg" : configmap "later" not found');
    src.put('configmaps', { metadata: { name: 'later', namespace: 'ns' }, data: { k: 'v' } });
    assert.equal((await vm.setUp(pod, ctx)).ready, true);
  });

  test('claims: unbound waits with FailedMount; bound to a hostPath or local PV resolves to its path', async () => {
    const src = new FakeObjectSource();
    const hostDir = fresh();
    mkdirSync(hostDir);
    const vm = new VolumeManager({ rootDir: fresh(), source: src });
    const pod = makePod('u3', [{ name: 'data', persistentVolumeClaim: { claimName: 'claim' } }]);
    let r = await vm.setUp(pod, ctx);
    assert.equal(r.ready, false);
    assert.match(r.events[0].message, /^Unable to attach or mount volumes: unmounted volumes=\[data\], unattached volumes=\[data\], failed to process volumes=\[data\]: error processing PVC ns\/claim: failed to fetch PVC from API server: persistentvolumeclaims "claim" not found$/);
    src.put('persistentvolumeclaims', { metadata: { name: 'claim', namespace: 'ns', uid: 'c1' }, spec: {}, status: { phase: 'Pending' } });
    r = await vm.setUp(pod, ctx);
    assert.match(r.events[0].message, /error processing PVC ns\/claim: PVC is not bound$/);
    src.put('persistentvolumeclaims', { metadata: { name: 'claim', namespace: 'ns', uid: 'c1' }, spec: { volumeName: 'pv1' }, status: { phase: 'Bound' } });
    src.put('persistentvolumes', { metadata: { name: 'pv1' }, spec: { hostPath: { path: hostDir, type: 'Directory' }, claimRef: { namespace: 'ns', name: 'claim', uid: 'c1' } } });
    r = await vm.setUp(pod, ctx);
    assert.equal(r.ready, true);
    assert.deepEqual(r.volumes.get('data'), { name: 'data', hostPath: hostDir, readOnly: false, managed: false });
    assert.ok(r.references.includes('persistentvolumes//pv1'));
    src.put('persistentvolumes', { metadata: { name: 'pv1' }, spec: { local: { path: hostDir }, claimRef: { namespace: 'ns', name: 'claim', uid: 'c1' } } });
    const pod2 = makePod('u3b', [{ name: 'data', persistentVolumeClaim: { claimName: 'claim', readOnly: true } }]);
    r = await vm.setUp(pod2, ctx);
    assert.deepEqual(r.volumes.get('data'), { name: 'data', hostPath: hostDir, readOnly: true, managed: false });
  });

  test('hostPath type checks', async () => {
    const base = fresh();
    mkdirSync(base);
    writeFileSync(join(base, 'file'), 'x');
    await checkHostPathType(join(base, 'anything'), '');
    await checkHostPathType(join(base, 'made', 'deep'), 'DirectoryOrCreate');
    assert.ok(statSync(join(base, 'made', 'deep')).isDirectory());
    await checkHostPathType(join(base, 'new-file'), 'FileOrCreate');
    assert.ok(statSync(join(base, 'new-file')).isFile());
    await assert.rejects(checkHostPathType(join(base, 'file'), 'Directory'), { message: `hostPath type check failed: ${join(base, 'file')} is not a directory` });
    await assert.rejects(checkHostPathType(join(base, 'missing'), 'Directory'), /is not a directory/);
    await assert.rejects(checkHostPathType(base, 'File'), /is not a file/);
    await assert.rejects(checkHostPathType(join(base, 'file'), 'Socket'), /is not a socket file/);
    await assert.rejects(checkHostPathType(join(base, 'no-parent', 'f'), 'FileOrCreate'), /hostPath type check failed/);
    await assert.rejects(checkHostPathType(base, 'Bogus'), /invalid HostPathType "Bogus"/);
  });

  test('mounts: subPath, subPathExpr, read-only sources, and escapes refused', async () => {
    const root = fresh();
    const src = new FakeObjectSource();
    src.put('configmaps', { metadata: { name: 'nginx', namespace: 'ns' }, data: { 'nginx.conf': 'worker_processes 1;' } });
    const vm = new VolumeManager({ rootDir: root, source: src });
    const pod = makePod('u4', [{ name: 'conf', configMap: { name: 'nginx' } }, { name: 'scratch', emptyDir: {} }]);
    const r = await vm.setUp(pod, ctx);
    const conf = r.volumes.get('conf')!.hostPath;
    const scratchDir = r.volumes.get('scratch')!.hostPath;
    assert.equal(scratchDir, join(root, 'pods', 'u4', 'volumes', 'kubernetes.io~empty-dir', 'scratch'));
    assert.equal(statSync(scratchDir).mode & 0o777, 0o777);
    const mounts = await vm.mountsFor(
      {
        name: 'c',
        volumeMounts: [
          { name: 'conf', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf' },
          { name: 'scratch', mountPath: '/cache', readOnly: true },
          { name: 'scratch', mountPath: '/per-pod', subPathExpr: 'logs/$(POD_NAME)' },
        ],
      },
      r.volumes,
      [{ name: 'POD_NAME', value: 'p-u4' }],
    );
    assert.deepEqual(mounts, [
      { hostPath: join(conf, 'nginx.conf'), containerPath: '/etc/nginx/nginx.conf', readOnly: true },
      { hostPath: scratchDir, containerPath: '/cache', readOnly: true },
      { hostPath: join(scratchDir, 'logs', 'p-u4'), containerPath: '/per-pod', readOnly: false },
    ]);
    assert.ok(statSync(join(scratchDir, 'logs', 'p-u4')).isDirectory(), 'a missing subPath is created');
    await assert.rejects(vm.mountsFor({ name: 'c', volumeMounts: [{ name: 'scratch', mountPath: '/x', subPathExpr: '$(NOPE)' }] }, r.volumes, []), (e: unknown) => e instanceof CreateContainerConfigError && e.message === 'missing value for NOPE');
    await assert.rejects(vm.mountsFor({ name: 'c', volumeMounts: [{ name: 'scratch', mountPath: '/x', subPath: '../../etc' }] }, r.volumes), CreateContainerConfigError);
    symlinkSync('/etc', join(scratchDir, 'escape'));
    await assert.rejects(vm.mountsFor({ name: 'c', volumeMounts: [{ name: 'scratch', mountPath: '/x', subPath: 'escape' }] }, r.volumes), /not within volume path/);
    await vm.tearDown('u4');
  });

  test('without a root dir (hollow) volumes are checked but nothing is written', async () => {
    const src = new FakeObjectSource();
    src.put('configmaps', { metadata: { name: 'cm', namespace: 'ns' }, data: { a: 'b' } });
    const vm = new VolumeManager({ source: src, simulated: true });
    const ok = await vm.setUp(makePod('u5', [{ name: 'c', configMap: { name: 'cm' } }, { name: 'h', hostPath: { path: '/definitely/not/here', type: 'Directory' } }, { name: 'csi', csi: { driver: 'x' } }]), ctx);
    assert.equal(ok.ready, true);
    assert.deepEqual([...ok.volumes.keys()], ['h'], 'only host paths resolve; nothing is materialized');
    const blocked = await vm.setUp(makePod('u6', [{ name: 'c', configMap: { name: 'missing' } }]), ctx);
    assert.equal(blocked.ready, false);
  });

  test('orphaned pod directories are removed, active ones kept', async () => {
    const root = fresh();
    const vm = new VolumeManager({ rootDir: root, source: new FakeObjectSource() });
    await vm.setUp(makePod('keep', [{ name: 'e', emptyDir: {} }]), ctx);
    await vm.setUp(makePod('gone', [{ name: 'e', emptyDir: {} }]), ctx);
    mkdirSync(join(root, 'pods', 'default_web_gone', 'app'), { recursive: true });
    assert.deepEqual(await vm.cleanupOrphans(new Set(['keep'])), ['gone']);
    assert.deepEqual(readdirSync(join(root, 'pods')).sort(), ['default_web_gone', 'keep'], 'log directories of the runtime are left alone');
  });

  test('references name every object the volumes read', () => {
    const refs = podVolumeReferences(
      makePod('u7', [
        { name: 'a', configMap: { name: 'cm1' } },
        { name: 'b', secret: { secretName: 's1' } },
        { name: 'c', projected: { sources: [{ configMap: { name: 'cm2' } }, { secret: { name: 's2' } }] } },
        { name: 'd', persistentVolumeClaim: { claimName: 'pvc' } },
      ]),
    );
    assert.deepEqual(refs.sort(), ['configmaps/ns/cm1', 'configmaps/ns/cm2', 'persistentvolumeclaims/ns/pvc', 'secrets/ns/s1', 'secrets/ns/s2']);
  });

  const root = process.getuid?.() === 0 && process.platform === 'linux';
  test('medium Memory emptyDir is a tmpfs sized by sizeLimit, unmounted on teardown', { skip: root ? false : 'needs root to mount tmpfs' }, async () => {
    const dir = fresh();
    const vm = new VolumeManager({ rootDir: dir, source: new FakeObjectSource() });
    try {
      const r = await vm.setUp(makePod('mem', [{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }]), ctx);
      const path = r.volumes.get('shm')!.hostPath;
      assert.deepEqual(await mountPointsUnder(path), [path]);
      const info = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === path)!;
      assert.match(info, /tmpfs/);
      assert.match(info, /size=16384k/);
      await vm.setUp(makePod('mem', [{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }]), ctx);
      assert.equal((await mountPointsUnder(path)).length, 1, 'a re-sync does not mount twice');
      await vm.tearDown('mem');
      assert.deepEqual(await mountPointsUnder(path), []);
      assert.equal(existsSync(join(dir, 'pods', 'mem')), false);
    } finally {
      for (const mp of await mountPointsUnder(dir)) await import('node:child_process').then((cp) => cp.execFileSync('umount', ['-l', mp]));
    }
  });
});
