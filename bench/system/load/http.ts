// HTTP/JSON gateway load with autocannon's programmatic API; request bodies
// come from the fleet scenario (nearby pick-ups, batches of driver reports).
// autocannon is closed-loop (connections × 1 outstanding request): its figures
// are peak throughput and latency at that concurrency, not open-loop latency.
import { createRequire } from 'node:module';
import type { RoadGraph } from '../../../src/model/graph/roadgraph.js';
import { Fleet, Schedule, query, slice } from '../../../tools/sim/fleet.js';
import type { PhaseResult } from './lib.js';

const require = createRequire(import.meta.url);
// autocannon ships no types: the small part of its API used here
interface AcRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
interface AcResult {
  requests: { average: number; total: number };
  latency: Record<string, number>;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
  '2xx': number;
}
type Autocannon = (opts: object, cb?: (err: Error | null, res: AcResult) => void) => { on(ev: string, f: (...a: any[]) => void): void };
const autocannon = require('autocannon') as Autocannon;

export interface HttpSpec {
  base: string;
  mapId: string;
  g: RoadGraph;
  seed: number;
  drivers: number;
  connections: number;
  durationS: number;
  batch: number;
  k: number;
  radiusM: number;
}

function run(opts: object): Promise<AcResult> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (e, r) => (e ? reject(e) : resolve(r)));
  });
}

function toPhase(name: string, kind: PhaseResult['kind'], r: AcResult, itemsPerReq: number): PhaseResult {
  const errors: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) if (!code.startsWith('2')) errors[`HTTP_${code}`] = s.count;
  if (r.errors) errors.CONNECTION_ERRORS = r.errors;
  if (r.timeouts) errors.TIMEOUTS = r.timeouts;
  const ok = r['2xx'];
  return {
    name,
    system: 'faros',
    proto: 'http',
    kind,
    mode: 'closed',
    throughput: Math.round((ok * itemsPerReq) / r.duration),
    callsPerS: Math.round(r.requests.total / r.duration),
    latencyMs: { p50: r.latency.p50!, p90: r.latency.p90!, p99: r.latency.p99!, p999: r.latency.p99_9!, max: r.latency.max!, n: r.requests.total },
    errors,
    clientCpuCores: NaN,
    clientMaxLagMs: NaN,
    note: `autocannon, ${itemsPerReq > 1 ? `${itemsPerReq} updates per request, ` : ''}closed loop`,
  };
}

export async function httpNearby(s: HttpSpec): Promise<PhaseResult> {
  let j = 0;
  const body = (): string => {
    const q = query(s.g, s.seed, 5_000_000 + j++, s.k, s.radiusM);
    return JSON.stringify({ mapId: s.mapId, location: { lat: q.lat, lng: q.lng }, k: s.k, maxDistanceM: s.radiusM, filter: { status: 'available' } });
  };
  const r = await run({
    url: s.base,
    connections: s.connections,
    duration: s.durationS,
    pipelining: 1,
    timeout: 10,
    requests: [
      { method: 'POST', path: '/v1/nearby', headers: { 'content-type': 'application/json' }, setupRequest: (req: AcRequest) => ({ ...req, body: body() }) },
    ],
  });
  return toPhase(`http nearby c=${s.connections}`, 'nearby', r, 1);
}

export async function httpBatchUpdate(s: HttpSpec): Promise<PhaseResult> {
  const fleet = new Fleet(s.g, { seed: s.seed, drivers: s.drivers });
  const sched = new Schedule(fleet, slice(s.drivers, 0, 1));
  const body = (): string => {
    const ups: object[] = [];
    while (ups.length < s.batch) {
      const r = sched.take();
      if (r.kind === 'update') ups.push({ mapId: s.mapId, driverId: r.id, location: { lat: r.lat, lng: r.lng }, metadata: { status: r.status } });
    }
    return JSON.stringify({ updates: ups });
  };
  const r = await run({
    url: s.base,
    connections: s.connections,
    duration: s.durationS,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/v1/drivers:batchUpdate',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: AcRequest) => ({ ...req, body: body() }),
      },
    ],
  });
  return toPhase(`http batchUpdate c=${s.connections}`, 'updates', r, s.batch);
}
