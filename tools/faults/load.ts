// The steady load the fault scenarios run under (issue 15: at least 10,000
// streamed updates/s and 200 nearby/s), shared by the e2e fault tests and
// bench/system/chaos.ts. Open loop on a fixed tick: each tick one
// StreamDriverUpdates call per instance sent through (one batch, a map in
// turn) and the tick's share of Nearby calls spread over the instances, each
// with its deadline; past `maxInFlight` calls in flight a tick's calls are
// not sent (counted as shed), so a frozen instance cannot pile up calls
// without bound. Records every call's outcome, and per driver the newest
// acknowledged (timestamp, position) and the newest timestamp sent at all
// (a call that failed may still have been applied), which is what replicas
// are checked against after a fault.
import { call, nearRoad, statusName, streamBatch, type FarosClient } from './client.js';
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { mulberry32 } from '../../src/rng.js';

export interface LoadOptions {
  /** The current client of each instance (a restarted instance may get a new one). */
  clients: () => FarosClient[];
  /** The instances to send through now (default: all). */
  via?: () => number[];
  maps: { mapId: string; graph: RoadGraph }[];
  driversPerMap: number;
  updatesPerS: number;
  nearbyPerS: number;
  tickMs?: number;
  updateDeadlineMs?: number;
  nearbyDeadlineMs?: number;
  maxInFlight?: number;
  seed?: number;
  /** The rates grow linearly from 0 over this long (default 0): a cluster that just started is not hit by the whole load at once. */
  rampMs?: number;
  /** Driver IDs are `${prefix}${mapId}:d${n}`. */
  prefix?: string;
}

export interface Outcome {
  kind: 'update' | 'nearby';
  via: number;
  mapId: string;
  /** Start (epoch ms) and duration. */
  start: number;
  ms: number;
  /** 'OK', a gRPC status name, or 'items CODE' for a batch with items refused for availability. */
  code: string;
}

export interface DriverState {
  mapId: string;
  driverId: string;
  ts: number;
  lat: number;
  lng: number;
  /** When the acknowledgement arrived (epoch ms) and through which instance. */
  ackedAt: number;
  via: number;
}

export interface LoadSummary {
  ms: number;
  calls: number;
  updatesAcceptedPerS: number;
  nearbyOkPerS: number;
  failed: Record<string, number>;
  itemsRejected: Record<string, number>;
  shed: number;
  updateP50: number;
  updateP99: number;
  nearbyP50: number;
  nearbyP99: number;
}

export const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SteadyLoad {
  readonly outcomes: Outcome[] = [];
  /** Newest acknowledged state per `${mapId}/${driverId}`. */
  readonly acked = new Map<string, DriverState>();
  /** Newest timestamp sent per `${mapId}/${driverId}`, acknowledged or not. */
  readonly sentMax = new Map<string, number>();
  private readonly acceptedAt: { at: number; n: number }[] = [];
  private readonly rejected: { at: number; code: string }[] = [];
  private readonly shedAt: number[] = [];
  private readonly running = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private on = false;
  private readonly rnd: () => number;
  private readonly seq: Record<string, number> = {};
  startedAt = 0;

  constructor(private readonly o: LoadOptions) {
    this.rnd = mulberry32(o.seed ?? 15);
  }

  /** The drivers this load writes, per map. */
  driverIds(mapId: string): string[] {
    return Array.from({ length: this.o.driversPerMap }, (_, d) => `${this.o.prefix ?? ''}${mapId}:d${d}`);
  }

  start(): void {
    if (this.on) return;
    this.on = true;
    this.startedAt = Date.now();
    this.loop = this.run();
  }

  /** Stop sending and wait for the calls in flight. */
  async stop(): Promise<void> {
    this.on = false;
    await this.loop;
    await Promise.all([...this.running]);
  }

  get inFlight(): number {
    return this.running.size;
  }

  private track(kind: Outcome['kind'], via: number, mapId: string, p: Promise<string>): void {
    const start = Date.now();
    const done = p.then(
      (code) => {
        this.outcomes.push({ kind, via, mapId, start, ms: Date.now() - start, code });
      },
      (e: { code?: number | string }) => {
        this.outcomes.push({ kind, via, mapId, start, ms: Date.now() - start, code: statusName(e) });
      },
    );
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
  }

  private async run(): Promise<void> {
    const o = this.o;
    const tickMs = o.tickMs ?? 100;
    const maxInFlight = o.maxInFlight ?? 60;
    const maps = o.maps;
    const graphs = new Map(maps.map((m) => [m.mapId, m.graph]));
    for (const m of maps) this.seq[m.mapId] ??= 0;
    let tick = 0;
    let nearbyDebt = 0;
    while (this.on) {
      const wait = this.startedAt + tick * tickMs - Date.now();
      if (wait > 0) await sleep(wait);
      if (!this.on) break;
      tick++;
      const clients = o.clients();
      const via = o.via?.() ?? clients.map((_, i) => i);
      if (via.length === 0) continue;
      const ramp = o.rampMs ? Math.min(1, (Date.now() - this.startedAt) / o.rampMs) : 1;
      const perBatch = Math.max(1, Math.round((ramp * o.updatesPerS * tickMs) / 1000 / via.length));
      for (const [k, i] of via.entries()) {
        if (this.running.size >= maxInFlight) {
          this.shedAt.push(Date.now());
          continue;
        }
        const mapId = maps[(tick + k) % maps.length]!.mapId;
        this.sendBatch(clients[i]!, i, mapId, graphs.get(mapId)!, perBatch);
      }
      nearbyDebt += (ramp * o.nearbyPerS * tickMs) / 1000;
      for (let q = 0; nearbyDebt >= 1; q++, nearbyDebt--) {
        if (this.running.size >= maxInFlight) {
          this.shedAt.push(Date.now());
          continue;
        }
        const i = via[(tick + q) % via.length]!;
        const mapId = maps[q % maps.length]!.mapId;
        const loc = nearRoad(graphs.get(mapId)!, this.rnd, 0.0002);
        this.track(
          'nearby',
          i,
          mapId,
          call(clients[i]!, 'nearby', { mapId, location: loc, k: 5 }, o.nearbyDeadlineMs ?? 2000).then(() => 'OK'),
        );
      }
    }
  }

  private sendBatch(client: FarosClient, via: number, mapId: string, graph: RoadGraph, n: number): void {
    const now = Date.now();
    const items: DriverState[] = [];
    for (let j = 0; j < n; j++) {
      const d = this.seq[mapId]!++ % this.o.driversPerMap;
      const driverId = `${this.o.prefix ?? ''}${mapId}:d${d}`;
      const key = `${mapId}/${driverId}`;
      // Strictly increasing per driver, so "newest" is never a tie.
      const ts = Math.max(now, (this.sentMax.get(key) ?? 0) + 1);
      this.sentMax.set(key, ts);
      items.push({ mapId, driverId, ts, ...nearRoad(graph, this.rnd, 0.0002), ackedAt: 0, via });
    }
    const req = items.map((x) => ({
      mapId,
      driverId: x.driverId,
      location: { lat: x.lat, lng: x.lng },
      timestampMs: String(x.ts),
      metadata: { status: 'available' },
    }));
    this.track(
      'update',
      via,
      mapId,
      streamBatch(client, req, this.o.updateDeadlineMs ?? 2000).then((r) => {
        const at = Date.now();
        const refused = new Set<number>();
        let unavailable = '';
        for (const x of r.rejected) {
          refused.add(x.index);
          this.rejected.push({ at, code: x.code });
          if (x.code !== 'OUT_OF_RANGE' && x.code !== 'INVALID_ARGUMENT') unavailable ||= x.code;
        }
        this.acceptedAt.push({ at, n: r.accepted });
        for (const [j, x] of items.entries()) {
          if (refused.has(j)) continue;
          const key = `${mapId}/${x.driverId}`;
          const prev = this.acked.get(key);
          if (!prev || prev.ts < x.ts) this.acked.set(key, { ...x, ackedAt: at });
        }
        return unavailable ? `items ${unavailable}` : 'OK';
      }),
    );
  }

  /** Figures of the calls started in [from, to) (epoch ms; default: the whole run). */
  summary(from = this.startedAt, to = Date.now()): LoadSummary {
    const os = this.outcomes.filter((x) => x.start >= from && x.start < to);
    const ms = Math.max(1, to - from);
    const failed: Record<string, number> = {};
    for (const x of os) if (x.code !== 'OK') failed[`${x.kind} ${x.code}`] = (failed[`${x.kind} ${x.code}`] ?? 0) + 1;
    const itemsRejected: Record<string, number> = {};
    for (const x of this.rejected) if (x.at >= from && x.at < to) itemsRejected[x.code] = (itemsRejected[x.code] ?? 0) + 1;
    const accepted = this.acceptedAt.filter((x) => x.at >= from && x.at < to).reduce((a, x) => a + x.n, 0);
    const ok = (k: Outcome['kind']) => os.filter((x) => x.kind === k && x.code === 'OK').map((x) => x.ms);
    const upd = ok('update'),
      near = ok('nearby');
    return {
      ms,
      calls: os.length,
      updatesAcceptedPerS: Math.round((accepted * 1000) / ms),
      nearbyOkPerS: Math.round((near.length * 1000) / ms),
      failed,
      itemsRejected,
      shed: this.shedAt.filter((x) => x >= from && x < to).length,
      updateP50: pct(upd, 50),
      updateP99: pct(upd, 99),
      nearbyP50: pct(near, 50),
      nearbyP99: pct(near, 99),
    };
  }

  /** One line of figures, the offered rates beside what was reached. */
  describe(s: LoadSummary = this.summary()): string {
    return (
      `offered ${this.o.updatesPerS} updates/s + ${this.o.nearbyPerS} nearby/s; reached ${s.updatesAcceptedPerS} accepted updates/s + ${s.nearbyOkPerS} nearby/s ` +
      `over ${(s.ms / 1000).toFixed(1)} s (${s.calls} calls, ${s.shed} shed); update batch P50 ${s.updateP50} ms P99 ${s.updateP99} ms, nearby P50 ${s.nearbyP50} ms ` +
      `P99 ${s.nearbyP99} ms; failed ${JSON.stringify(s.failed)}; items refused ${JSON.stringify(s.itemsRejected)}`
    );
  }
}

/** Offered rates: the 10,000 updates/s and 200 nearby/s unless FAROS_LOAD_UPDATES_PER_S / FAROS_LOAD_NEARBY_PER_S say otherwise. */
export const OFFERED = {
  updatesPerS: Number(process.env.FAROS_LOAD_UPDATES_PER_S ?? 10_000),
  nearbyPerS: Number(process.env.FAROS_LOAD_NEARBY_PER_S ?? 200),
};
