// gRPC edge: faros.v1.Faros, grpc.health.v1.Health and server reflection on
// one @grpc/grpc-js server. Each method: gate → context → service → status.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from '../log.js';
import type { RequestLogSampler } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Limits } from '../config.js';
import { RPC_TABLE, type FarosService, type RpcName } from './service.js';
import { streamTag, type BatchItem } from './validate.js';
import type { TokenEntry, TokenStore } from './tokens.js';
import { CallScope, type InFlightGate } from './context.js';
import { toStatus } from './status.js';
import { FarosError } from '../errors.js';
import { encodeNearbyBatchResponse, encodeNearbyResponse, encodeStreamNearbyResponse } from './encode.js';
import { Undecodable, loadFarosDefinition, loadReflectionDefinition, tolerantDefinition } from './proto.js';

export interface GrpcDeps {
  service: FarosService;
  gate: InFlightGate;
  metrics: Metrics;
  log: Logger;
  sampler: RequestLogSampler;
  limits: Limits;
  tokens: TokenStore | undefined;
}

/** The caller's token for an RPC (undefined: tokens are off); throws UNAUTHENTICATED / PERMISSION_DENIED. */
function authorize(tokens: TokenStore | undefined, method: RpcName, md: grpc.Metadata): TokenEntry | undefined {
  if (!tokens) return undefined;
  const v = md.get('authorization')[0];
  return tokens.check(typeof v === 'string' ? v : undefined, RPC_TABLE[method].scope, method);
}

/** Connection limits shared by the public and the peer gRPC servers. */
export function serverOptions(limits: Limits, maxReceiveBytes: number): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': maxReceiveBytes,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    // Find dead clients (a half-open connection holds its streams forever)...
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    // ...and let idle ones go.
    'grpc.max_connection_idle_ms': 10 * 60_000,
  };
}

type Unary = (req: unknown, ctx: CallScope) => Promise<object>;

const deadlineOf = (call: { getDeadline(): grpc.Deadline }): number => {
  const d = call.getDeadline();
  return d instanceof Date ? d.getTime() : d;
};

/** Bind a server; resolves with the bound port. */
export function bindServer(server: grpc.Server, host: string, port: number, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p)));
  });
}

/** Stop taking calls; wait up to graceMs for running ones, then cut them. */
export function shutdownServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Wait for the write buffer to drain, or for the call to go away. */
const drained = (call: grpc.ServerDuplexStream<unknown, object>): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('close', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
    call.on('cancelled', done);
  });

const grpcCodeName = (code: number): string => grpc.status[code] ?? String(code);

/** The nearby answers are encoded straight from the service's response objects (encode.ts). */
function withFastEncoders(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const fast: Record<string, (v: never) => Buffer> = {
    Nearby: encodeNearbyResponse,
    NearbyBatch: encodeNearbyBatchResponse,
    StreamNearby: encodeStreamNearbyResponse,
    WatchNearby: encodeNearbyResponse,
  };
  for (const name of Object.keys(fast)) if (!def[name]) throw new Error(`faros.v1.Faros has no method ${name}`);
  return Object.fromEntries(Object.entries(def).map(([name, m]) => [name, fast[name] ? { ...m, responseSerialize: fast[name] as (v: unknown) => Buffer } : m]));
}

export class GrpcServer {
  readonly server: grpc.Server;
  readonly health: HealthImplementation;
  private readonly serviceDef: grpc.ServiceDefinition;

  constructor(
    private readonly deps: GrpcDeps,
    mapIds: readonly string[],
  ) {
    this.server = new grpc.Server(serverOptions(deps.limits, deps.limits.maxMessageBytes));
    const pkg = grpc.loadPackageDefinition(loadFarosDefinition()) as unknown as { faros: { v1: { Faros: grpc.ServiceClientConstructor } } };
    this.serviceDef = withFastEncoders(tolerantDefinition(pkg.faros.v1.Faros.service));
    const s = deps.service;
    this.server.addService(this.serviceDef, {
      updateDriver: this.unary('UpdateDriver', (r, c) => s.updateDriver(r, c)),
      removeDriver: this.unary('RemoveDriver', (r, c) => s.removeDriver(r, c)),
      getDriver: this.unary('GetDriver', (r, c) => s.getDriver(r, c)),
      nearby: this.unary('Nearby', (r, c) => s.nearby(r, c)),
      listMaps: this.unary('ListMaps', (r, c) => s.listMaps(r, c)),
      nearbyBatch: this.unary('NearbyBatch', (r, c) => s.nearbyBatch(r, c)),
      streamDriverUpdates: (call: grpc.ServerDuplexStream<unknown, object>) => {
        this.stream(call).catch((e: unknown) => deps.log.error({ err: e, method: 'StreamDriverUpdates' }, 'stream handler failed'));
      },
      streamNearby: (call: grpc.ServerDuplexStream<unknown, object>) => {
        this.nearbyStream(call).catch((e: unknown) => deps.log.error({ err: e, method: 'StreamNearby' }, 'stream handler failed'));
      },
      watchNearby: (call: grpc.ServerWritableStream<unknown, object>) => this.watch(call),
    });
    const initial: Record<string, ServingStatus> = { '': 'NOT_SERVING', 'faros.v1.Faros': 'NOT_SERVING' };
    for (const id of mapIds) initial[id] = 'NOT_SERVING';
    this.health = new HealthImplementation(initial);
    this.health.addToServer(this.server);
    new ReflectionService(loadReflectionDefinition()).addToServer(this.server);
  }

  bind(host: string, port: number, creds: grpc.ServerCredentials): Promise<number> {
    return bindServer(this.server, host, port, creds);
  }

  shutdown(graceMs: number): Promise<void> {
    return shutdownServer(this.server, graceMs);
  }

  private finish(method: RpcName, t0: bigint, code: number, err?: { message: string; internal: boolean }): void {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const name = grpcCodeName(code);
    this.deps.metrics.observeCall('grpc', method, name, seconds);
    const { log, sampler } = this.deps;
    if (err) {
      const suppressed = sampler.admitError();
      if (suppressed !== undefined)
        (err.internal ? log.error : log.warn).call(log, { proto: 'grpc', method, code: name, ms: seconds * 1000, suppressed }, err.message);
    } else if (sampler.sampleOk()) log.info({ proto: 'grpc', method, code: name, ms: seconds * 1000, sampled: true }, 'request');
  }

  private unary(method: RpcName, fn: Unary): grpc.handleUnaryCall<unknown, object> {
    return (call, callback) => {
      const t0 = process.hrtime.bigint();
      const fail = (e: unknown): void => {
        const s = toStatus(e);
        this.finish(method, t0, s.grpc, s);
        callback({ code: s.grpc, details: s.message });
      };
      try {
        authorize(this.deps.tokens, method, call.metadata);
        if (call.request instanceof Undecodable) throw call.request.error(method);
        this.deps.gate.enter();
      } catch (e) {
        fail(e);
        return;
      }
      const scope = new CallScope(deadlineOf(call));
      call.on('cancelled', () => scope.cancel());
      fn(call.request, scope)
        .then((res) => {
          this.finish(method, t0, grpc.status.OK);
          callback(null, res);
        }, fail)
        .finally(() => {
          scope.dispose();
          this.deps.gate.leave();
        });
    };
  }

  /**
   * One response per request message, in order. Up to PIPELINE batches of a
   * stream are worked on at once (a batch mostly waits for the snapping
   * workers, so one at a time would cap a stream at batch size / latency);
   * beyond that the stream is not read, so a fast client is held back by
   * HTTP/2 flow control.
   */
  private async stream(call: grpc.ServerDuplexStream<unknown, object>): Promise<void> {
    const PIPELINE = 8;
    const method: RpcName = 'StreamDriverUpdates';
    let token: TokenEntry | undefined;
    try {
      token = authorize(this.deps.tokens, method, call.metadata);
    } catch (e) {
      const s = toStatus(e);
      this.finish(method, process.hrtime.bigint(), s.grpc, s);
      call.emit('error', { code: s.grpc, details: s.message });
      return;
    }
    const scope = new CallScope(deadlineOf(call), true);
    call.on('cancelled', () => scope.cancel());
    // Each batch's answer is written as soon as it and every earlier one are done.
    let last: Promise<void> = Promise.resolve();
    const inFlight: Promise<void>[] = [];
    const work = async (batch: unknown, items: BatchItem[]): Promise<object> => {
      const t0 = process.hrtime.bigint();
      try {
        this.deps.gate.enter();
      } catch (e) {
        // Busy: refuse this batch item by item, keep the stream.
        const s = toStatus(e);
        const ups = (batch as { updates?: { driverId?: string }[] }).updates ?? [];
        this.finish(method, t0, s.grpc, s);
        return { accepted: 0, rejected: ups.map((u, index) => ({ index, driverId: u.driverId ?? '', code: s.code, message: s.message })) };
      }
      try {
        const res = await this.deps.service.updateDrivers(batch, scope, items);
        this.finish(method, t0, grpc.status.OK);
        return res;
      } finally {
        this.deps.gate.leave();
      }
    };
    try {
      // WATCH OUT: a plain `for await` destroys the call when the loop ends, and the OK status is never sent.
      for await (const batch of call.iterator({ destroyOnReturn: false })) {
        // A token revoked (SIGHUP reload) while its stream is open ends the stream.
        if (token && !this.deps.tokens!.stillAllows(token, RPC_TABLE[method].scope))
          throw new FarosError('UNAUTHENTICATED', `token "${token.name}" was revoked while this stream was open; reconnect with a valid token`);
        if (batch instanceof Undecodable) throw batch.error(method);
        // A batch refused as a whole (over --max-batch-size) ends the stream here, before any later batch is worked on.
        const p = work(batch, this.deps.service.checkBatch(batch));
        const written = last.then(async () => {
          const res = await p;
          if (!scope.signal.aborted && !call.write(res)) await drained(call);
        });
        written.catch(() => {}); // surfaced in order when awaited below
        // No answer after a batch that failed: answers stay one per batch, in order.
        last = written;
        inFlight.push(written);
        while (inFlight.length >= PIPELINE) await inFlight.shift();
        if (scope.signal.aborted) break;
      }
      while (inFlight.length > 0) await inFlight.shift();
      if (!scope.signal.aborted) call.end();
    } catch (e) {
      if (call.cancelled || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') {
        // The client went away or shutdown cut the stream: nothing to answer.
        this.finish(method, process.hrtime.bigint(), grpc.status.CANCELLED);
        return;
      }
      // The batches taken before a refused message (not protobuf, over the
      // batch limit) or a revocation were applied: answer them before the
      // error, or the caller cannot tell they were.
      await Promise.allSettled(inFlight);
      const s = toStatus(e);
      this.finish(method, process.hrtime.bigint(), s.grpc, s);
      if (!call.cancelled) call.emit('error', { code: s.grpc, details: s.message });
    } finally {
      scope.dispose();
    }
  }

  /**
   * StreamNearby: each request is answered on its own as soon as it is done
   * (answers carry the request's tag, in any order). At most
   * --max-stream-nearby-in-flight requests of a stream are worked on at once;
   * one beyond that is answered RESOURCE_EXHAUSTED at once. While the client
   * does not read its answers the stream is not read either (HTTP/2 flow
   * control holds the client back).
   */
  private async nearbyStream(call: grpc.ServerDuplexStream<unknown, object>): Promise<void> {
    const method: RpcName = 'StreamNearby';
    const { gate, limits, service } = this.deps;
    let token: TokenEntry | undefined;
    try {
      token = authorize(this.deps.tokens, method, call.metadata);
    } catch (e) {
      const s = toStatus(e);
      this.finish(method, process.hrtime.bigint(), s.grpc, s);
      call.emit('error', { code: s.grpc, details: s.message });
      return;
    }
    const t0 = process.hrtime.bigint();
    const scope = new CallScope(deadlineOf(call), true);
    call.on('cancelled', () => scope.cancel());
    const pending = new Set<Promise<void>>();
    const send = (tag: string, result: object): void => {
      if (scope.signal.aborted || call.cancelled) return;
      call.write({ tag, result });
    };
    const refuse = (tag: string, e: unknown): void => {
      const s = toStatus(e);
      send(tag, { code: s.code, message: s.message });
    };
    try {
      for await (const msg of call.iterator({ destroyOnReturn: false })) {
        if (token && !this.deps.tokens!.stillAllows(token, RPC_TABLE[method].scope))
          throw new FarosError('UNAUTHENTICATED', `token "${token.name}" was revoked while this stream was open; reconnect with a valid token`);
        if (msg instanceof Undecodable) throw msg.error(method);
        const req = msg as { tag?: unknown; query?: unknown };
        const tag = streamTag(req.tag);
        if (pending.size >= limits.maxStreamNearbyInFlight) {
          refuse(
            tag,
            new FarosError(
              'RESOURCE_EXHAUSTED',
              `${pending.size} queries of this stream are being answered (--max-stream-nearby-in-flight); wait for answers before sending more`,
            ),
          );
        } else {
          try {
            gate.enter();
          } catch (e) {
            refuse(tag, e);
            continue;
          }
          const p = service.nearbyResults([req.query ?? {}], scope).then(
            ([result]) => send(tag, result!),
            (e: unknown) => refuse(tag, e),
          );
          const tracked = p.finally(() => {
            gate.leave();
            pending.delete(tracked);
          });
          pending.add(tracked);
        }
        // Answers are written from callbacks: ask the stream whether it is full now (a 'drain' may already have passed).
        if (call.writableNeedDrain) await drained(call);
        if (scope.signal.aborted) break;
      }
      await Promise.all(pending);
      if (call.cancelled) {
        this.finish(method, t0, grpc.status.CANCELLED);
        return;
      }
      if (scope.signal.aborted) throw scope.signal.reason;
      this.finish(method, t0, grpc.status.OK);
      call.end();
    } catch (e) {
      await Promise.allSettled(pending);
      if (call.cancelled || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') {
        this.finish(method, t0, grpc.status.CANCELLED);
        return;
      }
      const s = toStatus(e);
      this.finish(method, t0, s.grpc, s);
      call.emit('error', { code: s.grpc, details: s.message });
    } finally {
      scope.dispose();
    }
  }

  /** Open watches per client connection (--max-watches-per-connection). */
  private readonly watchesPerConnection = new Map<string, number>();

  /**
   * WatchNearby: one message per answer the service gives, until the client
   * cancels, its deadline passes or the watch ends (its status then). A
   * client that leaves --watch-max-queued messages unread is ended with
   * RESOURCE_EXHAUSTED instead of being buffered for.
   */
  private watch(call: grpc.ServerWritableStream<unknown, object>): void {
    const method: RpcName = 'WatchNearby';
    const t0 = process.hrtime.bigint();
    const { limits, metrics, service } = this.deps;
    const conn = call.getPeer();
    let token: TokenEntry | undefined,
      counted = false,
      ended = false,
      handle: { close(): void } | undefined;
    const end = (e?: unknown): void => {
      if (ended) return;
      ended = true;
      handle?.close();
      if (counted) {
        const n = (this.watchesPerConnection.get(conn) ?? 1) - 1;
        if (n > 0) this.watchesPerConnection.set(conn, n);
        else this.watchesPerConnection.delete(conn);
      }
      if (call.cancelled) {
        this.finish(method, t0, grpc.status.CANCELLED);
        metrics.watchEnds.inc({ code: 'CANCELLED' });
        return;
      }
      const s = toStatus(e);
      this.finish(method, t0, s.grpc, s);
      metrics.watchEnds.inc({ code: grpcCodeName(s.grpc) });
      call.emit('error', { code: s.grpc, details: s.message });
    };
    call.on('cancelled', () => end());
    try {
      token = authorize(this.deps.tokens, method, call.metadata);
      if (call.request instanceof Undecodable) throw call.request.error(method);
      const open = this.watchesPerConnection.get(conn) ?? 0;
      if (open >= limits.maxWatchesPerConnection)
        throw new FarosError(
          'RESOURCE_EXHAUSTED',
          `${open} watches are open on this connection, the most --max-watches-per-connection allows; close one or open another connection`,
        );
      this.watchesPerConnection.set(conn, open + 1);
      counted = true;
      handle = service.watchNearby(call.request, {
        send: (msg) => {
          if (ended || call.cancelled) return;
          if (token && !this.deps.tokens!.stillAllows(token, RPC_TABLE[method].scope))
            return end(new FarosError('UNAUTHENTICATED', `token "${token.name}" was revoked while this watch was open; watch again with a valid token`));
          if (call.writableLength >= limits.watchMaxQueued)
            return end(
              new FarosError(
                'RESOURCE_EXHAUSTED',
                `the client left ${call.writableLength} messages of this watch unread (--watch-max-queued); read a watch's messages as they come`,
              ),
            );
          call.write(msg);
        },
        end: (e) => end(e),
      });
      if (ended) handle.close();
    } catch (e) {
      end(e);
    }
  }

  /** Health: "" and faros.v1.Faros follow overall readiness; one entry per map ID. */
  setServing(service: string, serving: boolean): void {
    this.health.setStatus(service, serving ? 'SERVING' : 'NOT_SERVING');
  }
}
