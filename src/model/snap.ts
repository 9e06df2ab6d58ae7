// Snapping a GPS point onto the closest road segment (SEMANTICS.md).
// Exact rule: project perpendicularly in a local equirectangular plane
// centred on the point, clamp to the segment; closest wins, distances within
// 1 mm tie and go to the lower way ID, then the lower segment index.
// Speed: flatbush's nearest box gives an upper bound d0 on the answer; then
// only boxes within d0 (+ the tie margin) of the point can hold the answer,
// and a bbox search in degrees with exactly that reach finds them all.
import type { RoadGraph } from './graph/roadgraph.js';
import type { Phantom, SnapMiss } from './types.js';
import { R, DEG } from '../mapbuild/geo.js';

const TIE_M = 0.001;

/** Scratch for the projection of one segment (no allocation per call). */
interface Proj { d: number; t: number }

export class Snapper {
  private readonly p: Proj = { d: 0, t: 0 };
  private cosq = 1;
  private qlat = 0;
  private qlng = 0;
  // Candidates of the current search (reused; a handful per point).
  private candSeg = new Int32Array(64);
  private candD = new Float64Array(64);
  private candT = new Float64Array(64);
  private n = 0;

  constructor(private readonly g: RoadGraph) {}

  /** Exact projection of (qlat, qlng) on segment s into this.p. */
  private project(s: number): void {
    const g = this.g;
    const a = g.segA[s], b = g.segB[s];
    const ax = (g.vLng[a] - this.qlng) * DEG * this.cosq * R, ay = (g.vLat[a] - this.qlat) * DEG * R;
    const bx = (g.vLng[b] - this.qlng) * DEG * this.cosq * R, by = (g.vLat[b] - this.qlat) * DEG * R;
    const dx = bx - ax, dy = by - ay;
    const l2 = dx * dx + dy * dy;
    let t = l2 > 0 ? -(ax * dx + ay * dy) / l2 : 0;
    if (t < 0) t = 0; else if (t > 1) t = 1;
    const px = ax + t * dx, py = ay + t * dy;
    this.p.t = t;
    this.p.d = Math.sqrt(px * px + py * py);
  }

  private collect(s: number): void {
    this.project(s);
    if (this.n === this.candSeg.length) {
      const grow = <T extends Int32Array | Float64Array>(x: T): T => { const y = new (x.constructor as new (n: number) => T)(x.length * 2); y.set(x); return y; };
      this.candSeg = grow(this.candSeg); this.candD = grow(this.candD); this.candT = grow(this.candT);
    }
    this.candSeg[this.n] = s; this.candD[this.n] = this.p.d; this.candT[this.n] = this.p.t;
    this.n++;
  }

  /** Snap within radiusM (inclusive); a miss tells how far the nearest road is. */
  snap(lat: number, lng: number, radiusM: number): Phantom | SnapMiss {
    const g = this.g;
    this.qlat = lat; this.qlng = lng; this.cosq = Math.cos(lat * DEG);
    const kx = g.meta.kx;
    const near = g.index.neighbors(lng * kx, lat, 1);
    if (near.length === 0) return { nearestM: Infinity };
    this.project(near[0]);
    const reach = this.p.d + 2 * TIE_M;
    const dLat = (reach / R) / DEG;
    const dLng = this.cosq > 1e-12 ? (reach / (R * this.cosq)) / DEG : 360;
    this.n = 0;
    g.index.search((lng - dLng) * kx, lat - dLat, (lng + dLng) * kx, lat + dLat, (s: number) => { this.collect(s); return false; });
    let minD = Infinity;
    for (let i = 0; i < this.n; i++) if (this.candD[i] < minD) minD = this.candD[i];
    if (minD > radiusM) return { nearestM: minD };
    // Tied within 1 mm of the closest: lower way ID, then lower segment index.
    let best = -1;
    for (let i = 0; i < this.n; i++) {
      if (this.candD[i] - minD >= TIE_M) continue;
      if (best < 0) { best = i; continue; }
      const s = this.candSeg[i], bs = this.candSeg[best];
      const w = g.wayIds[g.segWay[s]], bw = g.wayIds[g.segWay[bs]];
      if (w < bw || (w === bw && g.segIdx[s] < g.segIdx[bs])) best = i;
    }
    const s = this.candSeg[best], t = this.candT[best], d = this.candD[best];
    const a = g.segA[s], b = g.segB[s];
    return {
      segment: s,
      wayId: String(g.wayIds[g.segWay[s]]),
      segIndex: g.segIdx[s],
      t,
      lat: g.vLat[a] + t * (g.vLat[b] - g.vLat[a]),
      lng: g.vLng[a] + t * (g.vLng[b] - g.vLng[a]),
      distanceM: d,
    };
  }
}

export function isMiss(x: Phantom | SnapMiss): x is SnapMiss { return (x as Phantom).segment === undefined; }
