/**
 * @module The argv that turns a container into a host process inside its pod sandbox:
 * `nsenter --net=<pod netns>` → `unshare --mount --uts` (a private mount namespace per
 * container) → a short /bin/sh preamble that joins the container's cgroups, sets the
 * pod hostname, mounts a private /tmp and /dev/shm, the pod's hosts/resolv.conf/hostname
 * files and the volumes, changes to workingDir, checks the command exists (runc's
 * "executable file not found" as a start error) and finally execs it — as runAsUser /
 * runAsGroup through setpriv when set. The process keeps its pid through every exec.
 */

/** Exit code of the preamble when the container could not be started (runc's 128). */
export const startErrorExitCode = 128;

export interface LauncherMount {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
  /** The host path is a file (its mount point must be a file too). */
  file?: boolean;
}

export interface LauncherTools {
  sh: string;
  nsenter?: string;
  unshare?: string;
  setpriv?: string;
  mount?: string;
  umount?: string;
}

export interface LauncherSpec {
  tools: LauncherTools;
  /** Path of the pod's network namespace; undefined: host network. */
  netnsPath?: string;
  /** Give the container a private mount and UTS namespace (needs root). */
  isolate: boolean;
  cgroupProcsFiles: string[];
  hostname?: string;
  /** Files of the sandbox bind-mounted over /etc/hosts, /etc/resolv.conf, /etc/hostname. */
  etcFiles?: { hosts?: string; resolvConf?: string; hostname?: string };
  /** The host has an /etc/hostname to cover. */
  hasEtcHostname?: boolean;
  /** Stage sources here first (see stageDir); undefined mounts straight from the sources. */
  stage?: string;
  mounts: LauncherMount[];
  workingDir?: string;
  user?: { uid?: number; gid?: number; supplementalGroups?: number[] };
  /** Where the preamble writes why the container could not start. */
  startErrorFile: string;
  command: string[];
}

/** Single-quotes a string for /bin/sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

function parentDir(p: string): string {
  const i = p.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** Mounts nested deeper come after their parents, so `/data/sub` lands inside `/data`. */
function mountOrder(a: LauncherMount, b: LauncherMount): number {
  return a.containerPath.split('/').length - b.containerPath.split('/').length;
}

/** Where sources are staged inside the container's own /dev/shm before /tmp and volumes cover them. */
export const stageDir = '/dev/shm/.skiff-stage';

/**
 * The preamble run by /bin/sh before exec'ing the container's command. Mount sources
 * (the state dir may live under /tmp or under a volume's mountPath) are first bind-
 * mounted into a stage in the container's private /dev/shm, so covering /tmp or any
 * mountPath never hides a source that a later mount needs.
 */
export function launcherScript(spec: LauncherSpec): string {
  const q = shellQuote;
  const mount = q(spec.tools.mount ?? 'mount');
  const umount = q(spec.tools.umount ?? 'umount');
  const lines: string[] = [];
  // Opened before any mount: the state dir may sit under /tmp or a mountPath, hidden later.
  lines.push(`exec 9>${q(spec.startErrorFile)} || exit ${startErrorExitCode}`);
  lines.push(`fail() { printf '%s' "$1" >&9; printf 'skiff: %s\\n' "$1" >&2; exit ${startErrorExitCode}; }`);
  for (const f of spec.cgroupProcsFiles) lines.push(`echo $$ > ${q(f)} || fail ${q(`cannot join cgroup ${f}`)}`);
  if (spec.isolate) {
    if (spec.hostname) lines.push(`printf '%s' ${q(spec.hostname)} > /proc/sys/kernel/hostname || fail 'cannot set the pod hostname'`);
    const m = (args: string, what: string) => lines.push(`e=$(${mount} ${args} 2>&1) || fail ${q(`${what}: `)}"$e"`);
    const etc = spec.etcFiles ?? {};
    const sources: Array<{ path: string; file: boolean }> = [];
    const staged = (path: string, file: boolean): string => {
      if (!spec.stage) return path;
      sources.push({ path, file });
      return `${spec.stage}/${sources.length - 1}`;
    };
    const etcMounts: Array<[string, string]> = [];
    if (etc.hosts) etcMounts.push([staged(etc.hosts, true), '/etc/hosts']);
    if (etc.resolvConf) etcMounts.push([staged(etc.resolvConf, true), '/etc/resolv.conf']);
    if (etc.hostname && spec.hasEtcHostname) etcMounts.push([staged(etc.hostname, true), '/etc/hostname']);
    // Deeper mounts after their parents, so /data/sub lands inside /data; a volume at /dev/shm goes last (it covers the stage).
    const volumes = [...spec.mounts].sort((a, b) => Number(within(a.containerPath, '/dev/shm')) - Number(within(b.containerPath, '/dev/shm')) || mountOrder(a, b));
    const volumeSources = volumes.map((v) => staged(v.hostPath, !!v.file));
    m(`-t tmpfs -o mode=1777,nosuid,nodev,noexec,size=64m shm /dev/shm`, 'mounting a private /dev/shm');
    if (spec.stage && sources.length) {
      lines.push(`mkdir -p ${q(spec.stage)} || fail 'cannot create the mount stage'`);
      sources.forEach((src, i) => {
        const at = q(`${spec.stage}/${i}`);
        lines.push(src.file ? `: > ${at} || fail 'cannot stage a mount'` : `mkdir ${at} || fail 'cannot stage a mount'`);
        m(`--bind ${q(src.path)} ${at}`, `mounting ${src.path}`);
      });
    }
    m(`-t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp`, 'mounting a private /tmp');
    for (const [from, to] of etcMounts) m(`--bind ${q(from)} ${to}`, `mounting ${to}`);
    let unstaged = false;
    const unstage = () => {
      if (unstaged || !spec.stage || !sources.length) return;
      unstaged = true;
      lines.push(`for s in ${q(spec.stage)}/*; do ${umount} -l "$s" 2>/dev/null; rm -rf "$s"; done; rmdir ${q(spec.stage)} 2>/dev/null`);
    };
    volumes.forEach((v, i) => {
      const target = q(v.containerPath);
      if (within(v.containerPath, '/dev/shm')) unstage();
      // Mount points missing inside /tmp or a volume are created there, as runc creates them in the rootfs.
      if (v.file) lines.push(`[ -e ${target} ] || { mkdir -p ${q(parentDir(v.containerPath))} && : > ${target}; } || fail ${q(`cannot create mount point ${v.containerPath}`)}`);
      else lines.push(`[ -d ${target} ] || mkdir -p ${target} || fail ${q(`cannot create mount point ${v.containerPath}`)}`);
      m(`--bind ${q(volumeSources[i])} ${target}`, `mounting volume at ${v.containerPath}`);
      if (v.readOnly) m(`-o remount,bind,ro ${target}`, `making ${v.containerPath} read-only`);
    });
    unstage();
  }
  const wd = spec.workingDir || '/';
  lines.push(`cd ${q(wd)} 2>/dev/null || fail ${q(`chdir to cwd ("${wd}") set in config.json failed: no such file or directory`)}`);
  lines.push(
    `case "$1" in */*) [ -f "$1" ] && [ -x "$1" ] || fail "exec: \\"$1\\": stat $1: no such file or directory";; *) command -v -- "$1" >/dev/null 2>&1 || fail "exec: \\"$1\\": executable file not found in \\$PATH";; esac`,
  );
  lines.push('exec 9>&-');
  const u = spec.user;
  if (u && (u.uid !== undefined || u.gid !== undefined) && spec.tools.setpriv) {
    const args: string[] = [];
    if (u.uid !== undefined) args.push(`--reuid=${u.uid}`);
    args.push(`--regid=${u.gid ?? 0}`);
    if (u.supplementalGroups?.length) args.push(`--groups=${u.supplementalGroups.join(',')}`);
    else args.push('--clear-groups');
    lines.push(`exec ${q(spec.tools.setpriv)} ${args.join(' ')} -- "$@"`);
  } else lines.push('exec "$@"');
  return lines.join('\n');
}

/** The full argv (absolute program first) that starts the container. */
export function launcherArgv(spec: LauncherSpec): string[] {
  const argv: string[] = [];
  if (spec.netnsPath && spec.tools.nsenter) argv.push(spec.tools.nsenter, `--net=${spec.netnsPath}`, '--');
  if (spec.isolate && spec.tools.unshare) argv.push(spec.tools.unshare, '--mount', '--uts', '--propagation', 'private', '--');
  argv.push(spec.tools.sh, '-c', launcherScript(spec), 'skiff-container', ...spec.command);
  return argv;
}
