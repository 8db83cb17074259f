/**
 * @module Running a command and opening a port for the streaming server with plain host
 * tools: commands as child processes (argv as given, no shell — kubelet's exec semantics),
 * a pseudo-terminal through util-linux `script` when a TTY is asked for (resized with
 * `stty -F` on its terminal), and TCP connections either directly or from inside a
 * network namespace (through `nsenter --net`). Runtimes plug their own placement in via
 * ExecTarget (e.g. an `nsenter -t PID -m -u -i -n -p --` prefix for a pod's namespaces).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { ExecStartError, type StreamIO, type TerminalSize } from './types.js';

/** Where and as whom a command runs. */
export interface ExecTarget {
  /** Prepended to the command (e.g. ['nsenter', '-t', '1234', '-m', '-u', '-i', '-n', '-p', '--']). */
  argvPrefix?: string[];
  /** The whole environment of the command (default: a minimal PATH/HOME). */
  env?: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
}

export const defaultExecPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** How long output may stay idle after the command exited before we stop waiting for it. */
const outputIdleAfterExitMs = 2000;

/** Quotes argv for `sh -c` (script runs its command through a shell). */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15, SIGABRT: 6, SIGSEGV: 11, SIGBUS: 7, SIGUSR1: 10, SIGUSR2: 12, SIGALRM: 14 };

/** A shell's view of how a process ended: the code, or 128 + the signal. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (signalNumbers[signal] ?? 1) : 1);
}

/** The terminal device of a process (its stdin), e.g. "/dev/pts/3". */
function terminalOf(pid: number): string | undefined {
  try {
    const t = readlinkSync(`/proc/${pid}/fd/0`);
    return t.startsWith('/dev/pts/') ? t : undefined;
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Sets the size of the terminal `script` created for its child; the kernel sends SIGWINCH. */
async function resizeScriptTerminal(scriptPid: number, size: TerminalSize): Promise<boolean> {
  for (const child of childrenOf(scriptPid)) {
    const tty = terminalOf(child);
    if (!tty) continue;
    await new Promise<void>((resolve) => execFile('stty', ['-F', tty, 'rows', String(size.height), 'cols', String(size.width)], () => resolve()));
    return true;
  }
  return false;
}

/**
 * Runs argv with the client's streams and resolves with its exit code once it exited and
 * its output has been written. Throws ExecStartError when it cannot start.
 */
export async function runHostCommand(cmd: string[], io: StreamIO, target: ExecTarget = {}): Promise<number> {
  if (cmd.length === 0) throw new ExecStartError('no command given');
  const env = target.env ?? { PATH: defaultExecPath, HOME: '/root' };
  const argv = [...(target.argvPrefix ?? []), ...cmd];
  let child: ChildProcess;
  const common = { env: io.tty ? { TERM: 'xterm', ...env, SHELL: '/bin/sh' } : env, cwd: target.cwd, uid: target.uid, gid: target.gid, detached: true };
  if (io.tty) {
    // script gives the command a pseudo-terminal; -e returns the command's exit code,
    // -f flushes output as it comes, -q drops script's own banner.
    child = spawn('script', ['-q', '-f', '-e', '-c', shellQuote(argv), '/dev/null'], { ...common, stdio: ['pipe', io.stdout ? 'pipe' : 'ignore', 'ignore'] });
  } else {
    child = spawn(argv[0], argv.slice(1), { ...common, stdio: [io.stdin ? 'pipe' : 'ignore', io.stdout ? 'pipe' : 'ignore', io.stderr ? 'pipe' : 'ignore'] });
  }
  const started = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (started) {
    const code = (started as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ExecStartError(`exec: "${argv[0]}": executable file not found in $PATH`);
    if (code === 'EACCES') throw new ExecStartError(`exec: "${argv[0]}": permission denied`);
    throw new ExecStartError(started.message);
  }
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  io.signal?.addEventListener('abort', killGroup, { once: true });
  if (child.stdin) {
    child.stdin.on('error', () => {});
    if (io.stdin) io.stdin.pipe(child.stdin);
    else child.stdin.end();
  }
  const outputs: Array<Promise<void>> = [];
  let lastOutput = Date.now();
  const pipeOut = (from: NodeJS.ReadableStream | null | undefined, to: NodeJS.WritableStream | undefined) => {
    if (!from || !to) return;
    outputs.push(
      new Promise<void>((resolve) => {
        from.on('data', (chunk: Buffer) => {
          lastOutput = Date.now();
          if (!to.write(chunk)) {
            from.pause();
            to.once('drain', () => from.resume());
          }
        });
        from.once('end', () => resolve());
        from.once('error', () => resolve());
        from.once('close', () => resolve());
      }),
    );
  };
  pipeOut(child.stdout, io.stdout);
  pipeOut(child.stderr, io.stderr);
  if (io.tty && io.onResize && child.pid) {
    const pid = child.pid;
    let latest: TerminalSize | undefined;
    let applying = false;
    const apply = async () => {
      if (applying) return;
      applying = true;
      try {
        // The terminal exists only once script has forked its child; retry briefly.
        for (let i = 0; i < 40 && latest && child.exitCode === null; i++) {
          const size = latest;
          if (await resizeScriptTerminal(pid, size)) {
            if (latest === size) break;
            continue;
          }
          await new Promise((r) => setTimeout(r, 25));
        }
      } finally {
        applying = false;
      }
    };
    io.onResize((size) => {
      latest = size;
      void apply();
    });
  }
  const exit = await new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal))));
  // A background process of the command can hold its output open forever; stop waiting
  // once the output has been idle for a while after the command itself exited. The idle
  // clock starts at the exit: on a loaded machine the output may not have been read yet.
  lastOutput = Math.max(lastOutput, Date.now());
  let allOut = false;
  void Promise.all(outputs).then(() => (allOut = true));
  while (!allOut && Date.now() - lastOutput < outputIdleAfterExitMs) await new Promise((r) => setTimeout(r, 20));
  io.signal?.removeEventListener('abort', killGroup);
  if (io.stdin && child.stdin) io.stdin.unpipe(child.stdin);
  return exit;
}

/** A TCP connection, resolved once connected (rejects with the dial error). */
export function dialTcp(host: string, port: number, timeoutMs = 10_000): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`dial tcp ${host}:${port}: i/o timeout`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
      reject(new Error(`dial tcp ${host}:${port}: ${why}`));
    });
  });
}

/** The helper run inside the namespace: connect to localhost:port, then copy both ways. */
const netnsDialScript = `
const net = require('net');
const port = Number(process.argv[1]);
const tryConnect = (host, next) => {
  const s = net.connect({ host, port });
  s.once('connect', () => {
    process.stderr.write('connected\\n');
    process.stdin.pipe(s);
    s.pipe(process.stdout);
    s.on('close', () => process.exit(0));
    s.on('error', () => process.exit(0));
  });
  s.once('error', (e) => next ? next(e) : (process.stderr.write('error: ' + e.message + '\\n'), process.exit(1)));
};
tryConnect('127.0.0.1', (e4) => tryConnect('::1', (e6) => { process.stderr.write('error: IPv4: ' + e4.message + ' IPv6: ' + e6.message + '\\n'); process.exit(1); }));
`;

/**
 * A connection to localhost:port inside a network namespace (e.g. /proc/PID/ns/net or
 * /run/netns/NAME), made by a short-lived helper entered into it with nsenter.
 */
export function dialInNetns(netnsPath: string, port: number, timeoutMs = 10_000): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, '--', process.execPath, '-e', netnsDialScript, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    let settled = false;
    const timer = setTimeout(() => settle(new Error(`dial tcp localhost:${port}: i/o timeout`)), timeoutMs);
    const settle = (e?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) {
        child.kill('SIGKILL');
        reject(e);
        return;
      }
      const stream = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
      stream.on('close', () => child.kill('SIGTERM'));
      resolve(stream);
    };
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('connected\n')) settle();
    });
    child.once('error', (e) => settle(e));
    child.once('exit', () => settle(new Error(err.replace(/^error: /, '').trim() || `failed to connect to localhost:${port} inside namespace ${netnsPath}`)));
  });
}
