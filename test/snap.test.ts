// Snapping's grid fast path (src/model/snap/snap-grid.ts) against the brute-force
// reference and against itself with very small and very large cells: on
// real maps, points near roads, on vertices, anywhere in the bounding box and
// far outside it (where the grid hands over to the flatbush descent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadMap } from '../src/mapbuild/build.js';
import { Snapper, isMiss } from '../src/model/snap/snap.js';
import { SnapGrid } from '../src/model/snap/snap-grid.js';
import { mulberry32 } from '../src/rng.js';
import { MAPS, carRef, readAll } from './helpers/sides.js';
import { refSnap, TIE_M } from './reference/index.js';

const RADIUS = 200;

for (const name of ['monaco', 'bayfront_singapore']) {
  test(`grid snapping equals the reference and every cell size (${name})`, async () => {
    const file = fileURLToPath(new URL(`${name}.osm.pbf`, MAPS));
    const g = await loadMap(file, 'car');
    const ref = carRef(await readAll(file));
    const variants = [new Snapper(g), new Snapper(g, new SnapGrid(g, 3)), new Snapper(g, new SnapGrid(g, 5000))];
    const rnd = mulberry32(11);
    const { minLat, maxLat, minLng, maxLng } = g.meta.bounds;
    const spanLat = maxLat - minLat,
      spanLng = maxLng - minLng;
    const points: [string, number, number][] = [];
    for (let i = 0; i < 400; i++) {
      const s = Math.floor(rnd() * g.segmentCount),
        a = g.segA[s],
        b = g.segB[s],
        t = rnd();
      const off = (rnd() - 0.5) * 0.0012; // up to ~65 m off the segment
      points.push(['near', g.vLat[a] + t * (g.vLat[b] - g.vLat[a]) + off, g.vLng[a] + t * (g.vLng[b] - g.vLng[a]) - off]);
      if (i % 4 === 0) points.push(['vertex', g.vLat[a], g.vLng[a]]);
      if (i % 2 === 0) points.push(['bbox', minLat + rnd() * spanLat, minLng + rnd() * spanLng]);
      if (i % 8 === 0) points.push(['outside', maxLat + (0.01 + rnd() * 0.1) * (rnd() < 0.5 ? 1 : -1) * spanLat * 3, minLng - rnd() * spanLng]);
    }
    let snapped = 0,
      missed = 0;
    for (const [kind, lat, lng] of points) {
      const label = `${name} ${kind} (${lat}, ${lng})`;
      const [main, ...others] = variants.map((v) => v.snap(lat, lng, RADIUS));
      for (const o of others) assert.deepEqual(o, main, `${label}: cell sizes disagree`);
      const r = refSnap(ref, lat, lng, RADIUS);
      const d = isMiss(main) ? main.nearestM : main.distanceM;
      const rd = 'miss' in r ? r.nearestM : r.distanceM;
      if (Math.abs(rd - RADIUS) < 1e-6) continue; // on the radius: float care decides
      assert.equal(isMiss(main), 'miss' in r, `${label}: snapped vs not (lib ${d}, reference ${rd})`);
      assert.ok(Math.abs(d - rd) < TIE_M, `${label}: distance ${d} vs reference ${rd}`);
      if (!isMiss(main) && !('miss' in r) && Math.abs(d - rd) < 1e-6) {
        assert.equal(`${main.wayId}/${main.segIndex}`, `${r.wayId}/${r.segIndex}`, `${label}: segment`);
      }
      if (isMiss(main)) missed++;
      else snapped++;
    }
    assert.ok(snapped > 300 && missed > 30, `both outcomes exercised (${snapped} snapped, ${missed} missed)`);
  });
}
