// The road geometry of a map for the map page, compact: every compressed
// edge (index = edge ID, as in settledEdges of /v1/nearby:explain) as a run
// of points in micro-degrees, each point a delta from the one before.
import type { RoadGraph } from '../model/graph/roadgraph.js';
import { edgeVertices } from '../model/graph/geometry.js';

export interface RoadsMsg {
  mapId: string;
  /** Changes when the compiled map changes (also the ETag). */
  key: string;
  bounds: RoadGraph['meta']['bounds'];
  /** Coordinates are integers in units of 1e-6 degree. */
  scale: number;
  /** Points of each edge. */
  counts: number[];
  /** Per edge: 1 = drivable tail → head only, 2 = head → tail only, 3 = both ways. */
  dirs: number[];
  /** lat, lng pairs; the first point of the whole list absolute, every other a delta from the previous point. */
  coords: number[];
}

export function roadsOf(mapId: string, g: RoadGraph): RoadsMsg {
  const E = g.edgeCount;
  const counts: number[] = new Array(E);
  const coords: number[] = [];
  let pLat = 0,
    pLng = 0;
  for (let e = 0; e < E; e++) {
    const vs = edgeVertices(g, e);
    counts[e] = vs.length;
    for (const v of vs) {
      const lat = Math.round(g.vLat[v] * 1e6),
        lng = Math.round(g.vLng[v] * 1e6);
      coords.push(lat - pLat, lng - pLng);
      pLat = lat;
      pLng = lng;
    }
  }
  return { mapId, key: g.meta.key, bounds: g.meta.bounds, scale: 1e6, counts, dirs: Array.from(g.eDirs), coords };
}
