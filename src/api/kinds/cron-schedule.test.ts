import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CronParseError, cronScheduleError, parseCronSchedule } from './cron-schedule.js';

const at = (s: string) => new Date(s);
const next = (spec: string, after: string, timeZone?: string) => parseCronSchedule(spec, { timeZone }).next(at(after))?.toISOString();

test('parse errors are robfig/cron texts', () => {
  assert.equal(cronScheduleError(''), 'empty spec string');
  assert.equal(cronScheduleError('* * * *'), 'expected exactly 5 fields, found 4: [* * * *]');
  assert.equal(cronScheduleError('x * * * *'), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
  assert.equal(cronScheduleError('* 24 * * *'), 'end of range (24) above maximum (23): 24');
  assert.equal(cronScheduleError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
  assert.equal(cronScheduleError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
  assert.equal(cronScheduleError('1-2-3 * * * *'), 'too many hyphens: 1-2-3');
  assert.equal(cronScheduleError('*/0 * * * *'), 'step of range should be a positive number: */0');
  assert.equal(cronScheduleError('@often'), 'unrecognized descriptor: @often');
  assert.equal(cronScheduleError('0 0 * JAN-MAR mon-fri'), undefined);
  assert.equal(cronScheduleError('@every 1h30m'), undefined);
  assert.throws(() => parseCronSchedule('* * * * 8'), CronParseError);
});

test('next activation in UTC', () => {
  assert.equal(next('*/5 * * * *', '2025-01-01T12:03:20Z'), '2025-01-01T12:05:00.000Z');
  assert.equal(next('*/5 * * * *', '2025-01-01T12:05:00Z'), '2025-01-01T12:10:00.000Z');
  assert.equal(next('0 0 * * *', '2025-01-01T12:00:00Z'), '2025-01-02T00:00:00.000Z');
  assert.equal(next('30 9 * * mon', '2025-01-01T12:00:00Z'), '2025-01-06T09:30:00.000Z');
  assert.equal(next('0 0 1 * *', '2025-01-15T00:00:00Z'), '2025-02-01T00:00:00.000Z');
  assert.equal(next('@hourly', '2025-12-31T23:59:59Z'), '2026-01-01T00:00:00.000Z');
  assert.equal(next('0 0 29 2 *', '2025-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  // Both day fields restricted: either matches.
  assert.equal(next('0 0 13 * fri', '2025-01-01T00:00:00Z'), '2025-01-03T00:00:00.000Z');
  assert.equal(next('@every 90s', '2025-01-01T00:00:00.500Z'), '2025-01-01T00:01:30.000Z');
});

test('next activation in a time zone', () => {
  assert.equal(next('0 9 * * *', '2025-01-01T00:00:00Z', 'Europe/Paris'), '2025-01-01T08:00:00.000Z');
  assert.equal(next('0 9 * * *', '2025-07-01T00:00:00Z', 'Europe/Paris'), '2025-07-01T07:00:00.000Z');
  assert.equal(next('TZ=America/New_York 0 0 * * *', '2025-01-01T00:00:00Z'), '2025-01-01T05:00:00.000Z');
});
