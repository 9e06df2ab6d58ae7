// Child processes of the benchmarks: a server that prints a JSON ready line,
// and a benchmark's own script in a client role that prints one JSON result.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Start `node args...`; resolves at its {"event":"ready","grpcPort":N} line. */
export function spawnReady(args: string[]): Promise<{ proc: ChildProcess; grpcPort: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, FAROS_LOG_LEVEL: 'warn' };
  delete env.NODE_TEST_CONTEXT;
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.startsWith('{') && (JSON.parse(l) as { event?: string }).event === 'ready')
        resolve({ proc, grpcPort: (JSON.parse(l) as { grpcPort: number }).grpcPort });
    });
  });
}

/** Run `script --role client <spec file>` and parse the JSON it prints. */
export function runClientProc<R>(script: string, spec: object, dir: string, k: number): Promise<R> {
  const f = join(dir, `client-${k}.json`);
  writeFileSync(f, JSON.stringify(spec));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, '--role', 'client', f], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    p.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`client exited ${code}`));
      // A bad line rejects (the caller's cleanup runs) rather than throwing in this handler.
      try {
        resolve(JSON.parse(out) as R);
      } catch (e) {
        reject(new Error(`client printed no JSON result (${(e as Error).message}): ${out.slice(0, 200)}…`));
      }
    });
  });
}

/** What a closed-loop client measured: calls finished inside the window, their errors and latencies (µs). */
export interface LoopResult {
  calls: number;
  errors: number;
  latUs: number[];
}

/**
 * `concurrency` calls outstanding for warmupMs + durationMs; only calls that
 * start after the warm-up and end inside the window count. `send(done)` starts
 * one call and calls done(err) when it ends.
 */
export async function closedLoop(
  o: { concurrency: number; warmupMs: number; durationMs: number },
  send: (done: (err: Error | null) => void) => void,
): Promise<LoopResult> {
  const latUs: number[] = [];
  let calls = 0;
  let errors = 0;
  const tStart = performance.now() + o.warmupMs;
  const tEnd = tStart + o.durationMs;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const s = performance.now();
      send((err) => {
        const e = performance.now();
        if (s >= tStart && e <= tEnd) {
          calls++;
          if (err) errors++;
          latUs.push((e - s) * 1000);
        }
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < tEnd) await one();
    }),
  );
  return { calls, errors, latUs };
}
