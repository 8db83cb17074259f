import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.js';
import { checkSupported, escapeFieldValue, fieldSelectorFromSet, parseFieldSelector, unescapeFieldValue } from './fields.js';

const pod: Record<string, string> = {
  'metadata.name': 'web-1',
  'metadata.namespace': 'default',
  'spec.nodeName': 'node-a',
  'status.phase': 'Running',
  'involvedObject.name': 'a,b=c',
};
const get = (f: string) => pod[f];

describe('parseFieldSelector', () => {
  const cases: { input: string; reqs: [string, string, string][]; str: string }[] = [
    { input: '', reqs: [], str: '' },
    { input: 'metadata.name=x', reqs: [['metadata.name', '=', 'x']], str: 'metadata.name=x' },
    { input: 'metadata.name==x', reqs: [['metadata.name', '=', 'x']], str: 'metadata.name=x' },
    {
      input: 'spec.nodeName=N,status.phase!=Succeeded',
      reqs: [
        ['spec.nodeName', '=', 'N'],
        ['status.phase', '!=', 'Succeeded'],
      ],
      str: 'spec.nodeName=N,status.phase!=Succeeded',
    },
    {
      // Terms are sorted by their text, as kube sorts them.
      input: 'involvedObject.uid=u,involvedObject.name=n,involvedObject.namespace=ns',
      reqs: [
        ['involvedObject.name', '=', 'n'],
        ['involvedObject.namespace', '=', 'ns'],
        ['involvedObject.uid', '=', 'u'],
      ],
      str: 'involvedObject.name=n,involvedObject.namespace=ns,involvedObject.uid=u',
    },
    { input: 'a=b\\,c\\=d\\\\e', reqs: [['a', '=', 'b,c=d\\e']], str: 'a=b\\,c\\=d\\\\e' },
    { input: 'a=', reqs: [['a', '=', '']], str: 'a=' },
    { input: 'a=b,,c=d', reqs: [['a', '=', 'b'], ['c', '=', 'd']], str: 'a=b,c=d' },
    { input: 'a!==b', reqs: [['a', '!=', '=b']], str: 'a!=\\=b' },
  ];
  for (const c of cases) {
    it(JSON.stringify(c.input), () => {
      if (c.input === 'a!==b') {
        // `!=` wins at the first position, leaving an unescaped `=` in the value.
        assert.throws(() => parseFieldSelector(c.input), /unescaped character in value: 61/);
        return;
      }
      const sel = parseFieldSelector(c.input);
      assert.deepEqual(
        sel.requirements.map((r) => [r.field, r.op, r.value]),
        c.reqs,
      );
      assert.equal(sel.toString(), c.str);
    });
  }

  const errors: [string, string][] = [
    ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
  ];
  for (const [input, message] of errors) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseFieldSelector(input),
        (e: unknown) => e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && e.message === message,
      );
    });
  }
});

describe('FieldSelector.matches', () => {
  const cases: [string, boolean][] = [
    ['', true],
    ['metadata.name=web-1', true],
    ['metadata.name=web-2', false],
    ['spec.nodeName=node-a,status.phase!=Succeeded', true],
    ['spec.nodeName=node-a,status.phase!=Running', false],
    ['involvedObject.name=a\\,b\\=c', true],
    // A field the getter does not know reads as "".
    ['spec.unknown=', true],
    ['spec.unknown!=', false],
  ];
  for (const [sel, want] of cases) {
    it(`${JSON.stringify(sel)} → ${want}`, () => assert.equal(parseFieldSelector(sel).matches(get), want));
  }

  it('exact matches, supported fields and sets', () => {
    const sel = parseFieldSelector('metadata.name=x,status.phase!=y');
    assert.equal(sel.requiresExactMatch('metadata.name'), 'x');
    assert.equal(sel.requiresExactMatch('status.phase'), undefined);
    checkSupported(sel, ['metadata.name', 'status.phase']);
    assert.throws(
      () => checkSupported(parseFieldSelector('foo=bar'), ['metadata.name']),
      (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === 'field label not supported: foo',
    );
    assert.equal(fieldSelectorFromSet({ 'spec.nodeName': 'n', 'metadata.name': 'a,b' }).toString(), 'metadata.name=a\\,b,spec.nodeName=n');
    assert.equal(escapeFieldValue('a\\b'), 'a\\\\b');
    assert.equal(unescapeFieldValue('plain'), 'plain');
  });
});
