// Anti-entropy on two in-process replicas (src/node/anti-entropy.ts with the
// Peer calls short-circuited to the other shard): random divergent
// histories of updates, forwarded records, removes and expired records
// converge, in one round each way, to the newest state of every
// driver (a driver survives only if newer than every remove of it; nothing
// older than the TTL comes back), with equal digests.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadMap } from '../src/mapbuild/build.js';
import { Shard } from '../src/threads/shard.js';
import { WorkerPool } from '../src/threads/pool.js';
import { AntiEntropy } from '../src/node/anti-entropy.js';
import { BUCKETS, Digest, bucketOf } from '../src/model/store/digest.js';
import type { PeerClient } from '../src/proxy/peer-client.js';
import { MAPS } from './helpers/sides.js';
import { mulberry32 } from '../src/rng.js';

const SEED = Number(process.env.FAROS_SEED ?? 151515);
console.log(`# anti-entropy test seed ${SEED} (override with FAROS_SEED)`);
const pool = new WorkerPool({ threads: 2 });
after(() => pool.close());

/** A PeerClient whose Digest, PullBuckets and PullRecords are answered by `shard` (as peer-service.ts does). */
function peerOf(shard: Shard): PeerClient {
  return {
    address: shard.key,
    digest: async (_m: string, nowMs: number) => Uint32Array.from((await shard.digest(nowMs)).words),
    pullBuckets: (_m: string, buckets: readonly number[], nowMs: number) => shard.bucketVersions(buckets, nowMs, 20_000),
    pullRecords: async (_m: string, ids: readonly string[], nowMs: number) => shard.records(ids, nowMs),
  } as unknown as PeerClient;
}

test('digest: order-independent, sensitive to a timestamp and to a remove, buckets by ID', () => {
  const a = new Digest(),
    b = new Digest();
  a.addRecord('x', 1000);
  a.addRecord('y', 2000);
  a.addRemove('z');
  b.addRemove('z');
  b.addRecord('y', 2000);
  b.addRecord('x', 1000);
  assert.deepEqual(a.differing(b.words), []);
  const c = new Digest();
  c.addRecord('x', 1001);
  c.addRecord('y', 2000);
  c.addRemove('z');
  assert.deepEqual(a.differing(c.words), [bucketOf('x')]);
  const d = new Digest();
  d.addRecord('x', 1000);
  d.addRecord('y', 2000);
  assert.deepEqual(a.differing(d.words), [bucketOf('z')]);
  // A timestamp past 2^32 ms (every real one) still changes the digest.
  const e = new Digest(),
    f = new Digest();
  e.addRecord('x', 1_700_000_000_000);
  f.addRecord('x', 1_700_000_000_000 + 2 ** 32);
  assert.equal(e.differing(f.words).length, 1);
  const seen = new Set<number>();
  for (let i = 0; i < 5000; i++) seen.add(bucketOf(`driver-${i}`));
  assert.equal(seen.size, BUCKETS, 'IDs spread over every bucket');
});

test('two replicas with random divergent histories converge to the newest state in one round each way', { timeout: 120_000 }, async () => {
  const file = fileURLToPath(new URL('monaco.osm.pbf', MAPS));
  const graph = await loadMap(file, 'car');
  const ttlMs = 600_000;
  const opts = { snapRadiusM: 200, ttlMs, sweepIntervalMs: 3_600_000 };
  for (let trial = 0; trial < 3; trial++) {
    const rnd = mulberry32(SEED + trial);
    const a = new Shard(`ae-a${trial}`, graph, pool, opts);
    const b = new Shard(`ae-b${trial}`, graph, pool, opts);
    try {
      const now = Date.now();
      const point = () => {
        const v = Math.floor(rnd() * graph.vertexCount);
        return { lat: graph.vLat[v]! + (rnd() - 0.5) * 0.001, lng: graph.vLng[v]! + (rnd() - 0.5) * 0.001 };
      };
      const N = 3000;
      const ids = Array.from({ length: N }, (_, i) => `d${trial}-${i}`);
      // A common past: both replicas hold the same drivers.
      const used = new Set<number>();
      const stamp = (): number => {
        let t: number;
        do t = now - 300_000 + Math.floor(rnd() * 400_000);
        while (used.has(t));
        used.add(t);
        return t;
      };
      await a.update(ids.map((driverId) => ({ driverId, ...point(), timestampMs: stamp(), metadata: { v: 'base' } })));
      await a.exportSnapshot((recs) => void b.importRecords(recs));
      // Then each alone: client updates (any timestamp, older ones too),
      // records forwarded only to it, removes stamped by its clock, and drivers already expired.
      for (const [s, name] of [
        [a, 'a'],
        [b, 'b'],
      ] as const) {
        const ops = 2000 + Math.floor(rnd() * 1000);
        const batch = [];
        for (let i = 0; i < ops; i++) {
          const id = ids[Math.floor(rnd() * N)]!;
          const r = rnd();
          if (r < 0.15) s.remove(id, stamp());
          else if (r < 0.2) {
            const p = point();
            s.importRecords([{ driverId: `${id}-old-${name}`, ...p, timestampMs: now - ttlMs - 1000 - i, metadata: {}, segment: 0, t: 0.5, snapM: 1 }]);
          } else batch.push({ driverId: id, ...point(), timestampMs: stamp(), metadata: { v: `${name}${i}` } });
          if (batch.length >= 200 || i === ops - 1) {
            await s.update(batch.splice(0));
          }
        }
      }
      // The newest state of every driver by the rule: the newest record survives if newer than every remove of it.
      const tombs = (s: Shard) => (s as unknown as { tombstones: Map<string, number> }).tombstones;
      const expected = new Map<string, number | undefined>();
      for (const id of ids) {
        const ra = a.get(id, now)?.timestampMs,
          rb = b.get(id, now)?.timestampMs;
        const r = Math.max(ra ?? -1, rb ?? -1);
        const t = Math.max(tombs(a).get(id) ?? -1, tombs(b).get(id) ?? -1);
        expected.set(id, r > t ? r : undefined);
      }
      const before = (await a.digest(now)).differing((await b.digest(now)).words).length;
      const aeA = new AntiEntropy({ intervalMs: 0, timeoutMs: 1000, serving: () => [], peersOf: () => [], client: () => peerOf(b), log: () => {} });
      const aeB = new AntiEntropy({ intervalMs: 0, timeoutMs: 1000, serving: () => [], peersOf: () => [], client: () => peerOf(a), log: () => {} });
      let rounds = 0;
      for (;;) {
        const da = await aeA.compare('m', a, peerOf(b));
        const db = await aeB.compare('m', b, peerOf(a));
        rounds++;
        if (da === 0 && db === 0) break;
        assert.ok(rounds <= 2, `still differing after ${rounds} rounds each way (${da}, ${db} buckets)`);
      }
      console.log(
        `# trial ${trial}: ${before} of ${BUCKETS} buckets differed; equal after ${rounds - 1} repair round(s) each way; repaired on a ${JSON.stringify(aeA.stats.repaired)}, on b ${JSON.stringify(aeB.stats.repaired)}`,
      );
      assert.ok(before > 200, 'the histories diverged');
      assert.equal(rounds - 1, 1, 'one repair round each way');
      for (const id of ids) {
        const ga = a.get(id, now),
          gb = b.get(id, now);
        assert.equal(ga?.timestampMs, expected.get(id), `${id} on a`);
        assert.equal(gb?.timestampMs, expected.get(id), `${id} on b`);
        if (ga && gb) {
          assert.deepEqual([ga.lat, ga.lng, ga.metadata, ga.snapped.segment], [gb.lat, gb.lng, gb.metadata, gb.snapped.segment], id);
        }
        // Expired drivers stayed where they were, and were not copied.
        for (const [s, other] of [
          ['a', b],
          ['b', a],
        ] as const)
          if (other.store.timestampOf(`${id}-old-${s}`) !== undefined) assert.fail(`expired ${id}-old-${s} was copied`);
      }
      assert.ok(aeA.stats.repaired.record + aeB.stats.repaired.record > 0 && aeA.stats.repaired.remove + aeB.stats.repaired.remove > 0);
    } finally {
      a.close();
      b.close();
    }
  }
});
