// Asynchronous, batched replication of applied updates to the other replicas
// of a map. Best effort: a peer that fails loses the batch (and is refilled
// by state transfer when it rejoins); replicas keep the newest timestamp per
// driver, so batches may arrive in any order.
import type { DriverRecord } from '../model/store.js';
import type { PeerClient } from './peer-client.js';

const MAX_BATCH = 2000;
const FLUSH_MS = 2;

interface Queue { records: Map<string, DriverRecord[]>; size: number; timer?: NodeJS.Timeout; inFlight: number }

export class Forwarder {
  private readonly queues = new Map<string, Queue>();
  readonly stats = { sent: 0, dropped: 0, batches: 0 };

  constructor(private readonly client: (address: string) => PeerClient, private readonly timeoutMs = 2000) {}

  send(peer: string, mapId: string, records: readonly DriverRecord[]): void {
    if (records.length === 0) return;
    let q = this.queues.get(peer);
    if (!q) { q = { records: new Map(), size: 0, inFlight: 0 }; this.queues.set(peer, q); }
    let list = q.records.get(mapId);
    if (!list) { list = []; q.records.set(mapId, list); }
    for (const r of records) list.push(r);
    q.size += records.length;
    if (q.size >= MAX_BATCH) this.flush(peer, q);
    else q.timer ??= setTimeout(() => this.flush(peer, q!), FLUSH_MS);
  }

  private flush(peer: string, q: Queue): void {
    clearTimeout(q.timer);
    q.timer = undefined;
    const batches = q.records;
    q.records = new Map();
    q.size = 0;
    for (const [mapId, records] of batches) {
      q.inFlight++;
      this.stats.batches++;
      this.client(peer).applyRecords(mapId, records, this.timeoutMs).then(
        () => { this.stats.sent += records.length; },
        () => { this.stats.dropped += records.length; },
      ).finally(() => { q.inFlight--; });
    }
  }

  /** Drop everything queued for a peer that left. */
  forget(peer: string): void {
    const q = this.queues.get(peer);
    if (!q) return;
    clearTimeout(q.timer);
    this.stats.dropped += q.size;
    this.queues.delete(peer);
  }

  close(): void { for (const p of [...this.queues.keys()]) this.forget(p); }
}
