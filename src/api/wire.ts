// Domain values → response messages. The same objects serve gRPC (proto-loader
// accepts int64 as strings) and the HTTP gateway (proto3 JSON writes int64 as
// strings), so both protocols answer with identical fields.
import type { MapInfoView } from '../node/host.js';
import type { NearbyAnswer, NearbyItem } from '../model/types.js';
import type { DriverView, Phantom, UpdateResult } from '../model/types.js';

export interface LatLngMsg {
  lat: number;
  lng: number;
}
export interface SnappedPointMsg {
  location: LatLngMsg;
  snapDistanceM: number;
  wayId: string;
}
export interface DriverMsg {
  driverId: string;
  location: LatLngMsg;
  snapped: SnappedPointMsg;
  timestampMs: string;
  metadata: Record<string, string>;
}
export interface UpdateDriverResponseMsg {
  snapped: SnappedPointMsg;
  stale: boolean;
}
export interface UpdateErrorMsg {
  index: number;
  driverId: string;
  code: string;
  message: string;
}
export interface UpdateDriversResponseMsg {
  accepted: number;
  rejected: UpdateErrorMsg[];
}
export interface NearbyResponseMsg {
  drivers: { driver: DriverMsg; distanceM: number; etaS: number }[];
  querySnapped: SnappedPointMsg;
  stats: { edgesExpanded: number; candidatesSeen: number; servedBy: string };
}
/** One query's result in a batch or a stream: a response, or a status code name and message. */
export interface NearbyResultMsg {
  response?: NearbyResponseMsg;
  code: string;
  message: string;
}
export interface MapInfoMsg {
  mapId: string;
  profile: string;
  drivers: string;
  bounds: { min: LatLngMsg; max: LatLngMsg };
  replicas: string[];
}

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
