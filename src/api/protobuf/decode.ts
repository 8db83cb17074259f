/**
 * @module Kubernetes protobuf bodies (application/vnd.kubernetes.protobuf) to and
 * from the JSON form kube-apiserver serves: the "k8s\0" magic, a runtime.Unknown
 * envelope, then the object in the messages of k8s.io/api's generated.proto.
 */
import { ApiError } from '../errors.js';
import type { KObject } from '../types.js';
import { message, protobufMessageName, T, type FieldDesc, type MessageDesc } from './schema.js';
import { formatDuration, formatMicroTime, formatTime, parseDuration, parseTime } from './well-known.js';
import { ProtobufWireError, WireReader, WireWriter, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './wire.js';

export { protobufMessageName, descriptorSource } from './schema.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** The 4-byte prefix of every Kubernetes protobuf body: "k8s" and a zero byte. */
export const PROTOBUF_MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

const UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';
/** Nesting deeper than any Kubernetes kind needs; it bounds recursion on hostile bytes. */
const MAX_DEPTH = 64;

/** An object that cannot be written as protobuf (unknown field, wrong JSON type). */
export class ProtobufEncodeError extends Error {
  override readonly name = 'ProtobufEncodeError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/**
 * Decodes a request body sent as application/vnd.kubernetes.protobuf into the
 * object's JSON form, apiVersion and kind taken from the envelope.
 * @throws ApiError (400 BadRequest) on anything malformed or of an unknown kind.
 */
export function decodeProtobufObject(body: Uint8Array): KObject {
  return decodeObject(body, 0);
}

function decodeObject(body: Uint8Array, depth: number): KObject {
  if (body.length < PROTOBUF_MAGIC.length || PROTOBUF_MAGIC.some((b, i) => body[i] !== b)) {
    throw ApiError.badRequest('the body of the request is not a Kubernetes protobuf object: missing the "k8s\\x00" prefix');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array | undefined;
  let contentEncoding = '';
  let contentType = '';
  try {
    const r = new WireReader(body, PROTOBUF_MAGIC.length);
    // runtime.Unknown: 1 typeMeta{1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType.
    while (!r.done) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WIRE_LEN) {
        const [s, e] = r.lengthDelimited();
        const tm = new WireReader(body, s, e);
        while (!tm.done) {
          const [tno, twt] = tm.tag();
          if (tno === 1 && twt === WIRE_LEN) apiVersion = utf8.decode(tm.bytes());
          else if (tno === 2 && twt === WIRE_LEN) kind = utf8.decode(tm.bytes());
          else tm.skip(twt);
        }
      } else if (no === 2 && wt === WIRE_LEN) raw = r.bytes();
      else if (no === 3 && wt === WIRE_LEN) contentEncoding = utf8.decode(r.bytes());
      else if (no === 4 && wt === WIRE_LEN) contentType = utf8.decode(r.bytes());
      else r.skip(wt);
    }
  } catch (e) {
    throw wireError(e, 'runtime.Unknown');
  }
  if (contentEncoding !== '') {
    throw ApiError.badRequest(`unsupported protobuf contentEncoding ${JSON.stringify(contentEncoding)}`);
  }
  if (contentType !== '' && contentType !== PROTOBUF_CONTENT_TYPE) {
    throw ApiError.badRequest(`unsupported protobuf contentType ${JSON.stringify(contentType)}`);
  }
  if (kind === '') throw ApiError.badRequest('Object \'Kind\' is missing in protobuf body');
  if (apiVersion === '') throw ApiError.badRequest('Object \'apiVersion\' is missing in protobuf body');
  const name = protobufMessageName(apiVersion, kind);
  if (!name) throw ApiError.badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const obj: KObject = { apiVersion, kind };
  try {
    decodeInto(new WireReader(raw ?? new Uint8Array(0)), message(name)!, obj, depth + 1);
  } catch (e) {
    throw wireError(e, `${apiVersion}, Kind=${kind}`);
  }
  // The envelope is authoritative, as in the apimachinery protobuf serializer.
  obj.apiVersion = apiVersion;
  obj.kind = kind;
  return obj;
}

/**
 * Decodes one message (no magic, no envelope) by its full proto name, e.g.
 * "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions".
 * @throws ApiError (400 BadRequest) on malformed bytes or an unknown message.
 */
export function decodeProtobufMessage(messageName: string, bytes: Uint8Array): Record<string, unknown> {
  const m = message(messageName);
  if (!m) throw ApiError.badRequest(`unknown protobuf message ${messageName}`);
  const out: Record<string, unknown> = {};
  try {
    decodeInto(new WireReader(bytes), m, out, 0);
  } catch (e) {
    throw wireError(e, messageName);
  }
  return out;
}

function wireError(e: unknown, what: string): unknown {
  if (e instanceof ProtobufWireError) return ApiError.badRequest(`unable to decode protobuf ${what}: ${e.message}`);
  return e;
}

function expectedWireType(type: number): number {
  switch (type) {
    case T.DOUBLE:
    case T.FIXED64:
    case T.SFIXED64:
      return WIRE_FIXED64;
    case T.FLOAT:
    case T.FIXED32:
    case T.SFIXED32:
      return WIRE_FIXED32;
    case T.STRING:
    case T.BYTES:
    case T.MESSAGE:
      return WIRE_LEN;
    case T.GROUP:
      return -1;
    default:
      return WIRE_VARINT;
  }
}

function readScalar(r: WireReader, type: number): unknown {
  switch (type) {
    case T.DOUBLE:
      return r.double();
    case T.FLOAT:
      return r.float();
    case T.INT64:
      return r.int64();
    case T.UINT64:
      return r.uint64();
    case T.INT32:
    case T.ENUM:
      return r.int32();
    case T.FIXED64:
      return r.fixed64(false);
    case T.SFIXED64:
      return r.fixed64(true);
    case T.FIXED32:
      return r.fixed32();
    case T.SFIXED32:
      return r.sfixed32();
    case T.BOOL:
      return r.bool();
    case T.STRING:
      return utf8.decode(r.bytes());
    case T.BYTES:
      return toBase64(r.bytes());
    case T.UINT32:
      return r.uint32();
    case T.SINT32:
      return r.sint32();
    case T.SINT64:
      return r.sint64();
    default:
      throw new ProtobufWireError(`unsupported field type ${type}`);
  }
}

function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/** Sets an own property even for keys like "__proto__" (map keys come from the wire). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function submessage(f: FieldDesc): MessageDesc {
  const m = f.typeName ? message(f.typeName) : undefined;
  if (!m) throw new ProtobufWireError(`no descriptor for ${f.typeName ?? f.name}`);
  return m;
}

/**
 * Reads fields into `out`. proto semantics: the last value of a singular field wins,
 * a repeated message field appends, a singular message field seen twice is merged.
 */
function decodeInto(r: WireReader, msg: MessageDesc, out: Record<string, unknown>, depth: number): void {
  if (depth > MAX_DEPTH) throw new ProtobufWireError('message nesting too deep');
  while (!r.done) {
    const [no, wt] = r.tag();
    const f = msg.byNo.get(no);
    if (!f) {
      r.skip(wt);
      continue;
    }
    if (f.type === T.MESSAGE) {
      if (wt !== WIRE_LEN) throw new ProtobufWireError(`field ${f.name}: wire type ${wt} for a message`);
      const [s, e] = r.lengthDelimited();
      const sub = new WireReader(r.buf, s, e);
      const target = submessage(f);
      if (target.isMapEntry) {
        const [k, v] = decodeMapEntry(sub, target, depth + 1);
        let map = out[f.name];
        if (!isRecord(map)) {
          map = {};
          out[f.name] = map;
        }
        setOwn(map as Record<string, unknown>, k, v);
        continue;
      }
      let value: unknown;
      if (target.special) value = decodeSpecial(sub, target, depth + 1);
      else if (f.inline) {
        decodeInto(sub, target, out, depth + 1);
        continue;
      } else {
        const existing = f.repeated ? undefined : out[f.name];
        const obj = isRecord(existing) ? existing : {};
        decodeInto(sub, target, obj, depth + 1);
        value = obj;
      }
      assign(out, f, value);
      continue;
    }
    const expected = expectedWireType(f.type);
    if (f.repeated && wt === WIRE_LEN && expected !== WIRE_LEN) {
      // Packed encoding: proto2 allows it on the wire even where the .proto did not ask.
      const [s, e] = r.lengthDelimited();
      const packed = new WireReader(r.buf, s, e);
      while (!packed.done) assign(out, f, readScalar(packed, f.type));
      continue;
    }
    if (wt !== expected) throw new ProtobufWireError(`field ${f.name}: wire type ${wt}, expected ${expected}`);
    assign(out, f, readScalar(r, f.type));
  }
}

function assign(out: Record<string, unknown>, f: FieldDesc, value: unknown): void {
  if (f.repeated) {
    const list = out[f.name];
    if (Array.isArray(list)) list.push(value);
    else out[f.name] = [value];
    return;
  }
  // gogo writes every Go value field, set or not; JSON's omitempty drops the zero ones.
  if (f.nonNullable && !f.required && f.type !== T.MESSAGE && isZero(value)) {
    delete out[f.name];
    return;
  }
  out[f.name] = value;
}

function zeroValue(f: FieldDesc, depth: number): unknown {
  switch (f.type) {
    case T.STRING:
    case T.BYTES:
      return '';
    case T.BOOL:
      return false;
    case T.MESSAGE: {
      const m = submessage(f);
      if (m.special) return decodeSpecial(new WireReader(new Uint8Array(0)), m, depth);
      return {};
    }
    default:
      return 0;
  }
}

const plainEntries = new WeakMap<MessageDesc, MessageDesc>();

function decodeMapEntry(r: WireReader, entry: MessageDesc, depth: number): [string, unknown] {
  const keyField = entry.byNo.get(1);
  const valueField = entry.byNo.get(2);
  if (!keyField || !valueField) throw new ProtobufWireError(`malformed map entry ${entry.name}`);
  let plainEntry = plainEntries.get(entry);
  if (!plainEntry) {
    plainEntry = { ...entry, byNo: new Map([[1, plain(keyField)], [2, plain(valueField)]]) };
    plainEntries.set(entry, plainEntry);
  }
  const tmp: Record<string, unknown> = {};
  decodeInto(r, plainEntry, tmp, depth);
  const k = Object.hasOwn(tmp, keyField.name) ? tmp[keyField.name] : zeroValue(keyField, depth);
  const v = Object.hasOwn(tmp, valueField.name) ? tmp[valueField.name] : zeroValue(valueField, depth);
  return [String(k), v];
}

/** A map entry's key and value keep their zero values (a label may be ""). */
function plain(f: FieldDesc): FieldDesc {
  return { ...f, nonNullable: false, required: false, inline: false, repeated: false };
}

function decodeSpecial(r: WireReader, m: MessageDesc, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ProtobufWireError('message nesting too deep');
  let int1 = 0;
  let int2 = 0;
  let big1 = 0n;
  let str3 = '';
  let bytes1: Uint8Array | undefined;
  let str1: string | undefined;
  const items: string[] = [];
  while (!r.done) {
    const [no, wt] = r.tag();
    switch (m.special) {
      case 'time':
      case 'microtime':
        if (no === 1 && wt === WIRE_VARINT) int1 = r.int64();
        else if (no === 2 && wt === WIRE_VARINT) int2 = r.int32();
        else r.skip(wt);
        break;
      case 'duration':
        if (no === 1 && wt === WIRE_VARINT) big1 = r.int64Big();
        else r.skip(wt);
        break;
      case 'quantity':
        if (no === 1 && wt === WIRE_LEN) str1 = utf8.decode(r.bytes());
        else r.skip(wt);
        break;
      case 'intorstring':
        if (no === 1 && wt === WIRE_VARINT) int1 = r.int64();
        else if (no === 2 && wt === WIRE_VARINT) int2 = r.int32();
        else if (no === 3 && wt === WIRE_LEN) str3 = utf8.decode(r.bytes());
        else r.skip(wt);
        break;
      case 'rawjson':
        if (no === 1 && wt === WIRE_LEN) bytes1 = r.bytes();
        else r.skip(wt);
        break;
      case 'verbs':
        if (no === 1 && wt === WIRE_LEN) items.push(utf8.decode(r.bytes()));
        else r.skip(wt);
        break;
      default:
        r.skip(wt);
    }
  }
  switch (m.special) {
    case 'time':
    case 'microtime': {
      // The zero time is an empty message and JSON null, as metav1.Time marshals it.
      if (int1 === 0 && int2 === 0) return null;
      const text = m.special === 'time' ? formatTime(int1, int2) : formatMicroTime(int1, int2);
      if (text === undefined) throw new ProtobufWireError(`time out of range: ${int1}s`);
      return text;
    }
    case 'duration':
      return formatDuration(big1);
    case 'quantity':
      return str1 === undefined || str1 === '' ? '0' : str1;
    case 'intorstring':
      return int1 === 1 ? str3 : int2;
    case 'rawjson':
      return parseRawJson(bytes1, depth);
    case 'verbs':
      return items;
    default:
      return null;
  }
}

function parseRawJson(bytes: Uint8Array | undefined, depth: number): unknown {
  if (bytes === undefined || bytes.length === 0) return null;
  if (bytes.length >= PROTOBUF_MAGIC.length && PROTOBUF_MAGIC.every((b, i) => bytes[i] === b)) {
    // An embedded object may itself be protobuf (runtime.Unknown inside a RawExtension).
    if (depth > MAX_DEPTH) throw new ProtobufWireError('message nesting too deep');
    try {
      return decodeObject(bytes, depth + 1);
    } catch (e) {
      if (e instanceof ApiError) throw new ProtobufWireError(e.message);
      throw e;
    }
  }
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw new ProtobufWireError('embedded raw object is not JSON');
  }
}

// ---------------------------------------------------------------- encoding

/**
 * Encodes an object (apiVersion and kind set) as a Kubernetes protobuf body: magic,
 * runtime.Unknown envelope, object message. Fields are written only where the object
 * has them.
 * @throws ProtobufEncodeError for an unknown kind or field, or a value of the wrong JSON type.
 */
export function encodeProtobufObject(obj: KObject): Uint8Array {
  const apiVersion = obj.apiVersion ?? '';
  const kind = obj.kind ?? '';
  const name = protobufMessageName(apiVersion, kind);
  if (!name) throw new ProtobufEncodeError('', `no protobuf message for apiVersion ${JSON.stringify(apiVersion)}, kind ${JSON.stringify(kind)}`);
  const rest: Record<string, unknown> = { ...obj };
  delete rest.apiVersion;
  delete rest.kind;
  const inner = new WireWriter();
  encodeMessage(rest, message(name)!, inner, '', 0);
  const typeMeta = new WireWriter();
  typeMeta.tag(1, WIRE_LEN);
  typeMeta.lengthDelimited(utf8Encoder.encode(apiVersion));
  typeMeta.tag(2, WIRE_LEN);
  typeMeta.lengthDelimited(utf8Encoder.encode(kind));
  const w = new WireWriter();
  w.raw(PROTOBUF_MAGIC);
  w.tag(1, WIRE_LEN);
  w.lengthDelimited(typeMeta.finish());
  w.tag(2, WIRE_LEN);
  w.lengthDelimited(inner.finish());
  // gogo writes contentEncoding and contentType even when empty; so does kubectl.
  w.tag(3, WIRE_LEN);
  w.uvarint(0);
  w.tag(4, WIRE_LEN);
  w.uvarint(0);
  return w.finish();
}

/**
 * Encodes one message (no magic, no envelope) by its full proto name.
 * @throws ProtobufEncodeError as encodeProtobufObject.
 */
export function encodeProtobufMessage(messageName: string, obj: Record<string, unknown>): Uint8Array {
  const m = message(messageName);
  if (!m) throw new ProtobufEncodeError('', `unknown protobuf message ${messageName}`);
  const w = new WireWriter();
  encodeMessage(obj, m, w, '', 0);
  return w.finish();
}

const jsonNamesCache = new Map<string, Set<string>>();

/** The JSON property names a message accepts, inline members included. */
function jsonNames(m: MessageDesc): Set<string> {
  let names = jsonNamesCache.get(m.name);
  if (names) return names;
  names = new Set();
  for (const f of m.fields) {
    if (f.inline) for (const n of jsonNames(submessage(f))) names.add(n);
    else names.add(f.name);
  }
  jsonNamesCache.set(m.name, names);
  return names;
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function encodeMessage(obj: Record<string, unknown>, m: MessageDesc, w: WireWriter, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new ProtobufEncodeError(path, 'object nesting too deep');
  const known = jsonNames(m);
  for (const k of Object.keys(obj)) {
    if (!known.has(k)) throw new ProtobufEncodeError(join(path, k), `unknown field in ${m.name}`);
  }
  for (const f of m.fields) {
    if (f.inline) {
      const sub = new WireWriter();
      encodeMessage(pick(obj, jsonNames(submessage(f))), submessage(f), sub, path, depth + 1);
      w.tag(f.no, WIRE_LEN);
      w.lengthDelimited(sub.finish());
      continue;
    }
    const v = obj[f.name];
    const at = join(path, f.name);
    if (v === undefined) continue;
    if (f.type === T.MESSAGE && submessage(f).isMapEntry) {
      if (v === null) continue;
      if (!isRecord(v)) throw new ProtobufEncodeError(at, 'expected an object');
      const entry = submessage(f);
      const kf = plain(entry.byNo.get(1)!);
      const vf = plain(entry.byNo.get(2)!);
      for (const [key, val] of Object.entries(v)) {
        const ew = new WireWriter();
        encodeField(ew, kf, key, at, depth + 1);
        if (val !== null && val !== undefined) encodeField(ew, vf, val, `${at}[${JSON.stringify(key)}]`, depth + 1);
        w.tag(f.no, WIRE_LEN);
        w.lengthDelimited(ew.finish());
      }
      continue;
    }
    if (f.repeated) {
      if (v === null) continue;
      if (!Array.isArray(v)) throw new ProtobufEncodeError(at, 'expected an array');
      v.forEach((item, i) => encodeField(w, f, item, `${at}[${i}]`, depth + 1));
      continue;
    }
    if (v === null && !(f.type === T.MESSAGE && isTimeLike(submessage(f)))) continue;
    encodeField(w, f, v, at, depth + 1);
  }
}

function isTimeLike(m: MessageDesc): boolean {
  return m.special === 'time' || m.special === 'microtime';
}

function pick(obj: Record<string, unknown>, names: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of names) if (Object.hasOwn(obj, n)) out[n] = obj[n];
  return out;
}

function encodeField(w: WireWriter, f: FieldDesc, v: unknown, at: string, depth: number): void {
  if (f.type === T.MESSAGE) {
    const m = submessage(f);
    const sub = new WireWriter();
    if (m.special) encodeSpecial(sub, m, v, at);
    else {
      if (!isRecord(v)) throw new ProtobufEncodeError(at, 'expected an object');
      encodeMessage(v, m, sub, at, depth);
    }
    w.tag(f.no, WIRE_LEN);
    w.lengthDelimited(sub.finish());
    return;
  }
  switch (f.type) {
    case T.STRING:
      if (typeof v !== 'string') throw new ProtobufEncodeError(at, 'expected a string');
      w.tag(f.no, WIRE_LEN);
      w.lengthDelimited(utf8Encoder.encode(v));
      return;
    case T.BYTES: {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) {
        throw new ProtobufEncodeError(at, 'expected a base64 string');
      }
      w.tag(f.no, WIRE_LEN);
      w.lengthDelimited(Buffer.from(v, 'base64'));
      return;
    }
    case T.BOOL:
      if (typeof v !== 'boolean') throw new ProtobufEncodeError(at, 'expected a boolean');
      w.tag(f.no, WIRE_VARINT);
      w.uvarint(v ? 1 : 0);
      return;
    case T.DOUBLE:
    case T.FLOAT:
      if (typeof v !== 'number') throw new ProtobufEncodeError(at, 'expected a number');
      if (f.type === T.DOUBLE) {
        w.tag(f.no, WIRE_FIXED64);
        w.fixed64(v, 'f');
      } else {
        w.tag(f.no, WIRE_FIXED32);
        w.fixed32(v, 'f');
      }
      return;
    default:
      encodeInteger(w, f, v, at);
  }
}

function encodeInteger(w: WireWriter, f: FieldDesc, v: unknown, at: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ProtobufEncodeError(at, 'expected an integer');
  switch (f.type) {
    case T.FIXED32:
    case T.SFIXED32:
      w.tag(f.no, WIRE_FIXED32);
      w.fixed32(v, f.type === T.FIXED32 ? 'u' : 's');
      return;
    case T.FIXED64:
    case T.SFIXED64:
      w.tag(f.no, WIRE_FIXED64);
      w.fixed64(v, f.type === T.FIXED64 ? 'u' : 's');
      return;
    case T.SINT32:
    case T.SINT64: {
      const b = BigInt(v);
      w.tag(f.no, WIRE_VARINT);
      w.varint64(b >= 0n ? b << 1n : ((-b) << 1n) - 1n);
      return;
    }
    default:
      w.tag(f.no, WIRE_VARINT);
      if (v >= 0) w.uvarint(v);
      else w.varint64(v);
  }
}

function encodeSpecial(w: WireWriter, m: MessageDesc, v: unknown, at: string): void {
  switch (m.special) {
    case 'time':
    case 'microtime': {
      if (v === null) return;
      const t = typeof v === 'string' ? parseTime(v) : undefined;
      if (!t) throw new ProtobufEncodeError(at, 'expected an RFC 3339 time');
      if (t.seconds !== 0) {
        w.tag(1, WIRE_VARINT);
        w.varint64(t.seconds);
      }
      // metav1.Time keeps whole seconds only on the JSON side; the wire has room for nanos.
      const nanos = m.special === 'time' ? 0 : t.nanos;
      if (nanos !== 0) {
        w.tag(2, WIRE_VARINT);
        w.uvarint(nanos);
      }
      return;
    }
    case 'duration': {
      const ns = typeof v === 'string' ? parseDuration(v) : undefined;
      if (ns === undefined) throw new ProtobufEncodeError(at, 'expected a duration such as "1m30s"');
      w.tag(1, WIRE_VARINT);
      w.varint64(ns);
      return;
    }
    case 'quantity':
      if (typeof v !== 'string' && typeof v !== 'number') throw new ProtobufEncodeError(at, 'expected a quantity');
      w.tag(1, WIRE_LEN);
      w.lengthDelimited(utf8Encoder.encode(String(v)));
      return;
    case 'intorstring':
      // gogo writes all three fields of IntOrString.
      if (typeof v === 'number' && Number.isInteger(v)) {
        w.tag(1, WIRE_VARINT);
        w.uvarint(0);
        w.tag(2, WIRE_VARINT);
        if (v >= 0) w.uvarint(v);
        else w.varint64(v);
        w.tag(3, WIRE_LEN);
        w.uvarint(0);
      } else if (typeof v === 'string') {
        w.tag(1, WIRE_VARINT);
        w.uvarint(1);
        w.tag(2, WIRE_VARINT);
        w.uvarint(0);
        w.tag(3, WIRE_LEN);
        w.lengthDelimited(utf8Encoder.encode(v));
      } else throw new ProtobufEncodeError(at, 'expected an integer or a string');
      return;
    case 'rawjson':
      if (v === null) return;
      w.tag(1, WIRE_LEN);
      w.lengthDelimited(utf8Encoder.encode(JSON.stringify(v)));
      return;
    case 'verbs':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ProtobufEncodeError(at, 'expected an array of strings');
      for (const s of v as string[]) {
        w.tag(1, WIRE_LEN);
        w.lengthDelimited(utf8Encoder.encode(s));
      }
      return;
    default:
      throw new ProtobufEncodeError(at, `cannot encode ${m.name}`);
  }
}
