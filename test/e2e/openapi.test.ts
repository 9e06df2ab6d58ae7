// GET /openapi.json of a real server: a valid OpenAPI 3.1 document (checked by
// @apidevtools/swagger-parser) with every route of the gateway; every route's
// example sent to the server answers 200 with a body the documented schema
// accepts (ajv, with no undocumented fields allowed); real error answers match
// the documented error responses; the proto3 JSON mapping is what the
// documented schemas say.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { boot, httpJson, type Booted } from './helpers.js';
import { openApiDocument } from '../../src/api/openapi.js';

let srv: Booted;
let doc: any;
let ajv: InstanceType<typeof Ajv2020>;
before(async () => {
  srv = await boot(['--map', 'monaco-car', '--map', 'bayfront_singapore-car', '--max-message-bytes', '65536']);
  const r = await httpJson(srv.http, 'GET', '/openapi.json');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  doc = r.json;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'faros', components: strictResponses(structuredClone(doc.components)) });
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, 'SIGTERM exits 0');
});

/** Responses may carry no field the document does not name: every object schema with properties gets additionalProperties false. */
function strictResponses(v: any): any {
  if (Array.isArray(v)) return v.map(strictResponses);
  if (typeof v !== 'object' || v === null) return v;
  const out: any = {};
  for (const [k, x] of Object.entries(v)) out[k] = strictResponses(x);
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** Validate `value` against a schema of the document (a $ref into components or an inline schema using such refs). */
function check(schema: any, value: unknown, what: string): void {
  const validate = ajv.compile({ $id: `check-${Math.random()}`, ...rebase(schema) });
  assert.ok(validate(value), `${what}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 800)}`);
}
const rebase = (s: any): any => JSON.parse(JSON.stringify(s).replaceAll('"#/components/', '"faros#/components/'));

interface Op {
  method: string;
  path: string;
  op: any;
}
const operations = (): Op[] =>
  Object.entries(doc.paths).flatMap(([path, item]: [string, any]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));

test('the document is valid OpenAPI 3.1 and has every route of the gateway', async () => {
  await SwaggerParser.validate(structuredClone(doc));
  assert.equal(doc.openapi, '3.1.0');
  const routes = operations().map((o) => `${o.method} ${o.path}`);
  for (const r of [
    'POST /v1/drivers:update',
    'POST /v1/drivers:batchUpdate',
    'GET /v1/maps/{map_id}/drivers/{driver_id}',
    'DELETE /v1/maps/{map_id}/drivers/{driver_id}',
    'POST /v1/nearby',
    'POST /v1/nearby:batch',
    'GET /v1/maps',
    'GET /metrics',
    'GET /healthz',
    'GET /readyz',
    'GET /openapi.json',
  ])
    assert.ok(routes.includes(r), `${r} is not in the document (it has ${routes.join(', ')})`);
  // The 404 of an unknown route lists the same routes as the document.
  const miss = await httpJson(srv.http, 'GET', '/v2/everything');
  for (const path of Object.keys(doc.paths)) assert.ok(miss.json.error.message.includes(path), `the 404 message does not list ${path}`);
});

test('the proto3 JSON mapping: lowerCamelCase and snake_case in requests, int64 as strings, enums by name', () => {
  const s = doc.components.schemas;
  assert.deepEqual(
    Object.keys(s.UpdateDriverRequest.properties).sort(),
    ['ack', 'driverId', 'driver_id', 'location', 'map_id', 'mapId', 'metadata', 'timestampMs', 'timestamp_ms'].sort(),
  );
  assert.equal(s.UpdateDriverRequest.additionalProperties, false);
  assert.equal(s.Driver.properties.timestampMs.type, 'string');
  assert.equal(s.MapInfo.properties.drivers.type, 'string');
  assert.deepEqual(s.NearbyRequest.properties.metric.enum, ['METRIC_UNSPECIFIED', 'METRIC_DISTANCE', 'METRIC_ETA', 0, 1, 2, null]);
  assert.equal(s.LatLng.required.join(), 'lat,lng');
  assert.ok(s.LatLngInput, 'LatLng is in requests and responses: its request form is LatLngInput');
  assert.match(s.NearbyRequest.properties.k.description, /1\.\.1000/, 'proto comments are the descriptions');
  // The response field that is absent on an error is the only one not required.
  assert.deepEqual(s.NearbyResult.required, ['code', 'message']);
  check(
    { $ref: '#/components/schemas/UpdateDriverRequest' },
    { map_id: 'm', driverId: 'd', timestamp_ms: 5, ack: 2, location: null, metadata: null },
    'snake_case, numbers and null accepted',
  );
  const refused = ajv.compile({ $id: 'refused', ...rebase({ $ref: '#/components/schemas/UpdateDriverRequest' }) });
  assert.equal(refused({ mapID: 'm' }), false, 'an unknown field is refused');
});

test("every route's example answers 200 with the documented response", async () => {
  const seen: Record<string, any> = {};
  // In document order, deletes last (a path's GET and DELETE are one path item).
  const ordered = operations().sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
  for (const { method, path, op } of ordered) {
    const params = Object.fromEntries((op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => [p.name, p.example]));
    for (const [name, value] of Object.entries(params)) assert.ok(value !== undefined, `${op.operationId}: path parameter ${name} has no example`);
    const query = new URLSearchParams(
      (op.parameters ?? []).filter((p: any) => p.in === 'query' && p.example !== undefined).map((p: any) => [p.name, String(p.example)]),
    ).toString();
    const url = path.replace(/\{(\w+)\}/g, (_: string, n: string) => encodeURIComponent(params[n] as string)) + (query ? `?${query}` : '');
    const media = op.requestBody?.content['application/json'];
    if (media) {
      assert.ok(media.example !== undefined, `${op.operationId} has no request example`);
      check(media.schema, media.example, `${op.operationId} request example`);
    }
    const [type, documented] = Object.entries(op.responses['200'].content)[0] as [string, any];
    const ac = new AbortController();
    const res = await fetch(`${srv.http}${url}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: media ? JSON.stringify(media.example) : undefined,
      signal: ac.signal,
    });
    // A documented media range (*/*, text/*) covers the types it names.
    assert.ok(
      (res.headers.get('content-type') ?? '').startsWith(type.replace(/\*.*$/, '')),
      `${op.operationId}: content-type ${res.headers.get('content-type')}, documented ${type}`,
    );
    if (type === 'text/event-stream') {
      // An event stream does not end: its status and type are what can be checked here.
      assert.equal(res.status, 200, `${method} ${url}`);
      ac.abort();
      continue;
    }
    const text = await res.text();
    assert.equal(res.status, 200, `${method} ${url}: ${text}`);
    const body = type === 'application/json' ? JSON.parse(text) : text;
    check(documented.schema, body, `${op.operationId} response`);
    if (documented.example !== undefined) check(documented.schema, documented.example, `${op.operationId} response example`);
    seen[op.operationId] = body;
  }
  // The examples tell one story: the driver reported first is found, then removed.
  assert.equal(seen.UpdateDriver.stale, false);
  assert.deepEqual(
    seen.UpdateDrivers.rejected.map((r: any) => [r.index, r.code]),
    [[1, 'OUT_OF_RANGE']],
  );
  assert.equal(seen.GetDriver.driver.driverId, 'driver-42');
  assert.deepEqual(
    seen.Nearby.drivers.map((d: any) => d.driver.driverId),
    ['driver-42'],
  );
  assert.deepEqual(
    seen.NearbyBatch.results.map((r: any) => r.code),
    ['', 'NOT_FOUND'],
  );
  assert.equal(seen.RemoveDriver.removed, true);
  assert.ok(seen.ListMaps.maps.some((m: any) => m.mapId === 'monaco-car'));
  assert.match(seen.metrics, /^# HELP /m);
  assert.deepEqual(seen.openapi, doc);
});

test('real error answers are documented for their route and status', async () => {
  const cases: [string, string, string, unknown, number][] = [
    ['UpdateDriver', 'POST', '/v1/drivers:update', { mapId: 'monaco-car', driverId: 'x', location: { lat: 91, lng: 0 } }, 400],
    ['UpdateDriver', 'POST', '/v1/drivers:update', { mapId: 'monaco-car', driverId: 'x', location: { lat: 43.7, lng: 7.6 } }, 400],
    ['UpdateDrivers', 'POST', '/v1/drivers:batchUpdate', { updates: [], bogus: 1 }, 400],
    ['Nearby', 'POST', '/v1/nearby', { mapId: 'atlantis-car', location: { lat: 1, lng: 1 } }, 404],
    ['Nearby', 'POST', '/v1/nearby', '{"mapId": ', 400],
    ['NearbyBatch', 'POST', '/v1/nearby:batch', { queries: {} }, 400],
    ['GetDriver', 'GET', '/v1/maps/monaco-car/drivers/ghost', undefined, 404],
    ['RemoveDriver', 'DELETE', '/v1/maps/atlantis-car/drivers/ghost', undefined, 404],
    ['Nearby', 'POST', '/v1/nearby', 'x'.repeat(70_000), 413],
  ];
  const byId = new Map(operations().map((o) => [o.op.operationId, o.op]));
  for (const [id, method, path, body, status] of cases) {
    const r = await httpJson(srv.http, method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.json)}`);
    const documented = byId.get(id).responses[String(status)];
    assert.ok(documented, `${id} does not document status ${status}`);
    const media = documented.content['application/json'];
    check(media.schema, r.json, `${id} ${status}`);
    assert.ok(Object.keys(media.examples).includes(r.json.error.status), `${id} ${status} does not document ${r.json.error.status}`);
    for (const [code, ex] of Object.entries(media.examples) as [string, any][]) {
      check(media.schema, ex.value, `${id} ${status} example ${code}`);
      assert.equal(ex.value.error.code, status);
    }
  }
  const wrong = await httpJson(srv.http, 'PUT', '/v1/nearby');
  assert.equal(wrong.status, 405);
  check({ $ref: '#/components/schemas/Error' }, wrong.json, '405');
});

test('a route added to the table is in the document', async () => {
  const page = openApiDocument([
    {
      name: 'page',
      method: 'GET',
      path: '/',
      summary: 'A page',
      response: { contentType: 'text/html', schema: { type: 'string' }, description: 'HTML.' },
    },
    { name: 'Nearby', method: 'POST', path: '/v1/nearby', summary: 'Nearby', body: 'NearbyRequest', response: 'NearbyResponse', rpc: 'Nearby' },
  ]) as any;
  await SwaggerParser.validate(structuredClone(page));
  assert.equal(page.paths['/'].get.operationId, 'page');
  assert.ok(page.paths['/'].get.responses['200'].content['text/html']);
  assert.deepEqual(Object.keys(page.paths['/'].get.responses), ['200'], 'a route that is not an RPC documents no RPC errors');
  assert.ok(page.components.schemas.NearbyDriver, 'messages reached from the route are in the components');
  assert.equal(page.components.schemas.UpdateDriverRequest, undefined, 'messages no route uses are not');
});
