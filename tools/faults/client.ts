// A real @grpc/grpc-js client of the public Faros service and the few call
// shapes the e2e tests and the fault benchmarks share (unary call with a
// deadline, one streamed batch, a point near a road, a status name).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, FAROS_PROTO } from '../../src/api/proto.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';

type Cb = (err: grpc.ServiceError | null, res: unknown) => void;
export type FarosClient = grpc.Client &
  Record<string, (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: Cb) => grpc.ClientUnaryCall> & {
    streamDriverUpdates(opts?: grpc.CallOptions): grpc.ClientDuplexStream<unknown, unknown>;
  };

const farosPkg = grpc.loadPackageDefinition(protoLoader.loadSync(FAROS_PROTO, LOADER_OPTIONS)) as unknown as {
  faros: { v1: { Faros: new (addr: string, creds: grpc.ChannelCredentials, o: object) => FarosClient } };
};
const opts = { 'grpc.max_send_message_length': 64 * 1024 * 1024, 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
export const farosClient = (addr: string): FarosClient => new farosPkg.faros.v1.Faros(addr, grpc.credentials.createInsecure(), opts);

/** Promise of a unary call; rejects with the ServiceError. */
// biome-ignore lint/suspicious/noExplicitAny: an answer's shape is the caller's to know, as with the generic codec
export function call<T = any>(client: unknown, method: string, req: unknown, deadlineMs?: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const o: grpc.CallOptions = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    (client as FarosClient)[method]!(req, new grpc.Metadata(), o, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

/** One StreamDriverUpdates call carrying one batch within a deadline; resolves with its one answer. */
export function streamBatch(
  c: FarosClient,
  updates: unknown[],
  deadlineMs: number,
): Promise<{ accepted: number; rejected: { index: number; code: string }[] }> {
  return new Promise((resolve, reject) => {
    const s = c.streamDriverUpdates({ deadline: Date.now() + deadlineMs });
    let res: { accepted: number; rejected: { index: number; code: string }[] } | undefined;
    s.on('data', (r: typeof res) => {
      res = r;
    });
    s.on('error', reject);
    s.on('end', () => (res ? resolve(res) : reject({ code: grpc.status.INTERNAL, details: 'stream ended without an answer' })));
    s.write({ updates });
    s.end();
  });
}

/** A point a little off a random road vertex of g (at most spreadDeg/2 off on each axis), drawn from rnd. */
export function nearRoad(g: RoadGraph, rnd: () => number, spreadDeg: number): { lat: number; lng: number } {
  const v = Math.floor(rnd() * g.vertexCount);
  return { lat: g.vLat[v]! + (rnd() - 0.5) * spreadDeg, lng: g.vLng[v]! + (rnd() - 0.5) * spreadDeg };
}

/** The gRPC status name of a failed call's error (a number from grpc-js, or a name set by the caller). */
export function statusName(e: { code?: number | string }): string {
  return typeof e.code === 'number' ? (grpc.status[e.code] ?? String(e.code)) : String(e.code ?? 'UNKNOWN');
}
