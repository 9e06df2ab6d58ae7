// The driver store of one model: two copy-on-write ARTs in one shared arena
// (driver number → driver record; edge ⊕ driver number → position), plus the
// interned driver IDs and metadata. One writer (this class) applies snapped
// updates in batches and publishes both trees at once; readers in any thread
// attach to the same buffers (StoreReader) and search a pinned snapshot.
// Interned entries are reclaimed once no stored driver uses them (intern.ts):
// this class counts the uses (driver number stored or not, metaset refcount)
// and, after each commit, lets the intern free what no reader can reach.
import { ArtArena, ArtCapacityError, type ArtReader, type ArtTree, type ArtTxn } from './art/index.js';
import { FarosError } from '../../errors.js';
import { InternTable, type InternBuffers, type InternCapacity, DEFAULT_INTERN_CAPACITY } from './intern.js';
import type { RoadGraph } from '../graph/roadgraph.js';
import { DRIVERS, EDGES, D_SEG, D_T, D_LAT, D_LNG, D_SNAP, D_TS, D_MS, D_WORDS, E_SEG, E_T, E_TS, E_MS, E_WORDS, getF64, setF64 } from './records.js';
import type { DriverUpdate, DriverView, Phantom } from '../types.js';
import { SNAP_FIELDS } from './records.js';

/** Everything a reader thread needs to attach to a store. */
export interface StoreBuffers {
  arena: SharedArrayBuffer;
  intern: InternBuffers;
}

/** A driver update after snapping (the writer's input). */
export interface SnappedUpdate {
  driverId: string;
  lat: number;
  lng: number;
  timestampMs: number;
  metadata: Record<string, string>;
  segment: number;
  t: number;
  snapM: number;
}

export interface StoreOptions {
  arenaBytes?: number;
  readerSlots?: number;
  intern?: InternCapacity;
}

/** One exported driver (state transfer, snapshots). */
export type DriverRecord = SnappedUpdate;

/**
 * Told of every stored change as it is written (before its commit publishes
 * it): driver number, its edge before (−1: new), its segment, offset and
 * timestamp after (segment −1: removed), and whether its metadata changed; driver −1: a
 * failed write, anything may have changed. Watches use it.
 */
export type TouchListener = (driverNo: number, oldEdge: number, segment: number, t: number, timestampMs: number, metaChanged: boolean) => void;

export class DriverStore {
  readonly arena: ArtArena;
  /** See TouchListener; undefined when nothing listens (no cost on the write path). */
  onTouch: TouchListener | undefined;
  readonly intern: InternTable;
  private readonly drivers: ArtTree;
  private readonly edges: ArtTree;
  /** The writer's own reader, for lookups and exports on a pinned root. */
  private readonly own: ArtReader;
  private readonly words = new Int32Array(D_WORDS);
  private readonly ewords = new Int32Array(E_WORDS);
  // Writer-only mirrors per driver number, so an update needs no tree lookup
  // for the stale check, the old edge and the old metaset: stored timestamp,
  // edge (−1 = absent), metaset (valid while the edge is).
  private tsOf = new Float64Array(1024);
  private edgeOf = new Int32Array(1024).fill(-1);
  private msOf = new Int32Array(1024);

  private ensureMirror(no: number): void {
    if (no < this.edgeOf.length) return;
    let n = this.edgeOf.length;
    while (n <= no) n *= 2;
    const ts = new Float64Array(n);
    ts.set(this.tsOf);
    this.tsOf = ts;
    const ed = new Int32Array(n).fill(-1);
    ed.set(this.edgeOf);
    this.edgeOf = ed;
    const ms = new Int32Array(n);
    ms.set(this.msOf);
    this.msOf = ms;
  }

  constructor(
    private readonly g: RoadGraph,
    opts: StoreOptions = {},
  ) {
    this.arena = ArtArena.create({ maxBytes: opts.arenaBytes ?? 256 * 1024 * 1024, readerSlots: opts.readerSlots ?? 64 });
    this.drivers = this.arena.addTree({ keyBytes: 4, valueWords: D_WORDS });
    this.edges = this.arena.addTree({ keyBytes: 8, valueWords: E_WORDS });
    if (this.drivers.id !== DRIVERS || this.edges.id !== EDGES) throw new Error('store: unexpected tree ids');
    this.intern = InternTable.create(this.arena.i32, opts.intern ?? DEFAULT_INTERN_CAPACITY);
    this.own = this.arena.reader();
  }

  get buffers(): StoreBuffers {
    return { arena: this.arena.sab, intern: this.intern.buffers };
  }

  /** Live driver count (including not yet swept expired ones). */
  get size(): number {
    return this.arena.size(this.drivers.root);
  }

  /**
   * Apply snapped updates as one publication (imports, the single-thread
   * model). Returns, per update, whether it was stale (an update with a newer
   * timestamp is stored).
   */
  apply(batch: readonly SnappedUpdate[]): boolean[] {
    const snap = new Float64Array(batch.length * SNAP_FIELDS);
    batch.forEach((u, i) => {
      snap[SNAP_FIELDS * i] = u.segment;
      snap[SNAP_FIELDS * i + 1] = u.t;
      snap[SNAP_FIELDS * i + 2] = u.snapM;
    });
    const stale = new Uint8Array(batch.length);
    this.write(batch, snap, 0, batch.length, stale);
    return Array.from(stale, (x) => x === 1);
  }

  /**
   * The writer's hot path (Shard.update): updates us[from..to) as one
   * publication, their snapping in `snap` as the workers return it
   * (SNAP_FIELDS per update: segment, t, distance), so no per-update object
   * is built. Updates with segment −1 (refused) are skipped. Sets stale[i]
   * to 1 for a stale update, 0 for a stored one.
   */
  applySnapped(us: readonly DriverUpdate[], snap: Float64Array, from: number, to: number, stale: Uint8Array): void {
    this.write(us, snap, from, to, stale);
  }

  private write(us: readonly DriverUpdate[], snap: Float64Array, from: number, to: number, stale: Uint8Array): void {
    const td = this.drivers.txn(),
      te = this.edges.txn();
    try {
      for (let i = from; i < to; i++) {
        const f = SNAP_FIELDS * i,
          seg = snap[f];
        if (seg < 0) continue;
        const u = us[i];
        stale[i] = this.put(td, te, this.intern.driver(u.driverId), u, seg, snap[f + 1], snap[f + 2]) ? 1 : 0;
      }
    } catch (err) {
      this.failed(td, te, err);
    }
    this.arena.commitAll([td, te]);
    this.intern.afterCommit();
  }

  /** Store one snapped update of driver `no` in the open txns; true if it was stale. */
  private put(td: ArtTxn, te: ArtTxn, no: number, u: DriverUpdate, segment: number, t: number, snapM: number): boolean {
    this.ensureMirror(no);
    const oldEdge = this.edgeOf[no];
    if (oldEdge >= 0 && this.tsOf[no] > u.timestampMs) return true;
    const edge = this.g.segEdge[segment];
    // Same edge (the common case: drivers move a few metres a second):
    // the insert below overwrites the value in place, no delete needed.
    if (oldEdge >= 0 && oldEdge !== edge) te.delete(oldEdge, no);
    const ms = this.intern.metaset(u.metadata);
    this.onTouch?.(no, oldEdge, segment, t, u.timestampMs, oldEdge >= 0 && this.msOf[no] !== ms);
    // Count the metaset's uses (O(1); nothing to do when it did not change).
    if (oldEdge < 0) this.intern.refMetaset(ms);
    else if (this.msOf[no] !== ms) {
      this.intern.refMetaset(ms);
      this.intern.unrefMetaset(this.msOf[no]);
    }
    this.msOf[no] = ms;
    const w = this.words;
    w[D_SEG] = segment;
    setF64(w, D_T, t);
    setF64(w, D_LAT, u.lat);
    setF64(w, D_LNG, u.lng);
    setF64(w, D_SNAP, snapM);
    setF64(w, D_TS, u.timestampMs);
    w[D_MS] = ms;
    td.insert(no, 0, w);
    const e = this.ewords;
    e[E_SEG] = segment;
    setF64(e, E_T, t);
    setF64(e, E_TS, u.timestampMs);
    e[E_MS] = ms;
    te.insert(edge, no, e);
    this.edgeOf[no] = edge;
    this.tsOf[no] = u.timestampMs;
    return false;
  }

  /** Undo a failed batch: nothing of it is published. */
  private failed(td: ArtTxn, te: ArtTxn, err: unknown): never {
    td.abort();
    te.abort();
    // Listeners were told of changes that are not published: driver −1 = "anything may have changed".
    this.onTouch?.(-1, -1, -1, 0, 0, true);
    // The mirrors may have run ahead of the aborted trees: rebuild them.
    this.rebuildMirror();
    throw storeError(err);
  }

  private rebuildMirror(): void {
    this.edgeOf.fill(-1);
    const i32 = this.arena.i32;
    this.arena.forEach(this.drivers.root, (no, _lo, v) => {
      this.edgeOf[no] = this.g.segEdge[i32[v + D_SEG]];
      this.tsOf[no] = getF64(i32, v + D_TS);
      this.msOf[no] = i32[v + D_MS];
    });
    // The intern's use counts may have run ahead too.
    this.intern.resync((visit) => this.arena.forEach(this.drivers.root, (no, _lo, v) => visit(no, i32[v + D_MS])));
  }

  /** Remove drivers (explicit removes, TTL sweep). Returns how many existed. */
  remove(driverIds: readonly string[]): boolean[] {
    const td = this.drivers.txn(),
      te = this.edges.txn();
    try {
      const out = driverIds.map((id) => {
        const no = this.intern.lookupDriver(id);
        if (no === undefined || no >= this.edgeOf.length || this.edgeOf[no] < 0) return false;
        this.onTouch?.(no, this.edgeOf[no], -1, 0, 0, false);
        te.delete(this.edgeOf[no], no);
        td.delete(no, 0);
        this.edgeOf[no] = -1;
        this.intern.unrefMetaset(this.msOf[no]);
        this.intern.releaseDriver(no);
        return true;
      });
      this.arena.commitAll([td, te]);
      this.intern.afterCommit();
      return out;
    } catch (err) {
      this.failed(td, te, err);
    }
  }

  /** The stored timestamp of a driver (expired or not), from the writer's mirror; undefined when absent. */
  timestampOf(driverId: string): number | undefined {
    const no = this.intern.lookupDriver(driverId);
    if (no === undefined || no >= this.edgeOf.length || this.edgeOf[no]! < 0) return undefined;
    return this.tsOf[no];
  }

  /** One driver as stored (expired or not). */
  get(driverId: string): DriverView | undefined {
    const no = this.intern.lookupDriver(driverId);
    if (no === undefined) return undefined;
    const v = this.arena.get(this.drivers.root, no, 0);
    return v < 0 ? undefined : driverView(this.g, this.arena.i32, v, driverId, this.intern.metadataOf(this.arena.i32[v + D_MS]));
  }

  /** IDs of drivers whose last update is older than ttlMs at nowMs. */
  expired(nowMs: number, ttlMs: number, max = Infinity): string[] {
    const out: string[] = [];
    const i32 = this.arena.i32;
    this.arena.forEach(this.drivers.root, (no, _lo, v) => {
      if (nowMs - getF64(i32, v + D_TS) > ttlMs) out.push(this.intern.driverId(no));
      return out.length < max;
    });
    return out;
  }

  /**
   * Visit every driver of one snapshot in chunks; writes continue meanwhile
   * (the snapshot's root stays pinned until the returned promise settles; the
   * pin also keeps the snapshot's driver numbers and metasets from reuse, so
   * IDs and metadata decoded after an await are still this snapshot's).
   */
  async exportSnapshot(onChunk: (records: DriverRecord[]) => Promise<void> | void, chunk = 5000): Promise<number> {
    const r = this.arena.reader();
    r.acquire();
    try {
      const root = r.root(DRIVERS);
      const i32 = r.i32;
      let buf: DriverRecord[] = [];
      let total = 0;
      // Collect driver numbers first (cheap), then build records chunk by chunk.
      const nos: number[] = [];
      const offs: number[] = [];
      r.forEach(root, (no, _lo, v) => {
        nos.push(no);
        offs.push(v);
      });
      for (let i = 0; i < nos.length; i++) {
        const v = offs[i];
        buf.push({
          driverId: this.intern.driverId(nos[i]),
          lat: getF64(i32, v + D_LAT),
          lng: getF64(i32, v + D_LNG),
          timestampMs: getF64(i32, v + D_TS),
          metadata: { ...this.intern.metadataOf(i32[v + D_MS]) },
          segment: i32[v + D_SEG],
          t: getF64(i32, v + D_T),
          snapM: getF64(i32, v + D_SNAP),
        });
        if (buf.length >= chunk) {
          total += buf.length;
          await onChunk(buf);
          buf = [];
        }
      }
      if (buf.length) {
        total += buf.length;
        await onChunk(buf);
      }
      return total;
    } finally {
      r.close();
    }
  }

  /**
   * Visit (driver ID, timestamp) of every driver of one snapshot, `slice` at a
   * time with a turn of the event loop between slices (the anti-entropy
   * digest; writes go on meanwhile, the snapshot stays pinned until the end).
   */
  async scan(visit: (driverId: string, timestampMs: number) => void, slice = 5000): Promise<void> {
    const r = this.arena.reader();
    r.acquire();
    try {
      const i32 = r.i32;
      const nos: number[] = [];
      const offs: number[] = [];
      r.forEach(r.root(DRIVERS), (no, _lo, v) => {
        nos.push(no);
        offs.push(v);
      });
      for (let i = 0; i < nos.length; i++) {
        if (i > 0 && i % slice === 0) await new Promise((res) => setImmediate(res));
        visit(this.intern.driverId(nos[i]!), getF64(i32, offs[i]! + D_TS));
      }
    } finally {
      r.close();
    }
  }

  close(): void {
    this.own.close();
  }
}

/** A stored driver record as the API's DriverView. */
export function driverView(g: RoadGraph, i32: Int32Array, v: number, driverId: string, metadata: Readonly<Record<string, string>>): DriverView {
  const seg = i32[v + D_SEG],
    t = getF64(i32, v + D_T);
  return {
    driverId,
    lat: getF64(i32, v + D_LAT),
    lng: getF64(i32, v + D_LNG),
    timestampMs: getF64(i32, v + D_TS),
    metadata: metadata as Record<string, string>,
    snapped: phantomOf(g, seg, t, getF64(i32, v + D_SNAP)),
  };
}

export function phantomOf(g: RoadGraph, segment: number, t: number, distanceM: number): Phantom {
  const a = g.segA[segment],
    b = g.segB[segment];
  return {
    segment,
    wayId: String(g.wayIds[g.segWay[segment]]),
    segIndex: g.segIdx[segment],
    t,
    lat: g.vLat[a] + t * (g.vLat[b] - g.vLat[a]),
    lng: g.vLng[a] + t * (g.vLng[b] - g.vLng[a]),
    distanceM,
  };
}

/** The arena's capacity error as the API's RESOURCE_EXHAUSTED; anything else as is. */
function storeError(e: unknown): unknown {
  return e instanceof ArtCapacityError ? new FarosError('RESOURCE_EXHAUSTED', `driver store full: ${e.message.replace(/^RESOURCE_EXHAUSTED:\s*/, '')}`) : e;
}
