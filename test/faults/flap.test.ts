// A flapping instance (issue 15: "a flapping instance (SIGSTOP 0.8 s /
// SIGCONT 0.2 s for 15 s): client error rate and P99 printed, no eviction of
// the healthy ones, calls with a 500 ms deadline still succeed through the
// other replica"). A real 3-instance cluster (replication 2, monaco-car,
// --workers 1); the victim is a replica of monaco-car. Under the shared
// steady load (tools/faults/load.ts, through the two healthy instances only,
// ramped up; FAROS_LOAD_UPDATES_PER_S sets it, 0 turns it off), the test process sends Nearby
// and GetDriver reads (500 ms deadline) and streamed updates (2 s deadline)
// through the healthy instances, ~150 calls/s, while the victim is stopped
// 0.8 s and let run 0.2 s, over and over, for 15 s, then continued for good.
// Asserts: neither healthy instance ever drops the other (its ListMaps table
// and its faros_peer_clock_skew_seconds{peer} labels, polled every 250 ms),
// and once the flapping stops every instance counts 3 members and lists the
// same replicas within 15 s; and that the reads succeed while it flaps as
// often as in the 3 s before (less 1 point, at most 99 % asked: this shared
// 2-core machine may not keep up even without the fault). Prints the figures.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startCluster, type RunningCluster } from '../../src/cli/cluster.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { call, farosClient, parseMetrics, type FarosClient, streamBatch, nearRoad, statusName as codeName } from '../e2e/helpers.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { mulberry32 } from '../../src/rng.js';
import { OFFERED, SteadyLoad } from '../../tools/faults/load.js';

const MAP = 'monaco-car';
const DRIVERS = 60;
const READ_DEADLINE_MS = 500;
const UPDATE_DEADLINE_MS = 2000;
/** Every tick one read through each healthy instance (alternating Nearby / GetDriver): 100 reads/s. */
const TICK_MS = 20;
/** Every 5th tick a streamed batch of 10 drivers through each healthy instance: 20 streams/s, 200 updates/s. */
const UPDATE_EVERY = 5;
const FLAP_MS = 15_000;
/** The shared steady load ramps up over RAMP_MS and holds until WARM_MS; reads in the BASELINE_MS before the flapping are the comparison. */
const RAMP_MS = 3000;
const WARM_MS = 6000;
const BASELINE_MS = 3000;
/**
 * The steady load (10,000 updates/s offered by default). It needs the machine to itself: with another
 * loaded test beside it on 2 cores, the healthy instances' probes of each other passed the 1 s timeout
 * (npm test runs test/faults/ one file at a time).
 */
const FLAP_UPDATES_PER_S = Number(process.env.FAROS_LOAD_UPDATES_PER_S ?? 10_000);
const STEADY = FLAP_UPDATES_PER_S > 0;
const STOPPED_MS = 800;
const RUNNING_MS = 200;
const CONVERGE_MS = 15_000;

const logs: string[] = [];
const log = (l: string): void => {
  logs.push(`${new Date().toISOString().slice(11, 23)} ${l}`);
};
let cluster: RunningCluster | undefined;
let clients: FarosClient[] = [];
let victim = -1;
let steady: SteadyLoad | undefined;

after(async () => {
  await steady?.stop();
  const v = victim >= 0 ? cluster?.nodes[victim] : undefined;
  if (v && v.child.exitCode === null && v.child.signalCode === null) v.child.kill('SIGCONT');
  for (const c of clients) c.close();
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rnd = mulberry32(Number(process.env.FAROS_SEED ?? 1515));
let graph: RoadGraph;
const roadPoint = () => nearRoad(graph, rnd, 0.0002);
const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function metricsOf(i: number): Promise<Map<string, number>> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 1000);
  try {
    const res = await fetch(`http://127.0.0.1:${cluster!.nodes[i]!.httpPort}/metrics`, { signal: ac.signal });
    return parseMetrics(await res.text());
  } finally {
    clearTimeout(t);
  }
}

/** The peers instance i keeps live, as its faros_peer_clock_skew_seconds labels name them. */
const livePeers = (m: Map<string, number>): string[] =>
  [...m.keys()].flatMap((k) => {
    const x = /^faros_peer_clock_skew_seconds\{peer="([^"]+)"\}$/.exec(k);
    return x ? [x[1]!] : [];
  });

/** Instance i's route table as ListMaps reports it: map → replicas (sorted), as one string. */
async function tableOf(i: number): Promise<string> {
  const r = await call(clients[i], 'listMaps', {}, 1000);
  return JSON.stringify(
    (r.maps as { mapId: string; replicas: string[] }[]).map((m) => [m.mapId, [...m.replicas].sort()]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
}

interface Outcome {
  kind: 'nearby' | 'getDriver' | 'update';
  via: number;
  start: number;
  ms: number;
  code: string;
  message: string;
}

test('a flapping replica (SIGSTOP 0.8 s / SIGCONT 0.2 s): healthy instances keep each other and converge', { timeout: 120_000 }, async (t) => {
  const t00 = Date.now();
  graph = await loadMap(fileURLToPath(new URL('../../../maps/monaco.osm.pbf', import.meta.url)), 'car');
  cluster = await startCluster({
    nodes: 3,
    replication: 2,
    grpcPort: 0,
    httpPort: 0,
    serveArgs: ['--map', MAP, '--workers', '1', '--log-level', 'info'],
    log,
  });
  const nodes = cluster.nodes;
  clients = nodes.map((n) => farosClient(n.address));

  // Every instance lists the same two replicas and counts 3 members.
  let table: string[] = [];
  const t0 = Date.now();
  for (;;) {
    const tables = await Promise.all(nodes.map((_, i) => tableOf(i).catch(() => '')));
    const ms = await Promise.all(nodes.map((_, i) => metricsOf(i).catch(() => new Map<string, number>())));
    const first = tables[0] ? (JSON.parse(tables[0]) as [string, string[]][]) : [];
    if (tables[0] && new Set(tables).size === 1 && first[0]?.[1].length === 2 && ms.every((m) => m.get('faros_cluster_members') === 3)) {
      table = first[0]![1];
      break;
    }
    if (Date.now() - t0 > 30_000) assert.fail(`route tables did not agree at start: ${tables.join(' | ')}\n${logs.slice(-20).join('\n')}`);
    await sleep(200);
  }
  victim = nodes.findIndex((n) => n.peerAddress === table[0]);
  const healthy = [0, 1, 2].filter((i) => i !== victim);
  const V = nodes[victim]!;
  console.log(
    `# flap: cluster up in ${Date.now() - t00} ms; ${MAP} replicas ${table.join(',')}; victim node${victim} ${V.peerAddress}; load through node${healthy[0]} (${table.includes(nodes[healthy[0]!]!.peerAddress) ? 'replica' : 'no replica'}) and node${healthy[1]} (${table.includes(nodes[healthy[1]!]!.peerAddress) ? 'replica' : 'no replica'})`,
  );

  // Drivers, so GetDriver finds them on both replicas.
  const drivers = Array.from({ length: DRIVERS }, (_, i) => `flap${i}`);
  const send = (via: number, ids: string[]) =>
    streamBatch(
      clients[via]!,
      ids.map((driverId) => ({ mapId: MAP, driverId, location: roadPoint(), timestampMs: String(Date.now()), metadata: { status: 'available' } })),
      UPDATE_DEADLINE_MS,
    );
  await send(healthy[0]!, drivers);
  await waitForDrivers();
  async function waitForDrivers(): Promise<void> {
    const t = Date.now();
    for (;;) {
      const counts = await Promise.all(
        table.map(async (r) => {
          const pc = cluster!.peerClient(r, 0);
          try {
            return Number((await pc.status(1000)).maps.find((m) => m.mapId === MAP)?.drivers ?? -1);
          } finally {
            pc.close();
          }
        }),
      );
      if (counts.every((n) => n === DRIVERS)) return;
      if (Date.now() - t > 10_000) assert.fail(`replicas hold ${counts.join(', ')} drivers, not ${DRIVERS}`);
      await sleep(100);
    }
  }

  // --- The shared steady load (tools/faults/load.ts) through the healthy instances, on top of the reads below.
  steady = new SteadyLoad({
    clients: () => clients,
    via: () => healthy,
    maps: [{ mapId: MAP, graph }],
    driversPerMap: 3000,
    ...OFFERED,
    updatesPerS: FLAP_UPDATES_PER_S,
    rampMs: RAMP_MS,
    prefix: 'steady-',
    seed: 1519,
  });
  const st = steady;
  if (STEADY) {
    st.start();
    await sleep(WARM_MS);
    console.log(`# flap: steady load warm-up (${WARM_MS} ms, ramp ${RAMP_MS} ms): ${st.describe(st.summary(st.startedAt, Date.now()))}`);
  }

  // --- Monitor: every 250 ms, each healthy instance's table and live peers.
  const base = await Promise.all(nodes.map((_, i) => metricsOf(i)));
  const samples: { at: number; tables: string[]; peers: string[][]; members: number[] }[] = [];
  let monitoring = true;
  const monitor = (async () => {
    while (monitoring) {
      const at = Date.now();
      const [tbs, ms] = await Promise.all([
        Promise.all(healthy.map((i) => tableOf(i).catch(() => 'unanswered'))),
        Promise.all(healthy.map((i) => metricsOf(i).catch(() => undefined))),
      ]);
      samples.push({
        at,
        tables: tbs,
        peers: ms.map((m) => (m ? livePeers(m) : ['unanswered'])),
        members: ms.map((m) => m?.get('faros_cluster_members') ?? -1),
      });
      await sleep(250);
    }
  })();

  // --- Load through the healthy instances only.
  const outcomes: Outcome[] = [];
  const running = new Set<Promise<void>>();
  let shed = 0,
    tick = 0;
  const track = (kind: Outcome['kind'], via: number, p: Promise<unknown>): void => {
    const start = Date.now();
    const done: Promise<void> = p.then(
      () => {
        outcomes.push({ kind, via, start, ms: Date.now() - start, code: 'OK', message: '' });
      },
      (e: { code?: number | string; details?: string; message?: string }) => {
        outcomes.push({ kind, via, start, ms: Date.now() - start, code: codeName(e), message: e.details ?? e.message ?? '' });
      },
    );
    running.add(done);
    void done.finally(() => running.delete(done));
  };
  let loading = true;
  const load = (async () => {
    const startAt = Date.now();
    while (loading) {
      const wait = startAt + tick * TICK_MS - Date.now();
      if (wait > 0) await sleep(wait);
      tick++;
      if (running.size > 200) {
        shed++;
        continue;
      }
      for (const via of healthy) {
        if ((tick + via) % 2 === 0) track('nearby', via, call(clients[via]!, 'nearby', { mapId: MAP, location: roadPoint(), k: 5 }, READ_DEADLINE_MS));
        else track('getDriver', via, call(clients[via]!, 'getDriver', { mapId: MAP, driverId: drivers[tick % DRIVERS]! }, READ_DEADLINE_MS));
        if (tick % UPDATE_EVERY === 0) {
          const from = ((tick / UPDATE_EVERY) * 10) % DRIVERS;
          track(
            'update',
            via,
            send(via, drivers.slice(from, from + 10)).then((r) => {
              const bad = r.rejected.find((x) => x.code !== 'OUT_OF_RANGE');
              if (bad) throw { code: `items ${bad.code}`, details: JSON.stringify(r.rejected.slice(0, 3)) };
            }),
          );
        }
      }
    }
  })();

  // --- Flap the victim.
  let flapStart = 0,
    flapEnd = 0,
    cycles = 0;
  try {
    await sleep(BASELINE_MS);
    flapStart = Date.now();
    while (Date.now() - flapStart < FLAP_MS) {
      V.child.kill('SIGSTOP');
      await sleep(STOPPED_MS);
      V.child.kill('SIGCONT');
      cycles++;
      await sleep(RUNNING_MS);
    }
    V.child.kill('SIGCONT');
    flapEnd = Date.now();
    await sleep(1000);
  } finally {
    V.child.kill('SIGCONT');
    loading = false;
    await load;
    await Promise.all([...running]);
    await st.stop();
  }
  const loadEnd = Date.now();

  // --- Convergence: every instance counts 3 members and lists the same two replicas.
  let convergedAt: number | undefined;
  let lastSeen = '';
  while (Date.now() - flapEnd < CONVERGE_MS + 2000) {
    const tables = await Promise.all(nodes.map((_, i) => tableOf(i).catch(() => 'unanswered')));
    const ms = await Promise.all(nodes.map((_, i) => metricsOf(i).catch(() => undefined)));
    const members = ms.map((m) => m?.get('faros_cluster_members') ?? -1);
    lastSeen = `tables ${tables.join(' | ')} members ${members.join(',')}`;
    if (
      new Set(tables).size === 1 &&
      tables[0] !== 'unanswered' &&
      (JSON.parse(tables[0]!) as [string, string[]][])[0]?.[1].length === 2 &&
      members.every((m) => m === 3)
    ) {
      convergedAt = Date.now();
      break;
    }
    await sleep(200);
  }
  monitoring = false;
  await monitor;
  const fin = await Promise.all(nodes.map((_, i) => metricsOf(i).catch(() => new Map<string, number>())));

  // --- Figures.
  const reads = outcomes.filter((o) => o.kind !== 'update');
  const updates = outcomes.filter((o) => o.kind === 'update');
  const failed = (os: Outcome[]) => {
    const f: Record<string, number> = {};
    for (const o of os) if (o.code !== 'OK') f[o.code] = (f[o.code] ?? 0) + 1;
    return f;
  };
  const okReads = reads.filter((o) => o.code === 'OK').length;
  const rate = reads.length ? okReads / reads.length : 0;
  // The flapping's effect: reads started while it lasted (and 1 s after) against the same reads in the BASELINE_MS before it.
  const okRate = (a: number, b: number): { ok: number; n: number; rate: number } => {
    const xs = reads.filter((o) => o.start >= a && o.start < b);
    const ok = xs.filter((o) => o.code === 'OK').length;
    return { ok, n: xs.length, rate: ok / Math.max(1, xs.length) };
  };
  const baseline = okRate(flapStart - BASELINE_MS, flapStart),
    flapping = okRate(flapStart, flapEnd + 1000);
  const lat = (os: Outcome[]) =>
    `P50 ${pct(
      os.map((o) => o.ms),
      50,
    )} ms P99 ${pct(
      os.map((o) => o.ms),
      99,
    )} ms max ${pct(
      os.map((o) => o.ms),
      100,
    )} ms`;
  const loadMs = loadEnd - (flapStart - BASELINE_MS);
  if (STEADY)
    console.log(
      `# flap: steady load: before the flapping ${st.describe(st.summary(flapStart - BASELINE_MS, flapStart))}; while flapping ${st.describe(st.summary(flapStart, flapEnd))}`,
    );
  console.log(
    `# flap: reads (${READ_DEADLINE_MS} ms) ok: ${baseline.ok}/${baseline.n} (${(100 * baseline.rate).toFixed(2)} %) in the ${BASELINE_MS} ms before the flapping, ${flapping.ok}/${flapping.n} (${(100 * flapping.rate).toFixed(2)} %) while it lasted and 1 s after`,
  );
  console.log(
    `# flap: victim stopped ${STOPPED_MS} ms / running ${RUNNING_MS} ms, ${cycles} cycles in ${flapEnd - flapStart} ms; load ${outcomes.length} calls in ${loadMs} ms (${Math.round((outcomes.length * 1000) / loadMs)}/s), ticks shed ${shed}`,
  );
  console.log(
    `# flap: reads (${READ_DEADLINE_MS} ms deadline) ${okReads}/${reads.length} succeeded = ${(rate * 100).toFixed(2)} %; failed by code ${JSON.stringify(failed(reads))}; ${lat(reads)}`,
  );
  for (const via of healthy) {
    const r = reads.filter((o) => o.via === via);
    console.log(`# flap:   via node${via}: ${r.filter((o) => o.code === 'OK').length}/${r.length} ok, failed ${JSON.stringify(failed(r))}; ${lat(r)}`);
  }
  for (const k of ['nearby', 'getDriver'] as const) {
    const r = reads.filter((o) => o.kind === k);
    console.log(`# flap:   ${k}: ${r.filter((o) => o.code === 'OK').length}/${r.length} ok; ${lat(r)}`);
  }
  console.log(
    `# flap: streamed updates (${UPDATE_DEADLINE_MS} ms deadline) ${updates.filter((o) => o.code === 'OK').length}/${updates.length} succeeded; failed by code ${JSON.stringify(failed(updates))}; ${lat(updates)}`,
  );
  const failures = reads.filter((o) => o.code !== 'OK');
  for (const o of failures.slice(0, 10))
    console.log(`# flap:   failed read ${o.kind} via node${o.via} at +${o.start - flapStart} ms after ${o.ms} ms: ${o.code} ${o.message}`);
  const delta = (i: number, name: string) => (fin[i]!.get(name) ?? 0) - (base[i]!.get(name) ?? 0);
  console.log(
    `# flap: per instance (evictions, indirect probes, failovers, forwards dropped): ${nodes
      .map(
        (_, i) =>
          `node${i}${i === victim ? '(victim)' : ''} ${delta(i, 'faros_membership_evictions_total')}/${delta(i, 'faros_membership_indirect_probes_total')}/${delta(i, 'faros_replica_failovers_total')}/${delta(i, 'faros_forwarded_updates_total{result="dropped"}')}`,
      )
      .join(' ')}`,
  );
  const victimGone = samples.filter((s) => s.peers.some((p) => !p.includes('unanswered') && !p.includes(V.peerAddress))).length;
  console.log(
    `# flap: ${samples.length} membership samples of the healthy instances; victim missing from a healthy view in ${victimGone}; members seen ${JSON.stringify([...new Set(samples.flatMap((s) => s.members))].sort())}`,
  );
  console.log(
    `# flap: convergence to 3 members, same tables (first checked ~1 s after the last SIGCONT, once the load drained): ${convergedAt ? `${convergedAt - flapEnd} ms after the last SIGCONT` : `NOT within ${CONVERGE_MS} ms (${lastSeen})`}`,
  );
  console.log(`# flap: total ${Date.now() - t00} ms`);

  // --- Assertions.
  const [h0, h1] = healthy as [number, number];
  const dropped = samples.filter(
    (s) =>
      s.tables.includes('unanswered') ||
      s.peers[0]!.includes('unanswered') ||
      s.peers[1]!.includes('unanswered') ||
      !s.peers[0]!.includes(nodes[h1]!.peerAddress) ||
      !s.peers[1]!.includes(nodes[h0]!.peerAddress),
  );
  assert.equal(
    dropped.length,
    0,
    `a healthy instance dropped (or did not answer about) the other: ${dropped
      .slice(0, 3)
      .map((s) => `+${s.at - flapStart} ms peers ${JSON.stringify(s.peers)}`)
      .join('; ')}`,
  );
  assert.ok(samples.length > 20, `too few membership samples: ${samples.length}`);
  await t.test('500 ms reads through the healthy instances succeed while it flaps as before it', () => {
    assert.ok(
      flapping.rate >= Math.min(0.99, baseline.rate - 0.01),
      `reads through the healthy instances succeeded at ${(flapping.rate * 100).toFixed(2)} % while flapping, ${(baseline.rate * 100).toFixed(2)} % before: ${JSON.stringify(failed(reads))}\n${failures
        .slice(0, 10)
        .map((o) => `${o.kind} via node${o.via} +${o.start - flapStart} ms ${o.ms} ms ${o.code} ${o.message}`)
        .join('\n')}`,
    );
  });
  assert.ok(
    convergedAt && convergedAt - flapEnd <= CONVERGE_MS,
    `cluster not back to 3 members within ${CONVERGE_MS} ms: ${lastSeen}\n${logs.slice(-20).join('\n')}`,
  );
});
