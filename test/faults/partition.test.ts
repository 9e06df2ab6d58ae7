// A one-way network partition of a real 3-instance cluster (replication 2),
// each instance in its own network namespace (test/e2e/netns.ts), under a
// steady load of streamed updates and nearby queries from the test process
// (tools/faults/load.ts, 10,000 updates/s and 200 nearby/s offered):
// instance A cannot open connections to B (and its packets on the ones it
// opened are dropped) for 10 s while B still reaches A and C reaches both.
// Checks that no instance evicts a healthy member (indirect probes through C
// keep B live at A), that every call made with a 2 s deadline succeeds or
// fails over once A noticed the broken link, and that after healing every
// route table is identical; then that a frozen member is still evicted
// within suspectMs + probeIntervalMs + probeTimeoutMs. After the load stops,
// every replica must compare equal with the other (anti-entropy digests) and
// hold every driver's newest acknowledged state (tools/faults/verify.ts).
// Prints the figures.
// Skipped, with the reason, where namespaces cannot be made (not root, no ip
// or iptables).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createLab, netnsUnavailable, removeStale, startNsCluster, type Lab, type NsCluster } from '../e2e/netns.js';
import { call, farosClient, parseMetrics, type FarosClient } from '../e2e/helpers.js';
import { OFFERED, SteadyLoad } from '../../tools/faults/load.js';
import { checkReplicas, describeCheck } from '../../tools/faults/verify.js';
import { loadMap } from '../../src/mapbuild/build.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';

const MAPS = ['monaco-car', 'bayfront_singapore-car'];
const FILES: Record<string, string> = { 'monaco-car': 'monaco.osm.pbf', 'bayfront_singapore-car': 'bayfront_singapore.osm.pbf' };
const DEADLINE_MS = 2000;
const PARTITION_MS = 10_000;
const PROBE = { interval: 500, timeout: 1000, suspect: 3000 };
const DRIVERS_PER_MAP = 3000;
/** Replicas compare digests this often; after the load stops they must compare equal within two intervals. */
const ANTI_ENTROPY_MS = 2000;

const reason = await netnsUnavailable();
const logs: string[] = [];
const log = (l: string): void => {
  logs.push(`${new Date().toISOString().slice(11, 23)} ${l}`);
};
let lab: Lab | undefined;
let cluster: NsCluster | undefined;
let clients: FarosClient[] = [];

after(async () => {
  for (const c of clients) c.close();
  await cluster?.stop(3000);
  await lab?.teardown();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const graphs: Record<string, RoadGraph> = {};
const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function metricsOf(i: number): Promise<Map<string, number>> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 1000);
  try {
    const res = await fetch(`${cluster!.nodes[i]!.http}/metrics`, { signal: ac.signal });
    return parseMetrics(await res.text());
  } finally {
    clearTimeout(t);
  }
}

/** Each instance's route table as ListMaps reports it: map → replicas (sorted), as one string. */
async function tableOf(i: number): Promise<string> {
  const r = await call(clients[i], 'listMaps', {}, 1000);
  return JSON.stringify(
    (r.maps as { mapId: string; replicas: string[] }[]).map((m) => [m.mapId, [...m.replicas].sort()]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
}

test('one-way partition of one instance for 10 s under load: nobody evicted, calls fail over, tables identical and replicas equal after healing', {
  timeout: 150_000,
}, async (t) => {
  if (reason) {
    t.skip(reason);
    return;
  }
  const t00 = Date.now();
  const stale = await removeStale();
  if (stale.length > 0) console.log(`# removed leftovers of an earlier run: ${stale.join(', ')}`);
  for (const id of MAPS) graphs[id] = await loadMap(fileURLToPath(new URL(`../../../maps/${FILES[id]}`, import.meta.url)), 'car');
  lab = await createLab(3, log);
  try {
    cluster = await startNsCluster(lab, {
      replication: 2,
      serveArgs: [
        ...MAPS.flatMap((m) => ['--map', m]),
        '--workers',
        '1',
        '--probe-interval-ms',
        String(PROBE.interval),
        '--probe-timeout-ms',
        String(PROBE.timeout),
        '--suspect-ms',
        String(PROBE.suspect),
        '--anti-entropy-ms',
        String(ANTI_ENTROPY_MS),
        '--log-level',
        'info',
      ],
      log,
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${logs.slice(-30).join('\n')}`);
  }
  const nodes = cluster.nodes;
  clients = nodes.map((n) => farosClient(n.address));

  // Every instance computes the same table with all three members.
  const t0 = Date.now();
  let tables: string[] = [];
  for (;;) {
    tables = await Promise.all(nodes.map((_, i) => tableOf(i).catch(() => '')));
    const first = tables[0] ? JSON.parse(tables[0]) : [];
    if (tables[0] && new Set(tables).size === 1 && first.every((m: [string, string[]]) => m[1].length === 2)) break;
    if (Date.now() - t0 > 20_000) assert.fail(`route tables did not agree at start: ${tables.join(' | ')}\n${logs.slice(-20).join('\n')}`);
    await sleep(200);
  }
  const table = new Map<string, string[]>(JSON.parse(tables[0]!));
  console.log(`# cluster up in ${Date.now() - t00} ms; replicas ${[...table].map(([m, r]) => `${m}=${r.join(',')}`).join(' ')}`);

  // A: the instance holding no replica of monaco-car (its monaco calls go to B or C); B: a monaco replica.
  const monaco = table.get('monaco-car')!;
  const a = nodes.findIndex((n) => !monaco.includes(n.peerAddress));
  const b = nodes.findIndex((n) => n.peerAddress === monaco[0]);
  const c = [0, 1, 2].find((i) => i !== a && i !== b)!;
  const [A, B, C] = [nodes[a]!.peerAddress, nodes[b]!.peerAddress, nodes[c]!.peerAddress];
  console.log(`# partition: A=${A} cannot reach B=${B}; B reaches A; C=${C} reaches both`);

  // --- Monitor: every 250 ms, each instance's table, members and membership metrics.
  const base = await Promise.all(nodes.map((_, i) => metricsOf(i)));
  const evictionsAt = (m: Map<string, number>) => m.get('faros_membership_evictions_total') ?? 0;
  const samples: { at: number; tables: string[]; members: number[]; indirectOnly: number[] }[] = [];
  let monitoring = true;
  const monitor = (async () => {
    while (monitoring) {
      const at = Date.now();
      const [tbs, ms] = await Promise.all([
        Promise.all(nodes.map((_, i) => tableOf(i).catch(() => 'unanswered'))),
        Promise.all(nodes.map((_, i) => metricsOf(i).catch(() => new Map<string, number>()))),
      ]);
      samples.push({
        at,
        tables: tbs,
        members: ms.map((m) => m.get('faros_cluster_members') ?? -1),
        indirectOnly: ms.map((m) => m.get('faros_membership_indirect_only_members') ?? -1),
      });
      await sleep(250);
    }
  })();

  // --- Load: the shared steady load (tools/faults/load.ts) through every instance, 2 s deadlines;
  // over 40 calls in flight a tick's calls are not sent (counted).
  const steady = new SteadyLoad({
    clients: () => clients,
    maps: MAPS.map((mapId) => ({ mapId, graph: graphs[mapId]! })),
    driversPerMap: DRIVERS_PER_MAP,
    ...OFFERED,
    updateDeadlineMs: DEADLINE_MS,
    nearbyDeadlineMs: DEADLINE_MS,
    maxInFlight: 40,
    seed: Number(process.env.FAROS_SEED ?? 4242),
  });
  steady.start();
  const outcomes = steady.outcomes;
  type Outcome = (typeof outcomes)[number];
  const load = steady.stop.bind(steady);

  const indirectOnlyAt = async (i: number): Promise<number> => (await metricsOf(i)).get('faros_membership_indirect_only_members') ?? 0;
  try {
    await sleep(3000);
    // --- The partition.
    const partitionAt = Date.now();
    await lab.dropOneWay(a, b);
    let detectedAt = 0;
    while (Date.now() - partitionAt < PARTITION_MS) {
      if (!detectedAt && (await indirectOnlyAt(a).catch(() => 0)) >= 1) detectedAt = Date.now();
      await sleep(100);
    }
    // --- Heal.
    const healedAt = Date.now();
    await lab.heal();
    let convergedAt = 0;
    while (Date.now() - healedAt < 20_000) {
      const io = await Promise.all(nodes.map((_, i) => indirectOnlyAt(i).catch(() => -1)));
      const tbs = await Promise.all(nodes.map((_, i) => tableOf(i).catch(() => '')));
      if (io.every((x) => x === 0) && new Set(tbs).size === 1 && tbs[0] === tables[0]) {
        convergedAt = Date.now();
        break;
      }
      await sleep(100);
    }
    await sleep(2000);
    await load();
    monitoring = false;
    await monitor;

    // --- Replica contents: once the load stops, every replica of every map compares equal
    // with its other replica (anti-entropy digests at one instant: same drivers at the same timestamps).
    const quietAt = Date.now();
    const holders = [...table].flatMap(([mapId, reps]) => reps.map((r) => ({ mapId, node: nodes.findIndex((n) => n.peerAddress === r) })));
    const equalAt = new Map<string, number>();
    while (equalAt.size < holders.length && Date.now() - quietAt < 2 * ANTI_ENTROPY_MS + 8000) {
      await Promise.all(
        holders.map(async ({ mapId, node }) => {
          const key = `${mapId}@${node}`;
          if (equalAt.has(key)) return;
          const m = await metricsOf(node).catch(() => undefined);
          const age = m?.get(`faros_anti_entropy_last_converged_seconds{map_id="${mapId}"}`);
          const now = Date.now();
          if (age !== undefined && now - age * 1000 > quietAt) equalAt.set(key, now - age * 1000 - quietAt);
        }),
      );
      if (equalAt.size < holders.length) await sleep(200);
    }
    // And what they hold is every driver's newest acknowledged state (0 acknowledged updates lost).
    const acked = await checkReplicas(steady, table, (addr) => cluster!.peerClient(addr, 0), nodes[0]!.peerAddress);
    console.log(`# replicas against the newest acknowledged state: ${describeCheck(acked)}`);
    const repairedTotal = (await Promise.all(nodes.map((_, i) => metricsOf(i))))
      .map((m) => `${m.get('faros_anti_entropy_repaired_records_total{kind="record"}') ?? 0}`)
      .join(', ');
    console.log(
      `# replicas equal (anti-entropy digests) after the load stopped: ${[...equalAt].map(([k, ms]) => `${k} ${ms} ms`).join(', ')} (--anti-entropy-ms ${ANTI_ENTROPY_MS}); records repaired per instance over the run: ${repairedTotal}`,
    );

    // --- Figures.
    const after_ = await Promise.all(nodes.map((_, i) => metricsOf(i)));
    const evictions = after_.map((m, i) => evictionsAt(m) - evictionsAt(base[i]!));
    const sent = after_.map((m, i) => (m.get('faros_membership_indirect_probes_total') ?? 0) - (base[i]!.get('faros_membership_indirect_probes_total') ?? 0));
    const reachable = after_.map(
      (m, i) => (m.get('faros_membership_indirect_reachable_total') ?? 0) - (base[i]!.get('faros_membership_indirect_reachable_total') ?? 0),
    );
    const failovers = after_.map((m, i) => (m.get('faros_replica_failovers_total') ?? 0) - (base[i]!.get('faros_replica_failovers_total') ?? 0));
    const dropped = after_.map(
      (m, i) => (m.get('faros_forwarded_updates_total{result="dropped"}') ?? 0) - (base[i]!.get('faros_forwarded_updates_total{result="dropped"}') ?? 0),
    );
    const failed = outcomes.filter((o) => o.code !== 'OK');
    const byCode = (xs: Outcome[]): Record<string, number> => {
      const acc: Record<string, number> = {};
      for (const o of xs) acc[`${o.kind} ${o.code}`] = (acc[`${o.kind} ${o.code}`] ?? 0) + 1;
      return acc;
    };
    const updatesOk = outcomes.filter((o) => o.kind === 'update' && o.code === 'OK');
    const nearbyOk = outcomes.filter((o) => o.kind === 'nearby' && o.code === 'OK');
    const during = (o: Outcome) => o.start >= partitionAt && o.start < healedAt;
    const lateFailures = failed.filter((o) => detectedAt > 0 && o.start > detectedAt);
    const sum = steady.summary(partitionAt - 3000, Date.now());
    console.log(`# load: ${steady.describe(sum)}`);
    console.log(
      `# latency ms (all calls): update batch p50=${pct(
        updatesOk.map((o) => o.ms),
        50,
      )} p99=${pct(
        updatesOk.map((o) => o.ms),
        99,
      )}; nearby p50=${pct(
        nearbyOk.map((o) => o.ms),
        50,
      )} p99=${pct(
        nearbyOk.map((o) => o.ms),
        99,
      )}; during the partition nearby p99=${pct(
        nearbyOk.filter(during).map((o) => o.ms),
        99,
      )}`,
    );
    console.log(
      `# errors: ${failed.length} of ${outcomes.length} calls failed ${JSON.stringify(byCode(failed))}; items rejected ${JSON.stringify(sum.itemsRejected)}; ` +
        `failed calls started after A noticed the broken link: ${lateFailures.length}; via A: ${failed.filter((o) => o.via === a).length}, via B/C: ${
          failed.filter((o) => o.via !== a).length
        }`,
    );
    if (failed.length > 0)
      console.log(
        `# failed calls started ${pct(
          failed.map((o) => o.start - partitionAt),
          0,
        )}..${pct(
          failed.map((o) => o.start - partitionAt),
          100,
        )} ms after the partition began`,
      );
    console.log(
      `# membership: broken link noticed by A ${detectedAt ? detectedAt - partitionAt : 'never'} ms after the partition (B kept live through C); ` +
        `after healing, A reached B directly again and every table was identical ${convergedAt ? convergedAt - healedAt : 'never'} ms later; ` +
        `evictions per instance ${JSON.stringify(evictions)}, indirect probes sent ${JSON.stringify(sent)}, confirmed reachable ${JSON.stringify(reachable)}, ` +
        `failovers ${JSON.stringify(failovers)}, forwarded updates dropped ${JSON.stringify(dropped)}`,
    );

    // --- Checks.
    assert.deepEqual(evictions, [0, 0, 0], `an instance evicted a healthy member\n${logs.filter((l) => /is down|is up|route table/.test(l)).join('\n')}`);
    const split = samples.filter((s) => s.tables.some((x) => x !== tables[0] && x !== 'unanswered') || s.members.some((m) => m !== -1 && m !== 3));
    assert.equal(
      split.length,
      0,
      `route tables or member counts diverged at ${split.length} of ${samples.length} samples: ${JSON.stringify(split.slice(0, 3))}`,
    );
    assert.ok(samples.length > 20, `the monitor sampled ${samples.length} times`);
    assert.ok(detectedAt > 0, 'A never reported B as reachable only through another member');
    assert.ok(
      samples.some((s) => s.indirectOnly[a]! >= 1),
      'the monitor saw A keep B live through C',
    );
    assert.ok(reachable[a]! > 0, 'C confirmed B for A');
    assert.ok(convergedAt > 0, `after healing the instances did not converge in 20 s\n${logs.slice(-20).join('\n')}`);
    // Once A noticed, it sends nothing to B that another replica can do, so no call fails for the
    // partition; a call can still miss its 2 s deadline on an overloaded 2-core machine (other
    // test files run beside this one): tolerated up to 1% of the calls (A still sending to B
    // would fail ~8%), and printed above.
    const afterDetection = outcomes.filter((o) => detectedAt > 0 && o.start > detectedAt).length;
    assert.ok(
      lateFailures.length <= afterDetection / 100,
      `${lateFailures.length} of ${afterDetection} calls failed after A noticed the broken link: ${JSON.stringify(
        lateFailures.slice(0, 5).map((o) => ({ ...o, start: o.start - partitionAt })),
      )}`,
    );
    assert.ok(updatesOk.length > 0 && nearbyOk.length > 0);
    assert.equal(
      equalAt.size,
      holders.length,
      `replicas did not compare equal within ${2 * ANTI_ENTROPY_MS + 8000} ms after the load stopped: ${holders
        .filter(({ mapId, node }) => !equalAt.has(`${mapId}@${node}`))
        .map(({ mapId, node }) => `${mapId}@${node}`)
        .join(', ')}`,
    );
    assert.equal(acked.behind.length + acked.wrong.length + acked.replicasDiffer, 0, describeCheck(acked));
  } finally {
    monitoring = false;
    await load().catch(() => {});
    await monitor.catch(() => {});
  }

  // --- A frozen member is still evicted as before: within suspectMs + probeIntervalMs + probeTimeoutMs.
  const frozen = nodes[c]!;
  const others = [a, b];
  frozen.child.kill('SIGSTOP');
  const stoppedAt = Date.now();
  const seen = new Map<number, number>();
  while (seen.size < others.length && Date.now() - stoppedAt < 15_000) {
    await Promise.all(
      others.map(async (i) => {
        if (seen.has(i)) return;
        const m = await metricsOf(i).catch(() => undefined);
        if (m && m.get('faros_cluster_members') === 2) seen.set(i, Date.now() - stoppedAt);
      }),
    );
    await sleep(50);
  }
  frozen.child.kill('SIGCONT');
  const bound = PROBE.suspect + PROBE.interval + PROBE.timeout;
  const detected = others.map((i) => seen.get(i) ?? Number.POSITIVE_INFINITY);
  console.log(`# SIGSTOP of ${frozen.peerAddress}: evicted by the others after ${detected.join(', ')} ms (bound ${bound} ms + polling)`);
  // 50 ms polling and the timers of a loaded 2-core machine: 1 s of slack.
  for (const d of detected) assert.ok(d <= bound + 1000, `a frozen member was evicted after ${d} ms, bound ${bound} ms\n${logs.slice(-20).join('\n')}`);
  console.log(`# partition test took ${Date.now() - t00} ms`);
});
