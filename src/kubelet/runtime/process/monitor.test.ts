/**
 * @module One suite, run against both container monitors (skiff-shim and the agent's
 * own): CRI log lines per stream, partial lines, rotation, exit codes and signals, a
 * process group of its own, leftovers killed with the main process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCriLogLine } from '../../streaming/logs.js';
import { compileShim, launchInAgent, launchWithShim, processStartTime, readExitFile, sameProcess, type LaunchRequest, type Launched } from './monitor.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-monitor-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function request(script: string, extra: Partial<LaunchRequest> = {}): LaunchRequest {
  n++;
  return {
    argv: ['/bin/sh', '-c', script],
    env: { PATH: '/usr/bin:/bin' },
    logPath: join(dir, `c${n}.log`),
    exitFile: join(dir, `c${n}.exit`),
    maxLogBytes: 1024 * 1024,
    maxLogFiles: 3,
    ...extra,
  };
}

function entries(path: string) {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = parseCriLogLine(Buffer.from(l))!;
      return { ...r, content: r.content.toString() };
    });
}

type Launch = (req: LaunchRequest) => Promise<Launched>;

/** Monitors are unref'd (they must not keep an agent alive): hold the test's event loop while waiting. */
async function finished(l: Launched): Promise<void> {
  const hold = setInterval(() => undefined, 1000);
  try {
    await l.done;
  } finally {
    clearInterval(hold);
  }
}

function monitorSuite(name: string, launch: () => Launch | undefined) {
  describe(`${name} monitor`, () => {
    it('writes CRI log lines per stream and records the exit code', async (t) => {
      const l = launch();
      if (!l) return t.skip('no C compiler');
      const req = request('echo out1; echo err1 >&2; printf tail; exit 7');
      const started = await l(req);
      assert.ok(started.pid > 0);
      await finished(started);
      assert.equal(readExitFile(req.exitFile)?.exitCode, 7);
      const e = entries(req.logPath);
      assert.deepEqual(
        e.filter((x) => x.stream === 'stdout').map((x) => [x.content, x.partial]),
        [
          ['out1', false],
          ['tail', false],
        ],
      );
      assert.deepEqual(
        e.filter((x) => x.stream === 'stderr').map((x) => x.content),
        ['err1'],
      );
      assert.match(e[0].timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    });

    it('reports death by signal as 128 + signal, and the process leads its own group', async (t) => {
      const l = launch();
      if (!l) return t.skip('no C compiler');
      const req = request('sleep 30');
      const started = await l(req);
      const stat = readFileSync(`/proc/${started.pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      assert.equal(pgrp, started.pid);
      assert.ok(sameProcess(started.pid, processStartTime(started.pid)));
      process.kill(-started.pid, 'SIGTERM');
      await finished(started);
      assert.equal(readExitFile(req.exitFile)?.exitCode, 143);
    });

    it('splits lines longer than 16 KiB into partial entries', async (t) => {
      const l = launch();
      if (!l) return t.skip('no C compiler');
      const req = request(`head -c 40000 /dev/zero | tr '\\0' a; echo`);
      await finished(await l(req));
      const e = entries(req.logPath);
      assert.deepEqual(
        e.map((x) => [x.content.length, x.partial]),
        [
          [16384, true],
          [16384, true],
          [40000 - 2 * 16384, false],
        ],
      );
    });

    it('rotates the file past maxLogBytes, keeping maxLogFiles', async (t) => {
      const l = launch();
      if (!l) return t.skip('no C compiler');
      const req = request(`i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done`, { maxLogBytes: 2048, maxLogFiles: 3 });
      const started = await l(req);
      await finished(started);
      const files = readdirSync(dir)
        .filter((f) => f.startsWith(`c${n}.log`))
        .sort();
      assert.equal(files.length, 3, files.join(' '));
      assert.equal(files[0], `c${n}.log`);
      for (const f of files.slice(1)) assert.match(f, new RegExp(`^c${n}\\.log\\.\\d{8}-\\d{6}(\\.\\d+)?$`));
      const last = entries(req.logPath);
      assert.equal(last[last.length - 1].content, 'line-199');
      assert.ok(readFileSync(req.logPath).length < 2048 + 64);
    });

    it('kills what the main process left behind in its group', async (t) => {
      const l = launch();
      if (!l) return t.skip('no C compiler');
      const req = request('sleep 60 & echo $! ; exit 0');
      const started = await l(req);
      await finished(started);
      const child = Number(entries(req.logPath)[0].content);
      assert.ok(child > 0);
      const deadline = Date.now() + 3000;
      while (processStartTime(child) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(processStartTime(child), undefined);
    });
  });
}

let shim: string | undefined;
before(async () => {
  shim = await compileShim(join(dir, 'bin'), () => {});
});

monitorSuite('skiff-shim', () => (shim ? (req) => launchWithShim(shim!, req) : undefined));
monitorSuite('in-agent', () => launchInAgent);

it('a missing program is reported by the shim as exit 127 with the error in the log', async (t) => {
  if (!shim) return t.skip('no C compiler');
  const req = request('', { argv: ['/nonexistent/program'] });
  const started = await launchWithShim(shim, req);
  await finished(started);
  assert.equal(readExitFile(req.exitFile)?.exitCode, 127);
  assert.match(readFileSync(req.logPath, 'utf8'), /stderr F skiff-shim: exec \/nonexistent\/program: No such file or directory/);
});
