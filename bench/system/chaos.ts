// Chaos run (issue 15): a real 3-instance cluster (replication 2, monaco-car
// and bayfront, --workers 1) with a fault proxy in front of every peer port
// (tools/faults/cluster.ts), under the shared steady load
// (tools/faults/load.ts, through the instances no process fault holds: a
// client's load balancer would take a dead or frozen one out), and every
// --every-s a random fault on a random instance for --fault-s:
//   kill       SIGKILL, started again (same ports) after the fault time;
//   stop       SIGSTOP, then SIGCONT;
//   partition  the others cannot reach it (its proxy holds every byte; its
//              own connections to them still work: a one-way partition);
//   delay      it answers its peers 200 ms late.
// Per fault: how long until the others dropped it (if they did), how long
// after the fault ended until every instance listed every map on 2 replicas
// again, and the load's figures (rate reached, P99, failed calls) during the
// fault and in the rest of its period. After the last fault the load stops
// and every replica must equal the newest acknowledged state of every driver
// (read through Peer.PullSnapshot, tools/faults/verify.ts); copies behind are
// split by whether their update was acknowledged within the loss window
// before a kill (docs/CLUSTER.md). Prints a table, saves
// bench/results/chaos[-quick].json.
//
//   node dist/bench/system/chaos.js [--quick] [--seed N] [--minutes 10] [--every-s 30] [--fault-s 10]
// --quick: 2 minutes, a fault every 20 s for 8 s.
import { fileURLToPath } from 'node:url';
import { loadMap } from '../../src/mapbuild/build.js';
import { startFaultCluster, tableKey, type FaultCluster } from '../../tools/faults/cluster.js';
import { OFFERED, SteadyLoad, type LoadSummary } from '../../tools/faults/load.js';
import { checkReplicas, describeCheck, type ReplicaCheck } from '../../tools/faults/verify.js';
import { mulberry32 } from '../../src/rng.js';
import { fmt, header, parseArgs, printTable, saveResult } from '../lib/common.js';

const MAPS = ['monaco-car', 'bayfront_singapore-car'];
const FILES: Record<string, string> = { 'monaco-car': 'monaco.osm.pbf', 'bayfront_singapore-car': 'bayfront_singapore.osm.pbf' };
const KINDS = ['kill', 'stop', 'partition', 'delay'] as const;
type Kind = (typeof KINDS)[number];
const DELAY_MS = 200;
/** An update acknowledged by a killed replica this long before its death may be lost (docs/CLUSTER.md). */
const LOSS_WINDOW_MS = 500;
const ANTI_ENTROPY_MS = 5000;
/** The steady load's streamed-update deadline: a dead replica's last answers reach the client within it. */
const UPDATE_DEADLINE_MS = 2000;

const argv = process.argv.slice(2);
const num = (flag: string, dflt: number): number => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : dflt);
const { quick, seed } = parseArgs();
const MINUTES = num('--minutes', quick ? 2 : 10);
const EVERY_S = num('--every-s', quick ? 20 : 30);
const FAULT_S = num('--fault-s', quick ? 8 : 10);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FaultRecord {
  n: number;
  kind: Kind;
  victim: string;
  /** Epoch ms the fault began and ended (relative figures below). */
  at: number;
  endedAt: number;
  /** Ms from the fault's start until both others dropped the victim from their tables (undefined: they did not). */
  droppedMs?: number;
  /** Ms from the fault's end until every instance listed every map on 2 replicas, the same everywhere. */
  recoveredMs?: number;
  during: LoadSummary;
  rest: LoadSummary;
}

async function main(): Promise<void> {
  header(`Chaos: a random fault every ${EVERY_S} s for ${MINUTES} min under the steady load`, quick);
  const logs: string[] = [];
  const log = (l: string): void => {
    logs.push(`${new Date().toISOString().slice(11, 23)} ${l}`);
    if (logs.length > 2000) logs.splice(0, 1000);
  };
  const maps = [];
  for (const id of MAPS) maps.push({ mapId: id, graph: await loadMap(fileURLToPath(new URL(`../../../maps/${FILES[id]}`, import.meta.url)), 'car') });
  const fc: FaultCluster = await startFaultCluster({
    nodes: 3,
    replication: 2,
    serveArgs: [...MAPS.flatMap((m) => ['--map', m]), '--workers', '1', '--anti-entropy-ms', String(ANTI_ENTROPY_MS), '--log-level', 'info'],
    log,
  });
  const nodes = fc.cluster.nodes;
  const rnd = mulberry32(seed);
  /** Instances a process fault holds (dead or frozen): the load goes through the others. */
  const down = new Set<number>();
  const load = new SteadyLoad({
    clients: () => fc.clients,
    via: () => nodes.map((_, i) => i).filter((i) => !down.has(i)),
    maps,
    driversPerMap: 3000,
    ...OFFERED,
    updateDeadlineMs: UPDATE_DEADLINE_MS,
    rampMs: 3000,
    seed,
  });
  const faults: FaultRecord[] = [];
  const kills: number[] = [];
  let check: ReplicaCheck | undefined;
  let convergedMs: number | undefined;
  let finalTable = '';
  let tablesDisagree: string[] | undefined;
  try {
    const table = await fc.agreed(30_000);
    console.log(`cluster up; replicas ${[...table].map(([m, r]) => `${m}=${r.join(',')}`).join(' ')}`);
    load.start();
    await sleep(8000);
    console.log(`warm-up: ${load.describe(load.summary(load.startedAt, Date.now()))}`);
    const runUntil = Date.now() + MINUTES * 60_000;
    for (let n = 1; Date.now() + EVERY_S * 1000 <= runUntil + 1000; n++) {
      const periodStart = Date.now();
      const kind = KINDS[Math.floor(rnd() * KINDS.length)]!;
      const victim = Math.floor(rnd() * nodes.length);
      const V = nodes[victim]!;
      const others = nodes.map((_, i) => i).filter((i) => i !== victim);
      const at = Date.now();
      let droppedAt: number | undefined;
      const watch = (async () => {
        while (Date.now() - at < FAULT_S * 1000 && droppedAt === undefined) {
          const ts = await Promise.all(others.map((i) => fc.table(i).catch(() => undefined)));
          if (ts.every((t) => t && [...t.values()].every((r) => !r.includes(V.peerAddress)))) droppedAt = Date.now();
          await sleep(100);
        }
      })();
      if (kind === 'kill') {
        down.add(victim);
        kills.push(Date.now());
        V.child.kill('SIGKILL');
      } else if (kind === 'stop') {
        down.add(victim);
        V.child.kill('SIGSTOP');
      } else if (kind === 'partition') await fc.proxies[victim]!.set({ kind: 'hold' });
      else await fc.proxies[victim]!.set({ kind: 'delay', ms: DELAY_MS });
      await sleep(FAULT_S * 1000);
      await watch;
      if (kind === 'kill') await fc.restart(victim);
      else if (kind === 'stop') V.child.kill('SIGCONT');
      else await fc.proxies[victim]!.set({ kind: 'pass' });
      down.delete(victim);
      const endedAt = Date.now();
      let recoveredAt: number | undefined;
      while (Date.now() < periodStart + EVERY_S * 1000 - 200) {
        if (recoveredAt === undefined) {
          const t = await fc.agreed(300).catch(() => undefined);
          if (t && tableKey(t) === tableKey(table)) recoveredAt = Date.now();
        }
        await sleep(recoveredAt === undefined ? 100 : 500);
      }
      const rec: FaultRecord = {
        n,
        kind,
        victim: V.peerAddress,
        at,
        endedAt,
        droppedMs: droppedAt === undefined ? undefined : droppedAt - at,
        recoveredMs: recoveredAt === undefined ? undefined : recoveredAt - endedAt,
        during: load.summary(at, endedAt),
        rest: load.summary(endedAt, Date.now()),
      };
      faults.push(rec);
      const failed = (s: LoadSummary) => Object.values(s.failed).reduce((a, b) => a + b, 0);
      console.log(
        `fault ${n} ${kind} node${victim}: dropped ${rec.droppedMs ?? '-'} ms, tables back ${rec.recoveredMs === undefined ? `not within the period` : `${rec.recoveredMs} ms`} after; ` +
          `during ${rec.during.updatesAcceptedPerS} upd/s ${rec.during.nearbyOkPerS} nearby/s P99 ${rec.during.nearbyP99} ms, ${failed(rec.during)}/${rec.during.calls} failed ${JSON.stringify(rec.during.failed)}; ` +
          `after ${rec.rest.updatesAcceptedPerS} upd/s, ${failed(rec.rest)}/${rec.rest.calls} failed`,
      );
    }
    await load.stop();
    const stoppedAt = Date.now();
    // Every instance must list the same replicas again; when they do not, say who sees whom, and check
    // the replicas instance 0 lists.
    let t = await fc.agreed(60_000).catch(() => undefined);
    if (!t) {
      tablesDisagree = await Promise.all(
        nodes.map(async (n, i) => {
          const m = await fc.metrics(i, 5000).catch(() => new Map<string, number>());
          const live = [...m.keys()].flatMap((k) => /^faros_peer_clock_skew_seconds\{peer="([^"]+)"\}$/.exec(k)?.[1] ?? []);
          const tb = await fc.table(i, 5000).catch(() => undefined);
          return `node${i} ${n.peerAddress}: members ${m.get('faros_cluster_members')}, live peers ${live.join(',')}, table ${tb ? tableKey(tb) : 'unanswered'}`;
        }),
      );
      console.log(`route tables did not agree within 60 s after the load stopped:\n  ${tablesDisagree.join('\n  ')}`);
      console.log(
        logs
          .filter((l) => /is down|is up|answers our probes|keeping it live|frozen/.test(l))
          .slice(-30)
          .join('\n'),
      );
      t = await fc.table(0, 5000);
    }
    finalTable = tableKey(t);
    const requester = nodes[0]!.peerAddress;
    for (;;) {
      check = await checkReplicas(load, t, (a) => fc.cluster.peerClient(a, 0), requester);
      if ((check.behind.length === 0 && check.replicasDiffer === 0) || Date.now() - stoppedAt > 4 * ANTI_ENTROPY_MS + 20_000) break;
      await sleep(1000);
    }
    if (check.behind.length === 0 && check.replicasDiffer === 0) convergedMs = Date.now() - stoppedAt;
  } finally {
    await load.stop();
    await fc.stop();
  }

  // --- Report.
  const failedN = (s: LoadSummary) => Object.values(s.failed).reduce((a, b) => a + b, 0);
  printTable(
    ['#', 'fault', 'dropped by the others (ms)', 'tables back after (ms)', 'upd/s during', 'nearby P99 during (ms)', 'failed during', 'failed after'],
    faults.map((f) => [
      f.n,
      f.kind,
      f.droppedMs ?? '-',
      f.recoveredMs ?? 'no',
      fmt(f.during.updatesAcceptedPerS),
      f.during.nearbyP99,
      `${failedN(f.during)}/${f.during.calls}`,
      `${failedN(f.rest)}/${f.rest.calls}`,
    ]),
  );
  const whole = load.summary();
  console.log(`\nwhole run: ${load.describe(whole)}`);
  const inWindow = (check?.behind ?? []).filter((b) => kills.some((k) => b.ackedAt >= k - LOSS_WINDOW_MS && b.ackedAt <= k + UPDATE_DEADLINE_MS));
  const outside = (check?.behind.length ?? 0) - inWindow.length;
  console.log(
    `replicas after the load stopped: ${check ? describeCheck(check) : 'not checked'}; ${convergedMs !== undefined ? `equal ${convergedMs} ms after the load stopped` : 'NOT converged'}; ` +
      `copies behind acknowledged within ${LOSS_WINDOW_MS} ms before a kill: ${inWindow.length}, outside: ${outside}`,
  );
  const file = saveResult('chaos', quick, {
    params: {
      minutes: MINUTES,
      everyS: EVERY_S,
      faultS: FAULT_S,
      delayMs: DELAY_MS,
      antiEntropyMs: ANTI_ENTROPY_MS,
      lossWindowMs: LOSS_WINDOW_MS,
      seed,
      ...OFFERED,
    },
    faults: faults.map((f) => ({ ...f, at: undefined, endedAt: undefined, startS: Math.round((f.at - load.startedAt) / 1000) })),
    whole,
    final: {
      table: finalTable,
      tablesDisagree,
      convergedMs,
      drivers: check?.drivers,
      upToDate: check?.upToDate,
      behind: check?.behind.length,
      behindInKillWindow: inWindow.length,
      behindOutside: outside,
      wrong: check?.wrong.length,
      replicasDiffer: check?.replicasDiffer,
      behindSample: check?.behind.slice(0, 10),
    },
  });
  console.log(`saved ${file}`);
  if (!check || tablesDisagree || outside > 0 || check.wrong.length > 0 || check.replicasDiffer > 0) {
    console.log(logs.slice(-40).join('\n'));
    process.exitCode = 1;
  }
}

await main();
