import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { comparePathElements, FieldSet, keyElement, pathString, valueElement } from './fieldpath.js';

describe('FieldSet', () => {
  it('round-trips FieldsV1 with "." on members that have children', () => {
    const json = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {} } },
        'f:replicas': {},
      },
    };
    const set = FieldSet.fromFieldsV1(json);
    assert.deepEqual(set.toFieldsV1(), json);
    assert.equal(set.has(['f:metadata', 'f:labels']), true);
    assert.equal(set.has(['f:metadata']), false);
    assert.equal(set.has(['f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image']), true);
  });

  it('canonicalizes keys so equal items compare equal', () => {
    const set = FieldSet.fromFieldsV1({ 'f:ports': { 'k:{"protocol":"TCP","containerPort":80}': {} } });
    assert.equal(set.has(['f:ports', keyElement({ containerPort: 80, protocol: 'TCP' })]), true);
    assert.deepEqual(set.toFieldsV1(), { 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': {} } });
  });

  it('sorts fields before keys, values and indexes; keys and numbers by value', () => {
    const pes = ['i:1', 'v:"b"', 'k:{"port":443}', 'f:b', 'k:{"port":80}', 'f:a', 'v:2'];
    assert.deepEqual([...pes].sort(comparePathElements), ['f:a', 'f:b', 'k:{"port":80}', 'k:{"port":443}', 'v:2', 'v:"b"', 'i:1']);
  });

  it('union, difference, intersection, emptiness', () => {
    const a = FieldSet.of(['f:a'], ['f:b', 'f:c'], ['f:b', 'f:d']);
    const b = FieldSet.of(['f:b', 'f:c'], ['f:e']);
    assert.deepEqual(a.union(b).paths().map(pathString), ['.a', '.e', '.b.c', '.b.d']);
    assert.deepEqual(a.difference(b).paths().map(pathString), ['.a', '.b.d']);
    assert.deepEqual(a.intersection(b).paths().map(pathString), ['.b.c']);
    assert.equal(a.intersection(FieldSet.of(['f:z'])).empty(), true);
    assert.equal(new FieldSet().empty(), true);
  });

  it('filters by prefix', () => {
    const s = FieldSet.of(['f:spec', 'f:replicas'], ['f:status', 'f:replicas'], ['f:status', 'f:conditions']);
    assert.deepEqual(s.withoutPrefixes([['f:status']]).paths().map(pathString), ['.spec.replicas']);
    assert.deepEqual(s.onlyPrefixes([['f:status']]).paths().map(pathString), ['.status.conditions', '.status.replicas']);
  });

  it('makes named fields members', () => {
    const s = FieldSet.of(['f:spec', 'f:template', 'f:spec', 'f:containers', keyElement({ name: 'a' }), 'f:image']);
    const e = s.withNamedFieldsAsMembers();
    assert.equal(e.has(['f:spec']), true);
    assert.equal(e.has(['f:spec', 'f:template', 'f:spec', 'f:containers']), true);
    assert.equal(s.has(['f:spec']), false, 'the original is unchanged');
  });

  it('prints paths as structured-merge-diff does', () => {
    assert.equal(
      pathString(['f:spec', 'f:containers', keyElement({ name: 'nginx' }), 'f:ports', keyElement({ protocol: 'TCP', containerPort: 80 })]),
      '.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]',
    );
    assert.equal(pathString(['f:metadata', 'f:finalizers', valueElement('a/b')]), '.metadata.finalizers[="a/b"]');
    assert.equal(pathString(['f:x', 'i:3']), '.x[3]');
  });

  it('rejects malformed FieldsV1', () => {
    assert.throws(() => FieldSet.fromFieldsV1({ 'x:y': {} }), /unknown path element/);
    assert.throws(() => FieldSet.fromFieldsV1({ 'k:{bad': {} }), /invalid path element/);
    assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 1 }), /expected an object/);
    assert.throws(() => FieldSet.fromFieldsV1([]), /expected an object/);
  });
});
