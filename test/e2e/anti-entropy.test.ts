// Anti-entropy and clock skew in a real 3-instance cluster (`faros cluster`'s
// processes, replication 2, --anti-entropy-ms 1000):
// - a replica accepts a forwarded record 10 minutes ahead of its own clock
//   (and a forwarded update older than the TTL): it no longer re-judges the
//   receiving instance's timestamps; each instance exposes the clock skew it
//   observes with each peer, near 0 on one machine;
// - records written straight into ONE replica (Peer.ApplyRecords, which is
//   not forwarded) and removes made on the OTHER replica only
//   (Peer.RemoveDrivers) reach the other replica by digest comparison alone:
//   both hold the same newest state within two intervals. Prints the time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startCluster, type RunningCluster } from '../../src/cli/cluster.js';
import { peerPackage } from '../../src/proxy/peer-client.js';
import { peerChannelCredentials, readPeerTls } from '../../src/proxy/peer-tls.js';
import { call, farosClient, parseMetrics, POINTS, type FarosClient } from './helpers.js';

const M = 'monaco-car';
const AE_MS = 1000;
/**
 * The state-transfer subscriptions of start-up (a replica passes removes on to
 * an instance pulling its snapshot) are over by then: the catch-up pull comes
 * 9 s after serving and subscribes for 18 s (router pullerTtlMs), so 27 s + the pull.
 */
const PULLERS_GONE_MS = 35_000;
const logs: string[] = [];
let cluster: RunningCluster;
let startedAt = 0;
let clients: FarosClient[] = [];
const raw: grpc.Client[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  cluster = await startCluster({
    nodes: 3,
    replication: 2,
    grpcPort: 0,
    httpPort: 0,
    serveArgs: ['--map', M, '--workers', '1', '--anti-entropy-ms', String(AE_MS), '--log-level', 'info'],
    log: (l) => logs.push(l),
  });
  startedAt = Date.now();
  clients = cluster.nodes.map((n) => farosClient(n.address));
  // Every instance counts the others as members before a member's certificate is used on it.
  for (let i = 0; ; i++) {
    const members = await Promise.all(cluster.nodes.map((_, k) => metricsOf(k).then((m) => m.get('faros_cluster_members'))));
    if (members.every((m) => m === 3)) break;
    assert.ok(i < 100, `members ${members.join(', ')} after 20 s`);
    await sleep(200);
  }
});
after(async () => {
  for (const c of [...clients, ...raw]) c.close();
  await cluster?.stop();
});

/** A Peer client of `address` with node `node`'s member certificate. */
const asMember = (address: string, node: number): grpc.Client & Record<string, any> => {
  const dir = cluster.nodes[node]!.tlsDir;
  const { creds, options } = peerChannelCredentials(
    readPeerTls({ caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') }),
  )(address);
  const c = new (peerPackage().Peer as grpc.ServiceClientConstructor)(address, creds, options) as grpc.Client & Record<string, any>;
  raw.push(c);
  return c;
};
const replicasOf = async (): Promise<string[]> => (await call(clients[0], 'listMaps', {})).maps.find((m: { mapId: string }) => m.mapId === M).replicas;
const nodeOf = (peer: string) => cluster.nodes.findIndex((n) => n.peerAddress === peer);
const metricsOf = async (node: number) => parseMetrics(await (await fetch(`http://127.0.0.1:${cluster.nodes[node]!.httpPort}/metrics`)).text());
interface Local {
  ts: number;
  lat: number;
  lng: number;
}
const local = async (peer: grpc.Client, driverId: string): Promise<Local | undefined> => {
  const r = await call(peer, 'GetLocal', { mapId: M, driverId }, 3000);
  return r.driver ? { ts: Number(r.driver.timestampMs), lat: r.driver.location.lat, lng: r.driver.location.lng } : undefined;
};
const record = (driverId: string, timestampMs: number, i = 0) => ({
  driverId,
  lat: POINTS.monaco.lat + i * 1e-6,
  lng: POINTS.monaco.lng,
  timestampMs,
  metadata: { n: String(i) },
  segment: i % 100,
  t: 0.5,
  snapM: 1,
});

test("a replica takes forwarded items by the receiving instance's clock; the clock skew with each peer is exposed", async () => {
  const [r0, r1] = await replicasOf();
  const p0 = asMember(r0!, nodeOf(r1!));
  // 10 minutes ahead of the replica's clock: refused before (limit 5 min + 60 s slack), applied now.
  const ahead = Date.now() + 600_000;
  const r = await call(p0, 'ApplyRecords', { mapId: M, records: [record('future-10min', ahead)] }, 3000);
  assert.equal(r.applied, 1);
  assert.equal((await local(p0, 'future-10min'))?.ts, ahead);
  // A forwarded update (Peer.ApplyUpdates) is not re-judged either: 10 min ahead, or older than the TTL, both stored.
  const u = (driverId: string, ts: number) => ({ mapId: M, driverId, location: POINTS.monaco, timestampMs: String(ts), metadata: {} });
  const out = await call(p0, 'ApplyUpdates', { mapId: M, updates: [u('fwd-ahead', ahead), u('fwd-old', Date.now() - 3_600_000)] }, 3000);
  assert.deepEqual(
    out.outcomes.map((o: { code: string }) => o.code),
    ['', ''],
  );
  assert.equal((await local(p0, 'fwd-ahead'))?.ts, ahead);
  assert.equal(await local(p0, 'fwd-old'), undefined, 'an expired driver is stored but never returned');
  // The receiving instance still checks a client's timestamps by its own clock.
  await assert.rejects(
    call(clients[0], 'updateDriver', { mapId: M, driverId: 'client-ahead', location: POINTS.monaco, timestampMs: String(ahead) }),
    (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /in the future/.test(e.details),
  );
  // Skew gauge: one series per peer, near 0 on one machine.
  let skews: [string, number][] = [];
  // The estimate is off by up to half a round trip: on a loaded machine one probe may read high, the next one low.
  const near = () => skews.length === 2 && skews.every(([, v]) => Math.abs(v) < 0.25);
  for (let i = 0; i < 50 && !near(); i++) {
    skews = [...(await metricsOf(0))].filter(([k]) => k.startsWith('faros_peer_clock_skew_seconds{'));
    if (!near()) await sleep(200);
  }
  console.log(`# ${cluster.nodes[0]!.peerAddress} observes ${skews.map(([k, v]) => `${k} = ${v.toFixed(4)}`).join(', ')}`);
  assert.equal(skews.length, 2, 'one skew series per peer');
  for (const [k, v] of skews) assert.ok(Math.abs(v) < 0.25, `${k} = ${v} s, near 0 on one machine`);
});

test('records written to one replica only and removes made on the other only converge by anti-entropy within two intervals', { timeout: 120_000 }, async () => {
  const [r0, r1] = await replicasOf();
  const p0 = asMember(r0!, nodeOf(r1!)),
    p1 = asMember(r1!, nodeOf(r0!));
  // Drivers on both replicas (a client update is forwarded), to be removed on r1 only.
  const victims = Array.from({ length: 50 }, (_, i) => `victim-${i}`);
  const now = Date.now();
  await Promise.all(
    victims.map((driverId, i) =>
      call(clients[0], 'updateDriver', {
        mapId: M,
        driverId,
        location: { lat: POINTS.monaco.lat + i * 1e-6, lng: POINTS.monaco.lng },
        timestampMs: String(now),
      }),
    ),
  );
  for (let i = 0; (await local(p0, victims[49]!)) === undefined || (await local(p1, victims[49]!)) === undefined; i++) {
    assert.ok(i < 100, 'the victims reach both replicas');
    await sleep(50);
  }
  const wait = PULLERS_GONE_MS - (Date.now() - startedAt);
  if (wait > 0) {
    console.log(`# waiting ${wait} ms for the start-up snapshot subscriptions to end (a remove would be passed on to a puller)`);
    await sleep(wait);
  }
  const [m0, m1] = [await metricsOf(nodeOf(r0!)), await metricsOf(nodeOf(r1!))];
  const repaired = (m: Map<string, number>, kind: string) => m.get(`faros_anti_entropy_repaired_records_total{kind="${kind}"}`) ?? 0;
  // The divergence: 500 records on r0 only, 50 removes on r1 only.
  const ids = Array.from({ length: 500 }, (_, i) => `ae-${i}`);
  const t0 = Date.now();
  assert.equal((await call(p0, 'ApplyRecords', { mapId: M, records: ids.map((id, i) => record(id, t0, i)) }, 5000)).applied, 500);
  assert.equal((await call(p1, 'RemoveDrivers', { mapId: M, driverIds: victims }, 5000)).removed, 50);
  const divergedSeen = (await local(p1, ids[499]!)) === undefined && (await local(p0, victims[49]!)) !== undefined;
  let ms = 0;
  for (;;) {
    const [a, b, c, d] = await Promise.all([local(p1, ids[0]!), local(p1, ids[499]!), local(p0, victims[0]!), local(p0, victims[49]!)]);
    ms = Date.now() - t0;
    if (a && b && !c && !d) break;
    assert.ok(ms < 4 * AE_MS + 5000, `not converged after ${ms} ms`);
    await sleep(50);
  }
  // Give the last buckets of the same round time to land, then compare everything.
  await sleep(200);
  for (const id of [...ids, ...victims]) {
    const [a, b] = await Promise.all([local(p0, id), local(p1, id)]);
    assert.deepEqual(a, b, id);
    if (victims.includes(id)) assert.equal(a, undefined, `${id} removed on both`);
    else assert.equal(a?.ts, t0, `${id} on both`);
  }
  const [n0, n1] = [await metricsOf(nodeOf(r0!)), await metricsOf(nodeOf(r1!))];
  const recs = repaired(n1, 'record') - repaired(m1, 'record'),
    rems = repaired(n0, 'remove') - repaired(m0, 'remove');
  console.log(
    `# converged ${ms} ms after the writes (--anti-entropy-ms ${AE_MS}; divergence seen right after the writes: ${divergedSeen}); repaired: ${recs} records on ${r1}, ${rems} removes on ${r0}; rounds on ${r0}: ${[
      ...n0,
    ]
      .filter(([k]) => k.startsWith('faros_anti_entropy_rounds_total'))
      .map(([k, v]) => `${k.replace('faros_anti_entropy_rounds_total', '')} ${v}`)
      .join(', ')}`,
  );
  assert.ok(ms <= 2 * AE_MS + 2000, `converged in ${ms} ms, within two intervals (+ 2 s slack for a loaded machine)`);
  assert.ok(recs >= 500, `the 500 records reached ${r1} by anti-entropy (${recs})`);
  assert.ok(rems >= 50, `the 50 removes reached ${r0} by anti-entropy (${rems})`);
  assert.ok(n0.has(`faros_anti_entropy_last_converged_seconds{map_id="${M}"}`));
});
