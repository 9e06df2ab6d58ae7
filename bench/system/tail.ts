// Where a nearby query's time goes under open-loop load, and how server
// settings move the tail. Several `faros serve` processes (one per setting)
// and a no-work gRPC server (canned answers: the ceiling) run side by side;
// each round drives every one of them in turn (order rotated) with h2load at a
// fixed rate of unary Nearby, optionally while updates stream in, and reads:
// client latency (h2load's per-request log), the server's own phases
// (faros_nearby_phase_seconds: queued / search / reply), event-loop delay and
// GC time (prom-client's nodejs_gc_duration_seconds).
//   node dist/bench/system/tail.js [--quick] [--rps 1000 | --rps 0 (closed loop: the peak)] [--seconds 10] [--rounds 3]
//        [--drivers 20000] [--updates 0] [--configs base,semi64,...]
// Settings (--configs): base = defaults (workers = cores); semi64 =
// --max-semi-space-size=64 (a larger young generation: fewer scavenges);
// workers1 = one snap worker and one search thread; others are in CONFIGS.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadFarosDefinition } from '../../src/api/proto.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { parseProm } from '../../tools/prom-text.js';
import { ROOT, Rng, fmt, header, pointsNearRoads, printTable, saveResult } from '../lib/common.js';
import { spawnReady } from '../lib/procs.js';
import { h2loadNearby } from './load/h2load.js';
import { startFaros, type FarosProc } from './load/lib.js';

const MAP_ID = 'andorra-car';
const MAP_FILE = join(ROOT, 'maps', 'andorra.osm.pbf');
const K = 10,
  RADIUS = 3000;

/** Server settings compared: extra `faros serve` flags and NODE_OPTIONS. */
const CONFIGS: Record<string, { flags?: string[]; nodeOptions?: string; execArgv?: string[] }> = {
  base: {},
  semi64: { nodeOptions: '--max-semi-space-size=64' },
  semi16: { nodeOptions: '--max-semi-space-size=16' },
  threads1: { flags: ['--search-threads', '1'] },
  workers1: { flags: ['--workers', '1'] },
  // Every search handed to the search threads (the default runs a search on the main thread while they are idle).
  noinline: { flags: ['--inline-search-ms', '0'] },
  // Writes the server's CPU profiles (every thread) under /tmp/faros-tail-prof at its stop.
  profile: { execArgv: ['--cpu-prof', '--cpu-prof-dir=/tmp/faros-tail-prof'] },
};

interface Args {
  quick: boolean;
  rps: number;
  seconds: number;
  rounds: number;
  drivers: number;
  updates: number;
  configs: string[];
  seed: number;
}

function parse(argv: string[]): Args {
  const a: Args = { quick: false, rps: 1000, seconds: 10, rounds: 3, drivers: 20_000, updates: 0, configs: ['base', 'semi64'], seed: 42 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!,
      v = argv[i + 1] ?? '';
    if (k === '--quick') {
      a.quick = true;
      a.seconds = 3;
      a.rounds = 1;
      a.drivers = 5000;
      continue;
    }
    i++;
    if (k === '--rps') a.rps = Number(v);
    else if (k === '--seconds') a.seconds = Number(v);
    else if (k === '--rounds') a.rounds = Number(v);
    else if (k === '--drivers') a.drivers = Number(v);
    else if (k === '--updates') a.updates = Number(v);
    else if (k === '--seed') a.seed = Number(v);
    else if (k === '--configs') a.configs = v.split(',');
    else throw new Error(`unknown flag ${k}; see the header of bench/system/tail.ts`);
  }
  for (const c of a.configs) if (!CONFIGS[c]) throw new Error(`unknown config ${c}; known: ${Object.keys(CONFIGS).join(', ')}`);
  if (a.rps % 4 !== 0) throw new Error('--rps must be a multiple of 4 (4 connections); 0 = closed loop (the peak)');
  return a;
}

const pkg = grpc.loadPackageDefinition(loadFarosDefinition()) as any;
const Faros = pkg.faros.v1.Faros as grpc.ServiceClientConstructor;
const unary = (c: any, m: string, req: unknown): Promise<any> => new Promise((res, rej) => c[m](req, (e: Error | null, r: unknown) => (e ? rej(e) : res(r))));

/** Send `n` drivers (batches of 1,000 on one stream) with random points near roads. */
async function seed(addr: string, pts: Float64Array, n: number, prefix: string): Promise<number> {
  const c = new Faros(addr, grpc.credentials.createInsecure()) as any;
  const s = c.streamDriverUpdates();
  let accepted = 0;
  const done = new Promise<void>((res, rej) => {
    s.on('data', (r: { accepted: number }) => {
      accepted += r.accepted;
    });
    s.on('end', res);
    s.on('error', rej);
  });
  for (let b = 0; b < n; b += 1000) {
    const updates = [];
    for (let i = b; i < Math.min(n, b + 1000); i++)
      updates.push({ mapId: MAP_ID, driverId: `${prefix}${i}`, location: { lat: pts[2 * i]!, lng: pts[2 * i + 1]! }, metadata: { status: 'available' } });
    s.write({ updates });
  }
  s.end();
  await done;
  c.close();
  return accepted;
}

/** Updates at `perS`/s (batches every 10 ms on one stream) until stopped; resolves with each batch's ack latency (ms). */
function streamUpdates(addr: string, pts: Float64Array, n: number, perS: number): { stop(): Promise<number[]> } {
  if (perS <= 0) return { stop: async () => [] };
  const c = new Faros(addr, grpc.credentials.createInsecure()) as any;
  const s = c.streamDriverUpdates();
  const sent: number[] = [],
    acks: number[] = [];
  s.on('data', () => {
    const t = sent.shift();
    if (t !== undefined) acks.push(performance.now() - t);
  });
  s.on('error', () => {});
  const per = Math.max(1, Math.round(perS / 100));
  let i = 0;
  const t = setInterval(() => {
    const updates = [];
    for (let j = 0; j < per; j++, i++) {
      const d = i % n,
        p = (i * 7919) % n;
      updates.push({ mapId: MAP_ID, driverId: `u${d}`, location: { lat: pts[2 * p]!, lng: pts[2 * p + 1]! }, metadata: { status: 'available' } });
    }
    sent.push(performance.now());
    s.write({ updates });
  }, 10);
  return {
    stop: async () => {
      clearInterval(t);
      s.end();
      await new Promise((r) => setTimeout(r, 200));
      c.close();
      return acks;
    },
  };
}

/** A histogram's bucket counts (le → cumulative count) for series matching `name{...label...}`. */
function buckets(m: Map<string, number>, name: string, label: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, v] of m) {
    if (!k.startsWith(`${name}_bucket{`) || !k.includes(label)) continue;
    const le = /le="([^"]+)"/.exec(k)?.[1];
    if (le === undefined) continue;
    const x = le === '+Inf' ? Infinity : Number(le);
    out.set(x, (out.get(x) ?? 0) + v);
  }
  return out;
}

/** Quantile q of the observations between two scrapes of a histogram, ms (upper bucket bound). */
function quantileMs(before: Map<string, number>, after: Map<string, number>, name: string, label: string, q: number): number | null {
  const a = buckets(after, name, label),
    b = buckets(before, name, label);
  const les = [...a.keys()].sort((x, y) => x - y);
  const total = (a.get(Infinity) ?? 0) - (b.get(Infinity) ?? 0);
  if (total <= 0) return null;
  for (const le of les) if ((a.get(le) ?? 0) - (b.get(le) ?? 0) >= q * total) return le === Infinity ? Infinity : le * 1000;
  return null;
}

const sumOf = (m: Map<string, number>, prefix: string): number => {
  let s = 0;
  for (const [k, v] of m) if (k.startsWith(prefix)) s += v;
  return s;
};

async function scrape(http: string | undefined): Promise<Map<string, number>> {
  if (!http) return new Map();
  try {
    return parseProm(await (await fetch(`${http}/metrics`)).text());
  } catch {
    return new Map();
  }
}

interface Row {
  round: number;
  config: string;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  answered: number;
  errors: Record<string, number>;
  /** Update batches' ack latency while the nearby load ran (with --updates). */
  ackP50?: number;
  ackP99?: number;
  server?: {
    queuedP99Ms: number | null;
    searchP99Ms: number | null;
    replyP99Ms: number | null;
    gcMsPerS: number;
    majorGcs: number;
    lagP99Ms: number;
  };
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  header(
    `Nearby ${a.rps ? `tail under open loop: ${fmt(a.rps)}/s` : 'peak (closed loop, 64 in flight)'}, ${a.updates ? `${fmt(a.updates)} updates/s` : 'no updates'}`,
    a.quick,
  );
  const log = (m: string): void => console.error(m);
  const g = await loadMap(MAP_FILE, 'car');
  const pts = pointsNearRoads(g, new Rng(a.seed), a.drivers, 30);
  const servers: { name: string; grpc: string; http?: string; stop(): Promise<unknown> }[] = [];
  try {
    for (const name of a.configs) {
      const cfg = CONFIGS[name]!;
      const prev = process.env.NODE_OPTIONS;
      if (cfg.nodeOptions) process.env.NODE_OPTIONS = `${prev ?? ''} ${cfg.nodeOptions}`.trim();
      let f: FarosProc;
      try {
        f = await startFaros(['--map', `${MAP_ID}=maps/andorra.osm.pbf`, '--max-in-flight', '100000', ...(cfg.flags ?? [])], 120_000, cfg.execArgv);
      } finally {
        if (prev === undefined) delete process.env.NODE_OPTIONS;
        else process.env.NODE_OPTIONS = prev;
      }
      const n = await seed(f.grpc, pts, a.drivers, 'u');
      log(`${name}: ${f.grpc}, ${n} drivers`);
      servers.push({ name, grpc: f.grpc, http: f.http, stop: () => f.stop() });
    }
    // The ceiling: canned answers of the same size as a real one.
    const c = new Faros(servers[0]!.grpc, grpc.credentials.createInsecure()) as any;
    const nearby = await unary(c, 'nearby', { mapId: MAP_ID, location: { lat: pts[0], lng: pts[1] }, k: K, maxDistanceM: RADIUS });
    c.close();
    const dir = mkdtempSync(join(tmpdir(), 'faros-tail-'));
    writeFileSync(join(dir, 'canned.json'), JSON.stringify({ update: {}, nearby }));
    const grpcBench = join(fileURLToPath(new URL('.', import.meta.url)), 'grpc.js');
    const echo = await spawnReady([grpcBench, '--role', 'echo', join(dir, 'canned.json')]);
    servers.push({ name: 'no-work', grpc: `127.0.0.1:${echo.grpcPort}`, stop: async () => echo.proc.kill('SIGTERM') });

    const rows: Row[] = [];
    for (let round = 1; round <= a.rounds; round++) {
      const order = servers.map((_, i) => servers[(i + round - 1) % servers.length]!);
      for (const s of order) {
        const up = s.http ? streamUpdates(s.grpc, pts, a.drivers, a.updates) : { stop: async () => [] as number[] };
        if (s.http && a.updates > 0) await new Promise((r) => setTimeout(r, 1000)); // updates flowing before the queries start
        const before = await scrape(s.http);
        const t0 = Date.now();
        const out = await h2loadNearby({
          grpc: s.grpc,
          http: s.http ?? 'http://127.0.0.1:1',
          g,
          seed: a.seed,
          mapId: MAP_ID,
          k: K,
          radiusM: RADIUS,
          // --rps 0: closed loop, 64 calls in flight (the peak); else open loop at that rate.
          requests: a.rps ? a.rps * a.seconds : 2500 * a.seconds,
          bodies: 4,
          clients: a.rps ? 4 : 2,
          streams: a.rps ? 16 : 32,
          limitS: a.seconds * 3 + 30,
          rps: a.rps || undefined,
          install: true,
          log,
        });
        const secs = (Date.now() - t0) / 1000;
        const after = await scrape(s.http);
        const acks = (await up.stop()).sort((x, y) => x - y);
        const p = out.phase;
        if (!p) throw new Error(`h2load did not run: ${out.detail.skipped}`);
        const row: Row = {
          round,
          config: s.name,
          p50: p.latencyMs.p50,
          p99: p.latencyMs.p99,
          p999: p.latencyMs.p999,
          max: p.latencyMs.max,
          answered: p.throughput,
          errors: p.errors,
          ...(acks.length > 0 ? { ackP50: +acks[Math.floor(acks.length / 2)]!.toFixed(2), ackP99: +acks[Math.floor(acks.length * 0.99)]!.toFixed(2) } : {}),
        };
        if (s.http) {
          const H = 'faros_nearby_phase_seconds';
          row.server = {
            queuedP99Ms: quantileMs(before, after, H, 'phase="queued"', 0.99),
            searchP99Ms: quantileMs(before, after, H, 'phase="search"', 0.99),
            replyP99Ms: quantileMs(before, after, H, 'phase="reply"', 0.99),
            gcMsPerS: +((1000 * (sumOf(after, 'nodejs_gc_duration_seconds_sum') - sumOf(before, 'nodejs_gc_duration_seconds_sum'))) / secs).toFixed(2),
            majorGcs: sumOf(after, 'nodejs_gc_duration_seconds_count{kind="major"') - sumOf(before, 'nodejs_gc_duration_seconds_count{kind="major"'),
            lagP99Ms: +(1000 * sumOf(after, 'faros_event_loop_delay_p99_seconds')).toFixed(2),
          };
        }
        rows.push(row);
        log(
          `round ${round} ${s.name}: P50 ${row.p50} P99 ${row.p99} P99.9 ${row.p999} ms${row.ackP99 === undefined ? '' : `, update ack P50 ${row.ackP50} P99 ${row.ackP99} ms`} ${row.server ? JSON.stringify(row.server) : ''}`,
        );
      }
    }
    const med = (xs: number[]): number => {
      const s = [...xs].sort((x, y) => x - y);
      return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN;
    };
    const names = servers.map((s) => s.name);
    const summary = names.map((name) => {
      const rs = rows.filter((r) => r.config === name);
      return {
        config: name,
        p50: med(rs.map((r) => r.p50)),
        p99: med(rs.map((r) => r.p99)),
        p999: med(rs.map((r) => r.p999)),
        p99Rounds: rs.map((r) => r.p99),
        answeredPerS: med(rs.map((r) => r.answered)),
        queuedP99Ms: med(rs.map((r) => r.server?.queuedP99Ms ?? Number.NaN)),
        replyP99Ms: med(rs.map((r) => r.server?.replyP99Ms ?? Number.NaN)),
        gcMsPerS: med(rs.map((r) => r.server?.gcMsPerS ?? Number.NaN)),
        ackP99: med(rs.map((r) => r.ackP99 ?? Number.NaN)),
      };
    });
    console.log();
    printTable(
      ['server', 'answered/s', 'P50 ms', 'P99 ms', 'P99.9 ms', 'P99 per round', 'queued P99 ms', 'reply P99 ms', 'GC ms/s', 'update ack P99 ms'],
      summary.map((s) => [s.config, fmt(s.answeredPerS), s.p50, s.p99, s.p999, s.p99Rounds.join(' / '), s.queuedP99Ms, s.replyP99Ms, s.gcMsPerS, s.ackP99]),
    );
    const file = saveResult('tail', a.quick, { args: a, summary, rows });
    console.log(`\nsaved ${file}`);
  } finally {
    for (const s of servers) await s.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
