// The request paths of a cluster instance. Any instance accepts any request
// and routes it by map ID over the current RouteTable (RF replicas per map):
//  - Update: applied by the first replica that can (this instance when it is
//    one), answered then, and forwarded asynchronously in batches to the
//    other replicas. The answer guarantees the update is on one replica; the
//    others converge within milliseconds unless they fail meanwhile (then
//    state transfer refills them). Newest timestamp wins everywhere.
//  - Nearby / Get: served locally when this instance serves the map, else by
//    one replica chosen round-robin, failing over to the next within the
//    caller's deadline.
//  - Remove: sent to every replica.
// Instances pulling a snapshot from this one also get its updates and removes
// until the table lists them as replicas.
import { FarosError, failedItem } from '../errors.js';
import type { DriverRecord } from '../model/store/store.js';
import type { CallOptions, DriverUpdate, DriverView, NearbyItem, NearbyOutcome, NearbyQuery, UpdateResult } from '../model/types.js';
import type { Shard } from '../threads/shard.js';
import { Forwarder, recordBytes, splitBySize } from './forward.js';
import type { PeerClient } from './peer-client.js';
import type { RouteTable } from './route-table.js';

/** What the router needs from the instance it runs in. */
export interface RouterDeps {
  /** This instance's member name. */
  self: string;
  /** The route table now (it changes with membership). */
  table(): RouteTable;
  /** A (cached) client for a member's peer port. */
  client(address: string): PeerClient;
  /** Is this member live now (forward queues to dead members are dropped). */
  isLive(address: string): boolean;
  /**
   * Does this instance reach the member itself now? A live member it does
   * not (a one-way partition: others still reach it) is tried last.
   */
  reachable?(address: string): boolean;
  /** This instance's replica of mapId, when it may take writes / answer reads now. */
  writable(mapId: string): Shard | undefined;
  serving(mapId: string): Shard | undefined;
  /** Per attempt when a call goes to another replica. */
  perTryTimeoutMs: number;
  /** How long a snapshot puller keeps receiving forwarded writes. */
  pullerTtlMs: number;
  log: (msg: string) => void;
}

/** Drivers asked for (sum of K) per proxied batch message, so answers stay a few MB. */
const BATCH_PART_DRIVERS = 20_000;

/** Cut queries, in order, into parts asking for at most `budget` drivers (a part holds at least one query). */
export function splitByK<Q extends { k: number }>(qs: readonly Q[], budget: number): Q[][] {
  const parts: Q[][] = [];
  let part: Q[] = [],
    sum = 0;
  for (const q of qs) {
    if (part.length > 0 && sum + q.k > budget) {
      parts.push(part);
      part = [];
      sum = 0;
    }
    part.push(q);
    sum += q.k;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/** Codes after which the next replica is tried. */
const RETRY = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'FAILED_PRECONDITION', 'RESOURCE_EXHAUSTED', 'CANCELLED']);

export class Router {
  readonly forwarder: Forwarder;
  readonly stats = { failovers: 0, forwardedUpdates: 0 };
  private readonly rr = new Map<string, number>();
  /** Instances pulling a snapshot of a map from us, until when. */
  private readonly pullers = new Map<string, Map<string, number>>();

  constructor(private readonly d: RouterDeps) {
    this.forwarder = new Forwarder(
      (a) => d.client(a),
      (peer) => d.isLive(peer),
    );
  }

  private holds(mapId: string): boolean {
    return this.d.table().holds(this.d.self, mapId);
  }

  async update(mapId: string, updates: DriverUpdate[], opts?: CallOptions): Promise<UpdateResult[]> {
    const local = this.holds(mapId) ? this.d.writable(mapId) : undefined;
    if (local) {
      const results = await local.update(updates, opts?.signal, opts?.deadline);
      this.replicate(mapId, updates, results);
      return results;
    }
    // The first replica applies and forwards to the rest, in messages that fit the peer's limit.
    const parts = splitBySize(updates, (u) => recordBytes(u, mapId.length));
    const results = await Promise.all(
      parts.map((part) => this.failover(mapId, 'the update', opts?.signal, (p) => p.applyUpdates(mapId, part, this.d.perTryTimeoutMs, opts?.signal))),
    );
    return results.flat();
  }

  async remove(mapId: string, driverId: string): Promise<boolean> {
    let removed = false;
    const local = this.holds(mapId) ? this.d.writable(mapId) : undefined;
    if (local) removed = local.remove(driverId);
    // Instances pulling our snapshot too (targets): their copy may still hold the driver.
    const remote = await Promise.allSettled(
      (local ? this.targets(mapId) : this.others(mapId)).map((r) => this.d.client(r).remove(mapId, [driverId], this.d.perTryTimeoutMs)),
    );
    for (const r of remote) if (r.status === 'fulfilled' && r.value > 0) removed = true;
    if (!local && remote.every((r) => r.status === 'rejected'))
      throw new FarosError('UNAVAILABLE', `no replica of map "${mapId}" could remove the driver; retry`);
    return removed;
  }

  async get(mapId: string, driverId: string, opts?: CallOptions): Promise<DriverView | undefined> {
    const local = this.holds(mapId) ? this.d.serving(mapId) : undefined;
    if (local) return local.get(driverId);
    return this.failover(mapId, 'the lookup', opts?.signal, (p) => p.getLocal(mapId, driverId, this.d.perTryTimeoutMs, opts?.signal));
  }

  async nearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome> {
    if (this.holds(mapId) && this.d.serving(mapId)) return this.localNearby(mapId, q, opts);
    return this.failover(mapId, 'the nearby query', opts?.signal, (p) => p.nearbyLocal(mapId, q, this.d.perTryTimeoutMs, opts?.signal));
  }

  /** Nearby on this instance's replica (also what Peer.NearbyLocal runs). */
  async localNearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome> {
    const shard = this.d.serving(mapId);
    if (!shard) throw new FarosError('FAILED_PRECONDITION', `${this.d.self} does not serve map "${mapId}" now`);
    const r = await shard.nearby(q, opts?.signal, opts?.deadline);
    if (!r.ok) return r;
    return { ok: true, drivers: r.drivers, querySnapped: r.querySnapped, stats: { ...r.stats, servedBy: this.d.self } };
  }

  /** Queries of one map: on this replica, or on another in parts that fit a peer message, with failover. */
  async nearbyBatch(mapId: string, qs: readonly NearbyQuery[], opts?: CallOptions): Promise<NearbyItem[]> {
    if (this.holds(mapId) && this.d.serving(mapId)) return this.localNearbyBatch(mapId, qs, opts);
    const parts = splitByK(qs, BATCH_PART_DRIVERS);
    const results = await Promise.all(
      parts.map((part) => this.failover(mapId, 'the nearby batch', opts?.signal, (p) => p.nearbyBatchLocal(mapId, part, this.d.perTryTimeoutMs, opts?.signal))),
    );
    return results.flat();
  }

  /** A batch on this instance's replica (also what Peer.NearbyBatchLocal runs): every query at once on the search threads. */
  localNearbyBatch(mapId: string, qs: readonly NearbyQuery[], opts?: CallOptions): Promise<NearbyItem[]> {
    return Promise.all(qs.map((q) => this.localNearby(mapId, q, opts).catch(failedItem)));
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

  /**
   * Removes applied here for another instance: pass them on to the instances
   * pulling our snapshot (the other replicas got them from that instance).
   */
  forwardRemoves(mapId: string, driverIds: string[]): void {
    if (driverIds.length === 0) return;
    for (const peer of this.livePullers(mapId)) {
      this.d
        .client(peer)
        .remove(mapId, driverIds, this.d.perTryTimeoutMs)
        .catch((e: unknown) => {
          this.d.log(`map ${mapId}: remove not passed on to ${peer}, which is pulling our snapshot: ${(e as Error).message}`);
        });
    }
  }

  /** Forward this map's updates to `peer` for a while (it is pulling our snapshot). */
  subscribe(mapId: string, peer: string): void {
    if (!peer || peer === this.d.self) return;
    let m = this.pullers.get(mapId);
    if (!m) {
      m = new Map();
      this.pullers.set(mapId, m);
    }
    m.set(peer, Date.now() + this.d.pullerTtlMs);
  }

  /** A member left the table: drop what was queued for it. */
  forget(member: string): void {
    this.forwarder.forget(member);
  }

  close(): void {
    this.forwarder.close();
  }

  /** Replicas of mapId other than this instance. */
  private others(mapId: string): string[] {
    return this.d
      .table()
      .replicas(mapId)
      .filter((r) => r !== this.d.self);
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

  /** Try fn on each other replica in turn (round-robin start) until one answers. */
  private async failover<T>(mapId: string, what: string, signal: AbortSignal | undefined, fn: (peer: PeerClient) => Promise<T>): Promise<T> {
    const reps = this.others(mapId);
    if (reps.length === 0) throw new FarosError('UNAVAILABLE', `no live replica of map "${mapId}"; retry shortly`);
    const start = (this.rr.get(mapId) ?? 0) % reps.length;
    this.rr.set(mapId, start + 1);
    const order = reps.map((_, i) => reps[(start + i) % reps.length]!);
    // Replicas this instance cannot reach itself last (a stable sort keeps the round-robin among the rest).
    if (this.d.reachable) order.sort((a, b) => Number(!this.d.reachable!(a)) - Number(!this.d.reachable!(b)));
    const errors: string[] = [];
    let allDeadlines = true;
    for (const address of order) {
      if (signal?.aborted) throw new FarosError('DEADLINE_EXCEEDED', `deadline exceeded during ${what}`);
      const peer = this.d.client(address);
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
}
