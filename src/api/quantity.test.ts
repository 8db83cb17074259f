import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Quantity,
  QuantityParseError,
  canonicalQuantity,
  canonicalizeResourceList,
  compareQuantities,
  parseQuantity,
  quantityFormatMessage,
  tryParseQuantity,
} from './quantity.js';

test('canonical form matches what kube-apiserver serializes', () => {
  const cases: Array<[string | number, string]> = [
    ['100m', '100m'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['0.5', '500m'],
    ['.5', '500m'],
    ['1.5', '1500m'],
    ['1', '1'],
    ['1000', '1k'],
    ['1200', '1200'],
    ['2e3', '2e3'],
    ['12e2', '1200'],
    ['1E', '1E'],
    ['1E3', '1e3'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['1.5Ki', '1536'],
    ['512', '512'],
    ['100Mi', '100Mi'],
    ['1G', '1G'],
    ['128974848', '128974848'],
    ['129e6', '129e6'],
    ['123Mi', '123Mi'],
    ['0', '0'],
    ['-0', '0'],
    ['-1', '-1'],
    ['-1Ki', '-1Ki'],
    ['+5', '5'],
    ['0.0000000001', '1n'],
    ['1u', '1u'],
    ['250m', '250m'],
    [0.25, '250m'],
    [2, '2'],
    ['  3  ', '3'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, `canonical(${JSON.stringify(input)})`);
});

test('malformed quantities are rejected with the kube message', () => {
  for (const bad of ['', 'abc', '1Gb', '1.2.3', '5 Mi', 'Mi1']) {
    assert.throws(() => parseQuantity(bad), QuantityParseError, `parse(${JSON.stringify(bad)})`);
  }
  assert.throws(() => parseQuantity('x'), (e: Error) => e.message === quantityFormatMessage);
  assert.equal(tryParseQuantity('1Zi'), undefined);
  assert.equal(tryParseQuantity({}), undefined);
  assert.ok(tryParseQuantity('1Ki'));
});

test('comparison and arithmetic are exact across suffixes', () => {
  assert.equal(compareQuantities('1', '1000m'), 0);
  assert.equal(compareQuantities('1Gi', '1G'), 1);
  assert.equal(compareQuantities('500m', '0.6'), -1);
  assert.equal(compareQuantities('1Ki', '1024'), 0);
  const sum = parseQuantity('250m').add(parseQuantity('1'));
  assert.equal(sum.toString(), '1250m');
  assert.equal(parseQuantity('1Gi').sub(parseQuantity('512Mi')).toString(), '512Mi');
  assert.equal(parseQuantity('100m').mul(3).toString(), '300m');
  assert.equal(parseQuantity('2').neg().toString(), '-2');
});

test('scaled values round up as Quantity.Value and MilliValue do', () => {
  assert.equal(parseQuantity('100m').value(), 1);
  assert.equal(parseQuantity('1.5').milliValue(), 1500);
  assert.equal(parseQuantity('1n').milliValue(), 1);
  assert.equal(parseQuantity('1Mi').value(), 1048576);
  assert.equal(parseQuantity('1.5').toNumber(), 1.5);
  assert.equal(Quantity.fromMilli(250).toString(), '250m');
  assert.equal(Quantity.fromInt(2048, 'BinarySI').toString(), '2Ki');
  assert.equal(parseQuantity('0.0001').roundUp(-3).toString(), '1m');
});

test('ResourceList defaulting canonicalizes and rounds to milli units', () => {
  const list: Record<string, unknown> = { cpu: '0.0001', memory: '1024Mi', 'nvidia.com/gpu': 1 };
  canonicalizeResourceList(list);
  assert.deepEqual(list, { cpu: '1m', memory: '1Gi', 'nvidia.com/gpu': '1' });
  assert.throws(() => canonicalizeResourceList({ cpu: 'lots' }), QuantityParseError);
  assert.doesNotThrow(() => canonicalizeResourceList(undefined));
});
