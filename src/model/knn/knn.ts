// K nearest drivers by road: Incremental Network Expansion backwards from the
// pick-up point over directed compressed edges (drivers travel TO the query).
//
// dist[d] = least cost from the head of directed edge d, having arrived
// through d, to the query (so the turn out of d is already accounted for).
// A driver on edge e at offset x reaches the query through direction d at
// remaining(x, d) + dist[d] ≥ dist[d], so edges are settled in dist order and
// each settled edge yields its drivers as candidates. A candidate is final
// once its cost is below every unsettled edge's dist: nothing later can beat
// it. Final candidates come out in (cost, UTF-8 id) order, so the search stops
// the moment it has k of them or the frontier passes the limit.
import type { RoadGraph } from '../graph/roadgraph.js';
import { MinHeap } from '../graph/heap.js';
import type { Metric, NearbyStats } from '../types.js';

/** Where a point lies on its compressed edge (from a Phantom). */
export interface EdgePos {
  edge: number;
  offD: number;
  offT: number;
}

/** Visits the drivers on one edge: driver number and offsets along the edge. */
export type EdgeVisitor = (driverNo: number, offD: number, offT: number) => void;

/** What the search needs from the driver store. */
export interface DriverSource {
  scanEdge(edge: number, visit: EdgeVisitor): void;
  /** TTL + filter check for a candidate. */
  accept(driverNo: number): boolean;
  /** Order of two drivers with equal cost (UTF-8 id order). */
  compareIds(a: number, b: number): number;
}

export interface KnnParams {
  k: number;
  metric: Metric;
  limit: number;
}
export interface KnnHit {
  driverNo: number;
  distanceM: number;
  etaS: number;
}

/**
 * What one answer depends on (a watch's region, watches.ts): every edge whose
 * drivers were scanned (the query's own edge first), each settled directed
 * edge with its ranked cost, and a lower bound on the cost of any driver the
 * answer left out (the next candidate or the frontier, whichever is lower).
 */
export interface KnnTrace {
  edges: number[];
  dirs: number[];
  dist: number[];
  /** Every unsettled directed edge costs at least this (Infinity: none left). */
  frontier: number;
  /** Every accepted driver not returned costs at least this. */
  floor: number;
}

const FWD = 1,
  BWD = 2;

export function edgePos(g: RoadGraph, segment: number, t: number): EdgePos {
  const f = g.segRev[segment] ? 1 - t : t;
  return { edge: g.segEdge[segment], offD: g.segOff[segment] + f * g.segLen[segment], offT: g.segOffT[segment] + f * g.segTime[segment] };
}

/** Search state for one graph; reuse it across queries (one per thread). */
export class KnnSearch {
  private readonly distP: Float64Array;
  private readonly distQ: Float64Array;
  private readonly stamp: Uint32Array;
  private readonly settled: Uint32Array;
  private gen = 0;
  private readonly frontier = new MinHeap(1024);
  private readonly results: MinHeap;
  // Candidate slots: driver and both costs.
  private cDriver = new Int32Array(256);
  private cP = new Float64Array(256);
  private cQ = new Float64Array(256);
  private nCand = 0;
  private readonly done = new Set<number>();
  private src!: DriverSource;
  stats: NearbyStats = { edgesExpanded: 0, candidatesSeen: 0 };
  /** Set before a search to record what its answer depends on; cleared after it. */
  trace: KnnTrace | undefined;

  constructor(private readonly g: RoadGraph) {
    const D = 2 * g.edgeCount;
    this.distP = new Float64Array(D);
    this.distQ = new Float64Array(D);
    this.stamp = new Uint32Array(D);
    this.settled = new Uint32Array(D);
    this.results = new MinHeap(256, (a, b) => this.src.compareIds(this.cDriver[a], this.cDriver[b]));
  }

  allowed(d: number): boolean {
    return (this.g.eDirs[d >> 1] & ((d & 1) === 0 ? FWD : BWD)) !== 0;
  }

  forbidden(v: number, din: number, dout: number): boolean {
    const g = this.g;
    // Only the first vertices (the via junctions) have forbidden turns: fbStart ends there.
    if (v + 1 >= g.fbStart.length) return false;
    for (let i = g.fbStart[v], end = g.fbStart[v + 1]; i < end; i++) if (g.fbIn[i] === din && g.fbOut[i] === dout) return true;
    return false;
  }

  /** After a search: was directed edge d settled (explain.ts reads the last search; the search never calls this). */
  settledInLast(d: number): boolean {
    return this.settled[d] === this.gen;
  }

  /** After a search: directed edge d's cost to the query in the ranking metric (Infinity if never reached). */
  distInLast(d: number): number {
    return this.stamp[d] === this.gen ? this.distP[d] : Infinity;
  }

  /** Offer dist (p, q) to directed edge d. */
  private relax(d: number, p: number, q: number): void {
    if (this.stamp[d] === this.gen && this.distP[d] <= p) return;
    this.stamp[d] = this.gen;
    this.distP[d] = p;
    this.distQ[d] = q;
    this.frontier.push(p, d);
  }

  /** Relax every directed edge that may turn into d, with cost (p, q) from d's start. */
  private relaxInto(d: number, p: number, q: number): void {
    const g = this.g;
    const u = g.from(d);
    for (let i = g.inStart[u], end = g.inStart[u + 1]; i < end; i++) {
      const pd = g.inList[i];
      if (this.forbidden(u, pd, d)) continue;
      this.relax(pd, p, q);
    }
  }

  /**
   * WATCH OUT: a U-turn is allowed at every vertex, also inside a chain. A
   * path may enter the reverse of d at its start u, turn at the chain's first
   * inner vertex and come back to u through d — arriving at u on another
   * segment than it left, which matters when a restriction at u depends on
   * the arriving segment. Only the nearest inner vertex can be the best one.
   */
  private relaxUturn(d: number, p: number, q: number, eta: boolean): void {
    const g = this.g,
      e = d >> 1,
      r = d ^ 1;
    const first = g.eSegStart[e],
      end = g.eSegStart[e + 1];
    if (end - first < 2 || !this.allowed(r)) return;
    // The segment of r next to its start vertex (= the head of d).
    const s = (r & 1) === 0 ? first : end - 1;
    const len = g.segLen[s],
      time = g.segTime[s];
    this.relaxInto(r, p + 2 * (eta ? time : len), q + 2 * (eta ? len : time));
  }

  private candidate(driverNo: number, p: number, q: number, limit: number): void {
    if (p > limit || this.done.has(driverNo) || !this.src.accept(driverNo)) return;
    if (this.nCand === this.cDriver.length) {
      const n = this.nCand * 2;
      const d = new Int32Array(n);
      d.set(this.cDriver);
      this.cDriver = d;
      const a = new Float64Array(n);
      a.set(this.cP);
      this.cP = a;
      const b = new Float64Array(n);
      b.set(this.cQ);
      this.cQ = b;
    }
    const slot = this.nCand++;
    this.cDriver[slot] = driverNo;
    this.cP[slot] = p;
    this.cQ[slot] = q;
    this.results.push(p, slot);
    this.stats.candidatesSeen++;
  }

  search(src: DriverSource, at: EdgePos, params: KnnParams): KnnHit[] {
    const trace = this.trace;
    this.trace = undefined;
    const out = this.expand(src, at, params, trace);
    if (trace) {
      // Other slots of drivers already returned are no bound on the rest.
      while (this.results.size > 0 && this.done.has(this.cDriver[this.results.minVal])) this.results.pop();
      trace.frontier = this.frontier.size > 0 ? this.frontier.minKey : Number.POSITIVE_INFINITY;
      trace.floor = Math.min(trace.frontier, this.results.size > 0 ? this.results.minKey : Number.POSITIVE_INFINITY);
    }
    return out;
  }

  private expand(src: DriverSource, at: EdgePos, params: KnnParams, trace: KnnTrace | undefined): KnnHit[] {
    const g = this.g;
    const eta = params.metric === 'eta';
    const { k, limit } = params;
    this.src = src;
    if (++this.gen === 0xffffffff) {
      this.stamp.fill(0);
      this.settled.fill(0);
      this.gen = 1;
    }
    this.frontier.clear();
    this.results.clear();
    this.done.clear();
    this.nCand = 0;
    this.stats = { edgesExpanded: 0, candidatesSeen: 0 };
    const out: KnnHit[] = [];
    // Emit every candidate that nothing unexplored can beat.
    const emit = (all: boolean): boolean => {
      while (this.results.size > 0 && (all || this.results.minKey < this.frontier.minKey)) {
        const slot = this.results.pop();
        const drv = this.cDriver[slot];
        if (this.done.has(drv)) continue;
        this.done.add(drv);
        out.push(eta ? { driverNo: drv, distanceM: this.cQ[slot], etaS: this.cP[slot] } : { driverNo: drv, distanceM: this.cP[slot], etaS: this.cQ[slot] });
        if (out.length === k) return true;
      }
      return false;
    };

    // The query's own edge: reached from its tail (forward) or head (backward).
    const e = at.edge,
      eLen = g.eLen[e],
      eTime = g.eTime[e];
    const y = eta ? at.offT : at.offD,
      yq = eta ? at.offD : at.offT;
    const L = eta ? eTime : eLen,
      Lq = eta ? eLen : eTime;
    if (this.allowed(2 * e)) this.relaxInto(2 * e, y, yq);
    if (this.allowed(2 * e + 1)) this.relaxInto(2 * e + 1, L - y, Lq - yq);
    // Drivers on the same edge going straight to the query.
    trace?.edges.push(e);
    src.scanEdge(e, (drv, offD, offT) => {
      const x = eta ? offT : offD,
        xq = eta ? offD : offT;
      if (offD <= at.offD && this.allowed(2 * e)) this.candidate(drv, y - x, yq - xq, limit);
      if (offD >= at.offD && this.allowed(2 * e + 1)) this.candidate(drv, x - y, xq - yq, limit);
    });

    const len = eta ? g.eTime : g.eLen,
      lenQ = eta ? g.eLen : g.eTime;
    let curD = 0,
      curP = 0,
      curQ = 0,
      curLen = 0,
      curLenQ = 0;
    const visit: EdgeVisitor = (drv, offD, offT) => {
      const x = eta ? offT : offD,
        xq = eta ? offD : offT;
      // Remaining travel on this edge in direction curD, then dist[curD].
      if ((curD & 1) === 0) this.candidate(drv, curLen - x + curP, curLenQ - xq + curQ, limit);
      else this.candidate(drv, x + curP, xq + curQ, limit);
    };
    for (;;) {
      if (emit(false)) return out;
      if (this.frontier.size === 0 || this.frontier.minKey > limit) break;
      const d = this.frontier.pop();
      if (this.settled[d] === this.gen) continue;
      this.settled[d] = this.gen;
      this.stats.edgesExpanded++;
      curD = d;
      curP = this.distP[d];
      curQ = this.distQ[d];
      const ed = d >> 1;
      curLen = len[ed];
      curLenQ = lenQ[ed];
      if (trace) {
        trace.edges.push(ed);
        trace.dirs.push(d);
        trace.dist.push(curP);
      }
      src.scanEdge(ed, visit);
      this.relaxInto(d, curP + curLen, curQ + curLenQ);
      this.relaxUturn(d, curP, curQ, eta);
    }
    emit(true);
    return out;
  }
}
