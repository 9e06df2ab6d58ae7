// The threaded model on Andorra with 50,000 drivers:
//  (a) update pipeline updates/s (snap in workers + one ART commit per batch in
//      this thread) with 1 and 2 worker threads, batches of 100 and 1,000, several
//      batches in flight; against single-thread Model.updateBatch and the main-
//      thread apply alone (pre-snapped store.apply), so we see where time goes;
//  (b) nearby (K=10, 3 km) queries/s and P50/P99 with 1 and 2 reader threads,
//      without and with updates flowing at 50,000/s (paced open loop);
//  (c) arena bytes over a 1,000,000-update churn through Shard.update with
//      concurrent readers (ASCII plot + SVG).
// Every thread-scaling figure is meant to be read against bench/micro/ceiling.ts.
//
//   node --expose-gc dist/bench/micro/pipeline.js [--quick] [--seed N]
import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { loadMap } from '../../src/mapbuild/build.js';
import { WorkerPool } from '../../src/threads/pool.js';
import { Shard } from '../../src/threads/shard.js';
import { Model } from '../../src/model/model.js';
import { Snapper, isMiss } from '../../src/model/snap/snap.js';
import type { DriverStore, SnappedUpdate } from '../../src/model/store/store.js';
import type { DriverUpdate } from '../../src/model/types.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { ROOT, RESULTS_DIR, Rng, fmt, gc, header, median, parseArgs, pointsNearRoads, printTable, quantile, saveResult, sink, mb } from '../lib/common.js';
import { asciiPlot, svgPlot } from './art-plot.js';

const DRIVERS = 50_000;
const TTL_MS = 2 * 3600_000;
const META = Object.freeze({ status: 'available' }) as Record<string, string>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Seeded update source: random driver of the fleet, next point of a pre-drawn pool, rising timestamps. */
class Updates {
  private next = 0;
  private ts: number;
  constructor(
    private readonly pts: Float64Array,
    private readonly rng: Rng,
  ) {
    this.ts = Date.now() - 600_000;
  }
  batch(n: number, driver?: (j: number) => number): DriverUpdate[] {
    const out: DriverUpdate[] = new Array(n);
    const P = this.pts.length / 2;
    for (let j = 0; j < n; j++) {
      const p = this.next++ % P;
      const d = driver ? driver(j) : this.rng.int(0, DRIVERS - 1);
      out[j] = { driverId: `drv-${d}`, lat: this.pts[2 * p]!, lng: this.pts[2 * p + 1]!, timestampMs: ++this.ts, metadata: META };
    }
    return out;
  }
  batches(total: number, size: number): DriverUpdate[][] {
    const out: DriverUpdate[][] = [];
    for (let i = 0; i < total; i += size) out.push(this.batch(Math.min(size, total - i)));
    return out;
  }
  /** Every driver once, in order (the initial placement). */
  fleet(size: number): DriverUpdate[][] {
    const out: DriverUpdate[][] = [];
    for (let i = 0; i < DRIVERS; i += size) out.push(this.batch(Math.min(size, DRIVERS - i), (j) => i + j));
    return out;
  }
}

/** Run fn over the batches with `inflight` of them outstanding. */
async function drive<T>(batches: T[], inflight: number, fn: (b: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  const lane = async (): Promise<void> => {
    while (i < batches.length) await fn(batches[i++]!);
  };
  await Promise.all(Array.from({ length: inflight }, lane));
}

/** Time spent in store.apply / applySnapped (the single writer), accumulated. */
function instrumentApply(store: DriverStore): { ms: number; calls: number } {
  const acc = { ms: 0, calls: 0 };
  const orig = store.apply.bind(store),
    origSnapped = store.applySnapped.bind(store);
  store.apply = (b: readonly SnappedUpdate[]): boolean[] => {
    const t0 = performance.now();
    try {
      return orig(b);
    } finally {
      acc.ms += performance.now() - t0;
      acc.calls++;
    }
  };
  store.applySnapped = (...a: Parameters<DriverStore['applySnapped']>): void => {
    const t0 = performance.now();
    try {
      origSnapped(...a);
    } finally {
      acc.ms += performance.now() - t0;
      acc.calls++;
    }
  };
  return acc;
}

interface PipeRow {
  impl: string;
  threads: number;
  batch: number;
  inflight: number;
  updatesPerS: number;
  runs: number[];
  applyShare: number;
  mainElu: number;
  usPerUpdateApply: number;
  refused: number;
  cpuUsPerUpdate: number;
  cores: number;
}

async function pipelineRuns(g: RoadGraph, src: Updates, threads: number, perRun: number, runs: number, inflight: number): Promise<PipeRow[]> {
  const pool = new WorkerPool({ threads });
  const shard = new Shard('andorra-car#bench', g, pool, { snapRadiusM: 200, ttlMs: TTL_MS });
  const rows: PipeRow[] = [];
  try {
    await drive(src.fleet(1000), inflight, (b) => shard.update(b));
    const apply = instrumentApply(shard.store);
    for (const batch of [100, 1000]) {
      await drive(src.batches(Math.min(perRun, 20_000), batch), inflight, (b) => shard.update(b)); // warm-up
      const rates: number[] = [],
        shares: number[] = [],
        elus: number[] = [],
        perUpd: number[] = [],
        cpus: number[] = [],
        cores: number[] = [];
      let refused = 0;
      for (let r = 0; r < runs; r++) {
        const bs = src.batches(perRun, batch);
        gc();
        apply.ms = 0;
        const elu0 = performance.eventLoopUtilization();
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await drive(bs, inflight, async (b) => {
          const res = await shard.update(b);
          for (const x of res) if (!x.ok) refused++;
          sink.v += res.length;
        });
        const ms = performance.now() - t0;
        const elu = performance.eventLoopUtilization(elu0);
        const c = process.cpuUsage(c0);
        cpus.push((c.user + c.system) / perRun);
        cores.push((c.user + c.system) / 1000 / ms);
        rates.push(perRun / (ms / 1000));
        shares.push(apply.ms / ms);
        elus.push(elu.utilization);
        perUpd.push((apply.ms * 1000) / perRun);
      }
      const row: PipeRow = {
        impl: 'Shard.update',
        threads,
        batch,
        inflight,
        updatesPerS: median(rates),
        runs: rates,
        applyShare: median(shares),
        mainElu: median(elus),
        usPerUpdateApply: median(perUpd),
        refused,
        cpuUsPerUpdate: median(cpus),
        cores: median(cores),
      };
      rows.push(row);
      console.log(
        `  Shard.update threads=${threads} batch=${batch} inflight=${inflight}: ${fmt(row.updatesPerS)} updates/s (runs ${rates.map((x) => fmt(x)).join(', ')}), main thread busy ${(row.mainElu * 100).toFixed(0)}%, in apply ${(row.applyShare * 100).toFixed(0)}%`,
      );
    }
  } finally {
    shard.close();
    await pool.close();
  }
  return rows;
}

function singleThreadRuns(g: RoadGraph, src: Updates, perRun: number, runs: number): { rows: PipeRow[]; model: Model } {
  const model = new Model(g, { snapRadiusM: 200, ttlMs: TTL_MS });
  for (const b of src.fleet(1000)) model.updateBatch(b);
  const apply = instrumentApply(model.store);
  const rows: PipeRow[] = [];
  for (const batch of [100, 1000]) {
    for (const b of src.batches(Math.min(perRun, 20_000), batch)) model.updateBatch(b);
    const rates: number[] = [],
      shares: number[] = [],
      perUpd: number[] = [],
      cpus: number[] = [],
      cores: number[] = [];
    let refused = 0;
    for (let r = 0; r < runs; r++) {
      const bs = src.batches(perRun, batch);
      gc();
      apply.ms = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (const b of bs) {
        const res = model.updateBatch(b);
        for (const x of res) if (!x.ok) refused++;
        sink.v += res.length;
      }
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / perRun);
      cores.push((c.user + c.system) / 1000 / ms);
      rates.push(perRun / (ms / 1000));
      shares.push(apply.ms / ms);
      perUpd.push((apply.ms * 1000) / perRun);
    }
    const row: PipeRow = {
      impl: 'Model.updateBatch (1 thread)',
      threads: 0,
      batch,
      inflight: 1,
      updatesPerS: median(rates),
      runs: rates,
      applyShare: median(shares),
      mainElu: 1,
      usPerUpdateApply: median(perUpd),
      refused,
      cpuUsPerUpdate: median(cpus),
      cores: median(cores),
    };
    rows.push(row);
    console.log(`  Model.updateBatch batch=${batch}: ${fmt(row.updatesPerS)} updates/s, in apply ${(row.applyShare * 100).toFixed(0)}%`);
  }
  return { rows, model };
}

/** store.apply alone on pre-snapped updates, and Snapper.snap alone. */
function applyAlone(g: RoadGraph, model: Model, src: Updates, perRun: number, runs: number): PipeRow[] {
  const snapper = new Snapper(g);
  const rows: PipeRow[] = [];
  const presnap = (bs: DriverUpdate[][]): SnappedUpdate[][] =>
    bs.map((b) =>
      b.flatMap((u) => {
        const s = snapper.snap(u.lat, u.lng, 200);
        // A literal of the shape Shard.update builds: a spread copy makes apply ~1.7× slower (slower property access).
        return isMiss(s)
          ? []
          : [
              {
                driverId: u.driverId,
                lat: u.lat,
                lng: u.lng,
                timestampMs: u.timestampMs,
                metadata: u.metadata,
                segment: s.segment,
                t: s.t,
                snapM: s.distanceM,
              },
            ];
      }),
    );
  for (const batch of [100, 1000]) {
    for (const b of presnap(src.batches(20_000, batch))) model.store.apply(b);
    const rates: number[] = [],
      cpus: number[] = [],
      cores: number[] = [];
    for (let r = 0; r < runs; r++) {
      const bs = presnap(src.batches(perRun, batch));
      const n = bs.reduce((a, b) => a + b.length, 0);
      gc();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (const b of bs) sink.v += model.store.apply(b).length;
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / n);
      cores.push((c.user + c.system) / 1000 / ms);
      rates.push(n / (ms / 1000));
    }
    const row: PipeRow = {
      impl: 'store.apply alone (pre-snapped)',
      threads: 0,
      batch,
      inflight: 1,
      updatesPerS: median(rates),
      runs: rates,
      applyShare: 1,
      mainElu: 1,
      usPerUpdateApply: 1e6 / median(rates),
      refused: 0,
      cpuUsPerUpdate: median(cpus),
      cores: median(cores),
    };
    rows.push(row);
    console.log(`  store.apply alone batch=${batch}: ${fmt(row.updatesPerS)} updates/s (${row.usPerUpdateApply.toFixed(2)} µs/update)`);
  }
  // Snapper.snap alone, one thread (the work the workers do per update)
  const bs = src.batches(perRun, 1000);
  const rates: number[] = [],
    cpus: number[] = [],
    cores: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const b of bs)
      for (const u of b) {
        const s = snapper.snap(u.lat, u.lng, 200);
        if (!isMiss(s)) sink.v += s.segment;
      }
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / perRun);
    cores.push((c.user + c.system) / 1000 / ms);
    rates.push(perRun / (ms / 1000));
  }
  rows.push({
    impl: 'Snapper.snap alone (1 thread)',
    threads: 0,
    batch: 1000,
    inflight: 1,
    updatesPerS: median(rates),
    runs: rates,
    applyShare: 0,
    mainElu: 1,
    usPerUpdateApply: 0,
    refused: 0,
    cpuUsPerUpdate: median(cpus),
    cores: median(cores),
  });
  console.log(`  Snapper.snap alone: ${fmt(median(rates))} points/s (${(1e6 / median(rates)).toFixed(2)} µs/point)`);
  return rows;
}

interface NearbyRow {
  threads: number;
  loop: 'closed' | 'open';
  targetQueriesPerS: number;
  updates: string;
  targetUpdatesPerS: number;
  achievedUpdatesPerS: number;
  queriesPerS: number;
  p50us: number;
  p99us: number;
  maxUs: number;
  queries: number;
  found: number;
  skippedBatches: number;
  skippedQueries: number;
  cores: number;
  phasesUs: Record<'queued' | 'search' | 'reply', { p50: number; p99: number }>;
}

/**
 * Paced open loop of updates in this process: batches of 500 every 10 ms at
 * `rate`/s; a batch whose time came while 8 were still outstanding is skipped
 * and counted.
 */
function startWriter(shard: Shard, src: Updates, rate: number, t0: number): { stop(): Promise<{ applied: number; skipped: number }> } {
  let stop = false,
    applied = 0,
    skipped = 0;
  const done = (async () => {
    if (rate === 0) return;
    const B = 500,
      MAXQ = 8;
    let sent = 0,
      out = 0;
    const pending = new Set<Promise<void>>();
    while (!stop) {
      const due = Math.floor((((performance.now() - t0) / 1000) * rate) / B);
      while (sent < due) {
        sent++;
        if (out >= MAXQ) {
          skipped++;
          continue;
        }
        out++;
        const p: Promise<void> = shard.update(src.batch(B)).then((r) => {
          applied += r.length;
          out--;
          pending.delete(p);
        });
        pending.add(p);
      }
      await sleep(2);
    }
    await Promise.all(pending);
  })();
  return {
    async stop() {
      stop = true;
      await done;
      return { applied, skipped };
    },
  };
}

/**
 * A thread that posts the absolute time (ms since the epoch, fractional) of
 * each arrival of an open loop at `qps` for `ms`, then null. It sleeps with
 * Atomics.wait, so arrivals are on time to a few µs, unlike a 1 ms timer.
 */
function startTicker(qps: number, ms: number): Worker {
  const code = `
    const { parentPort, workerData: { qps, ms } } = require('node:worker_threads');
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const now = () => performance.timeOrigin + performance.now();
    const t0 = now();
    for (let i = 0; ; i++) {
      const at = t0 + (i * 1000) / qps;
      if (at - t0 > ms) break;
      const wait = at - now();
      if (wait > 0) Atomics.wait(cell, 0, 0, wait);
      parentPort.postMessage(at);
    }
    parentPort.postMessage(null);`;
  return new Worker(code, { eval: true, workerData: { qps, ms } });
}

async function nearbyRuns(
  g: RoadGraph,
  src: Updates,
  rng: Rng,
  threads: number,
  seconds: number,
  concurrency: number,
  openRates: number[],
): Promise<NearbyRow[]> {
  // Reader threads = search threads; one snap worker is plenty for 50,000 updates/s (≈0.2 core)
  // and a second would only add a runnable thread on these 2 cores.
  const pool = new WorkerPool({ threads: 1, searchThreads: threads });
  const shard = new Shard('andorra-car#bench', g, pool, { snapRadiusM: 200, ttlMs: TTL_MS });
  const qs = pointsNearRoads(g, rng, 5000, 30);
  const rows: NearbyRow[] = [];
  try {
    await drive(src.fleet(1000), 4, (b) => shard.update(b));
    let qi = 0,
      misses = 0;
    // Where each query's time went (µs): waiting for a search thread, searching, waiting for this thread to read the answer.
    let phases = { queued: [] as number[], search: [] as number[], reply: [] as number[] };
    const query = (): Promise<number> => {
      const i = qi++ % 5000;
      return shard.nearby({ lat: qs[2 * i]!, lng: qs[2 * i + 1]!, k: 10, metric: 'distance', maxDistanceM: 3000, maxEtaS: 300 }).then((r) => {
        if (!r.ok) {
          misses++;
          return 0;
        }
        const ph = r.stats.phases;
        if (ph) {
          phases.queued.push(ph.queuedUs);
          phases.search.push(ph.searchUs);
          phases.reply.push(ph.replyUs);
        }
        return r.drivers.length;
      });
    };
    // warm-up
    await drive(Array.from({ length: 2000 }), concurrency, () => query());
    // Closed loop (one query in flight per thread: the most queries/s, P99 at
    // saturation), then open loops at fixed query rates (P99 at that load,
    // timed from each query's scheduled start: no coordinated omission).
    const plans: { rate: number; mode: 'closed' | 'open'; qps: number }[] = [
      ...[0, 10_000, 50_000].map((rate) => ({ rate, mode: 'closed' as const, qps: 0 })),
      // The first open row without updates: the floor this generator (a 1 ms timer on the same thread) adds.
      { rate: 0, mode: 'open' as const, qps: openRates[0] },
      ...openRates.map((qps) => ({ rate: 50_000, mode: 'open' as const, qps })),
    ];
    for (const { rate, mode, qps } of plans) {
      gc();
      phases = { queued: [], search: [], reply: [] };
      const lat: number[] = [];
      let found = 0,
        stop = false,
        skippedQueries = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const writer = startWriter(shard, src, rate, t0);
      const record = (start: number, n: number): void => {
        found += n;
        lat.push((performance.now() - start) * 1000);
      };
      const readers =
        mode === 'closed'
          ? Array.from({ length: concurrency }, async () => {
              while (!stop) {
                const s = performance.now();
                record(s, await query());
              }
            })
          : [
              (async () => {
                // Arrivals come from a ticker thread (sub-ms sleeps), each one a
                // message that wakes this event loop as a request on a socket would;
                // latency is timed from the scheduled arrival. At most 256
                // outstanding; an arrival beyond that is skipped and counted.
                let out = 0;
                const pending = new Set<Promise<void>>();
                const ticker = startTicker(qps, seconds * 1000);
                await new Promise<void>((resolve) => {
                  ticker.on('message', (at: number | null) => {
                    if (at === null) {
                      resolve();
                      return;
                    }
                    if (out >= 256) {
                      skippedQueries++;
                      return;
                    }
                    out++;
                    const start = at - performance.timeOrigin;
                    const p: Promise<void> = query().then((n) => {
                      record(start, n);
                      out--;
                      pending.delete(p);
                    });
                    pending.add(p);
                  });
                });
                await ticker.terminate();
                await Promise.all(pending);
              })(),
            ];
      await sleep(seconds * 1000);
      stop = true;
      const el = (performance.now() - t0) / 1000;
      const cu = process.cpuUsage(c0);
      await Promise.all(readers);
      const { applied, skipped } = await writer.stop();
      const l = Float64Array.from(lat);
      const row: NearbyRow = {
        threads,
        loop: mode,
        targetQueriesPerS: qps,
        updates: rate ? `${fmt(rate)}/s` : 'none',
        targetUpdatesPerS: rate,
        achievedUpdatesPerS: applied / el,
        queriesPerS: lat.length / el,
        p50us: quantile(l, 0.5),
        p99us: quantile(l, 0.99),
        maxUs: quantile(l, 1),
        queries: lat.length,
        found: found / lat.length,
        skippedBatches: skipped,
        skippedQueries,
        cores: (cu.user + cu.system) / 1e6 / el,
        phasesUs: Object.fromEntries(
          Object.entries(phases).map(([k, v]) => {
            const a = Float64Array.from(v);
            return [k, { p50: quantile(a, 0.5), p99: quantile(a, 0.99) }];
          }),
        ) as NearbyRow['phasesUs'],
      };
      rows.push(row);
      console.log(
        `  nearby search threads=${threads} ${mode === 'closed' ? 'closed loop' : `open loop ${fmt(qps)}/s`} updates=${row.updates}: ${fmt(row.queriesPerS)} q/s, P50 ${fmt(row.p50us)} µs, P99 ${fmt(row.p99us)} µs; updates applied ${fmt(row.achievedUpdatesPerS)}/s (skipped batches ${skipped}, skipped queries ${skippedQueries}), query misses so far ${misses}`,
      );
      console.log(
        `    phases P50/P99 µs: ${Object.entries(row.phasesUs)
          .map(([k, v]) => `${k} ${fmt(v.p50)}/${fmt(v.p99)}`)
          .join(', ')}`,
      );
    }
  } finally {
    shard.close();
    await pool.close();
  }
  return rows;
}

interface ChurnSample {
  updates: number;
  highWaterBytes: number;
  liveBytes: number;
  retiredBytes: number;
  freeBytes: number;
  drivers: number;
  pinnedReaders: number;
}

async function churn(
  g: RoadGraph,
  src: Updates,
  rng: Rng,
  total: number,
  every: number,
): Promise<{ samples: ChurnSample[]; seconds: number; queries: number }> {
  const pool = new WorkerPool({ threads: 2 });
  const shard = new Shard('andorra-car#churn', g, pool, { snapRadiusM: 200, ttlMs: TTL_MS });
  const qs = pointsNearRoads(g, rng, 2000, 30);
  const samples: ChurnSample[] = [];
  const sample = (n: number): void => {
    const s = shard.store.arena.stats();
    samples.push({
      updates: n,
      highWaterBytes: s.highWaterBytes,
      liveBytes: s.liveBytes,
      retiredBytes: s.retiredBytes,
      freeBytes: s.freeBytes,
      drivers: shard.size,
      pinnedReaders: s.pinnedReaders,
    });
  };
  let queries = 0;
  try {
    sample(0);
    let done = 0;
    const t0 = performance.now();
    let stop = false;
    // two concurrent readers, pinning snapshots while the writer commits
    const readers = Array.from({ length: 2 }, async (_, k) => {
      let i = k;
      while (!stop) {
        const p = i++ % 2000;
        const r = await shard.nearby({ lat: qs[2 * p]!, lng: qs[2 * p + 1]!, k: 10, metric: 'distance', maxDistanceM: 3000, maxEtaS: 300 });
        if (r.ok) sink.v += r.drivers.length;
        queries++;
      }
    });
    // the first 50,000 updates place the fleet, the rest move random drivers
    const fleet = src.fleet(1000);
    let next = every;
    const lane = async (): Promise<void> => {
      while (done < total) {
        const b = fleet.length ? fleet.shift()! : src.batch(Math.min(1000, total - done));
        done += b.length;
        await shard.update(b);
        if (done >= next) {
          sample(next);
          next += every;
        }
      }
    };
    await Promise.all([lane(), lane()]);
    stop = true;
    await Promise.all(readers);
    return { samples, seconds: (performance.now() - t0) / 1000, queries };
  } finally {
    shard.close();
    await pool.close();
  }
}

async function main(): Promise<void> {
  const { quick, seed } = parseArgs();
  header('pipeline: update pipeline, nearby under updates, arena over churn (Andorra, 50,000 drivers)', quick);
  const rng = new Rng(seed);
  const g = await loadMap(join(ROOT, 'maps', 'andorra.osm.pbf'), 'car', { shared: true });
  const src = new Updates(pointsNearRoads(g, rng, 200_000, 30), rng);
  const perRun = quick ? 30_000 : 100_000,
    runs = quick ? 2 : 3,
    inflight = 4;
  // --only a,b,c runs some parts (debugging); results are saved only for full sets
  const oi = process.argv.indexOf('--only');
  const only = oi > 0 ? process.argv[oi + 1]!.split(',') : ['a', 'b', 'c'];

  console.log('(a) update pipeline');
  const pipe: PipeRow[] = [];
  if (only.includes('a')) {
    for (const threads of [1, 2]) pipe.push(...(await pipelineRuns(g, src, threads, perRun, runs, inflight)));
    const st = singleThreadRuns(g, src, perRun, runs);
    pipe.push(...st.rows, ...applyAlone(g, st.model, src, perRun, runs));
    st.model.close();
  }
  console.log('');
  printTable(
    [
      'implementation',
      'worker threads',
      'batch',
      'in flight',
      'updates/s',
      'CPU µs/update (all threads)',
      'cores used',
      'main thread busy',
      'main thread in apply',
      'apply wall µs/update',
      '≥150k/s',
    ],
    pipe.map((r) => [
      r.impl,
      r.threads || '–',
      r.batch,
      r.inflight,
      fmt(r.updatesPerS),
      r.cpuUsPerUpdate.toFixed(1),
      r.cores.toFixed(2),
      r.impl === 'Shard.update' ? `${(r.mainElu * 100).toFixed(0)}%` : '–',
      r.impl.startsWith('Snapper') ? '–' : `${(r.applyShare * 100).toFixed(0)}%`,
      r.impl.startsWith('Snapper') ? '–' : r.usPerUpdateApply.toFixed(2),
      r.impl.startsWith('Snapper') ? '' : r.updatesPerS >= 150_000 ? 'yes' : 'NO',
    ]),
  );

  console.log('\n(b) nearby with 1 and 2 reader threads, without and with 50,000 updates/s');
  const near: NearbyRow[] = [];
  const seconds = quick ? 2.5 : 8;
  const openRates = quick ? [1000] : [1000, 2000];
  if (only.includes('b')) for (const threads of [1, 2]) near.push(...(await nearbyRuns(g, src, rng, threads, seconds, threads, openRates)));

  console.log('');
  printTable(
    [
      'search threads (+1 snap worker)',
      'queries',
      'updates offered',
      'updates applied/s',
      'queries/s',
      'P50 µs',
      'P99 µs',
      'max µs',
      'found/query',
      'cores used',
    ],
    near.map((r) => [
      r.threads,
      r.loop === 'closed' ? 'closed, 1 per thread' : `open ${fmt(r.targetQueriesPerS)}/s`,
      r.updates,
      fmt(r.achievedUpdatesPerS),
      fmt(r.queriesPerS),
      fmt(r.p50us),
      fmt(r.p99us),
      fmt(r.maxUs),
      r.found.toFixed(1),
      r.cores.toFixed(2),
    ]),
  );
  const at = (t: number, u: string): number => near.find((r) => r.threads === t && r.updates === u && r.loop === 'closed')?.queriesPerS ?? NaN;
  const q1 = at(1, 'none'),
    q2 = at(2, 'none'),
    u1 = at(1, '50,000/s'),
    u2 = at(2, '50,000/s');
  console.log(
    `\nreads: 2 threads = ${(q2 / q1).toFixed(2)}× one thread without updates, ${(u2 / u1).toFixed(2)}× with updates (compare bench/micro/ceiling: the machine's own 2-thread ratio)`,
  );

  if (!only.includes('c')) return;
  console.log('\n(c) arena over churn through Shard.update (2 worker threads, 2 concurrent readers)');
  const total = quick ? 150_000 : 1_000_000;
  const ch = await churn(g, src, rng, total, 50_000);
  const series = [
    { name: 'high water', xs: ch.samples.map((s) => s.updates), ys: ch.samples.map((s) => s.highWaterBytes / 2 ** 20) },
    { name: 'live', xs: ch.samples.map((s) => s.updates), ys: ch.samples.map((s) => s.liveBytes / 2 ** 20) },
  ];
  console.log(asciiPlot(series));
  const last = ch.samples[ch.samples.length - 1]!;
  const atFleet = ch.samples.find((s) => s.updates >= DRIVERS)!;
  console.log(
    `after ${fmt(total)} updates in ${ch.seconds.toFixed(1)} s (${fmt(total / ch.seconds)}/s with ${fmt(ch.queries)} concurrent queries): high water ${mb(last.highWaterBytes)} MiB (${mb(atFleet.highWaterBytes)} MiB once the fleet was placed), live ${mb(last.liveBytes)} MiB = ${fmt(last.liveBytes / last.drivers)} B/driver`,
  );
  const svg = join(RESULTS_DIR, `pipeline-arena${quick ? '-quick' : ''}.svg`);
  writeFileSync(svg, svgPlot(series, `Shard arena over ${fmt(total)} updates of ${fmt(DRIVERS)} drivers (concurrent readers)`, 'updates', 'MiB'));

  const file = saveResult('pipeline', quick, {
    seed,
    drivers: DRIVERS,
    map: 'andorra-car',
    ceilingNote: 'see bench/results/ceiling*.json',
    pipeline: pipe,
    nearby: near,
    readScaling: { none: q2 / q1, withUpdates: u2 / u1 },
    churn: { total, seconds: ch.seconds, queries: ch.queries, samples: ch.samples },
    sink: sink.v,
  });
  console.log(`saved ${file} and ${svg}`);
}

await main();
