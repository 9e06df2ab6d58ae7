// Every Prometheus metric of the process, defined here and nowhere else.
// Names: faros_<what>_<base unit>, counters end in _total. Hot paths use
// pre-bound children (a label lookup per observe costs more than the observe).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import type { MapInfoView } from './node/host.js';
import { FastHistogram } from './fast-histogram.js';

export type UpdateResultLabel = 'applied' | 'stale' | 'refused_out_of_range' | 'invalid';
export type NearbyResultLabel = 'ok' | 'refused_out_of_range' | 'invalid' | 'error';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Per-map children, bound once when the map is configured. */
export interface MapMetrics {
  updates: Record<UpdateResultLabel, { inc(n?: number): void }>;
  nearby: Record<NearbyResultLabel, { inc(n?: number): void }>;
  snapDistance: { observe(v: number): void };
  edgesExpanded: { observe(v: number): void };
}

export interface ClusterFigures {
  members: number;
  failovers: number;
  /** Reads also sent to the next replica because the first was slow to answer. */
  hedges?: number;
  forwarded: { sent: number; dropped: number };
  /** Membership counters (monotonic) and members kept live only by indirect probes now. */
  membership?: { indirectSent: number; indirectReachable: number; evictions: number; indirectOnly: number };
  /** Each live peer's clock minus this instance's (ms), from the last probe. */
  clockSkews?: { peer: string; ms: number }[];
  /** Anti-entropy (src/node/anti-entropy.ts): counters (monotonic) and per-map times. */
  antiEntropy?: {
    rounds: { equal: number; repaired: number; failed: number };
    repaired: { record: number; remove: number };
    buckets: number;
    lastEqual: ReadonlyMap<string, number>;
    lastConvergeMs: ReadonlyMap<string, number>;
  };
}

/** One shard's watch counters; `key` names the shard's life (counters restart with a new one). */
export interface WatchFigures {
  mapId: string;
  key: string;
  open: number;
  evaluations: number;
  judged: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly loop: IntervalHistogram;
  private readonly perMap = new Map<string, MapMetrics>();
  private readonly callChildren = new Map<string, { count: { inc(): void }; duration: { observe(v: number): void } }>();

  readonly grpcRequests = new Counter({
    name: 'faros_grpc_requests_total',
    help: 'gRPC calls finished, by method and status code name',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  readonly grpcDuration = new Histogram({
    name: 'faros_grpc_request_duration_seconds',
    help: 'gRPC call latency (a stream counts per batch)',
    labelNames: ['method', 'code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'faros_http_requests_total',
    help: 'HTTP requests finished, by method (RPC or route name) and HTTP status',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'faros_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly updates = new Counter({
    name: 'faros_updates_total',
    help: 'Driver updates by map and result',
    labelNames: ['map_id', 'result'] as const,
    registers: [this.registry],
  });
  readonly nearby = new Counter({
    name: 'faros_nearby_total',
    help: 'Nearby queries by map and result',
    labelNames: ['map_id', 'result'] as const,
    registers: [this.registry],
  });
  // Observed per update / per query: FastHistogram (no label hashing per observe).
  readonly snapDistance = new FastHistogram({
    name: 'faros_snap_distance_meters',
    help: 'Distance from a reported point to the road it snapped onto',
    labelName: 'map_id',
    buckets: [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });
  readonly edgesExpanded = new FastHistogram({
    name: 'faros_nearby_edges_expanded',
    help: 'Road graph edges expanded per nearby query',
    labelName: 'map_id',
    buckets: [1, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000],
    registers: [this.registry],
  });
  readonly nearbyPhase = new FastHistogram({
    name: 'faros_nearby_phase_seconds',
    help: "Where a nearby query's time goes in this process: queued (waiting for a search thread), search (on it), reply (answer waiting for the event loop)",
    labelName: 'phase',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly phaseSeries = {
    queued: this.nearbyPhase.labels('queued'),
    search: this.nearbyPhase.labels('search'),
    reply: this.nearbyPhase.labels('reply'),
  };
  readonly inFlight = new Gauge({
    name: 'faros_in_flight_requests',
    help: 'Calls and stream batches being worked on, per port (grpc, http, peer)',
    labelNames: ['port'] as const,
    registers: [this.registry],
  });
  readonly liveStreams = new Gauge({
    name: 'faros_live_streams',
    help: "The map page's live-driver streams (GET /v1/maps/{map_id}/live) open on this instance",
    registers: [this.registry],
  });
  readonly liveDropped = new Counter({
    name: 'faros_live_dropped_total',
    help: 'Live-driver streams ended because their client did not read (more unsent bytes than the limit)',
    registers: [this.registry],
  });
  readonly peerRequests = new Counter({
    name: 'faros_peer_requests_total',
    help: 'Calls other instances made on the peer port, by method and status code name',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  readonly peerDuration = new Histogram({
    name: 'faros_peer_request_duration_seconds',
    help: 'Peer call latency on this instance',
    labelNames: ['method', 'code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly snapshotPulls = new Gauge({
    name: 'faros_snapshot_pulls_active',
    help: 'State-transfer pulls reading a pinned snapshot of this instance now',
    registers: [this.registry],
  });
  readonly tokenReloads = new Counter({
    name: 'faros_token_reloads_total',
    help: 'Reloads of the tokens file (SIGHUP), by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly tokens = new Gauge({ name: 'faros_tokens', help: 'Client tokens in force (0 when tokens are off)', registers: [this.registry] });
  private queueDepthSource: (() => number) | undefined;
  readonly workerQueueDepth: Gauge;
  readonly arenaBytes: Gauge<'map_id'>;
  readonly mapLoadSeconds = new Gauge({
    name: 'faros_map_load_seconds',
    help: 'Time to load (or compile) a map at start',
    labelNames: ['map_id'] as const,
    registers: [this.registry],
  });
  readonly mapReady = new Gauge({
    name: 'faros_map_ready',
    help: '1 when the map is loaded and served',
    labelNames: ['map_id'] as const,
    registers: [this.registry],
  });
  readonly drivers: Gauge<'map_id'>;
  // Cluster (zero / absent on a single instance).
  readonly transfers = new Counter({
    name: 'faros_state_transfers_total',
    help: 'State transfers (drivers pulled from a live replica) by map and result',
    labelNames: ['map_id', 'result'] as const,
    registers: [this.registry],
  });
  readonly transferDrivers = new Counter({
    name: 'faros_state_transfer_drivers_total',
    help: 'Drivers received by state transfer',
    labelNames: ['map_id'] as const,
    registers: [this.registry],
  });
  readonly transferSeconds = new Histogram({
    name: 'faros_state_transfer_duration_seconds',
    help: 'Time to pull one map snapshot from a replica',
    labelNames: ['map_id'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private clusterSource: (() => ClusterFigures) | undefined;
  private arenaSource: (() => { mapId: string; bytes: number }[]) | undefined;
  private internSource: (() => { mapId: string; drivers: number; metasets: number; strings: number }[]) | undefined;
  private watchSource: (() => WatchFigures[]) | undefined;
  /** WatchNearby calls open on this instance's public ports (relayed ones included). */
  readonly watchesOpen = new Gauge({
    name: 'faros_watches_open',
    help: 'WatchNearby calls open on this instance (clients connected here)',
    registers: [this.registry],
  });
  readonly watchMessages = new Counter({
    name: 'faros_watch_messages_total',
    help: 'WatchNearby messages sent to clients of this instance',
    registers: [this.registry],
  });
  readonly watchEnds = new Counter({
    name: 'faros_watch_ends_total',
    help: 'WatchNearby calls ended, by gRPC status code (CANCELLED: the client went away)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor(private readonly maps: () => MapInfoView[]) {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    // WATCH OUT: prom-client also exports three gauges named "..._total",
    // which promtool rejects (that suffix means a counter); the same values
    // are there without the suffix (nodejs_active_handles, ...).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.loop = monitorEventLoopDelay({ resolution: 10 });
    this.loop.enable();
    const self = this;
    new Gauge({
      name: 'faros_watches_served',
      help: "Watches served by this instance's replica of a map (its own clients' and relayed ones)",
      labelNames: ['map_id'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const w of self.watchSource?.() ?? []) this.inc({ map_id: w.mapId }, w.open);
      },
    });
    // Per shard life (a map dropped and loaded again counts from zero): the growth since the last scrape.
    const seenWatch = new Map<string, { evaluations: number; judged: number }>();
    const watchDelta = (kind: 'evaluations' | 'judged') =>
      function (this: Counter<'map_id'>) {
        for (const w of self.watchSource?.() ?? []) {
          let s = seenWatch.get(w.key);
          if (!s) seenWatch.set(w.key, (s = { evaluations: 0, judged: 0 }));
          if (w[kind] > s[kind]) {
            this.inc({ map_id: w.mapId }, w[kind] - s[kind]);
            s[kind] = w[kind];
          }
        }
      };
    new Counter({
      name: 'faros_watch_evaluations_total',
      help: 'Searches run for watches on this replica (first answers and re-evaluations)',
      labelNames: ['map_id'] as const,
      registers: [this.registry],
      collect: watchDelta('evaluations'),
    });
    new Counter({
      name: 'faros_watch_judged_total',
      help: "Changes inside a watch's region judged from its kept costs, without a search",
      labelNames: ['map_id'] as const,
      registers: [this.registry],
      collect: watchDelta('judged'),
    });
    this.workerQueueDepth = new Gauge({
      name: 'faros_worker_queue_depth',
      help: 'Tasks waiting for a worker thread',
      registers: [this.registry],
      collect() {
        if (self.queueDepthSource) this.set(self.queueDepthSource());
      },
    });
    this.drivers = new Gauge({
      name: 'faros_drivers',
      help: 'Drivers stored per map (collected on scrape)',
      labelNames: ['map_id'] as const,
      registers: [this.registry],
      collect() {
        for (const m of self.maps()) this.set({ map_id: m.mapId }, m.drivers);
      },
    });
    new Gauge({
      name: 'faros_cluster_members',
      help: "Live members in this instance's route table (1 when not clustered)",
      registers: [this.registry],
      collect() {
        this.set(self.clusterSource ? self.clusterSource().members : 1);
      },
    });
    let lastHedges = 0;
    new Counter({
      name: 'faros_replica_hedges_total',
      help: 'Proxied reads also sent to the next replica because the first had not answered within 4x its usual latency',
      registers: [this.registry],
      collect() {
        const h = self.clusterSource?.().hedges ?? 0;
        if (h > lastHedges) {
          this.inc(h - lastHedges);
          lastHedges = h;
        }
      },
    });
    let lastFailovers = 0;
    new Counter({
      name: 'faros_replica_failovers_total',
      help: 'Calls retried on another replica after one failed or was too slow',
      registers: [this.registry],
      collect() {
        const f = self.clusterSource?.().failovers ?? 0;
        if (f > lastFailovers) {
          this.inc(f - lastFailovers);
          lastFailovers = f;
        }
      },
    });
    const seen = { sent: 0, dropped: 0 };
    new Counter({
      name: 'faros_forwarded_updates_total',
      help: 'Driver records forwarded to other replicas, by result',
      labelNames: ['result'] as const,
      registers: [this.registry],
      collect() {
        const f = self.clusterSource?.().forwarded;
        if (!f) return;
        if (f.sent > seen.sent) {
          this.inc({ result: 'sent' }, f.sent - seen.sent);
          seen.sent = f.sent;
        }
        if (f.dropped > seen.dropped) {
          this.inc({ result: 'dropped' }, f.dropped - seen.dropped);
          seen.dropped = f.dropped;
        }
      },
    });
    // Membership under partial failures (src/membership/membership.ts).
    const counterOf = (name: string, help: string, pick: (m: NonNullable<ClusterFigures['membership']>) => number): void => {
      let last = 0;
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const m = self.clusterSource?.().membership;
          if (!m) return;
          const v = pick(m);
          if (v > last) {
            this.inc(v - last);
            last = v;
          }
        },
      });
    };
    counterOf(
      'faros_membership_indirect_probes_total',
      'Indirect probes (Peer.ProbeVia) this instance asked other members to make of a member that failed its own probes',
      (m) => m.indirectSent,
    );
    counterOf(
      'faros_membership_indirect_reachable_total',
      'Indirect probes whose helper reached the member (it stayed live though this instance could not reach it)',
      (m) => m.indirectReachable,
    );
    counterOf(
      'faros_membership_evictions_total',
      'Members this instance removed from its live set (no direct or indirect probe reached them)',
      (m) => m.evictions,
    );
    new Gauge({
      name: 'faros_membership_indirect_only_members',
      help: 'Live members this instance cannot reach itself but other members still reach (a one-way or partial partition)',
      registers: [this.registry],
      collect() {
        this.set(self.clusterSource?.().membership?.indirectOnly ?? 0);
      },
    });
    new Gauge({
      name: 'faros_peer_clock_skew_seconds',
      help: "Each live peer's wall clock minus this instance's, estimated at every probe as its clock - (sent + round trip / 2)",
      labelNames: ['peer'] as const,
      registers: [this.registry],
      collect() {
        const skews = self.clusterSource?.().clockSkews;
        if (!skews) return;
        this.reset();
        for (const x of skews) this.set({ peer: x.peer }, x.ms / 1000);
      },
    });
    // Anti-entropy (src/node/anti-entropy.ts).
    const aeSeen = { equal: 0, repaired: 0, failed: 0, record: 0, remove: 0, buckets: 0 };
    const bump = (c: Counter<string>, key: keyof typeof aeSeen, v: number, labels?: Record<string, string>): void => {
      if (v <= aeSeen[key]) return;
      if (labels) c.inc(labels, v - aeSeen[key]);
      else c.inc(v - aeSeen[key]);
      aeSeen[key] = v;
    };
    new Counter({
      name: 'faros_anti_entropy_rounds_total',
      help: 'Digest comparisons of a map with another replica, by result (equal, repaired: buckets differed and were pulled, failed)',
      labelNames: ['result'] as const,
      registers: [this.registry],
      collect() {
        const a = self.clusterSource?.().antiEntropy;
        if (!a) return;
        for (const k of ['equal', 'repaired', 'failed'] as const) bump(this, k, a.rounds[k], { result: k });
      },
    });
    new Counter({
      name: 'faros_anti_entropy_repaired_records_total',
      help: 'Drivers this instance stored (kind=record) or removed (kind=remove) because another replica held a newer state',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        const a = self.clusterSource?.().antiEntropy;
        if (!a) return;
        for (const k of ['record', 'remove'] as const) bump(this, k, a.repaired[k], { kind: k });
      },
    });
    new Counter({
      name: 'faros_anti_entropy_buckets_pulled_total',
      help: 'Digest buckets (1/256 of a map each) pulled from another replica because they differed',
      registers: [this.registry],
      collect() {
        const a = self.clusterSource?.().antiEntropy;
        if (a) bump(this, 'buckets', a.buckets);
      },
    });
    new Gauge({
      name: 'faros_anti_entropy_last_converged_seconds',
      help: "Seconds since a comparison last found this instance's replica of the map equal to another replica's",
      labelNames: ['map_id'] as const,
      registers: [this.registry],
      collect() {
        const a = self.clusterSource?.().antiEntropy;
        if (!a) return;
        const now = Date.now();
        for (const [mapId, at] of a.lastEqual) this.set({ map_id: mapId }, (now - at) / 1000);
      },
    });
    new Gauge({
      name: 'faros_anti_entropy_converge_seconds',
      help: 'The last divergence of the map on this instance: from the first comparison that found a difference to the next that found none',
      labelNames: ['map_id'] as const,
      registers: [this.registry],
      collect() {
        const a = self.clusterSource?.().antiEntropy;
        if (!a) return;
        for (const [mapId, ms] of a.lastConvergeMs) this.set({ map_id: mapId }, ms / 1000);
      },
    });
    this.arenaBytes = new Gauge({
      name: 'faros_arena_bytes',
      help: 'Driver store arena bytes in use (high-water mark) per map',
      labelNames: ['map_id'] as const,
      registers: [this.registry],
      collect() {
        if (self.arenaSource) {
          this.reset();
          for (const a of self.arenaSource()) this.set({ map_id: a.mapId }, a.bytes);
        }
      },
    });
    new Gauge({
      name: 'faros_interned',
      help: 'Interned driver IDs, metadata sets and strings in use per map (reclaimed when no stored driver uses them)',
      labelNames: ['map_id', 'kind'] as const,
      registers: [this.registry],
      collect() {
        if (!self.internSource) return;
        this.reset();
        for (const x of self.internSource()) {
          this.set({ map_id: x.mapId, kind: 'driver_ids' }, x.drivers);
          this.set({ map_id: x.mapId, kind: 'metadata_sets' }, x.metasets);
          this.set({ map_id: x.mapId, kind: 'strings' }, x.strings);
        }
      },
    });
    // Collected in registration order: max, then p99, which resets the window.
    new Gauge({
      name: 'faros_event_loop_delay_max_seconds',
      help: 'Largest event-loop delay since the previous scrape',
      registers: [this.registry],
      collect() {
        this.set(self.loop.max / 1e9);
      },
    });
    new Gauge({
      name: 'faros_event_loop_delay_p99_seconds',
      help: 'P99 event-loop delay since the previous scrape',
      registers: [this.registry],
      collect() {
        this.set(self.loop.percentile(99) / 1e9);
        self.loop.reset();
      },
    });
  }

  /** Pre-bound children for one map; call once per configured map. */
  forMap(mapId: string): MapMetrics {
    let m = this.perMap.get(mapId);
    if (m) return m;
    const u = (result: UpdateResultLabel) => this.updates.labels({ map_id: mapId, result });
    const n = (result: NearbyResultLabel) => this.nearby.labels({ map_id: mapId, result });
    m = {
      updates: { applied: u('applied'), stale: u('stale'), refused_out_of_range: u('refused_out_of_range'), invalid: u('invalid') },
      nearby: { ok: n('ok'), refused_out_of_range: n('refused_out_of_range'), invalid: n('invalid'), error: n('error') },
      snapDistance: this.snapDistance.labels(mapId),
      edgesExpanded: this.edgesExpanded.labels(mapId),
    };
    for (const k of Object.keys(m.updates) as UpdateResultLabel[]) m.updates[k].inc(0);
    this.perMap.set(mapId, m);
    return m;
  }

  /** Per-map children, or undefined for a map this process does not know (no label explosion from bad input). */
  knownMap(mapId: string): MapMetrics | undefined {
    return this.perMap.get(mapId);
  }

  /** Count and time one call; children are cached per (protocol, method, code). */
  observeCall(protocol: 'grpc' | 'http' | 'peer', method: string, code: string | number, seconds: number): void {
    const key = `${protocol} ${method} ${code}`;
    let c = this.callChildren.get(key);
    if (!c) {
      const labels: LabelValues<'method' | 'code'> = { method, code: String(code) };
      c =
        protocol === 'grpc'
          ? { count: this.grpcRequests.labels(labels), duration: this.grpcDuration.labels(labels) }
          : protocol === 'peer'
            ? { count: this.peerRequests.labels(labels), duration: this.peerDuration.labels(labels) }
            : { count: this.httpRequests.labels(labels), duration: this.httpDuration.labels(labels) };
      this.callChildren.set(key, c);
    }
    c.count.inc();
    c.duration.observe(seconds);
  }

  /** One threaded search's phases (µs), as Searchers reports them. */
  observeNearbyPhases(p: { queuedUs: number; searchUs: number; replyUs: number }): void {
    this.phaseSeries.queued.observe(p.queuedUs / 1e6);
    this.phaseSeries.search.observe(p.searchUs / 1e6);
    this.phaseSeries.reply.observe(p.replyUs / 1e6);
  }

  /** For the host (worker pool) to report its queue: a value, or a source read on every scrape. */
  setWorkerQueueDepth(n: number): void {
    this.workerQueueDepth.set(n);
  }
  setWorkerQueueDepthSource(fn: () => number): void {
    this.queueDepthSource = fn;
  }
  setArenaBytes(mapId: string, bytes: number): void {
    this.arenaBytes.set({ map_id: mapId }, bytes);
  }
  setMapLoadSeconds(mapId: string, s: number): void {
    this.mapLoadSeconds.set({ map_id: mapId }, s);
  }
  setMapReady(mapId: string, ready: boolean): void {
    this.mapReady.set({ map_id: mapId }, ready ? 1 : 0);
  }

  observeTransfer(mapId: string, ok: boolean, drivers: number, seconds: number): void {
    this.transfers.inc({ map_id: mapId, result: ok ? 'ok' : 'failed' });
    if (ok) {
      this.transferDrivers.inc({ map_id: mapId }, drivers);
      this.transferSeconds.observe({ map_id: mapId }, seconds);
    }
  }
  setClusterSource(fn: () => ClusterFigures): void {
    this.clusterSource = fn;
  }
  setArenaSource(fn: () => { mapId: string; bytes: number }[]): void {
    this.arenaSource = fn;
  }
  setWatchSource(fn: () => WatchFigures[]): void {
    this.watchSource = fn;
  }
  setInternSource(fn: () => { mapId: string; drivers: number; metasets: number; strings: number }[]): void {
    this.internSource = fn;
  }

  contentType(): string {
    return this.registry.contentType;
  }
  text(): Promise<string> {
    return this.registry.metrics();
  }
  close(): void {
    this.loop.disable();
  }
}
