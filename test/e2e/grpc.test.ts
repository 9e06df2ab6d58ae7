// One real server process (bayfront_singapore-car, monaco-car) driven by a
// real grpc-js client: every RPC, streaming with mixed items, every gRPC error
// row of src/api/ERRORS.md, deadlines, health, reflection, metrics moving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  boot,
  call,
  callError,
  farosClient,
  healthClient,
  reflectionClient,
  stream,
  httpJson,
  parseMetrics,
  POINTS,
  type Booted,
  type FarosClient,
} from './helpers.js';

let srv: Booted;
let c: FarosClient;
const M = 'monaco-car',
  B = 'bayfront_singapore-car';

before(async () => {
  srv = await boot(['--map', B, '--map', M, '--max-message-bytes', '262144', '--max-batch-size', '2000']);
  c = farosClient(srv.addr);
});
after(async () => {
  c?.close();
  if (srv) assert.equal(await srv.stop(), 0);
});

const upd = (driverId: string, p = POINTS.monaco, extra: Record<string, unknown> = {}) => ({ mapId: M, driverId, location: p, ...extra });

test('UpdateDriver, GetDriver, Nearby, RemoveDriver, ListMaps', async () => {
  const ts = Date.now() - 1000;
  const r = await call(c, 'updateDriver', upd('d1', POINTS.monaco, { timestampMs: String(ts), metadata: { status: 'free' } }));
  assert.equal(r.stale, false);
  assert.ok(r.snapped.snapDistanceM < 50);
  assert.match(r.snapped.wayId, /^\d+$/);
  const g = await call(c, 'getDriver', { mapId: M, driverId: 'd1' });
  assert.equal(g.driver.driverId, 'd1');
  assert.equal(g.driver.timestampMs, String(ts));
  assert.deepEqual(g.driver.metadata, { status: 'free' });
  assert.deepEqual(g.driver.location, POINTS.monaco);
  // An older timestamp is stale and leaves the driver alone.
  const s = await call(c, 'updateDriver', upd('d1', { lat: 43.739, lng: 7.425 }, { timestampMs: String(ts - 5000) }));
  assert.equal(s.stale, true);
  assert.deepEqual((await call(c, 'getDriver', { mapId: M, driverId: 'd1' })).driver.location, POINTS.monaco);
  const n = await call(c, 'nearby', { mapId: M, location: POINTS.monaco, k: 5, filter: { status: 'free' } });
  assert.deepEqual(
    n.drivers.map((d: any) => d.driver.driverId),
    ['d1'],
  );
  assert.equal(n.drivers[0].distanceM, 0);
  assert.ok(n.stats.edgesExpanded >= 0);
  assert.match(n.stats.servedBy, /:\d+$/);
  const eta = await call(c, 'nearby', { mapId: M, location: POINTS.monaco, metric: 'METRIC_ETA', maxEtaS: 60 });
  assert.equal(eta.drivers.length, 1);
  const maps = await call(c, 'listMaps', {});
  assert.deepEqual(
    maps.maps.map((m: any) => m.mapId),
    [B, M],
  );
  const mm = maps.maps.find((m: any) => m.mapId === M);
  assert.equal(mm.profile, 'car');
  assert.ok(Number(mm.drivers) >= 1);
  assert.ok(mm.bounds.min.lat < mm.bounds.max.lat);
  assert.equal((await call(c, 'removeDriver', { mapId: M, driverId: 'd1' })).removed, true);
  assert.equal((await call(c, 'removeDriver', { mapId: M, driverId: 'd1' })).removed, false);
  assert.equal((await callError(c, 'getDriver', { mapId: M, driverId: 'd1' })).code, 'NOT_FOUND');
});

test('stream: one response per batch, in order; bad items rejected with exact indices and codes', async () => {
  const future = String(Date.now() + 10 * 60_000);
  const bad = [
    upd('s0'), // 0 ok
    { mapId: M, driverId: '', location: POINTS.monaco }, // 1 empty driver id
    upd('s2', { lat: 43.7, lng: 7.6 }), // 2 at sea: OUT_OF_RANGE
    { mapId: 'nope-car', driverId: 's3', location: POINTS.monaco }, // 3 unknown map
    upd('s4', { lat: 91, lng: 7.42 }), // 4 bad latitude
    upd('s5', POINTS.monaco, { timestampMs: future }), // 5 future timestamp
    { mapId: M, driverId: 's6' }, // 6 no location
    { ...upd('s7', POINTS.bayfront), mapId: B }, // 7 ok, other map
  ];
  const res = await stream(c, [{ updates: bad }, { updates: [upd('s8')] }, { updates: [] }]);
  assert.equal(res.length, 3);
  assert.equal(res[0].accepted, 2);
  assert.deepEqual(
    res[0].rejected.map((r: any) => [r.index, r.driverId, r.code]),
    [
      [1, '', 'INVALID_ARGUMENT'],
      [2, 's2', 'OUT_OF_RANGE'],
      [3, 's3', 'NOT_FOUND'],
      [4, 's4', 'INVALID_ARGUMENT'],
      [5, 's5', 'INVALID_ARGUMENT'],
      [6, 's6', 'INVALID_ARGUMENT'],
    ],
  );
  assert.match(res[0].rejected[1].message, /m from the nearest road/);
  assert.match(res[0].rejected[3].message, /latitude/);
  assert.deepEqual([res[1].accepted, res[1].rejected.length, res[2].accepted], [1, 0, 0]);
  assert.equal((await call(c, 'getDriver', { mapId: B, driverId: 's7' })).driver.driverId, 's7');
  await assert.rejects(call(c, 'getDriver', { mapId: M, driverId: 's2' }));
});

test('stream: a batch over --max-batch-size ends the stream with RESOURCE_EXHAUSTED', async () => {
  const updates = Array.from({ length: 2001 }, (_, i) => upd(`big${i}`));
  await assert.rejects(stream(c, [{ updates }]), (e: any) => e.code === 8 && /max-batch-size/.test(e.details));
});

test('a refused update alters no stored driver', async () => {
  const ts = Date.now() - 2000;
  await call(c, 'updateDriver', upd('keep', POINTS.monaco, { timestampMs: String(ts), metadata: { a: '1' } }));
  const before = (await call(c, 'getDriver', { mapId: M, driverId: 'keep' })).driver;
  const refusals = [
    upd('keep', { lat: 43.7, lng: 7.6 }),
    upd('keep', { lat: Number.NaN, lng: 7.42 }),
    upd('keep', POINTS.monaco, { timestampMs: '-5' }),
    upd('keep', POINTS.monaco, { metadata: { '': 'x' } }),
    upd('keep', POINTS.monaco, { metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }),
  ];
  for (const r of refusals) await callError(c, 'updateDriver', r);
  const res = await stream(c, [{ updates: refusals }]);
  assert.equal(res[0].accepted, 0);
  assert.deepEqual((await call(c, 'getDriver', { mapId: M, driverId: 'keep' })).driver, before);
});

const long = 'x'.repeat(129);
const ERROR_ROWS: [string, string, unknown, string, RegExp][] = [
  ['unknown map', 'nearby', { mapId: 'atlantis-car', location: POINTS.monaco }, 'NOT_FOUND', /unknown map "atlantis-car"/],
  ['empty map_id', 'nearby', { location: POINTS.monaco }, 'INVALID_ARGUMENT', /map_id is empty/],
  ['map_id over 128 bytes', 'getDriver', { mapId: long, driverId: 'a' }, 'INVALID_ARGUMENT', /map_id is 129 bytes/],
  ['empty driver_id', 'updateDriver', { mapId: M, location: POINTS.monaco }, 'INVALID_ARGUMENT', /driver_id is empty/],
  ['driver_id over 128 bytes (UTF-8)', 'updateDriver', upd('é'.repeat(65)), 'INVALID_ARGUMENT', /driver_id is 130 bytes/],
  ['missing location', 'updateDriver', { mapId: M, driverId: 'a' }, 'INVALID_ARGUMENT', /location is missing/],
  ['NaN latitude', 'updateDriver', upd('a', { lat: Number.NaN, lng: 7 }), 'INVALID_ARGUMENT', /location.lat = NaN/],
  ['longitude out of range', 'nearby', { mapId: M, location: { lat: 43, lng: 181 } }, 'INVALID_ARGUMENT', /\[-180, 180\]/],
  [
    'metadata over 32 pairs',
    'updateDriver',
    upd('a', POINTS.monaco, { metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }),
    'INVALID_ARGUMENT',
    /33 pairs/,
  ],
  ['metadata over 1 KiB', 'updateDriver', upd('a', POINTS.monaco, { metadata: { big: 'v'.repeat(1100) } }), 'INVALID_ARGUMENT', /limit is 1024/],
  ['empty metadata key', 'updateDriver', upd('a', POINTS.monaco, { metadata: { '': 'v' } }), 'INVALID_ARGUMENT', /empty key/],
  ['negative timestamp', 'updateDriver', upd('a', POINTS.monaco, { timestampMs: '-1' }), 'INVALID_ARGUMENT', /negative/],
  ['timestamp > 5 min ahead', 'updateDriver', upd('a', POINTS.monaco, { timestampMs: String(Date.now() + 400_000) }), 'INVALID_ARGUMENT', /in the future/],
  [
    'update older than the map TTL (it could never be returned)',
    'updateDriver',
    upd('a', POINTS.monaco, { timestampMs: String(Date.now() - 400_000) }),
    'INVALID_ARGUMENT',
    /older than the TTL of map "monaco-car" \(300 s\)/,
  ],
  ['driver ID that was not UTF-8 (a lone surrogate arrives as U+FFFD)', 'updateDriver', upd('\ud800'), 'INVALID_ARGUMENT', /U\+FFFD/],
  ['k above 1000', 'nearby', { mapId: M, location: POINTS.monaco, k: 1001 }, 'INVALID_ARGUMENT', /k = 1001/],
  ['max_distance_m above 100000', 'nearby', { mapId: M, location: POINTS.monaco, maxDistanceM: 100_001 }, 'INVALID_ARGUMENT', /max_distance_m/],
  ['negative max_distance_m', 'nearby', { mapId: M, location: POINTS.monaco, maxDistanceM: -1 }, 'INVALID_ARGUMENT', /max_distance_m = -1/],
  ['NaN max_eta_s', 'nearby', { mapId: M, location: POINTS.monaco, maxEtaS: Number.NaN }, 'INVALID_ARGUMENT', /max_eta_s = NaN/],
  ['max_eta_s above 7200', 'nearby', { mapId: M, location: POINTS.monaco, maxEtaS: 7201 }, 'INVALID_ARGUMENT', /max_eta_s/],
  ['filter with an empty key', 'nearby', { mapId: M, location: POINTS.monaco, filter: { '': 'x' } }, 'INVALID_ARGUMENT', /filter has an empty key/],
  ['update point off the road', 'updateDriver', upd('a', { lat: 43.7, lng: 7.6 }), 'OUT_OF_RANGE', /m from the nearest road, beyond the snap radius/],
  ['nearby point off the road', 'nearby', { mapId: M, location: { lat: 43.7, lng: 7.6 } }, 'OUT_OF_RANGE', /m from the nearest road/],
  ['unknown driver', 'getDriver', { mapId: M, driverId: 'ghost' }, 'NOT_FOUND', /driver "ghost" is not on map/],
  [
    'message over --max-message-bytes',
    'updateDriver',
    upd('a', POINTS.monaco, { metadata: { big: 'v'.repeat(300_000) } }),
    'RESOURCE_EXHAUSTED',
    /larger than max/i,
  ],
];

for (const [name, method, req, code, msg] of ERROR_ROWS) {
  test(`error row: ${name} → ${code}`, async () => {
    const e = await callError(c, method, req);
    assert.equal(e.code, code, e.details);
    assert.match(e.details, msg);
  });
}

test('deadlines: a tiny deadline → DEADLINE_EXCEEDED; the server stays healthy', async () => {
  for (let i = 0; i < 5; i++) {
    const e = await callError(c, 'nearby', { mapId: M, location: POINTS.monaco, k: 1000, maxDistanceM: 100_000 }, 0.001);
    assert.equal(e.code, 'DEADLINE_EXCEEDED');
  }
  assert.ok((await call(c, 'listMaps', {}, 5000)).maps.length === 2);
});

test('health: SERVING after ready, per-map names, unknown service NOT_FOUND', async () => {
  const h = healthClient(srv.addr);
  for (const service of ['', 'faros.v1.Faros', M, B]) assert.equal((await call(h, 'check', { service })).status, 'SERVING', service);
  assert.equal((await callError(h, 'check', { service: 'nope-car' })).code, 'NOT_FOUND');
  h.close();
});

test('reflection lists the services (grpcurl works without the proto)', async () => {
  const r = reflectionClient(srv.addr);
  const s = r.serverReflectionInfo();
  const got = new Promise<any>((resolve, reject) => {
    s.on('data', resolve);
    s.on('error', reject);
  });
  s.write({ listServices: '' });
  const res = await got;
  s.end();
  const names = res.listServicesResponse.service.map((x: any) => x.name);
  assert.ok(names.includes('faros.v1.Faros'), names.join());
  assert.ok(names.includes('grpc.health.v1.Health'), names.join());
  const s2 = r.serverReflectionInfo();
  const got2 = new Promise<any>((resolve, reject) => {
    s2.on('data', resolve);
    s2.on('error', reject);
  });
  s2.write({ fileContainingSymbol: 'faros.v1.Faros' });
  const fd = await got2;
  s2.end();
  assert.ok(fd.fileDescriptorResponse.fileDescriptorProto.length >= 1);
  r.close();
});

test('metrics: counters move with the calls this test makes', async () => {
  const scrape = async () => parseMetrics((await httpJson(srv.http, 'GET', '/metrics')).json as string);
  const before = await scrape();
  const now = Date.now();
  await call(c, 'updateDriver', upd('metrics-a', POINTS.monaco, { timestampMs: String(now) }));
  await call(c, 'updateDriver', upd('metrics-a', POINTS.monaco, { timestampMs: String(now - 1000) })); // stale
  await call(c, 'updateDriver', { mapId: B, driverId: 'metrics-b', location: POINTS.bayfront });
  await callError(c, 'updateDriver', upd('metrics-off', { lat: 43.7, lng: 7.6 })); // off the road
  await callError(c, 'updateDriver', upd('metrics-bad', { lat: 95, lng: 7 })); // invalid
  await call(c, 'nearby', { mapId: M, location: POINTS.monaco, k: 3 });
  await callError(c, 'nearby', { mapId: M, location: POINTS.monaco, k: 5000 });
  const text = (await httpJson(srv.http, 'GET', '/metrics')).json as string;
  const m = parseMetrics(text);
  const moved = (series: string, by: number): void => assert.ok((m.get(series) ?? 0) - (before.get(series) ?? 0) >= by, `${series} moved by less than ${by}`);
  for (const name of [
    'faros_grpc_requests_total',
    'faros_grpc_request_duration_seconds',
    'faros_updates_total',
    'faros_nearby_total',
    'faros_drivers',
    'faros_snap_distance_meters',
    'faros_nearby_edges_expanded',
    'faros_nearby_phase_seconds',
    'faros_worker_queue_depth',
    'faros_map_load_seconds',
    'faros_arena_bytes',
    'faros_interned',
    'faros_in_flight_requests',
    'faros_event_loop_delay_p99_seconds',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
  moved('faros_grpc_requests_total{method="UpdateDriver",code="OK"}', 3);
  moved('faros_grpc_requests_total{method="Nearby",code="INVALID_ARGUMENT"}', 1);
  moved(`faros_updates_total{map_id="${M}",result="applied"}`, 1);
  moved(`faros_updates_total{map_id="${M}",result="stale"}`, 1);
  moved(`faros_updates_total{map_id="${M}",result="refused_out_of_range"}`, 1);
  moved(`faros_updates_total{map_id="${M}",result="invalid"}`, 1);
  moved(`faros_nearby_total{map_id="${M}",result="ok"}`, 1);
  assert.ok(m.get(`faros_interned{map_id="${M}",kind="driver_ids"}`)! >= 1, 'interned driver IDs are exported');
  for (const phase of ['queued', 'search', 'reply']) assert.ok(m.get(`faros_nearby_phase_seconds_count{phase="${phase}"}`)! >= 1, phase);
  assert.ok(m.get(`faros_drivers{map_id="${B}"}`)! >= 1);
  assert.ok(m.get(`faros_map_load_seconds{map_id="${M}"}`)! > 0);
  // Exposition format: valid names, HELP and TYPE for every family, counters end in _total.
  const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)];
  for (const [, name, type] of types) {
    assert.match(name!, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    assert.match(text, new RegExp(`^# HELP ${name} `, 'm'));
    if (type === 'counter') assert.match(name!, /_total$/, name);
  }
});
