// faros/client against a real `faros serve` process behind TLS and tokens:
// every method with the proto's camelCase names and plain-object answers,
// the errors it maps (never retried), and streamUpdates with good and bad items.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boot, nearRoad, POINTS, type Booted } from './helpers.js';
import { createToken } from '../../src/api/tokens.js';
import { issueCertificate } from '../../src/cli/certs.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { mulberry32 } from '../../src/rng.js';
import { FarosClient, FarosClientError, type RejectedUpdate, type UpdateDriverRequest } from '../../src/client/index.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';

const M = 'monaco-car';
const SEED = Number(process.env.FAROS_SEED ?? 16);
const dir = mkdtempSync(join(tmpdir(), 'faros-client-'));
const tokensFile = join(dir, 'tokens');
const T = { all: createToken(tokensFile, 'ingest', ['update', 'query']), query: createToken(tokensFile, 'dispatch', ['query']) };
let srv: Booted;
let tls: { ca: Buffer; serverName: string };
let c: FarosClient;
let graph: RoadGraph;
const clients: FarosClient[] = [];
const make = (o: Partial<ConstructorParameters<typeof FarosClient>[0]> = {}): FarosClient => {
  const x = new FarosClient({ targets: [srv.addr], token: T.all, tls, ...o });
  clients.push(x);
  return x;
};

before(async () => {
  await issueCertificate(join(dir, 'ca'), 'localhost', join(dir, 'server'), ['localhost']);
  tls = { ca: readFileSync(join(dir, 'server', 'ca.crt')), serverName: 'localhost' };
  graph = await loadMap(fileURLToPath(new URL('../../../maps/monaco.osm.pbf', import.meta.url)), 'car');
  srv = await boot(['--map', M, '--tokens', tokensFile, '--tls-cert', join(dir, 'server', 'tls.crt'), '--tls-key', join(dir, 'server', 'tls.key')]);
  c = make();
});
after(async () => {
  for (const x of clients) x.close();
  if (srv) assert.equal(await srv.stop(), 0);
});

async function failure(p: Promise<unknown>): Promise<FarosClientError> {
  const e = await p.then(
    () => assert.fail('the call succeeded; expected an error'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof FarosClientError, `not a FarosClientError: ${e}`);
  return e;
}

test('listMaps, updateDriver, getDriver, nearby, nearbyBatch, removeDriver: plain objects with the proto camelCase names', async () => {
  const maps = await c.listMaps();
  const info = maps.maps.find((m) => m.mapId === M)!;
  assert.equal(info.profile, 'car');
  assert.ok(info.bounds!.min!.lat < info.bounds!.max!.lat);

  const ts = Date.now() - 1000;
  const up = await c.updateDriver({ mapId: M, driverId: 'c1', location: POINTS.monaco, timestampMs: ts, metadata: { status: 'free' } });
  assert.equal(up.stale, false);
  assert.ok(up.snapped!.snapDistanceM < 20, `snapped ${up.snapped!.snapDistanceM} m away`);
  assert.match(up.snapped!.wayId, /^\d+$/, 'int64 as a decimal string');
  const older = await c.updateDriver({ mapId: M, driverId: 'c1', location: POINTS.monaco, timestampMs: String(ts - 5000) });
  assert.equal(older.stale, true);

  const got = await c.getDriver({ mapId: M, driverId: 'c1' });
  assert.deepEqual(
    { id: got.driver!.driverId, loc: got.driver!.location, ts: got.driver!.timestampMs, md: got.driver!.metadata },
    { id: 'c1', loc: POINTS.monaco, ts: String(ts), md: { status: 'free' } },
  );

  const near = await c.nearby({ mapId: M, location: POINTS.monaco, k: 3, metric: 'METRIC_ETA', filter: { status: 'free' } });
  assert.equal(near.drivers.length, 1);
  const [d] = near.drivers;
  assert.equal(d!.driver!.driverId, 'c1');
  assert.equal(typeof d!.distanceM, 'number');
  assert.equal(typeof d!.etaS, 'number');
  assert.ok(d!.distanceM < 1 && d!.etaS < 1, `the driver on the pick-up point: ${d!.distanceM} m, ${d!.etaS} s`);
  assert.ok(near.querySnapped!.snapDistanceM < 20);
  assert.equal(typeof near.stats!.servedBy, 'string');
  assert.ok(near.stats!.edgesExpanded >= 1);

  const batch = await c.nearbyBatch({
    queries: [
      { mapId: M, location: POINTS.monaco, k: 1 },
      { mapId: M, location: POINTS.monaco, k: 5000 },
    ],
  });
  assert.equal(batch.results.length, 2);
  assert.equal(batch.results[0]!.code, '');
  assert.equal(batch.results[0]!.response!.drivers[0]!.driver!.driverId, 'c1');
  assert.equal(batch.results[1]!.code, 'INVALID_ARGUMENT');
  assert.match(batch.results[1]!.message, /k/);

  assert.equal((await c.removeDriver({ mapId: M, driverId: 'c1' })).removed, true);
  assert.equal((await c.removeDriver({ mapId: M, driverId: 'c1' })).removed, false);
  const gone = await failure(c.getDriver({ mapId: M, driverId: 'c1' }));
  assert.equal(gone.code, 'NOT_FOUND');
});

test("errors carry the server's status name and message, and are not retried", async () => {
  const cases: [string, Promise<unknown>, RegExp][] = [
    ['INVALID_ARGUMENT', c.updateDriver({ mapId: M, driverId: '', location: POINTS.monaco }), /driver_id/],
    ['INVALID_ARGUMENT', c.nearby({ mapId: M, location: { lat: 91, lng: 0 } }), /lat/],
    ['NOT_FOUND', c.nearby({ mapId: 'atlantis-car', location: POINTS.monaco }), /atlantis-car/],
    ['OUT_OF_RANGE', c.nearby({ mapId: M, location: { lat: 0, lng: 0 } }), /road/],
    ['UNAUTHENTICATED', make({ token: undefined }).listMaps(), /token/],
    ['PERMISSION_DENIED', make({ token: T.query }).updateDriver({ mapId: M, driverId: 'x', location: POINTS.monaco }), /scope "update"/],
  ];
  for (const [code, p, message] of cases) {
    const e = await failure(p);
    assert.equal(e.code, code, e.message);
    assert.match(e.details, message);
    assert.equal(e.attempts, 1, `${code} sent once`);
    assert.equal(e.target, srv.addr);
  }
  // Without TLS against a TLS port: no connection, UNAVAILABLE after the retries.
  const plain = await failure(make({ tls: undefined, retry: { maxAttempts: 2, initialBackoffMs: 1 } }).listMaps({ deadlineMs: 3000 }));
  assert.equal(plain.code, 'UNAVAILABLE');
  assert.equal(plain.attempts, 2);
});

test('streamUpdates: good items applied, bad ones reported with the item and the reason, the newest position stored', async () => {
  const rnd = mulberry32(SEED);
  const rejected: RejectedUpdate[] = [];
  const u = c.streamUpdates({ maxBatch: 64, flushMs: 5, onRejected: (r) => rejected.push(r) });
  const last = new Map<string, { lat: number; lng: number }>();
  const bad: UpdateDriverRequest[] = [];
  const t0 = Date.now() - 10_000;
  for (let i = 0; i < 600; i++) {
    const driverId = `s${i % 50}`;
    if (i % 97 === 13) {
      const b = { mapId: M, driverId, location: { lat: 200, lng: 0 } };
      bad.push(b);
      await u.write(b);
      continue;
    }
    const p = nearRoad(graph, rnd, 0.0002);
    last.set(driverId, p);
    await u.write({ mapId: M, driverId, location: p, timestampMs: t0 + i });
  }
  await u.flush();
  const st = u.stats();
  assert.equal(st.pending, 0);
  assert.deepEqual(
    rejected.map((r) => [r.update, r.code]),
    bad.map((b) => [b, 'INVALID_ARGUMENT']),
  );
  assert.equal(st.accepted, 600 - bad.length);
  for (const [driverId, p] of [...last].slice(0, 10)) {
    const g = await c.getDriver({ mapId: M, driverId });
    assert.deepEqual(g.driver!.location, p, `${driverId} holds its newest position`);
  }
  await u.close();
  await assert.rejects(u.write(bad[0]!), FarosClientError);
});
