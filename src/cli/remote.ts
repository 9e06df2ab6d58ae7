// Operator commands against running servers (`faros maps`, `faros nearby`,
// `faros driver get|update|remove`): one FarosClient call each, answered as a
// few aligned lines for a person or, with --json, as the call's answer.
import { FarosClient, FarosClientError, type NearbyResponse, type TlsOptions } from '../client/index.js';

export interface RemoteOptions {
  /** gRPC addresses (host:port) of any instances. */
  targets: string[];
  token?: string;
  tls?: boolean | TlsOptions;
  deadlineMs: number;
  json: boolean;
}

export type RemoteCommand =
  | { cmd: 'maps' }
  | {
      cmd: 'nearby';
      mapId: string;
      lat: number;
      lng: number;
      k?: number;
      metric?: 'METRIC_DISTANCE' | 'METRIC_ETA';
      maxDistanceM?: number;
      maxEtaS?: number;
      filter?: Record<string, string>;
    }
  | { cmd: 'driver get' | 'driver remove'; mapId: string; driverId: string }
  | { cmd: 'driver update'; mapId: string; driverId: string; lat: number; lng: number; metadata?: Record<string, string> };

/** The text to print (ends with a newline); throws an Error whose message says what failed and how to fix it. */
export async function runRemote(c: RemoteCommand, o: RemoteOptions): Promise<string> {
  // A person waits: a few quick retries of an instance that is down or starting, within the deadline.
  const client = new FarosClient({ targets: o.targets, token: o.token, tls: o.tls, deadlineMs: o.deadlineMs, retry: { maxAttempts: 3 } });
  try {
    const answer = await call(client, c);
    return o.json ? `${JSON.stringify(answer, null, 2)}\n` : `${human(c, answer).join('\n')}\n`;
  } catch (e) {
    throw e instanceof FarosClientError ? new Error(explain(e, o)) : e;
  } finally {
    client.close();
  }
}

function call(client: FarosClient, c: RemoteCommand): Promise<object> {
  switch (c.cmd) {
    case 'maps':
      return client.listMaps();
    case 'nearby':
      return client.nearby({
        mapId: c.mapId,
        location: { lat: c.lat, lng: c.lng },
        k: c.k,
        metric: c.metric,
        maxDistanceM: c.maxDistanceM,
        maxEtaS: c.maxEtaS,
        filter: c.filter,
      });
    case 'driver get':
      return client.getDriver({ mapId: c.mapId, driverId: c.driverId });
    case 'driver remove':
      return client.removeDriver({ mapId: c.mapId, driverId: c.driverId });
    case 'driver update':
      return client.updateDriver({ mapId: c.mapId, driverId: c.driverId, location: { lat: c.lat, lng: c.lng }, metadata: c.metadata });
  }
}

function explain(e: FarosClientError, o: RemoteOptions): string {
  const at = o.targets.join(', ');
  if (e.code === 'UNAVAILABLE')
    return `${e.code} at ${at}: ${e.details}. Is a Faros server listening there (npm start, faros serve)? Point --target at its gRPC port${o.tls ? '' : ' (add --tls or --tls-ca FILE if it serves TLS)'}.`;
  if (e.code === 'UNAUTHENTICATED' || e.code === 'PERMISSION_DENIED')
    return `${e.code}: ${e.details}. Give a token with the right scope: --token-file FILE or FAROS_TOKEN (faros token create).`;
  if (e.code === 'DEADLINE_EXCEEDED') return `${e.code} after ${o.deadlineMs} ms at ${at}: ${e.details}. Raise --deadline-ms, or check the server.`;
  return `${e.code}: ${e.details}`;
}

const coord = (p: { lat: number; lng: number } | null | undefined): string => (p ? `${p.lat.toFixed(6)}, ${p.lng.toFixed(6)}` : '-');
const metres = (m: number): string => (m < 1000 ? `${m.toFixed(0)} m` : `${(m / 1000).toFixed(2)} km`);
const meta = (m: Record<string, string> | undefined): string =>
  Object.entries(m ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '-';

/** Rows as aligned columns (the last column is not padded). */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

function human(c: RemoteCommand, a: object): string[] {
  switch (c.cmd) {
    case 'maps': {
      const { maps } = a as Awaited<ReturnType<FarosClient['listMaps']>>;
      if (maps.length === 0) return ['no maps'];
      return table([['MAP', 'PROFILE', 'DRIVERS', 'REPLICAS'], ...maps.map((m) => [m.mapId, m.profile, m.drivers, m.replicas.join(', ') || '-'])]);
    }
    case 'nearby': {
      const r = a as NearbyResponse;
      const by = c.metric === 'METRIC_ETA' ? 'ETA' : 'driving distance';
      const head = `${r.drivers.length} driver${r.drivers.length === 1 ? '' : 's'} nearest to ${coord(c)} on ${c.mapId} by ${by} (pick-up snapped ${metres(r.querySnapped?.snapDistanceM ?? 0)} to way ${r.querySnapped?.wayId ?? '-'}; served by ${r.stats?.servedBy || '-'})`;
      if (r.drivers.length === 0) return [head];
      return [
        head,
        ...table([
          ['#', 'DRIVER', 'DISTANCE', 'ETA', 'AT', 'METADATA'],
          ...r.drivers.map((d, i) => [
            String(i + 1),
            d.driver?.driverId ?? '-',
            metres(d.distanceM),
            `${d.etaS.toFixed(0)} s`,
            coord(d.driver?.location),
            meta(d.driver?.metadata),
          ]),
        ]).map((l) => `  ${l}`),
      ];
    }
    case 'driver get': {
      const d = (a as Awaited<ReturnType<FarosClient['getDriver']>>).driver;
      if (!d) return [`driver ${c.driverId} on ${c.mapId}: no answer`];
      const ms = Number(d.timestampMs);
      return [
        `driver ${d.driverId} on ${c.mapId}`,
        ...table([
          ['  reported at', coord(d.location)],
          ['  on the road', `${coord(d.snapped?.location)} (${metres(d.snapped?.snapDistanceM ?? 0)} off, way ${d.snapped?.wayId ?? '-'})`],
          ['  timestamp', `${new Date(ms).toISOString()} (${((Date.now() - ms) / 1000).toFixed(0)} s ago)`],
          ['  metadata', meta(d.metadata)],
        ]),
      ];
    }
    case 'driver remove':
      return [(a as { removed: boolean }).removed ? `removed driver ${c.driverId} from ${c.mapId}` : `driver ${c.driverId} was not on ${c.mapId}`];
    case 'driver update': {
      const u = a as Awaited<ReturnType<FarosClient['updateDriver']>>;
      return [
        u.stale
          ? `driver ${c.driverId} on ${c.mapId}: not applied, the server holds a newer position`
          : `driver ${c.driverId} on ${c.mapId} at ${coord(u.snapped?.location)} (snapped ${metres(u.snapped?.snapDistanceM ?? 0)} to way ${u.snapped?.wayId ?? '-'})`,
      ];
    }
  }
}
