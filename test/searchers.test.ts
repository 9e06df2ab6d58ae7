// The search threads (src/threads/searchers.ts): answers equal the
// single-thread model's, also with many searches in flight per thread, the queue is bounded with a clear error, a filter too
// large is refused, a lost thread fails only its own search and is replaced,
// and close() lets queued searches finish, then refuses new ones.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadMap } from '../src/mapbuild/build.js';
import { Shard } from '../src/threads/shard.js';
import { Model } from '../src/model/model.js';
import { WorkerPool } from '../src/threads/pool.js';
import { mulberry32 } from '../src/rng.js';
import { MAPS } from './helpers/sides.js';
import type { RoadGraph } from '../src/model/graph/roadgraph.js';
import type { NearbyQuery } from '../src/model/types.js';

const file = fileURLToPath(new URL('monaco.osm.pbf', MAPS));
const pools: WorkerPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

async function setup(opts: {
  searchThreads: number;
  maxQueue?: number;
}): Promise<{ g: RoadGraph; pool: WorkerPool; shard: Shard; model: Model; point: () => { lat: number; lng: number } }> {
  const g = await loadMap(file, 'car');
  const pool = new WorkerPool({ threads: 1, ...opts });
  pools.push(pool);
  const shard = new Shard(`searchers-${pools.length}`, g, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const model = new Model(g, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const rnd = mulberry32(99);
  const point = () => {
    const v = Math.floor(rnd() * g.vertexCount);
    return { lat: g.vLat[v], lng: g.vLng[v] };
  };
  const now = Date.now();
  const fleet = Array.from({ length: 3000 }, (_, i) => ({
    driverId: `d${i}`,
    ...point(),
    timestampMs: now,
    metadata: { status: i % 3 ? 'available' : 'busy' },
  }));
  for (let i = 0; i < fleet.length; i += 256) await shard.update(fleet.slice(i, i + 256)); // 2 snap tasks at a time
  model.updateBatch(fleet);
  return { g, pool, shard, model, point };
}

test('search threads answer exactly as the single-thread model', async () => {
  const { shard, model, point } = await setup({ searchThreads: 2 });
  const nowMs = Date.now();
  for (let i = 0; i < 60; i++) {
    const q: NearbyQuery = {
      ...point(),
      k: 1 + (i % 20),
      metric: i % 2 ? 'eta' : 'distance',
      maxDistanceM: 3000,
      maxEtaS: 300,
      nowMs,
      filter: i % 3 === 0 ? { status: 'available' } : undefined,
    };
    const [a, b] = [await shard.nearby(q), model.nearby(q)];
    assert.equal(a.ok, b.ok);
    if (!a.ok || !b.ok) continue;
    assert.deepEqual(
      a.drivers.map((d) => [
        d.driver.driverId,
        d.distanceM,
        d.etaS,
        d.driver.lat,
        d.driver.lng,
        d.driver.timestampMs,
        d.driver.metadata,
        d.driver.snapped.wayId,
        d.driver.snapped.t,
      ]),
      b.drivers.map((d) => [
        d.driver.driverId,
        d.distanceM,
        d.etaS,
        d.driver.lat,
        d.driver.lng,
        d.driver.timestampMs,
        d.driver.metadata,
        d.driver.snapped.wayId,
        d.driver.snapped.t,
      ]),
      `query ${i}`,
    );
    assert.equal(a.querySnapped.segment, b.querySnapped.segment);
  }
});

test('many searches in flight on one thread (several per mailbox, the rest queued) each get their own answer', async () => {
  const { shard, model, point } = await setup({ searchThreads: 1 });
  const nowMs = Date.now();
  const qs: NearbyQuery[] = Array.from({ length: 40 }, (_, i) => ({
    ...point(),
    k: 1 + (i % 7),
    metric: i % 2 ? 'eta' : 'distance',
    maxDistanceM: 2000 + 100 * i,
    maxEtaS: 300,
    nowMs,
    filter: i % 3 === 0 ? { status: 'busy' } : undefined,
  }));
  const got = await Promise.all(qs.map((q) => shard.nearby(q)));
  qs.forEach((q, i) => {
    const a = got[i]!,
      b = model.nearby(q);
    assert.equal(a.ok, b.ok, `query ${i}`);
    if (!a.ok || !b.ok) return;
    assert.deepEqual(
      a.drivers.map((d) => [d.driver.driverId, d.distanceM, d.etaS]),
      b.drivers.map((d) => [d.driver.driverId, d.distanceM, d.etaS]),
      `query ${i}`,
    );
    const ph = a.stats.phases!;
    assert.ok(ph.queuedUs >= 0 && ph.searchUs >= 0 && ph.replyUs >= 0, `phases are times: ${JSON.stringify(ph)}`);
  });
});

test('a full search queue is refused with RESOURCE_EXHAUSTED, a huge filter with INVALID_ARGUMENT', async () => {
  const { shard, point } = await setup({ searchThreads: 1, maxQueue: 4 });
  const slow = (): NearbyQuery => ({ ...point(), k: 1000, metric: 'distance', maxDistanceM: 100_000, maxEtaS: 300 });
  const res = await Promise.allSettled(Array.from({ length: 30 }, () => shard.nearby(slow())));
  const refused = res.filter((r) => r.status === 'rejected');
  assert.ok(refused.length > 0 && refused.length < 30, `some refused (${refused.length}/30)`);
  for (const r of refused) {
    const e = (r as PromiseRejectedResult).reason as { code?: string; message: string };
    assert.equal(e.code, 'RESOURCE_EXHAUSTED');
    assert.match(e.message, /searches queued for 1 search threads/);
  }
  const filter = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 'v']));
  // Unknown keys make the filter impossible before it reaches a thread; so use known pairs.
  await shard.update([{ driverId: 'meta', ...point(), timestampMs: Date.now(), metadata: filter }]);
  await assert.rejects(
    shard.nearby({ ...point(), k: 5, metric: 'distance', maxDistanceM: 3000, maxEtaS: 300, filter }),
    (e: { code?: string; message: string }) => e.code === 'INVALID_ARGUMENT' && /filter has 300 entries/.test(e.message),
  );
});

test('a lost search thread fails only its search and is replaced', async () => {
  const { pool, shard, point } = await setup({ searchThreads: 1 });
  const before = pool.threadIds();
  // Kill the thread while it holds a snapshot pin (poll the shared slot table until it does).
  let running: Promise<unknown> | undefined;
  for (let attempt = 0; attempt < 50 && !running; attempt++) {
    const p = shard.nearby({ ...point(), k: 1000, metric: 'distance', maxDistanceM: 100_000, maxEtaS: 300 });
    const until = Date.now() + 200;
    while (Date.now() < until && shard.store.arena.stats().pinnedReaders === 0) {
      /* spin: the search runs on its own thread */
    }
    if (shard.store.arena.stats().pinnedReaders > 0) running = p;
    else await p;
  }
  assert.ok(running, 'caught the search thread inside a search');
  await pool.searchThreadForTest(0).terminate();
  await assert.rejects(running, (e: { code?: string }) => e.code === 'INTERNAL');
  const r = await shard.nearby({ ...point(), k: 5, metric: 'distance', maxDistanceM: 3000, maxEtaS: 300 });
  assert.ok(r.ok && r.drivers.length === 5, 'the replacement thread answers');
  assert.notDeepEqual(pool.threadIds(), before, 'a new thread took its place');
  // The dead thread's reader slot was freed: only the replacement holds one, and nothing stays pinned.
  await shard.update([{ driverId: 'd0', ...point(), timestampMs: Date.now(), metadata: {} }]);
  const st = shard.store.arena.stats();
  assert.equal(st.pinnedReaders, 0, 'no snapshot left pinned by the dead thread');
  assert.equal(st.retiredPending, 0, 'everything retired was reclaimed');
});

test('close() lets queued searches finish, then refuses new ones', async () => {
  const g = await loadMap(file, 'car');
  const pool = new WorkerPool({ threads: 1, searchThreads: 1 });
  const shard = new Shard('searchers-close', g, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  await shard.update([{ driverId: 'x', lat: g.vLat[0], lng: g.vLng[0], timestampMs: Date.now(), metadata: {} }]);
  const calls = Array.from({ length: 20 }, () =>
    shard.nearby({ lat: g.vLat[5], lng: g.vLng[5], k: 1000, metric: 'distance', maxDistanceM: 100_000, maxEtaS: 300 }),
  );
  await pool.close();
  const res = await Promise.allSettled(calls);
  assert.ok(
    res.every((r) => r.status === 'fulfilled' && r.value.ok),
    'every search accepted before close() was answered',
  );
  await assert.rejects(
    shard.nearby({ lat: g.vLat[5], lng: g.vLng[5], k: 1, metric: 'distance', maxDistanceM: 3000, maxEtaS: 300 }),
    (e: { code?: string }) => e.code === 'UNAVAILABLE',
  );
  shard.close();
});
