// One map shard in one thread: the road graph, the snapper, the ART driver
// store and the nearby search (nearby.ts, the same one the search threads
// run), with the driver rules of docs/SEMANTICS.md (newest timestamp wins,
// refused points leave state alone, TTL, exact-match filters). The threaded
// shard (shard.ts) splits the same parts over a writer and worker threads;
// this class is what `faros knn` and the tests use directly.
import type { RoadGraph } from './graph/roadgraph.js';
import { Snapper, isMiss } from './snap/snap.js';
import { KnnSearch } from './knn/knn.js';
import { filterFor, searchNearby, type NearbyParts } from './knn/nearby.js';
import { DriverStore, driverView, type SnappedUpdate, type StoreOptions } from './store/store.js';
import { StoreReader } from './store/store-reader.js';
import { D_MS } from './store/records.js';
import type { DriverUpdate, DriverView, ModelOptions, NearbyDriver, NearbyQuery, NearbyResult, Phantom, SnapMiss, UpdateResult } from './types.js';

export const DEFAULT_MODEL_OPTIONS: Readonly<ModelOptions> = Object.freeze({ snapRadiusM: 200, ttlMs: 300_000 });

export function outOfRange(what: string, lat: number, lng: number, nearestM: number, radiusM: number): string {
  return `${what} (${lat}, ${lng}) is ${Number.isFinite(nearestM) ? `${nearestM.toFixed(1)} m` : 'infinitely far'} from the nearest road, beyond the snap radius of ${radiusM} m`;
}

export class Model {
  readonly options: ModelOptions;
  readonly store: DriverStore;
  private readonly snapper: Snapper;
  private readonly knn: KnnSearch;
  private readonly reader: StoreReader;
  private readonly parts: NearbyParts;

  constructor(
    readonly graph: RoadGraph,
    opts: Partial<ModelOptions> & StoreOptions = {},
  ) {
    this.options = { snapRadiusM: opts.snapRadiusM ?? DEFAULT_MODEL_OPTIONS.snapRadiusM, ttlMs: opts.ttlMs ?? DEFAULT_MODEL_OPTIONS.ttlMs };
    this.snapper = new Snapper(graph);
    this.knn = new KnnSearch(graph);
    this.store = new DriverStore(graph, opts);
    this.reader = new StoreReader(graph, this.store.buffers);
    this.parts = { graph, snapper: this.snapper, knn: this.knn, reader: this.reader, snapRadiusM: this.options.snapRadiusM, ttlMs: this.options.ttlMs };
  }

  get size(): number {
    return this.store.size;
  }

  snap(lat: number, lng: number): Phantom | SnapMiss {
    return this.snapper.snap(lat, lng, this.options.snapRadiusM);
  }

  update(u: DriverUpdate): UpdateResult {
    return this.updateBatch([u])[0];
  }

  /** Snap and store a batch as one publication. */
  updateBatch(us: readonly DriverUpdate[]): UpdateResult[] {
    const out: UpdateResult[] = new Array(us.length);
    const ok: SnappedUpdate[] = [];
    const at: number[] = [];
    us.forEach((u, i) => {
      const s = this.snap(u.lat, u.lng);
      if (isMiss(s)) {
        out[i] = { ok: false, code: 'OUT_OF_RANGE', nearestM: s.nearestM, message: outOfRange('point', u.lat, u.lng, s.nearestM, this.options.snapRadiusM) };
        return;
      }
      out[i] = { ok: true, snapped: s, stale: false };
      ok.push({ ...u, segment: s.segment, t: s.t, snapM: s.distanceM });
      at.push(i);
    });
    const stale = this.store.apply(ok);
    stale.forEach((st, j) => {
      if (st) (out[at[j]] as { stale: boolean }).stale = true;
    });
    return out;
  }

  remove(driverId: string): boolean {
    return this.store.remove([driverId])[0];
  }

  get(driverId: string, nowMs = Date.now()): DriverView | undefined {
    const d = this.store.get(driverId);
    return d && nowMs - d.timestampMs <= this.options.ttlMs ? d : undefined;
  }

  /** The search threads' own search (nearby.ts), on this thread. */
  nearby(q: NearbyQuery): NearbyResult {
    const drivers: NearbyDriver[] = [];
    const r = searchNearby(
      this.parts,
      {
        lat: q.lat,
        lng: q.lng,
        k: q.k,
        metric: q.metric,
        limit: q.metric === 'eta' ? q.maxEtaS : q.maxDistanceM,
        nowMs: q.nowMs ?? Date.now(),
        filter: filterFor(this.store.intern, q.filter),
      },
      (h, i32, v) => {
        drivers.push({
          driver: driverView(this.graph, i32, v, this.reader.intern.driverId(h.driverNo), this.store.intern.metadataOf(i32[v + D_MS])),
          distanceM: h.distanceM,
          etaS: h.etaS,
        });
      },
    );
    if (!r.ok)
      return { ok: false, code: 'OUT_OF_RANGE', nearestM: r.nearestM, message: outOfRange('query point', q.lat, q.lng, r.nearestM, this.options.snapRadiusM) };
    return { ok: true, querySnapped: r.snapped, stats: { edgesExpanded: r.edgesExpanded, candidatesSeen: r.candidatesSeen }, drivers };
  }

  close(): void {
    this.reader.close();
    this.store.close();
  }
}
