// State transfer of one map replica (ShardSet) with a fake source: while
// every source fails the replica does not serve reads (they go to the other
// replicas) but takes writes, and it keeps trying until a pull succeeds; a
// map owned again after draining catches up before it serves again.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ShardSet } from '../src/node/shards.js';
import { WorkerPool } from '../src/threads/pool.js';
import type { PeerClient } from '../src/proxy/peer-client.js';
import type { MapEntry } from '../src/mapbuild/catalog.js';

const pool = new WorkerPool({ threads: 1, searchThreads: 1 });
after(() => pool.close());
const entry: MapEntry = {
  id: 'monaco-car',
  file: fileURLToPath(new URL('../../maps/monaco.osm.pbf', import.meta.url)),
  profile: 'car',
  snapRadiusM: 200,
  ttlS: 300,
};
const until = async (what: string, ok: () => boolean, ms = 20_000): Promise<void> => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) assert.fail(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a replica whose sources all fail does not serve reads, takes writes, and serves once a pull succeeds', { timeout: 60_000 }, async () => {
  let failures = 4,
    pulls = 0;
  const source = {
    address: 'peer:1',
    pullSnapshot: async (_m: string, _req: string, onChunk: (r: unknown[]) => void) => {
      pulls++;
      if (failures-- > 0) throw new Error('the source is restarting');
      onChunk([]);
      return 0;
    },
  } as unknown as PeerClient;
  const ready: string[] = [];
  const set = new ShardSet({
    pool,
    log: () => {},
    dropGraceMs: 1000,
    self: 'me:1',
    catchUpMs: 600_000,
    transferRetryMs: 100,
    onMapReady: (id) => ready.push(id),
  });
  set.ensure(entry, async () => [source]);
  await until('three failed rounds', () => pulls >= 3);
  assert.equal(set.get(entry.id)!.state, 'TRANSFERRING');
  assert.equal(set.serving(entry.id), undefined, 'a replica that is not caught up must not answer reads');
  assert.ok(set.writable(entry.id), 'writes are still applied while it catches up');
  assert.deepEqual(ready, []);
  await until('a successful pull', () => set.get(entry.id)!.state === 'SERVING');
  assert.ok(set.serving(entry.id));
  assert.deepEqual(ready, [entry.id], 'ready is reported once, when it first serves');
  assert.equal(pulls, 5);
  set.close();
});

test('a map owned again while draining pulls from the other replicas before it serves again', { timeout: 60_000 }, async () => {
  let pulls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const source = {
    address: 'peer:1',
    pullSnapshot: async () => {
      pulls++;
      if (pulls > 1) await gate; // the catch-up pull waits until the test has looked
      return 0;
    },
  } as unknown as PeerClient;
  const set = new ShardSet({ pool, log: () => {}, dropGraceMs: 60_000, self: 'me:1', catchUpMs: 600_000 });
  set.ensure(entry, async () => [source]);
  await until('serving', () => set.get(entry.id)?.state === 'SERVING');
  set.release(entry.id);
  assert.equal(set.get(entry.id)!.state, 'DRAINING');
  set.ensure(entry, async () => [source]);
  await until('the catch-up pull', () => pulls === 2);
  assert.equal(set.get(entry.id)!.state, 'TRANSFERRING');
  assert.equal(set.serving(entry.id), undefined);
  release();
  await until('serving again', () => set.get(entry.id)!.state === 'SERVING');
  set.close();
});
