// The nearby answers' direct protobuf encoder (src/api/encode.ts) against the
// generic one: what it writes decodes, with the generic decoder, to exactly
// what the generic encoder's bytes decode to — seeded random answers with
// metadata, Unicode, large way IDs, zeros, negative zero, empty lists and
// per-query errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadFarosDefinition } from '../src/api/proto.js';
import { encodeNearbyBatchResponse, encodeNearbyResponse, encodeStreamNearbyResponse } from '../src/api/encode.js';
import type { NearbyResponseMsg, NearbyResultMsg } from '../src/api/wire.js';
import { mulberry32 } from '../src/rng.js';

const svc = (grpc.loadPackageDefinition(loadFarosDefinition()) as any).faros.v1.Faros.service as grpc.ServiceDefinition;
const rand = mulberry32(99);
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
const num = (): number => pick([0, -0, 1, 0.5, 1e-9, 123.456, 43.7384, -122.4, 1e300, rand() * 1000]);
const str = (): string => pick(['', 'a', 'driver-42', 'ünïcödé 🚕', 'x'.repeat(300), String(Math.floor(rand() * 1e9))]);
const point = () => ({ location: { lat: num(), lng: num() }, snapDistanceM: num(), wayId: pick(['0', '1', '4229537', String(2 ** 53 - 1)]) });

function answer(): NearbyResponseMsg {
  const n = Math.floor(rand() * 12);
  return {
    drivers: Array.from({ length: n }, () => ({
      driver: {
        driverId: str() || 'd',
        location: { lat: num(), lng: num() },
        snapped: point(),
        timestampMs: pick(['0', '1', '1764633600000', String(2 ** 53 - 1)]),
        metadata: Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [str() || 'k', str()])),
      },
      distanceM: num(),
      etaS: num(),
    })),
    querySnapped: point(),
    stats: { edgesExpanded: pick([0, 1, 127, 128, 300_000]), candidatesSeen: pick([0, 5, 2 ** 31]), servedBy: str() },
  };
}
const result = (): NearbyResultMsg =>
  rand() < 0.7 ? { response: answer(), code: '', message: '' } : { code: pick(['INVALID_ARGUMENT', 'OUT_OF_RANGE', 'NOT_FOUND']), message: str() };

/** Both encoders' bytes, decoded by the generic decoder. */
function both(method: string, encode: (m: never) => Buffer, msg: object): [unknown, unknown] {
  const m = svc[method]!;
  return [m.responseDeserialize(encode(msg as never)), m.responseDeserialize(m.responseSerialize(msg))];
}

test('NearbyResponse: direct encoding decodes like the generic one', () => {
  for (let i = 0; i < 300; i++) {
    const [fast, generic] = both('Nearby', encodeNearbyResponse, answer());
    assert.deepEqual(fast, generic, `case ${i}`);
  }
});

test('NearbyBatchResponse and StreamNearbyResponse: direct encoding decodes like the generic one', () => {
  for (let i = 0; i < 100; i++) {
    const batch = { results: Array.from({ length: Math.floor(rand() * 6) }, result) };
    assert.deepEqual(...both('NearbyBatch', encodeNearbyBatchResponse, batch), `batch ${i}`);
    assert.deepEqual(...both('StreamNearby', encodeStreamNearbyResponse, { tag: str(), result: result() }), `stream ${i}`);
  }
});
