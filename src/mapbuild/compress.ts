// Literal road network → compressed graph. Chains of degree-2 vertices become
// one edge (keeping every segment and where it sits along the edge), so the
// search visits junctions only. Chain interiors never hold a turn choice:
// a vertex stays a junction when it is a restriction's via node, touches a
// self-loop, or joins segments whose travel directions differ, so every edge
// has one direction rule along its whole length.
import Flatbush from 'flatbush';
import { type RoadNetwork, FWD, BWD, vertexIncidence } from './roads.js';
import type { GraphArrays } from '../model/graph/roadgraph.js';
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
  // CSR of directed edges leaving / arriving at each vertex (allowed ones only).
  const outStart = new Uint32Array(V + 1),
    inStart = new Uint32Array(V + 1);
  const dirOk = (d: number) => (eDirs[d >> 1] & ((d & 1) === 0 ? FWD : BWD)) !== 0;
  const fromV = (d: number) => ((d & 1) === 0 ? eTail[d >> 1] : eHead[d >> 1]);
  const toV = (d: number) => ((d & 1) === 0 ? eHead[d >> 1] : eTail[d >> 1]);
  for (let d = 0; d < 2 * E; d++)
    if (dirOk(d)) {
      outStart[fromV(d) + 1]++;
      inStart[toV(d) + 1]++;
    }
  for (let v = 0; v < V; v++) {
    outStart[v + 1] += outStart[v];
    inStart[v + 1] += inStart[v];
  }
  const outList = new Uint32Array(outStart[V]),
    inList = new Uint32Array(inStart[V]);
  const of = outStart.slice(0, V),
    inf = inStart.slice(0, V);
  for (let d = 0; d < 2 * E; d++)
    if (dirOk(d)) {
      outList[of[fromV(d)]++] = d;
      inList[inf[toV(d)]++] = d;
    }

  // Segment-level forbidden turns → directed-edge pairs at their via vertex.
  const dirEdgeOf = (sd: number) => {
    const s = sd >> 1;
    return segEdge[s] * 2 + ((sd & 1) ^ segRev[s]);
  };
  const fb = net.forbidden.map((f) => ({ via: f.via, in: dirEdgeOf(f.from), out: dirEdgeOf(f.to) }));
  fb.sort((a, b) => a.via - b.via || a.in - b.in || a.out - b.out);
  const fbStart = new Uint32Array(V + 1);
  for (const f of fb) fbStart[f.via + 1]++;
  for (let v = 0; v < V; v++) fbStart[v + 1] += fbStart[v];

  // Spatial index over segment boxes; x is longitude scaled to look metric.
  let latSum = 0;
  for (let v = 0; v < V; v++) latSum += net.vLat[v];
  const kx = V ? Math.cos((latSum / V) * DEG) : 1;
  if (S === 0) throw new Error('the map has no roads for this profile');
  const index = new Flatbush(S, 16, Float64Array);
  for (let s = 0; s < S; s++) {
    const la = net.vLat[segA[s]],
      lb = net.vLat[segB[s]],
      ga = net.vLng[segA[s]] * kx,
      gb = net.vLng[segB[s]] * kx;
    index.add(Math.min(ga, gb), Math.min(la, lb), Math.max(ga, gb), Math.max(la, lb));
  }
  index.finish();

  return {
    junctions: junction.reduce((a, b) => a + b, 0),
    kx,
    arrays: {
      vLat: net.vLat,
      vLng: net.vLng,
      wayIds: net.wayIds,
      segA,
      segB,
      segWay: net.segWay,
      segIdx: net.segIdx,
      segLen: net.segLen,
      segTime: net.segTime,
      segDirs,
      segEdge,
      segRev,
      segOff,
      segOffT,
      eTail: Uint32Array.from(eTail),
      eHead: Uint32Array.from(eHead),
      eLen: Float64Array.from(eLen),
      eTime: Float64Array.from(eTime),
      eDirs: Uint8Array.from(eDirs),
      eSegStart: Uint32Array.from(eSegStart),
      eSegs: Uint32Array.from(eSegs),
      inStart,
      inList,
      outStart,
      outList,
      fbStart,
      fbIn: Uint32Array.from(fb, (f) => f.in),
      fbOut: Uint32Array.from(fb, (f) => f.out),
      spatial: new Uint8Array(index.data),
    },
  };
}
