// Reclaiming interned driver IDs, metadata sets and strings (src/model/store/intern.ts):
// ID churn through a small live set keeps the tables bounded (with a small
// capacity, the append-only tables overflowed); entries are not reused while
// a pinned reader, an export across awaits, or the main thread decoding a
// search answer (its ReuseHold) can still read them; a filter's string numbers
// are not reused before its search runs; an aborted batch leaves the counts
// right; a live set beyond capacity is still refused with RESOURCE_EXHAUSTED.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { loadMap } from '../src/mapbuild/build.js';
import { DriverStore, type SnappedUpdate } from '../src/model/store/store.js';
import { StoreReader } from '../src/model/store/store-reader.js';
import { Snapper, isMiss } from '../src/model/snap/snap.js';
import { Shard } from '../src/threads/shard.js';
import { WorkerPool } from '../src/threads/pool.js';
import { Model } from '../src/model/model.js';
import * as M from '../src/threads/search-mailbox.js';
import { mulberry32 } from '../src/rng.js';
import { MAPS } from './helpers/sides.js';
import type { RoadGraph } from '../src/model/graph/roadgraph.js';

const file = fileURLToPath(new URL('monaco.osm.pbf', MAPS));
let graph: RoadGraph | undefined;
async function map(): Promise<RoadGraph> {
  return (graph ??= await loadMap(file, 'car'));
}

/** n snapped positions on the map (seeded). */
function positions(g: RoadGraph, n: number, seed = 7): Omit<SnappedUpdate, 'driverId' | 'timestampMs' | 'metadata'>[] {
  const snapper = new Snapper(g),
    rnd = mulberry32(seed),
    out = [];
  while (out.length < n) {
    const v = Math.floor(rnd() * g.vertexCount);
    const s = snapper.snap(g.vLat[v], g.vLng[v], 200);
    if (!isMiss(s)) out.push({ lat: g.vLat[v], lng: g.vLng[v], segment: s.segment, t: s.t, snapM: s.distanceM });
  }
  return out;
}

const pools: WorkerPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

test('churning distinct driver IDs through a small live set keeps the tables bounded (removes and TTL expiry)', async () => {
  const g = await map();
  const pos = positions(g, 500);
  // 1,000 driver numbers and 64 KiB of ID bytes: the append-only tables took 1,000 distinct IDs in all.
  const store = new DriverStore(g, { intern: { drivers: 1000, idBytes: 64 * 1024, metasets: 64, pairs: 1024 } });
  const LIVE = 300,
    BATCH = 50,
    TOTAL = 20_000;
  let next = 0,
    ts = 1;
  const live: string[] = [];
  const add = (n: number) => {
    const batch: SnappedUpdate[] = [];
    for (let i = 0; i < n; i++) {
      const id = `driver-${next++}-${'x'.repeat(next % 40)}`; // lengths vary: several byte size classes
      batch.push({ driverId: id, timestampMs: ts++, metadata: { status: next % 3 ? 'available' : 'busy' }, ...pos[next % pos.length] });
      live.push(id);
    }
    store.apply(batch);
  };
  add(LIVE);
  let maxInUse = 0,
    maxBytes = 0;
  while (next < TOTAL) {
    if ((next / BATCH) % 2 === 0) {
      // Explicit removes of the oldest.
      assert.ok(store.remove(live.splice(0, BATCH)).every(Boolean));
    } else {
      // TTL expiry, as Shard.sweep does it: the oldest BATCH are expired.
      const cutoff = ts - LIVE + BATCH;
      const ids = store.expired(cutoff, 0);
      assert.equal(ids.length, BATCH);
      assert.ok(store.remove(ids).every(Boolean));
      live.splice(0, BATCH);
    }
    add(BATCH);
    const st = store.intern.stats();
    maxInUse = Math.max(maxInUse, st.driversInUse);
    maxBytes = Math.max(maxBytes, st.idBytesHighWater);
    assert.equal(st.driversLive, LIVE);
    assert.equal(store.size, LIVE);
  }
  const st = store.intern.stats();
  // No reader is pinned: every removed number is freed at its commit.
  assert.ok(maxInUse <= LIVE + BATCH, `driver numbers in use stayed <= live + one batch (max ${maxInUse})`);
  assert.ok(st.driverHighWater <= LIVE + BATCH, `high-water ${st.driverHighWater}`);
  assert.ok(maxBytes <= (LIVE + BATCH) * (48 + 128), `ID bytes high-water ${maxBytes}`);
  assert.ok(st.freed.drivers >= TOTAL - LIVE - BATCH, `${st.freed.drivers} numbers freed`);
  // The survivors read back right (a reused number carries its new ID).
  for (const id of live.slice(-20)) assert.equal(store.get(id)?.driverId, id);
  assert.equal(store.get('driver-0-x'), undefined);
  assert.equal(store.intern.lookupDriver('driver-0-x'), undefined, 'a freed ID is forgotten');
  store.close();
});

test('metadata sets and their strings are reclaimed (removes and metadata changes), filters stay right', async () => {
  const g = await map();
  const pos = positions(g, 200, 11);
  const model = new Model(g, { snapRadiusM: 200, ttlMs: 3_600_000, intern: { drivers: 4096, idBytes: 1 << 20, metasets: 200, pairs: 2000 } });
  const store = model.store;
  const LIVE = 100;
  let ts = 1;
  const put = (id: string, i: number, meta: Record<string, string>) =>
    store.apply([{ driverId: id, timestampMs: ts++, metadata: meta, ...pos[i % pos.length] }]);
  // Each driver has its own zone value (a new string and a new metaset), changed on every update.
  for (let i = 0; i < LIVE; i++) put(`d${i}`, i, { zone: `z${i}`, status: 'on' });
  for (let round = 1; round <= 50; round++) {
    for (let i = 0; i < LIVE; i++) put(`d${i}`, i, { zone: `z${round * LIVE + i}`, status: 'on' });
    const st = store.intern.stats();
    assert.ok(st.metasetsInUse <= LIVE + 1, `metasets in use ${st.metasetsInUse}`);
    assert.ok(st.stringsInUse <= LIVE + 4, `strings in use ${st.stringsInUse}`);
  }
  // 5,100 distinct metadata sets went through a table of 200.
  const st = store.intern.stats();
  assert.ok(st.freed.metasets >= 5000 && st.freed.strings >= 4900, JSON.stringify(st.freed));
  assert.ok(st.metasetHighWater <= 2 * LIVE, `metaset high-water ${st.metasetHighWater}`);
  // Filters: a current value finds its driver, an old (freed) value finds nobody,
  // though its string number now names another value.
  const last = 50 * LIVE;
  assert.equal(store.intern.filterPairs({ zone: 'z0' }), undefined, 'a freed value is unknown');
  const q = (zone: string) => model.nearby({ ...pos[7], k: 5, metric: 'distance', maxDistanceM: 100_000, maxEtaS: 300, nowMs: ts, filter: { zone } });
  const hit = q(`z${last + 7}`);
  assert.ok(hit.ok);
  assert.deepEqual(
    hit.drivers.map((d) => [d.driver.driverId, d.driver.metadata]),
    [['d7', { zone: `z${last + 7}`, status: 'on' }]],
  );
  const none = q('z7');
  assert.ok(none.ok && none.drivers.length === 0);
  // Removing everyone frees every metaset and string.
  assert.ok(store.remove(Array.from({ length: LIVE }, (_, i) => `d${i}`)).every(Boolean));
  store.apply([]); // a commit: strings retired by the last drain are freed at the next one
  const end = store.intern.stats();
  assert.equal(end.metasetsInUse, 0);
  assert.equal(end.stringsInUse, 0);
  assert.equal(end.driversInUse, 0);
  model.close();
});

test('a reader pinned on an old snapshot keeps reading the right ID and metadata for a number freed after its pin', async () => {
  const g = await map();
  const pos = positions(g, 50, 3);
  const store = new DriverStore(g);
  store.apply([
    { driverId: 'alpha', timestampMs: 1, metadata: { color: 'red' }, ...pos[0] },
    { driverId: 'beta', timestampMs: 1, metadata: { color: 'red' }, ...pos[1] },
  ]);
  const noA = store.intern.lookupDriver('alpha')!;
  const reader = new StoreReader(g, store.buffers);
  reader.begin(1, Infinity, undefined);
  const v = reader.art.get(reader.driverRoot, noA, 0);
  assert.ok(v >= 0);
  const msA = reader.art.i32[v + 11]; // D_MS
  store.remove(['alpha']);
  for (let i = 0; i < 100; i++) store.apply([{ driverId: `new-${i}`, timestampMs: 2, metadata: { color: `c${i}` }, ...pos[2 + (i % 40)] }]);
  for (let i = 0; i < 100; i++) assert.notEqual(store.intern.lookupDriver(`new-${i}`), noA, 'no reuse while pinned');
  assert.equal(reader.intern.driverId(noA), 'alpha');
  assert.ok(reader.compareIds(noA, store.intern.lookupDriver('beta')!) < 0, 'alpha < beta by bytes');
  assert.deepEqual(store.intern.metadataOf(msA), { color: 'red' });
  // alpha comes back while still retired: it keeps its number.
  store.apply([{ driverId: 'alpha', timestampMs: 3, metadata: { color: 'red' }, ...pos[0] }]);
  assert.equal(store.intern.lookupDriver('alpha'), noA);
  store.remove(['alpha']);
  reader.end();
  // Unpinned: the next commit frees alpha's number and a new ID takes it.
  store.apply([{ driverId: 'gamma', timestampMs: 4, metadata: {}, ...pos[3] }]);
  store.apply([{ driverId: 'delta', timestampMs: 4, metadata: {}, ...pos[4] }]);
  assert.ok([store.intern.lookupDriver('gamma'), store.intern.lookupDriver('delta')].includes(noA), 'the number is reused once the reader let go');
  assert.equal(reader.intern.driverId(noA) === 'gamma' || reader.intern.driverId(noA) === 'delta', true);
  reader.close();
  store.close();
});

test("exportSnapshot across awaits exports its snapshot's IDs and metadata while everyone is replaced", async () => {
  const g = await map();
  const pos = positions(g, 100, 5);
  const store = new DriverStore(g);
  const before = Array.from({ length: 100 }, (_, i) => ({ driverId: `old-${i}`, timestampMs: 1, metadata: { n: `v${i}` }, ...pos[i] }));
  store.apply(before);
  const got: { id: string; meta: Record<string, string> }[] = [];
  let round = 0;
  await store.exportSnapshot(async (recs) => {
    for (const r of recs) got.push({ id: r.driverId, meta: r.metadata });
    // Between chunks: replace every driver with a new ID and new metadata.
    const ids = Array.from({ length: 100 }, (_, i) => (round === 0 ? `old-${i}` : `new-${round}-${i}`));
    store.remove(ids);
    round++;
    store.apply(Array.from({ length: 100 }, (_, i) => ({ driverId: `new-${round}-${i}`, timestampMs: 2, metadata: { n: `w${round}-${i}` }, ...pos[i] })));
    await nextTurn();
  }, 10);
  assert.equal(got.length, 100);
  got.sort((a, b) => Number(a.id.slice(4)) - Number(b.id.slice(4)));
  assert.deepEqual(
    got,
    before.map((b) => ({ id: b.driverId, meta: b.metadata })),
  );
  // While pinned, no number was reused: 100 + 10 rounds of 100 new IDs.
  const high = store.intern.stats().driverHighWater;
  assert.equal(high, 1100);
  // Once the export let go, they are: more rounds of new IDs take no new numbers.
  for (let k = 0; k < 10; k++) {
    store.remove(Array.from({ length: 100 }, (_, i) => `new-${round}-${i}`));
    round++;
    store.apply(Array.from({ length: 100 }, (_, i) => ({ driverId: `new-${round}-${i}`, timestampMs: 2, metadata: { n: `w${round}-${i}` }, ...pos[i] })));
  }
  assert.equal(store.intern.stats().driverHighWater, high);
  assert.equal(store.intern.stats().driversInUse, 100);
  store.close();
});

/** The search thread of a 1-thread pool: its mailbox header and how many requests were posted to it. */
function thread0(pool: WorkerPool): { hdr: Int32Array; seq: number } {
  const t = pool.searchThreadForTest(0);
  return { hdr: t.hdr, seq: t.posted() };
}

/** Spin (this thread does nothing else meanwhile) until the search thread has answered everything posted. */
function waitAnswered(pool: WorkerPool): void {
  const until = Date.now() + 10_000;
  const t = thread0(pool);
  while (Atomics.load(t.hdr, M.DONE) < t.seq) if (Date.now() > until) throw new Error('search thread did not answer');
}

test("a search answer decoded after the search thread let go still names the driver it found (the main thread's hold)", async () => {
  const g = await map();
  const pos = positions(g, 10, 13);
  const pool = new WorkerPool({ threads: 1, searchThreads: 1 });
  pools.push(pool);
  const shard = new Shard('hold-answer', g, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const store = shard.store;
  const now = Date.now();
  store.apply([{ driverId: 'old-1', timestampMs: now, metadata: { color: 'red' }, ...pos[0] }]);
  const noOld = store.intern.lookupDriver('old-1')!;
  const p = shard.nearby({ lat: pos[0].lat, lng: pos[0].lng, k: 1, metric: 'distance', maxDistanceM: 100_000, maxEtaS: 300, nowMs: now });
  // The thread answers and unpins; before this thread reads the answer, the
  // driver goes and a new one arrives (its number and metaset would be free).
  waitAnswered(pool);
  store.remove(['old-1']);
  store.apply([{ driverId: 'new-1', timestampMs: now, metadata: { color: 'blue' }, ...pos[1] }]);
  const noNew = store.intern.lookupDriver('new-1');
  const r = await p;
  assert.ok(r.ok);
  assert.deepEqual(
    r.drivers.map((d) => [d.driver.driverId, d.driver.metadata]),
    [['old-1', { color: 'red' }]],
  );
  assert.notEqual(noNew, noOld, 'not reused while the answer was unread');
  // After the answer was used, the number is free again.
  await nextTurn();
  store.apply([{ driverId: 'new-2', timestampMs: now, metadata: {}, ...pos[2] }]);
  store.apply([{ driverId: 'new-3', timestampMs: now, metadata: {}, ...pos[3] }]);
  assert.ok([store.intern.lookupDriver('new-2'), store.intern.lookupDriver('new-3')].includes(noOld), 'reused once the hold was let go');
  shard.close();
});

test("a filter's string numbers are not reused before its search runs", async () => {
  const g = await map();
  const pos = positions(g, 20, 17);
  const pool = new WorkerPool({ threads: 1, searchThreads: 1 });
  pools.push(pool);
  const shard = new Shard('hold-filter', g, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const store = shard.store;
  const now = Date.now();
  store.apply(pos.map((p, i) => ({ driverId: `bg-${i}`, timestampMs: now, metadata: { color: 'grey' }, ...p })));
  store.apply([{ driverId: 'r1', timestampMs: now, metadata: { color: 'red' }, ...pos[0] }]);
  const slow = () => shard.nearby({ lat: pos[0].lat, lng: pos[0].lng, k: 1000, metric: 'distance', maxDistanceM: 100_000, maxEtaS: 300, nowMs: now });
  // Fill the thread's mailbox, so the filtered search waits in the queue (its filter already made).
  const busy = Array.from({ length: M.SLOTS }, slow);
  const red = shard.nearby({
    lat: pos[0].lat,
    lng: pos[0].lng,
    k: 10,
    metric: 'distance',
    maxDistanceM: 100_000,
    maxEtaS: 300,
    nowMs: now,
    filter: { color: 'red' },
  });
  waitAnswered(pool); // idle, nothing pinned; the red search is not dispatched yet
  store.remove(['r1']); // 'red' is used by no metaset once this commit's retirees are freed
  store.apply([{ driverId: 'x1', timestampMs: now, metadata: { color: 'x1' }, ...pos[1] }]);
  store.apply([{ driverId: 'p1', timestampMs: now, metadata: { color: 'purple' }, ...pos[0] }]); // would take red's number
  await Promise.all(busy);
  const r = await red;
  assert.ok(r.ok);
  assert.deepEqual(
    r.drivers.map((d) => d.driver.driverId),
    [],
    'no driver is red now (p1 is purple)',
  );
  const purple = await shard.nearby({
    lat: pos[0].lat,
    lng: pos[0].lng,
    k: 10,
    metric: 'distance',
    maxDistanceM: 100_000,
    maxEtaS: 300,
    nowMs: now,
    filter: { color: 'purple' },
  });
  assert.ok(purple.ok);
  assert.deepEqual(
    purple.drivers.map((d) => d.driver.driverId),
    ['p1'],
  );
  shard.close();
});

test('the TTL sweep of a shard reclaims the numbers of expired drivers', async () => {
  const g = await map();
  const pool = new WorkerPool({ threads: 1, searchThreads: 1 });
  pools.push(pool);
  const shard = new Shard('sweep', g, pool, {
    snapRadiusM: 200,
    ttlMs: 1000,
    sweepIntervalMs: 3_600_000,
    intern: { drivers: 256, idBytes: 1 << 16, metasets: 16, pairs: 64 },
  });
  const pos = positions(g, 100, 19);
  let t = 1_000_000;
  for (let round = 0; round < 20; round++) {
    // 100 new drivers a round; the previous round's expire.
    await shard.update(pos.map((p, i) => ({ driverId: `r${round}-${i}`, lat: p.lat, lng: p.lng, timestampMs: t, metadata: {} })));
    t += 2000;
    assert.equal(shard.sweep(t), 100);
  }
  const st = shard.store.intern.stats();
  assert.equal(st.driversLive, 0);
  assert.ok(st.driverHighWater <= 200, `2,000 IDs through a table of 256 (high-water ${st.driverHighWater})`);
  shard.close();
});

test('a live set beyond capacity is still refused with RESOURCE_EXHAUSTED; an aborted batch leaves the counts right', async () => {
  const g = await map();
  const pos = positions(g, 50, 23);
  const store = new DriverStore(g, { intern: { drivers: 100, idBytes: 4096, metasets: 8, pairs: 64 } });
  const batch = (from: number, n: number, meta: (i: number) => Record<string, string> = () => ({})) =>
    Array.from({ length: n }, (_, i) => ({ driverId: `d${from + i}`, timestampMs: 1, metadata: meta(from + i), ...pos[(from + i) % pos.length] }));
  store.apply(batch(0, 90));
  assert.throws(
    () => store.apply(batch(90, 20)),
    (e: { code?: string; message: string }) => e.code === 'RESOURCE_EXHAUSTED' && /driver table full \(100 drivers stored/.test(e.message),
  );
  // Nothing of the failed batch is stored, and its numbers come back.
  assert.equal(store.size, 90);
  assert.equal(store.get('d95'), undefined);
  store.apply([]);
  assert.equal(store.intern.stats().driversInUse, 90);
  assert.equal(store.intern.stats().driversLive, 90);
  store.remove(batch(0, 50).map((u) => u.driverId));
  store.apply(batch(90, 60)); // 100 live again: fits
  assert.equal(store.size, 100);
  assert.equal(store.get('d149')?.driverId, 'd149');
  // Metadata: 8 distinct sets fit ({} and 7 more), the 9th is refused, and fits once one is no longer used.
  store.remove(batch(90, 60).map((u) => u.driverId));
  store.apply(batch(200, 7, (i) => ({ k: `v${i}` })));
  assert.throws(
    () => store.apply(batch(208, 1, () => ({ k: 'another' }))),
    (e: { code?: string; message: string }) => e.code === 'RESOURCE_EXHAUSTED' && /metadata table full/.test(e.message),
  );
  store.remove(['d200']);
  store.apply(batch(208, 1, () => ({ k: 'another' })));
  assert.deepEqual(store.get('d208')?.metadata, { k: 'another' });
  assert.deepEqual(store.get('d201')?.metadata, { k: 'v201' });
  store.close();
});

test('cycling ID lengths and metadata sizes cannot fill the tables with a small live set (fixed-size storage)', async () => {
  const g = await map();
  const pos = positions(g, 50, 29);
  const LIVE = 50;
  // Room for twice the largest live set: 50 IDs of 128 bytes, 50 sets of 32 pairs (11 chunks of 8 words each).
  const store = new DriverStore(g, { intern: { drivers: 2 * LIVE, idBytes: 2 * LIVE * 128, metasets: 2 * LIVE, pairs: 2 * LIVE * 11 * 8 } });
  let ts = 1,
    prev: string[] = [];
  // 32 rounds: every driver replaced by one with a longer ID and more metadata
  // pairs (slots sized per length would need the sum over all rounds: 50 x 1,056 pair words).
  for (let round = 1; round <= 32; round++) {
    const len = 4 * round; // 4..128 bytes
    const ids = Array.from({ length: LIVE }, (_, i) => `${round}-${i}-`.padEnd(len, 'x'));
    const meta = (i: number) => Object.fromEntries(Array.from({ length: round }, (_, k) => [`k${k}`, `r${round}-d${i}-v${k}`]));
    if (prev.length) assert.ok(store.remove(prev).every(Boolean));
    store.apply(ids.map((id, i) => ({ driverId: id, timestampMs: ts++, metadata: meta(i), ...pos[i] })));
    prev = ids;
    for (const i of [0, 17, 49]) {
      const d = store.get(ids[i]);
      assert.equal(d?.driverId, ids[i]);
      assert.deepEqual(d?.metadata, meta(i));
    }
  }
  // Filters over chained chunks: the last pair of a 32-pair set, and a pair that is not there.
  const reader = new StoreReader(g, store.buffers);
  reader.begin(ts, Infinity, undefined);
  const no = store.intern.lookupDriver(prev[17])!;
  const ms = reader.art.i32[reader.art.get(reader.driverRoot, no, 0) + 11]; // D_MS
  assert.equal(reader.intern.matches(ms, store.intern.filterPairs({ k31: 'r32-d17-v31', k0: 'r32-d17-v0' })!), true);
  assert.equal(reader.intern.matches(ms, store.intern.filterPairs({ k31: 'r32-d18-v31' })!), false);
  reader.close();
  const st = store.intern.stats();
  assert.ok(st.pairWordsHighWater <= 2 * LIVE * 11 * 8, `pair words ${st.pairWordsHighWater}`);
  store.close();
});
