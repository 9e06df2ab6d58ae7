// The threaded model end to end: the writer (this thread) applies random
// updates, removes and expiring drivers while worker threads answer nearby
// queries on pinned snapshots. Every answer must equal the brute-force
// reference on one of the snapshots published while the query was in flight.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadMap } from '../src/mapbuild/build.js';
import { Shard } from '../src/threads/shard.js';
import { Model } from '../src/model/model.js';
import { WorkerPool } from '../src/threads/pool.js';
import { readAll, carRef, MAPS } from './helpers/sides.js';
import { refNearby, type RefDriver, type RefMap } from './reference/index.js';
import type { RoadGraph } from '../src/model/graph/roadgraph.js';
import { mulberry32 } from '../src/rng.js';

const SEED = Number(process.env.FAROS_SEED ?? 424242);
console.log(`# shard test seed ${SEED} (override with FAROS_SEED)`);
const rng = mulberry32;

const pool = new WorkerPool({ threads: 2 });
// Searches on the calling thread while the search threads are idle (the server's default policy), with a large budget.
const inlinePool = new WorkerPool({ threads: 2, inlineSearchMs: 50 });
after(() => Promise.all([pool.close(), inlinePool.close()]));

interface State {
  id: string;
  lat: number;
  lng: number;
  ts: number;
  metadata: Record<string, string>;
}

function answersMatch(got: { id: string; cost: number }[], want: { id: string; cost: number }[]): string | undefined {
  if (got.length !== want.length) return `length ${got.length} ≠ ${want.length}`;
  for (let i = 0; i < got.length; i++) if (Math.abs(got[i].cost - want[i].cost) > 1e-6) return `cost #${i} ${got[i].cost} ≠ ${want[i].cost}`;
  // Ids: equal, except among costs within 1e-6 (tied: order by id, and at the
  // k-th place membership may legitimately differ within the tolerance).
  for (let i = 0; i < got.length; i++) {
    if (got[i].id === want[i].id) continue;
    const tied = want.filter((w) => Math.abs(w.cost - got[i].cost) <= 1e-6).map((w) => w.id);
    const last = Math.abs(want[want.length - 1].cost - got[i].cost) <= 1e-6;
    if (!tied.includes(got[i].id) && !last) return `#${i} ${got[i].id} ≠ ${want[i].id}`;
  }
  return undefined;
}

async function churn(mapFile: string, steps: number, on = pool) {
  const file = fileURLToPath(new URL(mapFile, MAPS));
  const graph: RoadGraph = await loadMap(file, 'car');
  const ref: RefMap = carRef(await readAll(file));
  const ttlMs = 60_000;
  const shard = new Shard(`${mapFile}#test`, graph, on, { snapRadiusM: 200, ttlMs, sweepIntervalMs: 3_600_000 });
  const rnd = rng(SEED);
  const now = Date.now();
  const point = () => {
    const v = Math.floor(rnd() * graph.vertexCount);
    return { lat: graph.vLat[v] + (rnd() - 0.5) * 0.0012, lng: graph.vLng[v] + (rnd() - 0.5) * 0.0012 };
  };
  // versions[i] = every driver stored after the i-th publication.
  const versions: Map<string, State>[] = [new Map()];
  let cur = new Map<string, State>();
  const checks: Promise<void>[] = [];
  let compared = 0;
  for (let step = 0; step < steps; step++) {
    const next = new Map(cur);
    const batch = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => {
      const id = `drv-${Math.floor(rnd() * 120)}`;
      // Some updates are older than what is stored (stale), some expired.
      const age = rnd() < 0.15 ? ttlMs + 5_000 : Math.floor(rnd() * 20_000);
      return { driverId: id, ...point(), timestampMs: now - age, metadata: { status: rnd() < 0.6 ? 'available' : 'busy' } };
    });
    const results = await shard.update(batch);
    batch.forEach((u, i) => {
      const r = results[i];
      const old = next.get(u.driverId);
      if (!r.ok) return;
      assert.equal(r.stale, !!old && old.ts > u.timestampMs, `stale flag of ${u.driverId}`);
      if (!r.stale) next.set(u.driverId, { id: u.driverId, lat: u.lat, lng: u.lng, ts: u.timestampMs, metadata: u.metadata });
    });
    if (rnd() < 0.3) {
      const id = `drv-${Math.floor(rnd() * 120)}`;
      assert.equal(shard.remove(id), next.delete(id));
    }
    cur = next;
    versions.push(cur);
    // Queries run in the workers while the next steps are written.
    for (let j = 0; j < 2; j++) {
      const from = versions.length - 1;
      const q = {
        ...point(),
        k: 1 + Math.floor(rnd() * 8),
        metric: rnd() < 0.5 ? ('distance' as const) : ('eta' as const),
        maxDistanceM: 3000,
        maxEtaS: 300,
        filter: rnd() < 0.3 ? { status: 'available' } : undefined,
        nowMs: now,
      };
      checks.push(
        shard.nearby(q).then((ans) => {
          const to = versions.length - 1;
          const got = ans.ok ? ans.drivers.map((d) => ({ id: d.driver.driverId, cost: q.metric === 'eta' ? d.etaS : d.distanceM })) : undefined;
          const errs: string[] = [];
          for (let v = from; v <= to; v++) {
            const live: RefDriver[] = [...versions[v].values()]
              .filter((d) => now - d.ts <= ttlMs)
              .map((d) => ({ id: d.id, lat: d.lat, lng: d.lng, metadata: d.metadata }));
            const want = refNearby(ref, live, {
              lat: q.lat,
              lng: q.lng,
              k: q.k,
              metric: q.metric,
              limit: q.metric === 'eta' ? q.maxEtaS : q.maxDistanceM,
              ...(q.filter ? { filter: q.filter } : {}),
            });
            if ('error' in want) {
              if (!ans.ok) return;
              errs.push(`v${v}: reference refused, library answered`);
              continue;
            }
            if (!got) {
              errs.push(`v${v}: library refused: ${!ans.ok && ans.message}`);
              continue;
            }
            const diff = answersMatch(
              got,
              want.results.map((r) => ({ id: r.id, cost: q.metric === 'eta' ? r.etaS : r.distanceM })),
            );
            if (diff === undefined) {
              compared++;
              return;
            }
            errs.push(`v${v}: ${diff}`);
          }
          assert.fail(`query ${JSON.stringify(q)} matches no snapshot in [${from}, ${to}]: ${errs.join('; ')}`);
        }),
      );
    }
  }
  await Promise.all(checks);
  assert.equal(compared, steps * 2);
  // Expiry: everything older than the TTL is invisible to get() and swept.
  const expired = [...cur.values()].filter((d) => now - d.ts > ttlMs);
  for (const d of expired) assert.equal(shard.get(d.id, now), undefined);
  assert.equal(shard.sweep(now), expired.length);
  assert.equal(shard.size, cur.size - expired.length);
  shard.close();
}

test('threaded shard equals the reference on bayfront_singapore under churn', { timeout: 120_000 }, () => churn('bayfront_singapore.osm.pbf', 150));
test('threaded shard equals the reference on monaco under churn', { timeout: 120_000 }, () => churn('monaco.osm.pbf', 40));
test('searches run inline on the main thread (threads idle) equal the reference too', { timeout: 120_000 }, async () => {
  await churn('monaco.osm.pbf', 40, inlinePool);
  assert.ok(inlinePool.inlineSearches > 0, 'no search ran inline');
});

test('export a snapshot while writes continue, import it elsewhere', { timeout: 60_000 }, async () => {
  const file = fileURLToPath(new URL('monaco.osm.pbf', MAPS));
  const graph = await loadMap(file, 'car');
  const a = new Shard('export-a', graph, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const b = new Shard('export-b', graph, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const rnd = rng(SEED + 1);
  const now = Date.now();
  const point = () => {
    const v = Math.floor(rnd() * graph.vertexCount);
    return { lat: graph.vLat[v], lng: graph.vLng[v] };
  };
  await a.update(Array.from({ length: 3000 }, (_, i) => ({ driverId: `d${i}`, ...point(), timestampMs: now, metadata: { n: String(i) } })));
  let chunks = 0;
  const exported = await a.exportSnapshot(async (recs) => {
    chunks++;
    b.importRecords(recs);
    // Writes go on between chunks and must not leak into this snapshot.
    await a.update([{ driverId: `late${chunks}`, ...point(), timestampMs: now, metadata: {} }]);
  }, 500);
  assert.equal(exported, 3000);
  assert.equal(chunks, 6);
  assert.equal(b.size, 3000);
  assert.equal(a.size, 3006);
  for (const id of ['d0', 'd1234', 'd2999']) assert.deepEqual(b.get(id, now), a.get(id, now));
  // Import keeps the newest timestamp: an older record does not overwrite.
  const older = {
    ...(await new Promise<import('../src/model/store/store.js').DriverRecord>((res) => a.exportSnapshot((r) => res(r[0]), 1))),
    timestampMs: now - 1000,
    lat: 0,
  };
  b.importRecords([older]);
  assert.equal(b.get(older.driverId, now)!.timestampMs, now);
  a.close();
  b.close();
});

test('a remove is not undone by a snapshot taken before it (tombstones)', { timeout: 60_000 }, async () => {
  const file = fileURLToPath(new URL('monaco.osm.pbf', MAPS));
  const graph = await loadMap(file, 'car');
  const a = new Shard('tomb-a', graph, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const b = new Shard('tomb-b', graph, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const now = Date.now();
  const at = (v: number) => ({ lat: graph.vLat[v], lng: graph.vLng[v] });
  await a.update(['x', 'y', 'z'].map((id, i) => ({ driverId: id, ...at(10 * i), timestampMs: now - 5000, metadata: {} })));
  const snapshot: import('../src/model/store/store.js').DriverRecord[] = [];
  await a.exportSnapshot((recs) => {
    snapshot.push(...recs);
  });
  // b (pulling a's snapshot) receives the removes of x and y before the snapshot's chunk lands.
  assert.equal(b.remove('x', now - 1000), false, 'x not there yet');
  assert.equal(b.remove('y', now - 1000), false);
  assert.equal(b.importRecords(snapshot), 1, 'only z is applied');
  assert.equal(b.get('x', now), undefined, 'the remove of x holds');
  assert.equal(b.get('y', now), undefined);
  assert.ok(b.get('z', now));
  // A record newer than the remove is applied (the driver came back), by import and by update alike.
  assert.equal(b.importRecords([{ ...snapshot.find((r) => r.driverId === 'x')!, timestampMs: now - 500 }]), 1);
  assert.equal(b.get('x', now)!.timestampMs, now - 500);
  const [r] = await b.update([{ driverId: 'y', ...at(40), timestampMs: now - 800, metadata: {} }]);
  assert.ok(r!.ok && !r!.stale, 'an update after the remove is stored');
  assert.ok(b.get('y', now));
  // Tombstones expire after 15 minutes: while it lasts, a remove blocks an older record; once forgotten, it does not.
  const c = new Shard('tomb-c', graph, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const v = { ...snapshot.find((rec) => rec.driverId === 'z')!, driverId: 'v', timestampMs: now - 21 * 60_000 };
  c.remove('v', now - 20 * 60_000);
  assert.equal(c.importRecords([v]), 0, 'v: removed after this record');
  c.remove('w', now); // forgets removes older than 15 minutes
  assert.equal(c.importRecords([v]), 1, 'v: the 20-minute-old remove is forgotten');
  a.close();
  b.close();
  c.close();
});

// Regression: piscina terminated a worker whose task was aborted while it ran;
// a worker that dies inside a search keeps its snapshot pin, the arena can
// never reuse memory again and fills up (it crashed the server under load).
test('deadlines that fire while searches run leave no snapshot pinned', { timeout: 60_000 }, async () => {
  const file = fileURLToPath(new URL('andorra.osm.pbf', MAPS));
  const graph = await loadMap(file, 'car');
  const shard = new Shard('abort-test', graph, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const rnd = rng(SEED + 2);
  const now = Date.now();
  const point = () => {
    const v = Math.floor(rnd() * graph.vertexCount);
    return { lat: graph.vLat[v], lng: graph.vLng[v] };
  };
  await shard.update(Array.from({ length: 5000 }, (_, i) => ({ driverId: `d${i}`, ...point(), timestampMs: now, metadata: {} })));
  const threadsBefore = pool.threadIds();
  let expired = 0,
    answered = 0;
  const calls: Promise<void>[] = [];
  for (let i = 0; i < 300; i++) {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), Math.floor(rnd() * 8));
    // Slow searches (whole map, k=1000) so many are aborted while they run.
    calls.push(
      shard.nearby({ ...point(), k: 1000, metric: 'distance', maxDistanceM: 100_000, maxEtaS: 300, nowMs: now }, ac.signal, Date.now() + 1000).then(
        () => {
          answered++;
        },
        (e: { code?: string }) => {
          assert.equal(e.code, 'DEADLINE_EXCEEDED');
          expired++;
        },
      ),
    );
  }
  await Promise.all(calls);
  assert.ok(expired > 0, 'some calls hit their deadline');
  // Let the workers finish what they had started, then every pin is gone and
  // a commit reclaims everything retired meanwhile.
  await new Promise((r) => setTimeout(r, 500));
  await shard.update([{ driverId: 'd0', ...point(), timestampMs: now + 1, metadata: {} }]);
  await shard.update([{ driverId: 'd1', ...point(), timestampMs: now + 1, metadata: {} }]);
  assert.deepEqual(pool.threadIds(), threadsBefore, 'no worker was terminated by an abort');
  const st = shard.store.arena.stats();
  assert.equal(st.pinnedReaders, 0, 'no reader left pinned');
  assert.equal(st.retiredPending, 0, 'everything retired was reclaimed');
  // The pool still answers (no worker was killed and left broken).
  const r = await shard.nearby({ ...point(), k: 5, metric: 'distance', maxDistanceM: 3000, maxEtaS: 300, nowMs: now });
  assert.ok(r.ok);
  console.log(`# ${expired} of 300 calls expired, ${answered} answered; no pin left`);
  shard.close();
});

// Large batches go to the workers in several tasks and are stored in several
// commits: per item, the answer must be the single-thread model's, in order.
test('a large mixed batch gets the same per-item answers as the single-thread model', { timeout: 60_000 }, async () => {
  const file = fileURLToPath(new URL('monaco.osm.pbf', MAPS));
  const graph = await loadMap(file, 'car');
  const shard = new Shard('batch-test', graph, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const model = new Model(graph, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const rnd = rng(SEED + 3);
  const now = Date.now();
  const v = () => Math.floor(rnd() * graph.vertexCount);
  for (let round = 0; round < 3; round++) {
    // 777 updates of 300 drivers: repeats (some older: stale), points far off the roads (refused).
    const batch = Array.from({ length: 777 }, () => {
      const x = v(),
        far = rnd() < 0.1;
      return {
        driverId: `d${Math.floor(rnd() * 300)}`,
        lat: graph.vLat[x] + (far ? 0.05 : (rnd() - 0.5) * 0.001),
        lng: graph.vLng[x],
        timestampMs: now - Math.floor(rnd() * 10_000),
        metadata: { s: rnd() < 0.5 ? 'a' : 'b' },
      };
    });
    const got = await shard.update(batch);
    const want = model.updateBatch(batch);
    assert.equal(got.length, want.length);
    let stale = 0,
      refused = 0;
    got.forEach((g, i) => {
      const w = want[i];
      assert.equal(g.ok, w.ok, `item ${i} ok`);
      if (g.ok && w.ok) {
        assert.equal(g.stale, w.stale, `item ${i} stale`);
        if (g.stale) stale++;
        for (const k of ['segment', 't', 'distanceM', 'wayId', 'segIndex', 'lat', 'lng'] as const)
          assert.equal(g.snapped[k], w.snapped[k], `item ${i} snapped.${k}`);
      } else if (!g.ok && !w.ok) {
        refused++;
        assert.equal(g.code, 'OUT_OF_RANGE');
        assert.equal(g.nearestM, w.nearestM);
        assert.equal(g.message, w.message);
      }
    });
    assert.ok(stale > 0 && refused > 0, `the batch has stale (${stale}) and refused (${refused}) items`);
  }
  for (let d = 0; d < 300; d++) assert.deepEqual(shard.get(`d${d}`, now), model.get(`d${d}`, now), `driver d${d}`);
  shard.close();
  model.close();
});

// A full driver store refuses with RESOURCE_EXHAUSTED and loses nothing
// already stored.
test('a full arena refuses updates with RESOURCE_EXHAUSTED and keeps what was stored', { timeout: 60_000 }, async () => {
  const file = fileURLToPath(new URL('monaco.osm.pbf', MAPS));
  const graph = await loadMap(file, 'car');
  const shard = new Shard('full-test', graph, pool, { snapRadiusM: 200, ttlMs: 3_600_000, arenaBytes: 512 * 1024 });
  const rnd = rng(SEED + 4);
  const now = Date.now();
  const point = () => {
    const x = Math.floor(rnd() * graph.vertexCount);
    return { lat: graph.vLat[x], lng: graph.vLng[x] };
  };
  const stored = new Map<string, { lat: number; lng: number }>();
  let err: { code?: string; message?: string } | undefined;
  for (let b = 0; b < 200 && !err; b++) {
    const batch = Array.from({ length: 100 }, (_, i) => ({ driverId: `d${b * 100 + i}`, ...point(), timestampMs: now, metadata: {} }));
    try {
      await shard.update(batch);
      for (const u of batch) stored.set(u.driverId, { lat: u.lat, lng: u.lng });
    } catch (e) {
      err = e as typeof err;
    }
  }
  assert.ok(err, 'the arena filled up');
  assert.equal(err.code, 'RESOURCE_EXHAUSTED');
  assert.match(err.message ?? '', /driver store full/);
  assert.ok(stored.size >= 1000, `${stored.size} drivers fit before it was full`);
  for (const [id, p] of stored) {
    const d = shard.get(id, now);
    assert.ok(d, `${id} is still stored`);
    assert.equal(d.lat, p.lat);
    assert.equal(d.lng, p.lng);
  }
  // Still serves reads.
  const r = await shard.nearby({ ...point(), k: 3, metric: 'distance', maxDistanceM: 3000, maxEtaS: 300, nowMs: now });
  assert.ok(r.ok && r.drivers.length === 3);
  shard.close();
});
