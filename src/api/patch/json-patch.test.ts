import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.js';
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json-patch.js';

const doc = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', annotations: { a: '1' } },
  spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', image: 'x' }] } } },
});

describe('applyJsonPatch', () => {
  const ok: { name: string; patch: unknown[]; check: (out: Record<string, unknown>) => void }[] = [
    {
      name: 'replace, add, remove (kubectl rollout undo shape)',
      patch: [
        { op: 'replace', path: '/spec/template', value: { spec: { containers: [{ name: 'c', image: 'y' }] } } },
        { op: 'replace', path: '/metadata/annotations', value: { b: '2' } },
        { op: 'add', path: '/spec/paused', value: true },
        { op: 'remove', path: '/spec/replicas' },
      ],
      check: (out) => {
        assert.deepEqual(out.spec, { template: { spec: { containers: [{ name: 'c', image: 'y' }] } }, paused: true });
        assert.deepEqual((out.metadata as Record<string, unknown>).annotations, { b: '2' });
      },
    },
    {
      name: 'test that holds, then append to a list',
      patch: [
        { op: 'test', path: '/metadata/name', value: 'web' },
        { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'd' } },
      ],
      check: (out) => assert.equal(((out.spec as any).template.spec.containers as unknown[]).length, 2),
    },
    {
      name: 'copy and move; escaped path segments',
      patch: [
        { op: 'add', path: '/metadata/annotations/kubectl.kubernetes.io~1x', value: 'v' },
        { op: 'copy', from: '/metadata/name', path: '/metadata/labels' },
        { op: 'move', from: '/metadata/labels', path: '/metadata/generateName' },
      ],
      check: (out) => {
        const m = out.metadata as Record<string, unknown>;
        assert.equal((m.annotations as Record<string, unknown>)['kubectl.kubernetes.io/x'], 'v');
        assert.equal(m.generateName, 'web');
        assert.equal('labels' in m, false);
      },
    },
    { name: 'an empty patch', patch: [], check: (out) => assert.deepEqual(out, doc()) },
  ];
  for (const c of ok) {
    it(c.name, () => {
      const original = doc();
      c.check(applyJsonPatch(original, c.patch));
      assert.deepEqual(original, doc(), 'the original is not modified');
    });
  }

  const rejected = (code: number, reason: string, message: string) => (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, code);
    assert.equal(e.reason, reason);
    assert.equal(e.message, message);
    return true;
  };
  const generic = 'the server rejected our request due to an error in our request';
  const failures: { name: string; patch: unknown; check: (e: unknown) => boolean }[] = [
    { name: 'a test that fails', patch: [{ op: 'test', path: '/spec/replicas', value: 3 }], check: rejected(422, 'Invalid', generic) },
    { name: 'remove of a missing path', patch: [{ op: 'remove', path: '/spec/nope' }], check: rejected(422, 'Invalid', generic) },
    { name: 'replace of a missing path', patch: [{ op: 'replace', path: '/spec/nope', value: 1 }], check: rejected(422, 'Invalid', generic) },
    { name: 'add under a missing parent', patch: [{ op: 'add', path: '/a/b/c', value: 1 }], check: rejected(422, 'Invalid', generic) },
    { name: 'an unknown operation', patch: [{ op: '_get', path: '/spec' }], check: rejected(422, 'Invalid', generic) },
    { name: 'a path without a leading slash', patch: [{ op: 'add', path: 'spec/x', value: 1 }], check: rejected(422, 'Invalid', generic) },
    { name: 'replacing the document with a list', patch: [{ op: 'replace', path: '', value: [] }], check: rejected(422, 'Invalid', generic) },
    {
      name: 'a body that is not a list',
      patch: { op: 'add' },
      check: rejected(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch'),
    },
    {
      name: 'an operation that is not an object',
      patch: ['add'],
      check: rejected(400, 'BadRequest', 'json: cannot unmarshal string into Go value of type jsonpatch.Operation'),
    },
    {
      name: 'too many operations',
      patch: Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' })),
      check: rejected(413, 'RequestEntityTooLarge', `The allowed maximum operations in a JSON patch is 10000, got 10001`),
    },
  ];
  for (const c of failures) {
    it(`rejects ${c.name}`, () => {
      const original = doc();
      assert.throws(() => applyJsonPatch(original, c.patch), c.check);
      assert.deepEqual(original, doc(), 'a failed patch leaves the original alone');
    });
  }
});
