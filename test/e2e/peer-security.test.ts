// The instance-to-instance API of a real 3-instance cluster (`faros cluster`'s
// processes, mutual TLS with a throwaway CA): not on the public ports, refused
// without a certificate, with another CA's and from a non-member; peer input
// validated (the issue's crash and pinning cases); a stalled snapshot pull
// releases its pin; a 10,000-update batch near the 4 MiB limit reaches both
// replicas through an instance that holds no replica, and so does a NearbyBatch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startCluster, type RunningCluster } from '../../src/cli/cluster.js';
import { issueCertificate } from '../../src/cli/certs.js';
import { peerPackage, type PeerClient } from '../../src/proxy/peer-client.js';
import { peerChannelCredentials, readPeerTls, type PeerCredentials } from '../../src/proxy/peer-tls.js';
import { call, callError, farosClient, httpJson, parseMetrics, POINTS, stream, type FarosClient } from './helpers.js';

const M = 'monaco-car';
const logs: string[] = [];
let cluster: RunningCluster;
let clients: FarosClient[] = [];
const raw: grpc.Client[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  cluster = await startCluster({
    nodes: 3,
    replication: 2,
    grpcPort: 0,
    httpPort: 0,
    serveArgs: ['--map', M, '--workers', '1', '--max-snapshot-pin-ms', '1500', '--log-level', 'info'],
    log: (l) => logs.push(l),
  });
  clients = cluster.nodes.map((n) => farosClient(n.address));
});
after(async () => {
  for (const c of [...clients, ...raw]) c.close();
  await cluster?.stop();
});

const tlsOf = (dir: string): PeerCredentials =>
  peerChannelCredentials(readPeerTls({ caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') }));
/** A raw Peer client (any credentials), to call methods with any message. */
function peerRaw(address: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): grpc.Client & Record<string, any> {
  const Ctor = peerPackage().Peer as grpc.ServiceClientConstructor;
  const c = new Ctor(address, creds, options) as grpc.Client & Record<string, any>;
  raw.push(c);
  return c;
}
const asMember = (address: string, node = 0) => {
  const { creds, options } = tlsOf(cluster.nodes[node]!.tlsDir)(address);
  return peerRaw(address, creds, options);
};
const alive = () => cluster.nodes.every((n) => n.child.exitCode === null && n.child.signalCode === null);
const replicasOf = async (): Promise<string[]> => (await call(clients[0], 'listMaps', {})).maps.find((m: { mapId: string }) => m.mapId === M).replicas;

test('the Peer service is not on the public ports', async () => {
  for (const n of cluster.nodes) {
    const c = peerRaw(n.address, grpc.credentials.createInsecure());
    const e = await callError(c, 'Status', {}, 2000);
    assert.equal(e.code, 'UNIMPLEMENTED', `Peer/Status on the public gRPC port of ${n.address}`);
    const h = await httpJson(`http://127.0.0.1:${n.httpPort}`, 'POST', '/faros.v1.Peer/Status', {});
    assert.equal(h.status, 404);
  }
});

test("the peer port refuses a caller without a certificate, with another CA's, or from a non-member", async () => {
  const other = join(cluster.certsDir, 'elsewhere');
  await issueCertificate(join(other, 'ca'), cluster.nodes[0]!.peerAddress, join(other, 'node'));
  const intruder = join(cluster.certsDir, 'intruder');
  await issueCertificate(cluster.certsDir, '127.0.0.1:1', intruder); // signed by the cluster CA, names no member
  const ca = readPeerTls({ caFile: join(cluster.certsDir, 'ca.crt'), certFile: join(intruder, 'tls.crt'), keyFile: join(intruder, 'tls.key') }).ca;
  for (const n of cluster.nodes) {
    const noCert = peerRaw(n.peerAddress, grpc.credentials.createSsl(ca), { 'grpc.ssl_target_name_override': 'faros-peer' });
    const plain = peerRaw(n.peerAddress, grpc.credentials.createInsecure());
    const o = tlsOf(join(other, 'node'))(n.peerAddress);
    const otherCa = peerRaw(n.peerAddress, o.creds, o.options);
    for (const [who, c] of [
      ['no certificate', noCert],
      ['plaintext', plain],
      ['another CA', otherCa],
    ] as const) {
      const e = await callError(c, 'Status', {}, 3000);
      assert.equal(e.code, 'UNAVAILABLE', `${who} on ${n.peerAddress}: refused at the TLS layer (${e.details})`);
    }
    const i = tlsOf(intruder)(n.peerAddress);
    const stranger = peerRaw(n.peerAddress, i.creds, i.options);
    for (const [method, req] of [
      ['Status', {}],
      ['RemoveDrivers', { mapId: M, driverIds: ['x'] }],
      ['ApplyRecords', { mapId: M, records: [] }],
      ['GetLocal', { mapId: M, driverId: 'x' }],
      ['ProbeVia', { target: cluster.nodes[1]!.peerAddress }],
    ] as const) {
      const e = await callError(stranger, method, req, 3000);
      assert.equal(e.code, 'PERMISSION_DENIED', `${method} from a non-member on ${n.peerAddress}`);
      assert.match(e.details, /not a member/);
    }
    const s = stranger.PullSnapshot({ mapId: M, requester: '127.0.0.1:1' });
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      s.on('error', resolve);
      s.on('data', () => {});
    });
    assert.equal(grpc.status[err.code], 'PERMISSION_DENIED');
  }
  assert.ok(alive());
});

test('the issue\'s crash: PullSnapshot with requester "a\\nb", then a public update: every instance lives', async () => {
  const reps = await replicasOf();
  const src = cluster.nodes.find((n) => n.peerAddress === reps[0])!;
  const s = asMember(src.peerAddress).PullSnapshot({ mapId: M, requester: 'a\nb' });
  const err = await new Promise<grpc.ServiceError>((resolve) => {
    s.on('error', resolve);
    s.on('data', () => {});
  });
  assert.equal(grpc.status[err.code], 'INVALID_ARGUMENT');
  assert.match(err.details, /not host:port/);
  // A member's certificate cannot pull on another member's behalf either.
  const other = cluster.nodes.find((n) => n !== src)!;
  const s2 = asMember(src.peerAddress, cluster.nodes.indexOf(other)).PullSnapshot({ mapId: M, requester: src.peerAddress });
  const err2 = await new Promise<grpc.ServiceError>((resolve) => {
    s2.on('error', resolve);
    s2.on('data', () => {});
  });
  assert.equal(grpc.status[err2.code], 'PERMISSION_DENIED');
  assert.match(err2.details, /not the instance the certificate names/);
  for (const c of clients) await call(c, 'updateDriver', { mapId: M, driverId: 'after-crash-case', location: POINTS.monaco }, 5000);
  await sleep(300);
  assert.ok(alive(), 'no instance died');
});

test('ProbeVia probes members only: a member it knows is probed, any other address is refused without a connection', async () => {
  const [a, b, c] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
  const helper = asMember(b.peerAddress, 0);
  const ok = await new Promise<any>((resolve, reject) =>
    helper.ProbeVia({ target: c.peerAddress, timeoutMs: 500 }, new grpc.Metadata(), { deadline: Date.now() + 2000 }, (e: unknown, r: unknown) =>
      e ? reject(e) : resolve(r),
    ),
  );
  assert.equal(ok.reachable, true);
  assert.equal(ok.status.instance, c.peerAddress);
  for (const [target, code, msg] of [
    ['127.0.0.1:22', 'FAILED_PRECONDITION', /probes members only/],
    ['evil.example:443', 'FAILED_PRECONDITION', /probes members only/],
    ['a\nb', 'INVALID_ARGUMENT', /not host:port/],
    ['', 'INVALID_ARGUMENT', /not host:port/],
  ] as const) {
    const e = await callError(helper, 'ProbeVia', { target, timeoutMs: 500 }, 3000);
    assert.equal(e.code, code, `ProbeVia of ${JSON.stringify(target)}`);
    assert.match(e.details, msg);
  }
  // Asked about itself: it answers, so it is reachable.
  const self = await new Promise<any>((resolve, reject) =>
    asMember(a.peerAddress, 1).ProbeVia({ target: a.peerAddress }, new grpc.Metadata(), { deadline: Date.now() + 2000 }, (e: unknown, r: unknown) =>
      e ? reject(e) : resolve(r),
    ),
  );
  assert.equal(self.reachable, true);
  assert.ok(alive());
});

test('ApplyRecords is validated like a client update: timestamp 1e300 and other bad records change nothing', async () => {
  const reps = await replicasOf();
  const target = asMember(
    reps[0]!,
    cluster.nodes.findIndex((n) => n.peerAddress === reps[1]),
  );
  const good = { driverId: 'pinned', lat: POINTS.monaco.lat, lng: POINTS.monaco.lng, timestampMs: Date.now(), metadata: {}, segment: 0, t: 0.5, snapM: 1 };
  const bad: [string, object, RegExp][] = [
    ['timestamp 1e300', { ...good, timestampMs: 1e300 }, /timestamp_ms/],
    ['negative timestamp', { ...good, timestampMs: -5 }, /timestamp_ms/],
    ['segment outside the map', { ...good, segment: 1e9 }, /segment/],
    ['fraction outside [0, 1]', { ...good, t: 7 }, /records\[0\]\.t/],
    ['lone surrogate ID', { ...good, driverId: 'x\ufffd' }, /U\+FFFD/],
    ['latitude 200', { ...good, lat: 200 }, /lat/],
    ['metadata with 40 pairs', { ...good, metadata: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])) }, /40 pairs/],
  ];
  for (const [what, rec, msg] of bad) {
    const e = await callError(target, 'ApplyRecords', { mapId: M, records: [rec] }, 3000);
    assert.equal(e.code, 'INVALID_ARGUMENT', what);
    assert.match(e.details, msg, what);
  }
  const many = await callError(target, 'ApplyRecords', { mapId: M, records: Array.from({ length: 20_001 }, () => good) }, 10_000);
  assert.equal(many.code, 'INVALID_ARGUMENT');
  assert.match(many.details, /at most 20000/);
  // Nothing was stored; a real update of that driver is applied, not "stale".
  assert.equal((await callError(clients[0], 'getDriver', { mapId: M, driverId: 'pinned' })).code, 'NOT_FOUND');
  const r = await call(clients[0], 'updateDriver', { mapId: M, driverId: 'pinned', location: POINTS.monaco });
  assert.equal(r.stale, false);
});

test('a stalled snapshot pull releases its pin after --max-snapshot-pin-ms; the cluster keeps replicating', { timeout: 60_000 }, async () => {
  // Enough drivers that a reader who stops reading fills the flow-control window.
  const s = clients[0].streamDriverUpdates();
  const acks: number[] = [];
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (r: { accepted: number }) => acks.push(r.accepted));
    s.on('end', resolve);
    s.on('error', reject);
  });
  for (let b = 0; b < 100; b++) {
    s.write({
      updates: Array.from({ length: 1000 }, (_, i) => ({
        mapId: M,
        driverId: `bulk-${b}-${i}`,
        location: { lat: POINTS.monaco.lat + (i % 50) * 1e-5, lng: POINTS.monaco.lng },
        metadata: { fleet: 'bulk', note: 'n'.repeat(100) },
      })),
    });
  }
  s.end();
  await done;
  assert.equal(
    acks.reduce((a, b) => a + b, 0),
    100_000,
  );
  const reps = await replicasOf();
  const src = cluster.nodes.find((n) => n.peerAddress === reps[0])!;
  const requester = cluster.nodes.find((n) => n.peerAddress === reps[1])!;
  // The source must hold the whole fleet first (replication is asynchronous), or its snapshot may fit in the puller's buffers.
  const held = async (): Promise<number> => {
    const pc = cluster.peerClient(src.peerAddress, cluster.nodes.indexOf(requester));
    try {
      return Number((await pc.status(2000)).maps.find((m) => m.mapId === M)?.drivers ?? 0);
    } finally {
      pc.close();
    }
  };
  for (let t = 0; t < 200 && (await held()) < 100_000; t++) await sleep(100);
  assert.ok((await held()) >= 100_000, 'the source holds the whole fleet');
  const metric = async (): Promise<number> =>
    parseMetrics((await httpJson(`http://127.0.0.1:${src.httpPort}`, 'GET', '/metrics')).json as string).get('faros_snapshot_pulls_active') ?? -1;
  const stream = asMember(src.peerAddress, cluster.nodes.indexOf(requester)).PullSnapshot({ mapId: M, requester: requester.peerAddress });
  let got = 0;
  // 'status' carries the final code whichever of 'end' and 'error' comes first.
  const ended = new Promise<grpc.StatusObject>((resolve) => {
    stream.on('status', resolve);
    stream.on('error', () => {});
  });
  let stall = true;
  stream.on('data', () => {
    got++;
    if (stall) stream.pause();
  }); // read one chunk, then stall
  const t0 = Date.now();
  while ((await metric()) !== 1 && Date.now() - t0 < 5000) await sleep(50);
  assert.equal(await metric(), 1, 'the pull holds a snapshot');
  while ((await metric()) !== 0 && Date.now() - t0 < 10_000) await sleep(100);
  const releasedMs = Date.now() - t0;
  assert.equal(await metric(), 0, 'the stalled pull released its snapshot');
  stall = false;
  stream.resume();
  const e = await ended;
  assert.equal(grpc.status[e.code], 'DEADLINE_EXCEEDED', `the stalled pull ended with ${grpc.status[e.code]} after ${got} chunks`);
  assert.match(e.details, /max-snapshot-pin-ms/);
  console.log(`# stalled pull: pin released ${releasedMs} ms after it started (bound 1500 ms)`);
  assert.ok(alive());
});

test('a 10,000-update batch near the 4 MiB limit, sent to an instance holding no replica, reaches both replicas', { timeout: 60_000 }, async () => {
  const reps = await replicasOf();
  const outsider = cluster.nodes.findIndex((n) => !reps.includes(n.peerAddress));
  assert.ok(outsider >= 0, 'with 3 instances and 2 replicas one instance holds none');
  const updates = Array.from({ length: 10_000 }, (_, i) => ({
    mapId: M,
    driverId: `big-${String(i).padStart(5, '0')}-${'i'.repeat(60)}`,
    location: POINTS.monaco,
    metadata: { a: 'v'.repeat(150), b: 'w'.repeat(100) },
  }));
  const s = clients[outsider].streamDriverUpdates();
  const out = new Promise<any>((resolve, reject) => {
    s.on('data', resolve);
    s.on('error', reject);
  });
  s.write({ updates });
  s.end();
  const r = await out;
  assert.equal(r.accepted, 10_000, JSON.stringify(r.rejected?.slice(0, 2)));
  const count = async (addr: string): Promise<number> => {
    const pc: PeerClient = cluster.peerClient(addr, outsider);
    try {
      return Number((await pc.status(2000)).maps.find((m) => m.mapId === M)?.drivers ?? 0);
    } finally {
      pc.close();
    }
  };
  const t0 = Date.now();
  let counts: number[] = [];
  for (;;) {
    counts = await Promise.all(reps.map(count));
    const big = await Promise.all(
      reps.map(async (a) => {
        const pc = cluster.peerClient(a, outsider);
        try {
          return (await pc.getLocal(M, updates[9_999]!.driverId, 2000)) !== undefined;
        } finally {
          pc.close();
        }
      }),
    );
    if (big.every(Boolean) && counts[0] === counts[1]) break;
    if (Date.now() - t0 > 15_000) assert.fail(`replicas hold ${counts} drivers; the last of the batch on each: ${big}\n${logs.slice(-10).join('\n')}`);
    await sleep(200);
  }
  for (const n of cluster.nodes) {
    const m = parseMetrics((await httpJson(`http://127.0.0.1:${n.httpPort}`, 'GET', '/metrics')).json as string);
    assert.equal(m.get('faros_forwarded_updates_total{result="dropped"}') ?? 0, 0, `nothing acknowledged was dropped by ${n.peerAddress}`);
  }
});

test('a query point that does not snap is OUT_OF_RANGE with the same message through a replica and through an instance holding none', async () => {
  const reps = await replicasOf();
  const outsider = cluster.nodes.findIndex((n) => !reps.includes(n.peerAddress));
  const holder = cluster.nodes.findIndex((n) => reps.includes(n.peerAddress));
  const off = { mapId: M, location: { lat: 43.7, lng: 7.6 } };
  const [a, b] = [await callError(clients[holder]!, 'nearby', off), await callError(clients[outsider]!, 'nearby', off)];
  assert.deepEqual([a.code, b.code], ['OUT_OF_RANGE', 'OUT_OF_RANGE']);
  assert.match(a.details, /^query point \(43\.7, 7\.6\) is [\d.]+ m from the nearest road/);
  assert.equal(b.details, a.details, "the proxied answer carries the replica's words, not a peer address");
});

test('NearbyBatch through an instance holding no replica equals the answers of a replica, per-query errors included', async () => {
  const reps = await replicasOf();
  const outsider = cluster.nodes.findIndex((n) => !reps.includes(n.peerAddress));
  const holder = cluster.nodes.findIndex((n) => reps.includes(n.peerAddress));
  const queries: unknown[] = [];
  for (let i = 0; i < 30; i++)
    queries.push({ mapId: M, location: { lat: POINTS.monaco.lat + (i % 6) * 0.001, lng: POINTS.monaco.lng + Math.floor(i / 6) * 0.001 }, k: 1 + (i % 5) });
  queries.push(
    { mapId: M, location: { lat: 43.7, lng: 7.6 } },
    { mapId: 'atlantis-car', location: POINTS.monaco },
    { mapId: M, location: { lat: 99, lng: 0 } },
  );
  const [a, b] = [await call(clients[holder]!, 'nearbyBatch', { queries }), await call(clients[outsider]!, 'nearbyBatch', { queries })];
  const strip = (rs: any[]) =>
    rs.map((r) => ({
      code: r.code,
      message: r.message,
      drivers: r.response?.drivers.map((d: any) => [d.driver.driverId, d.distanceM]),
      snapped: r.response?.querySnapped,
    }));
  assert.deepEqual(strip(b.results), strip(a.results));
  assert.deepEqual(
    a.results.slice(-3).map((r: any) => r.code),
    ['OUT_OF_RANGE', 'NOT_FOUND', 'INVALID_ARGUMENT'],
  );
  for (const r of b.results.slice(0, 30)) assert.ok(reps.includes(r.response.stats.servedBy), `served by ${r.response.stats.servedBy}`);
});

test('WRITE_ACK_ALL: once the update is acknowledged every replica holds it, through a replica and through an instance holding none', async () => {
  const reps = await replicasOf();
  const outsider = cluster.nodes.findIndex((n) => !reps.includes(n.peerAddress));
  const holder = cluster.nodes.findIndex((n) => reps.includes(n.peerAddress));
  const onEvery = async (driverId: string): Promise<boolean[]> =>
    Promise.all(
      reps.map(async (a) => {
        const pc = cluster.peerClient(a, outsider);
        try {
          return (await pc.getLocal(M, driverId, 2000)) !== undefined;
        } finally {
          pc.close();
        }
      }),
    );
  for (const [via, name] of [
    [outsider, 'outsider'],
    [holder, 'holder'],
  ] as const) {
    for (let i = 0; i < 5; i++) {
      const driverId = `ack-all-${name}-${i}`;
      await call(clients[via]!, 'updateDriver', { mapId: M, driverId, location: POINTS.monaco, ack: 'WRITE_ACK_ALL' });
      assert.deepEqual(await onEvery(driverId), [true, true], `${driverId} right after the acknowledgement`);
    }
  }
  // A batch on the stream path, acknowledged after all.
  const batch = Array.from({ length: 50 }, (_, i) => ({ mapId: M, driverId: `ack-all-batch-${i}`, location: POINTS.monaco }));
  const [r] = await stream(clients[outsider]!, [{ updates: batch, ack: 'WRITE_ACK_ALL' }]);
  assert.equal(r.accepted, 50);
  assert.deepEqual(await onEvery('ack-all-batch-49'), [true, true]);
  const bad = await callError(clients[holder]!, 'updateDriver', { mapId: M, driverId: 'ack-bad', location: POINTS.monaco, ack: 7 });
  assert.equal(bad.code, 'INVALID_ARGUMENT');
  assert.match(bad.details, /WRITE_ACK_ALL/);
});
