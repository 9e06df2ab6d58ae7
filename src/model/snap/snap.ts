// Snapping a GPS point onto the closest road segment (SEMANTICS.md).
// Exact rule: project perpendicularly in a local equirectangular plane
// centred on the point, clamp to the segment; closest wins, distances within
// 1 mm tie and go to the lower way ID, then the lower segment index.
// Speed: first the segments of the point's grid cell and the rings around it
// (snap-grid.ts), stopping as soon as the ring's distance exceeds the best
// projection found; for points outside the grid or not settled within two
// rings (far from roads, or beyond the snap radius), a best-first descent of flatbush's tree (its own arrays, read in place) with
// lower bounds in metres of that same plane, so far points cost no more than
// near ones. Both collect every segment within 1 mm of the closest.
import type { RoadGraph } from '../graph/roadgraph.js';
import { BLOCK_SHIFT, POP8, PRE_AT, REC, REC_BYTES, REC_CELL, REC_ENTRY, REC_ROWS, SnapGrid } from './snap-grid.js';
import type { Phantom, SnapMiss } from '../types.js';
import { R, DEG } from '../../mapbuild/geo.js';
import { MinHeap } from '../graph/heap.js';

/** The parts of a flatbush index the descent reads (flatbush 4 internals). */
interface FlatbushTree {
  _boxes: Float32Array | Float64Array;
  _indices: Uint16Array | Uint32Array;
  _levelBounds: number[];
  nodeSize: number;
  numItems: number;
}

const TIE_M = 0.001;

/** Scratch for the projection of one segment (no allocation per call). */
interface Proj {
  d: number;
  t: number;
}

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

  private readonly grid: SnapGrid;
  /**
   * Per segment: the search that last collected it (no duplicates from
   * overlapping cells); 16 bits, cleared once every 65,535 searches.
   */
  private readonly seen: Uint16Array;
  private search = 0;

  /** `grid`: the map's grid (e.g. a view of the one its loading thread built); default SnapGrid.of(g). */
  constructor(
    private readonly g: RoadGraph,
    grid?: SnapGrid,
  ) {
    this.grid = grid ?? SnapGrid.of(g);
    if (this.grid.segmentCount !== g.segmentCount) throw new Error(`snap grid of ${this.grid.segmentCount} segments given for a map of ${g.segmentCount}`);
    this.seen = new Uint16Array(g.segmentCount);
  }

  /** Exact projection of (qlat, qlng) on segment s into this.p. */
  private project(s: number): void {
    const g = this.g;
    const a = g.segA[s],
      b = g.segB[s];
    const ax = (g.vLng[a] - this.qlng) * DEG * this.cosq * R,
      ay = (g.vLat[a] - this.qlat) * DEG * R;
    const bx = (g.vLng[b] - this.qlng) * DEG * this.cosq * R,
      by = (g.vLat[b] - this.qlat) * DEG * R;
    const dx = bx - ax,
      dy = by - ay;
    const l2 = dx * dx + dy * dy;
    let t = l2 > 0 ? -(ax * dx + ay * dy) / l2 : 0;
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    const px = ax + t * dx,
      py = ay + t * dy;
    this.p.t = t;
    this.p.d = Math.sqrt(px * px + py * py);
  }

  private collect(s: number): void {
    this.project(s);
    if (this.n === this.candSeg.length) {
      const grow = <T extends Int32Array | Float64Array>(x: T): T => {
        const y = new (x.constructor as new (n: number) => T)(x.length * 2);
        y.set(x);
        return y;
      };
      this.candSeg = grow(this.candSeg);
      this.candD = grow(this.candD);
      this.candT = grow(this.candT);
    }
    this.candSeg[this.n] = s;
    this.candD[this.n] = this.p.d;
    this.candT[this.n] = this.p.t;
    this.n++;
  }

  private readonly heap = new MinHeap(64);

  /** Snap within radiusM (inclusive); a miss tells how far the nearest road is. */
  snap(lat: number, lng: number, radiusM: number): Phantom | SnapMiss {
    this.qlat = lat;
    this.qlng = lng;
    this.cosq = Math.cos(lat * DEG);
    if (!this.rings(radiusM)) this.descend();
    return this.choose(radiusM);
  }

  /**
   * Collect from the grid, ring by ring around the point's cell, until every
   * unvisited cell is farther than the best distance + 1 mm. False when the
   * grid should not decide: the point is outside it, nothing lies within
   * radiusM (the nearest road's distance is then the tree's to find), or two
   * rings did not settle it (the tree is cheaper than more rings).
   */
  private rings(radiusM: number): boolean {
    const grid = this.grid;
    const lat = this.qlat,
      lng = this.qlng;
    if (!grid.covers(lat, lng)) return false;
    if (++this.search === 0x10000) {
      this.seen.fill(0);
      this.search = 1;
    }
    const stamp = this.search,
      seen = this.seen,
      blocks = grid.blocks,
      recs = grid.recs,
      rows = grid.rows,
      pre = grid.pre,
      ends = grid.ends,
      segs = grid.segs;
    const cx = grid.ix(lng),
      cy = grid.iy(lat),
      nx = grid.nx,
      ny = grid.ny,
      nbx = grid.nbx;
    const my = R * DEG,
      mx = my * this.cosq;
    // Distances (m) from the point to its own cell's four sides.
    const west = (lng - (grid.lng0 + cx * grid.dLng)) * mx,
      east = (grid.lng0 + (cx + 1) * grid.dLng - lng) * mx;
    const south = (lat - (grid.lat0 + cy * grid.dLat)) * my,
      north = (grid.lat0 + (cy + 1) * grid.dLat - lat) * my;
    const cellX = grid.dLng * mx,
      cellY = grid.dLat * my;
    this.n = 0;
    let bestD = Infinity;
    for (let r = 0; ; r++) {
      const x0 = cx - r,
        x1 = cx + r,
        y0 = cy - r,
        y1 = cy + r;
      for (let y = Math.max(0, y0), ye = Math.min(ny - 1, y1); y <= ye; y++) {
        const edgeRow = y === y0 || y === y1;
        // The row's blocks, and its place in a block record (snap-grid.ts).
        const rowBlocks = (y >> BLOCK_SHIFT) * nbx,
          yy = y & 15,
          preAt = PRE_AT + yy;
        // Cells xa..xb of the row within one block at a time (their segments are
        // contiguous in segs, cell after cell): an edge row of the ring whole,
        // a middle row's two cells one by one.
        const xe = Math.min(nx - 1, x1);
        for (let xa = Math.max(0, x0); xa <= xe; ) {
          const xb = edgeRow ? Math.min(xe, xa | 15) : xa;
          const k = blocks[rowBlocks + (xa >> BLOCK_SHIFT)];
          if (k >= 0) {
            const row = rows[k * REC_ROWS + yy],
              before = row & ((1 << (xa & 15)) - 1),
              sel = row & ((2 << (xb & 15)) - 1) & ~before;
            if (sel !== 0) {
              // The first non-empty cell of the run (its rank in the block, its number), and the last.
              const rk = pre[k * REC_BYTES + preAt] + POP8[before & 255] + POP8[before >> 8];
              const ci = recs[k * REC + REC_CELL] + rk,
                cl = xa === xb ? ci : ci + POP8[sel & 255] + POP8[sel >> 8] - 1,
                base = recs[k * REC + REC_ENTRY];
              for (let i = base + (rk === 0 ? 0 : ends[ci - 1]), e = base + ends[cl]; i < e; i++) {
                const s = segs[i];
                if (seen[s] === stamp) continue;
                seen[s] = stamp;
                this.collect(s);
                if (this.p.d < bestD) bestD = this.p.d;
              }
            }
          }
          xa = edgeRow || xb === x1 ? xb + 1 : x1;
        }
      }
      // Anything not yet seen lies in cells outside the block [x0, x1] × [y0, y1]:
      // at least this far (a side at the grid's edge has nothing beyond it).
      const bound =
        Math.min(
          x0 <= 0 ? Infinity : west + r * cellX,
          x1 >= nx - 1 ? Infinity : east + r * cellX,
          y0 <= 0 ? Infinity : south + r * cellY,
          y1 >= ny - 1 ? Infinity : north + r * cellY,
        ) *
        (1 - 1e-12);
      if (bound > bestD + TIE_M) return true;
      if (bound > radiusM + TIE_M) return bestD <= radiusM; // nothing within the radius: let the tree measure the miss
      // Not settled within two rings (the closest road is farther than ~2 cells,
      // or there is none near): the tree's descent, which also measures a miss,
      // beats scanning ring after ring. GPS updates almost always settle here.
      if (r >= 2 || (r >= 1 && bestD === Infinity)) return false;
    }
  }

  /** Collect by a best-first descent of the flatbush tree. */
  private descend(): void {
    const g = this.g,
      lat = this.qlat,
      lng = this.qlng;
    const tree = g.index as unknown as FlatbushTree;
    const boxes = tree._boxes,
      indices = tree._indices,
      levels = tree._levelBounds;
    const leafEnd = tree.numItems * 4,
      nodeSize4 = tree.nodeSize * 4;
    const kx = g.meta.kx,
      m = R * DEG,
      cx = this.cosq;
    const heap = this.heap;
    heap.clear();
    heap.push(0, boxes.length - 4);
    this.n = 0;
    let bestD = Infinity;
    // Heap values: a node's box offset (≥ 0), or −1 − item for a leaf (a run
    // of segments), projected exactly only when it comes out (usually the
    // first one wins).
    while (heap.size > 0 && heap.minKey <= bestD + TIE_M) {
      const top = heap.pop();
      if (top < 0) {
        for (let s = g.runStart(-1 - top), e = g.runEnd(s); s < e; s++) {
          this.collect(s);
          if (this.p.d < bestD) bestD = this.p.d;
        }
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
  }

  /** The closest collected candidate, ties broken by way ID then segment index. */
  private choose(radiusM: number): Phantom | SnapMiss {
    const g = this.g;
    if (this.n === 0) return { nearestM: Infinity };
    let minD = Infinity;
    for (let i = 0; i < this.n; i++) if (this.candD[i] < minD) minD = this.candD[i];
    if (minD > radiusM) return { nearestM: minD };
    // Tied within 1 mm of the closest: lower way ID, then lower segment index.
    let best = -1;
    for (let i = 0; i < this.n; i++) {
      if (this.candD[i] - minD >= TIE_M) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      const s = this.candSeg[i],
        bs = this.candSeg[best];
      const w = g.wayIds[g.segWay[s]],
        bw = g.wayIds[g.segWay[bs]];
      if (w < bw || (w === bw && g.segIdx[s] < g.segIdx[bs])) best = i;
    }
    const s = this.candSeg[best],
      t = this.candT[best],
      d = this.candD[best];
    const a = g.segA[s],
      b = g.segB[s];
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
  let i = 0,
    j = arr.length - 1;
  while (i < j) {
    const m = (i + j) >> 1;
    if (arr[m] > value) j = m;
    else i = m + 1;
  }
  return arr[i];
}

export function isMiss(x: Phantom | SnapMiss): x is SnapMiss {
  return (x as Phantom).segment === undefined;
}
