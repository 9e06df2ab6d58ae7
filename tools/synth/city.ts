// Seeded synthetic city → a real OSM file (PBF or XML), for benchmarks and
// tests at sizes no bundled extract has. Same options, same bytes.
import { closeSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { layoutCity } from './layout.js';
import { tagObject, type CityModel } from './model.js';
import { isCarRoad } from './roads.js';
import { writePbf, type WriteProgress } from './pbf.js';
import { writeXml } from './xml.js';

export interface CityOptions {
  seed: number;
  /** Target number of road vertices (nodes on car roads); hit within a few percent. */
  vertices: number;
  out: string;
  /** Default: from the file name (.pbf → pbf, else xml). */
  format?: 'pbf' | 'xml';
  /** South-west corner of the city; default Lisbon-ish (38.70, -9.20), so longitudes are negative. */
  lat0?: number;
  lng0?: number;
  progress?: (stage: 'layout' | 'nodes' | 'ways' | 'relations', done: number, total: number) => void;
}

export interface CityResult {
  file: string;
  format: 'pbf' | 'xml';
  nodes: number;
  ways: number;
  relations: number;
  /** Distinct nodes on ways that are car roads by SEMANTICS.md. */
  roadVertices: number;
  bytes: number;
  grid: { rows: number; cols: number };
  /** The model that was written (typed arrays; for tests and oracles). */
  model: CityModel;
}

/** Road vertices per grid junction, measured (≈ 1 junction + 2 edges × 2.3 way nodes + extras; a little low, so the target is met). */
const VERTICES_PER_JUNCTION = 5.68;

export function gridFor(vertices: number): { rows: number; cols: number } {
  if (!Number.isFinite(vertices) || vertices < 100) throw new Error(`vertices must be a number ≥ 100, got ${vertices}`);
  const junctions = vertices / VERTICES_PER_JUNCTION;
  const rows = Math.max(4, Math.round(Math.sqrt(junctions / 1.25)));
  return { rows, cols: Math.max(4, Math.ceil(junctions / rows)) };
}

export function countRoadVertices(m: CityModel): number {
  const onRoad = new Uint8Array(m.nodeCount);
  let count = 0;
  for (let w = 0; w < m.wayCount; w++) {
    if (!isCarRoad(tagObject(m.wayTags[w]!))) continue;
    for (let i = m.wayOffsets[w]!; i < m.wayOffsets[w + 1]!; i++) {
      const n = m.wayRefs[i]!;
      if (onRoad[n] === 0) {
        onRoad[n] = 1;
        count++;
      }
    }
  }
  return count;
}

export async function generateCity(opts: CityOptions): Promise<CityResult> {
  if (!Number.isInteger(opts.seed)) throw new Error(`seed must be an integer, got ${opts.seed}`);
  const format = opts.format ?? (/\.pbf$/i.test(opts.out) ? 'pbf' : 'xml');
  const lat0 = opts.lat0 ?? 38.7,
    lng0 = opts.lng0 ?? -9.2;
  if (!(Math.abs(lat0) < 80) || !(Math.abs(lng0) < 179)) throw new Error(`lat0/lng0 out of range: ${lat0}, ${lng0} (need |lat0| < 80, |lng0| < 179)`);
  const grid = gridFor(opts.vertices);
  opts.progress?.('layout', 0, 1);
  const model = layoutCity({ seed: opts.seed, rows: grid.rows, cols: grid.cols, lat0, lng0 });
  opts.progress?.('layout', 1, 1);
  const roadVertices = countRoadVertices(model);

  mkdirSync(dirname(opts.out), { recursive: true });
  const fd = openSync(opts.out, 'w');
  let bytes: number;
  try {
    const progress: WriteProgress = (stage, done, total) => opts.progress?.(stage, done, total);
    bytes = format === 'pbf' ? writePbf(fd, model, progress) : writeXml(fd, model, progress);
  } catch (e) {
    closeSync(fd);
    unlinkSync(opts.out); // never leave a half-written map behind
    throw e;
  }
  closeSync(fd);
  return {
    file: opts.out,
    format,
    nodes: model.nodeCount,
    ways: model.wayCount,
    relations: model.relations.length,
    roadVertices,
    bytes,
    grid,
    model,
  };
}
