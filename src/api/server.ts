// Both edges over one service: what serve.ts starts and stops.
import type { Options } from '../config.js';
import { RequestLogSampler, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ShardHost } from '../node/host.js';
import { InFlightGate } from './context.js';
import { GrpcServer } from './grpc.js';
import { HttpGateway } from './http.js';
import { FarosService } from './service.js';
import { HostSlot } from './host-slot.js';

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

/** A gRPC service registered beside faros.v1.Faros (e.g. the cluster's Peer service). */
export interface ExtraService { definition: import('@grpc/grpc-js').ServiceDefinition; implementation: import('@grpc/grpc-js').UntypedServiceImplementation }

export async function startApi(opts: Options, host: HostSlot, metrics: Metrics, log: Logger, extra: readonly ExtraService[] = []): Promise<ApiServers> {
  const gate = new InFlightGate(opts.limits.maxInFlight, metrics);
  const sampler = new RequestLogSampler(opts.logSampleRate);
  const service = new FarosService(host, opts.limits, metrics);
  for (const m of opts.maps) metrics.forMap(m.id);
  const grpc = new GrpcServer({ service, gate, metrics, log, sampler, limits: opts.limits }, opts.maps.map((m) => m.id));
  // Services must be added before the server binds.
  for (const x of extra) grpc.server.addService(x.definition, x.implementation);
  const http = new HttpGateway({ service, host, gate, metrics, log, sampler, limits: opts.limits });
  const grpcPort = await grpc.bind(opts.host, opts.grpcPort);
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
      if (ok) { try { host.checkMap(m.id); } catch { ok = false; } } // UNAVAILABLE while loading
      grpc.setServing(m.id, ok);
      metrics.setMapReady(m.id, ok);
    }
    const ready = !stopping && host.ready();
    grpc.setServing('', ready);
    grpc.setServing('faros.v1.Faros', ready);
  };
  refreshHealth();
  return {
    grpcPort, httpPort, refreshHealth,
    attach(h: ShardHost) { host.attach(h); refreshHealth(); },
    async shutdown(graceMs: number) {
      stopping = true;
      host.markStopping();
      refreshHealth();
      await Promise.all([grpc.shutdown(graceMs), http.shutdown(graceMs)]);
    },
  };
}
