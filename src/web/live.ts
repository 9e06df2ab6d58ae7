// Live driver positions of one map as server-sent events, for the map page.
// One ticker per watched map reads this instance's copy of the store a few
// times a second and sends every watcher the same diff (drivers moved, new,
// gone), so the cost follows the number of maps watched, not of watchers.
// A watcher that does not read is dropped, never buffered without bound.
import type { ServerResponse } from 'node:http';
import type { Shard } from '../threads/shard.js';
import { FarosError } from '../errors.js';

export interface LiveOptions {
  /** The serving copy of a map on this instance, if any. */
  localShard: (mapId: string) => Shard | undefined;
  /** Replicas of a map (shown when this instance holds none). */
  replicas: (mapId: string) => string[];
  /** Snapshots per second at most (default 4). */
  rateHz?: number;
  /** Open streams on this instance at most (default 16). */
  maxStreams?: number;
  /** Drivers sent per map at most (default 20,000). */
  maxDrivers?: number;
  /** Unsent bytes after which a watcher counts as not reading (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Open streams now; a stream dropped for not reading. */
  onStreams?: (open: number) => void;
  onDropped?: () => void;
}

/** Thrown out of a snapshot read once maxDrivers are in: the rest of a huge fleet is not even decoded. */
const ENOUGH = new Error('enough drivers');

/** [id, lat, lng, status] of a driver (its snapped position: on the road). */
type Pos = [string, number, number, string];

class Feed {
  readonly watchers = new Set<ServerResponse>();
  private last = new Map<string, Pos>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private local: boolean | undefined;

  constructor(
    readonly mapId: string,
    private readonly o: Required<LiveOptions>,
    private readonly onIdle: () => void,
  ) {}

  add(res: ServerResponse): void {
    this.watchers.add(res);
    res.on('close', () => {
      this.watchers.delete(res);
      if (this.watchers.size === 0) this.stop();
    });
    if (this.local !== undefined) this.send(res, this.local ? this.full() : this.elsewhere());
    this.timer ??= setInterval(() => void this.tick(), 1000 / this.o.rateHz);
    this.timer.unref();
    if (this.local === undefined) void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.watchers) w.end();
    this.watchers.clear();
    this.onIdle();
  }

  private full(): string {
    return `event: drivers\ndata: ${JSON.stringify({ full: true, moved: [...this.last.values()], gone: [], truncated: this.last.size >= this.o.maxDrivers })}\n\n`;
  }

  private elsewhere(): string {
    return `event: elsewhere\ndata: ${JSON.stringify({ mapId: this.mapId, replicas: this.o.replicas(this.mapId) })}\n\n`;
  }

  private send(w: ServerResponse, chunk: string): void {
    if (w.writableLength > this.o.maxBufferedBytes) {
      w.destroy();
      this.o.onDropped?.();
      return;
    }
    w.write(chunk);
  }

  private broadcast(chunk: string): void {
    for (const w of this.watchers) this.send(w, chunk);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const shard = this.o.localShard(this.mapId);
      if (!shard) {
        if (this.local !== false) {
          this.local = false;
          this.last.clear();
          this.broadcast(this.elsewhere());
        }
        return;
      }
      const g = shard.graph,
        now = Date.now(),
        ttl = shard.options.ttlMs;
      const next = new Map<string, Pos>();
      await shard
        .exportSnapshot((records) => {
          for (const r of records) {
            if (next.size >= this.o.maxDrivers) throw ENOUGH;
            if (now - r.timestampMs > ttl) continue;
            const a = g.segA[r.segment],
              b = g.segB[r.segment];
            const lat = g.vLat[a] + r.t * (g.vLat[b] - g.vLat[a]),
              lng = g.vLng[a] + r.t * (g.vLng[b] - g.vLng[a]);
            next.set(r.driverId, [r.driverId, +lat.toFixed(6), +lng.toFixed(6), r.metadata.status ?? '']);
          }
        }, 5000)
        .catch((e: unknown) => {
          if (e !== ENOUGH) throw e;
        });
      const moved: Pos[] = [];
      for (const [id, p] of next) {
        const q = this.last.get(id);
        if (!q || q[1] !== p[1] || q[2] !== p[2] || q[3] !== p[3]) moved.push(p);
      }
      const gone = [...this.last.keys()].filter((id) => !next.has(id));
      const wasLocal = this.local;
      this.local = true;
      this.last = next;
      if (wasLocal !== true) this.broadcast(this.full());
      else if (moved.length || gone.length)
        this.broadcast(`event: drivers\ndata: ${JSON.stringify({ full: false, moved, gone, truncated: next.size >= this.o.maxDrivers })}\n\n`);
    } catch {
      // The map was dropped from this instance meanwhile: the next tick says so.
      this.local = undefined;
    } finally {
      this.busy = false;
    }
  }
}

export class LiveFeeds {
  private readonly feeds = new Map<string, Feed>();
  private readonly o: Required<LiveOptions>;
  private streams = 0;

  constructor(o: LiveOptions) {
    this.o = { rateHz: 4, maxStreams: 16, maxDrivers: 20_000, maxBufferedBytes: 1 << 20, onStreams: () => {}, onDropped: () => {}, ...o };
  }

  /** Answer a watch request with an event stream (the map is already checked to exist). */
  watch(mapId: string, res: ServerResponse): void {
    if (this.streams >= this.o.maxStreams)
      throw new FarosError('RESOURCE_EXHAUSTED', `${this.o.maxStreams} live streams are open on this instance already; close a map page and retry`);
    this.streams++;
    this.o.onStreams?.(this.streams);
    res.on('close', () => {
      this.streams--;
      this.o.onStreams?.(this.streams);
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    // Reconnect after 2 s if the stream breaks.
    res.write('retry: 2000\n\n');
    let f = this.feeds.get(mapId);
    if (!f) {
      const feed = new Feed(mapId, this.o, () => {
        if (this.feeds.get(mapId) === feed) this.feeds.delete(mapId);
      });
      this.feeds.set(mapId, feed);
      f = feed;
    }
    f.add(res);
  }

  /** End every stream (shutdown). */
  close(): void {
    for (const f of [...this.feeds.values()]) f.stop();
  }
}
