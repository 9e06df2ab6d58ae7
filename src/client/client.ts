// FarosClient: the Faros gRPC API as promises of plain objects, over every
// target round-robin, with a deadline on every call and retries of the calls
// the server did not act on; watches as async iterators.
import type * as grpc from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
import { loadFarosDefinition } from '../api/proto.js';
import { FarosClientError, fromServiceError } from './errors.js';
import type {
  GetDriverRequest,
  GetDriverResponse,
  ListMapsResponse,
  NearbyBatchRequest,
  NearbyBatchResponse,
  NearbyRequest,
  NearbyResponse,
  RemoveDriverRequest,
  RemoveDriverResponse,
  UpdateDriverRequest,
  UpdateDriverResponse,
  WatchNearbyRequest,
} from './messages.js';
import { backoffMs, retryPolicy, sleep, type RetryOptions, type RetryPolicy } from './retry.js';
import { Transport, type Method, type TlsOptions } from './transport.js';
import { DriverUpdater, type UpdaterOptions } from './updater.js';
import { watchNearby, type WatchOptions } from './watch.js';

export interface FarosClientOptions {
  /** Instances to call, "host:port" of their gRPC port; any instance answers any call. */
  targets: readonly string[];
  /** A client token (`faros token create`), sent as "authorization: Bearer <token>". */
  token?: string;
  /** TLS to servers started with --tls-cert/--tls-key: true (system roots) or the CA and names to trust. */
  tls?: boolean | TlsOptions;
  /** Deadline of each call, retries included, in ms. Default 5000. */
  deadlineMs?: number;
  /** Retries of UNAVAILABLE and RESOURCE_EXHAUSTED; false = never retry. */
  retry?: RetryOptions | false;
  /** grpc-js channel options, e.g. keepalive settings. */
  channelOptions?: grpc.ChannelOptions;
}

export interface CallOptions {
  /** This call's deadline, retries included, in ms (overrides the client's deadlineMs). */
  deadlineMs?: number;
}

type MethodName = 'UpdateDriver' | 'RemoveDriver' | 'GetDriver' | 'Nearby' | 'NearbyBatch' | 'ListMaps' | 'StreamDriverUpdates' | 'WatchNearby';

let service: ServiceDefinition | undefined;
const farosService = (): ServiceDefinition => (service ??= loadFarosDefinition()['faros.v1.Faros'] as ServiceDefinition);

export class FarosClient {
  private readonly transport: Transport;
  private readonly deadlineMs: number;
  private readonly retry: RetryPolicy;
  private readonly updaters = new Set<DriverUpdater>();
  private readonly watches = new Set<grpc.ClientReadableStream<unknown>>();
  private closed = false;

  constructor(o: FarosClientOptions) {
    this.deadlineMs = o.deadlineMs ?? 5000;
    if (!(this.deadlineMs > 0)) throw new RangeError(`deadlineMs must be a positive number of ms, not ${o.deadlineMs}`);
    this.retry = retryPolicy(o.retry);
    this.transport = new Transport(o);
  }

  /** Report one driver position; answered once the first replica applied it. */
  updateDriver(req: UpdateDriverRequest, o?: CallOptions): Promise<UpdateDriverResponse> {
    return this.unary('UpdateDriver', req, o);
  }

  removeDriver(req: RemoveDriverRequest, o?: CallOptions): Promise<RemoveDriverResponse> {
    return this.unary('RemoveDriver', req, o);
  }

  /** NOT_FOUND for an unknown, removed or expired driver. */
  getDriver(req: GetDriverRequest, o?: CallOptions): Promise<GetDriverResponse> {
    return this.unary('GetDriver', req, o);
  }

  /** The K nearest drivers by road distance or ETA. */
  nearby(req: NearbyRequest, o?: CallOptions): Promise<NearbyResponse> {
    return this.unary('Nearby', req, o);
  }

  /** One result per query, in order; a query's own failure is in its result (`code`, `message`). */
  nearbyBatch(req: NearbyBatchRequest, o?: CallOptions): Promise<NearbyBatchResponse> {
    return this.unary('NearbyBatch', req, o);
  }

  listMaps(o?: CallOptions): Promise<ListMapsResponse> {
    return this.unary('ListMaps', {}, o);
  }

  /** An updater that batches writes onto StreamDriverUpdates (docs/CLIENT.md). */
  streamUpdates(o?: UpdaterOptions): DriverUpdater {
    if (this.closed) throw new FarosClientError('CANCELLED', 'the client is closed', 'StreamDriverUpdates');
    const u = new DriverUpdater({ transport: this.transport, method: this.method('StreamDriverUpdates'), retry: this.retry, deadlineMs: this.deadlineMs }, o);
    this.updaters.add(u);
    return u;
  }

  /**
   * The answer to a nearby query kept current: the first message, then the
   * whole answer again each time it changes (SEMANTICS.md §8), re-subscribed
   * on another target after UNAVAILABLE. Break out of the loop or abort
   * `o.signal` to end it; no deadline unless `o.deadlineMs` is given.
   */
  watchNearby(req: WatchNearbyRequest, o?: WatchOptions): AsyncGenerator<NearbyResponse, void, undefined> {
    const ctx = { transport: this.transport, method: this.method('WatchNearby'), retry: this.retry, closed: () => this.closed, open: this.watches };
    return watchNearby(ctx, req, o);
  }

  /** Close every channel. Updaters still open lose what they hold (reported rejected, CANCELLED): close them first; open watches end with CANCELLED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.updaters) u.abort();
    for (const w of this.watches) w.cancel();
    this.watches.clear();
    this.updaters.clear();
    this.transport.close();
  }

  private method(name: MethodName): Method {
    return farosService()[name] as Method;
  }

  private async unary<Res>(name: MethodName, req: unknown, o: CallOptions | undefined): Promise<Res> {
    if (this.closed) throw new FarosClientError('CANCELLED', 'the client is closed', name);
    const deadlineMs = o?.deadlineMs ?? this.deadlineMs;
    if (!(deadlineMs > 0)) throw new RangeError(`deadlineMs must be a positive number of ms, not ${deadlineMs}`);
    const deadline = Date.now() + deadlineMs;
    const m = this.method(name);
    let avoid: number | undefined;
    for (let attempt = 1; ; attempt++) {
      const k = this.transport.pick(avoid);
      try {
        return await this.transport.unary<Res>(k, m, req, deadline);
      } catch (e) {
        const err = fromServiceError(e, name, attempt, this.transport.targets[k]);
        if (!err.retryable || attempt >= this.retry.maxAttempts || this.closed) throw err;
        this.transport.cool(k);
        const wait = backoffMs(this.retry, attempt);
        // A retry that could not finish before the deadline is not worth sending.
        if (Date.now() + wait >= deadline) throw err;
        await sleep(wait);
        avoid = k;
      }
    }
  }
}
