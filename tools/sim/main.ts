// Write a fleet scenario to files so other systems replay exactly the same work.
//   node dist/tools/sim/main.js --out DIR [--map maps/andorra.osm.pbf] [--drivers 50000]
//        [--seconds 60] [--queries-per-s 2000] [--seed 42] [--rate-hz 1] [--noise-m 15]
// Files (CSV, header first; drivers.csv and queries.csv are also `faros knn` input):
//   drivers.csv  id,lat,lng,status                 first report of every driver (t = its phase)
//   updates.csv  t_ms,id,kind,lat,lng,status       every later report in time order; kind update|offline
//   queries.csv  qid,lat,lng,k,radius_m,status_filter
//   queries-times.csv qid,t_ms                     intended send time of each query
//   scenario.json the options, so the run can be regenerated from the seed
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMap } from '../../src/mapbuild/build.js';
import { Fleet, Schedule, query, slice, type FleetOptions } from './fleet.js';

interface SimArgs {
  out: string;
  map: string;
  drivers: number;
  seconds: number;
  qps: number;
  seed: number;
  rateHz: number;
  noiseM: number;
}

function parse(argv: string[]): SimArgs {
  const a: SimArgs = {
    out: '',
    map: 'maps/andorra.osm.pbf',
    drivers: 50_000,
    seconds: 60,
    qps: 2000,
    seed: Number(process.env.BENCH_SEED ?? 42),
    rateHz: 1,
    noiseM: 15,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!,
      v = argv[i + 1];
    const num = (): number => {
      const x = Number(v);
      if (!Number.isFinite(x)) throw new Error(`${k} needs a number, e.g. ${k} 10`);
      i++;
      return x;
    };
    switch (k) {
      case '--out':
        a.out = v ?? '';
        i++;
        break;
      case '--map':
        a.map = v ?? '';
        i++;
        break;
      case '--drivers':
        a.drivers = num();
        break;
      case '--seconds':
        a.seconds = num();
        break;
      case '--queries-per-s':
        a.qps = num();
        break;
      case '--seed':
        a.seed = num();
        break;
      case '--rate-hz':
        a.rateHz = num();
        break;
      case '--noise-m':
        a.noiseM = num();
        break;
      default:
        throw new Error(`unknown flag ${k}; see the header of tools/sim/main.ts`);
    }
  }
  if (!a.out) throw new Error('--out DIR is required');
  return a;
}

/** Stream lines to a file, respecting back-pressure. */
function writer(file: string): { line(s: string): Promise<void>; close(): Promise<void> } {
  const ws = createWriteStream(file);
  return {
    line: (s) => (ws.write(`${s}\n`) ? Promise.resolve() : new Promise((r) => ws.once('drain', () => r()))),
    close: () => new Promise((r) => ws.end(() => r())),
  };
}

const f6 = (x: number): string => x.toFixed(7);

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  mkdirSync(a.out, { recursive: true });
  const g = await loadMap(a.map, 'car');
  const opts: FleetOptions = { seed: a.seed, drivers: a.drivers, rateHz: a.rateHz, noiseM: a.noiseM };
  const fleet = new Fleet(g, opts);
  const sched = new Schedule(fleet, slice(a.drivers, 0, 1));
  const drivers = writer(join(a.out, 'drivers.csv'));
  await drivers.line('id,lat,lng,status');
  for (let i = 0; i < a.drivers; i++) {
    const r = sched.take();
    await drivers.line(`${r.id},${f6(r.lat)},${f6(r.lng)},${r.status}`);
  }
  await drivers.close();
  const updates = writer(join(a.out, 'updates.csv'));
  await updates.line('t_ms,id,kind,lat,lng,status');
  let n = 0;
  while (sched.peekMs() < a.seconds * 1000) {
    const r = sched.take();
    if (r.kind === 'silent') continue;
    await updates.line(`${r.tMs.toFixed(1)},${r.id},${r.kind},${f6(r.lat)},${f6(r.lng)},${r.status}`);
    n++;
  }
  await updates.close();
  const qs = writer(join(a.out, 'queries.csv')),
    qt = writer(join(a.out, 'queries-times.csv'));
  await qs.line('qid,lat,lng,k,radius_m,status_filter');
  await qt.line('qid,t_ms');
  const nq = Math.round(a.seconds * a.qps);
  for (let j = 0; j < nq; j++) {
    const q = query(g, a.seed, j, 10, 3000, a.qps);
    await qs.line(`${q.qid},${f6(q.lat)},${f6(q.lng)},${q.k},${q.radiusM},available`);
    await qt.line(`${q.qid},${q.tMs.toFixed(1)}`);
  }
  await qs.close();
  await qt.close();
  writeFileSync(join(a.out, 'scenario.json'), `${JSON.stringify({ ...a, updates: n, queries: nq }, null, 2)}\n`);
  console.log(JSON.stringify({ out: a.out, drivers: a.drivers, updates: n, queries: nq }));
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
