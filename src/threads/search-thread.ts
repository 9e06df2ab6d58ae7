// A search thread: waits on its mailbox (Atomics.wait, no event loop), runs
// one nearby search per request over the shared graph and driver store, in
// the order the requests were posted, writes each answer into the request's
// slot and posts the request number on its port. Maps arrive as `attach` messages on its port, read
// synchronously (receiveMessageOnPort) whenever it wakes: the main thread
// posts them before the first request that needs them.
import { workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { RoadGraph } from '../model/graph/roadgraph.js';
import { Snapper } from '../model/snap/snap.js';
import { SnapGrid } from '../model/snap/snap-grid.js';
import { KnnSearch } from '../model/knn/knn.js';
import { searchNearby } from '../model/knn/nearby.js';
import { StoreReader } from '../model/store/store-reader.js';
import { D_LAT, D_LNG, D_MS, D_SEG, D_SNAP, D_T, D_TS, getF64 } from '../model/store/records.js';
import type { MapHandle } from './messages.js';
import * as M from './search-mailbox.js';

/** Messages on the thread's port. */
export type SearchThreadMessage = { kind: 'attach'; no: number; handle: MapHandle };

interface MapState {
  graph: RoadGraph;
  snapper: Snapper;
  knn: KnnSearch;
  reader: StoreReader;
  closed: Int32Array;
  snapRadiusM: number;
  ttlMs: number;
}

const { mailbox: sab, port } = workerData as { mailbox: SharedArrayBuffer; port: MessagePort };
const box = new M.Mailbox(sab);
const maps = new Map<number, MapState>();

function drainPort(): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const msg = m.message as SearchThreadMessage;
    const h = msg.handle;
    if (maps.has(msg.no) || Atomics.load(new Int32Array(h.closed), 0) === 1) continue;
    const graph = RoadGraph.from(h.graph);
    const reader = new StoreReader(graph, h.store);
    maps.set(msg.no, {
      graph,
      snapper: new Snapper(graph, SnapGrid.of(graph, h.grid)), // the main thread's grid, not a copy
      knn: new KnnSearch(graph),
      reader,
      closed: new Int32Array(h.closed),
      snapRadiusM: h.snapRadiusM,
      ttlMs: h.ttlMs,
    });
    hold(msg.no, reader.art.slot);
  }
  // Let go of dropped maps (their reader slots pin arena memory).
  for (const [no, st] of maps)
    if (Atomics.load(st.closed, 0) === 1) {
      st.reader.close();
      maps.delete(no);
      hold(no, -1);
    }
}

/** Record (or with slot −1 forget) the reader slot held for a map, for the main thread to free if this thread dies. */
function hold(no: number, slot: number): void {
  const h = box.held;
  if (slot < 0) {
    for (let i = 0; i < h.length; i += 2) if (h[i] === no) Atomics.store(h, i, 0);
    return;
  }
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] !== 0) continue;
    h[i + 1] = slot;
    Atomics.store(h, i, no);
    return;
  }
  // More than MAX_HELD maps on one thread: this slot could not be freed should the thread die.
}

function search(slot: M.Slot): M.Status {
  const c = slot.ctrl,
    f = slot.f64;
  if (Date.now() > f[M.DEADLINE]) return M.Status.Expired;
  const s = maps.get(c[M.MAP]);
  if (!s) return M.Status.UnknownMap;
  const nf = c[M.NFILTER],
    out = slot.hits;
  let i = 0;
  const r = searchNearby(
    s,
    {
      lat: f[M.LAT],
      lng: f[M.LNG],
      k: c[M.K],
      metric: M.METRICS[c[M.METRIC]],
      limit: f[M.LIMIT],
      nowMs: f[M.NOW],
      filter: nf > 0 ? slot.filter.subarray(0, 2 * nf) : undefined,
    },
    (h, i32, v) => {
      const o = i++ * M.HIT_SLOTS;
      out[o + M.H_NO] = h.driverNo;
      out[o + M.H_DIST] = h.distanceM;
      out[o + M.H_ETA] = h.etaS;
      out[o + M.H_LAT] = getF64(i32, v + D_LAT);
      out[o + M.H_LNG] = getF64(i32, v + D_LNG);
      out[o + M.H_TS] = getF64(i32, v + D_TS);
      out[o + M.H_SEG] = i32[v + D_SEG];
      out[o + M.H_T] = getF64(i32, v + D_T);
      out[o + M.H_SNAP] = getF64(i32, v + D_SNAP);
      out[o + M.H_MS] = i32[v + D_MS];
    },
  );
  if (!r.ok) {
    f[M.NEAREST] = r.nearestM;
    return M.Status.Miss;
  }
  c[M.SNAP_SEG] = r.snapped.segment;
  f[M.SNAP_T] = r.snapped.t;
  f[M.SNAP_D] = r.snapped.distanceM;
  c[M.NHITS] = r.hits;
  c[M.EDGES] = r.edgesExpanded;
  c[M.CANDS] = r.candidatesSeen;
  return M.Status.Ok;
}

let seen = 0;
for (;;) {
  // Announce the sleep, then look once more: a request posted before the
  // announcement is seen here; one posted after it comes with a notify.
  Atomics.store(box.hdr, M.SLEEPING, 1);
  if (Atomics.load(box.hdr, M.REQ) === seen) Atomics.wait(box.hdr, M.REQ, seen);
  Atomics.store(box.hdr, M.SLEEPING, 0);
  if (Atomics.load(box.hdr, M.STOP) === 1) break;
  const req = Atomics.load(box.hdr, M.REQ);
  if (req === seen) continue; // spurious wake-up
  drainPort(); // the maps of these requests were posted before them
  while (seen < req) {
    const seq = ++seen,
      slot = box.slot(seq);
    slot.f64[M.T_START] = M.epochNow();
    let status: M.Status;
    try {
      status = search(slot);
    } catch (e) {
      slot.setError((e as Error)?.stack ?? String(e));
      status = M.Status.Error;
    }
    slot.ctrl[M.STATUS] = status;
    slot.f64[M.T_END] = M.epochNow();
    Atomics.store(box.hdr, M.DONE, seq);
    port.postMessage(seq); // wakes the main thread's event loop (see search-mailbox.ts)
  }
}
for (const st of maps.values()) st.reader.close();
port.close();
