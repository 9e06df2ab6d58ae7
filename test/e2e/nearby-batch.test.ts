// NearbyBatch and StreamNearby over real gRPC and HTTP against one real
// server holding every bundled map: every result equals what Nearby answers
// for that query alone (no update runs meanwhile, so both see the same
// drivers), on every map, both metrics, with filters, with invalid, unknown-map
// and unsnappable queries mixed in; errors stay in their own query's place,
// and the limits refuse with RESOURCE_EXHAUSTED.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { boot, call, callError, farosClient, httpJson, POINTS, ROOT, stream, type Booted, type FarosClient, nearRoad } from './helpers.js';
import { mulberry32 } from '../../src/rng.js';
import { loadMap } from '../../src/mapbuild/build.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';

/** Every map of the bundled catalog, with its file. */
const MAPS: [string, string][] = [
  ['andorra-car', 'andorra'],
  ['andorra-motorbike', 'andorra'],
  ['monaco-car', 'monaco'],
  ['liechtenstein-car', 'liechtenstein'],
  ['bayfront_singapore-car', 'bayfront_singapore'],
];
let srv: Booted;
let c: FarosClient;
const rand = mulberry32(20261202);
const graphs = new Map<string, RoadGraph>();
/** A point a few metres from a random road vertex of the map's file. */
const roadPoint = (mapId: string) => nearRoad(graphs.get(mapId)!, rand, 0.0004);

before(async () => {
  srv = await boot([...MAPS.flatMap(([id]) => ['--map', id]), '--max-nearby-batch', '200', '--max-stream-nearby-in-flight', '4'], 120_000);
  c = farosClient(srv.addr);
  const files = new Map<string, RoadGraph>();
  for (const [id, file] of MAPS) {
    if (!files.has(file)) files.set(file, await loadMap(`${ROOT}maps/${file}.osm.pbf`, 'car'));
    graphs.set(id, files.get(file)!);
  }
  // Drivers clustered around a few spots per map, so answers are rarely empty.
  const updates = [];
  for (let i = 0; i < 600; i++) {
    const mapId = MAPS[i % MAPS.length]![0];
    updates.push({ mapId, driverId: `d${i}`, location: roadPoint(mapId), timestampMs: 0, metadata: { kind: i % 3 === 0 ? 'van' : 'car' } });
  }
  const [r] = await stream(c, [{ updates }]);
  assert.ok(r.accepted > 500, `only ${r.accepted} of 600 drivers snapped`);
});

after(async () => {
  c?.close();
  await srv?.stop();
});

/** A query mix: valid ones on both maps (some filtered, by ETA), and each kind of per-query failure. */
function queries(n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const mapId = MAPS[i % MAPS.length]![0];
    out.push({
      mapId,
      location: roadPoint(mapId),
      k: 1 + (i % 12),
      metric: i % 4 === 1 ? 'METRIC_ETA' : 'METRIC_DISTANCE',
      maxDistanceM: 4000,
      maxEtaS: 600,
      filter: i % 5 === 0 ? { kind: 'van' } : {},
    });
  }
  out.splice(3, 0, { mapId: 'atlantis-car', location: POINTS.monaco }); // unknown map
  out.splice(7, 0, { mapId: 'monaco-car', location: { lat: 91, lng: 0 } }); // invalid
  out.splice(11, 0, { mapId: 'monaco-car', location: { lat: 43.7, lng: 7.6 } }); // at sea: does not snap
  out.splice(13, 0, { mapId: 'monaco-car', location: POINTS.monaco, k: 5000 }); // k over the limit
  return out;
}

/** What Nearby answers for one query alone, as a NearbyResult. */
async function alone(q: unknown): Promise<{ response?: any; code: string; message: string }> {
  try {
    return { response: await call(c, 'nearby', q), code: '', message: '' };
  } catch (e) {
    const se = e as grpc.ServiceError;
    return { code: grpc.status[se.code]!, message: se.details };
  }
}

/** The parts of a result that must agree (stats.edges etc. too: same snapshot, same search). */
const shape = (r: { response?: any; code: string; message: string }) => ({
  code: r.code,
  message: r.message,
  drivers: r.response?.drivers?.map((d: any) => [d.driver.driverId, d.distanceM, d.etaS]),
  snapped: r.response?.querySnapped,
});

test('NearbyBatch answers each query as Nearby alone, in order, with per-query errors in place', async () => {
  const qs = queries(150);
  const batch = await call(c, 'nearbyBatch', { queries: qs });
  assert.equal(batch.results.length, qs.length);
  let nonEmpty = 0;
  for (let i = 0; i < qs.length; i++) {
    const want = await alone(qs[i]);
    assert.deepEqual(shape(batch.results[i]), shape(want), `query ${i}`);
    if (want.response?.drivers.length > 0) nonEmpty++;
  }
  assert.ok(nonEmpty >= 75, `only ${nonEmpty} non-empty answers of ${qs.length}`);
  assert.equal(batch.results[3].code, 'NOT_FOUND');
  assert.equal(batch.results[7].code, 'INVALID_ARGUMENT');
  assert.equal(batch.results[11].code, 'OUT_OF_RANGE');
  assert.equal(batch.results[13].code, 'INVALID_ARGUMENT');
});

test('NearbyBatch: empty → empty; over --max-nearby-batch → RESOURCE_EXHAUSTED whole; deadline applies to the whole call', async () => {
  assert.deepEqual((await call(c, 'nearbyBatch', { queries: [] })).results, []);
  const over = await callError(c, 'nearbyBatch', { queries: queries(200) });
  assert.equal(over.code, 'RESOURCE_EXHAUSTED');
  assert.match(over.details, /--max-nearby-batch/);
  const late = await callError(c, 'nearbyBatch', { queries: queries(190) }, 1);
  assert.equal(late.code, 'DEADLINE_EXCEEDED');
});

test('POST /v1/nearby:batch gives the same results as gRPC; a malformed query fails alone', async () => {
  const qs = queries(30);
  const g = await call(c, 'nearbyBatch', { queries: qs });
  const h = await httpJson(srv.http, 'POST', '/v1/nearby:batch', { queries: [...qs, { mapId: 'monaco-car', location: { lat: 43.7 }, bogus: 1 }] });
  assert.equal(h.status, 200);
  assert.equal(h.json.results.length, qs.length + 1);
  for (let i = 0; i < qs.length; i++) assert.deepEqual(shape(h.json.results[i]), shape(g.results[i]), `query ${i}`);
  assert.equal(h.json.results[qs.length].code, 'INVALID_ARGUMENT');
  assert.match(h.json.results[qs.length].message, /bogus/);
  const over = await httpJson(srv.http, 'POST', '/v1/nearby:batch', { queries: queries(200) });
  assert.equal(over.status, 429);
  assert.equal(over.json.error.status, 'RESOURCE_EXHAUSTED');
});

/** Open a StreamNearby, send requests, collect every answer until the server ends the stream. */
async function nearbyStream(reqs: unknown[]): Promise<any[]> {
  const s = (c as any).streamNearby() as grpc.ClientDuplexStream<unknown, any>;
  const out: any[] = [];
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (r: any) => out.push(r));
    s.on('end', () => resolve());
    s.on('error', reject);
  });
  for (const r of reqs) s.write(r);
  s.end();
  await done;
  return out;
}

test('StreamNearby: one answer per tag, equal to Nearby alone; beyond the in-flight limit a request is answered RESOURCE_EXHAUSTED', async () => {
  const qs = queries(40);
  const answers = await nearbyStream(qs.map((query, i) => ({ tag: `t${i}`, query })));
  assert.equal(answers.length, qs.length);
  const byTag = new Map(answers.map((a) => [a.tag, a.result]));
  assert.equal(byTag.size, qs.length, 'every tag answered exactly once');
  let busy = 0,
    checked = 0;
  for (let i = 0; i < qs.length; i++) {
    const r = byTag.get(`t${i}`);
    assert.ok(r, `no answer for t${i}`);
    if (r.code === 'RESOURCE_EXHAUSTED') {
      assert.match(r.message, /--max-stream-nearby-in-flight/);
      busy++;
      continue;
    }
    assert.deepEqual(shape(r), shape(await alone(qs[i])), `t${i}`);
    checked++;
  }
  // 40 requests written at once against a limit of 4: some wait their turn, most are answered.
  assert.ok(checked >= 4, `only ${checked} answered`);
  assert.ok(busy + checked === qs.length);
});

test('StreamNearby: requests sent one at a time are all answered; an oversized tag ends the stream with INVALID_ARGUMENT', async () => {
  const s = (c as any).streamNearby() as grpc.ClientDuplexStream<unknown, any>;
  const qs = queries(12);
  for (let i = 0; i < qs.length; i++) {
    const answer = new Promise<any>((resolve) => s.once('data', resolve));
    s.write({ tag: `one-${i}`, query: qs[i] });
    const a = await answer;
    assert.equal(a.tag, `one-${i}`);
    assert.notEqual(a.result.code, 'RESOURCE_EXHAUSTED');
  }
  const ended = new Promise<grpc.ServiceError>((resolve) => s.on('error', resolve));
  s.write({ tag: 'x'.repeat(2000), query: qs[0] });
  const e = await ended;
  assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
  assert.match(e.details, /tag is 2000 bytes/);
});
