// Literal road network → compressed graph. Chains of degree-2 vertices become
// one edge (keeping every segment and where it sits along the edge), so the
// search visits junctions only. Chain interiors never hold a turn choice:
// a vertex stays a junction when it is a restriction's via node, touches a
// self-loop, or joins segments whose travel directions differ, so every edge
// has one direction rule along its whole length. Vertices and segments are
// then renumbered (junctions first, segments edge by edge: roadgraph.ts).
import Flatbush from 'flatbush';
import { type RoadNetwork, FWD, BWD, vertexIncidence } from './roads.js';
import { type GraphArrays, SPATIAL_RUN } from '../model/graph/roadgraph.js';
import { DEG } from './geo.js';

export interface Compressed {
  arrays: GraphArrays;
  junctions: number;
  kx: number;
}

export function compress(net: RoadNetwork): Compressed {
  const V = net.vLat.length,
    S = net.segA.length;
  const { segA, segB, segDirs } = net;
  const inc = vertexIncidence(V, segA, segB);
  const other = (s: number, v: number) => (segA[s] === v ? segB[s] : segA[s]);
  // Travel flags of segment s in the orientation "leaving v".
  const dirsFrom = (s: number, v: number) => (segA[s] === v ? segDirs[s] : ((segDirs[s] & FWD) << 1) | ((segDirs[s] & BWD) >> 1));

  const junction = new Uint8Array(V);
  for (let v = 0; v < V; v++) {
    const n = inc.start[v + 1] - inc.start[v];
    if (n !== 2 || net.viaVertices.has(v)) {
      junction[v] = 1;
      continue;
    }
    const s1 = inc.segs[inc.start[v]],
      s2 = inc.segs[inc.start[v] + 1];
    if (s1 === s2 || segA[s1] === segB[s1] || segA[s2] === segB[s2]) {
      junction[v] = 1;
      continue;
    }
    // Through v from s1 to s2: s1 entered toward v must match s2 leaving v.
    const throughFwd = (dirsFrom(s1, v) & BWD ? 1 : 0) === (dirsFrom(s2, v) & FWD ? 1 : 0);
    const throughBwd = (dirsFrom(s1, v) & FWD ? 1 : 0) === (dirsFrom(s2, v) & BWD ? 1 : 0);
    if (!throughFwd || !throughBwd) junction[v] = 1;
  }

  const segEdge = new Uint32Array(S).fill(0xffffffff);
  const segRev = new Uint8Array(S),
    segOff = new Float64Array(S),
    segOffT = new Float64Array(S);
  const eTail: number[] = [],
    eHead: number[] = [],
    eLen: number[] = [],
    eTime: number[] = [],
    eDirs: number[] = [];
  const eSegStart: number[] = [0],
    eSegs: number[] = [];

  const walk = (u: number, first: number) => {
    const e = eTail.length;
    let v = u,
      s = first,
      len = 0,
      time = 0;
    const dirs = dirsFrom(first, u);
    for (;;) {
      segEdge[s] = e;
      segRev[s] = segA[s] === v ? 0 : 1;
      segOff[s] = len;
      segOffT[s] = time;
      len += net.segLen[s];
      time += net.segTime[s];
      eSegs.push(s);
      v = other(s, v);
      if (junction[v]) break;
      const a = inc.segs[inc.start[v]],
        b = inc.segs[inc.start[v] + 1];
      s = a === s ? b : a;
    }
    eTail.push(u);
    eHead.push(v);
    eLen.push(len);
    eTime.push(time);
    eDirs.push(dirs);
    eSegStart.push(eSegs.length);
  };
  const walkFrom = (u: number) => {
    for (let j = inc.start[u]; j < inc.start[u + 1]; j++) {
      const s = inc.segs[j];
      // A self-loop is listed twice at u; either way it is one edge.
      if (segEdge[s] === 0xffffffff) walk(u, s);
    }
  };
  for (let u = 0; u < V; u++) if (junction[u]) walkFrom(u);
  // Whatever is left are closed rings of degree-2 vertices: cut each once.
  for (let s = 0; s < S; s++) {
    if (segEdge[s] !== 0xffffffff) continue;
    junction[segA[s]] = 1;
    walkFrom(segA[s]);
  }

  const E = eTail.length;
  const J = junction.reduce((a, b) => a + b, 0);
  for (const f of net.forbidden) if (!junction[f.via]) throw new Error('internal: a restriction via vertex is not a junction');

  // Renumber vertices: junctions first, so the per-vertex CSRs below only
  // need J + 1 entries, and among them first the F via vertices of forbidden
  // turns (fbStart has F + 1 entries); then the chain interiors edge by edge,
  // in order along each edge. Otherwise the old order is kept.
  const newV = new Uint32Array(V);
  const isVia = new Uint8Array(V);
  for (const f of net.forbidden) isVia[f.via] = 1;
  let nv = 0;
  for (let v = 0; v < V; v++) if (isVia[v]) newV[v] = nv++;
  const F = nv;
  for (let v = 0; v < V; v++) if (junction[v] && !isVia[v]) newV[v] = nv++;
  // Segments are renumbered edge by edge: new segment i is eSegs[i], so an
  // edge's segments are the range eSegStart[e] .. eSegStart[e+1]-1.
  for (let i = 0; i < S; i++) {
    const s = eSegs[i];
    // The vertex a segment reaches in its edge's direction, unless it is the head.
    if (i + 1 < eSegStart[segEdge[s] + 1]) {
      const v = segRev[s] ? segA[s] : segB[s];
      newV[v] = nv++;
    }
  }
  if (nv !== V) throw new Error(`internal: renumbered ${nv} of ${V} vertices`);

  // Per-segment arrays in the new segment order, vertex numbers renamed.
  const perm = <T extends Uint8Array | Uint32Array | Float64Array>(a: T, map?: Uint32Array): T => {
    const out = new (a.constructor as new (n: number) => T)(S);
    for (let i = 0; i < S; i++) out[i] = map ? map[a[eSegs[i]]] : a[eSegs[i]];
    return out;
  };
  const segIdx = new Uint16Array(S);
  for (let i = 0; i < S; i++) {
    const s = eSegs[i];
    if (net.segIdx[s] > 0xffff) throw new Error(`way ${net.wayIds[net.segWay[s]]} has over 65,536 segments: segment indices are stored in 16 bits`);
    segIdx[i] = net.segIdx[s];
  }
  const vLat = new Float64Array(V),
    vLng = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    vLat[newV[v]] = net.vLat[v];
    vLng[newV[v]] = net.vLng[v];
  }
  const tail = Uint32Array.from(eTail, (v) => newV[v]),
    head = Uint32Array.from(eHead, (v) => newV[v]);

  // CSR of directed edges leaving / arriving at each junction (allowed ones only).
  const outStart = new Uint32Array(J + 1),
    inStart = new Uint32Array(J + 1);
  const dirOk = (d: number) => (eDirs[d >> 1] & ((d & 1) === 0 ? FWD : BWD)) !== 0;
  const fromV = (d: number) => ((d & 1) === 0 ? tail[d >> 1] : head[d >> 1]);
  const toV = (d: number) => ((d & 1) === 0 ? head[d >> 1] : tail[d >> 1]);
  for (let d = 0; d < 2 * E; d++)
    if (dirOk(d)) {
      outStart[fromV(d) + 1]++;
      inStart[toV(d) + 1]++;
    }
  for (let v = 0; v < J; v++) {
    outStart[v + 1] += outStart[v];
    inStart[v + 1] += inStart[v];
  }
  const outList = new Uint32Array(outStart[J]),
    inList = new Uint32Array(inStart[J]);
  const of = outStart.slice(0, J),
    inf = inStart.slice(0, J);
  for (let d = 0; d < 2 * E; d++)
    if (dirOk(d)) {
      outList[of[fromV(d)]++] = d;
      inList[inf[toV(d)]++] = d;
    }

  // Segment-level forbidden turns → directed-edge pairs at their via junction.
  const dirEdgeOf = (sd: number) => {
    const s = sd >> 1;
    return segEdge[s] * 2 + ((sd & 1) ^ segRev[s]);
  };
  const fb = net.forbidden.map((f) => ({ via: newV[f.via], in: dirEdgeOf(f.from), out: dirEdgeOf(f.to) }));
  fb.sort((a, b) => a.via - b.via || a.in - b.in || a.out - b.out);
  const fbStart = new Uint32Array(F + 1);
  for (const f of fb) fbStart[f.via + 1]++;
  for (let v = 0; v < F; v++) fbStart[v + 1] += fbStart[v];

  // Spatial index; x is longitude scaled to look metric. The mean latitude is
  // summed in the network's vertex order.
  let latSum = 0;
  for (let v = 0; v < V; v++) latSum += net.vLat[v];
  const kx = V ? Math.cos((latSum / V) * DEG) : 1;
  if (S === 0) throw new Error('the map has no roads for this profile');
  // Its items are runs of up to SPATIAL_RUN consecutive segments of one edge
  // (a piece of one chain: its box stays tight): item e < E is the first run
  // of edge e, item E + i the later run starting at segment spatialRuns[i].
  const runs: number[] = [];
  for (let e = 0; e < E; e++) runs.push(eSegStart[e]);
  const more: number[] = [];
  for (let e = 0; e < E; e++) for (let lo = eSegStart[e] + SPATIAL_RUN; lo < eSegStart[e + 1]; lo += SPATIAL_RUN) more.push(lo);
  runs.push(...more);
  // Float32 boxes, each rounded outward so it still contains its segments:
  // the snapper uses box distances only as lower bounds and projects exactly.
  const index = new Flatbush(runs.length, 16, Float32Array);
  for (const lo of runs) {
    const hi = Math.min(lo + SPATIAL_RUN, eSegStart[segEdge[eSegs[lo]] + 1]);
    let x0 = Infinity,
      y0 = Infinity,
      x1 = -Infinity,
      y1 = -Infinity;
    for (let i = lo; i < hi; i++) {
      const s = eSegs[i];
      for (const v of [segA[s], segB[s]]) {
        const x = net.vLng[v] * kx,
          y = net.vLat[v];
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
    index.add(f32Down(x0), f32Down(y0), f32Up(x1), f32Up(y1));
  }
  index.finish();

  return {
    junctions: J,
    kx,
    arrays: {
      vLat,
      vLng,
      wayIds: net.wayIds,
      segA: perm(segA, newV),
      segB: perm(segB, newV),
      segWay: perm(net.segWay),
      segIdx,
      segLen: perm(net.segLen),
      segTime: perm(net.segTime),
      segEdge: perm(segEdge),
      segRev: perm(segRev),
      segOff: perm(segOff),
      segOffT: perm(segOffT),
      eLen: Float64Array.from(eLen),
      eTime: Float64Array.from(eTime),
      eDirs: Uint8Array.from(eDirs),
      eSegStart: Uint32Array.from(eSegStart),
      inStart,
      inList,
      outStart,
      outList,
      fbStart,
      fbIn: Uint32Array.from(fb, (f) => f.in),
      fbOut: Uint32Array.from(fb, (f) => f.out),
      spatial: new Uint8Array(index.data),
      spatialRuns: Uint32Array.from(more),
    },
  };
}

const f32 = new Float32Array(1),
  f32bits = new Int32Array(f32.buffer);

/** The largest float32 ≤ x (x finite). */
export function f32Down(x: number): number {
  const f = Math.fround(x);
  return f <= x ? f : f32Step(f, -1);
}

/** The smallest float32 ≥ x (x finite). */
export function f32Up(x: number): number {
  const f = Math.fround(x);
  return f >= x ? f : f32Step(f, 1);
}

/** The float32 next to f (a float32) toward −∞ (dir −1) or +∞ (dir 1). */
function f32Step(f: number, dir: 1 | -1): number {
  if (f === 0) return dir * 2 ** -149;
  f32[0] = f;
  // Magnitude grows when moving away from zero.
  f32bits[0] += f > 0 === dir > 0 ? 1 : -1;
  return f32[0];
}
