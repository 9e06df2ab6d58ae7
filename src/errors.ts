// Stable error codes and their gRPC / HTTP mapping: errors are raised as
// FarosError anywhere below the API and turned into a status at one edge.
import { status } from '@grpc/grpc-js';

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'OUT_OF_RANGE'
  | 'RESOURCE_EXHAUSTED'
  | 'DEADLINE_EXCEEDED'
  | 'UNAVAILABLE'
  | 'FAILED_PRECONDITION'
  | 'INTERNAL'
  | 'CANCELLED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED';

export class FarosError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    // An answer to a caller, not a bug: no stack. Capturing one cost ~2% of
    // the server's CPU while it refused an overload (RESOURCE_EXHAUSTED floods).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'FarosError';
  }
}

export const GRPC_STATUS: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  OUT_OF_RANGE: status.OUT_OF_RANGE,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  UNAVAILABLE: status.UNAVAILABLE,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  INTERNAL: status.INTERNAL,
  CANCELLED: status.CANCELLED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
};

/** HTTP status per gRPC code, as Google's API design guide maps them. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  OUT_OF_RANGE: 400,
  FAILED_PRECONDITION: 400,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  DEADLINE_EXCEEDED: 504,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
};

export function asFarosError(e: unknown): FarosError {
  if (e instanceof FarosError) return e;
  return new FarosError('INTERNAL', e instanceof Error ? e.message : String(e));
}

/** The error one query of a batch met, as its own result (the batch goes on). */
export function failedItem(e: unknown): { ok: false; code: Exclude<ErrorCode, 'OUT_OF_RANGE'>; message: string } {
  const f = asFarosError(e);
  // Below the API a point that does not snap is a result, never a throw; a stray one is a bug.
  if (f.code === 'OUT_OF_RANGE') return { ok: false, code: 'INTERNAL', message: `internal error: ${f.message}` };
  return { ok: false, code: f.code, message: e instanceof FarosError ? f.message : `internal error: ${f.message}` };
}
