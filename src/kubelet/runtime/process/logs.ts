/**
 * @module Where container logs live: kubelet's /var/log/pods layout under the state dir
 * (`<stateDir>/pods/<namespace>_<name>_<uid>/<container>/<restartCount>.log`, CRI
 * format, rotated to `<file>.<YYYYMMDD-hhmmss>`), and kubelet's rotation defaults. The
 * format itself (reading, writing) is the streaming package's.
 */
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** kubelet's containerLogMaxSize (10Mi) and containerLogMaxFiles (5). */
export const defaultContainerLogMaxBytes = 10 * 1024 * 1024;
export const defaultContainerLogMaxFiles = 5;

/** The pod's log directory (kubelet: /var/log/pods/<ns>_<name>_<uid>). */
export function podLogDir(stateDir: string, namespace: string, name: string, uid: string): string {
  return join(stateDir, 'pods', `${namespace}_${name}_${uid}`);
}

/** A container attempt's log file (kubelet: <podLogDir>/<container>/<restartCount>.log). */
export function containerLogFile(stateDir: string, namespace: string, name: string, uid: string, container: string, restartCount: number): string {
  return join(podLogDir(stateDir, namespace, name, uid), container, `${restartCount}.log`);
}

/** Removes a container attempt's log file and its rotated predecessors. */
export async function removeContainerLogs(path: string): Promise<void> {
  await rm(path, { force: true });
  let names: string[] = [];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  const prefix = `${basename(path)}.`;
  for (const n of names) if (n.startsWith(prefix)) await rm(join(dirname(path), n), { force: true });
}
