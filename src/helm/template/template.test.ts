/**
 * @module Golden tests of the text/template engine: one case per construct and predefined
 * function of Go's text/template documentation, with Go's output or error message, and the
 * TemplateSet API (re-entrant functions, clone, redefinition, options).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GoError, GoTyped, TemplateError, TemplateSet, goFunc, goMethods, goTypeName, type GoFunc, type GoObject, type GoValue } from './index.js';

function render(text: string, data: GoValue = null, opts: { missingKey?: 'default' | 'zero' | 'error'; funcs?: Record<string, GoFunc> } = {}): string {
  return new TemplateSet(opts).parse('t', text).execute('t', data);
}

function renderError(text: string, data: GoValue = null, opts: { missingKey?: 'default' | 'zero' | 'error'; funcs?: Record<string, GoFunc> } = {}): string {
  try {
    render(text, data, opts);
  } catch (e) {
    assert.ok(e instanceof TemplateError, `not a TemplateError: ${e}`);
    return e.message;
  }
  assert.fail(`no error for ${text}`);
}

type Golden = [name: string, text: string, data: GoValue, want: string];

const constructs: Golden[] = [
  ['text', 'plain text', null, 'plain text'],
  ['comment', 'a{{/* comment */}}b', null, 'ab'],
  ['trim markers', 'a  {{- 1 -}}  b', null, 'a1b'],
  ['trim newlines', 'a\n\t{{- "x" -}}\n\tb', null, 'axb'],
  ['trimmed comment', 'a {{- /* c */ -}} b', null, 'ab'],
  ['minus is a number without space', '{{-3}}', null, '-3'],
  ['dot', '{{ . }}', 'hi', 'hi'],
  ['field', '{{ .a.b }}', { a: { b: 'deep' } }, 'deep'],
  ['missing key default', '{{ .nope }}', {}, '<no value>'],
  ['nil value', '{{ .a }}', { a: null }, '<no value>'],
  ['variable', '{{ $x := "v" }}{{ $x }}', null, 'v'],
  ['assignment', '{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}', null, '2'],
  ['declaration scoped to if', '{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ end }}{{ $x }}', null, '1'],
  ['dollar', '{{ range .l }}{{ $.p }}{{ . }}{{ end }}', { l: ['a', 'b'], p: '-' }, '-a-b'],
  ['pipeline', '{{ "x" | printf "%s%s" "y" }}', null, 'yx'],
  ['parenthesized', '{{ printf "%d" (len "abc") }}', null, '3'],
  ['chained paren field', '{{ (.a).b }}', { a: { b: 'c' } }, 'c'],
  ['if', '{{ if .a }}yes{{ end }}', { a: 1 }, 'yes'],
  ['if else', '{{ if .a }}yes{{ else }}no{{ end }}', { a: 0 }, 'no'],
  ['else if', '{{ if eq .n "1" }}one{{ else if eq .n "2" }}two{{ else }}many{{ end }}', { n: '2' }, 'two'],
  ['data numbers are float64', '{{ eq .n 2.0 }} {{ printf "%T" .n }}', { n: 2 }, 'true float64'],
  ['with', '{{ with .m }}{{ .k }}{{ end }}', { m: { k: 'v' } }, 'v'],
  ['with else', '{{ with .m }}x{{ else }}empty{{ end }}', { m: {} }, 'empty'],
  ['else with (Go 1.23)', '{{ with .a }}a{{ else with .b }}b={{ . }}{{ else }}none{{ end }}', { b: 2 }, 'b=2'],
  ['range list', '{{ range $i, $v := .l }}{{ $i }}={{ $v }} {{ end }}', { l: ['a', 'b'] }, '0=a 1=b '],
  ['range map in key order', '{{ range $k, $v := . }}{{ $k }}{{ $v }}{{ end }}', { b: 2, a: 1, C: 3 }, 'C3a1b2'],
  ['range else', '{{ range .l }}x{{ else }}none{{ end }}', { l: [] }, 'none'],
  ['range integer (Go 1.22)', '{{ range 3 }}{{ . }}{{ end }}', null, '012'],
  ['range integer var', '{{ range $i := 2 }}[{{ $i }}]{{ end }}', null, '[0][1]'],
  ['break', '{{ range .l }}{{ if eq . "b" }}{{ break }}{{ end }}{{ . }}{{ end }}', { l: ['a', 'b', 'c'] }, 'a'],
  ['continue', '{{ range .l }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ . }}{{ end }}', { l: ['a', 'b', 'c'] }, 'ac'],
  ['define and template', '{{ define "x" }}<{{ . }}>{{ end }}{{ template "x" "a" }}', null, '<a>'],
  ['template without pipeline gets nil', '{{ define "x" }}{{ . }}{{ end }}{{ template "x" }}', { a: 1 }, '<no value>'],
  ['block', '{{ block "b" .a }}[{{ . }}]{{ end }}', { a: 1 }, '[1]'],
  ['numbers', '{{ 42 }} {{ -1.5 }} {{ 0x1F }} {{ 1e3 }} {{ \'a\' }}', null, '42 -1.5 31 1000 97'],
  ['strings', '{{ "a\\tb" }} {{ `raw\\n` }}', null, 'a\tb raw\\n'],
  ['print values as fmt', '{{ .l }} {{ .m }} {{ .f }}', { l: [1, 'a', true, null], m: { b: 1, a: [2] }, f: 1e21 }, '[1 a true <nil>] map[a:[2] b:1] 1e+21'],
];

const functions: Golden[] = [
  ['and', '{{ and 1 0 2 }} {{ and 1 2 }}', null, '0 2'],
  ['and short-circuits', '{{ and false (index nil 0) }}', null, 'false'],
  ['or', '{{ or 0 "" "x" }} {{ or 0 "" }}', null, 'x '],
  ['not', '{{ not 0 }} {{ not "a" }}', null, 'true false'],
  ['len', '{{ len "héllo" }} {{ len .l }} {{ len .m }}', { l: [1, 2], m: { a: 1 } }, '6 2 1'],
  ['index', '{{ index .l 1 }} {{ index .m "k" }} {{ index .n 0 "x" }}', { l: ['a', 'b'], m: { k: 'v' }, n: [{ x: 'y' }] }, 'b v y'],
  ['index missing map key', '[{{ index .m "nope" }}]', { m: {} }, '[<no value>]'],
  ['slice', '{{ slice .l 1 }} {{ slice .l 0 1 }} {{ slice "hello" 1 3 }}', { l: ['a', 'b', 'c'] }, '[b c] [a] el'],
  ['eq', '{{ eq 1 1 }} {{ eq "a" "b" "a" }} {{ eq .n 1.0 }}', { n: 1 }, 'true true true'],
  ['ne', '{{ ne 1 2 }}', null, 'true'],
  ['lt le gt ge', '{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}', null, 'true true true false'],
  ['int and uint compare', '{{ lt -1 t_u }} {{ eq 1 t_u }}', null, 'true true'],
  ['print', '{{ print "a" 1 2 "b" }}', null, 'a1 2b'],
  ['printf', '{{ printf "%s=%d %q %5.1f" "n" 3 "q" 3.14159 }}', null, 'n=3 "q"   3.1'],
  ['println', '{{ println "a" 1 }}', null, 'a 1\n'],
  ['html', '{{ html "<a href=\\"x\\">\'&\'</a>" }}', null, '&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;'],
  ['js', '{{ js "it\'s <b>" }}', null, "it\\'s \\u003Cb\\u003E"],
  ['urlquery', '{{ urlquery "a b&c" }}', null, 'a+b%26c'],
  ['call', '{{ call .f "x" }}', { f: goFunc(['string'], (s: string) => s + '!', { result: 'string' }) }, 'x!'],
];

const errors: Golden[] = [
  ['unclosed action', 'a {{ .a', null, 'template: t:1: unclosed action'],
  ['unexpected end', '{{ end }}', null, 'template: t:1: unexpected {{end}}'],
  ['missing end', '{{ if 1 }}', null, 'template: t:1: unexpected EOF'],
  ['missing value for if', '{{ if }}{{ end }}', null, 'template: t:1: missing value for if'],
  ['undefined function', '{{ nope }}', null, 'template: t:1: function "nope" not defined'],
  ['undefined variable', '{{ $x }}', null, 'template: t:1: undefined variable "$x"'],
  ['non executable command', '{{ 1 | 2 }}', null, 'template: t:1: non executable command in pipeline stage 2'],
  ['bad number', '{{ 3k }}', null, 'template: t:1: bad number syntax: "3k"'],
  ['break outside range', '{{ break }}', null, 'template: t:1: {{break}} outside {{range}}'],
  ['multiple definition', '{{ define "x" }}a{{ end }}{{ define "x" }}b{{ end }}', null, 'template: t:1: template: multiple definition of template "x"'],
  ['error line', 'a\nb\n{{ if }}', null, 'template: t:3: missing value for if'],
  ['nil pointer', '{{ .a.b }}', { a: null }, 'template: t:1:5: executing "t" at <.a.b>: nil pointer evaluating interface {}.b'],
  ['field of string', '{{ .a.b }}', { a: 's' }, 'template: t:1:5: executing "t" at <.a.b>: can\'t evaluate field b in type interface {}'],
  ['column in bytes', 'é {{ .a.b }}', { a: 's' }, 'template: t:1:8: executing "t" at <.a.b>: can\'t evaluate field b in type interface {}'],
  ['wrong type', '{{ printf .n }}', { n: 1 }, 'template: t:1:10: executing "t" at <.n>: wrong type for value; expected string; got float64'],
  ['expected string constant', '{{ printf 1 }}', null, 'template: t:1:10: executing "t" at <1>: expected string; found 1'],
  ['wrong number of args', '{{ not 1 2 }}', null, 'template: t:1:3: executing "t" at <not>: wrong number of args for not: want 1 got 2'],
  ['error calling', '{{ index .l 5 }}', { l: [1] }, 'template: t:1:3: executing "t" at <index .l 5>: error calling index: index out of range: 5'],
  ['incompatible comparison', '{{ eq "1" 1 }}', null, 'template: t:1:3: executing "t" at <eq "1" 1>: error calling eq: incompatible types for comparison'],
  ['float64 value with int constant', '{{ eq .n 1 }}', { n: 1 }, 'template: t:1:3: executing "t" at <eq .n 1>: error calling eq: incompatible types for comparison'],
  ['lt on bool', '{{ lt true false }}', null, 'template: t:1:3: executing "t" at <lt true false>: error calling lt: invalid type for comparison'],
  ['range over string', '{{ range "s" }}{{ end }}', null, 'template: t:1:9: executing "t" at <"s">: range can\'t iterate over s'],
  ['template not defined', '{{ template "x" }}', null, 'template: t:1:12: executing "t" at <{{template "x"}}>: template "x" not defined'],
  ['nil is not a command', '{{ nil }}', null, 'template: t:1:3: executing "t" at <nil>: nil is not a command'],
  ['argument to non-function', '{{ 1 2 }}', null, 'template: t:1:3: executing "t" at <1>: can\'t give argument to non-function 1'],
  ['cannot assign nil', '{{ printf nil }}', null, 'template: t:1:10: executing "t" at <nil>: cannot assign nil to string'],
  ['invalid value', '{{ printf .nope }}', {}, 'template: t:1:10: executing "t" at <.nope>: invalid value; expected string'],
  ['runaway recursion', '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}', null, 'template: t:1:28: executing "r" at <{{template "r" .}}>: exceeded maximum template depth (100000)'],
];

const funcs = { t_u: goFunc([], () => new GoTyped('uint', 1n), { result: 'uint' }) };

describe('text/template constructs', () => {
  for (const [name, text, data, want] of constructs) it(name, () => assert.equal(render(text, data), want));
});

describe('text/template functions', () => {
  for (const [name, text, data, want] of functions) it(name, () => assert.equal(render(text, data, { funcs }), want));
});

describe('text/template errors', () => {
  for (const [name, text, data, want] of errors) it(name, () => assert.equal(renderError(text, data), want));
});

describe('missingkey', () => {
  it('zero gives the zero value of the map element (nil interface)', () => {
    assert.equal(render('[{{ .nope }}]', {}, { missingKey: 'zero' }), '[<no value>]');
    assert.equal(renderError('{{ .nope.x }}', {}, { missingKey: 'zero' }), 'template: t:1:8: executing "t" at <.nope.x>: nil pointer evaluating interface {}.x');
  });
  it('error reports the missing key', () => {
    assert.equal(renderError('{{ .a.nope }}', { a: {} }, { missingKey: 'error' }), 'template: t:1:5: executing "t" at <.a.nope>: map has no entry for key "nope"');
    assert.equal(renderError('{{ .a }}', null, { missingKey: 'error' }), 'template: t:1:3: executing "t" at <.a>: nil data; no entry for key "a"');
  });
  it('can change between executions', () => {
    const s = new TemplateSet().parse('t', '{{ .x }}');
    assert.equal(s.execute('t', {}), '<no value>');
    s.missingKey = 'error';
    assert.throws(() => s.execute('t', {}), /map has no entry for key "x"/);
  });
});

describe('functions and values', () => {
  it('converts arguments as Go reflection does and reports Go errors of functions', () => {
    const f = {
      double: goFunc(['int'], (i: bigint) => i * 2n, { result: 'int' }),
      fails: goFunc(['string'], (s: string) => {
        throw new GoError(`bad ${s}`);
      }, { result: 'string' }),
      join: goFunc(['string'], (sep: string, ...xs: GoValue[]) => xs.join(sep), { variadic: 'interface{}', result: 'string' }),
    };
    assert.equal(render('{{ double 21 }} {{ 4 | double }}', null, { funcs: f }), '42 8');
    assert.equal(renderError('{{ double 1.5 }}', null, { funcs: f }), 'template: t:1:10: executing "t" at <1.5>: expected integer; found 1.5');
    assert.equal(renderError('{{ double .n }}', { n: 1 }, { funcs: f }), 'template: t:1:10: executing "t" at <.n>: wrong type for value; expected int; got float64');
    assert.equal(renderError('{{ fails "x" }}', null, { funcs: f }), 'template: t:1:3: executing "t" at <fails "x">: error calling fails: bad x');
    assert.equal(render('{{ join "-" 1 "a" true }}', null, { funcs: f }), '1-a-true');
    assert.equal(renderError('{{ join }}', null, { funcs: f }), 'template: t:1:3: executing "t" at <join>: wrong number of args for join: want at least 1 got 0');
  });

  it('evaluates struct fields and methods; methods win over fields and map keys', () => {
    const files: GoObject = { 'a.txt': 'x' };
    files[goMethods] = { Get: goFunc(['string'], (n: string) => `content of ${n}`, { result: 'string' }) };
    const chart: GoObject = { Name: 'c', Version: '1.0.0', lower: 'hidden' };
    chart[goTypeName] = '*chart.Metadata';
    const data = { Files: files, Chart: chart };
    assert.equal(render('{{ .Files.Get "a.txt" }} {{ .Chart.Name }}-{{ .Chart.Version }}', data), 'content of a.txt c-1.0.0');
    // A map element is an interface{} value, a pipeline result its dynamic type.
    assert.equal(renderError('{{ .Chart.Nope }}', data), 'template: t:1:9: executing "t" at <.Chart.Nope>: can\'t evaluate field Nope in type interface {}');
    assert.equal(renderError('{{ with .Chart }}{{ .Nope }}{{ end }}', data), 'template: t:1:20: executing "t" at <.Nope>: can\'t evaluate field Nope in type *chart.Metadata');
    assert.equal(renderError('{{ .Chart.lower }}', data), 'template: t:1:9: executing "t" at <.Chart.lower>: lower is an unexported field of struct type interface {}');
  });

  it('lets functions override builtins and re-enter the set while it executes', () => {
    const set = new TemplateSet({ name: 'gotpl' });
    set.addFuncs({
      include: goFunc(['string', 'interface{}'], (name: string, data: GoValue) => set.execute(name, data), { result: 'string' }),
      len: goFunc(['interface{}'], () => 'mine', { result: 'string' }),
    });
    set.parse('_helpers.tpl', '{{ define "name" }}{{ .n }}-{{ include "suffix" . }}{{ end }}{{ define "suffix" }}sfx{{ end }}');
    set.parse('t', '{{ include "name" . | printf "[%s]" }} {{ len 1 }}');
    assert.equal(set.execute('t', { n: 'x' }), '[x-sfx] mine');
    assert.equal(
      (() => {
        try {
          set.parse('bad', '{{ include "name" 3 }}').execute('bad', null);
        } catch (e) {
          return (e as Error).message;
        }
      })(),
      'template: bad:1:3: executing "bad" at <include "name" 3>: error calling include: template: _helpers.tpl:1:22: executing "name" at <.n>: can\'t evaluate field n in type int',
    );
  });

  it('clone gets its own templates and functions (for tpl)', () => {
    const set = new TemplateSet({ missingKey: 'zero', name: 'gotpl' }).parse('a', '{{ define "x" }}X{{ end }}');
    const c = set.clone();
    c.addFuncs({ extra: goFunc([], () => 'E', { result: 'string' }) });
    c.parse('gotpl', '{{ template "x" }}{{ extra }}{{ .nope }}');
    assert.equal(c.execute('gotpl', {}), 'XE<no value>');
    assert.equal(c.missingKey, 'zero');
    assert.equal(set.has('gotpl'), false);
    assert.throws(() => set.parse('b', '{{ extra }}'), /function "extra" not defined/);
  });

  it('keeps a template with content when a later parse redefines it empty, replaces it otherwise', () => {
    const set = new TemplateSet();
    set.parse('a', '{{ define "x" }}A{{ end }}').parse('b', '{{ define "x" }}{{ end }}');
    assert.equal(set.parse('t', '{{ template "x" }}').execute('t', null), 'A');
    set.parse('c', '{{ define "x" }}C{{ end }}');
    assert.equal(set.execute('t', null), 'C');
    assert.deepEqual(set.names().sort(), ['a', 'b', 'c', 't', 'x']);
  });

  it('reports an unknown template with the set name', () => {
    const set = new TemplateSet({ name: 'gotpl' });
    assert.throws(() => set.execute('nope', null), { message: 'template: no template "nope" associated with template "gotpl"' });
  });

  it('reports nesting beyond the JavaScript stack as a template error', () => {
    const deep = '{{ if true }}'.repeat(20000) + 'x' + '{{ end }}'.repeat(20000);
    assert.throws(() => new TemplateSet().parse('deep', deep), { name: 'TemplateError', message: 'template: deep: actions nested too deeply to parse' });
  });

  it('rejects invalid function names', () => {
    assert.throws(() => new TemplateSet().addFuncs({ 'a-b': goFunc([], () => 1n) }), /function name "a-b" is not a valid identifier/);
  });
});
