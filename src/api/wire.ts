// Domain values → response messages. The same objects serve gRPC (proto-loader
// accepts int64 as strings) and the HTTP gateway (proto3 JSON writes int64 as
// strings), so both protocols answer with identical fields.
import type { MapInfoView } from '../node/host.js';
import type { NearbyAnswer, NearbyItem } from '../model/types.js';
import type { DriverView, Phantom, UpdateResult } from '../model/types.js';

import type { Driver__Output } from '../gen/faros/v1/Driver.js';
import type { MapInfo__Output } from '../gen/faros/v1/MapInfo.js';
import type { NearbyDriver__Output } from '../gen/faros/v1/NearbyDriver.js';
import type { NearbyResponse__Output } from '../gen/faros/v1/NearbyResponse.js';
import type { NearbyResult__Output } from '../gen/faros/v1/NearbyResult.js';
import type { SnappedPoint__Output } from '../gen/faros/v1/SnappedPoint.js';
import type { UpdateDriverResponse__Output } from '../gen/faros/v1/UpdateDriverResponse.js';
import type { UpdateDriversResponse__Output } from '../gen/faros/v1/UpdateDriversResponse.js';
import type { UpdateError__Output } from '../gen/faros/v1/UpdateError.js';

// The generated types (src/gen, `npm run gen`) are what proto-loader hands a
// client; what the server builds is the same with its message fields always set.
type Present<T, K extends keyof T, Sub extends Partial<Record<K, unknown>> = object> = Omit<T, K> & {
  [P in K]-?: P extends keyof Sub ? Sub[P] : NonNullable<T[P]>;
};

export type SnappedPointMsg = Present<SnappedPoint__Output, 'location'>;
export type DriverMsg = Present<Driver__Output, 'location' | 'snapped', { snapped: SnappedPointMsg }>;
export type UpdateDriverResponseMsg = Present<UpdateDriverResponse__Output, 'snapped', { snapped: SnappedPointMsg }>;
export type UpdateErrorMsg = UpdateError__Output;
export type UpdateDriversResponseMsg = UpdateDriversResponse__Output;
export type NearbyDriverMsg = Present<NearbyDriver__Output, 'driver', { driver: DriverMsg }>;
export type NearbyResponseMsg = Present<
  NearbyResponse__Output,
  'drivers' | 'querySnapped' | 'stats',
  { drivers: NearbyDriverMsg[]; querySnapped: SnappedPointMsg }
>;
/** One query's result in a batch or a stream: a response, or a status code name and message (no response, so JSON leaves it out). */
export type NearbyResultMsg = Omit<NearbyResult__Output, 'response'> & { response?: NearbyResponseMsg };
export type MapInfoMsg = Present<MapInfo__Output, 'bounds'>;

export function snappedPoint(p: Phantom): SnappedPointMsg {
  return { location: { lat: p.lat, lng: p.lng }, snapDistanceM: p.distanceM, wayId: p.wayId };
}

export function driver(v: DriverView): DriverMsg {
  return {
    driverId: v.driverId,
    location: { lat: v.lat, lng: v.lng },
    snapped: snappedPoint(v.snapped),
    timestampMs: String(v.timestampMs),
    metadata: { ...v.metadata },
  };
}

export function updateResponse(r: Extract<UpdateResult, { ok: true }>): UpdateDriverResponseMsg {
  return { snapped: snappedPoint(r.snapped), stale: r.stale };
}

export function nearbyResponse(a: NearbyAnswer): NearbyResponseMsg {
  return {
    drivers: a.drivers.map((d) => ({ driver: driver(d.driver), distanceM: d.distanceM, etaS: d.etaS })),
    querySnapped: snappedPoint(a.querySnapped),
    stats: { edgesExpanded: a.stats.edgesExpanded, candidatesSeen: a.stats.candidatesSeen, servedBy: a.stats.servedBy },
  };
}

/** A batch item as a NearbyResult; `missMessage` words a point that does not snap. */
export function nearbyResult(item: NearbyItem, missMessage: (message: string) => string): NearbyResultMsg {
  if (item.ok) return { response: nearbyResponse(item), code: '', message: '' };
  return { code: item.code, message: item.code === 'OUT_OF_RANGE' ? missMessage(item.message) : item.message };
}

export function mapInfo(m: MapInfoView): MapInfoMsg {
  return {
    mapId: m.mapId,
    profile: m.profile,
    drivers: String(m.drivers),
    bounds: { min: { lat: m.bounds.minLat, lng: m.bounds.minLng }, max: { lat: m.bounds.maxLat, lng: m.bounds.maxLng } },
    replicas: [...m.replicas],
  };
}
