// Interned driver IDs and metadata sets in shared memory, written by the
// model's writer thread and read by search threads without locks:
//  - driver IDs: driver number → UTF-8 bytes (workers break cost ties by
//    comparing these bytes, which is exactly SEMANTICS.md's order);
//  - metadata sets: metaset number → sorted (key number, value number) pairs
//    (workers check filters as numbers; the writer keeps the strings).
// An entry is written before the commit that first stores a driver using it,
// so any reader that reaches its number through a published tree sees it whole.
//
// Reclamation (a client streaming ever-new IDs or metadata values must not
// fill the tables). A driver number is in use while a stored driver has it; a
// metaset while stored drivers refer to it (a refcount kept by DriverStore);
// a string while allocated metasets use it. When the last use goes
// (DriverStore.remove — explicit removes and the TTL sweep — or a metadata
// change), the entry is retired, and freed (its number and storage reused)
// only when nothing can still read it, by the ART's epoch rule (art/epoch.ts)
// over the same reader slots: an entry retired by the commit that published
// sequence s is freed once every pinned reader holds a pin >= s. Search
// threads read numbers only while pinned; the main thread reads numbers of a
// search answer after the search thread let go, and a filter names string
// numbers before any thread pins: it holds a ReuseHold (below) from before the
// filter is made until the answer has been used, which counts as a pin here.
// An entry retired and used again before it was freed keeps its number.
//
// Why free lists of our own and not the ART arena's allocator: the numbers
// (indexes into these tables, held in tree keys and values) need the same
// epoch-delayed reuse anyway, so this queue exists regardless, and byte and
// pair storage is freed together with its number. Storage comes in fixed
// sizes, so no mix of lengths can fragment it (variable-size slots would let
// a client cycling ID lengths or pair counts fill a table with a small live
// set): an ID of up to ID_INLINE bytes sits in its driver number's own slot,
// a longer one in 128-byte overflow slots; a metadata set's pairs sit in a
// chain of 8-word chunks. These tables keep their own capacities and
// RESOURCE_EXHAUSTED messages, apart from the tree arena's.
import { FarosError } from '../../errors.js';
import { oldestPin } from './art/epoch.js';
import { H_SEQ } from './art/header.js';

/**
 * drivers: driver numbers (IDs stored or removed and not yet freed), each with
 * ID_INLINE bytes for its ID; idBytes: overflow bytes for IDs longer than
 * that (128 per ID up to 128 bytes); metasets: metadata sets; pairs: words
 * for their pairs (8-word chunks of 3 pairs).
 */
export interface InternCapacity {
  drivers: number;
  idBytes: number;
  metasets: number;
  pairs: number;
}

export const DEFAULT_INTERN_CAPACITY: Readonly<InternCapacity> = Object.freeze({
  drivers: 1 << 21,
  idBytes: 64 << 20,
  metasets: 1 << 20,
  pairs: 1 << 23,
});

/** The shared buffers; send this to workers. */
export interface InternBuffers {
  counts: SharedArrayBuffer;
  idOff: SharedArrayBuffer;
  idBytes: SharedArrayBuffer;
  msOff: SharedArrayBuffer;
  msPairs: SharedArrayBuffer;
}

// Int32 words of `counts`: figures for any thread (Atomics), then the holds.
const C_DRIVERS = 0,
  C_ID_BYTES = 1,
  C_METASETS = 2,
  C_PAIRS = 3;
/** ReuseHold slots per map: [state (1 = claimed), held sequence (0 = none)]. */
export const HOLD_SLOTS = 16;
const HOLD_BASE = 8;
const COUNT_WORDS = HOLD_BASE + 2 * HOLD_SLOTS;

/** IDs up to this many bytes sit in their driver number's slot (UUIDs: 36). */
export const ID_INLINE = 48;
/** Longer IDs take overflow slots of a multiple of this (one slot for the API's 128-byte limit). */
const ID_OVERFLOW = 128;
/** Pair chunks: [next chunk's word offset (0 = last)][unused][3 pairs]; chunk 0 is never used. */
const CHUNK = 8,
  CHUNK_PAIRS = 3;

interface MetaNode {
  ms?: number;
  next?: Map<string, Map<string, MetaNode>>;
}

/** Read side (any thread). Valid for numbers reached through a pinned snapshot. */
export class InternView {
  protected readonly counts: Int32Array;
  /** Per driver number: [start byte, byte length] in idBytes. */
  protected readonly idOff: Uint32Array;
  protected readonly idBytes: Uint8Array;
  /** Per metaset number: [first chunk's word offset, pair words] in msPairs (chunked, see CHUNK). */
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
    const ia = this.idOff[2 * a],
      la = this.idOff[2 * a + 1],
      ib = this.idOff[2 * b],
      lb = this.idOff[2 * b + 1];
    const n = Math.min(la, lb);
    const bytes = this.idBytes;
    for (let i = 0; i < n; i++) {
      const x = bytes[ia + i],
        y = bytes[ib + i];
      if (x !== y) return x - y;
    }
    return la - lb;
  }

  driverId(no: number): string {
    return Buffer.from(this.idBytes.buffer, this.idOff[2 * no], this.idOff[2 * no + 1]).toString('utf8');
  }

  /** Does metaset ms hold every (key, value) pair of `filter` (flat [k0, v0, k1, v1, ...])? */
  matches(ms: number, filter: Uint32Array): boolean {
    const first = this.msOff[2 * ms],
      words = this.msOff[2 * ms + 1],
      p = this.msPairs;
    outer: for (let f = 0; f < filter.length; f += 2) {
      for (let c = first, i = c + 2, left = words; left > 0; left -= 2) {
        if (p[i] === filter[f]) {
          if (p[i + 1] === filter[f + 1]) continue outer;
          return false;
        }
        i += 2;
        if (i === c + CHUNK) {
          c = p[c];
          i = c + 2;
        }
      }
      return false;
    }
    return true;
  }
}

/** Figures of an InternTable (tests, benchmarks, metrics). */
export interface InternStats {
  /** Driver numbers allocated: stored drivers + retired ones not yet freed. */
  driversInUse: number;
  /** Driver numbers of stored drivers. */
  driversLive: number;
  /** Highest driver number ever handed out + 1 (the tables' touched size). */
  driverHighWater: number;
  /** Bytes of the ID table ever handed out: inline slots up to driverHighWater + overflow (high-water mark). */
  idBytesHighWater: number;
  metasetsInUse: number;
  metasetsLive: number;
  metasetHighWater: number;
  /** Pair words ever handed out, in chunks (high-water mark). */
  pairWordsHighWater: number;
  stringsInUse: number;
  /** Entries (drivers, metasets, strings) retired and waiting for readers to move on. */
  retiredPending: number;
  /** Numbers freed so far (driver numbers, metasets, strings). */
  freed: { drivers: number; metasets: number; strings: number };
}

const K_DRIVER = 0,
  K_METASET = 1,
  K_STRING = 2;

/** Write side: lives with the model's writer (DriverStore). */
export class InternTable extends InternView {
  private readonly cap: InternCapacity;
  /** The ART arena's header (sequence number, reader pins). */
  private readonly arena: Int32Array;

  // Drivers. Per number (writer only): 1 while a stored driver has it; retire
  // entries not yet drained; size class of its overflow slot (0 = inline).
  private readonly driverNo = new Map<string, number>();
  private readonly idOf: (string | undefined)[] = [];
  private dRef = new Int32Array(1024);
  private dPend = new Int32Array(1024);
  private dCls = new Int32Array(1024);
  private readonly dFree = new IntStack();
  private dTop = 0;
  private dLive = 0;
  private readonly idSlots: SizeClasses;
  private readonly inlineBytes: number;

  // Metadata sets: refcount (stored drivers), retire entries; pair chunks.
  private readonly strings = new Map<string, number>();
  private readonly stringOf: (string | undefined)[] = [];
  private strRef = new Int32Array(256);
  private strPend = new Int32Array(256);
  private readonly strFree = new IntStack();
  /** Trie over sorted (key, value) pairs; a node ending a known set holds its number. */
  private readonly metaRoot: MetaNode = {};
  private readonly metasetObj: (Readonly<Record<string, string>> | undefined)[] = [];
  private msRef = new Int32Array(256);
  private msPend = new Int32Array(256);
  private readonly msFree = new IntStack();
  private msTop = 0;
  private msLive = 0;
  private readonly chunkFree = new IntStack();
  private chunkTop = CHUNK;

  private readonly retired = new RetireLog();
  private readonly freed = { drivers: 0, metasets: 0, strings: 0 };
  private readonly drainFn = (x: number): void => this.drained(x);

  /** `arena`: the Int32Array over the store's ART arena, whose epochs gate reuse. */
  static create(arena: Int32Array, cap: InternCapacity = DEFAULT_INTERN_CAPACITY): InternTable {
    return new InternTable(
      {
        counts: new SharedArrayBuffer(4 * COUNT_WORDS),
        idOff: new SharedArrayBuffer(8 * cap.drivers),
        idBytes: new SharedArrayBuffer(ID_INLINE * cap.drivers + cap.idBytes),
        msOff: new SharedArrayBuffer(8 * cap.metasets),
        msPairs: new SharedArrayBuffer(4 * cap.pairs),
      },
      arena,
      cap,
    );
  }

  private constructor(buffers: InternBuffers, arena: Int32Array, cap: InternCapacity) {
    super(buffers);
    this.arena = arena;
    this.cap = { ...cap };
    this.inlineBytes = ID_INLINE * cap.drivers;
    this.idSlots = new SizeClasses(this.inlineBytes, this.inlineBytes + cap.idBytes, ID_OVERFLOW);
  }

  /** Driver numbers in use (stored + retired not yet freed). */
  get driverCount(): number {
    return this.dTop - this.dFree.length;
  }

  stats(): InternStats {
    return {
      driversInUse: this.dTop - this.dFree.length,
      driversLive: this.dLive,
      driverHighWater: this.dTop,
      idBytesHighWater: this.idBytesHighWater(),
      metasetsInUse: this.msTop - this.msFree.length,
      metasetsLive: this.msLive,
      metasetHighWater: this.msTop,
      pairWordsHighWater: this.chunkTop,
      stringsInUse: this.strings.size,
      retiredPending: this.retired.pending,
      freed: { ...this.freed },
    };
  }

  private idBytesHighWater(): number {
    return ID_INLINE * this.dTop + this.idSlots.top - this.inlineBytes;
  }

  /** Existing number of a driver ID (stored, or removed and not yet freed), or undefined. */
  lookupDriver(id: string): number | undefined {
    return this.driverNo.get(id);
  }

  /**
   * Number of a driver ID about to be stored, interning it if new; marks it
   * in use (a removed ID not yet freed gets its old number back). Hot: a
   * known ID costs one Map lookup.
   */
  driver(id: string): number {
    const no = this.driverNo.get(id);
    if (no === undefined) return this.addDriver(id);
    if (this.dRef[no] === 0) {
      this.dRef[no] = 1;
      this.dLive++;
    }
    return no;
  }

  /** The driver with number `no` is no longer stored (its removal is in the open commit). */
  releaseDriver(no: number): void {
    if (this.dRef[no] === 0) return;
    this.dRef[no] = 0;
    this.dLive--;
    this.dPend[no]++;
    this.retired.push(no * 4 + K_DRIVER);
  }

  private addDriver(id: string): number {
    const enc = Buffer.from(id, 'utf8');
    let no = this.takeNumber(this.dFree, this.dTop, this.cap.drivers);
    if (no < 0) {
      this.reclaim();
      no = this.takeNumber(this.dFree, this.dTop, this.cap.drivers);
    }
    if (no < 0) {
      throw new FarosError(
        'RESOURCE_EXHAUSTED',
        `driver table full (${this.dLive} drivers stored, ${this.dTop - this.dFree.length - this.dLive} removed ones waiting for searches to finish, capacity ${this.cap.drivers}); raise the model's driver capacity`,
      );
    }
    let start = ID_INLINE * no,
      c = 0;
    if (enc.length > ID_INLINE) {
      c = this.idSlots.cls(enc.length);
      start = this.idSlots.alloc(c);
      if (start < 0) {
        this.reclaim();
        start = this.idSlots.alloc(c);
      }
      if (start < 0) {
        if (no !== this.dTop) this.dFree.push(no); // give back a number taken from the free list
        throw new FarosError(
          'RESOURCE_EXHAUSTED',
          `driver ID table full: no room left for IDs longer than ${ID_INLINE} bytes (${this.cap.idBytes} bytes, ${this.dLive} drivers stored); raise the model's ID byte capacity`,
        );
      }
      c = this.idSlots.lastCls;
    }
    if (no === this.dTop) {
      this.dTop++;
      if (no >= this.dRef.length) {
        const n = grownLength(this.dRef.length, no);
        this.dRef = grow(this.dRef, n);
        this.dPend = grow(this.dPend, n);
        this.dCls = grow(this.dCls, n);
      }
    }
    this.dCls[no] = c;
    this.idBytes.set(enc, start);
    this.idOff[2 * no] = start;
    this.idOff[2 * no + 1] = enc.length;
    this.dRef[no] = 1;
    this.dLive++;
    this.driverNo.set(id, no);
    this.idOf[no] = id;
    Atomics.store(this.counts, C_DRIVERS, this.dTop - this.dFree.length);
    Atomics.store(this.counts, C_ID_BYTES, this.idBytesHighWater());
    return no;
  }

  /** A free number (popped), or top if below cap (the caller bumps top), or −1. */
  private takeNumber(free: IntStack, top: number, cap: number): number {
    if (free.length > 0) return free.pop();
    return top < cap ? top : -1;
  }

  private freeDriver(no: number): void {
    const id = this.idOf[no]!;
    this.driverNo.delete(id);
    this.idOf[no] = undefined;
    if (this.dCls[no] > 0) this.idSlots.release(this.idOff[2 * no], this.dCls[no]);
    this.dFree.push(no);
    this.freed.drivers++;
    Atomics.store(this.counts, C_DRIVERS, this.dTop - this.dFree.length);
  }

  /**
   * Metaset number of a metadata map (interned; the caller counts the
   * reference with refMetaset). Hot: once per update, so a known set is found
   * by walking a trie of Maps over its sorted pairs, allocating nothing (keys
   * usually arrive sorted; sorted only if not).
   */
  metaset(meta: Record<string, string>): number {
    let node: MetaNode | undefined = this.metaRoot;
    let prev: string | undefined;
    let sorted = true;
    for (const k in meta) {
      if (prev !== undefined && prev > k) {
        sorted = false;
        break;
      }
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

  /** One more stored driver refers to metaset ms. */
  refMetaset(ms: number): void {
    if (this.msRef[ms]++ === 0) this.msLive++;
  }

  /** One stored driver fewer refers to metaset ms (the change is in the open commit). */
  unrefMetaset(ms: number): void {
    if (--this.msRef[ms] !== 0) return;
    this.msLive--;
    this.msPend[ms]++;
    this.retired.push(ms * 4 + K_METASET);
  }

  private addMetaset(keys: string[], meta: Record<string, string>): number {
    let ms = this.takeNumber(this.msFree, this.msTop, this.cap.metasets);
    if (ms < 0) {
      this.reclaim();
      ms = this.takeNumber(this.msFree, this.msTop, this.cap.metasets);
    }
    if (ms < 0)
      throw new FarosError(
        'RESOURCE_EXHAUSTED',
        `metadata table full: ${this.msLive} distinct metadata combinations in use by stored drivers (capacity ${this.cap.metasets})`,
      );
    const nChunks = Math.ceil(keys.length / CHUNK_PAIRS);
    let first = this.takeChunks(nChunks);
    if (first < 0) {
      this.reclaim();
      first = this.takeChunks(nChunks);
    }
    if (first < 0) {
      if (ms !== this.msTop) this.msFree.push(ms);
      throw new FarosError(
        'RESOURCE_EXHAUSTED',
        `metadata pair table full (${this.cap.pairs} words: ${Math.floor(this.cap.pairs / CHUNK) * CHUNK_PAIRS} pairs in chunks of ${CHUNK_PAIRS}, ${this.msLive} metadata sets in use)`,
      );
    }
    if (ms === this.msTop) {
      this.msTop++;
      if (ms >= this.msRef.length) {
        const n = grownLength(this.msRef.length, ms);
        this.msRef = grow(this.msRef, n);
        this.msPend = grow(this.msPend, n);
      }
    }
    const p = this.msPairs;
    for (let i = 0, c = first; i < keys.length; i++) {
      const at = c + 2 + 2 * (i % CHUNK_PAIRS);
      p[at] = this.refString(keys[i]);
      p[at + 1] = this.refString(meta[keys[i]]);
      if (i % CHUNK_PAIRS === CHUNK_PAIRS - 1) c = p[c];
    }
    this.msOff[2 * ms] = first;
    this.msOff[2 * ms + 1] = 2 * keys.length;
    let node = this.metaRoot;
    for (const k of keys) {
      node.next ??= new Map();
      let byValue = node.next.get(k);
      if (!byValue) {
        byValue = new Map();
        node.next.set(k, byValue);
      }
      let child = byValue.get(meta[k]);
      if (!child) {
        child = {};
        byValue.set(meta[k], child);
      }
      node = child;
    }
    node.ms = ms;
    this.metasetObj[ms] = Object.freeze(Object.fromEntries(keys.map((k) => [k, meta[k]])));
    Atomics.store(this.counts, C_METASETS, this.msTop - this.msFree.length);
    Atomics.store(this.counts, C_PAIRS, this.chunkTop);
    return ms;
  }

  private freeMetaset(ms: number): void {
    const obj = this.metasetObj[ms]!;
    const keys = Object.keys(obj).sort();
    // Unlink from the trie, pruning nodes left empty.
    const path: MetaNode[] = [this.metaRoot];
    for (const k of keys) path.push(path[path.length - 1].next!.get(k)!.get(obj[k])!);
    path[keys.length].ms = undefined;
    for (let i = keys.length; i > 0; i--) {
      const n = path[i];
      if (n.ms !== undefined || (n.next && n.next.size > 0)) break;
      const parent = path[i - 1],
        byValue = parent.next!.get(keys[i - 1])!;
      byValue.delete(obj[keys[i - 1]]);
      if (byValue.size === 0) {
        parent.next!.delete(keys[i - 1]);
        if (parent.next!.size === 0) parent.next = undefined;
      }
    }
    const p = this.msPairs;
    for (let c = this.msOff[2 * ms], left = this.msOff[2 * ms + 1]; left > 0; c = p[c]) {
      for (let i = c + 2; i < c + CHUNK && left > 0; i++, left--) this.unrefString(p[i]);
      this.chunkFree.push(c);
    }
    this.metasetObj[ms] = undefined;
    this.msFree.push(ms);
    this.freed.metasets++;
    Atomics.store(this.counts, C_METASETS, this.msTop - this.msFree.length);
  }

  /** A chain of n pair chunks (linked, the last one's next = 0); its first chunk's offset, 0 for none, or −1 if the table is full. */
  private takeChunks(n: number): number {
    if (n === 0) return 0;
    if (this.chunkFree.length + Math.floor((this.cap.pairs - this.chunkTop) / CHUNK) < n) return -1;
    let next = 0;
    for (let k = 0; k < n; k++) {
      let c: number;
      if (this.chunkFree.length > 0) c = this.chunkFree.pop();
      else {
        c = this.chunkTop;
        this.chunkTop += CHUNK;
      }
      this.msPairs[c] = next;
      next = c;
    }
    return next;
  }

  metadataOf(ms: number): Readonly<Record<string, string>> {
    return this.metasetObj[ms]!;
  }

  private refString(s: string): number {
    let n = this.strings.get(s);
    if (n === undefined) {
      n = this.strFree.length > 0 ? this.strFree.pop() : this.stringOf.length;
      if (n >= this.strRef.length) {
        const len = grownLength(this.strRef.length, n);
        this.strRef = grow(this.strRef, len);
        this.strPend = grow(this.strPend, len);
      }
      this.strings.set(s, n);
      this.stringOf[n] = s;
    }
    this.strRef[n]++;
    return n;
  }

  /**
   * A string no metaset uses is retired like the rest: a filter made before
   * may still name its number (a search waiting for a thread), see ReuseHold.
   */
  private unrefString(n: number): void {
    if (--this.strRef[n] !== 0) return;
    this.strPend[n]++;
    this.retired.push(n * 4 + K_STRING);
  }

  private freeString(n: number): void {
    this.strings.delete(this.stringOf[n]!);
    this.stringOf[n] = undefined;
    this.strFree.push(n);
    this.freed.strings++;
  }

  /**
   * A filter as number pairs; undefined when some key or value is used by no
   * metadata set, so no driver can match. (A string retired but not yet freed
   * counts as unknown: its number may be reused before the search runs.)
   */
  filterPairs(filter: Record<string, string> | undefined): Uint32Array | undefined {
    const keys = Object.keys(filter ?? {});
    const out = new Uint32Array(2 * keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = this.strings.get(keys[i]),
        v = this.strings.get(filter![keys[i]]);
      if (k === undefined || v === undefined || this.strRef[k] === 0 || this.strRef[v] === 0) return undefined;
      out[2 * i] = k;
      out[2 * i + 1] = v;
    }
    return out;
  }

  /**
   * After a commit: entries retired since the last one are tagged with the
   * sequence it published, and whatever no reader can reach any more is
   * freed. O(1) when nothing was retired or is waiting.
   */
  afterCommit(): void {
    this.retired.seal(Atomics.load(this.arena, H_SEQ));
    if (this.retired.sealed) this.reclaim();
  }

  /** Free every sealed batch of retired entries that no pin or hold can still reach. */
  reclaim(): void {
    if (!this.retired.sealed) return;
    this.retired.drain(this.oldest(), this.drainFn);
  }

  /** The oldest pin of the arena's readers and of the holds, 0 if none. */
  private oldest(): number {
    const seq = Atomics.load(this.arena, H_SEQ);
    let oldest = oldestPin(this.arena, seq);
    let age = oldest === 0 ? -1 : (seq - oldest) | 0;
    for (let s = 0; s < HOLD_SLOTS; s++) {
      const p = Atomics.load(this.counts, HOLD_BASE + 2 * s + 1);
      if (p === 0) continue;
      const a = (seq - p) | 0;
      if (a > age) {
        age = a;
        oldest = p;
      }
    }
    return oldest;
  }

  /** One retire entry whose readers are gone: free it unless used again or retired again since. */
  private drained(x: number): void {
    const i = x >>> 2;
    switch (x & 3) {
      case K_DRIVER:
        if (--this.dPend[i] === 0 && this.dRef[i] === 0) this.freeDriver(i);
        break;
      case K_METASET:
        if (--this.msPend[i] === 0 && this.msRef[i] === 0) this.freeMetaset(i);
        break;
      case K_STRING:
        if (--this.strPend[i] === 0 && this.strRef[i] === 0) this.freeString(i);
        break;
    }
  }

  /**
   * After an aborted batch: set the uses from what the published tree holds
   * (`scan` calls back with each stored driver's number and metaset), and
   * retire what the batch had taken but is not stored (conservatively: the
   * entries go into the next commit's batch).
   */
  resync(scan: (visit: (no: number, ms: number) => void) => void): void {
    const dNow = new Int32Array(this.dTop),
      msNow = new Int32Array(this.msTop);
    scan((no, ms) => {
      dNow[no] = 1;
      msNow[ms]++;
    });
    this.dLive = 0;
    for (let no = 0; no < this.dTop; no++) {
      if (this.idOf[no] === undefined) continue; // free
      this.dRef[no] = dNow[no];
      this.dLive += dNow[no];
      if (dNow[no] === 0 && this.dPend[no] === 0) {
        this.dPend[no]++;
        this.retired.push(no * 4 + K_DRIVER);
      }
    }
    this.msLive = 0;
    for (let ms = 0; ms < this.msTop; ms++) {
      if (this.metasetObj[ms] === undefined) continue; // free
      this.msRef[ms] = msNow[ms];
      if (msNow[ms] > 0) this.msLive++;
      else if (this.msPend[ms] === 0) {
        this.msPend[ms]++;
        this.retired.push(ms * 4 + K_METASET);
      }
    }
  }
}

/**
 * Holds back reuse of freed numbers for work the main thread does outside
 * any reader pin: a nearby query's filter is made of string numbers before a
 * search thread pins, and its answer (driver and metaset numbers) is read
 * after the search thread let go. enter() before making the filter, leave()
 * once the answer has been used; meanwhile the sequence seen at enter() acts
 * as a pin for the intern tables (not for the ART: those records are only read
 * by the pinned search). One per (thread, map); runs of entries with the same
 * sequence share one counter, so the hold advances under continuous load.
 */
export class ReuseHold {
  private readonly counts: Int32Array;
  private readonly arena: Int32Array;
  private readonly word: number;
  private runs: HoldRun[] = [];
  private head = 0;
  private closed = false;

  constructor(intern: InternBuffers, arena: SharedArrayBuffer) {
    this.counts = new Int32Array(intern.counts);
    this.arena = new Int32Array(arena);
    for (let s = 0; s < HOLD_SLOTS; s++) {
      if (Atomics.compareExchange(this.counts, HOLD_BASE + 2 * s, 0, 1) === 0) {
        this.word = HOLD_BASE + 2 * s + 1;
        Atomics.store(this.counts, this.word, 0);
        return;
      }
    }
    throw new FarosError('RESOURCE_EXHAUSTED', `all ${HOLD_SLOTS} reuse holds of this map are taken (one per worker pool using it)`);
  }

  /** Held sequences now (tests). */
  get held(): number {
    return this.runs.length - this.head;
  }

  enter(): HoldRun {
    const seq = Atomics.load(this.arena, H_SEQ);
    const n = this.runs.length;
    if (n > this.head && this.runs[n - 1].seq === seq) {
      this.runs[n - 1].n++;
      return this.runs[n - 1];
    }
    const r: HoldRun = { seq, n: 1 };
    this.runs.push(r);
    if (n === this.head && !this.closed) Atomics.store(this.counts, this.word, seq);
    return r;
  }

  leave(r: HoldRun): void {
    if (--r.n > 0 || r !== this.runs[this.head]) return;
    while (this.head < this.runs.length && this.runs[this.head].n === 0) this.head++;
    if (this.head === this.runs.length) {
      this.runs.length = 0;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.runs.length) {
      this.runs = this.runs.slice(this.head);
      this.head = 0;
    }
    if (!this.closed) Atomics.store(this.counts, this.word, this.head < this.runs.length ? this.runs[this.head].seq : 0);
  }

  /** Give the slot back (the map was dropped or the pool closed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.counts, this.word, 0);
    Atomics.store(this.counts, this.word - 1, 0);
  }
}

export interface HoldRun {
  readonly seq: number;
  n: number;
}

/**
 * Writer-side FIFO of retired entries (index * 4 + kind) in batches tagged
 * with the commit sequence that unlinked them; tags increase, so batches free
 * from the front (the same rule as art/epoch.ts RetireQueue).
 */
class RetireLog {
  private e = new Int32Array(1024);
  private head = 0;
  private tail = 0;
  private tags: number[] = [];
  private ends: number[] = [];
  private bh = 0;

  get pending(): number {
    return this.tail - this.head;
  }
  /** Some sealed batch is waiting. */
  get sealed(): boolean {
    return this.bh < this.tags.length;
  }

  push(x: number): void {
    // Never moves entries (drain() may call back into push): compaction is drain's.
    if (this.tail === this.e.length) this.e = grow(this.e, this.e.length * 2);
    this.e[this.tail++] = x;
  }

  seal(tag: number): void {
    const last = this.ends.length > this.bh ? this.ends[this.ends.length - 1] : this.head;
    if (this.tail === last) return;
    this.tags.push(tag);
    this.ends.push(this.tail);
  }

  /** Drains batches every pin has passed (oldest 0 = no pin); fn may push new entries. */
  drain(oldest: number, fn: (x: number) => void): void {
    while (this.bh < this.tags.length) {
      if (oldest !== 0 && ((oldest - this.tags[this.bh]) | 0) < 0) break;
      const end = this.ends[this.bh++];
      while (this.head < end) fn(this.e[this.head++]);
    }
    if (this.bh === this.tags.length) {
      this.tags.length = 0;
      this.ends.length = 0;
      this.bh = 0;
    } else if (this.bh > 64 && this.bh * 2 > this.tags.length) {
      this.tags = this.tags.slice(this.bh);
      this.ends = this.ends.slice(this.bh);
      this.bh = 0;
    }
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    } else if (this.head > 1024 && this.head * 2 > this.tail) {
      const by = this.head;
      this.e.copyWithin(0, by, this.tail);
      this.head = 0;
      this.tail -= by;
      for (let i = this.bh; i < this.ends.length; i++) this.ends[i] -= by;
    }
  }
}

/**
 * Slots of [base, end) of a buffer in size classes of `granule` units (class
 * c = c granules): a free stack per class and a bump pointer. An exact class
 * is tried first, then fresh space, then a larger class's free slot (the slot
 * keeps its class: the caller records lastCls and gives it back to release()).
 * Used for overflow IDs, all of one class up to the API's 128-byte limit.
 */
class SizeClasses {
  top: number;
  lastCls = 0;
  private readonly free: IntStack[] = [];

  constructor(
    base: number,
    private readonly capacity: number,
    private readonly granule: number,
  ) {
    this.top = base;
  }

  cls(units: number): number {
    return Math.ceil(units / this.granule);
  }

  /** Start of a slot of class c, or −1 if none is left. */
  alloc(c: number): number {
    this.lastCls = c;
    if (c === 0) return 0;
    const f = this.free[c];
    if (f !== undefined && f.length > 0) return f.pop();
    const size = c * this.granule;
    if (this.top + size <= this.capacity) {
      const s = this.top;
      this.top += size;
      return s;
    }
    for (let d = c + 1; d < this.free.length; d++) {
      const g = this.free[d];
      if (g !== undefined && g.length > 0) {
        this.lastCls = d;
        return g.pop();
      }
    }
    return -1;
  }

  release(start: number, c: number): void {
    if (c === 0) return;
    (this.free[c] ??= new IntStack()).push(start);
  }
}

class IntStack {
  private a = new Int32Array(64);
  length = 0;
  push(x: number): void {
    if (this.length === this.a.length) this.a = grow(this.a, this.a.length * 2);
    this.a[this.length++] = x;
  }
  pop(): number {
    return this.a[--this.length];
  }
}

function grownLength(len: number, atLeast: number): number {
  let n = len;
  while (n <= atLeast) n *= 2;
  return n;
}

function grow(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
