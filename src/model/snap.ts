// Snapping a GPS point onto the closest road segment (SEMANTICS.md).
// Exact rule: project perpendicularly in a local equirectangular plane
// centred on the point, clamp to the segment; closest wins, distances within
// 1 mm tie and go to the lower way ID, then the lower segment index.
// Speed: one best-first descent of flatbush's tree (its own arrays, read in
// place) with lower bounds in metres of that same plane, so only the few
// boxes that could hold the closest (or a tied) segment are opened — far
// points cost no more than near ones.
import type { RoadGraph } from './graph/roadgraph.js';
import type { Phantom, SnapMiss } from './types.js';
import { R, DEG } from '../mapbuild/geo.js';
import { MinHeap } from './graph/heap.js';

/** The parts of a flatbush index the descent reads (flatbush 4 internals). */
interface FlatbushTree { _boxes: Float64Array; _indices: Uint16Array | Uint32Array; _levelBounds: number[]; nodeSize: number; numItems: number }

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

  private readonly heap = new MinHeap(64);

  /** Snap within radiusM (inclusive); a miss tells how far the nearest road is. */
  snap(lat: number, lng: number, radiusM: number): Phantom | SnapMiss {
    const g = this.g;
    this.qlat = lat; this.qlng = lng; this.cosq = Math.cos(lat * DEG);
    const tree = g.index as unknown as FlatbushTree;
    const boxes = tree._boxes, indices = tree._indices, levels = tree._levelBounds;
    const leafEnd = tree.numItems * 4, nodeSize4 = tree.nodeSize * 4;
    const kx = g.meta.kx, m = R * DEG, cx = this.cosq;
    const heap = this.heap;
    heap.clear();
    heap.push(0, boxes.length - 4);
    this.n = 0;
    let bestD = Infinity;
    // Heap values: a node's box offset (≥ 0), or −1 − segment for a leaf,
    // projected exactly only when it comes out (usually the first one wins).
    while (heap.size > 0 && heap.minKey <= bestD + TIE_M) {
      const top = heap.pop();
      if (top < 0) {
        this.collect(-1 - top);
        if (this.p.d < bestD) bestD = this.p.d;
        continue;
      }
      const leaf = top < leafEnd;
      const end = Math.min(top + nodeSize4, upperBound(top, levels));
      for (let pos = top; pos < end; pos += 4) {
        const dx = Math.max(boxes[pos] / kx - lng, lng - boxes[pos + 2] / kx, 0);
        const dy = Math.max(boxes[pos + 1] - lat, lat - boxes[pos + 3], 0);
        // Lower bound of the plane distance to anything in the box (minus a
        // hair for the rounding of the kx scaling).
        const lb = m * Math.sqrt(dx * dx * cx * cx + dy * dy) * (1 - 1e-12);
        if (lb > bestD + TIE_M) continue;
        const child = indices[pos >> 2];
        heap.push(lb, leaf ? -1 - child : child);
      }
    }
    if (this.n === 0) return { nearestM: Infinity };
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

/** First level bound above a node index (flatbush's own helper). */
function upperBound(value: number, arr: number[]): number {
  let i = 0, j = arr.length - 1;
  while (i < j) {
    const m = (i + j) >> 1;
    if (arr[m] > value) j = m; else i = m + 1;
  }
  return arr[i];
}

export function isMiss(x: Phantom | SnapMiss): x is SnapMiss { return (x as Phantom).segment === undefined; }
