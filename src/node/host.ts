// What the API layer calls: the maps this process serves (LocalHost) or
// routes to their replicas (ClusterHost). Inputs arrive validated; failures
// are FarosError with a code the API maps to a status.
import type { Shard } from '../threads/shard.js';
import type {
  CallOptions,
  DriverUpdate,
  DriverView,
  NearbyItem,
  NearbyOutcome,
  NearbyQuery,
  UpdateResult,
  WatchHandle,
  WatchParams,
  WatchSink,
} from '../model/types.js';

export interface MapInfoView {
  mapId: string;
  profile: string;
  drivers: number;
  bounds: { minLat: number; minLng: number; maxLat: number; maxLng: number };
  replicas: string[];
}

export interface ShardHost {
  /** Instance name used in stats.served_by and replicas. */
  readonly name: string;
  maps(): MapInfoView[];
  /** Throws NOT_FOUND for an unknown map. */
  checkMap(mapId: string): void;
  /** True when every configured map is loaded. */
  ready(): boolean;
  /** One result per update, in order; a refused point is an OUT_OF_RANGE result, not a throw. */
  update(mapId: string, updates: DriverUpdate[], opts?: CallOptions): Promise<UpdateResult[]>;
  remove(mapId: string, driverId: string, opts?: CallOptions): Promise<boolean>;
  get(mapId: string, driverId: string, opts?: CallOptions): Promise<DriverView | undefined>;
  /** A query point that does not snap is an `ok: false` outcome, not a throw. */
  nearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome>;
  /** Queries of one map, searched in parallel: one item per query, in order; a query's failure is its item. */
  nearbyBatch(mapId: string, qs: readonly NearbyQuery[], opts?: CallOptions): Promise<NearbyItem[]>;
  /**
   * Watch a query (WatchNearby): answers go to the sink (the first one may
   * come before this returns) until the handle is closed or the sink is
   * ended. Throws NOT_FOUND / UNAVAILABLE like nearby.
   */
  watch(mapId: string, q: NearbyQuery, params: WatchParams, sink: WatchSink): WatchHandle;
  close(): Promise<void>;
  /** This instance's own serving copy of a map, if any (the map page reads its graph and drivers). */
  localShard?(mapId: string): Shard | undefined;
}

export type {
  CallOptions,
  DriverUpdate,
  DriverView,
  NearbyAnswer,
  NearbyItem,
  NearbyOutcome,
  NearbyQuery,
  UpdateResult,
  WatchHandle,
  WatchParams,
  WatchSink,
} from '../model/types.js';
