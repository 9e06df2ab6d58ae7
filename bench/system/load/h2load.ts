// Closed-loop peak of unary `Nearby` driven by h2load (Debian `nghttp2-client`)
// with pre-encoded gRPC frames. A @grpc/grpc-js client costs 2–3× the server's
// CPU per unary call and saturates near 1k calls/s on this 2-core machine; h2load
// is a native HTTP/2 client, so its peak says more about the server.
//
// What h2load can and cannot see. It speaks plain HTTP/2 (h2c): it sees the
// HTTP status, which is 200 for every gRPC answer, errors included, and byte
// counts. The gRPC outcome is in the `grpc-status` trailer, which h2load never
// reads. So the outcome is checked three other ways:
//   1. before the run, every body is sent once over node:http2 with the same
//      headers, and the answer is decoded: grpc-status must be 0 (else the
//      phase is skipped, with the reason), and the drivers found are recorded;
//   2. the server's own `faros_grpc_requests_total{method="Nearby",code=…}` is
//      read from /metrics before and after the h2load runs: the difference is
//      the gRPC outcome of h2load's calls (nothing else calls Nearby on that
//      instance meanwhile); non-OK codes become the phase's errors, and only
//      calls both HTTP 2xx for h2load and OK for the server count as answered;
//   3. bytes of DATA received per response are compared with the size of the
//      verified answer (a gRPC error is a trailers-only response, no message).
//
// h2load sends one body file per run (`-d`), so the phase is several runs, one
// per query point (the first pick-ups of the seeded scenario, the same points
// the grpc-js nearby phases start with), run one after the other and summed:
// throughput = answered / sum of h2load's own "finished in" times. Each run
// repeats one query, so it is the same search every time (no cache in Faros,
// but CPU caches are warmer than with varied points).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { loadFarosDefinition } from '../../../src/api/proto.js';
import type { RoadGraph } from '../../../src/model/graph/roadgraph.js';
import { query } from '../../../tools/sim/fleet.js';
import { parseProm, scraper, summarise, type PhaseResult } from './lib.js';

export interface H2loadSpec {
  /** host:port of the gRPC listener (h2c) and the base URL of the same instance's /metrics. */
  grpc: string;
  http: string;
  g: RoadGraph;
  seed: number;
  mapId: string;
  k: number;
  radiusM: number;
  /** Total requests over all runs, split evenly between the bodies. */
  requests: number;
  /** Distinct query points = h2load runs. */
  bodies: number;
  /** h2load -c (connections) and -m (streams in flight per connection). */
  clients: number;
  streams: number;
  /** Wall limit of one h2load run, s (it is killed after that, and what it did not answer counts as UNANSWERED). */
  limitS: number;
  /**
   * Open loop at this many calls/s in total (h2load --rps per connection,
   * `clients` must divide it); unset = closed loop (the peak).
   */
  rps?: number;
  /** Phase name (default: the peak's or the sweep's). */
  name?: string;
  /** Wait this long before the first run (to line up with other generators' warm-up). */
  delayMs?: number;
  /** May apt-get install nghttp2-client when h2load is missing (root only). */
  install: boolean;
  log: (m: string) => void;
}

export interface H2loadRun {
  body: number;
  requests: number;
  exit: number | null;
  timedOut: boolean;
  /** h2load printed its summary (false: killed at the wall limit, figures below are zeros). */
  summary: boolean;
  seconds: number;
  reqPerS: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
  status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  dataBytes: number;
  /** h2load's "time for request" line, ms (it has no percentiles; those come from --log-file). */
  timeForRequestMs?: { min: number; max: number; mean: number; sd: number };
  /** CPU of h2load (and its `timeout` wrapper), s. */
  cpuS?: number;
}

export interface H2loadDetail {
  skipped?: string;
  version?: string;
  installedNow?: boolean;
  command?: string;
  bodies?: { j: number; lat: number; lng: number; frameBytes: number; grpcStatus: number; drivers: number; responseBytes: number }[];
  runs?: H2loadRun[];
  /** faros_grpc_requests_total{method="Nearby"} difference over the runs, by code; null when /metrics was not readable. */
  serverCodes?: Record<string, number> | null;
  /** Bytes of DATA per response received by h2load vs the verified answer's size (gRPC frame). */
  dataBytesPerResponse?: number;
  expectedResponseBytes?: number;
  latencySource?: string;
}

export interface H2loadOutcome {
  phase?: PhaseResult;
  detail: H2loadDetail;
}

const sh = (script: string, ...args: string[]) => spawnSync('sh', ['-c', script, 'sh', ...args], { encoding: 'utf8' });
const which = (cmd: string): boolean => sh('command -v "$1" >/dev/null', cmd).status === 0;

/** h2load on PATH, installing nghttp2-client when allowed; otherwise the reason it is missing. */
export function ensureH2load(install: boolean, log: (m: string) => void): { version: string; installedNow: boolean } | { missing: string } {
  const version = (): string => sh('h2load --version 2>&1').stdout.trim().split('\n')[0] ?? '?';
  if (which('h2load')) return { version: version(), installedNow: false };
  const hint = 'apt-get install -y --no-install-recommends nghttp2-client';
  if (!install) return { missing: `h2load is not installed (${hint}); --no-install given` };
  if (process.getuid?.() !== 0) return { missing: `h2load is not installed and we are not root to run ${hint}` };
  if (!which('apt-get')) return { missing: 'h2load is not installed and there is no apt-get to install nghttp2-client' };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // apt's output goes to our stderr (stdout carries the run's JSON summary line)
  const apt = (args: string[]): string => {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], timeout: 180_000, env });
    return r.error ? `${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  };
  log(`h2load missing: ${hint} …`);
  let res = apt(['install', '-y', '-q', '--no-install-recommends', 'nghttp2-client']);
  if (!which('h2load')) {
    log(`apt-get install nghttp2-client failed (${res}); apt-get update, then again …`);
    const up = apt(['update', '-q']);
    res = apt(['install', '-y', '-q', '--no-install-recommends', 'nghttp2-client']);
    if (!which('h2load')) return { missing: `h2load missing: apt-get install nghttp2-client failed (${res}; apt-get update: ${up})` };
  }
  log(`h2load installed: ${version()}`);
  return { version: version(), installedNow: true };
}

/** A gRPC length-prefixed message: compression flag 0, 4-byte big-endian length, the protobuf bytes. */
export function grpcFrame(msg: Buffer): Buffer {
  const f = Buffer.alloc(5 + msg.length);
  f.writeUInt8(0, 0);
  f.writeUInt32BE(msg.length, 1);
  msg.copy(f, 5);
  return f;
}

function nearbyMethod(): MethodDefinition<object, object> {
  const svc = loadFarosDefinition()['faros.v1.Faros'] as ServiceDefinition;
  return svc.Nearby!;
}

/** One call over node:http2 with exactly the headers and bytes h2load sends. */
async function callOnce(
  authority: string,
  path: string,
  frame: Buffer,
  timeoutMs = 10_000,
): Promise<{ httpStatus: number; grpcStatus: number; grpcMessage: string; data: Buffer }> {
  const s = http2.connect(`http://${authority}`);
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      const req = s.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      let headers: http2.IncomingHttpHeaders = {},
        trailers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        headers = h;
      });
      req.on('trailers', (h) => {
        trailers = h;
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      req.on('end', () => {
        clearTimeout(t);
        // a gRPC error without a message comes "trailers-only": grpc-status in the headers
        const st = trailers['grpc-status'] ?? headers['grpc-status'];
        resolve({
          httpStatus: Number(headers[':status']),
          grpcStatus: st === undefined ? -1 : Number(st),
          grpcMessage: decodeURIComponent(String(trailers['grpc-message'] ?? headers['grpc-message'] ?? '')),
          data: Buffer.concat(chunks),
        });
      });
      req.end(frame);
    });
  } finally {
    s.close();
  }
}

/** faros_grpc_requests_total{method="Nearby"} by code, or undefined when /metrics cannot be read. */
async function nearbyCodes(base: string): Promise<Map<string, number> | undefined> {
  try {
    const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
    const out = new Map<string, number>();
    for (const [k, v] of parseProm(await res.text())) {
      if (!k.startsWith('faros_grpc_requests_total{') || !k.includes('method="Nearby"')) continue;
      const code = /code="([^"]*)"/.exec(k)?.[1] ?? '?';
      out.set(code, (out.get(code) ?? 0) + v);
    }
    return out;
  } catch {
    return undefined;
  }
}

const toMs = (s: string): number => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 'ms' ? 1 : 1000);
};

/** The summary h2load prints on stdout. */
export function parseH2load(out: string): Omit<H2loadRun, 'body' | 'requests' | 'exit' | 'timedOut' | 'summary' | 'cpuS'> | undefined {
  const fin = /finished in ([\d.]+(?:us|ms|s)), ([\d.]+) req\/s/.exec(out);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  if (!fin || !req) return undefined;
  const st = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const tr = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
  return {
    seconds: toMs(fin[1]!) / 1000,
    reqPerS: Number(fin[2]),
    done: Number(req[3]),
    succeeded: Number(req[4]),
    failed: Number(req[5]),
    errored: Number(req[6]),
    timeout: Number(req[7]),
    status: { '2xx': Number(st?.[1] ?? 0), '3xx': Number(st?.[2] ?? 0), '4xx': Number(st?.[3] ?? 0), '5xx': Number(st?.[4] ?? 0) },
    dataBytes: Number(/\((\d+)\) data/.exec(out)?.[1] ?? NaN),
    timeForRequestMs: tr ? { min: toMs(tr[1]!), max: toMs(tr[2]!), mean: toMs(tr[3]!), sd: toMs(tr[4]!) } : undefined,
  };
}

/** `times` after the command: the second line is the children's user and system CPU. */
function childCpuS(stderr: string): number | undefined {
  const tail = stderr.split('@@times\n')[1];
  const line = tail?.split('\n')[1];
  const m = line ? [...line.matchAll(/(\d+)m([\d.]+)s/g)] : [];
  return m.length === 2 ? m.reduce((s, x) => s + Number(x[1]) * 60 + Number(x[2]), 0) : undefined;
}

async function runOne(args: string[], limitS: number): Promise<{ exit: number | null; timedOut: boolean; stdout: string; stderr: string; wallS: number }> {
  // `timeout --foreground` keeps h2load in our process group (so whoever kills
  // the run's group kills it too); -k: SIGKILL 5 s after the SIGTERM
  const wrap = which('timeout') ? `timeout --foreground -k 5 ${limitS} "$@"` : '"$@"';
  const t0 = performance.now();
  const p = spawn('sh', ['-c', `${wrap}; rc=$?; echo @@times >&2; times >&2; exit $rc`, 'sh', 'h2load', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '',
    stderr = '';
  p.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  p.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  // backstop when `timeout` is missing or stuck: end the shell we started
  let killed = false;
  const backstop = setTimeout(
    () => {
      killed = true;
      p.kill('SIGKILL');
    },
    (limitS + 15) * 1000,
  );
  const exit = await new Promise<number | null>((r) => p.once('close', (c) => r(c)));
  clearTimeout(backstop);
  return { exit, timedOut: killed || exit === 124 || exit === 137, stdout, stderr, wallS: (performance.now() - t0) / 1000 };
}

export async function h2loadNearby(s: H2loadSpec): Promise<H2loadOutcome> {
  const found = ensureH2load(s.install, s.log);
  if ('missing' in found) return { detail: { skipped: found.missing } };
  const detail: H2loadDetail = { version: found.version, installedNow: found.installedNow };
  const m = nearbyMethod();
  const dir = mkdtempSync(join(tmpdir(), 'faros-h2load-'));
  try {
    // the bodies, each checked once with the same headers h2load will send
    detail.bodies = [];
    const files: string[] = [];
    for (let j = 0; j < s.bodies; j++) {
      const q = query(s.g, s.seed, j, s.k, s.radiusM);
      const req = { mapId: s.mapId, location: { lat: q.lat, lng: q.lng }, k: s.k, maxDistanceM: s.radiusM, filter: { status: 'available' } };
      const frame = grpcFrame(m.requestSerialize(req));
      const file = join(dir, `nearby-${j}.bin`);
      writeFileSync(file, frame);
      files.push(file);
      let r: Awaited<ReturnType<typeof callOnce>>;
      try {
        r = await callOnce(s.grpc, m.path, frame);
      } catch (e) {
        return { detail: { ...detail, skipped: `verification call for body ${j} failed: ${(e as Error).message}` } };
      }
      if (r.httpStatus !== 200 || r.grpcStatus !== 0 || r.data.length < 5) {
        return {
          detail: {
            ...detail,
            skipped: `verification of body ${j} failed: HTTP ${r.httpStatus}, grpc-status ${r.grpcStatus} ${r.grpcMessage}, ${r.data.length} bytes of DATA`,
          },
        };
      }
      const len = r.data.readUInt32BE(1);
      const ans = m.responseDeserialize(r.data.subarray(5, 5 + len)) as { drivers?: unknown[] };
      const drivers = ans.drivers?.length ?? 0;
      detail.bodies.push({
        j,
        lat: +q.lat.toFixed(6),
        lng: +q.lng.toFixed(6),
        frameBytes: frame.length,
        grpcStatus: r.grpcStatus,
        drivers,
        responseBytes: r.data.length,
      });
      if (drivers !== s.k) s.log(`h2load: body ${j} answered OK with ${drivers} drivers, not ${s.k} (recorded; the run goes on)`);
    }

    const per = Math.ceil(s.requests / s.bodies);
    const url = `http://${s.grpc}${m.path}`;
    const argsFor = (file: string, log: string): string[] => [
      // -N: a connection silent for 10 s is closed and its requests count as errored (h2load then stops by itself)
      '-n',
      String(per),
      '-c',
      String(s.clients),
      '-m',
      String(s.streams),
      '-t',
      '1',
      '-N',
      '10s',
      ...(s.rps ? [`--rps=${s.rps / s.clients}`] : []),
      '-d',
      file,
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      `--log-file=${log}`,
      url,
    ];
    detail.command = `h2load ${argsFor('nearby-J.bin', 'log-J.tsv')
      .map((x) => (/[\s:]/.test(x) && !x.startsWith('http') ? `'${x}'` : x))
      .join(' ')}`;

    if (s.delayMs) await new Promise((r) => setTimeout(r, s.delayMs));
    const before = await nearbyCodes(s.http);
    const sc = scraper([s.http]);
    const runs: H2loadRun[] = [];
    const lat: number[] = [];
    let cpu = 0,
      cpuKnown = true,
      wall = 0;
    for (let j = 0; j < s.bodies; j++) {
      const log = join(dir, `log-${j}.tsv`);
      const r = await runOne(argsFor(files[j]!, log), s.limitS);
      wall += r.wallS;
      const c = childCpuS(r.stderr);
      if (c === undefined) cpuKnown = false;
      else cpu += c;
      const p = parseH2load(r.stdout);
      if (!p)
        s.log(
          `h2load run ${j} printed no summary (exit ${r.exit}${r.timedOut ? ', hit the wall limit' : ''}): ${r.stderr.split('@@times')[0]!.trim().slice(-500)}`,
        );
      runs.push({
        body: j,
        requests: per,
        exit: r.exit,
        timedOut: r.timedOut,
        summary: !!p,
        cpuS: c,
        ...(p ?? {
          seconds: r.wallS,
          reqPerS: 0,
          done: 0,
          succeeded: 0,
          failed: 0,
          errored: 0,
          timeout: 0,
          status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
          dataBytes: 0,
        }),
      });
      // --log-file: start µs since the epoch, HTTP status (-1 = failed stream), µs to the end of the response
      if (existsSync(log)) {
        for (const line of readFileSync(log, 'utf8').split('\n')) {
          const f = line.split('\t');
          if (f.length >= 3 && f[1] === '200') lat.push(Number(f[2]) / 1000);
        }
      }
    }
    const server = await sc.stop();
    const after = await nearbyCodes(s.http);
    detail.runs = runs;

    let codes: Record<string, number> | null = null;
    if (before && after) {
      codes = {};
      for (const [k, v] of after) {
        const d = v - (before.get(k) ?? 0);
        if (d > 0) codes[k] = d;
      }
    }
    detail.serverCodes = codes;
    const sum = (f: (r: H2loadRun) => number): number => runs.reduce((a, r) => a + f(r), 0);
    const secs = sum((r) => r.seconds) || wall;
    const done = sum((r) => r.done),
      ok2xx = sum((r) => r.status['2xx']);
    const answered = codes ? Math.min(ok2xx, codes.OK ?? 0) : ok2xx;
    const errors: Record<string, number> = {};
    for (const [k, v] of Object.entries(codes ?? {})) if (k !== 'OK') errors[k] = v;
    for (const cls of ['3xx', '4xx', '5xx'] as const) {
      const n = sum((r) => r.status[cls]);
      if (n) errors[`HTTP_${cls}`] = n;
    }
    // h2load's "errored": streams or connections that failed (its "timeout", a subset, is in the runs' detail)
    const errored = sum((r) => r.errored);
    if (errored) errors.H2LOAD_ERRORED = errored;
    // a run killed at the wall limit printed no summary: all its requests count as unanswered
    const unanswered = runs.filter((r) => !r.summary).reduce((a, r) => a + r.requests, 0);
    if (unanswered > 0) errors.UNANSWERED = unanswered;

    const expected = detail.bodies.reduce((a, b) => a + b.responseBytes, 0) / detail.bodies.length;
    detail.expectedResponseBytes = Math.round(expected);
    detail.dataBytesPerResponse = done ? +(sum((r) => r.dataBytes) / done).toFixed(1) : 0;
    if (done && Math.abs(detail.dataBytesPerResponse - expected) > 0.02 * expected) {
      s.log(
        `h2load: ${detail.dataBytesPerResponse} bytes of DATA per response, the verified answers are ${detail.expectedResponseBytes}: some answers had no message (gRPC errors?)`,
      );
    }

    let latencyMs: ReturnType<typeof summarise>;
    if (lat.length) {
      latencyMs = summarise(Float64Array.from(lat));
      detail.latencySource = `h2load --log-file, per request (HTTP 200 only), from stream start to end of response`;
    } else {
      // no per-request log: h2load only gives min / max / mean / sd
      const t = runs.find((r) => r.timeForRequestMs)?.timeForRequestMs;
      const mean = t ? +t.mean.toFixed(2) : 0;
      latencyMs = { p50: mean, p90: mean, p99: mean, p999: mean, max: t ? +t.max.toFixed(2) : 0, n: done };
      detail.latencySource = 'h2load summary only (no --log-file output): the percentile columns hold the mean of the first run';
    }
    const notes = [
      `h2load ${found.version.replace(/^h2load\s+/, '')}, ${s.bodies} runs × ${per} requests (one query point each), ${s.clients} connections × ${s.streams} streams, 1 thread`,
      codes
        ? "gRPC status from the server's faros_grpc_requests_total (h2load sees only HTTP status)"
        : 'gRPC status NOT checked: /metrics unreadable (h2load sees only HTTP status)',
      lat.length ? "latency per request from h2load's log" : detail.latencySource,
    ];
    if (s.rps)
      notes.push(
        `open loop: --rps ${s.rps / s.clients} per connection; latency from each stream's start, so a call h2load could not start on time (all ${s.streams} streams of a connection busy) is not charged its wait`,
      );
    const phase: PhaseResult = {
      name: s.name ?? (s.rps ? `sweep: nearby ${s.rps.toLocaleString('en-US')}/s (h2load, open)` : 'peak: nearby (h2load, closed)'),
      system: 'faros',
      proto: 'grpc',
      kind: 'nearby',
      mode: s.rps ? 'open' : 'closed',
      ...(s.rps ? { target: s.rps } : {}),
      throughput: Math.round(answered / secs),
      callsPerS: Math.round(done / secs),
      latencyMs,
      errors,
      server,
      clientCpuCores: cpuKnown ? +(cpu / wall).toFixed(2) : NaN,
      clientMaxLagMs: NaN,
      note: notes.join('; '),
    };
    return { phase, detail };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
