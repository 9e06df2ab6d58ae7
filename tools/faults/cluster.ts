// A local cluster of real `faros serve` processes (src/cli/cluster.ts) with
// a fault proxy (./proxy.ts, in a child process) in front of every instance's peer port: each
// instance advertises its proxy's address, so the others reach it only
// through the proxy, and a test or benchmark can delay or cut one instance's
// links while it runs. Plus the views every fault scenario polls: each
// instance's route table and metrics.
import { startCluster, type RunningCluster } from '../../src/cli/cluster.js';
import { call, farosClient, type FarosClient } from './client.js';
import { startProxyProcess, type ProxyProcess, type RemoteProxy } from './proxy-process.js';
import { parseProm } from '../prom-text.js';

export interface FaultCluster {
  cluster: RunningCluster;
  /** proxies[i] is in front of instance i's peer port (its peer address is the proxy's); none with `proxies: false`. */
  proxies: RemoteProxy[];
  /** The current public client of each instance (replaced by restart()). */
  clients: FarosClient[];
  /** Instance i's route table as ListMaps reports it: map → replicas (sorted). */
  table(i: number, timeoutMs?: number): Promise<Map<string, string[]>>;
  /** Instance i's /metrics, parsed. */
  metrics(i: number, timeoutMs?: number): Promise<Map<string, number>>;
  /** Resolves once every instance lists every map on `replication` replicas, the same everywhere (among `among`). */
  agreed(timeoutMs: number, among?: number[]): Promise<Map<string, string[]>>;
  /** Start instance i again after it died (same ports, same proxy); a new client. */
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const tableKey = (t: Map<string, string[]>): string => JSON.stringify([...t].sort((a, b) => a[0].localeCompare(b[0])));

export async function startFaultCluster(o: {
  nodes: number;
  replication: number;
  serveArgs: string[];
  log: (msg: string) => void;
  /** Put a fault proxy in front of every peer port (default true). */
  proxies?: boolean;
}): Promise<FaultCluster> {
  const proxies: RemoteProxy[] = [];
  const proxyProcess: ProxyProcess | undefined = o.proxies === false ? undefined : await startProxyProcess();
  const cluster = await startCluster({
    nodes: o.nodes,
    replication: o.replication,
    grpcPort: 0,
    httpPort: 0,
    serveArgs: o.serveArgs,
    log: o.log,
    advertise:
      proxyProcess === undefined
        ? undefined
        : async (i, peerPort) => {
            const p = await proxyProcess.start({ host: '127.0.0.1', port: peerPort });
            proxies[i] = p;
            return p.address;
          },
  }).catch(async (e) => {
    await proxyProcess?.close();
    throw e;
  });
  const clients = cluster.nodes.map((n) => farosClient(n.address));
  const table = async (i: number, timeoutMs = 1000): Promise<Map<string, string[]>> => {
    const r = await call(clients[i], 'listMaps', {}, timeoutMs);
    return new Map((r.maps as { mapId: string; replicas: string[] }[]).map((m) => [m.mapId, [...m.replicas].sort()]));
  };
  const metrics = async (i: number, timeoutMs = 1000): Promise<Map<string, number>> => {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const res = await fetch(`http://127.0.0.1:${cluster.nodes[i]!.httpPort}/metrics`, { signal: ac.signal });
      return parseProm(await res.text());
    } finally {
      clearTimeout(t);
    }
  };
  return {
    cluster,
    proxies,
    clients,
    table,
    metrics,
    async agreed(timeoutMs, among = cluster.nodes.map((_, i) => i)) {
      const t0 = Date.now();
      let last = '';
      for (;;) {
        const ts = await Promise.all(among.map((i) => table(i).catch(() => undefined)));
        const keys = ts.map((t) => (t ? tableKey(t) : 'unanswered'));
        last = keys.join(' | ');
        if (ts[0] && new Set(keys).size === 1 && [...ts[0].values()].every((r) => r.length === o.replication)) return ts[0];
        if (Date.now() - t0 > timeoutMs) throw new Error(`route tables did not agree within ${timeoutMs} ms: ${last}`);
        await sleep(200);
      }
    },
    async restart(i) {
      await cluster.restart(i);
      clients[i]!.close();
      clients[i] = farosClient(cluster.nodes[i]!.address);
    },
    async stop() {
      for (const c of clients) c.close();
      for (const n of cluster.nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGCONT');
      await Promise.all(proxies.map((p) => p.set({ kind: 'pass' })));
      await cluster.stop();
      await proxyProcess?.close();
    },
  };
}
