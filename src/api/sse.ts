// WatchNearby over HTTP: server-sent events at
//   GET /v1/nearby:watch?map_id=…&lat=…&lng=…&k=…&metric=…&max_distance_m=…&max_eta_s=…
//       &filter.KEY=VALUE…&min_interval_ms=…&min_change_m=…&min_change_s=…
// Each `message` event's data is one NearbyResponse (proto3 JSON, as
// POST /v1/nearby answers). Any refusal or end is an `error` event (the
// gateway's error JSON), then the response ends: EventSource reconnects on
// its own after a close, so a client should close it on that event.
import type { ServerResponse } from 'node:http';
import { FarosError } from '../errors.js';
import type { Limits } from '../config.js';
import type { FarosService } from './service.js';
import { errorJson, toStatus } from './status.js';
import { quote } from '../quote.js';

/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

const FIELDS: Record<string, string> = {
  map_id: 'mapId',
  k: 'k',
  metric: 'metric',
  max_distance_m: 'maxDistanceM',
  max_eta_s: 'maxEtaS',
};

/** The query string as a WatchNearbyRequest (values stay strings; validate.ts reads them as numbers). */
export function watchRequestOf(q: URLSearchParams): object {
  const query: Record<string, unknown> = {};
  const location: Record<string, string> = {};
  const filter: Record<string, string> = {};
  const req: Record<string, unknown> = { query };
  for (const [k, v] of q) {
    if (k === 'lat' || k === 'lng') location[k] = v;
    else if (k.startsWith('filter.') && k.length > 7) filter[k.slice(7)] = v;
    else if (FIELDS[k]) query[FIELDS[k]] = v;
    else if (k === 'min_interval_ms') req.minIntervalMs = v;
    else if (k === 'min_change_m') req.minChangeM = v;
    else if (k === 'min_change_s') req.minChangeS = v;
    else
      throw new FarosError(
        'INVALID_ARGUMENT',
        `unknown query parameter ${quote(k)}; use map_id, lat, lng, k, metric, max_distance_m, max_eta_s, filter.KEY, min_interval_ms, min_change_m, min_change_s`,
      );
  }
  if (Object.keys(location).length > 0) query.location = location;
  if (Object.keys(filter).length > 0) query.filter = filter;
  return req;
}

/**
 * Stream a watch's answers as events until the client goes away or the watch
 * ends. A client that leaves more than --watch-max-queued messages unwritten
 * to its socket is cut (as a gRPC watch is ended).
 */
export function watchEvents(service: FarosService, limits: Limits, params: URLSearchParams, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  let ended = false,
    queued = 0,
    handle: { close(): void } | undefined;
  const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const end = (e?: unknown): void => {
    if (ended) return;
    ended = true;
    clearInterval(keepalive);
    handle?.close();
    if (e !== undefined && !res.destroyed) res.write(`event: error\ndata: ${errorJson(toStatus(e))}\n\n`);
    res.end();
  };
  res.on('close', () => end());
  res.on('drain', () => {
    queued = 0;
  });
  try {
    handle = service.watchNearby(watchRequestOf(params), {
      send: (msg) => {
        if (ended) return;
        if (res.writableNeedDrain && ++queued > limits.watchMaxQueued) {
          end();
          res.destroy();
          return;
        }
        res.write(`data: ${JSON.stringify(msg)}\n\n`);
      },
      end: (e) => end(e),
    });
    if (ended) handle.close();
  } catch (e) {
    end(e);
  }
}
