// Load-test plumbing: start a Faros server process, fork generator workers and
// merge their results, scrape /metrics while a phase runs, summarise latency.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, quantile } from '../../lib/common.js';
import type { WorkerResult, WorkerSpec } from './worker.js';
import { parseProm } from '../../../tools/prom-text.js';

export { parseProm };

const WORKER = join(fileURLToPath(new URL('.', import.meta.url)), 'worker.js');
export const FAROS_BIN = join(ROOT, 'dist', 'src', 'bin', 'faros.js');

export interface FarosProc {
  grpc: string;
  http: string;
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** `faros serve` on 127.0.0.1, ports picked by the kernel; resolves when it says ready. */
export async function startFaros(args: string[], timeoutMs = 120_000, execArgv: string[] = []): Promise<FarosProc> {
  const proc = spawn(
    process.execPath,
    [...execArgv, FAROS_BIN, 'serve', '--host', '127.0.0.1', '--grpc-port', '0', '--http-port', '0', '--log-level', 'warn', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    if (err.length > 1 << 20) err = err.slice(-(1 << 19));
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  const ready = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`faros not ready in ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    void exited.then((c) => {
      clearTimeout(t);
      reject(new Error(`faros exited with ${c} before ready:\n${err}`));
    });
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const m = JSON.parse(line) as { event?: string; grpcPort: number; httpPort: number };
        if (m.event === 'ready') {
          clearTimeout(t);
          resolve(m);
        }
      } catch {
        /* a log line that is not JSON: not ours */
      }
    });
  });
  return {
    grpc: `127.0.0.1:${ready.grpcPort}`,
    http: `http://127.0.0.1:${ready.httpPort}`,
    proc,
    stderr: () => err,
    stop: async () => {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const c = await exited;
      clearTimeout(t);
      return c;
    },
  };
}

// ── /metrics ───────────────────────────────────────────────────────────────
const sumOf = (m: Map<string, number>, name: string): number => {
  let s = 0,
    seen = false;
  for (const [k, v] of m)
    if (k === name || k.startsWith(`${name}{`)) {
      s += v;
      seen = true;
    }
  return seen ? s : NaN;
};

export interface Sample {
  t: number;
  cpuS: number;
  rssB: number;
  lagP99S: number;
  lagMaxS: number;
  drivers: number;
  queue: number;
  heapB: number;
}

export async function scrape(base: string): Promise<Sample | undefined> {
  try {
    const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
    const m = parseProm(await res.text());
    return {
      t: Date.now(),
      cpuS: sumOf(m, 'process_cpu_seconds_total'),
      rssB: sumOf(m, 'process_resident_memory_bytes'),
      lagP99S: sumOf(m, 'faros_event_loop_delay_p99_seconds'),
      lagMaxS: sumOf(m, 'faros_event_loop_delay_max_seconds'),
      drivers: sumOf(m, 'faros_drivers'),
      queue: sumOf(m, 'faros_worker_queue_depth'),
      heapB: sumOf(m, 'nodejs_heap_size_used_bytes'),
    };
  } catch {
    return undefined;
  }
}

export interface ServerFigures {
  /** CPU cores the server process used on average (all its threads). */
  cpuCores: number;
  /** Largest per-scrape event-loop delay P99 / max, ms. */
  lagP99Ms: number;
  lagMaxMs: number;
  drivers: number;
  rssMB: number;
  maxQueue: number;
}

/** Scrape every periodMs until stopped; summarise per instance (summed across instances for CPU). */
export function scraper(bases: string[], periodMs = 1000): { stop(): Promise<ServerFigures | undefined> } {
  const samples: Sample[][] = bases.map(() => []);
  let live = true;
  const loop = (async () => {
    while (live) {
      const got = await Promise.all(bases.map(scrape));
      got.forEach((s, i) => {
        if (s) samples[i]!.push(s);
      });
      await new Promise((r) => setTimeout(r, periodMs));
    }
  })();
  return {
    async stop() {
      live = false;
      await loop;
      const got = await Promise.all(bases.map(scrape));
      got.forEach((s, i) => {
        if (s) samples[i]!.push(s);
      });
      if (samples.every((s) => s.length < 2)) return undefined;
      let cpu = 0,
        lag = 0,
        lagMax = 0,
        drivers = 0,
        rss = 0,
        q = 0;
      for (const ss of samples) {
        if (ss.length < 2) continue;
        const a = ss[0]!,
          b = ss[ss.length - 1]!;
        cpu += (b.cpuS - a.cpuS) / ((b.t - a.t) / 1000);
        // the first sample's lag covers the time before the phase
        for (const s of ss.slice(1)) {
          lag = Math.max(lag, s.lagP99S);
          lagMax = Math.max(lagMax, s.lagMaxS);
          q = Math.max(q, s.queue);
          rss = Math.max(rss, s.rssB);
        }
        drivers += b.drivers;
      }
      return {
        cpuCores: +cpu.toFixed(2),
        lagP99Ms: +(lag * 1000).toFixed(1),
        lagMaxMs: +(lagMax * 1000).toFixed(1),
        drivers,
        rssMB: +(rss / 2 ** 20).toFixed(0),
        maxQueue: q,
      };
    },
  };
}

// ── latency summary ────────────────────────────────────────────────────────
export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  n: number;
}
export function summarise(lat: Float64Array): Latency {
  const r = (q: number): number => +quantile(lat, q).toFixed(2);
  let mx = 0;
  for (const x of lat) if (x > mx) mx = x;
  return { p50: r(0.5), p90: r(0.9), p99: r(0.99), p999: r(0.999), max: +mx.toFixed(2), n: lat.length };
}

export interface PhaseResult {
  name: string;
  system: 'faros' | 'redis';
  proto: 'grpc' | 'http' | 'resp';
  kind: 'updates' | 'nearby';
  mode: 'open' | 'closed';
  /** Open loop: the intended rate (items/s). */
  target?: number;
  /** Items answered OK per second over the measured window. */
  throughput: number;
  callsPerS: number;
  /** Latency per call (nearby) or per batch (updates), ms. */
  latencyMs: Latency;
  errors: Record<string, number>;
  server?: ServerFigures;
  /** CPU cores the load generator processes used (they share the machine). */
  clientCpuCores: number;
  clientMaxLagMs: number;
  note?: string;
}

/** Fork one worker per spec, start them together, merge their results. */
export async function runWorkers(specs: WorkerSpec[], timeoutMs: number): Promise<WorkerResult[]> {
  const kids = specs.map(() => fork(WORKER, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const kill = (): void => {
    for (const k of kids) if (k.exitCode === null) k.kill('SIGKILL');
  };
  const t = setTimeout(kill, timeoutMs);
  try {
    const msgs = kids.map((k) => {
      const q: unknown[] = [];
      const waiters: ((m: unknown) => void)[] = [];
      k.on('message', (m) => {
        const w = waiters.shift();
        if (w) w(m);
        else q.push(m);
      });
      k.on('exit', (c) => {
        const w = waiters.shift();
        if (w) w({ error: `worker exited with ${c}` });
      });
      return (): Promise<any> => (q.length ? Promise.resolve(q.shift()) : new Promise((r) => waiters.push(r)));
    });
    kids.forEach((k, i) => k.send({ spec: specs[i] }));
    const ready = await Promise.all(msgs.map((m) => m()));
    for (const r of ready) if (r.error) throw new Error(`load worker failed: ${r.error}`);
    const startAt = Date.now() + 300;
    kids.forEach((k) => k.send({ go: true, startAt }));
    const done = await Promise.all(msgs.map((m) => m()));
    for (const r of done) if (r.error) throw new Error(`load worker failed: ${r.error}`);
    return done.map((r) => r.result as WorkerResult);
  } finally {
    clearTimeout(t);
    kill();
  }
}

export function merge(
  name: string,
  system: PhaseResult['system'],
  rs: WorkerResult[],
  extra: Partial<PhaseResult> & Pick<PhaseResult, 'kind' | 'mode'>,
): PhaseResult {
  const n = rs.reduce((s, r) => s + r.latMs.length, 0);
  const lat = new Float64Array(n);
  let at = 0,
    items = 0,
    calls = 0,
    cpu = 0,
    lag = 0,
    wall = 0;
  const errors: Record<string, number> = {};
  for (const r of rs) {
    lat.set(r.latMs, at);
    at += r.latMs.length;
    items += r.items;
    calls += r.calls;
    cpu += r.cpuMs;
    wall = Math.max(wall, r.runMs);
    lag = Math.max(lag, r.maxLagMs);
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  }
  const secs = rs[0]!.measuredMs / 1000;
  const replayed = rs.reduce((s, r) => s + (r.replayed ?? 0), 0);
  if (replayed > 0)
    extra = { ...extra, note: [extra.note, `${replayed} update batches replayed from the start of the generators' plan`].filter(Boolean).join('; ') };
  return {
    name,
    system,
    proto: system === 'redis' ? 'resp' : 'grpc',
    throughput: Math.round(items / secs),
    callsPerS: Math.round(calls / secs),
    latencyMs: summarise(lat),
    errors,
    clientCpuCores: +(cpu / wall).toFixed(2),
    clientMaxLagMs: +lag.toFixed(1),
    ...extra,
  };
}
