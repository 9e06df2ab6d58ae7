// Soak: a fixed share of peak load for N minutes — streamed updates and
// open-loop nearby together — sampling every 10 s the server's RSS, heap,
// CPU and event-loop lag (/metrics) and the generators' latency per window;
// plotted as SVG.
//   node dist/bench/system/load/soak.js [--minutes 10] [--updates-per-s 25000] [--nearby-per-s 1000]
//        [--drivers 25000] [--quick] [--grpc-targets h:p,... --http-targets http://h:p,...]
// Defaults are 50% of the peaks measured by run.ts on this machine; --quick = 1 minute, small fleet.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, RESULTS_DIR, machine, fmt } from '../../lib/common.js';
import { startFaros, scrape, runWorkers, summarise, type FarosProc, type Sample } from './lib.js';
import { lineChart } from './svg.js';
import type { WorkerSpec } from './worker.js';

const MAP_ID = 'andorra-car';
const MAP_FILE = join(ROOT, 'maps', 'andorra.osm.pbf');
const WINDOW_MS = 10_000;

interface SoakArgs {
  minutes: number;
  ups: number;
  nps: number;
  drivers: number;
  quick: boolean;
  grpc: string[];
  http: string[];
  seed: number;
}

function parse(argv: string[]): SoakArgs {
  const a: SoakArgs = { minutes: 10, ups: 25_000, nps: 1000, drivers: 25_000, quick: false, grpc: [], http: [], seed: Number(process.env.BENCH_SEED ?? 42) };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!,
      v = argv[i + 1] ?? '';
    const num = (): number => {
      const x = Number(v);
      if (!Number.isFinite(x) || x <= 0) throw new Error(`${k} needs a positive number`);
      i++;
      return x;
    };
    switch (k) {
      case '--minutes':
        a.minutes = num();
        break;
      case '--updates-per-s':
        a.ups = num();
        break;
      case '--nearby-per-s':
        a.nps = num();
        break;
      case '--drivers':
        a.drivers = num();
        break;
      case '--seed':
        a.seed = num();
        break;
      case '--quick':
        a.quick = true;
        a.minutes = 1;
        a.drivers = 5000;
        a.ups = 5000;
        a.nps = 200;
        break;
      case '--grpc-targets':
        a.grpc = v.split(',').filter(Boolean);
        i++;
        break;
      case '--http-targets':
        a.http = v.split(',').filter(Boolean);
        i++;
        break;
      default:
        throw new Error(`unknown flag ${k}; see the header of bench/system/load/soak.ts`);
    }
  }
  return a;
}

interface Window {
  t: number;
  updP50: number;
  updP99: number;
  nbP50: number;
  nbP99: number;
  ups: number;
  nps: number;
  errors: number;
  rssMB: number;
  heapMB: number;
  cpuCores: number;
  lagP99Ms: number;
  drivers: number;
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  let faros: FarosProc | undefined;
  let grpc = a.grpc,
    http = a.http;
  if (grpc.length === 0) {
    faros = await startFaros(['--map', `${MAP_ID}=maps/andorra.osm.pbf`, '--workers', '2']);
    grpc = [faros.grpc];
    http = [faros.http];
  }
  const windows: Window[] = [];
  const base = {
    mapFile: MAP_FILE,
    mapId: MAP_ID,
    seed: a.seed,
    drivers: a.drivers,
    qps: 0,
    rateHz: a.ups / a.drivers,
    warmupMs: 0,
    durationMs: WINDOW_MS,
    streams: 2,
    tickMs: 10,
    concurrency: 1,
    batch: 500,
    k: 10,
    radiusM: 3000,
    availableOnly: true,
    redisKey: '',
    deadlineMs: 5000,
  };
  const spec = (role: WorkerSpec['role'], part: number, parts: number, extra: Partial<WorkerSpec>): WorkerSpec => ({
    ...base,
    role,
    targets: grpc,
    part,
    parts,
    mode: 'open',
    ...extra,
  });
  try {
    // preload every driver once
    await runWorkers([spec('faros-updates', 0, 1, { mode: 'closed', concurrency: 4, batch: 1000, durationMs: 600_000, limit: a.drivers, rateHz: 1 })], 120_000);
    let prev: Sample[] = (await Promise.all(http.map(scrape))).filter((s): s is Sample => !!s);
    const end = Date.now() + a.minutes * 60_000;
    // WATCH OUT: one fork per 10 s window restarts the simulated fleet at its start positions each window;
    // the server sees the same drivers report continuously, which is what a soak needs.
    while (Date.now() < end) {
      const rs = await runWorkers([spec('faros-updates', 0, 1, {}), spec('faros-nearby', 0, 1, { qps: a.nps })], WINDOW_MS + 60_000);
      const now = (await Promise.all(http.map(scrape))).filter((s): s is Sample => !!s);
      const u = summarise(rs[0]!.latMs),
        n = summarise(rs[1]!.latMs);
      const dt = now.length && prev.length ? (now[0]!.t - prev[0]!.t) / 1000 : NaN;
      const w: Window = {
        t: windows.length * (WINDOW_MS / 1000),
        updP50: u.p50,
        updP99: u.p99,
        nbP50: n.p50,
        nbP99: n.p99,
        ups: Math.round(rs[0]!.items / (WINDOW_MS / 1000)),
        nps: Math.round(rs[1]!.items / (WINDOW_MS / 1000)),
        errors: [...Object.values(rs[0]!.errors), ...Object.values(rs[1]!.errors)].reduce((s, x) => s + x, 0),
        rssMB: +(now.reduce((s, x) => s + x.rssB, 0) / 2 ** 20).toFixed(1),
        heapMB: +(now.reduce((s, x) => s + x.heapB, 0) / 2 ** 20).toFixed(1),
        cpuCores: +(now.reduce((s, x, i) => s + (x.cpuS - (prev[i]?.cpuS ?? x.cpuS)), 0) / dt).toFixed(2),
        lagP99Ms: +(Math.max(...now.map((x) => x.lagP99S)) * 1000).toFixed(1),
        drivers: now.reduce((s, x) => s + x.drivers, 0),
      };
      prev = now;
      windows.push(w);
      console.error(
        `[soak ${w.t}s] updates ${fmt(w.ups)}/s P99 ${w.updP99} ms, nearby ${fmt(w.nps)}/s P99 ${w.nbP99} ms, errors ${w.errors}, RSS ${w.rssMB} MB, heap ${w.heapMB} MB, CPU ${w.cpuCores}, lag P99 ${w.lagP99Ms} ms`,
      );
    }
  } finally {
    await faros?.stop();
  }
  const suffix = a.quick ? '-quick' : '';
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `soak${suffix}.json`),
    `${JSON.stringify({ bench: 'soak', quick: a.quick, machine: machine(), args: a, windows }, null, 2)}\n`,
  );
  const pts = (k: keyof Window): [number, number][] => windows.map((w) => [w.t, w[k]]);
  writeFileSync(
    join(RESULTS_DIR, `soak-memory${suffix}.svg`),
    lineChart({
      title: `Soak: server memory (${fmt(a.ups)} updates/s + ${fmt(a.nps)} nearby/s)`,
      xLabel: 'seconds',
      yLabel: 'MB',
      series: [
        { name: 'RSS', points: pts('rssMB') },
        { name: 'JS heap used', points: pts('heapMB') },
      ],
    }),
  );
  writeFileSync(
    join(RESULTS_DIR, `soak-latency${suffix}.svg`),
    lineChart({
      title: 'Soak: latency per 10 s window',
      xLabel: 'seconds',
      yLabel: 'ms (log)',
      logY: true,
      series: [
        { name: 'update P50', points: pts('updP50'), dashed: true },
        { name: 'update P99', points: pts('updP99') },
        { name: 'nearby P50', points: pts('nbP50'), dashed: true },
        { name: 'nearby P99', points: pts('nbP99') },
      ],
    }),
  );
  console.log(JSON.stringify({ windows: windows.length, last: windows.at(-1) }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
