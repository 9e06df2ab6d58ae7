// The RPCs, written once for both protocols. Every handler reads the same
// way: validate (args) → host call with the deadline signal (operation) →
// response message. Errors are thrown as FarosError and mapped in status.ts.
import { FarosError, failedItem } from '../errors.js';
import type { Metrics, MapMetrics } from '../metrics.js';
import type { Limits } from '../config.js';
import type { NearbyOutcome, ShardHost, WatchHandle, WatchSink } from '../node/host.js';
import type { DriverUpdate, NearbyItem, NearbyQuery, UpdateResult } from '../model/types.js';
import * as v from './validate.js';
import * as wire from './wire.js';
import type { RemoveDriverResponse__Output } from '../gen/faros/v1/RemoveDriverResponse.js';
import { untilAborted, type CallContext } from './context.js';
import type { Scope } from './tokens.js';
import { quote } from '../quote.js';

export type RpcName =
  | 'UpdateDriver'
  | 'StreamDriverUpdates'
  | 'RemoveDriver'
  | 'GetDriver'
  | 'Nearby'
  | 'NearbyBatch'
  | 'StreamNearby'
  | 'WatchNearby'
  | 'ListMaps';

/** Which RPCs write, what routes them, and the token scope each needs. */
export const RPC_TABLE: Readonly<Record<RpcName, { writes: boolean; routingKey: string; scope: Scope }>> = Object.freeze({
  UpdateDriver: { writes: true, routingKey: 'map_id', scope: 'update' },
  StreamDriverUpdates: { writes: true, routingKey: 'updates[].map_id (each item)', scope: 'update' },
  RemoveDriver: { writes: true, routingKey: 'map_id', scope: 'update' },
  GetDriver: { writes: false, routingKey: 'map_id', scope: 'query' },
  Nearby: { writes: false, routingKey: 'map_id', scope: 'query' },
  NearbyBatch: { writes: false, routingKey: 'queries[].map_id (each query)', scope: 'query' },
  StreamNearby: { writes: false, routingKey: 'query.map_id (each request)', scope: 'query' },
  WatchNearby: { writes: false, routingKey: 'query.map_id', scope: 'query' },
  ListMaps: { writes: false, routingKey: '(none: every map)', scope: 'query' },
});

const outOfRange = (message: string, mapId: string): FarosError =>
  new FarosError('OUT_OF_RANGE', `${message}; report a point on or near a road of map ${quote(mapId)}`);

export class FarosService {
  private readonly ttlOf: v.TtlOf;

  /** `ttlMs`: each served map's TTL (an update older than it is refused). */
  constructor(
    private readonly host: ShardHost,
    private readonly limits: Limits,
    private readonly metrics: Metrics,
    ttlMs: ReadonlyMap<string, number>,
    /** Writes whose request does not say: acknowledged after the first replica, or after all (cluster). */
    private readonly defaultAck: 'first' | 'all' = 'first',
  ) {
    this.ttlOf = (mapId) => ttlMs.get(mapId);
  }

  private mapMetrics(mapId: string): MapMetrics | undefined {
    return this.metrics.knownMap(mapId);
  }

  async updateDriver(req: unknown, ctx: CallContext): Promise<wire.UpdateDriverResponseMsg> {
    let valid: v.ValidUpdate;
    try {
      valid = v.updateRequest(req, Date.now(), this.ttlOf);
    } catch (e) {
      this.countInvalid(req);
      throw e;
    }
    const { mapId, update } = valid;
    const ack = v.writeAck((req as { ack?: unknown }).ack) ?? this.defaultAck;
    this.host.checkMap(mapId);
    const [r] = await untilAborted(this.host.update(mapId, [update], { signal: ctx.signal, deadline: ctx.deadlineMs, ack }), ctx.signal);
    const m = this.mapMetrics(mapId);
    if (!r) throw new FarosError('INTERNAL', 'the host returned no result for the update');
    if (!r.ok) {
      m?.updates.refused_out_of_range.inc();
      throw outOfRange(r.message, mapId);
    }
    if (m) {
      (r.stale ? m.updates.stale : m.updates.applied).inc();
      m.snapDistance.observe(r.snapped.distanceM);
    }
    return wire.updateResponse(r);
  }

  /** A batch's checks: each item's, and the batch's own (over --max-batch-size: thrown). */
  checkBatch(req: unknown): v.BatchItem[] {
    return v.batchRequest(req, Date.now(), this.limits.maxBatchSize, this.ttlOf);
  }

  /** One UpdateDriversRequest (a stream message or an HTTP batchUpdate): a bad item rejects that item only. */
  async updateDrivers(req: unknown, ctx: CallContext, items = this.checkBatch(req)): Promise<wire.UpdateDriversResponseMsg> {
    const ack = v.writeAck((req as { ack?: unknown }).ack) ?? this.defaultAck;
    const rejected: wire.UpdateErrorMsg[] = [];
    let accepted = 0;
    const groups = new Map<string, { index: number; update: DriverUpdate }[]>();
    for (const it of items) {
      if (!it.ok) {
        this.mapMetrics(it.mapId)?.updates.invalid.inc();
        rejected.push({ index: it.index, driverId: it.driverId, code: it.error.code, message: it.error.message });
        continue;
      }
      let g = groups.get(it.valid.mapId);
      if (!g) {
        g = [];
        groups.set(it.valid.mapId, g);
      }
      g.push({ index: it.index, update: it.valid.update });
    }
    for (const [mapId, group] of groups) {
      const reject = (e: FarosError): void => {
        for (const x of group) rejected.push({ index: x.index, driverId: x.update.driverId, code: e.code, message: e.message });
      };
      let results: UpdateResult[];
      try {
        this.host.checkMap(mapId);
        results = await untilAborted(
          this.host.update(
            mapId,
            group.map((x) => x.update),
            { signal: ctx.signal, deadline: ctx.deadlineMs, ack },
          ),
          ctx.signal,
        );
      } catch (e) {
        if (ctx.signal.aborted || !(e instanceof FarosError)) throw e;
        reject(e);
        continue;
      }
      const m = this.mapMetrics(mapId);
      let applied = 0,
        stale = 0,
        refused = 0;
      results.forEach((r, i) => {
        const x = group[i]!;
        if (r.ok) {
          accepted++;
          if (r.stale) stale++;
          else applied++;
          m?.snapDistance.observe(r.snapped.distanceM);
          return;
        }
        refused++;
        rejected.push({ index: x.index, driverId: x.update.driverId, code: r.code, message: outOfRange(r.message, mapId).message });
      });
      if (m) {
        m.updates.applied.inc(applied);
        m.updates.stale.inc(stale);
        m.updates.refused_out_of_range.inc(refused);
      }
    }
    rejected.sort((a, b) => a.index - b.index);
    return { accepted, rejected };
  }

  async removeDriver(req: unknown, ctx: CallContext): Promise<RemoveDriverResponse__Output> {
    const { mapId, driverId } = v.driverKey(req);
    this.host.checkMap(mapId);
    // The host removes its own copy at once, signal or not: a call whose deadline already passed must not start.
    ctx.signal.throwIfAborted();
    const removed = await untilAborted(this.host.remove(mapId, driverId, { signal: ctx.signal, deadline: ctx.deadlineMs }), ctx.signal);
    return { removed };
  }

  async getDriver(req: unknown, ctx: CallContext): Promise<{ driver: wire.DriverMsg }> {
    const { mapId, driverId } = v.driverKey(req);
    this.host.checkMap(mapId);
    const d = await untilAborted(this.host.get(mapId, driverId, { signal: ctx.signal, deadline: ctx.deadlineMs }), ctx.signal);
    if (!d)
      throw new FarosError(
        'NOT_FOUND',
        `driver ${quote(driverId)} is not on map ${quote(mapId)}: never reported, removed, or its last update is older than the map's TTL; send an update first`,
      );
    return { driver: wire.driver(d) };
  }

  async nearby(req: unknown, ctx: CallContext): Promise<wire.NearbyResponseMsg> {
    let q: ReturnType<typeof v.nearbyRequest>;
    try {
      q = v.nearbyRequest(req);
    } catch (e) {
      this.countInvalid(req, 'nearby');
      throw e;
    }
    this.host.checkMap(q.mapId);
    const m = this.mapMetrics(q.mapId);
    let a: NearbyOutcome;
    try {
      a = await untilAborted(this.host.nearby(q.mapId, q.query, { signal: ctx.signal, deadline: ctx.deadlineMs }), ctx.signal);
    } catch (e) {
      m?.nearby.error.inc();
      throw e;
    }
    if (!a.ok) {
      m?.nearby.refused_out_of_range.inc();
      throw outOfRange(a.message, q.mapId);
    }
    m?.nearby.ok.inc();
    m?.edgesExpanded.observe(a.stats.edgesExpanded);
    return wire.nearbyResponse(a);
  }

  /** NearbyBatch: every query answered as Nearby would answer it alone; one result per query, in order. */
  async nearbyBatch(req: unknown, ctx: CallContext): Promise<{ results: wire.NearbyResultMsg[] }> {
    const queries = v.nearbyBatchRequest(req, this.limits.maxNearbyBatch);
    return { results: await this.nearbyResults(queries, ctx) };
  }

  /**
   * Nearby for many queries at once: each is validated alone (its error is its
   * result), the valid ones are grouped by map and each group goes to the
   * host as one batch (searched in parallel, routed like a single query).
   */
  async nearbyResults(queries: readonly unknown[], ctx: CallContext): Promise<wire.NearbyResultMsg[]> {
    const results: wire.NearbyResultMsg[] = new Array(queries.length);
    const groups = new Map<string, { index: number; query: NearbyQuery }[]>();
    queries.forEach((raw, index) => {
      try {
        const { mapId, query } = v.nearbyRequest(raw, `queries[${index}]`);
        this.host.checkMap(mapId);
        let g = groups.get(mapId);
        if (!g) {
          g = [];
          groups.set(mapId, g);
        }
        g.push({ index, query });
      } catch (e) {
        this.countInvalid(raw, 'nearby');
        results[index] = wire.nearbyResult(failedItem(e), (m) => m);
      }
    });
    const opts = { signal: ctx.signal, deadline: ctx.deadlineMs };
    const work = [...groups].map(async ([mapId, group]) => {
      let items: NearbyItem[];
      try {
        items = await this.host.nearbyBatch(
          mapId,
          group.map((x) => x.query),
          opts,
        );
      } catch (e) {
        if (ctx.signal.aborted) throw e;
        items = group.map(() => failedItem(e));
      }
      const m = this.mapMetrics(mapId);
      items.forEach((it, j) => {
        if (m) {
          if (it.ok) {
            m.nearby.ok.inc();
            m.edgesExpanded.observe(it.stats.edgesExpanded);
          } else if (it.code === 'OUT_OF_RANGE') m.nearby.refused_out_of_range.inc();
          else m.nearby.error.inc();
        }
        results[group[j]!.index] = wire.nearbyResult(it, (msg) => outOfRange(msg, mapId).message);
      });
    });
    await untilAborted(Promise.all(work), ctx.signal);
    return results;
  }

  /** Watches open on this instance (--max-watches): how to end each. */
  private readonly watches = new Set<(e: Error) => void>();

  /** End every open watch with this error (shutdown). */
  endWatches(e: Error): void {
    for (const end of [...this.watches]) end(e);
  }

  /**
   * WatchNearby: the request checked like Nearby's (plus its interval and
   * thresholds) and counted against --max-watches; then every answer goes to
   * `out.send` until the returned close() or `out.end` (the watch ended by
   * itself: its point does not snap, or no replica can serve it). `out.end`
   * may be called before this returns.
   */
  watchNearby(req: unknown, out: { send(msg: wire.NearbyResponseMsg): void; end(err: unknown): void }): { close(): void } {
    let w: v.ValidWatch;
    try {
      w = v.watchRequest(req);
    } catch (e) {
      this.countInvalid((req as { query?: unknown } | null)?.query, 'nearby');
      throw e;
    }
    const { mapId, query, params } = w;
    this.host.checkMap(mapId);
    if (this.watches.size >= this.limits.maxWatches)
      throw new FarosError(
        'RESOURCE_EXHAUSTED',
        `${this.watches.size} watches are open on this instance, the most --max-watches allows; close one, or watch through another instance`,
      );
    let done = false;
    let handle: WatchHandle | undefined;
    const ender = (e: Error): void => {
      handle?.close();
      if (finish()) out.end(e);
    };
    this.watches.add(ender);
    this.metrics.watchesOpen.inc();
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      this.watches.delete(ender);
      this.metrics.watchesOpen.dec();
      return true;
    };
    const sink: WatchSink = {
      answer: (o) => {
        if (done) return;
        if (!o.ok) {
          this.mapMetrics(mapId)?.nearby.refused_out_of_range.inc();
          handle?.close();
          if (finish()) out.end(outOfRange(o.message, mapId));
          return;
        }
        this.metrics.watchMessages.inc();
        out.send(wire.nearbyResponse(o));
      },
      end: (e) => {
        if (finish()) out.end(e);
      },
    };
    try {
      handle = this.host.watch(mapId, query, params, sink);
    } catch (e) {
      finish();
      throw e;
    }
    if (done) handle.close();
    const h = handle;
    return {
      close: () => {
        if (finish()) h.close();
      },
    };
  }

  async listMaps(_req: unknown, _ctx: CallContext): Promise<{ maps: wire.MapInfoMsg[] }> {
    return { maps: this.host.maps().map(wire.mapInfo) };
  }

  private countInvalid(req: unknown, kind: 'update' | 'nearby' = 'update'): void {
    const mapId = typeof req === 'object' && req !== null ? (req as { mapId?: unknown }).mapId : undefined;
    const m = typeof mapId === 'string' ? this.mapMetrics(mapId) : undefined;
    if (m) (kind === 'update' ? m.updates.invalid : m.nearby.invalid).inc();
  }
}
