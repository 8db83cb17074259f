/** @module controller.ComputeHash: stable, template- and collision-count-sensitive, in the safe alphabet. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeHash, safeEncodeString } from './hash.js';

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image }] } });

test('safe encoding maps decimal digits as kube does', () => {
  assert.equal(safeEncodeString('1234567890'), '56789bcdf4');
});

test('stable, template-sensitive, collision-count-sensitive, in the safe alphabet', () => {
  const a = computeHash(template('v1'));
  assert.equal(a, computeHash(structuredClone(template('v1'))));
  assert.match(a, /^[4-9bcdf]{1,10}$/);
  assert.notEqual(a, computeHash(template('v2')));
  assert.notEqual(a, computeHash(template('v1'), 1));
  assert.notEqual(computeHash(template('v1'), 1), computeHash(template('v1'), 2));
  // Key order and nulls do not matter.
  assert.equal(computeHash({ spec: { containers: [{ image: 'v1', name: 'app' }] }, metadata: { labels: { app: 'web' }, creationTimestamp: null } }), a);
});

test('a collision count of 0 is hashed (a set pointer), unlike none', () => {
  assert.notEqual(computeHash(template('v1'), 0), computeHash(template('v1')));
  assert.equal(computeHash(template('v1'), 0), computeHash(template('v1'), 0));
});
