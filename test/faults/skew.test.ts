// Clock skew between instances (issue 15: "1 s and 10 s clock skew between
// instances"). Twice, at +1 s and at +10 s: a real 3-instance cluster
// (replication 2, monaco-car, --workers 1, --anti-entropy-ms 1000) whose
// primary monaco-car replica runs under libfaketime (LD_PRELOAD,
// FAKETIME=+1s or +10s: what `faketime -f +10s` does, but that wrapper forks
// and does not pass SIGTERM on), so its Date.now() is that far ahead of the
// others'. (startCluster spawns `node` itself, so the three
// `faros serve` processes are spawned here the same way, with its
// certificates.) Updates are sent through every instance, with client
// timestamps (the test's Date.now()) and with server time (timestamp_ms 0),
// several per driver through different instances, the skewed one included.
// Asserts: no update is refused; after convergence every driver's newest
// acknowledged state (by the timestamp the acknowledging instance stamped:
// its clock, ahead on the skewed one) is what GetDriver returns through every
// instance and what each replica holds; faros_peer_clock_skew_seconds on the
// healthy instances reads the skew (± 0.3 s) for the skewed one and the
// skewed one reads minus the skew for them. Skipped when faketime is missing or does not
// shift Node's clock. Prints the figures.
import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../src/cli/cluster.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { makeClusterCerts } from '../../src/cli/certs.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { PeerClient } from '../../src/proxy/peer-client.js';
import { peerChannelCredentials, readPeerTls } from '../../src/proxy/peer-tls.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { call, farosClient, parseMetrics, type FarosClient, nearRoad, statusName as codeName } from '../e2e/helpers.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { mulberry32 } from '../../src/rng.js';

const MAP = 'monaco-car';
/** Each skew gets its own cluster, one after the other. */
const SKEWS_S = [1, 10];
/** How close faros_peer_clock_skew_seconds must read the skew (measured within a few ms). */
const GAUGE_TOLERANCE_S = 0.3;
const DRIVERS = 18;
const DEADLINE_MS = 3000;
const CONVERGE_MS = 10_000;
const BIN = fileURLToPath(new URL('../../src/bin/faros.js', import.meta.url));

const logs: string[] = [];
const children: ChildProcess[] = [];
const clients: FarosClient[] = [];
const peers: PeerClient[] = [];
let certsDir: string | undefined;

async function cleanup(): Promise<void> {
  for (const c of clients.splice(0)) c.close();
  for (const p of peers.splice(0)) p.close();
  await Promise.all(
    children.map(
      (ch) =>
        new Promise<void>((resolve) => {
          if (ch.exitCode !== null || ch.signalCode !== null) return resolve();
          ch.once('exit', () => resolve());
          ch.kill('SIGTERM');
          setTimeout(() => ch.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
  children.length = 0;
  if (certsDir) rmSync(certsDir, { recursive: true, force: true });
  certsDir = undefined;
}
after(cleanup);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rnd = mulberry32(Number(process.env.FAROS_SEED ?? 1516));
let graph: RoadGraph;
const roadPoint = () => nearRoad(graph, rnd, 0.0002);

// libfaketime preloaded into node itself (what `faketime -f +10s` does, but the
// `faketime` wrapper forks and does not pass SIGTERM on to node).
const LIBFAKETIME = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
].find((f) => existsSync(f));
const skewEnv = (skewS: number) => ({ ...process.env, LD_PRELOAD: LIBFAKETIME!, FAKETIME: `+${skewS}s` });

/** How far libfaketime with FAKETIME=+Ns shifts a child Node's Date.now(), in ms (undefined: it cannot run). */
function faketimeShiftMs(skewS: number): number | undefined {
  if (!LIBFAKETIME) return undefined;
  const before = Date.now();
  const r = spawnSync(process.execPath, ['-e', 'console.log(Date.now())'], { encoding: 'utf8', timeout: 10_000, env: skewEnv(skewS) });
  const after = Date.now();
  if (r.error || r.status !== 0) return undefined;
  const child = Number(r.stdout.trim());
  return Number.isFinite(child) ? child - (before + after) / 2 : undefined;
}

interface Sent {
  driverId: string;
  via: number;
  /** Client timestamp (0 = server time). */
  ts: number;
  lat: number;
  lng: number;
  before: number;
  after: number;
  stale: boolean;
  /** The timestamp the acknowledging instance stamped: a window by the test's clock plus that instance's offset. */
  lo: number;
  hi: number;
}

for (const skewS of SKEWS_S)
  test(`${skewS} s clock skew (libfaketime) on a replica: no update refused, newest stamped state everywhere, skew gauge reads it`, {
    timeout: 60_000,
  }, async (t) => {
    try {
      await skewRun(t, skewS);
    } finally {
      await cleanup();
    }
  });

async function skewRun(t: TestContext, skewS: number): Promise<void> {
  const shift = faketimeShiftMs(skewS);
  if (shift === undefined) {
    t.skip('libfaketime is not installed or cannot run node (apt-get install faketime)');
    return;
  }
  console.log(`# skew: FAKETIME=+${skewS}s shifts a child node's Date.now() by ${shift.toFixed(0)} ms`);
  if (Math.abs(shift - skewS * 1000) > 500) {
    t.skip(`faketime shifted a child node's Date.now() by ${shift} ms, not ~${skewS * 1000} ms`);
    return;
  }
  const t00 = Date.now();
  graph = await loadMap(fileURLToPath(new URL('../../../maps/monaco.osm.pbf', import.meta.url)), 'car');

  // --- Three `faros serve` processes, as startCluster starts them; the primary monaco-car replica under faketime.
  const ports: { grpc: number; http: number; peer: number }[] = [];
  for (let i = 0; i < 3; i++) ports.push({ grpc: await freePort(), http: await freePort(), peer: await freePort() });
  const peerAddrs = ports.map((p) => `127.0.0.1:${p.peer}`);
  certsDir = mkdtempSync(join(tmpdir(), 'faros-skew-certs-'));
  const tlsDirs = await makeClusterCerts(certsDir, peerAddrs);
  const replicas = new RouteTable(peerAddrs, 2).replicas(MAP);
  const skewed = peerAddrs.indexOf(replicas[0]!);
  const offsetMs = (i: number) => (i === skewed ? skewS * 1000 : 0);
  const ready = peerAddrs.map((peerAddress, i) => {
    const p = ports[i]!;
    const args = [
      BIN,
      'serve',
      '--host',
      '127.0.0.1',
      '--grpc-port',
      String(p.grpc),
      '--http-port',
      String(p.http),
      '--peer-port',
      String(p.peer),
      '--peers',
      peerAddrs.join(','),
      '--advertise',
      peerAddress,
      '--peer-tls-dir',
      tlsDirs.get(peerAddress)!,
      '--replication',
      '2',
      '--map',
      MAP,
      '--workers',
      '1',
      '--anti-entropy-ms',
      '1000',
      '--log-level',
      'info',
    ];
    const child =
      i === skewed
        ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: skewEnv(skewS) })
        : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const tag = `[node${i}${i === skewed ? ` +${skewS}s` : ''}]`;
    return new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('{"event":"ready"')) resolve();
        else logs.push(`${tag} ${line}`);
      });
      createInterface({ input: child.stderr! }).on('line', (line) => logs.push(`${tag} ${line}`));
      child.on('exit', (code, sig) => reject(new Error(`${tag} exited (${sig ?? code}) before it was ready\n${logs.slice(-20).join('\n')}`)));
    });
  });
  await Promise.all(ready);
  for (const p of ports) clients.push(farosClient(`127.0.0.1:${p.grpc}`));
  for (const a of replicas) {
    const dir = tlsDirs.get(peerAddrs[0]!)!;
    peers.push(
      new PeerClient(a, peerChannelCredentials(readPeerTls({ caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') }))),
    );
  }
  const metricsOf = async (i: number): Promise<Map<string, number>> => {
    const ac = new AbortController();
    const tm = setTimeout(() => ac.abort(), 1000);
    try {
      return parseMetrics(await (await fetch(`http://127.0.0.1:${ports[i]!.http}/metrics`, { signal: ac.signal })).text());
    } finally {
      clearTimeout(tm);
    }
  };
  const skewOf = (m: Map<string, number>, peer: string) => m.get(`faros_peer_clock_skew_seconds{peer="${peer}"}`);

  // --- Every instance counts 3 members, lists the same replicas and has a skew estimate of each peer.
  const t0 = Date.now();
  for (;;) {
    const [tables, ms] = await Promise.all([
      Promise.all(
        clients.map((c) =>
          call(c, 'listMaps', {}, 1000).then(
            (r) => JSON.stringify(r.maps.map((m: { replicas: string[] }) => m.replicas)),
            () => '',
          ),
        ),
      ),
      Promise.all(ports.map((_, i) => metricsOf(i).catch(() => new Map<string, number>()))),
    ]);
    const skewsKnown = ms.every((m, i) => peerAddrs.every((a, j) => j === i || skewOf(m, a) !== undefined));
    if (tables[0] === JSON.stringify([replicas]) && new Set(tables).size === 1 && ms.every((m) => m.get('faros_cluster_members') === 3) && skewsKnown) break;
    if (Date.now() - t0 > 20_000) assert.fail(`cluster did not form: tables ${tables.join(' | ')}\n${logs.slice(-20).join('\n')}`);
    await sleep(200);
  }
  const name = (i: number) => `node${i}${i === skewed ? `(+${skewS}s)` : ''}${replicas.includes(peerAddrs[i]!) ? ' replica' : ''}`;
  console.log(`# skew: cluster up in ${Date.now() - t00} ms; ${MAP} replicas ${replicas.join(',')}; ${[0, 1, 2].map(name).join(', ')}`);

  // --- Updates. Per driver 3 updates, one through each instance (order rotating per driver), sequential.
  const sent: Sent[] = [];
  const refused: string[] = [];
  const orders = [
    [0, 1, 2],
    [1, 2, 0],
    [2, 0, 1],
    [0, 2, 1],
    [2, 1, 0],
    [1, 0, 2],
  ];
  const update = async (driverId: string, via: number, clientTs: boolean): Promise<void> => {
    const loc = roadPoint();
    const before = Date.now();
    const ts = clientTs ? before : 0;
    try {
      const r = await call(
        clients[via]!,
        'updateDriver',
        { mapId: MAP, driverId, location: loc, timestampMs: String(ts), metadata: { via: String(via) } },
        DEADLINE_MS,
      );
      const after = Date.now();
      // A client timestamp is stored as sent; server time is the acknowledging instance's clock (ms), within the call.
      const lo = ts || before + offsetMs(via),
        hi = ts || after + offsetMs(via);
      sent.push({ driverId, via, ts, lat: loc.lat, lng: loc.lng, before, after, stale: !!r.stale, lo, hi });
    } catch (e) {
      const err = e as { code?: number; details?: string };
      // A point that does not snap is not the skew's doing; anything else is a refusal.
      if (codeName(err) !== 'OUT_OF_RANGE') refused.push(`${driverId} via node${via}: ${codeName(err)} ${err.details ?? ''}`);
    }
    await sleep(3); // distinct milliseconds
  };
  const drivers: { id: string; clientTs: boolean }[] = [];
  for (let d = 0; d < DRIVERS; d++) drivers.push({ id: `c${d}`, clientTs: true }, { id: `s${d}`, clientTs: false });
  const tu = Date.now();
  await Promise.all(
    [0, 1, 2].map(async (lane) => {
      for (let k = lane; k < drivers.length; k += 3) {
        const d = drivers[k]!;
        for (const via of orders[k % orders.length]!) await update(d.id, via, d.clientTs);
      }
    }),
  );
  const updMs = Date.now() - tu;

  // The newest acknowledged state per driver: the highest stamp. Usually one update's window lies above
  // every other's; when calls were slow enough that two windows overlap (1 s of skew, a busy machine),
  // either may be the newest: both are candidates, and every instance and replica must then hold the
  // same one of them.
  const expect = new Map<string, Sent[]>();
  for (const s of sent) {
    const cands = [...(expect.get(s.driverId) ?? []), s];
    expect.set(
      s.driverId,
      cands.filter((x) => !cands.some((y) => y.lo > x.hi)),
    );
  }
  const ambiguous = [...expect.values()].filter((c) => c.length > 1).length;
  const skewedWins = [...expect.values()].filter((c) => c.length === 1 && c[0]!.ts === 0 && c[0]!.via === skewed).length;
  const staleBy = [0, 1, 2].map((i) => sent.filter((s) => s.stale && s.via === i).length);
  console.log(
    `# skew: ${sent.length} updates acknowledged in ${updMs} ms (${sent.filter((s) => s.ts).length} client-timestamped, ${sent.filter((s) => !s.ts).length} server time), ${refused.length} refused; answered stale by node (a newer stamp was stored): ${staleBy.join('/')}; server-time drivers whose winner is the update through the skewed instance: ${skewedWins}/${DRIVERS}; drivers with two candidates (overlapping windows): ${ambiguous}`,
  );

  // --- Convergence: GetDriver through every instance and GetLocal on each replica return the expected state.
  const tc = Date.now();
  let wrong: string[] = [];
  let convergedMs: number | undefined;
  const match1 = (got: { ts: number; lat: number; lng: number } | undefined, e: Sent): boolean =>
    !!got && got.ts >= e.lo - 5 && got.ts <= e.hi + 5 && Math.abs(got.lat - e.lat) < 1e-9 && Math.abs(got.lng - e.lng) < 1e-9;
  const want = (cs: Sent[]) => cs.map((e) => `ts [${e.lo},${e.hi}] ${e.lat},${e.lng} (via node${e.via})`).join(' or ');
  while (Date.now() - tc < CONVERGE_MS) {
    wrong = [];
    await Promise.all(
      [...expect].map(async ([driverId, cs]) => {
        const seen = new Set<number>();
        const check = (where: string, got: { ts: number; lat: number; lng: number } | undefined): void => {
          seen.add(got?.ts ?? -1);
          if (!cs.some((e) => match1(got, e))) wrong.push(`${driverId} ${where}: ${JSON.stringify(got)} want ${want(cs)}`);
        };
        for (let i = 0; i < 3; i++) {
          const got = await call(clients[i]!, 'getDriver', { mapId: MAP, driverId }, DEADLINE_MS).then(
            (r) => ({ ts: Number(r.driver.timestampMs), lat: r.driver.location.lat, lng: r.driver.location.lng }),
            () => undefined,
          );
          check(`via node${i}`, got);
        }
        for (let r = 0; r < peers.length; r++) {
          const x = await peers[r]!.getLocal(MAP, driverId, DEADLINE_MS).catch(() => undefined);
          check(`on replica ${replicas[r]}`, x && { ts: x.timestampMs, lat: x.lat, lng: x.lng });
        }
        if (seen.size > 1) wrong.push(`${driverId}: instances and replicas disagree (${[...seen].join(', ')})`);
      }),
    );
    if (wrong.length === 0) {
      convergedMs = Date.now() - tc;
      break;
    }
    await sleep(250);
  }
  console.log(
    `# skew: ${expect.size} drivers, newest stamped state through all 3 instances and on both replicas: ${convergedMs !== undefined ? `after ${convergedMs} ms` : `NOT within ${CONVERGE_MS} ms (${wrong.length} wrong)`}`,
  );

  // --- The skew gauge.
  const ms = await Promise.all(ports.map((_, i) => metricsOf(i)));
  const readings: string[] = [];
  const gaugeBad: string[] = [];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      if (i === j) continue;
      const v = skewOf(ms[i]!, peerAddrs[j]!);
      const want = (offsetMs(j) - offsetMs(i)) / 1000;
      readings.push(`node${i}→node${j} ${v === undefined ? 'absent' : `${v >= 0 ? '+' : ''}${v.toFixed(3)} s`}`);
      if (v === undefined || Math.abs(v - want) > GAUGE_TOLERANCE_S) gaugeBad.push(`node${i} sees node${j} at ${v} s, want ${want} ± ${GAUGE_TOLERANCE_S}`);
    }
  console.log(`# skew: faros_peer_clock_skew_seconds (peer minus self): ${readings.join(', ')}`);
  console.log(`# skew: total ${Date.now() - t00} ms`);

  assert.deepEqual(refused, [], 'updates refused');
  assert.equal(expect.size, DRIVERS * 2, 'every driver has an acknowledged update');
  assert.ok(convergedMs !== undefined, `not converged within ${CONVERGE_MS} ms:\n${wrong.slice(0, 10).join('\n')}\n${logs.slice(-10).join('\n')}`);
  assert.deepEqual(gaugeBad, [], 'faros_peer_clock_skew_seconds');
}
