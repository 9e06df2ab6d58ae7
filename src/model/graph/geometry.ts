// Road geometry of compressed edges as coordinates: what the map page draws,
// the paths of an explained search and where simulated drivers are.
import type { RoadGraph } from './roadgraph.js';

export interface LatLngPt {
  lat: number;
  lng: number;
}

/** Vertices of edge e from its tail to its head. */
export function edgeVertices(g: RoadGraph, e: number): number[] {
  const out = [g.tail(e)];
  for (let s = g.eSegStart[e], end = g.eSegStart[e + 1]; s < end; s++) out.push(g.segRev[s] === 0 ? g.segB[s] : g.segA[s]);
  return out;
}

/**
 * The part of edge e between `from` and `to` metres from its tail, in that
 * order (to < from walks the edge backwards), ends interpolated.
 */
export function edgePart(g: RoadGraph, e: number, from: number, to: number): [number, number][] {
  const lo = Math.max(0, Math.min(from, to)),
    hi = Math.min(g.eLen[e], Math.max(from, to));
  const out: [number, number][] = [];
  const first = g.eSegStart[e],
    end = g.eSegStart[e + 1];
  for (let s = first; s < end; s++) {
    const a = g.segRev[s] === 0 ? g.segA[s] : g.segB[s],
      b = g.segRev[s] === 0 ? g.segB[s] : g.segA[s];
    const o = g.segOff[s],
      len = g.segLen[s];
    if (o + len < lo) continue;
    if (o > hi) break;
    const at = (x: number): [number, number] => {
      const f = len > 0 ? Math.min(1, Math.max(0, (x - o) / len)) : 0;
      return [g.vLat[a] + f * (g.vLat[b] - g.vLat[a]), g.vLng[a] + f * (g.vLng[b] - g.vLng[a])];
    };
    if (out.length === 0) out.push(at(lo));
    out.push(at(Math.min(hi, o + len)));
  }
  return from <= to ? out : out.reverse();
}

/** The point `along` metres from the tail of edge e. */
export function pointOnEdge(g: RoadGraph, e: number, along: number): LatLngPt {
  const p = edgePart(g, e, along, along)[0] ?? [g.vLat[g.tail(e)], g.vLng[g.tail(e)]];
  return { lat: p[0], lng: p[1] };
}
