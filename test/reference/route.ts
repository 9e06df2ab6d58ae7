// Road distance and ETA (SEMANTICS.md "Road distance", "ETA", "A nearby
// answer"), by one plain Dijkstra over directed segments run BACKWARDS from
// the query, so every driver's cost is then read off directly.
//
// State: a directed segment e (a→b or b→a of one segment).
//   w[f] = least cost to the query for a vehicle standing at tail(f) that has
//          committed to entering f (either f is the query's segment and the
//          query is s·M or (1−s)·M into it, or it drives all of f and turns on);
//   g[e] = least cost to the query for a vehicle that just arrived at head(e)
//          along e = min over allowed turns e→f of w[f].
// A driver on (a→b) at t: min((1−t)·L + g[a→b], t·L + g[b→a], same-segment direct).
import type { RefMap } from './graph.js';
import { dirAllowed, tail, turnAllowed } from './graph.js';
import { MinHeap, lexLess } from './heap.js';
import { refSnap, type RefSnapHit } from './snap.js';

export type Metric = 'distance' | 'eta';

export interface RefDriver {
  id: string;
  lat: number;
  lng: number;
  metadata: Record<string, string>;
}
export interface RefQuery {
  lat: number;
  lng: number;
  k: number;
  metric: Metric;
  limit: number;
  filter?: Record<string, string>;
}
export interface RefResult {
  id: string;
  distanceM: number;
  etaS: number;
  /**
   * The non-ranked value is "the one along the chosen path"; when several
   * paths share the least ranked cost, any of theirs is right. This is the
   * range over those paths (min is also what distanceM/etaS report).
   */
  otherMin: number;
  otherMax: number;
}

/** A segment's cost pair in a metric: [ranked, other]. */
function segCost(m: RefMap, seg: number, metric: Metric): [number, number] {
  const L = m.segLen[seg]!;
  const T = L / m.segSpeed[seg]!;
  return metric === 'distance' ? [L, T] : [T, L];
}

/** Least [ranked, sign·other] cost to the query after arriving along each directed segment. */
export interface Backward {
  g0: Float64Array;
  g1: Float64Array;
}

/**
 * g[e] for every directed segment, for costs [ranked, sign·other]: sign = +1
 * finds the least other value among least-ranked paths, sign = −1 the most.
 */
export function backward(m: RefMap, q: RefSnapHit, metric: Metric, sign: 1 | -1): Backward {
  const w0 = new Float64Array(m.D).fill(Infinity);
  const w1 = new Float64Array(m.D).fill(Infinity);
  const g0 = new Float64Array(m.D).fill(Infinity);
  const g1 = new Float64Array(m.D).fill(Infinity);
  const done = new Uint8Array(m.D);
  const heap = new MinHeap();
  const [qr, qo] = segCost(m, q.seg, metric);
  const start = (f: number, frac: number) => {
    w0[f] = qr * frac;
    w1[f] = sign * qo * frac;
    heap.push(w0[f]!, w1[f]!, f);
  };
  if (dirAllowed(m, 2 * q.seg)) start(2 * q.seg, q.t);
  if (dirAllowed(m, 2 * q.seg + 1)) start(2 * q.seg + 1, 1 - q.t);
  for (;;) {
    const f = heap.pop();
    if (f < 0) break;
    if (done[f]) continue;
    done[f] = 1;
    const a = w0[f]!,
      b = w1[f]!;
    for (const e of m.arriving.get(tail(m, f)) ?? []) {
      if (!turnAllowed(m, e, f)) continue;
      if (lexLess(a, b, g0[e]!, g1[e]!)) {
        g0[e] = a;
        g1[e] = b;
      }
      const [er, eo] = segCost(m, e >> 1, metric);
      const c0 = er + a,
        c1 = sign * eo + b;
      if (lexLess(c0, c1, w0[e]!, w1[e]!)) {
        w0[e] = c0;
        w1[e] = c1;
        heap.push(c0, c1, e);
      }
    }
  }
  return { g0, g1 };
}

/** The driver's [ranked, sign·other] cost to the query, or undefined if it has no path. */
export function driverCost(m: RefMap, g: Backward, d: RefSnapHit, q: RefSnapHit, metric: Metric, sign: 1 | -1): [number, number] | undefined {
  const [cr, co] = segCost(m, d.seg, metric);
  let b0 = Infinity,
    b1 = Infinity;
  const consider = (x0: number, x1: number) => {
    if (lexLess(x0, x1, b0, b1)) {
      b0 = x0;
      b1 = x1;
    }
  };
  // Leave toward b at (1−t)·L, toward a at t·L, each if that direction is allowed.
  if (dirAllowed(m, 2 * d.seg)) consider(cr * (1 - d.t) + g.g0[2 * d.seg]!, sign * co * (1 - d.t) + g.g1[2 * d.seg]!);
  if (dirAllowed(m, 2 * d.seg + 1)) consider(cr * d.t + g.g0[2 * d.seg + 1]!, sign * co * d.t + g.g1[2 * d.seg + 1]!);
  if (d.seg === q.seg) {
    if (d.t === q.t) consider(0, 0);
    else if (q.t > d.t && dirAllowed(m, 2 * d.seg)) consider(cr * (q.t - d.t), sign * co * (q.t - d.t));
    else if (q.t < d.t && dirAllowed(m, 2 * d.seg + 1)) consider(cr * (d.t - q.t), sign * co * (d.t - q.t));
  }
  return b0 === Infinity ? undefined : [b0, b1];
}

/** UTF-8 byte order of driver ids. */
export function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const snapCache = new WeakMap<RefMap, Map<string, ReturnType<typeof refSnap>>>();
/** refSnap, memoised per map (property tests snap the same drivers many times). */
export function refSnapCached(m: RefMap, lat: number, lng: number, radiusM: number): ReturnType<typeof refSnap> {
  let c = snapCache.get(m);
  if (c === undefined) {
    c = new Map();
    snapCache.set(m, c);
  }
  const key = `${lat},${lng},${radiusM}`;
  let r = c.get(key);
  if (r === undefined) {
    r = refSnap(m, lat, lng, radiusM);
    c.set(key, r);
  }
  return r;
}

export function refNearby(m: RefMap, drivers: RefDriver[], q: RefQuery, radiusM = 200): { error: string } | { results: RefResult[] } {
  if (!Number.isInteger(q.k) || q.k < 1 || q.k > 1000) return { error: 'k out of range' };
  const maxLimit = q.metric === 'distance' ? 100_000 : 7_200;
  if (!(q.limit > 0 && q.limit <= maxLimit)) return { error: 'limit out of range' };
  const qs = refSnapCached(m, q.lat, q.lng, radiusM);
  if ('miss' in qs) return { error: 'query does not snap' };
  const gMin = backward(m, qs, q.metric, 1);
  const gMax = backward(m, qs, q.metric, -1);
  const out: RefResult[] = [];
  for (const d of drivers) {
    if (q.filter && !Object.entries(q.filter).every(([k, v]) => Object.hasOwn(d.metadata, k) && d.metadata[k] === v)) continue;
    const ds = refSnapCached(m, d.lat, d.lng, radiusM);
    if ('miss' in ds) continue; // its update was refused: it is not on the map
    const lo = driverCost(m, gMin, ds, qs, q.metric, 1);
    const hi = driverCost(m, gMax, ds, qs, q.metric, -1);
    if (lo === undefined || hi === undefined) continue;
    if (lo[0] > q.limit) continue;
    const [ranked, other] = lo;
    out.push({
      id: d.id,
      distanceM: q.metric === 'distance' ? ranked : other,
      etaS: q.metric === 'eta' ? ranked : other,
      otherMin: other,
      otherMax: -hi[1],
    });
  }
  const key = (r: RefResult) => (q.metric === 'distance' ? r.distanceM : r.etaS);
  out.sort((a, b) => key(a) - key(b) || compareIds(a.id, b.id));
  return { results: out.slice(0, q.k) };
}
