// A nearby answer through the server equals the library's answer for the same
// drivers: the test process builds a Model per map (seeded drivers, queries,
// both metrics, filters), the server gets the same updates over a gRPC stream,
// and ids, order and distances must agree. Seed: FAROS_SEED (default 7).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadMap } from '../../src/mapbuild/build.js';
import { Model } from '../../src/model/model.js';
import type { DriverUpdate, Metric } from '../../src/model/types.js';
import { boot, call, farosClient, stream, ROOT, type Booted, type FarosClient } from './helpers.js';
import { mulberry32 } from '../../src/rng.js';

const SEED = Number(process.env.FAROS_SEED ?? 7);
const MAPS = [
  { id: 'bayfront_singapore-car', file: 'bayfront_singapore.osm.pbf' },
  { id: 'monaco-car', file: 'monaco.osm.pbf' },
];

const rng = mulberry32;

let srv: Booted;
let c: FarosClient;
before(async () => {
  srv = await boot(MAPS.flatMap((m) => ['--map', m.id]));
  c = farosClient(srv.addr);
});
after(async () => {
  c?.close();
  if (srv) await srv.stop();
});

for (const [mi, map] of MAPS.entries()) {
  test(`server answers equal the library on ${map.id} (seed ${SEED})`, async () => {
    const graph = await loadMap(join(ROOT, 'maps', map.file), 'car');
    const model = new Model(graph, { snapRadiusM: 200, ttlMs: 300_000 });
    const { minLat, maxLat, minLng, maxLng } = graph.meta.bounds;
    const r = rng(SEED * 1000 + mi);
    const point = () => ({ lat: minLat + r() * (maxLat - minLat), lng: minLng + r() * (maxLng - minLng) });
    const now = Date.now() - 1000;
    const updates: DriverUpdate[] = Array.from({ length: 400 }, (_, i) => {
      const p = point();
      return { driverId: `drv-${i}`, lat: p.lat, lng: p.lng, timestampMs: now + (i % 50), metadata: { status: r() < 0.5 ? 'free' : 'busy' } };
    });
    const expectedResults = model.updateBatch(updates);
    const batches = [];
    for (let i = 0; i < updates.length; i += 100) {
      batches.push({
        updates: updates.slice(i, i + 100).map((u) => ({
          mapId: map.id,
          driverId: u.driverId,
          location: { lat: u.lat, lng: u.lng },
          timestampMs: String(u.timestampMs),
          metadata: u.metadata,
        })),
      });
    }
    const res = await stream(c, batches);
    const refused = res.flatMap((b, bi) => b.rejected.map((x: any) => bi * 100 + x.index));
    assert.deepEqual(
      refused,
      expectedResults.flatMap((x, i) => (x.ok ? [] : [i])),
    );
    assert.ok(refused.length < updates.length / 2, 'most seeded drivers snap');

    let compared = 0;
    for (let q = 0; q < 40; q++) {
      const p = point();
      const metric: Metric = q % 2 === 0 ? 'distance' : 'eta';
      const k = 1 + Math.floor(r() * 20);
      const filter: Record<string, string> = q % 5 === 4 ? { status: 'free' } : {};
      const want = model.nearby({ lat: p.lat, lng: p.lng, k, metric, maxDistanceM: 3000, maxEtaS: 300, filter });
      const req = { mapId: map.id, location: p, k, metric: metric === 'eta' ? 'METRIC_ETA' : 'METRIC_DISTANCE', maxDistanceM: 3000, maxEtaS: 300, filter };
      if (!want.ok) {
        await assert.rejects(call(c, 'nearby', req), (e: any) => e.code === 11);
        continue;
      }
      const got = await call(c, 'nearby', req);
      assert.deepEqual(
        got.drivers.map((d: any) => d.driver.driverId),
        want.drivers.map((d) => d.driver.driverId),
        `query ${q}`,
      );
      got.drivers.forEach((d: any, i: number) => {
        assert.ok(Math.abs(d.distanceM - want.drivers[i]!.distanceM) <= 1e-6, `query ${q} #${i} distance`);
        assert.ok(Math.abs(d.etaS - want.drivers[i]!.etaS) <= 1e-6, `query ${q} #${i} eta`);
      });
      assert.ok(Math.abs(got.querySnapped.snapDistanceM - want.querySnapped.distanceM) <= 1e-6);
      compared += got.drivers.length;
    }
    assert.ok(compared > 20, `compared ${compared} drivers`);
  });
}
