// Driver updates batched onto StreamDriverUpdates. Each request message is a
// batch; the server acknowledges batches one by one, in order, so the batches
// sent on a stream and not yet acknowledged are a FIFO:
//
//   write() ─▶ buffer ──(maxBatch items or flushMs)──▶ queue ──▶ inflight ──ack──▶ done
//                                                        ▲           │
//                                                        └───────────┘ stream failed (retryable):
//                                                          resent, in order, on a new stream to another target
//
// Resending is safe: newest timestamp wins on the server, and batches keep
// their order, so an older update never lands after a newer one of the same driver.
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { FarosClientError, RETRYABLE, statusName, type StatusName } from './errors.js';
import type { UpdateDriverRequest, UpdateDriversRequest, UpdateDriversResponse, WriteAck } from './messages.js';
import { backoffMs, type RetryPolicy } from './retry.js';
import type { Method, Transport } from './transport.js';

export interface UpdaterOptions {
  /** A batch waits at most this long for more items before it is sent, in ms. Default 20. */
  flushMs?: number;
  /** Items per batch at most (the server refuses batches over its --max-batch-size, 10,000). Default 500. */
  maxBatch?: number;
  /** Items written and not yet acknowledged at most; beyond, write() waits. Default 10 × maxBatch. */
  maxPending?: number;
  /** When the server acknowledges each batch. Default: the server's --write-ack. */
  ack?: WriteAck;
  /** A stream whose oldest unacknowledged batch waited this long is given up and reopened elsewhere, in ms. Default: the client's deadlineMs. */
  ackTimeoutMs?: number;
  /** A batch not acknowledged this long after it was first sent is given up: its items are reported rejected, in ms. Default 30,000. */
  maxRetryMs?: number;
  /** Called for each item the server refused, or that was given up. Also emitted as 'rejected'. */
  onRejected?: (r: RejectedUpdate) => void;
}

export interface RejectedUpdate {
  /** The item as written. */
  update: UpdateDriverRequest;
  /** The gRPC status code name, e.g. "INVALID_ARGUMENT", "OUT_OF_RANGE", or the stream's own ("UNAVAILABLE", "CANCELLED"). */
  code: string;
  message: string;
}

export interface UpdaterStats {
  /** Items written. */
  written: number;
  /** Items the server acknowledged as applied. */
  accepted: number;
  /** Items reported rejected. */
  rejected: number;
  /** Items refused for a passing reason (UNAVAILABLE, RESOURCE_EXHAUSTED) and dropped instead of resent: a later write of the same driver was on its way. */
  superseded: number;
  /** Items written and not yet acknowledged or rejected. */
  pending: number;
  /** Batches sent again on a new stream after one failed. */
  resent: number;
  /** Streams opened. */
  streams: number;
}

export interface UpdaterEvents {
  rejected: [RejectedUpdate];
  /** A stream failed; the unacknowledged batches go out again on a new one. */
  reopen: [{ target: string; code: StatusName; message: string }];
}

interface Item {
  update: UpdateDriverRequest;
  /** Order of write(): a retry of an item is dropped when a later write of the same driver exists. */
  seq: number;
  /** When it was first sent (0 = not yet). */
  since: number;
}

interface Batch {
  items: Item[];
  sentAt: number;
}

export interface UpdaterContext {
  transport: Transport;
  method: Method;
  retry: RetryPolicy;
  deadlineMs: number;
}

type Stream = grpc.ClientDuplexStream<UpdateDriversRequest, UpdateDriversResponse>;

const keyOf = (u: UpdateDriverRequest): string => `${u.mapId ?? ''}\u0000${u.driverId ?? ''}`;

export class DriverUpdater extends EventEmitter<UpdaterEvents> {
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly ackTimeoutMs: number;
  private readonly maxRetryMs: number;
  private readonly ack: WriteAck | undefined;

  private buffer: Item[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private queue: Batch[] = [];
  private inflight: Batch[] = [];
  private stream: Stream | undefined;
  private streamTarget = -1;
  private lastFailed: number | undefined;
  private failures = 0;
  private reopenTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  /** Per driver (map ID, driver ID) with an item in the updater: the seq of its latest write. */
  private readonly latest = new Map<string, number>();
  private closing = false;
  private readonly spaceWaiters: (() => void)[] = [];
  private readonly flushWaiters: { seq: number; resolve: () => void }[] = [];
  private readonly s: UpdaterStats = { written: 0, accepted: 0, rejected: 0, superseded: 0, pending: 0, resent: 0, streams: 0 };

  constructor(
    private readonly ctx: UpdaterContext,
    o: UpdaterOptions = {},
  ) {
    super();
    this.flushMs = positive('flushMs', o.flushMs ?? 20, true);
    this.maxBatch = positive('maxBatch', o.maxBatch ?? 500);
    this.maxPending = positive('maxPending', o.maxPending ?? 10 * this.maxBatch);
    this.ackTimeoutMs = positive('ackTimeoutMs', o.ackTimeoutMs ?? ctx.deadlineMs);
    this.maxRetryMs = positive('maxRetryMs', o.maxRetryMs ?? 30_000);
    this.ack = o.ack;
    if (o.onRejected) this.on('rejected', o.onRejected);
  }

  /**
   * Queue one update. Resolves once it is queued and fewer than maxPending
   * items wait for an acknowledgement (await it to follow the server's pace);
   * rejects only after close().
   */
  write(update: UpdateDriverRequest): Promise<void> {
    if (this.closing) return Promise.reject(new FarosClientError('CANCELLED', 'write() after close()', 'StreamDriverUpdates'));
    const seq = ++this.seq;
    this.buffer.push({ update, seq, since: 0 });
    this.latest.set(keyOf(update), seq);
    this.s.written++;
    this.s.pending++;
    if (this.buffer.length >= this.maxBatch) this.cut();
    else this.flushTimer ??= setTimeout(() => this.cut(), this.flushMs);
    if (this.s.pending < this.maxPending) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Send what is buffered now; resolves when every item written before is acknowledged, superseded or reported rejected. */
  flush(): Promise<void> {
    this.cut();
    const seq = this.seq;
    if (this.oldestPending() > seq) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ seq, resolve }));
  }

  /**
   * Flush, then end the stream. Items not acknowledged within timeoutMs
   * (default 30,000) are reported rejected with CANCELLED.
   */
  async close(o: { timeoutMs?: number } = {}): Promise<void> {
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((r) => {
      timer = setTimeout(r, o.timeoutMs ?? 30_000);
    });
    await Promise.race([this.flush(), timedOut]);
    clearTimeout(timer);
    this.abort('CANCELLED', 'not acknowledged before close() timed out');
  }

  /** Stop at once: every item not yet acknowledged is reported rejected with `code`. */
  abort(code: StatusName = 'CANCELLED', message = 'the client was closed'): void {
    this.closing = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.reopenTimer);
    clearTimeout(this.ackTimer);
    this.flushTimer = this.reopenTimer = this.ackTimer = undefined;
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      if (this.inflight.length > 0) s.cancel();
      else s.end();
    }
    const left = [...this.inflight, ...this.queue].flatMap((b) => b.items).concat(this.buffer);
    this.inflight = [];
    this.queue = [];
    this.buffer = [];
    for (const it of left) this.reject(it, code, message);
    this.progress();
  }

  stats(): Readonly<UpdaterStats> {
    return { ...this.s };
  }

  /** The buffer becomes a batch in the send queue. */
  private cut(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.buffer.length === 0) return;
    this.queue.push({ items: this.buffer, sentAt: 0 });
    this.buffer = [];
    this.pump();
  }

  private pump(): void {
    if (this.queue.length === 0 || this.reopenTimer) return;
    if (!this.stream) this.open();
    const s = this.stream!;
    const now = Date.now();
    for (let b = this.queue.shift(); b; b = this.queue.shift()) {
      if (b.sentAt !== 0) this.s.resent++;
      b.sentAt = now;
      for (const it of b.items) if (it.since === 0) it.since = now;
      this.inflight.push(b);
      const req: UpdateDriversRequest = { updates: b.items.map((it) => it.update) };
      if (this.ack !== undefined) req.ack = this.ack;
      // The stream buffers what the socket cannot take yet; maxPending bounds it.
      s.write(req);
    }
    this.armAckTimer();
  }

  private open(): void {
    const k = this.ctx.transport.pick(this.lastFailed);
    const s: Stream = this.ctx.transport.bidi(k, this.ctx.method);
    this.stream = s;
    this.streamTarget = k;
    this.s.streams++;
    s.on('data', (r: UpdateDriversResponse) => this.acked(s, r));
    // 'status' comes once, last, with the outcome ('error' and 'end' may come in either order before it).
    s.on('error', () => {});
    s.on('status', (st: grpc.StatusObject) =>
      this.ended(s, st.code === 0 ? 'UNAVAILABLE' : statusName(st.code), st.code === 0 ? 'the server ended the stream' : st.details),
    );
  }

  private acked(s: Stream, r: UpdateDriversResponse): void {
    if (s !== this.stream) return;
    const b = this.inflight.shift();
    if (!b) return;
    this.failures = 0;
    this.lastFailed = undefined;
    const refused = new Map<number, { code: string; message: string }>();
    for (const e of r.rejected) refused.set(e.index, e);
    const again: Item[] = [];
    const now = Date.now();
    b.items.forEach((it, i) => {
      const e = refused.get(i);
      if (!e) {
        this.s.accepted++;
        this.settle(it);
      } else if (RETRYABLE.has(e.code as StatusName) && now - it.since < this.maxRetryMs) again.push(it);
      else this.reject(it, e.code, e.message);
    });
    // Items refused for a passing reason (no live replica yet, the server busy) go again at the back of the queue.
    this.requeue(again, false);
    this.progress();
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.armAckTimer();
    if (again.length > 0 && !this.reopenTimer) {
      this.failures++;
      this.reopenTimer = setTimeout(
        () => {
          this.reopenTimer = undefined;
          this.pump();
        },
        backoffMs(this.ctx.retry, this.failures),
      );
    }
  }

  private ended(s: Stream, code: StatusName, message: string): void {
    if (s !== this.stream) return;
    this.stream = undefined;
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const failed = this.inflight;
    this.inflight = [];
    if (failed.length === 0 && this.queue.length === 0) return; // an idle stream ended: reopened when there is something to send
    const target = this.ctx.transport.targets[this.streamTarget]!;
    this.lastFailed = this.streamTarget;
    if (RETRYABLE.has(code)) this.ctx.transport.cool(this.streamTarget);
    const now = Date.now();
    const again: Item[] = [];
    // A refusal of the whole stream (a bad token, …) would fail again: its items are given up, like those out of time.
    for (const it of failed.flatMap((b) => b.items)) {
      if (RETRYABLE.has(code) && now - it.since < this.maxRetryMs) again.push(it);
      else this.reject(it, code, `${message} (${target})`);
    }
    // Unacknowledged batches go first, in order: they were written before anything still queued.
    this.requeue(again, true);
    this.progress();
    this.emit('reopen', { target, code, message });
    if (this.queue.length === 0) return;
    this.failures++;
    this.reopenTimer = setTimeout(
      () => {
        this.reopenTimer = undefined;
        this.pump();
      },
      backoffMs(this.ctx.retry, this.failures),
    );
  }

  /** Items to send again, as batches, less those a later write of the same driver supersedes. */
  private requeue(items: Item[], front: boolean): void {
    const live = items.filter((it) => {
      if (this.latest.get(keyOf(it.update)) === it.seq) return true;
      this.s.superseded++;
      this.settle(it);
      return false;
    });
    const batches: Batch[] = [];
    for (let i = 0; i < live.length; i += this.maxBatch) batches.push({ items: live.slice(i, i + this.maxBatch), sentAt: -1 });
    if (front) this.queue.unshift(...batches);
    else this.queue.push(...batches);
  }

  /** Cancel a stream whose oldest batch went unanswered for ackTimeoutMs (a hung or unreachable instance). */
  private armAckTimer(): void {
    const oldest = this.inflight[0];
    if (this.ackTimer || !oldest) return;
    const s = this.stream;
    this.ackTimer = setTimeout(
      () => {
        this.ackTimer = undefined;
        if (s !== this.stream || this.inflight[0] !== oldest) return this.armAckTimer();
        this.ended(s!, 'UNAVAILABLE', `no acknowledgement within ${this.ackTimeoutMs} ms`);
        s!.cancel();
      },
      Math.max(0, oldest.sentAt + this.ackTimeoutMs - Date.now()),
    );
  }

  private reject(it: Item, code: string, message: string): void {
    this.s.rejected++;
    this.settle(it);
    this.emit('rejected', { update: it.update, code, message });
  }

  /** An item left the updater (acknowledged, rejected or superseded). */
  private settle(it: Item): void {
    this.s.pending--;
    const key = keyOf(it.update);
    if (this.latest.get(key) === it.seq) this.latest.delete(key);
  }

  /** Space for writers, progress for flushes. */
  private progress(): void {
    while (this.s.pending < this.maxPending && this.spaceWaiters.length > 0) this.spaceWaiters.shift()!();
    if (this.flushWaiters.length === 0) return;
    const oldest = this.oldestPending();
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      const w = this.flushWaiters[i]!;
      if (w.seq < oldest) {
        this.flushWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** The seq of the oldest item not yet settled (Infinity when none). */
  private oldestPending(): number {
    let min = this.buffer[0]?.seq ?? Number.POSITIVE_INFINITY;
    for (const b of this.inflight) min = Math.min(min, b.items[0]?.seq ?? min);
    for (const b of this.queue) min = Math.min(min, b.items[0]?.seq ?? min);
    return min;
  }
}

function positive(name: string, v: number, zeroOk = false): number {
  if (!Number.isFinite(v) || v < 0 || (!zeroOk && v === 0))
    throw new RangeError(`streamUpdates: ${name} must be a ${zeroOk ? 'non-negative' : 'positive'} number, not ${v}`);
  return v;
}
