// explainNearby (the map page's paths and expansion area) against the search
// itself on bundled maps: seeded drivers and queries, both metrics, filters.
// The replay over only the answer's drivers must find the same drivers at
// the same costs and settle as many directed edges as the real search; every
// path must run from the driver's snapped point to the query's snapped point
// along roads, as long as the answer's distance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMap } from '../src/mapbuild/build.js';
import { loadCatalog } from '../src/mapbuild/catalog.js';
import { haversine } from '../src/mapbuild/geo.js';
import { Model } from '../src/model/model.js';
import { explainNearby } from '../src/model/knn/explain.js';
import { KnnSearch } from '../src/model/knn/knn.js';
import { Snapper } from '../src/model/snap/snap.js';
import { mulberry32 } from '../src/rng.js';

const SEED = Number(process.env.FAROS_SEED ?? 7) >>> 0;
console.log(`explain.test: FAROS_SEED=${SEED}`);

for (const mapId of ['monaco-car', 'bayfront_singapore-car', 'andorra-car']) {
  test(`explain replays the search on ${mapId}`, async () => {
    const entry = loadCatalog().find((m) => m.id === mapId)!;
    const g = await loadMap(entry.file, entry.profile, { shared: false });
    const model = new Model(g, { snapRadiusM: entry.snapRadiusM, ttlMs: 3_600_000 });
    const rnd = mulberry32(SEED);
    const near = () => {
      const v = Math.floor(rnd() * g.vertexCount);
      return { lat: g.vLat[v] + (rnd() - 0.5) * 0.002, lng: g.vLng[v] + (rnd() - 0.5) * 0.002 };
    };
    const now = Date.now();
    const reported = new Map<string, { lat: number; lng: number }>();
    for (let i = 0; i < 400; i++) {
      const p = near();
      const id = `d${i}`;
      if (model.update({ driverId: id, ...p, timestampMs: now, metadata: { status: rnd() < 0.6 ? 'available' : 'busy' } }).ok) reported.set(id, p);
    }
    const snapper = new Snapper(g);
    const knn = new KnnSearch(g);
    let queries = 0,
      paths = 0,
      worst = 0;
    for (let i = 0; i < 80; i++) {
      const p = near();
      const metric = i % 2 === 0 ? 'distance' : 'eta';
      const k = 1 + Math.floor(rnd() * 12);
      const maxDistanceM = 1000 + rnd() * 5000,
        maxEtaS = 60 + rnd() * 400;
      const filter = i % 3 === 0 ? { status: 'available' } : undefined;
      const r = model.nearby({ ...p, k, metric, maxDistanceM, maxEtaS, filter });
      const x = explainNearby(
        g,
        snapper,
        knn,
        entry.snapRadiusM,
        { ...p, k, metric, limit: metric === 'eta' ? maxEtaS : maxDistanceM },
        r.ok ? r.drivers.map((d) => ({ driverId: d.driver.driverId, ...reported.get(d.driver.driverId)! })) : [],
      );
      assert.equal(x.ok, r.ok);
      if (!r.ok || !x.ok) continue;
      queries++;
      assert.deepEqual(
        x.paths.map((h) => [h.driverId, h.distanceM, h.etaS]),
        r.drivers.map((d) => [d.driver.driverId, d.distanceM, d.etaS]),
      );
      assert.equal(x.edgesExpanded, r.stats.edgesExpanded, 'the replay settles as many directed edges as the search');
      assert.ok(x.settledEdges.length <= x.edgesExpanded);
      assert.ok(x.settledEdges.every((e) => e >= 0 && e < g.edgeCount));
      for (const [j, h] of x.paths.entries()) {
        const start = r.drivers[j].driver.snapped;
        const first = h.path[0],
          last = h.path[h.path.length - 1];
        assert.ok(haversine(first[0], first[1], start.lat, start.lng) < 0.01, `${h.driverId}'s path starts where it is`);
        assert.ok(haversine(last[0], last[1], r.querySnapped.lat, r.querySnapped.lng) < 0.01, `${h.driverId}'s path ends at the pick-up point`);
        let len = 0;
        for (let s = 1; s < h.path.length; s++) len += haversine(h.path[s - 1][0], h.path[s - 1][1], h.path[s][0], h.path[s][1]);
        const err = Math.abs(len - h.distanceM);
        worst = Math.max(worst, err / Math.max(1, h.distanceM));
        assert.ok(err <= 0.002 * h.distanceM + 0.5, `${h.driverId}: path ${len.toFixed(2)} m, answer ${h.distanceM.toFixed(2)} m (${metric})`);
        paths++;
      }
    }
    console.log(`${mapId}: ${queries} queries, ${paths} paths, worst relative length error ${worst.toExponential(2)}`);
    assert.ok(queries > 40 && paths > 100);
    model.close();
  });
}
