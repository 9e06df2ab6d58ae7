// The threads shared by every shard of a process: a piscina pool that snaps
// update batches, and dedicated search threads (searchers.ts) that answer
// nearby queries through shared-memory mailboxes. Maps a full queue to
// RESOURCE_EXHAUSTED and an aborted call to DEADLINE_EXCEEDED.
import { Piscina } from 'piscina';
import { availableParallelism } from 'node:os';
import { FarosError } from '../errors.js';
import { Searchers } from './searchers.js';
import type { WorkerReply, WorkerTask, SnapTask, SnapReply, NearbyTask, NearbyReply, MapHandle, ExpiredReply } from './messages.js';

/** A task as shards hand it in: with the map's full handle (the pool sends only its key). */
type Submit<T extends SnapTask | NearbyTask> = Omit<T, 'deadline' | 'map'> & { map: MapHandle };

export interface PoolOptions {
  /** Snapping threads (piscina); default = cores. */
  threads?: number;
  /** Search threads; default = `threads`. */
  searchThreads?: number;
  /** Tasks waiting beyond this (per kind) are refused with RESOURCE_EXHAUSTED. */
  maxQueue?: number;
  /** Where a failing search thread is reported. */
  log?: (msg: string) => void;
}

export class WorkerPool {
  private readonly pool: Piscina<WorkerTask, WorkerReply>;
  private readonly searchers: Searchers;
  readonly threads: number;

  constructor(opts: PoolOptions = {}) {
    this.threads = opts.threads ?? availableParallelism();
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: opts.maxQueue ?? 10_000,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
    });
    this.searchers = new Searchers(opts.searchThreads ?? this.threads, opts.maxQueue ?? 10_000, opts.log);
  }

  /** Tasks waiting for a thread (snap chunks + searches). */
  get queueSize(): number { return this.pool.queueSize + this.searchers.queueSize; }
  /** Share of the snapping threads' time spent working. */
  get utilization(): number { return this.pool.utilization; }
  /** Thread IDs of the live threads (a replaced thread shows up as a new ID). */
  threadIds(): number[] { return [...this.pool.threads.map((t) => t.threadId), ...this.searchers.threadIds()].sort((a, b) => a - b); }

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
    const expired = () => new FarosError('DEADLINE_EXCEEDED', 'deadline exceeded before a worker could finish; the work was abandoned');
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
    void p.then(() => this.settle(), () => this.settle());
    const mapped = p.catch((e) => { throw this.mapError(e); });
    return signal ? raceAbort(mapped, signal, expired) : mapped;
  }

  private mapError(e: unknown): unknown {
    const msg = (e as Error)?.message ?? String(e);
    if (/queue is at limit/i.test(msg)) return new FarosError('RESOURCE_EXHAUSTED', `server busy: ${this.pool.queueSize} snap tasks queued for ${this.threads} worker threads; retry with backoff`);
    return e;
  }

  private pending = 0;
  private drained: (() => void) | undefined;
  private settle(): void { if (--this.pending === 0) this.drained?.(); }

  /** Wait (bounded) for tasks still running, then stop the threads. */
  async close(waitMs = 5000): Promise<void> {
    if (this.pending > 0) {
      await new Promise<void>((resolve) => { this.drained = resolve; setTimeout(resolve, waitMs).unref(); });
    }
    await this.searchers.close(waitMs);
    await this.pool.destroy();
  }
}

/** p, or `reason()` as soon as signal aborts (p keeps running, its result is dropped). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
    p.catch(() => {}); // a late failure after the abort is not unhandled
  });
}
