// How a nearby answer came about: the road path each driver would drive and
// the edges the expansion settled, for the map page.
//
// The answer is replayed with the same KnnSearch over only the drivers it
// returned (re-snapped from their reported positions, as the store snapped
// them). The expansion order does not depend on the drivers, and the search
// stops once the K-th of them is final, so the replay settles the edges the
// real search settled, on any instance that has the map's graph — also one
// that holds no replica. Paths are read back from the settled costs: each
// edge's cost is exactly its successor's cost plus the step between them.
import type { RoadGraph } from '../graph/roadgraph.js';
import { edgePart } from '../graph/geometry.js';
import { isMiss, type Snapper } from '../snap/snap.js';
import { edgePos, type DriverSource, type EdgePos, type KnnSearch } from './knn.js';
import type { Metric, Phantom } from '../types.js';

export interface ExplainQuery {
  lat: number;
  lng: number;
  k: number;
  metric: Metric;
  /** max_distance_m or max_eta_s, whichever the metric ranks by. */
  limit: number;
}

export interface ExplainedPath {
  driverId: string;
  distanceM: number;
  etaS: number;
  /** From the driver's snapped position to the pick-up point, [lat, lng] pairs. */
  path: [number, number][];
}

export type Explanation =
  | { ok: false; nearestM: number }
  | {
      ok: true;
      snapped: Phantom;
      paths: ExplainedPath[];
      /** Edges (undirected IDs, as in the roads route) settled in either direction. */
      settledEdges: number[];
      /** Directed edges settled. */
      edgesExpanded: number;
    };

/** A step of a path toward the query, and the cost it accounts for. */
interface Step {
  cost: number;
  piece: [number, number][];
  /** Directed edge to continue from; -1 = the query is reached. */
  next: number;
}

export function explainNearby(
  g: RoadGraph,
  snapper: Snapper,
  knn: KnnSearch,
  snapRadiusM: number,
  q: ExplainQuery,
  drivers: readonly { driverId: string; lat: number; lng: number }[],
): Explanation {
  const snapped = snapper.snap(q.lat, q.lng, snapRadiusM);
  if (isMiss(snapped)) return { ok: false, nearestM: snapped.nearestM };
  const at = edgePos(g, snapped.segment, snapped.t);
  const ids: string[] = [];
  const pos: EdgePos[] = [];
  const byEdge = new Map<number, number[]>();
  for (const d of drivers) {
    const p = snapper.snap(d.lat, d.lng, snapRadiusM);
    if (isMiss(p)) continue;
    const e = edgePos(g, p.segment, p.t);
    const no = ids.length;
    ids.push(d.driverId);
    pos.push(e);
    const list = byEdge.get(e.edge);
    if (list) list.push(no);
    else byEdge.set(e.edge, [no]);
  }
  const idBytes = ids.map((id) => Buffer.from(id, 'utf8'));
  const src: DriverSource = {
    scanEdge: (edge, visit) => {
      for (const no of byEdge.get(edge) ?? []) visit(no, pos[no].offD, pos[no].offT);
    },
    accept: () => true,
    compareIds: (a, b) => Buffer.compare(idBytes[a], idBytes[b]),
  };
  const hits = knn.search(src, at, { k: q.k, metric: q.metric, limit: q.limit });

  const eta = q.metric === 'eta';
  const cost = eta ? g.eTime : g.eLen;
  const segCost = eta ? g.segTime : g.segLen;
  const dist = (d: number): number => (knn.settledInLast(d) ? knn.distInLast(d) : Infinity);
  const whole = (d: number): [number, number][] => edgePart(g, d >> 1, (d & 1) === 0 ? 0 : g.eLen[d >> 1], (d & 1) === 0 ? g.eLen[d >> 1] : 0);
  const qe = at.edge;
  const y = eta ? at.offT : at.offD;

  /** The ways on from directed edge d (arrived at its head) that the search could have used. */
  const steps = (d: number): Step[] => {
    const v = g.to(d);
    const out: Step[] = [];
    for (const [dq, c] of [
      [2 * qe, y],
      [2 * qe + 1, cost[qe] - y],
    ] as const)
      if (g.from(dq) === v && knn.allowed(dq) && !knn.forbidden(v, d, dq))
        out.push({ cost: c, piece: edgePart(g, qe, (dq & 1) === 0 ? 0 : g.eLen[qe], at.offD), next: -1 });
    if (v + 1 >= g.outStart.length) return out;
    for (let i = g.outStart[v], end = g.outStart[v + 1]; i < end; i++) {
      const n = g.outList[i];
      if (knn.forbidden(v, d, n)) continue;
      out.push({ cost: dist(n) + cost[n >> 1], piece: whole(n), next: n });
      // A U-turn on n's first segment, back to v as if arrived through n ^ 1.
      const e = n >> 1,
        first = g.eSegStart[e],
        last = g.eSegStart[e + 1] - 1;
      if (last > first) {
        const s = (n & 1) === 0 ? first : last;
        const inner = g.segA[s] === v ? g.segB[s] : g.segA[s];
        const here: [number, number] = [g.vLat[v], g.vLng[v]];
        out.push({ cost: dist(n ^ 1) + 2 * segCost[s], piece: [here, [g.vLat[inner], g.vLng[inner]], here], next: n ^ 1 });
      }
    }
    return out;
  };
  const best = (options: Step[], target: number): Step | undefined => {
    let b: Step | undefined;
    for (const o of options) if (Number.isFinite(o.cost) && (!b || Math.abs(o.cost - target) < Math.abs(b.cost - target))) b = o;
    return b;
  };

  const paths: ExplainedPath[] = hits.map((h) => {
    const p = pos[h.driverNo];
    const e = p.edge,
      x = eta ? p.offT : p.offD;
    const target = eta ? h.etaS : h.distanceM;
    // The driver's own edge: straight to the query on the same edge, or onward through either end.
    const first: Step[] = [
      { cost: cost[e] - x + dist(2 * e), piece: edgePart(g, e, p.offD, g.eLen[e]), next: 2 * e },
      { cost: x + dist(2 * e + 1), piece: edgePart(g, e, p.offD, 0), next: 2 * e + 1 },
    ];
    if (e === qe) {
      if (p.offD <= at.offD && knn.allowed(2 * e)) first.push({ cost: y - x, piece: edgePart(g, e, p.offD, at.offD), next: -1 });
      if (p.offD >= at.offD && knn.allowed(2 * e + 1)) first.push({ cost: x - y, piece: edgePart(g, e, p.offD, at.offD), next: -1 });
    }
    const path: [number, number][] = [];
    let step = best(first, target);
    let left = target;
    // Each settled edge's successor was settled before it, so this ends; the bound guards against a float tie loop.
    for (let guard = 0; step && guard < 1_000_000; guard++) {
      path.push(...step.piece);
      if (step.next < 0) break;
      left = dist(step.next);
      step = best(steps(step.next), left);
    }
    return { driverId: ids[h.driverNo], distanceM: h.distanceM, etaS: h.etaS, path };
  });

  const settled = new Set<number>();
  for (let d = 0, D = 2 * g.edgeCount; d < D; d++) if (knn.settledInLast(d)) settled.add(d >> 1);
  return { ok: true, snapped, paths, settledEdges: [...settled].sort((a, b) => a - b), edgesExpanded: knn.stats.edgesExpanded };
}
