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

const USAGE = `faros — K nearest drivers by road over OpenStreetMap

Usage:
  faros serve [--config FILE] [--map ID=PATH[,profile=car,ttl=300,snap=200]]... [--grpc-port 50051] [--http-port 8080]   (faros serve --help)
  faros build-map --map FILE.osm.pbf --profile car --out FILE.faros
  faros cluster [--nodes 3] [--replication 2] [--grpc-port 50051] [--http-port 8080] [--sim-drivers 300] [--sim-map monaco-car] [-- serve options, e.g. --map ID=PATH --config FILE --workers 1]
  faros demo [--map-id andorra-car] [--drivers 10000] [--seed 1]
  faros token create --file TOKENS --name NAME --scopes update,query   (prints the token once; the file keeps its hash)
  faros certs --out DIR --name HOST:PEERPORT [--name ...]   (peer-port certificates with openssl: DIR/ca.crt, DIR/HOST_PORT/{ca.crt,tls.crt,tls.key})
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

function required(v: Record<string, string | boolean | undefined>, name: string): string {
  const x = v[name];
  if (typeof x !== 'string' || x === '') throw new UsageError(`missing --${name}`);
  return x;
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
      return runCluster({
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
