// KNN latency, one thread: K=10 within 3 km (distance; eta within 300 s) at
// 1,000 / 10,000 / 100,000 drivers on Andorra and Monaco. Per-query timing
// (performance.now) after a warm-up; the query's own snap is included.
// Target: P99 ≤ 1 ms at 10,000 drivers.
//   npx tsc -p . && node --expose-gc dist/bench/micro/knn.js [--quick]
import { join } from 'node:path';
import { loadMap } from '../../src/mapbuild/build.js';
import { MAPS_DIR } from '../../src/mapbuild/profile.js';
import type { Metric } from '../../src/model/types.js';
import { Rng, fmt, gc, header, parseArgs, printTable, saveResult, sink } from '../lib/common.js';
import { K, LIMIT_M, LIMIT_S, NOISE_M, measureKnn, placeDrivers, type KnnLatency } from '../lib/knn.js';

const { quick, seed } = parseArgs();
header('knn: nearby() latency, one thread', quick);
const QUERIES = quick ? 1_500 : 10_000;
const WARMUP = quick ? 300 : 2_000;
const SIZES = [1_000, 10_000, 100_000];
const MAPS = ['andorra.osm.pbf', 'monaco.osm.pbf'];
const METRICS: Metric[] = ['distance', 'eta'];

const out: ({ map: string; vertices: number; edges: number; drivers: number; refused: number; placeMs: number } & KnnLatency)[] = [];
for (const f of MAPS) {
  const g = await loadMap(join(MAPS_DIR, f), 'car');
  for (const n of SIZES) {
    const rng = new Rng(seed + n);
    gc();
    const p = placeDrivers(g, n, rng);
    for (const metric of METRICS) {
      gc();
      const l = measureKnn(p, metric, QUERIES, WARMUP, rng);
      out.push({ map: f, vertices: g.vertexCount, edges: g.edgeCount, drivers: p.placed, refused: p.refused, placeMs: p.placeMs, ...l });
      console.error(`  ${f} ${fmt(n)} ${metric}: P99 ${fmt(l.p99us)} µs`);
    }
  }
}

printTable(
  [
    'map (car)',
    'drivers',
    'metric',
    'P50 µs',
    'P90 µs',
    'P99 µs',
    'max µs',
    '>1 ms',
    'CPU P50/P99 µs',
    'edges exp. P50/P99',
    'cands P50/P99',
    'found P50',
    'queries/s',
    'P99 ≤ 1 ms',
  ],
  out.map((r) => [
    r.map,
    fmt(r.drivers),
    r.metric,
    fmt(r.p50us),
    fmt(r.p90us),
    fmt(r.p99us),
    fmt(r.maxUs),
    fmt(r.over1ms),
    `${fmt(r.cpuP50us)} / ${fmt(r.cpuP99us)}`,
    `${fmt(r.edgesExpandedP50)} / ${fmt(r.edgesExpandedP99)}`,
    `${fmt(r.candidatesSeenP50)} / ${fmt(r.candidatesSeenP99)}`,
    fmt(r.foundP50),
    fmt(r.queriesPerS),
    r.p99us <= 1000 ? 'yes' : 'NO',
  ]),
);
console.log(
  `\nK=${K}, limit ${LIMIT_M} m (distance) / ${LIMIT_S} s (eta); drivers and queries within ${NOISE_M} m of random road vertices (seed ${seed}); ${fmt(QUERIES)} timed queries after ${fmt(WARMUP)} warm-up; gc() before each phase; times include the query's snap; CPU = process CPU time per query (getrusage, µs resolution), which leaves out time the OS gave to other processes.`,
);
console.log(
  `saved ${saveResult('knn', quick, { seed, k: K, limitM: LIMIT_M, limitS: LIMIT_S, noiseM: NOISE_M, queries: QUERIES, warmup: WARMUP, results: out, sink: sink.v })}`,
);
