// Errors mapped at one edge: anything thrown below the API becomes a gRPC
// status or an HTTP status + JSON body here, and nowhere else.
import type { status as GrpcCode } from '@grpc/grpc-js';
import { FarosError, GRPC_STATUS, HTTP_STATUS, asFarosError, type ErrorCode } from '../errors.js';

/** A request body over --max-message-bytes: RESOURCE_EXHAUSTED, but HTTP 413. */
export class BodyTooLargeError extends FarosError {
  constructor(limit: number) {
    super('RESOURCE_EXHAUSTED', `request body exceeds ${limit} bytes (--max-message-bytes); send smaller batches`);
  }
}

/** A route or method the gateway does not have: HTTP only. */
export class RouteError extends FarosError {
  // 405 has no gRPC code of its own; like grpc-gateway it is reported as UNIMPLEMENTED.
  constructor(
    readonly httpStatus: 404 | 405,
    message: string,
    readonly allow?: string,
  ) {
    super(httpStatus === 404 ? 'NOT_FOUND' : 'FAILED_PRECONDITION', message);
  }
}

export interface Status {
  code: ErrorCode | 'UNIMPLEMENTED';
  grpc: GrpcCode;
  http: number;
  message: string;
  internal: boolean;
}

export function toStatus(e: unknown): Status {
  const internal = !(e instanceof FarosError);
  const f = asFarosError(e);
  const http = f instanceof BodyTooLargeError ? 413 : f instanceof RouteError ? f.httpStatus : HTTP_STATUS[f.code];
  const code = f instanceof RouteError && f.httpStatus === 405 ? ('UNIMPLEMENTED' as const) : f.code;
  return { code, grpc: GRPC_STATUS[f.code], http, message: internal ? `internal error: ${f.message}` : f.message, internal };
}

/** Google API error JSON: {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "..."}}. */
export function errorJson(s: Status): string {
  return JSON.stringify({ error: { code: s.http, status: s.code, message: s.message } });
}
