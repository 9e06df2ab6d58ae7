// One map shard: the road graph, the snapper, the driver store and the KNN
// search, with the driver semantics of SEMANTICS.md (newest timestamp wins,
// refused points leave state alone, TTL, exact-match filters).
import type { RoadGraph } from './graph/roadgraph.js';
import { Snapper, isMiss } from './snap.js';
import { KnnSearch, edgePos, type DriverSource, type EdgeVisitor } from './knn.js';
import { compareUtf8 } from './ids.js';
import type { DriverUpdate, DriverView, ModelOptions, NearbyQuery, NearbyResult, Phantom, SnapMiss, UpdateResult } from './types.js';

export const DEFAULT_MODEL_OPTIONS: Readonly<ModelOptions> = Object.freeze({ snapRadiusM: 200, ttlMs: 300_000 });

interface DriverRec {
  view: DriverView;
  edge: number;
  offD: number;
  offT: number;
}

export class Model {
  readonly options: ModelOptions;
  private readonly snapper: Snapper;
  private readonly knn: KnnSearch;
  private readonly byId = new Map<string, number>();
  private readonly recs: (DriverRec | undefined)[] = [];
  private readonly free: number[] = [];
  private readonly onEdge = new Map<number, Set<number>>();

  constructor(readonly graph: RoadGraph, opts: Partial<ModelOptions> = {}) {
    this.options = { ...DEFAULT_MODEL_OPTIONS, ...opts };
    this.snapper = new Snapper(graph);
    this.knn = new KnnSearch(graph);
  }

  get size(): number { return this.byId.size; }

  snap(lat: number, lng: number): Phantom | SnapMiss {
    return this.snapper.snap(lat, lng, this.options.snapRadiusM);
  }

  update(u: DriverUpdate): UpdateResult {
    const snapped = this.snap(u.lat, u.lng);
    if (isMiss(snapped)) {
      return { ok: false, code: 'OUT_OF_RANGE', nearestM: snapped.nearestM, message: `point (${u.lat}, ${u.lng}) is ${snapped.nearestM.toFixed(1)} m from the nearest road, beyond the snap radius of ${this.options.snapRadiusM} m` };
    }
    const no = this.byId.get(u.driverId);
    const old = no === undefined ? undefined : this.recs[no];
    if (old && old.view.timestampMs > u.timestampMs) return { ok: true, snapped, stale: true };
    const pos = edgePos(this.graph, snapped.segment, snapped.t);
    const rec: DriverRec = {
      view: { driverId: u.driverId, lat: u.lat, lng: u.lng, timestampMs: u.timestampMs, metadata: { ...u.metadata }, snapped },
      edge: pos.edge, offD: pos.offD, offT: pos.offT,
    };
    let n = no;
    if (n === undefined) {
      n = this.free.pop() ?? this.recs.length;
      this.byId.set(u.driverId, n);
    } else if (old) {
      this.onEdge.get(old.edge)?.delete(n);
    }
    this.recs[n] = rec;
    let set = this.onEdge.get(rec.edge);
    if (!set) { set = new Set(); this.onEdge.set(rec.edge, set); }
    set.add(n);
    return { ok: true, snapped, stale: false };
  }

  remove(driverId: string): boolean {
    const n = this.byId.get(driverId);
    if (n === undefined) return false;
    const rec = this.recs[n]!;
    this.onEdge.get(rec.edge)?.delete(n);
    this.recs[n] = undefined;
    this.byId.delete(driverId);
    this.free.push(n);
    return true;
  }

  private live(rec: DriverRec, nowMs: number): boolean {
    return nowMs - rec.view.timestampMs <= this.options.ttlMs;
  }

  get(driverId: string, nowMs = Date.now()): DriverView | undefined {
    const n = this.byId.get(driverId);
    const rec = n === undefined ? undefined : this.recs[n];
    return rec && this.live(rec, nowMs) ? rec.view : undefined;
  }

  /** Remove drivers past their TTL; returns how many. */
  sweep(nowMs = Date.now()): number {
    let n = 0;
    for (const [id, no] of [...this.byId]) {
      const rec = this.recs[no];
      if (rec && !this.live(rec, nowMs)) { this.remove(id); n++; }
    }
    return n;
  }

  nearby(q: NearbyQuery): NearbyResult {
    const snapped = this.snap(q.lat, q.lng);
    if (isMiss(snapped)) {
      return { ok: false, code: 'OUT_OF_RANGE', nearestM: snapped.nearestM, message: `query point (${q.lat}, ${q.lng}) is ${snapped.nearestM.toFixed(1)} m from the nearest road, beyond the snap radius of ${this.options.snapRadiusM} m` };
    }
    const nowMs = q.nowMs ?? Date.now();
    const filter = q.filter && Object.keys(q.filter).length > 0 ? Object.entries(q.filter) : undefined;
    const recs = this.recs;
    const src: DriverSource = {
      scanEdge: (edge: number, visit: EdgeVisitor) => {
        const set = this.onEdge.get(edge);
        if (set) for (const no of set) { const r = recs[no]!; visit(no, r.offD, r.offT); }
      },
      accept: (no: number) => {
        const r = recs[no]!;
        if (!this.live(r, nowMs)) return false;
        if (filter) for (const [k, v] of filter) if (r.view.metadata[k] !== v) return false;
        return true;
      },
      compareIds: (a: number, b: number) => compareUtf8(recs[a]!.view.driverId, recs[b]!.view.driverId),
    };
    const pos = edgePos(this.graph, snapped.segment, snapped.t);
    const hits = this.knn.search(src, pos, { k: q.k, metric: q.metric, limit: q.metric === 'eta' ? q.maxEtaS : q.maxDistanceM });
    return {
      ok: true,
      querySnapped: snapped,
      stats: { ...this.knn.stats },
      drivers: hits.map((h) => ({ driver: recs[h.driverNo]!.view, distanceM: h.distanceM, etaS: h.etaS })),
    };
  }
}
