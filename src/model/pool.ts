// The worker pool shared by every shard of a process (piscina). Maps a full
// queue to RESOURCE_EXHAUSTED and an aborted call to DEADLINE_EXCEEDED.
import { Piscina } from 'piscina';
import { availableParallelism } from 'node:os';
import { FarosError } from '../errors.js';
import type { WorkerReply, WorkerTask, SnapTask, SnapReply, NearbyTask, NearbyReply } from './messages.js';

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
      idleTimeout: 2 ** 31 - 1,
      // Small tasks: keep several in flight per thread to hide the hand-off.
      concurrentTasksPerWorker: 1,
    });
  }

  /** Tasks waiting for a thread. */
  get queueSize(): number { return this.pool.queueSize; }
  get utilization(): number { return this.pool.utilization; }

  run(task: SnapTask, signal?: AbortSignal): Promise<SnapReply>;
  run(task: NearbyTask, signal?: AbortSignal): Promise<NearbyReply>;
  async run(task: WorkerTask, signal?: AbortSignal): Promise<WorkerReply> {
    if (signal?.aborted) throw new FarosError('DEADLINE_EXCEEDED', 'deadline exceeded before the work started');
    try {
      return await this.pool.run(task, signal ? { signal } : undefined);
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      if (signal?.aborted || (e as Error).name === 'AbortError') throw new FarosError('DEADLINE_EXCEEDED', 'deadline exceeded while waiting for a worker; the work was abandoned');
      if (/queue is at limit/i.test(msg)) throw new FarosError('RESOURCE_EXHAUSTED', `server busy: ${this.pool.queueSize} tasks queued for ${this.threads} worker threads; retry with backoff`);
      throw e;
    }
  }

  close(): Promise<void> { return this.pool.destroy(); }
}
