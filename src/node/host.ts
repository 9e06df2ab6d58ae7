// What the API layer calls: the maps this process serves (LocalHost) or
// routes to their replicas (ClusterHost). Inputs arrive validated; failures
// are FarosError with a code the API maps to a status.
import type { DriverUpdate, DriverView, NearbyQuery, Phantom, NearbyDriver, NearbyStats, UpdateResult } from '../model/types.js';

export interface MapInfoView {
  mapId: string;
  profile: string;
  drivers: number;
  bounds: { minLat: number; minLng: number; maxLat: number; maxLng: number };
  replicas: string[];
}

export interface NearbyAnswer {
  drivers: NearbyDriver[];
  querySnapped: Phantom;
  stats: NearbyStats & { servedBy: string };
}

/**
 * A nearby answer, or: the query point does not snap. Like an update's
 * refused point, that is a result (with the distance to the nearest road)
 * from the model up to the API, which alone turns it into OUT_OF_RANGE.
 */
export type NearbyOutcome = ({ ok: true } & NearbyAnswer) | { ok: false; code: 'OUT_OF_RANGE'; nearestM: number; message: string };

export interface CallOptions {
  /** Aborted when the caller's deadline passes or it cancels. */
  signal?: AbortSignal;
  /** The caller's deadline, ms since the epoch (work picked up later is skipped). */
  deadline?: number;
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
  close(): Promise<void>;
}

export type { DriverUpdate, DriverView, NearbyQuery, UpdateResult };
