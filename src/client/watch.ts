// watchNearby: the WatchNearby server stream as an async iterator of
// NearbyResponse, re-subscribed on another target after UNAVAILABLE (the map
// left the instance, or the connection broke), as SEMANTICS.md §8 asks of a
// client. Breaking out of the loop, return() or the AbortSignal cancel the call.
import type * as grpc from '@grpc/grpc-js';
import { FarosClientError, fromServiceError } from './errors.js';
import type { NearbyResponse, WatchNearbyRequest } from './messages.js';
import { backoffMs, type RetryPolicy } from './retry.js';
import type { Method, Transport } from './transport.js';

export interface WatchOptions {
  /** Ends the watch: the iterator returns (no error) and the call is cancelled. */
  signal?: AbortSignal;
  /** A deadline for the whole watch, re-subscriptions included, in ms; none by default (a watch is long-lived). */
  deadlineMs?: number;
}

export interface WatchContext {
  transport: Transport;
  method: Method;
  retry: RetryPolicy;
  /** True once the client is closed: the watch then ends with CANCELLED. */
  closed: () => boolean;
  /** Calls open now, cancelled by the client's close(). */
  open: Set<grpc.ClientReadableStream<unknown>>;
}

const NAME = 'WatchNearby';
/** Messages read ahead of the consumer before the stream is paused (then HTTP/2 flow control holds the server back). */
const READ_AHEAD = 16;

export async function* watchNearby(ctx: WatchContext, req: WatchNearbyRequest, o: WatchOptions = {}): AsyncGenerator<NearbyResponse, void, undefined> {
  if (o.deadlineMs !== undefined && !(o.deadlineMs > 0)) throw new RangeError(`deadlineMs must be a positive number of ms, not ${o.deadlineMs}`);
  const deadline = o.deadlineMs === undefined ? undefined : Date.now() + o.deadlineMs;
  const signal = o.signal;
  let avoid: number | undefined;
  // Subscriptions in a row that ended UNAVAILABLE before their first message; one that delivered resets it.
  let failures = 0;
  for (;;) {
    if (ctx.closed()) throw new FarosClientError('CANCELLED', 'the client is closed', NAME);
    if (signal?.aborted) return;
    const k = ctx.transport.pick(avoid);
    const call = ctx.transport.serverStream<NearbyResponse>(k, ctx.method, req, deadline);
    let delivered = false;
    try {
      for await (const msg of read(call, ctx.open, signal)) {
        delivered = true;
        failures = 0;
        yield msg;
      }
      return; // the server ended the stream with OK
    } catch (e) {
      if (signal?.aborted) return;
      const err = fromServiceError(e, NAME, failures + 1, ctx.transport.targets[k]);
      if (ctx.closed()) throw new FarosClientError('CANCELLED', 'the client is closed', NAME, failures + 1, ctx.transport.targets[k]);
      if (err.code !== 'UNAVAILABLE') throw err;
      if (!delivered && ++failures >= ctx.retry.maxAttempts) throw err;
      ctx.transport.cool(k);
      avoid = k;
      const wait = backoffMs(ctx.retry, Math.max(1, failures));
      if (deadline !== undefined && Date.now() + wait >= deadline) throw err;
      await sleep(wait, signal);
    }
  }
}

/** The messages of one call, read ahead at most READ_AHEAD; leaving the loop early cancels the call. */
async function* read<T>(call: grpc.ClientReadableStream<T>, open: Set<grpc.ClientReadableStream<unknown>>, signal?: AbortSignal): AsyncGenerator<T> {
  const queue: T[] = [];
  let done = false,
    error: unknown,
    wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  // WATCH OUT: the 'error' listener stays attached after we stop reading: the CANCELLED our own cancel() causes must not be an uncaught 'error' event.
  call.on('data', (m: T) => {
    queue.push(m);
    if (queue.length >= READ_AHEAD) call.pause();
    notify();
  });
  call.on('error', (e) => {
    error ??= e;
    done = true;
    notify();
  });
  call.on('end', () => {
    done = true;
    notify();
  });
  const abort = (): void => call.cancel();
  signal?.addEventListener('abort', abort, { once: true });
  open.add(call as grpc.ClientReadableStream<unknown>);
  try {
    for (;;) {
      const m = queue.shift();
      if (m !== undefined) {
        if (queue.length < READ_AHEAD / 2) call.resume();
        yield m;
        continue;
      }
      if (error !== undefined) throw error;
      if (done) return;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    open.delete(call as grpc.ClientReadableStream<unknown>);
    if (!done) call.cancel(); // the consumer left (break, return(), throw): end the server-side watch
  }
}

/** Wait ms, or less when the signal aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
