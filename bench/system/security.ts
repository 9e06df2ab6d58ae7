// What TLS and token checks cost: four real `faros serve` processes on
// monaco-car with 10k drivers — plaintext, tokens, TLS, TLS + tokens — all
// up at once and measured in alternating order (ABCD, DCBA, ...) in the same
// run: unary Nearby (2 client processes, 16 calls outstanding) and streamed
// updates (batches of 500). Medians over rounds and ratios to plaintext.
//   node dist/bench/system/security.js [--quick] [--seed N]
//   role (internal): --role client <spec.json>
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadFarosDefinition } from '../../src/api/proto.js';
import { loadMap } from '../../src/mapbuild/build.js';
import { createToken, TokenStore } from '../../src/api/tokens.js';
import { issueCertificate } from '../../src/cli/certs.js';
import { closedLoop, spawnReady, runClientProc, type LoopResult } from '../lib/procs.js';
import { Rng, ROOT, header, median, parseArgs, pointsNearRoads, printTable, quantile, saveResult, fmt } from '../lib/common.js';

const SELF = fileURLToPath(import.meta.url);
const MAP = 'monaco-car';
const pkg = grpc.loadPackageDefinition(loadFarosDefinition()) as any;
const Faros = pkg.faros.v1.Faros as grpc.ServiceClientConstructor;
const CLIENT_OPTS = { 'grpc.max_send_message_length': 64 << 20, 'grpc.max_receive_message_length': 64 << 20 };

interface Conn {
  addr: string;
  caFile?: string;
  token?: string;
}
interface ClientSpec extends Conn {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  points: number[];
  seed: number;
}
type ClientResult = LoopResult;

function connect(c: Conn): any {
  const creds = c.caFile ? grpc.credentials.createSsl(readFileSync(c.caFile)) : grpc.credentials.createInsecure();
  // TLS: the certificate names "localhost"; the address is an IP.
  return new Faros(c.addr, creds, { ...CLIENT_OPTS, ...(c.caFile ? { 'grpc.ssl_target_name_override': 'localhost' } : {}) });
}
function meta(c: Conn): grpc.Metadata {
  const m = new grpc.Metadata();
  if (c.token) m.set('authorization', `Bearer ${c.token}`);
  return m;
}

// ── client: closed loop of Nearby, `concurrency` calls outstanding ─────────
async function runClient(file: string): Promise<void> {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as ClientSpec;
  const c = connect(spec);
  const md = meta(spec);
  const rng = new Rng(spec.seed);
  const n = spec.points.length / 2;
  const r = await closedLoop(spec, (done) => {
    const p = rng.int(0, n - 1);
    c.nearby({ mapId: MAP, location: { lat: spec.points[2 * p]!, lng: spec.points[2 * p + 1]! }, k: 10 }, md, done);
  });
  c.close();
  process.stdout.write(`${JSON.stringify(r satisfies ClientResult)}\n`);
}

/** Stream updates in batches of `batch`, 4 batches outstanding, for durationMs; updates/s. */
async function streamRate(conn: Conn, points: number[], batch: number, durationMs: number): Promise<number> {
  const c = connect(conn);
  const s = c.streamDriverUpdates(meta(conn));
  const n = points.length / 2;
  let sent = 0,
    acked = 0,
    next = 0;
  const make = () => ({
    updates: Array.from({ length: batch }, () => {
      const p = next++ % n;
      return { mapId: MAP, driverId: `s-${p % 10_000}`, location: { lat: points[2 * p]!, lng: points[2 * p + 1]! } };
    }),
  });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    s.on('data', (r: { accepted: number }) => {
      if (r.accepted !== batch) {
        reject(new Error(`stream: ${r.accepted} of ${batch} accepted`));
        return;
      }
      acked++;
      if (performance.now() - t0 < durationMs) {
        s.write(make());
        sent++;
      } else if (acked === sent) s.end();
    });
    s.on('end', resolve);
    s.on('error', reject);
    for (let i = 0; i < 4; i++) {
      s.write(make());
      sent++;
    }
  });
  const ms = performance.now() - t0;
  c.close();
  return (acked * batch) / (ms / 1000);
}

async function main(): Promise<void> {
  const args = parseArgs();
  header('TLS and token checks: cost on unary Nearby and streamed updates', args.quick);
  const durationMs = args.quick ? 1000 : 4000,
    warmupMs = args.quick ? 300 : 800,
    rounds = args.quick ? 1 : 4;
  const dir = mkdtempSync(join(tmpdir(), 'faros-bench-security-'));
  const graph = await loadMap(join(ROOT, 'maps', 'monaco.osm.pbf'), 'car');
  const points = Array.from(pointsNearRoads(graph, new Rng(args.seed), 20_000, 30));
  await issueCertificate(join(dir, 'ca'), 'localhost', join(dir, 'server'), ['127.0.0.1', 'localhost']);
  const tokensFile = join(dir, 'tokens');
  const token = createToken(tokensFile, 'bench', ['update', 'query']);
  // A realistic file: the bench's token among 1,000 others.
  for (let i = 0; i < 999; i++) createToken(tokensFile, `other-${i}`, ['query']);
  // The token check alone, in this process: what every call pays for it.
  const store = new TokenStore(tokensFile);
  const bearer = `Bearer ${token}`;
  for (let i = 0; i < 20_000; i++) store.check(bearer, 'query', 'Nearby');
  const n = 200_000,
    c0 = performance.now();
  for (let i = 0; i < n; i++) store.check(bearer, 'query', 'Nearby');
  const tokenCheckUs = ((performance.now() - c0) * 1000) / n;
  console.log(`token check (SHA-256 + lookup among 1,000 tokens): ${tokenCheckUs.toFixed(2)} µs per call`);
  const tls = ['--tls-cert', join(dir, 'server', 'tls.crt'), '--tls-key', join(dir, 'server', 'tls.key')];
  const configs = [
    { name: 'plaintext', args: [] as string[], tls: false, token: false },
    { name: 'tokens', args: ['--tokens', tokensFile], tls: false, token: true },
    { name: 'TLS', args: tls, tls: true, token: false },
    { name: 'TLS + tokens', args: [...tls, '--tokens', tokensFile], tls: true, token: true },
  ];
  const servers = await Promise.all(
    configs.map((c) =>
      spawnReady([
        join(ROOT, 'dist/test/e2e/serve-main.js'),
        '--map',
        MAP,
        '--grpc-port',
        '0',
        '--http-port',
        '0',
        '--workers',
        '1',
        '--max-in-flight',
        '100000',
        ...c.args,
      ]),
    ),
  );
  const conns: Conn[] = configs.map((c, i) => ({
    addr: `127.0.0.1:${servers[i]!.grpcPort}`,
    caFile: c.tls ? join(dir, 'server', 'ca.crt') : undefined,
    token: c.token ? token : undefined,
  }));
  // 10k drivers on each server.
  for (const conn of conns) {
    const c = connect(conn);
    for (let b = 0; b < 10; b++) {
      const updates = Array.from({ length: 1000 }, (_, i) => ({
        mapId: MAP,
        driverId: `seed-${b * 1000 + i}`,
        location: { lat: points[2 * (b * 1000 + i)]!, lng: points[2 * (b * 1000 + i) + 1]! },
      }));
      const r = await new Promise<{ accepted: number }>((res, rej) => {
        const s = c.streamDriverUpdates(meta(conn));
        s.on('data', res);
        s.on('error', rej);
        s.write({ updates });
        s.end();
      });
      if (r.accepted !== 1000) throw new Error(`seeding ${configs[conns.indexOf(conn)]!.name}: ${r.accepted} accepted`);
    }
    c.close();
  }
  const samples = configs.map(() => ({ nearby: [] as number[], p50: [] as number[], p99: [] as number[], stream: [] as number[], errors: 0 }));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [0, 1, 2, 3] : [3, 2, 1, 0];
    for (const i of order) {
      const rs = await Promise.all(
        [0, 1].map((k) =>
          runClientProc<ClientResult>(SELF, { ...conns[i]!, concurrency: 8, warmupMs, durationMs, points, seed: args.seed + k + 10 * r }, dir, k),
        ),
      );
      const lat = rs.flatMap((x) => x.latUs);
      const s = samples[i]!;
      s.nearby.push(rs.reduce((a, x) => a + x.calls, 0) / (durationMs / 1000));
      s.p50.push(quantile(lat, 0.5));
      s.p99.push(quantile(lat, 0.99));
      s.errors += rs.reduce((a, x) => a + x.errors, 0);
    }
    for (const i of order) samples[i]!.stream.push(await streamRate(conns[i]!, points, 500, durationMs));
    console.log(`round ${r + 1}/${rounds} done`);
  }
  for (const s of servers) s.proc.kill('SIGTERM');
  const base = samples[0]!;
  const rows = configs.map((c, i) => {
    const s = samples[i]!;
    return {
      config: c.name,
      nearbyPerS: median(s.nearby),
      nearbyRatio: median(s.nearby) / median(base.nearby),
      p50Us: median(s.p50),
      p99Us: median(s.p99),
      updatesPerS: median(s.stream),
      updatesRatio: median(s.stream) / median(base.stream),
      errors: s.errors,
      nearbyRounds: s.nearby.map((x) => Math.round(x)),
      updateRounds: s.stream.map((x) => Math.round(x)),
    };
  });
  console.log();
  printTable(
    ['config', 'Nearby/s', '× plaintext', 'P50 µs', 'P99 µs', 'updates/s (batch 500)', '× plaintext', 'errors'],
    rows.map((r) => [r.config, fmt(r.nearbyPerS), fmt(r.nearbyRatio, 2), fmt(r.p50Us), fmt(r.p99Us), fmt(r.updatesPerS), fmt(r.updatesRatio, 2), r.errors]),
  );
  const file = saveResult('security', args.quick, {
    durationMs,
    warmupMs,
    rounds,
    map: MAP,
    drivers: 10_000,
    nearby: { clientProcesses: 2, outstanding: 16, k: 10 },
    stream: { batch: 500, outstanding: 4 },
    tokensInFile: 1000,
    tokenCheckUs,
    rows,
  });
  console.log(`\nsaved ${file}`);
}

const role = process.argv.indexOf('--role');
if (role >= 0) {
  runClient(process.argv[role + 2]!).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
