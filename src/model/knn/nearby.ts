// The one nearby search: snap the pick-up point, pin a store snapshot, run
// the KNN expansion, hand each hit's stored record to the caller while the
// snapshot is still pinned. The search threads (what the server runs), the
// single-thread Model (`faros knn`) and therefore every test go through here.
import type { RoadGraph } from '../graph/roadgraph.js';
import { isMiss, type Snapper } from '../snap/snap.js';
import { edgePos, type KnnHit, type KnnSearch, type KnnTrace } from './knn.js';
import type { StoreReader } from '../store/store-reader.js';
import type { Metric, Phantom } from '../types.js';
import type { InternTable } from '../store/intern.js';

/** A filter pair no driver carries (interned numbers stay far below 2^32 − 1). */
const IMPOSSIBLE = new Uint32Array([0xffffffff, 0xffffffff]);

/**
 * The one filter rule: no pairs → no filter; a key or value no stored driver
 * carries → a filter nothing matches; else the pairs as interned numbers.
 */
export function filterFor(intern: InternTable, filter: Readonly<Record<string, string>> | undefined): Uint32Array | undefined {
  if (!filter || Object.keys(filter).length === 0) return undefined;
  return intern.filterPairs(filter) ?? IMPOSSIBLE;
}

/** What one map lends a search (per thread). */
export interface NearbyParts {
  graph: RoadGraph;
  snapper: Snapper;
  knn: KnnSearch;
  reader: StoreReader;
  snapRadiusM: number;
  ttlMs: number;
}

export interface NearbyInput {
  lat: number;
  lng: number;
  k: number;
  metric: Metric;
  /** max_distance_m or max_eta_s, whichever the metric ranks by. */
  limit: number;
  nowMs: number;
  /** Interned (key, value) pairs every driver must carry; undefined = no filter. */
  filter: Uint32Array | undefined;
}

export type NearbyCore = { ok: false; nearestM: number } | { ok: true; snapped: Phantom; hits: number; edgesExpanded: number; candidatesSeen: number };

/**
 * Search; `visit(hit, i32, v)` is called per hit in answer order with the
 * arena words and the offset of the driver's record, valid only during the call.
 * `trace`, when given, receives what the answer depends on (watches).
 */
export function searchNearby(p: NearbyParts, q: NearbyInput, visit: (hit: KnnHit, i32: Int32Array, v: number) => void, trace?: KnnTrace): NearbyCore {
  const snapped = p.snapper.snap(q.lat, q.lng, p.snapRadiusM);
  if (isMiss(snapped)) return { ok: false, nearestM: snapped.nearestM };
  const r = p.reader;
  r.begin(q.nowMs, p.ttlMs, q.filter);
  try {
    p.knn.trace = trace;
    const hits = p.knn.search(r, edgePos(p.graph, snapped.segment, snapped.t), { k: q.k, metric: q.metric, limit: q.limit });
    const i32 = r.art.i32;
    for (const h of hits) visit(h, i32, r.art.get(r.driverRoot, h.driverNo, 0));
    return { ok: true, snapped, hits: hits.length, edgesExpanded: p.knn.stats.edgesExpanded, candidatesSeen: p.knn.stats.candidatesSeen };
  } finally {
    r.end();
  }
}
