// Client of another instance's Peer service (proto/faros/v1/peer.proto):
// promise-returning calls with deadlines, and the conversions between the
// wire messages and the model's types.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS } from '../api/proto.js';
import { FarosError, type ErrorCode } from '../errors.js';
import type { DriverRecord } from '../model/store/store.js';
import type { DriverUpdate, DriverView, NearbyQuery, Phantom, UpdateResult, WatchHandle, WatchParams, WatchSink } from '../model/types.js';
import type { NearbyItem, NearbyOutcome } from '../model/types.js';
import { parseAddress, type PeerCredentials } from './peer-tls.js';
import { quote } from '../quote.js';
import { driverKey, driverRecord, peerClock, peerList } from '../api/validate.js';
import { BUCKETS, type DriverVersion, type Tombstone } from '../model/store/digest.js';
import type { Driver__Output } from '../gen/faros/v1/Driver.js';
import type { DriverRecord__Output } from '../gen/faros/v1/DriverRecord.js';
import type { MapStatus__Output } from '../gen/faros/v1/MapStatus.js';
import type { NearbyResponse__Output } from '../gen/faros/v1/NearbyResponse.js';
import type { SnappedPoint__Output } from '../gen/faros/v1/SnappedPoint.js';
import type { StatusResponse__Output } from '../gen/faros/v1/StatusResponse.js';

/**
 * Largest message sent to and accepted from a peer. Forwarded batches are cut
 * to fit well under it (forward.ts), so nothing acknowledged is refused for size.
 */
export const PEER_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export type RecordMsg = DriverRecord__Output;
export type MapStatusMsg = MapStatus__Output;
export type StatusMsg = StatusResponse__Output;

let definition: grpc.GrpcObject | undefined;
/** The loaded faros.v1 package including Peer (shared by client and server). */
export function peerPackage(): grpc.GrpcObject {
  definition ??= grpc.loadPackageDefinition(protoLoader.loadSync('faros/v1/peer.proto', LOADER_OPTIONS));
  return (definition.faros as grpc.GrpcObject).v1 as grpc.GrpcObject;
}
export function peerServiceDefinition(): grpc.ServiceDefinition {
  return (peerPackage().Peer as grpc.ServiceClientConstructor).service;
}

export function toRecordMsg(r: DriverRecord): RecordMsg {
  return { driverId: r.driverId, lat: r.lat, lng: r.lng, timestampMs: r.timestampMs, metadata: r.metadata, segment: r.segment, t: r.t, snapM: r.snapM };
}
/** A record from another instance, validated (INVALID_ARGUMENT naming the field otherwise). */
export function fromRecordMsg(m: RecordMsg, index: number, field = 'records'): DriverRecord {
  return driverRecord(m, `${field}[${index}].`);
}

type SnappedMsg = SnappedPoint__Output;
function phantomFrom(s: SnappedMsg | null, extra: { segment?: number; t?: number; segIndex?: number } = {}): Phantom {
  return {
    segment: extra.segment ?? -1,
    t: extra.t ?? 0,
    segIndex: extra.segIndex ?? 0,
    wayId: s?.wayId ?? '0',
    lat: s?.location?.lat ?? 0,
    lng: s?.location?.lng ?? 0,
    distanceM: s?.snapDistanceM ?? 0,
  };
}
type DriverMsg = Driver__Output;
function driverFrom(d: DriverMsg): DriverView {
  return {
    driverId: d.driverId,
    lat: d.location?.lat ?? 0,
    lng: d.location?.lng ?? 0,
    timestampMs: Number(d.timestampMs),
    metadata: d.metadata ?? {},
    snapped: phantomFrom(d.snapped),
  };
}

type NearbyResponseMsg = NearbyResponse__Output;
function nearbyRequestMsg(mapId: string, q: NearbyQuery): object {
  return {
    mapId,
    location: { lat: q.lat, lng: q.lng },
    k: q.k,
    metric: q.metric === 'eta' ? 'METRIC_ETA' : 'METRIC_DISTANCE',
    maxDistanceM: q.maxDistanceM,
    maxEtaS: q.maxEtaS,
    filter: q.filter ?? {},
  };
}

/** A gRPC error from a peer as a FarosError (UNAVAILABLE when it is down). */
export function peerError(e: unknown, peer: string): FarosError {
  if (e instanceof FarosError) return e;
  const err = e as grpc.ServiceError;
  const name = (grpc.status[err.code] ?? 'UNAVAILABLE') as string;
  const known: ErrorCode[] = [
    'INVALID_ARGUMENT',
    'NOT_FOUND',
    'OUT_OF_RANGE',
    'RESOURCE_EXHAUSTED',
    'DEADLINE_EXCEEDED',
    'UNAVAILABLE',
    'FAILED_PRECONDITION',
    'CANCELLED',
  ];
  const code: ErrorCode = known.includes(name as ErrorCode) ? (name as ErrorCode) : 'UNAVAILABLE';
  return new PeerCallError(code, peer, err.details || err.message);
}

/** A peer's status, with the peer's own message kept apart from the address it is prefixed with. */
export class PeerCallError extends FarosError {
  constructor(
    code: ErrorCode,
    readonly peer: string,
    readonly details: string,
  ) {
    super(code, `${peer}: ${details}`);
  }
}

type Unary = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, res: unknown) => void) => grpc.ClientUnaryCall;

export class PeerClient {
  private readonly client: grpc.Client & Record<string, unknown>;

  /** `tls`: peerChannelCredentials (mutual TLS); throws on an address that is not host:port. */
  constructor(
    readonly address: string,
    tls: PeerCredentials,
  ) {
    if (parseAddress(address) === undefined) throw new FarosError('INVALID_ARGUMENT', `peer address ${quote(address)} is not host:port`);
    const Ctor = peerPackage().Peer as grpc.ServiceClientConstructor;
    const { creds, options } = tls(address);
    this.client = new Ctor(address, creds, {
      ...options,
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
      'grpc.max_send_message_length': PEER_MAX_MESSAGE_BYTES,
      // Fail fast on a dead peer instead of waiting for reconnect back-off.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
      // A member named by DNS (a StatefulSet pod) comes back under a new IP: look it up again within a second, not grpc-js's 30 s.
      'grpc.dns_min_time_between_resolutions_ms': 1000,
    }) as grpc.Client & Record<string, unknown>;
  }

  private call<T>(method: string, req: unknown, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fn = this.client[method] as Unary;
      const call = fn.call(this.client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (e) reject(peerError(e, this.address));
        else resolve(res as T);
      });
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  status(timeoutMs: number): Promise<StatusMsg> {
    return this.call('Status', {}, timeoutMs);
  }

  /**
   * Ask this peer to probe `target` (a member) for us: it probes with
   * `probeTimeoutMs`, and the whole call is bounded by `timeoutMs`.
   */
  async probeVia(target: string, probeTimeoutMs: number, timeoutMs: number): Promise<{ reachable: boolean; status?: StatusMsg; error?: string }> {
    const r = await this.call<{ reachable: boolean; status: StatusMsg | null; error: string }>('ProbeVia', { target, timeoutMs: probeTimeoutMs }, timeoutMs);
    return { reachable: r.reachable === true, status: r.reachable && r.status ? r.status : undefined, error: r.error || undefined };
  }

  async applyRecords(mapId: string, records: DriverRecord[], timeoutMs: number): Promise<number> {
    const r = await this.call<{ applied: number }>('ApplyRecords', { mapId, records: records.map(toRecordMsg) }, timeoutMs);
    return r.applied;
  }

  async applyUpdates(mapId: string, updates: readonly DriverUpdate[], timeoutMs: number, signal?: AbortSignal, ackAll = false): Promise<UpdateResult[]> {
    const req = {
      mapId,
      ackAll,
      updates: updates.map((u) => ({
        mapId,
        driverId: u.driverId,
        location: { lat: u.lat, lng: u.lng },
        timestampMs: String(u.timestampMs),
        metadata: u.metadata,
      })),
    };
    const r = await this.call<{
      outcomes: { code: string; message: string; stale: boolean; snapped: SnappedMsg | null; segment: number; t: number; segIndex: number; nearestM: number }[];
    }>('ApplyUpdates', req, timeoutMs, signal);
    return r.outcomes.map((o) =>
      o.code === ''
        ? { ok: true as const, stale: o.stale, snapped: phantomFrom(o.snapped, o) }
        : { ok: false as const, code: 'OUT_OF_RANGE' as const, message: o.message, nearestM: o.nearestM },
    );
  }

  async remove(mapId: string, driverIds: string[], timeoutMs: number): Promise<number> {
    return (await this.call<{ removed: number }>('RemoveDrivers', { mapId, driverIds }, timeoutMs)).removed;
  }

  async getLocal(mapId: string, driverId: string, timeoutMs: number, signal?: AbortSignal): Promise<DriverView | undefined> {
    // The peer answers an empty response (not NOT_FOUND) for an absent driver.
    const r = await this.call<{ driver: DriverMsg | null }>('GetLocal', { mapId, driverId }, timeoutMs, signal);
    return r.driver ? driverFrom(r.driver) : undefined;
  }

  /** A query point that does not snap comes back as the OUT_OF_RANGE status; it is turned back into an outcome. */
  async nearbyLocal(mapId: string, q: NearbyQuery, timeoutMs: number, signal?: AbortSignal): Promise<NearbyOutcome> {
    let r: NearbyResponseMsg;
    try {
      r = await this.call('NearbyLocal', nearbyRequestMsg(mapId, q), timeoutMs, signal);
    } catch (e) {
      if (e instanceof PeerCallError && e.code === 'OUT_OF_RANGE') return { ok: false, code: 'OUT_OF_RANGE', nearestM: Number.NaN, message: e.details };
      throw e;
    }
    return this.outcomeFrom(r);
  }

  /** Queries of one map on this peer's replica: one item per query, in order. */
  async nearbyBatchLocal(mapId: string, qs: readonly NearbyQuery[], timeoutMs: number, signal?: AbortSignal): Promise<NearbyItem[]> {
    const r: { results: { response: NearbyResponseMsg | null; code: string; message: string }[] } = await this.call(
      'NearbyBatchLocal',
      { queries: qs.map((q) => nearbyRequestMsg(mapId, q)) },
      timeoutMs,
      signal,
    );
    if (r.results.length !== qs.length) throw new PeerCallError('UNAVAILABLE', this.address, `answered ${r.results.length} results for ${qs.length} queries`);
    return r.results.map((x): NearbyItem => {
      if (x.code === '') return this.outcomeFrom(x.response ?? { drivers: [], querySnapped: null, stats: null });
      if (x.code === 'OUT_OF_RANGE') return { ok: false, code: 'OUT_OF_RANGE', nearestM: Number.NaN, message: x.message };
      const code = peerError({ code: grpc.status[x.code as keyof typeof grpc.status] ?? grpc.status.UNAVAILABLE, details: x.message }, this.address).code;
      return { ok: false, code: code === 'OUT_OF_RANGE' ? 'UNAVAILABLE' : code, message: x.message };
    });
  }

  private outcomeFrom(r: NearbyResponseMsg): NearbyOutcome {
    return {
      ok: true,
      drivers: r.drivers.map((d) => {
        if (!d.driver) throw new PeerCallError('UNAVAILABLE', this.address, 'answered a nearby driver without its driver message');
        return { driver: driverFrom(d.driver), distanceM: d.distanceM, etaS: d.etaS };
      }),
      querySnapped: phantomFrom(r.querySnapped),
      stats: { edgesExpanded: r.stats?.edgesExpanded ?? 0, candidatesSeen: r.stats?.candidatesSeen ?? 0, servedBy: r.stats?.servedBy || this.address },
    };
  }

  /**
   * A watch served by this peer's replica (Peer.WatchLocal): answers go to
   * the sink; `opened` once the peer holds it; the sink's `end` gets why the
   * stream ended (UNAVAILABLE when it ended without a status).
   */
  watchLocal(mapId: string, q: NearbyQuery, params: WatchParams, sink: WatchSink, opened: () => void): WatchHandle {
    const r = params.resume;
    const req = {
      watch: { query: nearbyRequestMsg(mapId, q), minIntervalMs: params.minIntervalMs, minChangeM: params.minChange, minChangeS: params.minChange },
      resume: r !== undefined,
      lastIds: r?.ids ?? [],
      lastCosts: r?.costs ?? [],
      waitMs: Math.round(r?.waitMs ?? 0),
    };
    const fn = this.client.WatchLocal as (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<NearbyResponseMsg>;
    const stream = fn.call(this.client, req, new grpc.Metadata(), {});
    let done = false;
    const end = (e: FarosError): void => {
      if (done) return;
      done = true;
      sink.end(e);
    };
    stream.on('metadata', () => opened());
    stream.on('data', (m: NearbyResponseMsg) => {
      if (!done) sink.answer(this.outcomeFrom(m));
    });
    stream.on('error', (e) => {
      const fe = peerError(e, this.address);
      if (fe.code === 'OUT_OF_RANGE' && !done) {
        done = true;
        sink.answer({ ok: false, code: 'OUT_OF_RANGE', nearestM: Number.NaN, message: (e as grpc.ServiceError).details });
        return;
      }
      end(fe);
    });
    stream.on('end', () => end(new FarosError('UNAVAILABLE', `${this.address} ended the watch`)));
    return {
      close: () => {
        done = true;
        stream.cancel();
      },
    };
  }

  /** Stream every record of one snapshot of mapId from this peer. */
  pullSnapshot(mapId: string, requester: string, onChunk: (records: DriverRecord[]) => void, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let n = 0;
      const fn = this.client.PullSnapshot as (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<{ records: RecordMsg[] }>;
      const stream = fn.call(this.client, { mapId, requester }, new grpc.Metadata(), { deadline: Date.now() + timeoutMs });
      stream.on('data', (chunk: { records: RecordMsg[] }) => {
        try {
          const recs = peerList(chunk.records, 'records').map((r, i) => fromRecordMsg(r as RecordMsg, i));
          n += recs.length;
          onChunk(recs);
        } catch (e) {
          stream.cancel();
          reject(e);
        }
      });
      stream.on('error', (e) => reject(peerError(e, this.address)));
      stream.on('end', () => resolve(n));
    });
  }

  /** This peer's anti-entropy digest of mapId at `nowMs` (2 words per bucket). */
  async digest(mapId: string, nowMs: number, timeoutMs: number): Promise<Uint32Array> {
    const r = await this.call<{ digests: number[] }>('Digest', { mapId, nowMs }, timeoutMs);
    if (r.digests.length !== 2 * BUCKETS)
      throw new PeerCallError('UNAVAILABLE', this.address, `answered a digest of ${r.digests.length} words, not ${2 * BUCKETS}`);
    return Uint32Array.from(r.digests);
  }

  /** This peer's driver versions (ID, timestamp) and removes of some buckets of mapId, validated. */
  async pullBuckets(
    mapId: string,
    buckets: readonly number[],
    nowMs: number,
    timeoutMs: number,
  ): Promise<{ versions: DriverVersion[]; tombstones: Tombstone[]; complete: number[] }> {
    const r = await this.call<{ versions: unknown[]; tombstones: unknown[]; complete: number[] }>('PullBuckets', { mapId, buckets, nowMs }, timeoutMs);
    const versions = peerList(r.versions, 'versions').map((x, i) => {
      const o = x as { driverId?: unknown; timestampMs?: unknown };
      const { driverId } = driverKey({ mapId, driverId: o?.driverId }, `versions[${i}].driver_id`);
      return { driverId, timestampMs: peerClock(o.timestampMs, `versions[${i}].timestamp_ms`) };
    });
    const tombstones = peerList(r.tombstones, 'tombstones').map((x, i) => {
      const o = x as { driverId?: unknown; removedAtMs?: unknown };
      const { driverId } = driverKey({ mapId, driverId: o?.driverId }, `tombstones[${i}].driver_id`);
      return { driverId, removedAtMs: peerClock(o.removedAtMs, `tombstones[${i}].removed_at_ms`) };
    });
    return { versions, tombstones, complete: r.complete.filter((b) => buckets.includes(b)) };
  }

  /** This peer's records of these drivers of mapId (validated like ApplyRecords). */
  async pullRecords(mapId: string, driverIds: readonly string[], nowMs: number, timeoutMs: number): Promise<DriverRecord[]> {
    const r = await this.call<{ records: RecordMsg[] }>('PullRecords', { mapId, driverIds, nowMs }, timeoutMs);
    return peerList(r.records, 'records').map((x, i) => fromRecordMsg(x as RecordMsg, i));
  }

  close(): void {
    this.client.close();
  }
}
