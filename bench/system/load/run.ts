// Load scenarios against a real `faros serve` process and, side by side on the
// same machine and the same simulated fleet, a Redis GEO peer.
//   node dist/bench/system/load/run.js [--quick] [--seed N] [--no-redis] [--no-http]
//        [--grpc-targets h:p,h:p,h:p --http-targets http://h:p,...]   (existing instances, e.g. a cluster; no server started)
//        [--drivers 50000] [--name load] [--no-install] [--results DIR]
//        [--phases target,sweep,peak,h2load,mix,http,redis]   (some scenarios only; default all)
// --no-install: never apt-get redis-server or nghttp2-client (h2load); without
// them the Redis part / the h2load phase is skipped with the reason recorded.
// Writes bench/results/<name>[-quick].json, .md and the latency-vs-load SVGs,
// and bench/results/compare[-quick].json with the Redis comparison.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMap } from '../../../src/mapbuild/build.js';
import { ROOT, RESULTS_DIR, machine, printTable, fmt } from '../../lib/common.js';
import { startFaros, scraper, runWorkers, merge, type PhaseResult, type FarosProc } from './lib.js';
import { httpNearby, httpBatchUpdate } from './http.js';
import { h2loadNearby, type H2loadDetail, type H2loadSpec } from './h2load.js';
import { lineChart } from './svg.js';
import { startRedis, type RedisPeer } from '../compare/redis-server.js';
import { Resp } from '../compare/resp.js';
import { quality, stateAt, syncBoth, type Quality } from '../compare/quality.js';
import type { WorkerSpec, Role } from './worker.js';

const PHASES = ['target', 'sweep', 'peak', 'h2load', 'mix', 'http', 'redis'] as const;
type Phase = (typeof PHASES)[number];

interface RunArgs {
  resultsDir: string;
  quick: boolean;
  seed: number;
  redis: boolean;
  http: boolean;
  grpcTargets: string[];
  httpTargets: string[];
  drivers: number;
  name: string;
  install: boolean;
  phases: Set<Phase>;
}

function parse(argv: string[]): RunArgs {
  const a: RunArgs = {
    resultsDir: RESULTS_DIR,
    quick: false,
    seed: Number(process.env.BENCH_SEED ?? 42),
    redis: true,
    http: true,
    grpcTargets: [],
    httpTargets: [],
    drivers: 0,
    name: '',
    install: true,
    phases: new Set(PHASES),
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!,
      v = argv[i + 1] ?? '';
    switch (k) {
      case '--quick':
        a.quick = true;
        break;
      case '--no-redis':
        a.redis = false;
        break;
      case '--no-http':
        a.http = false;
        break;
      case '--no-install':
        a.install = false;
        break;
      case '--seed':
        a.seed = Number(v);
        i++;
        break;
      case '--drivers':
        a.drivers = Number(v);
        i++;
        break;
      case '--name':
        a.name = v;
        i++;
        break;
      case '--results':
        a.resultsDir = v;
        i++;
        break;
      case '--grpc-targets':
        a.grpcTargets = v.split(',').filter(Boolean);
        i++;
        break;
      case '--http-targets':
        a.httpTargets = v.split(',').filter(Boolean);
        i++;
        break;
      case '--phases': {
        const ps = v.split(',').filter(Boolean);
        const bad = ps.filter((p) => !(PHASES as readonly string[]).includes(p));
        if (ps.length === 0 || bad.length) throw new Error(`--phases takes a comma-separated list of ${PHASES.join(', ')}; got "${v}"`);
        a.phases = new Set(ps as Phase[]);
        i++;
        break;
      }
      default:
        throw new Error(`unknown flag ${k}; see the header of bench/system/load/run.ts`);
    }
  }
  if (!Number.isInteger(a.seed)) throw new Error('--seed must be an integer');
  if (!a.phases.has('redis')) a.redis = false;
  if (!a.phases.has('http')) a.http = false;
  // Some scenarios only: do not overwrite the full run's results.
  a.name ||= a.phases.size === PHASES.length ? 'load' : `load-${[...a.phases].join('-')}`;
  if (a.grpcTargets.length !== a.httpTargets.length) throw new Error('--grpc-targets and --http-targets must list the same instances, in the same order');
  return a;
}

const MAP_ID = 'andorra-car';
const MAP_FILE = join(ROOT, 'maps', 'andorra.osm.pbf');
const REDIS_KEY = 'drivers:andorra';
const K = 10,
  RADIUS = 3000;

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const Q = a.quick;
  const N = a.drivers || (Q ? 5000 : 50_000);
  // phase lengths: warm-up, measured
  const W = Q ? 500 : 2000,
    D = Q ? 2000 : 10_000,
    DS = Q ? 1500 : 6000;
  const targetUpdates = N; // every driver once a second
  const targetNearby = Q ? 300 : 2000;
  const nearbySweep = Q ? [] : [250, 500, 1000, 2000];
  const nearbySweepH2 = Q ? [200] : [500, 1000, 1500, 2000];
  // [update Hz per driver, nearby/s]: the target, and half of it
  const mixH2: [number, number][] = Q
    ? []
    : [
        [1, 2000],
        [0.5, 1000],
      ];
  const updateSweepHz = Q ? [] : [0.1, 0.25, 0.5, 1];
  const started = Date.now();
  const log = (m: string): void => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}`);

  const g = await loadMap(MAP_FILE, 'car');
  let faros: FarosProc | undefined;
  let grpcTargets = a.grpcTargets,
    httpTargets = a.httpTargets;
  if (grpcTargets.length === 0) {
    faros = await startFaros(['--map', `${MAP_ID}=maps/andorra.osm.pbf`, '--workers', '2']);
    grpcTargets = [faros.grpc];
    httpTargets = [faros.http];
    log(`faros serve ready at ${faros.grpc} / ${faros.http}`);
  }
  let redis: RedisPeer | undefined;
  let redisMissing: string | undefined;
  const phases: PhaseResult[] = [];
  let q: Quality | undefined;
  let h2: H2loadDetail = { skipped: 'not run' };
  const base: Omit<WorkerSpec, 'role' | 'targets' | 'part' | 'parts' | 'mode'> = {
    mapFile: MAP_FILE,
    mapId: MAP_ID,
    seed: a.seed,
    drivers: N,
    qps: 0,
    rateHz: 1,
    warmupMs: W,
    durationMs: D,
    streams: 2,
    tickMs: 10,
    concurrency: 1,
    batch: 500,
    k: K,
    radiusM: RADIUS,
    availableOnly: true,
    redisKey: REDIS_KEY,
    deadlineMs: 5000,
  };
  const specs = (role: Role, targets: string[], parts: number, extra: Partial<WorkerSpec>): WorkerSpec[] =>
    Array.from({ length: parts }, (_, part) => ({ ...base, role, targets, part, parts, mode: 'open', ...extra }));
  /** One phase: workers for each group together; server figures scraped meanwhile. */
  const phase = async (
    system: 'faros' | 'redis',
    groups: { name: string; kind: 'updates' | 'nearby'; mode: 'open' | 'closed'; target?: number; specs: WorkerSpec[] }[],
  ): Promise<PhaseResult[]> => {
    const sc = system === 'faros' ? scraper(httpTargets) : undefined;
    const all = groups.flatMap((gr) => gr.specs);
    const rs = await runWorkers(all, W + Math.max(...all.map((s) => s.durationMs)) + 60_000);
    const server = await sc?.stop();
    let at = 0;
    const out = groups.map((gr) => {
      const mine = rs.slice(at, at + gr.specs.length);
      at += gr.specs.length;
      const p = merge(gr.name, system, mine, { kind: gr.kind, mode: gr.mode, target: gr.target, server });
      phases.push(p);
      log(
        `${system} ${gr.name}: ${fmt(p.throughput)}/s  P50 ${p.latencyMs.p50} P99 ${p.latencyMs.p99} max ${p.latencyMs.max} ms  errors ${JSON.stringify(p.errors)}${server ? `  server CPU ${server.cpuCores} lag P99 ${server.lagP99Ms} ms drivers ${server.drivers}` : ''}${p.note ? `  (${p.note})` : ''}`,
      );
      return p;
    });
    return out;
  };
  const updOpen = (role: Role, targets: string[], hz: number, dur = D) => specs(role, targets, 2, { rateHz: hz, streams: 2, durationMs: dur });
  const nbOpen = (role: Role, targets: string[], qps: number, dur = D) => specs(role, targets, 2, { qps: qps / 2, durationMs: dur });
  const updClosed = (role: Role, targets: string[]) => specs(role, targets, 2, { mode: 'closed', streams: 2, concurrency: 4, batch: 500, durationMs: DS });
  const nbClosed = (role: Role, targets: string[]) => specs(role, targets, 2, { mode: 'closed', concurrency: 32, durationMs: DS });

  /** The same work for one system: preload, target mix, sweeps, peaks. */
  const suite = async (system: 'faros' | 'redis', targets: string[]): Promise<void> => {
    const U: Role = `${system}-updates`,
      NB: Role = `${system}-nearby`;
    // preload: every driver's first report, as fast as it goes
    await phase(system, [
      {
        name: 'preload',
        kind: 'updates',
        mode: 'closed',
        specs: specs(U, targets, 1, { mode: 'closed', streams: 2, concurrency: 4, batch: 1000, warmupMs: 0, durationMs: 600_000, limit: N }),
      },
    ]);
    const want = (p: Phase): boolean => a.phases.has(p);
    if (want('target'))
      await phase(system, [
        { name: `target: updates ${fmt(targetUpdates)}/s`, kind: 'updates', mode: 'open', target: targetUpdates, specs: updOpen(U, targets, 1) },
        { name: `target: nearby ${fmt(targetNearby)}/s`, kind: 'nearby', mode: 'open', target: targetNearby, specs: nbOpen(NB, targets, targetNearby) },
      ]);
    if (want('sweep')) {
      for (const qps of nearbySweep)
        await phase(system, [{ name: `sweep: nearby ${fmt(qps)}/s`, kind: 'nearby', mode: 'open', target: qps, specs: nbOpen(NB, targets, qps, DS) }]);
      for (const hz of updateSweepHz)
        await phase(system, [{ name: `sweep: updates ${fmt(N * hz)}/s`, kind: 'updates', mode: 'open', target: N * hz, specs: updOpen(U, targets, hz, DS) }]);
    }
    if (want('peak')) {
      await phase(system, [{ name: 'peak: updates (closed, 2 procs × 2 streams × 4 × 500)', kind: 'updates', mode: 'closed', specs: updClosed(U, targets) }]);
      await phase(system, [{ name: 'peak: nearby (closed, 2 procs × 32)', kind: 'nearby', mode: 'closed', specs: nbClosed(NB, targets) }]);
    }
  };

  try {
    await suite('faros', grpcTargets);
    // unary nearby peak from a native client: pre-encoded gRPC frames through h2load (first instance only)
    // The h2load phases share the target, the scenario and the log line.
    const viaH2 = (o: Pick<H2loadSpec, 'requests' | 'bodies' | 'clients' | 'streams' | 'limitS' | 'install'> & Partial<H2loadSpec>) =>
      h2loadNearby({ grpc: grpcTargets[0]!, http: httpTargets[0]!, g, seed: a.seed, mapId: MAP_ID, k: K, radiusM: RADIUS, log, ...o });
    const logH2 = (p: PhaseResult, extra = ''): void => {
      const sv = p.server;
      log(
        `faros ${p.name}: ${fmt(p.throughput)}/s  P50 ${p.latencyMs.p50} P99 ${p.latencyMs.p99} max ${p.latencyMs.max} ms  errors ${JSON.stringify(p.errors)}  h2load CPU ${p.clientCpuCores}${sv ? `  server CPU ${sv.cpuCores} lag P99 ${sv.lagP99Ms} ms drivers ${sv.drivers}` : ''}${extra}`,
      );
    };
    try {
      let h2ok = true;
      if (a.phases.has('h2load')) {
        const o = await viaH2({ requests: Q ? 2000 : 60_000, bodies: Q ? 2 : 4, clients: 2, streams: 32, limitS: Q ? 20 : 120, install: a.install });
        h2 = o.detail;
        if (o.phase) {
          phases.push(o.phase);
          logH2(o.phase, `  server codes ${JSON.stringify(o.detail.serverCodes)}`);
          // Open-loop sweep through h2load too: the grpc-js generators above cost
          // more CPU than the server at these rates, so their latencies are partly theirs.
          for (const rps of nearbySweepH2) {
            const w = await viaH2({ requests: rps * (Q ? 2 : 8), bodies: 2, clients: 4, streams: 256, rps, limitS: Q ? 20 : 60, install: false });
            if (!w.phase) {
              log(`faros sweep: nearby ${fmt(rps)}/s (h2load) SKIPPED: ${w.detail.skipped}`);
              continue;
            }
            phases.push(w.phase);
            logH2(w.phase);
          }
        } else {
          h2ok = false;
          log(`faros peak: nearby (h2load, closed) SKIPPED: ${o.detail.skipped}`);
        }
      }
      // The target mix again, with nearby from h2load (0.05 cores) instead of
      // grpc-js processes (~1 core per 1,000 calls/s): the server's own figure.
      if (h2ok && a.phases.has('mix')) {
        for (const [hz, rps] of mixH2) {
          const [, w] = await Promise.all([
            phase('faros', [
              {
                name: `mix: updates ${fmt(N * hz)}/s (+ nearby ${fmt(rps)}/s via h2load)`,
                kind: 'updates',
                mode: 'open',
                target: N * hz,
                specs: updOpen('faros-updates', grpcTargets, hz),
              },
            ]),
            viaH2({
              name: `mix: nearby ${fmt(rps)}/s via h2load (+ updates ${fmt(N * hz)}/s)`,
              requests: rps * (D / 1000),
              bodies: 2,
              clients: 4,
              streams: 256,
              rps,
              delayMs: W,
              limitS: 60,
              install: a.install && !a.phases.has('h2load'),
            }),
          ]);
          if (!w.phase) {
            log(`faros mix via h2load SKIPPED: ${w.detail.skipped}`);
            continue;
          }
          if (!a.phases.has('h2load')) h2 = w.detail;
          phases.push(w.phase);
          logH2(w.phase);
        }
      }
    } catch (e) {
      h2 = { skipped: `h2load phase failed: ${(e as Error).stack ?? String(e)}` };
      log(`faros peak: nearby (h2load, closed) SKIPPED: ${h2.skipped}`);
    }
    if (a.http) {
      const hs = { base: httpTargets[0]!, mapId: MAP_ID, g, seed: a.seed, drivers: N, durationS: Q ? 2 : 8, batch: 100, k: K, radiusM: RADIUS };
      for (const p of [await httpNearby({ ...hs, connections: 32 }), await httpBatchUpdate({ ...hs, connections: 8 })]) {
        phases.push(p);
        log(`faros ${p.name}: ${fmt(p.throughput)}/s  P50 ${p.latencyMs.p50} P99 ${p.latencyMs.p99} ms  errors ${JSON.stringify(p.errors)}`);
      }
    }
    if (a.redis) {
      redis = await startRedis({
        install: a.install,
        log: (m) => {
          if (m.startsWith('Redis peer missing')) redisMissing = m;
          console.error(m);
        },
      });
      if (redis) {
        log(`redis-server ${redis.version} on 127.0.0.1:${redis.port}`);
        await suite('redis', [`127.0.0.1:${redis.port}`]);
        // quality on one identical state
        const state = stateAt(g, a.seed, N, Q ? 5000 : 30_000);
        const rc = await Resp.connect('127.0.0.1', redis.port);
        await syncBoth(state, grpcTargets[0]!, MAP_ID, rc, REDIS_KEY);
        q = await quality(g, a.seed, grpcTargets[0]!, MAP_ID, rc, REDIS_KEY, Q ? 50 : 500, K, RADIUS);
        rc.close();
        log(`quality: ${JSON.stringify(q)}`);
      }
    } else redisMissing = 'Redis peer skipped (--no-redis)';
  } finally {
    await redis?.stop();
    const code = await faros?.stop();
    if (faros && code !== 0) console.error(`faros exited with ${code}: ${faros.stderr().slice(-2000)}`);
  }
  report(a, N, phases, q, redis?.version, redisMissing, h2);
}

function report(
  a: RunArgs,
  N: number,
  phases: PhaseResult[],
  q: Quality | undefined,
  redisVersion: string | undefined,
  redisMissing: string | undefined,
  h2: H2loadDetail,
): void {
  const name = a.grpcTargets.length ? (a.name === 'load' ? 'load-cluster' : a.name) : a.name;
  const scenario = {
    map: MAP_ID,
    drivers: N,
    reportHz: 1,
    k: K,
    radiusM: RADIUS,
    seed: a.seed,
    instances: Math.max(1, a.grpcTargets.length),
    faros: 'faros serve --workers 2',
    generator: '2 forked client processes per group (grpc-js / RESP), same 2-core machine; h2load (one thread) for the h2load phase',
  };
  const save = (n: string, data: object): string => {
    mkdirSync(a.resultsDir, { recursive: true });
    const f = join(a.resultsDir, `${n}${a.quick ? '-quick' : ''}.json`);
    writeFileSync(f, `${JSON.stringify({ bench: n, quick: a.quick, machine: machine(), ...data }, null, 2)}\n`);
    return f;
  };
  const file = save(name, { scenario, redis: redisVersion ?? null, redisMissing: redisMissing ?? null, phases, quality: q ?? null, h2load: h2 });
  // The Redis comparison: only from runs that had the redis phase; a run of some phases names it like its results.
  const cmp =
    a.grpcTargets.length || !a.phases.has('redis')
      ? null
      : save(name.replace(/^load/, 'compare'), {
          scenario,
          redis: redisVersion ?? null,
          redisMissing: redisMissing ?? null,
          faros: phases.filter((p) => p.system === 'faros' && p.proto === 'grpc'),
          redisPhases: phases.filter((p) => p.system === 'redis'),
          quality: q ?? null,
        });
  const rows = phases
    .filter((p) => p.name !== 'preload')
    .map((p) => [
      p.system,
      p.proto,
      p.name,
      p.target ? fmt(p.target) : '',
      fmt(p.throughput),
      fmt(p.latencyMs.p50, 2),
      fmt(p.latencyMs.p90, 2),
      fmt(p.latencyMs.p99, 2),
      fmt(p.latencyMs.p999, 2),
      fmt(p.latencyMs.max, 1),
      Object.entries(p.errors)
        .map(([k, v]) => `${k}:${v}`)
        .join(' ') || '0',
      p.server ? `${p.server.cpuCores}` : '',
      p.server ? `${p.server.lagP99Ms}` : '',
      p.server ? fmt(p.server.drivers) : '',
      Number.isFinite(p.clientCpuCores) ? `${p.clientCpuCores}` : '',
    ]);
  const headers = [
    'system',
    'proto',
    'phase',
    'target/s',
    'achieved/s',
    'P50 ms',
    'P90 ms',
    'P99 ms',
    'P99.9 ms',
    'max ms',
    'errors',
    'srv CPU',
    'srv lag P99 ms',
    'drivers',
    'gen CPU',
  ];
  printTable(headers, rows);
  const md: string[] = [];
  const m = machine();
  md.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memGB} GB, ${m.os}, Node ${m.node}, ${m.date}, load average ${m.loadavg1}. Redis: ${redisVersion ?? redisMissing ?? 'n/a'}.`,
    '',
  );
  const cells = [headers, ...rows.map((r) => r.map(String))];
  md.push(`| ${headers.join(' | ')} |`, `|${headers.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`, ...cells.slice(1).map((r) => `| ${r.join(' | ')} |`));
  const hp = phases.find((p) => p.name.includes('h2load'));
  if (hp) {
    md.push(
      '',
      `h2load phase: ${hp.note}. ${h2.runs?.length} runs, ${h2.bodies?.map((b) => `body ${b.j} verified grpc-status ${b.grpcStatus} with ${b.drivers} drivers`).join(', ')}; server-side Nearby codes during the runs ${JSON.stringify(h2.serverCodes)}; ${h2.dataBytesPerResponse} bytes of DATA per response vs ${h2.expectedResponseBytes} verified. Command: \`${h2.command}\`.`,
    );
  } else md.push('', `h2load phase skipped: ${h2.skipped}`);
  if (q) {
    md.push(
      '',
      `Quality (${q.queries} pick-ups, K=${q.k}, ${q.radiusM} m, same driver state in both): Redis's ${q.k} straight-line picks contain on average ${(q.meanOverlap * 100).toFixed(1)}% of the true ${q.k} nearest by road; all ${q.k} right in ${q.allCorrectPct}% of queries; first pick not the nearest by road in ${q.firstWrongPct}%; extra road distance of Redis's first pick P50 ${q.firstExcessM.p50} m, P90 ${q.firstExcessM.p90} m, P99 ${q.firstExcessM.p99} m, max ${q.firstExcessM.max} m (P50 ${q.firstExcessPct.p50}%, P90 ${q.firstExcessPct.p90}% of the true nearest); ${q.picksBeyondRoadRadiusPct}% of Redis's picks are farther than ${q.radiusM} m by road.`,
    );
  }
  const suffix = a.quick ? '-quick' : '';
  writeFileSync(join(a.resultsDir, `${name}${suffix}.md`), `${md.join('\n')}\n`);
  // latency vs load
  // One line per generator: the h2load sweep is not mixed with the grpc-js one.
  const byH2 = (p: PhaseResult): boolean => p.name.includes('h2load');
  const lines: { label: string; pick: (p: PhaseResult) => boolean }[] = [
    { label: 'faros', pick: (p) => p.system === 'faros' && !byH2(p) },
    ...(phases.some((p) => p.system === 'faros' && byH2(p) && p.mode === 'open')
      ? [{ label: 'faros via h2load', pick: (p: PhaseResult) => p.system === 'faros' && byH2(p) }]
      : []),
    ...(phases.some((p) => p.system === 'redis') ? [{ label: 'redis', pick: (p: PhaseResult) => p.system === 'redis' }] : []),
  ];
  const series = (line: (typeof lines)[number], kind: string, pick: 'p50' | 'p99') => ({
    name: `${line.label} ${pick.toUpperCase()}`,
    dashed: pick === 'p50',
    points: phases
      .filter((p) => line.pick(p) && p.kind === kind && p.mode === 'open' && p.proto !== 'http' && !p.name.startsWith('mix:'))
      .map((p): [number, number] => [p.throughput, p.latencyMs[pick]]),
  });
  const svgN = lineChart({
    title: `Nearby latency vs load (open loop, K=${K}, ${N} drivers)`,
    xLabel: 'nearby answered per second',
    yLabel: 'latency from intended send, ms (log)',
    logY: true,
    hline: { y: 10, label: 'P99 target 10 ms' },
    series: lines.flatMap((l) => [series(l, 'nearby', 'p50'), series(l, 'nearby', 'p99')]),
  });
  const svgU = lineChart({
    title: `Update latency vs load (open loop, streamed batches, ${N} drivers)`,
    xLabel: 'updates applied per second',
    yLabel: 'batch latency from intended send, ms (log)',
    logY: true,
    hline: { y: 5, label: 'P99 target 5 ms' },
    series: lines.filter((l) => l.label !== 'faros via h2load').flatMap((l) => [series(l, 'updates', 'p50'), series(l, 'updates', 'p99')]),
  });
  writeFileSync(join(a.resultsDir, `${name}-nearby${suffix}.svg`), svgN);
  writeFileSync(join(a.resultsDir, `${name}-updates${suffix}.svg`), svgU);
  console.log(JSON.stringify({ results: file, compare: cmp }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
