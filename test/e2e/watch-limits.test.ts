// WatchNearby's refusals and ends on a real server: request validation, the
// per-connection and per-instance limits, a client that stops reading (ended
// with RESOURCE_EXHAUSTED instead of buffered for), and shutdown (UNAVAILABLE).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadMap } from '../../src/mapbuild/build.js';
import { FAROS_PROTO, LOADER_OPTIONS } from '../../src/api/proto.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { boot, farosClient, nearRoad, ROOT, streamBatch, type Booted, type FarosClient } from './helpers.js';
import { mulberry32 } from '../../src/rng.js';

const MAP = 'monaco-car';
let srv: Booted;
let c: FarosClient;
let g: RoadGraph;
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(FAROS_PROTO, LOADER_OPTIONS)) as any;
/** A client on a connection of its own. */
const ownConnection = (addr: string, n: number): FarosClient =>
  new pkg.faros.v1.Faros(addr, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'test.connection': n });

before(async () => {
  g = await loadMap(join(ROOT, 'maps', 'monaco.osm.pbf'), 'car');
  srv = await boot(['--map', MAP, '--workers', '1', '--max-watches', '3', '--max-watches-per-connection', '2', '--watch-max-queued', '4']);
  c = farosClient(srv.addr);
});
after(async () => {
  c?.close();
  if (srv) await srv.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Open a watch; resolves with its first message, or rejects with its error. */
function open(client: FarosClient, req: object): { stream: grpc.ClientReadableStream<any>; first: Promise<any>; ended: Promise<grpc.ServiceError> } {
  const stream = (client as any).watchNearby(req) as grpc.ClientReadableStream<any>;
  const first = new Promise<any>((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
  const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
  first.catch(() => {});
  return { stream, first, ended };
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${srv.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('WatchNearby validates its request like Nearby, plus the interval and thresholds', async () => {
  const p = nearRoad(g, mulberry32(1), 0.0002);
  const q = { mapId: MAP, location: p, k: 3 };
  const cases: [object, string, RegExp][] = [
    [{}, 'INVALID_ARGUMENT', /query is missing/],
    [{ query: q, minIntervalMs: 50 }, 'INVALID_ARGUMENT', /min_interval_ms = 50 is out of range; use 100 to 600000 ms, or 0 for the default 500/],
    [{ query: q, minIntervalMs: 700_000 }, 'INVALID_ARGUMENT', /min_interval_ms = 700000/],
    [{ query: q, minChangeM: -1 }, 'INVALID_ARGUMENT', /min_change_m = -1 is out of range/],
    [{ query: q, minChangeS: 8000 }, 'INVALID_ARGUMENT', /min_change_s = 8000 is out of range/],
    [{ query: { ...q, k: 5000 } }, 'INVALID_ARGUMENT', /k = 5000 is out of range/],
    [{ query: { ...q, mapId: 'atlantis' } }, 'NOT_FOUND', /unknown map "atlantis"/],
    [{ query: { ...q, location: { lat: 0, lng: 0 } } }, 'OUT_OF_RANGE', /query point \(0, 0\) is .* from the nearest road/],
  ];
  for (const [req, code, msg] of cases) {
    const e = await open(c, req).ended;
    assert.equal(grpc.status[e.code], code, `${JSON.stringify(req)}: ${e.details}`);
    assert.match(e.details, msg);
  }
  assert.equal(await metric('faros_watches_open'), 0, 'refused watches are not left open');
});

test('watches per connection and per instance are limited: RESOURCE_EXHAUSTED naming the option', async () => {
  const p = nearRoad(g, mulberry32(2), 0.0002);
  const req = { query: { mapId: MAP, location: p, k: 3 } };
  const a = ownConnection(srv.addr, 1),
    b = ownConnection(srv.addr, 2);
  try {
    const w1 = open(a, req),
      w2 = open(a, req);
    await Promise.all([w1.first, w2.first]);
    const e3 = await open(a, req).ended;
    assert.equal(grpc.status[e3.code], 'RESOURCE_EXHAUSTED');
    assert.match(e3.details, /2 watches are open on this connection.*--max-watches-per-connection/);
    const w4 = open(b, req);
    await w4.first;
    const e5 = await open(b, req).ended;
    assert.equal(grpc.status[e5.code], 'RESOURCE_EXHAUSTED');
    assert.match(e5.details, /3 watches are open on this instance.*--max-watches/);
    assert.equal(await metric('faros_watches_open'), 3);
    // Closing one makes room again.
    w1.stream.cancel();
    await sleep(200);
    const w6 = open(b, req);
    await w6.first;
    for (const w of [w2, w4, w6]) w.stream.cancel();
    await sleep(200);
    assert.equal(await metric('faros_watches_open'), 0);
  } finally {
    a.close();
    b.close();
  }
});

test('a client that stops reading is ended with RESOURCE_EXHAUSTED, not buffered for', async () => {
  const rnd = mulberry32(3);
  const centre = nearRoad(g, rnd, 0);
  const at = () => ({ lat: centre.lat + (rnd() - 0.5) * 0.01, lng: centre.lng + (rnd() - 0.5) * 0.01 });
  const updates = () => Array.from({ length: 400 }, (_, i) => ({ mapId: MAP, driverId: `slow-${i}`, location: at(), timestampMs: '0' }));
  await streamBatch(c, updates(), 10_000);
  const reader = ownConnection(srv.addr, 3);
  try {
    // Big answers (K=1000) that change all the time, every 100 ms.
    const w = open(reader, { query: { mapId: MAP, location: centre, k: 1000, maxDistanceM: 5000 }, minIntervalMs: 100 });
    await w.first;
    w.stream.pause();
    const endsBefore = await metric('faros_watch_ends_total{code="RESOURCE_EXHAUSTED"}');
    let ended = false;
    const t0 = Date.now();
    while (!ended && Date.now() - t0 < 20_000) {
      await streamBatch(c, updates(), 10_000);
      await sleep(100);
      ended = (await metric('faros_watch_ends_total{code="RESOURCE_EXHAUSTED"}')) > endsBefore;
    }
    assert.ok(ended, 'the server ended the watch of a client that stopped reading');
    console.log(`slow client ended after ${Date.now() - t0} ms`);
    assert.equal(await metric('faros_watches_open'), 0);
    // Reading again, the client finds the messages queued before the end, then the status.
    w.stream.resume();
    const e = await w.ended;
    assert.equal(grpc.status[e.code], 'RESOURCE_EXHAUSTED');
    assert.match(e.details, /unread \(--watch-max-queued\)/);
  } finally {
    reader.close();
  }
});

/** Server-sent events of one GET, parsed as they arrive. */
async function* events(url: string, signal: AbortSignal): AsyncGenerator<{ event: string; data: any }> {
  const res = await fetch(url, { signal });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const dec = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body!) {
    buf += dec.decode(chunk as Uint8Array, { stream: true });
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = 'message',
        data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) yield { event, data: JSON.parse(data) };
    }
  }
}

test('GET /v1/nearby:watch: server-sent events, the first one the Nearby answer, then changes; errors as an event', async () => {
  const rnd = mulberry32(5);
  const p = nearRoad(g, rnd, 0);
  await streamBatch(
    c,
    Array.from({ length: 30 }, (_, i) => ({
      mapId: MAP,
      driverId: `sse-${i}`,
      location: { lat: p.lat + (rnd() - 0.5) * 0.006, lng: p.lng + (rnd() - 0.5) * 0.006 },
    })),
    10_000,
  );
  const ac = new AbortController();
  const it = events(`${srv.http}/v1/nearby:watch?map_id=${MAP}&lat=${p.lat}&lng=${p.lng}&k=4&metric=METRIC_ETA&min_interval_ms=100&min_change_s=1`, ac.signal);
  const first = (await it.next()).value!;
  assert.equal(first.event, 'message');
  const nearby: any = await (
    await fetch(`${srv.http}/v1/nearby`, { method: 'POST', body: JSON.stringify({ mapId: MAP, location: p, k: 4, metric: 'METRIC_ETA' }) })
  ).json();
  assert.deepEqual(
    first.data.drivers.map((d: any) => [d.driver.driverId, d.etaS]),
    nearby.drivers.map((d: any) => [d.driver.driverId, d.etaS]),
  );
  await streamBatch(c, [{ mapId: MAP, driverId: 'sse-here', location: p }], 10_000);
  const next = (await it.next()).value!;
  assert.equal(next.data.drivers[0].driver.driverId, 'sse-here');
  ac.abort();
  await sleep(200);
  assert.equal(await metric('faros_watches_open'), 0, 'closing the connection closes the watch');

  const bad = events(`${srv.http}/v1/nearby:watch?map_id=${MAP}&lat=${p.lat}&lng=${p.lng}&min_interval_ms=10`, AbortSignal.timeout(5000));
  const e = (await bad.next()).value!;
  assert.equal(e.event, 'error');
  assert.equal(e.data.error.status, 'INVALID_ARGUMENT');
  assert.match(e.data.error.message, /min_interval_ms = 10 is out of range/);
  assert.equal((await bad.next()).done, true, 'the stream ends after the error');
  const unknown = events(`${srv.http}/v1/nearby:watch?map_id=${MAP}&lat=1&lng=2&radius=3`, AbortSignal.timeout(5000));
  assert.match((await unknown.next()).value!.data.error.message, /unknown query parameter "radius"/);
});

test('shutdown ends open watches with UNAVAILABLE', async () => {
  const p = nearRoad(g, mulberry32(4), 0.0002);
  const w = open(c, { query: { mapId: MAP, location: p, k: 3 } });
  await w.first;
  const stopping = srv.stop();
  const e = await w.ended;
  assert.equal(grpc.status[e.code], 'UNAVAILABLE');
  assert.match(e.details, /shutting down; watch again/);
  assert.equal(await stopping, 0);
  srv = undefined as unknown as Booted;
});
