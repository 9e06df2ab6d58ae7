// OSM file → compiled graph, with a cache keyed by the hash of the input file,
// the profile and the format version, so a map is built once and afterwards
// loaded in milliseconds straight into a SharedArrayBuffer.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readOsm, type OsmData } from './osm.js';
import { type Profile, loadProfile, isRoad, MAPS_DIR } from './profile.js';
import { extractRoads } from './roads.js';
import { compress } from './compress.js';
import { RoadGraph, FORMAT_VERSION, type GraphMeta } from '../model/graph/roadgraph.js';

export type Log = (msg: string) => void;

export interface LoadMapOptions {
  /** Where compiled maps are cached. Default maps/.cache of the package. */
  cacheDir?: string;
  /** Progress messages. */
  log?: Log;
  /** Put the graph in a SharedArrayBuffer (default true). */
  shared?: boolean;
}

/** Build the graph of an already parsed OSM file. */
export function buildGraph(osm: OsmData, profile: Profile, source = '(memory)', key = '', shared = false): RoadGraph {
  return RoadGraph.from(buildBuffer(osm, profile, source, key, shared));
}

function buildBuffer(osm: OsmData, profile: Profile, source: string, key: string, shared: boolean): ArrayBufferLike {
  const net = extractRoads(osm, profile);
  const c = compress(net);
  let minLat = Infinity,
    minLng = Infinity,
    maxLat = -Infinity,
    maxLng = -Infinity;
  for (let v = 0; v < net.vLat.length; v++) {
    minLat = Math.min(minLat, net.vLat[v]);
    maxLat = Math.max(maxLat, net.vLat[v]);
    minLng = Math.min(minLng, net.vLng[v]);
    maxLng = Math.max(maxLng, net.vLng[v]);
  }
  const meta: GraphMeta = {
    profile: profile.name,
    source,
    key,
    kx: c.kx,
    bounds: { minLat, minLng, maxLat, maxLng },
    counts: {
      vertices: net.vLat.length,
      junctions: c.junctions,
      ways: net.wayIds.length,
      segments: net.segA.length,
      edges: c.arrays.eSegStart.length - 1,
      restrictions: net.stats.restrictions,
      forbiddenTurns: c.arrays.fbIn.length,
    },
    builtAt: new Date().toISOString(),
  };
  return RoadGraph.serialize(c.arrays, meta, shared);
}

/** Hash of what a compiled map depends on. */
export async function mapKey(file: string, profile: Profile): Promise<string> {
  const h = createHash('sha256');
  h.update(`faros-map-v${FORMAT_VERSION}\n`);
  h.update(JSON.stringify(profile));
  await new Promise<void>((resolve, reject) => {
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return h.digest('hex');
}

/** Parse and compile an OSM file; returns the serialised graph. */
export async function compileMap(file: string, profile: Profile, log: Log = () => {}): Promise<{ buffer: ArrayBufferLike; key: string }> {
  const key = await mapKey(file, profile);
  const t0 = Date.now();
  log(`parsing ${file}`);
  const osm = await readOsm(file, {
    keepWay: (t) => isRoad(profile, t),
    progress: (n) => log(`  ${n} elements read`),
  });
  log(`parsed ${osm.counts.nodes} nodes, ${osm.counts.ways} ways, ${osm.counts.relations} relations in ${Date.now() - t0} ms; building graph`);
  const buffer = buildBuffer(osm, profile, basename(file), key, false);
  const g = RoadGraph.from(buffer);
  const c = g.meta.counts;
  log(
    `built ${basename(file)} (${profile.name}): ${c.vertices} road vertices, ${c.junctions} junctions, ${c.edges} edges, ${c.segments} segments, ${c.restrictions} restrictions in ${Date.now() - t0} ms`,
  );
  return { buffer, key };
}

/** Write a compiled graph to a file atomically. */
export function writeMapFile(out: string, buffer: ArrayBufferLike): void {
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, new Uint8Array(buffer));
  renameSync(tmp, out);
}

/** Read a compiled graph file into a (Shared)ArrayBuffer, no parsing. */
export function readMapFile(file: string, shared = true): RoadGraph {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
    const u8 = new Uint8Array(buf);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, u8, off, size - off, off);
      if (n === 0) throw new Error(`${file}: unexpected end of file`);
      off += n;
    }
    return RoadGraph.from(buf);
  } finally {
    closeSync(fd);
  }
}

/** Load an OSM map for a profile, compiling it on first use (cached). */
export async function loadMap(file: string, profileName: string, opts: LoadMapOptions = {}): Promise<RoadGraph> {
  const log = opts.log ?? (() => {});
  const profile = loadProfile(profileName);
  if (!existsSync(file)) throw new Error(`${file}: map file not found`);
  const cacheDir = opts.cacheDir ?? join(MAPS_DIR, '.cache');
  const key = await mapKey(file, profile);
  const cached = join(cacheDir, `${basename(file).replace(/\.(osm\.pbf|pbf|osm|xml)$/i, '')}-${profile.name}-${key.slice(0, 16)}.faros`);
  if (existsSync(cached)) {
    try {
      const t0 = Date.now();
      const g = readMapFile(cached, opts.shared ?? true);
      if (g.meta.key === key) {
        log(`loaded ${cached} in ${Date.now() - t0} ms`);
        return g;
      }
    } catch (e) {
      log(`ignoring unreadable cache ${cached}: ${(e as Error).message}`);
    }
  }
  const { buffer } = await compileMap(file, profile, log);
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeMapFile(cached, buffer);
    log(`cached as ${cached}`);
  } catch (e) {
    log(`could not write cache ${cached}: ${(e as Error).message}`);
  }
  if (opts.shared ?? true) {
    const sab = new SharedArrayBuffer(buffer.byteLength);
    new Uint8Array(sab).set(new Uint8Array(buffer));
    return RoadGraph.from(sab);
  }
  return RoadGraph.from(buffer);
}
