// Map build benchmark: per bundled map (car profile) the build time (parse +
// compile, each run in a fresh process so peak RSS is real), compiled size,
// load time of the compiled file, and memory per road vertex of a loaded map:
// the compiled buffer and the snap grid (built once per map, both shared by
// every thread), and their sum.
//   npx tsc -p . && node --expose-gc dist/bench/micro/mapbuild.js [--quick]
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MAPS_DIR } from '../../src/mapbuild/profile.js';
import { readMapFile } from '../../src/mapbuild/build.js';
import { SnapGrid } from '../../src/model/snap/snap-grid.js';
import { buildInChildren, measureLoad, tempDir } from '../lib/maps.js';
import { fmt, gc, header, mb, parseArgs, printTable, saveResult, sink } from '../lib/common.js';

const { quick } = parseArgs();
header('mapbuild: parse + compile (fresh process), size, load', quick);
const BUILD_RUNS = quick ? 1 : 3;
const LOAD_RUNS = 10;
const all = readdirSync(MAPS_DIR)
  .filter((f) => f.endsWith('.osm.pbf'))
  .sort();
// --quick: the two smallest compiles only
const files = quick ? all.filter((f) => /monaco|bayfront/.test(f)) : all;

const { dir, cleanup } = tempDir('faros-bench-mapbuild-');
const rows: Record<string, unknown>[] = [];
try {
  for (const f of files) {
    const out = join(dir, f.replace(/\.osm\.pbf$/, '.faros'));
    const b = buildInChildren(join(MAPS_DIR, f), 'car', out, BUILD_RUNS);
    gc();
    const l = measureLoad(out, LOAD_RUNS);
    const g = readMapFile(out, false);
    const grid = new SnapGrid(g);
    const gridBytesPerVertex = grid.byteLength / g.vertexCount;
    rows.push({
      map: f,
      profile: 'car',
      ...b,
      ...l,
      gridBytes: grid.byteLength,
      gridBytesPerVertex,
      loadedBytesPerVertex: l.bytesPerVertex + gridBytesPerVertex,
    });
    console.error(`  ${f}: built in ${fmt(b.buildMsMedian)} ms`);
  }
} finally {
  cleanup();
}

printTable(
  ['map (car)', 'road vertices', 'build ms', 'peak RSS MB', 'file MB', 'load ms', 'B/vertex', 'grid B/vertex', 'loaded B/vertex', 'heap Δ KB'],
  rows.map((r) => {
    const x = r as unknown as {
      map: string;
      vertices: number;
      buildMsMedian: number;
      peakRssBytesMedian: number;
      fileBytes: number;
      loadMsMedian: number;
      bytesPerVertex: number;
      gridBytesPerVertex: number;
      loadedBytesPerVertex: number;
      heapDeltaBytes: number;
      rssDeltaBytes: number;
    };
    return [
      x.map,
      fmt(x.vertices),
      fmt(x.buildMsMedian),
      mb(x.peakRssBytesMedian),
      mb(x.fileBytes),
      fmt(x.loadMsMedian, 2),
      fmt(x.bytesPerVertex, 1),
      fmt(x.gridBytesPerVertex, 1),
      fmt(x.loadedBytesPerVertex, 1),
      fmt(x.heapDeltaBytes / 1024),
    ];
  }),
);
console.log(
  `\nbuild: median of ${BUILD_RUNS} fresh processes (wall clock of compileMap); peak RSS = child's maxRSS; load: readMapFile, median of ${LOAD_RUNS} after a warm-up (page cache hot); B/vertex = compiled buffer / road vertices (one per process, shared by its threads); grid B/vertex = the snap grid's buffer / road vertices (built once per map by the thread that loads it, viewed by every snapping or searching thread); loaded B/vertex = the two together, a loaded map's memory before drivers; heap Δ around one more load (the map lives in a SharedArrayBuffer outside the JS heap; RSS Δ, in the JSON, is unreliable as freed buffers are reused).`,
);
const file = saveResult('mapbuild', quick, { buildRuns: BUILD_RUNS, loadRuns: LOAD_RUNS, maps: rows, sink: sink.v });
console.log(`saved ${file}`);
