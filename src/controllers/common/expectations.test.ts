/** @module Controller expectations: counted and UID-tracked deletions, creations, and expiry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerExpectations, expectationsTimeoutMs } from './expectations.js';

test('creations and tracked deletions, and expiry', () => {
  let t = 0;
  const e = new ControllerExpectations(() => t);
  assert.equal(e.satisfied('k'), true);
  e.expectCreations('k', 2);
  assert.equal(e.satisfied('k'), false);
  e.creationObserved('k');
  e.creationObserved('k');
  assert.equal(e.satisfied('k'), true);
  e.expectDeletions('k', ['ns/a', 'ns/b']);
  e.deletionObserved('k', 'ns/other');
  e.deletionObserved('k', 'ns/a');
  e.deletionObserved('k', 'ns/a');
  assert.deepEqual(e.get('k'), { add: 0, del: 1 });
  assert.equal(e.satisfied('k'), false);
  assert.equal(e.remainingMs('k'), expectationsTimeoutMs);
  t = expectationsTimeoutMs + 1;
  assert.equal(e.satisfied('k'), true);
});

test('counted expectations: any deletion observed counts', () => {
  const e = new ControllerExpectations(() => 0);
  e.expect('k', 1, 2);
  e.deletionObserved('k');
  e.deletionObserved('k', 'ns/whatever');
  assert.deepEqual(e.get('k'), { add: 1, del: 0 });
  assert.equal(e.satisfied('k'), false);
  e.creationObserved('k');
  assert.equal(e.satisfied('k'), true);
  assert.equal(e.remainingMs('k'), 0);
  e.delete('k');
  assert.equal(e.get('k'), undefined);
});

test('after expectCreations no deletion counts', () => {
  const e = new ControllerExpectations(() => 0);
  e.expectCreations('k', 1);
  e.deletionObserved('k');
  assert.deepEqual(e.get('k'), { add: 1, del: 0 });
});
