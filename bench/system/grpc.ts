// gRPC server throughput: unary UpdateDriver and Nearby at 1/16/64 concurrent
// calls (2 client processes: a grpc-js client costs 2–3× the server per call),
// and streamed updates in batches of 100 and 1,000, against the real server
// (faros serve on monaco-car, 10k drivers) and, in the same run, an echo
// server (same process type) answering with canned messages of the same
// protobuf size, so the difference is the cost of Faros itself.
//   node dist/bench/system/grpc.js [--quick] [--seed N]
//   roles (internal): --role echo <responses.json> | --role client <spec.json>
import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadFarosDefinition } from '../../src/api/proto.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { closedLoop, spawnReady, runClientProc, type LoopResult } from '../lib/procs.js';
import { Rng, ROOT, header, parseArgs, pointsNearRoads, printTable, quantile, saveResult, fmt } from '../lib/common.js';

const SELF = fileURLToPath(import.meta.url);
const MAP = 'monaco-car';
const pkg = grpc.loadPackageDefinition(loadFarosDefinition()) as any;
const Faros = pkg.faros.v1.Faros as grpc.ServiceClientConstructor;
const CLIENT_OPTS = { 'grpc.max_send_message_length': 64 << 20, 'grpc.max_receive_message_length': 64 << 20 };

interface ClientSpec {
  addr: string;
  method: 'updateDriver' | 'nearby';
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  points: number[];
  seed: number;
}
interface ClientResult extends LoopResult {
  ms: number;
}

// ── echo server: canned answers, no work ───────────────────────────────────
async function runEcho(file: string): Promise<void> {
  const canned = JSON.parse(readFileSync(file, 'utf8')) as { update: object; nearby: object };
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20 });
  server.addService(Faros.service, {
    updateDriver: (_c: unknown, cb: grpc.sendUnaryData<object>) => cb(null, canned.update),
    nearby: (_c: unknown, cb: grpc.sendUnaryData<object>) => cb(null, canned.nearby),
    streamDriverUpdates: (call: grpc.ServerDuplexStream<{ updates: unknown[] }, object>) => {
      call.on('data', (b) => call.write({ accepted: b.updates.length, rejected: [] }));
      call.on('end', () => call.end());
    },
    removeDriver: (_c: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { removed: false }),
    getDriver: (_c: unknown, cb: grpc.sendUnaryData<object>) => cb({ code: grpc.status.NOT_FOUND }),
    listMaps: (_c: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { maps: [] }),
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  process.stdout.write(`${JSON.stringify({ event: 'ready', grpcPort: port })}\n`);
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}

// ── client: closed loop, `concurrency` calls outstanding ───────────────────
async function runClient(file: string): Promise<void> {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as ClientSpec;
  const c = new Faros(spec.addr, grpc.credentials.createInsecure(), CLIENT_OPTS) as any;
  const rng = new Rng(spec.seed);
  const n = spec.points.length / 2;
  let i = 0;
  const r = await closedLoop(spec, (done) => {
    const p = rng.int(0, n - 1);
    const location = { lat: spec.points[2 * p]!, lng: spec.points[2 * p + 1]! };
    const req = spec.method === 'nearby' ? { mapId: MAP, location, k: 10 } : { mapId: MAP, driverId: `bench-${i++ % 10_000}`, location };
    c[spec.method](req, done);
  });
  c.close();
  process.stdout.write(`${JSON.stringify({ ...r, ms: spec.durationMs } satisfies ClientResult)}\n`);
}

// ── orchestration ──────────────────────────────────────────────────────────

function unaryCall(c: any, method: string, req: unknown): Promise<any> {
  return new Promise((res, rej) => c[method](req, (e: Error | null, r: unknown) => (e ? rej(e) : res(r))));
}

/** Stream `total` updates in batches of `batch`, `window` batches outstanding; updates/s. */
async function streamRate(
  addr: string,
  points: number[],
  batch: number,
  durationMs: number,
): Promise<{ updatesPerS: number; batches: number; rejected: number }> {
  const c = new Faros(addr, grpc.credentials.createInsecure(), CLIENT_OPTS) as any;
  const s = c.streamDriverUpdates();
  const n = points.length / 2;
  let sent = 0,
    acked = 0,
    rejected = 0,
    next = 0;
  const window = 4;
  const make = () => ({
    updates: Array.from({ length: batch }, () => {
      const p = next++ % n;
      return { mapId: MAP, driverId: `s-${p % 20_000}`, location: { lat: points[2 * p]!, lng: points[2 * p + 1]! } };
    }),
  });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    s.on('data', (r: { accepted: number; rejected: unknown[] }) => {
      acked++;
      rejected += r.rejected.length;
      if (performance.now() - t0 < durationMs) {
        s.write(make());
        sent++;
      } else if (acked === sent) s.end();
    });
    s.on('end', resolve);
    s.on('error', reject);
    for (let i = 0; i < window; i++) {
      s.write(make());
      sent++;
    }
  });
  const ms = performance.now() - t0;
  c.close();
  return { updatesPerS: (acked * batch) / (ms / 1000), batches: acked, rejected };
}

/** A CPU sanity check recorded with the results: ~100 ms on an idle core; far more means a contended machine. */
function cpuCheck(): number {
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < 1e8; i++) x += i;
  return Math.round(performance.now() - t0 + (x < 0 ? 1 : 0));
}

async function main(): Promise<void> {
  const args = parseArgs();
  header('gRPC server: unary and streamed, Faros vs echo', args.quick);
  const durationMs = args.quick ? 1200 : 5000,
    warmupMs = args.quick ? 300 : 1000;
  const dir = mkdtempSync(join(tmpdir(), 'faros-bench-grpc-'));
  const graph = await loadMap(join(ROOT, 'maps', 'monaco.osm.pbf'), 'car');
  const points = Array.from(pointsNearRoads(graph, new Rng(args.seed), 20_000, 30));

  const faros = await spawnReady([
    join(ROOT, 'dist/test/e2e/serve-main.js'),
    '--map',
    MAP,
    '--grpc-port',
    '0',
    '--http-port',
    '0',
    '--host',
    '127.0.0.1',
    '--max-in-flight',
    '100000',
    '--max-batch-size',
    '10000',
  ]);
  const farosAddr = `127.0.0.1:${faros.grpcPort}`;
  // Seed 10k drivers and capture real answers for the echo server.
  const fc = new Faros(farosAddr, grpc.credentials.createInsecure(), CLIENT_OPTS) as any;
  let seeded = 0;
  for (let b = 0; b < 10; b++) {
    const updates = Array.from({ length: 1000 }, (_, i) => ({
      mapId: MAP,
      driverId: `seed-${b * 1000 + i}`,
      location: { lat: points[2 * (b * 1000 + i)]!, lng: points[2 * (b * 1000 + i) + 1]! },
    }));
    const r = await new Promise<{ accepted: number }>((res, rej) => {
      const s = fc.streamDriverUpdates();
      s.on('data', res);
      s.on('error', rej);
      s.write({ updates });
      s.end();
    });
    seeded += r.accepted;
  }
  const update = await unaryCall(fc, 'updateDriver', { mapId: MAP, driverId: 'probe', location: { lat: points[0], lng: points[1] } });
  const nearby = await unaryCall(fc, 'nearby', { mapId: MAP, location: { lat: points[2], lng: points[3] }, k: 10 });
  fc.close();
  const cannedFile = join(dir, 'canned.json');
  writeFileSync(cannedFile, JSON.stringify({ update, nearby }));
  const echo = await spawnReady([SELF, '--role', 'echo', cannedFile]);
  const servers = [
    { name: 'faros', addr: farosAddr },
    { name: 'echo', addr: `127.0.0.1:${echo.grpcPort}` },
  ];
  console.log(`seeded ${seeded} drivers; nearby answer has ${nearby.drivers.length} drivers\n`);

  const unary: { server: string; method: string; concurrency: number; callsPerS: number; p50Us: number; p99Us: number; errors: number }[] = [];
  for (const method of ['updateDriver', 'nearby'] as const) {
    for (const concurrency of [1, 16, 64]) {
      for (const s of servers) {
        // Two client processes share the concurrency (one when it is 1).
        const procs = concurrency === 1 ? [1] : [concurrency / 2, concurrency / 2];
        const rs = await Promise.all(
          procs.map((cc, k) =>
            runClientProc<ClientResult>(SELF, { addr: s.addr, method, concurrency: cc, warmupMs, durationMs, points, seed: args.seed + k }, dir, k),
          ),
        );
        const lat = rs.flatMap((r) => r.latUs);
        const row = {
          server: s.name,
          method,
          concurrency,
          callsPerS: rs.reduce((a, r) => a + r.calls, 0) / (durationMs / 1000),
          p50Us: quantile(lat, 0.5),
          p99Us: quantile(lat, 0.99),
          errors: rs.reduce((a, r) => a + r.errors, 0),
        };
        unary.push(row);
      }
    }
  }
  const streamed: { server: string; batch: number; updatesPerS: number; rejected: number }[] = [];
  for (const batch of [100, 1000]) {
    for (const s of servers) {
      const r = await streamRate(s.addr, points, batch, durationMs);
      streamed.push({ server: s.name, batch, updatesPerS: r.updatesPerS, rejected: r.rejected });
    }
  }
  faros.proc.kill('SIGTERM');
  echo.proc.kill('SIGTERM');

  printTable(
    ['method', 'concurrency', 'server', 'calls/s', 'P50 µs', 'P99 µs', 'errors'],
    unary.map((r) => [r.method, r.concurrency, r.server, fmt(r.callsPerS), fmt(r.p50Us), fmt(r.p99Us), r.errors]),
  );
  console.log();
  printTable(
    ['stream batch', 'server', 'updates/s', 'rejected'],
    streamed.map((r) => [r.batch, r.server, fmt(r.updatesPerS), r.rejected]),
  );
  const file = saveResult('grpc', args.quick, {
    durationMs,
    warmupMs,
    map: MAP,
    drivers: seeded,
    cpuCheckMsPer1e8Adds: cpuCheck(),
    clientProcesses: 2,
    unary,
    streamed,
  });
  console.log(`\nsaved ${file}`);
}

const role = process.argv.indexOf('--role');
if (role >= 0) {
  const [kind, file] = [process.argv[role + 1], process.argv[role + 2]!];
  (kind === 'echo' ? runEcho(file) : runClient(file)).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
