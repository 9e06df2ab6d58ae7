// A uniform grid over a map's segments (cells about 30 m square): the fast
// path of snapping. A GPS point a few metres off a road finds its segment in
// the point's own cell and the ring around it, with a handful of projections
// and no heap — 2–3.7× faster on the bundled maps than descending the flatbush
// tree. The tree stays the exact fallback for points outside the grid and for
// points not settled within two rings (no road within ~60 m, or none within
// the snap radius, where the nearest road's distance must be reported).
//
// A cell lists every segment whose bounding box touches it, in ascending
// segment order. Built once per map (milliseconds) on the thread that loads
// it, into one SharedArrayBuffer that the map's handle carries to every
// snapping and searching thread (messages.ts): each views the same memory.
// Not stored in the map file: it is derived data and would only grow the
// file format.
//
// Layout (compact: most cells of a map's bounding box are empty, and an
// empty cell costs next to nothing). Cells are grouped in blocks of 16 × 16:
//   blocks[by · nbx + bx]  the block's record number, or −1 when all its cells are empty;
//   record k               56 bytes: 16 × 16 bits of occupancy (rows[28k + (y & 15)], bit
//                          x & 15: cell (x, y) lists segments), 16 bytes of non-empty cells
//                          before each row of the block (pre[56k + 32 + (y & 15)]), then the
//                          block's first non-empty cell (its number among all of them,
//                          recs[14k + 12]) and its first entry in segs (recs[14k + 13]);
//   ends[i]                non-empty cell i's end in segs, relative to its block's first entry
//                          (16 bits unless a block holds 65,536 entries or more);
//   segs                   the cells' segments, non-empty cell after non-empty cell (cells of a
//                          block row by row, a row's by column; 16 bits when the map has at most
//                          65,536 segments).
// A cell's segments are found in O(1): its block, its row's bits, a 16-bit
// popcount (two lookups in a 256-byte table). A run of cells of one row of one
// block has its segments in one stretch of segs.
import type { RoadGraph } from '../graph/roadgraph.js';

/** Cell side in metres, and the cap on cells (big maps get larger cells). */
const CELL_M = 30;
const MAX_CELLS = 1 << 22;
const M_PER_DEG_LAT = 111_195;

/** Block side in cells (16: a row of a block is one Uint16; snap.ts's ring search assumes it). */
export const BLOCK_SHIFT = 4;
const BLOCK = 1 << BLOCK_SHIFT;
/** A block record in Uint32s; its rows in Uint16s and its row prefixes in bytes (see the layout above). */
export const REC = 14;
export const REC_ROWS = 2 * REC;
export const REC_BYTES = 4 * REC;
export const PRE_AT = 32;
export const REC_CELL = 12;
export const REC_ENTRY = 13;

/** Header: Float64s at the buffer's start. */
const H_MAGIC = 0,
  H_LAT0 = 1,
  H_LNG0 = 2,
  H_DLAT = 3,
  H_DLNG = 4,
  H_NX = 5,
  H_NY = 6,
  H_SEGMENTS = 7,
  H_RECS = 8,
  H_CELLS = 9,
  H_ENTRIES = 10,
  H_ENDS_BYTES = 11,
  H_SEGS_BYTES = 12,
  H_LEN = 13;
/** Format of the grid buffer (only ever built and read by the same build). */
const MAGIC = 0x46534731; // 'FSG1'

/** Bits set per byte value: a 16-bit v has POP8[v & 255] + POP8[v >> 8]. */
export const POP8 = new Uint8Array(256);
for (let v = 1; v < 256; v++) POP8[v] = (v & 1) + POP8[v >> 1];

const align4 = (n: number): number => (n + 3) & ~3;

export class SnapGrid {
  /** Everything below, in one buffer (shared when built for threads). */
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  /** Grid origin and cell size in degrees. */
  readonly lat0: number;
  readonly lng0: number;
  readonly dLat: number;
  readonly dLng: number;
  readonly nx: number;
  readonly ny: number;
  /** Blocks per row of blocks. */
  readonly nbx: number;
  /** The segment count of the graph the grid was built for. */
  readonly segmentCount: number;
  readonly blocks: Int32Array;
  /** Block records, viewed as Uint32s, as Uint16s (occupancy rows) and as bytes (row prefixes). */
  readonly recs: Uint32Array;
  readonly rows: Uint16Array;
  readonly pre: Uint8Array;
  readonly ends: Uint16Array | Uint32Array;
  readonly segs: Uint16Array | Uint32Array;

  /**
   * Build the grid of a graph (into a SharedArrayBuffer unless `shared` is
   * false), or view one built before (its buffer, from any thread).
   */
  constructor(source: RoadGraph | SharedArrayBuffer | ArrayBuffer, cellM = CELL_M, shared = true) {
    const buffer = source instanceof SharedArrayBuffer || source instanceof ArrayBuffer ? source : build(source, cellM, shared);
    const h = new Float64Array(buffer, 0, H_LEN);
    if (h[H_MAGIC] !== MAGIC) throw new Error('not a snap grid buffer');
    this.buffer = buffer;
    this.lat0 = h[H_LAT0];
    this.lng0 = h[H_LNG0];
    this.dLat = h[H_DLAT];
    this.dLng = h[H_DLNG];
    this.nx = h[H_NX];
    this.ny = h[H_NY];
    this.segmentCount = h[H_SEGMENTS];
    this.nbx = (this.nx + BLOCK - 1) >> BLOCK_SHIFT;
    const nb = this.nbx * ((this.ny + BLOCK - 1) >> BLOCK_SHIFT);
    const o = sections(nb, h[H_RECS], h[H_CELLS], h[H_ENTRIES], h[H_ENDS_BYTES], h[H_SEGS_BYTES]);
    if (o.total !== buffer.byteLength) throw new Error(`snap grid buffer is ${buffer.byteLength} bytes, its header says ${o.total}`);
    this.blocks = new Int32Array(buffer, o.blocks, nb);
    this.recs = new Uint32Array(buffer, o.recs, h[H_RECS] * REC);
    this.rows = new Uint16Array(buffer, o.recs, h[H_RECS] * REC_ROWS);
    this.pre = new Uint8Array(buffer, o.recs, h[H_RECS] * REC_BYTES);
    this.ends = h[H_ENDS_BYTES] === 2 ? new Uint16Array(buffer, o.ends, h[H_CELLS]) : new Uint32Array(buffer, o.ends, h[H_CELLS]);
    this.segs = h[H_SEGS_BYTES] === 2 ? new Uint16Array(buffer, o.segs, h[H_ENTRIES]) : new Uint32Array(buffer, o.segs, h[H_ENTRIES]);
  }

  /** Bytes of the grid (one copy per map, whatever the number of threads). */
  get byteLength(): number {
    return this.buffer.byteLength;
  }

  /** Column of a longitude, clamped to the grid. */
  ix(lng: number): number {
    return Math.min(this.nx - 1, Math.max(0, Math.floor((lng - this.lng0) / this.dLng)));
  }
  /** Row of a latitude, clamped to the grid. */
  iy(lat: number): number {
    return Math.min(this.ny - 1, Math.max(0, Math.floor((lat - this.lat0) / this.dLat)));
  }

  /** Whether a point lies inside the grid (outside it the ring bounds do not hold). */
  covers(lat: number, lng: number): boolean {
    return lat >= this.lat0 && lat < this.lat0 + this.ny * this.dLat && lng >= this.lng0 && lng < this.lng0 + this.nx * this.dLng;
  }

  /**
   * The segments of cell (x, y), as [from, to) in segs (from = to when the
   * cell is empty). The snapper's ring search inlines this same lookup.
   */
  cell(x: number, y: number): [number, number] {
    const k = this.blocks[(y >> BLOCK_SHIFT) * this.nbx + (x >> BLOCK_SHIFT)];
    if (k < 0) return [0, 0];
    const yy = y & (BLOCK - 1),
      xx = x & (BLOCK - 1),
      row = this.rows[k * REC_ROWS + yy];
    if (((row >> xx) & 1) === 0) return [0, 0];
    const before = row & ((1 << xx) - 1);
    const rk = this.pre[k * REC_BYTES + PRE_AT + yy] + POP8[before & 255] + POP8[before >> 8];
    const i = this.recs[k * REC + REC_CELL] + rk,
      base = this.recs[k * REC + REC_ENTRY];
    return [base + (rk === 0 ? 0 : this.ends[i - 1]), base + this.ends[i]];
  }

  private static readonly built = new WeakMap<RoadGraph, SnapGrid>();

  /**
   * The grid of a graph: the one this thread already has, else a view of
   * `shared` (a grid buffer built for this graph by another thread), else
   * built here (into a SharedArrayBuffer, for handing to other threads).
   */
  static of(g: RoadGraph, shared?: SharedArrayBuffer): SnapGrid {
    let grid = SnapGrid.built.get(g);
    if (!grid) {
      grid = new SnapGrid(shared ?? g);
      if (grid.segmentCount !== g.segmentCount) throw new Error(`snap grid of ${grid.segmentCount} segments given for a map of ${g.segmentCount}`);
      SnapGrid.built.set(g, grid);
    }
    return grid;
  }
}

/** Byte offsets of the buffer's sections, and its size. */
function sections(nb: number, nrec: number, ncells: number, nentries: number, endsBytes: number, segsBytes: number) {
  const blocks = H_LEN * 8,
    recs = blocks + nb * 4,
    ends = recs + nrec * REC * 4,
    segs = align4(ends + ncells * endsBytes),
    total = align4(segs + nentries * segsBytes);
  return { blocks, recs, ends, segs, total };
}

/** Build the grid's buffer: a dense CSR over every cell first (transient), then its compact layout. */
function build(g: RoadGraph, cellM: number, shared: boolean): SharedArrayBuffer | ArrayBuffer {
  const { minLat, minLng, maxLat, maxLng } = g.meta.bounds;
  const midCos = Math.max(0.01, Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180));
  let dLat = cellM / M_PER_DEG_LAT;
  const spanLat = Math.max(maxLat - minLat, 1e-9),
    spanLng = Math.max(maxLng - minLng, 1e-9);
  // Square-ish cells; grow them until the grid fits the cap.
  while (Math.ceil(spanLat / dLat) * Math.ceil(spanLng / (dLat / midCos)) > MAX_CELLS) dLat *= 1.5;
  const dLng = dLat / midCos,
    lat0 = minLat,
    lng0 = minLng;
  const ny = Math.max(1, Math.ceil(spanLat / dLat) + 1),
    nx = Math.max(1, Math.ceil(spanLng / dLng) + 1);
  const ix = (lng: number): number => Math.min(nx - 1, Math.max(0, Math.floor((lng - lng0) / dLng)));
  const iy = (lat: number): number => Math.min(ny - 1, Math.max(0, Math.floor((lat - lat0) / dLat)));

  // Two passes (count, fill): each segment goes into every cell its bounding box touches.
  const n = g.segmentCount,
    nc = nx * ny;
  const start = new Uint32Array(nc + 1);
  const range = (s: number, f: (c: number) => void): void => {
    const a = g.segA[s],
      b = g.segB[s];
    const x0 = ix(Math.min(g.vLng[a], g.vLng[b])),
      x1 = ix(Math.max(g.vLng[a], g.vLng[b]));
    const y0 = iy(Math.min(g.vLat[a], g.vLat[b])),
      y1 = iy(Math.max(g.vLat[a], g.vLat[b]));
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) f(y * nx + x);
  };
  for (let s = 0; s < n; s++)
    range(s, (c) => {
      start[c + 1]++;
    });
  for (let c = 0; c < nc; c++) start[c + 1] += start[c];
  const fill = start.slice(0, nc);
  const dense = new Uint32Array(start[nc]);
  for (let s = 0; s < n; s++)
    range(s, (c) => {
      dense[fill[c]++] = s;
    });

  // Blocks in row-major order; a block's cells in bit order (row by row).
  const nbx = (nx + BLOCK - 1) >> BLOCK_SHIFT,
    nby = (ny + BLOCK - 1) >> BLOCK_SHIFT,
    nb = nbx * nby;
  const eachCell = (bx: number, by: number, f: (c: number, x: number, y: number) => void): void => {
    for (let y = by << BLOCK_SHIFT; y < Math.min(ny, (by + 1) << BLOCK_SHIFT); y++)
      for (let x = bx << BLOCK_SHIFT; x < Math.min(nx, (bx + 1) << BLOCK_SHIFT); x++) {
        const c = y * nx + x;
        if (start[c + 1] > start[c]) f(c, x, y);
      }
  };
  let nrec = 0,
    ncells = 0,
    maxBlock = 0;
  for (let by = 0; by < nby; by++)
    for (let bx = 0; bx < nbx; bx++) {
      let cells = 0,
        entries = 0;
      eachCell(bx, by, (c) => {
        cells++;
        entries += start[c + 1] - start[c];
      });
      if (cells === 0) continue;
      nrec++;
      ncells += cells;
      maxBlock = Math.max(maxBlock, entries);
    }
  const nentries = start[nc],
    endsBytes = maxBlock < 0x10000 ? 2 : 4,
    segsBytes = n <= 0x10000 ? 2 : 4;
  const o = sections(nb, nrec, ncells, nentries, endsBytes, segsBytes);
  const buffer = shared ? new SharedArrayBuffer(o.total) : new ArrayBuffer(o.total);
  const h = new Float64Array(buffer, 0, H_LEN);
  h[H_MAGIC] = MAGIC;
  h[H_LAT0] = lat0;
  h[H_LNG0] = lng0;
  h[H_DLAT] = dLat;
  h[H_DLNG] = dLng;
  h[H_NX] = nx;
  h[H_NY] = ny;
  h[H_SEGMENTS] = n;
  h[H_RECS] = nrec;
  h[H_CELLS] = ncells;
  h[H_ENTRIES] = nentries;
  h[H_ENDS_BYTES] = endsBytes;
  h[H_SEGS_BYTES] = segsBytes;
  const blocks = new Int32Array(buffer, o.blocks, nb).fill(-1);
  const recs = new Uint32Array(buffer, o.recs, nrec * REC),
    rows = new Uint16Array(buffer, o.recs, nrec * REC_ROWS),
    pre = new Uint8Array(buffer, o.recs, nrec * REC_BYTES);
  const ends = endsBytes === 2 ? new Uint16Array(buffer, o.ends, ncells) : new Uint32Array(buffer, o.ends, ncells);
  const segs = segsBytes === 2 ? new Uint16Array(buffer, o.segs, nentries) : new Uint32Array(buffer, o.segs, nentries);
  let k = 0,
    cell = 0,
    entry = 0;
  for (let by = 0; by < nby; by++)
    for (let bx = 0; bx < nbx; bx++) {
      const r = k * REC,
        firstCell = cell,
        firstEntry = entry;
      eachCell(bx, by, (c, x, y) => {
        rows[k * REC_ROWS + (y & (BLOCK - 1))] |= 1 << (x & (BLOCK - 1));
        for (let i = start[c]; i < start[c + 1]; i++) segs[entry++] = dense[i];
        ends[cell++] = entry - firstEntry;
      });
      if (cell === firstCell) continue;
      // Non-empty cells before each row (at most 15 · 16 = 240: a byte each).
      for (let yy = 1, before = 0; yy < BLOCK; yy++) {
        const row = rows[k * REC_ROWS + yy - 1];
        before += POP8[row & 255] + POP8[row >> 8];
        pre[k * REC_BYTES + PRE_AT + yy] = before;
      }
      recs[r + REC_CELL] = firstCell;
      recs[r + REC_ENTRY] = firstEntry;
      blocks[by * nbx + bx] = k++;
    }
  return buffer;
}
