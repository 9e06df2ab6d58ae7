// Read side of a driver store, for any thread: pins a snapshot of both trees
// and serves the KNN search (drivers per edge, TTL + filter check, ID order).
import { ArtReader } from './art/index.js';
import { InternView } from './intern.js';
import type { RoadGraph } from '../graph/roadgraph.js';
import type { DriverSource, EdgeVisitor } from '../knn/knn.js';
import { DRIVERS, EDGES, E_SEG, E_T, E_TS, E_MS } from './records.js';
import { getF64 } from './records.js';
import type { StoreBuffers } from './store.js';

export class StoreReader implements DriverSource {
  readonly art: ArtReader;
  readonly intern: InternView;
  private edgeRoot = 0;
  driverRoot = 0;
  private nowMs = 0;
  private ttlMs = Infinity;
  private filter: Uint32Array | undefined;
  private visit: EdgeVisitor = () => {};
  private readonly i32: Int32Array;
  // The entry being visited: accept() is called from inside visit().
  private curV = 0;
  // Per-edge scan: converts (driver, value offset) into edge offsets.
  private readonly onEntry = (no: number, v: number): void => {
    const g = this.g,
      i32 = this.i32;
    this.curV = v;
    const seg = i32[v + E_SEG];
    const t = getF64(i32, v + E_T);
    const f = g.segRev[seg] ? 1 - t : t;
    this.visit(no, g.segOff[seg] + f * g.segLen[seg], g.segOffT[seg] + f * g.segTime[seg]);
  };

  constructor(
    private readonly g: RoadGraph,
    buffers: StoreBuffers,
  ) {
    this.art = ArtReader.attach(buffers.arena);
    this.intern = new InternView(buffers.intern);
    this.i32 = this.art.i32;
  }

  /** Pin the latest snapshot for one search. */
  begin(nowMs: number, ttlMs: number, filter: Uint32Array | undefined): void {
    this.art.acquire();
    this.edgeRoot = this.art.root(EDGES);
    this.driverRoot = this.art.root(DRIVERS);
    this.nowMs = nowMs;
    this.ttlMs = ttlMs;
    this.filter = filter?.length ? filter : undefined;
  }

  end(): void {
    this.art.release();
  }

  scanEdge(edge: number, visit: EdgeVisitor): void {
    this.visit = visit;
    this.art.scanPrefix32(this.edgeRoot, edge, this.onEntry);
  }

  /** WATCH OUT: valid only for the driver being visited (KNN calls it from visit). */
  accept(_no: number): boolean {
    const v = this.curV;
    if (this.nowMs - getF64(this.i32, v + E_TS) > this.ttlMs) return false;
    return this.filter === undefined || this.intern.matches(this.i32[v + E_MS], this.filter);
  }

  compareIds(a: number, b: number): number {
    return this.intern.compareIds(a, b);
  }

  close(): void {
    this.art.close();
  }
}
