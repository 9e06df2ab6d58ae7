// `faros serve`: flags + env → Options → host → gRPC + HTTP servers → ready
// line → graceful shutdown on SIGTERM/SIGINT. Returns the exit code.
import { ConfigError, SERVE_USAGE, advertiseAddress, buildOptions, instanceName, parseServeFlags, type Options } from '../config.js';
import { ClusterHost } from '../node/cluster-host.js';
import { peerImplementation } from '../proxy/peer-service.js';
import { peerServiceDefinition } from '../proxy/peer-client.js';
import type { ExtraService } from '../api/server.js';
import { createLogger } from '../log.js';
import { Metrics } from '../metrics.js';
import { LocalHost } from '../node/local-host.js';
import { startApi } from '../api/server.js';
import { HostSlot } from '../api/host-slot.js';

export async function runServe(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let opts: Options;
  try {
    const flags = parseServeFlags(argv);
    if (flags.help) { process.stdout.write(`${SERVE_USAGE}\n`); return 0; }
    opts = buildOptions({ flags, env, cwd: process.cwd() });
  } catch (e) {
    if (e instanceof ConfigError) { process.stderr.write(`faros serve: ${e.message}\n`); return 2; }
    throw e;
  }
  const bootLog = createLogger(opts.logLevel);
  const t0 = Date.now();
  const slot = new HostSlot();
  const metrics = new Metrics(() => slot.maps());
  let servers: Awaited<ReturnType<typeof startApi>>;
  // The cluster's Peer service must be registered before binding, but its
  // host needs the bound port: route its calls through a late-bound holder.
  let cluster: ClusterHost | undefined;
  const extra: ExtraService[] = [];
  if (opts.cluster) {
    let peerImpl: ReturnType<typeof peerImplementation> | undefined;
    const impl = (name: string) => (...args: unknown[]) => {
      if (!cluster) {
        const starting = { code: 14, details: 'instance starting; retry shortly' };
        if (typeof args[1] === 'function') (args[1] as (e: unknown) => void)(starting);
        else (args[0] as { destroy(e: Error): void }).destroy(Object.assign(new Error(starting.details), starting));
        return;
      }
      peerImpl ??= peerImplementation(cluster);
      (peerImpl[name] as (...a: unknown[]) => void)(...args);
    };
    const names = ['applyRecords', 'applyUpdates', 'removeDrivers', 'getLocal', 'nearbyLocal', 'status', 'pullSnapshot'];
    extra.push({ definition: peerServiceDefinition(), implementation: Object.fromEntries(names.map((n) => [n, impl(n)])) });
  }
  try {
    servers = await startApi(opts, slot, metrics, bootLog, extra);
  } catch (e) {
    bootLog.error({ err: e }, 'cannot start the servers');
    process.stderr.write(`faros serve: cannot listen: ${(e as Error).message}; pick other ports with --grpc-port/--http-port (0 = any free port)\n`);
    metrics.close();
    return 1;
  }
  const name = opts.cluster ? advertiseAddress(opts.cluster, servers.grpcPort) : instanceName(opts, servers.grpcPort);
  bootLog.setBindings({ instance: name });
  const log = bootLog;
  log.info({ maps: opts.maps.map((m) => m.id), workers: opts.workers, searchThreads: opts.searchThreads, limits: opts.limits }, 'starting');
  // WATCH OUT: hosts report load progress only as text; "map ID ready in N ms"
  // is parsed for faros_map_load_seconds and a health refresh until the host has an event for it.
  const hostLog = (msg: string): void => {
    log.info({ component: 'host' }, msg);
    const m = /^map (\S+) ready in (\d+) ms$/.exec(msg);
    if (m) { metrics.setMapLoadSeconds(m[1]!, Number(m[2]) / 1000); servers.refreshHealth(); }
  };
  let host: LocalHost | ClusterHost;
  if (opts.cluster) {
    const c = opts.cluster;
    cluster = new ClusterHost({
      self: name, catalog: opts.maps, replication: c.replication, seeds: c.seeds,
      dns: c.dns ? { name: c.dns.name, port: c.dns.port ?? servers.grpcPort } : undefined,
      probeIntervalMs: c.probeIntervalMs, probeTimeoutMs: c.probeTimeoutMs, suspectMs: c.suspectMs, dropGraceMs: c.dropGraceMs,
      perTryTimeoutMs: 2000, workers: opts.workers, searchThreads: opts.searchThreads, cacheDir: opts.cacheDir, log: hostLog,
      onTransfer: (e) => metrics.observeTransfer(e.mapId, e.ok, e.records, e.ms / 1000),
      onStateChange: () => servers.refreshHealth(),
    });
    host = cluster;
    metrics.setClusterSource(() => ({ members: cluster!.membership.live().length, failovers: cluster!.stats.failovers, forwarded: cluster!.forwarder.stats }));
  } else {
    host = new LocalHost({ name, maps: [...opts.maps], cacheDir: opts.cacheDir, workers: opts.workers, searchThreads: opts.searchThreads, log: hostLog });
  }
  metrics.setWorkerQueueDepthSource(() => host.pool.queueSize);
  host.pool.onSearchPhases = (p) => metrics.observeNearbyPhases(p);
  metrics.setArenaSource(() => host.shardList().map((x) => ({ mapId: x.mapId, bytes: x.shard.store.arena.arenaBytes() })));
  servers.attach(host);
  log.info({ grpcPort: servers.grpcPort, httpPort: servers.httpPort }, 'listening; loading maps');

  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => { stop = resolve; });
  const onSignal = (sig: NodeJS.Signals): void => stop(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const loaded = host.start().then(() => 'loaded' as const, (e: unknown) => e as Error);
  const first = await Promise.race([loaded, stopped]);
  let code = 0;
  if (first instanceof Error) {
    log.error({ err: first }, 'loading maps failed');
    process.stderr.write(`faros serve: loading maps failed: ${first.message}\n`);
    code = 1;
  } else if (first === 'loaded') {
    servers.refreshHealth();
    const shown = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
    log.info({ ms: Date.now() - t0, grpcPort: servers.grpcPort, httpPort: servers.httpPort }, 'ready');
    process.stdout.write(`${JSON.stringify({ event: 'ready', grpcPort: servers.grpcPort, httpPort: servers.httpPort, maps: opts.maps.map((m) => m.id), instance: name })}\n`);
    process.stdout.write(`try: grpcurl -plaintext ${shown}:${servers.grpcPort} faros.v1.Faros/ListMaps\n`);
    process.stdout.write(`try: curl -s http://${shown}:${servers.httpPort}/v1/maps\n`);
    const sig = await stopped;
    log.info({ signal: sig, graceMs: opts.shutdownGraceMs }, 'shutting down');
  } else {
    log.info({ signal: first }, 'signal while loading; shutting down');
  }
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  await servers.shutdown(opts.shutdownGraceMs);
  await host.close();
  metrics.close();
  log.info('stopped');
  return code;
}
