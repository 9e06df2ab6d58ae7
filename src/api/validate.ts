// Every check of a request, shared by gRPC and the HTTP gateway. Input is the
// proto-loader shape (lowerCamel names, int64 as string, enums as names,
// defaults filled); the gateway's JSON is normalised to it first (json.ts).
// Each message names the field, what was wrong and how to fix it.
import { FarosError } from '../errors.js';
import { LIMITS } from '../model/limits.js';
import type { DriverUpdate, Metric, NearbyQuery, WatchParams } from '../model/types.js';
import type { DriverRecord } from '../model/store/store.js';
import { quote } from '../quote.js';

export const MAX_ID_BYTES = 128;
export const MAX_METADATA_PAIRS = 32;
export const MAX_METADATA_BYTES = 1024;
export const MAX_FUTURE_MS = 5 * 60_000;

type Obj = Record<string, unknown>;

/** Set by json.ts on a batch item that was not even well-formed JSON for its message. */
export const ITEM_ERROR: unique symbol = Symbol('faros.itemError');

const invalid = (msg: string): FarosError => new FarosError('INVALID_ARGUMENT', msg);

function asObj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${field} must be a message (JSON object)`);
  return v as Obj;
}

/**
 * A string that is valid Unicode: no lone surrogate (JSON "\ud800"), which
 * UTF-8 cannot carry and every encoder silently turns into U+FFFD.
 */
function unicode(v: string, field: string): string {
  if (!v.isWellFormed()) throw invalid(`${field} = ${quote(v)} is not valid Unicode (it has a lone UTF-16 surrogate); send UTF-8 text`);
  return v;
}

function id(v: unknown, field: string, what: string): string {
  if (v === undefined || v === null || v === '') throw invalid(`${field} is empty; set it to the ${what} (1 to ${MAX_ID_BYTES} bytes of UTF-8)`);
  if (typeof v !== 'string') throw invalid(`${field} must be a string, not ${quote(v)}`);
  const n = Buffer.byteLength(v, 'utf8');
  if (n > MAX_ID_BYTES) throw invalid(`${field} is ${n} bytes of UTF-8; the limit is ${MAX_ID_BYTES}, use a shorter ${what}`);
  unicode(v, field);
  // gRPC decodes bytes that are not UTF-8 as U+FFFD: two different byte strings would become one ID.
  if (v.includes('\ufffd')) throw invalid(`${field} = ${quote(v)} contains U+FFFD, the mark of bytes that were not UTF-8; send the ${what} as valid UTF-8`);
  return v;
}

/** A double: a number, or (proto3 JSON) a numeric string. */
function double(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v); // "NaN", "Infinity" parse and are refused by the range checks
  if (v === undefined || v === null) return 0;
  throw invalid(`${field} must be a number, not ${quote(v)}`);
}

function latLng(v: unknown, field: string): { lat: number; lng: number } {
  if (v === undefined || v === null) throw invalid(`${field} is missing; set ${field} to {lat, lng} in degrees (WGS84)`);
  const o = asObj(v, field);
  const lat = double(o.lat, `${field}.lat`),
    lng = double(o.lng, `${field}.lng`);
  if (!Number.isFinite(lat) || lat < -90 || lat > 90) throw invalid(`${field}.lat = ${lat} is not a latitude; use degrees in [-90, 90]`);
  if (!Number.isFinite(lng) || lng < -180 || lng > 180) throw invalid(`${field}.lng = ${lng} is not a longitude; use degrees in [-180, 180]`);
  return { lat, lng };
}

/** map<string,string>: at most 32 pairs, 1 KiB of keys+values, no empty key. */
function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  const o = asObj(v, field);
  const out: Record<string, string> = {};
  let bytes = 0;
  const entries = Object.entries(o);
  if (entries.length > MAX_METADATA_PAIRS) throw invalid(`${field} has ${entries.length} pairs; the limit is ${MAX_METADATA_PAIRS}, send fewer`);
  for (const [k, val] of entries) {
    if (k === '') throw invalid(`${field} has an empty key; every key must be a non-empty string`);
    // JSON can carry it, protobuf decoders drop it, and as a property name it would set the prototype.
    if (k === '__proto__') throw invalid(`${field} has the key "__proto__", which is reserved; use another key`);
    if (typeof val !== 'string') throw invalid(`${field}[${quote(k)}] must be a string, not ${quote(val)}`);
    // Labels built only on failure: this runs for every pair of every update.
    if (!k.isWellFormed()) unicode(k, `${field} key`);
    if (!val.isWellFormed()) unicode(val, `${field}[${quote(k)}]`);
    bytes += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(val, 'utf8');
    out[k] = val;
  }
  if (bytes > MAX_METADATA_BYTES) throw invalid(`${field} is ${bytes} bytes (keys + values, UTF-8); the limit is ${MAX_METADATA_BYTES}, shorten it`);
  return out;
}

/**
 * int64 ms since the epoch; 0 = server time. Refused: negative, more than
 * `futureMs` ahead, or older than the map's TTL (it could never be returned).
 */
export function timestamp(v: unknown, field: string, nowMs: number, ttl: { ms: number; mapId: string } | undefined, futureMs = MAX_FUTURE_MS): number {
  let n: number;
  if (v === undefined || v === null || v === '') n = 0;
  else if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^-?\d+$/.test(v)) n = Number(v);
  else throw invalid(`${field} must be an integer number of ms since the epoch (0 = server time), not ${quote(v)}`);
  if (!Number.isSafeInteger(n)) throw invalid(`${field} = ${quote(v)} is not a whole number of ms in range; send ms since the epoch, e.g. ${nowMs}`);
  if (n < 0) throw invalid(`${field} = ${n} is negative; send ms since the epoch, or 0 for server time`);
  if (n === 0) return nowMs;
  if (n > nowMs + futureMs)
    throw invalid(
      `${field} = ${n} is ${((n - nowMs) / 1000).toFixed(0)} s in the future (limit ${futureMs / 1000} s); check the client clock and that the unit is ms`,
    );
  if (ttl && n < nowMs - ttl.ms)
    throw invalid(
      `${field} = ${n} is ${((nowMs - n) / 1000).toFixed(0)} s old, older than the TTL of map "${ttl.mapId}" (${ttl.ms / 1000} s): it could never be returned; send current positions`,
    );
  return n;
}

/** 0 (unset) → default; otherwise (0, max], no clamping. */
function limit(v: unknown, field: string, max: number, def: number, unit: string): number {
  const n = double(v, field);
  if (n === 0) return def;
  if (!Number.isFinite(n) || n < 0 || n > max) throw invalid(`${field} = ${quote(n)} is out of range; use (0, ${max}] ${unit}, or 0 for the default ${def}`);
  return n;
}

function count(v: unknown, field: string): number {
  const n = v === undefined || v === null ? 0 : typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw invalid(`${field} must be an integer, not ${quote(v)}`);
  if (n === 0) return LIMITS.k.default;
  if (n < LIMITS.k.min || n > LIMITS.k.max)
    throw invalid(`${field} = ${n} is out of range; use ${LIMITS.k.min} to ${LIMITS.k.max}, or 0 for the default ${LIMITS.k.default}`);
  return n;
}

function metric(v: unknown, field: string): Metric {
  switch (v) {
    case undefined:
    case null:
    case 0:
    case 1:
    case 'METRIC_UNSPECIFIED':
    case 'METRIC_DISTANCE':
      return 'distance';
    case 2:
    case 'METRIC_ETA':
      return 'eta';
    default:
      throw invalid(`${field} = ${quote(v)} is not a metric; use METRIC_DISTANCE or METRIC_ETA`);
  }
}

/** WriteAck: undefined = the server's default. */
export function writeAck(v: unknown, field = 'ack'): 'first' | 'all' | undefined {
  switch (v) {
    case undefined:
    case null:
    case 0:
    case 'WRITE_ACK_UNSPECIFIED':
      return undefined;
    case 1:
    case 'WRITE_ACK_FIRST':
      return 'first';
    case 2:
    case 'WRITE_ACK_ALL':
      return 'all';
    default:
      throw invalid(`${field} = ${quote(v)} is not a write acknowledgement; use WRITE_ACK_FIRST or WRITE_ACK_ALL`);
  }
}

export function mapId(v: unknown, field = 'map_id'): string {
  return id(v, field, 'map ID (see ListMaps)');
}

export interface ValidUpdate {
  mapId: string;
  update: DriverUpdate;
}

/** Map ID → TTL in ms (updates older than it are refused); undefined for a map not served. */
export type TtlOf = (mapId: string) => number | undefined;

/** UpdateDriverRequest; `prefix` names the item inside a batch ("updates[3]."). */
export function updateRequest(req: unknown, nowMs: number, ttlOf: TtlOf, prefix = ''): ValidUpdate {
  const o = asObj(req, prefix === '' ? 'request' : prefix.slice(0, -1));
  const pre = (o as { [ITEM_ERROR]?: unknown })[ITEM_ERROR];
  if (pre !== undefined) throw pre;
  const m = mapId(o.mapId, `${prefix}map_id`);
  const driverId = id(o.driverId, `${prefix}driver_id`, 'driver ID');
  const { lat, lng } = latLng(o.location, `${prefix}location`);
  const ttlMs = ttlOf(m);
  const timestampMs = timestamp(o.timestampMs, `${prefix}timestamp_ms`, nowMs, ttlMs === undefined ? undefined : { ms: ttlMs, mapId: m });
  const metadata = stringMap(o.metadata, `${prefix}metadata`);
  return { mapId: m, update: { driverId, lat, lng, timestampMs, metadata } };
}

/**
 * An UpdateDriverRequest forwarded by another instance (Peer.ApplyUpdates):
 * checked like a client's (IDs, position, metadata, a whole non-negative
 * timestamp) but not against this instance's clock. The instance that took
 * the client's call stamped a server-time update (0) and refused timestamps
 * too far in the future or older than the TTL by its own clock; re-judging
 * here would refuse whole groups whenever the two clocks differ. A 0 that
 * still arrives (an older instance) is stamped here.
 */
export function peerUpdateRequest(req: unknown, nowMs: number, prefix = ''): ValidUpdate {
  const o = asObj(req, prefix === '' ? 'request' : prefix.slice(0, -1));
  const m = mapId(o.mapId, `${prefix}map_id`);
  const driverId = id(o.driverId, `${prefix}driver_id`, 'driver ID');
  const { lat, lng } = latLng(o.location, `${prefix}location`);
  const timestampMs = timestamp(o.timestampMs, `${prefix}timestamp_ms`, nowMs, undefined, Number.POSITIVE_INFINITY);
  const metadata = stringMap(o.metadata, `${prefix}metadata`);
  return { mapId: m, update: { driverId, lat, lng, timestampMs, metadata } };
}

export type BatchItem = { index: number; ok: true; valid: ValidUpdate } | { index: number; ok: false; driverId: string; mapId: string; error: FarosError };

/** UpdateDriversRequest: the batch itself must be well formed; each item is checked on its own. */
export function batchRequest(req: unknown, nowMs: number, maxBatchSize: number, ttlOf: TtlOf): BatchItem[] {
  const o = asObj(req, 'request');
  const updates = o.updates ?? [];
  if (!Array.isArray(updates)) throw invalid('updates must be a list of UpdateDriverRequest');
  if (updates.length > maxBatchSize)
    throw new FarosError(
      'RESOURCE_EXHAUSTED',
      `batch of ${updates.length} updates exceeds the limit of ${maxBatchSize} (--max-batch-size); split it into smaller batches`,
    );
  return updates.map((u, index): BatchItem => {
    try {
      return { index, ok: true, valid: updateRequest(u, nowMs, ttlOf, `updates[${index}].`) };
    } catch (e) {
      const item = (typeof u === 'object' && u !== null ? u : {}) as Obj;
      const str = (x: unknown): string => (typeof x === 'string' && x.isWellFormed() ? x.slice(0, MAX_ID_BYTES) : '');
      return { index, ok: false, driverId: str(item.driverId), mapId: str(item.mapId), error: e as FarosError };
    }
  });
}

/** NearbyBatchRequest: its queries, each checked later on its own; over the limit the batch is refused whole. */
export function nearbyBatchRequest(req: unknown, maxQueries: number): unknown[] {
  const o = asObj(req, 'request');
  const queries = o.queries ?? [];
  if (!Array.isArray(queries)) throw invalid('queries must be a list of NearbyRequest');
  if (queries.length > maxQueries)
    throw new FarosError(
      'RESOURCE_EXHAUSTED',
      `batch of ${queries.length} queries exceeds the limit of ${maxQueries} (--max-nearby-batch); split it into smaller batches`,
    );
  return queries;
}

/** A StreamNearbyRequest's tag, echoed in its answer. */
export const MAX_TAG_BYTES = 1024;
export function streamTag(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid('tag must be a string');
  if (Buffer.byteLength(v) > MAX_TAG_BYTES) throw invalid(`tag is ${Buffer.byteLength(v)} bytes; at most ${MAX_TAG_BYTES}`);
  return v;
}

/** RemoveDriverRequest / GetDriverRequest. */
export function driverKey(req: unknown, driverField = 'driver_id'): { mapId: string; driverId: string } {
  const o = asObj(req, 'request');
  return { mapId: mapId(o.mapId), driverId: id(o.driverId, driverField, 'driver ID') };
}

export function nearbyRequest(req: unknown, field = 'request'): { mapId: string; query: NearbyQuery } {
  const o = asObj(req, field);
  // A batch item the JSON gateway could not read carries its error here.
  const pre = (o as { [ITEM_ERROR]?: unknown })[ITEM_ERROR];
  if (pre !== undefined) throw pre;
  const m = mapId(o.mapId);
  const { lat, lng } = latLng(o.location, 'location');
  return {
    mapId: m,
    query: {
      lat,
      lng,
      k: count(o.k, 'k'),
      metric: metric(o.metric, 'metric'),
      maxDistanceM: limit(o.maxDistanceM, 'max_distance_m', LIMITS.maxDistanceM.max, LIMITS.maxDistanceM.default, 'metres'),
      maxEtaS: limit(o.maxEtaS, 'max_eta_s', LIMITS.maxEtaS.max, LIMITS.maxEtaS.default, 'seconds'),
      filter: stringMap(o.filter, 'filter'),
    },
  };
}

export interface ValidWatch {
  mapId: string;
  query: NearbyQuery;
  params: WatchParams;
}

/**
 * A WatchNearbyRequest: its query as Nearby's, min_interval_ms 0 (default)
 * or within its range, thresholds 0 (default) or positive; the threshold of
 * the query's metric is the one kept.
 */
export function watchRequest(req: unknown): ValidWatch {
  const o = asObj(req, 'request');
  if (o.query === undefined || o.query === null) throw invalid('query is missing; set query to a NearbyRequest (map_id, location, k, metric, ...)');
  const { mapId, query } = nearbyRequest(o.query, 'query');
  const I = LIMITS.minIntervalMs;
  const ms = o.minIntervalMs === undefined || o.minIntervalMs === null ? 0 : typeof o.minIntervalMs === 'string' ? Number(o.minIntervalMs) : o.minIntervalMs;
  if (typeof ms !== 'number' || !Number.isInteger(ms)) throw invalid(`min_interval_ms must be an integer, not ${quote(o.minIntervalMs)}`);
  if (ms !== 0 && (ms < I.min || ms > I.max))
    throw invalid(`min_interval_ms = ${ms} is out of range; use ${I.min} to ${I.max} ms, or 0 for the default ${I.default}`);
  const m = limit(o.minChangeM, 'min_change_m', LIMITS.minChangeM.max, LIMITS.minChangeM.default, 'metres');
  const s = limit(o.minChangeS, 'min_change_s', LIMITS.minChangeS.max, LIMITS.minChangeS.default, 'seconds');
  return { mapId, query, params: { minIntervalMs: ms === 0 ? I.default : ms, minChange: query.metric === 'eta' ? s : m } };
}

/** A Peer.WatchLocalRequest: the client's watch, and what it last got when the watch moves here from another replica. */
export function peerWatchRequest(req: unknown): ValidWatch {
  const o = asObj(req, 'request');
  const w = watchRequest(o.watch);
  if (o.resume !== true) return w;
  const ids = peerList(o.lastIds, 'last_ids').map((x, i) => id(x, `last_ids[${i}]`, 'driver ID'));
  const costs = peerList(o.lastCosts, 'last_costs').map((x, i) => double(x, `last_costs[${i}]`));
  if (ids.length !== costs.length || ids.length > LIMITS.k.max)
    throw invalid(`last_ids has ${ids.length} items and last_costs ${costs.length}; send one cost per ID, at most ${LIMITS.k.max}`);
  if (costs.some((c) => !Number.isFinite(c) || c < 0)) throw invalid('last_costs must be finite costs >= 0');
  const waitMs = o.waitMs === undefined || o.waitMs === null ? 0 : o.waitMs;
  if (typeof waitMs !== 'number' || !Number.isInteger(waitMs) || waitMs < 0 || waitMs > w.params.minIntervalMs)
    throw invalid(`wait_ms = ${quote(o.waitMs)} must be a whole number of ms from 0 to min_interval_ms`);
  return { ...w, params: { ...w.params, resume: { ids, costs, waitMs } } };
}

/** Another instance's wall clock (ms since the epoch) sent as a reference instant (anti-entropy). */
export function peerClock(v: unknown, field: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (!(typeof n === 'number' && Number.isSafeInteger(n) && n > 0))
    throw invalid(`${field} = ${quote(v)} is not a positive whole number of ms since the epoch`);
  return n;
}

/** Peer messages carry at most this many records / driver IDs (forwarded batches and snapshot chunks are far smaller). */
export const MAX_PEER_ITEMS = 20_000;

/** A list field of a peer message, bounded. */
export function peerList(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(`${field} must be a list`);
  if (v.length > MAX_PEER_ITEMS) throw invalid(`${field} has ${v.length} items; a peer message carries at most ${MAX_PEER_ITEMS}`);
  return v;
}

/**
 * A driver record from another instance (ApplyRecords, a snapshot chunk),
 * checked as strictly as a client's update except for its timestamp's age: a
 * record skips snapping, so its snapped position must be in range too (the
 * segment against the map, by the shard). Its timestamp must be a positive
 * whole number of ms; how far it is from this instance's clock is not
 * checked (the receiving instance checked the client's; an expired record is
 * simply never returned and is swept).
 */
export function driverRecord(m: unknown, prefix: string): DriverRecord {
  const o = asObj(m, prefix.slice(0, -1));
  const driverId = id(o.driverId, `${prefix}driver_id`, 'driver ID');
  const lat = double(o.lat, `${prefix}lat`),
    lng = double(o.lng, `${prefix}lng`);
  if (!(Number.isFinite(lat) && lat >= -90 && lat <= 90 && Number.isFinite(lng) && lng >= -180 && lng <= 180))
    throw invalid(`${prefix}lat/lng = ${quote(lat)}, ${quote(lng)} is not a position`);
  const ts = double(o.timestampMs, `${prefix}timestamp_ms`);
  // Structure only: the instance that took the client's update judged its
  // timestamp by its own clock; this one's clock may differ (see peerUpdateRequest).
  if (!(Number.isSafeInteger(ts) && ts > 0)) throw invalid(`${prefix}timestamp_ms = ${quote(ts)} is not a positive whole number of ms since the epoch`);
  const segment = o.segment;
  if (!(typeof segment === 'number' && Number.isInteger(segment) && segment >= 0))
    throw invalid(`${prefix}segment = ${quote(segment)} is not a segment number`);
  const t = double(o.t, `${prefix}t`);
  if (!(t >= 0 && t <= 1)) throw invalid(`${prefix}t = ${quote(t)} is not a fraction in [0, 1]`);
  const snapM = double(o.snapM, `${prefix}snap_m`);
  if (!(snapM >= 0 && snapM <= 10_000)) throw invalid(`${prefix}snap_m = ${quote(snapM)} is not a snap distance in [0, 10000] m`);
  return { driverId, lat, lng, timestampMs: ts, metadata: stringMap(o.metadata, `${prefix}metadata`), segment, t, snapM };
}
