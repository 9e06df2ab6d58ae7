// The map page's routes in a real 2-instance cluster with replication 1, so
// one instance holds monaco-car and the other does not: the one without it
// still draws the roads and explains an answer (the same paths and settled
// edges as the holder: the replay runs on its own copy of the graph), and its
// live stream says where the drivers are instead of showing none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type RunningCluster } from '../../src/cli/cluster.js';
import { httpJson, POINTS } from './helpers.js';

const M = 'monaco-car';
let cluster: RunningCluster | undefined;
const logs: string[] = [];

before(async () => {
  cluster = await startCluster({
    nodes: 2,
    replication: 1,
    grpcPort: 0,
    httpPort: 0,
    serveArgs: ['--map', M, '--workers', '1'],
    log: (l) => logs.push(l),
  });
});
after(async () => {
  await cluster?.stop();
});

test('an instance without a replica draws the roads and explains answers; its live stream points at the replica', { timeout: 60_000 }, async () => {
  const nodes = cluster!.nodes;
  const http = (i: number) => `http://127.0.0.1:${nodes[i]!.httpPort}`;
  // Wait until both instances route the map to the same single replica.
  let holder = -1;
  for (let t = 0; t < 100 && holder < 0; t++) {
    const lists = await Promise.all([0, 1].map(async (i) => (await httpJson(http(i), 'GET', '/v1/maps')).json.maps?.[0]?.replicas as string[] | undefined));
    if (lists[0]?.length === 1 && lists[0][0] === lists[1]?.[0]) holder = nodes.findIndex((n) => n.peerAddress === lists[0]![0]);
    else await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(holder >= 0, `the instances agreed on one replica: ${logs.slice(-5).join('\n')}`);
  const other = 1 - holder;
  const ring = Array.from({ length: 40 }, (_, i) => ({
    mapId: M,
    driverId: `c${i}`,
    location: { lat: POINTS.monaco.lat + 0.0001 * (i - 20), lng: POINTS.monaco.lng + 0.00013 * ((i * 7) % 40) - 0.0026 },
  }));
  const up = await httpJson(http(other), 'POST', '/v1/drivers:batchUpdate', { updates: ring, ack: 'WRITE_ACK_ALL' });
  assert.equal(up.status, 200, JSON.stringify(up.json));

  // This test is about the instance without a replica; in the seconds after start-up the map may
  // still be settling on its holder, so first the holder answers with the ring (up to 10 s).
  const q = { mapId: M, location: POINTS.monaco, k: 6, metric: 'METRIC_ETA' };
  for (let t = 0; t < 50; t++) {
    const r = await httpJson(http(holder), 'POST', '/v1/nearby', q);
    if (r.json.drivers?.length === 6) break;
    await new Promise((res) => setTimeout(res, 200));
  }

  const roads = await Promise.all([holder, other].map((i) => fetch(`${http(i)}/v1/maps/${M}/roads`).then((r) => r.json())));
  assert.deepEqual(roads[1], roads[0], 'the same road geometry from both');

  const [a, b] = await Promise.all([holder, other].map((i) => httpJson(http(i), 'POST', '/v1/nearby:explain', q)));
  assert.equal(a!.status, 200, JSON.stringify(a!.json));
  assert.equal(b!.status, 200, JSON.stringify(b!.json));
  assert.equal(b!.json.answer.stats.servedBy, nodes[holder]!.peerAddress);
  assert.equal(b!.json.paths.length, 6, JSON.stringify({ answer: b!.json.answer, holderAnswer: a!.json.answer, logs: logs.slice(-15) }).slice(0, 4000));
  assert.deepEqual(b!.json.paths, a!.json.paths);
  assert.deepEqual(b!.json.settledEdges, a!.json.settledEdges);
  assert.equal(a!.json.straightLine.drivers.length, 6);
  assert.match(b!.json.straightLine.unavailable, /holds no replica of "monaco-car": its drivers are on 127\.0\.0\.1:\d+/);

  const res = await fetch(`${http(other)}/v1/maps/${M}/live`);
  const text = await readUntil(res, /\n\n(?:.|\n)*\n\n/, 5000);
  assert.match(text, /event: elsewhere\ndata: \{"mapId":"monaco-car","replicas":\["127\.0\.0\.1:\d+"\]\}/);
  const res2 = await fetch(`${http(holder)}/v1/maps/${M}/live`);
  const text2 = await readUntil(res2, /event: drivers\ndata: .*\n\n/, 5000);
  assert.equal(JSON.parse(/data: (.*)\n/.exec(text2.slice(text2.indexOf('event: drivers')))![1]!).moved.length, 40);
});

async function readUntil(res: Response, re: RegExp, ms: number): Promise<string> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  const end = Date.now() + ms;
  while (!re.test(text) && Date.now() < end) {
    const c = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), end - Date.now()))]);
    if (!c || c.done) break;
    text += dec.decode(c.value, { stream: true });
  }
  await reader.cancel();
  return text;
}
