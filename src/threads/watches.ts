// The watches of one map (WatchNearby), on the main thread next to the
// store's single writer, which tells them of every change as it writes it
// (DriverStore.onTouch): no message crosses threads, and a re-evaluation
// reads the snapshot just published.
//
// Incremental monitoring after IMA (Mouratidis et al., VLDB 2006): each
// watch keeps what its last answer depended on (KnnTrace): the edges its
// search scanned, each settled direction's cost, the cost below which no
// driver left out can lie (floor). Watches are indexed by those edges, so a
// change finds the watches it may affect in O(1). For each, the change is
// judged from the kept costs alone when it can be (an unlisted driver that
// stays beyond the K-th cost, a listed one that keeps its rank and stays
// within the threshold); otherwise the watch is marked dirty and searched
// again (the same search as Nearby) once its interval allows. A listed
// driver's expiry wakes the watch at that time.
import type { RoadGraph } from '../model/graph/roadgraph.js';
import { MinHeap } from '../model/graph/heap.js';
import { edgePos, type EdgePos, type KnnTrace } from '../model/knn/knn.js';
import type { NearbyQuery, NearbyResult, WatchParams } from '../model/types.js';

/** The search a watch runs: the Nearby search on the current snapshot, recording its trace; `nos` = the hits' driver numbers. */
export type TracedSearch = (q: NearbyQuery, trace: KnnTrace) => { result: NearbyResult; nos: number[] };

export interface WatchListener {
  /** `at`: when it is handed over (ms since the epoch); the next one comes min_interval_ms after it at the earliest. */
  answer(r: NearbyResult, at: number): void;
  end(err: Error): void;
}

/** What a message said, to compare the next answer with. */
export interface Sent {
  ids: string[];
  costs: number[];
}

/** The ranked costs of an answer. */
export const costsOf = (r: NearbyResult & { ok: true }, eta: boolean): number[] => r.drivers.map((d) => (eta ? d.etaS : d.distanceM));

/** True when `b` must be sent after `a`: other IDs, another order, or a cost moved by more than `minChange`. */
export function differs(a: Sent, b: Sent, minChange: number): boolean {
  if (a.ids.length !== b.ids.length) return true;
  for (let i = 0; i < a.ids.length; i++) {
    if (a.ids[i] !== b.ids[i]) return true;
    if (!(Math.abs(a.costs[i]! - b.costs[i]!) <= minChange)) return true;
  }
  return false;
}

export interface WatchCounts {
  open: number;
  /** Searches run for watches (first answers included). */
  evaluations: number;
  /** Messages handed to listeners. */
  sent: number;
  /** Changes to a watched region judged without a search. */
  judged: number;
}

class Watch {
  closed = false;
  /** Needs a search (a change it could not judge, or an expiry). */
  dirty = true;
  /** Waiting in the ready list. */
  queued = false;
  /** Earliest time this watch may send (and so search) again. */
  nextAt = 0;
  /** Time of its pending wake-up entry in the heap (Infinity: none). */
  wakeAt = Number.POSITIVE_INFINITY;
  /** Change stamp, so one change judges a watch once. */
  stamp = 0;
  // What the last answer depended on.
  region = new Map<number, number>();
  dist = new Float64Array(0);
  queryEdge = -1;
  /** The pick-up point on its edge. */
  at: EdgePos = { edge: -1, offD: 0, offT: 0 };
  nos = new Int32Array(0);
  cur = new Float64Array(0);
  ts = new Float64Array(0);
  full = false;
  floor = Number.POSITIVE_INFINITY;
  frontier = Number.POSITIVE_INFINITY;
  sent: Sent | undefined;
  constructor(
    readonly id: number,
    readonly q: NearbyQuery,
    readonly params: WatchParams,
    readonly listener: WatchListener,
  ) {}
  get limit(): number {
    return this.q.metric === 'eta' ? this.q.maxEtaS : this.q.maxDistanceM;
  }
  /** When the first listed driver expires (a search at or after it drops that driver). */
  expiresAt(ttlMs: number): number {
    let m = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.ts.length; i++) m = Math.min(m, this.ts[i]!);
    return m + ttlMs + 1;
  }
}

export interface WatchSetOptions {
  ttlMs: number;
  /** Re-run every watch at every interval instead (the baseline the benchmark compares with). */
  naive?: boolean;
}

export class WatchSet {
  private readonly watches = new Map<number, Watch>();
  private readonly byEdge: (Set<Watch> | undefined)[];
  private readonly ready: Watch[] = [];
  private readonly wakes = new MinHeap(256);
  private nextId = 1;
  private stamp = 0;
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  readonly counts: WatchCounts = { open: 0, evaluations: 0, sent: 0, judged: 0 };

  constructor(
    private readonly g: RoadGraph,
    private readonly search: TracedSearch,
    private readonly opts: WatchSetOptions,
  ) {
    this.byEdge = new Array(g.edgeCount);
  }

  get size(): number {
    return this.watches.size;
  }

  /**
   * Open a watch: its first answer is searched and sent now (a point that
   * does not snap is that answer, and no watch is kept: returns undefined).
   */
  open(q: NearbyQuery, params: WatchParams, listener: WatchListener): { close(): void } | undefined {
    const w = new Watch(this.nextId++, q, params, listener);
    this.watches.set(w.id, w);
    this.counts.open = this.watches.size;
    const now = Date.now();
    if (params.resume) {
      w.sent = { ids: params.resume.ids, costs: params.resume.costs };
      w.nextAt = now + params.resume.waitMs;
    }
    this.evaluate(w, now);
    if (w.closed) return undefined;
    return { close: () => this.drop(w) };
  }

  /** End every watch (the map leaves this instance). */
  closeAll(err: Error): void {
    for (const w of [...this.watches.values()]) {
      this.drop(w);
      w.listener.end(err);
    }
    clearTimeout(this.timer);
    this.timerAt = Number.POSITIVE_INFINITY;
    this.wakes.clear();
  }

  private drop(w: Watch): void {
    if (w.closed) return;
    w.closed = true;
    this.unindex(w);
    this.watches.delete(w.id);
    this.counts.open = this.watches.size;
  }

  /** DriverStore.onTouch: judge the change for every watch whose region holds its old or new edge. */
  touch = (no: number, oldEdge: number, segment: number, t: number, timestampMs: number, metaChanged: boolean): void => {
    if (this.opts.naive || this.watches.size === 0) return;
    if (no < 0) {
      for (const w of this.watches.values()) this.markDirty(w);
      return;
    }
    const newEdge = segment >= 0 ? this.g.segEdge[segment]! : -1;
    const s = ++this.stamp;
    for (const e of oldEdge === newEdge ? [oldEdge] : [oldEdge, newEdge]) {
      if (e < 0) continue;
      const ws = this.byEdge[e];
      if (!ws) continue;
      for (const w of ws) {
        if (w.stamp === s || w.dirty) continue;
        w.stamp = s;
        if (this.judge(w, no, newEdge, segment, t, timestampMs, metaChanged)) this.counts.judged++;
        else this.markDirty(w);
      }
    }
  };

  /**
   * Can the change leave the watch's answer (IDs, order, costs within the
   * threshold of the last message) as it is? Decided from the kept trace
   * only, and only when certain; false = search again.
   */
  private judge(w: Watch, no: number, newEdge: number, segment: number, t: number, timestampMs: number, metaChanged: boolean): boolean {
    const i = w.nos.indexOf(no);
    const listed = i >= 0;
    if (newEdge < 0) return !listed; // removed: only a listed driver's removal changes the answer
    const eta = w.q.metric === 'eta';
    let cost = Number.POSITIVE_INFINITY;
    const ri = w.region.get(newEdge);
    if (ri !== undefined) {
      // The same costs as the search's (knn.ts): the rest of the edge, then the settled direction's cost.
      const p = edgePos(this.g, segment, t);
      const x = eta ? p.offT : p.offD,
        len = eta ? this.g.eTime[newEdge]! : this.g.eLen[newEdge]!;
      const fwd = w.dist[2 * ri]!,
        bwd = w.dist[2 * ri + 1]!;
      if (fwd < Number.POSITIVE_INFINITY) cost = len - x + fwd;
      if (bwd < Number.POSITIVE_INFINITY) cost = Math.min(cost, x + bwd);
      // On the query's own edge a driver may also drive straight to it.
      if (newEdge === w.queryEdge) {
        const dirs = this.g.eDirs[newEdge]!,
          y = eta ? w.at.offT : w.at.offD;
        if (p.offD <= w.at.offD && (dirs & 1) !== 0) cost = Math.min(cost, y - x);
        if (p.offD >= w.at.offD && (dirs & 2) !== 0) cost = Math.min(cost, x - y);
      }
    }
    // Through an unsettled direction a driver costs at least the frontier.
    const exact = cost <= w.frontier;
    const lower = Math.min(cost, w.frontier);
    const n = w.nos.length;
    if (!listed) {
      // A driver left out stays out while it costs more than the last listed one (or the limit).
      w.floor = Math.min(w.floor, lower);
      return w.full ? w.cur[n - 1]! < w.floor : w.floor > w.limit;
    }
    if (metaChanged || !exact || cost > w.limit || !w.sent) return false;
    w.cur[i] = cost;
    w.ts[i] = timestampMs;
    if ((i > 0 && !(w.cur[i - 1]! < cost)) || (i < n - 1 && !(cost < w.cur[i + 1]!))) return false;
    if (w.full && !(w.cur[n - 1]! < w.floor)) return false;
    return Math.abs(cost - w.sent.costs[i]!) <= w.params.minChange;
  }

  private markDirty(w: Watch): void {
    w.dirty = true;
    this.due(w, Date.now());
  }

  /** Search now (ready list) or at the watch's next allowed time. */
  private due(w: Watch, now: number): void {
    if (w.closed) return;
    if (now >= w.nextAt) {
      if (!w.queued) {
        w.queued = true;
        this.ready.push(w);
        if (!this.flushing) {
          this.flushing = true;
          setImmediate(() => this.flush());
        }
      }
    } else this.wake(w, w.nextAt);
  }

  private wake(w: Watch, at: number): void {
    if (!Number.isFinite(at) || at >= w.wakeAt) return;
    w.wakeAt = at;
    this.wakes.push(at, w.id);
    if (at < this.timerAt) {
      clearTimeout(this.timer);
      this.timerAt = at;
      this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - Date.now()));
      this.timer.unref();
    }
  }

  private onTimer(): void {
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (this.wakes.size > 0 && this.wakes.minKey <= now) {
      const at = this.wakes.minKey;
      const w = this.watches.get(this.wakes.pop());
      if (!w || w.wakeAt !== at) continue;
      w.wakeAt = Number.POSITIVE_INFINITY;
      if (this.opts.naive || now >= w.expiresAt(this.opts.ttlMs)) w.dirty = true;
      if (w.dirty) this.due(w, now);
      else this.wake(w, w.expiresAt(this.opts.ttlMs));
    }
    if (this.wakes.size > 0) {
      const at = this.wakes.minKey;
      this.timerAt = at;
      this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - Date.now()));
      this.timer.unref();
    }
  }

  private flush(): void {
    this.flushing = false;
    const list = this.ready.splice(0);
    const now = Date.now();
    for (const w of list) {
      w.queued = false;
      if (!w.closed && w.dirty) this.evaluate(w, now);
    }
  }

  /** Search the watch again on the current snapshot; send if the answer changed beyond the threshold. */
  private evaluate(w: Watch, now: number): void {
    const trace: KnnTrace = { edges: [], dirs: [], dist: [], frontier: 0, floor: 0 };
    const { result, nos } = this.search({ ...w.q, nowMs: now }, trace);
    this.counts.evaluations++;
    w.dirty = false;
    if (!result.ok) {
      // Only a first answer can miss (the graph never changes): it is the answer, and the watch ends.
      this.drop(w);
      w.listener.answer(result, now);
      return;
    }
    const eta = w.q.metric === 'eta';
    this.unindex(w);
    const region = new Map<number, number>();
    for (const e of trace.edges) if (!region.has(e)) region.set(e, region.size);
    const dist = new Float64Array(2 * region.size).fill(Number.POSITIVE_INFINITY);
    for (let j = 0; j < trace.dirs.length; j++) {
      const d = trace.dirs[j]!;
      dist[2 * region.get(d >> 1)! + (d & 1)] = trace.dist[j]!;
    }
    w.region = region;
    w.dist = dist;
    w.queryEdge = trace.edges[0]!;
    w.at = edgePos(this.g, result.querySnapped.segment, result.querySnapped.t);
    w.nos = Int32Array.from(nos);
    const costs = costsOf(result, eta);
    w.cur = Float64Array.from(costs);
    w.ts = Float64Array.from(result.drivers, (d) => d.driver.timestampMs);
    w.full = result.drivers.length === w.q.k;
    w.floor = trace.floor;
    w.frontier = trace.frontier;
    this.index(w);
    const next: Sent = { ids: result.drivers.map((d) => d.driver.driverId), costs };
    if (w.sent && !differs(w.sent, next, w.params.minChange)) {
      // Nothing to send; searches are rate-limited like messages (a change found at the next one is still in time).
      w.nextAt = Math.max(w.nextAt, now + w.params.minIntervalMs);
    } else if (now < w.nextAt) {
      // A resumed watch: its interval runs from the last message before the move.
      w.dirty = true;
      this.wake(w, w.nextAt);
    } else {
      w.sent = next;
      // From the moment it is sent (a flush may run many searches after `now`).
      const at = Date.now();
      w.nextAt = at + w.params.minIntervalMs;
      this.counts.sent++;
      w.listener.answer(result, at);
    }
    if (this.opts.naive) this.wake(w, Math.max(w.nextAt, now + w.params.minIntervalMs));
    else this.wake(w, w.expiresAt(this.opts.ttlMs));
  }

  private index(w: Watch): void {
    if (this.opts.naive) return;
    for (const e of w.region.keys()) {
      let s = this.byEdge[e];
      if (!s) this.byEdge[e] = s = new Set();
      s.add(w);
    }
  }

  private unindex(w: Watch): void {
    for (const e of w.region.keys()) {
      const s = this.byEdge[e];
      if (!s) continue;
      s.delete(w);
      if (s.size === 0) this.byEdge[e] = undefined;
    }
  }
}
