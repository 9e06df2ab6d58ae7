// `faros knn`: apply drivers.csv as updates in order, answer queries.csv,
// write one JSON line per query (ordered as SEMANTICS.md says).
import { createWriteStream } from 'node:fs';
import { loadMap, type Log } from '../mapbuild/build.js';
import { Model } from '../model/model.js';
import { LIMITS } from '../model/limits.js';
import type { Metric } from '../model/types.js';
import { readCsv, column, num, InputError } from './csv.js';

export interface KnnCliOptions {
  map: string;
  profile: string;
  drivers: string;
  queries: string;
  out: string;
  metric: Metric;
  snapRadiusM?: number;
  cacheDir?: string;
  log: Log;
}

export async function runKnnCli(o: KnnCliOptions): Promise<{ queries: number; unsnappedDrivers: number; unsnappedQueries: number }> {
  // Read and validate every input before the (slow) map load.
  const dt = readCsv(o.drivers);
  const di = column(dt, 'id'),
    dlat = column(dt, 'lat'),
    dlng = column(dt, 'lng');
  const metaCols = dt.header.map((h, i) => [h, i] as const).filter(([, i]) => i !== di && i !== dlat && i !== dlng);
  const drivers = dt.rows.map((r) => {
    const id = r.cells[di];
    if (id === '') throw new InputError(`${dt.file}:${r.line}: empty driver id`);
    return {
      id,
      line: r.line,
      lat: num(dt, r, dlat, 'lat', -90, 90),
      lng: num(dt, r, dlng, 'lng', -180, 180),
      metadata: Object.fromEntries(metaCols.map(([h, i]) => [h, r.cells[i]])),
    };
  });
  const qt = readCsv(o.queries);
  const qi = column(qt, 'qid'),
    qlat = column(qt, 'lat'),
    qlng = column(qt, 'lng'),
    qk = column(qt, 'k'),
    qr = column(qt, 'radius_m');
  const qeta = qt.header.indexOf('max_eta_s');
  if (o.metric === 'eta' && qeta < 0) o.log(`${qt.file}: no max_eta_s column, using the default ${LIMITS.maxEtaS.default} s`);
  const filterCols = qt.header.map((h, i) => [h, i] as const).filter(([h]) => h.endsWith('_filter') && h.length > 7);
  const queries = qt.rows.map((r) => ({
    qid: r.cells[qi],
    lat: num(qt, r, qlat, 'lat', -90, 90),
    lng: num(qt, r, qlng, 'lng', -180, 180),
    k: num(qt, r, qk, 'k', LIMITS.k.min, LIMITS.k.max, { integer: true }),
    radius: num(qt, r, qr, 'radius_m', 0, LIMITS.maxDistanceM.max, { exclusiveMin: true }),
    maxEta: qeta >= 0 && r.cells[qeta].trim() !== '' ? num(qt, r, qeta, 'max_eta_s', 0, LIMITS.maxEtaS.max, { exclusiveMin: true }) : LIMITS.maxEtaS.default,
    filter: Object.fromEntries(filterCols.filter(([, i]) => r.cells[i] !== '').map(([h, i]) => [h.slice(0, -'_filter'.length), r.cells[i]])),
  }));

  const graph = await loadMap(o.map, o.profile, { cacheDir: o.cacheDir, log: o.log });
  // One clock for the whole run: every driver is live (no TTL in a batch job).
  const now = Date.now();
  const model = new Model(graph, { snapRadiusM: o.snapRadiusM ?? LIMITS.defaultSnapRadiusM, ttlMs: Number.POSITIVE_INFINITY });
  const progress = progressReporter(o.log);
  let unsnapped = 0;
  // Rows in order, a thousand per commit (equal timestamps: a later row for
  // the same driver replaces an earlier one, also within a batch).
  for (let i = 0; i < drivers.length; i += 1000) {
    const part = drivers.slice(i, i + 1000);
    const res = model.updateBatch(part.map((d) => ({ driverId: d.id, lat: d.lat, lng: d.lng, timestampMs: now, metadata: d.metadata })));
    res.forEach((r, j) => {
      if (r.ok) return;
      unsnapped++;
      process.stderr.write(`driver ${part[j].id} (${o.drivers}:${part[j].line}) not snapped: ${r.message}\n`);
    });
    progress('drivers', Math.min(i + 1000, drivers.length), drivers.length);
  }
  if (unsnapped > 0) process.stderr.write(`${unsnapped} of ${drivers.length} drivers did not snap and were skipped\n`);

  const out = createWriteStream(o.out);
  let unsnappedQueries = 0;
  for (let i = 0; i < queries.length; i++) {
    const q = queries[i];
    const r = model.nearby({ lat: q.lat, lng: q.lng, k: q.k, metric: o.metric, maxDistanceM: q.radius, maxEtaS: q.maxEta, filter: q.filter, nowMs: now });
    if (!r.ok) unsnappedQueries++;
    const line = r.ok
      ? { qid: q.qid, results: r.drivers.map((d) => ({ id: d.driver.driverId, distance_m: d.distanceM, eta_s: d.etaS })) }
      : { qid: q.qid, error: r.message, results: [] };
    if (!out.write(`${JSON.stringify(line)}\n`)) await new Promise<void>((res) => out.once('drain', () => res()));
    progress('queries', i + 1, queries.length);
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  return { queries: queries.length, unsnappedDrivers: unsnapped, unsnappedQueries };
}

function progressReporter(log: Log): (what: string, done: number, total: number) => void {
  let last = Date.now();
  return (what, done, total) => {
    const now = Date.now();
    if (now - last >= 1000 || (done === total && total >= 10_000)) {
      last = now;
      log(`${what}: ${done}/${total} (${((100 * done) / total).toFixed(0)}%)`);
    }
  };
}
