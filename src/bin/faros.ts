#!/usr/bin/env node
// The `faros` command: flags → options → run. The only place (with the other
// mains) that reads process.argv / process.env and decides exit codes.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { runBuildMap } from '../cli/build-map.js';
import { runKnnCli } from '../cli/knn.js';
import { runDemo } from '../cli/demo.js';
import { runServe } from '../cli/serve.js';
import { runCluster } from '../cli/cluster.js';
import { profileNames } from '../mapbuild/profile.js';
import { createToken } from '../api/tokens.js';
import { makeClusterCerts } from '../cli/certs.js';
import { runRemote, type RemoteCommand, type RemoteOptions } from '../cli/remote.js';
import { readFileSync } from 'node:fs';

const USAGE = `faros — K nearest drivers by road over OpenStreetMap

Usage:
  faros serve [--config FILE] [--map ID=PATH[,profile=car,ttl=300,snap=200]]... [--grpc-port 50051] [--http-port 8080]   (faros serve --help)
  faros build-map --map FILE.osm.pbf --profile car --out FILE.faros
  faros cluster [--nodes 3] [--replication 2] [--grpc-port 50051] [--http-port 8080] [--log-format human|json] [--log-dir DIR] [--sim-drivers 300] [--sim-map monaco-car] [-- serve options, e.g. --map ID=PATH --config FILE --workers 1]
                (human: a few lines here, each instance's JSON logs in DIR/node<N>.log, default a new temporary directory; json: the JSON logs on stderr)
                (--sim-drivers: a simulated fleet on --sim-map for the live map page; 0 for none)
  faros demo [--map-id andorra-car] [--drivers 10000] [--seed 1]
  faros token create --file TOKENS --name NAME --scopes update,query   (prints the token once; the file keeps its hash)
  faros certs --out DIR --name HOST:PEERPORT [--name ...]   (peer-port certificates with openssl: DIR/ca.crt, DIR/HOST_PORT/{ca.crt,tls.crt,tls.key})
  faros maps [CONNECTION]                                        maps, drivers and replicas of a running cluster
  faros nearby [CONNECTION] --map ID --lat LAT --lng LNG [--k 10] [--metric distance|eta] [--max-distance-m M] [--max-eta-s S] [--filter KEY=VALUE]...
  faros driver get|remove [CONNECTION] --map ID --id DRIVER
  faros driver update [CONNECTION] --map ID --id DRIVER --lat LAT --lng LNG [--meta KEY=VALUE]...
                CONNECTION: [--target HOST:PORT]... (gRPC; default 127.0.0.1:50051) [--token-file FILE] (or env FAROS_TOKEN)
                            [--tls] [--tls-ca FILE] [--tls-server-name NAME] [--deadline-ms 5000] [--json]
  faros knn --map FILE.osm.pbf --profile car --drivers drivers.csv --queries queries.csv --out results.jsonl [--metric distance|eta] [--snap-radius 200]

Common options:
  --cache-dir DIR   where compiled maps are cached (default maps/.cache; env FAROS_CACHE_DIR)
  --quiet           no progress output
  -h, --help        this help

Profiles: ${profileNames().join(', ')}`;

class UsageError extends Error {}

const log = (quiet: boolean) => (msg: string) => {
  if (!quiet) process.stderr.write(`${msg}\n`);
};

function parse(args: string[], options: ParseArgsConfig['options']) {
  try {
    return parseArgs({
      args,
      options: { ...options, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, 'cache-dir': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const CONNECTION = {
  target: { type: 'string', multiple: true },
  'token-file': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-server-name': { type: 'string' },
  'deadline-ms': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Targets, token and TLS of an operator command, as the servers were started (--tokens, --tls-cert). */
function connection(v: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): RemoteOptions {
  const targets = ((v.target as unknown as string[] | undefined) ?? ['127.0.0.1:50051']).flatMap((t) => t.split(',')).filter(Boolean);
  for (const t of targets)
    if (!/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(t))
      throw new UsageError(`--target "${t}" is not HOST:PORT (the gRPC port, e.g. 127.0.0.1:50051)`);
  let token = env.FAROS_TOKEN?.trim() || undefined;
  if (v['token-file']) {
    try {
      token = readFileSync(v['token-file'] as string, 'utf8').trim();
    } catch (e) {
      throw new UsageError(`--token-file: ${(e as Error).message}`);
    }
    if (!token) throw new UsageError(`--token-file ${v['token-file']} is empty; put the token printed by "faros token create" in it`);
  }
  let tls: RemoteOptions['tls'];
  if (v['tls-ca'] || v['tls-server-name']) {
    let ca: Buffer | undefined;
    try {
      ca = v['tls-ca'] ? readFileSync(v['tls-ca'] as string) : undefined;
    } catch (e) {
      throw new UsageError(`--tls-ca: ${(e as Error).message}`);
    }
    tls = { ca, serverName: v['tls-server-name'] as string | undefined };
  } else if (v.tls) tls = true;
  const deadlineMs = number(v, 'deadline-ms', 5000, 1, 600_000);
  return { targets, token, tls, deadlineMs, json: !!v.json };
}

function number(v: Record<string, string | boolean | undefined>, name: string, def: number | undefined, min: number, max: number): number {
  const raw = v[name];
  if (raw === undefined) {
    if (def === undefined) throw new UsageError(`missing --${name}`);
    return def;
  }
  const x = Number(raw);
  if (raw === '' || !Number.isFinite(x) || x < min || x > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, not "${raw}"`);
  return x;
}

/** Repeated KEY=VALUE flags as a record. */
function pairs(v: Record<string, string | boolean | undefined>, name: string): Record<string, string> | undefined {
  const list = v[name] as unknown as string[] | undefined;
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const p of list) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--${name} "${p}" is not KEY=VALUE`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

async function remote(cmd: RemoteCommand, v: Record<string, string | boolean | undefined>): Promise<number> {
  process.stdout.write(await runRemote(cmd, connection(v, process.env)));
  return 0;
}

function required(v: Record<string, string | boolean | undefined>, name: string): string {
  const x = v[name];
  if (typeof x !== 'string' || x === '') throw new UsageError(`missing --${name}`);
  return x;
}

function usage(): number {
  process.stdout.write(`${USAGE}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  // The server owns its flags, environment and exit code.
  if (cmd === 'serve') return runServe(rest, process.env);
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return cmd === undefined ? 2 : 0;
  }
  switch (cmd) {
    case 'build-map': {
      const v = parse(rest, { map: { type: 'string' }, profile: { type: 'string' }, out: { type: 'string' } });
      if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      await runBuildMap({ map: required(v, 'map'), profile: (v.profile as string) ?? 'car', out: required(v, 'out'), log: log(!!v.quiet) });
      return 0;
    }
    case 'knn': {
      const v = parse(rest, {
        map: { type: 'string' },
        profile: { type: 'string' },
        drivers: { type: 'string' },
        queries: { type: 'string' },
        out: { type: 'string' },
        metric: { type: 'string' },
        'snap-radius': { type: 'string' },
      });
      if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      const metric = (v.metric as string | undefined) ?? 'distance';
      if (metric !== 'distance' && metric !== 'eta') throw new UsageError(`--metric must be "distance" or "eta", not "${metric}"`);
      const radius = v['snap-radius'] === undefined ? undefined : Number(v['snap-radius']);
      if (radius !== undefined && !(radius > 0 && radius <= 10_000))
        throw new UsageError(`--snap-radius must be a number of metres in (0, 10000], not "${v['snap-radius']}"`);
      const r = await runKnnCli({
        map: required(v, 'map'),
        profile: (v.profile as string) ?? 'car',
        drivers: required(v, 'drivers'),
        queries: required(v, 'queries'),
        out: required(v, 'out'),
        metric,
        snapRadiusM: radius,
        cacheDir: (v['cache-dir'] as string) ?? process.env.FAROS_CACHE_DIR,
        log: log(!!v.quiet),
      });
      log(!!v.quiet)(`answered ${r.queries} queries (${r.unsnappedQueries} did not snap) into ${v.out}`);
      return 0;
    }
    case 'cluster': {
      // Everything after "--" (and --map/--config/--workers) goes to each `faros serve`.
      const dd = rest.indexOf('--');
      const own = dd >= 0 ? rest.slice(0, dd) : rest;
      const v = parse(own, {
        nodes: { type: 'string' },
        replication: { type: 'string' },
        'grpc-port': { type: 'string' },
        'http-port': { type: 'string' },
        map: { type: 'string', multiple: true },
        config: { type: 'string' },
        workers: { type: 'string' },
        'log-format': { type: 'string' },
        'log-dir': { type: 'string' },
        'sim-drivers': { type: 'string' },
        'sim-map': { type: 'string' },
      });
      if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      const int = (name: string, def: number, min: number, max: number): number => {
        const x = v[name] === undefined ? def : Number(v[name]);
        if (!Number.isInteger(x) || x < min || x > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
        return x;
      };
      const serveArgs = [...(dd >= 0 ? rest.slice(dd + 1) : [])];
      for (const m of (v.map as unknown as string[] | undefined) ?? []) serveArgs.push('--map', m);
      if (v.config) serveArgs.push('--config', v.config as string);
      serveArgs.push('--workers', String(int('workers', 1, 1, 64)));
      if (v['cache-dir']) serveArgs.push('--cache-dir', v['cache-dir'] as string);
      const logFormat = (v['log-format'] as string | undefined) ?? 'human';
      if (logFormat !== 'human' && logFormat !== 'json') throw new UsageError(`--log-format must be "human" or "json", not "${logFormat}"`);
      if (logFormat === 'json' && v['log-dir']) throw new UsageError('--log-dir is for --log-format human (the JSON logs go to files there); drop one of them');
      return runCluster({
        logFormat,
        logDir: v['log-dir'] as string | undefined,
        nodes: int('nodes', 3, 1, 32),
        replication: int('replication', 2, 1, 16),
        grpcPort: int('grpc-port', 50051, 0, 65535),
        httpPort: int('http-port', 8080, 0, 65535),
        serveArgs,
        log: log(!!v.quiet),
        simDrivers: int('sim-drivers', 300, 0, 10_000),
        simMap: v['sim-map'] as string | undefined,
        cacheDir: (v['cache-dir'] as string) ?? process.env.FAROS_CACHE_DIR,
      });
    }
    case 'token': {
      const [sub, ...args] = rest;
      if (sub !== 'create') throw new UsageError('usage: faros token create --file TOKENS --name NAME --scopes update,query');
      const v = parse(args, { file: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'string' } });
      if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      const token = createToken(
        required(v, 'file'),
        required(v, 'name'),
        required(v, 'scopes')
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      );
      process.stdout.write(`${token}\n`);
      log(!!v.quiet)(
        `token "${v.name}" added to ${v.file} (only its SHA-256 is stored; this is the one time it is shown). Send it as "authorization: Bearer <token>"; send SIGHUP to running servers to load it.`,
      );
      return 0;
    }
    case 'certs': {
      const v = parse(rest, { out: { type: 'string' }, name: { type: 'string', multiple: true } });
      if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      const names = (v.name as unknown as string[] | undefined) ?? [];
      if (names.length === 0) throw new UsageError("give at least one --name HOST:PEERPORT (each instance's advertised peer address)");
      const dirs = await makeClusterCerts(required(v, 'out'), names);
      for (const [name, dir] of dirs) log(!!v.quiet)(`${name}: ${dir} (ca.crt, tls.crt, tls.key) → faros serve --peer-tls-dir ${dir} --advertise ${name}`);
      return 0;
    }
    case 'demo': {
      const v = parse(rest, { 'map-id': { type: 'string' }, drivers: { type: 'string' }, seed: { type: 'string' } });
      if (v.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      const drivers = Number(v.drivers ?? 10_000),
        seed = Number(v.seed ?? 1);
      if (!Number.isInteger(drivers) || drivers < 1 || drivers > 1_000_000) throw new UsageError('--drivers must be an integer from 1 to 1000000');
      if (!Number.isInteger(seed)) throw new UsageError('--seed must be an integer');
      await runDemo({ mapId: (v['map-id'] as string) ?? 'andorra-car', drivers, seed, log: log(!!v.quiet) });
      return 0;
    }
    case 'maps': {
      const v = parse(rest, CONNECTION);
      if (v.help) return usage();
      return remote({ cmd: 'maps' }, v);
    }
    case 'nearby': {
      const v = parse(rest, {
        ...CONNECTION,
        map: { type: 'string' },
        lat: { type: 'string' },
        lng: { type: 'string' },
        k: { type: 'string' },
        metric: { type: 'string' },
        'max-distance-m': { type: 'string' },
        'max-eta-s': { type: 'string' },
        filter: { type: 'string', multiple: true },
      });
      if (v.help) return usage();
      const metric = v.metric as string | undefined;
      if (metric !== undefined && metric !== 'distance' && metric !== 'eta') throw new UsageError(`--metric must be "distance" or "eta", not "${metric}"`);
      const k = v.k === undefined ? undefined : number(v, 'k', undefined, 1, 1000);
      if (k !== undefined && !Number.isInteger(k)) throw new UsageError(`--k must be an integer from 1 to 1000, not "${v.k}"`);
      return remote(
        {
          cmd: 'nearby',
          mapId: required(v, 'map'),
          lat: number(v, 'lat', undefined, -90, 90),
          lng: number(v, 'lng', undefined, -180, 180),
          k,
          metric: metric === 'eta' ? 'METRIC_ETA' : metric === 'distance' ? 'METRIC_DISTANCE' : undefined,
          maxDistanceM: v['max-distance-m'] === undefined ? undefined : number(v, 'max-distance-m', undefined, 0, 100_000),
          maxEtaS: v['max-eta-s'] === undefined ? undefined : number(v, 'max-eta-s', undefined, 0, 7200),
          filter: pairs(v, 'filter'),
        },
        v,
      );
    }
    case 'driver': {
      const [sub, ...args] = rest;
      if (sub !== 'get' && sub !== 'remove' && sub !== 'update')
        throw new UsageError('usage: faros driver get|remove|update --map ID --id DRIVER ... (faros --help)');
      const v = parse(args, {
        ...CONNECTION,
        map: { type: 'string' },
        id: { type: 'string' },
        ...(sub === 'update' ? { lat: { type: 'string' }, lng: { type: 'string' }, meta: { type: 'string', multiple: true } } : {}),
      });
      if (v.help) return usage();
      const mapId = required(v, 'map'),
        driverId = required(v, 'id');
      if (sub !== 'update') return remote({ cmd: `driver ${sub}`, mapId, driverId }, v);
      return remote(
        {
          cmd: 'driver update',
          mapId,
          driverId,
          lat: number(v, 'lat', undefined, -90, 90),
          lng: number(v, 'lng', undefined, -180, 180),
          metadata: pairs(v, 'meta'),
        },
        v,
      );
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`faros: ${e.message}\nRun "faros --help" for usage.\n`);
      process.exitCode = 2;
    } else {
      // Expected failures (bad input, bad map) carry a clear message; a stack
      // trace is only shown when FAROS_DEBUG is set.
      process.stderr.write(`faros: ${e instanceof Error ? e.message : String(e)}\n`);
      if (process.env.FAROS_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = 1;
    }
  },
);
