// Append-only tables in shared memory, written by the model's writer thread
// and read by worker threads without locks:
//  - driver IDs: driver number → UTF-8 bytes (workers break cost ties by
//    comparing these bytes, which is exactly SEMANTICS.md's order);
//  - metadata sets: metaset number → sorted (key number, value number) pairs
//    (workers check filters as numbers; the writer keeps the strings).
// A number is published (count stored with Atomics) only after its bytes are
// written, and nothing is ever rewritten, so any reader sees whole entries.
import { FarosError } from '../errors.js';

export interface InternCapacity { drivers: number; idBytes: number; metasets: number; pairs: number }

export const DEFAULT_INTERN_CAPACITY: Readonly<InternCapacity> = Object.freeze({
  drivers: 1 << 21, idBytes: 64 << 20, metasets: 1 << 20, pairs: 1 << 23,
});

/** The shared buffers; send this to workers. */
export interface InternBuffers { counts: SharedArrayBuffer; idOff: SharedArrayBuffer; idBytes: SharedArrayBuffer; msOff: SharedArrayBuffer; msPairs: SharedArrayBuffer }

const DRIVERS = 0, ID_BYTES = 1, METASETS = 2, PAIRS = 3;

interface MetaNode { ms?: number; next?: Map<string, Map<string, MetaNode>> }

/** Read side (any thread). */
export class InternView {
  protected readonly counts: Int32Array;
  protected readonly idOff: Uint32Array;
  protected readonly idBytes: Uint8Array;
  protected readonly msOff: Uint32Array;
  protected readonly msPairs: Uint32Array;

  constructor(readonly buffers: InternBuffers) {
    this.counts = new Int32Array(buffers.counts);
    this.idOff = new Uint32Array(buffers.idOff);
    this.idBytes = new Uint8Array(buffers.idBytes);
    this.msOff = new Uint32Array(buffers.msOff);
    this.msPairs = new Uint32Array(buffers.msPairs);
  }

  /** Compare two drivers' IDs by UTF-8 bytes. */
  compareIds(a: number, b: number): number {
    const ia = this.idOff[a], ja = this.idOff[a + 1], ib = this.idOff[b], jb = this.idOff[b + 1];
    const la = ja - ia, lb = jb - ib, n = Math.min(la, lb);
    const bytes = this.idBytes;
    for (let i = 0; i < n; i++) {
      const x = bytes[ia + i], y = bytes[ib + i];
      if (x !== y) return x - y;
    }
    return la - lb;
  }

  driverId(no: number): string {
    return Buffer.from(this.idBytes.buffer, this.idOff[no], this.idOff[no + 1] - this.idOff[no]).toString('utf8');
  }

  /** Does metaset ms hold every (key, value) pair of `filter` (flat [k0, v0, k1, v1, ...])? */
  matches(ms: number, filter: Uint32Array): boolean {
    const from = this.msOff[ms], to = this.msOff[ms + 1];
    outer: for (let f = 0; f < filter.length; f += 2) {
      for (let i = from; i < to; i += 2) if (this.msPairs[i] === filter[f]) { if (this.msPairs[i + 1] === filter[f + 1]) continue outer; return false; }
      return false;
    }
    return true;
  }
}

/** Write side: lives with the model's writer. */
export class InternTable extends InternView {
  private readonly driverNo = new Map<string, number>();
  private readonly strings = new Map<string, number>();
  private readonly stringOf: string[] = [];
  /** Trie over sorted (key, value) pairs; a node ending a known set holds its number. */
  private readonly metaRoot: MetaNode = {};
  private readonly metasetObj: Readonly<Record<string, string>>[] = [];

  static create(cap: InternCapacity = DEFAULT_INTERN_CAPACITY): InternTable {
    return new InternTable({
      counts: new SharedArrayBuffer(16),
      idOff: new SharedArrayBuffer(4 * (cap.drivers + 1)),
      idBytes: new SharedArrayBuffer(cap.idBytes),
      msOff: new SharedArrayBuffer(4 * (cap.metasets + 1)),
      msPairs: new SharedArrayBuffer(4 * cap.pairs),
    });
  }

  get driverCount(): number { return this.counts[DRIVERS]; }

  /** Existing number of a driver ID, or undefined. */
  lookupDriver(id: string): number | undefined { return this.driverNo.get(id); }

  /** Number of a driver ID, interning it if new. Numbers are never reused. */
  driver(id: string): number {
    let no = this.driverNo.get(id);
    if (no !== undefined) return no;
    no = this.counts[DRIVERS];
    if (no + 1 >= this.idOff.length) throw new FarosError('RESOURCE_EXHAUSTED', `driver table full (${no} distinct driver IDs); raise the model's driver capacity`);
    const start = this.idOff[no];
    const enc = Buffer.from(id, 'utf8');
    if (start + enc.length > this.idBytes.length) throw new FarosError('RESOURCE_EXHAUSTED', 'driver ID table full; raise the model\'s ID byte capacity');
    this.idBytes.set(enc, start);
    this.idOff[no + 1] = start + enc.length;
    Atomics.store(this.counts, DRIVERS, no + 1);
    this.driverNo.set(id, no);
    return no;
  }

  private str(s: string, create: boolean): number | undefined {
    let n = this.strings.get(s);
    if (n === undefined && create) { n = this.stringOf.length; this.strings.set(s, n); this.stringOf.push(s); }
    return n;
  }

  /**
   * Metaset number of a metadata map (interned). Hot: once per update, so a
   * known set is found by walking a trie of Maps over its sorted pairs,
   * allocating nothing (keys usually arrive sorted; sorted only if not).
   */
  metaset(meta: Record<string, string>): number {
    let node: MetaNode | undefined = this.metaRoot;
    let prev: string | undefined;
    let sorted = true;
    for (const k in meta) {
      if (prev !== undefined && prev > k) { sorted = false; break; }
      prev = k;
      node = node?.next?.get(k)?.get(meta[k]);
    }
    if (sorted && node?.ms !== undefined) return node.ms;
    const keys = Object.keys(meta).sort();
    node = this.metaRoot;
    for (let i = 0; i < keys.length && node; i++) node = node.next?.get(keys[i])?.get(meta[keys[i]]);
    if (node?.ms !== undefined) return node.ms;
    return this.addMetaset(keys, meta);
  }

  private addMetaset(keys: string[], meta: Record<string, string>): number {
    const ms = this.counts[METASETS];
    if (ms + 1 >= this.msOff.length) throw new FarosError('RESOURCE_EXHAUSTED', 'metadata table full: too many distinct metadata combinations');
    const start = this.msOff[ms];
    if (start + 2 * keys.length > this.msPairs.length) throw new FarosError('RESOURCE_EXHAUSTED', 'metadata pair table full');
    keys.forEach((k, i) => { this.msPairs[start + 2 * i] = this.str(k, true)!; this.msPairs[start + 2 * i + 1] = this.str(meta[k], true)!; });
    this.msOff[ms + 1] = start + 2 * keys.length;
    Atomics.store(this.counts, METASETS, ms + 1);
    let node = this.metaRoot;
    for (const k of keys) {
      node.next ??= new Map();
      let byValue = node.next.get(k);
      if (!byValue) { byValue = new Map(); node.next.set(k, byValue); }
      let child = byValue.get(meta[k]);
      if (!child) { child = {}; byValue.set(meta[k], child); }
      node = child;
    }
    node.ms = ms;
    this.metasetObj.push(Object.freeze(Object.fromEntries(keys.map((k) => [k, meta[k]]))));
    return ms;
  }

  metadataOf(ms: number): Readonly<Record<string, string>> { return this.metasetObj[ms]; }

  /**
   * A filter as number pairs; undefined when some key or value was never
   * seen, so no driver can match.
   */
  filterPairs(filter: Record<string, string> | undefined): Uint32Array | undefined {
    const keys = Object.keys(filter ?? {});
    const out = new Uint32Array(2 * keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = this.str(keys[i], false), v = this.str(filter![keys[i]], false);
      if (k === undefined || v === undefined) return undefined;
      out[2 * i] = k; out[2 * i + 1] = v;
    }
    return out;
  }
}
