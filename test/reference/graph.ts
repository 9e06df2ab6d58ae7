// The road graph of SEMANTICS.md, built directly from the raw OSM parse.
// Deliberately naive: plain arrays, Sets of forbidden turns, no compression.
// Shares nothing with src/ except the OSM reader's output type.
import type { OsmData } from '../../src/mapbuild/osm.js';
import { haversine } from './geo.js';

/** The tables of a profile JSON (maps/profiles/*.json) that the rules use. */
export interface RefProfile {
  roadClasses: Record<string, number>;
  accessTags: string[];
  deniedAccess: string[];
  impliedOneway: string[];
  restrictionTags: string[];
}

type Tags = Record<string, string>;

/**
 * Segment s has two directed segments: 2s (a→b, along the way's node order)
 * and 2s+1 (b→a). A directed segment exists only if its direction is allowed.
 */
export interface RefMap {
  lat: Float64Array;
  lon: Float64Array;
  /** Per segment. */
  segWayId: string[];
  segWayBig: bigint[];
  segIndex: number[];
  segA: number[];
  segB: number[];
  segLen: number[];
  /** Speed in m/s. */
  segSpeed: number[];
  segFwd: boolean[];
  segBwd: boolean[];
  /** Node index → directed segments whose head is that node. */
  arriving: Map<number, number[]>;
  /** Directed turns (e, f) that the restrictions forbid: key e * D + f. */
  forbidden: Set<number>;
  /** Directed segment e → the only successors allowed after it (only_*). */
  onlyAllowed: Map<number, Set<number>>;
  /** 2 × number of segments. */
  D: number;
  /** Restriction relations that were applied (for the tests' sanity). */
  appliedRestrictions: string[];
}

export function isRoadRef(p: RefProfile, tags: Tags): boolean {
  const hw = tags.highway;
  if (hw === undefined || !Object.hasOwn(p.roadClasses, hw)) return false;
  if (tags.area === 'yes') return false;
  // Access: the most specific tag present decides.
  for (const key of p.accessTags) {
    if (tags[key] !== undefined) {
      if (p.deniedAccess.includes(tags[key]!)) return false;
      break;
    }
  }
  const ow = tags.oneway;
  if (ow === 'reversible' || ow === 'alternating') return false;
  return true;
}

export function directionRef(p: RefProfile, tags: Tags): { fwd: boolean; bwd: boolean } {
  const ow = tags.oneway;
  if (ow === 'yes' || ow === 'true' || ow === '1') return { fwd: true, bwd: false };
  if (ow === '-1' || ow === 'reverse') return { fwd: false, bwd: true };
  if (ow === 'no' || ow === 'false' || ow === '0') return { fwd: true, bwd: true };
  const j = tags.junction;
  if (j === 'roundabout' || j === 'circular') return { fwd: true, bwd: false };
  if (p.impliedOneway.includes(tags.highway!)) return { fwd: true, bwd: false };
  return { fwd: true, bwd: true };
}

/** `N`, `N.N`, `N km/h` (km/h) or `N mph`; anything else or 0 → undefined. */
export function parseMaxspeedRef(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)( km\/h| mph)?$/.exec(v);
  if (m === null) return undefined;
  const n = Number(m[1]) * (m[2] === ' mph' ? 1.609344 : 1);
  return n > 0 && Number.isFinite(n) ? n : undefined;
}

export function speedKmhRef(p: RefProfile, tags: Tags): number {
  return parseMaxspeedRef(tags.maxspeed) ?? p.roadClasses[tags.highway!]!;
}

export function buildReference(osm: OsmData, prof: RefProfile): RefMap {
  const m: RefMap = {
    lat: osm.lat,
    lon: osm.lon,
    segWayId: [],
    segWayBig: [],
    segIndex: [],
    segA: [],
    segB: [],
    segLen: [],
    segSpeed: [],
    segFwd: [],
    segBwd: [],
    arriving: new Map(),
    forbidden: new Set(),
    onlyAllowed: new Map(),
    D: 0,
    appliedRestrictions: [],
  };
  // Road ways by id (way ids are their own namespace).
  const roadWays = new Map<string, { refs: number[]; firstSeg: number }>();
  for (const w of osm.ways) {
    if (!isRoadRef(prof, w.tags)) continue;
    const refs = w.refs.map((r) => {
      const i = osm.nodeIndex.get(r);
      if (i === undefined) throw new Error(`reference: road way ${w.id} references missing node ${r}; SEMANTICS.md does not say what that means`);
      return i;
    });
    if (roadWays.has(w.id)) throw new Error(`reference: duplicate way id ${w.id}`);
    const dir = directionRef(prof, w.tags);
    const speed = speedKmhRef(prof, w.tags) / 3.6;
    roadWays.set(w.id, { refs, firstSeg: m.segA.length });
    for (let i = 0; i + 1 < refs.length; i++) {
      const a = refs[i]!;
      const b = refs[i + 1]!;
      m.segWayId.push(w.id);
      m.segWayBig.push(BigInt(w.id));
      m.segIndex.push(i);
      m.segA.push(a);
      m.segB.push(b);
      m.segLen.push(haversine(osm.lat[a]!, osm.lon[a]!, osm.lat[b]!, osm.lon[b]!));
      m.segSpeed.push(speed);
      m.segFwd.push(dir.fwd);
      m.segBwd.push(dir.bwd);
    }
  }
  const S = m.segA.length;
  m.D = 2 * S;
  for (let d = 0; d < m.D; d++) {
    if (!dirAllowed(m, d)) continue;
    const h = head(m, d);
    let list = m.arriving.get(h);
    if (list === undefined) {
      list = [];
      m.arriving.set(h, list);
    }
    list.push(d);
  }

  // Directed segments of a way arriving at / leaving a node.
  const segsOf = (wayId: string): number[] => {
    const w = roadWays.get(wayId)!;
    const out: number[] = [];
    for (let i = 0; i + 1 < w.refs.length; i++) out.push(w.firstSeg + i);
    return out;
  };
  const arrivingOf = (wayId: string, v: number): number[] =>
    segsOf(wayId)
      .flatMap((s) => [2 * s, 2 * s + 1])
      .filter((d) => dirAllowed(m, d) && head(m, d) === v);
  const leavingOf = (wayId: string, v: number): number[] =>
    segsOf(wayId)
      .flatMap((s) => [2 * s, 2 * s + 1])
      .filter((d) => dirAllowed(m, d) && tail(m, d) === v);

  for (const rel of osm.relations) {
    if (rel.tags.type !== 'restriction') continue;
    const from = rel.members.filter((x) => x.role === 'from');
    const via = rel.members.filter((x) => x.role === 'via');
    const to = rel.members.filter((x) => x.role === 'to');
    if (from.length !== 1 || via.length !== 1 || to.length !== 1) continue;
    if (from[0]!.type !== 'way' || via[0]!.type !== 'node' || to[0]!.type !== 'way') continue;
    const fromW = roadWays.get(from[0]!.ref);
    const toW = roadWays.get(to[0]!.ref);
    const v = osm.nodeIndex.get(via[0]!.ref);
    if (fromW === undefined || toW === undefined || v === undefined) continue;
    if (!fromW.refs.includes(v) || !toW.refs.includes(v)) continue;
    let value: string | undefined;
    for (const key of prof.restrictionTags) {
      if (rel.tags[key] !== undefined) {
        value = rel.tags[key];
        break;
      }
    }
    if (value === undefined) continue;
    const isNo = value.startsWith('no_');
    const isOnly = value.startsWith('only_');
    if (!isNo && !isOnly) continue;
    m.appliedRestrictions.push(rel.id);
    const fromId = from[0]!.ref;
    const toId = to[0]!.ref;
    const arr = arrivingOf(fromId, v);
    const lea = leavingOf(toId, v);
    if (isNo) {
      for (const e of arr) {
        if (fromId === toId) {
          // Same way: only the U-turn back onto the segment just travelled.
          const u = e ^ 1;
          if (dirAllowed(m, u)) m.forbidden.add(e * m.D + u);
        } else {
          for (const f of lea) m.forbidden.add(e * m.D + f);
        }
      }
    } else {
      // only_*: from each `from` segment arriving at via, only the named
      // `to` segments leaving via; several only_* with the same from+via unite.
      for (const e of arr) {
        let set = m.onlyAllowed.get(e);
        if (set === undefined) {
          set = new Set();
          m.onlyAllowed.set(e, set);
        }
        for (const f of lea) set.add(f);
      }
    }
  }
  return m;
}

export function dirAllowed(m: RefMap, d: number): boolean {
  const s = d >> 1;
  return (d & 1) === 0 ? m.segFwd[s]! : m.segBwd[s]!;
}
/** Node the directed segment ends at. */
export function head(m: RefMap, d: number): number {
  const s = d >> 1;
  return (d & 1) === 0 ? m.segB[s]! : m.segA[s]!;
}
/** Node the directed segment starts at. */
export function tail(m: RefMap, d: number): number {
  const s = d >> 1;
  return (d & 1) === 0 ? m.segA[s]! : m.segB[s]!;
}

/** May a vehicle that arrived at head(e) along e continue onto f? */
export function turnAllowed(m: RefMap, e: number, f: number): boolean {
  if (!dirAllowed(m, e) || !dirAllowed(m, f) || head(m, e) !== tail(m, f)) return false;
  if (m.forbidden.has(e * m.D + f)) return false;
  const only = m.onlyAllowed.get(e);
  if (only !== undefined && !only.has(f)) return false;
  return true;
}
