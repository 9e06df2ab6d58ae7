// The two implementations under comparison, behind one small interface:
// the reference (test/reference) and the library (src/model/model.ts).
import { readOsm, type OsmData } from '../../src/mapbuild/osm.js';
import { buildReference, readRefProfile, refNearby, refSnap, type RefMap, type RefDriver, type Metric } from '../reference/index.js';

export const PKG_ROOT = new URL('../../../', import.meta.url); // dist/test/helpers → package root
export const MAPS = new URL('maps/', PKG_ROOT);
export const CAR_JSON = new URL('maps/profiles/car.json', PKG_ROOT);

export interface SnapOut {
  wayId: string;
  segIndex: number;
  t: number;
  distanceM: number;
  lat: number;
  lng: number;
}
export type SnapAnswer = SnapOut | { miss: true; nearestM: number };
export interface NearbyIn {
  lat: number;
  lng: number;
  k: number;
  metric: Metric;
  limit: number;
  otherLimit?: number;
  filter?: Record<string, string>;
}
export interface NearbyRow {
  id: string;
  distanceM: number;
  etaS: number;
}
export type NearbyAnswer = { error: string } | { results: NearbyRow[] };

export interface Side {
  name: string;
  snap(lat: number, lng: number): SnapAnswer;
  /** Update every driver, then ask; refused updates are listed. */
  nearby(drivers: RefDriver[], q: NearbyIn): NearbyAnswer & { refused?: string[] };
}

export function refSide(m: RefMap, radiusM = 200): Side {
  return {
    name: 'reference',
    snap: (lat, lng) => {
      const r = refSnap(m, lat, lng, radiusM);
      if ('miss' in r) return r;
      return { wayId: r.wayId, segIndex: r.segIndex, t: r.t, distanceM: r.distanceM, lat: r.lat, lng: r.lng };
    },
    nearby: (drivers, q) => {
      const r = refNearby(m, drivers, { lat: q.lat, lng: q.lng, k: q.k, metric: q.metric, limit: q.limit, ...(q.filter ? { filter: q.filter } : {}) }, radiusM);
      if ('error' in r) return r;
      return { results: r.results.map(({ id, distanceM, etaS }) => ({ id, distanceM, etaS })) };
    },
  };
}

// The library is loaded lazily so the reference-only checks still run while
// src/ is being written.
type LibModules = {
  build: typeof import('../../src/mapbuild/build.js');
  profile: typeof import('../../src/mapbuild/profile.js');
  model: typeof import('../../src/model/model.js');
};
let libMods: Promise<LibModules> | undefined;
export function loadLib(): Promise<LibModules> {
  libMods ??= (async () => ({
    build: await import('../../src/mapbuild/build.js'),
    profile: await import('../../src/mapbuild/profile.js'),
    model: await import('../../src/model/model.js'),
  }))();
  return libMods;
}

type Graph = ReturnType<LibModules['build']['buildGraph']>;

export async function libSideFromOsm(osm: OsmData, radiusM?: number): Promise<Side> {
  const lib = await loadLib();
  return libSideFromGraph(lib.build.buildGraph(osm, lib.profile.loadProfile('car')), radiusM);
}

export async function libSideFromGraph(graph: Graph, radiusM?: number): Promise<Side> {
  const lib = await loadLib();
  const opts = radiusM === undefined ? {} : { snapRadiusM: radiusM };
  const snapModel = new lib.model.Model(graph, opts);
  return {
    name: 'library',
    snap: (lat, lng) => {
      const r = snapModel.snap(lat, lng);
      if (!('segment' in r)) return { miss: true, nearestM: r.nearestM };
      return { wayId: r.wayId, segIndex: r.segIndex, t: r.t, distanceM: r.distanceM, lat: r.lat, lng: r.lng };
    },
    nearby: (drivers, q) => {
      const model = new lib.model.Model(graph, opts);
      const now = Date.now();
      const refused: string[] = [];
      for (const d of drivers) {
        const u = model.update({ driverId: d.id, lat: d.lat, lng: d.lng, timestampMs: now, metadata: d.metadata });
        if (!u.ok) refused.push(d.id);
      }
      const r = model.nearby({
        lat: q.lat,
        lng: q.lng,
        k: q.k,
        metric: q.metric,
        maxDistanceM: q.metric === 'distance' ? q.limit : (q.otherLimit ?? 3000),
        maxEtaS: q.metric === 'eta' ? q.limit : (q.otherLimit ?? 300),
        ...(q.filter ? { filter: q.filter } : {}),
      });
      if (!r.ok) return { error: `${r.code}: ${r.message}`, refused };
      return { results: r.drivers.map((x) => ({ id: x.driver.driverId, distanceM: x.distanceM, etaS: x.etaS })), refused };
    },
  };
}

export async function readAll(file: string): Promise<OsmData> {
  return readOsm(file, { keepWay: () => true });
}

export function carRef(osm: OsmData): RefMap {
  return buildReference(osm, readRefProfile(CAR_JSON));
}
