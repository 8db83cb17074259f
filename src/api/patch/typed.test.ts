import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lookupPatchMeta } from './patch-meta.js';
import { compare, describePaths, mergeApplied, removeItems, toFieldSet, validateApplied } from './typed.js';
import { FieldSet, keyElement, pathString } from './fieldpath.js';

const pod = lookupPatchMeta('', 'v1', 'Pod');
const svc = lookupPatchMeta('', 'v1', 'Service');

describe('toFieldSet', () => {
  it('struct fields with children are not members; map entries, items, leaves are', () => {
    const paths = describePaths(
      toFieldSet(
        {
          metadata: { labels: { a: 'b' }, annotations: {} },
          spec: {
            nodeSelector: { disk: 'ssd' },
            containers: [{ name: 'c', args: ['x'], resources: {} }],
            tolerations: [{ key: 'k' }],
          },
        },
        pod,
      ),
    );
    assert.deepEqual(paths.sort(), [
      '.metadata.annotations',
      '.metadata.labels.a',
      '.spec.containers[name="c"]',
      '.spec.containers[name="c"].args',
      '.spec.containers[name="c"].name',
      '.spec.containers[name="c"].resources',
      '.spec.nodeSelector',
      '.spec.tolerations',
    ]);
  });

  it('keys Service ports on port and protocol (default TCP)', () => {
    const s = toFieldSet({ spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] } }, svc);
    assert.deepEqual(describePaths(s), [
      '.spec.ports[port=53,protocol="UDP"]',
      '.spec.ports[port=80,protocol="TCP"]',
      '.spec.ports[port=53,protocol="UDP"].port',
      '.spec.ports[port=53,protocol="UDP"].protocol',
      '.spec.ports[port=80,protocol="TCP"].port',
    ]);
  });
});

describe('validateApplied', () => {
  it('reports missing keys and duplicates with their paths', () => {
    assert.deepEqual(validateApplied({ spec: { containers: [{ image: 'x' }, { name: 'a' }, { name: 'a' }] } }, pod), [
      '.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
      '.spec.containers: duplicate entries for key [name="a"]',
    ]);
    assert.deepEqual(validateApplied({ metadata: { finalizers: [{ a: 1 }] } }, pod), ['.metadata.finalizers: element 0: expected a scalar in a set, got map']);
  });
});

describe('compare', () => {
  it('reports added containers with their contents, modified leaves, removed items', () => {
    const before = { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] } };
    const after = { spec: { containers: [{ name: 'a', image: '2' }, { name: 'c', image: '1', ports: [{ containerPort: 80 }] }] } };
    const c = compare(before, after, pod);
    assert.deepEqual(describePaths(c.modified), ['.spec.containers[name="a"].image']);
    assert.deepEqual(describePaths(c.added), [
      '.spec.containers[name="c"]',
      '.spec.containers[name="c"].image',
      '.spec.containers[name="c"].name',
      '.spec.containers[name="c"].ports',
      '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"]',
      '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].containerPort',
    ]);
    assert.deepEqual(describePaths(c.removed), ['.spec.containers[name="b"]', '.spec.containers[name="b"].image', '.spec.containers[name="b"].name']);
  });

  it('empty and null containers compare as leaves; a type change is one modification', () => {
    assert.deepEqual(describePaths(compare({ spec: {} }, { spec: { securityContext: {} } }, pod).added), ['.spec.securityContext']);
    assert.deepEqual(describePaths(compare({ spec: { x: 1 } }, { spec: { x: { y: 1 } } }, pod).modified), ['.spec.x']);
    assert.equal(compare({ a: [1] }, { a: [1] }, pod).modified.empty(), true);
  });
});

describe('mergeApplied', () => {
  it('merges maps, replaces atomics, drops nulls', () => {
    const live = { spec: { nodeSelector: { a: '1', b: '2' }, restartPolicy: 'Always', hostname: 'h' }, metadata: { labels: { x: '1' } } };
    const cfg = { spec: { nodeSelector: { c: '3' }, hostname: null }, metadata: { labels: { y: '2' } } };
    assert.deepEqual(mergeApplied(live, cfg, pod), {
      spec: { nodeSelector: { c: '3' }, restartPolicy: 'Always' },
      metadata: { labels: { x: '1', y: '2' } },
    });
  });

  it('merges sets by value', () => {
    assert.deepEqual(mergeApplied({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { finalizers: ['c', 'a'] } }, pod), {
      metadata: { finalizers: ['c', 'a', 'b'] },
    });
  });
});

describe('removeItems', () => {
  it('removes members, keeps empty structs, drops emptied maps', () => {
    const obj = { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b' }], securityContext: { runAsUser: 1 } } };
    const set = FieldSet.of(
      ['f:metadata', 'f:labels', 'f:a'],
      ['f:spec', 'f:containers', keyElement({ name: 'b' })],
      ['f:spec', 'f:containers', keyElement({ name: 'a' }), 'f:image'],
      ['f:spec', 'f:securityContext', 'f:runAsUser'],
    );
    assert.deepEqual(removeItems(obj, set, pod), { metadata: {}, spec: { containers: [{ name: 'a' }], securityContext: {} } });
    assert.equal(pathString(['f:a']), '.a');
  });
});
