// Fresh-process map builds and compiled-map load measurements, shared by
// bench/micro/mapbuild.ts and bench/micro/scaling.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { readMapFile } from '../../src/mapbuild/build.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import type { BuildChildResult } from './build-child.js';
import { gc, median, sink } from './common.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'build-child.js');

export interface BuildStats {
  runs: number;
  buildMsMedian: number;
  buildMsAll: number[];
  peakRssBytesMedian: number;
  peakRssBytesAll: number[];
  baseRssBytes: number;
  fileBytes: number;
  vertices: number;
  segments: number;
  edges: number;
  junctions: number;
}

/** Build `file` `runs` times, each in a fresh Node process; the last output stays at `out`. */
export function buildInChildren(file: string, profile: string, out: string, runs: number): BuildStats {
  const res: BuildChildResult[] = [];
  for (let i = 0; i < runs; i++) {
    const stdout = execFileSync(process.execPath, [CHILD, file, profile, out], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
    res.push(JSON.parse(stdout.trim().split('\n').pop()!) as BuildChildResult);
  }
  const last = res[res.length - 1]!;
  return {
    runs,
    buildMsMedian: median(res.map((r) => r.buildMs)),
    buildMsAll: res.map((r) => Math.round(r.buildMs)),
    peakRssBytesMedian: median(res.map((r) => r.maxRssBytes)),
    peakRssBytesAll: res.map((r) => r.maxRssBytes),
    baseRssBytes: median(res.map((r) => r.baseRssBytes)),
    fileBytes: statSync(out).size,
    vertices: last.vertices,
    segments: last.segments,
    edges: last.edges,
    junctions: last.junctions,
  };
}

export interface LoadStats {
  runs: number;
  loadMsMedian: number;
  loadMsMin: number;
  bytesPerVertex: number;
  heapDeltaBytes: number;
  rssDeltaBytes: number;
}

/** readMapFile `runs` times after one warm-up; memory deltas measured around one extra load. */
export function measureLoad(file: string, runs: number): LoadStats {
  sink.v += readMapFile(file).vertexCount; // warm-up: page cache + JIT
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const g = readMapFile(file);
    ms.push(performance.now() - t0);
    sink.v += g.vertexCount;
  }
  gc();
  gc();
  const m0 = process.memoryUsage();
  const g: RoadGraph = readMapFile(file);
  gc();
  gc();
  const m1 = process.memoryUsage();
  sink.v += g.index.numItems;
  return {
    runs,
    loadMsMedian: median(ms),
    loadMsMin: Math.min(...ms),
    bytesPerVertex: g.buffer.byteLength / g.vertexCount,
    heapDeltaBytes: m1.heapUsed - m0.heapUsed,
    // a SharedArrayBuffer shows in neither heapUsed nor external: RSS is the honest (noisy) figure
    rssDeltaBytes: m1.rss - m0.rss,
  };
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
