// Which maps this instance holds, and their life cycle:
//   LOADING → TRANSFERRING → SERVING → (no longer owned) DRAINING → dropped
// LOADING: the graph is being loaded/compiled. TRANSFERRING: the shard
// accepts forwarded updates while it pulls every driver from a live
// replica's copy-on-write snapshot (newest timestamp wins, so the two merge
// in any order); only then SERVING reads. DRAINING: the route table moved
// the map away; it no longer gets updates nor answers reads, but remains a
// state-transfer source for a grace period (the new owners may need it),
// then is dropped.
import { loadMap, type Log } from '../mapbuild/build.js';
import type { MapEntry } from '../mapbuild/catalog.js';
import { Shard } from '../threads/shard.js';
import type { WorkerPool } from '../threads/pool.js';
import type { PeerClient } from '../proxy/peer-client.js';

/** Rounds over every source before a transfer gives up (waits 1 s, 2 s between them). */
const TRANSFER_ROUNDS = 3;

export type ReplicaState = 'LOADING' | 'TRANSFERRING' | 'SERVING' | 'DRAINING';

export interface Replica {
  entry: MapEntry;
  state: ReplicaState;
  shard?: Shard;
  dropTimer?: NodeJS.Timeout;
  /** Bumped when a newer life cycle replaces this one (drop, resync). */
  generation: number;
  /** When loading started, until the replica first serves (map-ready timing). */
  loadStart?: number;
}

export interface TransferEvent {
  mapId: string;
  source: string | undefined;
  records: number;
  ms: number;
  ok: boolean;
  error?: string;
}

export interface ShardSetOptions {
  pool: WorkerPool;
  cacheDir?: string;
  log: Log;
  arenaBytes?: number;
  /** See ShardOptions.naiveWatches. */
  naiveWatches?: boolean;
  /** How long a map no longer owned keeps answering. */
  dropGraceMs: number;
  /** Called after each state transfer (metrics). */
  onTransfer?: (e: TransferEvent) => void;
  /** A map is loaded, transferred and serves (metrics, health). */
  onMapReady?: (mapId: string, ms: number) => void;
  onStateChange?: () => void;
  /** This instance's address (sent with snapshot pulls). */
  self: string;
  /** A second pull this long after serving catches what route-table skew between instances missed. */
  catchUpMs: number;
  /** A transfer that failed while sources existed is tried again after this long (the replica proxies reads meanwhile). */
  transferRetryMs?: number;
}

export class ShardSet {
  private readonly replicas = new Map<string, Replica>();
  private gen = 0;
  /** Maps whose graph could not be loaded (bad file): why. */
  readonly failed = new Map<string, Error>();

  constructor(private readonly opts: ShardSetOptions) {}

  get(mapId: string): Replica | undefined {
    return this.replicas.get(mapId);
  }

  /** A shard that may take writes (transfers in progress included). */
  writable(mapId: string): Shard | undefined {
    const r = this.replicas.get(mapId);
    return r && r.state !== 'LOADING' ? r.shard : undefined;
  }

  /** A shard that may answer reads (a draining one no longer gets updates). */
  serving(mapId: string): Shard | undefined {
    const r = this.replicas.get(mapId);
    return r && r.state === 'SERVING' ? r.shard : undefined;
  }

  /** A shard that may be the source of a state transfer (draining ones too). */
  exportable(mapId: string): Shard | undefined {
    const r = this.replicas.get(mapId);
    return r && (r.state === 'SERVING' || r.state === 'DRAINING') ? r.shard : undefined;
  }

  all(): Replica[] {
    return [...this.replicas.values()];
  }

  /**
   * Hold a map: load it, pull its drivers from one of `sources` (peers that
   * serve it), then serve. A map being drained is simply kept.
   */
  ensure(entry: MapEntry, sources: () => Promise<PeerClient[]>): void {
    const cur = this.replicas.get(entry.id);
    if (cur) {
      if (cur.state === 'DRAINING') {
        clearTimeout(cur.dropTimer);
        cur.dropTimer = undefined;
        // It may have missed updates while it was not a replica: catch up (newest wins) before serving reads again.
        this.opts.log(`map ${entry.id}: owned again, drop cancelled; catching up from the other replicas`);
        this.transfer(cur, sources, true).catch((e: unknown) => this.opts.log(`map ${entry.id}: catch-up failed: ${(e as Error).message}`));
      }
      return;
    }
    const r: Replica = { entry, state: 'LOADING', generation: ++this.gen };
    this.replicas.set(entry.id, r);
    this.opts.onStateChange?.();
    this.load(r, sources).catch((e: unknown) => this.opts.log(`map ${entry.id}: load failed: ${(e as Error).message}`));
  }

  private async load(r: Replica, sources: () => Promise<PeerClient[]>): Promise<void> {
    const t0 = Date.now();
    try {
      const g = await loadMap(r.entry.file, r.entry.profile, { cacheDir: this.opts.cacheDir, log: this.opts.log, shared: true });
      if (this.replicas.get(r.entry.id) !== r) return; // dropped meanwhile
      r.shard = new Shard(`${r.entry.id}#${r.generation}`, g, this.opts.pool, {
        snapRadiusM: r.entry.snapRadiusM,
        ttlMs: r.entry.ttlS * 1000,
        arenaBytes: this.opts.arenaBytes,
        log: this.opts.log,
        naiveWatches: this.opts.naiveWatches,
      });
      this.opts.log(`map ${r.entry.id} loaded in ${Date.now() - t0} ms`);
    } catch (e) {
      this.opts.log(`map ${r.entry.id}: load failed: ${(e as Error).message}`);
      this.failed.set(r.entry.id, e as Error);
      this.replicas.delete(r.entry.id);
      this.opts.onStateChange?.();
      return;
    }
    r.loadStart = t0;
    await this.transfer(r, sources);
  }

  /** Pull every driver from the first source that answers; then serve. */
  async transfer(r: Replica, sources: () => Promise<PeerClient[]>, catchUp = false): Promise<void> {
    const gen = r.generation;
    r.state = 'TRANSFERRING';
    this.opts.onStateChange?.();
    const shard = r.shard!;
    let done = false,
      hadSources = false;
    // A pull that fails (the source is slow, restarting, or ended a pull that
    // held its snapshot too long) is tried again with the next source, then
    // in later rounds; no source at all means no one has drivers to give.
    for (let round = 0; round < TRANSFER_ROUNDS && !done; round++) {
      if (round > 0) {
        await new Promise((res) => setTimeout(res, 1000 * 2 ** (round - 1)).unref());
        if (this.replicas.get(r.entry.id) !== r || r.generation !== gen) return;
      }
      let peers: PeerClient[] = [];
      try {
        peers = await sources();
      } catch (e) {
        this.opts.log(`map ${r.entry.id}: cannot list transfer sources: ${(e as Error).message}`);
      }
      if (peers.length === 0) break;
      hadSources = true;
      for (const peer of peers) {
        const t0 = Date.now();
        let n = 0;
        try {
          n = await peer.pullSnapshot(
            r.entry.id,
            this.opts.self,
            (recs) => {
              shard.importRecords(recs);
            },
            600_000,
          );
          this.opts.onTransfer?.({ mapId: r.entry.id, source: peer.address, records: n, ms: Date.now() - t0, ok: true });
          this.opts.log(`map ${r.entry.id}: state transfer of ${n} drivers from ${peer.address} in ${Date.now() - t0} ms`);
          done = true;
          break;
        } catch (e) {
          this.opts.onTransfer?.({ mapId: r.entry.id, source: peer.address, records: n, ms: Date.now() - t0, ok: false, error: (e as Error).message });
          this.opts.log(`map ${r.entry.id}: state transfer from ${peer.address} failed after ${n} drivers: ${(e as Error).message}; trying the next replica`);
        }
      }
    }
    if (!done && hadSources && this.replicas.get(r.entry.id) === r && r.generation === gen && r.state === 'TRANSFERRING') {
      // Replicas exist but none could give its drivers: serving now would answer from a partial copy.
      // Stay TRANSFERRING (writes are applied, reads go to the other replicas) and try again.
      const ms = this.opts.transferRetryMs ?? 5000;
      this.opts.log(`map ${r.entry.id}: not caught up (every source failed); reads go to the other replicas; trying again in ${ms} ms`);
      setTimeout(() => {
        if (this.replicas.get(r.entry.id) === r && r.generation === gen && r.state === 'TRANSFERRING')
          this.transfer(r, sources, catchUp).catch((e: unknown) => this.opts.log(`map ${r.entry.id}: transfer retry failed: ${(e as Error).message}`));
      }, ms).unref();
      return;
    }
    if (!done) this.opts.log(`map ${r.entry.id}: no live replica to transfer from; serving the drivers it receives from now on`);
    if (this.replicas.get(r.entry.id) === r && r.generation === gen && r.state === 'TRANSFERRING') {
      r.state = 'SERVING';
      this.opts.onStateChange?.();
      if (r.loadStart !== undefined) {
        const ms = Date.now() - r.loadStart;
        r.loadStart = undefined;
        this.opts.log(`map ${r.entry.id} ready in ${ms} ms`);
        this.opts.onMapReady?.(r.entry.id, ms);
      }
      if (done && !catchUp) {
        // WATCH OUT: instances detect membership changes up to a probe round
        // apart; one that still had the old table did not forward to us yet.
        // A second pull (newest wins) picks up what it applied meanwhile.
        const t = setTimeout(() => {
          if (this.replicas.get(r.entry.id) === r && r.generation === gen && r.state === 'SERVING')
            this.catchUp(r, sources).catch((e: unknown) => this.opts.log(`map ${r.entry.id}: catch-up pull failed: ${(e as Error).message}`));
        }, this.opts.catchUpMs);
        t.unref();
      }
    }
  }

  private async catchUp(r: Replica, sources: () => Promise<PeerClient[]>): Promise<void> {
    let peers: PeerClient[] = [];
    try {
      peers = await sources();
    } catch {
      return;
    }
    for (const peer of peers) {
      try {
        const n = await peer.pullSnapshot(
          r.entry.id,
          this.opts.self,
          (recs) => {
            r.shard?.importRecords(recs);
          },
          600_000,
        );
        this.opts.log(`map ${r.entry.id}: catch-up pull of ${n} drivers from ${peer.address}`);
        return;
      } catch (e) {
        this.opts.log(`map ${r.entry.id}: catch-up pull from ${peer.address} failed: ${(e as Error).message}`);
      }
    }
  }

  /** Stop owning a map: keep it as a transfer source for the grace period, then drop it. */
  release(mapId: string): void {
    const r = this.replicas.get(mapId);
    if (!r || r.state === 'DRAINING') return;
    if (r.state === 'LOADING' || r.state === 'TRANSFERRING') {
      this.dropNow(mapId);
      return;
    }
    r.state = 'DRAINING';
    // A draining replica gets no more updates: its watches move to the new owners.
    r.shard?.endWatches();
    this.opts.log(`map ${mapId}: no longer owned; dropping in ${this.opts.dropGraceMs} ms`);
    r.dropTimer = setTimeout(() => this.dropNow(mapId), this.opts.dropGraceMs);
    r.dropTimer.unref();
    this.opts.onStateChange?.();
  }

  private dropNow(mapId: string): void {
    const r = this.replicas.get(mapId);
    if (!r) return;
    clearTimeout(r.dropTimer);
    r.shard?.close();
    r.generation = ++this.gen;
    this.replicas.delete(mapId);
    this.opts.log(`map ${mapId}: dropped`);
    this.opts.onStateChange?.();
  }

  /** After this process was frozen: pull every held map again (newest wins). */
  resync(sources: (mapId: string) => Promise<PeerClient[]>): void {
    for (const r of this.replicas.values()) {
      if (r.state !== 'SERVING' && r.state !== 'DRAINING') continue;
      r.generation = ++this.gen;
      this.transfer(r, () => sources(r.entry.id)).catch((e: unknown) => this.opts.log(`map ${r.entry.id}: resync failed: ${(e as Error).message}`));
    }
  }

  close(): void {
    for (const id of [...this.replicas.keys()]) this.dropNow(id);
  }
}
