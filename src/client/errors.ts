// What a failed client call throws: the gRPC status by name, so callers
// compare strings the proto and the docs use ("NOT_FOUND"), never numbers.
import { status, type ServiceError } from '@grpc/grpc-js';

export type StatusName = keyof typeof status;

/** Codes a call may be sent again for: the server did not act on it (or could not take it yet). */
export const RETRYABLE: ReadonlySet<StatusName> = new Set<StatusName>(['UNAVAILABLE', 'RESOURCE_EXHAUSTED']);

export class FarosClientError extends Error {
  /** The gRPC status code, e.g. 5. */
  readonly grpcCode: number;

  constructor(
    /** The gRPC status code name, e.g. "NOT_FOUND". */
    readonly code: StatusName,
    /** The server's message (or the client's, for CANCELLED after close()). */
    readonly details: string,
    /** The method that failed, e.g. "Nearby". */
    readonly method: string,
    /** How many times the call was sent (1 = no retry). */
    readonly attempts = 1,
    /** The target of the last attempt ("host:port"), when one was chosen. */
    readonly target?: string,
  ) {
    super(`${method}: ${code}: ${details}`);
    this.name = 'FarosClientError';
    this.grpcCode = status[code];
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

export function statusName(code: number): StatusName {
  return (status[code] as StatusName | undefined) ?? 'UNKNOWN';
}

/** A grpc-js ServiceError (or anything thrown by the call) as a FarosClientError. */
export function fromServiceError(e: unknown, method: string, attempts: number, target?: string): FarosClientError {
  if (e instanceof FarosClientError) return e;
  const se = e as Partial<ServiceError>;
  if (typeof se?.code === 'number') return new FarosClientError(statusName(se.code), se.details ?? se.message ?? '', method, attempts, target);
  return new FarosClientError('INTERNAL', e instanceof Error ? e.message : String(e), method, attempts, target);
}
