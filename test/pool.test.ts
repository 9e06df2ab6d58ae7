// The snapping side of the worker pool (src/threads/pool.ts): requests of one
// map that arrive while its threads are busy are merged into one task; every
// caller still gets exactly its own points' answers, in order. A request
// whose deadline passed while it waited is dropped with DEADLINE_EXCEEDED;
// beyond maxQueue waiting requests, RESOURCE_EXHAUSTED.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadMap } from '../src/mapbuild/build.js';
import { Shard } from '../src/threads/shard.js';
import { WorkerPool } from '../src/threads/pool.js';
import { Snapper, isMiss } from '../src/model/snap/snap.js';
import { SNAP_FIELDS } from '../src/threads/messages.js';
import { mulberry32 } from '../src/rng.js';
import { MAPS } from './helpers/sides.js';

const file = fileURLToPath(new URL('monaco.osm.pbf', MAPS));
const pools: WorkerPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

async function setup(maxQueue?: number) {
  const g = await loadMap(file, 'car');
  const pool = new WorkerPool({ threads: 2, searchThreads: 1, maxQueue });
  pools.push(pool);
  const shard = new Shard(`pool-${pools.length}`, g, pool, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const rnd = mulberry32(5);
  const points = (n: number) => {
    const p = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const v = Math.floor(rnd() * g.vertexCount),
        far = rnd() < 0.1;
      p[2 * i] = g.vLat[v] + (far ? 0.05 : (rnd() - 0.5) * 0.002);
      p[2 * i + 1] = g.vLng[v];
    }
    return p;
  };
  return { g, pool, shard, points };
}

test('concurrent snap requests of one map are merged, and each caller gets its own answers', async () => {
  const { g, pool, shard, points } = await setup();
  const snapper = new Snapper(g);
  const reqs = Array.from({ length: 60 }, (_, i) => points(1 + ((i * 37) % 300)));
  let posted = 0;
  const run = pool.run.bind(pool);
  pool.run = ((...a: Parameters<typeof run>) => {
    posted++;
    return run(...a);
  }) as typeof run;
  const outs = await Promise.all(reqs.map((p) => pool.snap(shard.handle, p)));
  pool.run = run;
  assert.ok(posted < reqs.length / 2, `${reqs.length} requests went out as ${posted} tasks`);
  reqs.forEach((p, r) => {
    const out = outs[r];
    assert.equal(out.length, (p.length / 2) * SNAP_FIELDS, `request ${r} length`);
    for (let i = 0; i < p.length / 2; i++) {
      const s = snapper.snap(p[2 * i], p[2 * i + 1], 200);
      const f = SNAP_FIELDS * i;
      if (isMiss(s)) {
        assert.equal(out[f], -1);
        assert.equal(out[f + 2], s.nearestM);
      } else {
        assert.deepEqual([out[f], out[f + 1], out[f + 2]], [s.segment, s.t, s.distanceM], `request ${r} point ${i}`);
      }
    }
  });
  shard.close();
});

test('a waiting snap request past its deadline gets DEADLINE_EXCEEDED; a full wait queue RESOURCE_EXHAUSTED', async () => {
  const { pool, shard, points } = await setup(3);
  const big = () => pool.snap(shard.handle, points(20_000));
  // Two big tasks keep both threads busy; then requests wait.
  const busy = [big(), big()];
  const late = pool.snap(shard.handle, points(10), undefined, Date.now() + 1);
  const waiting = [pool.snap(shard.handle, points(10)), pool.snap(shard.handle, points(10))];
  await assert.rejects(
    pool.snap(shard.handle, points(10)),
    (e: { code?: string; message?: string }) => e.code === 'RESOURCE_EXHAUSTED' && /snap requests queued/.test(e.message ?? ''),
  );
  await assert.rejects(late, (e: { code?: string }) => e.code === 'DEADLINE_EXCEEDED');
  for (const o of await Promise.all(waiting)) assert.equal(o.length, 10 * SNAP_FIELDS);
  await Promise.all(busy);
  assert.equal(pool.queueSize, 0);
  shard.close();
});
