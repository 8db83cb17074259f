/** @module Helm's strvals cases (pkg/strvals parser tests): --set, --set-string, --set-json syntax and typing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoTyped } from '../template/values.js';
import { parseInto, parseIntoFile, parseIntoString, parseJson, parseLiteralInto, StrvalsError } from './strvals.js';

const i64 = (n: number) => new GoTyped('int64', BigInt(n));

describe('strvals --set', () => {
  const ok: Array<[string, unknown]> = [
    ['name=value', { name: 'value' }],
    ['long_int_string=1234567890', { long_int_string: i64(1234567890) }],
    ['boolean=true', { boolean: true }],
    ['is_null=null', { is_null: null }],
    ['zero=0', { zero: i64(0) }],
    ['leading_zeros=00009', { leading_zeros: '00009' }],
    ['negative=-5', { negative: i64(-5) }],
    ['float=1.5', { float: '1.5' }],
    ['huge=99999999999999999999', { huge: '99999999999999999999' }],
    ['name=value,name2=value2', { name: 'value', name2: 'value2' }],
    ['name=value,name2=', { name: 'value', name2: '' }],
    ['name=,name2=value', { name: '', name2: 'value' }],
    ['name1=value1,name1=value2', { name1: 'value2' }],
    ['name1.name2=', { name1: { name2: '' } }],
    ['name1={1021,902}', { name1: [i64(1021), i64(902)] }],
    ['name1==value1', { name1: '=value1' }],
    ['name1=value1=', { name1: 'value1=' }],
    ['name1=one\\,two,name2=three\\,four', { name1: 'one,two', name2: 'three,four' }],
    ['name1=one\\=two', { name1: 'one=two' }],
    ['name1=one two three', { name1: 'one two three' }],
    ['key\\.with\\.dots=value', { 'key.with.dots': 'value' }],
    ['outer.inner=value', { outer: { inner: 'value' } }],
    ['outer.middle.inner=value', { outer: { middle: { inner: 'value' } } }],
    ['outer.inner1=value,outer.inner2=value2', { outer: { inner1: 'value', inner2: 'value2' } }],
    ['outer.inner1=value,outer.middle.inner=value', { outer: { inner1: 'value', middle: { inner: 'value' } } }],
    ['list={1,2,3}', { list: [i64(1), i64(2), i64(3)] }],
    ['list={a,b},x=y', { list: ['a', 'b'], x: 'y' }],
    ['list={}', { list: [''] }],
    ['list[0]=foo', { list: ['foo'] }],
    ['list[0].foo=bar', { list: [{ foo: 'bar' }] }],
    ['list[0].foo=bar,list[0].hello=world', { list: [{ foo: 'bar', hello: 'world' }] }],
    ['list[0]=foo,list[1]=bar', { list: ['foo', 'bar'] }],
    ['list[0]=foo,list[1]=bar,', { list: ['foo', 'bar'] }],
    ['list[0]=foo,list[3]=bar', { list: ['foo', null, null, 'bar'] }],
    ['list[1].foo=bar', { list: [null, { foo: 'bar' }] }],
    ['noval[0]', { noval: [] }],
    ['noval[0]=', { noval: [''] }],
    ['nested[0][0]=1', { nested: [[i64(1)]] }],
    ['nested[1][1]=1', { nested: [null, [null, i64(1)]] }],
    ['name1.name2[0].foo=bar,name1.name2[1].foo=bar', { name1: { name2: [{ foo: 'bar' }, { foo: 'bar' }] } }],
    ['name1.name2[1].foo=bar,name1.name2[0].foo=bar', { name1: { name2: [{ foo: 'bar' }, { foo: 'bar' }] } }],
    ['list[0]={a,b}', { list: [['a', 'b']] }],
  ];
  for (const [input, want] of ok) {
    it(`parses ${input}`, () => assert.deepEqual(parseInto(input), want));
  }

  const bad: Array<[string, RegExp]> = [
    ['name1,name2=', /key "name1" has no value \(cannot end with ,\)/],
    ['name1.name2', /key "name2" has no value/],
    ['name1.=name2', /key map "name1" has no value/],
    ['name1.,name2', /key "" has no value \(cannot end with ,\)|key map/],
    ['illegal[0]name.foo=bar', /unexpected data at end of array index: "name"/],
    ['a[-1]=1', /negative -1 index not allowed/],
    ['name1=value1,,,,name2=value2,', /key "" has no value \(cannot end with ,\)/],
    ['list[0].foo=bar,list[-30].hello=world', /negative -30 index not allowed/],
    [']={}].', /interface conversion/],
    ['a[x]=1', /error parsing index/],
    ['list={1,2', /list must terminate with '}'/],
    ['a[70000]=1', /index of 70000 is greater than maximum supported index of 65536/],
    [`${Array.from({ length: 32 }, (_, i) => `k${i}`).join('.')}=v`, /value name nested level is greater than maximum supported nested level of 30/],
  ];
  for (const [input, re] of bad) {
    it(`rejects ${input.slice(0, 40)}`, () => assert.throws(() => parseInto(input), (e: unknown) => e instanceof StrvalsError && re.test(e.message)));
  }

  it('merges into existing values and overwrites scalars', () => {
    const base = { outer: { a: 'x', b: 'y' }, list: ['p', 'q'] };
    parseInto('outer.a=z,list[1]=r', base);
    assert.deepEqual(base, { outer: { a: 'z', b: 'y' }, list: ['p', 'r'] });
  });
});

describe('strvals --set-string, --set-file, --set-json, --set-literal', () => {
  it('keeps every value a string', () => {
    assert.deepEqual(parseIntoString('a=1,b=true,c=null,d={1,2}'), { a: '1', b: 'true', c: 'null', d: ['1', '2'] });
  });
  it('reads file content for --set-file', () => {
    const got = parseIntoFile('cfg=path/one,list[0]=two', {}, (p) => `content of ${p}`);
    assert.deepEqual(got, { cfg: 'content of path/one', list: ['content of two'] });
  });
  it('decodes JSON values (numbers are float64)', () => {
    assert.deepEqual(parseJson('outer.inner1={"key1":"value1","n":3},outer.inner2=[1,"x"]'), { outer: { inner1: { key1: 'value1', n: 3 }, inner2: [1, 'x'] } });
    assert.deepEqual(parseJson('a=null'), { a: null });
    assert.deepEqual(parseJson('a='), { a: null });
    assert.deepEqual(parseJson('list[0]={"a":1}'), { list: [{ a: 1 }] });
    assert.deepEqual(parseJson('s="a,b",t=true'), { s: 'a,b', t: true });
    assert.throws(() => parseJson('a={bad'));
  });
  it('keeps a literal value whole', () => {
    assert.deepEqual(parseLiteralInto('a.b=x,y={z}\\n'), { a: { b: 'x,y={z}\\n' } });
  });
});
