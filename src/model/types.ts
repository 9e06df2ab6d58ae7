// Types shared by the map loader, the snapper, the driver store and the KNN
// search. The Model (src/model/model.ts) is the one entry point above them.
import type { ErrorCode } from '../errors.js';

export type Metric = 'distance' | 'eta';

/** A GPS point snapped onto a road segment (SEMANTICS.md "Snapping"). */
export interface Phantom {
  /** Segment number in the compiled graph. */
  segment: number;
  /** OSM way ID of the segment (decimal string, as in the OSM file). */
  wayId: string;
  /** Index of the segment along its way's node list, from 0. */
  segIndex: number;
  /** Fraction along the segment from its first node, in [0, 1]. */
  t: number;
  /** The projected point. */
  lat: number;
  lng: number;
  /** Snap distance in metres (local equirectangular plane). */
  distanceM: number;
}

/** Why a point did not snap: the nearest road is farther than the radius. */
export interface SnapMiss {
  nearestM: number;
}

export interface DriverUpdate {
  driverId: string;
  lat: number;
  lng: number;
  /** Client timestamp in ms since the epoch; newest wins. */
  timestampMs: number;
  metadata: Record<string, string>;
}

export type UpdateResult = { ok: true; snapped: Phantom; stale: boolean } | { ok: false; code: 'OUT_OF_RANGE'; message: string; nearestM: number };

export interface DriverView {
  driverId: string;
  lat: number;
  lng: number;
  timestampMs: number;
  metadata: Record<string, string>;
  snapped: Phantom;
}

export interface NearbyQuery {
  lat: number;
  lng: number;
  k: number;
  metric: Metric;
  /** Limit for metric distance (m). */
  maxDistanceM: number;
  /** Limit for metric eta (s). */
  maxEtaS: number;
  /** Every pair must equal the driver's metadata. */
  filter?: Record<string, string>;
  /** Clock for TTL checks; defaults to Date.now(). */
  nowMs?: number;
}

export interface NearbyDriver {
  driver: DriverView;
  distanceM: number;
  etaS: number;
}

export interface NearbyStats {
  edgesExpanded: number;
  candidatesSeen: number;
  /** Where a threaded search's time went. */
  phases?: SearchPhases;
}

/** µs spent waiting for a search thread, searching, and with the answer waiting for the event loop. */
export interface SearchPhases {
  queuedUs: number;
  searchUs: number;
  replyUs: number;
}

export type NearbyResult =
  | { ok: true; drivers: NearbyDriver[]; querySnapped: Phantom; stats: NearbyStats }
  | { ok: false; code: 'OUT_OF_RANGE'; message: string; nearestM: number };

export interface ModelOptions {
  /** Snap radius in metres; a point exactly this far still snaps. Default 200. */
  snapRadiusM: number;
  /** Drivers older than this are never returned and are swept. */
  ttlMs: number;
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
  /** Writes: answer after the first replica applied them (default) or after every live replica did. */
  ack?: 'first' | 'all';
  /** The caller's deadline, ms since the epoch (work picked up later is skipped). */
  deadline?: number;
}

/**
 * One query of a batch: its outcome, or the error that query alone met
 * (a batch's other queries go on).
 */
export type NearbyItem = NearbyOutcome | { ok: false; code: Exclude<ErrorCode, 'OUT_OF_RANGE'>; message: string };

/** How a watch (WatchNearby) reports: at most one message per interval, and only changes beyond a threshold. */
export interface WatchParams {
  /** Never two messages closer than this (ms). */
  minIntervalMs: number;
  /** A listed driver's ranked cost (metres or seconds, by the metric) must move by more than this to be sent again. */
  minChange: number;
  /**
   * A watch moved from another replica: what the client last got (IDs and
   * ranked costs) and how long until it may get the next, so the move
   * repeats nothing and keeps the interval.
   */
  resume?: { ids: string[]; costs: number[]; waitMs: number };
}

/**
 * Where a watch's answers go. `answer` gets the first answer (an outcome:
 * the point may not snap) and every later one; `end` is called at most once,
 * when the watch ends by itself (its map left this instance), never after
 * the owner closed it.
 */
export interface WatchSink {
  answer(r: NearbyOutcome): void;
  end(err: Error): void;
}

export interface WatchHandle {
  close(): void;
}
