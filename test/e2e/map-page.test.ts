// The map page's routes on a real server process: the page and its files,
// the road geometry (compact, ETag, gzip), the live event stream (a diff as
// drivers move, the stream limit, a watcher that does not read is dropped)
// and POST /v1/nearby:explain (paths, settled edges, straight-line K, and
// every bad input refused with a clear error).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createToken } from '../../src/api/tokens.js';
import { boot, httpJson, parseMetrics, POINTS, type Booted } from './helpers.js';

let srv: Booted;
const M = 'monaco-car',
  B = 'bayfront_singapore-car';
before(async () => {
  srv = await boot(['--map', M, '--map', B]);
});
after(async () => {
  if (srv) assert.equal(await srv.stop(), 0, 'SIGTERM exits 0 with streams open');
});

const req = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => httpJson(srv.http, method, path, body, headers);

/** n drivers in a ring of ~radius m around p. */
function ring(mapId: string, p: { lat: number; lng: number }, n: number, radiusM: number, prefix = 'r') {
  return Array.from({ length: n }, (_, i) => {
    const a = (2 * Math.PI * i) / n;
    const d = radiusM * (0.3 + (0.7 * ((i * 7) % n)) / n);
    return {
      mapId,
      driverId: `${prefix}${i}`,
      location: { lat: p.lat + (d / 111_320) * Math.sin(a), lng: p.lng + (d / (111_320 * Math.cos((p.lat * Math.PI) / 180))) * Math.cos(a) },
      metadata: { status: i % 4 === 0 ? 'busy' : 'available' },
    };
  });
}

test('GET / serves the page; its files and Leaflet come from the server, nothing else does', async () => {
  const page = await fetch(`${srv.http}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /text\/html/);
  const html = await page.text();
  for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    assert.ok(src[1]!.startsWith('/map/'), `${src[1]} is served by Faros (no CDN)`);
    const f = await fetch(`${srv.http}${src[1]}`);
    assert.equal(f.status, 200, src[1]);
    await f.arrayBuffer();
  }
  assert.match((await fetch(`${srv.http}/map/leaflet/leaflet.js`).then((r) => r.text())).slice(0, 200), /Leaflet 1\.9/);
  for (const bad of ['/map/nope.js', '/map/../package.json', '/map/%2e%2e/package.json', '/map/leaflet/../../package.json', '/map/']) {
    const r = await req('GET', bad);
    assert.equal(r.status, 404, bad);
    assert.equal(r.json.error.status, 'NOT_FOUND', bad);
  }
  const post = await req('POST', '/');
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET');
});

test('GET /v1/maps/{map_id}/roads: every edge of the loaded graph, compact, cacheable', async () => {
  const plain = await fetch(`${srv.http}/v1/maps/${M}/roads`, { headers: { 'accept-encoding': 'identity' } });
  assert.equal(plain.status, 200);
  const etag = plain.headers.get('etag')!;
  assert.ok(etag && /max-age=\d+/.test(plain.headers.get('cache-control')!));
  const roads = (await plain.json()) as { counts: number[]; coords: number[]; dirs: number[]; scale: number; bounds: { minLat: number; maxLat: number } };
  const maps = (await req('GET', '/v1/maps')).json.maps;
  assert.ok(roads.counts.length > 1000 && roads.counts.length === roads.dirs.length);
  assert.equal(roads.coords.length, 2 * roads.counts.reduce((a, b) => a + b, 0));
  // Decoded points lie inside the map's bounds.
  let lat = 0;
  for (let i = 0; i < roads.coords.length; i += 2) {
    lat += roads.coords[i]!;
    assert.ok(lat / roads.scale >= roads.bounds.minLat - 1e-6 && lat / roads.scale <= roads.bounds.maxLat + 1e-6);
  }
  assert.equal(maps.find((m: { mapId: string }) => m.mapId === M).bounds.min.lat, roads.bounds.minLat);
  // The same bytes gzipped (node's fetch would decode them: ask without it).
  const raw = await rawGet(`/v1/maps/${M}/roads`, { 'accept-encoding': 'gzip' });
  assert.equal(raw.headers['content-encoding'], 'gzip');
  assert.deepEqual(JSON.parse(gunzipSync(raw.body).toString()), roads);
  assert.ok(raw.body.length < 100_000, `gzipped roads of monaco are ${raw.body.length} bytes`);
  const again = await fetch(`${srv.http}/v1/maps/${M}/roads`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  const unknown = await req('GET', '/v1/maps/atlantis-car/roads');
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.error.message, /unknown map "atlantis-car"/);
  assert.equal((await req('DELETE', `/v1/maps/${M}/roads`)).status, 405);
});

test('POST /v1/nearby:explain: the answer with its paths, settled edges and the straight-line K', async () => {
  const up = await req('POST', '/v1/drivers:batchUpdate', { updates: ring(M, POINTS.monaco, 60, 900) });
  assert.equal(up.status, 200);
  assert.equal(up.json.accepted + up.json.rejected.length, 60);
  for (const metric of ['METRIC_DISTANCE', 'METRIC_ETA']) {
    const q = { mapId: M, location: POINTS.monaco, k: 8, metric, filter: { status: 'available' } };
    const x = await req('POST', '/v1/nearby:explain', q);
    assert.equal(x.status, 200, JSON.stringify(x.json));
    const plain = await req('POST', '/v1/nearby', q);
    assert.deepEqual(
      x.json.answer.drivers.map((d: any) => d.driver.driverId),
      plain.json.drivers.map((d: any) => d.driver.driverId),
    );
    const { answer, paths, settledEdges, edgesExpanded, straightLine } = x.json;
    assert.equal(paths.length, 8);
    assert.deepEqual(
      paths.map((p: any) => [p.driverId, p.distanceM, p.etaS]),
      answer.drivers.map((d: any) => [d.driver.driverId, d.distanceM, d.etaS]),
    );
    assert.equal(edgesExpanded, answer.stats.edgesExpanded);
    assert.ok(settledEdges.length > 0 && settledEdges.length <= edgesExpanded);
    for (const p of paths) {
      assert.ok(p.path.length >= 2);
      const end = p.path[p.path.length - 1];
      assert.ok(Math.abs(end[0] - answer.querySnapped.location.lat) < 1e-9 && Math.abs(end[1] - answer.querySnapped.location.lng) < 1e-9);
    }
    assert.equal(straightLine.drivers.length, 8);
    const roadIds = new Set(paths.map((p: any) => p.driverId));
    for (const d of straightLine.drivers) {
      assert.equal(d.inRoadAnswer, roadIds.has(d.driverId));
      assert.notEqual(Number(d.driverId.slice(1)) % 4, 0, 'the filter applies to the straight-line K too');
    }
    assert.equal(straightLine.notInRoadAnswer, straightLine.drivers.filter((d: any) => !d.inRoadAnswer).length);
    for (let i = 1; i < 8; i++) assert.ok(straightLine.drivers[i - 1].distanceM <= straightLine.drivers[i].distanceM);
  }
});

test('POST /v1/nearby:explain refuses what Nearby refuses, with the same errors', async () => {
  const cases: [string, unknown, number, string, RegExp][] = [
    ['no map', { location: POINTS.monaco }, 400, 'INVALID_ARGUMENT', /map_id/],
    ['unknown map', { mapId: 'atlantis-car', location: POINTS.monaco }, 404, 'NOT_FOUND', /atlantis-car/],
    ['k too large', { mapId: M, location: POINTS.monaco, k: 1001 }, 400, 'INVALID_ARGUMENT', /\bk\b/],
    ['no location', { mapId: M }, 400, 'INVALID_ARGUMENT', /location/],
    ['latitude out of range', { mapId: M, location: { lat: 91, lng: 7 } }, 400, 'INVALID_ARGUMENT', /lat/],
    ['far from every road', { mapId: M, location: { lat: 43.6, lng: 7.3 } }, 400, 'OUT_OF_RANGE', /road/],
    ['unknown field', { mapId: M, location: POINTS.monaco, bogus: 1 }, 400, 'INVALID_ARGUMENT', /bogus/],
    ['not JSON', '{"mapId":', 400, 'INVALID_ARGUMENT', /JSON/],
    ['bad metric', { mapId: M, location: POINTS.monaco, metric: 'METRIC_SMELL' }, 400, 'INVALID_ARGUMENT', /metric/],
  ];
  for (const [name, body, status, code, msg] of cases) {
    const r = await req('POST', '/v1/nearby:explain', body);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error.status, code, name);
    assert.match(r.json.error.message, msg, name);
  }
  assert.equal((await req('GET', '/v1/nearby:explain')).status, 405);
});

/** Read server-sent events from a fetch body until `until` says stop. */
async function readEvents(res: Response, until: (ev: { event: string; data: any }[]) => boolean, ms: number) {
  const events: { event: string; data: any }[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const deadline = Date.now() + ms;
  while (!until(events)) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), left))]);
    if (chunk === null || chunk.done) break;
    buf += dec.decode(chunk.value, { stream: true });
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return events;
}

test('GET /v1/maps/{map_id}/live: all drivers first, then what moved, appeared and left', async () => {
  await req('POST', '/v1/drivers:batchUpdate', { updates: ring(B, POINTS.bayfront, 20, 300, 'b') });
  const res = await fetch(`${srv.http}/v1/maps/${B}/live`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /text\/event-stream/);
  let moved = false;
  const events = await readEvents(
    res,
    (evs) => {
      if (evs.length === 1 && !moved) {
        moved = true;
        // Once the first (full) event is in: one driver moves, one is removed, one appears.
        void req('POST', '/v1/drivers:batchUpdate', {
          updates: [
            { mapId: B, driverId: 'b1', location: { lat: POINTS.bayfront.lat + 0.001, lng: POINTS.bayfront.lng } },
            { mapId: B, driverId: 'new-one', location: POINTS.bayfront },
          ],
        }).then(() => req('DELETE', `/v1/maps/${B}/drivers/b2`));
      }
      return evs.some((e) => !e.data.full && e.data.gone.includes('b2'));
    },
    5000,
  );
  const full = events[0]!;
  assert.equal(full.event, 'drivers');
  assert.equal(full.data.full, true);
  assert.equal(full.data.moved.length, 20);
  const [id, lat, lng, status] = full.data.moved.find((p: any[]) => p[0] === 'b4');
  assert.equal(id, 'b4');
  assert.ok(Math.abs(lat - POINTS.bayfront.lat) < 0.01 && Math.abs(lng - POINTS.bayfront.lng) < 0.01);
  assert.equal(status, 'busy');
  const later = events.slice(1).filter((e) => e.event === 'drivers');
  const movedIds = later.flatMap((e) => e.data.moved.map((p: any[]) => p[0]));
  assert.ok(movedIds.includes('b1') && movedIds.includes('new-one'), JSON.stringify(later));
  assert.ok(!movedIds.includes('b5'), 'a driver that did not move is not sent again');
  assert.ok(
    later.some((e) => e.data.gone.includes('b2')),
    'a removed driver is reported gone',
  );
  const unknown = await req('GET', '/v1/maps/atlantis-car/live');
  assert.equal(unknown.status, 404);
});

/** n open streams; a 429 is retried for a while (streams closed just before may not have been counted out yet). */
async function openStreams(mapId: string, n: number): Promise<Response[]> {
  const open: Response[] = [];
  const until = Date.now() + 10_000;
  while (open.length < n) {
    const r = await fetch(`${srv.http}/v1/maps/${mapId}/live`);
    if (r.status === 200) open.push(r);
    else {
      await r.arrayBuffer();
      assert.equal(r.status, 429);
      assert.ok(Date.now() < until, `only ${open.length} of ${n} streams opened`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  return open;
}

test('live streams are bounded in number, and a watcher that does not read is dropped', async () => {
  // A socket that does not read while 10,000 drivers move every tick (~400 kB per event): the
  // kernel's buffers take a few MB, then the server holds more than 1 MiB for it and ends the
  // stream. Read afterwards: it must end.
  await (await openStreams(M, 1))[0]!.body!.cancel();
  await new Promise((r) => setTimeout(r, 500));
  const sock = connect(srv.httpPort, '127.0.0.1');
  sock.write(`GET /v1/maps/${M}/live HTTP/1.1\r\nhost: x\r\n\r\n`);
  sock.pause();
  // The kernel's loopback buffers absorb several MB first (more on a busy machine, where the
  // ticker runs less often): move drivers until the server reports the drop, within 60 rounds.
  const dropped = async (): Promise<number> => parseMetrics(await (await fetch(`${srv.http}/metrics`)).text()).get('faros_live_dropped_total') ?? 0;
  for (let round = 0; round < 60 && (await dropped()) === 0; round++) {
    await req('POST', '/v1/drivers:batchUpdate', { updates: ring(M, POINTS.monaco, 10_000, 2500 + 10 * round, 's') });
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.equal(await dropped(), 1, 'faros_live_dropped_total counts the stream dropped');
  let head = '';
  sock.on('data', (c: Buffer) => {
    if (head.length < 200) head += c.toString('latin1');
  });
  const ended = await new Promise<boolean>((resolve) => {
    sock.once('close', () => resolve(true));
    sock.resume();
    setTimeout(() => resolve(false), 10_000);
  });
  sock.destroy();
  assert.match(head, /^HTTP\/1\.1 200 /, 'the stream was accepted');
  assert.ok(ended, 'the server dropped the stream of a client that does not read');

  // 16 streams at most per instance (the dropped one's slot is free again); the 17th is refused with a clear error.
  const open = await openStreams(M, 16);
  const refused = await req('GET', `/v1/maps/${M}/live`);
  assert.equal(refused.status, 429);
  assert.equal(refused.json.error.status, 'RESOURCE_EXHAUSTED');
  assert.match(refused.json.error.message, /16 live streams/);
  for (const r of open) await r.body!.cancel();
  // Their slots come free: streams open again.
  for (const r of await openStreams(B, 16)) await r.body!.cancel();
});

test('with --tokens the page itself is open, and everything it reads needs a query token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faros-map-tokens-'));
  const file = join(dir, 'tokens');
  const query = createToken(file, 'viewer', ['query']),
    update = createToken(file, 'fleet', ['update']);
  const s = await boot(['--map', B, '--tokens', file]);
  try {
    for (const path of ['/', '/map/app.js', '/map/leaflet/leaflet.js']) assert.equal((await fetch(`${s.http}${path}`)).status, 200, path);
    const explain = { mapId: B, location: POINTS.bayfront, k: 2 };
    const calls: [string, string, unknown][] = [
      ['GET', `/v1/maps/${B}/roads`, undefined],
      ['POST', '/v1/nearby:explain', explain],
    ];
    for (const [method, path, body] of calls) {
      assert.equal((await httpJson(s.http, method, path, body)).status, 401, `${path} without a token`);
      assert.equal((await httpJson(s.http, method, path, body, { authorization: `Bearer ${update}` })).status, 403, `${path} with an update token`);
      assert.equal((await httpJson(s.http, method, path, body, { authorization: `Bearer ${query}` })).status, 200, `${path} with a query token`);
    }
    const live = await fetch(`${s.http}/v1/maps/${B}/live`);
    assert.equal(live.status, 401);
    await live.arrayBuffer();
    const ok = await fetch(`${s.http}/v1/maps/${B}/live`, { headers: { authorization: `Bearer ${query}` } });
    assert.equal(ok.status, 200);
    await ok.body!.cancel();
  } finally {
    assert.equal(await s.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** GET without fetch's automatic decoding. */
function rawGet(path: string, headers: Record<string, string>): Promise<{ headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = connect(srv.httpPort, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('end', () => {
      const all = Buffer.concat(chunks);
      const at = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, at).toString().split('\r\n');
      const h: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        h[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ headers: h, body: all.subarray(at + 4) });
    });
    s.write(
      `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`,
    );
  });
}
