// Protobuf encoding of the nearby answers (NearbyResponse, NearbyBatchResponse,
// StreamNearbyResponse) straight from the response objects the service builds.
// The generic serializer first copies every object into a protobufjs message
// (fromObject), then encodes: for a 10-driver answer that is ~50 objects per
// call, most of the allocation of a nearby call. Field numbers follow
// proto/faros/v1/faros.proto; test/encode.test.ts decodes these bytes with the
// generic decoder and compares.
import type { DriverMsg, NearbyResponseMsg, NearbyResultMsg, SnappedPointMsg } from './wire.js';

const LEN = 2,
  I64 = 1,
  VARINT = 0;
const key = (field: number, wire: number): number => (field << 3) | wire;

function varintSize(n: number): number {
  let s = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}
const strSize = (s: string): number => {
  const n = Buffer.byteLength(s, 'utf8');
  return n + varintSize(n);
};
/** int64 carried as a decimal string (proto3 JSON mapping); the values here are safe integers. */
const int64 = (s: string): number => Number(s);

class Writer {
  readonly buf: Buffer;
  private readonly view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, size);
  }
  varint(n: number): void {
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  double(field: number, x: number): void {
    if (x === 0 && !Object.is(x, -0)) return;
    this.varint(key(field, I64));
    this.view.setFloat64(this.pos, x, true);
    this.pos += 8;
  }
  uint(field: number, n: number): void {
    if (n === 0) return;
    this.varint(key(field, VARINT));
    this.varint(n);
  }
  string(field: number, s: string): void {
    if (s === '') return;
    this.varint(key(field, LEN));
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
  }
  /** A nested message: its length, then `write` fills it. */
  message(field: number, size: number, write: () => void): void {
    this.varint(key(field, LEN));
    this.varint(size);
    write();
  }
}

const dbl = (x: number): number => (x === 0 && !Object.is(x, -0) ? 0 : 9);
const uintF = (n: number): number => (n === 0 ? 0 : 1 + varintSize(n));
const strF = (s: string): number => (s === '' ? 0 : 1 + strSize(s));
const msgF = (size: number): number => 1 + varintSize(size) + size;

const latLngSize = (p: { lat: number; lng: number }): number => dbl(p.lat) + dbl(p.lng);
function writeLatLng(w: Writer, field: number, p: { lat: number; lng: number }): void {
  w.message(field, latLngSize(p), () => {
    w.double(1, p.lat);
    w.double(2, p.lng);
  });
}

const snappedSize = (s: SnappedPointMsg): number => msgF(latLngSize(s.location)) + dbl(s.snapDistanceM) + uintF(int64(s.wayId));
function writeSnapped(w: Writer, field: number, s: SnappedPointMsg): void {
  w.message(field, snappedSize(s), () => {
    writeLatLng(w, 1, s.location);
    w.double(2, s.snapDistanceM);
    w.uint(3, int64(s.wayId));
  });
}

function metadataSize(m: Record<string, string>): number {
  let n = 0;
  for (const k in m) n += msgF(strF(k) + strF(m[k]!));
  return n;
}
const driverSize = (d: DriverMsg): number =>
  strF(d.driverId) + msgF(latLngSize(d.location)) + msgF(snappedSize(d.snapped)) + uintF(int64(d.timestampMs)) + metadataSize(d.metadata);
function writeDriver(w: Writer, field: number, d: DriverMsg): void {
  w.message(field, driverSize(d), () => {
    w.string(1, d.driverId);
    writeLatLng(w, 2, d.location);
    writeSnapped(w, 3, d.snapped);
    w.uint(4, int64(d.timestampMs));
    for (const k in d.metadata) {
      const v = d.metadata[k]!;
      w.message(5, strF(k) + strF(v), () => {
        w.string(1, k);
        w.string(2, v);
      });
    }
  });
}

type NearbyDriverMsg = NearbyResponseMsg['drivers'][number];
const nearbyDriverSize = (d: NearbyDriverMsg): number => msgF(driverSize(d.driver)) + dbl(d.distanceM) + dbl(d.etaS);
const statsSize = (s: NearbyResponseMsg['stats']): number => uintF(s.edgesExpanded) + uintF(s.candidatesSeen) + strF(s.servedBy);

function responseSize(r: NearbyResponseMsg): number {
  let n = msgF(snappedSize(r.querySnapped)) + msgF(statsSize(r.stats));
  for (const d of r.drivers) n += msgF(nearbyDriverSize(d));
  return n;
}
function writeResponse(w: Writer, r: NearbyResponseMsg): void {
  for (const d of r.drivers)
    w.message(1, nearbyDriverSize(d), () => {
      writeDriver(w, 1, d.driver);
      w.double(2, d.distanceM);
      w.double(3, d.etaS);
    });
  writeSnapped(w, 2, r.querySnapped);
  w.message(3, statsSize(r.stats), () => {
    w.uint(1, r.stats.edgesExpanded);
    w.uint(2, r.stats.candidatesSeen);
    w.string(3, r.stats.servedBy);
  });
}

const resultSize = (r: NearbyResultMsg): number => (r.response ? msgF(responseSize(r.response)) : 0) + strF(r.code) + strF(r.message);
function writeResult(w: Writer, r: NearbyResultMsg): void {
  if (r.response) {
    const resp = r.response;
    w.message(1, responseSize(resp), () => writeResponse(w, resp));
  }
  w.string(2, r.code);
  w.string(3, r.message);
}

function finish(w: Writer): Buffer {
  if (w.pos !== w.buf.length) throw new Error(`encoder wrote ${w.pos} of ${w.buf.length} bytes`);
  return w.buf;
}

/** faros.v1.NearbyResponse */
export function encodeNearbyResponse(r: NearbyResponseMsg): Buffer {
  const w = new Writer(responseSize(r));
  writeResponse(w, r);
  return finish(w);
}

/** faros.v1.NearbyBatchResponse */
export function encodeNearbyBatchResponse(r: { results: NearbyResultMsg[] }): Buffer {
  let n = 0;
  for (const x of r.results) n += msgF(resultSize(x));
  const w = new Writer(n);
  for (const x of r.results) w.message(1, resultSize(x), () => writeResult(w, x));
  return finish(w);
}

/** faros.v1.StreamNearbyResponse */
export function encodeStreamNearbyResponse(r: { tag: string; result: NearbyResultMsg }): Buffer {
  const w = new Writer(strF(r.tag) + msgF(resultSize(r.result)));
  w.string(1, r.tag);
  w.message(2, resultSize(r.result), () => writeResult(w, r.result));
  return finish(w);
}
