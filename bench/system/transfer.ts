// State transfer of 50,000 and 500,000 drivers (Andorra, car):
//  - in process: Shard.exportSnapshot → importRecords into a second Shard;
//  - over real gRPC between two real `faros serve` processes (2-node cluster,
//    replication 2): a direct PeerClient.pullSnapshot, and SIGKILL + restart of
//    one node, timed until its Status shows the map SERVING with N drivers.
// Wire MB = the PullSnapshot messages as the peer proto encodes them.
//
//   node --expose-gc dist/bench/system/transfer.js [--quick] [--seed N]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadMap } from '../../src/mapbuild/build.js';
import { WorkerPool } from '../../src/threads/pool.js';
import { Shard } from '../../src/threads/shard.js';
import { Snapper, isMiss } from '../../src/model/snap/snap.js';
import type { DriverRecord } from '../../src/model/store/store.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { startCluster, type RunningCluster } from '../../src/cli/cluster.js';
import { peerServiceDefinition, toRecordMsg } from '../../src/proxy/peer-client.js';
import { FAROS_PROTO, LOADER_OPTIONS } from '../../src/api/proto.js';
import { ROOT, Rng, fmt, gc, header, median, parseArgs, pointsNearRoads, printTable, saveResult, sink } from '../lib/common.js';

export const MAP_ID = 'andorra-car';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- a small public-API gRPC client (shared with cluster-throughput.ts) ----
type Cb = (err: grpc.ServiceError | null, res: unknown) => void;
export type FarosGrpc = grpc.Client &
  Record<string, (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: Cb) => grpc.ClientUnaryCall> & {
    streamDriverUpdates(o?: grpc.CallOptions): grpc.ClientDuplexStream<unknown, { accepted: number; rejected: unknown[] }>;
  };
let farosPkg: grpc.GrpcObject | undefined;
export function farosGrpc(addr: string): FarosGrpc {
  farosPkg ??= grpc.loadPackageDefinition(protoLoader.loadSync(FAROS_PROTO, LOADER_OPTIONS));
  const Ctor = ((farosPkg.faros as grpc.GrpcObject).v1 as grpc.GrpcObject).Faros as grpc.ServiceClientConstructor;
  return new Ctor(addr, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 << 20,
    'grpc.max_receive_message_length': 64 << 20,
  }) as unknown as FarosGrpc;
}

export interface WireUpdate {
  mapId: string;
  driverId: string;
  location: { lat: number; lng: number };
  timestampMs: string;
  metadata: Record<string, string>;
}

/**
 * Send batches on one StreamDriverUpdates stream with at most `window` batches
 * unanswered; resolves with accepted and rejected counts.
 */
export function streamBatches(
  c: FarosGrpc,
  batches: WireUpdate[][],
  window: number,
  stopAt = Infinity,
): Promise<{ accepted: number; rejected: number; sent: number }> {
  return new Promise((resolve, reject) => {
    const s = c.streamDriverUpdates();
    let next = 0,
      out = 0,
      accepted = 0,
      rejected = 0,
      sent = 0,
      ended = false;
    const more = (): boolean => (stopAt === Infinity ? next < batches.length : performance.now() < stopAt);
    const pump = (): void => {
      // a finite stopAt cycles through the batches until that time
      while (out < window && more()) {
        const b = batches[next++ % batches.length]!;
        out++;
        sent += b.length;
        s.write({ updates: b });
      }
      // WATCH OUT: half-close as soon as nothing more will be sent. The server
      // answers a batch only once 7 more arrived (PIPELINE = 8 in
      // src/api/grpc.ts) or the client half-closed; waiting for the last
      // answers before ending deadlocks.
      if (!ended && !more()) {
        ended = true;
        s.end();
      }
    };
    s.on('data', (r: { accepted: number; rejected: unknown[] }) => {
      out--;
      accepted += r.accepted;
      rejected += r.rejected.length;
      pump();
    });
    s.on('error', reject);
    s.on('end', () => resolve({ accepted, rejected, sent }));
    pump();
    // with a window under 8 nothing comes back until the half-close: end on time regardless
    if (stopAt !== Infinity) setTimeout(pump, Math.max(0, stopAt - performance.now()) + 1);
  });
}

/** N drivers as wire batches: driver i at point i mod P, a metadata pair, the time now. */
export function wireFleet(pts: Float64Array, n: number, batch: number, prefix = 'drv'): WireUpdate[][] {
  const P = pts.length / 2,
    out: WireUpdate[][] = [];
  const ts = String(Date.now());
  for (let i = 0; i < n; i += batch) {
    const b: WireUpdate[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const p = j % P;
      b.push({
        mapId: MAP_ID,
        driverId: `${prefix}-${j}`,
        location: { lat: pts[2 * p]!, lng: pts[2 * p + 1]! },
        timestampMs: ts,
        metadata: { status: j % 3 ? 'available' : 'busy' },
      });
    }
    out.push(b);
  }
  return out;
}

/** Poll Status of addr until the map is SERVING with at least n drivers. */
export async function waitServing(
  c: RunningCluster,
  addr: string,
  n: number,
  timeoutMs: number,
): Promise<{ upMs: number; servingMs: number; fullMs: number; drivers: number }> {
  const pc = c.peerClient(addr);
  const t0 = performance.now();
  let upMs = NaN,
    servingMs = NaN,
    drivers = 0;
  try {
    while (performance.now() - t0 < timeoutMs) {
      try {
        const st = await pc.status(1000);
        if (Number.isNaN(upMs)) upMs = performance.now() - t0;
        const m = st.maps.find((x) => x.mapId === MAP_ID);
        drivers = Number(m?.drivers ?? 0);
        if (m?.state === 'SERVING' && Number.isNaN(servingMs)) servingMs = performance.now() - t0;
        if (m?.state === 'SERVING' && drivers >= n) return { upMs, servingMs, fullMs: performance.now() - t0, drivers };
      } catch {
        /* not up yet: keep polling */
      }
      await sleep(20);
    }
    throw new Error(`${addr}: map ${MAP_ID} not SERVING with ${n} drivers after ${timeoutMs} ms (last count ${drivers})`);
  } finally {
    pc.close();
  }
}

/** A cluster with a bounded log tail to show when something fails. */
export async function cluster(nodes: number, replication: number): Promise<{ c: RunningCluster; tail: string[] }> {
  const tail: string[] = [];
  const c = await startCluster({
    nodes,
    replication,
    grpcPort: 0,
    httpPort: 0,
    serveArgs: ['--map', MAP_ID, '--workers', '1', '--log-level', 'warn'],
    log: (m) => {
      tail.push(m);
      if (tail.length > 40) tail.shift();
    },
  });
  return { c, tail };
}

// ---- in process ----
function records(g: RoadGraph, rng: Rng, n: number): DriverRecord[] {
  const snapper = new Snapper(g);
  const pts = pointsNearRoads(g, rng, 20_000, 30);
  const snapped: { lat: number; lng: number; segment: number; t: number; snapM: number }[] = [];
  for (let i = 0; i < 20_000; i++) {
    const s = snapper.snap(pts[2 * i]!, pts[2 * i + 1]!, 200);
    if (!isMiss(s)) snapped.push({ lat: pts[2 * i]!, lng: pts[2 * i + 1]!, segment: s.segment, t: s.t, snapM: s.distanceM });
  }
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    driverId: `drv-${i}`,
    ...snapped[i % snapped.length]!,
    timestampMs: now,
    metadata: { status: i % 3 ? 'available' : 'busy' },
  }));
}

const pullSerialize = (peerServiceDefinition().PullSnapshot as grpc.MethodDefinition<unknown, { records: unknown[] }>).responseSerialize;

interface InProc {
  n: number;
  exportMs: number;
  transferMs: number;
  exportPerS: number;
  transferPerS: number;
  wireMB: number;
  bytesPerRecord: number;
  runs: number[];
}

async function inProcess(g: RoadGraph, rng: Rng, n: number, runs: number): Promise<InProc> {
  const pool = new WorkerPool({ threads: 1 });
  const a = new Shard(`${MAP_ID}#a`, g, pool, { snapRadiusM: 200, ttlMs: 3600_000 });
  try {
    const recs = records(g, rng, n);
    for (let i = 0; i < n; i += 5000) a.importRecords(recs.slice(i, i + 5000));
    // wire size, as the PullSnapshot stream sends it (chunks of 2,000)
    let bytes = 0;
    await a.exportSnapshot((c) => {
      bytes += pullSerialize({ records: c.map(toRecordMsg) }).length;
    }, 2000);
    const exp: number[] = [],
      xfer: number[] = [];
    for (let r = 0; r < runs + 1; r++) {
      gc();
      let t0 = performance.now();
      let seen = 0;
      await a.exportSnapshot((c) => {
        seen += c.length;
        sink.v += c[0]!.segment;
      }, 2000);
      const e = performance.now() - t0;
      const b = new Shard(`${MAP_ID}#b${r}`, g, pool, { snapRadiusM: 200, ttlMs: 3600_000 });
      gc();
      t0 = performance.now();
      let applied = 0;
      await a.exportSnapshot((c) => {
        applied += b.importRecords(c);
      }, 2000);
      const x = performance.now() - t0;
      if (applied !== n || seen !== n || b.size !== n)
        throw new Error(`transfer lost drivers: exported ${seen}, applied ${applied}, size ${b.size}, expected ${n}`);
      b.close();
      if (r > 0) {
        exp.push(e);
        xfer.push(x);
      } // the first round is the warm-up
    }
    const e = median(exp),
      x = median(xfer);
    return {
      n,
      exportMs: e,
      transferMs: x,
      exportPerS: n / (e / 1000),
      transferPerS: n / (x / 1000),
      wireMB: bytes / 2 ** 20,
      bytesPerRecord: bytes / n,
      runs: xfer,
    };
  } finally {
    a.close();
    await pool.close();
  }
}

// ---- over gRPC between two real processes ----
interface OverGrpc {
  n: number;
  replicaDrivers: number;
  loadMs: number;
  loadPerS: number;
  pullMs: number;
  pullPerS: number;
  restartUpMs: number;
  restartServingMs: number;
  restartFullMs: number;
  restartPerS: number;
  wireMB: number;
}

async function overGrpc(rng: Rng, g: RoadGraph, n: number, bytesPerRecord: number): Promise<OverGrpc> {
  const { c, tail } = await cluster(2, 2);
  console.log(`  2-node cluster up: ${c.nodes.map((x) => x.address).join(', ')}`);
  const client = farosGrpc(c.nodes[0]!.address);
  try {
    const pts = pointsNearRoads(g, rng, 20_000, 30);
    let t0 = performance.now();
    const r = await streamBatches(client, wireFleet(pts, n, 500), 8);
    if (r.accepted !== n) throw new Error(`load: ${r.accepted} of ${n} accepted (${r.rejected} rejected)`);
    const streamMs = performance.now() - t0;
    console.log(`  streamed ${fmt(n)} drivers to node 0 in ${fmt(streamMs)} ms`);
    // Replication to the second copy is best effort: note how many arrived.
    let replicaDrivers = n;
    try {
      await waitServing(c, c.nodes[1]!.peerAddress, n, 15_000);
    } catch {
      const pc1 = c.peerClient(c.nodes[1]!.peerAddress);
      replicaDrivers = Number((await pc1.status(2000)).maps.find((m) => m.mapId === MAP_ID)?.drivers ?? 0);
      pc1.close();
      console.log(
        `  WATCH OUT: the replica holds ${fmt(replicaDrivers)} of ${fmt(n)} drivers 15 s after the load (forwarding dropped ${fmt(n - replicaDrivers)})`,
      );
    }
    const loadMs = replicaDrivers === n ? performance.now() - t0 : streamMs;
    // a direct pull (requester: the source itself, so it subscribes no one)
    const pc = c.peerClient(c.nodes[0]!.peerAddress);
    const pulls: number[] = [];
    for (let i = 0; i < 2; i++) {
      let got = 0;
      t0 = performance.now();
      await pc.pullSnapshot(
        MAP_ID,
        c.nodes[0]!.peerAddress,
        (recs) => {
          got += recs.length;
        },
        120_000,
      );
      pulls.push(performance.now() - t0);
      if (got !== n) throw new Error(`pull: ${got} of ${n}`);
    }
    pc.close();
    // SIGKILL node 1, restart it, time until it serves all N drivers again
    const victim = c.nodes[1]!;
    await new Promise<void>((res) => {
      victim.child.once('exit', () => res());
      victim.child.kill('SIGKILL');
    });
    t0 = performance.now();
    const restarted = c.restart(1);
    const w = await waitServing(c, victim.peerAddress, n, 120_000);
    await restarted;
    return {
      n,
      replicaDrivers,
      loadMs,
      loadPerS: n / (loadMs / 1000),
      pullMs: pulls[1]!,
      pullPerS: n / (pulls[1]! / 1000),
      restartUpMs: w.upMs,
      restartServingMs: w.servingMs,
      restartFullMs: w.fullMs,
      restartPerS: n / (w.fullMs / 1000),
      wireMB: (bytesPerRecord * n) / 2 ** 20,
    };
  } catch (e) {
    console.error(tail.join('\n'));
    throw e;
  } finally {
    client.close();
    await c.stop();
  }
}

async function main(): Promise<void> {
  const { quick, seed } = parseArgs();
  header('transfer: driver state transfer in process and over gRPC (Andorra, car)', quick);
  const rng = new Rng(seed);
  const g = await loadMap(join(ROOT, 'maps', 'andorra.osm.pbf'), 'car', { shared: true });
  const sizes = [50_000, 500_000];
  const inproc: InProc[] = [];
  const onlyGrpc = process.argv.includes('--only-grpc');
  for (const n of onlyGrpc ? [50_000] : sizes) {
    const r = await inProcess(g, rng, n, quick ? 1 : 3);
    inproc.push(r);
    console.log(
      `  in process ${fmt(n)}: export ${fmt(r.exportMs)} ms, export+import ${fmt(r.transferMs)} ms (${fmt(r.transferPerS)} records/s), ${r.wireMB.toFixed(1)} MB on the wire`,
    );
  }
  console.log('');
  printTable(
    ['drivers', 'export only ms', 'export records/s', 'export → import ms', 'records/s', 'wire MB', 'B/record'],
    inproc.map((r) => [fmt(r.n), fmt(r.exportMs), fmt(r.exportPerS), fmt(r.transferMs), fmt(r.transferPerS), r.wireMB.toFixed(1), fmt(r.bytesPerRecord)]),
  );

  const grpcSizes = quick || onlyGrpc ? [50_000] : sizes;
  const gi = process.argv.indexOf('--grpc-sizes');
  if (gi > 0) grpcSizes.splice(0, grpcSizes.length, ...process.argv[gi + 1]!.split(',').map(Number));
  const wire: OverGrpc[] = [];
  for (const n of grpcSizes) {
    const bpr = (inproc.find((r) => r.n === n) ?? inproc[inproc.length - 1]!).bytesPerRecord;
    const r = await overGrpc(rng, g, n, bpr);
    wire.push(r);
    console.log(
      `  gRPC ${fmt(n)}: loaded in ${fmt(r.loadMs)} ms, pull ${fmt(r.pullMs)} ms, restart → up ${fmt(r.restartUpMs)} ms, SERVING ${fmt(r.restartServingMs)} ms, all ${fmt(n)} drivers ${fmt(r.restartFullMs)} ms`,
    );
  }
  console.log('');
  printTable(
    [
      'drivers',
      'replica got',
      'load via StreamDriverUpdates (RF 2) /s',
      'PullSnapshot ms',
      'pull records/s',
      'pull MB/s',
      'SIGKILL+restart: Status answers ms',
      'SERVING ms',
      'SERVING with N ms',
      'wire MB',
    ],
    wire.map((r) => [
      fmt(r.n),
      fmt(r.replicaDrivers),
      fmt(r.loadPerS),
      fmt(r.pullMs),
      fmt(r.pullPerS),
      (r.wireMB / (r.pullMs / 1000)).toFixed(1),
      fmt(r.restartUpMs),
      fmt(r.restartServingMs),
      fmt(r.restartFullMs),
      r.wireMB.toFixed(1),
    ]),
  );
  const file = saveResult('transfer', quick, { seed, map: MAP_ID, inProcess: inproc, overGrpc: wire, sink: sink.v });
  console.log(`saved ${file}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
