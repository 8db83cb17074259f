import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.js';
import { applyMergePatch } from './merge-patch.js';

// The examples of RFC 7386 appendix A whose target is an object.
const rfc: [unknown, unknown, unknown][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe('applyMergePatch', () => {
  rfc.forEach(([target, patch, result], i) => {
    it(`RFC 7386 example ${i + 1}`, () => {
      assert.deepEqual(applyMergePatch(target as Record<string, unknown>, patch), result);
    });
  });

  it('kubectl scale on the scale subresource', () => {
    const scale = { kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { replicas: 1 } };
    const out = applyMergePatch(scale, { spec: { replicas: 5 } });
    assert.deepEqual(out.spec, { replicas: 5 });
    assert.deepEqual(scale.spec, { replicas: 1 });
  });

  it('replaces lists whole, even lists SMP would merge', () => {
    const out = applyMergePatch({ spec: { containers: [{ name: 'a' }, { name: 'b' }] } }, { spec: { containers: [{ name: 'c' }] } });
    assert.deepEqual(out.spec, { containers: [{ name: 'c' }] });
  });

  for (const body of [null, [1], 'x', 3]) {
    it(`rejects the body ${JSON.stringify(body)}`, () => {
      assert.throws(
        () => applyMergePatch({ a: 1 }, body),
        (e: unknown) => e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && e.message === 'Invalid JSON Patch',
      );
    });
  }
});
