// After a fault: does every replica hold the newest acknowledged state of
// every driver a SteadyLoad wrote? Each replica's whole map is read through
// the peer port (Peer.PullSnapshot, what a state transfer reads) and each
// driver compared with the load's record: the replica must hold it with the
// acknowledged timestamp and position, or a newer timestamp the load sent
// (a call that failed or timed out may have been applied), and every replica
// of a map must hold the same timestamp. A replica that holds an older
// version (or none) is "behind"; its acknowledgement time is kept, so a
// caller can tell a loss inside a stated window from any other.
import type { PeerClient } from '../../src/proxy/peer-client.js';
import type { SteadyLoad } from './load.js';

export interface ReplicaCheck {
  /** Drivers compared (acknowledged at least once) and replicas read. */
  drivers: number;
  replicas: number;
  /** Replica copies equal to the newest acknowledged state, or newer with a timestamp the load sent. */
  upToDate: number;
  newerThanAcked: number;
  /** Copies older than the newest acknowledged update, or missing: (map, driver, replica, acknowledged at). */
  behind: { mapId: string; driverId: string; replica: string; ackedAt: number; has: number | undefined; want: number }[];
  /** Copies with a timestamp the load never sent, or at the acknowledged timestamp with another position. */
  wrong: { mapId: string; driverId: string; replica: string; detail: string }[];
  /** Drivers whose replicas disagree on the timestamp. */
  replicasDiffer: number;
}

/**
 * Compare each replica (per map: the peer addresses that hold it) with the load.
 * `peer(address)` gives a Peer client; `requester` is the member address the
 * caller's certificate names (PullSnapshot checks it).
 */
export async function checkReplicas(
  load: SteadyLoad,
  replicasOf: Map<string, string[]>,
  peer: (address: string) => PeerClient,
  requester: string,
  timeoutMs = 30_000,
): Promise<ReplicaCheck> {
  const out: ReplicaCheck = { drivers: 0, replicas: 0, upToDate: 0, newerThanAcked: 0, behind: [], wrong: [], replicasDiffer: 0 };
  for (const [mapId, replicas] of replicasOf) {
    const held: Map<string, { ts: number; lat: number; lng: number }>[] = [];
    for (const r of replicas) {
      const m = new Map<string, { ts: number; lat: number; lng: number }>();
      const pc = peer(r);
      try {
        await pc.pullSnapshot(
          mapId,
          requester,
          (recs) => {
            for (const x of recs) m.set(x.driverId, { ts: x.timestampMs, lat: x.lat, lng: x.lng });
          },
          timeoutMs,
        );
      } finally {
        pc.close();
      }
      held.push(m);
      out.replicas++;
    }
    for (const [key, want] of load.acked) {
      if (want.mapId !== mapId) continue;
      out.drivers++;
      const sent = load.sentMax.get(key) ?? want.ts;
      const seen = new Set<number>();
      for (const [k, m] of held.entries()) {
        const has = m.get(want.driverId);
        seen.add(has?.ts ?? -1);
        if (!has || has.ts < want.ts) {
          out.behind.push({ mapId, driverId: want.driverId, replica: replicas[k]!, ackedAt: want.ackedAt, has: has?.ts, want: want.ts });
        } else if (has.ts > sent) {
          out.wrong.push({ mapId, driverId: want.driverId, replica: replicas[k]!, detail: `timestamp ${has.ts} newer than any sent (${sent})` });
        } else if (has.ts === want.ts && (has.lat !== want.lat || has.lng !== want.lng)) {
          out.wrong.push({
            mapId,
            driverId: want.driverId,
            replica: replicas[k]!,
            detail: `position ${has.lat},${has.lng} is not the acknowledged ${want.lat},${want.lng}`,
          });
        } else {
          out.upToDate++;
          if (has.ts > want.ts) out.newerThanAcked++;
        }
      }
      if (seen.size > 1) out.replicasDiffer++;
    }
  }
  return out;
}

/** One line: the counts, and the first few copies behind or wrong. */
export function describeCheck(c: ReplicaCheck, at = Date.now()): string {
  const behind = c.behind
    .slice(0, 3)
    .map((b) => `${b.driverId}@${b.replica} has ${b.has ?? 'none'} want ${b.want} (acked ${at - b.ackedAt} ms before the check)`)
    .join('; ');
  return (
    `${c.drivers} drivers × replicas (${c.replicas} replica maps): ${c.upToDate} copies up to date (${c.newerThanAcked} newer than acknowledged, sent), ` +
    `${c.behind.length} behind${behind ? ` [${behind}]` : ''}, ${c.wrong.length} wrong${
      c.wrong.length
        ? ` [${c.wrong
            .slice(0, 3)
            .map((w) => `${w.driverId}@${w.replica}: ${w.detail}`)
            .join('; ')}]`
        : ''
    }, ` +
    `${c.replicasDiffer} drivers whose replicas differ`
  );
}
