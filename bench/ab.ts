// A/B of two git revisions on one benchmark, in one run, alternating builds:
// each revision in its own detached worktree under /tmp/faros-ab/<shortsha>,
// built with tsc, then round 1 runs A then B, round 2 B then A, and so on (so
// a drift in the machine's load falls on both sides). After each run the
// benchmark's JSON is read from that worktree and the metrics picked out.
//
//   node dist/bench/ab.js --a <rev> --b <rev> --bench '<command>' --result-file bench/results/<name>.json
//     [--bench-a '<command>' --bench-b '<command>'] [--result-file-a f --result-file-b f]
//     [--metric <path>]... [--rounds 3] [--out name] [--clean]
//
// A command runs under `sh -c` in the worktree; `{dist}` is replaced by the
// worktree's dist directory, `{root}` by the worktree. A metric path is dotted:
// `a.b.0.c` (a number indexes an array), and `[k=v,k2=v2]` picks the first
// array element whose fields equal those values, e.g.
// `pipeline[impl=Shard.update,threads=2,batch=1000].updatesPerS`.
// Saves bench/results/ab-<out>.json; the benchmarks' own output goes to
// /tmp/faros-ab/logs/. Each run also records the CPU that processes outside
// this runner used meanwhile (from /proc, once a second), so a run that shared
// the machine with someone's build or tests can be told apart. Worktrees are
// kept for reuse; --clean removes the ones this invocation created.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs as parseCli } from 'node:util';
import { ROOT, fmt, printTable, saveResult } from './lib/common.js';

const BASE = '/tmp/faros-ab';
const LOGS = join(BASE, 'logs');

interface Side {
  name: 'A' | 'B';
  rev: string;
  sha: string;
  dir: string;
  command: string;
  resultFile: string;
  created: boolean;
  deps: string;
}

const git = (args: string[], cwd = ROOT): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const load = (): number[] => loadavg().map((x) => +x.toFixed(2));

/** Run `cmd args` in cwd with output to the log; resolves to its exit code. */
function run(cmd: string, args: string[], cwd: string, log: string): Promise<number> {
  const fd = openSync(log, 'w');
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', fd, fd] });
    p.once('error', reject);
    p.once('exit', (code, signal) => {
      closeSync(fd);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

function tail(log: string, bytes = 2000): string {
  const fd = openSync(log, 'r');
  const size = statSync(log).size;
  const buf = Buffer.alloc(Math.min(bytes, size));
  readSync(fd, buf, 0, buf.length, size - buf.length);
  closeSync(fd);
  return buf.toString();
}

/** Every process's parent and CPU ticks (Linux /proc; USER_HZ 100). */
function procs(): Map<number, { ppid: number; ticks: number }> {
  const m = new Map<number, { ppid: number; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
      m.set(+d, { ppid: +f[1]!, ticks: +f[11]! + +f[12]! }); // ppid, utime + stime
    } catch {} // it ended meanwhile
  }
  return m;
}

/**
 * CPU used meanwhile by processes outside this runner's tree (another
 * engineer's tests, a build): sampled every second, so a process that lives
 * less than a second is missed. null where there is no /proc.
 */
function foreignMeter(): { stop(): { cores: number; stealCores: number; top: { command: string; cpuS: number }[] } | null } {
  if (!existsSync('/proc/self/stat')) return { stop: () => null };
  const t0 = Date.now();
  // time the hypervisor gave this VM's CPUs to someone else
  const steal = (): number => +(readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)[8] ?? 0);
  const steal0 = steal();
  const byCmd = new Map<string, number>();
  const name = (pid: number): string => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim().slice(0, 120) || `pid ${pid}`;
    } catch {
      return `pid ${pid}`;
    }
  };
  let prev = procs();
  const tick = (): void => {
    const cur = procs();
    const mine = (pid: number): boolean => {
      for (let p = pid, n = 0; p > 1 && n < 64; p = cur.get(p)?.ppid ?? 0, n++) if (p === process.pid) return true;
      return false;
    };
    for (const [pid, c] of cur) {
      const d = c.ticks - (prev.get(pid)?.ticks ?? c.ticks);
      if (d <= 0 || mine(pid)) continue;
      const n = name(pid);
      byCmd.set(n, (byCmd.get(n) ?? 0) + d / 100);
    }
    prev = cur;
  };
  const timer = setInterval(tick, 1000);
  return {
    stop() {
      clearInterval(timer);
      tick();
      const total = [...byCmd.values()].reduce((a, b) => a + b, 0);
      const top = [...byCmd].sort((a, b) => b[1] - a[1]).slice(0, 5);
      const secs = (Date.now() - t0) / 1000;
      return {
        cores: +(total / secs).toFixed(3),
        stealCores: +((steal() - steal0) / 100 / secs).toFixed(3),
        top: top.map(([command, cpuS]) => ({ command, cpuS: +cpuS.toFixed(2) })),
      };
    },
  };
}

/** A detached worktree at the revision (reused when already there), its dependencies, built. */
async function prepare(side: Side): Promise<void> {
  if (existsSync(side.dir)) {
    const head = git(['rev-parse', 'HEAD'], side.dir);
    if (head !== side.sha) throw new Error(`${side.dir} exists at ${head}, not ${side.sha}: move it away`);
    console.log(`${side.name}: reusing worktree ${side.dir}`);
  } else {
    git(['worktree', 'add', '--detach', side.dir, side.sha]);
    side.created = true;
    console.log(`${side.name}: created worktree ${side.dir}`);
  }
  const nm = join(side.dir, 'node_modules');
  if (!existsSync(nm)) symlinkSync(join(ROOT, 'node_modules'), nm, 'dir');
  // `npm ls` against this revision's package.json and lock: missing or invalid
  // packages mean another dependency set, so the worktree gets its own `npm ci`.
  // Extraneous ones (installed, declared only by the other revision) change nothing here.
  let problems: string[] = [];
  try {
    execFileSync('npm', ['ls', '--all', '--json'], { cwd: side.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    problems = (JSON.parse((e as { stdout?: string }).stdout || '{}') as { problems?: string[] }).problems ?? ['npm ls failed'];
  }
  const linked = lstatSync(nm).isSymbolicLink();
  const real = problems.filter((p) => !p.startsWith('extraneous'));
  if (real.length > 0) {
    console.log(`${side.name}: npm ls differs (${real.slice(0, 3).join('; ')}), running npm ci`);
    // the link only (never the main repo's node_modules), or this worktree's own from an earlier npm ci
    if (linked) unlinkSync(nm);
    else rmSync(nm, { recursive: true });
    if ((await run('npm', ['ci'], side.dir, join(LOGS, `npm-ci-${side.sha.slice(0, 7)}.log`))) !== 0)
      throw new Error(`${side.name}: npm ci failed, see ${LOGS}`);
    side.deps = 'own npm ci';
  } else side.deps = `${linked ? 'main repo node_modules (symlink)' : 'own node_modules'}; npm ls: ${problems.length ? problems.join('; ') : 'ok'}`;
  const t0 = Date.now();
  const log = join(LOGS, `tsc-${side.sha.slice(0, 7)}.log`);
  if ((await run('npx', ['tsc', '-p', 'tsconfig.json'], side.dir, log)) !== 0) throw new Error(`${side.name}: tsc failed:\n${tail(log)}`);
  console.log(`${side.name}: built ${side.sha.slice(0, 7)} in ${((Date.now() - t0) / 1000).toFixed(1)} s (deps: ${side.deps})`);
}

/** Follow a dotted path with [k=v,...] selectors through parsed JSON. */
function pick(json: unknown, path: string): unknown {
  let cur: unknown = json;
  for (const tok of path.match(/\[[^\]]*\]|[^.[\]]+/g) ?? []) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (tok.startsWith('[')) {
      const conds = tok
        .slice(1, -1)
        .split(',')
        .map((c) => c.split('=') as [string, string]);
      cur = (Array.isArray(cur) ? cur : []).find((el) => conds.every(([k, v]) => String((el as Record<string, unknown>)?.[k]) === v));
    } else cur = (cur as Record<string, unknown>)[tok];
  }
  return cur;
}

async function main(): Promise<void> {
  const { values: o } = parseCli({
    options: {
      a: { type: 'string' },
      b: { type: 'string' },
      bench: { type: 'string' },
      'bench-a': { type: 'string' },
      'bench-b': { type: 'string' },
      'result-file': { type: 'string' },
      'result-file-a': { type: 'string' },
      'result-file-b': { type: 'string' },
      metric: { type: 'string', multiple: true },
      rounds: { type: 'string', default: '3' },
      out: { type: 'string' },
      clean: { type: 'boolean', default: false },
    },
  });
  const rounds = Number(o.rounds);
  const metrics = o.metric ?? [];
  const need = (v: string | undefined, what: string): string => {
    if (!v) throw new Error(`missing ${what}; usage: see the head of bench/ab.ts`);
    return v;
  };
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  if (metrics.length === 0) throw new Error('give at least one --metric <json path>');
  mkdirSync(LOGS, { recursive: true });
  const side = (name: 'A' | 'B', rev: string | undefined, cmd: string | undefined, file: string | undefined): Side => {
    const sha = git(['rev-parse', '--verify', `${need(rev, `--${name.toLowerCase()}`)}^{commit}`]);
    const dir = join(BASE, sha.slice(0, 7));
    const command = need(cmd ?? o.bench, `--bench or --bench-${name.toLowerCase()}`)
      .replaceAll('{dist}', join(dir, 'dist'))
      .replaceAll('{root}', dir);
    return { name, rev: rev!, sha, dir, command, resultFile: need(file ?? o['result-file'], '--result-file'), created: false, deps: '' };
  };
  const A = side('A', o.a, o['bench-a'], o['result-file-a']);
  const B = side('B', o.b, o['bench-b'], o['result-file-b']);
  const out = o.out ?? `${A.sha.slice(0, 7)}-${B.sha.slice(0, 7)}`;

  for (const s of [A, B]) await prepare(s);
  const loadStart = load();
  const started = new Date().toISOString();
  console.log(`\nload average at start ${loadStart.join(' ')}; ${rounds} rounds, logs in ${LOGS}\n`);

  const values: Record<'A' | 'B', (number | null)[][]> = { A: metrics.map(() => []), B: metrics.map(() => []) };
  const runs: object[] = [];
  const otherCores: Record<'A' | 'B', number[]> = { A: [], B: [] };
  for (let r = 1; r <= rounds; r++) {
    for (const s of r % 2 === 1 ? [A, B] : [B, A]) {
      const log = join(LOGS, `${out}-r${r}-${s.name}.log`);
      const resultPath = join(s.dir, s.resultFile);
      const before = load();
      const t0 = Date.now();
      const meter = foreignMeter();
      const code = await run('sh', ['-c', s.command], s.dir, log);
      const foreign = meter.stop();
      const seconds = (Date.now() - t0) / 1000;
      // a result file older than the run is a committed or earlier one, not this run's
      const fresh = code === 0 && existsSync(resultPath) && statSync(resultPath).mtimeMs >= t0;
      const json: unknown = fresh ? JSON.parse(readFileSync(resultPath, 'utf8')) : undefined;
      const got = metrics.map((m) => {
        const v = pick(json, m);
        return typeof v === 'number' && Number.isFinite(v) ? v : null;
      });
      got.forEach((v, i) => values[s.name][i]!.push(v));
      runs.push({
        round: r,
        side: s.name,
        seconds,
        exitCode: code,
        freshResult: fresh,
        loadavgBefore: before,
        loadavgAfter: load(),
        foreign,
        log,
        values: got,
      });
      if (foreign) otherCores[s.name].push(foreign.cores);
      console.log(
        `round ${r} ${s.name} (${s.sha.slice(0, 7)}): ${seconds.toFixed(1)} s, load ${before[0]} → ${load()[0]}` +
          (foreign
            ? `, other processes ${foreign.cores.toFixed(2)} cores, steal ${foreign.stealCores.toFixed(2)}${foreign.cores >= 0.1 ? ` (${foreign.top[0]?.command})` : ''}`
            : '') +
          (fresh
            ? `, ${got.map((v) => (v === null ? 'MISSING' : fmt(v, v < 100 ? 2 : 0))).join(', ')}`
            : `, FAILED (exit ${code}${code === 0 ? ', no fresh result file' : ''}):\n${tail(log)}`),
      );
    }
  }
  const loadEnd = load();

  // the middle value (mean of the two middle ones for an even count); failed runs left out
  const med = (xs: (number | null)[]): number | null => {
    const ok = xs.filter((x): x is number => x !== null).sort((x, y) => x - y);
    const h = ok.length >> 1;
    return ok.length === 0 ? null : ok.length % 2 ? ok[h]! : (ok[h - 1]! + ok[h]!) / 2;
  };
  const show = (x: number | null): string => (x === null ? '–' : fmt(x, Math.abs(x) < 100 ? 2 : 0));
  const rows = metrics.map((m, i) => {
    const a = med(values.A[i]!),
      b = med(values.B[i]!);
    return { metric: m, aMedian: a, bMedian: b, ratio: a !== null && b !== null && a !== 0 ? b / a : null, aRounds: values.A[i]!, bRounds: values.B[i]! };
  });
  console.log(
    `\nA = ${A.rev} (${A.sha.slice(0, 7)}), B = ${B.rev} (${B.sha.slice(0, 7)}); medians of ${rounds} rounds; load ${loadStart[0]} → ${loadEnd[0]}\n`,
  );
  printTable(
    ['metric', 'A median', 'B median', 'B/A', 'A rounds', 'B rounds'],
    rows.map((r) => [
      r.metric,
      show(r.aMedian),
      show(r.bMedian),
      r.ratio === null ? '–' : r.ratio.toFixed(3),
      r.aRounds.map(show).join(' / '),
      r.bRounds.map(show).join(' / '),
    ]),
  );
  const c = cpus();
  const file = saveResult(`ab-${out}`, false, {
    facts: {
      cpuModel: c[0]?.model ?? 'unknown',
      cpuCount: c.length,
      node: process.version,
      loadavgStart: loadStart,
      loadavgEnd: loadEnd,
      started,
      ended: new Date().toISOString(),
    },
    rounds,
    order: 'odd rounds A then B, even rounds B then A',
    a: { rev: A.rev, sha: A.sha, command: A.command, resultFile: A.resultFile, deps: A.deps },
    b: { rev: B.rev, sha: B.sha, command: B.command, resultFile: B.resultFile, deps: B.deps },
    metrics: rows,
    runs,
  });
  if (otherCores.A.length)
    console.log(
      `\nCPU of other processes during each run (cores): A ${otherCores.A.map((x) => x.toFixed(2)).join(' / ')}, B ${otherCores.B.map((x) => x.toFixed(2)).join(' / ')}`,
    );
  console.log(`\nsaved ${file}`);

  if (o.clean)
    for (const s of [A, B].filter((x) => x.created)) {
      const nm = join(s.dir, 'node_modules');
      if (existsSync(nm) && lstatSync(nm).isSymbolicLink()) unlinkSync(nm); // so nothing can reach the main repo's
      git(['worktree', 'remove', '--force', s.dir]);
      console.log(`removed worktree ${s.dir}`);
    }
  if (rows.some((r) => r.aRounds.includes(null) || r.bRounds.includes(null))) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
