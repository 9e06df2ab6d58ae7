// The thread boundary: every message between a shard (main thread) and the
// piscina workers (snapping) or the search threads (nearby, answered through
// search-mailbox.ts) has a named type. Buffers are SharedArrayBuffers (no copy).
import type { StoreBuffers } from '../model/store/store.js';
import { SNAP_FIELDS } from '../model/store/records.js';

export { SNAP_FIELDS };
import type { Metric, NearbyStats, Phantom } from '../model/types.js';

/** What a worker needs to serve one map; cached per `key` in each worker. */
export interface MapHandle {
  /** Unique per loaded model (map ID + load generation). */
  key: string;
  graph: SharedArrayBuffer;
  /**
   * The map's snap grid (model/snap/snap-grid.ts), built once by the shard
   * (main thread): every snapping and searching thread views this memory.
   */
  grid: SharedArrayBuffer;
  store: StoreBuffers;
  snapRadiusM: number;
  ttlMs: number;
  /** Int32Array(1): set to 1 when the map is dropped, so workers let go of it. */
  closed: SharedArrayBuffer;
}

/**
 * Tasks name their map by key only: cloning a handle's SharedArrayBuffers
 * on every postMessage cost more than the snapping itself. A worker that
 * does not know the key answers `attach`, and the pool sends the task again
 * with the full handle (once per worker and map).
 */
export interface MapRef {
  key: string;
  attach?: MapHandle;
}

/** Snap many points: `points` holds lat, lng pairs. */
export interface SnapTask {
  kind: 'snap';
  map: MapRef;
  points: Float64Array;
  deadline: number;
}
/** Per point: segment (−1 = miss), t, distance (the nearest road's when missed). */
export interface SnapReply {
  kind: 'snap';
  out: Float64Array;
}

export interface NearbyTask {
  kind: 'nearby';
  map: MapRef;
  lat: number;
  lng: number;
  k: number;
  metric: Metric;
  limit: number;
  /** Interned filter pairs [key, value, ...]. */
  filter: Uint32Array;
  nowMs: number;
  /** ms since the epoch; a task picked up later is skipped (Infinity = none). */
  deadline: number;
}

/** A driver as read from the snapshot the search saw. */
export interface WireDriver {
  driverId: string;
  lat: number;
  lng: number;
  timestampMs: number;
  metaset: number;
  snapped: Phantom;
}

export type NearbyReply =
  | { kind: 'nearby'; ok: true; snapped: Phantom; stats: NearbyStats; hits: { driver: WireDriver; distanceM: number; etaS: number }[] }
  | { kind: 'nearby'; ok: false; nearestM: number };

/** What piscina workers run. */
export type WorkerTask = SnapTask;
/** The task's deadline had passed when a worker picked it up: nothing was done. */
export interface ExpiredReply {
  kind: 'expired';
}

/** The worker has not seen this map yet: send the task again with `map.attach`. */
export interface AttachReply {
  kind: 'attach';
}

export type WorkerReply = SnapReply | ExpiredReply | AttachReply;
