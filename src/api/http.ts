// HTTP/JSON gateway (node:http, proto3 JSON mapping) with the same service,
// validation and error mapping as gRPC, plus /metrics, /healthz and /readyz.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { FarosError } from '../errors.js';
import type { Logger, RequestLogSampler } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Limits } from '../config.js';
import type { HostSlot } from './host-slot.js';
import type { FarosService } from './service.js';
import { CallScope, type InFlightGate } from './context.js';
import { parseJsonBody } from './json.js';
import { jsonName } from './reflect.js';
import { openApiDocument, type JsonSchema, type RouteDoc } from './openapi.js';
import { BodyTooLargeError, RouteError, errorJson, toStatus } from './status.js';
import { RPC_TABLE } from './service.js';
import type { TokenStore } from './tokens.js';
import { clip, quote } from '../quote.js';
import { nearbyRequest } from './validate.js';
import type { MapPage } from '../web/map-page.js';
import { watchEvents } from './sse.js';

export interface HttpDeps {
  service: FarosService;
  host: HostSlot;
  gate: InFlightGate;
  metrics: Metrics;
  log: Logger;
  sampler: RequestLogSampler;
  limits: Limits;
  tokens: TokenStore | undefined;
  /** The live map page (GET /) and the routes it reads. */
  mapPage?: MapPage;
  /** PEM certificate and key: HTTPS instead of HTTP. */
  tls?: { cert: Buffer; key: Buffer };
}

type Params = Record<string, string>;
/**
 * One route of the gateway. The table is the one account of the routes: the
 * router matches on it and the OpenAPI document (GET /openapi.json) is built
 * from it (openapi.ts), so a route added here is documented there.
 */
interface Route extends RouteDoc {
  /** Answers with a message (JSON) unless it writes the response itself. */
  run(
    d: HttpDeps,
    req: { params: Params; body: Record<string, unknown>; req: IncomingMessage; query: URLSearchParams },
    scope: CallScope,
    res: ServerResponse,
  ): Promise<object | undefined>;
  /** The path as a pattern, where the `{field}` template cannot say it (nested files). */
  match?: RegExp;
}

// The examples run on a server with the bundled maps (test/e2e/openapi.test.ts) in this order, deletes last.
const M = 'monaco-car';
const AT = { lat: 43.7384, lng: 7.4246 };
const SNAPPED = { location: { lat: 43.73829, lng: 7.42453 }, snapDistanceM: 13.1, wayId: '4229537' };
const STATUS = (value: string, extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  required: ['status', ...Object.keys(extra)],
  properties: { status: { const: value }, ...extra },
});

const ROUTES: Route[] = [
  {
    name: 'UpdateDriver',
    method: 'POST',
    path: '/v1/drivers:update',
    summary: "Report one driver's position",
    body: 'UpdateDriverRequest',
    response: 'UpdateDriverResponse',
    errors: ['NOT_FOUND', 'OUT_OF_RANGE'],
    rpc: 'UpdateDriver',
    example: {
      body: { mapId: M, driverId: 'driver-42', location: AT, timestampMs: '0', metadata: { vehicle: 'van' } },
      response: { snapped: SNAPPED, stale: false },
    },
    run: (d, r, s) => d.service.updateDriver(r.body, s),
  },
  {
    name: 'UpdateDrivers',
    method: 'POST',
    path: '/v1/drivers:batchUpdate',
    summary: 'Report many positions; a bad item rejects that item only',
    body: 'UpdateDriversRequest',
    response: 'UpdateDriversResponse',
    rpc: 'StreamDriverUpdates', // one batch of the stream
    example: {
      body: {
        updates: [
          { mapId: M, driverId: 'driver-7', location: { lat: 43.7396, lng: 7.4275 } },
          { map_id: M, driver_id: 'driver-8', location: { lat: 43.7, lng: 7.6 } },
        ],
      },
      response: {
        accepted: 1,
        rejected: [
          {
            index: 1,
            driverId: 'driver-8',
            code: 'OUT_OF_RANGE',
            message:
              'point (43.7, 7.6) is 10685.7 m from the nearest road, beyond the snap radius of 200 m; report a point on or near a road of map "monaco-car"',
          },
        ],
      },
    },
    run: (d, r, s) => d.service.updateDrivers(r.body, s),
  },
  {
    name: 'GetDriver',
    method: 'GET',
    path: '/v1/maps/{map_id}/drivers/{driver_id}',
    summary: "A driver's last reported and snapped position",
    response: 'GetDriverResponse',
    errors: ['NOT_FOUND'],
    rpc: 'GetDriver',
    example: { params: { map_id: M, driver_id: 'driver-42' } },
    run: (d, r, s) => d.service.getDriver(r.params, s),
  },
  {
    name: 'Nearby',
    method: 'POST',
    path: '/v1/nearby',
    summary: 'The K nearest drivers to a pick-up point by road distance or ETA',
    body: 'NearbyRequest',
    response: 'NearbyResponse',
    errors: ['NOT_FOUND', 'OUT_OF_RANGE'],
    rpc: 'Nearby',
    example: {
      body: { mapId: M, location: { lat: 43.7378, lng: 7.4239 }, k: 5, metric: 'METRIC_ETA', maxEtaS: 300, filter: { vehicle: 'van' } },
      response: {
        drivers: [
          {
            driver: { driverId: 'driver-42', location: AT, snapped: SNAPPED, timestampMs: '1767312000000', metadata: { vehicle: 'van' } },
            distanceM: 83.19,
            etaS: 7.48,
          },
        ],
        querySnapped: { location: { lat: 43.73797, lng: 7.42376 }, snapDistanceM: 21.94, wayId: '176477340' },
        stats: { edgesExpanded: 1738, candidatesSeen: 1, servedBy: 'faros-0:50051' },
      },
    },
    run: (d, r, s) => d.service.nearby(r.body, s),
  },
  {
    name: 'NearbyBatch',
    method: 'POST',
    path: '/v1/nearby:batch',
    summary: "Many Nearby queries at once; a query's own failure is its result",
    body: 'NearbyBatchRequest',
    response: 'NearbyBatchResponse',
    rpc: 'NearbyBatch',
    example: {
      body: {
        queries: [
          { mapId: M, location: AT, k: 3 },
          { mapId: 'atlantis-car', location: AT },
        ],
      },
    },
    run: (d, r, s) => d.service.nearbyBatch(r.body, s),
  },
  {
    name: 'WatchNearby',
    method: 'GET',
    path: '/v1/nearby:watch',
    summary:
      'WatchNearby as server-sent events: a full NearbyResponse per `message` event when the answer changes; a refusal or end is an `error` event (docs/SEMANTICS.md)',
    query: [
      { name: 'map_id', required: true, schema: { type: 'string' }, description: 'The map (NearbyRequest.map_id).' },
      { name: 'lat', required: true, schema: { type: 'number' }, description: 'Pick-up latitude.' },
      { name: 'lng', required: true, schema: { type: 'number' }, description: 'Pick-up longitude.' },
      { name: 'k', schema: { type: 'integer' }, description: 'As NearbyRequest.k.' },
      { name: 'metric', schema: { type: 'string' }, description: 'METRIC_DISTANCE or METRIC_ETA.' },
      { name: 'max_distance_m', schema: { type: 'number' }, description: 'As NearbyRequest.max_distance_m.' },
      { name: 'max_eta_s', schema: { type: 'number' }, description: 'As NearbyRequest.max_eta_s.' },
      { name: 'min_interval_ms', schema: { type: 'integer' }, description: 'Messages at least this far apart (default 500, at least 100).' },
      { name: 'min_change_m', schema: { type: 'number' }, description: 'A listed cost change that counts, metric distance (default 50).' },
      { name: 'min_change_s', schema: { type: 'number' }, description: 'A listed cost change that counts, metric ETA (default 10).' },
    ],
    response: {
      contentType: 'text/event-stream',
      schema: { type: 'string' },
      description: 'Events whose data is a NearbyResponse (or, for `error`, the error JSON). Filters: `filter.KEY=VALUE` parameters.',
    },
    errors: ['NOT_FOUND', 'OUT_OF_RANGE'],
    rpc: 'WatchNearby',
    example: { query: { map_id: M, lat: '43.7378', lng: '7.4239', k: '5' } },
    // Server-sent events (sse.ts); the call slot is held only while the watch opens.
    run: async (d, r, _s, res) => {
      watchEvents(d.service, d.limits, r.query, res);
      return undefined;
    },
  },
  {
    name: 'ListMaps',
    method: 'GET',
    path: '/v1/maps',
    summary: 'The maps the cluster serves, with their bounds and replicas',
    response: 'ListMapsResponse',
    rpc: 'ListMaps',
    example: {
      response: {
        maps: [
          {
            mapId: M,
            profile: 'car',
            drivers: '2',
            bounds: { min: { lat: 43.715, lng: 7.349 }, max: { lat: 43.77, lng: 7.4909 } },
            replicas: ['faros-0:50051', 'faros-1:50051'],
          },
        ],
      },
    },
    run: (d, _r, s) => d.service.listMaps({}, s),
  },
  {
    name: 'RemoveDriver',
    method: 'DELETE',
    path: '/v1/maps/{map_id}/drivers/{driver_id}',
    summary: 'Remove a driver (removed is false when it was not there)',
    response: 'RemoveDriverResponse',
    errors: ['NOT_FOUND'],
    rpc: 'RemoveDriver',
    example: { params: { map_id: M, driver_id: 'driver-42' } },
    run: (d, r, s) => d.service.removeDriver(r.params, s),
  },
  {
    name: 'metrics',
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus metrics (docs/METRICS.md); open without a token',
    response: { contentType: 'text/plain', schema: { type: 'string' }, description: 'Prometheus text exposition format 0.0.4.' },
    run: async (d, _r, _s, res) => {
      const text = await d.metrics.text();
      res.writeHead(200, { 'content-type': d.metrics.contentType() }).end(text);
      return undefined;
    },
  },
  {
    name: 'healthz',
    method: 'GET',
    path: '/healthz',
    summary: 'Liveness: 200 while the process runs',
    response: { contentType: 'application/json', schema: STATUS('ok'), description: 'The process runs.', example: { status: 'ok' } },
    run: async () => ({ status: 'ok' }),
  },
  {
    name: 'readyz',
    method: 'GET',
    path: '/readyz',
    summary:
      'Readiness: 200 once every map is loaded, else 503 with the maps still loading. With ?allow=proxy: 200 ("proxying") while a map gained later loads, whose calls are proxied to a replica',
    response: {
      contentType: 'application/json',
      schema: { type: 'object', required: ['status'], properties: { status: { enum: ['ready', 'proxying'] } } },
      description: 'Every map is loaded (or, with ?allow=proxy, every call can be answered here or by a replica).',
      example: { status: 'ready' },
    },
    otherResponses: {
      503: {
        contentType: 'application/json',
        schema: STATUS('loading', { loading: { type: 'array', items: { type: 'string' }, description: 'IDs of the maps still loading.' } }),
        description: 'Some maps are still loading.',
        example: { status: 'loading', loading: [M] },
      },
    },
    // ?allow=proxy: ready to take client calls once it has loaded its maps, even while it loads a map
    // gained later (a membership change), whose calls it proxies to a replica that serves it.
    // Without it: every map the route table gives this instance serves here.
    run: async (d, r, _s, res) => {
      if (d.host.ready()) return { status: 'ready' };
      if (new URL(r.req.url ?? '/', 'http://_').searchParams.get('allow') === 'proxy' && d.host.answering()) return { status: 'proxying' };
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
  {
    name: 'openapi',
    method: 'GET',
    path: '/openapi.json',
    summary: 'This document: the gateway described in OpenAPI 3.1',
    response: { contentType: 'application/json', schema: { type: 'object' }, description: 'The OpenAPI document.' },
    run: async () => openApi(),
  },
  // The map page (src/web/map-page.ts) and the routes it reads.
  {
    name: 'MapPage',
    method: 'GET',
    path: '/',
    summary: 'The live map page: roads, drivers moving, a click draws the nearby answer (src/web, web/)',
    response: { contentType: 'text/html', schema: { type: 'string' }, description: 'The page.' },
    run: async (d, r, _s, res) => staticFile(d, r.req, res),
  },
  {
    name: 'MapPageFile',
    method: 'GET',
    path: '/map/{file}',
    // Nested files (the bundled Leaflet) too; only files the page ships are served.
    match: /^\/map\/[\w./-]+$/,
    summary: "The map page's scripts, styles and icons (Leaflet included)",
    response: { contentType: '*/*', schema: { type: 'string' }, description: 'The file, with its content type.' },
    example: { params: { file: 'app.js' } },
    run: async (d, r, _s, res) => staticFile(d, r.req, res),
  },
  {
    name: 'MapRoads',
    method: 'GET',
    path: '/v1/maps/{map_id}/roads',
    summary: "A map's road geometry for drawing (compact JSON; gzip when accepted; ETag)",
    response: {
      contentType: 'application/json',
      schema: { type: 'object', required: ['mapId'], properties: { mapId: { type: 'string' } } },
      description: 'The roads of the loaded graph (format in src/web/roads.ts).',
    },
    errors: ['NOT_FOUND'],
    rpc: 'ListMaps',
    example: { params: { map_id: M } },
    run: async (d, r, _s, res) => {
      await page(d).serveRoads(r.params.mapId!, r.req, res);
      return undefined;
    },
  },
  {
    name: 'MapLive',
    method: 'GET',
    path: '/v1/maps/{map_id}/live',
    summary: "Server-sent events: the map's drivers held on this instance, at most 4 diffs a second (the map page)",
    response: { contentType: 'text/event-stream', schema: { type: 'string' }, description: 'An event stream of driver positions.' },
    errors: ['NOT_FOUND'],
    rpc: 'Nearby',
    example: { params: { map_id: M } },
    run: async (d, r, _s, res) => {
      page(d).watch(r.params.mapId!, res);
      return undefined;
    },
  },
  {
    name: 'NearbyExplain',
    method: 'POST',
    path: '/v1/nearby:explain',
    summary: "Nearby, plus each driver's road path, the edges the search settled and the K nearest by straight line (the map page)",
    body: 'NearbyRequest',
    response: {
      contentType: 'application/json',
      schema: { type: 'object', required: ['answer'], properties: { answer: { $ref: '#/components/schemas/NearbyResponse' } } },
      description: 'The Nearby answer and its explanation (src/web/map-page.ts).',
    },
    errors: ['NOT_FOUND', 'OUT_OF_RANGE'],
    rpc: 'Nearby',
    example: { body: { mapId: M, location: { lat: 43.7378, lng: 7.4239 }, k: 5 } },
    run: async (d, r, s) => {
      const answer = await d.service.nearby(r.body, s);
      const { mapId, query } = nearbyRequest(r.body);
      return { answer, ...(await page(d).explain(mapId, query, answer)) };
    },
  },
];

let document: JsonSchema | undefined;
/** The OpenAPI document of ROUTES (built once: the routes and the proto do not change while running). */
export function openApi(): JsonSchema {
  document ??= openApiDocument(ROUTES);
  return document;
}

function page(d: HttpDeps): MapPage {
  if (!d.mapPage) throw new RouteError(404, 'this server has no map page');
  return d.mapPage;
}

async function staticFile(d: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<undefined> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (!page(d).serveStatic(path, res)) throw new RouteError(404, `no file ${quote(path)} in the map page`);
  return undefined;
}

/** The routes as the router matches them: the path's `{field}` segments captured, named as the proto-loader fields (mapId). */
const MATCHERS = ROUTES.map((route) => ({
  route,
  pattern: route.match ?? new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '([^/]+)')}$`),
  params: [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => jsonName(m[1]!)),
}));

/** "GET|DELETE /v1/maps/{map_id}/drivers/{driver_id}, POST /v1/nearby, …" for a 404. */
const ROUTE_LIST = [...new Set(ROUTES.map((r) => r.path))]
  .map(
    (path) =>
      `${ROUTES.filter((r) => r.path === path)
        .map((r) => r.method)
        .join('|')} ${path}`,
  )
  .join(', ');

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
  for (const { route, pattern, params: names } of MATCHERS) {
    const m = pattern.exec(path);
    if (!m) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const params: Params = {};
    try {
      names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]!);
      });
    } catch {
      throw new FarosError('INVALID_ARGUMENT', `the path ${quote(path)} has a malformed %-escape; percent-encode map and driver IDs`);
    }
    return { route, params };
  }
  if (allowed.length > 0) throw new RouteError(405, `${clip(method)} is not allowed on ${quote(path)}; use ${allowed.join(' or ')}`, allowed.join(', '));
  throw new RouteError(404, `no route ${clip(method)} ${quote(path)}; routes: ${ROUTE_LIST}`);
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
    this.deps.mapPage?.live.close();
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
      const out = await route.run(this.deps, { params, body, req, query: new URLSearchParams(search) }, scope, res);
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
