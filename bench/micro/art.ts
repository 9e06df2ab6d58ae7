// ART benchmark: inserts/s, lookups/s, prefix scans/s and bytes per key at
// 10^4..10^6 keys, against a JS Map and a sorted array in the same run, then a
// 1M-update churn of 50k drivers with arena bytes sampled over time.
//
//   node dist/bench/micro/art.js [--quick] [--seed N]
//
// Seeded data, one warm-up, median of repeated runs, results into a sink,
// machine and Node version recorded; JSON in bench/results/art.json and
// art-churn.json, plot in bench/results/art-churn.svg.

import { cpus, platform, release } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ArtArena, type Prefix32Callback } from '../../src/model/store/art/index.js';
import { asciiPlot, svgPlot } from './art-plot.js';
import { mulberry32 } from '../../src/rng.js';
import { RESULTS_DIR as RESULTS } from '../lib/common.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const seedArg = argv.indexOf('--seed');
const SEED = seedArg >= 0 ? Number(argv[seedArg + 1]) : 42;
const VALUE_WORDS = 4;
const TXN = 1000;

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const sink = { v: 0 };

const rng = mulberry32;

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.floor(a.length / 2)];
}

/** Runs f (warm-up + reps), returns the median ops/s for `ops` operations per run. */
function measure(reps: number, ops: number, f: () => void): number {
  // Warm-up until the JIT has settled: at least 3 runs and 300 ms (100 ms with --quick).
  const w0 = Date.now();
  for (let i = 0; i < 3 || Date.now() - w0 < (QUICK ? 100 : 300); i++) f();
  const rates: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    f();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(ops / dt);
  }
  return median(rates);
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

type KeyKind = 'driver' | 'edge';

interface Data {
  kind: KeyKind;
  n: number;
  hi: Uint32Array; // insertion order
  lo: Uint32Array;
  qIdx: Int32Array; // lookup queries: indices into hi/lo
  scanEdges: Uint32Array; // prefix-scan queries (edge kind)
}

function makeData(kind: KeyKind, n: number, queries: number, seed: number): Data {
  const r = rng(seed);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  // Edge IDs of a compiled graph are dense 0..E-1; take E = max(n, 2^21) (a city).
  const edgesN = Math.max(n, 1 << 21);
  for (let i = 0; i < n; i++) {
    if (kind === 'driver') hi[i] = i;
    else {
      hi[i] = Math.floor(r() * edgesN);
      lo[i] = i;
    }
  }
  // Shuffle insertion order (drivers arrive in any order).
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [hi[i], hi[j]] = [hi[j], hi[i]];
    [lo[i], lo[j]] = [lo[j], lo[i]];
  }
  const qIdx = new Int32Array(queries);
  for (let i = 0; i < queries; i++) qIdx[i] = Math.floor(r() * n);
  const scanEdges = new Uint32Array(queries);
  for (let i = 0; i < queries; i++) scanEdges[i] = r() < 0.5 ? hi[qIdx[i]] : Math.floor(r() * edgesN);
  return { kind, n, hi, lo, qIdx, scanEdges };
}

interface Row {
  structure: string;
  keys: KeyKind;
  n: number;
  insertsPerSec: number;
  lookupsPerSec: number;
  prefixScansPerSec: number | null;
  bytesPerKey: number;
  note?: string;
}

function benchArt(d: Data, reps: number): Row {
  const width = d.kind === 'driver' ? 4 : 8;
  const maxBytes = Math.max(16 << 20, d.n * 160 + (8 << 20));
  let arena = ArtArena.create({ maxBytes });
  let tree = arena.addTree({ keyBytes: width, valueWords: VALUE_WORDS });
  const build = (): void => {
    arena = ArtArena.create({ maxBytes });
    tree = arena.addTree({ keyBytes: width, valueWords: VALUE_WORDS });
    const f32 = arena.f32;
    let t = tree.txn();
    for (let i = 0; i < d.n; i++) {
      const v = t.insert(d.hi[i], d.lo[i]);
      f32[v] = i;
      f32[v + 1] = 1.5;
      arena.i32[v + 2] = i;
      arena.i32[v + 3] = 7;
      if ((i + 1) % TXN === 0) {
        t.commit();
        t = tree.txn();
      }
    }
    t.commit();
  };
  const insertsPerSec = measure(reps, d.n, build);
  const root = tree.root;
  if (arena.size(root) !== d.n) throw new Error(`ART size ${arena.size(root)} != ${d.n}`);
  const q = d.qIdx.length;
  const lookupsPerSec = measure(reps, q, () => {
    let s = 0;
    for (let i = 0; i < q; i++) {
      const k = d.qIdx[i];
      s += arena.get(root, d.hi[k], d.lo[k]);
    }
    sink.v += s;
  });
  let prefixScansPerSec: number | null = null;
  if (d.kind === 'edge') {
    let acc = 0;
    const cb: Prefix32Callback = (lo, v) => {
      acc += lo + v;
    };
    prefixScansPerSec = measure(reps, q, () => {
      for (let i = 0; i < q; i++) arena.scanPrefix32(root, d.scanEdges[i], cb);
      sink.v += acc;
    });
  }
  const st = arena.stats();
  // Live bytes minus the root records; includes the 16 value bytes per key.
  return { structure: 'ART (SAB)', keys: d.kind, n: d.n, insertsPerSec, lookupsPerSec, prefixScansPerSec, bytesPerKey: st.liveBytes / d.n };
}

function benchMap(d: Data, reps: number): Row {
  // The JS alternative: Map keyed by number, values in a Float32Array (4 words).
  // Edge keys: Map<edge, Map<driver, slot>> so "drivers on an edge" is possible at all.
  const vals = new Float32Array(d.n * VALUE_WORDS);
  let flat = new Map<number, number>();
  let nested = new Map<number, Map<number, number>>();
  const build = (): void => {
    if (d.kind === 'driver') {
      flat = new Map();
      for (let i = 0; i < d.n; i++) {
        flat.set(d.hi[i], i);
        vals[i * 4] = i;
      }
    } else {
      nested = new Map();
      for (let i = 0; i < d.n; i++) {
        let m = nested.get(d.hi[i]);
        if (m === undefined) {
          m = new Map();
          nested.set(d.hi[i], m);
        }
        m.set(d.lo[i], i);
        vals[i * 4] = i;
      }
    }
  };
  flat = new Map();
  nested = new Map();
  const h0 = heapUsed();
  build();
  const bytesPerKey = (heapUsed() - h0) / d.n + 4 * VALUE_WORDS;
  const insertsPerSec = measure(reps, d.n, build);
  const q = d.qIdx.length;
  const lookupsPerSec = measure(reps, q, () => {
    let s = 0;
    if (d.kind === 'driver') for (let i = 0; i < q; i++) s += flat.get(d.hi[d.qIdx[i]]) ?? -1;
    else
      for (let i = 0; i < q; i++) {
        const k = d.qIdx[i];
        s += nested.get(d.hi[k])?.get(d.lo[k]) ?? -1;
      }
    sink.v += s;
  });
  let prefixScansPerSec: number | null = null;
  if (d.kind === 'edge') {
    prefixScansPerSec = measure(reps, q, () => {
      let s = 0;
      for (let i = 0; i < q; i++) {
        const m = nested.get(d.scanEdges[i]);
        if (m !== undefined) for (const [drv, slot] of m) s += drv + slot;
      }
      sink.v += s;
    });
  }
  return { structure: d.kind === 'driver' ? 'Map' : 'Map<edge,Map>', keys: d.kind, n: d.n, insertsPerSec, lookupsPerSec, prefixScansPerSec, bytesPerKey };
}

function benchSorted(d: Data, reps: number): Row {
  // Sorted Float64Array of hi*2^32+lo (exact below 2^53: edge IDs < 2^21) + slot, binary search.
  // "Inserts" = bulk build by sort: incremental inserts would be O(n) each.
  let keys = new Float64Array(0);
  let slots = new Int32Array(0);
  const build = (): void => {
    const idx = new Int32Array(d.n);
    const k = new Float64Array(d.n);
    for (let i = 0; i < d.n; i++) {
      idx[i] = i;
      k[i] = d.hi[i] * 4294967296 + d.lo[i];
    }
    idx.sort((a, b) => k[a] - k[b]);
    keys = new Float64Array(d.n);
    slots = idx;
    for (let i = 0; i < d.n; i++) keys[i] = k[idx[i]];
  };
  const insertsPerSec = measure(reps, d.n, build);
  const lowerBound = (x: number): number => {
    let a = 0;
    let b = keys.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (keys[m] < x) a = m + 1;
      else b = m;
    }
    return a;
  };
  const q = d.qIdx.length;
  const lookupsPerSec = measure(reps, q, () => {
    let s = 0;
    for (let i = 0; i < q; i++) {
      const k = d.qIdx[i];
      const x = d.hi[k] * 4294967296 + d.lo[k];
      const j = lowerBound(x);
      s += j < keys.length && keys[j] === x ? slots[j] : -1;
    }
    sink.v += s;
  });
  let prefixScansPerSec: number | null = null;
  if (d.kind === 'edge') {
    prefixScansPerSec = measure(reps, q, () => {
      let s = 0;
      for (let i = 0; i < q; i++) {
        const base = d.scanEdges[i] * 4294967296;
        const end = base + 4294967296;
        for (let j = lowerBound(base); j < keys.length && keys[j] < end; j++) s += slots[j];
      }
      sink.v += s;
    });
  }
  return {
    structure: 'sorted array',
    keys: d.kind,
    n: d.n,
    insertsPerSec,
    lookupsPerSec,
    prefixScansPerSec,
    bytesPerKey: 8 + 4 + 4 * VALUE_WORDS,
    note: 'inserts = bulk sort build',
  };
}

interface ChurnSample {
  updates: number;
  highWaterBytes: number;
  liveBytes: number;
  reachableBytes: number;
  freeBytes: number;
  retiredBytes: number;
}

function churn(updates: number, driversN: number, seed: number): { samples: ChurnSample[]; updatesPerSec: number; final: ReturnType<ArtArena['stats']> } {
  const r = rng(seed);
  const EDGES = 1 << 21;
  const arena = ArtArena.create({ maxBytes: 256 << 20 });
  const drivers = arena.addTree({ keyBytes: 4, valueWords: VALUE_WORDS });
  const edges = arena.addTree({ keyBytes: 8, valueWords: VALUE_WORDS });
  const edgeOf = new Uint32Array(driversN);
  let td = drivers.txn();
  let te = edges.txn();
  for (let d = 0; d < driversN; d++) {
    const e = Math.floor(r() * EDGES);
    edgeOf[d] = e;
    td.insert(d, 0, [e]);
    te.insert(e, d, [d]);
  }
  arena.commitAll([td, te]);
  // A reader that holds a snapshot across some commits, as queries do.
  const reader = arena.reader();
  const samples: ChurnSample[] = [];
  const sample = (u: number): void => {
    const s = arena.stats();
    samples.push({
      updates: u,
      highWaterBytes: s.highWaterBytes,
      liveBytes: s.liveBytes,
      reachableBytes: s.liveBytes - s.retiredBytes,
      freeBytes: s.freeBytes,
      retiredBytes: s.retiredBytes,
    });
  };
  sample(0);
  td = drivers.txn();
  te = edges.txn();
  let batch = 100 + Math.floor(r() * 900);
  let inBatch = 0;
  let commits = 0;
  const t0 = process.hrtime.bigint();
  for (let u = 1; u <= updates; u++) {
    const d = Math.floor(r() * driversN);
    // Drivers move mostly to a nearby edge (same or adjacent IDs), sometimes far.
    const e = r() < 0.8 ? Math.min(EDGES - 1, edgeOf[d] + Math.floor(r() * 8)) : Math.floor(r() * EDGES);
    te.delete(edgeOf[d], d);
    const ve = te.insert(e, d);
    arena.i32[ve] = d;
    const vd = td.insert(d, 0);
    arena.i32[vd] = e;
    arena.i32[vd + 1] = u;
    edgeOf[d] = e;
    if (++inBatch === batch || u === updates) {
      arena.commitAll([td, te]);
      commits++;
      if (commits % 50 === 0) reader.acquire();
      else if (commits % 50 === 10) reader.release();
      td = drivers.txn();
      te = edges.txn();
      batch = 100 + Math.floor(r() * 900);
      inBatch = 0;
      if (commits % 10 === 0) sample(u);
    }
  }
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  td.abort();
  te.abort();
  reader.close();
  sample(updates);
  return { samples, updatesPerSec: updates / dt, final: arena.stats() };
}

function fmt(x: number | null): string {
  if (x === null) return '-';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(0)}k`;
  return x.toFixed(1);
}

function main(): void {
  const started = Date.now();
  const sizes = QUICK ? [1e4, 1e5] : [1e4, 1e5, 1e6];
  const reps = QUICK ? 3 : 5;
  const queries = QUICK ? 200_000 : 1_000_000;
  const c = cpus();
  const machine = { cpu: c[0]?.model ?? 'unknown', cores: c.length, os: `${platform()} ${release()}`, node: process.version, date: new Date().toISOString() };
  console.log(`ART benchmark ${QUICK ? '(quick) ' : ''}seed ${SEED} on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
  console.log(`values: ${VALUE_WORDS} words per key; ART txns of ${TXN} inserts; ${queries.toLocaleString('en-US')} queries per run, median of ${reps}\n`);
  const rows: Row[] = [];
  const header = `${'structure'.padEnd(14)} ${'keys'.padEnd(7)} ${'n'.padStart(9)} ${'inserts/s'.padStart(10)} ${'lookups/s'.padStart(10)} ${'scans/s'.padStart(10)} ${'B/key'.padStart(7)}`;
  console.log(header);
  console.log('-'.repeat(header.length));
  for (const kind of ['driver', 'edge'] as KeyKind[]) {
    for (const n of sizes) {
      const d = makeData(kind, n, queries, SEED + n);
      for (const f of [benchArt, benchMap, benchSorted]) {
        const row = f(d, reps);
        rows.push(row);
        console.log(
          `${row.structure.padEnd(14)} ${row.keys.padEnd(7)} ${n.toLocaleString('en-US').padStart(9)} ${fmt(row.insertsPerSec).padStart(10)} ${fmt(row.lookupsPerSec).padStart(10)} ${fmt(row.prefixScansPerSec).padStart(10)} ${row.bytesPerKey.toFixed(1).padStart(7)}`,
        );
      }
    }
  }
  mkdirSync(RESULTS, { recursive: true });
  const suffix = QUICK ? '-quick' : '';
  writeFileSync(
    join(RESULTS, `art${suffix}.json`),
    JSON.stringify({ machine, seed: SEED, quick: QUICK, valueWords: VALUE_WORDS, txnSize: TXN, reps, queries, rows, sink: sink.v % 1000 }, null, 2),
  );

  const updates = QUICK ? 200_000 : 1_000_000;
  const driversN = QUICK ? 20_000 : 50_000;
  console.log(
    `\nchurn: ${updates.toLocaleString('en-US')} updates of ${driversN.toLocaleString('en-US')} drivers (delete old edge key + insert new edge key + overwrite driver key), txns of 100..1000, a reader pinning 10 of every 50 commits`,
  );
  const ch = churn(updates, driversN, SEED);
  const mib = (b: number): number => b / 2 ** 20;
  console.log(
    asciiPlot([
      { name: 'arena high-water', xs: ch.samples.map((s) => s.updates), ys: ch.samples.map((s) => mib(s.highWaterBytes)) },
      { name: 'live incl. retired-while-pinned', xs: ch.samples.map((s) => s.updates), ys: ch.samples.map((s) => mib(s.liveBytes)) },
      { name: 'reachable from the current roots', xs: ch.samples.map((s) => s.updates), ys: ch.samples.map((s) => mib(s.reachableBytes)) },
    ]),
  );
  const maxLive = Math.max(...ch.samples.map((s) => s.liveBytes));
  const maxReach = Math.max(...ch.samples.map((s) => s.reachableBytes));
  const last = ch.samples[ch.samples.length - 1];
  console.log(
    `updates/s ${fmt(ch.updatesPerSec)}; final high-water ${mib(last.highWaterBytes).toFixed(2)} MiB, max live ${mib(maxLive).toFixed(2)} MiB ` +
      `(ratio ${(last.highWaterBytes / maxLive).toFixed(2)}), max reachable ${mib(maxReach).toFixed(2)} MiB (ratio ${(last.highWaterBytes / maxReach).toFixed(2)}), ${ch.final.reusedAllocs.toLocaleString('en-US')} allocations from free lists`,
  );
  writeFileSync(
    join(RESULTS, `art-churn${suffix}.json`),
    JSON.stringify({ machine, seed: SEED, updates, drivers: driversN, updatesPerSec: ch.updatesPerSec, final: ch.final, samples: ch.samples }, null, 2),
  );
  writeFileSync(
    join(RESULTS, `art-churn${suffix}.svg`),
    svgPlot(
      [
        { name: 'arena high-water (MiB)', xs: ch.samples.map((s) => s.updates), ys: ch.samples.map((s) => mib(s.highWaterBytes)) },
        { name: 'live incl. retired (MiB)', xs: ch.samples.map((s) => s.updates), ys: ch.samples.map((s) => mib(s.liveBytes)) },
        { name: 'reachable (MiB)', xs: ch.samples.map((s) => s.updates), ys: ch.samples.map((s) => mib(s.reachableBytes)) },
      ],
      `ART churn: ${updates.toLocaleString('en-US')} updates of ${driversN.toLocaleString('en-US')} drivers`,
      'updates',
      'MiB',
    ),
  );
  console.log(`\nresults: bench/results/art${suffix}.json, art-churn${suffix}.json, art-churn${suffix}.svg (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main();
