// A slow instance (issue 15: "a slow one (200 ms added delay on its links):
// client error rate and P99 printed, no eviction of the healthy ones, calls
// with a 500 ms deadline still succeed through the other replica"). A real
// 3-instance cluster (replication 2, monaco-car and bayfront, --workers 1)
// with a TCP fault proxy in front of every instance's peer port
// (tools/faults/cluster.ts; this kernel has no `tc netem`): the victim, a
// replica of monaco-car, answers every peer 200 ms late for 10 s, under the
// shared steady load (tools/faults/load.ts: streamed updates and Nearby
// through all three instances, Nearby with a 500 ms deadline) and GetDriver
// reads of monaco drivers with a 500 ms deadline through the two healthy
// instances. Asserts: no instance drops a healthy one (the live members of
// each, polled every 250 ms; the slow one may be dropped), and once the delay is lifted and the load stopped every replica
// holds every driver's newest acknowledged state (anti-entropy repairs
// forwards the slow link lost). The 500 ms reads through the healthy
// instances should succeed during the delay as often as in the 3 s before it
// (at most 99 % asked, as this shared machine may not keep up without the
// fault).
// Prints the load reached, error rate and P99 before, during and after, and
// the convergence time.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadMap } from '../../src/mapbuild/build.js';
import { call, statusName } from '../../tools/faults/client.js';
import { startFaultCluster, tableKey, type FaultCluster } from '../../tools/faults/cluster.js';
import { OFFERED, SteadyLoad, pct } from '../../tools/faults/load.js';
import { checkReplicas, describeCheck } from '../../tools/faults/verify.js';

const MAPS = ['monaco-car', 'bayfront_singapore-car'];
const FILES: Record<string, string> = { 'monaco-car': 'monaco.osm.pbf', 'bayfront_singapore-car': 'bayfront_singapore.osm.pbf' };
const DELAY_MS = 200;
const SLOW_FOR_MS = 10_000;
const READ_DEADLINE_MS = 500;
const ANTI_ENTROPY_MS = 2000;
const CONVERGE_MS = 20_000;
const RAMP_MS = 3000;
const WARM_MS = 6000;

const logs: string[] = [];
const log = (l: string): void => {
  logs.push(`${new Date().toISOString().slice(11, 23)} ${l}`);
};
let fc: FaultCluster | undefined;
let load: SteadyLoad | undefined;

after(async () => {
  await load?.stop();
  await fc?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(`a slow instance (${DELAY_MS} ms on its peer links) under the steady load: no healthy instance dropped, replicas converge`, {
  timeout: 150_000,
}, async (t) => {
  const t00 = Date.now();
  const maps = [];
  for (const id of MAPS) maps.push({ mapId: id, graph: await loadMap(fileURLToPath(new URL(`../../../maps/${FILES[id]}`, import.meta.url)), 'car') });
  fc = await startFaultCluster({
    nodes: 3,
    replication: 2,
    serveArgs: [...MAPS.flatMap((m) => ['--map', m]), '--workers', '1', '--anti-entropy-ms', String(ANTI_ENTROPY_MS), '--log-level', 'info'],
    log,
  });
  const f = fc;
  const nodes = f.cluster.nodes;
  const table = await f.agreed(30_000);
  const monaco = table.get('monaco-car')!;
  const victim = nodes.findIndex((n) => n.peerAddress === monaco[0]);
  const healthy = [0, 1, 2].filter((i) => i !== victim);
  console.log(`# slow: cluster up in ${Date.now() - t00} ms; victim node${victim} ${nodes[victim]!.peerAddress} (monaco-car replicas ${monaco.join(',')})`);

  load = new SteadyLoad({
    clients: () => f.clients,
    maps,
    driversPerMap: 3000,
    ...OFFERED,
    nearbyDeadlineMs: READ_DEADLINE_MS,
    rampMs: RAMP_MS,
    seed: 1517,
  });
  const l = load;
  l.start();
  // Warm-up: the load ramps up, then must hold a while; the figures and checks start after it.
  await sleep(WARM_MS);
  const warmTable = await f.agreed(10_000);
  assert.equal(tableKey(warmTable), tableKey(table), 'the route table changed during the warm-up');
  console.log(`# slow: warm-up (${WARM_MS} ms, ramp ${RAMP_MS} ms): ${l.describe(l.summary(l.startedAt, Date.now()))}`);

  // GetDriver of monaco drivers (500 ms deadline) through the healthy instances, 50/s.
  const reads: { via: number; start: number; ms: number; code: string }[] = [];
  const samples: { at: number; peers: string[][] }[] = [];
  let on = true;
  const ids = l.driverIds('monaco-car');
  const reader = (async () => {
    const running = new Set<Promise<void>>();
    for (let k = 0; on; k++) {
      const via = healthy[k % 2]!;
      const start = Date.now();
      const p = call(f.clients[via], 'getDriver', { mapId: 'monaco-car', driverId: ids[k % 200]! }, READ_DEADLINE_MS).then(
        () => {
          reads.push({ via, start, ms: Date.now() - start, code: 'OK' });
        },
        (e) => {
          // NOT_FOUND before the load first wrote that driver is not a failure of the read path.
          reads.push({ via, start, ms: Date.now() - start, code: statusName(e) });
        },
      );
      running.add(p);
      void p.finally(() => running.delete(p));
      await sleep(20);
    }
    await Promise.all([...running]);
  })();
  const base = await Promise.all(nodes.map((_, i) => f.metrics(i, 5000)));
  const monitor = (async () => {
    while (on) {
      const at = Date.now();
      const ms = await Promise.all(nodes.map((_, i) => f.metrics(i).catch(() => undefined)));
      // The members each instance keeps live, as its faros_peer_clock_skew_seconds labels name them.
      samples.push({
        at,
        peers: ms.map((m) => (m ? [...m.keys()].flatMap((k) => /^faros_peer_clock_skew_seconds\{peer="([^"]+)"\}$/.exec(k)?.[1] ?? []) : ['unanswered'])),
      });
      await sleep(250);
    }
  })();

  let slowAt = 0,
    healedAt = 0,
    stoppedAt = 0;
  try {
    await sleep(3000);
    slowAt = Date.now();
    await f.proxies[victim]!.set({ kind: 'delay', ms: DELAY_MS });
    await sleep(SLOW_FOR_MS);
    await f.proxies[victim]!.set({ kind: 'pass' });
    healedAt = Date.now();
    await sleep(3000);
  } finally {
    on = false;
    await l.stop();
    stoppedAt = Date.now();
    await reader;
    await monitor;
  }
  const fin = await Promise.all(nodes.map((_, i) => f.metrics(i, 5000)));
  const delta = (i: number, name: string) => (fin[i]!.get(name) ?? 0) - (base[i]!.get(name) ?? 0);

  // --- Convergence: every replica holds every driver's newest acknowledged state.
  let check = await checkReplicas(l, table, (a) => f.cluster.peerClient(a, healthy[0]), nodes[healthy[0]!]!.peerAddress);
  while ((check.behind.length > 0 || check.replicasDiffer > 0) && Date.now() - stoppedAt < CONVERGE_MS) {
    await sleep(500);
    check = await checkReplicas(l, table, (a) => f.cluster.peerClient(a, healthy[0]), nodes[healthy[0]!]!.peerAddress);
  }
  const convergedMs = Date.now() - stoppedAt;

  // --- Figures.
  const phases: [string, number, number][] = [
    ['before', slowAt - 3000, slowAt],
    ['slow', slowAt, healedAt],
    ['after', healedAt, stoppedAt],
  ];
  for (const [name, a, b] of phases) {
    const s = l.summary(a, b);
    const errs = Object.values(s.failed).reduce((x, y) => x + y, 0);
    console.log(`# slow: ${name}: ${l.describe(s)}; error rate ${((100 * errs) / Math.max(1, s.calls)).toFixed(2)} %`);
  }
  const healthyNearby = l.outcomes.filter((o) => o.kind === 'nearby' && o.via !== victim && o.start >= slowAt && o.start < healedAt);
  const realReads = reads.filter((r) => r.code !== 'NOT_FOUND');
  const during = realReads.filter((r) => r.start >= slowAt && r.start < healedAt);
  const ok = during.filter((r) => r.code === 'OK');
  const nOk = healthyNearby.filter((o) => o.code === 'OK');
  const failedBy = (xs: { code: string }[]) => {
    const acc: Record<string, number> = {};
    for (const x of xs) if (x.code !== 'OK') acc[x.code] = (acc[x.code] ?? 0) + 1;
    return acc;
  };
  console.log(
    `# slow: during the delay, through the healthy instances (${READ_DEADLINE_MS} ms deadline): GetDriver ${ok.length}/${during.length} ok, P50 ${pct(
      ok.map((r) => r.ms),
      50,
    )} ms P99 ${pct(
      ok.map((r) => r.ms),
      99,
    )} ms, failed ${JSON.stringify(failedBy(during))}; Nearby ${nOk.length}/${healthyNearby.length} ok, P99 ${pct(
      nOk.map((o) => o.ms),
      99,
    )} ms, failed ${JSON.stringify(failedBy(healthyNearby))}`,
  );
  console.log(
    `# slow: per instance (evictions, hedges, failovers, forwards dropped): ${nodes
      .map(
        (_, i) =>
          `node${i}${i === victim ? '(slow)' : ''} ${delta(i, 'faros_membership_evictions_total')}/${delta(i, 'faros_replica_hedges_total')}/${delta(i, 'faros_replica_failovers_total')}/${delta(i, 'faros_forwarded_updates_total{result="dropped"}')}`,
      )
      .join(' ')}`,
  );
  console.log(
    `# slow: replicas after the load stopped (${convergedMs} ms, --anti-entropy-ms ${ANTI_ENTROPY_MS}): ${describeCheck(check)}; test took ${Date.now() - t00} ms`,
  );

  // --- Checks.
  // The delay's effect: the same 500 ms reads through the healthy instances, during it and in the
  // 3 s before it (what this machine does under this load without a fault).
  const okRate = (a: number, b: number): { ok: number; n: number; rate: number } => {
    const xs = [
      ...realReads.filter((r) => r.start >= a && r.start < b),
      ...l.outcomes.filter((o) => o.kind === 'nearby' && o.via !== victim && o.start >= a && o.start < b),
    ];
    const ok = xs.filter((x) => x.code === 'OK').length;
    return { ok, n: xs.length, rate: ok / Math.max(1, xs.length) };
  };
  const before = okRate(slowAt - 3000, slowAt),
    slow = okRate(slowAt, healedAt);
  console.log(
    `# slow: 500 ms reads through the healthy instances: ${before.ok}/${before.n} ok before the delay (${(100 * before.rate).toFixed(2)} %), ${slow.ok}/${slow.n} during it (${(100 * slow.rate).toFixed(2)} %)`,
  );

  // No instance drops a healthy one (the slow one may be dropped: it is not healthy).
  const healthyAddrs = healthy.map((i) => nodes[i]!.peerAddress);
  const dropped = samples.filter((sm) =>
    sm.peers.some((p, i) => !p.includes('unanswered') && healthyAddrs.some((a) => a !== nodes[i]!.peerAddress && !p.includes(a))),
  );
  console.log(
    `# slow: ${samples.length} membership samples; a healthy instance missing from a view in ${dropped.length}; the slow one missing from a view in ${
      samples.filter((sm) => sm.peers.some((p, i) => i !== victim && !p.includes('unanswered') && !p.includes(nodes[victim]!.peerAddress))).length
    }`,
  );
  assert.equal(
    dropped.length,
    0,
    `a healthy instance was dropped: ${JSON.stringify(dropped.slice(0, 2))}\n${logs.filter((x) => /is down|is up/.test(x)).join('\n')}`,
  );
  assert.ok(samples.length > 20, `too few membership samples: ${samples.length}`);
  assert.ok(slow.n > 100, `too few reads during the delay: ${slow.n}`);
  await t.test('500 ms reads through the healthy instances succeed during the delay as before it', () => {
    assert.ok(
      slow.rate >= Math.min(0.99, before.rate - 0.01),
      `500 ms reads through the healthy instances succeeded at ${(100 * slow.rate).toFixed(2)} % during the delay, ${(100 * before.rate).toFixed(2)} % before it: GetDriver ${JSON.stringify(failedBy(during))}, Nearby ${JSON.stringify(failedBy(healthyNearby))}`,
    );
  });
  assert.equal(check.wrong.length, 0, describeCheck(check));
  assert.equal(check.behind.length, 0, `replicas not converged ${CONVERGE_MS} ms after the load stopped: ${describeCheck(check)}`);
  assert.equal(check.replicasDiffer, 0, describeCheck(check));
});
