// Minimal protobuf encoder for the few OSM PBF messages we write. Numbers are
// JS doubles: exact up to 2^53, which covers every OSM ID and delta.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

export class ProtoWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  /** Unsigned varint, 0 ≤ v < 2^53. */
  varint(v: number): this {
    this.ensure(10);
    const b = this.buf;
    if (v < 0x80000000) {
      while (v > 0x7f) {
        b[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[this.pos++] = v;
      return this;
    }
    while (v > 0x7f) {
      b[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.pos++] = v;
    return this;
  }

  /** Zigzag-encoded signed varint (sint32/sint64). */
  svarint(v: number): this {
    return this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uintField(field: number, v: number): this {
    this.key(field, WIRE_VARINT);
    return this.varint(v);
  }
  sintField(field: number, v: number): this {
    this.key(field, WIRE_VARINT);
    return this.svarint(v);
  }

  bytesField(field: number, data: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  stringField(field: number, s: string): this {
    return this.bytesField(field, Buffer.from(s, 'utf8'));
  }

  messageField(field: number, m: ProtoWriter): this {
    return this.bytesField(field, m.finish());
  }

  /** Packed repeated uint32/int32 (non-negative) or enum. */
  packedUint(field: number, values: ArrayLike<number>, from = 0, to = values.length): this {
    if (to <= from) return this;
    const inner = new ProtoWriter((to - from) * 5 + 8);
    for (let i = from; i < to; i++) inner.varint(values[i]!);
    return this.messageField(field, inner);
  }

  /** Packed repeated sint64, delta-coded (the OSM way). */
  packedDeltaSint(field: number, values: ArrayLike<number>, from = 0, to = values.length): this {
    if (to <= from) return this;
    const inner = new ProtoWriter((to - from) * 6 + 8);
    let prev = 0;
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      inner.svarint(v - prev);
      prev = v;
    }
    return this.messageField(field, inner);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
