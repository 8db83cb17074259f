import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from './helm-release.js';

describe('skiff helm flags', () => {
  it('parses --timeout as Go durations', () => {
    assert.equal(parseDuration('5m0s'), 300_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('0'), 0);
    assert.throws(() => parseDuration('5 minutes'), /^HelmCliError: time: invalid duration "5 minutes"$/);
    assert.throws(() => parseDuration('10'), /invalid duration "10"/);
  });
});
