// `faros build-map`: compile an OSM file for a profile into a Faros map file.
import { statSync } from 'node:fs';
import { compileMap, writeMapFile, type Log } from '../mapbuild/build.js';
import { loadProfile } from '../mapbuild/profile.js';
import { RoadGraph } from '../model/graph/roadgraph.js';

export async function runBuildMap(o: { map: string; profile: string; out: string; log: Log }): Promise<void> {
  const profile = loadProfile(o.profile);
  const { buffer } = await compileMap(o.map, profile, o.log);
  writeMapFile(o.out, buffer);
  const g = RoadGraph.from(buffer);
  o.log(`wrote ${o.out} (${statSync(o.out).size} bytes): ${JSON.stringify(g.meta.counts)}`);
}
