// One load-generator process (forked by bench/system/load/run.ts): drives Faros over
// gRPC or Redis over RESP with the fleet simulator's work, open-loop at a
// target rate (latency from the intended send time, so a slow server cannot
// slow the generator down and hide its queueing: no coordinated omission) or
// closed-loop (fixed outstanding requests, for peak throughput).
//
// Update batches are simulated and encoded before the run starts (`plan`),
// and sent as ready-made bytes: simulating the fleet and encoding protobuf
// cost this process ~10 µs per update, which at 50,000 updates/s took ~0.8
// of this machine's 2 cores from the server it measures (session 3's mix).
//
// Protocol: parent sends {spec}; child answers {ready}; parent sends {go,
// startAt (epoch ms)}; child answers {result} and exits.
import * as grpc from '@grpc/grpc-js';
import { loadFarosDefinition } from '../../../src/api/proto.js';
import { loadMap } from '../../../src/mapbuild/build.js';
import type { RoadGraph } from '../../../src/model/graph/roadgraph.js';
import { Fleet, Schedule, query, slice, type Report } from '../../../tools/sim/fleet.js';
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
  /** Closed-loop update batches sent a second time because the plan ran out. */
  replayed: number;
  /** CPU time this generator process used during the run, ms, and the run's wall time. */
  cpuMs: number;
  runMs: number;
}

type Msg = { spec: WorkerSpec } | { go: true; startAt: number };

const CLIENT_OPTS = { 'grpc.max_send_message_length': 64 << 20, 'grpc.max_receive_message_length': 64 << 20 };

class Recorder {
  lat = new Float64Array(1 << 16);
  n = 0;
  items = 0;
  calls = 0;
  found = 0;
  errors: Record<string, number> = {};
  constructor(
    readonly from: number,
    readonly to: number,
  ) {}
  /** Count if the call was due inside the window. */
  inWindow(t: number): boolean {
    return t >= this.from && t < this.to;
  }
  ok(due: number, now: number, items: number, found = 0): void {
    if (!this.inWindow(due)) return;
    if (this.n === this.lat.length) {
      const b = new Float64Array(this.n * 2);
      b.set(this.lat);
      this.lat = b;
    }
    this.lat[this.n++] = now - due;
    this.items += items;
    this.calls++;
    this.found += found;
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
/** A batch of reports made ready to send (encoded, off the clock). */
interface Prepared {
  payload: unknown;
  removals: string[];
}

interface Target {
  /** Encode a batch of reports (done before the run). */
  prepare(reports: Report[]): Prepared;
  /** Send a prepared batch; resolves with per-code rejection counts. */
  updates(batch: Prepared, stream: number): Promise<Record<string, number>>;
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
    // The stream sends bytes encoded by prepare() (identity serializer).
    const method = (Ctor.service as grpc.ServiceDefinition).StreamDriverUpdates!;
    const streams = new Map<number, { s: grpc.ClientDuplexStream<Buffer, any>; q: ((r: any, e?: grpc.ServiceError) => void)[] }>();
    const streamOf = (i: number) => {
      let st = streams.get(i);
      if (st) return st;
      const s = (c as grpc.Client).makeBidiStreamRequest(method.path, (b: Buffer) => b, method.responseDeserialize) as grpc.ClientDuplexStream<Buffer, any>;
      const q: ((r: any, e?: grpc.ServiceError) => void)[] = [];
      s.on('data', (r: any) => q.shift()?.(r));
      s.on('error', (e: grpc.ServiceError) => {
        for (const f of q.splice(0)) f(undefined, e);
        streams.delete(i);
      });
      s.on('end', () => {
        streams.delete(i);
      });
      st = { s, q };
      streams.set(i, st);
      return st;
    };
    const meta = new grpc.Metadata();
    out.push({
      prepare: (reports) => {
        const ups: object[] = [];
        const removals: string[] = [];
        for (const r of reports) {
          if (r.kind === 'update') ups.push({ mapId: spec.mapId, driverId: r.id, location: { lat: r.lat, lng: r.lng }, metadata: { status: r.status } });
          else if (r.kind === 'offline') removals.push(r.id);
        }
        return { payload: method.requestSerialize({ updates: ups }), removals };
      },
      updates: (batch, i) =>
        new Promise((resolve, reject) => {
          const removals = batch.removals.map(
            (id) => new Promise((res) => c.removeDriver({ mapId: spec.mapId, driverId: id }, meta, { deadline: Date.now() + spec.deadlineMs }, res)),
          );
          const st = streamOf(i);
          st.q.push((res, e) => {
            if (e) {
              reject(e);
              return;
            }
            const codes: Record<string, number> = {};
            for (const x of res.rejected ?? []) codes[x.code] = (codes[x.code] ?? 0) + 1;
            void Promise.all(removals).then(() => resolve(codes));
          });
          st.s.write(batch.payload as Buffer);
        }),
      nearby: (lat, lng) =>
        new Promise((resolve, reject) => {
          const req = {
            mapId: spec.mapId,
            location: { lat, lng },
            k: spec.k,
            maxDistanceM: spec.radiusM,
            filter: spec.availableOnly ? { status: 'available' } : {},
          };
          c.nearby(req, meta, { deadline: Date.now() + spec.deadlineMs }, (e: grpc.ServiceError | null, r: any) => (e ? reject(e) : resolve(r.drivers.length)));
        }),
      close: () => {
        for (const st of streams.values()) st.s.end();
        c.close();
      },
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
      prepare: (reports) => {
        const add: (string | number)[] = ['GEOADD', key],
          rem: string[] = ['ZREM', key];
        // Redis can only filter by a key: the set holds the available drivers
        for (const r of reports) {
          if (r.kind === 'update' && (r.status === 'available' || !spec.availableOnly)) add.push(r.lng.toFixed(7), r.lat.toFixed(7), r.id);
          else if (r.kind !== 'silent') rem.push(r.id);
        }
        return { payload: [add, rem], removals: [] };
      },
      updates: async (batch, i) => {
        const c = conns[i % conns.length]!;
        const [add, rem] = batch.payload as [(string | number)[], string[]];
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
      close: () => {
        for (const c of conns) c.close();
      },
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
/** One update batch of a run, simulated and encoded ahead (see the header). */
interface PlannedBatch {
  atMs: number;
  stream: number;
  live: number;
  offline: number;
  p: Prepared;
}

/** A closed loop's plan holds this many updates/s (all generator processes together) for the whole run. */
const CLOSED_PLAN_RATE = 250_000;

/**
 * The run's update batches, in send order: open loop, every tick's due
 * reports split over the streams (at = the tick, ms from the start); closed
 * loop, batches of `spec.batch` (the preload's `limit`, or enough for
 * CLOSED_PLAN_RATE over warm-up + duration).
 */
function planUpdates(spec: WorkerSpec, g: RoadGraph, targets: Target[]): PlannedBatch[] {
  const fleet = new Fleet(g, { seed: spec.seed, drivers: spec.drivers, rateHz: spec.rateHz });
  const sched = new Schedule(fleet, slice(spec.drivers, spec.part, spec.parts));
  const nStreams = Math.max(1, spec.streams);
  const out: PlannedBatch[] = [];
  const add = (reports: Report[], stream: number, atMs: number): void => {
    const live = reports.filter((r) => r.kind !== 'silent');
    out.push({ atMs, stream, live: live.length, offline: live.filter((r) => r.kind === 'offline').length, p: targets[stream % targets.length]!.prepare(live) });
  };
  if (spec.mode === 'open') {
    let s = 0;
    for (let at = 0; at < spec.warmupMs + spec.durationMs; at += spec.tickMs) {
      const due = sched.takeUntil(at);
      if (due.length === 0) continue;
      const per = Math.ceil(due.length / nStreams);
      for (let i = 0; i < due.length; i += per) add(due.slice(i, i + per), s++ % nStreams, at);
    }
  } else {
    let left = spec.limit || Math.ceil(((CLOSED_PLAN_RATE / spec.parts) * (spec.warmupMs + spec.durationMs)) / 1000);
    while (left > 0) {
      const batch: Report[] = [];
      while (batch.length < spec.batch && left > 0) {
        batch.push(sched.take());
        left--;
      }
      add(batch, 0, 0);
    }
  }
  return out;
}

async function run(spec: WorkerSpec, g: RoadGraph, targets: Target[], t0: number, plan: PlannedBatch[] | undefined): Promise<WorkerResult> {
  const cpu0 = process.cpuUsage(),
    run0 = performance.now();
  const from = t0 + spec.warmupMs,
    to = from + spec.durationMs;
  const rec = new Recorder(from, to);
  let maxLag = 0,
    removals = 0,
    pending = 0,
    replayed = 0;
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending++;
    return p.finally(() => {
      pending--;
    });
  };
  const isUpdates = spec.role.endsWith('updates');

  if (isUpdates) {
    const batches = plan ?? [];
    const target = (s: number): Target => targets[s % targets.length]!;
    const send = (b: PlannedBatch, s: number, due: number): Promise<void> => {
      removals += b.offline;
      return track(
        target(s)
          .updates(b.p, s)
          .then(
            (codes) => {
              let bad = 0;
              for (const [c, n] of Object.entries(codes)) {
                bad += n;
                if (rec.inWindow(due)) rec.errors[`item:${c}`] = (rec.errors[`item:${c}`] ?? 0) + n;
              }
              rec.ok(due, performance.now(), b.live - bad);
            },
            (e) => rec.err(due, codeOf(e)),
          ),
      );
    };
    if (spec.mode === 'open') {
      // every tick's batches (one per stream) at its time (latency counts from then)
      for (const b of batches) {
        const at = t0 + b.atMs;
        const now = performance.now();
        if (at > now + 0.5) await sleep(at - now);
        maxLag = Math.max(maxLag, performance.now() - at);
        void send(b, b.stream, at);
      }
    } else {
      let next = 0,
        sent = 0;
      const loop = async (s: number): Promise<void> => {
        while (spec.limit || performance.now() < to) {
          if (next === batches.length) {
            if (spec.limit) return;
            // The plan ran out before the time did (Redis takes > 250,000/s):
            // send it again from the start and count the batches sent twice.
            // Faros does the same work again (updates carry no client
            // timestamp, so they are stored anew); Redis re-adds the same members.
            next = 0;
          }
          if (++sent > batches.length) replayed++;
          await send(batches[next++]!, s, performance.now());
        }
      };
      const loops: Promise<void>[] = [];
      for (let s = 0; s < Math.max(1, spec.streams); s++) for (let c = 0; c < spec.concurrency; c++) loops.push(loop(s));
      await Promise.all(loops);
    }
  } else {
    let j = spec.part,
      rr = 0;
    const next = () => {
      const q = query(g, spec.seed, j, spec.k, spec.radiusM);
      j += spec.parts;
      return q;
    };
    const one = (due: number): Promise<void> => {
      const q = next();
      return track(
        targets[rr++ % targets.length]!.nearby(q.lat, q.lng).then(
          (n) => rec.ok(due, performance.now(), 1, n),
          (e) => rec.err(due, codeOf(e)),
        ),
      );
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
      const loop = async (): Promise<void> => {
        while (performance.now() < to) await one(performance.now());
      };
      await Promise.all(Array.from({ length: spec.concurrency }, loop));
    }
  }
  // drain: answers still due (a call still pending after the deadline is an error)
  const drainUntil = performance.now() + spec.deadlineMs + 2000;
  while (pending > 0 && performance.now() < drainUntil) await sleep(5);
  if (pending > 0) rec.errors.UNANSWERED = (rec.errors.UNANSWERED ?? 0) + pending;
  return {
    role: spec.role,
    part: spec.part,
    replayed,
    latMs: rec.lat.slice(0, rec.n),
    items: rec.items,
    calls: rec.calls,
    errors: rec.errors,
    removals,
    maxLagMs: maxLag,
    measuredMs: spec.limit ? performance.now() - from : spec.durationMs,
    found: rec.found,
    cpuMs: (() => {
      const c = process.cpuUsage(cpu0);
      return (c.user + c.system) / 1000;
    })(),
    runMs: performance.now() - run0,
  };
}

async function main(): Promise<void> {
  let spec: WorkerSpec | undefined,
    g: RoadGraph | undefined,
    targets: Target[] = [],
    plan: PlannedBatch[] | undefined;
  process.on('message', (m: Msg) => {
    void (async () => {
      try {
        if ('spec' in m) {
          spec = m.spec;
          g = await graphOf(spec);
          targets = spec.role.startsWith('faros') ? await farosTargets(spec) : await redisTargets(spec);
          if (spec.role.endsWith('updates')) plan = planUpdates(spec, g, targets);
          process.send!({ ready: true });
        } else if (spec && g) {
          const t0 = performance.now() + (m.startAt - Date.now());
          if (t0 > performance.now()) await sleep(t0 - performance.now());
          const r = await run(spec, g, targets, t0, plan);
          plan = undefined;
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
