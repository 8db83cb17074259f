/**
 * @module The node agent's volume manager: materializes each pod volume as a directory
 * under <rootDir>/pods/<uid>/volumes/<plugin>/<name> (kubelet's layout) — emptyDir (tmpfs
 * for medium Memory when root), configMap / secret / downwardAPI / projected through the
 * atomic writer, re-written when their objects change — resolves hostPath (with its type
 * checks) and persistentVolumeClaim (bound to a hostPath or local PersistentVolume) to
 * host paths, turns a container's volumeMounts into runtime mounts (subPath,
 * subPathExpr, read-only), and removes it all when the pod goes.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { tryParseQuantity } from '../../api/quantity.js';
import type { KObject } from '../../api/types.js';
import type { DownwardAPIContext } from '../env/downward-api.js';
import { CreateContainerConfigError } from '../env/env.js';
import { expand } from '../env/expansion.js';
import { referenceKey, type ObjectSource, type TokenRequestSpec } from '../env/sources.js';
import type { ContainerMount } from '../runtime.js';
import { AtomicWriter, type Payload } from './atomic-writer.js';
import { configMapPayload, downwardAPIPayload, projectedPayload, secretPayload, VolumeSourceError, type PayloadContext, type PayloadWarning } from './payload.js';

const run = promisify(execFile);

/** kubelet's plugin directory names under pods/<uid>/volumes/. */
export const volumePluginDirs = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;

/** A pod volume resolved to a host path. */
export interface MountedVolume {
  name: string;
  hostPath: string;
  /** The volume is always mounted read-only (configMap, secret, downwardAPI, projected, a read-only claim). */
  readOnly: boolean;
  /** Written by this manager (as opposed to a host path it only points at). */
  managed: boolean;
}

export interface VolumeEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface VolumeSetUpResult {
  /** Every volume was set up at least once: containers may start. */
  ready: boolean;
  volumes: Map<string, MountedVolume>;
  /** What to record on the pod (FailedMount…), in kubelet's wording. */
  events: VolumeEvent[];
  /** Objects the volumes depend on (ConfigMaps, Secrets, claims and their volumes), to re-sync on change. */
  references: string[];
}

export interface VolumeManagerOptions {
  /** kubelet's --root-dir; without it volumes are resolved and checked but not written (hollow nodes without a data dir). */
  rootDir?: string;
  source: ObjectSource;
  /** The runtime runs nothing (hollow): host paths are not checked or created, tmpfs is never mounted. */
  simulated?: boolean;
  /** Mount medium: Memory emptyDirs as tmpfs (default: when running as root on Linux). */
  tmpfs?: boolean;
  now?: () => Date;
  log?: (msg: Record<string, unknown>) => void;
}

interface PodVolumeState {
  ready: boolean;
  volumes: Map<string, MountedVolume>;
  hashes: Map<string, string>;
  warned: Set<string>;
  tokens: Map<string, { token?: string; until: number; error?: string }>;
}

/** kubelet refreshes a projected token at 80% of its lifetime; a failed request is retried after this. */
const tokenRetryMs = 5 * 60_000;

function list(v: unknown): KObject[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as KObject[]) : [];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function payloadHash(p: Payload): string {
  const h = createHash('sha256');
  for (const k of [...p.keys()].sort()) {
    const f = p.get(k)!;
    h.update(`${k}\0${f.mode}\0${f.gid ?? ''}\0${f.data.length}\0`);
    h.update(f.data);
  }
  return h.digest('hex');
}

async function statOrUndefined(p: string) {
  try {
    return await stat(p);
  } catch {
    return undefined;
  }
}

/** Mount points beneath (or at) dir, from /proc/self/mountinfo, deepest first. */
export async function mountPointsUnder(dir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = f[4].replace(/\\([0-7]{3})/g, (_m, o) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || mp.startsWith(dir + '/')) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Thrown when a hostPath does not have the type the volume asks for. */
export class HostPathTypeError extends VolumeSourceError {}

/** kubelet's hostPath type checks; *OrCreate types create what is missing. */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  const fail = (what: string) => new HostPathTypeError(`hostPath type check failed: ${path} is not ${what}`);
  const t = type ?? '';
  let st = await statOrUndefined(path);
  if (!st && t === 'DirectoryOrCreate') {
    await mkdir(path, { recursive: true, mode: 0o755 });
    st = await statOrUndefined(path);
  }
  if (!st && t === 'FileOrCreate') {
    // Like kubelet, the parent directory is not created.
    try {
      await writeFile(path, '', { flag: 'a', mode: 0o644 });
    } catch (err) {
      throw new HostPathTypeError(`hostPath type check failed: ${path}: ${errorText(err)}`);
    }
    st = await statOrUndefined(path);
  }
  switch (t) {
    case '':
      return;
    case 'DirectoryOrCreate':
    case 'Directory':
      if (!st?.isDirectory()) throw fail('a directory');
      return;
    case 'FileOrCreate':
    case 'File':
      if (!st?.isFile()) throw fail('a file');
      return;
    case 'Socket':
      if (!st?.isSocket()) throw fail('a socket file');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw fail('a character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw fail('a block device');
      return;
  }
  throw new HostPathTypeError(`invalid HostPathType "${type}"`);
}

/** The objects a pod's volumes read, as ObjectSource reference keys. */
export function podVolumeReferences(pod: KObject): string[] {
  const ns: string = pod.metadata?.namespace ?? '';
  const refs = new Set<string>();
  for (const v of list(pod.spec?.volumes)) {
    if (v.configMap?.name) refs.add(referenceKey('configmaps', ns, v.configMap.name));
    if (v.secret?.secretName) refs.add(referenceKey('secrets', ns, v.secret.secretName));
    if (v.persistentVolumeClaim?.claimName) refs.add(referenceKey('persistentvolumeclaims', ns, v.persistentVolumeClaim.claimName));
    for (const s of list(v.projected?.sources)) {
      if (s.configMap?.name) refs.add(referenceKey('configmaps', ns, s.configMap.name));
      if (s.secret?.name) refs.add(referenceKey('secrets', ns, s.secret.name));
    }
  }
  return [...refs];
}

/** A claim the pod cannot use yet (kubelet's "error processing PVC"): the pod waits. */
class ClaimError extends VolumeSourceError {}

export class VolumeManager {
  private readonly pods = new Map<string, PodVolumeState>();
  private readonly tmpfs: boolean;

  constructor(private readonly opts: VolumeManagerOptions) {
    this.tmpfs = !opts.simulated && (opts.tmpfs ?? (process.platform === 'linux' && process.getuid?.() === 0));
  }

  get rootDir(): string | undefined {
    return this.opts.rootDir;
  }

  /** <rootDir>/pods/<uid>, where the pod's volumes live. */
  podDir(uid: string): string | undefined {
    return this.opts.rootDir ? join(this.opts.rootDir, 'pods', uid) : undefined;
  }

  private volumeDir(uid: string, plugin: string, name: string): string | undefined {
    const dir = this.podDir(uid);
    return dir ? join(dir, 'volumes', plugin, name) : undefined;
  }

  /**
   * Sets up (or refreshes) every volume of the pod. Called on each pod sync: unchanged
   * content is not rewritten. Until every volume has been set up once, ready is false.
   */
  async setUp(pod: KObject, ctx: DownwardAPIContext): Promise<VolumeSetUpResult> {
    const uid: string = pod.metadata?.uid ?? '';
    let state = this.pods.get(uid);
    if (!state) this.pods.set(uid, (state = { ready: false, volumes: new Map(), hashes: new Map(), warned: new Set(), tokens: new Map() }));
    const volumes = new Map<string, MountedVolume>();
    const failed: Array<{ name: string; message: string; claim: boolean }> = [];
    const warnings: PayloadWarning[] = [];
    const references = new Set(podVolumeReferences(pod));
    const fsGroup = typeof pod.spec?.securityContext?.fsGroup === 'number' && process.getuid?.() === 0 ? pod.spec.securityContext.fsGroup : undefined;
    for (const v of list(pod.spec?.volumes)) {
      try {
        const pctx: PayloadContext = { ...ctx, pod, source: this.opts.source, fsGroup, warnings, volumeName: v.name, requestToken: (spec) => this.token(state!, pod, v.name, spec) };
        const mv = await this.setUpVolume(pod, v, state, pctx, references);
        if (mv) volumes.set(v.name, mv);
      } catch (err) {
        failed.push({ name: v.name, message: errorText(err), claim: err instanceof ClaimError });
      }
    }

    const events: VolumeEvent[] = [];
    for (const f of failed.filter((x) => !x.claim)) events.push({ type: 'Warning', reason: 'FailedMount', message: `MountVolume.SetUp failed for volume "${f.name}" : ${f.message}` });
    const claims = failed.filter((x) => x.claim);
    if (claims.length > 0) {
      const names = failed.map((x) => x.name).sort().join(' ');
      events.push({
        type: 'Warning',
        reason: 'FailedMount',
        message: `Unable to attach or mount volumes: unmounted volumes=[${names}], unattached volumes=[${names}], failed to process volumes=[${claims.map((x) => x.name).join(' ')}]: ${claims.map((x) => x.message).join(', ')}`,
      });
    }
    for (const w of warnings) {
      if (state.warned.has(w.message)) continue;
      state.warned.add(w.message);
      events.push({ type: 'Warning', reason: w.reason, message: w.message });
    }
    if (failed.length === 0) {
      state.ready = true;
      state.volumes = volumes;
    } else if (state.ready) {
      // A running pod keeps what it had when a refresh fails (kubelet leaves the old files).
      for (const [name, mv] of volumes) state.volumes.set(name, mv);
    }
    return { ready: state.ready, volumes: new Map(state.volumes), events, references: [...references] };
  }

  private async token(state: PodVolumeState, pod: KObject, volume: string, spec: TokenRequestSpec): Promise<string> {
    const key = `${volume}\0${spec.audience ?? ''}\0${spec.expirationSeconds}`;
    const now = (this.opts.now ?? (() => new Date()))().getTime();
    const cached = state.tokens.get(key);
    if (cached && now < cached.until) {
      if (cached.token !== undefined) return cached.token;
      throw new Error(cached.error);
    }
    try {
      if (!this.opts.source.requestToken) throw new Error('this node agent cannot request tokens');
      const token = await this.opts.source.requestToken(pod, spec);
      state.tokens.set(key, { token, until: now + spec.expirationSeconds * 800 });
      return token;
    } catch (err) {
      state.tokens.set(key, { until: now + tokenRetryMs, error: errorText(err) });
      throw err;
    }
  }

  private async writePayload(uid: string, plugin: string, name: string, payload: Payload, state: PodVolumeState): Promise<string | undefined> {
    const dir = this.volumeDir(uid, plugin, name);
    if (!dir) return undefined;
    const hash = payloadHash(payload);
    if (state.hashes.get(name) !== hash) {
      await new AtomicWriter(dir, this.opts.now).write(payload);
      state.hashes.set(name, hash);
    }
    return dir;
  }

  private async setUpVolume(pod: KObject, v: KObject, state: PodVolumeState, ctx: PayloadContext, references: Set<string>): Promise<MountedVolume | undefined> {
    const uid: string = pod.metadata?.uid ?? '';
    const name: string = v.name;
    const managed = (hostPath: string | undefined, readOnly: boolean) => (hostPath ? { name, hostPath, readOnly, managed: true } : undefined);
    if (v.configMap) return managed(await this.writePayload(uid, volumePluginDirs.configMap, name, await configMapPayload(v.configMap, ctx), state), true);
    if (v.secret) return managed(await this.writePayload(uid, volumePluginDirs.secret, name, await secretPayload(v.secret, ctx), state), true);
    if (v.downwardAPI) return managed(await this.writePayload(uid, volumePluginDirs.downwardAPI, name, downwardAPIPayload(v.downwardAPI, ctx), state), true);
    if (v.projected) return managed(await this.writePayload(uid, volumePluginDirs.projected, name, await projectedPayload(v.projected, ctx), state), true);
    if (v.emptyDir) return managed(await this.setUpEmptyDir(pod, v, ctx), false);
    if (v.hostPath) {
      const path: string = v.hostPath.path ?? '';
      if (!this.opts.simulated) await checkHostPathType(path, v.hostPath.type);
      return { name, hostPath: path, readOnly: false, managed: false };
    }
    if (v.persistentVolumeClaim) return this.resolveClaim(pod, v, references);
    // Hollow pods may name any volume type: nothing runs that could use it.
    if (this.opts.simulated) return undefined;
    throw new ClaimError(`volume "${name}": no volume plugin matched (this node supports emptyDir, configMap, secret, downwardAPI, projected, hostPath and persistentVolumeClaim)`);
  }

  private async setUpEmptyDir(pod: KObject, v: KObject, ctx: PayloadContext): Promise<string | undefined> {
    const dir = this.volumeDir(pod.metadata?.uid ?? '', volumePluginDirs.emptyDir, v.name);
    if (!dir) return undefined;
    await mkdir(dir, { recursive: true });
    if (v.emptyDir.medium === 'Memory' && this.tmpfs && !(await mountPointsUnder(dir)).includes(dir)) {
      const size = this.memoryVolumeSize(pod, v, ctx);
      const options = ['mode=0777', ...(size !== undefined ? [`size=${size}`] : [])].join(',');
      try {
        await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
      } catch (err) {
        this.opts.log?.({ level: 'warn', msg: 'tmpfs mount failed; emptyDir falls back to disk', dir, error: errorText(err) });
      }
    }
    // emptyDir is world-writable (kubelet's 0777), group-owned by fsGroup with setgid when set.
    if (ctx.fsGroup !== undefined) {
      await chown(dir, -1, ctx.fsGroup).catch(() => {});
      await chmod(dir, 0o2777);
    } else await chmod(dir, 0o777);
    return dir;
  }

  /** tmpfs size: the smallest of sizeLimit, the pod's memory limit (when every container has one) and node allocatable. */
  private memoryVolumeSize(pod: KObject, v: KObject, ctx: PayloadContext): number | undefined {
    const sizes: number[] = [];
    const limit = tryParseQuantity(v.emptyDir.sizeLimit);
    if (limit && limit.sign() > 0) sizes.push(limit.value());
    const containers = list(pod.spec?.containers);
    const limits = containers.map((c) => tryParseQuantity(c.resources?.limits?.memory));
    if (containers.length > 0 && limits.every((q) => q && q.sign() > 0)) sizes.push(limits.reduce((s, q) => s + q!.value(), 0));
    const alloc = tryParseQuantity(ctx.nodeAllocatable.memory);
    if (alloc && alloc.sign() > 0) sizes.push(alloc.value());
    return sizes.length ? Math.min(...sizes) : undefined;
  }

  private async resolveClaim(pod: KObject, v: KObject, references: Set<string>): Promise<MountedVolume> {
    const ns: string = pod.metadata?.namespace ?? '';
    const claimName: string = v.persistentVolumeClaim.claimName;
    const what = `error processing PVC ${ns}/${claimName}`;
    const pvc = await this.opts.source.get('persistentvolumeclaims', ns, claimName);
    if (!pvc) throw new ClaimError(`${what}: failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`);
    if (pvc.metadata?.deletionTimestamp) throw new ClaimError(`${what}: can't start pod because PVC ${ns}/${claimName} is being deleted`);
    const pvName: string | undefined = pvc.spec?.volumeName;
    if (!pvName || pvc.status?.phase !== 'Bound') throw new ClaimError(`${what}: PVC is not bound`);
    references.add(referenceKey('persistentvolumes', undefined, pvName));
    const pv = await this.opts.source.get('persistentvolumes', undefined, pvName);
    if (!pv) throw new ClaimError(`${what}: failed to fetch PV ${pvName} from API server: persistentvolumes "${pvName}" not found`);
    const ref = pv.spec?.claimRef;
    if (ref && (ref.name !== claimName || ref.namespace !== ns || (ref.uid && pvc.metadata?.uid && ref.uid !== pvc.metadata.uid)))
      throw new ClaimError(`${what}: PV ${pvName} is bound to another claim (${ref.namespace}/${ref.name})`);
    const readOnly = !!v.persistentVolumeClaim.readOnly;
    if (pv.spec?.hostPath?.path) {
      const path: string = pv.spec.hostPath.path;
      if (!this.opts.simulated) await checkHostPathType(path, pv.spec.hostPath.type);
      return { name: v.name, hostPath: path, readOnly, managed: false };
    }
    if (pv.spec?.local?.path) {
      const path: string = pv.spec.local.path;
      if (!this.opts.simulated && !(await statOrUndefined(path))) throw new VolumeSourceError(`path "${path}" does not exist`);
      return { name: v.name, hostPath: path, readOnly, managed: false };
    }
    throw new ClaimError(`${what}: PersistentVolume ${pvName} is neither hostPath nor local; this node mounts only those`);
  }

  /**
   * The runtime mounts of one container: each volumeMount's volume path joined with its
   * subPath (or subPathExpr expanded with the container's env), created when missing and
   * kept inside the volume. Throws CreateContainerConfigError as kubelet's makeMounts does.
   */
  async mountsFor(container: KObject, volumes: Map<string, MountedVolume>, env: Array<{ name: string; value: string }> = []): Promise<ContainerMount[]> {
    const envMap = new Map(env.map((e) => [e.name, e.value]));
    const out: ContainerMount[] = [];
    for (const m of list(container.volumeMounts)) {
      const v = volumes.get(m.name);
      if (!v) continue;
      let sub: string = m.subPath ?? '';
      if (m.subPathExpr) {
        const missing = new Set<string>();
        sub = expand(m.subPathExpr, (name) => {
          const value = envMap.get(name);
          if (!value) missing.add(name);
          return value ?? '';
        });
        if (missing.size) throw new CreateContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
      }
      if (sub && (isAbsolute(sub) || sub.split('/').includes('..')))
        throw new CreateContainerConfigError(`failed to prepare subPath for volumeMount "${m.name}" of container "${container.name}": subPath "${sub}" must be a relative path without '..'`);
      let hostPath = sub ? join(v.hostPath, sub) : v.hostPath;
      if (sub && (v.managed || !this.opts.simulated)) hostPath = await this.prepareSubPath(container, m, v, hostPath);
      out.push({ hostPath, containerPath: m.mountPath, readOnly: !!m.readOnly || v.readOnly });
    }
    return out;
  }

  private async prepareSubPath(container: KObject, m: KObject, v: MountedVolume, hostPath: string): Promise<string> {
    const fail = (why: string) => new CreateContainerConfigError(`failed to prepare subPath for volumeMount "${m.name}" of container "${container.name}": ${why}`);
    try {
      await lstat(hostPath);
    } catch {
      // kubelet creates a missing subPath as a directory with the volume root's permissions.
      const rootMode = (await statOrUndefined(v.hostPath))?.mode ?? 0o755;
      await mkdir(hostPath, { recursive: true, mode: rootMode & 0o7777 }).catch((err) => {
        throw fail(errorText(err));
      });
    }
    const [real, root] = await Promise.all([realpath(hostPath).catch(() => hostPath), realpath(v.hostPath).catch(() => v.hostPath)]);
    if (real !== root && !real.startsWith(root + '/')) throw fail(`subpath "${real}" not within volume path "${root}"`);
    return hostPath;
  }

  /** Unmounts and removes the pod's volume directories (the pod is gone). Idempotent. */
  async tearDown(uid: string): Promise<void> {
    this.pods.delete(uid);
    const dir = this.podDir(uid);
    if (!dir) return;
    for (const mp of await mountPointsUnder(dir)) {
      await run('umount', [mp]).catch(() => run('umount', ['-l', mp]).catch(() => {}));
    }
    const left = await mountPointsUnder(dir);
    // Never recurse into something still mounted: it could be a host directory.
    if (left.length) throw new Error(`cannot remove ${dir}: still mounted: ${left.join(', ')}`);
    await rm(dir, { recursive: true, force: true });
  }

  /** Removes the directories of pods that are not in active (an agent that restarted after pods were deleted). */
  async cleanupOrphans(active: Set<string>): Promise<string[]> {
    const root = this.opts.rootDir;
    if (!root) return [];
    let uids: string[];
    try {
      uids = await readdir(join(root, 'pods'));
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const uid of uids) {
      // Only pod-uid directories holding volumes: the runtime keeps log directories (<ns>_<name>_<uid>) beside them.
      if (active.has(uid) || uid.includes('_') || !(await statOrUndefined(join(root, 'pods', uid, 'volumes')))?.isDirectory()) continue;
      try {
        await this.tearDown(uid);
        removed.push(uid);
      } catch (err) {
        this.opts.log?.({ level: 'warn', msg: 'orphaned pod directory not removed', uid, error: errorText(err) });
      }
    }
    return removed;
  }
}
