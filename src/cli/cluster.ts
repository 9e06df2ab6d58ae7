// `faros cluster`: a local cluster of real `faros serve` processes on
// 127.0.0.1, each knowing the others as seeds; stops them all on Ctrl-C.
// Instances authenticate each other with throwaway certificates (a CA made
// at start in a temporary directory, removed at stop). The console gets a few
// human lines; each instance's JSON logs go to a file of its own (or, with
// --log-format json, to the console).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { makeClusterCerts } from './certs.js';
import { PeerClient } from '../proxy/peer-client.js';
import { peerChannelCredentials, readPeerTls } from '../proxy/peer-tls.js';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { loadMap } from '../mapbuild/build.js';
import { loadCatalog } from '../mapbuild/catalog.js';
import { runSimFleet } from './fleet.js';

export interface ClusterCliOptions {
  nodes: number;
  replication: number;
  /** First gRPC / HTTP port (0 = free ports); peer ports are gRPC + 1000. */
  grpcPort: number;
  httpPort: number;
  /** Passed to every `faros serve` (e.g. --map, --config, --workers). */
  serveArgs: string[];
  /** Cluster events, and instance output lines tagged with the instance (unless onLine takes them). */
  log: (msg: string) => void;
  /** Each instance appends its JSON logs to DIR/node<i>.log (`faros serve --log-file`). */
  logDir?: string;
  /** Takes the instances' output lines untagged instead of `log`. */
  onLine?: (node: number, line: string) => void;
  /** runCluster: simulated drivers sent to the cluster (0 = none) and their map. */
  simDrivers?: number;
  simMap?: string;
  /** Compiled map cache (the simulator loads its map's graph). */
  cacheDir?: string;
  /**
   * The address instance i is known by (its --advertise, certificate name and
   * seed), given its peer port; default 127.0.0.1:peerPort. Fault tests put a
   * TCP proxy in front of the peer port this way, so the others reach the
   * instance only through it.
   */
  advertise?: (i: number, peerPort: number) => Promise<string>;
}

/**
 * A port free now for an instance to listen on. Drawn below the kernel's
 * ephemeral range: a port the kernel handed out (port 0) could go to another
 * instance's outgoing connection before this one binds it.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 50 && low > 11_000; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (await canListen(port)) return port;
  }
  return listenOn(0);
}

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 0;
  } catch {
    return 0;
  }
}

function canListen(port: number): Promise<boolean> {
  return listenOn(port).then(
    () => true,
    () => false,
  );
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export interface ClusterNode {
  index: number;
  grpcPort: number;
  httpPort: number;
  peerPort: number;
  /** Public gRPC address (clients). */
  address: string;
  /** Peer address: the instance's name in the cluster (replicas, served_by). */
  peerAddress: string;
  /** This instance's ca.crt, tls.crt, tls.key. */
  tlsDir: string;
  /** Where its JSON logs go (with logDir). */
  logFile: string | undefined;
  /** The maps it was started with (its ready line). */
  maps: string[];
  child: ChildProcess;
}

/** Start the nodes; resolves once every node printed its ready line. */
export interface RunningCluster {
  nodes: ClusterNode[];
  stop: () => Promise<void>;
  /** Resolves with the exit code of the first node that exits on its own. */
  exited: Promise<number>;
  /** Start node i again (same ports) after it died; resolves when it is ready. */
  restart: (i: number) => Promise<void>;
  /** The throwaway CA (ca.crt, ca.key) and instance certificates. */
  certsDir: string;
  /** A Peer client of `address`, authenticated as node `as` (tests, benchmarks). */
  peerClient: (address: string, as?: number) => PeerClient;
}

export async function startCluster(o: ClusterCliOptions): Promise<RunningCluster> {
  const bin = fileURLToPath(new URL('../bin/faros.js', import.meta.url));
  const ports: { grpc: number; http: number; peer: number }[] = [];
  for (let i = 0; i < o.nodes; i++) {
    ports.push({
      grpc: o.grpcPort ? o.grpcPort + i : await freePort(),
      http: o.httpPort ? o.httpPort + i : await freePort(),
      peer: o.grpcPort ? o.grpcPort + 1000 + i : await freePort(),
    });
  }
  const peerAddresses: string[] = [];
  for (const [i, p] of ports.entries()) peerAddresses.push(o.advertise ? await o.advertise(i, p.peer) : `127.0.0.1:${p.peer}`);
  const certsDir = mkdtempSync(join(tmpdir(), 'faros-cluster-certs-'));
  let tlsDirs: Map<string, string>;
  try {
    tlsDirs = await makeClusterCerts(certsDir, peerAddresses);
  } catch (e) {
    rmSync(certsDir, { recursive: true, force: true });
    throw e;
  }
  const seeds = peerAddresses.join(',');
  const nodes: ClusterNode[] = [];
  const ready: Promise<void>[] = [];
  let stopping = false;
  let firstExit!: (code: number) => void;
  const exited = new Promise<number>((r) => {
    firstExit = r;
  });
  const launch = (i: number): Promise<void> => {
    const p = ports[i];
    const peerAddress = peerAddresses[i]!,
      tlsDir = tlsDirs.get(peerAddress)!;
    const args = [
      bin,
      'serve',
      '--host',
      '127.0.0.1',
      '--grpc-port',
      String(p.grpc),
      '--http-port',
      String(p.http),
      '--peer-port',
      String(p.peer),
      '--peers',
      seeds,
      '--advertise',
      peerAddress,
      '--peer-tls-dir',
      tlsDir,
      '--replication',
      String(o.replication),
      ...o.serveArgs,
    ];
    const logFile = o.logDir === undefined ? undefined : join(o.logDir, `node${i}.log`);
    if (logFile) args.push('--log-file', logFile);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const node: ClusterNode = {
      index: i,
      grpcPort: p.grpc,
      httpPort: p.http,
      peerPort: p.peer,
      address: `127.0.0.1:${p.grpc}`,
      peerAddress,
      tlsDir,
      logFile,
      maps: [],
      child,
    };
    nodes[i] = node;
    const tag = `[node${i} ${node.address}]`;
    // The last line it wrote, for the error when it dies before it is ready (the caller may keep its log lines).
    let lastLine = '';
    const out = (line: string): void => {
      lastLine = line;
      if (o.onLine) o.onLine(i, line);
      else o.log(`${tag} ${line}`);
    };
    return new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('{"event":"ready"')) {
          node.maps = (JSON.parse(line) as { maps: string[] }).maps;
          resolve();
        } else if (!line.startsWith('try:')) out(line);
      });
      // With logDir only what `faros serve` says outside its log (a fatal error) comes here.
      createInterface({ input: child.stderr! }).on('line', out);
      child.on('exit', (code, sig) => {
        const said = lastLine ? `; its last line: ${lastLine.slice(0, 500)}` : '';
        reject(new Error(`${tag} exited (${sig ?? code}) before it was ready${said}${logFile ? `; its log: ${logFile}` : ''}`));
        if (!stopping && nodes[i] === node) {
          o.log(`${tag} exited (${sig ?? code})${logFile ? `; its log: ${logFile}` : ''}`);
          firstExit(code ?? 1);
        }
      });
    });
  };
  for (let i = 0; i < o.nodes; i++) ready.push(launch(i));
  const stop = async (): Promise<void> => {
    stopping = true;
    await Promise.all(
      nodes.map(
        (n) =>
          new Promise<void>((resolve) => {
            if (n.child.exitCode !== null || n.child.signalCode !== null) {
              resolve();
              return;
            }
            n.child.once('exit', () => resolve());
            n.child.kill('SIGTERM');
            setTimeout(() => n.child.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    );
    rmSync(certsDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ready);
  } catch (e) {
    await stop();
    throw e;
  }
  const peerClient = (address: string, as = 0): PeerClient => {
    const dir = nodes[as]!.tlsDir;
    return new PeerClient(
      address,
      peerChannelCredentials(readPeerTls({ caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') })),
    );
  };
  return { nodes, stop, exited, restart: (i) => launch(i), certsDir, peerClient };
}

export interface RunClusterOptions extends Omit<ClusterCliOptions, 'logDir' | 'onLine'> {
  /** human: a few lines here, JSON logs in files under logDir (default: a new temporary directory); json: the JSON logs here. */
  logFormat: 'human' | 'json';
  logDir?: string;
}

/** `faros cluster`: start, print where everything is, wait for Ctrl-C. */
export async function runCluster(o: RunClusterOptions): Promise<number> {
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const human = o.logFormat === 'human';
  const logDir = human ? resolvePath(o.logDir ?? mkdtempSync(join(tmpdir(), 'faros-logs-'))) : undefined;
  if (logDir) mkdirSync(logDir, { recursive: true });
  const t0 = Date.now();
  out(
    `Starting ${o.nodes} Faros instances on 127.0.0.1 (replication ${o.replication}); ${
      logDir ? `their JSON logs: ${join(logDir, 'node<N>.log')} (--log-format json: on the console instead)` : 'their JSON logs follow on stderr'
    }`,
  );
  const c = await startCluster({
    ...o,
    logDir,
    // JSON mode: each line as the instance wrote it (its "instance" field says which).
    onLine: human ? undefined : (_i, line) => process.stderr.write(`${line}\n`),
  });
  const health = await settle(c, o.replication);
  out(`Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Any instance answers any map; ${health.summary}:`);
  for (const n of c.nodes) {
    const held = health.serving.get(n.index) ?? [];
    out(
      `  node${n.index}  gRPC 127.0.0.1:${n.grpcPort}  HTTP http://127.0.0.1:${n.httpPort}  holds ${held.length ? held.join(', ') : 'no map'}${n.logFile ? `  log ${n.logFile}` : ''}`,
    );
  }
  const first = c.nodes[0]!,
    last = c.nodes[c.nodes.length - 1]!;
  out(`  (peer ports ${c.nodes.map((n) => n.peerPort).join(', ')}: instances only, mutual TLS with a throwaway CA)`);
  out('Try:');
  out(`  curl -s http://127.0.0.1:${first.httpPort}/v1/maps`);
  const ex = EXAMPLES.find((x) => health.maps.includes(x.mapId));
  if (ex) {
    const at = (p: { lat: number; lng: number }) => `"location":{"lat":${p.lat},"lng":${p.lng}}`;
    out(
      `  curl -s -X POST http://127.0.0.1:${first.httpPort}/v1/drivers:update -d '{"mapId":"${ex.mapId}","driverId":"d1",${at(ex.driver)},"metadata":{"status":"available"}}'`,
    );
    out(`  curl -s -X POST http://127.0.0.1:${last.httpPort}/v1/nearby -d '{"mapId":"${ex.mapId}",${at(ex.pickup)},"k":5}'`);
  }
  out(`  grpcurl -plaintext 127.0.0.1:${first.grpcPort} faros.v1.Faros/ListMaps`);
  if (ex) out(`  npx faros nearby --target 127.0.0.1:${first.grpcPort} --map ${ex.mapId} --lat ${ex.pickup.lat} --lng ${ex.pickup.lng}`);
  const sim = await startSim(c, o).catch((e: Error) => {
    out(`simulated fleet not started: ${e.message}`);
    return undefined;
  });
  if (sim) out(`Live map: ${sim.url}  (${sim.drivers} simulated drivers on ${sim.mapId}; --sim-drivers 0 for none)`);
  // Listen before saying so: a signal sent as soon as the line is read must not find the default handler.
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  out('Ctrl-C stops every instance.');
  // A node that dies is reported (with its log file) and the others keep serving: that is the point.
  const sig = await signalled;
  out(`Stopping (${sig}) …`);
  sim?.stop();
  await c.stop();
  if (logDir) out(`Stopped. The logs stay in ${logDir}`);
  return 0;
}

/** Points on the roads of bundled maps, for the printed examples (the first map served wins). */
const EXAMPLES = [
  { mapId: 'andorra-car', driver: { lat: 42.5078, lng: 1.5211 }, pickup: { lat: 42.5075, lng: 1.5218 } },
  { mapId: 'monaco-car', driver: { lat: 43.7381, lng: 7.4249 }, pickup: { lat: 43.7384, lng: 7.4246 } },
  { mapId: 'bayfront_singapore-car', driver: { lat: 1.281, lng: 103.86 }, pickup: { lat: 1.2805, lng: 103.8595 } },
];

/**
 * Wait (up to 15 s) until every map is served by its replicas and none is
 * loading, as the instances report it over the peer port; then who holds what.
 */
async function settle(c: RunningCluster, replication: number): Promise<{ maps: string[]; serving: Map<number, string[]>; summary: string }> {
  const maps = [...new Set(c.nodes.flatMap((n) => n.maps))].sort();
  const want = Math.min(replication, c.nodes.length);
  const clients = c.nodes.map((n) => c.peerClient(n.peerAddress, n.index));
  const deadline = Date.now() + 15_000;
  let serving = new Map<number, string[]>();
  let settled = false;
  try {
    while (!settled && Date.now() < deadline) {
      const st = await Promise.all(clients.map((p) => p.status(1000).catch(() => undefined)));
      serving = new Map(
        st.map((x, i) => [
          i,
          (x?.maps ?? [])
            .filter((m) => m.state === 'SERVING')
            .map((m) => m.mapId)
            .sort(),
        ]),
      );
      const busy = st.some((x) => x === undefined || x.maps.some((m) => m.state === 'LOADING' || m.state === 'TRANSFERRING'));
      settled = !busy && maps.every((id) => [...serving.values()].filter((held) => held.includes(id)).length === want);
      if (!settled) await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    for (const p of clients) p.close();
  }
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const summary = settled
    ? `${plural(maps.length, 'map')}, each on ${plural(want, 'instance')}`
    : `${plural(maps.length, 'map')}, replicas still settling (see the logs)`;
  return { maps, serving, summary };
}

/**
 * Drive a simulated fleet on one catalog map through node 0; the map page
 * URL is that of an instance holding a replica (only those show drivers live).
 */
async function startSim(c: RunningCluster, o: ClusterCliOptions): Promise<{ url: string; mapId: string; drivers: number; stop: () => void } | undefined> {
  const drivers = o.simDrivers ?? 300;
  if (drivers === 0) return undefined;
  const n0 = c.nodes[0];
  const res = await fetch(`http://127.0.0.1:${n0.httpPort}/v1/maps`);
  const served = ((await res.json()) as { maps: { mapId: string; replicas: string[] }[] }).maps;
  const catalog = loadCatalog();
  const want = o.simMap ?? 'monaco-car';
  const info = served.find((m) => m.mapId === want) ?? (o.simMap ? undefined : served.find((m) => catalog.some((e) => e.id === m.mapId)));
  const entry = info && catalog.find((e) => e.id === info.mapId);
  if (!info || !entry) throw new Error(`map ${want} is not a catalog map this cluster serves`);
  const graph = await loadMap(entry.file, entry.profile, { shared: false, cacheDir: o.cacheDir });
  const holder = c.nodes.find((n) => info.replicas.includes(n.peerAddress)) ?? n0;
  const fleet = runSimFleet({ baseUrl: `http://127.0.0.1:${n0.httpPort}`, mapId: info.mapId, graph, drivers, onError: o.log });
  return { url: `http://127.0.0.1:${holder.httpPort}/?map=${info.mapId}`, mapId: info.mapId, drivers, stop: fleet.stop };
}
