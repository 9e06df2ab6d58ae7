// Answer quality of Redis GEO against Faros on exactly the same driver state:
// both stores are set to the fleet's state at one instant, then for each
// pick-up: Faros's K nearest by road (the truth), Redis's K nearest in a
// straight line, and the road distance of each Redis pick (a large-k Faros
// Nearby over the same filter).
import * as grpc from '@grpc/grpc-js';
import { loadFarosDefinition } from '../../../src/api/proto.js';
import type { RoadGraph } from '../../../src/model/graph/roadgraph.js';
import { Fleet, query, type Report } from '../../../tools/sim/fleet.js';
import { type Resp, RedisError } from './resp.js';
import { quantile } from '../../lib/common.js';

export interface Quality {
  queries: number;
  k: number;
  radiusM: number;
  /** Mean share of Faros's K (by road) that Redis's K straight-line picks contain. */
  meanOverlap: number;
  /** Queries where Redis's K picks are exactly Faros's K (as sets). */
  allCorrectPct: number;
  /** Queries where Redis's first pick is not the nearest by road. */
  firstWrongPct: number;
  /** How much farther by road Redis's first pick is than the true nearest, m (over all queries). */
  firstExcessM: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Same, relative to the true nearest's road distance, % (median / P90). */
  firstExcessPct: { p50: number; p90: number };
  /** Redis picks that are not within the road radius (or unreachable) in Faros's large-k answer. */
  picksBeyondRoadRadiusPct: number;
  /** Queries where the large-k answer did not reach Redis's first pick (excess then counted as ≥ the largest road distance seen). */
  firstUnresolved: number;
}

const pkg = grpc.loadPackageDefinition(loadFarosDefinition()) as any;

type Client = any;
const call = <T>(c: Client, m: string, req: object): Promise<T> =>
  new Promise((res, rej) => c[m](req, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (e: Error | null, r: T) => (e ? rej(e) : res(r))));

/** The state of every driver at virtual time tMs (its last report at or before). */
export function stateAt(g: RoadGraph, seed: number, drivers: number, tMs: number): Report[] {
  const f = new Fleet(g, { seed, drivers });
  const out: Report[] = [];
  for (let i = 0; i < drivers; i++) {
    let r = f.next(i);
    while (f.dueMs(i) <= tMs) {
      const n = f.next(i);
      r = n.kind === 'silent' ? { ...n, kind: f.isOffline(i) ? 'offline' : n.kind } : n;
    }
    if (r.kind === 'silent') r = { ...r, kind: 'offline' };
    out.push(r);
  }
  return out;
}

/** Put both stores in the same state (Faros: all drivers with status; Redis: the available ones). */
export async function syncBoth(state: Report[], farosAddr: string, mapId: string, redis: Resp | undefined, key: string): Promise<void> {
  const c = new pkg.faros.v1.Faros(farosAddr, grpc.credentials.createInsecure());
  const s = c.streamDriverUpdates() as grpc.ClientDuplexStream<unknown, any>;
  let pending = 0;
  const done = new Promise<void>((res, rej) => {
    s.on('data', () => {
      pending--;
    });
    s.on('end', () => res());
    s.on('error', rej);
  });
  for (let i = 0; i < state.length; i += 1000) {
    const ups = state
      .slice(i, i + 1000)
      .filter((r) => r.kind === 'update')
      .map((r) => ({ mapId, driverId: r.id, location: { lat: r.lat, lng: r.lng }, metadata: { status: r.status } }));
    s.write({ updates: ups });
    pending++;
    while (pending > 8) await new Promise((r) => setTimeout(r, 1));
  }
  s.end();
  await done;
  for (const r of state) if (r.kind !== 'update') await call(c, 'removeDriver', { mapId, driverId: r.id });
  c.close();
  if (redis) {
    await redis.send(['DEL', key]);
    for (let i = 0; i < state.length; i += 1000) {
      const add: string[] = ['GEOADD', key];
      for (const r of state.slice(i, i + 1000)) if (r.kind === 'update' && r.status === 'available') add.push(r.lng.toFixed(7), r.lat.toFixed(7), r.id);
      if (add.length > 2) {
        const x = await redis.send(add);
        if (x instanceof RedisError) throw x;
      }
    }
  }
}

export async function quality(
  g: RoadGraph,
  seed: number,
  farosAddr: string,
  mapId: string,
  redis: Resp,
  key: string,
  n: number,
  k = 10,
  radiusM = 3000,
): Promise<Quality> {
  const c = new pkg.faros.v1.Faros(farosAddr, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20 });
  const filter = { status: 'available' };
  let overlapSum = 0,
    overlapN = 0,
    allCorrect = 0,
    firstWrong = 0,
    beyond = 0,
    picks = 0,
    unresolved = 0,
    counted = 0;
  const excess: number[] = [],
    excessPct: number[] = [];
  for (let j = 0; j < n; j++) {
    // queries past the load phases' ones, so none is a repeat
    const q = query(g, seed, 10_000_000 + j, k, radiusM);
    const truth = await call<any>(c, 'nearby', { mapId, location: { lat: q.lat, lng: q.lng }, k, maxDistanceM: radiusM, filter });
    const rr = await redis.send(['GEOSEARCH', key, 'FROMLONLAT', q.lng.toFixed(7), q.lat.toFixed(7), 'BYRADIUS', radiusM, 'm', 'ASC', 'COUNT', k]);
    if (rr instanceof RedisError) throw rr;
    const rp = (rr as string[]) ?? [];
    const tIds: string[] = truth.drivers.map((d: any) => d.driver.driverId);
    if (tIds.length === 0 || rp.length === 0) continue;
    counted++;
    const inTruth = rp.filter((id) => tIds.includes(id)).length;
    overlapSum += inTruth / Math.min(k, tIds.length);
    overlapN++;
    if (inTruth === tIds.length && rp.length === tIds.length) allCorrect++;
    const wide = await call<any>(c, 'nearby', { mapId, location: { lat: q.lat, lng: q.lng }, k: 1000, maxDistanceM: 4 * radiusM, filter });
    const road = new Map<string, number>(wide.drivers.map((d: any) => [d.driver.driverId, d.distance_m ?? d.distanceM]));
    const farthest = wide.drivers.length ? (wide.drivers.at(-1).distance_m ?? wide.drivers.at(-1).distanceM) : 4 * radiusM;
    for (const id of rp) {
      picks++;
      const d = road.get(id);
      if (d === undefined || d > radiusM) beyond++;
    }
    const best = truth.drivers[0].distance_m ?? truth.drivers[0].distanceM;
    let first = road.get(rp[0]!);
    if (first === undefined) {
      unresolved++;
      first = farthest;
    }
    if (rp[0] !== tIds[0] && first! > best + 1e-6) firstWrong++;
    excess.push(first! - best);
    excessPct.push(best > 0 ? ((first! - best) / best) * 100 : 0);
  }
  c.close();
  const r1 = (x: number): number => +x.toFixed(1);
  return {
    queries: counted,
    k,
    radiusM,
    meanOverlap: +(overlapSum / Math.max(1, overlapN)).toFixed(3),
    allCorrectPct: r1((allCorrect / Math.max(1, counted)) * 100),
    firstWrongPct: r1((firstWrong / Math.max(1, counted)) * 100),
    firstExcessM: {
      p50: r1(quantile(excess, 0.5)),
      p90: r1(quantile(excess, 0.9)),
      p99: r1(quantile(excess, 0.99)),
      max: r1(Math.max(...excess)),
      mean: r1(excess.reduce((s, x) => s + x, 0) / Math.max(1, excess.length)),
    },
    firstExcessPct: { p50: r1(quantile(excessPct, 0.5)), p90: r1(quantile(excessPct, 0.9)) },
    picksBeyondRoadRadiusPct: r1((beyond / Math.max(1, picks)) * 100),
    firstUnresolved: unresolved,
  };
}
