// Asynchronous, batched replication of applied updates to the other replicas
// of a map. Per peer: records queue up and go out in batches of up to
// MAX_BATCH, at most MAX_IN_FLIGHT calls at a time (so a slow peer is not
// buried under concurrent calls that all time out); a failed batch is retried
// once while the peer is still a target. Best effort beyond that: a peer that
// keeps failing loses batches (counted) and is refilled by state transfer when
// it rejoins. Replicas keep the newest timestamp per driver, so batches may
// arrive in any order.
import type { DriverRecord } from '../model/store/store.js';
import { PEER_MAX_MESSAGE_BYTES, type PeerClient } from './peer-client.js';

const MAX_BATCH = 2000;
/**
 * Encoded bytes per batch: half the peer's message limit, so a batch of the
 * largest records (128-byte IDs, 1 KiB of metadata) is never refused for size.
 */
export const MAX_BATCH_BYTES = PEER_MAX_MESSAGE_BYTES / 2;

/** An upper bound of a record's (or update's, with its map ID) protobuf size: fixed fields, ID, metadata entries. */
export function recordBytes(r: { driverId: string; metadata: Readonly<Record<string, string>> }, mapIdLength = 0): number {
  let n = 64 + 3 * (r.driverId.length + mapIdLength);
  for (const k in r.metadata) n += 8 + 3 * (k.length + r.metadata[k]!.length);
  return n;
}

/** `items` in order, cut into runs whose summed size stays under MAX_BATCH_BYTES. */
export function splitBySize<T>(items: readonly T[], size: (x: T) => number): T[][] {
  const out: T[][] = [];
  let run: T[] = [],
    bytes = 0;
  for (const x of items) {
    const b = size(x);
    if (run.length > 0 && bytes + b > MAX_BATCH_BYTES) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(x);
    bytes += b;
  }
  if (run.length > 0) out.push(run);
  return out;
}
const FLUSH_MS = 2;
const MAX_IN_FLIGHT = 4;
/** Records queued per peer beyond which the oldest are dropped (memory bound). */
const MAX_QUEUED = 500_000;

interface Item {
  mapId: string;
  records: DriverRecord[];
  bytes: number;
  retried: boolean;
}
interface Queue {
  items: Item[];
  size: number;
  timer?: NodeJS.Timeout;
  inFlight: number;
}

export class Forwarder {
  private readonly queues = new Map<string, Queue>();
  readonly stats = { sent: 0, dropped: 0, batches: 0, retries: 0 };

  constructor(
    private readonly client: (address: string) => PeerClient,
    /** Is the peer still worth sending to (a live member)? */
    private readonly wanted: (peer: string) => boolean = () => true,
    private readonly timeoutMs = 10_000,
    /** Told of every drop (the records are then missing on that peer until anti-entropy or a transfer repairs them). */
    private readonly onDrop: (peer: string, records: number, why: string) => void = () => {},
  ) {}

  private dropped(peer: string, n: number, why: string): void {
    if (n <= 0) return;
    this.stats.dropped += n;
    this.onDrop(peer, n, why);
  }

  send(peer: string, mapId: string, records: readonly DriverRecord[]): void {
    if (records.length === 0) return;
    let q = this.queues.get(peer);
    if (!q) {
      q = { items: [], size: 0, inFlight: 0 };
      this.queues.set(peer, q);
    }
    // Append to the last open batch of the same map while it stays under
    // MAX_BATCH records and MAX_BATCH_BYTES; else start a new one.
    let last = q.items[q.items.length - 1];
    for (const r of records) {
      const b = recordBytes(r);
      if (!last || last.mapId !== mapId || last.retried || last.records.length >= MAX_BATCH || last.bytes + b > MAX_BATCH_BYTES) {
        last = { mapId, records: [], bytes: 0, retried: false };
        q.items.push(last);
      }
      last.records.push(r);
      last.bytes += b;
    }
    q.size += records.length;
    while (q.size > MAX_QUEUED && q.items.length > 1) {
      const old = q.items.shift()!;
      q.size -= old.records.length;
      this.dropped(peer, old.records.length, `queue over ${MAX_QUEUED} records (oldest dropped)`);
    }
    this.pump(peer, q, false);
  }

  private pump(peer: string, q: Queue, now: boolean): void {
    if (q.items.length === 0) return;
    // A full batch (or a backlog) goes at once; a partial one waits FLUSH_MS for company.
    if (!now && q.size < MAX_BATCH && q.items.length === 1) {
      q.timer ??= setTimeout(() => {
        q.timer = undefined;
        this.pump(peer, q, true);
      }, FLUSH_MS);
      return;
    }
    while (q.inFlight < MAX_IN_FLIGHT && q.items.length > 0) {
      const item = q.items.shift()!;
      q.size -= item.records.length;
      q.inFlight++;
      this.stats.batches++;
      // A client for a bad address throws: counted as a failed batch, never thrown out of a timer.
      Promise.resolve()
        .then(() => this.client(peer).applyRecords(item.mapId, item.records, this.timeoutMs))
        .then(
          () => {
            this.stats.sent += item.records.length;
          },
          () => {
            if (!item.retried && this.wanted(peer) && this.queues.get(peer) === q) {
              this.stats.retries++;
              item.retried = true;
              q.items.unshift(item);
              q.size += item.records.length;
            } else {
              this.dropped(peer, item.records.length, item.retried ? 'sent twice without success' : 'peer no longer a live member');
            }
          },
        )
        .finally(() => {
          q.inFlight--;
          if (this.queues.get(peer) === q) this.pump(peer, q, true);
        });
    }
  }

  /** Drop everything queued for a peer that left. */
  forget(peer: string): void {
    const q = this.queues.get(peer);
    if (!q) return;
    clearTimeout(q.timer);
    this.dropped(peer, q.size, 'peer left the route table');
    this.queues.delete(peer);
  }

  /** Send what is queued now and wait (at most timeoutMs) until every queue is empty and nothing is in flight. */
  async drain(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (const [peer, q] of this.queues) {
      clearTimeout(q.timer);
      q.timer = undefined;
      this.pump(peer, q, true);
    }
    while (Date.now() < until && [...this.queues.values()].some((q) => q.items.length > 0 || q.inFlight > 0)) await new Promise((r) => setTimeout(r, 5));
  }

  close(): void {
    for (const p of [...this.queues.keys()]) this.forget(p);
  }
}
