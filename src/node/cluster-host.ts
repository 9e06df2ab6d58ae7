// A cluster instance: which maps it holds (membership -> route table ->
// ShardSet, with state transfer), and the Router that carries every request
// to the replicas of its map (src/proxy/router.ts).
import { quote } from '../quote.js';
import type { Log } from '../mapbuild/build.js';
import type { MapEntry } from '../mapbuild/catalog.js';
import { WorkerPool } from '../threads/pool.js';
import type {
  CallOptions,
  DriverUpdate,
  DriverView,
  NearbyItem,
  NearbyOutcome,
  NearbyQuery,
  UpdateResult,
  WatchHandle,
  WatchParams,
  WatchSink,
} from '../model/types.js';
import { FarosError } from '../errors.js';
import { Membership } from '../membership/membership.js';
import { RouteTable } from '../proxy/route-table.js';
import { PeerClient, type StatusMsg } from '../proxy/peer-client.js';
import type { PeerCredentials } from '../proxy/peer-tls.js';
import { Router } from '../proxy/router.js';
import type { PeerHost } from '../proxy/peer-service.js';
import type { Shard } from '../threads/shard.js';
import { ShardSet, type TransferEvent } from './shards.js';
import { AntiEntropy } from './anti-entropy.js';
import type { MapInfoView, ShardHost } from './host.js';

export interface ClusterHostOptions {
  /** Advertised address (host:grpcPort): member identity and served_by. */
  self: string;
  catalog: readonly MapEntry[];
  replication: number;
  seeds: readonly string[];
  dns?: { name: string; port: number };
  probeIntervalMs: number;
  probeTimeoutMs: number;
  suspectMs: number;
  /** Members asked to probe a member that fails our direct probes before it is evicted (SWIM's k). */
  indirectProbes: number;
  dropGraceMs: number;
  /** Per attempt when a call goes to another replica. */
  perTryTimeoutMs: number;
  /** Between anti-entropy rounds (digest comparison with another replica of each map); 0 = off. */
  antiEntropyMs?: number;
  /** How this instance calls others (mutual TLS). */
  peerCredentials: PeerCredentials;
  workers?: number;
  /** Nearby search threads; default = workers. */
  searchThreads?: number;
  /** See PoolOptions.inlineSearchMs. */
  inlineSearchMs?: number;
  maxQueue?: number;
  /** See ShardOptions.naiveWatches. */
  naiveWatches?: boolean;
  cacheDir?: string;
  arenaBytes?: number;
  log: Log;
  onTransfer?: (e: TransferEvent) => void;
  onMapReady?: (mapId: string, ms: number) => void;
  onStateChange?: () => void;
}

/** How long a closing instance waits for its forward queues to empty. */
const FORWARD_DRAIN_MS = 2000;

export class ClusterHost implements ShardHost, PeerHost {
  readonly name: string;
  readonly pool: WorkerPool;
  readonly shards: ShardSet;
  readonly router: Router;
  readonly membership: Membership;
  readonly antiEntropy: AntiEntropy;
  private table: RouteTable;
  private readonly clients = new Map<string, PeerClient>();
  private readonly catalog = new Map<string, MapEntry>();
  private started = false;
  readonly stats = { tableChanges: 0 };

  constructor(private readonly o: ClusterHostOptions) {
    this.name = o.self;
    for (const m of o.catalog) this.catalog.set(m.id, m);
    this.pool = new WorkerPool({ threads: o.workers, searchThreads: o.searchThreads, maxQueue: o.maxQueue, log: o.log, inlineSearchMs: o.inlineSearchMs });
    this.shards = new ShardSet({
      pool: this.pool,
      cacheDir: o.cacheDir,
      log: o.log,
      arenaBytes: o.arenaBytes,
      naiveWatches: o.naiveWatches,
      dropGraceMs: o.dropGraceMs,
      onTransfer: o.onTransfer,
      onMapReady: o.onMapReady,
      onStateChange: o.onStateChange,
      self: o.self,
      catchUpMs: 2 * (o.suspectMs + o.probeIntervalMs + o.probeTimeoutMs),
    });
    this.router = new Router({
      self: o.self,
      table: () => this.table,
      client: (a) => this.client(a),
      isLive: (peer) => this.membership.live().includes(peer),
      reachable: (peer) => this.membership.reachesDirectly(peer),
      writable: (mapId) => this.shards.writable(mapId),
      serving: (mapId) => this.shards.serving(mapId),
      perTryTimeoutMs: o.perTryTimeoutMs,
      pullerTtlMs: 4 * (o.suspectMs + o.probeIntervalMs + o.probeTimeoutMs),
      log: o.log,
    });
    this.membership = new Membership({
      self: o.self,
      seeds: o.seeds,
      dns: o.dns,
      probeIntervalMs: o.probeIntervalMs,
      probeTimeoutMs: o.probeTimeoutMs,
      suspectMs: o.suspectMs,
      indirectProbes: o.indirectProbes,
      client: (a) => this.client(a),
      log: o.log,
    });
    this.antiEntropy = new AntiEntropy({
      intervalMs: o.antiEntropyMs ?? 0,
      timeoutMs: Math.max(2000, o.perTryTimeoutMs),
      serving: () =>
        this.shards
          .all()
          .filter((r) => r.state === 'SERVING' && r.shard)
          .map((r) => ({ mapId: r.entry.id, shard: r.shard! })),
      peersOf: (mapId) => {
        const others = this.table.replicas(mapId).filter((m) => m !== this.name && this.membership.isLive(m));
        // A replica only other members reach now (a broken link) is asked only when no other is left.
        const direct = others.filter((m) => this.membership.reachesDirectly(m));
        return direct.length > 0 ? direct : others;
      },
      client: (a) => this.client(a),
      log: o.log,
    });
    this.table = new RouteTable([o.self], o.replication);
    this.membership.on('change', () => this.reconcile());
    this.membership.on('frozen', (ms: number) => {
      o.log(`this process was frozen for ${ms} ms: pulling every held map again from its other replicas`);
      this.shards.resync((mapId) => this.sources(mapId));
    });
  }

  client(address: string): PeerClient {
    let c = this.clients.get(address);
    if (!c) {
      c = new PeerClient(address, this.o.peerCredentials);
      this.clients.set(address, c);
    }
    return c;
  }

  get routeTable(): RouteTable {
    return this.table;
  }

  /** Probe the seeds once, build the first table, take the maps it assigns. */
  async start(): Promise<void> {
    await this.membership.start();
    this.started = true;
    this.reconcile();
    this.antiEntropy.start();
    // Resolve once the maps this instance holds serve (maps load in the background).
    while (!this.ready()) {
      const [id, err] = [...this.shards.failed][0] ?? [];
      if (err) throw new Error(`map ${id}: ${err.message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private reconcile(): void {
    if (!this.started) return;
    const next = new RouteTable(this.membership.live(), this.o.replication);
    if (!next.sameAs(this.table)) {
      this.stats.tableChanges++;
      this.o.log(`route table: members ${next.members.join(', ')} (replication ${this.o.replication})`);
    }
    const gone = this.table.members.filter((m) => !next.members.includes(m));
    this.table = next;
    for (const m of gone) this.router.forget(m);
    for (const entry of this.catalog.values()) {
      if (next.holds(this.name, entry.id)) this.shards.ensure(entry, () => this.sources(entry.id));
      else this.shards.release(entry.id);
    }
    this.o.onStateChange?.();
  }

  /** Live peers that serve mapId now (fresh status), replicas first. */
  async sources(mapId: string): Promise<PeerClient[]> {
    const live = this.membership.live().filter((m) => m !== this.name);
    const reps = this.table.replicas(mapId);
    live.sort((a, b) => Number(!reps.includes(a)) - Number(!reps.includes(b)));
    const serving = await Promise.all(
      live.map(async (m) => {
        try {
          const st = await this.client(m).status(this.o.probeTimeoutMs * 2);
          return st.maps.some((x) => x.mapId === mapId && (x.state === 'SERVING' || x.state === 'DRAINING')) ? m : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    return serving.filter((m): m is string => m !== undefined).map((m) => this.client(m));
  }

  replica(mapId: string): { state: string; writable?: Shard; serving?: Shard; exportable?: Shard } | undefined {
    const r = this.shards.get(mapId);
    return r && { state: r.state, writable: this.shards.writable(mapId), serving: this.shards.serving(mapId), exportable: this.shards.exportable(mapId) };
  }

  replicas(): { mapId: string; state: string; shard?: Shard }[] {
    return this.shards.all().map((r) => ({ mapId: r.entry.id, state: r.state, shard: r.shard }));
  }

  confirmMember(address: string): Promise<boolean> {
    return this.membership.confirm(address);
  }

  knowsMember(address: string): boolean {
    return this.membership.knows(address);
  }

  probeMember(address: string, timeoutMs: number): Promise<{ reachable: boolean; status?: StatusMsg; error?: string }> {
    return this.membership.probeFor(address, timeoutMs);
  }

  get probeTimeoutMs(): number {
    return this.o.probeTimeoutMs;
  }

  checkMap(mapId: string): void {
    if (!this.catalog.has(mapId)) throw new FarosError('NOT_FOUND', `unknown map ${quote(mapId)}; this cluster serves: ${[...this.catalog.keys()].join(', ')}`);
  }

  ready(): boolean {
    if (!this.started) return false;
    return [...this.catalog.keys()].every((id) => !this.table.holds(this.name, id) || this.shards.serving(id) !== undefined);
  }

  maps(): MapInfoView[] {
    return [...this.catalog.values()].map((entry) => {
      const reps = this.table.replicas(entry.id);
      const local = this.table.holds(this.name, entry.id) ? this.shards.serving(entry.id) : undefined;
      let drivers = local?.size;
      let bounds = local?.graph.meta.bounds;
      // Maps held elsewhere: what their replicas reported in the last probe.
      for (const r of reps) {
        const st = this.membership.statusOf(r)?.maps.find((m) => m.mapId === entry.id);
        if (!st) continue;
        drivers ??= Number(st.drivers);
        if (!bounds && st.bounds?.min && st.bounds.max)
          bounds = { minLat: st.bounds.min.lat, minLng: st.bounds.min.lng, maxLat: st.bounds.max.lat, maxLng: st.bounds.max.lng };
      }
      bounds ??= this.shards.get(entry.id)?.shard?.graph.meta.bounds;
      return {
        mapId: entry.id,
        profile: entry.profile,
        drivers: drivers ?? 0,
        bounds: bounds ?? { minLat: 0, minLng: 0, maxLat: 0, maxLng: 0 },
        replicas: [...reps],
      };
    });
  }

  // The request paths (ShardHost) and the routing half of PeerHost go to the router.
  update(mapId: string, updates: DriverUpdate[], opts?: CallOptions): Promise<UpdateResult[]> {
    this.checkMap(mapId);
    return this.router.update(mapId, updates, opts);
  }

  async remove(mapId: string, driverId: string): Promise<boolean> {
    this.checkMap(mapId);
    return this.router.remove(mapId, driverId);
  }

  async get(mapId: string, driverId: string, opts?: CallOptions): Promise<DriverView | undefined> {
    this.checkMap(mapId);
    return this.router.get(mapId, driverId, opts);
  }

  async nearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome> {
    this.checkMap(mapId);
    return this.router.nearby(mapId, q, opts);
  }

  async nearbyBatch(mapId: string, qs: readonly NearbyQuery[], opts?: CallOptions): Promise<NearbyItem[]> {
    this.checkMap(mapId);
    return this.router.nearbyBatch(mapId, qs, opts);
  }

  watch(mapId: string, q: NearbyQuery, params: WatchParams, sink: WatchSink): WatchHandle {
    this.checkMap(mapId);
    return this.router.watch(mapId, q, params, sink);
  }

  localNearbyBatch(mapId: string, qs: readonly NearbyQuery[], opts?: CallOptions): Promise<NearbyItem[]> {
    return this.router.localNearbyBatch(mapId, qs, opts);
  }

  localNearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome> {
    return this.router.localNearby(mapId, q, opts);
  }

  replicate(mapId: string, updates: readonly DriverUpdate[], results: readonly UpdateResult[], all?: CallOptions): Promise<void> {
    return this.router.replicate(mapId, updates, results, all);
  }

  forwardRemoves(mapId: string, driverIds: string[]): void {
    this.router.forwardRemoves(mapId, driverIds);
  }

  subscribe(mapId: string, peer: string): void {
    this.router.subscribe(mapId, peer);
  }

  localShard(mapId: string): Shard | undefined {
    return this.table.holds(this.name, mapId) ? this.shards.serving(mapId) : undefined;
  }

  /** Loaded local shards (metrics). */
  shardList(): { mapId: string; shard: Shard }[] {
    return this.shards
      .all()
      .filter((r) => r.shard)
      .map((r) => ({ mapId: r.entry.id, shard: r.shard! }));
  }

  async close(): Promise<void> {
    this.membership.stop();
    this.antiEntropy.stop();
    // Updates acknowledged in the last milliseconds may still be queued for the other replicas: send them first.
    await this.router.forwarder.drain(FORWARD_DRAIN_MS);
    this.router.close();
    this.shards.close();
    for (const c of this.clients.values()) c.close();
    await this.pool.close();
  }
}
