/** @module TaintToleration: NoSchedule/NoExecute filter with kube's message, PreferNoSchedule score. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterEach, makeCluster, makeNode, makePod, scoreEach } from '../test-util.js';
import { taintTolerationName } from './taint-toleration.js';

const nodes = [
  makeNode('plain'),
  makeNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
  makeNode('draining', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }),
  makeNode('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }),
];
const { framework } = makeCluster(nodes);

describe('TaintToleration filter', () => {
  const cases: Array<{ name: string; tolerations?: object[]; want: Record<string, string> }> = [
    {
      name: 'no tolerations: NoSchedule and NoExecute taints reject, PreferNoSchedule does not',
      want: {
        plain: '',
        gpu: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}',
        draining: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {node.kubernetes.io/unreachable: }',
        soft: '',
      },
    },
    {
      name: 'Equal toleration with the same value',
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
      want: { plain: '', gpu: '', draining: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {node.kubernetes.io/unreachable: }', soft: '' },
    },
    {
      name: 'Equal toleration with another value does not tolerate',
      tolerations: [{ key: 'dedicated', value: 'cpu' }],
      want: {
        plain: '',
        gpu: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}',
        draining: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {node.kubernetes.io/unreachable: }',
        soft: '',
      },
    },
    {
      name: 'Exists without a key tolerates everything',
      tolerations: [{ operator: 'Exists' }],
      want: { plain: '', gpu: '', draining: '', soft: '' },
    },
    {
      name: 'effect must match when given',
      tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }],
      want: {
        plain: '',
        gpu: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}',
        draining: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {node.kubernetes.io/unreachable: }',
        soft: '',
      },
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(filterEach(framework, taintTolerationName, makePod('p', { spec: c.tolerations ? { tolerations: c.tolerations } : {} })), c.want));
  }
});

describe('TaintToleration score', () => {
  test('untolerated PreferNoSchedule taints lower the score', () => {
    assert.deepEqual(scoreEach(framework, taintTolerationName, makePod('p')), { plain: 100, gpu: 100, draining: 100, soft: 0 });
  });
  test('a tolerated PreferNoSchedule taint does not', () => {
    const pod = makePod('p', { spec: { tolerations: [{ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }] } });
    assert.deepEqual(scoreEach(framework, taintTolerationName, pod), { plain: 100, gpu: 100, draining: 100, soft: 100 });
  });
});
