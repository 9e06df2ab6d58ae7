// The public proto, loaded once with the options every part of the API relies
// on: lowerCamel JS field names, int64 as decimal strings, enums as names,
// defaults filled in (a missing message field is null, a missing scalar 0/"").
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import type * as grpc from '@grpc/grpc-js';
import { FarosError } from '../errors.js';
import { clip } from '../quote.js';
import { protoPath as healthProtoPath } from 'grpc-health-check';

const here = dirname(fileURLToPath(import.meta.url));
/** proto/ at the package root (works from src/api and dist/src/api). */
export const PROTO_DIR =
  [join(here, '..', '..', 'proto'), join(here, '..', '..', '..', 'proto')].find((d) => existsSync(join(d, 'faros', 'v1', 'faros.proto'))) ??
  join(here, '..', '..', '..', 'proto');

export const FAROS_PROTO = 'faros/v1/faros.proto';

export const LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
});

export function loadFarosDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(FAROS_PROTO, LOADER_OPTIONS);
}

/** faros.v1 plus grpc.health.v1, for the reflection service. */
export function loadReflectionDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([join(PROTO_DIR, FAROS_PROTO), healthProtoPath], { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
}

/** A request whose bytes are not a valid protobuf message of its type. */
export class Undecodable {
  constructor(readonly reason: string) {}
  /** INVALID_ARGUMENT naming what could not be decoded. */
  error(method: string): FarosError {
    return new FarosError(
      'INVALID_ARGUMENT',
      `the ${method} request is not a valid protobuf message (${clip(this.reason)}); send the message the proto defines`,
    );
  }
}

/**
 * The same service with request decoding that never throws: grpc-js answers
 * a decoding failure with INTERNAL, but the fault is the caller's, so the
 * handler gets an Undecodable and refuses it with INVALID_ARGUMENT.
 */
export function tolerantDefinition(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(def).map(([name, m]) => [
      name,
      {
        ...m,
        requestDeserialize: (buf: Buffer) => {
          try {
            return m.requestDeserialize(buf);
          } catch (e) {
            return new Undecodable((e as Error).message);
          }
        },
      },
    ]),
  );
}
