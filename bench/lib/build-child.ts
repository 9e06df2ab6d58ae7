// Runs in a fresh process: parse + compile one OSM file, write the compiled
// map, report wall time and this process's peak RSS as one JSON line.
//   node dist/bench/lib/build-child.js <in.osm.pbf> <profile> <out.faros>
import { performance } from 'node:perf_hooks';
import { compileMap, writeMapFile } from '../../src/mapbuild/build.js';
import { loadProfile } from '../../src/mapbuild/profile.js';
import { RoadGraph } from '../../src/model/graph/roadgraph.js';

export interface BuildChildResult {
  buildMs: number;
  maxRssBytes: number;
  baseRssBytes: number;
  bytes: number;
  vertices: number;
  segments: number;
  edges: number;
  junctions: number;
}

async function main(): Promise<void> {
  const [file, profileName, out] = process.argv.slice(2);
  if (!file || !profileName || !out) throw new Error('usage: build-child.js <in.osm.pbf> <profile> <out.faros>');
  const baseRssBytes = process.resourceUsage().maxRSS * 1024;
  const profile = loadProfile(profileName);
  const t0 = performance.now();
  const { buffer } = await compileMap(file, profile);
  const buildMs = performance.now() - t0;
  // maxRSS is in kilobytes (getrusage)
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  writeMapFile(out, buffer);
  const c = RoadGraph.from(buffer).meta.counts;
  const r: BuildChildResult = {
    buildMs,
    maxRssBytes,
    baseRssBytes,
    bytes: buffer.byteLength,
    vertices: c.vertices,
    segments: c.segments,
    edges: c.edges,
    junctions: c.junctions,
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

main().catch((e: unknown) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
