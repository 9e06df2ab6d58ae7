// One map shard spread over threads: this (main) thread is the single writer
// of the driver store; snapping and nearby searches run in the worker pool
// over the same shared memory. Readers never block the writer: a search pins
// a snapshot (ART epoch) and the writer keeps publishing new roots.
import type { RoadGraph } from '../model/graph/roadgraph.js';
import { SnapGrid } from '../model/snap/snap-grid.js';
import { DriverStore, driverView, type DriverRecord, type StoreOptions } from '../model/store/store.js';
import { outOfRange } from '../model/model.js';
import { filterFor, searchNearby, type NearbyParts } from '../model/knn/nearby.js';
import { Snapper } from '../model/snap/snap.js';
import { KnnSearch, type KnnTrace } from '../model/knn/knn.js';
import { WatchSet, type WatchListener } from './watches.js';
import { StoreReader } from '../model/store/store-reader.js';
import { D_MS } from '../model/store/records.js';
import { Digest, bucketOf, type DriverVersion, type Tombstone } from '../model/store/digest.js';

const NO_FILTER = new Uint32Array(0);
import type { WorkerPool } from './pool.js';
import { SNAP_FIELDS, type MapHandle } from './messages.js';
import type { DriverUpdate, DriverView, ModelOptions, NearbyDriver, NearbyQuery, NearbyResult, Phantom, UpdateResult, WatchParams } from '../model/types.js';
import { FarosError } from '../errors.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Smallest snap task; a batch is split over the snapping threads in tasks of at least this many points. */
const SNAP_CHUNK = 128;
/**
 * Updates per commit. A big batch is stored in slices with a turn of the
 * event loop between them, so search replies waiting on this thread are
 * not held up by a whole batch's writes (each slice is its own publication;
 * readers see a batch land in slices, which no contract forbids).
 */
const APPLY_SLICE = 128;
/**
 * How long a remove is remembered against state transfers: a snapshot taken
 * before the remove (a pull takes seconds; the catch-up pull follows within
 * a minute; a pull times out after 10) must not bring the driver back.
 */
const TOMBSTONE_MS = 15 * 60_000;
/** At most this many are remembered (oldest forgotten first), so removes of made-up IDs cannot grow memory without bound. */
const MAX_TOMBSTONES = 1 << 20;

export interface ShardOptions extends ModelOptions, StoreOptions {
  /** How often expired drivers are swept; default min(ttl / 4, 10 s). */
  sweepIntervalMs?: number;
  /** Where failures of background work (the TTL sweep) are reported. */
  log?: (msg: string) => void;
  /** Watches re-run every interval instead of incrementally (the benchmark's baseline). */
  naiveWatches?: boolean;
}

export class Shard {
  readonly store: DriverStore;
  readonly handle: MapHandle;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  /** Counters for metrics. */
  readonly counts = { swept: 0, deadRemoved: 0 };

  constructor(
    readonly key: string,
    readonly graph: RoadGraph,
    private readonly pool: WorkerPool,
    readonly options: ShardOptions,
  ) {
    if (!(graph.buffer instanceof SharedArrayBuffer)) throw new Error('Shard: the graph must live in a SharedArrayBuffer (loadMap shared: true)');
    this.store = new DriverStore(graph, options);
    this.handle = {
      key,
      graph: graph.buffer,
      // Built here once per map (this thread's own snapping reuses it), shared by every thread.
      grid: SnapGrid.of(graph).buffer as SharedArrayBuffer,
      store: this.store.buffers,
      snapRadiusM: options.snapRadiusM,
      ttlMs: options.ttlMs,
      closed: new SharedArrayBuffer(4),
    };
    const every = options.sweepIntervalMs ?? Math.max(250, Math.min(options.ttlMs / 4, 10_000));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  get size(): number {
    return this.store.size;
  }

  /** Snap in the workers, then store (in slices of APPLY_SLICE, each one publication). */
  async update(us: readonly DriverUpdate[], signal?: AbortSignal, deadline?: number): Promise<UpdateResult[]> {
    this.check();
    const n = us.length,
      F = SNAP_FIELDS;
    // Few, large tasks: waking a sleeping thread costs ~0.1 ms here, more than snapping 40 points.
    const size = Math.max(SNAP_CHUNK, Math.ceil(n / this.pool.threads));
    const chunks: Promise<Float64Array>[] = [];
    for (let i = 0; i < n; i += size) {
      const m = Math.min(size, n - i);
      const points = new Float64Array(m * 2);
      for (let j = 0; j < m; j++) {
        const u = us[i + j];
        points[2 * j] = u.lat;
        points[2 * j + 1] = u.lng;
      }
      chunks.push(this.pool.snap(this.handle, points, signal, deadline));
    }
    const parts = await Promise.all(chunks);
    this.check();
    let snap: Float64Array;
    if (parts.length === 1) snap = parts[0];
    else {
      snap = new Float64Array(n * F);
      let at = 0;
      for (const p of parts) {
        snap.set(p, at);
        at += p.length;
      }
    }
    const stale = new Uint8Array(n);
    for (let s = 0; s < n; s += APPLY_SLICE) {
      if (s > 0) {
        await nextTurn();
        this.check();
      }
      this.store.applySnapped(us, snap, s, Math.min(n, s + APPLY_SLICE), stale);
    }
    // One object per update, its snapped point derived only if read (stream batches rarely do).
    const out: UpdateResult[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const f = F * i,
        seg = snap[f];
      if (seg < 0) {
        const u = us[i],
          d = snap[f + 2];
        out[i] = { ok: false, code: 'OUT_OF_RANGE', nearestM: d, message: outOfRange('point', u.lat, u.lng, d, this.options.snapRadiusM) };
      } else {
        out[i] = new Stored(this.graph, stale[i] === 1, seg, snap[f + 1], snap[f + 2]);
      }
    }
    return out;
  }

  /**
   * Remove a driver, and remember when (a tombstone): transferred records of
   * it not newer than that are ignored (importRecords), so a snapshot taken
   * before the remove does not undo it.
   */
  remove(driverId: string, nowMs = Date.now()): boolean {
    this.check();
    this.trimTombstones(nowMs);
    this.tombstones.delete(driverId);
    this.tombstones.set(driverId, nowMs);
    return this.store.remove([driverId])[0];
  }

  /** Oldest first (Map order; a repeated remove moves to the end): drop the expired, and the oldest beyond MAX_TOMBSTONES. */
  private trimTombstones(nowMs: number): void {
    const t = this.tombstones;
    for (const [id, at] of t) {
      if (nowMs - at <= TOMBSTONE_MS && t.size < MAX_TOMBSTONES) break;
      t.delete(id);
    }
  }

  /**
   * This replica's anti-entropy digest (digest.ts) at `nowMs`: drivers not
   * older than the TTL and removes not older than the tombstone window then.
   * Scans a pinned snapshot in slices (writes go on meanwhile). Drivers not
   * newer than a remove of them remembered here are left out, and with
   * `removeDead` (this instance's own round, not a peer's Digest call, which
   * changes nothing) removed.
   */
  async digest(nowMs = Date.now(), removeDead = false): Promise<Digest> {
    this.check();
    const d = new Digest(),
      ttl = this.options.ttlMs;
    const t = this.tombstones;
    for (const [id, at] of t) if (nowMs - at <= TOMBSTONE_MS) d.addRemove(id);
    // A driver stored here not newer than a remove of it remembered here (a
    // client's update timestamped before the remove) loses to that remove on
    // every replica that knows both: it is left out and removed here too.
    const dead: string[] = [];
    await this.store.scan((id, ts) => {
      const at = t.size === 0 ? undefined : t.get(id);
      if (at !== undefined && ts <= at) dead.push(id);
      else if (nowMs - ts <= ttl) d.addRecord(id, ts);
    });
    if (removeDead && dead.length > 0 && !this.closed) {
      const still = dead.filter((id) => {
        const ts = this.store.timestampOf(id),
          at = t.get(id);
        return ts !== undefined && at !== undefined && ts <= at;
      });
      if (still.length) this.counts.deadRemoved += this.store.remove(still).filter(Boolean).length;
    }
    return d;
  }

  /**
   * What of the given buckets goes into the digest at `nowMs`: each driver's
   * ID and timestamp (not the whole record: most are equal on the asker) and
   * each remove with its time. At most `max` items: whole buckets are left
   * out past it (`complete` lists the buckets answered whole; a single
   * bucket larger than `max` is cut).
   */
  async bucketVersions(
    buckets: readonly number[],
    nowMs: number,
    max: number,
  ): Promise<{ versions: DriverVersion[]; tombstones: Tombstone[]; complete: number[] }> {
    this.check();
    const want = new Set(buckets);
    const byBucket = new Map<number, { versions: DriverVersion[]; tombstones: Tombstone[] }>();
    const of = (b: number) => {
      let x = byBucket.get(b);
      if (!x) byBucket.set(b, (x = { versions: [], tombstones: [] }));
      return x;
    };
    for (const [id, at] of this.tombstones) {
      if (nowMs - at > TOMBSTONE_MS) continue;
      const b = bucketOf(id);
      if (want.has(b)) of(b).tombstones.push({ driverId: id, removedAtMs: at });
    }
    const ttl = this.options.ttlMs;
    await this.store.scan((id, ts) => {
      if (nowMs - ts > ttl) return;
      const b = bucketOf(id);
      if (want.has(b)) of(b).versions.push({ driverId: id, timestampMs: ts });
    });
    const out = { versions: [] as DriverVersion[], tombstones: [] as Tombstone[], complete: [] as number[] };
    for (const b of buckets) {
      const x = byBucket.get(b);
      const n = x ? x.versions.length + x.tombstones.length : 0;
      if (out.versions.length + out.tombstones.length + n > max) {
        if (out.complete.length === 0 && x) {
          out.versions = x.versions.slice(0, max);
          out.tombstones = x.tombstones.slice(0, Math.max(0, max - out.versions.length));
        }
        break;
      }
      if (x) {
        out.versions.push(...x.versions);
        out.tombstones.push(...x.tombstones);
      }
      out.complete.push(b);
    }
    return out;
  }

  /** Of another replica's versions, the drivers it holds newer than this replica (and than a remove remembered here), not expired at `nowMs`. */
  newerThanHere(versions: readonly DriverVersion[], nowMs = Date.now()): string[] {
    this.check();
    const ttl = this.options.ttlMs,
      t = this.tombstones;
    const out: string[] = [];
    for (const { driverId, timestampMs } of versions) {
      if (nowMs - timestampMs > ttl) continue;
      const mine = this.store.timestampOf(driverId);
      if (mine !== undefined && mine >= timestampMs) continue;
      const at = t.size === 0 ? undefined : t.get(driverId);
      if (at !== undefined && timestampMs <= at) continue;
      out.push(driverId);
    }
    return out;
  }

  /** The stored records of these drivers that are not older than the TTL at `nowMs` (absent ones left out). */
  records(driverIds: readonly string[], nowMs = Date.now()): DriverRecord[] {
    this.check();
    const out: DriverRecord[] = [];
    for (const id of driverIds) {
      const d = this.store.get(id);
      if (!d || nowMs - d.timestampMs > this.options.ttlMs) continue;
      out.push({
        driverId: id,
        lat: d.lat,
        lng: d.lng,
        timestampMs: d.timestampMs,
        metadata: { ...d.metadata },
        segment: d.snapped.segment,
        t: d.snapped.t,
        snapM: d.snapped.distanceM,
      });
    }
    return out;
  }

  /**
   * Apply what another replica holds of some buckets (anti-entropy): a
   * remove is remembered (the later of the two times when both know it) and
   * removes a stored driver not newer than it; a driver newer than what
   * is stored and than the remembered remove is stored. Drivers already
   * older than the TTL at `nowMs`, and removes older than the tombstone
   * window, are ignored: nothing expired comes back. Returns how many
   * drivers were stored and how many removed.
   */
  applyRepair(records: readonly DriverRecord[], tombstones: readonly Tombstone[], nowMs = Date.now()): { records: number; removes: number } {
    this.check();
    const t = this.tombstones;
    const doomed: string[] = [];
    if (tombstones.length) this.trimTombstones(nowMs);
    for (const { driverId, removedAtMs } of tombstones) {
      if (nowMs - removedAtMs > TOMBSTONE_MS) continue;
      const mine = t.get(driverId);
      const at = mine === undefined ? removedAtMs : Math.max(mine, removedAtMs);
      if (mine !== at) {
        t.delete(driverId);
        t.set(driverId, at);
      }
      // Also when the remove was already known: a driver stored here since (a
      // client's update timestamped before it) loses to it like everywhere else.
      const ts = this.store.timestampOf(driverId);
      if (ts !== undefined && ts <= at) doomed.push(driverId);
    }
    const removes = doomed.length ? this.store.remove(doomed).filter(Boolean).length : 0;
    const ttl = this.options.ttlMs;
    const newer = records.filter((r) => {
      if (nowMs - r.timestampMs > ttl) return false;
      const ts = this.store.timestampOf(r.driverId);
      return ts === undefined || ts < r.timestampMs;
    });
    return { records: newer.length ? this.importRecords(newer) : 0, removes };
  }

  /** Removes remembered against state transfers (driver ID → removal time). */
  private readonly tombstones = new Map<string, number>();

  get(driverId: string, nowMs = Date.now()): DriverView | undefined {
    this.check();
    const d = this.store.get(driverId);
    return d && nowMs - d.timestampMs <= this.options.ttlMs ? d : undefined;
  }

  async nearby(q: NearbyQuery, signal?: AbortSignal, deadline?: number): Promise<NearbyResult> {
    this.check();
    if (!signal?.aborted && this.pool.mayInline()) return this.nearbyHere(q);
    const r = await this.pool.run(
      {
        kind: 'nearby',
        map: this.handle,
        lat: q.lat,
        lng: q.lng,
        k: q.k,
        metric: q.metric,
        limit: q.metric === 'eta' ? q.maxEtaS : q.maxDistanceM,
        filter: filterFor(this.store.intern, q.filter) ?? NO_FILTER,
        nowMs: q.nowMs ?? Date.now(),
      },
      signal,
      deadline,
    );
    if (!r.ok)
      return { ok: false, code: 'OUT_OF_RANGE', nearestM: r.nearestM, message: outOfRange('query point', q.lat, q.lng, r.nearestM, this.options.snapRadiusM) };
    return {
      ok: true,
      querySnapped: r.snapped,
      stats: r.stats,
      drivers: r.hits.map((h) => ({
        distanceM: h.distanceM,
        etaS: h.etaS,
        driver: {
          driverId: h.driver.driverId,
          lat: h.driver.lat,
          lng: h.driver.lng,
          timestampMs: h.driver.timestampMs,
          snapped: h.driver.snapped,
          metadata: this.store.intern.metadataOf(h.driver.metaset) as Record<string, string>,
        },
      })),
    };
  }

  /** This thread's own search parts (made on first use). */
  private here: NearbyParts | undefined;

  /** The same search (nearby.ts) on this thread, when the pool says a hand-over would cost more. */
  private nearbyHere(q: NearbyQuery): NearbyResult {
    const t0 = performance.now();
    try {
      return this.searchHere(q).result;
    } finally {
      this.pool.spentInline(performance.now() - t0);
    }
  }

  /** This map's watches (made on first use; they listen to the store from then on). */
  private watchSet: WatchSet | undefined;

  /**
   * Watch a query (WatchNearby): the first answer is given now, then a new
   * one whenever it changes beyond the threshold (watches.ts). Undefined when
   * the point does not snap (that outcome was the answer).
   */
  watch(q: NearbyQuery, params: WatchParams, listener: WatchListener): { close(): void } | undefined {
    this.check();
    if (!this.watchSet) {
      this.watchSet = new WatchSet(this.graph, (wq, trace) => this.searchHere(wq, trace), {
        ttlMs: this.options.ttlMs,
        naive: this.options.naiveWatches,
      });
      this.store.onTouch = this.watchSet.touch;
    }
    return this.watchSet.open(q, params, listener);
  }

  /** End every watch of this replica with UNAVAILABLE (it stops serving the map). */
  endWatches(): void {
    this.watchSet?.closeAll(new FarosError('UNAVAILABLE', `map ${this.key.replace(/#\d+$/, '')} is no longer served by this replica; watch again`));
  }

  /** Watch counters (metrics); zeros before the first watch. */
  get watchCounts(): { open: number; evaluations: number; sent: number; judged: number } {
    return this.watchSet?.counts ?? { open: 0, evaluations: 0, sent: 0, judged: 0 };
  }

  /** The nearby search on this thread, on the snapshot just published; with the hits' driver numbers. */
  private searchHere(q: NearbyQuery, trace?: KnnTrace): { result: NearbyResult; nos: number[] } {
    const t0 = performance.now();
    const g = this.graph;
    this.here ??= {
      graph: g,
      snapper: new Snapper(g),
      knn: new KnnSearch(g),
      reader: new StoreReader(g, this.store.buffers),
      snapRadiusM: this.options.snapRadiusM,
      ttlMs: this.options.ttlMs,
    };
    const p = this.here,
      intern = this.store.intern;
    const drivers: NearbyDriver[] = [];
    const nos: number[] = [];
    {
      const r = searchNearby(
        p,
        {
          lat: q.lat,
          lng: q.lng,
          k: q.k,
          metric: q.metric,
          limit: q.metric === 'eta' ? q.maxEtaS : q.maxDistanceM,
          nowMs: q.nowMs ?? Date.now(),
          filter: filterFor(intern, q.filter),
        },
        (h, i32, v) => {
          nos.push(h.driverNo);
          drivers.push({
            driver: driverView(g, i32, v, p.reader.intern.driverId(h.driverNo), intern.metadataOf(i32[v + D_MS]) as Record<string, string>),
            distanceM: h.distanceM,
            etaS: h.etaS,
          });
        },
        trace,
      );
      if (!r.ok)
        return {
          nos,
          result: {
            ok: false,
            code: 'OUT_OF_RANGE',
            nearestM: r.nearestM,
            message: outOfRange('query point', q.lat, q.lng, r.nearestM, this.options.snapRadiusM),
          },
        };
      const searchUs = (performance.now() - t0) * 1000;
      return {
        nos,
        result: {
          ok: true,
          querySnapped: r.snapped,
          stats: { edgesExpanded: r.edgesExpanded, candidatesSeen: r.candidatesSeen, phases: { queuedUs: 0, searchUs, replyUs: 0 } },
          drivers,
        },
      };
    }
  }

  /** Remove expired drivers in slices, so reads and writes go on meanwhile. */
  sweep(nowMs = Date.now(), slice = 5000): number {
    if (this.closed) return 0;
    try {
      const ids = this.store.expired(nowMs, this.options.ttlMs, slice);
      const n = ids.length ? this.store.remove(ids).filter(Boolean).length : 0;
      this.counts.swept += n;
      return n;
    } catch (e) {
      // Runs from a timer: a full arena must not take the process down.
      this.options.log?.(`map ${this.key}: TTL sweep failed: ${(e as Error).message}`);
      return 0;
    }
  }

  exportSnapshot(onChunk: (records: DriverRecord[]) => Promise<void> | void, chunk?: number): Promise<number> {
    this.check();
    return this.store.exportSnapshot(onChunk, chunk);
  }

  /**
   * Apply transferred records; newest timestamp wins, and a record not newer
   * than this shard's remove of that driver is skipped. Returns how many were
   * applied.
   */
  importRecords(records: readonly DriverRecord[]): number {
    this.check();
    for (const r of records) {
      if (!(r.segment >= 0 && r.segment < this.graph.segmentCount))
        throw new FarosError('INVALID_ARGUMENT', `snapshot record for ${r.driverId} has segment ${r.segment}, outside this map`);
    }
    const t = this.tombstones;
    const live =
      t.size === 0
        ? records
        : records.filter((r) => {
            const at = t.get(r.driverId);
            return at === undefined || r.timestampMs > at;
          });
    return this.store.apply(live).filter((s) => !s).length;
  }

  private check(): void {
    if (this.closed) throw new FarosError('UNAVAILABLE', `map ${this.key} was dropped from this instance`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.endWatches();
    this.store.onTouch = undefined;
    Atomics.store(new Int32Array(this.handle.closed), 0, 1);
    this.here?.reader.close();
    this.store.close();
  }
}

/**
 * A stored update's result, which is also its snapped point (`snapped`
 * returns itself): one object per update, with the point's way ID and
 * coordinates computed only if read.
 */
class Stored implements Phantom {
  readonly ok = true as const;
  constructor(
    private readonly g: RoadGraph,
    readonly stale: boolean,
    readonly segment: number,
    readonly t: number,
    readonly distanceM: number,
  ) {}
  get snapped(): Phantom {
    return this;
  }
  get wayId(): string {
    return String(this.g.wayIds[this.g.segWay[this.segment]]);
  }
  get segIndex(): number {
    return this.g.segIdx[this.segment];
  }
  get lat(): number {
    const a = this.g.segA[this.segment],
      b = this.g.segB[this.segment];
    return this.g.vLat[a] + this.t * (this.g.vLat[b] - this.g.vLat[a]);
  }
  get lng(): number {
    const a = this.g.segA[this.segment],
      b = this.g.segB[this.segment];
    return this.g.vLng[a] + this.t * (this.g.vLng[b] - this.g.vLng[a]);
  }
}
