// NearbyBatch throughput, side by side in one run, alternating the systems
// over rounds (the order rotates every round, so a drift in the machine's
// other load hits each alike):
//  (a) Faros `NearbyBatch`, 100 queries per call (K=10, 3 km, metric
//      distance, filter status=available), closed loop, a few calls in flight
//      from 2 client processes; queries/s = OK answers/s, latency per call;
//  (b) Redis `GEOSEARCH key FROMLONLAT lng lat BYRADIUS 3000 m ASC COUNT 10`,
//      pipelined 100 deep (one write per pipeline), same drivers and points;
//  (c) the in-process rate of the same search threads: a WorkerPool + Shard in
//      this process answering the same 100-query batches with
//      Promise.all(qs.map((q) => shard.nearby(q))), closed loop;
//  (d) unary `Nearby` through the server, same points and client processes.
// On Andorra (andorra-car) with 50,000 drivers (all status=available), seeded
// in Faros with a StreamDriverUpdates stream in batches of 1,000 and GEOADDed
// in Redis at the same reported points. Server figures from /metrics at the
// edges of each measured window: CPU per query (process_cpu_seconds_total,
// all threads) and where it goes (faros_nearby_phase_seconds: queued, on a
// search thread, waiting for the main thread to read the answer).
// The map is served with ttl=3600: with the default 300 s the drivers would
// expire during a full run (≈4 min after the seeding).
//
//   node --expose-gc dist/bench/system/batch.js [--quick] [--rounds N] [--drivers N] [--batch-in-flight N]
//        [--no-install] [--no-redis] [--results DIR] [--seed N]
//   --quick: 10,000 drivers, 1 round of 1.5 s windows (< 1 min; the CI smoke test, never judged on speed)
//   role (internal): --role client <spec.json>
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadFarosDefinition } from '../../src/api/proto.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { WorkerPool } from '../../src/threads/pool.js';
import { Shard } from '../../src/threads/shard.js';
import type { DriverUpdate, NearbyQuery } from '../../src/model/types.js';
import { runClientProc } from '../lib/procs.js';
import { RESULTS_DIR, ROOT, Rng, fmt, gc, header, median, parseArgs, pointsNearRoads, printTable, quantile, saveResult } from '../lib/common.js';
import { parseProm, startFaros } from './load/lib.js';
import { startRedis, type RedisPeer } from './compare/redis-server.js';
import { Resp, RedisError } from './compare/resp.js';

const SELF = fileURLToPath(import.meta.url);
const MAP_ID = 'andorra-car';
const MAP_SPEC = `${MAP_ID}=maps/andorra.osm.pbf,ttl=3600`;
const MAP_FILE = 'maps/andorra.osm.pbf';
const BATCH = 100,
  K = 10,
  RADIUS_M = 3000;
const FILTER: Record<string, string> = Object.freeze({ status: 'available' }) as Record<string, string>;
const REDIS_KEY = 'drivers:andorra';
const SEED_BATCH = 1000;
const CLIENT_OPTS = { 'grpc.max_send_message_length': 64 << 20, 'grpc.max_receive_message_length': 64 << 20 };

type System = 'batch' | 'redis' | 'inproc' | 'unary';
const LABEL: Record<System, string> = {
  batch: 'Faros NearbyBatch ×100',
  redis: 'Redis GEOSEARCH, pipelined ×100',
  inproc: 'in process: Shard.nearby ×100',
  unary: 'Faros unary Nearby',
};

// ── a closed loop counted by completions ───────────────────────────────────

/** What one call (a batch, a pipeline or one query) came back with. */
interface Outcome {
  queries: number;
  ok: number;
  found: number;
  /** Failed queries by code (a failed call counts once per query it carried). */
  codes?: Record<string, number>;
  /** Where the in-process searches' time went (sums, µs). */
  phases?: { queued: number; search: number; reply: number; n: number };
}

interface LoopOut {
  /** Calls that ended inside the window and their latency (µs). */
  calls: number;
  latUs: number[];
  /** Queries of those calls: answered OK, failed (by code), drivers found in the OK ones. */
  queries: number;
  okQueries: number;
  found: number;
  codes: Record<string, number>;
  /** Queries answered over the whole loop (warm-up included) and the CPU this process used meanwhile. */
  allQueries: number;
  cpuMs: number;
  wallMs: number;
  phases: { queued: number; search: number; reply: number; n: number };
}

const codeOf = (e: unknown): string => {
  const se = e as grpc.ServiceError;
  if (typeof se?.code === 'number') return grpc.status[se.code] ?? String(se.code);
  if (e instanceof RedisError) return `REDIS_${e.message.split(' ')[0]}`;
  return 'CLIENT_ERROR';
};

/**
 * `concurrency` calls outstanding for warmupMs + durationMs. A call counts
 * when it ends inside the window (throughput = completions / window), so no
 * call is lost at the window's edges however long it takes.
 */
async function closedWindow(
  o: { concurrency: number; warmupMs: number; durationMs: number; perCall: number },
  send: (seq: number) => Promise<Outcome>,
): Promise<LoopOut> {
  const out: LoopOut = {
    calls: 0,
    latUs: [],
    queries: 0,
    okQueries: 0,
    found: 0,
    codes: {},
    allQueries: 0,
    cpuMs: 0,
    wallMs: 0,
    phases: { queued: 0, search: 0, reply: 0, n: 0 },
  };
  const w0 = performance.now(),
    c0 = process.cpuUsage();
  const tStart = w0 + o.warmupMs,
    tEnd = tStart + o.durationMs;
  let seq = 0;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < tEnd) {
        const s = performance.now();
        let r: Outcome;
        try {
          r = await send(seq++);
        } catch (e) {
          r = { queries: o.perCall, ok: 0, found: 0, codes: { [codeOf(e)]: o.perCall } };
        }
        const t = performance.now();
        out.allQueries += r.queries;
        if (t < tStart || t > tEnd) continue;
        out.calls++;
        out.latUs.push((t - s) * 1000);
        out.queries += r.queries;
        out.okQueries += r.ok;
        out.found += r.found;
        for (const [k, v] of Object.entries(r.codes ?? {})) out.codes[k] = (out.codes[k] ?? 0) + v;
        if (r.phases) for (const k of ['queued', 'search', 'reply', 'n'] as const) out.phases[k] += r.phases[k];
      }
    }),
  );
  const c = process.cpuUsage(c0);
  out.cpuMs = (c.user + c.system) / 1000;
  out.wallMs = performance.now() - w0;
  return out;
}

// ── protobuf answers, read without decoding every driver ────────────────────
// The client must not be the limit: a NearbyBatch answer holds ~1,000 drivers,
// and decoding them all with protobufjs costs the client more than the server
// spent. So answers are walked at the wire level: each NearbyResult's code
// (field 2; empty = OK) and its response's drivers (field 1 of
// NearbyResponse) are counted. The first answer of each client is also fully
// decoded and the two readings compared.

function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0,
    mul = 1,
    p = at;
  for (;;) {
    const x = b[p++]!;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return [v, p];
    mul *= 128;
  }
}

/** Visit the fields of a message in b[from, to): (field, wire type, value start, value end). */
function fields(b: Uint8Array, from: number, to: number, visit: (field: number, start: number, end: number) => void): void {
  let p = from;
  while (p < to) {
    const [tag, q] = varint(b, p);
    const wt = tag & 7;
    let start = q,
      end: number;
    if (wt === 0) end = varint(b, q)[1];
    else if (wt === 1) end = q + 8;
    else if (wt === 5) end = q + 4;
    else if (wt === 2) {
      const [len, r] = varint(b, q);
      start = r;
      end = r + len;
    } else throw new Error(`protobuf wire type ${wt} not expected`);
    visit(tag >>> 3, start, end);
    p = end;
  }
}

function countDrivers(b: Uint8Array, from: number, to: number): number {
  let n = 0;
  fields(b, from, to, (f) => {
    if (f === 1) n++;
  });
  return n;
}

/** A NearbyBatchResponse: results, OK ones, drivers in them, failures by code. */
function readBatch(b: Uint8Array): { results: number; ok: number; found: number; codes: Record<string, number> } {
  const r = { results: 0, ok: 0, found: 0, codes: {} as Record<string, number> };
  fields(b, 0, b.length, (f, s, e) => {
    if (f !== 1) return;
    r.results++;
    let code = '',
      found = 0;
    fields(b, s, e, (g, gs, ge) => {
      if (g === 2) code = Buffer.from(b.buffer, b.byteOffset + gs, ge - gs).toString('utf8');
      else if (g === 1) found = countDrivers(b, gs, ge);
    });
    if (code === '') {
      r.ok++;
      r.found += found;
    } else r.codes[code] = (r.codes[code] ?? 0) + 1;
  });
  return r;
}

// ── client process ─────────────────────────────────────────────────────────

interface ClientSpec {
  system: 'batch' | 'unary' | 'redis';
  /** host:port of the Faros gRPC server or of Redis. */
  addr: string;
  concurrency: number;
  /** Epoch ms at which both client processes start (their windows coincide). */
  startAt: number;
  warmupMs: number;
  durationMs: number;
  /** Query points [lat0, lng0, ...]; batches are consecutive runs of BATCH. */
  points: number[];
  /** This process's first batch (batch, redis) or point (unary). */
  offset: number;
}
interface ClientOut extends LoopOut {
  /** The first answer decoded in full agreed with the wire-level reading. */
  checked: boolean;
}

const identity = (b: Buffer): Buffer => b;

function nearbyMsg(lat: number, lng: number): object {
  return { mapId: MAP_ID, location: { lat, lng }, k: K, metric: 'METRIC_DISTANCE', maxDistanceM: RADIUS_M, filter: FILTER };
}

async function runClient(file: string): Promise<void> {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as ClientSpec;
  // Never hang a benchmark: a client that outlives its run by a minute ends.
  setTimeout(() => process.exit(3), spec.startAt - Date.now() + spec.warmupMs + spec.durationMs + 60_000).unref();
  const nPts = spec.points.length / 2,
    nBatches = Math.floor(nPts / BATCH);
  const pt = (i: number): [number, number] => [spec.points[2 * i]!, spec.points[2 * i + 1]!];
  const loop = { concurrency: spec.concurrency, warmupMs: spec.warmupMs, durationMs: spec.durationMs, perCall: spec.system === 'unary' ? 1 : BATCH };
  let checked = false;
  let send: (seq: number) => Promise<Outcome>;
  let close: () => void;
  if (spec.system === 'redis') {
    const [host, port] = spec.addr.split(':');
    const c = await Resp.connect(host!, Number(port));
    const cmds = Array.from({ length: nBatches }, (_, b) =>
      Array.from({ length: BATCH }, (_, j) => {
        const [lat, lng] = pt(b * BATCH + j);
        return ['GEOSEARCH', REDIS_KEY, 'FROMLONLAT', lng.toFixed(7), lat.toFixed(7), 'BYRADIUS', RADIUS_M, 'm', 'ASC', 'COUNT', K];
      }),
    );
    checked = true; // nothing to decode twice: the replies are parsed in full
    send = async (seq) => {
      const replies = await c.sendMany(cmds[(spec.offset + seq) % nBatches]!);
      const o: Outcome = { queries: replies.length, ok: 0, found: 0, codes: {} };
      for (const r of replies) {
        if (r instanceof RedisError || !Array.isArray(r)) {
          const k = r instanceof RedisError ? `REDIS_${r.message.split(' ')[0]}` : 'REDIS_NOT_AN_ARRAY';
          o.codes![k] = (o.codes![k] ?? 0) + 1;
        } else {
          o.ok++;
          o.found += r.length;
        }
      }
      return o;
    };
    close = () => c.close();
  } else {
    const def = loadFarosDefinition()['faros.v1.Faros'] as any;
    const client = new grpc.Client(spec.addr, grpc.credentials.createInsecure(), CLIENT_OPTS);
    const method = spec.system === 'batch' ? def.NearbyBatch : def.Nearby;
    // Requests encoded ahead, sent as bytes.
    const bodies: Buffer[] =
      spec.system === 'batch'
        ? Array.from({ length: nBatches }, (_, b) =>
            method.requestSerialize({ queries: Array.from({ length: BATCH }, (_, j) => nearbyMsg(...pt(b * BATCH + j))) }),
          )
        : Array.from({ length: nPts }, (_, i) => method.requestSerialize(nearbyMsg(...pt(i))));
    const call = (body: Buffer): Promise<Buffer> =>
      new Promise((resolve, reject) =>
        client.makeUnaryRequest(method.path as string, identity, identity, body, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (e, r) =>
          e ? reject(e) : resolve(r!),
        ),
      );
    // The first answer, decoded in full, against the wire-level reading.
    const first = await call(bodies[spec.offset % bodies.length]!);
    const full = method.responseDeserialize(first);
    if (spec.system === 'batch') {
      const w = readBatch(first);
      const results = full.results as { code: string; response?: { drivers: unknown[] } }[];
      const ok = results.filter((x) => x.code === '');
      const found = ok.reduce((s, x) => s + (x.response?.drivers.length ?? 0), 0);
      if (w.results !== results.length || w.ok !== ok.length || w.found !== found)
        throw new Error(`wire-level reading ${JSON.stringify(w)} != decoded ${results.length} results, ${ok.length} OK, ${found} drivers`);
    } else if (countDrivers(first, 0, first.length) !== (full.drivers as unknown[]).length) throw new Error('wire-level driver count != decoded');
    checked = true;
    send =
      spec.system === 'batch'
        ? async (seq) => {
            const r = readBatch(await call(bodies[(spec.offset + seq) % bodies.length]!));
            return { queries: r.results, ok: r.ok, found: r.found, codes: r.codes };
          }
        : async (seq) => {
            const r = await call(bodies[(spec.offset + seq) % bodies.length]!);
            return { queries: 1, ok: 1, found: countDrivers(r, 0, r.length) };
          };
    close = () => client.close();
  }
  await new Promise((r) => setTimeout(r, Math.max(0, spec.startAt - Date.now())));
  const out = await closedWindow(loop, send);
  close();
  // Whole µs keep the line short; the write must be flushed before the process exits (a pipe's tail is lost otherwise).
  const line = `${JSON.stringify({ ...out, latUs: out.latUs.map(Math.round), checked } satisfies ClientOut)}\n`;
  await new Promise<void>((resolve, reject) => process.stdout.write(line, (e) => (e ? reject(e) : resolve())));
}

// ── orchestration ──────────────────────────────────────────────────────────

interface ServerWindow {
  /** Cores the server process used (all threads) over the measured window. */
  cores: number;
  /** Nearby answers the server counted OK in the window. */
  nearbyOk: number;
  /** Server CPU per answered query, all threads; of it on a search thread (the search's wall time there). */
  cpuUsPerQuery: number;
  searchUsPerQuery: number;
  /** The rest: the main thread (gRPC, protobuf, validation, hand-offs, answers) and GC. */
  otherCpuUsPerQuery: number;
  /** Wall time per query waiting for a search thread, and for the main thread to read the answer. */
  queuedUsPerQuery: number;
  replyUsPerQuery: number;
  drivers: number;
  /** From /proc: the main thread's cores, and the other threads' (search and snap threads, GC helpers, libuv). */
  mainThreadCores?: number;
  otherThreadsCores?: number;
  busiestOtherThreadsCores?: number[];
}

interface Row {
  system: System;
  round: number;
  inFlight: number;
  queriesPerS: number;
  callsPerS: number;
  p50MsPerCall: number;
  p99MsPerCall: number;
  /** Queries in the window: OK, failed (by code). */
  okQueries: number;
  failedQueries: number;
  errors: Record<string, number>;
  foundPerQuery: number;
  /** CPU per query of the system measured: the server process (a, d), this process (c); Redis is not measured. */
  cpuUsPerQuery?: number;
  cores?: number;
  clientCores?: number;
  server?: ServerWindow;
  /** In process: where the searches' time went, µs per query. */
  phasesUs?: { queued: number; search: number; reply: number };
  /** In process: this process's threads over the window (from /proc). */
  threads?: Threads;
  checked?: boolean;
}

// ── CPU per thread (Linux /proc): is the main thread the limit? ────────────
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** CPU seconds of each thread of a process (tid → s), or undefined without /proc. */
function threadCpu(pid: number): Map<number, number> | undefined {
  try {
    const m = new Map<number, number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        m.set(Number(tid), (Number(f[11]) + Number(f[12])) / CLK_TCK); // utime, stime (fields 14, 15)
      } catch {
        /* the thread ended meanwhile */
      }
    }
    return m;
  } catch {
    return undefined;
  }
}

/** Cores of the main thread (tid = pid) and of the others, the busiest four of them listed. */
interface Threads {
  mainThreadCores: number;
  otherThreadsCores: number;
  busiestOtherThreadsCores: number[];
}

function threadsWindow(pid: number, a: Map<number, number> | undefined, b: Map<number, number> | undefined, secs: number): Threads | undefined {
  if (!a || !b) return undefined;
  const d = [...b].map(([tid, s]) => [tid, (s - (a.get(tid) ?? 0)) / secs] as const);
  const others = d
    .filter(([tid]) => tid !== pid)
    .map(([, c]) => c)
    .sort((x, y) => y - x);
  return {
    mainThreadCores: +(d.find(([tid]) => tid === pid)?.[1] ?? Number.NaN).toFixed(2),
    otherThreadsCores: +others.reduce((x, y) => x + y, 0).toFixed(2),
    busiestOtherThreadsCores: others.slice(0, 4).map((c) => +c.toFixed(2)),
  };
}

/** Sum of a metric's series, optionally only those whose labels contain `label`. */
function series(m: Map<string, number>, name: string, label = ''): number {
  let s = 0;
  for (const [k, v] of m) if ((k === name || k.startsWith(`${name}{`)) && k.includes(label)) s += v;
  return s;
}

interface Edge {
  t: number;
  m: Map<string, number>;
  threads?: Map<number, number>;
}

async function metrics(base: string, pid?: number): Promise<Edge> {
  const threads = pid === undefined ? undefined : threadCpu(pid);
  const t = performance.now();
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return { t, m: parseProm(await res.text()), threads };
}

function serverWindow(a: Edge, b: Edge, pid?: number): ServerWindow {
  const d = (name: string, label = ''): number => series(b.m, name, label) - series(a.m, name, label);
  const secs = (b.t - a.t) / 1000;
  const ok = d('faros_nearby_total', 'result="ok"');
  const cpuUs = d('process_cpu_seconds_total') * 1e6;
  const phase = (p: string): number => d('faros_nearby_phase_seconds_sum', `phase="${p}"`) * 1e6;
  const per = (x: number): number => +(ok > 0 ? x / ok : Number.NaN).toFixed(1);
  return {
    cores: +(cpuUs / 1e6 / secs).toFixed(2),
    nearbyOk: ok,
    cpuUsPerQuery: per(cpuUs),
    searchUsPerQuery: per(phase('search')),
    otherCpuUsPerQuery: per(cpuUs - phase('search')),
    queuedUsPerQuery: per(phase('queued')),
    replyUsPerQuery: per(phase('reply')),
    drivers: series(b.m, 'faros_drivers'),
    ...(pid === undefined ? {} : threadsWindow(pid, a.threads, b.threads, secs)),
  };
}

function rowOf(system: System, round: number, inFlight: number, durationMs: number, outs: LoopOut[]): Row {
  const lat = outs.flatMap((o) => o.latUs);
  const sum = (f: (o: LoopOut) => number): number => outs.reduce((s, o) => s + f(o), 0);
  const errors: Record<string, number> = {};
  for (const o of outs) for (const [k, v] of Object.entries(o.codes)) errors[k] = (errors[k] ?? 0) + v;
  const ok = sum((o) => o.okQueries);
  return {
    system,
    round,
    inFlight,
    queriesPerS: Math.round(ok / (durationMs / 1000)),
    callsPerS: +(sum((o) => o.calls) / (durationMs / 1000)).toFixed(1),
    p50MsPerCall: +(quantile(lat, 0.5) / 1000).toFixed(2),
    p99MsPerCall: +(quantile(lat, 0.99) / 1000).toFixed(2),
    okQueries: ok,
    failedQueries: sum((o) => o.queries - o.okQueries),
    errors,
    foundPerQuery: +(ok > 0 ? sum((o) => o.found) / ok : 0).toFixed(2),
  };
}

interface Setup {
  quick: boolean;
  warmupMs: number;
  durationMs: number;
  inFlight: Record<System, number>;
  points: number[];
  dir: string;
}

/** Two client processes, the in-flight calls split between them; the server's /metrics read at the window's edges. */
async function clientPhase(s: Setup, system: 'batch' | 'unary' | 'redis', addr: string, round: number, server?: { http: string; pid?: number }): Promise<Row> {
  const total = s.inFlight[system];
  const per = [Math.ceil(total / 2), Math.floor(total / 2)].filter((x) => x > 0);
  const nBatches = Math.floor(s.points.length / 2 / BATCH);
  const startAt = Date.now() + 1500; // both processes loaded and their requests encoded
  let edges: Promise<[Edge, Edge]> | undefined;
  if (server) {
    const at = (ms: number): Promise<Edge> =>
      new Promise((r) => setTimeout(r, Math.max(0, startAt + ms - Date.now()))).then(() => metrics(server.http, server.pid));
    edges = Promise.all([at(s.warmupMs), at(s.warmupMs + s.durationMs)]);
  }
  const outs = await Promise.all(
    per.map((concurrency, k) =>
      runClientProc<ClientOut>(
        SELF,
        {
          system,
          addr,
          concurrency,
          startAt,
          warmupMs: s.warmupMs,
          durationMs: s.durationMs,
          points: s.points,
          offset: system === 'unary' ? Math.floor((k * s.points.length) / 2 / per.length) : Math.floor((k * nBatches) / per.length),
        } satisfies ClientSpec,
        s.dir,
        k,
      ),
    ),
  );
  const row = rowOf(system, round, total, s.durationMs, outs);
  row.clientCores = +outs.reduce((a, o) => a + o.cpuMs / o.wallMs, 0).toFixed(2);
  row.checked = outs.every((o) => o.checked);
  if (edges) {
    const [a, b] = await edges;
    row.server = serverWindow(a, b, server?.pid);
    row.cpuUsPerQuery = row.server.cpuUsPerQuery;
    row.cores = row.server.cores;
  }
  return row;
}

async function inProcessPhase(s: Setup, shard: Shard, queries: NearbyQuery[][], round: number): Promise<Row> {
  gc();
  const at = (ms: number): Promise<{ t: number; threads?: Map<number, number> }> =>
    new Promise((r) => setTimeout(() => r({ t: performance.now(), threads: threadCpu(process.pid) }), ms));
  const edges = Promise.all([at(s.warmupMs), at(s.warmupMs + s.durationMs)]);
  const out = await closedWindow({ concurrency: s.inFlight.inproc, warmupMs: s.warmupMs, durationMs: s.durationMs, perCall: BATCH }, async (seq) => {
    const qs = queries[seq % queries.length]!;
    const rs = await Promise.all(qs.map((q) => shard.nearby(q)));
    const o: Outcome = { queries: rs.length, ok: 0, found: 0, codes: {}, phases: { queued: 0, search: 0, reply: 0, n: 0 } };
    for (const r of rs) {
      if (!r.ok) {
        o.codes![r.code] = (o.codes![r.code] ?? 0) + 1;
        continue;
      }
      o.ok++;
      o.found += r.drivers.length;
      const ph = r.stats.phases;
      if (ph) {
        o.phases!.queued += ph.queuedUs;
        o.phases!.search += ph.searchUs;
        o.phases!.reply += ph.replyUs;
        o.phases!.n++;
      }
    }
    return o;
  });
  const row = rowOf('inproc', round, s.inFlight.inproc, s.durationMs, [out]);
  const [a, b] = await edges;
  row.threads = threadsWindow(process.pid, a.threads, b.threads, (b.t - a.t) / 1000);
  row.cores = +(out.cpuMs / out.wallMs).toFixed(2);
  row.cpuUsPerQuery = +((out.cpuMs * 1000) / out.allQueries).toFixed(1);
  const n = out.phases.n || Number.NaN;
  row.phasesUs = {
    queued: +(out.phases.queued / n).toFixed(1),
    search: +(out.phases.search / n).toFixed(1),
    reply: +(out.phases.reply / n).toFixed(1),
  };
  return row;
}

interface SystemSummary {
  label: string;
  inFlight: number;
  queriesPerS: number;
  perRound: number[];
  callsPerS: number;
  p50MsPerCall: number;
  p99MsPerCall: number;
  foundPerQuery: number;
  cpuUsPerQuery: number;
  searchUsPerQuery: number;
  otherCpuUsPerQuery: number;
  queuedUsPerQuery: number;
  replyUsPerQuery: number;
  cores: number;
  mainThreadCores: number;
  otherThreadsCores: number;
  clientCores: number;
  failedQueries: number;
}

/** batch / another system: of the medians and per round (the same round's two figures); or why it was not measured. */
interface Ratio {
  value?: number;
  perRound?: number[];
  target?: number;
  met?: boolean;
  skipped?: string;
}

interface Opts {
  quick: boolean;
  seed: number;
  rounds: number;
  drivers: number;
  batchInFlight: number;
  install: boolean;
  redis: boolean;
  resultsDir: string;
}

function parseOpts(argv = process.argv.slice(2)): Opts {
  const { quick, seed } = parseArgs(argv);
  const o: Opts = {
    quick,
    seed,
    rounds: quick ? 1 : 3,
    drivers: quick ? 10_000 : 50_000,
    batchInFlight: 4,
    install: true,
    redis: true,
    resultsDir: RESULTS_DIR,
  };
  const int = (i: number, name: string): number => {
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} takes a positive integer`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--quick':
        break;
      case '--seed':
        i++;
        break;
      case '--rounds':
        o.rounds = int(i++, '--rounds');
        break;
      case '--drivers':
        o.drivers = int(i++, '--drivers');
        break;
      case '--batch-in-flight':
        o.batchInFlight = int(i++, '--batch-in-flight');
        break;
      case '--no-install':
        o.install = false;
        break;
      case '--no-redis':
        o.redis = false;
        break;
      case '--results':
        o.resultsDir = argv[++i] ?? '';
        if (!o.resultsDir) throw new Error('--results takes a directory');
        break;
      default:
        if (!/^--seed=/.test(argv[i]!)) throw new Error(`unknown flag ${argv[i]}; see the header of bench/system/batch.ts`);
    }
  }
  return o;
}

const ratio = (a: number, b: number): number => +(b > 0 ? a / b : Number.NaN).toFixed(2);

async function main(): Promise<void> {
  const o = parseOpts();
  header('NearbyBatch vs Redis GEOSEARCH vs the search threads in process vs unary Nearby', o.quick);
  const t0 = Date.now();
  const s: Setup = {
    quick: o.quick,
    warmupMs: o.quick ? 500 : 2000,
    durationMs: o.quick ? 1500 : 8000,
    inFlight: { batch: o.batchInFlight, redis: o.batchInFlight, inproc: o.batchInFlight, unary: 32 },
    points: [],
    dir: mkdtempSync(join(tmpdir(), 'faros-bench-batch-')),
  };
  const nQueries = o.quick ? 2000 : 10_000;
  const graph = await loadMap(join(ROOT, MAP_FILE), 'car');
  const drv = pointsNearRoads(graph, new Rng(o.seed), o.drivers, 30);
  s.points = Array.from(pointsNearRoads(graph, new Rng(o.seed + 1), nQueries, 30));
  const now = Date.now();
  const updates = (from: number, n: number): DriverUpdate[] =>
    Array.from({ length: n }, (_, j) => ({
      driverId: `drv-${from + j}`,
      lat: drv[2 * (from + j)]!,
      lng: drv[2 * (from + j) + 1]!,
      timestampMs: now,
      metadata: FILTER,
    }));

  let faros: Awaited<ReturnType<typeof startFaros>> | undefined;
  let redis: RedisPeer | undefined;
  let redisMissing: string | undefined;
  const pool = new WorkerPool({});
  const shard = new Shard(`${MAP_ID}#bench`, graph, pool, { snapRadiusM: 200, ttlMs: 3600_000 });
  try {
    // (a, d) the server, seeded over one StreamDriverUpdates stream
    faros = await startFaros(['--map', MAP_SPEC, '--max-in-flight', '100000']);
    const def = loadFarosDefinition();
    const Faros = (grpc.loadPackageDefinition(def) as any).faros.v1.Faros as grpc.ServiceClientConstructor;
    const fc = new Faros(faros.grpc, grpc.credentials.createInsecure(), CLIENT_OPTS) as any;
    const stream = fc.streamDriverUpdates();
    const acks: { resolve: (r: { accepted: number }) => void; reject: (e: Error) => void }[] = [];
    stream.on('data', (r: { accepted: number }) => acks.shift()?.resolve(r));
    stream.on('error', (e: Error) => {
      for (const a of acks.splice(0)) a.reject(e);
    });
    let seeded = 0;
    for (let i = 0; i < o.drivers; i += SEED_BATCH) {
      const batch = updates(i, Math.min(SEED_BATCH, o.drivers - i)).map((u) => ({
        mapId: MAP_ID,
        driverId: u.driverId,
        location: { lat: u.lat, lng: u.lng },
        timestampMs: String(u.timestampMs),
        metadata: u.metadata,
      }));
      const ack = new Promise<{ accepted: number }>((resolve, reject) => acks.push({ resolve, reject }));
      stream.write({ updates: batch });
      seeded += (await ack).accepted;
    }
    stream.end();
    fc.close();
    if (seeded !== o.drivers) throw new Error(`the server accepted ${seeded} of ${o.drivers} drivers`);

    // (b) Redis, the same drivers at the same reported points
    if (o.redis) {
      redis = await startRedis({
        install: o.install,
        log: (m) => {
          console.error(m);
          if (m.startsWith('Redis peer missing')) redisMissing = m;
        },
      });
      redisMissing ??= redis ? undefined : 'Redis peer missing';
    } else redisMissing = 'Redis part skipped (--no-redis)';
    let redisAdded = 0;
    if (redis) {
      const c = await Resp.connect('127.0.0.1', redis.port);
      await c.send(['DEL', REDIS_KEY]);
      const cmds: (string | number)[][] = [];
      for (let i = 0; i < o.drivers; i += SEED_BATCH) {
        const add: (string | number)[] = ['GEOADD', REDIS_KEY];
        for (const u of updates(i, Math.min(SEED_BATCH, o.drivers - i))) add.push(u.lng.toFixed(7), u.lat.toFixed(7), u.driverId);
        cmds.push(add);
      }
      for (const r of await c.sendMany(cmds)) {
        if (r instanceof RedisError) throw r;
        redisAdded += Number(r);
      }
      c.close();
      if (redisAdded !== o.drivers) throw new Error(`Redis added ${redisAdded} of ${o.drivers} drivers`);
    }

    // (c) the same drivers in a shard of this process, with the server's thread counts (defaults: one of each per core)
    let loaded = 0;
    for (let i = 0; i < o.drivers; i += SEED_BATCH) loaded += (await shard.update(updates(i, Math.min(SEED_BATCH, o.drivers - i)))).filter((r) => r.ok).length;
    if (loaded !== o.drivers) throw new Error(`the in-process shard stored ${loaded} of ${o.drivers} drivers`);
    const queries: NearbyQuery[][] = [];
    for (let b = 0; b + BATCH <= nQueries; b += BATCH)
      queries.push(
        Array.from({ length: BATCH }, (_, j) => ({
          lat: s.points[2 * (b + j)]!,
          lng: s.points[2 * (b + j) + 1]!,
          k: K,
          metric: 'distance' as const,
          maxDistanceM: RADIUS_M,
          maxEtaS: 300,
          filter: FILTER,
        })),
      );
    console.log(
      `${fmt(o.drivers)} drivers in Faros, ${redis ? `Redis ${redis.version}` : 'no Redis'} and the in-process shard (${pool.threads} snap workers, search threads as many); ` +
        `${fmt(nQueries)} query points in batches of ${BATCH}; ${o.rounds} round(s) of ${s.durationMs / 1000} s windows after ${s.warmupMs / 1000} s warm-up\n`,
    );

    // Rounds: every system once per round, the order rotated each round.
    const systems: System[] = redis ? ['batch', 'redis', 'inproc', 'unary'] : ['batch', 'inproc', 'unary'];
    const rows: Row[] = [];
    for (let round = 0; round < o.rounds; round++) {
      const order = [...systems.slice(round % systems.length), ...systems.slice(0, round % systems.length)];
      for (const sys of order) {
        const row =
          sys === 'inproc'
            ? await inProcessPhase(s, shard, queries, round)
            : sys === 'redis'
              ? await clientPhase(s, 'redis', `127.0.0.1:${redis!.port}`, round)
              : await clientPhase(s, sys, faros.grpc, round, { http: faros.http, pid: faros.proc.pid });
        rows.push(row);
        const srv = row.server
          ? `; server ${row.server.cores} cores, ${fmt(row.server.cpuUsPerQuery)} µs CPU/query (search ${fmt(row.server.searchUsPerQuery)})`
          : '';
        console.log(
          `  round ${round + 1} ${LABEL[sys]}: ${fmt(row.queriesPerS)} queries/s, ${fmt(row.callsPerS, 1)} calls/s, P50 ${row.p50MsPerCall} / P99 ${row.p99MsPerCall} ms per call, ` +
            `${row.foundPerQuery} found/query, failed ${row.failedQueries}${Object.keys(row.errors).length ? ` ${JSON.stringify(row.errors)}` : ''}${srv}`,
        );
      }
    }

    // Medians over rounds, ratios of medians and per round.
    const of = (sys: System): Row[] => rows.filter((r) => r.system === sys);
    const med = (sys: System, f: (r: Row) => number | undefined): number => {
      const xs = of(sys)
        .map(f)
        .filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      return xs.length ? median(xs) : Number.NaN;
    };
    const summary: Partial<Record<System, SystemSummary>> = {};
    for (const sys of systems)
      summary[sys] = {
        label: LABEL[sys],
        inFlight: s.inFlight[sys],
        queriesPerS: med(sys, (r) => r.queriesPerS),
        perRound: of(sys).map((r) => r.queriesPerS),
        callsPerS: med(sys, (r) => r.callsPerS),
        p50MsPerCall: med(sys, (r) => r.p50MsPerCall),
        p99MsPerCall: med(sys, (r) => r.p99MsPerCall),
        foundPerQuery: med(sys, (r) => r.foundPerQuery),
        cpuUsPerQuery: med(sys, (r) => r.cpuUsPerQuery),
        searchUsPerQuery: med(sys, (r) => r.server?.searchUsPerQuery ?? r.phasesUs?.search),
        otherCpuUsPerQuery: med(
          sys,
          (r) => r.server?.otherCpuUsPerQuery ?? (r.phasesUs && r.cpuUsPerQuery !== undefined ? r.cpuUsPerQuery - r.phasesUs.search : undefined),
        ),
        queuedUsPerQuery: med(sys, (r) => r.server?.queuedUsPerQuery ?? r.phasesUs?.queued),
        replyUsPerQuery: med(sys, (r) => r.server?.replyUsPerQuery ?? r.phasesUs?.reply),
        cores: med(sys, (r) => r.cores),
        mainThreadCores: med(sys, (r) => r.server?.mainThreadCores ?? r.threads?.mainThreadCores),
        otherThreadsCores: med(sys, (r) => r.server?.otherThreadsCores ?? r.threads?.otherThreadsCores),
        clientCores: med(sys, (r) => r.clientCores),
        failedQueries: of(sys).reduce((a, r) => a + r.failedQueries, 0),
      };
    const ratioOf = (other: System, target?: number): Ratio => {
      const b = summary.batch!,
        x = summary[other];
      if (!x) return { skipped: redisMissing ?? 'not measured' };
      const perRound = of('batch').map((r) => ratio(r.queriesPerS, of(other).find((y) => y.round === r.round)?.queriesPerS ?? Number.NaN));
      const value = ratio(b.queriesPerS, x.queriesPerS);
      return { value, perRound, ...(target !== undefined ? { target, met: value >= target } : {}) };
    };
    const ratios = {
      batchOverRedis: ratioOf('redis', 60),
      batchOverInProcess: ratioOf('inproc', 0.7),
      batchOverUnary: ratioOf('unary'),
    };

    console.log(`\nMedians of ${o.rounds} round(s); queries/s = answers OK per second; latency per call (a batch, a pipeline, or one unary query).\n`);
    printTable(
      ['system', 'in flight', 'queries/s', 'per round', 'calls/s', 'P50 ms', 'P99 ms', 'found/query', 'CPU µs/query', 'cores', 'client cores', 'failed'],
      systems.map((sys) => {
        const x = summary[sys]!;
        return [
          x.label,
          x.inFlight,
          fmt(x.queriesPerS),
          x.perRound.map((v) => fmt(v)).join(', '),
          fmt(x.callsPerS, 1),
          fmt(x.p50MsPerCall, 2),
          fmt(x.p99MsPerCall, 2),
          fmt(x.foundPerQuery, 2),
          Number.isFinite(x.cpuUsPerQuery) ? fmt(x.cpuUsPerQuery, 1) : '–',
          Number.isFinite(x.cores) ? fmt(x.cores, 2) : '–',
          Number.isFinite(x.clientCores) ? fmt(x.clientCores, 2) : '–',
          x.failedQueries,
        ];
      }),
    );
    console.log();
    printTable(
      ['ratio', 'of medians', 'per round', 'target', 'met'],
      (
        [
          ['batch / Redis', ratios.batchOverRedis],
          ['batch / in process', ratios.batchOverInProcess],
          ['batch / unary', ratios.batchOverUnary],
        ] as const
      ).map(([name, r]) =>
        r.value === undefined
          ? [name, 'skipped', String(r.skipped), '', '']
          : [
              name,
              `${fmt(r.value, 2)}×`,
              (r.perRound ?? []).map((v) => `${fmt(v, 2)}×`).join(', '),
              r.target !== undefined ? `≥ ${r.target}×` : '',
              r.met === undefined ? '' : r.met ? 'yes' : 'NO',
            ],
      ),
    );
    console.log(
      "\nWhere a query goes (µs per query, medians): the server (a, d) from /metrics; in process (c) from each answer's stats.phases; the threads' cores from /proc.\n",
    );
    printTable(
      ['system', 'CPU (all threads)', 'on a search thread', 'rest: main thread + GC', 'queued', 'reply wait', 'main thread cores', 'other threads cores'],
      (['batch', 'unary', 'inproc'] as const).map((sys) => {
        const x = summary[sys]!;
        const f = (v: number): string => (Number.isFinite(v) ? fmt(v, 1) : '–');
        const c = (v: number): string => (Number.isFinite(v) ? fmt(v, 2) : '–');
        return [
          LABEL[sys],
          f(x.cpuUsPerQuery),
          f(x.searchUsPerQuery),
          f(x.otherCpuUsPerQuery),
          f(x.queuedUsPerQuery),
          f(x.replyUsPerQuery),
          c(x.mainThreadCores),
          c(x.otherThreadsCores),
        ];
      }),
    );
    const farosRows = rows.filter((r) => r.system !== 'redis');
    const file = saveResult(
      'batch',
      o.quick,
      {
        config: {
          map: MAP_ID,
          mapSpec: MAP_SPEC,
          drivers: o.drivers,
          queryPoints: nQueries,
          batch: BATCH,
          k: K,
          radiusM: RADIUS_M,
          metric: 'distance',
          filter: FILTER,
          rounds: o.rounds,
          warmupMs: s.warmupMs,
          durationMs: s.durationMs,
          inFlight: s.inFlight,
          clientProcesses: 2,
          serverArgs: ['--map', MAP_SPEC, '--max-in-flight', '100000'],
          inProcess: { snapThreads: pool.threads, searchThreads: pool.threads },
          seed: o.seed,
        },
        seeded: { faros: seeded, redis: redisAdded, inProcess: loaded },
        ...(redis ? { redis: { version: redis.version } } : { redisMissing }),
        rounds: rows,
        summary,
        ratios,
        checks: {
          farosAllOk: farosRows.every((r) => r.failedQueries === 0 && Object.keys(r.errors).length === 0 && r.okQueries > 0),
          wireReadingChecked: rows.every((r) => r.checked !== false),
          redisAllOk: rows.filter((r) => r.system === 'redis').every((r) => r.failedQueries === 0),
        },
        wallSeconds: Math.round((Date.now() - t0) / 1000),
      },
      o.resultsDir,
    );
    console.log(`\nsaved ${file} (${Math.round((Date.now() - t0) / 1000)} s)`);
  } finally {
    shard.close();
    await pool.close();
    await redis?.stop();
    await faros?.stop();
    rmSync(s.dir, { recursive: true, force: true });
  }
}

const role = process.argv.indexOf('--role');
if (role >= 0) {
  runClient(process.argv[role + 2]!).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
