// The HTTP/JSON gateway of a real server process: every route, proto3 JSON
// (camelCase and snake_case names, int64 as strings, enum names and numbers),
// error JSON with the HTTP status of each row, 404/405/413, probes, SIGTERM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { boot, httpJson, parseMetrics, POINTS, type Booted } from './helpers.js';

let srv: Booted;
const M = 'monaco-car',
  B = 'bayfront_singapore-car';
before(async () => {
  srv = await boot(['--map', M, '--map', B, '--max-message-bytes', '65536', '--max-batch-size', '100']);
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, 'SIGTERM exits 0');
});

const req = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => httpJson(srv.http, method, path, body, headers);

test('every route answers proto3 JSON', async () => {
  const u = await req('POST', '/v1/drivers:update', {
    map_id: M,
    driver_id: 'h1',
    location: POINTS.monaco,
    timestamp_ms: String(Date.now() - 10),
    metadata: { s: 'a' },
  });
  assert.equal(u.status, 200, JSON.stringify(u.json));
  assert.equal(typeof u.json.snapped.wayId, 'string');
  assert.equal(u.json.stale, false);
  const b = await req('POST', '/v1/drivers:batchUpdate', {
    updates: [
      { mapId: M, driverId: 'h2', location: POINTS.monaco, timestampMs: Date.now() - 5 },
      { mapId: M, driverId: 'h3', location: { lat: 43.7, lng: 7.6 } },
      { mapId: M, driverId: 'h4', location: POINTS.monaco, bogus: 1 },
      { mapId: B, driverId: 'h5', location: POINTS.bayfront },
    ],
  });
  assert.equal(b.status, 200);
  assert.equal(b.json.accepted, 2);
  assert.deepEqual(
    b.json.rejected.map((r: any) => [r.index, r.driverId, r.code]),
    [
      [1, 'h3', 'OUT_OF_RANGE'],
      [2, 'h4', 'INVALID_ARGUMENT'],
    ],
  );
  const g = await req('GET', `/v1/maps/${M}/drivers/h1`);
  assert.equal(g.status, 200);
  assert.equal(g.json.driver.driverId, 'h1');
  assert.match(g.json.driver.timestampMs, /^\d+$/);
  const n = await req('POST', '/v1/nearby', { mapId: M, location: POINTS.monaco, k: '5', metric: 2, max_eta_s: 120 });
  assert.equal(n.status, 200, JSON.stringify(n.json));
  assert.deepEqual(n.json.drivers.map((d: any) => d.driver.driverId).sort(), ['h1', 'h2']);
  const f = await req('POST', '/v1/nearby', { mapId: M, location: POINTS.monaco, metric: 'METRIC_DISTANCE', filter: { s: 'a' } });
  assert.deepEqual(
    f.json.drivers.map((d: any) => d.driver.driverId),
    ['h1'],
  );
  const maps = await req('GET', '/v1/maps');
  assert.deepEqual(
    maps.json.maps.map((m: any) => [m.mapId, typeof m.drivers]),
    [
      [M, 'string'],
      [B, 'string'],
    ],
  );
  const d = await req('DELETE', `/v1/maps/${M}/drivers/h1`);
  assert.deepEqual([d.status, d.json], [200, { removed: true }]);
  assert.equal((await req('GET', `/v1/maps/${M}/drivers/h1`)).status, 404);
  // Percent-encoded IDs round-trip.
  await req('POST', '/v1/drivers:update', { mapId: M, driverId: 'a/b c', location: POINTS.monaco });
  assert.equal((await req('GET', `/v1/maps/${M}/drivers/${encodeURIComponent('a/b c')}`)).json.driver.driverId, 'a/b c');
});

test('probes and metrics', async () => {
  assert.deepEqual(await req('GET', '/healthz').then((r) => [r.status, r.json.status]), [200, 'ok']);
  assert.deepEqual(await req('GET', '/readyz').then((r) => [r.status, r.json.status]), [200, 'ready']);
  const m = parseMetrics((await req('GET', '/metrics')).json as string);
  assert.ok(m.get('faros_http_requests_total{method="UpdateDriver",code="200"}')! >= 1);
  assert.ok(m.get('faros_http_requests_total{method="Nearby",code="200"}')! >= 1);
  assert.ok(m.get(`faros_drivers{map_id="${M}"}`)! >= 1);
});

const ROWS: [string, string, string, unknown, number, string, RegExp][] = [
  ['unknown map', 'POST', '/v1/nearby', { mapId: 'atlantis-car', location: POINTS.monaco }, 404, 'NOT_FOUND', /unknown map/],
  ['bad coordinates', 'POST', '/v1/drivers:update', { mapId: M, driverId: 'x', location: { lat: 'north', lng: 7 } }, 400, 'INVALID_ARGUMENT', /location.lat/],
  ['k out of range', 'POST', '/v1/nearby', { mapId: M, location: POINTS.monaco, k: -1 }, 400, 'INVALID_ARGUMENT', /k = -1/],
  ['unknown metric', 'POST', '/v1/nearby', { mapId: M, location: POINTS.monaco, metric: 'METRIC_FASTEST' }, 400, 'INVALID_ARGUMENT', /not a metric/],
  ['point off the road', 'POST', '/v1/nearby', { mapId: M, location: { lat: 43.7, lng: 7.6 } }, 400, 'OUT_OF_RANGE', /nearest road/],
  ['unknown driver', 'GET', `/v1/maps/${M}/drivers/ghost`, undefined, 404, 'NOT_FOUND', /not on map/],
  ['bad JSON', 'POST', '/v1/nearby', '{"mapId": ', 400, 'INVALID_ARGUMENT', /not valid JSON/],
  ['unknown JSON field', 'POST', '/v1/nearby', { mapId: M, location: POINTS.monaco, radius: 5 }, 400, 'INVALID_ARGUMENT', /unknown field "radius"/],
  [
    'batch over --max-batch-size',
    'POST',
    '/v1/drivers:batchUpdate',
    { updates: Array.from({ length: 101 }, (_, i) => ({ mapId: M, driverId: `b${i}`, location: POINTS.monaco })) },
    429,
    'RESOURCE_EXHAUSTED',
    /max-batch-size/,
  ],
  [
    'body over --max-message-bytes',
    'POST',
    '/v1/drivers:update',
    { mapId: M, driverId: 'x', location: POINTS.monaco, metadata: { a: 'v'.repeat(70_000) } },
    413,
    'RESOURCE_EXHAUSTED',
    /max-message-bytes/,
  ],
  [
    'JSON nested 30,000 deep',
    'POST',
    '/v1/nearby',
    `{"mapId":"${M}","location":{"lat":43.7384,"lng":7.4246},"k":${'['.repeat(30_000)}${']'.repeat(30_000)}}`,
    400,
    'INVALID_ARGUMENT',
    /nested 30001 levels deep/,
  ],
  [
    'driver ID with a lone surrogate',
    'POST',
    '/v1/drivers:update',
    '{"mapId":"monaco-car","driverId":"\\ud800","location":{"lat":43.7384,"lng":7.4246}}',
    400,
    'INVALID_ARGUMENT',
    /not valid Unicode/,
  ],
  [
    'update older than the map TTL',
    'POST',
    '/v1/drivers:update',
    { mapId: M, driverId: 'old', location: POINTS.monaco, timestampMs: String(Date.now() - 301_000) },
    400,
    'INVALID_ARGUMENT',
    /older than the TTL/,
  ],
  [
    'error quotes at most ~100 characters of input',
    'POST',
    '/v1/nearby',
    { mapId: M, location: POINTS.monaco, metric: 'X'.repeat(5000) },
    400,
    'INVALID_ARGUMENT',
    /^metric = "X{100}…" is not a metric/,
  ],
  [
    'a field named like an Object.prototype member',
    'POST',
    '/v1/nearby',
    '{"mapId":"monaco-car","location":{"lat":43.7384,"lng":7.4246},"constructor":1}',
    400,
    'INVALID_ARGUMENT',
    /unknown field "constructor"/,
  ],
  [
    'metadata key __proto__',
    'POST',
    '/v1/drivers:update',
    '{"mapId":"monaco-car","driverId":"p","location":{"lat":43.7384,"lng":7.4246},"metadata":{"__proto__":"x"}}',
    400,
    'INVALID_ARGUMENT',
    /"__proto__", which is reserved/,
  ],
  ['unknown route', 'GET', '/v2/everything', undefined, 404, 'NOT_FOUND', /no route/],
  ['wrong method', 'GET', '/v1/nearby', undefined, 405, 'UNIMPLEMENTED', /use POST/],
  ['bad X-Server-Timeout', 'GET', '/v1/maps', undefined, 400, 'INVALID_ARGUMENT', /X-Server-Timeout/],
  ['deadline passed', 'POST', '/v1/nearby', { mapId: M, location: POINTS.monaco }, 504, 'DEADLINE_EXCEEDED', /deadline/],
];

for (const [name, method, path, body, http, code, msg] of ROWS) {
  test(`error row: ${name} → ${http} ${code}`, async () => {
    const headers: Record<string, string> =
      name === 'bad X-Server-Timeout' ? { 'x-server-timeout': 'soon' } : name === 'deadline passed' ? { 'x-server-timeout': '0.000001' } : {};
    const r = await req(method, path, body, headers);
    assert.equal(r.status, http, JSON.stringify(r.json));
    assert.deepEqual(Object.keys(r.json), ['error']);
    assert.equal(r.json.error.code, http);
    assert.equal(r.json.error.status, code);
    assert.match(r.json.error.message, msg);
    if (http === 405) assert.equal(r.headers.get('allow'), 'POST');
    assert.ok(r.json.error.message.length < 600, 'the message quotes little of the input');
  });
}

test('two IDs that differ only in lone surrogates are both refused, so no two inputs become one stored ID', async () => {
  for (const id of ['\\ud800', '\\udbff']) {
    const r = await req('POST', '/v1/drivers:update', `{"mapId":"${M}","driverId":"${id}","location":{"lat":43.7384,"lng":7.4246}}`);
    assert.equal(r.status, 400);
  }
  assert.equal((await req('GET', `/v1/maps/${M}/drivers/${encodeURIComponent('\ufffd')}`)).status, 400, 'U+FFFD in an ID is refused too');
});
