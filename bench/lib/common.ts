// Shared benchmark plumbing (flatbush style): the machine record, medians and
// percentiles, a sink, seeded points near roads, a table printer, JSON results.
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../tools/synth/prng.js';
import { R, DEG } from '../../src/mapbuild/geo.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';

export { Rng };

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root, from bench/lib (ts) or dist/bench/lib (js). */
export const ROOT = here.includes(`${'/dist/'}`) ? join(here, '..', '..', '..') : join(here, '..', '..');
export const RESULTS_DIR = join(ROOT, 'bench', 'results');

export interface Machine {
  cpu: string;
  cores: number;
  memGB: number;
  os: string;
  node: string;
  date: string;
  loadavg1: number;
}

export function machine(): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memGB: +(totalmem() / 2 ** 30).toFixed(1),
    os: `${platform()} ${release()}`,
    node: process.version,
    date: new Date().toISOString(),
    // the machine is shared: a load above the core count means inflated figures
    loadavg1: +loadavg()[0]!.toFixed(2),
  };
}

export interface Args {
  quick: boolean;
  seed: number;
}

/** --quick, --seed N (or BENCH_SEED). */
export function parseArgs(argv = process.argv.slice(2)): Args {
  let seed = Number(process.env.BENCH_SEED ?? 42);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--seed(?:=(.*))?$/.exec(argv[i]!);
    if (m) seed = Number(m[1] ?? argv[++i]);
  }
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer, e.g. --seed 42');
  return { quick: argv.includes('--quick'), seed };
}

/** Consumed results, so V8 cannot drop the measured work. */
export const sink = { v: 0 };

/** Full GC between phases when run with --expose-gc. */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}
export const hasGc = (): boolean => typeof (globalThis as { gc?: unknown }).gc === 'function';

export function quantile(xs: ArrayLike<number>, q: number): number {
  const a = Float64Array.from(xs).sort();
  if (a.length === 0) return NaN;
  // nearest rank: P99 of 10,000 samples is the 9,900th smallest
  const i = Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1));
  return a[i]!;
}
export const median = (xs: ArrayLike<number>): number => quantile(xs, 0.5);
export const max = (xs: ArrayLike<number>): number => {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i]! > m) m = xs[i]!;
  return m;
};

/** A point uniformly within radiusM of (lat, lng). */
export function jitter(rng: Rng, lat: number, lng: number, radiusM: number): [number, number] {
  const r = radiusM * Math.sqrt(rng.next()),
    a = 2 * Math.PI * rng.next();
  return [lat + (r * Math.sin(a)) / R / DEG, lng + (r * Math.cos(a)) / (R * Math.cos(lat * DEG)) / DEG];
}

/** n points, each within radiusM of a uniformly chosen road vertex: [lat0, lng0, lat1, ...]. */
export function pointsNearRoads(g: RoadGraph, rng: Rng, n: number, radiusM: number): Float64Array {
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const v = rng.int(0, g.vertexCount - 1);
    const [lat, lng] = jitter(rng, g.vLat[v]!, g.vLng[v]!, radiusM);
    out[2 * i] = lat;
    out[2 * i + 1] = lng;
  }
  return out;
}

export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return String(x);
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
export const mb = (bytes: number): string => fmt(bytes / 2 ** 20, 1);

/** Print a GitHub-markdown table (so the output pastes into a README). */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const w = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${w.map((n, c) => (c === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

/** Save under bench/results/<name>[-quick].json (or under `dir`); returns the path. */
export function saveResult(name: string, quick: boolean, data: object, dir = RESULTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ bench: name, quick, machine: machine(), ...data }, null, 2)}\n`);
  return file;
}

export function header(title: string, quick: boolean): void {
  const m = machine();
  console.log(`# ${title}${quick ? ' (--quick)' : ''}`);
  console.log(
    `${m.cpu}, ${m.cores} cores, ${m.memGB} GB, ${m.os}, Node ${m.node}, ${m.date}, load ${m.loadavg1}${hasGc() ? '' : '  (WATCH OUT: run with --expose-gc)'}\n`,
  );
}
