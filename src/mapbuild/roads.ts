// OSM → the literal road network of SEMANTICS.md: road ways, their segments
// (numbered from 0 along each way) and the turn restrictions, expressed as
// forbidden (arriving segment direction, leaving segment direction) pairs.
// Nothing is compressed here; compress.ts does that.
import type { OsmData } from './osm.js';
import { type Profile, isRoad, direction, speedKmh, restrictionValue } from './profile.js';
import { haversine } from './geo.js';

/** A directed segment: segment * 2 + 0 for first→second node, + 1 for the reverse. */
export type SegDir = number;

export interface RoadNetwork {
  /** Road vertices (nodes used by some road), dense 0..V-1. */
  vLat: Float64Array;
  vLng: Float64Array;
  /** OSM IDs of the road ways, sorted ascending (numeric). */
  wayIds: Float64Array;
  segA: Uint32Array;
  segB: Uint32Array;
  segWay: Uint32Array;
  segIdx: Uint32Array;
  segLen: Float64Array;
  /** Seconds to travel the whole segment. */
  segTime: Float64Array;
  /** bit 0: first→second allowed, bit 1: second→first allowed. */
  segDirs: Uint8Array;
  /** Forbidden turns, as pairs of directed segments meeting at `via`. */
  forbidden: { via: number; from: SegDir; to: SegDir }[];
  /** Vertices that are the via node of some effective restriction. */
  viaVertices: Set<number>;
  stats: { roads: number; segments: number; restrictions: number; restrictionsIgnored: number; missingNodes: number };
}

export const FWD = 1;
export const BWD = 2;

export function extractRoads(osm: OsmData, profile: Profile): RoadNetwork {
  const roads = osm.ways.filter((w) => isRoad(profile, w.tags));
  roads.sort((a, b) => Number(a.id) - Number(b.id));

  // Dense vertex numbers in first-use order of the sorted ways (deterministic).
  const vertexOf = new Map<number, number>(); // OSM node index → vertex
  const vLatArr: number[] = [],
    vLngArr: number[] = [];
  let missingNodes = 0;
  const wayIds = new Float64Array(roads.length);
  const segA: number[] = [],
    segB: number[] = [],
    segWay: number[] = [],
    segIdx: number[] = [];
  const segLen: number[] = [],
    segTime: number[] = [],
    segDirs: number[] = [];
  /** way index → (segment index along the way → segment number or -1). */
  const waySegs: Int32Array[] = [];
  const vertex = (ref: string): number => {
    const ni = osm.nodeIndex.get(ref);
    if (ni === undefined) return -1;
    let v = vertexOf.get(ni);
    if (v === undefined) {
      v = vLatArr.length;
      vertexOf.set(ni, v);
      vLatArr.push(osm.lat[ni]);
      vLngArr.push(osm.lon[ni]);
    }
    return v;
  };
  roads.forEach((w, wi) => {
    wayIds[wi] = Number(w.id);
    const dir = direction(profile, w.tags);
    const dirs = (dir.forward ? FWD : 0) | (dir.backward ? BWD : 0);
    const mps = speedKmh(profile, w.tags) / 3.6;
    const segsOfWay = new Int32Array(Math.max(0, w.refs.length - 1)).fill(-1);
    const vs = w.refs.map(vertex);
    for (let i = 0; i + 1 < vs.length; i++) {
      const a = vs[i],
        b = vs[i + 1];
      // A way that references a node missing from the file loses only the
      // segments touching it; indices of the others keep their meaning.
      if (a < 0 || b < 0) {
        missingNodes++;
        continue;
      }
      const len = haversine(vLatArr[a], vLngArr[a], vLatArr[b], vLngArr[b]);
      segsOfWay[i] = segA.length;
      segA.push(a);
      segB.push(b);
      segWay.push(wi);
      segIdx.push(i);
      segLen.push(len);
      segTime.push(len / mps);
      segDirs.push(dirs);
    }
    waySegs.push(segsOfWay);
  });

  // Turn restrictions (SEMANTICS.md): one from way, one via node, one to way.
  const wayIndexById = new Map<string, number>();
  roads.forEach((w, i) => wayIndexById.set(w.id, i));
  const forbidden: RoadNetwork['forbidden'] = [];
  const viaVertices = new Set<number>();
  let restrictions = 0,
    ignored = 0;
  // Segment directions of way wi arriving at / leaving vertex v.
  const arriving = (wi: number, v: number): SegDir[] => {
    const out: SegDir[] = [];
    for (const s of waySegs[wi]) {
      if (s < 0) continue;
      if (segB[s] === v && segDirs[s] & FWD) out.push(s * 2);
      if (segA[s] === v && segDirs[s] & BWD) out.push(s * 2 + 1);
    }
    return out;
  };
  const leaving = (wi: number, v: number): SegDir[] => {
    const out: SegDir[] = [];
    for (const s of waySegs[wi]) {
      if (s < 0) continue;
      if (segA[s] === v && segDirs[s] & FWD) out.push(s * 2);
      if (segB[s] === v && segDirs[s] & BWD) out.push(s * 2 + 1);
    }
    return out;
  };
  const touches = (wi: number, v: number) => waySegs[wi].some((s) => s >= 0 && (segA[s] === v || segB[s] === v));
  // Every directed segment leaving v (any way), for only_* restrictions.
  const incidence = vertexIncidence(vLatArr.length, segA, segB);
  const allLeaving = (v: number): SegDir[] => {
    const l: SegDir[] = [];
    for (let j = incidence.start[v]; j < incidence.start[v + 1]; j++) {
      const s = incidence.segs[j];
      if (segA[s] === v && segDirs[s] & FWD) l.push(s * 2);
      if (segB[s] === v && segDirs[s] & BWD) l.push(s * 2 + 1);
    }
    return [...new Set(l)];
  };
  // only_* restrictions sharing from+via combine: collect allowed sets first.
  const onlyAllowed = new Map<string, { from: number; via: number; allowed: Set<SegDir> }>();
  for (const r of osm.relations) {
    if (r.tags.type !== 'restriction') continue;
    const value = restrictionValue(profile, r.tags);
    if (value === undefined || !(value.startsWith('no_') || value.startsWith('only_'))) continue;
    const from = r.members.filter((m) => m.role === 'from');
    const via = r.members.filter((m) => m.role === 'via');
    const to = r.members.filter((m) => m.role === 'to');
    if (from.length !== 1 || via.length !== 1 || to.length !== 1 || from[0].type !== 'way' || to[0].type !== 'way' || via[0].type !== 'node') {
      ignored++;
      continue;
    }
    const fw = wayIndexById.get(from[0].ref),
      tw = wayIndexById.get(to[0].ref);
    const vi = osm.nodeIndex.get(via[0].ref);
    const v = vi === undefined ? undefined : vertexOf.get(vi);
    if (fw === undefined || tw === undefined || v === undefined || !touches(fw, v) || !touches(tw, v)) {
      ignored++;
      continue;
    }
    restrictions++;
    viaVertices.add(v);
    const ins = arriving(fw, v);
    if (value.startsWith('no_')) {
      for (const i of ins) {
        if (fw === tw)
          forbidden.push({ via: v, from: i, to: i ^ 1 }); // only the U-turn
        else for (const o of leaving(tw, v)) forbidden.push({ via: v, from: i, to: o });
      }
    } else {
      const key = `${fw}:${v}`;
      let e = onlyAllowed.get(key);
      if (!e) {
        e = { from: fw, via: v, allowed: new Set() };
        onlyAllowed.set(key, e);
      }
      // Same way as from and to names going straight on and the U-turn: all of
      // the way's segments leaving via. Otherwise the to way's segments.
      for (const o of leaving(tw, v)) e.allowed.add(o);
    }
  }
  for (const { from, via, allowed } of onlyAllowed.values()) {
    const outs = allLeaving(via);
    for (const i of arriving(from, via)) {
      for (const o of outs) if (!allowed.has(o)) forbidden.push({ via, from: i, to: o });
    }
  }

  return {
    vLat: Float64Array.from(vLatArr),
    vLng: Float64Array.from(vLngArr),
    wayIds,
    segA: Uint32Array.from(segA),
    segB: Uint32Array.from(segB),
    segWay: Uint32Array.from(segWay),
    segIdx: Uint32Array.from(segIdx),
    segLen: Float64Array.from(segLen),
    segTime: Float64Array.from(segTime),
    segDirs: Uint8Array.from(segDirs),
    forbidden,
    viaVertices,
    stats: { roads: roads.length, segments: segA.length, restrictions, restrictionsIgnored: ignored, missingNodes },
  };
}

/** CSR of the segments touching each vertex (a self-loop appears twice). */
export function vertexIncidence(V: number, segA: ArrayLike<number>, segB: ArrayLike<number>): { start: Uint32Array; segs: Uint32Array } {
  const start = new Uint32Array(V + 1);
  for (let s = 0; s < segA.length; s++) {
    start[segA[s] + 1]++;
    start[segB[s] + 1]++;
  }
  for (let v = 0; v < V; v++) start[v + 1] += start[v];
  const fill = start.slice(0, V);
  const segs = new Uint32Array(segA.length * 2);
  for (let s = 0; s < segA.length; s++) {
    segs[fill[segA[s]]++] = s;
    segs[fill[segB[s]]++] = s;
  }
  return { start, segs };
}
