// `faros cluster`: a local cluster of real `faros serve` processes on
// 127.0.0.1, each knowing the others as seeds; stops them all on Ctrl-C.
// Instances authenticate each other with throwaway certificates (a CA made
// at start in a temporary directory, removed at stop).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClusterCerts } from './certs.js';
import { PeerClient } from '../proxy/peer-client.js';
import { peerChannelCredentials, readPeerTls } from '../proxy/peer-tls.js';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export interface ClusterCliOptions {
  nodes: number;
  replication: number;
  /** First gRPC / HTTP port (0 = free ports); peer ports are gRPC + 1000. */
  grpcPort: number;
  httpPort: number;
  /** Passed to every `faros serve` (e.g. --map, --config, --workers). */
  serveArgs: string[];
  log: (msg: string) => void;
  /**
   * The address instance i is known by (its --advertise, certificate name and
   * seed), given its peer port; default 127.0.0.1:peerPort. Fault tests put a
   * TCP proxy in front of the peer port this way, so the others reach the
   * instance only through it.
   */
  advertise?: (i: number, peerPort: number) => Promise<string>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
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
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const node: ClusterNode = { index: i, grpcPort: p.grpc, httpPort: p.http, peerPort: p.peer, address: `127.0.0.1:${p.grpc}`, peerAddress, tlsDir, child };
    nodes[i] = node;
    const tag = `[node${i} ${node.address}]`;
    return new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('{"event":"ready"')) resolve();
        else if (!line.startsWith('try:')) o.log(`${tag} ${line}`);
      });
      createInterface({ input: child.stderr! }).on('line', (line) => o.log(`${tag} ${line}`));
      child.on('exit', (code, sig) => {
        reject(new Error(`${tag} exited (${sig ?? code}) before it was ready`));
        if (!stopping && nodes[i] === node) {
          o.log(`${tag} exited (${sig ?? code})`);
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

export async function runCluster(o: ClusterCliOptions): Promise<number> {
  const c = await startCluster(o);
  process.stdout.write(`\nFaros cluster of ${o.nodes} instances on 127.0.0.1 (replication ${o.replication}); any instance answers any map:\n`);
  for (const n of c.nodes)
    process.stdout.write(
      `  node${n.index}: gRPC 127.0.0.1:${n.grpcPort}  HTTP http://127.0.0.1:${n.httpPort}  (peer port ${n.peerPort}: instances only, mutual TLS)\n`,
    );
  const n0 = c.nodes[0];
  process.stdout.write(`\ntry:\n  curl -s http://127.0.0.1:${n0.httpPort}/v1/maps\n`);
  process.stdout.write(
    `  curl -s -X POST http://127.0.0.1:${n0.httpPort}/v1/drivers:update -d '{"mapId":"andorra-car","driverId":"d1","location":{"lat":42.5078,"lng":1.5211},"metadata":{"status":"available"}}'\n`,
  );
  process.stdout.write(
    `  curl -s -X POST http://127.0.0.1:${c.nodes[c.nodes.length - 1].httpPort}/v1/nearby -d '{"mapId":"andorra-car","location":{"lat":42.5075,"lng":1.5218},"k":5}'\n`,
  );
  process.stdout.write(`  grpcurl -plaintext 127.0.0.1:${n0.grpcPort} faros.v1.Faros/ListMaps\n\nCtrl-C stops every instance.\n`);
  const sig = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    // A node that dies is reported (by its log) and the others keep serving: that is the point.
  });
  process.stdout.write(`\nstopping (${sig}) …\n`);
  await c.stop();
  return 0;
}
