// The servers bind before the host exists (the instance name defaults to
// hostname:<actual gRPC port>, known only after binding). Until the host is
// attached every call is UNAVAILABLE and health says NOT_SERVING.
import { FarosError } from '../errors.js';
import type { Shard } from '../threads/shard.js';
import type { CallOptions, MapInfoView, NearbyOutcome, ShardHost, WatchHandle, WatchParams, WatchSink } from '../node/host.js';
import type { DriverUpdate, DriverView, NearbyItem, NearbyQuery, UpdateResult } from '../model/types.js';

export class HostSlot implements ShardHost {
  private target: ShardHost | undefined;
  private stopping = false;
  private wasReady = false;

  attach(host: ShardHost): void {
    this.target = host;
  }

  /** Shutting down: not ready any more (load balancers stop sending). */
  markStopping(): void {
    this.stopping = true;
  }

  private get h(): ShardHost {
    if (!this.target) throw new FarosError('UNAVAILABLE', 'the server is starting; retry shortly');
    return this.target;
  }

  get name(): string {
    return this.target?.name ?? '';
  }
  maps(): MapInfoView[] {
    return this.target?.maps() ?? [];
  }
  localShard(mapId: string): Shard | undefined {
    return this.target?.localShard?.(mapId);
  }
  checkMap(mapId: string): void {
    this.h.checkMap(mapId);
  }
  ready(): boolean {
    const r = !this.stopping && (this.target?.ready() ?? false);
    if (r) this.wasReady = true;
    return r;
  }
  /**
   * Takes client calls: it was ready once (its maps loaded at start) and is
   * not stopping. A map it gains later (membership change) loads in the
   * background while its calls are proxied to a replica that serves it.
   */
  answering(): boolean {
    return this.ready() || (!this.stopping && this.wasReady);
  }
  update(mapId: string, updates: DriverUpdate[], opts?: CallOptions): Promise<UpdateResult[]> {
    return this.h.update(mapId, updates, opts);
  }
  remove(mapId: string, driverId: string, opts?: CallOptions): Promise<boolean> {
    return this.h.remove(mapId, driverId, opts);
  }
  get(mapId: string, driverId: string, opts?: CallOptions): Promise<DriverView | undefined> {
    return this.h.get(mapId, driverId, opts);
  }
  nearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome> {
    return this.h.nearby(mapId, q, opts);
  }
  nearbyBatch(mapId: string, qs: readonly NearbyQuery[], opts?: CallOptions): Promise<NearbyItem[]> {
    return this.h.nearbyBatch(mapId, qs, opts);
  }
  watch(mapId: string, q: NearbyQuery, params: WatchParams, sink: WatchSink): WatchHandle {
    return this.h.watch(mapId, q, params, sink);
  }
  async close(): Promise<void> {
    await this.target?.close();
  }
}
