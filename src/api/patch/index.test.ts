import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.js';
import { JSON_PATCH, lookupPatchMeta, MERGE_PATCH, patchObject, STRATEGIC_MERGE_PATCH } from './index.js';

describe('patchObject', () => {
  const meta = lookupPatchMeta('apps', 'v1', 'Deployment');
  const obj = () => ({ kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] } } } });

  it('dispatches on the media type', () => {
    const smp = patchObject(`${STRATEGIC_MERGE_PATCH}; charset=utf-8`, obj(), { spec: { template: { spec: { containers: [{ name: 'b', image: '2' }] } } } }, meta);
    assert.equal(smp.spec.template.spec.containers.length, 2);
    const merge = patchObject(MERGE_PATCH, obj(), { spec: { template: { spec: { containers: [{ name: 'b', image: '2' }] } } } }, meta);
    assert.equal(merge.spec.template.spec.containers.length, 1);
    const json = patchObject(JSON_PATCH, obj(), [{ op: 'replace', path: '/kind', value: 'X' }], meta);
    assert.equal(json.kind, 'X');
  });

  it('answers 415 to other media types', () => {
    assert.throws(
      () => patchObject('application/xml', obj(), {}, meta),
      (e: unknown) => e instanceof ApiError && e.code === 415 && e.reason === 'UnsupportedMediaType',
    );
  });
});
