// faros/client against a real 3-instance cluster (replication 2, monaco-car)
// whose instances are all its targets: one of them, a replica of the map,
// is SIGKILLed while the client streams updates and asks nearby. The client
// must keep working: no call started after the retry window fails, updates
// go on, nothing written is rejected, and every driver ends at its newest
// position. Then examples/client.mjs runs against what is left of it.
// Prints calls, failures and the updater's figures.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startCluster, type RunningCluster } from '../../src/cli/cluster.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { mulberry32 } from '../../src/rng.js';
import { FarosClient, type FarosClientError, type RejectedUpdate } from '../../src/client/index.js';
import { nearRoad, POINTS, ROOT, poller } from './helpers.js';

const M = 'monaco-car';
const SEED = Number(process.env.FAROS_SEED ?? 1616);
const DEADLINE_MS = 3000;
const DRIVERS = 60;
const logs: string[] = [];
let cluster: RunningCluster | undefined;
let client: FarosClient | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

after(async () => {
  client?.close();
  await cluster?.stop();
});

const waitFor = poller(logs);

test('a 3-instance cluster loses an instance to SIGKILL: the client keeps answering and streaming', { timeout: 180_000 }, async () => {
  const graph = await loadMap(fileURLToPath(new URL('../../../maps/monaco.osm.pbf', import.meta.url)), 'car');
  const rnd = mulberry32(SEED);
  const c = await startCluster({
    nodes: 3,
    replication: 2,
    grpcPort: 0,
    httpPort: 0,
    serveArgs: ['--map', M, '--workers', '1', '--log-level', 'warn'],
    log: (l) => logs.push(l),
  });
  cluster = c;
  client = new FarosClient({ targets: c.nodes.map((n) => n.address), deadlineMs: DEADLINE_MS });
  const cl = client;
  // Each instance through the client's own round-robin: the same two replicas of the map everywhere.
  const replicas = await waitFor('the map on two replicas, seen alike by every instance', async () => {
    const seen = await Promise.all([0, 1, 2].map(() => cl.listMaps({ deadlineMs: 1000 })));
    const reps = seen.map((s) =>
      JSON.stringify(
        s.maps
          .find((m) => m.mapId === M)
          ?.replicas.slice()
          .sort(),
      ),
    );
    return new Set(reps).size === 1 && JSON.parse(reps[0]!)?.length === 2 ? (JSON.parse(reps[0]!) as string[]) : undefined;
  });
  const victim = c.nodes.findIndex((n) => n.peerAddress === replicas[0]);
  assert.ok(victim >= 0);

  // Every update is acknowledged only once every live replica applied it, so
  // the check at the end holds on any replica.
  const rejected: RejectedUpdate[] = [];
  const updater = cl.streamUpdates({ maxBatch: 50, flushMs: 10, ack: 'WRITE_ACK_ALL', onRejected: (r) => rejected.push(r) });
  const reopened: string[] = [];
  updater.on('reopen', (r) => reopened.push(`${r.target} ${r.code}`));
  const newest = new Map<string, { lat: number; lng: number }>();
  const failures: { at: number; started: number; code: string }[] = [];
  let nearbyOk = 0;
  let stop = false;
  let killedAt = 0;
  const acceptedAt: { t: number; accepted: number }[] = [];

  const writing = (async () => {
    let ts = Date.now();
    for (let i = 0; !stop; i++) {
      const driverId = `k${i % DRIVERS}`;
      const p = nearRoad(graph, rnd, 0.0002);
      newest.set(driverId, p);
      await updater.write({ mapId: M, driverId, location: p, timestampMs: ++ts });
      if (i % 10 === 9) {
        acceptedAt.push({ t: Date.now(), accepted: updater.stats().accepted });
        await sleep(10);
      }
    }
  })();
  const asking = (async () => {
    while (!stop) {
      const started = Date.now();
      try {
        const r = await cl.nearby({ mapId: M, location: nearRoad(graph, rnd, 0.0002), k: 5 });
        assert.notEqual(r.stats!.servedBy, '', 'the answer names the instance that served it');
        nearbyOk++;
      } catch (e) {
        const code = (e as FarosClientError).code;
        // A point a little off the road network may not snap: an answer, not a failure of the client.
        if (code !== 'OUT_OF_RANGE') failures.push({ at: Date.now(), started, code });
      }
      await sleep(5);
    }
  })();

  await sleep(2000);
  killedAt = Date.now();
  c.nodes[victim]!.child.kill('SIGKILL');
  await sleep(8000);
  stop = true;
  await Promise.all([writing, asking]);
  await updater.flush();
  const st = updater.stats();

  const late = failures.filter((f) => f.started > killedAt + DEADLINE_MS);
  const byCode: Record<string, number> = {};
  for (const f of failures) byCode[f.code] = (byCode[f.code] ?? 0) + 1;
  const acceptedBefore = (t: number) => acceptedAt.filter((a) => a.t <= t).at(-1)?.accepted ?? 0;
  const lastSeconds = st.accepted - acceptedBefore(Date.now() - 3000);
  const afterFailover = st.accepted - acceptedBefore(killedAt + DEADLINE_MS);
  console.log(
    `# client through SIGKILL: nearby ok=${nearbyOk} failed=${JSON.stringify(byCode)} (late ${late.length}); updates written=${st.written} accepted=${st.accepted} rejected=${st.rejected} superseded=${st.superseded} resent batches=${st.resent} streams=${st.streams} reopens=${JSON.stringify(reopened)}; accepted after kill + ${DEADLINE_MS} ms: ${afterFailover}, in the last 3 s: ${lastSeconds}`,
  );
  assert.deepEqual(late, [], `nearby calls started more than ${DEADLINE_MS} ms after the kill failed`);
  assert.ok(nearbyOk > 10, `only ${nearbyOk} nearby answers`);
  assert.deepEqual(
    rejected.map((r) => `${r.update.driverId} ${r.code} ${r.message}`),
    [],
  );
  assert.ok(afterFailover > 0 && lastSeconds > 0, `updates stalled: ${afterFailover} accepted after the failover, ${lastSeconds} in the last 3 s`);
  assert.equal(st.pending, 0);
  assert.equal(st.accepted + st.superseded, st.written);
  // Every driver at its newest position, read through the client (any instance, any replica).
  for (const [driverId, p] of newest) {
    const g = await cl.getDriver({ mapId: M, driverId });
    assert.deepEqual(g.driver!.location, p, `${driverId} is not at its newest position`);
  }
  await updater.close();

  // examples/client.mjs (the README's) against the cluster as it is now: two instances of three alive.
  const ex = await promisify(execFile)(process.execPath, [join(ROOT, 'examples/client.mjs')], {
    cwd: ROOT,
    timeout: 30_000,
    env: { ...process.env, FAROS_TARGETS: c.nodes.map((n) => n.address).join(','), FAROS_AT: `${M},${POINTS.monaco.lat},${POINTS.monaco.lng}` },
  });
  console.log(ex.stdout.replace(/^/gm, '# example: '));
  assert.match(ex.stdout, /^maps: monaco-car \(\d+ drivers\)$/m);
  assert.match(ex.stdout, /"written":200,"accepted":\d+/);
  assert.match(ex.stdout, /^example-\d+: \d+ m, \d+ s$/m);
  assert.match(ex.stdout, /^watch message 2: /m);
  assert.match(ex.stdout, /^after removeDriver: NOT_FOUND$/m);
});
