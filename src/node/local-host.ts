// A ShardHost that serves every configured map from this process: one
// threaded Shard per map, all sharing one worker pool.
import { quote } from '../quote.js';
import { loadMap, type Log } from '../mapbuild/build.js';
import type { MapEntry } from '../mapbuild/catalog.js';
import { Shard } from '../threads/shard.js';
import { WorkerPool } from '../threads/pool.js';
import { FarosError, failedItem } from '../errors.js';
import { watchShard } from './watch-shard.js';
import type { CallOptions, MapInfoView, NearbyOutcome, ShardHost, WatchHandle, WatchParams, WatchSink } from './host.js';
import type { DriverUpdate, DriverView, NearbyItem, NearbyQuery, UpdateResult } from '../model/types.js';

export interface LocalHostOptions {
  name: string;
  maps: MapEntry[];
  cacheDir?: string;
  log?: Log;
  /** Worker threads for snapping and searches (default: cores). */
  workers?: number;
  /** Nearby search threads; default = workers. */
  searchThreads?: number;
  /** See PoolOptions.inlineSearchMs. */
  inlineSearchMs?: number;
  /** Queued worker tasks beyond which calls get RESOURCE_EXHAUSTED. */
  maxQueue?: number;
  /** See ShardOptions.naiveWatches. */
  naiveWatches?: boolean;
  /** Bytes reserved per map for the driver trees. */
  arenaBytes?: number;
  /** A map is loaded and serves (metrics, health). */
  onMapReady?: (mapId: string, ms: number) => void;
}

export class LocalHost implements ShardHost {
  readonly name: string;
  readonly pool: WorkerPool;
  private readonly shards = new Map<string, { entry: MapEntry; shard?: Shard }>();
  private loading: Promise<void> | undefined;

  constructor(private readonly opts: LocalHostOptions) {
    this.name = opts.name;
    this.pool = new WorkerPool({
      threads: opts.workers,
      searchThreads: opts.searchThreads,
      maxQueue: opts.maxQueue,
      log: opts.log,
      inlineSearchMs: opts.inlineSearchMs,
    });
    for (const m of opts.maps) this.shards.set(m.id, { entry: m });
  }

  /** Load (or build) every map; resolves when all are ready. */
  start(): Promise<void> {
    this.loading ??= (async () => {
      for (const slot of this.shards.values()) {
        const t0 = Date.now();
        const g = await loadMap(slot.entry.file, slot.entry.profile, { cacheDir: this.opts.cacheDir, log: this.opts.log, shared: true });
        slot.shard = new Shard(slot.entry.id, g, this.pool, {
          snapRadiusM: slot.entry.snapRadiusM,
          ttlMs: slot.entry.ttlS * 1000,
          arenaBytes: this.opts.arenaBytes,
          log: this.opts.log,
          naiveWatches: this.opts.naiveWatches,
        });
        const ms = Date.now() - t0;
        this.opts.log?.(`map ${slot.entry.id} ready in ${ms} ms`);
        this.opts.onMapReady?.(slot.entry.id, ms);
      }
    })();
    return this.loading;
  }

  ready(): boolean {
    return [...this.shards.values()].every((s) => s.shard !== undefined);
  }

  checkMap(mapId: string): void {
    this.shard(mapId);
  }

  /** The shard of a map (for metrics and state transfer). */
  shard(mapId: string): Shard {
    const slot = this.shards.get(mapId);
    if (!slot) throw new FarosError('NOT_FOUND', `unknown map ${quote(mapId)}; this instance serves: ${[...this.shards.keys()].join(', ')}`);
    if (!slot.shard) throw new FarosError('UNAVAILABLE', `map "${mapId}" is still loading; retry shortly`);
    return slot.shard;
  }

  maps(): MapInfoView[] {
    return [...this.shards.values()].map(({ entry, shard }) => ({
      mapId: entry.id,
      profile: entry.profile,
      drivers: shard?.size ?? 0,
      bounds: shard?.graph.meta.bounds ?? { minLat: 0, minLng: 0, maxLat: 0, maxLng: 0 },
      replicas: [this.name],
    }));
  }

  update(mapId: string, updates: DriverUpdate[], opts?: CallOptions): Promise<UpdateResult[]> {
    return this.shard(mapId).update(updates, opts?.signal, opts?.deadline);
  }

  async remove(mapId: string, driverId: string): Promise<boolean> {
    return this.shard(mapId).remove(driverId);
  }

  async get(mapId: string, driverId: string): Promise<DriverView | undefined> {
    return this.shard(mapId).get(driverId);
  }

  async nearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome> {
    const r = await this.shard(mapId).nearby(q, opts?.signal, opts?.deadline);
    if (!r.ok) return r;
    return { ok: true, drivers: r.drivers, querySnapped: r.querySnapped, stats: { ...r.stats, servedBy: this.name } };
  }

  nearbyBatch(mapId: string, qs: readonly NearbyQuery[], opts?: CallOptions): Promise<NearbyItem[]> {
    return Promise.all(qs.map((q) => this.nearby(mapId, q, opts).catch(failedItem)));
  }

  localShard(mapId: string): Shard | undefined {
    return this.shards.get(mapId)?.shard;
  }

  watch(mapId: string, q: NearbyQuery, params: WatchParams, sink: WatchSink): WatchHandle {
    return watchShard(this.shard(mapId), this.name, q, params, sink);
  }

  /** Loaded shards (metrics). */
  shardList(): { mapId: string; shard: Shard }[] {
    return [...this.shards.values()].filter((s) => s.shard).map((s) => ({ mapId: s.entry.id, shard: s.shard! }));
  }

  async close(): Promise<void> {
    for (const s of this.shards.values()) s.shard?.close();
    await this.pool.close();
  }
}
