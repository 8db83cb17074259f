/**
 * @module The t_* test functions of the template oracle (test/helm-oracle/main.go) as GoFuncs,
 * so the engine and Go's text/template run the same templates with the same typed functions.
 */
import { GoError, GoTyped, goFunc, goMethods, goTypeName, goTypeString, sprint, typedGo, type GoFunc, type GoObject, type GoValue } from '../../src/helm/template/index.js';

function inner(value: string, num: bigint, pointer: boolean): GoObject {
  const o: GoObject = { Value: value, Num: num };
  o[goTypeName] = pointer ? '*main.Inner' : 'main.Inner';
  o[goMethods] = { Hello: goFunc(['string'], (name: string) => `hello ${name} from ${value}`, { result: 'string' }) };
  return o;
}

function thing(): GoObject {
  const o: GoObject = {
    Name: 'widget',
    Count: 3n,
    Ratio: 0.5,
    On: true,
    Tags: typedGo(['a', 'b'], 'string'),
    Labels: typedGo({ z: '1', a: '2' }, 'string'),
    Inner: inner('in', 7n, false),
    Ptr: inner('ptr', 8n, true),
    Nil: null,
    Any: null,
  };
  o[goTypeName] = '*main.Thing';
  o[goMethods] = {
    Upper: goFunc([], () => 'WIDGET', { result: 'string' }),
    Add: goFunc(['int', 'int'], (a: bigint, b: bigint) => a + b, { result: 'int' }),
    Fail: goFunc([], () => {
      throw new GoError('thing failed');
    }, { result: 'string' }),
    Join: goFunc(['string'], (sep: string, ...parts: string[]) => parts.join(sep), { variadic: 'string', result: 'string' }),
  };
  return o;
}

export const oracleTestFuncs: Record<string, GoFunc> = {
  t_int: goFunc(['int'], (i: bigint) => BigInt.asIntN(64, i * 2n), { result: 'int' }),
  t_int64: goFunc(['int64'], (i: GoTyped) => new GoTyped('int64', BigInt.asIntN(64, (i.value as bigint) + 1n)), { result: 'int64' }),
  t_uint32: goFunc(['uint32'], (i: GoTyped) => i, { result: 'uint32' }),
  t_float: goFunc(['float64'], (f: number) => f / 2, { result: 'float64' }),
  t_str: goFunc(['string'], (s: string) => `<${s}>`, { result: 'string' }),
  t_bool: goFunc(['bool'], (b: boolean) => !b, { result: 'bool' }),
  t_any: goFunc(['interface{}'], (v: GoValue) => goTypeString(v), { result: 'string' }),
  t_strs: goFunc(['[]string'], (s: string[]) => (s ?? []).join('+'), { result: 'string' }),
  t_list: goFunc(['[]interface{}'], (l: GoValue[]) => BigInt((l ?? []).length), { result: 'int' }),
  t_map: goFunc(['map[string]interface{}'], (m: GoObject) => Object.keys(m ?? {}).sort().join(','), { result: 'string' }),
  t_bytes: goFunc(['string'], (s: string) => new Uint8Array(Buffer.from(s, 'utf8')), { result: '[]byte' }),
  t_err: goFunc(['string'], (s: string) => {
    if (s === '') return 'ok';
    throw new GoError(s);
  }, { result: 'string' }),
  t_vari: goFunc(['string'], (p: string, ...n: bigint[]) => sprint([p, typedGo(n, 'int')]), { variadic: 'int', result: 'string' }),
  t_varany: goFunc([], (...v: GoValue[]) => BigInt(v.length), { variadic: 'interface{}', result: 'int' }),
  t_nilmap: goFunc([], () => null, { result: 'map[string]interface{}' }),
  t_nil: goFunc([], () => null, { result: 'interface{}' }),
  t_toint64: goFunc(['float64'], (f: number) => new GoTyped('int64', BigInt(Math.trunc(f))), { result: 'int64' }),
  t_touint: goFunc(['float64'], (f: number) => new GoTyped('uint', BigInt(Math.trunc(f))), { result: 'uint' }),
  t_toint: goFunc(['float64'], (f: number) => BigInt(Math.trunc(f)), { result: 'int' }),
  t_tof32: goFunc(['float64'], (f: number) => new GoTyped('float32', Math.fround(f)), { result: 'float32' }),
  t_fn: goFunc([], () => goFunc(['string'], (s: string) => 'fn:' + s, { result: 'string' }), { result: 'func(string) string' }),
  t_fnerr: goFunc([], () => goFunc([], () => {
    throw new GoError('fn failed');
  }, { result: 'int' }), { result: 'func() (int, error)' }),
  t_thing: goFunc([], thing, { result: '*main.Thing' }),
  t_panic: goFunc([], () => {
    throw new Error('boom');
  }, { result: 'string' }),
};
