/**
 * @module The argv that turns a container into a host process inside its pod sandbox —
 * skiff-launch with a spec file (launch-source.ts), or without a C compiler
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

/** One step of starting a container, rendered as shell (launcherScript) or for skiff-launch (launchSpec). */
type Step =
  | { op: 'cgroup'; path: string }
  | { op: 'hostname'; name: string }
  | { op: 'tmpfs'; target: string; flags: string; data: string }
  | { op: 'stage'; dir: string }
  | { op: 'stagefile' | 'stagedir'; src: string; at: string }
  | { op: 'bind'; src: string; target: string; file: boolean; volume: boolean }
  | { op: 'ro'; target: string }
  | { op: 'unstage' };

/**
 * What happens between entering the container's namespaces and exec'ing its command.
 * Mount sources (the state dir may live under /tmp or under a volume's mountPath) are
 * first bind-mounted into a stage in the container's private /dev/shm, so covering /tmp
 * or any mountPath never hides a source that a later mount needs.
 */
function launchSteps(spec: LauncherSpec): Step[] {
  const steps: Step[] = spec.cgroupProcsFiles.map((path) => ({ op: 'cgroup', path }));
  if (!spec.isolate) return steps;
  if (spec.hostname) steps.push({ op: 'hostname', name: spec.hostname });
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
  steps.push({ op: 'tmpfs', target: '/dev/shm', flags: 'nosuid,nodev,noexec', data: 'mode=1777,size=64m' });
  if (spec.stage && sources.length) {
    steps.push({ op: 'stage', dir: spec.stage });
    sources.forEach((src, i) => steps.push({ op: src.file ? 'stagefile' : 'stagedir', src: src.path, at: `${spec.stage}/${i}` }));
  }
  steps.push({ op: 'tmpfs', target: '/tmp', flags: 'nosuid,nodev', data: 'mode=1777' });
  for (const [from, to] of etcMounts) steps.push({ op: 'bind', src: from, target: to, file: true, volume: false });
  let unstaged = false;
  const unstage = () => {
    if (unstaged || !spec.stage || !sources.length) return;
    unstaged = true;
    steps.push({ op: 'unstage' });
  };
  volumes.forEach((v, i) => {
    if (within(v.containerPath, '/dev/shm')) unstage();
    steps.push({ op: 'bind', src: volumeSources[i], target: v.containerPath, file: !!v.file, volume: true });
    if (v.readOnly) steps.push({ op: 'ro', target: v.containerPath });
  });
  unstage();
  return steps;
}

/** The preamble run by /bin/sh before exec'ing the container's command (no C compiler: no skiff-launch). */
export function launcherScript(spec: LauncherSpec): string {
  const q = shellQuote;
  const mount = q(spec.tools.mount ?? 'mount');
  const umount = q(spec.tools.umount ?? 'umount');
  const lines: string[] = [];
  // Opened before any mount: the state dir may sit under /tmp or a mountPath, hidden later.
  lines.push(`exec 9>${q(spec.startErrorFile)} || exit ${startErrorExitCode}`);
  lines.push(`fail() { printf '%s' "$1" >&9; printf 'skiff: %s\\n' "$1" >&2; exit ${startErrorExitCode}; }`);
  const m = (args: string, what: string) => lines.push(`e=$(${mount} ${args} 2>&1) || fail ${q(`${what}: `)}"$e"`);
  for (const st of launchSteps(spec)) {
    switch (st.op) {
      case 'cgroup':
        lines.push(`echo $$ > ${q(st.path)} || fail ${q(`cannot join cgroup ${st.path}`)}`);
        break;
      case 'hostname':
        lines.push(`printf '%s' ${q(st.name)} > /proc/sys/kernel/hostname || fail 'cannot set the pod hostname'`);
        break;
      case 'tmpfs':
        m(`-t tmpfs -o ${st.data},${st.flags} ${st.target === '/dev/shm' ? 'shm' : 'tmpfs'} ${st.target}`, `mounting a private ${st.target}`);
        break;
      case 'stage':
        lines.push(`mkdir -p ${q(st.dir)} || fail 'cannot create the mount stage'`);
        break;
      case 'stagefile':
      case 'stagedir':
        lines.push(st.op === 'stagefile' ? `: > ${q(st.at)} || fail 'cannot stage a mount'` : `mkdir ${q(st.at)} || fail 'cannot stage a mount'`);
        m(`--bind ${q(st.src)} ${q(st.at)}`, `mounting ${st.src}`);
        break;
      case 'bind': {
        const target = q(st.target);
        if (st.volume) {
          // Mount points missing inside /tmp or a volume are created there, as runc creates them in the rootfs.
          if (st.file) lines.push(`[ -e ${target} ] || { mkdir -p ${q(parentDir(st.target))} && : > ${target}; } || fail ${q(`cannot create mount point ${st.target}`)}`);
          else lines.push(`[ -d ${target} ] || mkdir -p ${target} || fail ${q(`cannot create mount point ${st.target}`)}`);
        }
        m(`--bind ${q(st.src)} ${st.volume ? target : st.target}`, st.volume ? `mounting volume at ${st.target}` : `mounting ${st.target}`);
        break;
      }
      case 'ro':
        m(`-o remount,bind,ro ${q(st.target)}`, `making ${st.target} read-only`);
        break;
      case 'unstage':
        lines.push(`for s in ${q(spec.stage!)}/*; do ${umount} -l "$s" 2>/dev/null; rm -rf "$s"; done; rmdir ${q(spec.stage!)} 2>/dev/null`);
        break;
    }
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

export class LaunchSpecError extends Error {}

/** The directive file skiff-launch reads (launch-source.ts): the same steps as launcherScript, in order. */
export function launchSpec(spec: LauncherSpec): string {
  const lines: string[][] = [['err', spec.startErrorFile]];
  if (spec.netnsPath) lines.push(['netns', spec.netnsPath]);
  if (spec.isolate) lines.push(['isolate']);
  for (const st of launchSteps(spec)) {
    switch (st.op) {
      case 'cgroup':
        lines.push(['cgroup', st.path]);
        break;
      case 'hostname':
        lines.push(['hostname', st.name]);
        break;
      case 'tmpfs':
        lines.push(['tmpfs', st.target, st.flags, st.data]);
        break;
      case 'stage':
        lines.push(['stage', st.dir]);
        break;
      case 'stagefile':
      case 'stagedir':
        lines.push([st.op, st.src, st.at]);
        break;
      case 'bind':
        lines.push(['bind', st.src, st.target, st.file ? 'file' : 'dir']);
        break;
      case 'ro':
        lines.push(['ro', st.target]);
        break;
      case 'unstage':
        lines.push(['unstage']);
        break;
    }
  }
  lines.push(['cwd', spec.workingDir || '/']);
  const u = spec.user;
  if (u && (u.uid !== undefined || u.gid !== undefined))
    lines.push(['user', u.uid !== undefined ? String(u.uid) : '-', String(u.gid ?? 0), u.supplementalGroups?.length ? u.supplementalGroups.join(',') : '-']);
  for (const l of lines) for (const f of l) if (/[\t\n]/.test(f) || f === '') throw new LaunchSpecError(`cannot start a container with a tab or newline in ${JSON.stringify(f)}`);
  return lines.map((l) => l.join('\t')).join('\n') + '\n';
}

/** The argv that runs the container through skiff-launch with a spec file written by launchSpec. */
export function nativeLauncherArgv(launcher: string, specFile: string, command: string[]): string[] {
  return [launcher, specFile, '--', ...command];
}

/** The full argv (absolute program first) that starts the container. */
export function launcherArgv(spec: LauncherSpec): string[] {
  const argv: string[] = [];
  if (spec.netnsPath && spec.tools.nsenter) argv.push(spec.tools.nsenter, `--net=${spec.netnsPath}`, '--');
  if (spec.isolate && spec.tools.unshare) argv.push(spec.tools.unshare, '--mount', '--uts', '--propagation', 'private', '--');
  argv.push(spec.tools.sh, '-c', launcherScript(spec), 'skiff-container', ...spec.command);
  return argv;
}
