// Snapping by a linear scan over every segment (SEMANTICS.md "Snapping").
import type { RefMap } from './graph.js';
import { R, plane, toRad, fromXY } from './geo.js';

export interface RefSnapHit {
  seg: number;
  wayId: string;
  segIndex: number;
  t: number;
  distanceM: number;
  lat: number;
  lng: number;
}
export interface RefSnapMiss {
  miss: true;
  nearestM: number;
}

/** Distances closer than this are tied (SEMANTICS.md: "less than 1 mm"). */
export const TIE_M = 0.001;

/** Projection of the point onto every segment: t, distance, projected x/y. */
export function projectAll(m: RefMap, lat: number, lng: number): { t: Float64Array; d: Float64Array; x: Float64Array; y: Float64Array } {
  const n = m.segA.length;
  const T = new Float64Array(n),
    Dd = new Float64Array(n),
    X = new Float64Array(n),
    Y = new Float64Array(n);
  // Node coordinates in the plane centred on the point: x = R·Δλ·cos φ, y = R·Δφ.
  const cos0 = Math.cos(toRad(lat));
  const px = (i: number) => R * toRad(m.lon[i]! - lng) * cos0;
  const py = (i: number) => R * toRad(m.lat[i]! - lat);
  for (let s = 0; s < n; s++) {
    const a = m.segA[s]!;
    const b = m.segB[s]!;
    const ax = px(a),
      ay = py(a),
      bx = px(b),
      by = py(b);
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    // The point is the origin; project it onto a + t·(b − a), clamp to [0, 1].
    let t = len2 === 0 ? 0 : -(ax * dx + ay * dy) / len2;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    const x = t === 1 ? bx : ax + t * dx;
    const y = t === 1 ? by : ay + t * dy;
    T[s] = t;
    X[s] = x;
    Y[s] = y;
    Dd[s] = Math.hypot(x, y);
  }
  return { t: T, d: Dd, x: X, y: Y };
}

export function refSnap(m: RefMap, lat: number, lng: number, radiusM = 200): RefSnapHit | RefSnapMiss {
  const n = m.segA.length;
  if (n === 0) return { miss: true, nearestM: Infinity };
  const p = projectAll(m, lat, lng);
  let best = Infinity;
  for (let s = 0; s < n; s++) if (p.d[s]! < best) best = p.d[s]!;
  if (!(best <= radiusM)) return { miss: true, nearestM: best };
  // Everything within 1 mm of the closest is tied: lower way id, then lower segment index.
  let w = -1;
  for (let s = 0; s < n; s++) {
    if (p.d[s]! - best >= TIE_M) continue;
    if (w < 0) {
      w = s;
      continue;
    }
    const a = m.segWayBig[s]!;
    const b = m.segWayBig[w]!;
    if (a < b || (a === b && m.segIndex[s]! < m.segIndex[w]!)) w = s;
  }
  const [plat, plng] = fromXY(plane(lat, lng), p.x[w]!, p.y[w]!);
  return { seg: w, wayId: m.segWayId[w]!, segIndex: m.segIndex[w]!, t: p.t[w]!, distanceM: p.d[w]!, lat: plat, lng: plng };
}

/** Every projection within 1 mm (plus float slack) of the closest: the documented tie zone. */
export function refSnapTieZone(m: RefMap, lat: number, lng: number): { wayId: string; segIndex: number; t: number; d: number }[] {
  const p = projectAll(m, lat, lng);
  let best = Infinity;
  for (let s = 0; s < m.segA.length; s++) if (p.d[s]! < best) best = p.d[s]!;
  const out: { wayId: string; segIndex: number; t: number; d: number }[] = [];
  for (let s = 0; s < m.segA.length; s++) {
    if (p.d[s]! - best < TIE_M + 1e-6) out.push({ wayId: m.segWayId[s]!, segIndex: m.segIndex[s]!, t: p.t[s]!, d: p.d[s]! });
  }
  return out;
}
