/**
 * @module The Go value model the template engine and its function library share. Go's
 * dynamic values map onto JavaScript like this:
 *
 * | Go                                  | here                                            |
 * | ----------------------------------- | ----------------------------------------------- |
 * | nil (untyped, nil map/slice/pointer) | `null` (`undefined` is read as nil too)         |
 * | bool, string                        | boolean, string                                 |
 * | int (template integer constants, len) | bigint                                        |
 * | int64, int32, uint, uint8, float32… | `GoTyped` ({ type: 'int64', value: 3n })        |
 * | float64 (float constants; every number decoded from YAML/JSON values, as Helm decodes them) | number |
 * | []interface{}                       | Array                                           |
 * | []byte                              | Uint8Array                                      |
 * | map[string]interface{}              | plain object without `goTypeName`               |
 * | struct / *struct (.Chart, .Release…)| plain object carrying `[goTypeName]` (field lookups of missing fields are errors) |
 * | methods (.Files.Get, .Capabilities.APIVersions.Has) | `[goMethods]`: name → GoFunc          |
 * | func                                | GoFunc                                          |
 * | []string, map[string]string…        | Array/object tagged with typedGo(v, 'string')   |
 *
 * As in Go, elements read from an untagged map or slice are interface{} values inside the
 * engine: a nil element fails field access with "nil pointer evaluating interface {}.x" and
 * error messages name the type "interface {}"; tagged containers yield their element type
 * (a missing key of a map[string]string is "" under missingkey=zero).
 */

/** The Go type name of a struct-like object, e.g. '*chart.Metadata'. */
export const goTypeName: unique symbol = Symbol('goTypeName');
/** Methods of a Go value, callable as `.Obj.Method arg…`. */
export const goMethods: unique symbol = Symbol('goMethods');

/** A Go number of a type other than int (bigint) and float64 (number). */
export class GoTyped {
  constructor(
    readonly type: 'int64' | 'int32' | 'int16' | 'int8' | 'uint' | 'uint64' | 'uint32' | 'uint16' | 'uint8' | 'float32',
    readonly value: bigint | number,
  ) {}
}

export type GoValue =
  | null
  | undefined
  | boolean
  | string
  | bigint
  | number
  | GoTyped
  | Uint8Array
  | GoValue[]
  | GoObject
  | GoFunc;

export interface GoObject {
  [key: string]: GoValue;
  [goTypeName]?: string;
  [goMethods]?: Record<string, GoFunc>;
}

/** Parameter types the engine converts and checks arguments against, as Go's reflection does. */
export type GoParamType =
  | 'interface{}'
  | 'string'
  | 'bool'
  | 'int'
  | 'int64'
  | 'uint32'
  | 'float64'
  | '[]interface{}'
  | '[]string'
  | 'map[string]interface{}'
  | '[]byte'
  | 'reflect.Value';

/**
 * A Go function as the engine calls it. `fn` throws `GoError` to return a Go error
 * (the engine reports "error calling NAME: message").
 */
export interface GoFunc {
  readonly kind: 'func';
  params: GoParamType[];
  /** The type of a variadic last parameter (`...interface{}`), if any. */
  variadic?: GoParamType;
  /** The Go result type (for `typeOf`/`%T`/errors); default 'interface{}'. */
  result?: string;
  fn: (...args: GoValue[]) => GoValue;
}

/** Builds a GoFunc. */
export function goFunc(params: GoParamType[], fn: (...args: any[]) => GoValue, opts: { variadic?: GoParamType; result?: string } = {}): GoFunc {
  return { kind: 'func', params, fn, ...opts };
}

/** An error a Go function returns. */
export class GoError extends Error {}

export function isGoFunc(v: unknown): v is GoFunc {
  return typeof v === 'object' && v !== null && (v as GoFunc).kind === 'func' && typeof (v as GoFunc).fn === 'function';
}

/** A map (not a struct, slice, func or byte slice). */
export function isGoMap(v: unknown): v is GoObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof GoTyped) && !isGoFunc(v) && !(goTypeName in v);
}

export function isGoStruct(v: unknown): v is GoObject {
  return typeof v === 'object' && v !== null && goTypeName in v;
}

export function isNil(v: unknown): v is null | undefined {
  return v === null || v === undefined;
}

/**
 * The element type of a slice or map that is not `[]interface{}` / `map[string]interface{}`
 * (e.g. 'string' for the []string splitList returns, 'int' for until's []int); read by %T,
 * typeOf and %#v. Untagged arrays and maps are the interface{} kinds.
 */
export const goElemType: unique symbol = Symbol('goElemType');

/** Tags a slice or map with its Go element type (see goElemType). */
export function typedGo<T extends GoValue[] | GoObject>(v: T, elem: string): T {
  Object.defineProperty(v, goElemType, { value: elem, enumerable: false });
  return v;
}
