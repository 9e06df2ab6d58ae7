// ID churn: does memory stay flat when drivers come and go?
//
// Streams distinct driver IDs (5,000,000; --quick 300,000) through one map's
// driver store holding 50,000 live drivers: every batch of 1,000 new IDs
// replaces the 1,000 oldest, removed explicitly (odd batches) or expired by
// TTL the way Shard.sweep does it (expired() then remove(); even batches).
// A reader pins a snapshot for 4 batches at a time (a search or an export
// holding its pin), so retired entries wait for it as they would in service.
// Samples RSS and the intern tables' in-use counts every 1% of the run.
//
// Path: DriverStore directly with records snapped beforehand (no worker pool,
// no snapping): the store is what the intern tables belong to, and this runs
// 5M IDs in about a minute. Map: maps/monaco.osm.pbf, loaded by loadMap as
// the shards load it. Also measures the hot path first: updates of known
// drivers with known metadata (nothing to intern or reclaim).
//
//   node dist/bench/micro/churn.js [--quick] [--seed N] [--ids N] [--results DIR]
//   the code before reclamation (another build, same DriverStore API), for comparison:
//   node dist/bench/micro/churn.js --store /tmp/faros-before/dist/src/model/store.js --label before
//   the hot path only, this build vs another in alternating reps (churn-hot-ab.json):
//   node dist/bench/micro/churn.js --hot-ab /tmp/faros-before/dist/src/model/store.js
//
// Results: bench/results/churn[-<label>][-quick].json; plots of every label
// found there: churn-rss[-quick].svg (RSS vs IDs streamed) and
// churn-numbers[-quick].svg (driver numbers in use).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadMap } from '../../src/mapbuild/build.js';
import { Snapper, isMiss } from '../../src/model/snap/snap.js';
import type { DriverStore as StoreType, SnappedUpdate } from '../../src/model/store/store.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { asciiPlot, svgPlot, type Series } from './art-plot.js';
import { ROOT, RESULTS_DIR, Rng, fmt, header, machine, median, parseArgs, pointsNearRoads, printTable, quantile, sink } from '../lib/common.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
(globalThis as { gc?: () => void }).gc ??= gc;

const argv = process.argv.slice(2);
const { quick, seed } = parseArgs(argv);
function opt(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const IDS = Number(opt('ids') ?? (quick ? 300_000 : 5_000_000));
const LIVE = Number(opt('live') ?? 50_000);
const BATCH = 1000;
const PIN_BATCHES = 4;
const SAMPLES = 100;
const storePath = opt('store');
const abPath = opt('hot-ab');
const label = opt('label') ?? (storePath ? 'other' : 'after');
const resultsDir = resolve(opt('results') ?? RESULTS_DIR);
const MAP = join(ROOT, 'maps', 'monaco.osm.pbf');
if (!(Number.isInteger(IDS) && IDS >= LIVE && LIVE >= BATCH && LIVE % BATCH === 0)) throw new Error('--ids must be >= --live, and --live a multiple of 1000');

interface Sample {
  ids: number;
  seconds: number;
  rssMiB: number;
  heapUsedMiB: number;
  arrayBuffersMiB: number;
  driversInUse: number;
  driverHighWater: number;
  idBytesHighWater: number;
  metasetsInUse: number;
  stringsInUse: number;
  retiredPending: number;
  arenaHighWaterMiB: number;
  arenaLiveMiB: number;
}

const MiB = 2 ** 20;
const STATUS = ['available', 'busy', 'offline'];
const VEHICLE = ['car', 'van', 'bike', 'scooter'];

/** A seeded UUID-shaped ID (36 bytes), distinct for each i. */
function uuid(rng: Rng, i: number): string {
  const h = (n: number) => (Math.floor(rng.next() * 2 ** 32) >>> 0).toString(16).padStart(8, '0').slice(0, n);
  return `${h(8)}-${h(4)}-4${h(3)}-a${h(3)}-${h(4)}${i.toString(16).padStart(8, '0')}`;
}

/** Intern figures of either build (the old one only counted IDs and metasets ever interned). */
function internStats(
  store: StoreType,
): Pick<Sample, 'driversInUse' | 'driverHighWater' | 'idBytesHighWater' | 'metasetsInUse' | 'stringsInUse' | 'retiredPending'> {
  const it = store.intern as unknown as {
    stats?: () => Record<string, number>;
    driverCount: number;
    counts: Int32Array;
    idOff: Uint32Array;
    stringOf: unknown[];
  };
  if (typeof it.stats === 'function') {
    const s = it.stats();
    return {
      driversInUse: s.driversInUse,
      driverHighWater: s.driverHighWater,
      idBytesHighWater: s.idBytesHighWater,
      metasetsInUse: s.metasetsInUse,
      stringsInUse: s.stringsInUse,
      retiredPending: s.retiredPending,
    };
  }
  const n = it.driverCount;
  return {
    driversInUse: n,
    driverHighWater: n,
    idBytesHighWater: it.idOff[n],
    metasetsInUse: it.counts[2],
    stringsInUse: it.stringOf.length,
    retiredPending: 0,
  };
}

async function main(): Promise<void> {
  header(`ID churn: ${fmt(IDS)} distinct driver IDs through ${fmt(LIVE)} live drivers [${label}]`, quick);
  const { DriverStore } = (await import(
    storePath ? pathToFileURL(resolve(storePath)).href : '../../src/model/store/store.js'
  )) as typeof import('../../src/model/store/store.js');
  const g: RoadGraph = await loadMap(MAP, 'car', { shared: true });

  // Positions snapped beforehand (the store's input), seeded.
  const rng = new Rng(seed);
  const snapper = new Snapper(g);
  const pts = pointsNearRoads(g, rng, 30_000, 50);
  const pos: Omit<SnappedUpdate, 'driverId' | 'timestampMs' | 'metadata'>[] = [];
  for (let i = 0; i < pts.length / 2; i++) {
    const s = snapper.snap(pts[2 * i], pts[2 * i + 1], 200);
    if (!isMiss(s)) pos.push({ lat: pts[2 * i], lng: pts[2 * i + 1], segment: s.segment, t: s.t, snapM: s.distanceM });
  }
  // 12 common metadata sets; every 10th driver also has a value of its own (a trip ID).
  const common = STATUS.flatMap((status) => VEHICLE.map((vehicle) => ({ status, vehicle })));
  const metaOf = (i: number): Record<string, string> => (i % 10 === 0 ? { ...common[i % 12], trip: `trip-${i}` } : common[i % 12]);

  const store = new DriverStore(g, {});
  // The live IDs: ID number i is ring[i % LIVE] (the stream forgets removed ones).
  const ring: string[] = new Array<string>(LIVE).fill('');
  const update = (i: number, ts: number): SnappedUpdate => ({ driverId: ring[i % LIVE], timestampMs: ts, metadata: metaOf(i), ...pos[i % pos.length] });

  // Phase 1, the hot path: updates of known drivers with known metadata,
  // in commits of 128 (Shard.update's slice), each at the same position (a
  // driver a few metres on, on the same edge: the common case). With
  // --hot-ab, reps alternate between this store and the other build's, in
  // this process (the machine is shared: separate runs drift more than the
  // difference), and the run stops there.
  for (let i = 0; i < LIVE; i++) ring[i] = uuid(rng, i);
  const SLICE = 128;
  const hotBatches: SnappedUpdate[][] = [];
  for (let i = 0; i < LIVE; i += SLICE) hotBatches.push(Array.from({ length: Math.min(SLICE, LIVE - i) }, (_, j) => update(i + j, 0)));
  let hotTs = LIVE;
  const hotStores: Record<string, StoreType> = { [label]: store };
  if (abPath) hotStores.other = new ((await import(pathToFileURL(resolve(abPath)).href)) as typeof import('../../src/model/store/store.js')).DriverStore(g, {});
  const hotRates: Record<string, number[]> = {};
  for (const [k, s] of Object.entries(hotStores)) {
    hotRates[k] = [];
    for (let i = 0; i < LIVE; i += BATCH) s.apply(Array.from({ length: BATCH }, (_, j) => update(i + j, i + j)));
  }
  const WARM = 3;
  for (let rep = 0; rep < WARM + (quick ? 8 : 24); rep++) {
    for (const [k, s] of Object.entries(hotStores)) {
      for (const b of hotBatches) for (const u of b) u.timestampMs = ++hotTs;
      const t0 = process.hrtime.bigint();
      for (const b of hotBatches) sink.v += s.apply(b).length;
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      if (rep >= WARM) hotRates[k].push(LIVE / dt);
    }
  }
  const hotOf = (k: string) => ({
    updatesPerS: Math.round(median(hotRates[k])),
    p25: Math.round(quantile(hotRates[k], 0.25)),
    p75: Math.round(quantile(hotRates[k], 0.75)),
    reps: hotRates[k].length,
  });
  const hot = {
    ...hotOf(label),
    commitSize: SLICE,
    note: 'DriverStore.apply of known drivers with known metadata (same edge), 128 per commit, median of reps',
  };
  console.log(`hot path (known driver, known metadata): ${fmt(hot.updatesPerS)} updates/s (P25 ${fmt(hot.p25)}, P75 ${fmt(hot.p75)})`);
  if (abPath) {
    const other = hotOf('other');
    console.log(`the other build (${abPath}), alternating reps: ${fmt(other.updatesPerS)} updates/s (P25 ${fmt(other.p25)}, P75 ${fmt(other.p75)})`);
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `churn-hot-ab${quick ? '-quick' : ''}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ bench: 'churn-hot-ab', quick, machine: machine(), config: { map: 'maps/monaco.osm.pbf (car)', live: LIVE, seed, other: abPath }, note: hot.note, thisBuild: hotOf(label), other }, null, 2)}\n`,
    );
    console.log(`wrote ${file}`);
    hotStores.other.close();
    store.close();
    return;
  }
  console.log('');
  // Put the live set back in insertion-time order for the churn (timestamps = ID index).
  store.apply(Array.from({ length: LIVE }, (_, i) => update(i, hotTs + 1 + i)));
  const ts0 = hotTs + 1; // timestamp of ID i = ts0 + i

  // Phase 2: churn.
  const samples: Sample[] = [];
  const reader = store.arena.reader();
  const sampleEvery = Math.max(BATCH, Math.round(IDS / SAMPLES / BATCH) * BATCH);
  const t0 = process.hrtime.bigint();
  const sample = (n: number) => {
    gc();
    const m = process.memoryUsage(),
      a = store.arena.stats();
    samples.push({
      ids: n,
      seconds: +(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2),
      rssMiB: +(m.rss / MiB).toFixed(1),
      heapUsedMiB: +(m.heapUsed / MiB).toFixed(1),
      arrayBuffersMiB: +(m.arrayBuffers / MiB).toFixed(1),
      ...internStats(store),
      arenaHighWaterMiB: +(a.highWaterBytes / MiB).toFixed(1),
      arenaLiveMiB: +(a.liveBytes / MiB).toFixed(1),
    });
  };
  sample(LIVE);
  let oldest = 0,
    next = LIVE,
    batchNo = 0;
  let failed: { atIds: number; message: string } | undefined;
  let expiredShort = 0;
  while (next < IDS) {
    // The reader: pinned for PIN_BATCHES batches at a time.
    if (batchNo % PIN_BATCHES === 0) {
      reader.release();
      reader.acquire();
    }
    try {
      if (batchNo % 2 === 0) {
        const out: string[] = new Array(BATCH);
        for (let j = 0; j < BATCH; j++) out[j] = ring[(oldest + j) % LIVE];
        store.remove(out);
      } else {
        // TTL: at now = ts of ID oldest + BATCH with ttl 0, exactly the BATCH oldest are expired.
        const gone = store.expired(ts0 + oldest + BATCH, 0, BATCH);
        if (gone.length !== BATCH) expiredShort++;
        store.remove(gone);
      }
      oldest += BATCH;
      const n = Math.min(BATCH, IDS - next);
      for (let j = 0; j < n; j++) ring[(next + j) % LIVE] = uuid(rng, next + j);
      store.apply(Array.from({ length: n }, (_, j) => update(next + j, ts0 + next + j)));
      next += n;
    } catch (e) {
      failed = { atIds: next, message: (e as Error).message };
      console.log(`failed after ${fmt(next)} IDs: ${failed.message}`);
      break;
    }
    batchNo++;
    if (next % sampleEvery === 0 || next === IDS) sample(next);
  }
  if (failed && samples[samples.length - 1]?.ids !== next) sample(next);
  reader.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (expiredShort) console.log(`WATCH OUT: ${expiredShort} TTL batches found fewer than ${BATCH} expired drivers`);

  // After the first turnover (the live set replaced once), what grows?
  const steady = samples.filter((s) => s.ids >= 2 * LIVE);
  const first = steady[0] ?? samples[0],
    last = samples[samples.length - 1];
  const maxOf = (k: keyof Sample) => Math.max(...samples.map((s) => s[k]));
  const summary = {
    idsStreamed: next,
    seconds: +seconds.toFixed(1),
    idsPerS: Math.round((next - LIVE) / seconds),
    rssMiB: { atStart: samples[0].rssMiB, afterFirstTurnover: first.rssMiB, atEnd: last.rssMiB, max: maxOf('rssMiB') },
    rssGrowthAfterFirstTurnoverMiB: +(last.rssMiB - first.rssMiB).toFixed(1),
    driversInUseMax: maxOf('driversInUse'),
    driverHighWater: last.driverHighWater,
    idBytesHighWater: last.idBytesHighWater,
    metasetsInUseMax: maxOf('metasetsInUse'),
    stringsInUseMax: maxOf('stringsInUse'),
    retiredPendingMax: maxOf('retiredPending'),
    bound: `driver numbers in use <= live + (pin batches + 1) x batch = ${LIVE + (PIN_BATCHES + 1) * BATCH}`,
  };

  printTable(
    ['IDs streamed', 's', 'RSS MiB', 'heap MiB', 'driver nos in use', 'high-water', 'ID bytes', 'metasets', 'strings', 'retired pending'],
    samples
      .filter((_, i) => i % Math.ceil(samples.length / 12) === 0 || i === samples.length - 1)
      .map((s) => [
        fmt(s.ids),
        s.seconds.toFixed(1),
        s.rssMiB.toFixed(1),
        s.heapUsedMiB.toFixed(1),
        fmt(s.driversInUse),
        fmt(s.driverHighWater),
        fmt(s.idBytesHighWater),
        fmt(s.metasetsInUse),
        fmt(s.stringsInUse),
        fmt(s.retiredPending),
      ]),
  );
  console.log(
    `\n${fmt(summary.idsStreamed)} IDs in ${summary.seconds} s (${fmt(summary.idsPerS)} IDs/s incl. removes); RSS ${summary.rssMiB.atStart} → ${summary.rssMiB.atEnd} MiB (max ${summary.rssMiB.max}); driver numbers in use max ${fmt(summary.driversInUseMax)}${failed ? `; FAILED at ${fmt(failed.atIds)} IDs` : ''}`,
  );

  mkdirSync(resultsDir, { recursive: true });
  const suffix = quick ? '-quick' : '';
  const name = `churn${label === 'after' ? '' : `-${label}`}`;
  const file = join(resultsDir, `${name}${suffix}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        bench: 'churn',
        quick,
        label,
        machine: machine(),
        config: {
          map: 'maps/monaco.osm.pbf (car), loadMap as the shards load it',
          ids: IDS,
          live: LIVE,
          batch: BATCH,
          seed,
          path: 'DriverStore directly with records snapped beforehand (no worker pool, no snapping)',
          removal: 'odd batches: remove() of the 1,000 oldest; even batches: expired() + remove(), as Shard.sweep',
          readerPinnedForBatches: PIN_BATCHES,
          idBytes: 36,
          metadata: '12 common sets; every 10th driver adds a trip value of its own',
          store: storePath ?? 'src/model/store/store.ts (this build)',
        },
        hotPath: hot,
        failed,
        summary,
        samples,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${file}`);

  // Plots of every label in the results directory.
  const runs: { label: string; samples: Sample[]; failed?: { atIds: number } }[] = [];
  for (const [l, n] of [
    ['after', 'churn'],
    ['before', 'churn-before'],
    ['other', 'churn-other'],
  ] as const) {
    const f = join(resultsDir, `${n}${suffix}.json`);
    if (existsSync(f)) {
      const r = JSON.parse(readFileSync(f, 'utf8'));
      runs.push({ label: l, samples: r.samples, failed: r.failed });
    }
  }
  const name2 = (r: (typeof runs)[number]) =>
    r.label === 'after' ? 'reclaimed (this build)' : r.failed ? `${r.label} (full at ${fmt(r.failed.atIds)})` : r.label;
  const rss: Series[] = runs.map((r) => ({ name: name2(r), xs: r.samples.map((s) => s.ids), ys: r.samples.map((s) => s.rssMiB) }));
  const nos: Series[] = runs.map((r) => ({ name: name2(r), xs: r.samples.map((s) => s.ids), ys: r.samples.map((s) => s.driversInUse / 1000) }));
  console.log(`\nRSS vs IDs streamed:\n${asciiPlot(rss)}`);
  writeFileSync(
    join(resultsDir, `churn-rss${suffix}.svg`),
    svgPlot(rss, `RSS while ${fmt(IDS)} distinct driver IDs stream through ${fmt(LIVE)} live`, 'driver IDs streamed', 'RSS (MiB)'),
  );
  writeFileSync(join(resultsDir, `churn-numbers${suffix}.svg`), svgPlot(nos, 'Driver numbers in use (thousands)', 'driver IDs streamed', 'thousands'));
  store.close();
}

await main();
