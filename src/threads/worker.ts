// Piscina worker: snaps batches of points over the shared graph. Per map it
// keeps a view of the graph and of its snap grid (both built on the main
// thread) and a snapper, created on the first task that brings the map's
// handle (tasks name maps by key; see messages.ts).
import { RoadGraph } from '../model/graph/roadgraph.js';
import { Snapper, isMiss } from '../model/snap/snap.js';
import { SnapGrid } from '../model/snap/snap-grid.js';
import { SNAP_FIELDS, type MapRef, type SnapReply, type SnapTask, type WorkerReply, type WorkerTask } from './messages.js';

interface MapState {
  snapper: Snapper;
  closed: Int32Array;
  snapRadiusM: number;
}
const maps = new Map<string, MapState>();

/** The map's state, or undefined when this worker needs the full handle first. */
function state(ref: MapRef): MapState | undefined {
  // Let go of dropped maps (the views keep their buffers alive).
  for (const [key, st] of maps) if (Atomics.load(st.closed, 0) === 1) maps.delete(key);
  let s = maps.get(ref.key);
  if (!s) {
    const h = ref.attach;
    if (!h) return undefined;
    if (Atomics.load(new Int32Array(h.closed), 0) === 1) throw new Error(`map ${ref.key} was dropped from this instance`);
    const graph = RoadGraph.from(h.graph);
    s = { snapper: new Snapper(graph, SnapGrid.of(graph, h.grid)), closed: new Int32Array(h.closed), snapRadiusM: h.snapRadiusM };
    maps.set(ref.key, s);
  }
  return s;
}

function snap(t: SnapTask, st: MapState): SnapReply {
  const { snapper } = st;
  const n = t.points.length / 2,
    F = SNAP_FIELDS;
  const out = new Float64Array(n * F);
  for (let i = 0; i < n; i++) {
    const r = snapper.snap(t.points[2 * i], t.points[2 * i + 1], st.snapRadiusM);
    if (isMiss(r)) {
      out[F * i] = -1;
      out[F * i + 2] = r.nearestM;
    } else {
      out[F * i] = r.segment;
      out[F * i + 1] = r.t;
      out[F * i + 2] = r.distanceM;
    }
  }
  return { kind: 'snap', out };
}

export default function run(task: WorkerTask): WorkerReply {
  // Abandon work whose caller has given up (it waited in the queue too long).
  if (Date.now() > task.deadline) return { kind: 'expired' };
  const st = state(task.map);
  return st ? snap(task, st) : { kind: 'attach' };
}
