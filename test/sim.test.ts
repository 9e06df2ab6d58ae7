// The fleet simulator (tools/sim): deterministic for a seed, drivers stay on
// roads and move only along allowed directed edges (one-ways, forbidden
// turns), speeds within 5–20 m/s, GPS noise within 15 m.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMap } from '../src/mapbuild/build.js';
import { haversine } from '../src/mapbuild/geo.js';
import { Fleet, Schedule, pointOn, query, slice, type Report } from '../tools/sim/fleet.js';
import type { RoadGraph } from '../src/model/graph/roadgraph.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SEED = Number(process.env.FAROS_SEED ?? 7);
const maps = ['monaco.osm.pbf', 'andorra.osm.pbf'];

const run = (g: RoadGraph, seed: number, drivers: number, steps: number): Report[] => {
  const f = new Fleet(g, { seed, drivers });
  const out: Report[] = [];
  for (let s = 0; s < steps; s++) for (let i = 0; i < drivers; i++) out.push(f.next(i));
  return out;
};

for (const file of maps) {
  test(`${file}: same seed → same reports; another seed → others`, async () => {
    const g = await loadMap(join(ROOT, 'maps', file), 'car');
    const a = run(g, SEED, 50, 30),
      b = run(g, SEED, 50, 30),
      c = run(g, SEED + 1, 50, 30);
    assert.deepEqual(a, b);
    assert.notDeepEqual(
      a.map((r) => [r.lat, r.lng]),
      c.map((r) => [r.lat, r.lng]),
    );
    // a driver's reports do not depend on which other drivers are simulated (processes split the fleet)
    const f = new Fleet(g, { seed: SEED, drivers: 50 });
    const odd = new Schedule(f, slice(50, 1, 2));
    const mine = Array.from({ length: 25 * 30 }, () => odd.take());
    const whole = a.filter((r) => r.index % 2 === 1).sort((x, y) => x.tMs - y.tMs);
    assert.deepEqual(
      mine.sort((x, y) => x.tMs - y.tMs),
      whole,
    );
    assert.deepEqual(query(g, SEED, 12), query(g, SEED, 12));
  });

  test(`${file}: drivers move only along allowed directed edges, on the road, 5–20 m/s, noise ≤ 15 m`, async () => {
    const g = await loadMap(join(ROOT, 'maps', file), 'car');
    const drivers = 200,
      steps = 120;
    const f = new Fleet(g, { seed: SEED, drivers, pOffline: 0.01, pStatus: 0.05 });
    let moves = 0;
    f.trace = (_i, from, to) => {
      moves++;
      const v = g.to(from);
      assert.equal(g.from(to), v, 'next edge starts where the last one ended');
      let allowed = false;
      for (let k = g.outStart[v]!; k < g.outStart[v + 1]!; k++) if (g.outList[k] === to) allowed = true;
      assert.ok(allowed, `directed edge ${to} is not allowed out of vertex ${v} (one-way)`);
      // direction bit: bit0 tail→head, bit1 head→tail
      assert.ok((g.eDirs[to >> 1]! & ((to & 1) === 0 ? 1 : 2)) !== 0, `edge ${to >> 1} is not drivable in direction ${to & 1}`);
      for (let x = g.fbStart[v]!; x < g.fbStart[v + 1]!; x++) assert.ok(!(g.fbIn[x] === from && g.fbOut[x] === to), 'forbidden turn taken');
    };
    const last = new Map<number, Report>();
    let offline = 0,
      switched = 0,
      noiseMax = 0;
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < drivers; i++) {
        const r = f.next(i);
        // on the road: the true point is on the directed edge's geometry
        assert.ok((g.eDirs[r.dirEdge >> 1]! & ((r.dirEdge & 1) === 0 ? 1 : 2)) !== 0);
        const [la, ln] = pointOn(g, r.dirEdge, r.along);
        assert.ok(haversine(la, ln, r.trueLat, r.trueLng) < 1e-6);
        const noise = haversine(r.lat, r.lng, r.trueLat, r.trueLng);
        assert.ok(noise <= 15 + 1e-6, `GPS noise ${noise} m > 15 m`);
        noiseMax = Math.max(noiseMax, noise);
        assert.ok(r.speed >= 5 && r.speed <= 20, `speed ${r.speed}`);
        const p = last.get(i);
        if (p) {
          assert.equal(r.tMs - p.tMs, 1000);
          if (p.status !== r.status) switched++;
          // straight-line displacement cannot exceed the distance driven
          // (lat/lng interpolation along a segment differs from haversine by a few ppm)
          assert.ok(haversine(p.trueLat, p.trueLng, r.trueLat, r.trueLng) <= r.speed * 1.0001 + 1e-3);
        }
        if (r.kind === 'offline') offline++;
        last.set(i, r);
      }
    }
    assert.ok(moves > drivers, 'drivers pass junctions');
    assert.ok(offline > 0 && switched > 0, 'status changes and offline periods happen');
    assert.ok(noiseMax > 10, 'noise spans its range');
  });
}

test('segments of an edge are contiguous: the walk along an edge is a continuous line', async () => {
  const g = await loadMap(join(ROOT, 'maps', 'monaco.osm.pbf'), 'car');
  for (let d = 0; d < Math.min(2 * g.edgeCount, 4000); d++) {
    const len = g.eLen[d >> 1]!;
    const [sl, sg] = pointOn(g, d, 0),
      [el, eg] = pointOn(g, d, len);
    assert.ok(haversine(sl, sg, g.vLat[g.from(d)]!, g.vLng[g.from(d)]!) < 0.01, `edge ${d} start`);
    assert.ok(haversine(el, eg, g.vLat[g.to(d)]!, g.vLng[g.to(d)]!) < 0.01, `edge ${d} end`);
    let prev = pointOn(g, d, 0),
      walked = 0;
    for (let x = 1; x <= 20; x++) {
      const p = pointOn(g, d, (len * x) / 20);
      walked += haversine(prev[0], prev[1], p[0], p[1]);
      prev = p;
    }
    assert.ok(walked <= len + 0.05, `edge ${d}: walked ${walked} > length ${len}`);
  }
});
