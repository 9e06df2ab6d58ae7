// The threads shared by every shard of a process: a piscina pool that snaps
// update batches, and dedicated search threads (searchers.ts) that answer
// nearby queries through shared-memory mailboxes. Maps a full queue to
// RESOURCE_EXHAUSTED and an aborted call to DEADLINE_EXCEEDED.
//
// Snap requests of one map are merged while its threads are busy: a map has
// at most one task per snapping thread out; what arrives meanwhile waits and
// goes as one task when a thread comes back. Waking a sleeping thread costs
// ~0.1 ms of CPU here, so under load (many small stream batches) this cuts
// the hand-offs, and when idle a request still leaves at once.
import { Piscina } from 'piscina';
import { availableParallelism } from 'node:os';
import { FarosError } from '../errors.js';
import { Searchers, type SearchThreadHandle } from './searchers.js';
import type { SearchPhases } from '../model/types.js';
import {
  SNAP_FIELDS,
  type WorkerReply,
  type WorkerTask,
  type SnapTask,
  type SnapReply,
  type NearbyTask,
  type NearbyReply,
  type MapHandle,
  type ExpiredReply,
} from './messages.js';

/** A task as shards hand it in: with the map's full handle (the pool sends only its key). */
type Submit<T extends SnapTask | NearbyTask> = Omit<T, 'deadline' | 'map'> & { map: MapHandle };

/** Most points merged into one snap task (~2–5 ms of snapping). */
const MAX_MERGED_POINTS = 2048;

/** A snap request waiting for one of its map's task slots. */
interface SnapWait {
  points: Float64Array;
  deadline: number;
  signal: AbortSignal | undefined;
  resolve: (out: Float64Array) => void;
  reject: (e: unknown) => void;
}
/** One map's snap tasks out (at most one per thread) and requests waiting. */
interface SnapLane {
  handle: MapHandle;
  out: number;
  waiting: SnapWait[];
}

export interface PoolOptions {
  /** Snapping threads (piscina); default = cores. */
  threads?: number;
  /** Search threads; default = `threads`. */
  searchThreads?: number;
  /** Tasks waiting beyond this (per kind) are refused with RESOURCE_EXHAUSTED. */
  maxQueue?: number;
  /** Where a failing search thread is reported. */
  log?: (msg: string) => void;
  /**
   * Main-thread ms per 100 ms that nearby searches may take on the main
   * thread itself while every search thread is idle (0 = always hand over).
   */
  inlineSearchMs?: number;
}

/** Window of the inline-search budget, ms. */
const INLINE_WINDOW_MS = 100;

export class WorkerPool {
  private readonly pool: Piscina<WorkerTask, WorkerReply>;
  private readonly searchers: Searchers;
  readonly threads: number;
  private readonly maxQueue: number;
  /** Snap requests per map key (see the header). */
  private readonly lanes = new Map<string, SnapLane>();
  private snapWaiting = 0;
  private readonly inlineBudgetMs: number;
  /** Inline search time spent, decaying with INLINE_WINDOW_MS, as of inlineAt. */
  private inlineSpent = 0;
  private inlineAt = 0;

  constructor(opts: PoolOptions = {}) {
    this.inlineBudgetMs = opts.inlineSearchMs ?? 0;
    this.threads = opts.threads ?? availableParallelism();
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: opts.maxQueue ?? 10_000,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
    });
    this.maxQueue = opts.maxQueue ?? 10_000;
    if (!(this.inlineBudgetMs >= 0 && this.inlineBudgetMs <= INLINE_WINDOW_MS))
      throw new RangeError(`inlineSearchMs must be in [0, ${INLINE_WINDOW_MS}], got ${this.inlineBudgetMs}`);
    this.searchers = new Searchers(opts.searchThreads ?? this.threads, this.maxQueue, opts.log);
  }

  /**
   * Snap points (lat, lng pairs) of one map: per point segment (−1 = miss),
   * t, distance (SnapReply). May be merged with other requests of the map.
   */
  snap(map: MapHandle, points: Float64Array, signal?: AbortSignal, deadline = Number.POSITIVE_INFINITY): Promise<Float64Array> {
    if (signal?.aborted) return Promise.reject(expiredError());
    let lane = this.lanes.get(map.key);
    if (!lane) {
      lane = { handle: map, out: 0, waiting: [] };
      this.lanes.set(map.key, lane);
    }
    if (lane.out >= this.threads && this.snapWaiting >= this.maxQueue) {
      return Promise.reject(
        new FarosError('RESOURCE_EXHAUSTED', `server busy: ${this.snapWaiting} snap requests queued for ${this.threads} worker threads; retry with backoff`),
      );
    }
    const p = new Promise<Float64Array>((resolve, reject) => {
      const w: SnapWait = { points, deadline, signal, resolve, reject };
      if (lane.out < this.threads) this.sendSnaps(lane, [w]);
      else {
        lane.waiting.push(w);
        this.snapWaiting++;
      }
    });
    return this.track(p, signal, expiredError);
  }

  /** One task for `parts`; when it is back, the lane's waiting requests go out. */
  private sendSnaps(lane: SnapLane, parts: SnapWait[]): void {
    lane.out++;
    let points = parts[0].points,
      deadline = parts[0].deadline;
    if (parts.length > 1) {
      let n = 0;
      for (const w of parts) {
        n += w.points.length;
        if (w.deadline > deadline) deadline = w.deadline;
      }
      points = new Float64Array(n);
      let at = 0;
      for (const w of parts) {
        points.set(w.points, at);
        at += w.points.length;
      }
    }
    const done = (): void => {
      lane.out--;
      this.nextSnaps(lane);
    };
    this.run({ kind: 'snap', map: lane.handle, points }, undefined, deadline).then(
      (r) => {
        done();
        let at = 0;
        for (const w of parts) {
          const len = (w.points.length / 2) * SNAP_FIELDS;
          w.resolve(r.out.subarray(at, at + len));
          at += len;
        }
      },
      (e: unknown) => {
        done();
        for (const w of parts) w.reject(e);
      },
    );
  }

  private nextSnaps(lane: SnapLane): void {
    const now = Date.now();
    while (lane.out < this.threads && lane.waiting.length > 0) {
      const parts: SnapWait[] = [];
      let n = 0;
      while (lane.waiting.length > 0 && (parts.length === 0 || n + lane.waiting[0].points.length / 2 <= MAX_MERGED_POINTS)) {
        const w = lane.waiting.shift()!;
        this.snapWaiting--;
        // The caller has given up, or will have by the time this is snapped: skip the work.
        if (w.signal?.aborted || now > w.deadline) {
          w.reject(expiredError());
          continue;
        }
        parts.push(w);
        n += w.points.length / 2;
      }
      if (parts.length > 0) this.sendSnaps(lane, parts);
    }
    if (lane.out === 0 && lane.waiting.length === 0) this.lanes.delete(lane.handle.key);
  }

  /** Called with every search's phases (metrics). */
  set onSearchPhases(fn: ((p: SearchPhases) => void) | undefined) {
    this.searchers.onPhases = fn;
  }

  /**
   * May the next search run on the calling (main) thread? Only when no
   * search is with the threads (an inline search would overtake them) and
   * the budget allows: at low load a hand-over costs more than the search
   * (a thread wake-up, a message back, and on a busy machine the wait for a
   * core), at high load the threads keep the event loop free.
   */
  mayInline(): boolean {
    if (this.inlineBudgetMs <= 0 || this.searchers.inFlight > 0) return false;
    const now = performance.now();
    this.inlineSpent *= Math.exp(-(now - this.inlineAt) / INLINE_WINDOW_MS);
    this.inlineAt = now;
    return this.inlineSpent < this.inlineBudgetMs;
  }

  /** Searches run on the main thread so far. */
  inlineSearches = 0;

  /** An inline search took `ms` (counts against the budget; its phases go to the metrics). */
  spentInline(ms: number): void {
    this.inlineSearches++;
    this.inlineSpent += ms;
    this.searchers.onPhases?.({ queuedUs: 0, searchUs: ms * 1000, replyUs: 0 });
  }

  /** Tasks waiting for a thread (snap requests + searches). */
  get queueSize(): number {
    return this.pool.queueSize + this.snapWaiting + this.searchers.queueSize;
  }
  /** Share of the snapping threads' time spent working. */
  get utilization(): number {
    return this.pool.utilization;
  }
  /** Test hook: search thread i (to watch its mailbox or kill it). */
  searchThreadForTest(i: number): SearchThreadHandle {
    return this.searchers.threadForTest(i);
  }

  /** Thread IDs of the live threads (a replaced thread shows up as a new ID). */
  threadIds(): number[] {
    return [...this.pool.threads.map((t) => t.threadId), ...this.searchers.threadIds()].sort((a, b) => a - b);
  }

  run(task: Submit<SnapTask>, signal?: AbortSignal, deadline?: number): Promise<SnapReply>;
  run(task: Submit<NearbyTask>, signal?: AbortSignal, deadline?: number): Promise<NearbyReply>;
  /**
   * WATCH OUT: the caller's AbortSignal is NOT given to piscina: piscina
   * aborts a running task by terminating its worker thread. Instead the task
   * carries its deadline (a thread that picks it up late skips it: the work
   * is abandoned) and the caller is answered DEADLINE_EXCEEDED as soon as the
   * signal fires. Searches are never interrupted either: a search thread that
   * died inside a search would keep its snapshot pinned.
   */
  async run(task: Submit<SnapTask> | Submit<NearbyTask>, signal?: AbortSignal, deadline = Number.POSITIVE_INFINITY): Promise<WorkerReply | NearbyReply> {
    const expired = expiredError;
    if (signal?.aborted) throw expired();
    let r: WorkerReply | NearbyReply | ExpiredReply;
    if (task.kind === 'nearby') {
      r = await this.track(this.searchers.search(task, deadline, signal), signal, expired);
    } else {
      const handle = task.map;
      const mk = (attach?: MapHandle): WorkerTask => ({ ...task, map: { key: handle.key, attach }, deadline });
      r = await this.track(this.post(mk()), signal, expired);
      // First task of this map on that worker: send it again with the handle.
      if (r.kind === 'attach') {
        if (signal?.aborted) throw expired();
        r = await this.track(this.post(mk(handle)), signal, expired);
      }
    }
    if (r.kind === 'expired') throw expired();
    return r;
  }

  private post(task: WorkerTask): Promise<WorkerReply> {
    try {
      return this.pool.run(task);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Count p until it settles (close() waits for it), map its errors, and stop waiting when the signal fires. */
  private track<T>(p: Promise<T>, signal: AbortSignal | undefined, expired: () => Error): Promise<T> {
    this.pending++;
    void p.then(
      () => this.settle(),
      () => this.settle(),
    );
    const mapped = p.catch((e) => {
      throw this.mapError(e);
    });
    return signal ? raceAbort(mapped, signal, expired) : mapped;
  }

  private mapError(e: unknown): unknown {
    const msg = (e as Error)?.message ?? String(e);
    if (/queue is at limit/i.test(msg))
      return new FarosError(
        'RESOURCE_EXHAUSTED',
        `server busy: ${this.pool.queueSize} snap tasks queued for ${this.threads} worker threads; retry with backoff`,
      );
    return e;
  }

  private pending = 0;
  private drained: (() => void) | undefined;
  private settle(): void {
    if (--this.pending === 0) this.drained?.();
  }

  /** Wait (bounded) for tasks still running, then stop the threads. */
  async close(waitMs = 5000): Promise<void> {
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, waitMs).unref();
      });
    }
    await this.searchers.close(waitMs);
    await this.pool.destroy();
  }
}

function expiredError(): FarosError {
  return new FarosError('DEADLINE_EXCEEDED', 'deadline exceeded before a worker could finish; the work was abandoned');
}

/** p, or `reason()` as soon as signal aborts (p keeps running, its result is dropped). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
    p.catch(() => {}); // a late failure after the abort is not unhandled
  });
}
