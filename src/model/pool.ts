// The worker pool shared by every shard of a process (piscina). Maps a full
// queue to RESOURCE_EXHAUSTED and an aborted call to DEADLINE_EXCEEDED.
import { Piscina } from 'piscina';
import { availableParallelism } from 'node:os';
import { FarosError } from '../errors.js';
import { TwoLaneQueue, type LaneOptions } from './task-queue.js';
import type { WorkerReply, WorkerTask, SnapTask, SnapReply, NearbyTask, NearbyReply, MapHandle } from './messages.js';

/** A task as shards hand it in: with the map's full handle (the pool sends only its key). */
type Submit<T extends SnapTask | NearbyTask> = Omit<T, 'deadline' | 'map'> & { map: MapHandle };

export interface PoolOptions {
  /** Worker threads; default = cores. */
  threads?: number;
  /** Tasks waiting beyond this are refused with RESOURCE_EXHAUSTED. */
  maxQueue?: number;
}

export class WorkerPool {
  private readonly pool: Piscina<WorkerTask, WorkerReply>;
  readonly threads: number;

  constructor(opts: PoolOptions = {}) {
    this.threads = opts.threads ?? availableParallelism();
    this.pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: opts.maxQueue ?? 10_000,
      taskQueue: new TwoLaneQueue(),
      idleTimeout: 2 ** 31 - 1,
      // Small tasks: keep several in flight per thread to hide the hand-off.
      concurrentTasksPerWorker: 1,
    });
  }

  /** Tasks waiting for a thread. */
  get queueSize(): number { return this.pool.queueSize; }
  get utilization(): number { return this.pool.utilization; }
  /** Thread IDs of the live workers (a replaced worker shows up as a new ID). */
  threadIds(): number[] { return this.pool.threads.map((t) => t.threadId).sort((a, b) => a - b); }

  run(task: Submit<SnapTask>, signal?: AbortSignal, deadline?: number): Promise<SnapReply>;
  run(task: Submit<NearbyTask>, signal?: AbortSignal, deadline?: number): Promise<NearbyReply>;
  /**
   * WATCH OUT: the caller's AbortSignal is NOT given to piscina: piscina
   * aborts a running task by terminating its worker thread, and a worker that
   * dies inside a search keeps its snapshot pin, so the arena could never
   * reuse memory again. Instead the task carries its deadline (a worker that
   * picks it up late skips it: the work is abandoned) and the caller is
   * answered DEADLINE_EXCEEDED as soon as the signal fires.
   */
  async run(task: Submit<SnapTask> | Submit<NearbyTask>, signal?: AbortSignal, deadline = Number.POSITIVE_INFINITY): Promise<WorkerReply> {
    const expired = () => new FarosError('DEADLINE_EXCEEDED', 'deadline exceeded before a worker could finish; the work was abandoned');
    if (signal?.aborted) throw expired();
    const handle = task.map;
    // Searches take the read lane (ahead of snapping); the symbol is read by the queue, never posted.
    const lane: LaneOptions = { lane: task.kind === 'nearby' ? 'read' : 'write' };
    const mk = (attach?: MapHandle): WorkerTask => ({ ...task, map: { key: handle.key, attach }, deadline, [Piscina.queueOptionsSymbol]: lane } as WorkerTask);
    let r = await this.post(mk(), signal, expired);
    // First task of this map on that worker: send it again with the handle.
    if (r.kind === 'attach') {
      if (signal?.aborted) throw expired();
      r = await this.post(mk(handle), signal, expired);
    }
    if (r.kind === 'expired') throw expired();
    return r;
  }

  private async post(task: WorkerTask, signal: AbortSignal | undefined, expired: () => Error): Promise<WorkerReply> {
    let p: Promise<WorkerReply>;
    try {
      p = this.pool.run(task);
    } catch (e) {
      throw this.mapError(e);
    }
    // Tracked until settled, also when the caller stopped waiting (close() waits for them).
    this.pending++;
    void p.then(() => this.settle(), () => this.settle());
    return signal ? raceAbort(p.catch((e) => { throw this.mapError(e); }), signal, expired) : p.catch((e) => { throw this.mapError(e); });
  }

  private mapError(e: unknown): unknown {
    const msg = (e as Error)?.message ?? String(e);
    if (/queue is at limit/i.test(msg)) return new FarosError('RESOURCE_EXHAUSTED', `server busy: ${this.pool.queueSize} tasks queued for ${this.threads} worker threads; retry with backoff`);
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
