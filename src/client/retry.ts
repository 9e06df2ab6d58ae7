// Exponential backoff with full jitter (each wait drawn from [0, cap)):
// clients that failed together do not come back together.

export interface RetryOptions {
  /** Sends of one call at most, the first included (1 = never retry). Default 5. */
  maxAttempts?: number;
  /** The cap of the first wait, in ms. Default 50. */
  initialBackoffMs?: number;
  /** No wait is drawn above this, in ms. Default 2000. */
  maxBackoffMs?: number;
  /** Growth of the cap per attempt. Default 2. */
  multiplier?: number;
}

export type RetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 5, initialBackoffMs: 50, maxBackoffMs: 2000, multiplier: 2 });

export function retryPolicy(o: RetryOptions | false | undefined): RetryPolicy {
  if (o === false) return { ...DEFAULT_RETRY, maxAttempts: 1 };
  const p = { ...DEFAULT_RETRY, ...o };
  for (const k of ['maxAttempts', 'initialBackoffMs', 'maxBackoffMs', 'multiplier'] as const)
    if (!Number.isFinite(p[k]) || p[k] < 0) throw new RangeError(`retry.${k} must be a non-negative number, not ${p[k]}`);
  if (p.maxAttempts < 1 || !Number.isInteger(p.maxAttempts)) throw new RangeError(`retry.maxAttempts must be an integer >= 1, not ${p.maxAttempts}`);
  return p;
}

/** The wait before attempt `attempt + 1` (attempt 1 = after the first send). */
export function backoffMs(p: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(p.maxBackoffMs, p.initialBackoffMs * p.multiplier ** (attempt - 1));
  return Math.floor(random() * cap);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
