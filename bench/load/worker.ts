// One load-generator process (forked by bench/load/run.ts): drives Faros over
// gRPC or Redis over RESP with the fleet simulator's work, open-loop at a
// target rate (latency from the intended send time, so a slow server cannot
// slow the generator down and hide its queueing: no coordinated omission) or
// closed-loop (fixed outstanding requests, for peak throughput).
//
// Protocol: parent sends {spec}; child answers {ready}; parent sends {go,
// startAt (epoch ms)}; child answers {result} and exits.
import * as grpc from '@grpc/grpc-js';
import { loadFarosDefinition } from '../../src/api/proto.js';
import { loadMap } from '../../src/mapbuild/build.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { Fleet, Schedule, query, slice, type Report } from '../sim/fleet.js';
import { Resp, RedisError, type Reply } from '../compare/resp.js';

export type Role = 'faros-updates' | 'faros-nearby' | 'redis-updates' | 'redis-nearby';

export interface WorkerSpec {
  role: Role;
  /** host:port of each target (Faros gRPC or Redis); streams and calls spread round-robin. */
  targets: string[];
  mapFile: string;
  mapId: string;
  seed: number;
  drivers: number;
  /** This process simulates drivers with index % parts === part. */
  part: number;
  parts: number;
  mode: 'open' | 'closed';
  /** Open-loop nearby: queries/s of this process. */
  qps: number;
  /** Open-loop updates: reports per second per driver. */
  rateHz: number;
  warmupMs: number;
  durationMs: number;
  /** Updates: streams (Redis: connections) of this process, and the batching tick. */
  streams: number;
  tickMs: number;
  /** Closed loop: outstanding calls (nearby) or batches per stream (updates), and batch size. */
  concurrency: number;
  batch: number;
  /** Closed-loop updates: stop after this many reports (0 = run for durationMs); the preload sends each driver's first report once. */
  limit?: number;
  k: number;
  radiusM: number;
  /** Nearby: only drivers with status=available (Redis keeps only those in its set). */
  availableOnly: boolean;
  redisKey: string;
  deadlineMs: number;
}

export interface WorkerResult {
  role: Role;
  part: number;
  /** Latency of each measured call / batch, ms (from the intended send time when open-loop). */
  latMs: Float64Array;
  /** Items (updates or queries) answered OK in the measured window. */
  items: number;
  /** Calls or batches in the measured window. */
  calls: number;
  errors: Record<string, number>;
  removals: number;
  /** Largest lag of the generator's own timer behind schedule (open loop), ms. */
  maxLagMs: number;
  measuredMs: number;
  /** Sum of drivers returned (nearby), to check answers are not empty. */
  found: number;
  /** CPU time this generator process used during the run, ms, and the run's wall time. */
  cpuMs: number;
  runMs: number;
}

type Msg = { spec: WorkerSpec } | { go: true; startAt: number };

const CLIENT_OPTS = { 'grpc.max_send_message_length': 64 << 20, 'grpc.max_receive_message_length': 64 << 20 };

class Recorder {
  lat = new Float64Array(1 << 16);
  n = 0; items = 0; calls = 0; found = 0;
  errors: Record<string, number> = {};
  constructor(readonly from: number, readonly to: number) {}
  /** Count if the call was due inside the window. */
  inWindow(t: number): boolean { return t >= this.from && t < this.to; }
  ok(due: number, now: number, items: number, found = 0): void {
    if (!this.inWindow(due)) return;
    if (this.n === this.lat.length) { const b = new Float64Array(this.n * 2); b.set(this.lat); this.lat = b; }
    this.lat[this.n++] = now - due;
    this.items += items; this.calls++; this.found += found;
  }
  err(due: number, code: string, n = 1): void {
    if (!this.inWindow(due)) return;
    this.errors[code] = (this.errors[code] ?? 0) + n;
    this.calls++;
  }
}

async function graphOf(spec: WorkerSpec): Promise<RoadGraph> {
  return loadMap(spec.mapFile, 'car', { shared: false });
}

// ── targets ────────────────────────────────────────────────────────────────
interface Target {
  /** Send a batch of reports; resolves with per-code rejection counts. */
  updates(reports: Report[], stream: number): Promise<Record<string, number>>;
  nearby(lat: number, lng: number): Promise<number>;
  close(): void;
}

async function farosTargets(spec: WorkerSpec): Promise<Target[]> {
  const pkg = grpc.loadPackageDefinition(loadFarosDefinition()) as any;
  const Ctor = pkg.faros.v1.Faros as grpc.ServiceClientConstructor;
  const out: Target[] = [];
  for (const addr of spec.targets) {
    const c = new Ctor(addr, grpc.credentials.createInsecure(), CLIENT_OPTS) as any;
    await new Promise<void>((res, rej) => c.waitForReady(Date.now() + 10_000, (e: Error | undefined) => (e ? rej(e) : res())));
    const streams = new Map<number, { s: grpc.ClientDuplexStream<unknown, any>; q: ((r: any, e?: grpc.ServiceError) => void)[] }>();
    const streamOf = (i: number) => {
      let st = streams.get(i);
      if (st) return st;
      const s = c.streamDriverUpdates() as grpc.ClientDuplexStream<unknown, any>;
      const q: ((r: any, e?: grpc.ServiceError) => void)[] = [];
      s.on('data', (r: any) => q.shift()?.(r));
      s.on('error', (e: grpc.ServiceError) => { for (const f of q.splice(0)) f(undefined, e); streams.delete(i); });
      s.on('end', () => { streams.delete(i); });
      st = { s, q };
      streams.set(i, st);
      return st;
    };
    const meta = new grpc.Metadata();
    out.push({
      updates: (reports, i) => new Promise((resolve, reject) => {
        const ups: object[] = [];
        const removals: Promise<unknown>[] = [];
        for (const r of reports) {
          if (r.kind === 'update') ups.push({ mapId: spec.mapId, driverId: r.id, location: { lat: r.lat, lng: r.lng }, metadata: { status: r.status } });
          else if (r.kind === 'offline') removals.push(new Promise((res) => c.removeDriver({ mapId: spec.mapId, driverId: r.id }, meta, { deadline: Date.now() + spec.deadlineMs }, res)));
        }
        const st = streamOf(i);
        st.q.push((res, e) => {
          if (e) { reject(e); return; }
          const codes: Record<string, number> = {};
          for (const x of res.rejected ?? []) codes[x.code] = (codes[x.code] ?? 0) + 1;
          void Promise.all(removals).then(() => resolve(codes));
        });
        st.s.write({ updates: ups });
      }),
      nearby: (lat, lng) => new Promise((resolve, reject) => {
        const req = { mapId: spec.mapId, location: { lat, lng }, k: spec.k, maxDistanceM: spec.radiusM, filter: spec.availableOnly ? { status: 'available' } : {} };
        c.nearby(req, meta, { deadline: Date.now() + spec.deadlineMs }, (e: grpc.ServiceError | null, r: any) => (e ? reject(e) : resolve(r.drivers.length)));
      }),
      close: () => { for (const st of streams.values()) st.s.end(); c.close(); },
    });
  }
  return out;
}

async function redisTargets(spec: WorkerSpec): Promise<Target[]> {
  const out: Target[] = [];
  for (const addr of spec.targets) {
    const [host, port] = addr.split(':');
    const conns: Resp[] = [];
    for (let i = 0; i < Math.max(1, spec.streams); i++) conns.push(await Resp.connect(host!, Number(port)));
    const key = spec.redisKey;
    let rr = 0;
    out.push({
      updates: async (reports, i) => {
        const c = conns[i % conns.length]!;
        const add: (string | number)[] = ['GEOADD', key], rem: string[] = ['ZREM', key];
        // Redis can only filter by a key: the set holds the available drivers
        for (const r of reports) {
          if (r.kind === 'update' && (r.status === 'available' || !spec.availableOnly)) add.push(r.lng.toFixed(7), r.lat.toFixed(7), r.id);
          else if (r.kind !== 'silent') rem.push(r.id);
        }
        const ps: Promise<Reply>[] = [];
        if (add.length > 2) ps.push(c.send(add));
        if (rem.length > 2) ps.push(c.send(rem));
        const codes: Record<string, number> = {};
        for (const r of await Promise.all(ps)) if (r instanceof RedisError) codes[r.message.split(' ')[0]!] = (codes[r.message.split(' ')[0]!] ?? 0) + 1;
        return codes;
      },
      nearby: async (lat, lng) => {
        const c = conns[rr++ % conns.length]!;
        const r = await c.send(['GEOSEARCH', key, 'FROMLONLAT', lng.toFixed(7), lat.toFixed(7), 'BYRADIUS', spec.radiusM, 'm', 'ASC', 'COUNT', spec.k]);
        if (r instanceof RedisError) throw r;
        return Array.isArray(r) ? r.length : 0;
      },
      close: () => { for (const c of conns) c.close(); },
    });
  }
  return out;
}

const codeOf = (e: unknown): string => {
  const se = e as grpc.ServiceError;
  if (typeof se?.code === 'number') return grpc.status[se.code] ?? String(se.code);
  if (e instanceof RedisError) return `REDIS_${e.message.split(' ')[0]}`;
  return 'CLIENT_ERROR';
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

// ── runs ───────────────────────────────────────────────────────────────────
async function run(spec: WorkerSpec, g: RoadGraph, targets: Target[], t0: number): Promise<WorkerResult> {
  const cpu0 = process.cpuUsage(), run0 = performance.now();
  const from = t0 + spec.warmupMs, to = from + spec.durationMs;
  const rec = new Recorder(from, to);
  let maxLag = 0, removals = 0, pending = 0;
  const track = <T>(p: Promise<T>): Promise<T> => { pending++; return p.finally(() => { pending--; }); };
  const isUpdates = spec.role.endsWith('updates');

  if (isUpdates) {
    const fleet = new Fleet(g, { seed: spec.seed, drivers: spec.drivers, rateHz: spec.rateHz });
    const sched = new Schedule(fleet, slice(spec.drivers, spec.part, spec.parts));
    const nStreams = Math.max(1, spec.streams);
    const target = (s: number): Target => targets[s % targets.length]!;
    const send = (reports: Report[], s: number, due: number): Promise<void> => {
      const live = reports.filter((r) => r.kind !== 'silent');
      removals += live.length - live.filter((r) => r.kind === 'update').length;
      return track(target(s).updates(live, s).then(
        (codes) => {
          let bad = 0;
          for (const [c, n] of Object.entries(codes)) { bad += n; if (rec.inWindow(due)) rec.errors[`item:${c}`] = (rec.errors[`item:${c}`] ?? 0) + n; }
          rec.ok(due, performance.now(), live.length - bad);
        },
        (e) => rec.err(due, codeOf(e)),
      ));
    };
    if (spec.mode === 'open') {
      // every tick: the reports due since the last tick, one batch per stream
      let s = 0;
      for (let tick = t0; tick < to; tick += spec.tickMs) {
        const now = performance.now();
        if (tick > now) await sleep(tick - now);
        maxLag = Math.max(maxLag, performance.now() - tick);
        const due = sched.takeUntil(tick - t0);
        if (due.length === 0) continue;
        const per = Math.ceil(due.length / nStreams);
        for (let i = 0; i < due.length; i += per) void send(due.slice(i, i + per), s++ % nStreams, tick);
      }
    } else {
      let left = spec.limit || Infinity;
      const loop = async (s: number): Promise<void> => {
        while (left > 0 && (spec.limit || performance.now() < to)) {
          const batch: Report[] = [];
          while (batch.length < spec.batch && left > 0) { batch.push(sched.take()); left--; }
          await send(batch, s, performance.now());
        }
      };
      const loops: Promise<void>[] = [];
      for (let s = 0; s < nStreams; s++) for (let c = 0; c < spec.concurrency; c++) loops.push(loop(s));
      await Promise.all(loops);
    }
  } else {
    let j = spec.part, rr = 0;
    const next = () => { const q = query(g, spec.seed, j, spec.k, spec.radiusM); j += spec.parts; return q; };
    const one = (due: number): Promise<void> => {
      const q = next();
      return track(targets[rr++ % targets.length]!.nearby(q.lat, q.lng).then((n) => rec.ok(due, performance.now(), 1, n), (e) => rec.err(due, codeOf(e))));
    };
    if (spec.mode === 'open') {
      const gap = 1000 / spec.qps;
      // WATCH OUT: intended times come from the schedule, not from when the timer fired
      for (let i = 0, due = t0; due < to; due = t0 + ++i * gap) {
        const now = performance.now();
        if (due > now + 0.5) await sleep(due - now);
        maxLag = Math.max(maxLag, performance.now() - due);
        void one(due);
      }
    } else {
      const loop = async (): Promise<void> => { while (performance.now() < to) await one(performance.now()); };
      await Promise.all(Array.from({ length: spec.concurrency }, loop));
    }
  }
  // drain: answers still due (a call still pending after the deadline is an error)
  const drainUntil = performance.now() + spec.deadlineMs + 2000;
  while (pending > 0 && performance.now() < drainUntil) await sleep(5);
  if (pending > 0) rec.errors.UNANSWERED = (rec.errors.UNANSWERED ?? 0) + pending;
  return { role: spec.role, part: spec.part, latMs: rec.lat.slice(0, rec.n), items: rec.items, calls: rec.calls, errors: rec.errors, removals, maxLagMs: maxLag, measuredMs: spec.limit ? performance.now() - from : spec.durationMs, found: rec.found, cpuMs: (() => { const c = process.cpuUsage(cpu0); return (c.user + c.system) / 1000; })(), runMs: performance.now() - run0 };
}

async function main(): Promise<void> {
  let spec: WorkerSpec | undefined, g: RoadGraph | undefined, targets: Target[] = [];
  process.on('message', (m: Msg) => {
    void (async () => {
      try {
        if ('spec' in m) {
          spec = m.spec;
          g = await graphOf(spec);
          targets = spec.role.startsWith('faros') ? await farosTargets(spec) : await redisTargets(spec);
          process.send!({ ready: true });
        } else if (spec && g) {
          const t0 = performance.now() + (m.startAt - Date.now());
          if (t0 > performance.now()) await sleep(t0 - performance.now());
          const r = await run(spec, g, targets, t0);
          for (const t of targets) t.close();
          process.send!({ result: r }, () => process.exit(0));
        }
      } catch (e) {
        process.send!({ error: (e as Error).stack ?? String(e) }, () => process.exit(1));
      }
    })();
  });
}

void main();
