// One grpc-js channel per target, chosen round-robin, skipping targets whose
// channel is failing (grpc-js reconnects them in the background with its own
// backoff) unless every target is failing.
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';

export interface TlsOptions {
  /** PEM of the CA that signed the servers' certificates (default: the system's roots). */
  ca?: string | Buffer;
  /** PEM client certificate and key, for servers that ask for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** The name to check the servers' certificates against, when it is not the target's host. */
  serverName?: string;
}

export interface TransportOptions {
  targets: readonly string[];
  token?: string;
  tls?: boolean | TlsOptions;
  channelOptions?: grpc.ChannelOptions;
}

const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Nearby and NearbyBatch answers of a large K can exceed grpc-js's 4 MiB default.
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  // grpc-js waits up to 120 s between reconnects after a long outage: an instance back from a restart would sit unused that long.
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 5000,
};

const pem = (v: string | Buffer | undefined): Buffer | null => (v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v));

function credentials(tls: boolean | TlsOptions | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  const o = tls === true ? {} : tls;
  if ((o.cert === undefined) !== (o.key === undefined)) throw new TypeError('tls.cert and tls.key go together: give both or neither');
  return grpc.credentials.createSsl(pem(o.ca), pem(o.key), pem(o.cert));
}

const COOL_MS = 1000;

export type Method = MethodDefinition<object, object>;

export class Transport {
  readonly targets: readonly string[];
  private readonly clients: grpc.Client[];
  private next = 0;
  /** Until when (ms) each target is passed over after it answered UNAVAILABLE or RESOURCE_EXHAUSTED. */
  private readonly coolUntil: number[];
  private readonly token: string | undefined;

  constructor(o: TransportOptions) {
    if (!Array.isArray(o.targets) || o.targets.length === 0) throw new TypeError('targets must list at least one "host:port"');
    for (const t of o.targets) if (typeof t !== 'string' || t === '') throw new TypeError(`a target must be "host:port", not ${JSON.stringify(t)}`);
    if (o.token !== undefined && !/^\S+$/.test(o.token)) throw new TypeError('token must be one word without spaces (as `faros token create` printed it)');
    this.targets = [...o.targets];
    this.token = o.token;
    const creds = credentials(o.tls);
    const opts: grpc.ChannelOptions = { ...DEFAULT_CHANNEL_OPTIONS, ...o.channelOptions };
    const name = typeof o.tls === 'object' ? o.tls.serverName : undefined;
    if (name !== undefined) Object.assign(opts, { 'grpc.ssl_target_name_override': name, 'grpc.default_authority': name });
    this.clients = this.targets.map((t) => new grpc.Client(t, creds, opts));
    this.coolUntil = this.targets.map(() => 0);
  }

  /** Pass over target k for a while: it is up but refused (shutting down, loading, overloaded). */
  cool(k: number, ms = COOL_MS): void {
    this.coolUntil[k] = Date.now() + ms;
  }

  /**
   * The next target round-robin that is not failing, not cooling and not
   * `avoid` (the one a retry just failed on); plain round-robin when every
   * other one is.
   */
  pick(avoid?: number): number {
    const n = this.clients.length;
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const k = (this.next + i) % n;
      if ((k === avoid || this.coolUntil[k]! > now) && n > 1) continue;
      // true: an idle channel starts connecting, so its state is known by the next pick.
      if (this.clients[k]!.getChannel().getConnectivityState(true) !== grpc.connectivityState.TRANSIENT_FAILURE) {
        this.next = (k + 1) % n;
        return k;
      }
    }
    const k = avoid !== undefined && n > 1 && this.next === avoid ? (avoid + 1) % n : this.next;
    this.next = (k + 1) % n;
    return k;
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token !== undefined) md.set('authorization', `Bearer ${this.token}`);
    return md;
  }

  unary<Res>(k: number, m: Method, req: unknown, deadline: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.clients[k]!.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req as object, this.metadata(), { deadline }, (err, res) =>
        err ? reject(err) : resolve(res as Res),
      );
    });
  }

  /** A server-streaming call; no deadline when `deadline` is undefined (a watch is long-lived). */
  serverStream<Res>(k: number, m: Method, req: unknown, deadline: number | undefined): grpc.ClientReadableStream<Res> {
    const o: grpc.CallOptions = deadline === undefined ? {} : { deadline };
    return this.clients[k]!.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      req as object,
      this.metadata(),
      o,
    ) as unknown as grpc.ClientReadableStream<Res>;
  }

  bidi<Req, Res>(k: number, m: Method): grpc.ClientDuplexStream<Req, Res> {
    return this.clients[k]!.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, this.metadata(), {}) as unknown as grpc.ClientDuplexStream<
      Req,
      Res
    >;
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
