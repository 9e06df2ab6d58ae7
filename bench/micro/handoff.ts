// What it costs to hand one small job to another thread and get the answer
// back, the two ways a shard does it: a piscina task (a 1-point snap chunk)
// and a search thread's mailbox (a nearby query with a 1 m limit, so the
// search itself is a few microseconds). One job in flight, then 8; latency
// per job and CPU per job (all threads of the process). This is why nearby
// searches have their own threads (README "Search threads").
//
//   node --expose-gc dist/bench/micro/handoff.js [--quick]
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadMap } from '../../src/mapbuild/build.js';
import { WorkerPool } from '../../src/threads/pool.js';
import { Shard } from '../../src/threads/shard.js';
import { ROOT, fmt, header, parseArgs, printTable, quantile, saveResult } from '../lib/common.js';

interface Row {
  channel: string;
  inFlight: number;
  jobsPerS: number;
  p50us: number;
  p99us: number;
  cpuUsPerJob: number;
}

async function measure(channel: string, inFlight: number, n: number, job: () => Promise<unknown>): Promise<Row> {
  for (let i = 0; i < Math.min(2000, n); i++) await job(); // warm-up
  const lat = new Float64Array(n);
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        await job();
        lat[i] = (performance.now() - s) * 1000;
      }
    }),
  );
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { channel, inFlight, jobsPerS: n / (ms / 1000), p50us: quantile(lat, 0.5), p99us: quantile(lat, 0.99), cpuUsPerJob: (c.user + c.system) / n };
}

async function main(): Promise<void> {
  const { quick } = parseArgs();
  header('handoff: one small job to another thread and back (piscina task vs search-thread mailbox)', quick);
  const g = await loadMap(join(ROOT, 'maps', 'monaco.osm.pbf'), 'car');
  const pool = new WorkerPool({ threads: 1, searchThreads: 1 });
  const shard = new Shard('handoff', g, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const v = Math.floor(g.vertexCount / 2);
  const lat = g.vLat[v],
    lng = g.vLng[v];
  await shard.update([{ driverId: 'd', lat, lng, timestampMs: Date.now(), metadata: {} }]);
  const n = quick ? 3000 : 20_000;
  const rows: Row[] = [];
  try {
    for (const inFlight of [1, 8]) {
      rows.push(
        await measure('piscina task (1-point snap)', inFlight, n, () => shard.update([{ driverId: 'd', lat, lng, timestampMs: Date.now(), metadata: {} }])),
      );
      rows.push(
        await measure('search-thread mailbox (nearby, 1 m limit)', inFlight, n, () =>
          shard.nearby({ lat, lng, k: 1, metric: 'distance', maxDistanceM: 1, maxEtaS: 300 }),
        ),
      );
      for (const r of rows.slice(-2))
        console.log(
          `  ${r.channel}, ${inFlight} in flight: ${fmt(r.jobsPerS)} jobs/s, P50 ${fmt(r.p50us)} µs, P99 ${fmt(r.p99us)} µs, CPU ${fmt(r.cpuUsPerJob)} µs/job`,
        );
    }
  } finally {
    shard.close();
    await pool.close();
  }
  console.log('');
  printTable(
    ['channel', 'in flight', 'jobs/s', 'P50 µs', 'P99 µs', 'CPU µs/job (all threads)'],
    rows.map((r) => [r.channel, r.inFlight, fmt(r.jobsPerS), fmt(r.p50us), fmt(r.p99us), fmt(r.cpuUsPerJob)]),
  );
  console.log(`\nBoth include the main thread's own work per job (building the update or the query and its answer), so they are upper bounds of the hand-off.`);
  console.log(`saved ${saveResult('handoff', quick, { map: 'monaco-car', jobs: n, rows })}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
