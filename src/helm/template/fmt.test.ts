/** @module Golden tests of fmt.ts against Go 1.19's fmt (expected strings printed by Go for the same values). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloat, formatValue, goKindString, goQuote, goTypeString, sprint, sprintf, sprintln } from './fmt.js';
import { GoTyped, goFunc, goMethods, goTypeName, typedGo, type GoObject } from './values.js';

describe('fmt', () => {
  it('prints values with %v as fmt.Sprint does', () => {
    assert.equal(formatValue(null), '<nil>');
    assert.equal(formatValue(3n), '3');
    assert.equal(formatValue(1e6), '1e+06');
    assert.equal(formatValue(100000), '100000');
    assert.equal(formatValue(123456789), '1.23456789e+08');
    assert.equal(formatValue(0.1), '0.1');
    assert.equal(formatValue(-0), '-0');
    assert.equal(formatValue(1e21), '1e+21');
    assert.equal(formatValue(1e-5), '1e-05');
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(new GoTyped('float32', 0.1)), '0.1');
    assert.equal(formatValue(new GoTyped('uint8', 200n)), '200');
    assert.equal(formatValue(['a', 1n, null, [true]]), '[a 1 <nil> [true]]');
    assert.equal(formatValue({ b: 1n, a: 'x', c: { z: null } }), 'map[a:x b:1 c:map[z:<nil>]]');
    assert.equal(formatValue(new Uint8Array([104, 105])), '[104 105]');
    const s: GoObject = { Name: 'n', Count: 2n };
    s[goTypeName] = 'main.T';
    assert.equal(formatValue(s), '{n 2}');
    assert.equal(sprintf('%+v', [s]), '{Name:n Count:2}');
    assert.equal(sprintf('%#v', [s]), 'main.T{Name:"n", Count:2}');
    const p: GoObject = { A: 1n };
    p[goTypeName] = '*main.P';
    assert.equal(formatValue(p), '&{1}');
  });

  it('uses String() of Stringers for v s q x', () => {
    const v: GoObject = {};
    v[goTypeName] = '*semver.Version';
    v[goMethods] = { String: goFunc([], () => '1.2.3', { result: 'string' }) };
    assert.equal(sprintf('%v %s %q %x', [v, v, v, v]), '1.2.3 1.2.3 "1.2.3" 312e322e33');
  });

  it('formats verbs, flags, width and precision like Go', () => {
    assert.equal(sprintf('%d|%5d|%-5d|%05d|%+d|% d|%.4d|%x|%X|%#x|%o|%#o|%O|%b|%c|%U|%#U|%q', [42n, 42n, 42n, -42n, 42n, 42n, 42n, 255n, 255n, 255n, 8n, 8n, 8n, 5n, 65n, 233n, 233n, 65n]), "42|   42|42   |-0042|+42| 42|0042|ff|FF|0xff|10|010|0o10|101|A|U+00E9|U+00E9 'é'|'A'");
    assert.equal(sprintf('%e|%E|%f|%.2f|%8.3f|%-8.3f|%08.3f|%+.1e|%g|%G|%.3g|%#g', [1234.5678, 1e6, 3.14159, 3.14159, 3.14159, 3.14159, -3.14159, 3.14159, 1.2345e-5, 1e21, 3.14159, 1]), '1.234568e+03|1.000000E+06|3.141590|3.14|   3.142|3.142   |-003.142|+3.1e+00|1.2345e-05|1E+21|3.14|1.00000');
    assert.equal(sprintf('%.0f %.0f %.2f %.20f', [2.5, 3.5, 0.125, 0.1]), '2 4 0.12 0.10000000000000000555');
    assert.equal(sprintf('%s|%5s|%-5s|%05s|%.1s|%q|%+q|%#q|%x|% x|%X', ['s', 'ab', 'ab', 'ab', 'xyz', 'é\n', 'é', 'raw', 'hi', 'hi', 'hi']), 's|   ab|ab   |000ab|x|"é\\n"|"\\u00e9"|`raw`|6869|68 69|6869');
    assert.equal(sprintf('%t %v', [true, false]), 'true false');
    assert.equal(sprintf('%*d|%-*d|%.*f', [5n, 7n, 4n, 7n, 2n, 3.14159]), '    7|7   |3.14');
    assert.equal(sprintf('%[2]d %[1]d', [1n, 2n]), '2 1');
    assert.equal(sprintf('%5v', [[1n, 2n]]), '[    1     2]');
    assert.equal(sprintf('%x', [1]), '0x1p+00');
    assert.equal(sprintf('%6.2v', [3.14159]), '   3.1');
  });

  it('reports bad verbs, missing and extra arguments as Go does', () => {
    assert.equal(sprintf('%d', ['hi']), '%!d(string=hi)');
    assert.equal(sprintf('%d', [null]), '%!d(<nil>)');
    assert.equal(sprintf('%s', [42n]), '%!s(int=42)');
    assert.equal(sprintf('%s', [[1n, 'a']]), '[%!s(int=1) a]');
    assert.equal(sprintf('%f', [1n]), '%!f(int=1)');
    assert.equal(sprintf('%z', [1n]), '%!z(int=1)');
    assert.equal(sprintf('%d %d', [1n]), '1 %!d(MISSING)');
    assert.equal(sprintf('%d', [1n, 'a', null, 2.5]), '1%!(EXTRA string=a, <nil>, float64=2.5)');
    assert.equal(sprintf('%!', [1n]), '%!!(int=1)');
    assert.equal(sprintf('%', []), '%!(NOVERB)');
    assert.equal(sprintf('%[3]d', [1n]), '%!d(BADINDEX)');
    assert.equal(sprintf('%*d', ['x', 1n]), '%!(BADWIDTH)1');
    assert.equal(sprintf('%5d', ['hi']), '%!d(string=   hi)');
  });

  it('names types as %T and reflect do', () => {
    assert.equal(goTypeString(1n), 'int');
    assert.equal(goTypeString(1.5), 'float64');
    assert.equal(goTypeString(null), '<nil>');
    assert.equal(goTypeString([]), '[]interface {}');
    assert.equal(goTypeString({}), 'map[string]interface {}');
    assert.equal(goTypeString(typedGo(['a'], 'string')), '[]string');
    assert.equal(goTypeString(typedGo({ a: 'b' }, 'string')), 'map[string]string');
    assert.equal(goTypeString(new GoTyped('int64', 1n)), 'int64');
    assert.equal(goTypeString(new Uint8Array()), '[]uint8');
    assert.equal(goTypeString(goFunc(['string'], () => '', { variadic: 'interface{}', result: 'string' })), 'func(string, ...interface {}) string');
    assert.equal(sprintf('%T %T', [true, 'x']), 'bool string');
    assert.equal(goKindString(null), 'invalid');
    assert.equal(goKindString([]), 'slice');
    assert.equal(goKindString({}), 'map');
  });

  it('Sprint spaces operands unless one is a string; Sprintln always', () => {
    assert.equal(sprint([1n, 2n, 'a', 'b', 3n, null, 4.5]), '1 2ab3 <nil> 4.5');
    assert.equal(sprintln([1n, 'a', null]), '1 a <nil>\n');
  });

  it('quotes and formats floats as strconv does', () => {
    assert.equal(goQuote('a\u0001\u00a0\u2028😀"\\'), '"a\\x01\\u00a0\\u2028😀\\"\\\\"');
    assert.equal(goQuote('é', '"', true), '"\\u00e9"');
    assert.equal(formatFloat(0.1, 'f', -1), '0.1');
    assert.equal(formatFloat(1e21, 'f', -1), '1000000000000000000000');
    assert.equal(formatFloat(2.675, 'f', 2), '2.67');
    assert.equal(formatFloat(1.5, 'e', 0), '2e+00');
    assert.equal(formatFloat(5e-324, 'g', -1), '5e-324');
    assert.equal(formatFloat(1.7976931348623157e308, 'g', -1), '1.7976931348623157e+308');
  });
});
