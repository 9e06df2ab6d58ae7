// Both edges over one service: what serve.ts starts and stops.
import type { Options } from '../config.js';
import { RequestLogSampler, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ShardHost } from '../node/host.js';
import { InFlightGate } from './context.js';
import { GrpcServer } from './grpc.js';
import { HttpGateway } from './http.js';
import { MapPage } from '../web/map-page.js';
import { FarosService } from './service.js';
import type { HostSlot } from './host-slot.js';
import type { TokenStore } from './tokens.js';
import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';
import { FarosError } from '../errors.js';

export interface ApiServers {
  /** Serve this host (until then calls are UNAVAILABLE). */
  attach(host: ShardHost): void;
  grpcPort: number;
  httpPort: number;
  /** Refresh health (overall and per map) from the host. */
  refreshHealth(): void;
  /** Stop accepting, finish in-flight calls within graceMs. */
  shutdown(graceMs: number): Promise<void>;
}

export async function startApi(opts: Options, host: HostSlot, metrics: Metrics, log: Logger, tokens: TokenStore | undefined): Promise<ApiServers> {
  // One gate per port, so neither protocol can take the other's capacity.
  const grpcGate = new InFlightGate(opts.limits.maxInFlight, metrics, 'grpc');
  const httpGate = new InFlightGate(opts.limits.maxInFlight, metrics, 'http');
  const sampler = new RequestLogSampler(opts.logSampleRate);
  const service = new FarosService(host, opts.limits, metrics, new Map(opts.maps.map((m) => [m.id, m.ttlS * 1000])), opts.writeAck);
  for (const m of opts.maps) metrics.forMap(m.id);
  const tlsFiles = opts.security.tls;
  const tls = tlsFiles ? { cert: readFileSync(tlsFiles.certFile), key: readFileSync(tlsFiles.keyFile) } : undefined;
  const grpc = new GrpcServer(
    { service, gate: grpcGate, metrics, log, sampler, limits: opts.limits, tokens },
    opts.maps.map((m) => m.id),
  );
  const mapPage = new MapPage({ host, maps: opts.maps, cacheDir: opts.cacheDir, metrics });
  const http = new HttpGateway({ service, host, gate: httpGate, metrics, log, sampler, limits: opts.limits, tokens, tls, mapPage });
  const creds = tls ? ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false) : ServerCredentials.createInsecure();
  const grpcPort = await grpc.bind(opts.host, opts.grpcPort, creds);
  let httpPort: number;
  try {
    httpPort = await http.listen(opts.host, opts.httpPort);
  } catch (e) {
    grpc.server.forceShutdown();
    throw e;
  }
  let stopping = false;
  const refreshHealth = (): void => {
    for (const m of opts.maps) {
      let ok = !stopping;
      if (ok) {
        try {
          host.checkMap(m.id);
        } catch {
          ok = false;
        }
      } // UNAVAILABLE while loading
      grpc.setServing(m.id, ok);
      metrics.setMapReady(m.id, ok);
    }
    const ready = !stopping && host.ready();
    grpc.setServing('', ready);
    grpc.setServing('faros.v1.Faros', ready);
  };
  refreshHealth();
  return {
    grpcPort,
    httpPort,
    refreshHealth,
    attach(h: ShardHost) {
      host.attach(h);
      refreshHealth();
    },
    async shutdown(graceMs: number) {
      stopping = true;
      service.endWatches(new FarosError('UNAVAILABLE', 'this instance is shutting down; watch again (through any instance)'));
      host.markStopping();
      refreshHealth();
      await Promise.all([grpc.shutdown(graceMs), http.shutdown(graceMs)]);
    },
  };
}
