// Server side of proto/faros/v1/peer.proto: what other instances call on
// this one. Every method acts on this instance's own replica only.
import * as grpc from '@grpc/grpc-js';
import { FarosError, GRPC_STATUS, asFarosError } from '../errors.js';
import * as v from '../api/validate.js';
import { nearbyResponse, driver as driverMsg, snappedPoint } from '../api/wire.js';
import type { ClusterHost } from '../node/cluster-host.js';
import { fromRecordMsg, toRecordMsg, type RecordMsg } from './peer-client.js';

type Cb = grpc.sendUnaryData<object>;

function fail(cb: Cb, e: unknown): void {
  const fe = asFarosError(e);
  cb({ code: GRPC_STATUS[fe.code], details: fe.message } as grpc.ServiceError, null);
}

/** Runs handler, answers its value or its error as a status. */
function unary(handler: (req: Record<string, unknown>, call: grpc.ServerUnaryCall<unknown, object>) => Promise<object> | object) {
  return (call: grpc.ServerUnaryCall<unknown, object>, cb: Cb): void => {
    Promise.resolve().then(() => handler(call.request as Record<string, unknown>, call)).then((res) => cb(null, res), (e) => fail(cb, e));
  };
}

function signalOf(call: grpc.ServerUnaryCall<unknown, object>): AbortSignal {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  const d = call.getDeadline();
  const ms = (d instanceof Date ? d.getTime() : d) - Date.now();
  if (Number.isFinite(ms)) setTimeout(() => ac.abort(), Math.max(0, ms)).unref();
  return ac.signal;
}

export function peerImplementation(host: ClusterHost): grpc.UntypedServiceImplementation {
  const writable = (mapId: string) => {
    host.checkMap(mapId);
    const s = host.shards.writable(mapId);
    if (!s) throw new FarosError('FAILED_PRECONDITION', `${host.name} holds no writable replica of "${mapId}" (state ${host.shards.get(mapId)?.state ?? 'none'})`);
    return s;
  };
  const serving = (mapId: string) => {
    host.checkMap(mapId);
    const s = host.shards.serving(mapId);
    if (!s) throw new FarosError('FAILED_PRECONDITION', `${host.name} does not serve "${mapId}" now (state ${host.shards.get(mapId)?.state ?? 'none'})`);
    return s;
  };
  return {
    applyRecords: unary((req) => {
      const shard = writable(String(req.mapId));
      return { applied: shard.importRecords((req.records as RecordMsg[]).map(fromRecordMsg)) };
    }),
    applyUpdates: unary(async (req, call) => {
      const mapId = String(req.mapId);
      const shard = writable(mapId);
      const now = Date.now();
      const updates = (req.updates as unknown[]).map((u) => v.updateRequest(u, now).update);
      const results = await shard.update(updates, signalOf(call));
      host.replicate(mapId, updates, results);
      return {
        outcomes: results.map((r) => r.ok
          ? { code: '', stale: r.stale, snapped: snappedPoint(r.snapped), segment: r.snapped.segment, t: r.snapped.t, segIndex: r.snapped.segIndex }
          : { code: r.code, message: r.message, nearestM: r.nearestM }),
      };
    }),
    removeDrivers: unary((req) => {
      const mapId = String(req.mapId);
      const shard = writable(mapId);
      const ids = req.driverIds as string[];
      let removed = 0;
      for (const id of ids) if (shard.remove(id)) removed++;
      host.forwardRemoves(mapId, ids);
      return { removed };
    }),
    getLocal: unary((req) => {
      const { mapId, driverId } = v.driverKey(req);
      const d = serving(mapId).get(driverId);
      return d ? { driver: driverMsg(d) } : {};
    }),
    nearbyLocal: unary(async (req, call) => {
      const { mapId, query } = v.nearbyRequest(req);
      return nearbyResponse(await host.localNearby(mapId, query, { signal: signalOf(call) }));
    }),
    status: unary(() => ({
      instance: host.name,
      maps: host.shards.all().map((r) => {
        const b = r.shard?.graph.meta.bounds;
        return { mapId: r.entry.id, state: r.state, drivers: String(r.shard?.size ?? 0), bounds: b ? { min: { lat: b.minLat, lng: b.minLng }, max: { lat: b.maxLat, lng: b.maxLng } } : null };
      }),
    })),
    pullSnapshot: (call: grpc.ServerWritableStream<{ mapId: string; requester: string }, object>) => {
      void (async () => {
        try {
          host.checkMap(call.request.mapId);
          const shard = host.shards.exportable(call.request.mapId);
          if (!shard) throw new FarosError('FAILED_PRECONDITION', `${host.name} holds no copy of "${call.request.mapId}" to export`);
          // Before the snapshot is taken, so no update falls between the two.
          host.subscribe(call.request.mapId, call.request.requester);
          await shard.exportSnapshot(async (recs) => {
            if (call.cancelled) throw new FarosError('CANCELLED', 'the puller went away');
            if (!call.write({ records: recs.map(toRecordMsg) })) await new Promise<void>((res) => { call.once('drain', res); call.once('close', res); });
          }, 2000);
          call.end();
        } catch (e) {
          const fe = asFarosError(e);
          call.destroy(Object.assign(new Error(fe.message), { code: GRPC_STATUS[fe.code], details: fe.message }));
        }
      })();
    },
  };
}
