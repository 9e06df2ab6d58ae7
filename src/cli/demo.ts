// `faros demo` (what `npm start` runs until the server lands): loads a bundled
// map from the catalog, places seeded random drivers on it, answers a few
// nearby queries and prints them, so a fresh clone shows Faros working.
import { loadMap, type Log } from '../mapbuild/build.js';
import { loadCatalog } from '../mapbuild/catalog.js';
import { Model } from '../model/model.js';
import { mulberry32 } from '../rng.js';

export async function runDemo(o: { mapId: string; drivers: number; seed: number; log: Log }): Promise<void> {
  const entry = loadCatalog().find((m) => m.id === o.mapId);
  if (!entry)
    throw new Error(
      `unknown map ID "${o.mapId}": the catalog (maps/maps.json) has ${loadCatalog()
        .map((m) => m.id)
        .join(', ')}`,
    );
  const g = await loadMap(entry.file, entry.profile, { log: o.log });
  const model = new Model(g, { snapRadiusM: entry.snapRadiusM, ttlMs: entry.ttlS * 1000 });
  const rnd = mulberry32(o.seed);
  const near = () => {
    const v = Math.floor(rnd() * g.vertexCount);
    return { lat: g.vLat[v] + (rnd() - 0.5) * 0.0008, lng: g.vLng[v] + (rnd() - 0.5) * 0.0008 };
  };
  const now = Date.now();
  let t0 = performance.now();
  for (let i = 0; i < o.drivers; i++)
    model.update({ driverId: `driver-${i}`, ...near(), timestampMs: now, metadata: { status: rnd() < 0.7 ? 'available' : 'busy' } });
  console.log(`${o.mapId}: ${g.meta.counts.vertices} road vertices; ${model.size} drivers placed in ${(performance.now() - t0).toFixed(0)} ms`);
  for (let q = 0; q < 3; q++) {
    const p = near();
    t0 = performance.now();
    const r = model.nearby({ ...p, k: 5, metric: q === 2 ? 'eta' : 'distance', maxDistanceM: 3000, maxEtaS: 300, filter: { status: 'available' } });
    const ms = (performance.now() - t0).toFixed(2);
    if (!r.ok) {
      console.log(`query at ${p.lat.toFixed(5)},${p.lng.toFixed(5)}: ${r.message}`);
      continue;
    }
    console.log(
      `\n5 nearest available drivers by ${q === 2 ? 'ETA' : 'road distance'} to ${p.lat.toFixed(5)},${p.lng.toFixed(5)} (snapped ${r.querySnapped.distanceM.toFixed(1)} m onto way ${r.querySnapped.wayId}) in ${ms} ms:`,
    );
    for (const d of r.drivers) console.log(`  ${d.driver.driverId.padEnd(14)} ${d.distanceM.toFixed(1).padStart(8)} m ${d.etaS.toFixed(1).padStart(7)} s`);
  }
}
