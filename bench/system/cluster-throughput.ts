// Cluster throughput on this machine: streamed updates (StreamDriverUpdates,
// batches of 100) and unary Nearby (K=10, 3 km) against 1 instance and against
// 3 instances (replication 2), same client load, same run. Every `faros serve`
// runs with --workers 1; the load generator is this process. Per-process CPU
// (from /proc/<pid>/stat) says who had the cores.
//
//   node --expose-gc dist/bench/system/cluster-throughput.js [--quick] [--seed N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadMap } from '../../src/mapbuild/build.js';
import { ROOT, Rng, fmt, header, parseArgs, pointsNearRoads, printTable, quantile, saveResult } from '../lib/common.js';
import { MAP_ID, cluster, farosGrpc, streamBatches, wireFleet, type FarosGrpc, type WireUpdate } from './transfer.js';

const DRIVERS = 50_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU seconds of a process (all its threads) from /proc. */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime (fields 14, 15) in 100 Hz ticks
}

interface Phase {
  nodes: number;
  kind: 'updates' | 'nearby';
  perS: number;
  p50us?: number;
  p99us?: number;
  errors: number;
  serverCores: number[];
  clientCores: number;
  seconds: number;
}

async function measure(
  pids: number[],
  seconds: number,
  run: (stopAt: number) => Promise<{ n: number; errors: number; lat?: number[] }>,
): Promise<Omit<Phase, 'nodes' | 'kind'>> {
  const s0 = pids.map(cpuOf),
    c0 = process.cpuUsage(),
    t0 = performance.now();
  const r = await run(t0 + seconds * 1000);
  const el = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const lat = r.lat ? Float64Array.from(r.lat) : undefined;
  return {
    perS: r.n / el,
    errors: r.errors,
    seconds: el,
    serverCores: pids.map((p, i) => (cpuOf(p) - s0[i]!) / el),
    clientCores: (c.user + c.system) / 1e6 / el,
    ...(lat ? { p50us: quantile(lat, 0.5), p99us: quantile(lat, 0.99) } : {}),
  };
}

function nearbyCall(c: FarosGrpc, lat: number, lng: number): Promise<void> {
  return new Promise((resolve, reject) => {
    c.nearby(
      { mapId: MAP_ID, location: { lat, lng }, k: 10, metric: 'METRIC_DISTANCE', maxDistanceM: 3000 },
      new grpc.Metadata(),
      { deadline: Date.now() + 5000 },
      (e) => (e ? reject(e) : resolve()),
    );
  });
}

async function runSize(
  nodes: number,
  pts: Float64Array,
  moves: WireUpdate[][],
  qs: Float64Array,
  seconds: number,
  streams: number,
  concurrency: number,
): Promise<Phase[]> {
  const { c, tail } = await cluster(nodes, Math.min(2, nodes));
  const clients = c.nodes.map((n) => farosGrpc(n.address));
  const pids = c.nodes.map((n) => n.child.pid!);
  try {
    // place the fleet through node 0 and wait until the replicas hold it
    const r = await streamBatches(clients[0]!, wireFleet(pts, DRIVERS, 500), 8);
    if (r.accepted !== DRIVERS) throw new Error(`load: ${r.accepted} of ${DRIVERS} accepted`);
    for (let t = 0; t < 600; t++) {
      const counts = await Promise.all(
        c.nodes.map(async (n) => {
          const pc = c.peerClient(n.peerAddress);
          try {
            return Number((await pc.status(2000)).maps.find((m) => m.mapId === MAP_ID)?.drivers ?? 0);
          } finally {
            pc.close();
          }
        }),
      );
      if (counts.filter((x) => x >= DRIVERS).length >= Math.min(2, nodes)) break;
      await sleep(100);
    }
    const out: Phase[] = [];
    // warm-up both paths briefly
    await Promise.all(clients.map((cl) => streamBatches(cl, moves, 4, performance.now() + 500)));
    await Promise.all(
      Array.from({ length: 8 }, async (_, k) => {
        for (let i = 0; i < 50; i++) await nearbyCall(clients[k % clients.length]!, qs[2 * i]!, qs[2 * i + 1]!).catch(() => {});
      }),
    );

    // streamed updates: `streams` streams spread over the instances, 16 batches of 100 in flight each
    const u = await measure(pids, seconds, async (stopAt) => {
      const rs = await Promise.all(
        Array.from({ length: streams }, (_, k) => streamBatches(clients[k % clients.length]!, moves.slice(k * 97).concat(moves.slice(0, k * 97)), 16, stopAt)),
      );
      return { n: rs.reduce((a, x) => a + x.accepted, 0), errors: rs.reduce((a, x) => a + x.rejected, 0) };
    });
    out.push({ nodes, kind: 'updates', ...u });
    console.log(
      `  ${nodes} instance(s) updates: ${fmt(u.perS)}/s; server cores ${u.serverCores.map((x) => x.toFixed(2)).join(' + ')}, client ${u.clientCores.toFixed(2)}`,
    );

    // unary nearby: `concurrency` calls outstanding, spread over the instances
    const q = await measure(pids, seconds, async (stopAt) => {
      const lat: number[] = [];
      let errors = 0,
        qi = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async (_, k) => {
          const cl = clients[k % clients.length]!;
          while (performance.now() < stopAt) {
            const i = qi++ % (qs.length / 2);
            const t0 = performance.now();
            try {
              await nearbyCall(cl, qs[2 * i]!, qs[2 * i + 1]!);
              lat.push((performance.now() - t0) * 1000);
            } catch {
              errors++;
            }
          }
        }),
      );
      return { n: lat.length, errors, lat };
    });
    out.push({ nodes, kind: 'nearby', ...q });
    console.log(
      `  ${nodes} instance(s) nearby: ${fmt(q.perS)}/s P50 ${fmt(q.p50us!)} µs P99 ${fmt(q.p99us!)} µs; server cores ${q.serverCores.map((x) => x.toFixed(2)).join(' + ')}, client ${q.clientCores.toFixed(2)}`,
    );
    return out;
  } catch (e) {
    console.error(tail.join('\n'));
    throw e;
  } finally {
    for (const cl of clients) cl.close();
    await c.stop();
  }
}

async function main(): Promise<void> {
  const { quick, seed } = parseArgs();
  header('cluster throughput: 1 vs 3 instances on one machine (Andorra, 50,000 drivers)', quick);
  const rng = new Rng(seed);
  const g = await loadMap(join(ROOT, 'maps', 'andorra.osm.pbf'), 'car', { shared: true });
  const pts = pointsNearRoads(g, rng, 20_000, 30);
  const qs = pointsNearRoads(g, rng, 5_000, 30);
  // 2,000 batches of 100 random moves, server timestamps (0), cycled
  const moves: WireUpdate[][] = [];
  for (let b = 0; b < 2000; b++) {
    moves.push(
      Array.from({ length: 100 }, () => {
        const p = rng.int(0, 19_999),
          d = rng.int(0, DRIVERS - 1);
        return {
          mapId: MAP_ID,
          driverId: `drv-${d}`,
          location: { lat: pts[2 * p]!, lng: pts[2 * p + 1]! },
          timestampMs: '0',
          metadata: { status: d % 3 ? 'available' : 'busy' },
        };
      }),
    );
  }
  const seconds = quick ? 4 : 10,
    streams = 4,
    concurrency = 32;
  const phases: Phase[] = [];
  for (const nodes of [1, 3]) phases.push(...(await runSize(nodes, pts, moves, qs, seconds, streams, concurrency)));
  console.log('');
  printTable(
    ['instances (RF)', 'load', 'per second', 'P50 µs', 'P99 µs', 'errors', 'server cores (each)', 'servers total', 'load generator cores'],
    phases.map((p) => [
      `${p.nodes} (RF ${Math.min(2, p.nodes)})`,
      p.kind === 'updates' ? `updates, ${streams} streams × 16 batches of 100` : `unary Nearby, ${concurrency} in flight`,
      fmt(p.perS),
      p.p50us === undefined ? '–' : fmt(p.p50us),
      p.p99us === undefined ? '–' : fmt(p.p99us),
      p.errors,
      p.serverCores.map((x) => x.toFixed(2)).join(' + '),
      p.serverCores.reduce((a, b) => a + b, 0).toFixed(2),
      p.clientCores.toFixed(2),
    ]),
  );
  const file = saveResult('cluster', quick, {
    seed,
    map: MAP_ID,
    drivers: DRIVERS,
    streams,
    batch: 100,
    window: 16,
    concurrency,
    workersPerInstance: 1,
    phases,
  });
  console.log(`saved ${file}`);
}

await main();
