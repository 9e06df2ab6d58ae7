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
import { relayWatch } from './watch-relay.js';
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

/** Forward drops are logged at most this often per peer. */
const DROP_LOG_MS = 1000;
/** Smoothing of the per-peer latency average. */
const LATENCY_ALPHA = 0.2;
/** A replica is slow (demoted for reads) above this many times the fastest other one's latency, and at least SLOW_MIN_MS. */
const SLOW_FACTOR = 4;
const SLOW_MIN_MS = 20;
/** A read is hedged to the next replica after this many times the fastest replica's usual latency, at least HEDGE_MIN_MS. */
const HEDGE_FACTOR = 4;
const HEDGE_MIN_MS = 25;
/** Shortest time given to one try. */
const MIN_TRY_MS = 20;

/** Codes after which the next replica is tried. */
const RETRY = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'FAILED_PRECONDITION', 'RESOURCE_EXHAUSTED', 'CANCELLED']);

export class Router {
  readonly forwarder: Forwarder;
  readonly stats = { failovers: 0, hedges: 0, forwardedUpdates: 0, watchMoves: 0 };
  private readonly rr = new Map<string, number>();
  /** Instances pulling a snapshot of a map from us, until when. */
  private readonly pullers = new Map<string, Map<string, number>>();

  constructor(private readonly d: RouterDeps) {
    this.forwarder = new Forwarder(
      (a) => d.client(a),
      (peer) => d.isLive(peer),
      10_000,
      (peer, n, why) => this.reportDrop(peer, n, why),
    );
  }

  /** Forwarded records dropped per peer since the last log line (one line per peer per DROP_LOG_MS). */
  private readonly drops = new Map<string, { n: number; why: string; timer?: NodeJS.Timeout }>();

  private reportDrop(peer: string, n: number, why: string): void {
    let d = this.drops.get(peer);
    if (!d) {
      d = { n: 0, why };
      this.drops.set(peer, d);
    }
    d.n += n;
    d.why = why;
    d.timer ??= setTimeout(() => {
      this.drops.delete(peer);
      this.d.log(`forwarding to ${peer}: ${d!.n} records dropped (${d!.why}); that replica misses them until anti-entropy or a state transfer repairs it`);
    }, DROP_LOG_MS).unref();
  }

  private holds(mapId: string): boolean {
    return this.d.table().holds(this.d.self, mapId);
  }

  async update(mapId: string, updates: DriverUpdate[], opts?: CallOptions): Promise<UpdateResult[]> {
    const all = opts?.ack === 'all';
    const local = this.holds(mapId) ? this.d.writable(mapId) : undefined;
    if (local) {
      const results = await local.update(updates, opts?.signal, opts?.deadline);
      await this.replicate(mapId, updates, results, all ? opts : undefined);
      return results;
    }
    // The first replica applies and forwards to the rest (with ack ALL: before it answers), in messages that fit the peer's limit.
    const parts = splitBySize(updates, (u) => recordBytes(u, mapId.length));
    const results = await Promise.all(
      parts.map((part) => this.failover(mapId, 'the update', opts, (p, ms, signal) => p.applyUpdates(mapId, part, ms, signal, all), false)),
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
    return this.failover(mapId, 'the lookup', opts, (p, ms, signal) => p.getLocal(mapId, driverId, ms, signal));
  }

  async nearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyOutcome> {
    if (this.holds(mapId) && this.d.serving(mapId)) return this.localNearby(mapId, q, opts);
    return this.failover(mapId, 'the nearby query', opts, (p, ms, signal) => p.nearbyLocal(mapId, q, ms, signal));
  }

  /** A watch: on this instance's replica when it serves the map, else relayed from another (watch-relay.ts). */
  watch(mapId: string, q: NearbyQuery, params: WatchParams, sink: WatchSink): WatchHandle {
    return relayWatch(
      {
        self: this.d.self,
        local: (id) => (this.holds(id) ? this.d.serving(id) : undefined),
        others: (id) => this.order(id, true),
        client: (a) => this.d.client(a),
        log: this.d.log,
        onMove: () => this.stats.watchMoves++,
      },
      mapId,
      q,
      params,
      sink,
    );
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
      parts.map((part) => this.failover(mapId, 'the nearby batch', opts, (p, ms, signal) => p.nearbyBatchLocal(mapId, part, ms, signal))),
    );
    return results.flat();
  }

  /** A batch on this instance's replica (also what Peer.NearbyBatchLocal runs): every query at once on the search threads. */
  localNearbyBatch(mapId: string, qs: readonly NearbyQuery[], opts?: CallOptions): Promise<NearbyItem[]> {
    return Promise.all(qs.map((q) => this.localNearby(mapId, q, opts).catch(failedItem)));
  }

  /**
   * Forward what a local replica applied to the other replicas: queued in
   * the background, or (`all` given: WRITE_ACK_ALL) sent now, resolving once
   * every other replica applied it. A replica that did not is named in an
   * UNAVAILABLE error; the write stays applied where it was and reaches the
   * rest by anti-entropy (a retry of it is harmless: newest wins).
   */
  async replicate(mapId: string, updates: readonly DriverUpdate[], results: readonly UpdateResult[], all?: CallOptions): Promise<void> {
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
    const targets = this.targets(mapId);
    this.stats.forwardedUpdates += records.length;
    if (!all) {
      for (const peer of targets) this.forwarder.send(peer, mapId, records);
      return;
    }
    const parts = splitBySize(records, (r) => recordBytes(r, mapId.length));
    const outcomes = await Promise.allSettled(
      targets.map(async (peer) => {
        for (const part of parts) await this.d.client(peer).applyRecords(mapId, part, this.tryTimeout(all.deadline, 1));
      }),
    );
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${targets[i]}: ${(o.reason as Error).message}`] : []));
    if (failed.length > 0)
      throw new FarosError(
        'UNAVAILABLE',
        `applied by ${this.d.self} and ${targets.length - failed.length} of ${targets.length} other replicas of map "${mapId}", not yet by ${failed.join('; ')}; the rest get it by anti-entropy, or retry (newest wins)`,
      );
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

  /** Observed latency of successful calls per peer (EWMA, ms). */
  private readonly latency = new Map<string, number>();

  private observe(peer: string, ms: number): void {
    const prev = this.latency.get(peer);
    this.latency.set(peer, prev === undefined ? ms : prev + LATENCY_ALPHA * (ms - prev));
  }

  /**
   * A replica that answers far slower than the others (gray failure: alive,
   * probed fine, but slow) is demoted: tried after them for reads.
   */
  private slow(peer: string, among: readonly string[]): boolean {
    const mine = this.latency.get(peer);
    if (mine === undefined || mine < SLOW_MIN_MS) return false;
    let best = Number.POSITIVE_INFINITY;
    for (const p of among) if (p !== peer) best = Math.min(best, this.latency.get(p) ?? Number.POSITIVE_INFINITY);
    return best < Number.POSITIVE_INFINITY && mine > SLOW_FACTOR * best;
  }

  /** The lowest usual latency among these replicas (undefined before any answered). */
  private fastest(among: readonly string[]): number | undefined {
    let best: number | undefined;
    for (const p of among) {
      const ms = this.latency.get(p);
      if (ms !== undefined && (best === undefined || ms < best)) best = ms;
    }
    return best;
  }

  /** The other replicas in the order to try: round-robin, then slow ones, then ones this instance cannot reach itself. */
  private order(mapId: string, reads: boolean): string[] {
    const reps = this.others(mapId);
    const start = (this.rr.get(mapId) ?? 0) % Math.max(1, reps.length);
    this.rr.set(mapId, start + 1);
    const order = reps.map((_, i) => reps[(start + i) % reps.length]!);
    const rank = (a: string): number => (this.d.reachable && !this.d.reachable(a) ? 2 : reads && this.slow(a, reps) ? 1 : 0);
    // A stable sort keeps the round-robin within each rank.
    return order.sort((a, b) => rank(a) - rank(b));
  }

  /**
   * Time for one try: the caller's time left shared among the replicas not
   * yet tried (so a replica that does not answer leaves time for the next),
   * at most --per-try-timeout-ms.
   */
  private tryTimeout(deadline: number | undefined, untried: number): number {
    const cap = this.d.perTryTimeoutMs;
    if (deadline === undefined || !Number.isFinite(deadline)) return cap;
    return Math.max(MIN_TRY_MS, Math.min(cap, (deadline - Date.now()) / Math.max(1, untried)));
  }

  /**
   * Run fn on the other replicas until one answers. Each try gets its share of
   * the caller's deadline. Reads are hedged: when the replica tried has not
   * answered within a few times its usual latency, the next one is asked too
   * and the first answer wins (the other try is cancelled).
   */
  private failover<T>(
    mapId: string,
    what: string,
    opts: CallOptions | undefined,
    fn: (peer: PeerClient, timeoutMs: number, signal: AbortSignal) => Promise<T>,
    reads = true,
  ): Promise<T> {
    const order = this.order(mapId, reads);
    if (order.length === 0) return Promise.reject(new FarosError('UNAVAILABLE', `no live replica of map "${mapId}"; retry shortly`));
    const caller = opts?.signal;
    return new Promise<T>((resolve, reject) => {
      const tries: { ac: AbortController; address: string; t0: number; done: boolean }[] = [];
      const errors: string[] = [];
      let next = 0,
        running = 0,
        settled = false,
        allDeadlines = true;
      const end = (f: () => void): void => {
        if (settled) return;
        settled = true;
        // A try cut short (the other replica answered first) took at least this long: counting it
        // keeps a replica that is never waited for from looking as fast as one never tried.
        const now = performance.now();
        for (const t of tries) {
          if (!t.done) this.observe(t.address, now - t.t0);
          t.ac.abort();
        }
        caller?.removeEventListener('abort', onAbort);
        f();
      };
      const onAbort = (): void => end(() => reject(new FarosError('DEADLINE_EXCEEDED', `deadline exceeded during ${what}`)));
      caller?.addEventListener('abort', onAbort, { once: true });
      const launch = (): boolean => {
        if (settled || next >= order.length) return false;
        const address = order[next++]!;
        const ac = new AbortController();
        const t0 = performance.now();
        const me = { ac, address, t0, done: false };
        tries.push(me);
        running++;
        const timeout = this.tryTimeout(opts?.deadline, order.length - next + 1);
        fn(this.d.client(address), timeout, caller ? AbortSignal.any([caller, ac.signal]) : ac.signal).then(
          (v) => {
            running--;
            if (settled) return;
            me.done = true;
            this.observe(address, performance.now() - t0);
            end(() => resolve(v));
          },
          (e: unknown) => {
            running--;
            if (settled) return;
            me.done = true;
            const fe = e instanceof FarosError ? e : new FarosError('UNAVAILABLE', String(e));
            // A slow or failed try counts against the replica's latency too.
            this.observe(address, performance.now() - t0);
            if (!RETRY.has(fe.code) || caller?.aborted) return end(() => reject(fe));
            this.stats.failovers++;
            errors.push(fe.message);
            if (fe.code !== 'DEADLINE_EXCEEDED') allDeadlines = false;
            if (!launch() && running === 0)
              // Every replica ran out of time: the caller's deadline is the problem, not availability.
              end(() =>
                reject(
                  new FarosError(allDeadlines ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE', `no replica of map "${mapId}" could do ${what}: ${errors.join('; ')}`),
                ),
              );
          },
        );
        if (reads && next < order.length) {
          // A few times the fastest replica's usual latency (a slow replica's own average would
          // hedge too late), and at half the try's time at the latest, so the next one has time left.
          const usual = this.fastest(order);
          const after = Math.min(timeout / 2, Math.max(HEDGE_MIN_MS, HEDGE_FACTOR * (usual ?? this.d.perTryTimeoutMs / HEDGE_FACTOR)));
          setTimeout(() => {
            if (settled || running === 0) return;
            this.stats.hedges++;
            launch();
          }, after).unref();
        }
        return true;
      };
      launch();
    });
  }
}
