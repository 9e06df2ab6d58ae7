// Snapping throughput, one thread, per bundled map (car): points within 50 m
// of a random road vertex, uniform points in the map's bounding box, and far
// points 1–3 km outside it (every one a miss); plus a bare flatbush
// neighbors(x, y, 1) over the near points for comparison. Target ≥ 150,000/s.
//   npx tsc -p . && node --expose-gc dist/bench/micro/snap.js [--quick]
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadMap } from '../../src/mapbuild/build.js';
import { MAPS_DIR } from '../../src/mapbuild/profile.js';
import { Snapper } from '../../src/model/snap/snap.js';
import { DEFAULT_MODEL_OPTIONS } from '../../src/model/model.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { R, DEG } from '../../src/mapbuild/geo.js';
import { Rng, fmt, gc, header, median, parseArgs, pointsNearRoads, printTable, saveResult, sink } from '../lib/common.js';

const { quick, seed } = parseArgs();
header('snap: points/s, one thread', quick);
const N = quick ? 8_000 : 100_000;
const RUNS = quick ? 3 : 7;
const RADIUS = DEFAULT_MODEL_OPTIONS.snapRadiusM;
const TARGET = 150_000;

function bboxPoints(g: RoadGraph, rng: Rng, n: number): Float64Array {
  const b = g.meta.bounds,
    out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = rng.range(b.minLat, b.maxLat);
    out[2 * i + 1] = rng.range(b.minLng, b.maxLng);
  }
  return out;
}

/** 1–3 km beyond a random side of the bounding box. */
function farPoints(g: RoadGraph, rng: Rng, n: number): Float64Array {
  const b = g.meta.bounds,
    out = new Float64Array(2 * n);
  const cos = Math.cos(((b.minLat + b.maxLat) / 2) * DEG);
  for (let i = 0; i < n; i++) {
    const off = rng.range(1000, 3000) / R / DEG;
    let lat = rng.range(b.minLat, b.maxLat),
      lng = rng.range(b.minLng, b.maxLng);
    switch (rng.int(0, 3)) {
      case 0:
        lat = b.maxLat + off;
        break;
      case 1:
        lat = b.minLat - off;
        break;
      case 2:
        lng = b.maxLng + off / cos;
        break;
      default:
        lng = b.minLng - off / cos;
    }
    out[2 * i] = lat;
    out[2 * i + 1] = lng;
  }
  return out;
}

interface Kind {
  name: string;
  pointsPerS: number;
  nsPerPoint: number;
  hitRate: number;
  runs: number[];
}

function timeSnap(s: Snapper, pts: Float64Array): { ps: number[]; hits: number } {
  const n = pts.length / 2;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const r = s.snap(pts[2 * i]!, pts[2 * i + 1]!, RADIUS);
    if ('segment' in r) hits++;
  } // warm-up
  const ps: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let acc = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = s.snap(pts[2 * i]!, pts[2 * i + 1]!, RADIUS);
      acc += 'segment' in r ? r.segment : r.nearestM;
    }
    const dt = performance.now() - t0;
    sink.v += acc;
    ps.push(n / (dt / 1000));
  }
  return { ps, hits };
}

function timeNeighbors(g: RoadGraph, pts: Float64Array): number[] {
  const n = pts.length / 2,
    kx = g.meta.kx,
    idx = g.index;
  for (let i = 0; i < n; i++) sink.v += idx.neighbors(pts[2 * i + 1]! * kx, pts[2 * i]!, 1)[0] ?? 0;
  const ps: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let acc = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) acc += idx.neighbors(pts[2 * i + 1]! * kx, pts[2 * i]!, 1)[0] ?? 0;
    const dt = performance.now() - t0;
    sink.v += acc;
    ps.push(n / (dt / 1000));
  }
  return ps;
}

const maps = readdirSync(MAPS_DIR)
  .filter((f) => f.endsWith('.osm.pbf'))
  .sort();
const out: { map: string; vertices: number; segments: number; kinds: Kind[] }[] = [];
for (const f of maps) {
  const g = await loadMap(join(MAPS_DIR, f), 'car');
  const rng = new Rng(seed);
  const sets: [string, Float64Array][] = [
    ['near ≤50 m', pointsNearRoads(g, rng, N, 50)],
    ['uniform in bbox', bboxPoints(g, rng, N)],
    ['far 1–3 km out', farPoints(g, rng, N)],
  ];
  const kinds: Kind[] = [];
  const s = new Snapper(g);
  for (const [name, pts] of sets) {
    gc();
    const { ps, hits } = timeSnap(s, pts);
    const m = median(ps);
    kinds.push({ name, pointsPerS: m, nsPerPoint: 1e9 / m, hitRate: hits / N, runs: ps.map(Math.round) });
  }
  gc();
  const nb = timeNeighbors(g, sets[0]![1]);
  kinds.push({ name: 'flatbush neighbors(x,y,1), near', pointsPerS: median(nb), nsPerPoint: 1e9 / median(nb), hitRate: 1, runs: nb.map(Math.round) });
  out.push({ map: f, vertices: g.vertexCount, segments: g.segmentCount, kinds });
}

const rows: string[][] = [];
for (const m of out)
  for (const k of m.kinds)
    rows.push([
      m.map,
      fmt(m.segments),
      k.name,
      fmt(k.pointsPerS),
      fmt(k.nsPerPoint / 1000, 2),
      `${fmt(k.hitRate * 100, 1)}%`,
      k.name.startsWith('flatbush') ? '' : k.pointsPerS >= TARGET ? 'yes' : 'NO',
    ]);
printTable(['map (car)', 'segments', 'points', 'points/s', 'µs/point', 'snapped', `≥${fmt(TARGET)}/s`], rows);
console.log(
  `\n${fmt(N)} seeded points per set (seed ${seed}), snap radius ${RADIUS} m; median of ${RUNS} runs after a warm-up pass; Snapper.snap directly (no Model).`,
);
console.log(`saved ${saveResult('snap', quick, { seed, points: N, runs: RUNS, radiusM: RADIUS, targetPerS: TARGET, maps: out, sink: sink.v })}`);
