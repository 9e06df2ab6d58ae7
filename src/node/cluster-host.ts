// The proxy layer of a cluster instance: any instance accepts any request and
// routes it by map ID over the RouteTable (consistent hashing over the live
// members, RF replicas per map).
//  - Update: applied by the first replica that can (this instance when it is
//    one), answered then, and forwarded asynchronously in batches to the
//    other replicas. The answer guarantees the update is on one replica; the
//    others converge within milliseconds unless they fail meanwhile (then
//    state transfer refills them). Newest timestamp wins everywhere.
//  - Nearby / Get: served locally when this instance serves the map, else by
//    one replica chosen round-robin, failing over to the next within the
//    caller's deadline.
//  - Remove: sent to every replica.
import { quote } from '../quote.js';
import type { Log } from '../mapbuild/build.js';
import type { MapEntry } from '../mapbuild/catalog.js';
import { WorkerPool } from '../threads/pool.js';
import type { DriverRecord } from '../model/store/store.js';
import type { DriverUpdate, DriverView, NearbyQuery, UpdateResult } from '../model/types.js';
import { FarosError } from '../errors.js';
import { Membership } from '../membership/membership.js';
import { RouteTable } from '../proxy/route-table.js';
import { PeerClient } from '../proxy/peer-client.js';
import type { PeerCredentials } from '../proxy/peer-tls.js';
import { Forwarder, recordBytes, splitBySize } from '../proxy/forward.js';
import type { PeerHost } from '../proxy/peer-service.js';
import type { Shard } from '../threads/shard.js';
import { ShardSet, type TransferEvent } from './shards.js';
import type { CallOptions, MapInfoView, NearbyOutcome, ShardHost } from './host.js';

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
  dropGraceMs: number;
  /** Per attempt when a call goes to another replica. */
  perTryTimeoutMs: number;
  /** How this instance calls others (mutual TLS). */
  peerCredentials: PeerCredentials;
  workers?: number;
  /** Nearby search threads; default = workers. */
  searchThreads?: number;
  maxQueue?: number;
  cacheDir?: string;
  arenaBytes?: number;
  log: Log;
  onTransfer?: (e: TransferEvent) => void;
  onMapReady?: (mapId: string, ms: number) => void;
  onStateChange?: () => void;
}

/** Codes after which the next replica is tried. */
const RETRY = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'FAILED_PRECONDITION', 'RESOURCE_EXHAUSTED', 'CANCELLED']);

export class ClusterHost implements ShardHost, PeerHost {
  readonly name: string;
  readonly pool: WorkerPool;
  readonly shards: ShardSet;
  readonly forwarder: Forwarder;
  readonly membership: Membership;
  private table: RouteTable;
  private readonly clients = new Map<string, PeerClient>();
  private readonly catalog = new Map<string, MapEntry>();
  private readonly rr = new Map<string, number>();
  private started = false;
  readonly stats = { failovers: 0, forwardedUpdates: 0, tableChanges: 0 };

  constructor(private readonly o: ClusterHostOptions) {
    this.name = o.self;
    for (const m of o.catalog) this.catalog.set(m.id, m);
    this.pool = new WorkerPool({ threads: o.workers, searchThreads: o.searchThreads, maxQueue: o.maxQueue, log: o.log });
    this.shards = new ShardSet({
      pool: this.pool,
      cacheDir: o.cacheDir,
      log: o.log,
      arenaBytes: o.arenaBytes,
      dropGraceMs: o.dropGraceMs,
      onTransfer: o.onTransfer,
      onMapReady: o.onMapReady,
      onStateChange: o.onStateChange,
      self: o.self,
      catchUpMs: 2 * (o.suspectMs + o.probeIntervalMs + o.probeTimeoutMs),
    });
    this.forwarder = new Forwarder(
      (a) => this.client(a),
      (peer) => this.membership.live().includes(peer),
    );
    this.membership = new Membership({
      self: o.self,
      seeds: o.seeds,
      dns: o.dns,
      probeIntervalMs: o.probeIntervalMs,
      probeTimeoutMs: o.probeTimeoutMs,
      suspectMs: o.suspectMs,
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
    for (const m of gone) this.forwarder.forget(m);
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

  /** Instances pulling a snapshot of a map from us: forwarded to until the table lists them. */
  private readonly pullers = new Map<string, Map<string, number>>();

  /** Forward this map's updates to `peer` for a while (it is pulling our snapshot). */
  subscribe(mapId: string, peer: string): void {
    if (!peer || peer === this.name) return;
    let m = this.pullers.get(mapId);
    if (!m) {
      m = new Map();
      this.pullers.set(mapId, m);
    }
    m.set(peer, Date.now() + 4 * (this.o.suspectMs + this.o.probeIntervalMs + this.o.probeTimeoutMs));
  }

  /** Replicas of mapId other than this instance. */
  private others(mapId: string): string[] {
    return this.table.replicas(mapId).filter((r) => r !== this.name);
  }

  /** Where updates of mapId applied here are forwarded: other replicas and recent pullers. */
  private targets(mapId: string): string[] {
    const out = this.others(mapId);
    for (const peer of this.livePullers(mapId)) if (!out.includes(peer)) out.push(peer);
    return out;
  }

  /** Instances pulling our snapshot of mapId now (expired subscriptions are dropped). */
  private livePullers(mapId: string): string[] {
    const m = this.pullers.get(mapId);
    if (!m) return [];
    const now = Date.now();
    for (const [peer, until] of m) if (until < now) m.delete(peer);
    return [...m.keys()];
  }

  /**
   * Removes applied here for another instance: pass them on to the instances
   * pulling our snapshot (the other replicas got them from that instance).
   */
  forwardRemoves(mapId: string, driverIds: string[]): void {
    if (driverIds.length === 0) return;
    for (const peer of this.livePullers(mapId)) {
      this.client(peer)
        .remove(mapId, driverIds, this.o.perTryTimeoutMs)
        .catch((e: unknown) => {
          this.o.log(`map ${mapId}: remove not passed on to ${peer}, which is pulling our snapshot: ${(e as Error).message}`);
        });
    }
  }

  /** Forward what a local replica applied to the other replicas. */
  replicate(mapId: string, updates: readonly DriverUpdate[], results: readonly UpdateResult[]): void {
    const records: DriverRecord[] = [];
    results.forEach((r, i) => {
      if (!r.ok || r.stale) return;
      const u = updates[i];
      records.push({
        driverId: u.driverId,
        lat: u.lat,
        lng: u.lng,
        timestampMs: u.timestampMs,
        metadata: u.metadata,
        segment: r.snapped.segment,
        t: r.snapped.t,
        snapM: r.snapped.distanceM,
      });
    });
    if (records.length === 0) return;
    for (const peer of this.targets(mapId)) this.forwarder.send(peer, mapId, records);
    this.stats.forwardedUpdates += records.length;
  }

  /** Try fn on each replica in turn (round-robin start) until one answers. */
  private async failover<T>(mapId: string, what: string, signal: AbortSignal | undefined, fn: (peer: PeerClient) => Promise<T>): Promise<T> {
    const reps = this.others(mapId);
    if (reps.length === 0) throw new FarosError('UNAVAILABLE', `no live replica of map "${mapId}"; retry shortly`);
    const start = (this.rr.get(mapId) ?? 0) % reps.length;
    this.rr.set(mapId, start + 1);
    const errors: string[] = [];
    let allDeadlines = true;
    for (let i = 0; i < reps.length; i++) {
      if (signal?.aborted) throw new FarosError('DEADLINE_EXCEEDED', `deadline exceeded during ${what}`);
      const peer = this.client(reps[(start + i) % reps.length]);
      try {
        return await fn(peer);
      } catch (e) {
        const fe = e instanceof FarosError ? e : new FarosError('UNAVAILABLE', String(e));
        if (!RETRY.has(fe.code) || signal?.aborted) throw fe;
        this.stats.failovers++;
        errors.push(fe.message);
        if (fe.code !== 'DEADLINE_EXCEEDED') allDeadlines = false;
      }
    }
    // Every replica ran out of time: the caller's deadline is the problem, not availability.
    throw new FarosError(allDeadlines ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE', `no replica of map "${mapId}" could do ${what}: ${errors.join('; ')}`);
  }

  async update(mapId: string, updates: DriverUpdate[], opts?: CallOptions): Promise<UpdateResult[]> {
    this.checkMap(mapId);
    const local = this.table.holds(this.name, mapId) ? this.shards.writable(mapId) : undefined;
    if (local) {
      const results = await local.update(updates, opts?.signal, opts?.deadline);
      this.replicate(mapId, updates, results);
      return results;
    }
    // The first replica applies and forwards to the rest, in messages that fit the peer's limit.
    const parts = splitBySize(updates, (u) => recordBytes(u, mapId.length));
    const results = await Promise.all(
      parts.map((part) => this.failover(mapId, 'the update', opts?.signal, (p) => p.applyUpdates(mapId, part, this.o.perTryTimeoutMs, opts?.signal))),
    );
    return results.flat();
  }

  async remove(mapId: string, driverId: string): Promise<boolean> {
    this.checkMap(mapId);
    let removed = false;
    const local = this.table.holds(this.name, mapId) ? this.shards.writable(mapId) : undefined;
    if (local) removed = local.remove(driverId);
    // Instances pulling our snapshot too (targets): their copy may still hold the driver.
    const remote = await Promise.allSettled(
      (local ? this.targets(mapId) : this.others(mapId)).map((r) => this.client(r).remove(mapId, [driverId], this.o.perTryTimeoutMs)),
    );
    for (const r of remote) if (r.status === 'fulfilled' && r.value > 0) removed = true;
    if (!local && remote.every((r) => r.status === 'rejected'))
      throw new FarosError('UNAVAILABLE', `no replica of map "${mapId}" could remove the driver; retry`);
    return removed;
  }

  async get(mapId: string, driverId: string, opts?: CallOptions): Promise<DriverView | undefined> {
    this.checkMap(mapId);
    const local = this.table.holds(this.name, mapId) ? this.shards.serving(mapId) : undefined;
    if (local) return local.get(driverId);
    return this.failover(mapId, 'the lookup', opts?.signal, (p) => p.getLocal(mapId, driverId, this.o.perTryTimeoutMs, opts?.signal));
  }

  async nearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome> {
    this.checkMap(mapId);
    const local = this.table.holds(this.name, mapId) ? this.shards.serving(mapId) : undefined;
    if (local) return this.localNearby(mapId, q, opts);
    return this.failover(mapId, 'the nearby query', opts?.signal, (p) => p.nearbyLocal(mapId, q, this.o.perTryTimeoutMs, opts?.signal));
  }

  /** Nearby on this instance's replica (also what Peer.NearbyLocal runs). */
  async localNearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome> {
    const shard = this.shards.serving(mapId);
    if (!shard) throw new FarosError('FAILED_PRECONDITION', `${this.name} does not serve map "${mapId}" now`);
    const r = await shard.nearby(q, opts?.signal, opts?.deadline);
    if (!r.ok) return r;
    return { ok: true, drivers: r.drivers, querySnapped: r.querySnapped, stats: { ...r.stats, servedBy: this.name } };
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
    this.forwarder.close();
    this.shards.close();
    for (const c of this.clients.values()) c.close();
    await this.pool.close();
  }
}
