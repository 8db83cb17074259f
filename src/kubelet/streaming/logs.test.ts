import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CriLogWriter, MemoryLog, criTimestamp, formatCriLogLine, parseCriLogLine, readCriLog, rfc3339Nano, tailStart } from './logs.js';
import { openSync, closeSync, statSync } from 'node:fs';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'skiff-logs-'));
}

async function readAll(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += c;
  return s;
}

/** Collects a readable's text as it comes, so a test can wait for content. */
function collect(r: Readable): { text: () => string; ended: Promise<void> } {
  let s = '';
  r.on('data', (c: Buffer) => (s += c));
  return { text: () => s, ended: new Promise((resolve) => r.once('end', () => resolve())) };
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const line = (ts: string, stream: string, tag: string, content: string) => `${ts} ${stream} ${tag} ${content}\n`;

test('CRI records parse: stream, F/P tag, content with spaces, empty content', () => {
  const r = parseCriLogLine(Buffer.from('2024-01-02T03:04:05.123456789Z stderr F hello  world'))!;
  assert.equal(r.stream, 'stderr');
  assert.equal(r.partial, false);
  assert.equal(r.content.toString(), 'hello  world');
  assert.equal(r.timeMs, Date.parse('2024-01-02T03:04:05.123Z'));
  const p = parseCriLogLine(Buffer.from('2024-01-02T03:04:05Z stdout P:future part'))!;
  assert.equal(p.partial, true);
  assert.equal(p.content.toString(), 'part');
  assert.equal(parseCriLogLine(Buffer.from('2024-01-02T03:04:05Z stdout F'))!.content.length, 0);
  assert.equal(parseCriLogLine(Buffer.from('garbage')), undefined);
  assert.equal(parseCriLogLine(Buffer.from('notatime stdout F x')), undefined);
  assert.equal(parseCriLogLine(Buffer.from('2024-01-02T03:04:05Z stdin F x')), undefined);
  assert.equal(formatCriLogLine({ timestamp: '2024-01-02T03:04:05Z', stream: 'stdout', partial: true, content: Buffer.from('x') }).toString(), '2024-01-02T03:04:05Z stdout P x\n');
});

test('timestamps print as Go RFC3339Nano: trailing zeros dropped', () => {
  assert.equal(rfc3339Nano('2024-01-02T03:04:05.120000000Z'), '2024-01-02T03:04:05.12Z');
  assert.equal(rfc3339Nano('2024-01-02T03:04:05.000000000Z'), '2024-01-02T03:04:05Z');
  assert.equal(rfc3339Nano('2024-01-02T03:04:05.000000001+02:00'), '2024-01-02T03:04:05.000000001+02:00');
  assert.equal(criTimestamp(Date.parse('2024-01-02T03:04:05.123Z'), 456789), '2024-01-02T03:04:05.123456789Z');
});

test('reading a CRI file: all, tail, since, timestamps, partial lines, limitBytes', async () => {
  const dir = tmp();
  try {
    const path = join(dir, '0.log');
    writeFileSync(
      path,
      line('2024-01-01T00:00:01.000000000Z', 'stdout', 'F', 'one') +
        line('2024-01-01T00:00:02.500000000Z', 'stderr', 'F', 'two') +
        line('2024-01-01T00:00:03.000000000Z', 'stdout', 'P', 'thr') +
        line('2024-01-01T00:00:03.100000000Z', 'stdout', 'F', 'ee') +
        'this line is not a record\n' +
        line('2024-01-01T00:00:04.000000000Z', 'stdout', 'F', 'four'),
    );
    assert.equal(await readAll(readCriLog(path, {})), 'one\ntwo\nthree\nfour\n');
    assert.equal(await readAll(readCriLog(path, { tailLines: 1 })), 'four\n');
    assert.equal(await readAll(readCriLog(path, { tailLines: 0 })), '');
    assert.equal(await readAll(readCriLog(path, { tailLines: 100 })), 'one\ntwo\nthree\nfour\n');
    assert.equal(await readAll(readCriLog(path, { sinceTime: '2024-01-01T00:00:02.6Z' })), 'three\nfour\n');
    assert.equal(await readAll(readCriLog(path, { sinceSeconds: 2 }, undefined, () => Date.parse('2024-01-01T00:00:05Z'))), 'three\nfour\n');
    assert.equal(
      await readAll(readCriLog(path, { tailLines: 4, timestamps: true })),
      '2024-01-01T00:00:03Z thr2024-01-01T00:00:03.1Z ee\n2024-01-01T00:00:04Z four\n',
    );
    assert.equal(await readAll(readCriLog(path, { limitBytes: 6 })), 'one\ntw');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tailStart finds the start of the last n lines across block boundaries', () => {
  const dir = tmp();
  try {
    const path = join(dir, 'big.log');
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    writeFileSync(path, lines.join('\n') + '\n');
    const fd = openSync(path, 'r');
    const size = statSync(path).size;
    const text = readFileSync(path, 'utf8');
    assert.equal(text.slice(tailStart(fd, size, 3)), lines.slice(-3).join('\n') + '\n');
    assert.equal(text.slice(tailStart(fd, size, 4321)), lines.slice(-4321).join('\n') + '\n');
    assert.equal(tailStart(fd, size, 6000), 0);
    closeSync(fd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('follow sees appended records, survives rotation, and ends once the container stopped', async () => {
  const dir = tmp();
  try {
    const path = join(dir, '0.log');
    writeFileSync(path, line('2024-01-01T00:00:01Z', 'stdout', 'F', 'first'));
    let running = true;
    const out = collect(readCriLog(path, { follow: true }, { isRunning: () => running, pollMs: 20 }));
    await until(() => out.text() === 'first\n');
    appendFileSync(path, line('2024-01-01T00:00:02Z', 'stdout', 'F', 'second'));
    await until(() => out.text() === 'first\nsecond\n');
    // The runtime rotates: the old file moves aside, a new one takes the name.
    appendFileSync(path, line('2024-01-01T00:00:03Z', 'stdout', 'F', 'last-of-old'));
    renameSync(path, `${path}.20240101-000003`);
    writeFileSync(path, line('2024-01-01T00:00:04Z', 'stdout', 'F', 'new-file'));
    await until(() => out.text().endsWith('new-file\n'));
    assert.equal(out.text(), 'first\nsecond\nlast-of-old\nnew-file\n');
    appendFileSync(path, line('2024-01-01T00:00:05Z', 'stdout', 'F', 'final words'));
    running = false;
    await out.ended;
    assert.ok(out.text().endsWith('final words\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an aborted follow ends', async () => {
  const dir = tmp();
  try {
    const path = join(dir, '0.log');
    writeFileSync(path, '');
    const abort = new AbortController();
    const out = collect(readCriLog(path, { follow: true, signal: abort.signal }, { isRunning: () => true, pollMs: 10_000 }));
    abort.abort();
    await out.ended;
    assert.equal(out.text(), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CriLogWriter writes records per stream, splits long lines, rotates keeping maxFiles', async () => {
  const dir = tmp();
  try {
    const path = join(dir, '0.log');
    let now = Date.parse('2024-01-01T00:00:00Z');
    const w = new CriLogWriter(path, { maxBytes: 200, maxFiles: 2, maxLineBytes: 8, now: () => now });
    w.write('stdout', 'hel');
    w.write('stderr', 'oops\n');
    w.write('stdout', 'lo\n0123456789abc\n');
    const recs = readFileSync(path, 'utf8').trim().split('\n').map((l) => parseCriLogLine(Buffer.from(l))!);
    assert.deepEqual(
      recs.map((r) => [r.stream, r.partial, r.content.toString()]),
      [
        ['stderr', false, 'oops'],
        ['stdout', false, 'hello'],
        ['stdout', true, '01234567'],
        ['stdout', false, '89abc'],
      ],
    );
    assert.equal(await readAll(readCriLog(path, {})), 'oops\nhello\n0123456789abc\n');
    for (let i = 0; i < 20; i++) {
      now += 1000;
      w.write('stdout', `line number ${i}\n`);
    }
    w.write('stdout', 'unterminated');
    w.close();
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 2, `maxFiles keeps the live file and one rotated: ${files}`);
    assert.ok(files.includes('0.log'));
    assert.ok((await readAll(readCriLog(path, {}))).endsWith('unterminated\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MemoryLog: tail, follow woken by appends, ended by close, bounded', async () => {
  let now = 1_000_000;
  const log = new MemoryLog({ maxRecords: 5 }, () => now);
  log.append('stdout', 'a\nb\n');
  log.append('stderr', 'c');
  assert.equal(await readAll(log.read({})), 'a\nb\nc\n');
  assert.equal(await readAll(log.read({ tailLines: 1 })), 'c\n');
  const follower = collect(log.read({ follow: true, tailLines: 0 }));
  now += 5000;
  log.append('stdout', 'd\n');
  await until(() => follower.text() === 'd\n');
  log.append('stdout', 'e\nf\ng\n');
  await until(() => follower.text() === 'd\ne\nf\ng\n');
  assert.equal(log.length, 5);
  assert.equal(await readAll(log.read({})), 'c\nd\ne\nf\ng\n');
  assert.equal(await readAll(log.read({ sinceSeconds: 1 })), 'd\ne\nf\ng\n');
  log.close();
  await follower.ended;
  assert.equal(await readAll(log.read({ follow: true })), 'c\nd\ne\nf\ng\n');
});
