// HTTP/JSON gateway (node:http, proto3 JSON mapping) with the same service,
// validation and error mapping as gRPC, plus /metrics, /healthz and /readyz.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { FarosError } from '../errors.js';
import type { Logger, RequestLogSampler } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Limits } from '../config.js';
import type { ShardHost } from '../node/host.js';
import type { FarosService } from './service.js';
import { CallScope, type InFlightGate } from './context.js';
import { parseJsonBody, type JsonMessage } from './json.js';
import { BodyTooLargeError, RouteError, errorJson, toStatus } from './status.js';
import { RPC_TABLE, type RpcName } from './service.js';
import type { TokenStore } from './tokens.js';
import { clip, quote } from '../quote.js';
import { watchEvents } from './sse.js';

export interface HttpDeps {
  service: FarosService;
  host: ShardHost;
  gate: InFlightGate;
  metrics: Metrics;
  log: Logger;
  sampler: RequestLogSampler;
  limits: Limits;
  tokens: TokenStore | undefined;
  /** PEM certificate and key: HTTPS instead of HTTP. */
  tls?: { cert: Buffer; key: Buffer };
}

type Params = Record<string, string>;
interface Route {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  /** Request message type of the body, for POST routes. */
  body?: JsonMessage;
  /** Answers with a message (JSON) unless it writes the response itself. */
  run(
    d: HttpDeps,
    req: { params: Params; body: Record<string, unknown>; query: URLSearchParams },
    scope: CallScope,
    res: ServerResponse,
  ): Promise<object | undefined>;
  /** The RPC this route is the HTTP form of: it counts against --max-in-flight and needs a token with that RPC's scope. */
  rpc?: RpcName;
}

const seg = '([^/]+)';
const ROUTES: Route[] = [
  {
    name: 'UpdateDriver',
    method: 'POST',
    pattern: /^\/v1\/drivers:update$/,
    body: 'UpdateDriverRequest',
    rpc: 'UpdateDriver',
    run: (d, r, s) => d.service.updateDriver(r.body, s),
  },
  {
    name: 'UpdateDrivers',
    method: 'POST',
    pattern: /^\/v1\/drivers:batchUpdate$/,
    body: 'UpdateDriversRequest',
    rpc: 'StreamDriverUpdates', // one batch of the stream
    run: (d, r, s) => d.service.updateDrivers(r.body, s),
  },
  {
    name: 'RemoveDriver',
    method: 'DELETE',
    pattern: new RegExp(`^/v1/maps/${seg}/drivers/${seg}$`),
    rpc: 'RemoveDriver',
    run: (d, r, s) => d.service.removeDriver(r.params, s),
  },
  {
    name: 'GetDriver',
    method: 'GET',
    pattern: new RegExp(`^/v1/maps/${seg}/drivers/${seg}$`),
    rpc: 'GetDriver',
    run: (d, r, s) => d.service.getDriver(r.params, s),
  },
  { name: 'Nearby', method: 'POST', pattern: /^\/v1\/nearby$/, body: 'NearbyRequest', rpc: 'Nearby', run: (d, r, s) => d.service.nearby(r.body, s) },
  {
    name: 'NearbyBatch',
    method: 'POST',
    pattern: /^\/v1\/nearby:batch$/,
    body: 'NearbyBatchRequest',
    rpc: 'NearbyBatch',
    run: (d, r, s) => d.service.nearbyBatch(r.body, s),
  },
  {
    name: 'WatchNearby',
    method: 'GET',
    pattern: /^\/v1\/nearby:watch$/,
    rpc: 'WatchNearby',
    // Server-sent events (sse.ts); the call slot is held only while the watch opens.
    run: async (d, r, _s, res) => {
      watchEvents(d.service, d.limits, r.query, res);
      return undefined;
    },
  },
  { name: 'ListMaps', method: 'GET', pattern: /^\/v1\/maps$/, rpc: 'ListMaps', run: (d, _r, s) => d.service.listMaps({}, s) },
  {
    name: 'metrics',
    method: 'GET',
    pattern: /^\/metrics$/,
    run: async (d, _r, _s, res) => {
      const text = await d.metrics.text();
      res.writeHead(200, { 'content-type': d.metrics.contentType() }).end(text);
      return undefined;
    },
  },
  { name: 'healthz', method: 'GET', pattern: /^\/healthz$/, run: async () => ({ status: 'ok' }) },
  {
    name: 'readyz',
    method: 'GET',
    pattern: /^\/readyz$/,
    run: async (d, _r, _s, res) => {
      if (d.host.ready()) return { status: 'ready' };
      const loading = d.host
        .maps()
        .map((m) => m.mapId)
        .filter((id) => {
          try {
            d.host.checkMap(id);
            return false;
          } catch {
            return true;
          }
        });
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'loading', loading }));
      return undefined;
    },
  },
];

/** ESP's X-Server-Timeout (seconds) sets a deadline on a gateway call. */
function deadlineOf(req: IncomingMessage): number {
  const h = req.headers['x-server-timeout'];
  if (h === undefined) return Infinity;
  const s = Number(h);
  if (!Number.isFinite(s) || s <= 0) throw new FarosError('INVALID_ARGUMENT', `X-Server-Timeout = ${quote(String(h))} is not a positive number of seconds`);
  return Date.now() + s * 1000;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        reject(new BodyTooLargeError(limit));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    // The client went away (or the request timeout cut it) before the body ended.
    req.on('close', () => {
      if (!req.complete) reject(new FarosError('CANCELLED', 'the connection closed before the request body ended'));
    });
  });
}

function match(method: string, path: string): { route: Route; params: Params } {
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    let params: Params = {};
    if (m.length > 1) {
      try {
        params = { mapId: decodeURIComponent(m[1]!), driverId: decodeURIComponent(m[2]!) };
      } catch {
        throw new FarosError('INVALID_ARGUMENT', `the path ${quote(path)} has a malformed %-escape; percent-encode map and driver IDs`);
      }
    }
    return { route, params };
  }
  if (allowed.length > 0) throw new RouteError(405, `${clip(method)} is not allowed on ${quote(path)}; use ${allowed.join(' or ')}`, allowed.join(', '));
  throw new RouteError(
    404,
    `no route ${clip(method)} ${quote(path)}; routes: POST /v1/drivers:update, POST /v1/drivers:batchUpdate, GET|DELETE /v1/maps/{map_id}/drivers/{driver_id}, POST /v1/nearby, POST /v1/nearby:batch, GET /v1/nearby:watch, GET /v1/maps, GET /metrics, /healthz, /readyz`,
  );
}

export class HttpGateway {
  readonly server: Server | TlsServer;

  constructor(private readonly deps: HttpDeps) {
    const { limits } = deps;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((e: unknown) => {
        deps.log.error({ err: e, proto: 'http' }, 'request handler failed');
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    };
    const options = {
      // Slowloris: a request must arrive whole in time; headers sooner.
      requestTimeout: limits.httpRequestTimeoutMs,
      headersTimeout: Math.min(10_000, limits.httpRequestTimeoutMs),
      // How often those timeouts are checked (Node's default, 30 s, lets a slow request live that long).
      connectionsCheckingInterval: 1000,
      maxHeaderSize: 16 * 1024,
      keepAliveTimeout: 65_000,
    };
    this.server = deps.tls ? createTlsServer({ ...options, cert: deps.tls.cert, key: deps.tls.key }, onRequest) : createServer(options, onRequest);
    this.server.maxConnections = limits.maxConnections;
    this.server.maxHeadersCount = 100;
    // No 'clientError' listener on purpose: Node's own answers a malformed or
    // timed-out request with 400/408 and destroys the socket.
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stop accepting; let running requests finish up to graceMs, then cut connections. */
  shutdown(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.server.closeAllConnections();
      }, graceMs);
      this.server.close(() => {
        clearTimeout(t);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = process.hrtime.bigint();
    const [path = '/', search = ''] = (req.url ?? '/').split('?', 2);
    let name = 'unknown';
    let gated = false;
    let scope: CallScope | undefined;
    try {
      const { route, params } = match(req.method ?? 'GET', path);
      name = route.name;
      if (route.rpc && this.deps.tokens) this.deps.tokens.check(req.headers.authorization, RPC_TABLE[route.rpc].scope, route.name);
      const deadline = deadlineOf(req);
      // The body is read before the in-flight gate: a slow sender holds a connection, not a slot.
      const body = route.body ? parseJsonBody(await readBody(req, this.deps.limits.maxMessageBytes), route.body) : {};
      if (route.rpc) {
        this.deps.gate.enter();
        gated = true;
      }
      scope = new CallScope(deadline);
      const s = scope;
      res.on('close', () => {
        if (!res.writableFinished) s.cancel();
      });
      const out = await route.run(this.deps, { params, body, query: new URLSearchParams(search) }, scope, res);
      if (out !== undefined) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      this.finish(name, t0, res.statusCode);
    } catch (e) {
      const s = toStatus(e);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (e instanceof RouteError && e.allow) headers.allow = e.allow;
      if (e instanceof BodyTooLargeError) headers.connection = 'close';
      if (!res.headersSent) res.writeHead(s.http, headers).end(errorJson(s));
      this.finish(name, t0, s.http, s);
    } finally {
      scope?.dispose();
      if (gated) this.deps.gate.leave();
    }
  }

  private finish(method: string, t0: bigint, code: number, err?: { message: string; internal: boolean }): void {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    this.deps.metrics.observeCall('http', method, code, seconds);
    const { log, sampler } = this.deps;
    if (err) {
      const suppressed = sampler.admitError();
      if (suppressed !== undefined)
        (err.internal ? log.error : log.warn).call(log, { proto: 'http', method, code, ms: seconds * 1000, suppressed }, err.message);
    } else if (sampler.sampleOk() && method !== 'metrics') log.info({ proto: 'http', method, code, ms: seconds * 1000, sampled: true }, 'request');
  }
}
