/**
 * @module kubelet's AtomicWriter for configMap, secret, downwardAPI and projected volumes:
 * each version of the payload is written into a fresh hidden `..<timestamp>` directory,
 * then the `..data` symlink is swapped to it with one rename, so a reader sees either the
 * old files or the new ones, never a mix. The visible entries are symlinks through
 * `..data` (`key -> ..data/key`), which is why a configMap mounted as a directory updates
 * in place while a subPath mount (resolved once) does not.
 */
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, stat, symlink, writeFile, chmod, chown } from 'node:fs/promises';
import { join, posix } from 'node:path';

/** One file of a volume's content. */
export interface FileProjection {
  data: Buffer;
  /** Permission bits (0o644 by default in kube). */
  mode: number;
  /** chown the file to this group (fsGroup) when set. */
  gid?: number;
}

/** Relative path → content. */
export type Payload = Map<string, FileProjection>;

export const dataDirName = '..data';
const dataDirTmpName = '..data_tmp';

/** A payload path kube would reject (absolute, with "..", or starting with ".."). */
export class InvalidPayloadPathError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`invalid path ${JSON.stringify(path)}: ${reason}`);
    this.name = 'InvalidPayloadPathError';
  }
}

/** kube's validatePath: relative, no ".." element, not starting with ".." (reserved for the writer). */
export function validatePayloadPath(p: string): void {
  if (p === '') throw new InvalidPayloadPathError(p, 'must not be empty');
  if (p.length > 4096) throw new InvalidPayloadPathError(p, 'must be less than or equal to 4096 characters');
  if (posix.isAbsolute(p)) throw new InvalidPayloadPathError(p, 'must be relative path');
  if (p.split('/').includes('..')) throw new InvalidPayloadPathError(p, "must not contain '..'");
  if (p.startsWith('..')) throw new InvalidPayloadPathError(p, "must not start with '..'");
}

function topLevel(p: string): string {
  const i = p.indexOf('/');
  return i < 0 ? p : p.slice(0, i);
}

function timestampPrefix(now: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}.`;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Every regular file beneath dir, by path relative to it. */
async function readTree(dir: string, prefix = ''): Promise<Map<string, { data: Buffer; mode: number; gid: number }>> {
  const out = new Map<string, { data: Buffer; mode: number; gid: number }>();
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    const full = join(dir, e.name);
    if (e.isDirectory()) for (const [k, v] of await readTree(full, rel)) out.set(k, v);
    else if (e.isFile()) {
      const st = await stat(full);
      out.set(rel, { data: await readFile(full), mode: st.mode & 0o7777, gid: st.gid });
    }
  }
  return out;
}

/** Writes payloads into targetDir atomically; one writer per directory at a time. */
export class AtomicWriter {
  constructor(
    readonly targetDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The current `..<timestamp>` directory, if any version was written. */
  async currentVersion(): Promise<string | undefined> {
    try {
      return await readlink(join(this.targetDir, dataDirName));
    } catch {
      return undefined;
    }
  }

  /** Makes targetDir hold exactly payload; returns false when it already did (nothing written). */
  async write(payload: Payload): Promise<boolean> {
    for (const p of payload.keys()) validatePayloadPath(p);
    await mkdir(this.targetDir, { recursive: true });
    const oldVersion = await this.currentVersion();
    const oldDir = oldVersion ? join(this.targetDir, oldVersion) : undefined;
    const old = oldDir && (await exists(oldDir)) ? await readTree(oldDir) : undefined;

    if (old && this.same(old, payload)) {
      await this.createVisible(payload);
      return false;
    }

    const versionDir = await mkdtemp(join(this.targetDir, timestampPrefix(this.now())));
    await chmod(versionDir, 0o755);
    for (const [p, f] of payload) {
      const file = join(versionDir, p);
      const parent = join(file, '..');
      if (parent !== versionDir) await mkdir(parent, { recursive: true, mode: 0o755 });
      await writeFile(file, f.data, { mode: f.mode });
      // The process umask must not narrow the mode kube asked for.
      await chmod(file, f.mode);
      if (f.gid !== undefined) await chown(file, -1, f.gid).catch(() => {});
    }
    const tmpLink = join(this.targetDir, dataDirTmpName);
    await rm(tmpLink, { force: true });
    await symlink(versionDir.slice(this.targetDir.length + 1), tmpLink);
    await rename(tmpLink, join(this.targetDir, dataDirName));
    await this.createVisible(payload);

    // Visible names the new version no longer has.
    const keep = new Set([...payload.keys()].map(topLevel));
    for (const name of await readdir(this.targetDir)) {
      if (name.startsWith('..') || keep.has(name)) continue;
      const full = join(this.targetDir, name);
      const target = await readlink(full).catch(() => undefined);
      if (target?.startsWith(`${dataDirName}/`)) await rm(full, { force: true });
    }
    if (oldDir) await rm(oldDir, { recursive: true, force: true });
    return true;
  }

  private same(old: Map<string, { data: Buffer; mode: number; gid: number }>, payload: Payload): boolean {
    if (old.size !== payload.size) return false;
    for (const [p, f] of payload) {
      const o = old.get(p);
      if (!o || o.mode !== (f.mode & 0o7777) || !o.data.equals(f.data)) return false;
      if (f.gid !== undefined && o.gid !== f.gid) return false;
    }
    return true;
  }

  /** `name -> ..data/name` for each top-level entry of the payload. */
  private async createVisible(payload: Payload): Promise<void> {
    for (const name of new Set([...payload.keys()].map(topLevel))) {
      const link = join(this.targetDir, name);
      if (await exists(link)) continue;
      await symlink(`${dataDirName}/${name}`, link);
    }
  }
}
