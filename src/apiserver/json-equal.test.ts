/** @module jsonEqual agrees with comparing stableStringify texts, which it replaced on the write path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonEqual } from './rest.js';

/** Canonical JSON text (sorted keys, undefined dropped): what no-op detection compared before jsonEqual. */
function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`).join(',')}}`;
}


const same = (a: unknown, b: unknown) => stableStringify(a) === stableStringify(b);

test('jsonEqual matches stableStringify equality on hand-picked cases', () => {
  const cases: Array<[unknown, unknown]> = [
    [{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }],
    [{ a: 1, b: undefined }, { a: 1 }],
    [{ a: 1 }, { a: 1, b: null }],
    [{ a: undefined }, { a: null }],
    [[undefined], [null]],
    [[1, 2], [1, 2, 3]],
    [[1, 2], { 0: 1, 1: 2 }],
    [{}, []],
    [null, {}],
    [0, -0],
    [Number.NaN, null],
    [1, '1'],
    ['a', 'a'],
    [true, 'true'],
    [{ x: { y: [{ z: 1 }] } }, { x: { y: [{ z: 2 }] } }],
    [{ x: { y: [{ z: 1 }] } }, { x: { y: [{ z: 1 }] } }],
    [{ toString: 1 }, {}],
    [{}, { toString: 1 }],
  ];
  for (const [a, b] of cases) {
    assert.equal(jsonEqual(a, b), same(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(jsonEqual(b, a), same(b, a), `${JSON.stringify(b)} vs ${JSON.stringify(a)}`);
  }
});

test('jsonEqual matches stableStringify equality on random mutations of a pod', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', labels: { app: 'x' }, annotations: undefined },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '100m' } } }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }] },
  };
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values = [undefined, null, 0, 1, '', 'x', true, [], {}, [null], { a: undefined }];
  const paths: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    paths.push(path);
    if (v && typeof v === 'object') for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], [...path, k]);
  };
  walk(pod, []);
  let differing = 0;
  for (let i = 0; i < 500; i++) {
    const copy = structuredClone(pod) as Record<string, unknown>;
    const path = paths[1 + Math.floor(random() * (paths.length - 1))];
    let parent = copy as Record<string, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
    parent[path[path.length - 1]] = values[Math.floor(random() * values.length)];
    const expected = same(pod, copy);
    if (!expected) differing++;
    assert.equal(jsonEqual(pod, copy), expected, `mutating ${path.join('.')}`);
    assert.equal(jsonEqual(copy, pod), expected, `mutating ${path.join('.')} (swapped)`);
  }
  assert.ok(differing > 100, 'most mutations change the object');
});
