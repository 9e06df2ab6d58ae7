// KNN latency measurement shared by bench/micro/knn.ts and bench/micro/scaling.ts:
// seeded drivers and queries near random road vertices, per-query timing.
import { performance } from 'node:perf_hooks';
import { Model } from '../../src/model/model.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import type { Metric } from '../../src/model/types.js';
import { type Rng, gc, max, median, pointsNearRoads, quantile, sink } from './common.js';

export const NOISE_M = 30;
export const K = 10;
export const LIMIT_M = 3000;
/** ETA limit: 3 km at ~36 km/h. */
export const LIMIT_S = 300;

export interface KnnLatency {
  metric: Metric;
  queries: number;
  p50us: number;
  p90us: number;
  p99us: number;
  maxUs: number;
  over1ms: number;
  /** Process CPU time per query (getrusage): excludes time the OS ran someone else on a shared machine. */
  cpuP50us: number;
  cpuP99us: number;
  edgesExpandedP50: number;
  edgesExpandedP99: number;
  candidatesSeenP50: number;
  candidatesSeenP99: number;
  foundP50: number;
  queriesPerS: number;
}

export interface PlacedModel {
  model: Model;
  placed: number;
  refused: number;
  placeMs: number;
  nowMs: number;
}

/** A model with `n` drivers within NOISE_M of random road vertices. */
export function placeDrivers(g: RoadGraph, n: number, rng: Rng): PlacedModel {
  const nowMs = 1_700_000_000_000;
  const model = new Model(g, { snapRadiusM: 200, ttlMs: 3_600_000 });
  const pts = pointsNearRoads(g, rng, n, NOISE_M);
  let refused = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = model.update({ driverId: `driver-${i}`, lat: pts[2 * i]!, lng: pts[2 * i + 1]!, timestampMs: nowMs, metadata: {} });
    if (!r.ok) refused++;
  }
  return { model, placed: n - refused, refused, placeMs: performance.now() - t0, nowMs };
}

/** Time `queries` nearby() calls one by one after `warmup` untimed ones. */
export function measureKnn(p: PlacedModel, metric: Metric, queries: number, warmup: number, rng: Rng): KnnLatency {
  const g = p.model.graph;
  const pts = pointsNearRoads(g, rng, warmup + queries, NOISE_M);
  const q = { lat: 0, lng: 0, k: K, metric, maxDistanceM: LIMIT_M, maxEtaS: LIMIT_S, nowMs: p.nowMs };
  for (let i = 0; i < warmup; i++) {
    q.lat = pts[2 * i]!;
    q.lng = pts[2 * i + 1]!;
    const r = p.model.nearby(q);
    if (r.ok) sink.v += r.drivers.length;
  }
  const us = new Float64Array(queries),
    cpu = new Float64Array(queries),
    edges = new Float64Array(queries),
    cands = new Float64Array(queries),
    found = new Float64Array(queries);
  gc();
  const t0 = performance.now();
  for (let i = 0; i < queries; i++) {
    const j = warmup + i;
    q.lat = pts[2 * j]!;
    q.lng = pts[2 * j + 1]!;
    const c0 = process.cpuUsage();
    const s = performance.now();
    const r = p.model.nearby(q);
    us[i] = (performance.now() - s) * 1000;
    const c1 = process.cpuUsage(c0);
    cpu[i] = c1.user + c1.system;
    if (r.ok) {
      edges[i] = r.stats.edgesExpanded;
      cands[i] = r.stats.candidatesSeen;
      found[i] = r.drivers.length;
      sink.v += r.drivers.length;
    }
  }
  const total = performance.now() - t0;
  let over1ms = 0;
  for (const x of us) if (x > 1000) over1ms++;
  return {
    metric,
    queries,
    p50us: median(us),
    p90us: quantile(us, 0.9),
    p99us: quantile(us, 0.99),
    maxUs: max(us),
    over1ms,
    cpuP50us: median(cpu),
    cpuP99us: quantile(cpu, 0.99),
    edgesExpandedP50: median(edges),
    edgesExpandedP99: quantile(edges, 0.99),
    candidatesSeenP50: median(cands),
    candidatesSeenP99: quantile(cands, 0.99),
    foundP50: median(found),
    queriesPerS: queries / (total / 1000),
  };
}
