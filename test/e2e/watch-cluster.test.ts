// A watch in a real 3-instance cluster (replication 2, monaco-car): opened
// on the instance that holds no replica, it is served by a replica over the
// peer port; that replica is SIGKILLed and the watch moves to the other one
// without ending the client's stream. Checked: after the kill every change
// is still reported (a driver put on the pick-up point, then removed), the
// answers name a live replica, no message repeats the one before it, and the
// stream never ends.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { startCluster, type RunningCluster } from '../../src/cli/cluster.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { call, farosClient, nearRoad, type FarosClient, poller } from './helpers.js';
import { mulberry32 } from '../../src/rng.js';

const MAP = 'monaco-car';
const logs: string[] = [];
let cluster: RunningCluster | undefined;
let clients: FarosClient[] = [];

after(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
});

const until = poller(logs, 20_000);

interface Msg {
  at: number;
  ids: string[];
  costs: number[];
  servedBy: string;
}

test('a watch relayed from a replica that is SIGKILLed moves to the other replica; the client stream goes on', { timeout: 120_000 }, async () => {
  const g = await loadMap(fileURLToPath(new URL('../../../maps/monaco.osm.pbf', import.meta.url)), 'car');
  cluster = await startCluster({
    nodes: 3,
    replication: 2,
    grpcPort: 0,
    httpPort: 0,
    serveArgs: ['--map', MAP, '--workers', '1', '--probe-interval-ms', '300', '--probe-timeout-ms', '500', '--suspect-ms', '1500', '--log-level', 'info'],
    log: (l) => logs.push(l),
  });
  clients = cluster.nodes.map((n) => farosClient(n.address));
  // Every instance's route table has both replicas (so each knows the others as members) before writes with ack ALL.
  const replicas: string[] = await until('2 replicas of monaco-car on every instance', async () => {
    const seen = await Promise.all(
      clients.map(async (c) => (await call(c, 'listMaps', {}, 2000)).maps.find((x: { mapId: string }) => x.mapId === MAP)?.replicas ?? []),
    );
    return seen.every((r: string[]) => r.length === 2 && r.join() === seen[0]!.join()) ? seen[0] : undefined;
  });
  const front = cluster.nodes.findIndex((n) => !replicas.includes(n.peerAddress));
  assert.ok(front >= 0, 'one instance holds no replica');
  const c = clients[front]!;
  const rnd = mulberry32(99);
  const centre = nearRoad(g, rnd, 0);
  const now = Date.now();
  const fleet = Array.from({ length: 60 }, (_, i) => ({
    mapId: MAP,
    driverId: `c${i}`,
    location: { lat: centre.lat + (rnd() - 0.5) * 0.01, lng: centre.lng + (rnd() - 0.5) * 0.01 },
    timestampMs: String(now),
  }));
  for (const u of fleet) await call(c, 'updateDriver', { ...u, ack: 'WRITE_ACK_ALL' }, 5000);

  const got: Msg[] = [];
  let ended: grpc.ServiceError | undefined;
  const st = (c as any).watchNearby({ query: { mapId: MAP, location: centre, k: 5 }, minIntervalMs: 200, minChangeM: 1 }) as grpc.ClientReadableStream<any>;
  st.on('data', (m: any) =>
    got.push({
      at: Date.now(),
      ids: m.drivers.map((d: any) => d.driver.driverId),
      costs: m.drivers.map((d: any) => d.distanceM),
      servedBy: m.stats.servedBy,
    }),
  );
  st.on('error', (e: grpc.ServiceError) => {
    ended = e;
  });
  await until('the first message', () => got[0]);
  const server = got[0]!.servedBy;
  assert.ok(replicas.includes(server), `served by ${server}, a replica (${replicas})`);
  // A driver on the pick-up point is listed first, within the interval and a second.
  const probe = async (id: string, servedBy: (s: string) => boolean, ack: string): Promise<Msg> => {
    const from = got.length;
    await call(c, 'updateDriver', { mapId: MAP, driverId: id, location: centre, timestampMs: '0', ack }, 5000);
    const acked = Date.now();
    const m = await until(`a message listing ${id}`, () => got.slice(from).find((x) => x.ids[0] === id), 15_000);
    assert.ok(servedBy(m.servedBy), `${id} reported by ${m.servedBy}`);
    return { ...m, at: m.at - acked };
  };
  const before = await probe('p-before', (s) => s === server, 'WRITE_ACK_ALL');
  assert.ok(before.at <= 200 + 1000, `reported ${before.at} ms after the ack`);

  const victim = cluster.nodes.findIndex((n) => n.peerAddress === server);
  const killedAt = Date.now();
  cluster.nodes[victim]!.child.kill('SIGKILL');
  const survivor = replicas.find((r) => r !== server)!;
  // Changes made after the kill reach the client through the other replica (or the front instance once it holds one).
  // (Acknowledged by the first replica: the dead one stays in the route table until it is suspected.)
  const after1 = await probe('p-after', (s) => s !== server, 'WRITE_ACK_FIRST');
  const moved = after1.at + (Date.now() - killedAt);
  await call(c, 'removeDriver', { mapId: MAP, driverId: 'p-after' }, 5000);
  const gone = await until('a message without p-after', () => got.slice(-1).find((m) => !m.ids.includes('p-after')), 15_000);
  assert.notEqual(gone.servedBy, server);
  assert.equal(ended, undefined, `the client's stream ended: ${ended?.details}`);
  for (let i = 1; i < got.length; i++) {
    const a = got[i - 1]!,
      b = got[i]!;
    const same = a.ids.join() === b.ids.join() && a.costs.every((x, j) => Math.abs(x - b.costs[j]!) <= 1);
    assert.ok(!same, `message ${i} repeats message ${i - 1} ([${b.ids}], from ${a.servedBy} then ${b.servedBy})`);
  }
  console.log(
    `watch moved from ${server} (killed) to ${got[got.length - 1]!.servedBy} (survivor ${survivor}); a change made after the kill reached the client ${moved} ms after the kill; ${got.length} messages, stream open`,
  );
  st.cancel();
});
