// Scaling with map size: the seeded synthetic city (tools/synth, seed 42) at
// 10k, 100k and 1M road vertices: build time and peak RSS (fresh process),
// compiled size, load time, and KNN P50/P99 with 10,000 drivers.
//   npx tsc -p . && node --expose-gc dist/bench/micro/scaling.js [--quick]   (--quick: 10k and 100k)
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateCity } from '../../tools/synth/city.js';
import { readMapFile } from '../../src/mapbuild/build.js';
import { buildInChildren, measureLoad, tempDir, type BuildStats, type LoadStats } from '../lib/maps.js';
import { measureKnn, placeDrivers, K, LIMIT_M, NOISE_M, type KnnLatency } from '../lib/knn.js';
import { Rng, fmt, gc, header, mb, parseArgs, printTable, saveResult, sink } from '../lib/common.js';

const { quick } = parseArgs();
header('scaling: synthetic city, build / load / KNN by size', quick);
const CITY_SEED = 42;
const SIZES = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const BUILD_RUNS = quick ? 1 : 3;
const LOAD_RUNS = 10;
const DRIVERS = 10_000;
const QUERIES = quick ? 1_500 : 10_000;
const WARMUP = quick ? 300 : 2_000;

interface Row {
  target: number;
  pbfBytes: number;
  genMs: number;
  build: BuildStats;
  load: LoadStats;
  knn: KnnLatency;
  placeMs: number;
}
const rows: Row[] = [];
const { dir, cleanup } = tempDir('faros-bench-scaling-');
try {
  for (const target of SIZES) {
    // generated fresh each time (same seed, same bytes), so a stale file can't skew the figures
    const pbf = join(tmpdir(), `faros-bench-city-${target}-s${CITY_SEED}.osm.pbf`);
    const t0 = performance.now();
    await generateCity({ seed: CITY_SEED, vertices: target, out: pbf, format: 'pbf' });
    const genMs = performance.now() - t0;
    gc();
    const out = join(dir, `city-${target}.faros`);
    const build = buildInChildren(pbf, 'car', out, BUILD_RUNS);
    const load = measureLoad(out, LOAD_RUNS);
    const g = readMapFile(out);
    const rng = new Rng(CITY_SEED + target);
    gc();
    const p = placeDrivers(g, DRIVERS, rng);
    gc();
    const knn = measureKnn(p, 'distance', QUERIES, WARMUP, rng);
    rows.push({ target, pbfBytes: existsSync(pbf) ? statSync(pbf).size : 0, genMs, build, load, knn, placeMs: p.placeMs });
    console.error(`  ${fmt(target)}: build ${fmt(build.buildMsMedian)} ms, P99 ${fmt(knn.p99us)} µs`);
  }
} finally {
  cleanup();
}

printTable(
  [
    'road vertices',
    'PBF MB',
    'build s',
    'peak RSS MB',
    'compiled MB',
    'B/vertex',
    'load ms',
    'KNN P50 µs',
    'KNN P99 µs',
    'KNN CPU P99 µs',
    'KNN max µs',
    'edges exp. P50/P99',
  ],
  rows.map((r) => [
    fmt(r.build.vertices),
    mb(r.pbfBytes),
    fmt(r.build.buildMsMedian / 1000, 2),
    mb(r.build.peakRssBytesMedian),
    mb(r.build.fileBytes),
    fmt(r.load.bytesPerVertex),
    fmt(r.load.loadMsMedian, 1),
    fmt(r.knn.p50us),
    fmt(r.knn.p99us),
    fmt(r.knn.cpuP99us),
    fmt(r.knn.maxUs),
    `${fmt(r.knn.edgesExpandedP50)} / ${fmt(r.knn.edgesExpandedP99)}`,
  ]),
);
console.log(
  `\ncity seed ${CITY_SEED}, car profile; build = compileMap wall clock, median of ${BUILD_RUNS} fresh processes, peak RSS = child's maxRSS; load = readMapFile median of ${LOAD_RUNS}; KNN: ${fmt(DRIVERS)} drivers, K=${K}, ${LIMIT_M} m, distance, ${fmt(QUERIES)} timed queries, points within ${NOISE_M} m of road vertices.`,
);
console.log(
  `saved ${saveResult('scaling', quick, { citySeed: CITY_SEED, buildRuns: BUILD_RUNS, loadRuns: LOAD_RUNS, drivers: DRIVERS, queries: QUERIES, warmup: WARMUP, sizes: rows, sink: sink.v })}`,
);
