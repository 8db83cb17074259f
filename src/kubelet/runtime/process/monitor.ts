/**
 * @module Starting and watching container processes. The native monitor is skiff-shim
 * (compiled once from shim-source.ts with the host's C compiler, cached by source hash):
 * a detached process per container that owns its output and records its exit, so the
 * agent can restart without killing pods. Without a compiler (or off Linux) the agent
 * monitors containers itself, in the same file formats, but they do not survive it.
 * Also the /proc helpers that recognise a process again after an agent restart.
 */
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CriLogWriter } from '../../streaming/logs.js';
import { launchProtocolVersion, launchSource } from './launch-source.js';
import { shimProtocolVersion, shimSource } from './shim-source.js';

export interface LaunchRequest {
  /** Absolute program first. */
  argv: string[];
  env: Record<string, string>;
  logPath: string;
  exitFile: string;
  maxLogBytes: number;
  maxLogFiles: number;
}

export interface Launched {
  /** The container's main process (also its process group id). */
  pid: number;
  /** The skiff-shim watching it, when there is one. */
  shimPid?: number;
  /** Resolves once the process has exited and the exit file is written. */
  done: Promise<void>;
}

/** The process could not be started at all (fork/exec of the monitor failed). */
export class LaunchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LaunchError';
  }
}

/** What the exit file says: "<exitCode> <finishedAtUnixNanos>". */
export interface ExitRecord {
  exitCode: number;
  finishedAtMs: number;
}

export function readExitFile(path: string): ExitRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const [code, nanos] = text.trim().split(/\s+/);
  if (!/^-?\d+$/.test(code ?? '')) return undefined;
  const finishedAtMs = /^\d+$/.test(nanos ?? '') ? Number(BigInt(nanos) / 1_000_000n) : Date.now();
  return { exitCode: Number(code), finishedAtMs };
}

function writeExitFile(path: string, exitCode: number, finishedAtMs: number): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${exitCode} ${BigInt(finishedAtMs) * 1_000_000n}\n`);
  renameSync(tmp, path);
}

/** The start time of a process in clock ticks since boot (/proc/<pid>/stat field 22). */
export function processStartTime(pid: number): string | undefined {
  if (process.platform !== 'linux') return isAlive(pid) ? 'alive' : undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when pid still names the process that started at startTime (pids are reused). */
export function sameProcess(pid: number | undefined, startTime: string | undefined): boolean {
  if (!pid || !startTime) return false;
  return processStartTime(pid) === startTime;
}

/** Compiles a C program of ours into binDir (once per source version); undefined when no compiler works. */
async function compileProgram(binDir: string, name: string, source: string, version: number, log: (msg: Record<string, unknown>) => void): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  const hash = createHash('sha256').update(`${version}\n${source}`).digest('hex').slice(0, 12);
  const bin = join(binDir, `${name}-${hash}`);
  try {
    accessSync(bin, constants.X_OK);
    return bin;
  } catch {
    /* build it */
  }
  await mkdir(binDir, { recursive: true });
  const src = join(binDir, `${name}-${hash}.${process.pid}.c`);
  const tmp = `${bin}.${process.pid}.tmp`;
  await writeFile(src, source);
  const cc = process.env.CC || 'cc';
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(cc, ['-O2', '-o', tmp, src], { timeout: 60_000 }, (err, _out, stderr) => (err ? reject(new Error(String(stderr || err.message))) : resolve())),
    );
    await rename(tmp, bin);
    return bin;
  } catch (err) {
    log({ level: 'warn', msg: `cannot build ${name}`, compiler: cc, error: String(err).slice(0, 500) });
    await rm(tmp, { force: true });
    return undefined;
  } finally {
    await rm(src, { force: true });
  }
}

/** skiff-shim; without it containers do not survive an agent restart. */
export function compileShim(binDir: string, log: (msg: Record<string, unknown>) => void): Promise<string | undefined> {
  return compileProgram(binDir, 'skiff-shim', shimSource, shimProtocolVersion, log);
}

/** skiff-launch; without it containers start through the shell preamble of launcher.ts. */
export function compileLauncher(binDir: string, log: (msg: Record<string, unknown>) => void): Promise<string | undefined> {
  return compileProgram(binDir, 'skiff-launch', launchSource, launchProtocolVersion, log);
}

/** Starts the container under skiff-shim; resolves once its pid is known. */
export function launchWithShim(shim: string, req: LaunchRequest): Promise<Launched> {
  return new Promise((resolve, reject) => {
    const child = spawn(shim, [req.logPath, req.exitFile, String(req.maxLogBytes), String(req.maxLogFiles), ...req.argv], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: req.env,
    });
    const done = new Promise<void>((r) => child.once('close', () => r()));
    let out = '';
    let settled = false;
    const fail = (msg: string) => {
      if (settled) return;
      settled = true;
      reject(new LaunchError(msg));
    };
    child.once('error', (err) => fail(`skiff-shim: ${err.message}`));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      if (settled) return;
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const line = out.slice(0, nl).trim();
      if (!/^\d+$/.test(line)) return fail(line.replace(/^error:\s*/, 'skiff-shim: '));
      settled = true;
      child.unref();
      resolve({ pid: Number(line), shimPid: child.pid, done });
    });
    child.stdout!.once('end', () => fail(`skiff-shim exited before starting the container: ${out.trim()}`));
  });
}

/** Starts the container as the agent's own child, collecting its output (not restart-safe). */
export function launchInAgent(req: LaunchRequest): Promise<Launched> {
  return new Promise((resolve, reject) => {
    let writer: CriLogWriter;
    try {
      writer = new CriLogWriter(req.logPath, { maxBytes: req.maxLogBytes, maxFiles: req.maxLogFiles });
    } catch (err) {
      reject(new LaunchError(`opening ${req.logPath}: ${String(err)}`));
      return;
    }
    // detached: setsid, so the container leads its own process group as under the shim.
    const child = spawn(req.argv[0], req.argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: req.env });
    let exit: { code: number; at: number } | undefined;
    let open = 2;
    let finished = false;
    let grace: NodeJS.Timeout | undefined;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const finish = () => {
      if (finished || !exit) return;
      finished = true;
      clearTimeout(grace);
      writer.close();
      writeExitFile(req.exitFile, exit.code, exit.at);
      resolveDone();
    };
    child.stdout!.on('data', (d: Buffer) => writer.write('stdout', d));
    child.stderr!.on('data', (d: Buffer) => writer.write('stderr', d));
    for (const s of [child.stdout!, child.stderr!])
      s.once('close', () => {
        open--;
        if (open === 0) finish();
      });
    child.once('error', (err) => {
      if (child.pid === undefined) {
        writer.close();
        reject(new LaunchError(`${req.argv[0]}: ${err.message}`));
      }
    });
    child.once('exit', (code, signal) => {
      const signals: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGQUIT: 3, SIGABRT: 6, SIGSEGV: 11 };
      exit = { code: code ?? 128 + (signal ? (signals[signal] ?? 0) : 0), at: Date.now() };
      // The container ends with its main process: what it left behind goes too.
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* group already empty */
      }
      if (open === 0) finish();
      else {
        grace = setTimeout(finish, 2000);
        grace.unref?.();
      }
    });
    child.once('spawn', () => {
      child.unref();
      resolve({ pid: child.pid!, done });
    });
  });
}

/** Finds a program in the usual system directories (independent of the agent's PATH). */
export function findTool(name: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}
