// Server side of proto/faros/v1/peer.proto: what other instances call on
// this one, on the peer listener only (mutual TLS). Every method acts on this
// instance's own replica only. Each call: caller identity (peer-tls.ts) →
// in-flight gate → validated input (as strict as a client's) → replica.
import * as grpc from '@grpc/grpc-js';
import { FarosError, GRPC_STATUS, asFarosError } from '../errors.js';
import * as v from '../api/validate.js';
import { nearbyResponse, nearbyResult, driver as driverMsg, snappedPoint } from '../api/wire.js';
import type { InFlightGate } from '../api/context.js';
import type { Metrics } from '../metrics.js';
import type { Shard } from '../threads/shard.js';
import type { DriverUpdate, NearbyQuery, UpdateResult } from '../model/types.js';
import type { CallOptions, NearbyItem, NearbyOutcome } from '../model/types.js';

/** What the Peer service needs of the instance it runs in (ClusterHost implements it). */
export interface PeerHost {
  readonly name: string;
  /** Throws NOT_FOUND for a map the cluster does not serve. */
  checkMap(mapId: string): void;
  /** This instance's replica of a map, by what it may do now, and its state. */
  replica(mapId: string): { state: string; writable?: Shard; serving?: Shard; exportable?: Shard } | undefined;
  /** Every replica this instance holds (Status). */
  replicas(): { mapId: string; state: string; shard?: Shard }[];
  /** A live member, or a seed that answers a probe now. */
  confirmMember(address: string): Promise<boolean>;
  /** A seed, a DNS-discovered instance or a live member (no probe). */
  knowsMember(address: string): boolean;
  /** Probe a known member for another instance (Peer.ProbeVia); rejects for an address it does not know. */
  probeMember(address: string, timeoutMs: number): Promise<{ reachable: boolean; status?: StatusMsg; error?: string }>;
  /** This instance's own --probe-timeout-ms (the most a ProbeVia probe may take). */
  readonly probeTimeoutMs: number;
  /** Forward to the other replicas: queued, or (ack ALL) now, resolving once they applied it. */
  replicate(mapId: string, updates: readonly DriverUpdate[], results: readonly UpdateResult[], all?: CallOptions): Promise<void>;
  forwardRemoves(mapId: string, driverIds: string[]): void;
  localNearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome>;
  localNearbyBatch(mapId: string, qs: readonly NearbyQuery[], opts?: CallOptions): Promise<NearbyItem[]>;
  /** Forward this map's updates to `peer` for a while (it is pulling our snapshot). */
  subscribe(mapId: string, peer: string): void;
}
import { fromRecordMsg, toRecordMsg, type RecordMsg, type StatusMsg } from './peer-client.js';
import { certificateAddress, parseAddress } from './peer-tls.js';
import { quote } from '../quote.js';
import { Undecodable } from '../api/proto.js';
import { BUCKETS } from '../model/store/digest.js';
import { watchShard } from '../node/watch-shard.js';

type Cb = grpc.sendUnaryData<object>;

/** Messages of a relayed watch waiting for the relaying instance before it is ended. */
const PEER_WATCH_MAX_QUEUED = 256;
type Req = Record<string, unknown>;
type AnyCall = grpc.ServerUnaryCall<unknown, object> | grpc.ServerWritableStream<unknown, object>;

export interface PeerServiceDeps {
  host: PeerHost;
  gate: InFlightGate;
  metrics: Metrics;
  /** A snapshot pull may hold its pinned snapshot this long (--max-snapshot-pin-ms). */
  maxSnapshotPinMs: number;
  log: (msg: string) => void;
}

/** The caller's deadline, ms since the epoch (Infinity without one). */
function callDeadline(call: AnyCall): number {
  const d = call.getDeadline();
  return d instanceof Date ? d.getTime() : d;
}

function signalOf(call: AnyCall): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  const d = call.getDeadline();
  const ms = (d instanceof Date ? d.getTime() : d) - Date.now();
  const t = Number.isFinite(ms) ? setTimeout(() => ac.abort(), Math.max(0, ms)) : undefined;
  return { signal: ac.signal, dispose: () => clearTimeout(t) };
}

/**
 * Who is calling: the instance its certificate names, or undefined for a
 * shared cluster certificate. A named instance must be a live member (or a
 * seed that answers a probe now: it may have just restarted). Status, the
 * probe itself, only needs a known seed or member: confirming would probe
 * the caller, whose Status would probe us back.
 */
async function callerOf(host: PeerHost, call: AnyCall, method: string): Promise<string | undefined> {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert) throw new FarosError('UNAUTHENTICATED', 'peer calls need a client certificate from the cluster CA');
  const named = certificateAddress(cert);
  if (named !== undefined && !(method === 'Status' ? host.knowsMember(named) : await host.confirmMember(named))) {
    throw new FarosError('PERMISSION_DENIED', `the certificate names ${quote(named)}, which is not a member of this cluster`);
  }
  return named;
}

export function peerImplementation(d: PeerServiceDeps): grpc.UntypedServiceImplementation {
  const { host, gate, metrics } = d;
  const finish = (method: string, t0: bigint, e?: unknown): void => {
    const code = e === undefined ? 'OK' : (grpc.status[GRPC_STATUS[asFarosError(e).code]] ?? 'UNKNOWN');
    metrics.observeCall('peer', method, code, Number(process.hrtime.bigint() - t0) / 1e9);
  };
  /** Identity → gate → handler; answers its value or its error as a status. */
  const unary =
    (method: string, handler: (req: Req, call: grpc.ServerUnaryCall<unknown, object>, signal: AbortSignal) => Promise<object> | object) =>
    (call: grpc.ServerUnaryCall<unknown, object>, cb: Cb): void => {
      const t0 = process.hrtime.bigint();
      let entered = false;
      const sig = signalOf(call);
      const run = async (): Promise<object> => {
        await callerOf(host, call, method);
        if (call.request instanceof Undecodable) throw call.request.error(method);
        gate.enter();
        entered = true;
        return handler(call.request as Req, call, sig.signal);
      };
      run()
        .then(
          (res) => {
            finish(method, t0);
            cb(null, res);
          },
          (e: unknown) => {
            finish(method, t0, e);
            const fe = asFarosError(e);
            cb({ code: GRPC_STATUS[fe.code], details: fe.message } as grpc.ServiceError, null);
          },
        )
        .finally(() => {
          sig.dispose();
          if (entered) gate.leave();
        });
    };

  /** This instance's replica of mapId that may do `what`, or FAILED_PRECONDITION naming its state. */
  const replica = (mapId: string, what: 'writable' | 'serving' | 'exportable', refusal: string): Shard => {
    host.checkMap(mapId);
    const r = host.replica(mapId);
    const s = r?.[what];
    if (!s) throw new FarosError('FAILED_PRECONDITION', `${host.name} ${refusal} ${quote(mapId)} (state ${r?.state ?? 'none'})`);
    return s;
  };
  const writable = (mapId: string): Shard => replica(mapId, 'writable', 'holds no writable replica of');
  const serving = (mapId: string): Shard => replica(mapId, 'serving', 'does not serve now');

  return {
    applyRecords: unary('ApplyRecords', (req) => {
      const mapId = v.mapId(req.mapId);
      // Not judged by this instance's clock (validate.ts driverRecord).
      const records = v.peerList(req.records, 'records').map((r, i) => fromRecordMsg(r as RecordMsg, i));
      return { applied: writable(mapId).importRecords(records) };
    }),
    applyUpdates: unary('ApplyUpdates', async (req, _call, signal) => {
      const mapId = v.mapId(req.mapId);
      const shard = writable(mapId);
      const now = Date.now();
      const list = v.peerList(req.updates, 'updates');
      const updates = list.map((u, i) => {
        // Checked like a client's, but not against this instance's clock: the instance that took the call did that.
        const valid = v.peerUpdateRequest(u, now, `updates[${i}].`);
        if (valid.mapId !== mapId)
          throw new FarosError('INVALID_ARGUMENT', `updates[${i}].map_id ${quote(valid.mapId)} is not the request's map ${quote(mapId)}`);
        return valid.update;
      });
      const results = await shard.update(updates, signal);
      await host.replicate(mapId, updates, results, req.ackAll === true ? { signal, deadline: callDeadline(_call) } : undefined);
      return {
        outcomes: results.map((r) =>
          r.ok
            ? { code: '', stale: r.stale, snapped: snappedPoint(r.snapped), segment: r.snapped.segment, t: r.snapped.t, segIndex: r.snapped.segIndex }
            : { code: r.code, message: r.message, nearestM: r.nearestM },
        ),
      };
    }),
    removeDrivers: unary('RemoveDrivers', (req) => {
      const mapId = v.mapId(req.mapId);
      const ids = v.peerList(req.driverIds, 'driver_ids').map((id, i) => v.driverKey({ mapId, driverId: id }, `driver_ids[${i}]`).driverId);
      const shard = writable(mapId);
      let removed = 0;
      for (const id of ids) if (shard.remove(id)) removed++;
      host.forwardRemoves(mapId, ids);
      return { removed };
    }),
    getLocal: unary('GetLocal', (req) => {
      const { mapId, driverId } = v.driverKey(req);
      const found = serving(mapId).get(driverId);
      return found ? { driver: driverMsg(found) } : {};
    }),
    nearbyLocal: unary('NearbyLocal', async (req, _call, signal) => {
      const { mapId, query } = v.nearbyRequest(req);
      const a = await host.localNearby(mapId, query, { signal });
      // The wire has no field for "does not snap": its status is OUT_OF_RANGE (PeerClient turns it back).
      if (!a.ok) throw new FarosError('OUT_OF_RANGE', a.message);
      return nearbyResponse(a);
    }),
    nearbyBatchLocal: unary('NearbyBatchLocal', async (req, _call, signal) => {
      const list = v.peerList(req.queries, 'queries');
      if (list.length === 0) return { results: [] };
      const valid = list.map((q, i) => {
        try {
          return v.nearbyRequest(q);
        } catch (e) {
          throw new FarosError('INVALID_ARGUMENT', `queries[${i}]: ${asFarosError(e).message}`);
        }
      });
      const mapId = valid[0]!.mapId;
      const other = valid.findIndex((q) => q.mapId !== mapId);
      if (other >= 0)
        throw new FarosError('INVALID_ARGUMENT', `queries[${other}].map_id ${quote(valid[other]!.mapId)} is not ${quote(mapId)}; one map per call`);
      serving(mapId);
      const items = await host.localNearbyBatch(
        mapId,
        valid.map((q) => q.query),
        { signal },
      );
      // A point that does not snap keeps the replica's words; the proxy adds its own.
      return { results: items.map((it) => nearbyResult(it, (m) => m)) };
    }),
    digest: unary('Digest', async (req) => {
      const mapId = v.mapId(req.mapId);
      const nowMs = v.peerClock(req.nowMs, 'now_ms');
      const d = await serving(mapId).digest(nowMs);
      return { digests: Array.from(d.words) };
    }),
    pullBuckets: unary('PullBuckets', async (req) => {
      const mapId = v.mapId(req.mapId);
      const nowMs = v.peerClock(req.nowMs, 'now_ms');
      const buckets = v.peerList(req.buckets, 'buckets').map((b, i) => {
        if (!(typeof b === 'number' && Number.isInteger(b) && b >= 0 && b < BUCKETS))
          throw new FarosError('INVALID_ARGUMENT', `buckets[${i}] = ${quote(b)} is not a bucket in [0, ${BUCKETS})`);
        return b;
      });
      return serving(mapId).bucketVersions(buckets, nowMs, v.MAX_PEER_ITEMS);
    }),
    pullRecords: unary('PullRecords', (req) => {
      const mapId = v.mapId(req.mapId);
      const nowMs = v.peerClock(req.nowMs, 'now_ms');
      const ids = v.peerList(req.driverIds, 'driver_ids').map((id, i) => v.driverKey({ mapId, driverId: id }, `driver_ids[${i}]`).driverId);
      return { records: serving(mapId).records(ids, nowMs).map(toRecordMsg) };
    }),
    status: unary('Status', () => ({
      clockMs: Date.now(),
      instance: host.name,
      maps: host.replicas().map((r) => {
        const b = r.shard?.graph.meta.bounds;
        return {
          mapId: r.mapId,
          state: r.state,
          drivers: String(r.shard?.size ?? 0),
          bounds: b ? { min: { lat: b.minLat, lng: b.minLng }, max: { lat: b.maxLat, lng: b.maxLng } } : null,
        };
      }),
    })),
    probeVia: unary('ProbeVia', async (req, call) => {
      // WATCH OUT: the target comes from another instance; only members and
      // seeds this instance already knows are probed, never an address it names.
      const target = parseAddress(req.target);
      if (target === undefined) throw new FarosError('INVALID_ARGUMENT', `target ${quote(req.target)} is not host:port; send a member's peer address`);
      if (!host.knowsMember(target))
        throw new FarosError('FAILED_PRECONDITION', `target ${quote(target)} is not a member or seed ${host.name} knows; it probes members only`);
      const asked = typeof req.timeoutMs === 'number' && req.timeoutMs > 0 ? req.timeoutMs : host.probeTimeoutMs;
      const d = call.getDeadline();
      const left = (d instanceof Date ? d.getTime() : d) - Date.now();
      const timeoutMs = Math.max(1, Math.min(asked, host.probeTimeoutMs, Number.isFinite(left) ? left - 10 : Number.POSITIVE_INFINITY));
      const r = await host.probeMember(target, timeoutMs);
      return r.reachable ? { reachable: true, status: r.status ?? null, error: '' } : { reachable: false, status: null, error: r.error ?? 'no answer' };
    }),
    watchLocal: (call: grpc.ServerWritableStream<unknown, object>) => {
      const t0 = process.hrtime.bigint();
      let ended = false,
        handle: { close(): void } | undefined;
      const end = (e?: unknown): void => {
        if (ended) return;
        ended = true;
        handle?.close();
        finish('WatchLocal', t0, e);
        if (call.cancelled) return;
        if (e === undefined) call.end();
        else {
          const fe = asFarosError(e);
          call.emit('error', { code: GRPC_STATUS[fe.code], details: fe.message });
        }
      };
      call.on('cancelled', () => end());
      const run = async (): Promise<void> => {
        await callerOf(host, call, 'WatchLocal');
        if (call.request instanceof Undecodable) throw call.request.error('WatchLocal');
        const w = v.peerWatchRequest(call.request);
        if (ended) return;
        // Admission only: a watch lasts, and holding a slot for it would starve the other peer calls.
        gate.enter();
        gate.leave();
        handle = watchShard(serving(w.mapId), host.name, w.query, w.params, {
          answer: (o) => {
            if (ended) return;
            // The wire has no field for "does not snap": its status is OUT_OF_RANGE (PeerClient turns it back).
            if (!o.ok) return end(new FarosError('OUT_OF_RANGE', o.message));
            // The relaying instance reads as fast as it can; one that does not is cut, not buffered for.
            if (call.writableLength >= PEER_WATCH_MAX_QUEUED)
              return end(new FarosError('RESOURCE_EXHAUSTED', `the relaying instance did not read ${PEER_WATCH_MAX_QUEUED} messages of this watch`));
            call.write(nearbyResponse(o));
          },
          end: (e) => end(e),
        });
        // Headers tell the relay the watch is open here (a resumed one may send nothing for a while).
        if (!ended) call.sendMetadata(new grpc.Metadata());
      };
      run().catch((e: unknown) => end(e));
    },
    pullSnapshot: (call: grpc.ServerWritableStream<unknown, object>) => {
      const t0 = process.hrtime.bigint();
      let entered = false,
        pinned = false;
      const run = async (): Promise<void> => {
        const caller = await callerOf(host, call, 'PullSnapshot');
        if (call.request instanceof Undecodable) throw call.request.error('PullSnapshot');
        const req = call.request as Req;
        const mapId = v.mapId(req.mapId);
        const requester = parseAddress(req.requester);
        if (requester === undefined)
          throw new FarosError('INVALID_ARGUMENT', `requester ${quote(req.requester)} is not host:port; send this instance's advertised peer address`);
        if (caller !== undefined && caller !== requester)
          throw new FarosError('PERMISSION_DENIED', `requester ${quote(requester)} is not the instance the certificate names (${quote(caller)})`);
        if (!(await host.confirmMember(requester))) throw new FarosError('PERMISSION_DENIED', `requester ${quote(requester)} is not a member of this cluster`);
        gate.enter();
        entered = true;
        const shard = replica(mapId, 'exportable', 'holds no copy to export of');
        // Before the snapshot is taken, so no update falls between the two.
        host.subscribe(mapId, requester);
        // WATCH OUT: the export pins an arena snapshot until it ends; a puller
        // that stops reading must not keep it (the arena could not reclaim).
        const until = Date.now() + d.maxSnapshotPinMs;
        const overdue = (): FarosError =>
          new FarosError('DEADLINE_EXCEEDED', `snapshot of ${mapId} held longer than ${d.maxSnapshotPinMs} ms (--max-snapshot-pin-ms); pull again, faster`);
        pinned = true;
        metrics.snapshotPulls.inc();
        await shard.exportSnapshot(async (recs) => {
          if (call.cancelled) throw new FarosError('CANCELLED', 'the puller went away');
          if (Date.now() > until) throw overdue();
          if (call.write({ records: recs.map(toRecordMsg) })) return;
          let timer: NodeJS.Timeout | undefined;
          const ok = await new Promise<boolean>((res) => {
            const done = (v: boolean) => (): void => {
              clearTimeout(timer);
              call.off('drain', onDrain);
              call.off('close', onClose);
              res(v);
            };
            const onDrain = done(true),
              onClose = done(true);
            call.once('drain', onDrain);
            call.once('close', onClose);
            timer = setTimeout(done(false), Math.max(0, until - Date.now()));
          });
          if (!ok) throw overdue();
        }, 2000);
        call.end();
      };
      run()
        .then(
          () => finish('PullSnapshot', t0),
          (e: unknown) => {
            finish('PullSnapshot', t0, e);
            const fe = asFarosError(e);
            if (fe.code === 'DEADLINE_EXCEEDED') d.log(`snapshot pull ended: ${fe.message}`);
            // WATCH OUT: destroy(err) on a server stream sends no status; an 'error' event does.
            if (!call.cancelled) call.emit('error', { code: GRPC_STATUS[fe.code], details: fe.message });
          },
        )
        .finally(() => {
          if (pinned) metrics.snapshotPulls.dec();
          if (entered) gate.leave();
        });
    },
  };
}
