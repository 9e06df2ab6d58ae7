// Options: defaults ← config file ← env ← flags; every error names the option and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOptions, parseServeFlags, instanceName, ConfigError } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'faros-config-'));
const opts = (argv: string[], env: Record<string, string> = {}) => buildOptions({ flags: parseServeFlags(argv), env, cwd: dir });

test('defaults', () => {
  const o = opts(['--map', 'monaco-car']);
  assert.equal(o.grpcPort, 50051);
  assert.equal(o.httpPort, 8080);
  assert.equal(o.host, '127.0.0.1', 'loopback unless told otherwise');
  assert.equal(o.security.tokensFile, undefined);
  assert.equal(o.cluster, undefined);
  assert.equal(o.logLevel, 'info');
  assert.ok(o.workers >= 1);
  assert.equal(o.searchThreads, o.workers, 'search threads default to --workers');
  const t = opts(['--map', 'monaco-car', '--workers', '3']);
  assert.deepEqual([t.workers, t.searchThreads], [3, 3]);
  const u = opts(['--map', 'monaco-car', '--workers', '1'], { FAROS_SEARCH_THREADS: '2' });
  assert.deepEqual([u.workers, u.searchThreads], [1, 2]);
  assert.throws(() => opts(['--map', 'monaco-car', '--search-threads', '0']), /search-threads/);
  assert.deepEqual(o.limits, {
    maxMessageBytes: 4 * 1024 * 1024,
    maxInFlight: 1024,
    maxBatchSize: 10_000,
    maxNearbyBatch: 1000,
    maxStreamNearbyInFlight: 256,
    maxConnections: 2048,
    maxConcurrentStreams: 1000,
    httpRequestTimeoutMs: 30_000,
    maxWatches: 20_000,
    maxWatchesPerConnection: 1000,
    watchMaxQueued: 64,
  });
  assert.equal(o.watchNaive, false, 'watches are incremental unless the benchmark asks');
  assert.throws(() => opts(['--map', 'monaco-car', '--watch-max-queued', '0']), /watch-max-queued/);
  assert.deepEqual(
    o.maps.map((m) => m.id),
    ['monaco-car'],
  );
  assert.ok(Object.isFrozen(o) && Object.isFrozen(o.limits) && Object.isFrozen(o.maps));
  assert.match(instanceName(o, 4242), /:4242$/);
  assert.ok(opts([]).maps.length >= 5, 'no --map: the bundled catalog');
});

test('precedence: defaults < config file < env < flags', () => {
  const file = join(dir, 'faros.json');
  writeFileSync(file, JSON.stringify({ grpcPort: 1001, httpPort: 1002, logLevel: 'debug', maxInFlight: 7, maps: ['monaco-car'] }));
  const a = opts(['--config', file]);
  assert.deepEqual([a.grpcPort, a.httpPort, a.logLevel, a.limits.maxInFlight, a.maps[0]!.id], [1001, 1002, 'debug', 7, 'monaco-car']);
  const b = opts(['--config', file], { FAROS_GRPC_PORT: '2001', FAROS_LOG_LEVEL: 'warn' });
  assert.deepEqual([b.grpcPort, b.httpPort, b.logLevel], [2001, 1002, 'warn']);
  const c = opts(['--config', file, '--grpc-port', '3001'], { FAROS_GRPC_PORT: '2001', FAROS_CONFIG: '/nonexistent' });
  assert.equal(c.grpcPort, 3001);
});

test('--map ID=PATH with options', () => {
  const o = opts(['--map', 'city=maps/x.osm.pbf,profile=motorbike,ttl=120,snap=150', '--map', 'monaco-car']);
  assert.deepEqual({ ...o.maps[0]! }, { id: 'city', file: join(dir, 'maps/x.osm.pbf'), profile: 'motorbike', snapRadiusM: 150, ttlS: 120 });
});

const BAD: [string[], Record<string, string>, RegExp][] = [
  [['--grpc-port', '70000'], {}, /--grpc-port = 70000 is out of range; use 0\.\.65535/],
  [['--http-port', 'eighty'], {}, /--http-port must be an integer/],
  [[], { FAROS_WORKERS: '0' }, /FAROS_WORKERS = 0 is out of range/],
  [['--log-level', 'loud'], {}, /log level "loud".*fatal, error, warn/],
  [['--map', 'Bad ID=x.pbf'], {}, /map ID "Bad ID"/],
  [['--map', 'atlantis-car'], {}, /no map "atlantis-car" in the catalog/],
  [['--map', 'c=x.pbf,profile=tank'], {}, /unknown profile "tank"/],
  [['--map', 'c=x.pbf,ttl=-1'], {}, /ttl must be seconds above 0/],
  [['--map', 'monaco-car', '--map', 'monaco-car'], {}, /configured twice/],
  [['--max-in-flight', '0'], {}, /--max-in-flight = 0 is out of range/],
  [['--nope'], {}, /Unknown option '--nope'.*--help/],
  [['--config', '/nonexistent.json'], {}, /--config \/nonexistent.json: cannot read it as JSON/],
];
for (const [argv, env, msg] of BAD) {
  test(`refused: ${[...argv, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ')}`, () => {
    assert.throws(
      () => opts(argv.length === 0 || argv[0] !== '--map' ? [...argv] : argv, env),
      (e: unknown) => e instanceof ConfigError && msg.test(e.message),
    );
  });
}

test('config file: unknown key named', () => {
  const file = join(dir, 'typo.json');
  writeFileSync(file, JSON.stringify({ grpcport: 1 }));
  assert.throws(() => opts(['--config', file]), /unknown key "grpcport"/);
});

test('a non-loopback host needs tokens or --allow-anonymous, and says so', () => {
  assert.throws(
    () => opts(['--map', 'monaco-car', '--host', '0.0.0.0']),
    (e: Error) => e instanceof ConfigError && /--tokens FILE/.test(e.message) && /--allow-anonymous/.test(e.message),
  );
  assert.equal(opts(['--map', 'monaco-car', '--host', '0.0.0.0', '--allow-anonymous']).host, '0.0.0.0');
  assert.equal(opts(['--map', 'monaco-car'], { FAROS_HOST: '0.0.0.0', FAROS_ALLOW_ANONYMOUS: 'true' }).host, '0.0.0.0');
  assert.throws(() => opts(['--map', 'monaco-car'], { FAROS_ALLOW_ANONYMOUS: 'maybe' }), /true or false/);
  const tokens = join(dir, 'tokens');
  writeFileSync(tokens, '# none yet\n');
  assert.equal(opts(['--map', 'monaco-car', '--host', '10.1.2.3', '--tokens', tokens]).security.tokensFile, tokens);
  assert.throws(() => opts(['--map', 'monaco-car', '--tokens', join(dir, 'missing')]), /cannot read .*missing/);
  assert.throws(() => opts(['--map', 'monaco-car', '--tls-cert', tokens]), /--tls-cert and --tls-key go together/);
});

test('cluster mode: peer port (gRPC + 1000 by default) and mutual TLS files are required', () => {
  assert.throws(() => opts(['--map', 'monaco-car', '--peers', '127.0.0.1:51051']), /--peer-tls-dir DIR/);
  const tls = join(dir, 'peer-tls');
  mkdirSync(tls, { recursive: true });
  for (const f of ['ca.crt', 'tls.crt', 'tls.key']) writeFileSync(join(tls, f), 'x');
  const c = opts(['--map', 'monaco-car', '--peers', '127.0.0.1:51051', '--peer-tls-dir', tls]).cluster!;
  assert.equal(c.peerPort, 51051);
  assert.deepEqual(c.peerTls, { caFile: join(tls, 'ca.crt'), certFile: join(tls, 'tls.crt'), keyFile: join(tls, 'tls.key') });
  assert.equal(opts(['--map', 'monaco-car', '--grpc-port', '0', '--peers', 'a:1', '--peer-tls-dir', tls]).cluster!.peerPort, 0);
  assert.equal(opts(['--map', 'monaco-car', '--peers', 'a:1', '--peer-tls-dir', tls, '--peer-port', '6000']).cluster!.peerPort, 6000);
  assert.throws(() => opts(['--map', 'monaco-car', '--grpc-port', '65000', '--peers', 'a:1', '--peer-tls-dir', tls]), /set --peer-port/);
  assert.throws(() => opts(['--map', 'monaco-car', '--peers', 'a:1', '--peer-tls-dir', tls, '--peer-port', '50051']), /port of its own/);
  assert.throws(() => opts(['--map', 'monaco-car', '--peer-port', '6000']), /cluster option/);
  // DNS discovery: A records on a port, or an SRV name whose records carry the ports.
  const srv = '_peer._tcp.faros-headless.faros.svc.cluster.local';
  assert.deepEqual(opts(['--map', 'monaco-car', '--discovery-dns', srv, '--peer-tls-dir', tls]).cluster!.dns, { name: srv, port: undefined });
  assert.deepEqual(opts(['--map', 'monaco-car', '--discovery-dns', 'faros-headless:51051', '--peer-tls-dir', tls]).cluster!.dns, {
    name: 'faros-headless',
    port: 51051,
  });
  assert.throws(() => opts(['--map', 'monaco-car', '--discovery-dns', `${srv}:51051`, '--peer-tls-dir', tls]), /SRV name.*drop ":51051"/);
});
