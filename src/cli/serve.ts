// `faros serve`: flags + env → Options → host → gRPC + HTTP servers → ready
// line → graceful shutdown on SIGTERM/SIGINT. Returns the exit code.
import * as grpc from '@grpc/grpc-js';
import { ConfigError, SERVE_USAGE, advertiseAddress, buildOptions, instanceName, parseServeFlags, type Options } from '../config.js';
import { ClusterHost } from '../node/cluster-host.js';
import { peerImplementation } from '../proxy/peer-service.js';
import { PEER_MAX_MESSAGE_BYTES, peerServiceDefinition } from '../proxy/peer-client.js';
import { peerChannelCredentials, peerServerCredentials, readPeerTls, type PeerCredentials } from '../proxy/peer-tls.js';
import { InFlightGate } from '../api/context.js';
import { bindServer, serverOptions, shutdownServer } from '../api/grpc.js';
import { TokenStore } from '../api/tokens.js';
import { tolerantDefinition } from '../api/proto.js';
import { createLogger, type Logger } from '../log.js';
import { Metrics } from '../metrics.js';
import { LocalHost } from '../node/local-host.js';
import { startApi } from '../api/server.js';
import { HostSlot } from '../api/host-slot.js';

export async function runServe(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let opts: Options;
  try {
    const flags = parseServeFlags(argv);
    if (flags.help) {
      process.stdout.write(`${SERVE_USAGE}\n`);
      return 0;
    }
    opts = buildOptions({ flags, env, cwd: process.cwd() });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`faros serve: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let bootLog: Logger;
  try {
    bootLog = createLogger(opts.logLevel, {}, opts.logFile);
  } catch (e) {
    process.stderr.write(`faros serve: --log-file ${opts.logFile}: ${(e as Error).message}\n`);
    return 2;
  }
  installCrashHandlers(bootLog);
  const t0 = Date.now();
  let tokens: TokenStore | undefined;
  try {
    tokens = opts.security.tokensFile === undefined ? undefined : new TokenStore(opts.security.tokensFile);
  } catch (e) {
    process.stderr.write(`faros serve: --tokens: ${(e as Error).message}\n`);
    return 2;
  }
  const slot = new HostSlot();
  const metrics = new Metrics(() => slot.maps());
  metrics.tokens.set(tokens?.size ?? 0);
  let servers: Awaited<ReturnType<typeof startApi>>;
  try {
    servers = await startApi(opts, slot, metrics, bootLog, tokens);
  } catch (e) {
    bootLog.error({ err: e }, 'cannot start the servers');
    process.stderr.write(`faros serve: cannot listen: ${(e as Error).message}; pick other ports with --grpc-port/--http-port (0 = any free port)\n`);
    metrics.close();
    return 1;
  }
  // The Peer service has a listener of its own (mutual TLS), never the public port.
  // Its host needs the bound peer port (the instance name): calls are routed through a late-bound holder.
  let cluster: ClusterHost | undefined;
  let peer: { server: grpc.Server; port: number; credentials: PeerCredentials } | undefined;
  if (opts.cluster) {
    try {
      peer = await startPeerServer(
        opts,
        () => cluster,
        metrics,
        (msg) => bootLog.warn({ component: 'peer' }, msg),
      );
    } catch (e) {
      bootLog.error({ err: e }, 'cannot start the peer listener');
      process.stderr.write(
        `faros serve: cannot start the peer listener: ${(e as Error).message}; pick another --peer-port (0 = any free port) or check the --peer-tls-dir files\n`,
      );
      await servers.shutdown(0);
      metrics.close();
      return 1;
    }
  }
  const name = opts.cluster ? advertiseAddress(opts.cluster, peer!.port) : instanceName(opts, servers.grpcPort);
  bootLog.setBindings({ instance: name });
  const log = bootLog;
  log.info({ maps: opts.maps.map((m) => m.id), workers: opts.workers, searchThreads: opts.searchThreads, limits: opts.limits }, 'starting');
  const hostLog = (msg: string): void => {
    log.info({ component: 'host' }, msg);
  };
  const onMapReady = (mapId: string, ms: number): void => {
    metrics.setMapLoadSeconds(mapId, ms / 1000);
    servers.refreshHealth();
  };
  let host: LocalHost | ClusterHost;
  if (opts.cluster) {
    const c = opts.cluster;
    cluster = new ClusterHost({
      self: name,
      catalog: opts.maps,
      replication: c.replication,
      seeds: c.seeds,
      dns: c.dns ? { name: c.dns.name, port: c.dns.port ?? peer!.port } : undefined,
      probeIntervalMs: c.probeIntervalMs,
      probeTimeoutMs: c.probeTimeoutMs,
      suspectMs: c.suspectMs,
      indirectProbes: c.indirectProbes,
      antiEntropyMs: c.antiEntropyMs,
      dropGraceMs: c.dropGraceMs,
      perTryTimeoutMs: 2000,
      peerCredentials: peer!.credentials,
      workers: opts.workers,
      searchThreads: opts.searchThreads,
      inlineSearchMs: opts.inlineSearchMs,
      naiveWatches: opts.watchNaive,
      cacheDir: opts.cacheDir,
      log: hostLog,
      onMapReady,
      onTransfer: (e) => metrics.observeTransfer(e.mapId, e.ok, e.records, e.ms / 1000),
      onStateChange: () => servers.refreshHealth(),
    });
    host = cluster;
    metrics.setClusterSource(() => ({
      members: cluster!.membership.live().length,
      failovers: cluster!.router.stats.failovers,
      hedges: cluster!.router.stats.hedges,
      forwarded: cluster!.router.forwarder.stats,
      membership: { ...cluster!.membership.stats, indirectOnly: cluster!.membership.indirectOnly().length },
      clockSkews: cluster!.membership.clockSkews(),
      antiEntropy: cluster!.antiEntropy.stats,
    }));
  } else {
    host = new LocalHost({
      name,
      maps: [...opts.maps],
      cacheDir: opts.cacheDir,
      workers: opts.workers,
      searchThreads: opts.searchThreads,
      inlineSearchMs: opts.inlineSearchMs,
      naiveWatches: opts.watchNaive,
      log: hostLog,
      onMapReady,
    });
  }
  metrics.setWorkerQueueDepthSource(() => host.pool.queueSize);
  host.pool.onSearchPhases = (p) => metrics.observeNearbyPhases(p);
  metrics.setWatchSource(() => host.shardList().map((x) => ({ mapId: x.mapId, key: x.shard.key, ...x.shard.watchCounts })));
  metrics.setArenaSource(() => host.shardList().map((x) => ({ mapId: x.mapId, bytes: x.shard.store.arena.arenaBytes() })));
  metrics.setInternSource(() =>
    host.shardList().map((x) => {
      const s = x.shard.store.intern.stats();
      return { mapId: x.mapId, drivers: s.driversInUse, metasets: s.metasetsInUse, strings: s.stringsInUse };
    }),
  );
  servers.attach(host);
  log.info({ grpcPort: servers.grpcPort, httpPort: servers.httpPort }, 'listening; loading maps');

  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const onSignal = (sig: NodeJS.Signals): void => stop(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP: read the tokens file again; a broken file keeps the tokens in force.
  const onHup = (): void => {
    if (!tokens) {
      log.info('SIGHUP: no --tokens file to reload');
      return;
    }
    try {
      const n = tokens.reload();
      metrics.tokens.set(n);
      metrics.tokenReloads.inc({ result: 'ok' });
      log.info({ tokens: n, file: tokens.file }, 'tokens reloaded');
    } catch (e) {
      metrics.tokenReloads.inc({ result: 'failed' });
      log.error({ err: e, file: tokens.file }, 'tokens reload failed; the tokens loaded before stay in force');
    }
  };
  process.on('SIGHUP', onHup);

  const loaded = host.start().then(
    () => 'loaded' as const,
    (e: unknown) => e as Error,
  );
  const first = await Promise.race([loaded, stopped]);
  let code = 0;
  if (first instanceof Error) {
    log.error({ err: first }, 'loading maps failed');
    process.stderr.write(`faros serve: loading maps failed: ${first.message}\n`);
    code = 1;
  } else if (first === 'loaded') {
    servers.refreshHealth();
    const shown = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
    log.info(
      {
        ms: Date.now() - t0,
        grpcPort: servers.grpcPort,
        httpPort: servers.httpPort,
        peerPort: peer?.port,
        tls: opts.security.tls !== undefined,
        tokens: tokens !== undefined,
      },
      'ready',
    );
    process.stdout.write(
      `${JSON.stringify({ event: 'ready', grpcPort: servers.grpcPort, httpPort: servers.httpPort, peerPort: peer?.port, maps: opts.maps.map((m) => m.id), instance: name })}\n`,
    );
    const tls = opts.security.tls !== undefined;
    const auth = tokens ? ` -H 'authorization: Bearer <token>'` : '';
    process.stdout.write(`try: grpcurl ${tls ? '-insecure' : '-plaintext'}${auth} ${shown}:${servers.grpcPort} faros.v1.Faros/ListMaps\n`);
    process.stdout.write(`try: curl -s${tls ? 'k' : ''}${auth} ${tls ? 'https' : 'http'}://${shown}:${servers.httpPort}/v1/maps\n`);
    const sig = await stopped;
    log.info({ signal: sig, graceMs: opts.shutdownGraceMs }, 'shutting down');
  } else {
    log.info({ signal: first }, 'signal while loading; shutting down');
  }
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onHup);
  const closing = Promise.all([servers.shutdown(opts.shutdownGraceMs), peer ? shutdownServer(peer.server, opts.shutdownGraceMs) : undefined]);
  // Watches never finish by themselves: end them now (clients' ones were just ended by the API), not after the grace period.
  for (const { shard } of host.shardList()) shard.endWatches();
  await closing;
  await host.close();
  metrics.close();
  log.info('stopped');
  return code;
}

/**
 * The peer listener: faros.v1.Peer only, mutual TLS only, its own in-flight
 * gate. Calls before the cluster host exists are UNAVAILABLE.
 */
async function startPeerServer(opts: Options, cluster: () => ClusterHost | undefined, metrics: Metrics, log: (msg: string) => void) {
  const c = opts.cluster!;
  const pem = readPeerTls(c.peerTls);
  const server = new grpc.Server(serverOptions(opts.limits, PEER_MAX_MESSAGE_BYTES));
  const gate = new InFlightGate(opts.limits.maxInFlight, metrics, 'peer');
  let impl: grpc.UntypedServiceImplementation | undefined;
  const definition = tolerantDefinition(peerServiceDefinition());
  // Every method of the proto (camelCase, as peerImplementation names them).
  const methods = Object.values(definition).map((m) => m.originalName!);
  const late =
    (name: string) =>
    (call: { emit(event: 'error', e: unknown): void }, cb?: (e: unknown) => void): void => {
      const host = cluster();
      if (!host) {
        const starting = { code: grpc.status.UNAVAILABLE, details: 'instance starting; retry shortly' };
        if (cb) cb(starting);
        else call.emit('error', starting);
        return;
      }
      impl ??= peerImplementation({ host, gate, metrics, maxSnapshotPinMs: c.maxSnapshotPinMs, log });
      (impl[name] as (...a: unknown[]) => void)(call, cb);
    };
  server.addService(definition, Object.fromEntries(methods.map((n) => [n, late(n)])));
  const port = await bindServer(server, opts.host, c.peerPort, peerServerCredentials(pem));
  return { server, port, credentials: peerChannelCredentials(pem) };
}

/**
 * Every error that reaches the process is a bug (all input paths catch their
 * own): log it with its context and exit non-zero; a supervisor restarts the
 * instance and state transfer refills it.
 */
function installCrashHandlers(log: Logger): void {
  const die =
    (kind: string) =>
    (e: unknown): void => {
      log.fatal({ err: e, kind }, `${kind}: exiting`);
      process.stderr.write(`faros serve: ${kind}: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(70);
    };
  process.on('uncaughtException', die('uncaughtException'));
  process.on('unhandledRejection', die('unhandledRejection'));
}
