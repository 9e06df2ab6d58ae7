// One door for configuration: defaults ← config file (JSON) ← environment ←
// flags, merged into one typed, frozen Options. Every error names the option
// and the fix. Nothing here reads process.env or process.argv: the caller
// (src/bin/*, src/cli/serve.ts) passes them in.
import { readFileSync } from 'node:fs';
import { hostname, availableParallelism } from 'node:os';
import { isAbsolute, resolve, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalog, MAP_ID, type MapEntry } from './mapbuild/catalog.js';
import { profileNames } from './mapbuild/profile.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Limits {
  /** Largest request message (gRPC `grpc.max_receive_message_length`, HTTP body), bytes. */
  readonly maxMessageBytes: number;
  /** Calls (and stream batches) being worked on at once in this process; more are refused with RESOURCE_EXHAUSTED. */
  readonly maxInFlight: number;
  /** Updates per UpdateDriversRequest (stream message or HTTP batchUpdate). */
  readonly maxBatchSize: number;
  /** Queries per NearbyBatch call (HTTP nearby:batch). */
  readonly maxNearbyBatch: number;
  /** Queries of one StreamNearby call being answered at once; more get RESOURCE_EXHAUSTED results. */
  readonly maxStreamNearbyInFlight: number;
  /** Open HTTP connections; more are refused at accept. */
  readonly maxConnections: number;
  /** Concurrent gRPC streams (calls) per HTTP/2 connection. */
  readonly maxConcurrentStreams: number;
  /** An HTTP request must arrive whole (headers and body) within this; headers alone within min(this, 10 s). */
  readonly httpRequestTimeoutMs: number;
  /** WatchNearby calls open on this instance (relayed ones included); more get RESOURCE_EXHAUSTED. */
  readonly maxWatches: number;
  /** WatchNearby calls open on one connection; more get RESOURCE_EXHAUSTED. */
  readonly maxWatchesPerConnection: number;
  /** Messages of one watch waiting for a client that does not read; one more ends the watch (RESOURCE_EXHAUSTED). */
  readonly watchMaxQueued: number;
}

/** Who may call the public ports, and over what. */
export interface Security {
  /** TLS on the public gRPC and HTTP ports (PEM files); undefined = plaintext. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Client tokens (hashes and scopes); undefined = every caller may do everything. */
  readonly tokensFile: string | undefined;
}

/** The peer port's mutual TLS material (PEM files). */
export interface PeerTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface Options {
  /** Maps this process serves, resolved from the catalog and/or --map. */
  readonly maps: readonly Readonly<MapEntry>[];
  readonly host: string;
  /** 0 = pick a free port. */
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly workers: number;
  /** Nearby search threads (searchers.ts); default = workers. */
  readonly searchThreads: number;
  /** Main-thread ms per 100 ms that nearby searches may run inline while the search threads are idle. */
  readonly inlineSearchMs: number;
  /** Watches re-run every interval (the benchmark's baseline), not incrementally. */
  readonly watchNaive: boolean;
  /** Compiled map cache; undefined = maps/.cache of the package. */
  readonly cacheDir: string | undefined;
  readonly logLevel: LogLevel;
  /** JSON logs appended here; undefined = stderr (containers collect it). */
  readonly logFile: string | undefined;
  /** Default acknowledgement of writes in a cluster (a request's own ack overrides it). */
  readonly writeAck: 'first' | 'all';
  /** Fraction of successful requests logged (errors are always logged at warn). */
  readonly logSampleRate: number;
  /** Instance name (stats.served_by, replicas); undefined = hostname:<actual gRPC port> (see instanceName()). */
  readonly instanceName: string | undefined;
  readonly limits: Readonly<Limits>;
  /** How long shutdown waits for in-flight calls before cutting them. */
  readonly shutdownGraceMs: number;
  readonly security: Readonly<Security>;
  /** Cluster mode (set when --peers or --discovery-dns is given). */
  readonly cluster: Readonly<ClusterOptions> | undefined;
}

export interface ClusterOptions {
  readonly seeds: readonly string[];
  readonly dns: { readonly name: string; readonly port: number | undefined } | undefined;
  /** The peer listener (faros.v1.Peer, mutual TLS only); 0 = pick a free one. */
  readonly peerPort: number;
  readonly peerTls: PeerTls;
  /** undefined = 127.0.0.1:<actual peer port> (see advertiseAddress()). */
  readonly advertise: string | undefined;
  readonly replication: number;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly suspectMs: number;
  /** Other members asked to probe a member that fails our probes, before it is evicted (0 = none). */
  readonly indirectProbes: number;
  /** Between anti-entropy rounds (replicas compare digests and pull what differs); 0 = off. */
  readonly antiEntropyMs: number;
  readonly dropGraceMs: number;
  /** A snapshot pull that holds its arena pin longer than this is ended (the puller retries). */
  readonly maxSnapshotPinMs: number;
}

const ADDRESS = /^[A-Za-z0-9_.\-[\]:]+:\d{1,5}$/;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Everything that can be set, with its flag, env var, config-file key and default. */
interface Setting {
  key: string;
  flag: string;
  env: string;
  help: string;
  kind: 'int' | 'number' | 'string' | 'bool';
  def?: number | string | boolean;
  min?: number;
  max?: number;
}

const cores = (): number => availableParallelism();

export const SETTINGS: readonly Setting[] = [
  { key: 'grpcPort', flag: 'grpc-port', env: 'FAROS_GRPC_PORT', kind: 'int', def: 50051, min: 0, max: 65535, help: 'gRPC port (0 = pick a free one)' },
  {
    key: 'httpPort',
    flag: 'http-port',
    env: 'FAROS_HTTP_PORT',
    kind: 'int',
    def: 8080,
    min: 0,
    max: 65535,
    help: 'HTTP/JSON gateway, /metrics, /healthz, /readyz port (0 = pick a free one)',
  },
  {
    key: 'host',
    flag: 'host',
    env: 'FAROS_HOST',
    kind: 'string',
    def: '127.0.0.1',
    help: 'address the servers bind to (0.0.0.0 = every interface; needs --tokens or --allow-anonymous)',
  },
  {
    key: 'peerPort',
    flag: 'peer-port',
    env: 'FAROS_PEER_PORT',
    kind: 'int',
    min: 0,
    max: 65535,
    help: 'cluster: instance-to-instance port, faros.v1.Peer over mutual TLS only (default: gRPC port + 1000)',
  },
  {
    key: 'tlsCert',
    flag: 'tls-cert',
    env: 'FAROS_TLS_CERT',
    kind: 'string',
    help: 'PEM certificate (chain) for TLS on the public gRPC and HTTP ports (with --tls-key)',
  },
  { key: 'tlsKey', flag: 'tls-key', env: 'FAROS_TLS_KEY', kind: 'string', help: 'PEM private key for --tls-cert' },
  {
    key: 'tokens',
    flag: 'tokens',
    env: 'FAROS_TOKENS',
    kind: 'string',
    help: 'client tokens file (lines "NAME SCOPES SHA256", see faros token); reloaded on SIGHUP',
  },
  {
    key: 'allowAnonymous',
    flag: 'allow-anonymous',
    env: 'FAROS_ALLOW_ANONYMOUS',
    kind: 'bool',
    def: false,
    help: 'serve callers without a token on a non-loopback --host',
  },
  {
    key: 'peerTlsDir',
    flag: 'peer-tls-dir',
    env: 'FAROS_PEER_TLS_DIR',
    kind: 'string',
    help: 'cluster: directory with ca.crt, tls.crt, tls.key (the cert-manager Secret layout) for the peer port',
  },
  {
    key: 'clusterCa',
    flag: 'cluster-ca',
    env: 'FAROS_CLUSTER_CA',
    kind: 'string',
    help: 'cluster: PEM CA that signs every instance certificate (overrides DIR/ca.crt)',
  },
  { key: 'peerCert', flag: 'peer-cert', env: 'FAROS_PEER_CERT', kind: 'string', help: "cluster: this instance's PEM certificate (overrides DIR/tls.crt)" },
  { key: 'peerKey', flag: 'peer-key', env: 'FAROS_PEER_KEY', kind: 'string', help: "cluster: this instance's PEM private key (overrides DIR/tls.key)" },
  { key: 'workers', flag: 'workers', env: 'FAROS_WORKERS', kind: 'int', min: 1, max: 256, help: 'snapping worker threads (default: number of cores)' },
  {
    key: 'searchThreads',
    flag: 'search-threads',
    env: 'FAROS_SEARCH_THREADS',
    kind: 'int',
    min: 1,
    max: 256,
    help: 'nearby search threads (default: --workers)',
  },
  {
    key: 'inlineSearchMs',
    flag: 'inline-search-ms',
    env: 'FAROS_INLINE_SEARCH_MS',
    kind: 'int',
    def: 10,
    min: 0,
    max: 100,
    help: 'ms per 100 ms a nearby search may run on the main thread while the search threads are idle (0 = never)',
  },
  { key: 'cacheDir', flag: 'cache-dir', env: 'FAROS_CACHE_DIR', kind: 'string', help: 'compiled map cache directory (default maps/.cache)' },
  {
    key: 'catalog',
    flag: 'maps',
    env: 'FAROS_MAPS',
    kind: 'string',
    help: 'map catalog JSON (default maps/maps.json); without --map every entry is served, with --map a bare ID is looked up in it',
  },
  {
    key: 'writeAck',
    flag: 'write-ack',
    env: 'FAROS_WRITE_ACK',
    kind: 'string',
    def: 'first',
    help: 'cluster: acknowledge a write after the first replica applied it (first) or after every live replica did (all); a request may ask for either',
  },
  { key: 'logLevel', flag: 'log-level', env: 'FAROS_LOG_LEVEL', kind: 'string', def: 'info', help: `log level: ${LOG_LEVELS.join('|')}` },
  {
    key: 'logFile',
    flag: 'log-file',
    env: 'FAROS_LOG_FILE',
    kind: 'string',
    help: 'append the JSON logs to FILE (created with its directory) instead of stderr; the ready line stays on stdout',
  },
  {
    key: 'logSampleRate',
    flag: 'log-sample-rate',
    env: 'FAROS_LOG_SAMPLE_RATE',
    kind: 'number',
    def: 0.01,
    min: 0,
    max: 1,
    help: 'fraction of successful requests logged',
  },
  { key: 'instanceName', flag: 'instance-name', env: 'FAROS_INSTANCE_NAME', kind: 'string', help: 'instance name (default hostname:grpcPort)' },
  {
    key: 'maxMessageBytes',
    flag: 'max-message-bytes',
    env: 'FAROS_MAX_MESSAGE_BYTES',
    kind: 'int',
    def: 4 * 1024 * 1024,
    min: 1024,
    max: 256 * 1024 * 1024,
    help: 'largest gRPC message / HTTP body accepted',
  },
  {
    key: 'maxInFlight',
    flag: 'max-in-flight',
    env: 'FAROS_MAX_IN_FLIGHT',
    kind: 'int',
    def: 1024,
    min: 1,
    max: 1_000_000,
    help: 'calls worked on at once before RESOURCE_EXHAUSTED',
  },
  {
    key: 'maxBatchSize',
    flag: 'max-batch-size',
    env: 'FAROS_MAX_BATCH_SIZE',
    kind: 'int',
    def: 10_000,
    min: 1,
    max: 1_000_000,
    help: 'updates per batch (stream message or batchUpdate)',
  },
  {
    key: 'maxNearbyBatch',
    flag: 'max-nearby-batch',
    env: 'FAROS_MAX_NEARBY_BATCH',
    kind: 'int',
    def: 1000,
    min: 1,
    max: 100_000,
    help: 'queries per NearbyBatch call',
  },
  {
    key: 'maxStreamNearbyInFlight',
    flag: 'max-stream-nearby-in-flight',
    env: 'FAROS_MAX_STREAM_NEARBY_IN_FLIGHT',
    kind: 'int',
    def: 256,
    min: 1,
    max: 100_000,
    help: 'queries of one StreamNearby call answered at once',
  },
  {
    key: 'maxConnections',
    flag: 'max-connections',
    env: 'FAROS_MAX_CONNECTIONS',
    kind: 'int',
    def: 2048,
    min: 1,
    max: 1_000_000,
    help: 'open HTTP connections accepted at once',
  },
  {
    key: 'maxConcurrentStreams',
    flag: 'max-concurrent-streams',
    env: 'FAROS_MAX_CONCURRENT_STREAMS',
    kind: 'int',
    def: 1000,
    min: 1,
    max: 1_000_000,
    help: 'concurrent gRPC calls per connection',
  },
  {
    key: 'httpRequestTimeoutMs',
    flag: 'http-request-timeout-ms',
    env: 'FAROS_HTTP_REQUEST_TIMEOUT_MS',
    kind: 'int',
    def: 30_000,
    min: 100,
    max: 3_600_000,
    help: 'an HTTP request (headers and body) must arrive within this',
  },
  {
    key: 'maxWatches',
    flag: 'max-watches',
    env: 'FAROS_MAX_WATCHES',
    kind: 'int',
    def: 20_000,
    min: 0,
    max: 1_000_000,
    help: 'WatchNearby calls open on this instance at once (0 = none)',
  },
  {
    key: 'maxWatchesPerConnection',
    flag: 'max-watches-per-connection',
    env: 'FAROS_MAX_WATCHES_PER_CONNECTION',
    kind: 'int',
    def: 1000,
    min: 1,
    max: 1_000_000,
    help: 'WatchNearby calls open on one client connection at once',
  },
  {
    key: 'watchMaxQueued',
    flag: 'watch-max-queued',
    env: 'FAROS_WATCH_MAX_QUEUED',
    kind: 'int',
    def: 64,
    min: 1,
    max: 100_000,
    help: 'messages of one watch waiting for a client that does not read before the watch is ended',
  },
  {
    key: 'watchNaive',
    flag: 'watch-naive',
    env: 'FAROS_WATCH_NAIVE',
    kind: 'bool',
    def: false,
    help: 'benchmark baseline: re-run every watch at every interval instead of only when a change touches its region',
  },
  {
    key: 'peers',
    flag: 'peers',
    env: 'FAROS_PEERS',
    kind: 'string',
    help: "cluster: comma-separated seed list of instances' peer addresses (host:peerPort, this one may be included); enables the cluster proxy",
  },
  {
    key: 'discoveryDns',
    flag: 'discovery-dns',
    env: 'FAROS_DISCOVERY_DNS',
    kind: 'string',
    help: 'cluster: DNS name of the members (Kubernetes headless Service): NAME[:PORT] = its A records on PORT (default: this peer port), or an SRV name _PORTNAME._tcp.NAME = its SRV targets and ports (StatefulSet pod names: identities that survive a restart)',
  },
  {
    key: 'advertise',
    flag: 'advertise',
    env: 'FAROS_ADVERTISE',
    kind: 'string',
    help: 'cluster: peer address other instances reach this one at; it is also the instance name (default 127.0.0.1:peerPort; in Kubernetes the pod name: $(POD_NAME).faros-headless.$(POD_NAMESPACE).svc.cluster.local:51051)',
  },
  {
    key: 'maxSnapshotPinMs',
    flag: 'max-snapshot-pin-ms',
    env: 'FAROS_MAX_SNAPSHOT_PIN_MS',
    kind: 'int',
    def: 120_000,
    min: 100,
    max: 3_600_000,
    help: 'cluster: a state-transfer pull that holds its snapshot longer than this is ended (the puller retries)',
  },
  { key: 'replication', flag: 'replication', env: 'FAROS_REPLICATION', kind: 'int', def: 2, min: 1, max: 16, help: 'cluster: replicas per map' },
  {
    key: 'probeIntervalMs',
    flag: 'probe-interval-ms',
    env: 'FAROS_PROBE_INTERVAL_MS',
    kind: 'int',
    def: 500,
    min: 50,
    max: 60_000,
    help: 'cluster: how often every member is probed',
  },
  {
    key: 'probeTimeoutMs',
    flag: 'probe-timeout-ms',
    env: 'FAROS_PROBE_TIMEOUT_MS',
    kind: 'int',
    def: 1000,
    min: 20,
    max: 60_000,
    help: 'cluster: a probe that takes longer failed',
  },
  {
    key: 'suspectMs',
    flag: 'suspect-ms',
    env: 'FAROS_SUSPECT_MS',
    kind: 'int',
    def: 3000,
    min: 100,
    max: 600_000,
    help: 'cluster: a member silent this long leaves the route table (also: a pause of this process longer than this makes it re-pull its maps)',
  },
  {
    key: 'indirectProbes',
    flag: 'indirect-probes',
    env: 'FAROS_INDIRECT_PROBES',
    kind: 'int',
    def: 2,
    min: 0,
    max: 16,
    help: 'cluster: before evicting a member that does not answer, ask this many other live members to probe it; it stays while one reaches it (0 = decide alone)',
  },
  {
    key: 'antiEntropyMs',
    flag: 'anti-entropy-ms',
    env: 'FAROS_ANTI_ENTROPY_MS',
    kind: 'int',
    def: 5000,
    min: 0,
    max: 3_600_000,
    help: 'cluster: how often each replica compares a digest of every map it serves with another replica and pulls what differs (0 = off)',
  },
  {
    key: 'dropGraceMs',
    flag: 'drop-grace-ms',
    env: 'FAROS_DROP_GRACE_MS',
    kind: 'int',
    def: 30_000,
    min: 0,
    max: 3_600_000,
    help: 'cluster: a map no longer owned stays a state-transfer source this long before it is dropped',
  },
  {
    key: 'shutdownGraceMs',
    flag: 'shutdown-grace-ms',
    env: 'FAROS_SHUTDOWN_GRACE_MS',
    kind: 'int',
    def: 10_000,
    min: 0,
    max: 600_000,
    help: 'wait for in-flight calls on SIGTERM before cutting them',
  },
];

/** node:util parseArgs options for `faros serve`. */
export const SERVE_FLAGS = {
  ...Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: s.kind === 'bool' ? ('boolean' as const) : ('string' as const) }])),
  map: { type: 'string' as const, multiple: true as const },
  config: { type: 'string' as const },
  help: { type: 'boolean' as const, short: 'h' },
};

export const SERVE_USAGE = `faros serve — gRPC + HTTP/JSON server

Usage:
  faros serve [--map ID | --map ID=PATH.osm.pbf[,profile=car][,ttl=300][,snap=200]]... [options]

  --map ID                   serve map ID of the catalog (repeatable)
  --map ID=PATH[,k=v...]     serve an OSM file under ID; profile=${profileNames().join('|')}, ttl=seconds, snap=metres
  --config FILE              JSON config file (keys: the camelCase names below, "maps": [--map values]) (env FAROS_CONFIG)
${SETTINGS.map((s) => `  --${s.flag.padEnd(24)} ${s.help}${s.def !== undefined ? ` (default ${s.def})` : ''} (env ${s.env})`).join('\n')}
  -h, --help                 this help

Precedence: defaults < config file < environment < flags.`;

export interface ConfigInput {
  /** Parsed flags (values of SERVE_FLAGS). */
  flags: Record<string, string | string[] | boolean | undefined>;
  env: Record<string, string | undefined>;
  /** Directory relative paths of flags and env resolve against. */
  cwd: string;
}

type Source = { value: unknown; where: string; base: string };

/** Merge defaults ← config file ← env ← flags into frozen Options; throws ConfigError naming the option. */
export function buildOptions({ flags, env, cwd }: ConfigInput): Options {
  const configFile = (flags.config as string | undefined) ?? env.FAROS_CONFIG;
  let file: Record<string, unknown> = {};
  let fileBase = cwd;
  if (configFile !== undefined && configFile !== '') {
    const path = resolve(cwd, configFile);
    fileBase = dirname(path);
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`--config ${configFile}: cannot read it as JSON (${(e as Error).message}); pass a JSON object file`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file))
      throw new ConfigError(`--config ${configFile}: expected a JSON object like {"grpcPort": 50051}`);
    const known = new Set([...SETTINGS.map((s) => s.key), 'maps']);
    for (const k of Object.keys(file))
      if (!known.has(k)) throw new ConfigError(`--config ${configFile}: unknown key "${k}"; known keys: ${[...known].join(', ')}`);
  }

  const pick = (s: Setting): Source | undefined => {
    const f = flags[s.flag];
    if (f !== undefined) return { value: f, where: `--${s.flag}`, base: cwd };
    const e = env[s.env];
    if (e !== undefined && e !== '') return { value: e, where: `${s.env}`, base: cwd };
    if (file[s.key] !== undefined) return { value: file[s.key], where: `"${s.key}" in ${configFile}`, base: fileBase };
    return undefined;
  };
  const v: Record<string, number | string | boolean | undefined> = {};
  const bases: Record<string, string> = {};
  for (const s of SETTINGS) {
    const src = pick(s);
    if (!src) {
      v[s.key] = s.def;
      continue;
    }
    bases[s.key] = src.base;
    v[s.key] = convert(s, src);
  }

  const writeAck = v.writeAck as string;
  if (writeAck !== 'first' && writeAck !== 'all') throw new ConfigError(`write ack "${writeAck}" (--write-ack / FAROS_WRITE_ACK) is not first or all`);
  const logLevel = v.logLevel as string;
  const file_ = (key: string): string | undefined => (v[key] === undefined ? undefined : resolve(bases[key] ?? cwd, v[key] as string));
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new ConfigError(`log level "${logLevel}" (--log-level / FAROS_LOG_LEVEL) is not one of ${LOG_LEVELS.join(', ')}`);
  const host = v.host as string;
  if (host === '') throw new ConfigError('--host must not be empty; use 0.0.0.0 for every interface or 127.0.0.1 for local only');

  // Maps: an explicit catalog and/or --map; the bundled catalog when neither is given.
  const mapSpecs: { spec: string; where: string; base: string }[] = [];
  const flagMaps = flags.map as string[] | undefined;
  if (flagMaps && flagMaps.length > 0) for (const m of flagMaps) mapSpecs.push({ spec: m, where: '--map', base: cwd });
  else if (Array.isArray(file.maps)) for (const m of file.maps) mapSpecs.push({ spec: String(m), where: `"maps" in ${configFile}`, base: fileBase });
  else if (file.maps !== undefined)
    throw new ConfigError(`"maps" in ${configFile} must be an array of --map values like ["monaco-car", "city=city.osm.pbf,profile=car"]`);
  const catalogPath = v.catalog === undefined ? undefined : resolve(bases.catalog ?? cwd, v.catalog as string);
  let catalog: MapEntry[] | undefined;
  const getCatalog = (): MapEntry[] => {
    if (!catalog) {
      try {
        catalog = catalogPath ? loadCatalog(catalogPath) : loadCatalog();
      } catch (e) {
        throw new ConfigError(`map catalog (--maps / FAROS_MAPS): ${(e as Error).message}`);
      }
    }
    return catalog;
  };
  // --map given: exactly those maps (a bare ID is looked up in the catalog); otherwise the whole catalog.
  const maps: MapEntry[] = mapSpecs.length === 0 ? [...getCatalog()] : mapSpecs.map((m) => parseMapSpec(m.spec, m.where, m.base, getCatalog));
  const seen = new Set<string>();
  for (const m of maps) {
    if (seen.has(m.id)) throw new ConfigError(`map "${m.id}" is configured twice (catalog and/or --map); give each map one ID`);
    seen.add(m.id);
  }
  if (maps.length === 0) throw new ConfigError('no maps configured; pass --map ID=PATH.osm.pbf or a catalog with --maps FILE');

  const grpcPort = v.grpcPort as number;
  const tlsCert = file_('tlsCert'),
    tlsKey = file_('tlsKey');
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw new ConfigError('--tls-cert and --tls-key go together: give both PEM files, or neither for plaintext');
  const tokensFile = file_('tokens');
  if (tokensFile === undefined && !v.allowAnonymous && !isLoopback(host)) {
    throw new ConfigError(
      `--host ${host} is reachable from other machines, and no --tokens file is given: anyone could read and rewrite every driver's position. Give --tokens FILE (create tokens with: faros token create --file FILE --name NAME --scopes update,query), or pass --allow-anonymous to serve callers without a token anyway`,
    );
  }
  for (const f of [tlsCert, tlsKey, tokensFile]) if (f !== undefined) mustRead(f);
  const opts: Options = {
    maps: Object.freeze(maps.map((m) => Object.freeze({ ...m }))),
    host,
    grpcPort,
    httpPort: v.httpPort as number,
    workers: (v.workers as number | undefined) ?? cores(),
    searchThreads: (v.searchThreads as number | undefined) ?? (v.workers as number | undefined) ?? cores(),
    inlineSearchMs: v.inlineSearchMs as number,
    cacheDir: v.cacheDir === undefined ? undefined : resolve(bases.cacheDir ?? cwd, v.cacheDir as string),
    logLevel: logLevel as LogLevel,
    logFile: file_('logFile'),
    writeAck,
    logSampleRate: v.logSampleRate as number,
    instanceName: v.instanceName as string | undefined,
    limits: Object.freeze({
      maxMessageBytes: v.maxMessageBytes as number,
      maxInFlight: v.maxInFlight as number,
      maxBatchSize: v.maxBatchSize as number,
      maxNearbyBatch: v.maxNearbyBatch as number,
      maxStreamNearbyInFlight: v.maxStreamNearbyInFlight as number,
      maxConnections: v.maxConnections as number,
      maxConcurrentStreams: v.maxConcurrentStreams as number,
      httpRequestTimeoutMs: v.httpRequestTimeoutMs as number,
      maxWatches: v.maxWatches as number,
      maxWatchesPerConnection: v.maxWatchesPerConnection as number,
      watchMaxQueued: v.watchMaxQueued as number,
    }),
    watchNaive: v.watchNaive as boolean,
    shutdownGraceMs: v.shutdownGraceMs as number,
    security: Object.freeze({ tls: tlsCert && tlsKey ? Object.freeze({ certFile: tlsCert, keyFile: tlsKey }) : undefined, tokensFile }),
    cluster: clusterOptions(v, file_),
  };
  if (opts.instanceName === '') throw new ConfigError('--instance-name must not be empty');
  return Object.freeze(opts);
}

/** Loopback only: reachable from this machine alone. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function mustRead(path: string): void {
  try {
    readFileSync(path);
  } catch (e) {
    throw new ConfigError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function convert(s: Setting, src: Source): number | string | boolean {
  const { value, where } = src;
  if (s.kind === 'bool') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new ConfigError(`${where} must be true or false, not ${JSON.stringify(value)}`);
  }
  if (s.kind === 'string') {
    if (typeof value !== 'string') throw new ConfigError(`${where} must be a string, not ${JSON.stringify(value)}`);
    return value;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  const range = `${s.min ?? '-∞'}..${s.max ?? '∞'}`;
  if (!Number.isFinite(n) || (s.kind === 'int' && !Number.isInteger(n))) {
    throw new ConfigError(`${where} must be ${s.kind === 'int' ? 'an integer' : 'a number'} in ${range}, not ${JSON.stringify(value)}`);
  }
  if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) throw new ConfigError(`${where} = ${n} is out of range; use ${range}`);
  return n;
}

/** The configured instance name, or hostname:port once the gRPC port is bound. */
export function instanceName(opts: Options, boundGrpcPort: number): string {
  return opts.instanceName ?? `${hostname()}:${boundGrpcPort}`;
}

/** `ID` (a catalog entry) or `ID=PATH[,profile=P][,ttl=S][,snap=M]`. */
export function parseMapSpec(spec: string, where: string, base: string, catalog: () => MapEntry[]): MapEntry {
  const eq = spec.indexOf('=');
  if (eq < 0) {
    const id = spec.trim();
    const hit = catalog().find((m) => m.id === id);
    if (!hit)
      throw new ConfigError(
        `${where} ${spec}: no map "${id}" in the catalog (have ${catalog()
          .map((m) => m.id)
          .join(', ')}); or pass ${id}=PATH.osm.pbf`,
      );
    return { ...hit };
  }
  const id = spec.slice(0, eq);
  const [path, ...pairs] = spec.slice(eq + 1).split(',');
  if (!MAP_ID.test(id)) throw new ConfigError(`${where} ${spec}: map ID "${id}" must be lower-case letters, digits, "_", "-", "." (e.g. andorra-car)`);
  if (!path) throw new ConfigError(`${where} ${spec}: missing the OSM file after "="; e.g. --map ${id}=maps/monaco.osm.pbf`);
  const entry: MapEntry = { id, file: isAbsolute(path) ? path : resolve(base, path), profile: 'car', snapRadiusM: 200, ttlS: 300 };
  for (const p of pairs) {
    const [k, val, extra] = p.split('=');
    if (val === undefined || extra !== undefined) throw new ConfigError(`${where} ${spec}: "${p}" is not key=value; keys are profile, ttl, snap`);
    if (k === 'profile') {
      if (!profileNames().includes(val)) throw new ConfigError(`${where} ${spec}: unknown profile "${val}"; have ${profileNames().join(', ')}`);
      entry.profile = val;
    } else if (k === 'ttl') {
      const n = Number(val);
      if (!(Number.isFinite(n) && n > 0)) throw new ConfigError(`${where} ${spec}: ttl must be seconds above 0, not "${val}"`);
      entry.ttlS = n;
    } else if (k === 'snap') {
      const n = Number(val);
      if (!(Number.isFinite(n) && n > 0 && n <= 10_000)) throw new ConfigError(`${where} ${spec}: snap must be metres in (0, 10000], not "${val}"`);
      entry.snapRadiusM = n;
    } else {
      throw new ConfigError(`${where} ${spec}: unknown key "${k}"; keys are profile, ttl, snap`);
    }
  }
  return entry;
}

/** Parse `faros serve` flags; throws ConfigError on an unknown or malformed flag. */
export function parseServeFlags(argv: string[]): Record<string, string | string[] | boolean | undefined> {
  try {
    return parseArgs({ args: argv, options: SERVE_FLAGS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}; see faros serve --help`);
  }
}

function clusterOptions(v: Record<string, number | string | boolean | undefined>, file: (key: string) => string | undefined): ClusterOptions | undefined {
  const peers = v.peers as string | undefined,
    dns = v.discoveryDns as string | undefined;
  if (!peers && !dns) {
    for (const k of ['peerPort', 'peerTlsDir', 'clusterCa', 'peerCert', 'peerKey', 'advertise'])
      if (v[k] !== undefined) throw new ConfigError(`${SETTINGS.find((s) => s.key === k)!.flag} is a cluster option; give --peers or --discovery-dns too`);
    return undefined;
  }
  const grpcPort = v.grpcPort as number;
  const peerPort = (v.peerPort as number | undefined) ?? (grpcPort === 0 ? 0 : grpcPort + 1000);
  if (peerPort > 65535) throw new ConfigError(`--peer-port defaults to the gRPC port + 1000 = ${peerPort}, which is not a port; set --peer-port`);
  if (peerPort !== 0 && (peerPort === grpcPort || peerPort === v.httpPort))
    throw new ConfigError(`--peer-port ${peerPort} is already the gRPC or HTTP port; give the peer listener a port of its own`);
  const dir = file('peerTlsDir');
  const pick = (key: string, name: string): string => {
    const f = file(key) ?? (dir === undefined ? undefined : join(dir, name));
    if (f === undefined)
      throw new ConfigError(
        `cluster mode needs mutual TLS between instances: give --peer-tls-dir DIR (with ca.crt, tls.crt, tls.key; create them with: faros certs --out DIR --name HOST:PEERPORT), or --cluster-ca, --peer-cert and --peer-key`,
      );
    mustRead(f);
    return f;
  };
  const peerTls: PeerTls = Object.freeze({ caFile: pick('clusterCa', 'ca.crt'), certFile: pick('peerCert', 'tls.crt'), keyFile: pick('peerKey', 'tls.key') });
  const seeds = (peers ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  for (const s of seeds)
    if (!ADDRESS.test(s))
      throw new ConfigError(`--peers: "${s}" is not host:port; give the peer addresses of the instances, e.g. 10.0.0.5:51051,10.0.0.6:51051`);
  let dnsOpt: ClusterOptions['dns'];
  if (dns) {
    const m = /^([A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(dns);
    if (!m)
      throw new ConfigError(
        `--discovery-dns: "${dns}" is not NAME, NAME:PORT or an SRV name (e.g. faros-headless.default.svc.cluster.local:51051, or _peer._tcp.faros-headless.default.svc.cluster.local)`,
      );
    // SRV records carry each member's port.
    if (m[1]!.startsWith('_') && m[2] !== undefined)
      throw new ConfigError(`--discovery-dns: "${dns}" is an SRV name, whose records give the ports; drop ":${m[2]}"`);
    dnsOpt = { name: m[1]!, port: m[2] === undefined ? undefined : Number(m[2]) };
  }
  const advertise = v.advertise as string | undefined;
  if (advertise !== undefined && !ADDRESS.test(advertise)) throw new ConfigError(`--advertise: "${advertise}" is not host:port`);
  const probeIntervalMs = v.probeIntervalMs as number,
    probeTimeoutMs = v.probeTimeoutMs as number,
    suspectMs = v.suspectMs as number;
  if (suspectMs <= probeIntervalMs)
    throw new ConfigError(
      `--suspect-ms (${suspectMs}) must be longer than --probe-interval-ms (${probeIntervalMs}), or one slow probe would evict a healthy member`,
    );
  return Object.freeze({
    seeds: Object.freeze(seeds),
    dns: dnsOpt,
    peerPort,
    peerTls,
    advertise,
    replication: v.replication as number,
    probeIntervalMs,
    probeTimeoutMs,
    suspectMs,
    indirectProbes: v.indirectProbes as number,
    antiEntropyMs: v.antiEntropyMs as number,
    dropGraceMs: v.dropGraceMs as number,
    maxSnapshotPinMs: v.maxSnapshotPinMs as number,
  });
}

/** The address a cluster member is known by (its peer listener). */
export function advertiseAddress(c: ClusterOptions, peerPort: number): string {
  return c.advertise ?? `127.0.0.1:${peerPort}`;
}
