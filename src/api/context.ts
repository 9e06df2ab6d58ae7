// Per-call context: an AbortSignal that fires at the caller's deadline or on
// cancellation (passed to the host, so work stops at every hop), and the
// in-flight gate that refuses work instead of queueing it forever.
import { setMaxListeners } from 'node:events';
import { FarosError } from '../errors.js';
import type { Metrics } from '../metrics.js';

export interface CallContext {
  readonly signal: AbortSignal;
  /** ms since the epoch; Infinity without a deadline. */
  readonly deadlineMs: number;
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CallScope implements CallContext {
  private readonly ac = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  readonly signal = this.ac.signal;

  /** `shared`: a stream's scope, listened to by every batch in flight and each of their tasks. */
  constructor(
    readonly deadlineMs: number,
    shared = false,
  ) {
    if (shared) setMaxListeners(0, this.signal);
    if (Number.isFinite(deadlineMs)) {
      const left = deadlineMs - Date.now();
      // Under 1 ms left is already lost: timers fire at millisecond granularity,
      // so a fast answer could otherwise beat a deadline that had passed.
      if (left < 1) this.expire();
      // WATCH OUT: setTimeout fires after 1 ms when given more than 2^31-1 ms
      // (~24.8 days); a deadline that far away (X-Server-Timeout: 3000000) is none.
      else if (left <= MAX_TIMER_MS) this.timer = setTimeout(() => this.expire(), left);
    }
  }

  private expire(): void {
    this.ac.abort(
      new FarosError('DEADLINE_EXCEEDED', 'the call deadline passed before the answer was ready; allow a longer deadline or send less work per call'),
    );
  }

  cancel(): void {
    this.ac.abort(new FarosError('CANCELLED', 'the client cancelled the call'));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

const noop = (): void => undefined;

/** Resolve with `p`, or reject with the signal's reason as soon as it aborts. */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // Always consume p: once the caller has been answered, its late failure is expected, not unhandled.
    if (signal.aborted) {
      p.then(noop, noop);
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Caps calls worked on at once in this process (--max-in-flight). */
export class InFlightGate {
  private n = 0;
  constructor(
    private readonly max: number,
    private readonly metrics?: Metrics,
    private readonly port = 'grpc',
  ) {}

  get current(): number {
    return this.n;
  }

  /** Throws RESOURCE_EXHAUSTED when full; pair every successful enter with leave. */
  enter(): void {
    if (this.n >= this.max)
      throw new FarosError(
        'RESOURCE_EXHAUSTED',
        `server busy: ${this.n} calls in flight on the ${this.port} port (limit ${this.max}, --max-in-flight); retry with backoff or batch updates on a stream`,
      );
    this.n++;
    this.metrics?.inFlight.set({ port: this.port }, this.n);
  }

  leave(): void {
    this.n--;
    this.metrics?.inFlight.set({ port: this.port }, this.n);
  }
}
