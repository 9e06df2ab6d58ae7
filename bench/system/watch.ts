// WatchNearby: incremental re-evaluation against re-running every watch at
// every interval, in one run, alternating. Two server processes on Andorra
// (andorra-car, ttl=3600, --workers 1), one started with --watch-naive (the
// baseline: every watch searched again every min_interval_ms); both seeded
// with the same 50,000 drivers. Each round measures one server, then the
// other (the order alternates): 10,000 watches are opened on it (K=10,
// metric distance, 3 km, min_interval_ms 500, min_change_m 50, points near
// random roads), an updater process sends 20,000 updates/s of random
// drivers, moving them 5–40 m (StreamDriverUpdates, batches of 500 every
// 25 ms, open loop), and over the window:
// - CPU: the server's process_cpu_seconds_total (all threads) per second;
// - push latency: probes. Every 100 ms the watcher process moves one of 64
//   probe drivers onto the point of a random watch (UpdateDriver) and times
//   from the update's acknowledgement to the arrival of that watch's first
//   message listing the probe (loopback: arrival ≈ sending);
// - searches run for watches (faros_watch_evaluations_total), changes judged
//   without a search (faros_watch_judged_total), messages received.
// Targets (issue 17): incremental ≥ 10× less CPU than naive; push P99 ≤
// min_interval_ms + 1 s.
//
// A third window, on the incremental server with no watch open, is the
// baseline the updates alone cost. --moving F: the share of updates that
// move their driver (default 1); the rest repeat the driver's point, as a
// driver waiting for a ride reports; results go to watch.json, or
// watch-movingNN.json.
//
//   node --expose-gc dist/bench/system/watch.js [--quick] [--moving F] [--rounds N] [--seed N]
//   --quick: 5,000 drivers, 1,000 watches, 2,000 updates/s, 6 s windows (the CI smoke)
//   role (internal): --role client <spec.json>
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadFarosDefinition } from '../../src/api/proto.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { runClientProc } from '../lib/procs.js';
import { ROOT, Rng, fmt, header, parseArgs, pointsNearRoads, printTable, quantile, saveResult } from '../lib/common.js';
import { parseProm, startFaros, type FarosProc } from './load/lib.js';

const SELF = fileURLToPath(import.meta.url);
const MAP_ID = 'andorra-car';
const MAP_SPEC = `${MAP_ID}=maps/andorra.osm.pbf,ttl=3600`;
const K = 10,
  INTERVAL_MS = 500,
  CHANGE_M = 50;
const PROBES = 64,
  PROBE_EVERY_MS = 100;
const CHANNEL_OPTS = { 'grpc.max_receive_message_length': 64 << 20, 'grpc.use_local_subchannel_pool': 1 };
const WATCHES_PER_CHANNEL = 500;

type Mode = 'incremental' | 'naive' | 'baseline';

interface UpdaterSpec {
  kind: 'updater';
  addr: string;
  drivers: number;
  positions: number[];
  rate: number;
  /** Share of updates that move their driver; the rest report the same point again (a waiting driver's heartbeat). */
  moving: number;
  until: number;
  seed: number;
}
interface WatcherSpec {
  kind: 'watcher';
  addr: string;
  points: number[];
  startAt: number;
  endAt: number;
  seed: number;
}
interface WatcherOut {
  opened: number;
  openedBy: number;
  failed: Record<string, number>;
  messages: number;
  probes: number;
  lost: number;
  probeErrors: Record<string, number>;
  latMs: number[];
}
interface UpdaterOut {
  sent: number;
  acked: number;
  rejected: number;
}

function client(addr: string, i: number): grpc.Client & Record<string, any> {
  const pkg = grpc.loadPackageDefinition(loadFarosDefinition()) as any;
  return new pkg.faros.v1.Faros(addr, grpc.credentials.createInsecure(), { ...CHANNEL_OPTS, 'grpc.bench_channel': i });
}

// ── roles ──────────────────────────────────────────────────────────────────

/** Moves random drivers 5–40 m at `rate` updates/s until `until`, one stream, batches every 25 ms. */
async function updater(s: UpdaterSpec): Promise<UpdaterOut> {
  const c = client(s.addr, 0);
  const rng = new Rng(s.seed);
  const pos = Float64Array.from(s.positions);
  const st = c.streamDriverUpdates() as grpc.ClientDuplexStream<unknown, { accepted: number; rejected: unknown[] }>;
  const out: UpdaterOut = { sent: 0, acked: 0, rejected: 0 };
  st.on('data', (r) => {
    out.acked += r.accepted;
    out.rejected += r.rejected.length;
  });
  const ended = new Promise<void>((res) => {
    st.on('end', res);
    st.on('error', () => res());
  });
  const tick = 25,
    per = Math.round((s.rate * tick) / 1000);
  let next = Date.now();
  while (Date.now() < s.until) {
    const updates = [];
    for (let i = 0; i < per; i++) {
      const d = rng.int(0, s.drivers - 1);
      if (rng.next() < s.moving) {
        const m = (5 + 35 * rng.next()) / 111_000,
          a = 2 * Math.PI * rng.next();
        pos[2 * d] += m * Math.sin(a);
        pos[2 * d + 1] += (m * Math.cos(a)) / Math.cos((pos[2 * d]! * Math.PI) / 180);
      }
      updates.push({ mapId: MAP_ID, driverId: `d${d}`, location: { lat: pos[2 * d], lng: pos[2 * d + 1] }, metadata: {} });
    }
    if (!st.write({ updates })) await new Promise((r) => st.once('drain', r));
    out.sent += per;
    next += tick;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  st.end();
  await ended;
  c.close();
  return out;
}

/** Opens a watch per point, then probes from startAt to endAt. */
async function watcher(s: WatcherSpec): Promise<WatcherOut> {
  const n = s.points.length / 2;
  const channels = Array.from({ length: Math.ceil(n / WATCHES_PER_CHANNEL) }, (_, i) => client(s.addr, i + 1));
  const rng = new Rng(s.seed);
  const out: WatcherOut = { opened: 0, openedBy: 0, failed: {}, messages: 0, probes: 0, lost: 0, probeErrors: {}, latMs: [] };
  // Probe driver → the watch it was put on and when the update was acknowledged.
  const pending = new Map<string, { watch: number; ackAt: number }>();
  // Each watch's last message: a probe's message can arrive before the probe's own acknowledgement.
  const last: { at: number; ids: string[] }[] = new Array(n);
  const streams: grpc.ClientReadableStream<any>[] = [];
  for (let i = 0; i < n; i++) {
    const st = channels[Math.floor(i / WATCHES_PER_CHANNEL)]!.watchNearby({
      query: { mapId: MAP_ID, location: { lat: s.points[2 * i], lng: s.points[2 * i + 1] }, k: K, metric: 'METRIC_DISTANCE' },
      minIntervalMs: INTERVAL_MS,
      minChangeM: CHANGE_M,
    }) as grpc.ClientReadableStream<any>;
    let first = true;
    st.on('data', (m: { drivers: { driver: { driverId: string } }[] }) => {
      const now = Date.now();
      if (first) {
        first = false;
        out.opened++;
        out.openedBy = now;
      }
      if (now >= s.startAt && now < s.endAt + 2000) out.messages++;
      last[i] = { at: now, ids: m.drivers.map((d) => d.driver.driverId) };
      for (const d of m.drivers) {
        const id = d.driver.driverId;
        if (!id.startsWith('probe-')) continue;
        const p = pending.get(id);
        if (p && p.watch === i) {
          out.latMs.push(now - p.ackAt);
          pending.delete(id);
        }
      }
    });
    st.on('error', (e: grpc.ServiceError) => {
      if (e.code === grpc.status.CANCELLED) return;
      const k = grpc.status[e.code] ?? String(e.code);
      out.failed[k] = (out.failed[k] ?? 0) + 1;
    });
    streams.push(st);
  }
  await new Promise((r) => setTimeout(r, Math.max(0, s.startAt - Date.now())));
  let probe = 0;
  const uc = client(s.addr, 0);
  while (Date.now() < s.endAt) {
    const id = `probe-${probe++ % PROBES}`;
    if (pending.has(id)) out.lost++;
    pending.delete(id);
    const w = rng.int(0, n - 1);
    const req = { mapId: MAP_ID, driverId: id, location: { lat: s.points[2 * w], lng: s.points[2 * w + 1] } };
    const sentAt = Date.now();
    uc.updateDriver(req, (err: grpc.ServiceError | null) => {
      const l = last[w];
      // Reported before its acknowledgement came back: no wait at all.
      if (!err && l && l.at >= sentAt && l.ids.includes(id)) out.latMs.push(0);
      else if (!err) pending.set(id, { watch: w, ackAt: Date.now() });
      else out.probeErrors[grpc.status[err.code] ?? String(err.code)] = (out.probeErrors[grpc.status[err.code] ?? String(err.code)] ?? 0) + 1;
    });
    out.probes++;
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
  }
  // Late arrivals of the last probes.
  await new Promise((r) => setTimeout(r, INTERVAL_MS + 1500));
  out.lost += pending.size;
  for (const st of streams) st.cancel();
  for (const c of channels) c.close();
  uc.close();
  return out;
}

const NO_WATCHER: WatcherOut = { opened: 0, openedBy: 0, failed: {}, messages: 0, probes: 0, lost: 0, probeErrors: {}, latMs: [] };

// ── the run ────────────────────────────────────────────────────────────────

async function metric(base: string, names: string[]): Promise<number[]> {
  const m = parseProm(await (await fetch(`${base}/metrics`)).text());
  return names.map((name) => {
    let s = 0;
    for (const [k, v] of m) if (k === name || k.startsWith(`${name}{`)) s += v;
    return s;
  });
}

async function seed(f: FarosProc, positions: Float64Array): Promise<void> {
  const c = client(f.grpc, 0);
  const st = c.streamDriverUpdates() as grpc.ClientDuplexStream<unknown, unknown>;
  const done = new Promise<void>((res, rej) => {
    st.on('end', res);
    st.on('error', rej);
    st.on('data', () => {});
  });
  const n = positions.length / 2;
  for (let i = 0; i < n; i += 1000) {
    const updates = [];
    for (let d = i; d < Math.min(n, i + 1000); d++)
      updates.push({ mapId: MAP_ID, driverId: `d${d}`, location: { lat: positions[2 * d], lng: positions[2 * d + 1] } });
    st.write({ updates });
  }
  st.end();
  await done;
  c.close();
}

async function main(): Promise<void> {
  const { quick, seed: seedN } = parseArgs();
  const mi = process.argv.indexOf('--moving');
  const moving = mi >= 0 ? Number(process.argv[mi + 1]) : 1;
  if (!(moving >= 0 && moving <= 1)) throw new Error('--moving must be a share of updates in [0, 1], e.g. --moving 0.1');
  const ri = process.argv.indexOf('--rounds');
  const rounds = ri >= 0 ? Number(process.argv[ri + 1]) : 1;
  const cfg = quick
    ? { drivers: 5_000, watches: 1_000, rate: 2_000, windowMs: 6_000, openMs: 6_000 }
    : { drivers: 50_000, watches: 10_000, rate: 20_000, windowMs: 15_000, openMs: 20_000 };
  header('WatchNearby: incremental vs naive re-evaluation', quick);
  console.log(
    `andorra-car, ${fmt(cfg.drivers)} drivers, ${fmt(cfg.rate)} updates/s of which ${fmt(moving * 100)}% move 5–40 m (the rest repeat their point), ${fmt(cfg.watches)} watches (K=${K}, ${INTERVAL_MS} ms, ${CHANGE_M} m), ${rounds} round(s) of ${cfg.windowMs / 1000} s windows\n`,
  );
  const g = await loadMap(join(ROOT, 'maps/andorra.osm.pbf'), 'car');
  const rng = new Rng(seedN);
  const positions = pointsNearRoads(g, rng, cfg.drivers, 30);
  const points = pointsNearRoads(g, rng, cfg.watches, 30);
  const dir = mkdtempSync(join(tmpdir(), 'faros-watch-bench-'));
  const servers: Record<'incremental' | 'naive', FarosProc | undefined> = { incremental: undefined, naive: undefined };
  const rows: { mode: Mode; round: number; cores: number; evaluations: number; judged: number; messages: number; updates: number; watcher: WatcherOut }[] = [];
  try {
    servers.incremental = await startFaros(['--map', MAP_SPEC, '--workers', '1']);
    servers.naive = await startFaros(['--map', MAP_SPEC, '--workers', '1', '--watch-naive']);
    await Promise.all([seed(servers.incremental, positions), seed(servers.naive, positions)]);
    let k = 0;
    for (let round = 0; round < rounds; round++) {
      const order: Mode[] = round % 2 === 0 ? ['baseline', 'incremental', 'naive'] : ['naive', 'incremental', 'baseline'];
      for (const mode of order) {
        const f = servers[mode === 'naive' ? 'naive' : 'incremental']!;
        const watching = mode !== 'baseline';
        const startAt = Date.now() + cfg.openMs,
          endAt = startAt + cfg.windowMs;
        const names = ['process_cpu_seconds_total', 'faros_watch_evaluations_total', 'faros_watch_judged_total'];
        let before: number[] = [],
          t0 = 0;
        const edge = setTimeout(async () => {
          t0 = Date.now();
          before = await metric(f.http, names);
        }, cfg.openMs);
        const [w, u] = await Promise.all([
          watching
            ? runClientProc<WatcherOut>(
                SELF,
                { kind: 'watcher', addr: f.grpc, points: [...points], startAt, endAt, seed: seedN + round } satisfies WatcherSpec,
                dir,
                k++,
              )
            : Promise.resolve(NO_WATCHER),
          runClientProc<UpdaterOut>(
            SELF,
            {
              kind: 'updater',
              addr: f.grpc,
              drivers: cfg.drivers,
              positions: [...positions],
              rate: cfg.rate,
              moving,
              until: endAt,
              seed: seedN * 7 + round,
            } satisfies UpdaterSpec,
            dir,
            k++,
          ),
          new Promise<void>((r) => setTimeout(r, endAt - Date.now())).then(async () => {
            const after = await metric(f.http, names);
            const s = (Date.now() - t0) / 1000;
            rows.push({
              mode,
              round,
              cores: (after[0]! - before[0]!) / s,
              evaluations: (after[1]! - before[1]!) / s,
              judged: (after[2]! - before[2]!) / s,
              messages: 0,
              updates: 0,
              watcher: undefined as unknown as WatcherOut,
            });
          }),
        ]);
        clearTimeout(edge);
        const row = rows[rows.length - 1]!;
        row.watcher = w;
        row.messages = w.messages / (cfg.windowMs / 1000);
        row.updates = u.acked / ((cfg.windowMs + cfg.openMs) / 1000);
        const lat = w.latMs;
        if (!watching) {
          console.log(`round ${round + 1} no watches (updates only): server ${fmt(row.cores, 2)} cores`);
          await new Promise((r) => setTimeout(r, 1500));
          continue;
        }
        console.log(
          `round ${round + 1} ${mode}: ${w.opened}/${cfg.watches} watches open${w.openedBy > startAt ? ' (LATE)' : ''}, server ${fmt(row.cores, 2)} cores, ${fmt(row.evaluations)} searches/s, ${fmt(row.judged)} judged/s, ${fmt(row.messages)} messages/s, push P50 ${fmt(quantile(lat, 0.5))} ms P99 ${fmt(quantile(lat, 0.99))} ms (${lat.length}/${w.probes} probes${Object.keys(w.probeErrors).length ? `, probe errors ${JSON.stringify(w.probeErrors)}` : ''})`,
        );
        // Let the watches close before the next window.
        await new Promise((r) => setTimeout(r, 1500));
      }
    }
  } finally {
    await Promise.all([servers.incremental?.stop(), servers.naive?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  const of = (mode: Mode) => rows.filter((r) => r.mode === mode);
  const sum = (mode: Mode) => {
    const rs = of(mode);
    const lat = rs.flatMap((r) => r.watcher.latMs);
    const avg = (f: (r: (typeof rs)[number]) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
    return {
      cores: avg((r) => r.cores),
      searchesPerS: avg((r) => r.evaluations),
      judgedPerS: avg((r) => r.judged),
      messagesPerS: avg((r) => r.messages),
      updatesPerS: avg((r) => r.updates),
      pushP50Ms: quantile(lat, 0.5),
      pushP99Ms: quantile(lat, 0.99),
      pushMaxMs: quantile(lat, 1),
      probes: lat.length,
      lost: rs.reduce((a, r) => a + r.watcher.lost, 0),
      failed: rs.map((r) => r.watcher.failed),
    };
  };
  const inc = sum('incremental'),
    nai = sum('naive'),
    base = sum('baseline');
  console.log();
  printTable(
    ['mode', 'server cores', 'searches/s', 'judged/s', 'messages/s', 'updates/s', 'push P50 ms', 'push P99 ms', 'probes'],
    [inc, nai].map((x, i) => [
      i === 0 ? 'incremental' : 'naive',
      fmt(x.cores, 2),
      fmt(x.searchesPerS),
      fmt(x.judgedPerS),
      fmt(x.messagesPerS),
      fmt(x.updatesPerS),
      fmt(x.pushP50Ms),
      fmt(x.pushP99Ms),
      `${x.probes} (${x.lost} lost)`,
    ]),
  );
  const ratio = nai.cores / inc.cores;
  // What the watches themselves cost: above the same server taking the same updates with no watch open.
  const watchRatio = (nai.cores - base.cores) / Math.max(1e-3, inc.cores - base.cores);
  const searchRatio = nai.searchesPerS / Math.max(1e-9, inc.searchesPerS);
  console.log(
    `\nno watches (updates only): ${fmt(base.cores, 2)} cores. CPU naive / incremental: ${fmt(ratio, 1)}x in all, ${fmt(watchRatio, 1)}x above the no-watch baseline; ${fmt(searchRatio, 1)}x fewer searches (target: 10x less CPU); push P99 incremental ${fmt(inc.pushP99Ms)} ms, naive ${fmt(nai.pushP99Ms)} ms (target <= ${INTERVAL_MS + 1000} ms)`,
  );
  const name = moving === 1 ? 'watch' : `watch-moving${Math.round(moving * 100)}`;
  const file = saveResult(name, quick, {
    config: { ...cfg, moving, k: K, intervalMs: INTERVAL_MS, changeM: CHANGE_M, rounds, seed: seedN },
    incremental: inc,
    naive: nai,
    baseline: { cores: base.cores, updatesPerS: base.updatesPerS },
    ratio,
    watchRatio,
    searchRatio,
    rows,
  });
  console.log(`saved ${file}`);
}

const role = process.argv.indexOf('--role');
if (role >= 0) {
  const spec = JSON.parse(readFileSync(process.argv[role + 2]!, 'utf8')) as UpdaterSpec | WatcherSpec;
  (spec.kind === 'updater' ? updater(spec) : watcher(spec)).then(
    (r) => {
      process.stdout.write(JSON.stringify(r));
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
