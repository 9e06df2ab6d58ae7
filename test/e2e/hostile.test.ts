// A hostile-client fuzzer over real processes: a 2-instance cluster (`faros
// serve` processes, replication 2, tokens on the public ports, mutual TLS on
// the peer ports) is sent seeded random and boundary messages on every RPC of
// faros.v1.Faros and faros.v1.Peer and on every HTTP route, with and without
// credentials. Invariants, checked after every call:
//   1. every process lives (and /healthz answers 200 at the end);
//   2. every answer is a defined status: never INTERNAL/UNKNOWN or HTTP 500,
//      error bodies are {error:{code,status,message}} with short messages,
//      and where the outcome is known in advance (no or wrong token, wrong
//      scope, a non-member's certificate, no certificate, Peer methods on the
//      public port, unknown JSON fields) it is exactly that;
//   3. a call that was refused (or only read) changes no state: GetDriver of
//      a fixed set of drivers and ListMaps' counts, on both instances, are
//      compared with the baseline taken before it (re-taken, once replication
//      settled, after each call that was accepted and may have written, or
//      whose outcome nobody can know: a deadline or cancel mid-call); a
//      stream answers exactly the batches before the first one refused whole.
// Before the fuzz: regressions of what it found (whatever the seed), and a
// wait for the state transfers' catch-up pulls, which change state by themselves.
// Replay: FAROS_FUZZ_SEED=<seed> FAROS_FUZZ_COUNT=<n> (printed on start and
// in every failure; FAROS_FUZZ_TRACE=1 prints every call); FAROS_FUZZ_MS
// bounds the wall-clock time of the fuzz (default 60 s, count 800).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startCluster, type RunningCluster } from '../../src/cli/cluster.js';
import { issueCertificate } from '../../src/cli/certs.js';
import { createToken } from '../../src/api/tokens.js';
import { LOADER_OPTIONS } from '../../src/api/proto.js';
import { peerChannelCredentials, readPeerTls } from '../../src/proxy/peer-tls.js';
import { mulberry32 } from '../../src/rng.js';
import { parseMetrics, POINTS } from './helpers.js';

const SEED = Number(process.env.FAROS_FUZZ_SEED ?? 0x5eed_f00d) >>> 0;
const COUNT = Number(process.env.FAROS_FUZZ_COUNT ?? 800);
const WALL_MS = Number(process.env.FAROS_FUZZ_MS ?? 60_000);
/** FAROS_FUZZ_TRACE=1: print every call and its answer (with a replay, to see what led to a failure). */
const TRACE = process.env.FAROS_FUZZ_TRACE === '1';

const MAPS = { monaco: 'monaco-car', bayfront: 'bayfront_singapore-car' } as const;
const MAP_IDS = [MAPS.monaco, MAPS.bayfront];
const CENTER: Record<string, { lat: number; lng: number }> = { [MAPS.monaco]: POINTS.monaco, [MAPS.bayfront]: POINTS.bayfront };
const FIXED_PER_MAP = 20;
const FIXED = MAP_IDS.flatMap((mapId) =>
  Array.from({ length: FIXED_PER_MAP }, (_, i) => ({
    mapId,
    driverId: `fixed-${mapId}-${i}`,
    location: { lat: CENTER[mapId]!.lat + (i % 2 ? i : 0) * 1e-5, lng: CENTER[mapId]!.lng + (i % 2 ? 0 : i) * 1e-5 },
    metadata: { fleet: 'fixed', n: String(i) },
  })),
);
const TTL_MS = 300_000;
const MAX_MESSAGE_CHARS = 600;

// ---------------------------------------------------------------- protos
const defs = protoLoader.loadSync(['faros/v1/faros.proto', 'faros/v1/peer.proto'], LOADER_OPTIONS);
type Method = protoLoader.MethodDefinition<object, object>;
const FAROS = defs['faros.v1.Faros'] as unknown as Record<string, Method>;
const PEER = defs['faros.v1.Peer'] as unknown as Record<string, Method>;
const typedPkg = grpc.loadPackageDefinition(defs) as any;

// ---------------------------------------------------------------- random values
type Rng = () => number;
/** A JSON number literal written as is (1e400, 2^53+1, -0): JSON.stringify cannot. */
class RawJson {
  constructor(readonly text: string) {}
}

const HUGE = 'x'.repeat(100_000);
const BOUNDARY_STRINGS = [
  '',
  ' ',
  HUGE,
  '\ud800',
  'a\ud800b',
  '\udfff',
  '\ufffd',
  'a\nb',
  '\u0000',
  '\u0007\u001b[2J',
  'tab\there',
  '\r\n\r\n',
  '"',
  '\\',
  '%zz',
  '%00',
  '../../etc/passwd',
  'é',
  '🚕',
  '\u202eRTL',
  'x'.repeat(128),
  'é'.repeat(64),
  'x'.repeat(129),
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '-1',
  '0',
  '-0',
  '9007199254740993',
  '123456789012345678901234567890',
  '0x10',
  ' 5 ',
  '12abc',
  'true',
  'null',
  'METRIC_ETA',
  'monaco-car',
  'fixed-monaco-car-0',
];
const BOUNDARY_NUMBERS = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1e300,
  -1e300,
  -1,
  1,
  1.5,
  2 ** 31,
  2 ** 32,
  -(2 ** 31) - 1,
  2 ** 53 + 1,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_VALUE,
  90,
  -90,
  90.0000001,
  180,
  -180,
  180.0000001,
  1000,
  1001,
  100_000,
  100_001,
  7200,
  7201,
];
const RAW_NUMBERS = [
  '1e400',
  '-1e400',
  '123456789012345678901234567890',
  '-0',
  '9007199254740993',
  '1E2',
  '0.0000000000000000000000000001',
  '-9223372036854775809',
];
const KEYS = ['', 'k', 'fleet', 'status', '__proto__', 'constructor', 'toString', 'a\nb', '\ud800', HUGE.slice(0, 2000), 'é', 'map_id', 'mapId'];

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const chance = (r: Rng, p: number): boolean => r() < p;

function nested(r: Rng, depth: number): unknown {
  let v: unknown = pick(r, [1, 'x', null, true]);
  for (let i = 0; i < depth; i++) v = chance(r, 0.5) ? [v] : { a: v };
  return v;
}

/** Any value of any kind: what a hostile client puts in a field. */
function anyValue(r: Rng, depth = 0): unknown {
  switch (int(r, 0, 11)) {
    case 0:
    case 1:
      return pick(r, BOUNDARY_STRINGS);
    case 2:
    case 3:
      return pick(r, BOUNDARY_NUMBERS);
    case 4:
      return new RawJson(pick(r, RAW_NUMBERS));
    case 5:
      return pick(r, [true, false, null, undefined]);
    case 6:
      return depth > 2 ? [] : Array.from({ length: int(r, 0, 3) }, () => anyValue(r, depth + 1));
    case 7:
      return depth > 2 ? {} : Object.fromEntries(Array.from({ length: int(r, 0, 3) }, () => [pick(r, KEYS), anyValue(r, depth + 1)]));
    case 8:
      return nested(r, pick(r, [5, 20, 100]));
    case 9:
      return Array.from({ length: pick(r, [100, 1000]) }, () => pick(r, ['x', 1]));
    case 10:
      return String.fromCharCode(...Array.from({ length: int(r, 1, 40) }, () => int(r, 0, 0xffff)));
    default:
      return int(r, -1e6, 1e6);
  }
}

function driverId(r: Rng): string {
  const x = r();
  if (x < 0.35) return pick(r, FIXED).driverId;
  if (x < 0.85) return `fz-${int(r, 0, 200)}`;
  return String(pick(r, BOUNDARY_STRINGS));
}
function mapIdOf(r: Rng): string {
  return chance(r, 0.9) ? pick(r, MAP_IDS) : String(pick(r, ['', 'andorra-car', 'nope', 'MONACO-CAR', 'monaco-car ', '\ud800', HUGE, 'constructor']));
}
function point(r: Rng, mapId: string): { lat: number; lng: number } {
  const c = CENTER[mapId] ?? POINTS.monaco;
  const x = r();
  if (x < 0.85) return { lat: c.lat + (r() - 0.5) * 2e-3, lng: c.lng + (r() - 0.5) * 2e-3 };
  if (x < 0.95) return { lat: c.lat + (r() - 0.5) * 0.2, lng: c.lng + (r() - 0.5) * 0.2 }; // mostly off-road: OUT_OF_RANGE
  return pick(r, [
    { lat: 90, lng: 180 },
    { lat: -90, lng: -180 },
    { lat: 0, lng: 0 },
  ]);
}
/**
 * Timestamps a valid message carries: server time, or within a minute of
 * now. (An accepted timestamp near the TTL would expire during the fuzz and
 * change the state by itself; the TTL edge is fuzzed on the refused side.)
 */
function timestamp(r: Rng): unknown {
  const x = r();
  if (x < 0.5) return 0;
  if (x < 0.8) return String(Date.now() - int(r, 0, 60_000));
  if (x < 0.9) return Date.now() + int(r, 0, 60_000);
  // Refused: older than the TTL, too far ahead, not integers.
  return pick(r, [String(Date.now() - TTL_MS - 5000), Date.now() + 6 * 60_000, -1, 1.5, 'soon', '1e3', new RawJson('1e400'), '9223372036854775807']);
}
function metadata(r: Rng): Record<string, unknown> {
  const x = r();
  if (x < 0.5) return { fleet: pick(r, ['a', 'b', 'fixed']) };
  if (x < 0.7) return {};
  if (x < 0.8) return Object.fromEntries(Array.from({ length: pick(r, [32, 33]) }, (_, i) => [`k${i}`, 'v']));
  if (x < 0.9) return { big: 'v'.repeat(pick(r, [1019, 1020, 1021])) };
  return { [pick(r, KEYS)]: pick(r, ['v', '', '\ud800', '\ufffd', 'a\nb']) };
}

const messages = {
  update: (r: Rng, mapId = mapIdOf(r)): Record<string, unknown> => ({
    mapId,
    driverId: driverId(r),
    location: point(r, mapId),
    timestampMs: timestamp(r),
    metadata: metadata(r),
  }),
  batch: (r: Rng): Record<string, unknown> => ({
    updates: chance(r, 0.03)
      ? Array.from({ length: 10_001 }, () => ({ mapId: MAPS.monaco, driverId: 'x', location: POINTS.monaco }))
      : Array.from({ length: int(r, 0, 5) }, () => mutate(r, messages.update(r))),
  }),
  key: (r: Rng): Record<string, unknown> => ({ mapId: mapIdOf(r), driverId: driverId(r) }),
  nearby: (r: Rng): Record<string, unknown> => {
    const mapId = mapIdOf(r);
    return {
      mapId,
      location: point(r, mapId),
      k: pick(r, [0, 1, 5, 1000, 1001, -1]),
      metric: pick(r, ['METRIC_UNSPECIFIED', 'METRIC_DISTANCE', 'METRIC_ETA', 2, 7]),
      maxDistanceM: pick(r, [0, 100, 3000, 100_000, 100_001, -1]),
      maxEtaS: pick(r, [0, 60, 7200, 7201]),
      filter: chance(r, 0.5) ? {} : metadata(r),
    };
  },
  record: (r: Rng, mapId: string): Record<string, unknown> => {
    const c = CENTER[mapId] ?? POINTS.monaco;
    return {
      driverId: driverId(r),
      lat: c.lat + (r() - 0.5) * 1e-3,
      lng: c.lng + (r() - 0.5) * 1e-3,
      timestampMs: Date.now() - int(r, 0, 60_000),
      metadata: metadata(r),
      segment: int(r, 0, 200),
      t: r(),
      snapM: r() * 20,
    };
  },
};

/** Paths of the leaves and messages of a (nested) message (the first items of long lists, 8 levels deep). */
function fieldPaths(o: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (prefix.length) out.push(prefix);
  if (typeof o !== 'object' || o === null || o instanceof RawJson || prefix.length >= 8) return out;
  const entries = Array.isArray(o) ? o.slice(0, 8).map((v, i) => [String(i), v] as const) : Object.entries(o);
  for (const [k, v] of entries) fieldPaths(v, [...prefix, k], out);
  return out;
}
function setPath(o: any, path: string[], v: unknown): void {
  let cur = o;
  for (const k of path.slice(0, -1)) cur = cur[k];
  cur[path[path.length - 1]!] = v;
}
/** A mostly valid message with one or two fields (or none) replaced by anything. */
function mutate<T extends Record<string, unknown>>(r: Rng, msg: T): T {
  const x = r();
  if (x < 0.3) return msg;
  for (let i = 0; i < (x < 0.8 ? 1 : 2); i++) {
    const paths = fieldPaths(msg);
    if (paths.length > 0) setPath(msg, pick(r, paths), anyValue(r));
  }
  return msg;
}

// ---------------------------------------------------------------- encodings
/** JSON text, with RawJson literals written as they are; undefined → null. */
function toJson(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isFinite(v) ? String(v) : 'null';
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`)
    .join(',')}}`;
}
/** The same value for protobufjs: RawJson as the number it spells. */
function forProto(v: unknown): unknown {
  if (v instanceof RawJson) return Number(v.text);
  if (Array.isArray(v)) return v.map(forProto);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, forProto(x)]));
  return v;
}
function randomBytes(r: Rng, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => int(r, 0, 255)));
}
/** Bytes that are probably not a valid message: random, a valid one damaged, or crafted. */
function rawBytes(r: Rng, valid: Buffer): Buffer {
  switch (int(r, 0, 5)) {
    case 0:
      return randomBytes(r, int(r, 0, 64));
    case 1: {
      const b = Buffer.from(valid);
      for (let i = 0; i < 3 && b.length; i++) b[int(r, 0, b.length - 1)] = int(r, 0, 255);
      return b;
    }
    case 2:
      return valid.subarray(0, int(r, 0, Math.max(0, valid.length - 1)));
    case 3:
      return Buffer.concat([valid, randomBytes(r, int(r, 1, 16))]);
    // map_id / driver_id with bytes that are not UTF-8; a length past the end; wire types 3/4/6/7.
    case 4:
      return Buffer.from(
        pick(r, [[0x0a, 3, 0xff, 0xfe, 0x41, 0x12, 2, 0xc3, 0x28], [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1], [0x0b, 0x0c], [0x0e, 1], [0x0f], [0x12, 0x80]]),
      );
    default:
      return Buffer.alloc(int(r, 1, 1024), int(r, 0, 255));
  }
}
/** Would the server fail to decode these bytes (it decodes with the same definitions)? */
const undecodable = (m: Method, payloads: Buffer[]): boolean =>
  payloads.some((p) => {
    try {
      m.requestDeserialize(p);
      return false;
    } catch {
      return true;
    }
  });
function encode(m: Method, msg: unknown, r: Rng): { bytes: Buffer; raw: boolean } {
  const valid = (): Buffer => {
    try {
      return Buffer.from(m.requestSerialize({}));
    } catch {
      return Buffer.alloc(0);
    }
  };
  try {
    return { bytes: Buffer.from(m.requestSerialize(forProto(msg) as object)), raw: false };
  } catch {
    // protobufjs cannot encode it (a wrong type for a message field): send damaged bytes instead.
    return { bytes: rawBytes(r, valid()), raw: true };
  }
}

// ---------------------------------------------------------------- transports
interface Answer {
  code: string;
  details: string;
  responses: any[];
}

function grpcCall(client: grpc.Client, m: Method, payloads: Buffer[], md: grpc.Metadata, deadlineMs: number | undefined): Promise<Answer> {
  const opts: grpc.CallOptions = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
  const id = (b: Buffer): Buffer => b;
  const decode = (b: Buffer): unknown => {
    try {
      return m.responseDeserialize(b);
    } catch (e) {
      return { undecodableResponse: String(e) };
    }
  };
  return new Promise((resolve) => {
    const responses: any[] = [];
    const done = (s: { code: number; details: string }): void =>
      resolve({ code: grpc.status[s.code] ?? `code ${s.code}`, details: s.details ?? '', responses });
    if (!m.requestStream && !m.responseStream) {
      client.makeUnaryRequest(m.path, id, id, payloads[0]!, md, opts, (e, res) => {
        if (res) responses.push(decode(res));
        done(e ? { code: e.code, details: e.details } : { code: grpc.status.OK, details: '' });
      });
    } else if (m.requestStream) {
      const s = client.makeBidiStreamRequest(m.path, id, id, md, opts);
      s.on('data', (b: Buffer) => responses.push(decode(b)));
      s.on('error', () => {});
      s.on('status', done);
      for (const p of payloads) s.write(p);
      s.end();
    } else {
      const s = client.makeServerStreamRequest(m.path, id, id, payloads[0]!, md, opts);
      s.on('data', (b: Buffer) => responses.push(decode(b)));
      s.on('error', () => {});
      s.on('status', done);
    }
  });
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  closed?: string;
}

/** One HTTP/1.1 exchange over a raw socket (so malformed requests can be sent too). */
function rawHttp(port: number, request: Buffer, timeoutMs = 20_000): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const sock = netConnect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (why?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      let all = Buffer.concat(chunks);
      // Skip interim answers (100 Continue).
      while (/^HTTP\/1\.[01] 1\d\d /.test(all.subarray(0, 16).toString('latin1')) && all.indexOf('\r\n\r\n') >= 0)
        all = all.subarray(all.indexOf('\r\n\r\n') + 4);
      const head = all.indexOf('\r\n\r\n');
      if (all.length === 0 || head < 0) {
        resolve({ status: 0, headers: {}, body: '', closed: why ?? 'closed without an answer' });
        return;
      }
      const lines = all.subarray(0, head).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let body = all.subarray(head + 4);
      if (headers['transfer-encoding'] === 'chunked') {
        const parts: Buffer[] = [];
        let at = 0;
        for (;;) {
          const eol = body.indexOf('\r\n', at);
          if (eol < 0) break;
          const n = parseInt(body.subarray(at, eol).toString('latin1'), 16);
          if (!(n > 0)) break;
          parts.push(body.subarray(eol + 2, eol + 2 + n));
          at = eol + 2 + n + 2;
        }
        body = Buffer.concat(parts);
      } else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
      resolve({ status, headers, body: body.toString('utf8'), closed: why });
    };
    const timer = setTimeout(() => finish('no answer within the client timeout'), timeoutMs);
    let error: string | undefined;
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => finish());
    // An error (EPIPE: the server answered and closed before reading all of a large body) ends in 'close';
    // what was read before it is kept.
    sock.on('error', (e) => {
      error = `socket error ${(e as NodeJS.ErrnoException).code ?? e.message}`;
    });
    sock.on('close', () => finish(error));
    sock.write(request);
  });
}

function httpRequest(method: string, path: string, headers: [string, string][], body: Buffer | string | undefined): Buffer {
  const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const lines = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (b !== undefined && !headers.some(([k]) => k.toLowerCase() === 'content-length')) lines.push(`content-length: ${b.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), b ?? Buffer.alloc(0)]);
}

// ---------------------------------------------------------------- the test
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type CredKind = 'full' | 'query' | 'wrong' | 'none' | 'garbage';
type PeerCredKind = 'member' | 'non-member' | 'no-cert' | 'plaintext';

interface Outcome {
  /** gRPC code name, or the HTTP status as a string. */
  code: string;
  details: string;
  /** The call may have changed the state (accepted write), or nobody can tell (deadline, cancel). */
  mayChange: boolean;
  /** A definite answer the call must have given (else any defined one). */
  expect?: readonly string[];
  /** What the answers said, for the trace (e.g. accepted counts of a stream). */
  note?: string;
}

interface Call {
  target: string;
  cred: string;
  describe: () => string;
  run: () => Promise<Outcome>;
}

test('hostile clients on every RPC and route of a real 2-instance cluster: processes live, answers are defined, refused calls change nothing', {
  timeout: 180_000,
}, async (t) => {
  const tStart = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'faros-hostile-'));
  const tokensFile = join(dir, 'tokens');
  const T = { full: createToken(tokensFile, 'fuzz-ingest', ['update', 'query']), query: createToken(tokensFile, 'fuzz-dispatch', ['query']) };
  const logs: string[] = [];
  let cluster: RunningCluster | undefined;
  const clients: grpc.Client[] = [];
  try {
    cluster = await startCluster({
      nodes: 2,
      replication: 2,
      grpcPort: 0,
      httpPort: 0,
      // Anti-entropy off: the fuzzer checks that the state changes only by its calls, and anti-entropy
      // changes it between calls by design (it repairs, seconds later, what a fuzzed ApplyRecords or
      // RemoveDrivers did to one replica only; test/e2e/anti-entropy.test.ts covers it). Its RPCs are fuzzed.
      serveArgs: ['--map', MAPS.monaco, '--map', MAPS.bayfront, '--workers', '1', '--log-level', 'warn', '--tokens', tokensFile, '--anti-entropy-ms', '0'],
      log: (l) => logs.push(l),
    });
    const c = cluster;
    const nodes = c.nodes;
    const alive = (): boolean => nodes.every((n) => n.child.exitCode === null && n.child.signalCode === null);
    const bootMs = Date.now() - tStart;

    // Clients: typed (setup, snapshots), generic with identity (de)serializers (the fuzz), per credential kind.
    const keep = <C extends grpc.Client>(x: C): C => {
      clients.push(x);
      return x;
    };
    const big = { 'grpc.max_send_message_length': 64 * 1024 * 1024, 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
    const typed = nodes.map((n) => keep(new typedPkg.faros.v1.Faros(n.address, grpc.credentials.createInsecure(), big)) as any);
    const publicRaw = nodes.map((n) => keep(new grpc.Client(n.address, grpc.credentials.createInsecure(), big)));
    const intruderDir = join(c.certsDir, 'intruder');
    await issueCertificate(c.certsDir, '127.0.0.1:1', intruderDir); // cluster CA, names no member
    const tlsOf = (d: string) => peerChannelCredentials(readPeerTls({ caFile: join(d, 'ca.crt'), certFile: join(d, 'tls.crt'), keyFile: join(d, 'tls.key') }));
    const ca = readPeerTls({ caFile: join(c.certsDir, 'ca.crt'), certFile: join(intruderDir, 'tls.crt'), keyFile: join(intruderDir, 'tls.key') }).ca;
    const peerClients = new Map<string, grpc.Client>();
    const peerClient = (k: number, kind: PeerCredKind, as: number): grpc.Client => {
      const key = `${k} ${kind} ${as}`;
      let pc = peerClients.get(key);
      if (!pc) {
        const address = nodes[k]!.peerAddress;
        const opts = { ...big, 'grpc.ssl_target_name_override': 'faros-peer' };
        if (kind === 'member') {
          const x = tlsOf(nodes[as]!.tlsDir)(address);
          pc = new grpc.Client(address, x.creds, { ...big, ...x.options });
        } else if (kind === 'non-member') {
          const x = tlsOf(intruderDir)(address);
          pc = new grpc.Client(address, x.creds, { ...big, ...x.options });
        } else if (kind === 'no-cert') pc = new grpc.Client(address, grpc.credentials.createSsl(ca), opts);
        else pc = new grpc.Client(address, grpc.credentials.createInsecure(), big);
        peerClients.set(key, keep(pc));
      }
      return pc;
    };

    const md = (token: string | undefined): grpc.Metadata => {
      const m = new grpc.Metadata();
      if (token !== undefined) m.set('authorization', token);
      return m;
    };
    const typedCall = (node: number, method: string, req: unknown): Promise<any> =>
      new Promise((resolve, reject) => {
        typed[node][method](req, md(`Bearer ${T.full}`), { deadline: Date.now() + 10_000 }, (e: grpc.ServiceError | null, res: unknown) =>
          e ? reject(e) : resolve(res),
        );
      });

    // The cluster has formed: both instances hold and serve both maps.
    for (const until = Date.now() + 30_000; ; ) {
      const lists = await Promise.all(nodes.map((_, i) => typedCall(i, 'listMaps', {}).catch(() => ({ maps: [] }))));
      const statuses = await Promise.all(
        nodes.map(async (n) => {
          const p = c.peerClient(n.peerAddress, 0);
          try {
            return await p.status(2000);
          } catch {
            return { maps: [] };
          } finally {
            p.close();
          }
        }),
      );
      const formed =
        lists.every((l) => MAP_IDS.every((id) => l.maps.find((m: any) => m.mapId === id)?.replicas.length === 2)) &&
        statuses.every((s: any) => MAP_IDS.every((id) => s.maps.some((m: any) => m.mapId === id && m.state === 'SERVING')));
      if (formed) break;
      if (Date.now() > until) assert.fail(`the cluster did not form in 30 s:\n${logs.slice(-20).join('\n')}`);
      await sleep(200);
    }

    // Regressions of what this fuzzer found, whatever the seed:
    {
      const http = (path: string, body: unknown, headers: [string, string][]) =>
        rawHttp(nodes[0]!.httpPort, httpRequest('POST', path, headers, JSON.stringify(body)));
      const upd = (driverId: string) => ({ mapId: MAPS.monaco, driverId, location: POINTS.monaco });
      // 1. POST /v1/drivers:batchUpdate with --tokens answered 500 (its route name has no RPC_TABLE entry).
      const batch = { updates: [upd('regress-batch')] };
      assert.equal((await http('/v1/drivers:batchUpdate', batch, [['authorization', `Bearer ${T.full}`]])).status, 200, 'batchUpdate with an update token');
      assert.equal((await http('/v1/drivers:batchUpdate', batch, [['authorization', `Bearer ${T.query}`]])).status, 403, 'batchUpdate with a query token');
      assert.equal((await http('/v1/drivers:batchUpdate', batch, [])).status, 401, 'batchUpdate without a token');
      // 2. X-Server-Timeout beyond setTimeout's 2^31-1 ms expired at once (504).
      for (const v of ['3000000', '1e300']) {
        const a = await http('/v1/drivers:update', upd('regress-deadline'), [
          ['authorization', `Bearer ${T.full}`],
          ['x-server-timeout', v],
        ]);
        assert.equal(a.status, 200, `X-Server-Timeout: ${v} → ${a.status} ${a.body}`);
      }
      // 2b. A remove whose deadline had passed when it started answered 504 but removed the driver.
      const del = await rawHttp(
        nodes[0]!.httpPort,
        httpRequest(
          'DELETE',
          `/v1/maps/${MAPS.monaco}/drivers/regress-deadline`,
          [
            ['authorization', `Bearer ${T.full}`],
            ['x-server-timeout', '1e-9'],
          ],
          undefined,
        ),
      );
      assert.equal(del.status, 504, del.body);
      assert.equal(
        (await typedCall(0, 'getDriver', { mapId: MAPS.monaco, driverId: 'regress-deadline' })).driver.driverId,
        'regress-deadline',
        'the expired remove removed nothing',
      );
      // 3. A stream whose second message is not protobuf: the first batch was applied, so it is answered before the error.
      const m = FAROS.StreamDriverUpdates!;
      const a = await grpcCall(
        publicRaw[0]!,
        m,
        [Buffer.from(m.requestSerialize({ updates: [upd('regress-stream')] })), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])],
        md(`Bearer ${T.full}`),
        10_000,
      );
      assert.equal(a.code, 'INVALID_ARGUMENT', a.details);
      assert.deepEqual(
        a.responses.map((x) => x.accepted),
        [1],
        'the batch before the bad message is answered',
      );
      assert.equal((await typedCall(0, 'getDriver', { mapId: MAPS.monaco, driverId: 'regress-stream' })).driver.driverId, 'regress-stream');
      // 4. A batch over --max-batch-size ends the stream: the batch after it was still worked on (applied, unanswered),
      //    and its answer could be written in the refused batch's place.
      const enc = (updates: unknown[]) => Buffer.from(m.requestSerialize({ updates }));
      const b = await grpcCall(
        publicRaw[0]!,
        m,
        [enc([upd('regress-before')]), enc(Array.from({ length: 10_001 }, () => upd('regress-big'))), enc([upd('regress-after')])],
        md(`Bearer ${T.full}`),
        10_000,
      );
      assert.equal(b.code, 'RESOURCE_EXHAUSTED', b.details);
      assert.deepEqual(
        b.responses.map((x) => x.accepted),
        [1],
        'only the batch before the refused one is answered',
      );
      await sleep(300);
      for (const [id, code] of [
        ['regress-before', 'OK'],
        ['regress-big', 'NOT_FOUND'],
        ['regress-after', 'NOT_FOUND'],
      ]) {
        const got = await typedCall(0, 'getDriver', { mapId: MAPS.monaco, driverId: id }).then(
          () => 'OK',
          (e: grpc.ServiceError) => grpc.status[e.code],
        );
        assert.equal(got, code, `${id} after the refused stream`);
      }
    }

    // The fixed drivers (known positions and metadata) whose state is compared.
    for (const f of FIXED) await typedCall(0, 'updateDriver', { ...f, timestampMs: '0' });

    // WATCH OUT: a replica filled by state transfer pulls once more 9 s later
    // (catch-up, shards.ts) and merges what the other replica holds: replicas
    // may legitimately differ (a member's ApplyRecords acts on one replica), so
    // that pull changes the state by itself. Every successful transfer makes
    // one; start the fuzz once each has been served.
    const metricsOf = async (n: { httpPort: number }): Promise<Map<string, number>> =>
      parseMetrics((await rawHttp(n.httpPort, httpRequest('GET', '/metrics', [], undefined))).body);
    for (const until = Date.now() + 30_000; ; ) {
      const ms = await Promise.all(nodes.map(metricsOf));
      const sum = (name: string, ...labels: string[]): number =>
        ms.reduce((s, m) => s + [...m].filter(([k]) => k.startsWith(`${name}{`) && labels.every((l) => k.includes(l))).reduce((x, [, v]) => x + v, 0), 0);
      const transfers = sum('faros_state_transfers_total', 'result="ok"');
      const served = sum('faros_peer_requests_total', 'method="PullSnapshot"', 'code="OK"');
      if (served >= 2 * transfers) {
        t.diagnostic(`${transfers} state transfers and their catch-up pulls done after ${Date.now() - tStart} ms`);
        break;
      }
      if (Date.now() > until) assert.fail(`catch-up pulls did not happen in 30 s: ${transfers} transfers, ${served} pulls served`);
      await sleep(250);
    }

    type Snap = string[];
    /** GetDriver of every fixed driver and ListMaps' counts, read on each instance (each holds every map). */
    const snapshot = async (): Promise<Snap> => {
      const per = await Promise.all(
        nodes.map(async (_, i) => {
          const gets = await Promise.all(
            FIXED.map(async (f) => {
              try {
                return `node${i} ${f.driverId} ${JSON.stringify((await typedCall(i, 'getDriver', { mapId: f.mapId, driverId: f.driverId })).driver)}`;
              } catch (e) {
                const code = grpc.status[(e as grpc.ServiceError).code];
                if (code !== 'NOT_FOUND') throw new Error(`snapshot read of ${f.driverId} on node${i}: ${code} ${(e as grpc.ServiceError).details}`);
                return `node${i} ${f.driverId} NOT_FOUND`;
              }
            }),
          );
          const maps = (await typedCall(i, 'listMaps', {})).maps.map((m: any) => `node${i} ListMaps ${m.mapId} drivers=${m.drivers}`);
          return [...gets, ...maps];
        }),
      );
      return per.flat();
    };
    const diff = (a: Snap, b: Snap): string[] => a.flatMap((x, i) => (x === b[i] ? [] : [`- ${x.slice(0, 300)}\n+ ${b[i]?.slice(0, 300)}`]));
    /** Replication is asynchronous: the state once two reads 100 ms apart agree. */
    const settle = async (): Promise<Snap> => {
      let prev = await snapshot();
      for (let i = 0; i < 100; i++) {
        await sleep(100);
        const cur = await snapshot();
        if (diff(prev, cur).length === 0) return cur;
        prev = cur;
      }
      throw new Error('the state did not settle within 10 s');
    };
    let baseline = await settle();
    assert.equal(baseline.filter((x) => x.endsWith('NOT_FOUND')).length, 0, 'every fixed driver was stored on both instances');

    // ------------------------------------------------------------ generators of calls
    const r = mulberry32(SEED);
    const wrongToken = `faros_${randomBytesB64(r)}`;
    function randomBytesB64(x: Rng): string {
      return randomBytes(x, 32).toString('base64url');
    }
    const publicCred = (): [CredKind, string | undefined] => {
      const x = r();
      if (x < 0.4) return ['full', `Bearer ${T.full}`];
      if (x < 0.6) return ['query', pick(r, [`Bearer ${T.query}`, `bearer  ${T.query}`])];
      if (x < 0.75) return ['wrong', `Bearer ${wrongToken}`];
      if (x < 0.9) return ['none', undefined];
      // Printable but not a valid "Bearer <known token>" (gRPC metadata must be printable ASCII).
      return [
        'garbage',
        pick(r, [
          'Bearer',
          'Bearer ',
          `Basic ${T.full}`,
          `Bearer ${T.full} extra`,
          `${T.full}`,
          'Bearer faros_',
          `Bearer ${T.full.slice(0, -1)}`,
          'x'.repeat(8000),
          `Bearer ${'A'.repeat(4000)}`,
        ]),
      ];
    };
    const WRITES = new Set(['UpdateDriver', 'StreamDriverUpdates', 'RemoveDriver']);
    /** The refusal a credential kind must get on a gated RPC, before anything about the message counts. */
    const authExpect = (cred: CredKind, method: string, http: boolean): readonly string[] | undefined => {
      if (cred === 'wrong' || cred === 'none' || cred === 'garbage') return [http ? '401' : 'UNAUTHENTICATED'];
      if (cred === 'query' && WRITES.has(method)) return [http ? '403' : 'PERMISSION_DENIED'];
      return undefined;
    };
    const deadline = (): { ms: number | undefined; tiny: boolean } => {
      const x = r();
      if (x < 0.9) return { ms: 10_000, tiny: false };
      if (x < 0.94) return { ms: pick(r, [1, 2, 5]), tiny: true };
      if (x < 0.97) return { ms: undefined, tiny: false };
      return { ms: 20 * 24 * 3600_000, tiny: false }; // 20 days (grpc-js servers keep timeouts in an int32 of ms)
    };

    /** Did an OK answer possibly write? (A stale update, an all-rejected batch, removed:false did not.) */
    const wrote = (method: string, responses: any[]): boolean => {
      switch (method) {
        case 'UpdateDriver':
          return responses.some((x) => x.stale === false);
        case 'StreamDriverUpdates':
          return responses.some((x) => x.accepted > 0);
        case 'RemoveDriver':
          return responses.some((x) => x.removed === true);
        case 'ApplyRecords':
          return responses.some((x) => x.applied > 0);
        case 'ApplyUpdates':
          return responses.some((x) => x.outcomes?.some((o: any) => o.code === '' && !o.stale));
        case 'RemoveDrivers':
          return responses.some((x) => x.removed > 0);
        default:
          return false;
      }
    };
    const grpcOutcome = (method: string, a: Answer, expect: readonly string[] | undefined, tiny: boolean): Outcome => {
      const indeterminate = a.code === 'DEADLINE_EXCEEDED' || a.code === 'CANCELLED';
      const e = expect && tiny ? [...expect, 'DEADLINE_EXCEEDED'] : expect;
      // A stream that ends with an error may have answered (applied) batches before it.
      return {
        code: a.code,
        details: a.details,
        mayChange: indeterminate || wrote(method, a.responses),
        expect: e,
        note: JSON.stringify(a.responses).slice(0, 200),
      };
    };

    const FAROS_MSG: Record<string, () => Record<string, unknown>> = {
      UpdateDriver: () => mutate(r, messages.update(r)),
      RemoveDriver: () => mutate(r, messages.key(r)),
      GetDriver: () => mutate(r, messages.key(r)),
      Nearby: () => mutate(r, messages.nearby(r)),
      ListMaps: () => (chance(r, 0.8) ? {} : { [pick(r, KEYS)]: anyValue(r) }),
      StreamDriverUpdates: () => mutate(r, messages.batch(r)),
    };
    const fuzzFaros = (raw: boolean): Call => {
      const method = pick(r, Object.keys(FAROS_MSG));
      const m = FAROS[method]!;
      const node = int(r, 0, nodes.length - 1);
      const [cred, auth] = publicCred();
      const dl = deadline();
      const batches = method === 'StreamDriverUpdates' ? int(r, 1, 4) : 1;
      const msgs = Array.from({ length: batches }, () => FAROS_MSG[method]!());
      const payloads = msgs.map((x) => (raw || chance(r, 0.05) ? rawBytes(r, encode(m, x, r).bytes) : encode(m, x, r).bytes));
      return {
        target: `grpc${raw ? '-raw' : ''} Faros/${method}`,
        cred,
        describe: () =>
          `node${node} ${m.path} auth=${JSON.stringify(auth?.slice(0, 40))} deadline=${dl.ms} ${raw ? `bytes=${payloads.map((p) => p.toString('hex').slice(0, 200)).join('|')}` : toJson(msgs).slice(0, 800)}`,
        run: async () => {
          // A message that is no message (INVALID_ARGUMENT) or, on a stream, a batch over --max-batch-size
          // (RESOURCE_EXHAUSTED) is refused as a whole, once the token passed; a stream answers every batch
          // before the first such one, in order, and none after it.
          const refusal = payloads.map((p): string | undefined => {
            let msg: any;
            try {
              msg = m.requestDeserialize(p);
            } catch {
              return 'INVALID_ARGUMENT';
            }
            return method === 'StreamDriverUpdates' && msg.updates.length > 10_000 ? 'RESOURCE_EXHAUSTED' : undefined;
          });
          const firstBad = refusal.findIndex((x) => x !== undefined);
          const auth_ = authExpect(cred, method, false);
          const a = await grpcCall(publicRaw[node]!, m, payloads, md(auth), dl.ms);
          const out = grpcOutcome(method, a, auth_ ?? (firstBad >= 0 ? [refusal[firstBad]!] : undefined), dl.tiny);
          const problems: string[] = [];
          if (method === 'StreamDriverUpdates' && !auth_) {
            const due = firstBad >= 0 ? firstBad : batches;
            if (a.responses.length > due || (a.code === out.expect?.[0] && a.responses.length !== due) || (a.code === 'OK' && a.responses.length !== batches)) {
              problems.push(
                `the stream answered ${a.responses.length} of ${batches} batches with ${a.code}; expected ${due}${firstBad >= 0 ? ` (the batches before #${firstBad}, refused as a whole)` : ''}`,
              );
            }
          }
          return { ...out, problems };
        },
      };
    };

    const PEER_MSG: Record<string, (k: number, as: number) => Record<string, unknown>> = {
      ApplyRecords: () => {
        const mapId = mapIdOf(r);
        return mutate(r, { mapId, records: Array.from({ length: int(r, 0, 4) }, () => messages.record(r, mapId)) });
      },
      ApplyUpdates: () => {
        const mapId = mapIdOf(r);
        return mutate(r, { mapId, updates: Array.from({ length: int(r, 0, 4) }, () => messages.update(r, chance(r, 0.9) ? mapId : pick(r, MAP_IDS))) });
      },
      RemoveDrivers: () => mutate(r, { mapId: mapIdOf(r), driverIds: Array.from({ length: int(r, 0, 4) }, () => driverId(r)) }),
      GetLocal: () => mutate(r, messages.key(r)),
      NearbyLocal: () => mutate(r, messages.nearby(r)),
      Status: () => (chance(r, 0.8) ? {} : { [pick(r, KEYS)]: anyValue(r) }),
      PullSnapshot: (_k, as) =>
        mutate(r, {
          mapId: mapIdOf(r),
          requester: chance(r, 0.7)
            ? nodes[as]!.peerAddress
            : pick(r, [...nodes.map((n) => n.peerAddress), '127.0.0.1:1', 'a\nb', '', 'x:0', '[::1]:99999', HUGE]),
        }),
      // The target must be a member the instance knows: anything else is refused, never dialed.
      ProbeVia: () =>
        mutate(r, {
          target: pick(r, [...nodes.map((n) => n.peerAddress), '127.0.0.1:1', '10.255.255.1:51051', 'a\nb', '', 'x:0', '[::1]:99999', HUGE]),
          timeoutMs: int(r, 0, 5000),
        }),
    };
    // Read-only: a replica's digest at an instant (any now_ms), the versions of some buckets, some records.
    PEER_MSG.Digest = () => mutate(r, { mapId: mapIdOf(r), nowMs: pick(r, [Date.now(), 1, 0, -5, 1e300, Number.NaN, 2 ** 53]) });
    PEER_MSG.PullBuckets = () =>
      mutate(r, {
        mapId: mapIdOf(r),
        buckets: Array.from({ length: int(r, 0, 8) }, () => pick(r, [0, 1, 255, 256, 4_000_000_000, int(r, 0, 300)])),
        nowMs: pick(r, [Date.now(), 1, 0, 1e300]),
      });
    PEER_MSG.PullRecords = () =>
      mutate(r, { mapId: mapIdOf(r), driverIds: Array.from({ length: int(r, 0, 4) }, () => driverId(r)), nowMs: pick(r, [Date.now(), 1, 0, 1e300]) });
    const fuzzPeer = (raw: boolean): Call => {
      const method = pick(r, Object.keys(PEER_MSG));
      const m = PEER[method]!;
      const k = int(r, 0, nodes.length - 1);
      const x = r();
      const kind: PeerCredKind = x < 0.55 ? 'member' : x < 0.75 ? 'non-member' : x < 0.88 ? 'no-cert' : 'plaintext';
      const as = int(r, 0, nodes.length - 1);
      const dl = kind === 'member' ? deadline() : { ms: 10_000, tiny: false };
      const msg = PEER_MSG[method]!(k, as);
      const payload = raw ? rawBytes(r, encode(m, msg, r).bytes) : encode(m, msg, r).bytes;
      const expect =
        kind === 'non-member' ? ['PERMISSION_DENIED'] : kind !== 'member' ? ['UNAVAILABLE'] : undecodable(m, [payload]) ? ['INVALID_ARGUMENT'] : undefined;
      return {
        target: `peer${raw ? '-raw' : ''} Peer/${method}`,
        cred: kind,
        describe: () =>
          `node${k} peer port ${m.path} as ${kind}${kind === 'member' ? ` node${as}` : ''} deadline=${dl.ms} ${raw ? `bytes=${payload.toString('hex').slice(0, 200)}` : toJson(msg).slice(0, 800)}`,
        run: async () => grpcOutcome(method, await grpcCall(peerClient(k, kind, as), m, [payload], new grpc.Metadata(), dl.ms), expect, dl.tiny),
      };
    };
    const fuzzPeerOnPublic = (): Call => {
      const method = pick(r, Object.keys(PEER_MSG));
      const m = PEER[method]!;
      const node = int(r, 0, nodes.length - 1);
      const [cred, auth] = publicCred();
      const payload = encode(m, PEER_MSG[method]!(node, node), r).bytes;
      return {
        target: `grpc Peer/${method} on the public port`,
        cred,
        describe: () => `node${node} public port ${m.path}`,
        run: async () => grpcOutcome(method, await grpcCall(publicRaw[node]!, m, [payload], md(auth), 10_000), ['UNIMPLEMENTED'], false),
      };
    };
    const fuzzUnknownMethod = (): Call => {
      const node = int(r, 0, nodes.length - 1);
      const path = pick(r, [
        '/faros.v1.Faros/Nope',
        '/faros.v1.Faros/updateDriver',
        '/faros.v1.Faros/',
        '/faros.v1.Peer',
        '/',
        '/x/y/z',
        '/grpc.health.v1.Health/Nope',
        '/faros.v1.Faros/UpdateDriver/x',
        `/${'a'.repeat(150)}/b`,
      ]);
      const [cred, auth] = publicCred();
      const m = { ...FAROS.GetDriver!, path };
      const payload = rawBytes(r, Buffer.alloc(0));
      return {
        target: 'grpc unknown method',
        cred,
        describe: () => `node${node} public port ${path}`,
        run: async () => grpcOutcome('', await grpcCall(publicRaw[node]!, m, [payload], md(auth), 10_000), ['UNIMPLEMENTED'], false),
      };
    };

    // HTTP
    const httpCred = (): [CredKind, [string, string][]] => {
      const [cred, auth] = publicCred();
      if (auth === undefined) return [cred, []];
      return [cred, [['authorization', cred === 'garbage' ? pick(r, [auth, 'Bearer \u00ff\u00fe', `Bearer faros_${'é'.repeat(10)}`]) : auth]]];
    };
    /** Headers of any kind; `oddExpect`: an Expect other than 100-continue, which Node answers itself (417). */
    /** `expired`: an X-Server-Timeout that has passed before the call starts: refused, its work never started. */
    const randomHeaders = (): { headers: [string, string][]; longDeadline: boolean; badDeadline: boolean; expired: boolean; oddExpect: boolean } => {
      const headers: [string, string][] = [];
      let longDeadline = false,
        badDeadline = false,
        expired = false,
        oddExpect = false;
      if (chance(r, 0.6))
        headers.push([
          'content-type',
          pick(r, [
            'application/json',
            'application/json; charset=utf-8',
            'text/plain',
            'application/grpc',
            'multipart/form-data; boundary=x',
            '',
            'application/x-www-form-urlencoded',
          ]),
        ]);
      if (chance(r, 0.2)) {
        const v = pick(r, ['0', '-1', 'abc', 'NaN', 'Infinity', '1e-9', '0.001', '', '5', '60', '3600', '3000000', '1e300', ' 10 ', '0x10']);
        headers.push(['x-server-timeout', v]);
        longDeadline = Number(v) >= 60 && Number.isFinite(Number(v));
        badDeadline = !(Number(v) > 0 && Number.isFinite(Number(v))); // refused with 400 on every route
        expired = v === '1e-9';
      }
      if (chance(r, 0.15)) {
        const h: [string, string] = [
          pick(r, ['x-forwarded-for', 'accept', 'accept-encoding', 'x-random', 'te', 'expect', 'grpc-timeout', 'cookie']),
          pick(r, ['*/*', 'gzip', 'trailers', '100-continue', 'x'.repeat(2000), '1H', 'a=b']),
        ];
        headers.push(h);
        oddExpect = h[0] === 'expect' && h[1] !== '100-continue';
      }
      if (chance(r, 0.03)) for (let i = 0; i < 150; i++) headers.push([`x-h${i}`, 'v']);
      return { headers, longDeadline, badDeadline, expired, oddExpect };
    };
    const ROUTES = ['UpdateDriver', 'UpdateDrivers', 'GetDriver', 'RemoveDriver', 'Nearby', 'ListMaps', 'metrics', 'healthz', 'readyz'] as const;
    const RPC_OF: Record<string, string> = {
      UpdateDriver: 'UpdateDriver',
      UpdateDrivers: 'StreamDriverUpdates',
      GetDriver: 'GetDriver',
      RemoveDriver: 'RemoveDriver',
      Nearby: 'Nearby',
      ListMaps: 'ListMaps',
    };
    /** A JSON body: mostly valid with mutations, or hostile text. */
    const jsonBody = (msg: Record<string, unknown>): { text: string; unknownField: boolean; plain: boolean } => {
      const x = r();
      if (x < 0.6) return { text: toJson(msg), unknownField: false, plain: true };
      if (x < 0.7) {
        // A field no message has (prototype names included): always INVALID_ARGUMENT.
        const key = pick(r, ['extra', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'map_Id', 'MapId', '__defineGetter__']);
        return { text: toJson({ ...msg, [key]: pick(r, [1, 'x', {}]) }), unknownField: true, plain: false };
      }
      if (x < 0.75) return { text: toJson({ ...msg, map_id: msg.mapId }), unknownField: false, plain: false }; // given twice
      if (x < 0.8)
        return {
          text: pick(r, [
            '[',
            '{',
            '{"mapId":}',
            'null',
            '[]',
            '"str"',
            '1',
            'true',
            '\u0000',
            '{"a":1}{"b":2}',
            '\ufeff{}',
            '{"mapId":"monaco-car",}',
            `{"mapId":"${'\\'.repeat(3)}"}`,
          ]),
          unknownField: false,
          plain: false,
        };
      if (x < 0.83)
        return {
          text: pick(r, ['['.repeat(200_000), '{"a":'.repeat(50_000), `[${'[1],'.repeat(50_000)}[1]]`, `{"mapId":${'1'.repeat(5000)}}`]),
          unknownField: false,
          plain: false,
        };
      if (x < 0.85)
        return {
          text: `{"updates":[${Array.from({ length: 20_000 }, () => '{"mapId":"monaco-car","driverId":"big","location":{"lat":1,"lng":2}}').join(',')}]}`,
          unknownField: false,
          plain: false,
        }; // > 1 MB
      const s = toJson(msg);
      return { text: s.replace(/(-?\d+(\.\d+)?(e[+-]?\d+)?)/i, pick(r, RAW_NUMBERS)), unknownField: false, plain: false };
    };
    const fuzzHttpRoute = (): Call => {
      const route = pick(r, ROUTES);
      const node = int(r, 0, nodes.length - 1);
      const [cred, authHeaders] = httpCred();
      const { headers, longDeadline, badDeadline, expired, oddExpect } = randomHeaders();
      let method = 'GET',
        path = '/',
        body: string | undefined,
        unknownField = false,
        badEscape = false;
      const key = messages.key(r);
      // A %-escape that is not UTF-8 (a lone surrogate's, %zz) is refused with 400 before the token is looked at.
      const pathSeg = (v: unknown): string => {
        const x = r();
        if (x < 0.8) {
          const s = String(forProto(v));
          if (s.isWellFormed()) return encodeURIComponent(s);
          badEscape = true;
          return encodeURIComponent(s.toWellFormed()).replaceAll('%EF%BF%BD', '%ED%A0%80');
        }
        if (x < 0.85) {
          badEscape = true;
          return pick(r, ['%zz', '%', '%e9', 'a%2', '%ED%A0%80']);
        }
        if (x < 0.9) return 'x'.repeat(pick(r, [200, 5000, 20_000]));
        return pick(r, ['..', '.', '%2F', 'a%00b', '%EF%BF%BD', 'a%0Ab', '%C3%A9']);
      };
      switch (route) {
        case 'UpdateDriver':
          method = 'POST';
          path = '/v1/drivers:update';
          ({ text: body, unknownField } = jsonBody(mutate(r, messages.update(r))));
          break;
        case 'UpdateDrivers':
          method = 'POST';
          path = '/v1/drivers:batchUpdate';
          ({ text: body, unknownField } = jsonBody(mutate(r, messages.batch(r))));
          break;
        case 'Nearby':
          method = 'POST';
          path = '/v1/nearby';
          ({ text: body, unknownField } = jsonBody(mutate(r, messages.nearby(r))));
          break;
        case 'GetDriver':
        case 'RemoveDriver':
          method = route === 'GetDriver' ? 'GET' : 'DELETE';
          path = `/v1/maps/${pathSeg(key.mapId)}/drivers/${pathSeg(key.driverId)}`;
          break;
        case 'ListMaps':
          path = '/v1/maps';
          break;
        default:
          path = `/${route}`;
      }
      // A query is ignored; a fragment (never sent by real clients) makes the path another one.
      const suffix = chance(r, 0.1) ? pick(r, ['?', '?a=b', '?x=%zz', `?${'q'.repeat(3000)}`, '#frag']) : '';
      path += suffix;
      const longPath = path.length > 16_000;
      // The route's own checks come first: a malformed %-escape (400), a too long request line (431/414).
      const rpc = RPC_OF[route];
      let expect: readonly string[] | undefined;
      if (longPath || suffix === '#frag') expect = undefined;
      // Node answers an Expect it does not know (417) before any route is matched.
      else if (oddExpect) expect = ['417'];
      else if (/\/\/|\/$/.test(path.split('?')[0]!))
        expect = ['404']; // an empty map or driver ID segment matches no route
      else if (badEscape) expect = ['400'];
      // Then the token, then X-Server-Timeout, then the body.
      else if (rpc) expect = authExpect(cred, rpc, true) ?? (unknownField || badDeadline ? ['400'] : undefined);
      else expect = badDeadline ? ['400'] : route === 'readyz' ? ['200', '503'] : ['200'];
      const allHeaders = [...authHeaders, ...headers];
      return {
        target: `http ${route}`,
        cred,
        describe: () => `node${node} ${method} ${path.slice(0, 300)} headers=${JSON.stringify(allHeaders).slice(0, 300)} body=${body?.slice(0, 800)}`,
        run: async () =>
          httpOutcome(rpc ?? '', await rawHttp(nodes[node]!.httpPort, httpRequest(method, path, allHeaders, body)), {
            expect,
            longDeadline,
            expired,
            malformed: longPath,
            oddExpect,
            bigBody: (body?.length ?? 0) > 65_536,
          }),
      };
    };
    const fuzzHttpRandom = (): Call => {
      const node = int(r, 0, nodes.length - 1);
      const [cred, authHeaders] = httpCred();
      const { headers, longDeadline, oddExpect } = randomHeaders();
      const method = pick(r, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'FOO', 'get', 'PRI']);
      const path = pick(r, [
        '/',
        '/v1',
        '/v1/',
        '/v1/maps/',
        '/v1/maps/monaco-car',
        '/v1/maps/monaco-car/drivers',
        '/v1/maps/monaco-car/drivers/',
        '/v1/maps//drivers/x',
        '/v1/maps/a/drivers/b/c',
        '/v1/drivers:update/',
        '/v1/drivers',
        '/V1/MAPS',
        '/metrics/',
        '/healthz?x',
        '//healthz',
        '/v1/nearby',
        '/v1/drivers:batchUpdate',
        '/%zz',
        '/v1/maps/%zz/drivers/%zz',
        `/${'a/'.repeat(500)}`,
        '*',
        '/v1/maps/monaco-car/drivers/fixed-monaco-car-0',
        '/faros.v1.Faros/ListMaps',
        '/faros.v1.Peer/Status',
      ]);
      const body = chance(r, 0.5) ? undefined : toJson(anyValue(r));
      const allHeaders = [...authHeaders, ...headers];
      return {
        target: 'http random',
        cred,
        describe: () => `node${node} ${method} ${path.slice(0, 300)} headers=${JSON.stringify(allHeaders).slice(0, 300)} body=${body?.slice(0, 500)}`,
        run: async () => {
          const a = await rawHttp(nodes[node]!.httpPort, httpRequest(method, path, allHeaders, body));
          // A writing route reached by chance with an accepted token may write: count it as possibly changing.
          // Methods Node's parser does not know are refused by it (400, no JSON).
          const known = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'].includes(method);
          return httpOutcome(method === 'DELETE' || method === 'POST' ? 'maybe-write' : '', a, {
            longDeadline,
            head: method === 'HEAD',
            malformed: !known,
            oddExpect,
            bigBody: (body?.length ?? 0) > 65_536,
          });
        },
      };
    };
    const fuzzHttpGrpcPath = (): Call => {
      const node = int(r, 0, nodes.length - 1);
      const method = pick(r, [...Object.values(FAROS), ...Object.values(PEER)]);
      const [cred, authHeaders] = httpCred();
      const body = randomBytes(r, int(r, 0, 64));
      const headers: [string, string][] = [
        ...authHeaders,
        ['content-type', pick(r, ['application/grpc', 'application/grpc+proto', 'application/json'])],
        ['te', 'trailers'],
      ];
      return {
        target: 'http gRPC-looking path',
        cred,
        describe: () => `node${node} POST ${method.path}`,
        run: async () => httpOutcome('', await rawHttp(nodes[node]!.httpPort, httpRequest('POST', method.path, headers, body)), { expect: ['404'] }),
      };
    };
    /** Requests Node's HTTP parser refuses (400/431 without a JSON body) or an upgrade it does not serve. */
    const fuzzHttpMalformed = (): Call => {
      const node = int(r, 0, nodes.length - 1);
      const req = pick(r, [
        Buffer.from('GET /healthz HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n'),
        Buffer.from('GET /healthz HTTP/1.1\r\nhost: x\r\nx-a: a\nb\r\n\r\n'),
        Buffer.from(`GET /v1/maps HTTP/1.1\r\nhost: x\r\nx-big: ${'y'.repeat(20_000)}\r\n\r\n`),
        Buffer.from(`GET /${'p'.repeat(20_000)} HTTP/1.1\r\nhost: x\r\n\r\n`),
        Buffer.from('GET /healthz HTTP/9.9\r\nhost: x\r\n\r\n'),
        Buffer.from('POST /v1/nearby HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello'),
        Buffer.from('POST /v1/nearby HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'),
        Buffer.from('POST /v1/nearby HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n'),
        Buffer.from(`POST /v1/drivers:update HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${T.full}\r\ncontent-length: 999999999\r\n\r\n{}`),
        Buffer.from('\x00\x01\x02\x03\r\n\r\n'),
        Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
        Buffer.from('CONNECT 127.0.0.1:1 HTTP/1.1\r\nhost: 127.0.0.1:1\r\n\r\n'),
        Buffer.from('GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n'),
        randomBytes(r, int(r, 1, 200)),
      ]);
      return {
        target: 'http malformed',
        cred: 'n/a',
        describe: () => `node${node} raw ${JSON.stringify(req.toString('latin1').slice(0, 300))}`,
        run: async () => httpOutcome('', await rawHttp(nodes[node]!.httpPort, req, 5000), { malformed: true }),
      };
    };

    const HTTP_DEFINED = new Set(['200', '400', '401', '403', '404', '405', '413', '429', '503', '504']);
    /** Statuses Node's own parser answers (no JSON body); only for requests that are not valid HTTP/1.1 or too large. */
    const PARSER = new Set(['400', '413', '431', '505']);
    /**
     * `malformed`: not valid HTTP/1.1 (or too large for Node's limits), which Node's parser may refuse;
     * `oddExpect`: Node answers 417 itself; `longDeadline`: X-Server-Timeout of 60 s or more;
     * `expired`: one that passed before the call started (a 504 then changed nothing);
     * `bigBody`: over 64 KiB, which the server may leave unread when it refuses early.
     */
    function httpOutcome(
      rpc: string,
      a: HttpAnswer,
      o: { expect?: readonly string[]; longDeadline?: boolean; expired?: boolean; head?: boolean; malformed?: boolean; oddExpect?: boolean; bigBody?: boolean },
    ): Outcome {
      const { longDeadline, head, malformed } = o;
      // No answer at all (a cut-off large body) is not a wrong answer.
      const expect = a.status === 0 ? undefined : o.expect;
      const code = a.status === 0 ? `closed (${a.closed})` : String(a.status);
      const problems: string[] = [];
      const fromNode = a.status !== 0 && !a.headers['content-type'] && a.body === '';
      const fromParser = fromNode && (PARSER.has(code) || (code === '417' && o.oddExpect === true));
      if (a.status === 0) {
        // Only a request that is not HTTP at all may be dropped without an answer (CONNECT / upgrade Node does not serve).
        // A server that answers (401, 413) before reading a large body closes the connection on the rest of it.
        const cutOff = o.bigBody === true && /EPIPE|ECONNRESET/.test(a.closed ?? '');
        if ((!malformed && !cutOff) || /client timeout/.test(a.closed ?? '')) problems.push(`no HTTP answer: ${a.closed}`);
      } else if (!HTTP_DEFINED.has(code) && !fromParser) problems.push(`undefined HTTP status ${code}`);
      else if (a.status >= 400 && !fromParser && !head) {
        let j: any;
        try {
          j = JSON.parse(a.body);
        } catch {
          problems.push(`error body is not JSON: ${JSON.stringify(a.body.slice(0, 200))}`);
        }
        if (j !== undefined) {
          if (!(j?.error && j.error.code === a.status && typeof j.error.status === 'string' && typeof j.error.message === 'string'))
            problems.push(`error body is not {error:{code,status,message}}: ${a.body.slice(0, 300)}`);
          else if (j.error.message.length > MAX_MESSAGE_CHARS)
            problems.push(`error message is ${j.error.message.length} chars: ${j.error.message.slice(0, 200)}…`);
          if (a.status === 405 && !a.headers.allow) problems.push('405 without an Allow header');
        }
      }
      if (a.status === 503 && !/"loading"/.test(a.body)) problems.push(`503 from a cluster whose every instance holds every map: ${a.body.slice(0, 200)}`);
      if (a.status === 504 && longDeadline) problems.push(`DEADLINE_EXCEEDED with an X-Server-Timeout of 60 s or more: ${a.body.slice(0, 200)}`);
      if (fromParser && !malformed && !(code === '417' && o.oddExpect)) problems.push(`Node's parser refused a well-formed request (${code})`);
      // Batch answers carry per-item errors: short too.
      if (a.status === 200 && a.body.startsWith('{"accepted"')) {
        try {
          for (const it of JSON.parse(a.body).rejected ?? [])
            if (String(it.message).length > MAX_MESSAGE_CHARS) problems.push(`a rejected item's message is ${String(it.message).length} chars`);
        } catch {
          problems.push('batch answer is not JSON');
        }
      }
      let accepted: any;
      if (a.status === 200) {
        try {
          accepted = JSON.parse(a.body);
        } catch {
          accepted = undefined;
        }
      }
      const mayWrite = a.status === 200 && (rpc === 'maybe-write' || (rpc !== '' && wrote(rpc, [accepted ?? {}])));
      return { code, details: problems.join('; '), mayChange: mayWrite || (a.status === 504 && !o.expired) || a.status === 0, expect, problems } as Outcome & {
        problems: string[];
      };
    }

    const FAMILIES: [number, () => Call][] = [
      [28, () => fuzzFaros(false)],
      [7, () => fuzzFaros(true)],
      [18, () => fuzzPeer(false)],
      [5, () => fuzzPeer(true)],
      [3, fuzzPeerOnPublic],
      [2, fuzzUnknownMethod],
      [26, fuzzHttpRoute],
      [6, fuzzHttpRandom],
      [2, fuzzHttpGrpcPath],
      [3, fuzzHttpMalformed],
    ];
    const totalWeight = FAMILIES.reduce((s, [w]) => s + w, 0);
    const nextCall = (): Call => {
      let x = r() * totalWeight;
      for (const [w, f] of FAMILIES) {
        if ((x -= w) < 0) return f();
      }
      return FAMILIES[0]![1]();
    };

    // ------------------------------------------------------------ the fuzz
    const GRPC_DEFINED = new Set([
      'OK',
      'INVALID_ARGUMENT',
      'NOT_FOUND',
      'OUT_OF_RANGE',
      'RESOURCE_EXHAUSTED',
      'DEADLINE_EXCEEDED',
      'FAILED_PRECONDITION',
      'UNAUTHENTICATED',
      'PERMISSION_DENIED',
    ]);
    const counts = new Map<string, number>();
    const recent: string[] = [];
    const failures: string[] = [];
    let calls = 0,
      checked = 0,
      rebaselines = 0;
    const fuzzStart = Date.now();
    console.log(`# hostile fuzz: FAROS_FUZZ_SEED=${SEED} FAROS_FUZZ_COUNT=${COUNT} FAROS_FUZZ_MS=${WALL_MS} (cluster up in ${bootMs} ms)`);
    t.diagnostic(`seed ${SEED}, count ${COUNT}, wall ${WALL_MS} ms`);
    for (let i = 0; i < COUNT && Date.now() - fuzzStart < WALL_MS; i++) {
      const call = nextCall();
      const where = `call #${i} (replay: FAROS_FUZZ_SEED=${SEED} FAROS_FUZZ_COUNT=${i + 1}) ${call.target} [${call.cred}]`;
      let out: Outcome & { problems?: string[] };
      try {
        out = await call.run();
      } catch (e) {
        failures.push(`${where}: the client threw ${(e as Error).stack}\n  ${call.describe()}`);
        break;
      }
      calls++;
      const grpcLike = !/^(\d{3}|closed)/.test(out.code);
      const problems: string[] = [...(out.problems ?? [])];
      if (grpcLike) {
        const ok =
          GRPC_DEFINED.has(out.code) ||
          (out.code === 'UNAVAILABLE' && (call.cred === 'no-cert' || call.cred === 'plaintext')) ||
          (out.code === 'UNIMPLEMENTED' && /on the public port|unknown method/.test(call.target));
        if (!ok) problems.push(`undefined gRPC status ${out.code}: ${out.details.slice(0, 300)}`);
        if (out.details.length > MAX_MESSAGE_CHARS) problems.push(`status message is ${out.details.length} chars: ${out.details.slice(0, 200)}…`);
      }
      if (out.expect && !out.expect.includes(out.code))
        problems.push(`answered ${out.code} (${out.details.slice(0, 200)}); expected ${out.expect.join(' or ')}`);
      if (!alive())
        problems.push(
          `a process died: ${nodes.map((n) => `node${n.index} exit=${n.child.exitCode} signal=${n.child.signalCode}`).join(', ')}\n${logs.slice(-20).join('\n')}`,
        );
      const key = `${call.target} | ${call.cred} | ${out.code}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      recent.push(`#${i} ${call.target} [${call.cred}] → ${out.code}`);
      if (TRACE)
        console.log(
          `# #${i} ${call.target} [${call.cred}] → ${out.code} ${out.details.slice(0, 200)}${out.mayChange ? ' (may change)' : ''} answers=${out.note ?? ''} :: ${call.describe().slice(0, 400)}`,
        );
      if (recent.length > 10) recent.shift();
      if (problems.length === 0) {
        if (out.mayChange) {
          baseline = await settle();
          rebaselines++;
        } else {
          const now = await snapshot();
          checked++;
          const d = diff(baseline, now);
          if (d.length > 0) problems.push(`a call answered ${out.code} (refused or read-only) changed the state:\n${d.slice(0, 6).join('\n')}`);
        }
      }
      if (problems.length > 0) {
        failures.push(
          `${where} → ${problems.join('\n  ')}\n  request: ${call.describe()}\n  last calls:\n    ${recent.join('\n    ')}\n  last server log lines:\n    ${logs
            .slice(-5)
            .map((l) => l.slice(0, 600))
            .join('\n    ')}`,
        );
        if (failures.length >= 5 || !alive()) break;
        baseline = await settle();
      }
    }
    const fuzzMs = Date.now() - fuzzStart;

    // Invariant 1 at the end: every process lives and says so.
    for (const n of nodes) {
      const h = await rawHttp(n.httpPort, httpRequest('GET', '/healthz', [], undefined));
      if (h.status !== 200) failures.push(`node${n.index} /healthz answered ${h.status} ${h.closed ?? ''} at the end`);
      await typedCall(n.index, 'listMaps', {});
    }
    if (!alive()) failures.push('a process is dead at the end');

    // Counts by target, credential and outcome: what to look at when a seed fails.
    const byOutcome = new Map<string, number>();
    for (const [k, v] of counts) {
      const code = k.split(' | ')[2]!;
      byOutcome.set(code, (byOutcome.get(code) ?? 0) + v);
    }
    const summary = [...byOutcome]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(`# hostile fuzz: seed ${SEED}: ${calls} calls in ${fuzzMs} ms; ${checked} state checks, ${rebaselines} re-baselines; outcomes: ${summary}`);
    t.diagnostic(`${calls} calls in ${fuzzMs} ms (${checked} state checks, ${rebaselines} re-baselines); ${summary}`);
    for (const [k, v] of [...counts].sort()) t.diagnostic(`${k}: ${v}`);
    if (failures.length > 0) assert.fail(`hostile fuzz, seed ${SEED}: ${failures.length} failure(s):\n${failures.join('\n\n')}`);
    assert.ok(calls >= Math.min(COUNT, 100), `only ${calls} calls ran`);
  } finally {
    for (const x of clients) x.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
