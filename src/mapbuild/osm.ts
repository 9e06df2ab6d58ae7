// Reads an OSM PBF or XML file with osm-read into plain arrays.
// osm-read quirks handled here: IDs are strings; node, way and relation IDs
// live in separate namespaces (they overlap in bayfront_singapore); blocks may
// arrive in any order (ways before their nodes), so nothing is resolved until
// the whole file is read; a missing file crashes osm-read and a truncated XML
// file ends "successfully", so both are checked before and after parsing.
import { createRequire } from 'node:module';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Tags } from './profile.js';

const require = createRequire(import.meta.url);
// osm-read ships no types; this is the part of its API we use.
interface OsmReadNode {
  id: string;
  lat: number;
  lon: number;
}
interface OsmReadWay {
  id: string;
  tags: Tags;
  nodeRefs: string[];
}
interface OsmReadMember {
  type: string;
  ref: string;
  role: string;
}
interface OsmReadRelation {
  id: string;
  tags: Tags;
  members: OsmReadMember[];
}
interface OsmReadOptions {
  filePath: string;
  format: 'pbf' | 'xml';
  node(n: OsmReadNode): void;
  way(w: OsmReadWay): void;
  relation(r: OsmReadRelation): void;
  endDocument(): void;
  error(e: unknown): void;
}
const osmRead = require('osm-read') as { parse(o: OsmReadOptions): unknown };

export interface OsmWay {
  id: string;
  tags: Tags;
  refs: string[];
}
export interface OsmMember {
  type: 'node' | 'way' | 'relation';
  ref: string;
  role: string;
}
export interface OsmRelation {
  id: string;
  tags: Tags;
  members: OsmMember[];
}

/** Everything of an OSM file a road graph needs. */
export interface OsmData {
  /** node ID → index into lat/lon. */
  nodeIndex: Map<string, number>;
  lat: Float64Array;
  lon: Float64Array;
  /** Kept ways, in file order. */
  ways: OsmWay[];
  /** Kept relations, in file order. */
  relations: OsmRelation[];
  counts: { nodes: number; ways: number; relations: number };
}

export interface ReadOsmOptions {
  /** Keep a way? Default: every way with a `highway` tag. */
  keepWay?: (tags: Tags) => boolean;
  /** Keep a relation? Default: `type=restriction`. */
  keepRelation?: (tags: Tags) => boolean;
  /** Called now and then with the number of elements read. */
  progress?: (elements: number) => void;
  /** Give up when no element arrives for this long (ms). Default 60 s. */
  stallTimeoutMs?: number;
}

export class OsmFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'OsmFileError';
  }
}

export function osmFormat(file: string): 'pbf' | 'xml' {
  if (/\.pbf$/i.test(file)) return 'pbf';
  if (/\.(osm|xml)$/i.test(file)) return 'xml';
  throw new OsmFileError(file, 'unknown map format: expected a .osm.pbf (PBF) or .osm/.xml (OSM XML) file');
}

function checkFile(file: string, format: 'pbf' | 'xml'): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new OsmFileError(file, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof OsmFileError) throw e;
    throw new OsmFileError(file, `cannot read map file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (size === 0) throw new OsmFileError(file, 'map file is empty');
  if (format === 'xml') {
    // WATCH OUT: osm-read reports a truncated XML file as a complete document.
    const fd = openSync(file, 'r');
    try {
      const n = Math.min(size, 256);
      const tail = Buffer.alloc(n);
      readSync(fd, tail, 0, n, size - n);
      if (!/<\/osm>\s*$/.test(tail.toString('latin1'))) throw new OsmFileError(file, 'truncated OSM XML: no closing </osm> tag');
    } finally {
      closeSync(fd);
    }
  }
}

/** Parse an OSM file; rejects with OsmFileError on any problem, never hangs. */
export function readOsm(file: string, opts: ReadOsmOptions = {}): Promise<OsmData> {
  const format = osmFormat(file);
  checkFile(file, format);
  const keepWay = opts.keepWay ?? ((t: Tags) => t.highway !== undefined);
  const keepRelation = opts.keepRelation ?? ((t: Tags) => t.type === 'restriction');
  const stallMs = opts.stallTimeoutMs ?? 60_000;

  const nodeIndex = new Map<string, number>();
  let lat = new Float64Array(1 << 16);
  let lon = new Float64Array(1 << 16);
  const ways: OsmWay[] = [];
  const relations: OsmRelation[] = [];
  const counts = { nodes: 0, ways: 0, relations: 0 };
  let elements = 0;
  let lastActivity = Date.now();
  const tick = () => {
    elements++;
    if ((elements & 0xffff) === 0) {
      lastActivity = Date.now();
      opts.progress?.(elements);
    }
  };

  return new Promise<OsmData>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      clearInterval(watchdog);
      if (err) {
        reject(err);
        return;
      }
      resolve({ nodeIndex, lat: lat.subarray(0, nodeIndex.size), lon: lon.subarray(0, nodeIndex.size), ways, relations, counts });
    };
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastActivity > stallMs) finish(new OsmFileError(file, `parser stalled for ${stallMs} ms; the file is probably corrupt`));
      },
      Math.min(1000, stallMs),
    );
    const guard =
      <T>(fn: (x: T) => void) =>
      (x: T) => {
        if (done) return;
        try {
          fn(x);
        } catch (e) {
          finish(new OsmFileError(file, `bad OSM data: ${(e as Error).message}`));
        }
      };
    try {
      osmRead.parse({
        filePath: file,
        format,
        node: guard((n: OsmReadNode) => {
          tick();
          counts.nodes++;
          if (!Number.isFinite(n.lat) || !Number.isFinite(n.lon)) return;
          let i = nodeIndex.get(n.id);
          if (i === undefined) {
            i = nodeIndex.size;
            if (i === lat.length) {
              const nl = new Float64Array(lat.length * 2);
              nl.set(lat);
              lat = nl;
              const no = new Float64Array(lon.length * 2);
              no.set(lon);
              lon = no;
            }
            nodeIndex.set(n.id, i);
          }
          lat[i] = n.lat;
          lon[i] = n.lon;
        }),
        way: guard((w: OsmReadWay) => {
          tick();
          counts.ways++;
          if (keepWay(w.tags)) ways.push({ id: String(w.id), tags: w.tags, refs: w.nodeRefs.map(String) });
        }),
        relation: guard((r: OsmReadRelation) => {
          tick();
          counts.relations++;
          if (keepRelation(r.tags)) {
            relations.push({
              id: String(r.id),
              tags: r.tags,
              members: r.members.map((m) => ({ type: m.type as OsmMember['type'], ref: String(m.ref), role: m.role ?? '' })),
            });
          }
        }),
        endDocument: () => finish(null),
        error: (e: unknown) => finish(new OsmFileError(file, `corrupt or unreadable ${format.toUpperCase()}: ${e instanceof Error ? e.message : String(e)}`)),
      });
    } catch (e) {
      finish(new OsmFileError(file, `cannot parse: ${(e as Error).message}`));
    }
  });
}
