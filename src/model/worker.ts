// Piscina worker: snaps batches of points and runs nearby searches over
// shared memory. Per map it keeps views of the graph, a snapper, a KNN
// scratch space and a reader slot of the driver store — created on first use.
import { RoadGraph } from './graph/roadgraph.js';
import { Snapper, isMiss } from './snap.js';
import { KnnSearch, edgePos } from './knn.js';
import { StoreReader } from './store-reader.js';
import { D_LAT, D_LNG, D_MS, D_SEG, D_SNAP, D_T, D_TS, getF64 } from './records.js';
import { phantomOf } from './store.js';
import type { MapRef, NearbyReply, NearbyTask, SnapReply, SnapTask, WorkerReply, WorkerTask } from './messages.js';

interface MapState { graph: RoadGraph; snapper: Snapper; knn: KnnSearch; reader: StoreReader; closed: Int32Array; snapRadiusM: number; ttlMs: number }
const maps = new Map<string, MapState>();

/** The map's state, or undefined when this worker needs the full handle first. */
function state(ref: MapRef): MapState | undefined {
  // Let go of dropped maps (their reader slots pin arena memory).
  for (const [key, st] of maps) if (Atomics.load(st.closed, 0) === 1) { st.reader.close(); maps.delete(key); }
  let s = maps.get(ref.key);
  if (!s) {
    const h = ref.attach;
    if (!h) return undefined;
    // A task that raced the map's drop must not re-attach a reader to it.
    if (Atomics.load(new Int32Array(h.closed), 0) === 1) throw new Error(`map ${ref.key} was dropped from this instance`);
    const graph = RoadGraph.from(h.graph);
    s = { graph, snapper: new Snapper(graph), knn: new KnnSearch(graph), reader: new StoreReader(graph, h.store), closed: new Int32Array(h.closed), snapRadiusM: h.snapRadiusM, ttlMs: h.ttlMs };
    maps.set(ref.key, s);
  }
  return s;
}

function snap(t: SnapTask, st: MapState): SnapReply {
  const { snapper } = st;
  const n = t.points.length / 2;
  const out = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const r = snapper.snap(t.points[2 * i], t.points[2 * i + 1], st.snapRadiusM);
    if (isMiss(r)) { out[3 * i] = -1; out[3 * i + 2] = r.nearestM; } else { out[3 * i] = r.segment; out[3 * i + 1] = r.t; out[3 * i + 2] = r.distanceM; }
  }
  return { kind: 'snap', out };
}

function nearby(t: NearbyTask, s: MapState): NearbyReply {
  const snapped = s.snapper.snap(t.lat, t.lng, s.snapRadiusM);
  if (isMiss(snapped)) return { kind: 'nearby', ok: false, nearestM: snapped.nearestM };
  const r = s.reader;
  r.begin(t.nowMs, s.ttlMs, t.filter);
  try {
    const hits = s.knn.search(r, edgePos(s.graph, snapped.segment, snapped.t), { k: t.k, metric: t.metric, limit: t.limit });
    const i32 = r.art.i32;
    return {
      kind: 'nearby', ok: true, snapped, stats: { ...s.knn.stats },
      hits: hits.map((h) => {
        const v = r.art.get(r.driverRoot, h.driverNo, 0);
        return {
          distanceM: h.distanceM, etaS: h.etaS,
          driver: {
            driverId: r.intern.driverId(h.driverNo), lat: getF64(i32, v + D_LAT), lng: getF64(i32, v + D_LNG),
            timestampMs: getF64(i32, v + D_TS), metaset: i32[v + D_MS],
            snapped: phantomOf(s.graph, i32[v + D_SEG], getF64(i32, v + D_T), getF64(i32, v + D_SNAP)),
          },
        };
      }),
    };
  } finally {
    r.end();
  }
}

export default function run(task: WorkerTask): WorkerReply {
  // Abandon work whose caller has given up (it waited in the queue too long).
  if (task.kind !== 'forget' && Date.now() > task.deadline) return { kind: 'expired' };
  switch (task.kind) {
    case 'snap': { const st = state(task.map); return st ? snap(task, st) : { kind: 'attach' }; }
    case 'nearby': { const st = state(task.map); return st ? nearby(task, st) : { kind: 'attach' }; }
    case 'forget': {
      const s = maps.get(task.key);
      if (s) { s.reader.close(); maps.delete(task.key); }
      return { kind: 'forget', held: s !== undefined };
    }
  }
}
