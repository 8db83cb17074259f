/**
 * @module The executor's view of Go values (a small reflect): the interface-typed values that
 * map and slice elements are in Go (they print like their contents, but differ in nil
 * checks and error messages), invalid values, kinds, truth and type assignability of
 * function arguments.
 */
import { goTypeString } from './fmt.js';
import { GoTyped, goElemType, isGoFunc, isGoStruct, type GoParamType, type GoValue } from './values.js';

/**
 * A value of static type interface{}: what Go's MapIndex/Index return for
 * map[string]interface{} and []interface{} elements. `v === null` is a nil interface.
 */
export class Iface {
  constructor(readonly v: GoValue) {}
}

/** An executor value: `undefined` is Go's invalid reflect.Value ("<no value>"). */
export type V = GoValue | Iface;

/** The "no final argument" marker of pipelines (Go's missingVal). */
export const MISSING: unique symbol = Symbol('missing');
export type Final = V | typeof MISSING;

/** The value inside an interface; nil interfaces become invalid (indirectInterface). */
export function unwrap(v: V): GoValue {
  if (v instanceof Iface) return v.v === null ? undefined : v.v;
  return v === null ? undefined : v;
}

/** The value a Go function receives for an interface{} (or any) parameter. */
export function argValue(v: V): GoValue {
  if (v instanceof Iface) return v.v;
  return v === undefined ? null : v;
}

/** reflect.Value.Type().String() of an executor value. */
export function typeOf(v: V): string {
  if (v instanceof Iface) return 'interface {}';
  return goTypeString(v ?? null);
}

/** The element type of a slice or map ('interface{}' unless tagged). */
export function elemType(v: object): string {
  return (v as { [goElemType]?: string })[goElemType] ?? 'interface{}';
}

/** Wraps a slice/map element as Go types it: interface{} elements are Iface. */
export function elem(container: object, x: GoValue): V {
  return elemType(container) === 'interface{}' ? new Iface(x === undefined ? null : x) : x;
}

/** reflect.Zero of a type named as in values.ts / Go. */
export function zeroOf(t: string): V {
  switch (t) {
    case 'interface{}':
    case 'interface {}':
      return new Iface(null);
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int':
      return 0n;
    case 'float64':
      return 0;
    case 'int64':
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint':
    case 'uint64':
    case 'uint32':
    case 'uint16':
    case 'uint8':
      return new GoTyped(t, 0n);
    case 'float32':
      return new GoTyped('float32', 0);
  }
  return null;
}

export type BasicKind = 'invalid' | 'bool' | 'int' | 'uint' | 'float' | 'string' | 'complex';

/** text/template's basicKind of an (already unwrapped) value. */
export function basicKind(v: GoValue): BasicKind {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
  }
  if (v instanceof GoTyped) {
    if (v.type === 'float32') return 'float';
    return v.type.startsWith('u') ? 'uint' : 'int';
  }
  return 'invalid';
}

/** The integer value of an int/uint kind. */
export function intOf(v: GoValue): bigint {
  if (typeof v === 'bigint') return v;
  return BigInt((v as GoTyped).value);
}

export function floatOf(v: GoValue): number {
  if (typeof v === 'number') return v;
  return Number((v as GoTyped).value);
}

export function isMapValue(v: GoValue): v is Record<string, GoValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof GoTyped) && !isGoFunc(v) && !isGoStruct(v);
}

/** isTrue: Go's truth of a value (after indirectInterface). */
export function truth(x: V): boolean {
  const v = unwrap(x);
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'boolean':
      return v;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
  }
  if (v instanceof GoTyped) return typeof v.value === 'bigint' ? v.value !== 0n : v.value !== 0;
  if (v instanceof Uint8Array || Array.isArray(v)) return v.length > 0;
  if (isGoFunc(v) || isGoStruct(v)) return true;
  for (const _ in v as object) return true;
  return false;
}

/** Length in Go terms: bytes of a string's UTF-8, elements, map entries. */
export function goLen(v: GoValue): number | undefined {
  if (typeof v === 'string') return utf8Length(v);
  if (v instanceof Uint8Array || Array.isArray(v)) return v.length;
  if (isMapValue(v)) return Object.keys(v).length;
  return undefined;
}

export function utf8Length(s: string): number {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s.length : Buffer.byteLength(s, 'utf8');
}

/** Whether a parameter type can hold nil (canBeNil). */
export function canBeNil(t: GoParamType | string): boolean {
  return t === 'interface{}' || t === 'reflect.Value' || t.startsWith('[]') || t.startsWith('map[') || t.startsWith('func') || t.startsWith('*');
}

/** Whether a value of the given dynamic type is assignable to a parameter type. */
export function assignable(v: V, t: GoParamType | string): boolean {
  if (t === 'interface{}') return true;
  if (v instanceof Iface) return false;
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'int':
      return typeof v === 'bigint';
    case 'float64':
      return typeof v === 'number';
    case '[]byte':
    case '[]uint8':
      return v instanceof Uint8Array;
    case '[]interface{}':
      return Array.isArray(v) && elemType(v) === 'interface{}';
    case '[]string':
      return Array.isArray(v) && elemType(v) === 'string';
    case 'map[string]interface{}':
      return isMapValue(v) && elemType(v) === 'interface{}';
  }
  if (v instanceof GoTyped) return v.type === t;
  if (isGoFunc(v)) return t.startsWith('func');
  return typeOf(v) === paramTypeString(t);
}

/** Converts between integer kinds (reflect Convert) for index/call arguments. */
export function convertInt(v: GoValue, t: string): GoValue {
  const n = intOf(v);
  if (t === 'int') return BigInt.asIntN(64, n);
  const bits = parseInt(t.replace(/\D/g, '') || '64', 10);
  return new GoTyped(t as GoTyped['type'], t.startsWith('u') ? BigInt.asUintN(bits, n) : BigInt.asIntN(bits, n));
}

export function isIntLike(t: string): boolean {
  return /^u?int(8|16|32|64)?$/.test(t);
}

/** The Go type string of a function parameter ('…interface{}' → 'interface {}'). */
export function paramTypeString(t: string): string {
  return t.replace(/interface\{\}/g, 'interface {}').replace(/^\[\]byte$/, '[]uint8');
}
