// The machine's parallel ceiling: the same CPU-bound JS loop in one worker
// thread, then in two worker threads at once. Every thread-scaling figure in
// bench/README.md is stated against this ratio (DESIGN.md: two busy threads
// get ≈1.2 cores on this kind of machine, one ≈0.94).
//
//   node dist/bench/micro/ceiling.js [--quick] [--seed N]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { header, median, parseArgs, printTable, saveResult, fmt, sink } from '../lib/common.js';

interface Job {
  seconds: number;
  seed: number;
}
interface Done {
  iterations: number;
  wallS: number;
  cpuS: number;
}

/** xorshift32 + a little float math: pure ALU, no allocation, no memory traffic. */
function spin(seed: number, iterations: number): number {
  let x = seed | 1,
    acc = 0;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    acc += Math.sqrt((x >>> 0) + 1) * 1e-9;
  }
  return acc + x;
}

if (!isMainThread) {
  const { seconds, seed } = workerData as Job;
  const CHUNK = 200_000;
  let iterations = 0,
    acc = 0;
  // WATCH OUT: threadCpuUsage is not in Node 20; the wall clock is what the thread got.
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    acc += spin(seed + iterations, CHUNK);
    iterations += CHUNK;
  }
  const wallS = (performance.now() - t0) / 1000;
  parentPort!.postMessage({ iterations, wallS, cpuS: NaN, acc } satisfies Done & { acc: number });
}

function runThreads(n: number, seconds: number, seed: number): Promise<{ total: number; per: number[]; wallS: number; cpuS: number }> {
  const file = fileURLToPath(import.meta.url);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ws = Array.from(
    { length: n },
    (_, i) =>
      new Promise<Done & { acc: number }>((resolve, reject) => {
        const w = new Worker(file, { workerData: { seconds, seed: seed + i } satisfies Job });
        w.once('message', resolve);
        w.once('error', reject);
      }),
  );
  return Promise.all(ws).then((rs) => {
    const wallS = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(cpu0);
    for (const r of rs) sink.v += r.acc;
    const per = rs.map((r) => r.iterations / r.wallS);
    return { total: per.reduce((a, b) => a + b, 0), per, wallS, cpuS: (c.user + c.system) / 1e6 };
  });
}

async function main(): Promise<void> {
  const { quick, seed } = parseArgs();
  header('ceiling: one busy thread vs two', quick);
  const seconds = quick ? 1.5 : 3;
  const rounds = quick ? 3 : 7;
  // warm-up: both shapes once, short
  await runThreads(1, 0.3, seed);
  await runThreads(2, 0.3, seed);
  const one: number[] = [],
    two: number[] = [],
    ratios: number[] = [],
    cores1: number[] = [],
    cores2: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // alternate, so drifts in the machine's other load hit both shapes alike
    const a = await runThreads(1, seconds, seed + r);
    const b = await runThreads(2, seconds, seed + r);
    one.push(a.total);
    two.push(b.total);
    ratios.push(b.total / a.total);
    cores1.push(a.cpuS / a.wallS);
    cores2.push(b.cpuS / b.wallS);
    console.log(
      `round ${r + 1}: 1 thread ${fmt(a.total / 1e6, 1)} M it/s, 2 threads ${fmt(b.total / 1e6, 1)} M it/s (${b.per.map((x) => fmt(x / 1e6, 1)).join(' + ')}), ratio ${b.total / a.total > 0 ? (b.total / a.total).toFixed(2) : '?'}`,
    );
  }
  const ratio = median(ratios);
  console.log('');
  printTable(
    ['threads', 'work M it/s (median)', 'CPU cores used (getrusage / wall)', '× one thread'],
    [
      ['1', fmt(median(one) / 1e6, 1), median(cores1).toFixed(2), '1.00'],
      ['2', fmt(median(two) / 1e6, 1), median(cores2).toFixed(2), ratio.toFixed(2)],
    ],
  );
  console.log(`\nceiling: 2 threads = ${ratio.toFixed(2)}× one thread (median of ${rounds} paired rounds of ${seconds} s)`);
  const file = saveResult('ceiling', quick, {
    seed,
    seconds,
    rounds,
    oneThreadItPerS: one,
    twoThreadsItPerS: two,
    ratios,
    ratioMedian: ratio,
    coresUsed: { one: median(cores1), two: median(cores2) },
    sink: sink.v,
  });
  console.log(`saved ${file}`);
}

if (isMainThread) await main();
