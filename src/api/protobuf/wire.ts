/**
 * @module The protobuf wire format (varints, tags, length-delimited fields), bounded
 * so that hostile bytes end in a ProtobufWireError rather than a crash or a loop.
 */

/** Malformed protobuf bytes: truncated, oversized or of an unknown wire type. */
export class ProtobufWireError extends Error {
  override readonly name = 'ProtobufWireError';
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;

/** Reads one message's bytes; `end` bounds every read. */
export class WireReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The 64-bit varint as [low 32 bits, high 32 bits], both unsigned. */
  private varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufWireError('unexpected end of data inside a varint');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) return [lo >>> 0, hi >>> 0];
    }
    throw new ProtobufWireError('varint longer than 10 bytes');
  }

  /** A varint that must fit in 32 unsigned bits (tags, lengths). */
  uint32(): number {
    const [lo, hi] = this.varint64();
    if (hi !== 0) throw new ProtobufWireError('varint out of 32-bit range');
    return lo;
  }

  int32(): number {
    return this.varint64()[0] | 0;
  }

  int64(): number {
    const [lo, hi] = this.varint64();
    return combine(lo, hi, true);
  }

  /** An int64 without loss of precision (durations in nanoseconds). */
  int64Big(): bigint {
    const [lo, hi] = this.varint64();
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  uint64(): number {
    const [lo, hi] = this.varint64();
    return combine(lo, hi, false);
  }

  sint32(): number {
    const v = this.varint64()[0];
    return (v >>> 1) ^ -(v & 1);
  }

  sint64(): number {
    const [lo, hi] = this.varint64();
    const z = (BigInt(hi) << 32n) | BigInt(lo);
    return Number((z >> 1n) ^ -(z & 1n));
  }

  bool(): boolean {
    const [lo, hi] = this.varint64();
    return lo !== 0 || hi !== 0;
  }

  private take(n: number): number {
    if (n > this.end - this.pos) throw new ProtobufWireError('unexpected end of data');
    const at = this.pos;
    this.pos += n;
    return at;
  }

  fixed32(): number {
    const at = this.take(4);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 4).getUint32(0, true);
  }

  sfixed32(): number {
    const at = this.take(4);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 4).getInt32(0, true);
  }

  float(): number {
    const at = this.take(4);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 4).getFloat32(0, true);
  }

  fixed64(signed: boolean): number {
    const at = this.take(8);
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset + at, 8);
    return combine(dv.getUint32(0, true), dv.getUint32(4, true), signed);
  }

  double(): number {
    const at = this.take(8);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 8).getFloat64(0, true);
  }

  /** The [start, end) range of a length-delimited field's payload. */
  lengthDelimited(): [number, number] {
    const len = this.uint32();
    const at = this.take(len);
    return [at, at + len];
  }

  bytes(): Uint8Array {
    const [s, e] = this.lengthDelimited();
    return this.buf.subarray(s, e);
  }

  /** A field key: [field number, wire type]. */
  tag(): [number, number] {
    const key = this.uint32();
    const no = key >>> 3;
    if (no === 0) throw new ProtobufWireError('field number 0 is not allowed');
    return [no, key & 7];
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.take(8);
        return;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.take(4);
        return;
      default:
        // Groups (3, 4) are proto2 relics no Kubernetes message uses.
        throw new ProtobufWireError(`unsupported wire type ${wireType}`);
    }
  }
}

function combine(lo: number, hi: number, signed: boolean): number {
  if (signed && hi & 0x80000000) {
    return Number(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
  }
  return hi * TWO_32 + lo;
}

/** Builds one message; nested messages are built in their own writer, then framed. */
export class WireWriter {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(256);
  private len = 0;
  private total = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.cur.length) return;
    this.chunks.push(this.cur.subarray(0, this.len));
    this.cur = new Uint8Array(Math.max(256, n, this.cur.length * 2));
    this.len = 0;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.cur[this.len++] = b;
    this.total++;
  }

  /** An unsigned varint of up to 2^53. */
  uvarint(v: number): void {
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  /** A signed 64-bit varint (negative numbers take 10 bytes, as in Go). */
  varint64(v: number | bigint): void {
    let b = BigInt.asUintN(64, BigInt(v));
    while (b >= 0x80n) {
      this.byte(Number(b & 0x7fn) | 0x80);
      b >>= 7n;
    }
    this.byte(Number(b));
  }

  tag(no: number, wireType: number): void {
    this.uvarint(no * 8 + wireType);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.cur.set(bytes, this.len);
    this.len += bytes.length;
    this.total += bytes.length;
  }

  lengthDelimited(bytes: Uint8Array): void {
    this.uvarint(bytes.length);
    this.raw(bytes);
  }

  fixed32(v: number, kind: 'u' | 's' | 'f'): void {
    const b = new Uint8Array(4);
    const dv = new DataView(b.buffer);
    if (kind === 'f') dv.setFloat32(0, v, true);
    else if (kind === 's') dv.setInt32(0, v, true);
    else dv.setUint32(0, v, true);
    this.raw(b);
  }

  fixed64(v: number, kind: 'u' | 's' | 'f'): void {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    if (kind === 'f') dv.setFloat64(0, v, true);
    else dv.setBigUint64(0, BigInt.asUintN(64, BigInt(Math.trunc(v))), true);
    this.raw(b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    out.set(this.cur.subarray(0, this.len), at);
    return out;
  }
}
