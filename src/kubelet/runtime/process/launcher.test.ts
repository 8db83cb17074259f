/**
 * @module The container launcher preamble: quoting, mount ordering, and — run for real
 * without namespaces — workingDir, runc's start errors, and the command's own argv.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import { launcherArgv, launcherScript, launchSpec, nativeLauncherArgv, shellQuote, stageDir, startErrorExitCode, type LauncherSpec } from './launcher.js';
import { compileLauncher } from './monitor.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-launcher-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function spec(command: string[], extra: Partial<LauncherSpec> = {}): LauncherSpec {
  return { tools: { sh: '/bin/sh' }, isolate: false, cgroupProcsFiles: [], mounts: [], startErrorFile: join(dir, `err-${Math.random().toString(36).slice(2)}`), command, ...extra };
}

function runArgv(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { env: { PATH: '/usr/bin:/bin' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('launcher', () => {
  it('quotes anything for sh', () => {
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote('$(rm -rf /)'), `'$(rm -rf /)'`);
  });

  it('runs the command with its argv as given, in workingDir', async () => {
    const s = spec(['sh', '-c', 'pwd; printf "%s|" "$@"', 'zero', 'a b', "c'd", '$HOME'], { workingDir: '/usr' });
    const r = await runArgv(launcherArgv(s));
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "/usr\na b|c'd|$HOME|");
  });

  it('reports a missing executable or workingDir as a start error (exit 128, message in the file)', async () => {
    const missing = spec(['no-such-binary-skiff']);
    const r = await runArgv(launcherArgv(missing));
    assert.equal(r.code, startErrorExitCode);
    assert.equal(readFileSync(missing.startErrorFile, 'utf8'), 'exec: "no-such-binary-skiff": executable file not found in $PATH');
    const abs = spec(['/no/such/file']);
    assert.equal((await runArgv(launcherArgv(abs))).code, startErrorExitCode);
    assert.equal(readFileSync(abs.startErrorFile, 'utf8'), 'exec: "/no/such/file": stat /no/such/file: no such file or directory');
    const wd = spec(['true'], { workingDir: '/no/such/dir' });
    assert.equal((await runArgv(launcherArgv(wd))).code, startErrorExitCode);
    assert.equal(readFileSync(wd.startErrorFile, 'utf8'), 'chdir to cwd ("/no/such/dir") set in config.json failed: no such file or directory');
  });

  it('leaves the start error file empty when the command starts', async () => {
    const ok = spec(['true']);
    assert.equal((await runArgv(launcherArgv(ok))).code, 0);
    assert.equal(readFileSync(ok.startErrorFile, 'utf8'), '');
  });

  it('isolated: enters the pod netns and a private mount namespace, stages sources, mounts parents before children', () => {
    const s = spec(['app'], {
      isolate: true,
      netnsPath: '/run/netns/skiff-x',
      tools: { sh: '/bin/sh', nsenter: '/usr/bin/nsenter', unshare: '/usr/bin/unshare', mount: '/bin/mount', umount: '/bin/umount', setpriv: '/usr/bin/setpriv' },
      cgroupProcsFiles: ['/sys/fs/cgroup/memory/skiff/podu/c/cgroup.procs'],
      hostname: 'web-0',
      stage: stageDir,
      etcFiles: { hosts: '/state/hosts', resolvConf: '/state/resolv.conf' },
      mounts: [
        { hostPath: '/vol/sub', containerPath: '/data/sub', readOnly: true },
        { hostPath: '/vol/data', containerPath: '/data', readOnly: false },
      ],
      user: { uid: 1000, gid: 1000 },
    });
    const argv = launcherArgv(s);
    assert.deepEqual(argv.slice(0, 9), ['/usr/bin/nsenter', '--net=/run/netns/skiff-x', '--', '/usr/bin/unshare', '--mount', '--uts', '--propagation', 'private', '--']);
    const script = launcherScript(s);
    const at = (needle: string) => {
      const i = script.indexOf(needle);
      assert.ok(i >= 0, `script has ${needle}`);
      return i;
    };
    assert.ok(at("echo $$ > '/sys/fs/cgroup/memory/skiff/podu/c/cgroup.procs'") < at('/proc/sys/kernel/hostname'));
    assert.ok(at(`--bind '/vol/data' '${stageDir}/`) < at("tmpfs /tmp"), 'sources are staged before /tmp is covered');
    assert.ok(at("'/etc/hosts'".slice(1, -1)) > at('tmpfs /tmp'));
    assert.ok(at("'/data'") < at("'/data/sub'"), '/data before /data/sub');
    assert.ok(at("remount,bind,ro '/data/sub'") > 0);
    assert.match(script, /exec '\/usr\/bin\/setpriv' --reuid=1000 --regid=1000 --clear-groups -- "\$@"$/);
  });

  describe('skiff-launch (native)', () => {
    let bin: string | undefined;
    const native = async (s: LauncherSpec) => {
      bin ??= await compileLauncher(join(dir, 'bin'), () => {});
      const file = join(dir, `spec-${Math.random().toString(36).slice(2)}`);
      writeFileSync(file, launchSpec(s));
      return runArgv(nativeLauncherArgv(bin!, file, s.command));
    };
    const skip = process.platform !== 'linux' ? 'Linux only' : false;

    it('runs the command with its argv as given, in workingDir', { skip }, async () => {
      const r = await native(spec(['sh', '-c', 'pwd; printf "%s|" "$@"', 'zero', 'a b', "c'd", '$HOME'], { workingDir: '/usr' }));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "/usr\na b|c'd|$HOME|");
    });

    it('reports the same start errors as the shell preamble', { skip }, async () => {
      for (const [command, workingDir, message] of [
        [['no-such-binary-skiff'], undefined, 'exec: "no-such-binary-skiff": executable file not found in $PATH'],
        [['/no/such/file'], undefined, 'exec: "/no/such/file": stat /no/such/file: no such file or directory'],
        [['true'], '/no/such/dir', 'chdir to cwd ("/no/such/dir") set in config.json failed: no such file or directory'],
      ] as const) {
        const s = spec([...command], { workingDir });
        assert.equal((await native(s)).code, startErrorExitCode);
        assert.equal(readFileSync(s.startErrorFile, 'utf8'), message);
      }
      const ok = spec(['true']);
      assert.equal((await native(ok)).code, 0);
      assert.equal(readFileSync(ok.startErrorFile, 'utf8'), '');
    });

    it('writes the isolated steps in the shell preamble\'s order', () => {
      const text = launchSpec(
        spec(['app'], {
          isolate: true,
          netnsPath: '/run/netns/skiff-x',
          cgroupProcsFiles: ['/sys/fs/cgroup/memory/skiff/podu/c/cgroup.procs'],
          hostname: 'web-0',
          stage: stageDir,
          etcFiles: { hosts: '/state/hosts' },
          mounts: [
            { hostPath: '/vol/sub', containerPath: '/data/sub', readOnly: true },
            { hostPath: '/vol/data', containerPath: '/data' },
          ],
          user: { uid: 1000, gid: 1000 },
        }),
      );
      const ops = text.trim().split('\n').map((l) => l.split('\t').slice(0, 3).join(' '));
      assert.deepEqual(ops, [
        `err ${ops[0].split(' ')[1]}`,
        'netns /run/netns/skiff-x',
        'isolate',
        'cgroup /sys/fs/cgroup/memory/skiff/podu/c/cgroup.procs',
        'hostname web-0',
        'tmpfs /dev/shm nosuid,nodev,noexec',
        `stage ${stageDir}`,
        `stagefile /state/hosts ${stageDir}/0`,
        `stagedir /vol/data ${stageDir}/1`,
        `stagedir /vol/sub ${stageDir}/2`,
        'tmpfs /tmp nosuid,nodev',
        `bind ${stageDir}/0 /etc/hosts`,
        `bind ${stageDir}/1 /data`,
        `bind ${stageDir}/2 /data/sub`,
        'ro /data/sub',
        'unstage',
        'cwd /',
        'user 1000 1000',
      ]);
    });
  });
});
