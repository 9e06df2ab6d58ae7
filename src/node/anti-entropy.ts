// Anti-entropy: replicas of a map compare digests and repair what differs,
// so they converge after a partition heals, a forwarded batch is dropped or
// a remove did not cross, without a full state transfer.
//
// Every `intervalMs`, for each map this instance serves, it asks one other
// live replica (in turn) for its digest (Peer.Digest: per bucket of driver
// IDs, the XOR of a hash of (ID, timestamp) of its drivers and of the IDs of
// its remembered removes; model/store/digest.ts) computed at this instance's
// clock, compares it with its own at the same instant, pulls the versions
// (ID, timestamp) and removes of the buckets that differ (Peer.PullBuckets),
// then the records it lacks or holds older (Peer.PullRecords), and applies
// them: newest timestamp wins, a remove as new as a driver removes it
// (Shard.applyRepair). Under a steady update stream most buckets differ at
// any instant (updates in flight between replicas); only versions cross for
// those, and the few records still in flight. It only pulls; the other
// replica pulls from it in its own round, so one round each way repairs both
// sides. Nothing older than the TTL is brought back.
import type { PeerClient } from '../proxy/peer-client.js';
import type { Shard } from '../threads/shard.js';

/** Drivers asked for in one PullRecords call. */
const RECORDS_PER_PULL = 5000;

export interface AntiEntropyOptions {
  /** Between rounds; 0 = off. */
  intervalMs: number;
  /** Per call. */
  timeoutMs: number;
  /** Maps this instance serves now, with their shard. */
  serving: () => { mapId: string; shard: Shard }[];
  /** The other live replicas of a map that may serve it. */
  peersOf: (mapId: string) => string[];
  client: (address: string) => PeerClient;
  log: (msg: string) => void;
}

/** Counters for /metrics (monotonic) and per map the last time a round found both replicas equal. */
export interface AntiEntropyStats {
  /** Digest comparisons, by outcome. */
  rounds: { equal: number; repaired: number; failed: number };
  /** Drivers stored / removed by repairs. */
  repaired: { record: number; remove: number };
  /** Buckets pulled. */
  buckets: number;
  /** Map → Date.now() of its last comparison that found no difference. */
  lastEqual: Map<string, number>;
  /** Map → ms from the first comparison that found a difference to the next one that found none (the last such episode). */
  lastConvergeMs: Map<string, number>;
}

export class AntiEntropy {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private turn = 0;
  /** Map → when the current run of differing comparisons began. */
  private readonly divergedSince = new Map<string, number>();
  readonly stats: AntiEntropyStats = {
    rounds: { equal: 0, repaired: 0, failed: 0 },
    repaired: { record: 0, remove: 0 },
    buckets: 0,
    lastEqual: new Map(),
    lastConvergeMs: new Map(),
  };

  constructor(private readonly o: AntiEntropyOptions) {}

  start(): void {
    if (this.o.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      void this.round();
    }, this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round over every served map (skipped while the previous one runs). */
  async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.turn++;
      for (const { mapId, shard } of this.o.serving()) {
        const peers = this.o.peersOf(mapId);
        if (peers.length === 0) continue;
        const peer = peers[this.turn % peers.length]!;
        try {
          await this.compare(mapId, shard, this.o.client(peer));
        } catch (e) {
          this.stats.rounds.failed++;
          // A peer that is not serving the map yet (transfer) or went away: the next round tries again.
          if (!/FAILED_PRECONDITION|UNAVAILABLE|was dropped/.test((e as Error).message))
            this.o.log(`anti-entropy of ${mapId} with ${peer} failed: ${(e as Error).message}`);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Compare this replica of mapId with `peer`'s and pull what differs. Returns the number of buckets that differed. */
  async compare(mapId: string, shard: Shard, peer: PeerClient): Promise<number> {
    const nowMs = Date.now();
    const [theirs, mine] = await Promise.all([peer.digest(mapId, nowMs, this.o.timeoutMs), shard.digest(nowMs, true)]);
    let todo = mine.differing(theirs);
    const differing = todo.length;
    const now = Date.now();
    if (differing === 0) {
      this.stats.rounds.equal++;
      this.stats.lastEqual.set(mapId, now);
      const since = this.divergedSince.get(mapId);
      if (since !== undefined) {
        this.stats.lastConvergeMs.set(mapId, now - since);
        this.divergedSince.delete(mapId);
      }
      return 0;
    }
    this.stats.rounds.repaired++;
    if (!this.divergedSince.has(mapId)) this.divergedSince.set(mapId, now);
    while (todo.length > 0) {
      const got = await peer.pullBuckets(mapId, todo, nowMs, this.o.timeoutMs);
      // Removes first (a driver pulled below must be newer than them), then only the drivers the peer holds newer.
      const r = shard.applyRepair([], got.tombstones, nowMs);
      this.stats.repaired.remove += r.removes;
      const want = shard.newerThanHere(got.versions, nowMs);
      for (let i = 0; i < want.length; i += RECORDS_PER_PULL) {
        const recs = await peer.pullRecords(mapId, want.slice(i, i + RECORDS_PER_PULL), nowMs, this.o.timeoutMs);
        const a = shard.applyRepair(recs, [], Date.now());
        this.stats.repaired.record += a.records;
      }
      this.stats.buckets += got.complete.length;
      // Buckets left out of the answer (it was full) are asked again; a bucket too big for one answer is taken as cut.
      const done = new Set(got.complete.length > 0 ? got.complete : todo.slice(0, 1));
      todo = todo.filter((b) => !done.has(b));
    }
    return differing;
  }
}
