/** @module NodeAffinity: nodeSelector, required and preferred terms, operators, matchFields. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CycleState } from '../framework.js';
import { filterEach, makeCluster, makeNode, makePod, scoreEach } from '../test-util.js';
import { newPodInfo } from '../types.js';
import { nodeAffinity, nodeAffinityName } from './node-affinity.js';

const nodes = [
  makeNode('a', { labels: { zone: 'z1', disk: 'ssd', gen: '3' } }),
  makeNode('b', { labels: { zone: 'z2', disk: 'hdd', gen: '5' } }),
  makeNode('c', { labels: { zone: 'z3' } }),
];
const { framework } = makeCluster(nodes);
const miss = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";

const required = (...terms: object[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
const expr = (key: string, operator: string, values?: string[]) => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });

describe('NodeAffinity filter', () => {
  const cases: Array<{ name: string; spec: object; fits: string[] }> = [
    { name: 'no selector: every node', spec: {}, fits: ['a', 'b', 'c'] },
    { name: 'nodeSelector pairs all match', spec: { nodeSelector: { disk: 'ssd', zone: 'z1' } }, fits: ['a'] },
    { name: 'nodeSelector with a missing label', spec: { nodeSelector: { disk: 'nvme' } }, fits: [] },
    { name: 'In', spec: required(expr('zone', 'In', ['z1', 'z3'])), fits: ['a', 'c'] },
    { name: 'NotIn (absent label counts as not in)', spec: required(expr('disk', 'NotIn', ['ssd'])), fits: ['b', 'c'] },
    { name: 'Exists', spec: required(expr('disk', 'Exists')), fits: ['a', 'b'] },
    { name: 'DoesNotExist', spec: required(expr('disk', 'DoesNotExist')), fits: ['c'] },
    { name: 'Gt compares integers', spec: required(expr('gen', 'Gt', ['4'])), fits: ['b'] },
    { name: 'Lt compares integers', spec: required(expr('gen', 'Lt', ['4'])), fits: ['a'] },
    { name: 'terms are ORed', spec: required(expr('zone', 'In', ['z1']), expr('zone', 'In', ['z2'])), fits: ['a', 'b'] },
    {
      name: 'expressions in one term are ANDed',
      spec: required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }, { key: 'disk', operator: 'In', values: ['hdd'] }] }),
      fits: ['b'],
    },
    { name: 'matchFields metadata.name', spec: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] }), fits: ['c'] },
    { name: 'an empty term matches nothing', spec: required({}), fits: [] },
    { name: 'a malformed term (Gt without a number) matches nothing', spec: required(expr('gen', 'Gt', ['x'])), fits: [] },
    { name: 'nodeSelector and affinity must both hold', spec: { nodeSelector: { disk: 'ssd' }, ...required(expr('zone', 'In', ['z2'])) }, fits: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = filterEach(framework, nodeAffinityName, makePod('p', { spec: c.spec }));
      const want = Object.fromEntries(['a', 'b', 'c'].map((n) => [n, c.fits.includes(n) ? '' : miss]));
      assert.deepEqual(got, want);
    });
  }

  test('PreFilter narrows to nodes pinned by matchFields in every term, and reports conflicts', () => {
    const pinned = nodeAffinity.preFilter(new CycleState(), newPodInfo(makePod('ds', { spec: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }) })));
    assert.deepEqual(pinned, { nodeNames: new Set(['b']) });
    const open = nodeAffinity.preFilter(new CycleState(), newPodInfo(makePod('p', { spec: required(expr('zone', 'Exists')) })));
    assert.equal(open, undefined);
    const conflict = nodeAffinity.preFilter(
      new CycleState(),
      newPodInfo(makePod('p', { spec: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }, { key: 'metadata.name', operator: 'In', values: ['b'] }] }) })),
    );
    assert.deepEqual(conflict, { code: 'UnschedulableAndUnresolvable', reasons: ['pod affinity terms conflict'] });
  });
});

describe('NodeAffinity score', () => {
  test('preferred weights summed per node, normalized to the best', () => {
    const spec = {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 80, preference: expr('disk', 'In', ['ssd']) },
            { weight: 20, preference: expr('zone', 'In', ['z2', 'z1']) },
          ],
        },
      },
    };
    assert.deepEqual(scoreEach(framework, nodeAffinityName, makePod('p', { spec })), { a: 100, b: 20, c: 0 });
  });

  test('no preferences: skipped', () => {
    assert.deepEqual(scoreEach(framework, nodeAffinityName, makePod('p')), { a: 0, b: 0, c: 0 });
  });
});
