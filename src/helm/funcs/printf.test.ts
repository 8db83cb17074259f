/** @module Golden tests of Go's fmt through the template engine's printf: expected strings are Go 1.19's output for the same templates. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateSet } from '../template/index.js';
import { helmFuncMap } from './index.js';

/** [format, template arguments, Go's output]. */
const cases: [string, string, string][] = [
  ["%v", "1000000.0", "1e+06"],
  ["%v", "100000.0", "100000"],
  ["%v", "123456789.0", "1.23456789e+08"],
  ["%v", "0.000012345", "1.2345e-05"],
  ["%v", "-0.0", "-0"],
  ["%v", "1e21", "1e+21"],
  ["%v", "3.14", "3.14"],
  ["%v", "(list 1 \"a\" nil 2.5)", "[1 a <nil> 2.5]"],
  ["%v", "(dict \"b\" 2 \"a\" \"x\" \"c\" nil)", "map[a:x b:2 c:<nil>]"],
  ["%+v", "(dict \"b\" 2)", "map[b:2]"],
  ["%#v", "(dict \"b\" 2 \"a\" (list 1 nil \"s\"))", "map[string]interface {}{\"a\":[]interface {}{1, interface {}(nil), \"s\"}, \"b\":2}"],
  ["%d", "\"hi\"", "%!d(string=hi)"],
  ["%d", "nil", "%!d(<nil>)"],
  ["%s", "42", "%!s(int=42)"],
  ["%s", "(list 1 \"a\")", "[%!s(int=1) a]"],
  ["%x", "\"hi\"", "6869"],
  ["%X", "255", "FF"],
  ["%#x", "255", "0xff"],
  ["%#o", "8", "010"],
  ["%O", "8", "0o10"],
  ["%b", "5", "101"],
  ["%c", "65", "A"],
  ["%U", "233", "U+00E9"],
  ["%#U", "233", "U+00E9 'é'"],
  ["%q", "65", "'A'"],
  ["%q", "\"\u00e9\\n\\t\\\"x\"", "\"é\\n\\t\\\"x\""],
  ["%+q", "\"h\u00e9llo\"", "\"h\\u00e9llo\""],
  ["%#q", "\"raw\"", "`raw`"],
  ["%e", "1234.5678", "1.234568e+03"],
  ["%E", "1000000.0", "1.000000E+06"],
  ["%.2f", "3.14159", "3.14"],
  ["%8.3f|", "3.14159", "   3.142|"],
  ["%-8.3f|", "3.14159", "3.142   |"],
  ["%08.3f", "-3.14159", "-003.142"],
  ["%+.1e", "3.14159", "+3.1e+00"],
  ["%g", "0.000012345", "1.2345e-05"],
  ["%G", "1e21", "1E+21"],
  ["%.0f", "2.5", "2"],
  ["%.0f", "3.5", "4"],
  ["%.2f", "0.125", "0.12"],
  ["%.3g", "3.14159", "3.14"],
  ["%#g", "1.0", "1.00000"],
  ["%.20f", "0.1", "0.10000000000000000555"],
  ["%x", "1.0", "0x1p+00"],
  ["%b", "1.0", "4503599627370496p-52"],
  ["%t", "true", "true"],
  ["%t", "1", "%!t(int=1)"],
  ["%5d|", "42", "   42|"],
  ["%-5d|", "-42", "-42  |"],
  ["%05d", "-42", "-0042"],
  ["%+d", "42", "+42"],
  ["% d", "42", " 42"],
  ["%.4d", "42", "0042"],
  ["%5s|", "\"ab\"", "   ab|"],
  ["%-5s|", "\"ab\"", "ab   |"],
  ["%05s", "\"ab\"", "000ab"],
  ["%.1s", "\"xyz\"", "x"],
  ["%5v", "(list 1 2)", "[    1     2]"],
  ["%T", "1", "int"],
  ["%T", "1.5", "float64"],
  ["%T", "\"s\"", "string"],
  ["%T", "(list)", "[]interface {}"],
  ["%T", "(dict)", "map[string]interface {}"],
  ["%T", "nil", "<nil>"],
  ["%T", "(int64 1)", "int64"],
  ["%f", "1", "%!f(int=1)"],
  ["%z", "1", "%!z(int=1)"],
  ["%!", "1", "%!!(int=1)"],
  ["%", "1", "%!(NOVERB)%!(EXTRA int=1)"],
  ["%d %d", "1", "1 %!d(MISSING)"],
  ["%[2]d %[1]d", "1 2", "2 1"],
  ["%[3]d", "1", "%!d(BADINDEX)"],
  ["%*d", "5 7", "    7"],
  ["%.*f", "2 3.14159", "3.14"],
  ["%-*d|", "4 7", "7   |"],
  ["%d", "1 \"a\" nil 2.5", "1%!(EXTRA string=a, <nil>, float64=2.5)"],
  ["% x", "\"hi\"", "68 69"],
  ["%10.3v|", "\"hello\"", "       hel|"],
  ["%6.2v", "3.14159", "   3.1"],
  ["%v", "(int64 -7)", "-7"],
];

describe('printf as Go prints', () => {
  const funcs = helmFuncMap();
  it(`formats ${cases.length} verb/flag/argument combinations`, () => {
    const bad: string[] = [];
    for (const [format, args, want] of cases) {
      const t = `{{ printf ${JSON.stringify(format)} ${args} }}`;
      const got = new TemplateSet({ funcs }).parse('t', t).execute('t', null);
      if (got !== want) bad.push(`${t}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    assert.deepEqual(bad, []);
  });
});
