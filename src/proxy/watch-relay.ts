// A client's watch in a cluster: served by this instance's replica when it
// serves the map, else by another replica over the peer port
// (Peer.WatchLocal) and relayed. When the serving replica goes away (the map
// leaves this instance, the peer dies, leaves or stops serving it), the watch
// moves to another replica, which resumes from what the client last got
// (IDs, costs, time left of the interval): the client's stream goes on. With
// no replica able to take it for RESUBSCRIBE_MS it ends UNAVAILABLE.
import { FarosError } from '../errors.js';
import type { NearbyOutcome, NearbyQuery, WatchHandle, WatchParams, WatchSink } from '../model/types.js';
import type { Shard } from '../threads/shard.js';
import { watchShard } from '../node/watch-shard.js';
import type { PeerClient } from './peer-client.js';
import { quote } from '../quote.js';

/** How long a watch looks for a replica before it ends UNAVAILABLE. */
export const RESUBSCRIBE_MS = 10_000;
/** Between tries (doubling, at most 1 s). */
const RETRY_MS = 100;

export interface RelayDeps {
  self: string;
  /** This instance's serving replica of the map, if it is one. */
  local(mapId: string): Shard | undefined;
  /** The other replicas to try, in order. */
  others(mapId: string): string[];
  client(address: string): PeerClient;
  log(msg: string): void;
  /** A watch moved to another replica (metrics). */
  onMove?(): void;
}

/** Codes after which the watch ends instead of moving: the request itself is refused. */
const FINAL = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'PERMISSION_DENIED', 'UNAUTHENTICATED', 'OUT_OF_RANGE']);

export function relayWatch(d: RelayDeps, mapId: string, q: NearbyQuery, params: WatchParams, sink: WatchSink): WatchHandle {
  const eta = q.metric === 'eta';
  let closed = false,
    gen = 0,
    cur: WatchHandle | undefined,
    timer: NodeJS.Timeout | undefined,
    lost: number | undefined,
    delay = RETRY_MS,
    tries = 0;
  let last: { ids: string[]; costs: number[]; at: number } | undefined = params.resume
    ? { ids: params.resume.ids, costs: params.resume.costs, at: Date.now() + params.resume.waitMs - params.minIntervalMs }
    : undefined;
  const finish = (e: Error): void => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    cur?.close();
    sink.end(e);
  };
  const opened = (): void => {
    lost = undefined;
    delay = RETRY_MS;
  };
  const subscribe = (): void => {
    if (closed) return;
    const g = ++gen;
    const resume = last && {
      ids: last.ids,
      costs: last.costs,
      waitMs: Math.max(0, Math.min(params.minIntervalMs, last.at + params.minIntervalMs - Date.now())),
    };
    const p: WatchParams = { ...params, resume };
    const inner: WatchSink = {
      answer: (o: NearbyOutcome) => {
        if (closed || g !== gen) return;
        if (o.ok) last = { ids: o.drivers.map((x) => x.driver.driverId), costs: o.drivers.map((x) => (eta ? x.etaS : x.distanceM)), at: Date.now() };
        else closed = true;
        sink.answer(o);
      },
      end: (e) => {
        if (closed || g !== gen) return;
        cur = undefined;
        moveOn(e);
      },
    };
    try {
      const local = d.local(mapId);
      if (local) {
        cur = watchShard(local, d.self, q, p, inner);
        opened();
        return;
      }
      const order = d.others(mapId);
      if (order.length === 0) throw new FarosError('UNAVAILABLE', `no live replica of map ${quote(mapId)}`);
      const peer = order[tries++ % order.length]!;
      cur = d.client(peer).watchLocal(mapId, q, p, inner, () => {
        if (g === gen) opened();
      });
    } catch (e) {
      moveOn(e as Error);
    }
  };
  const moveOn = (e: Error): void => {
    if (closed) return;
    const code = (e as FarosError).code;
    if (typeof code === 'string' && FINAL.has(code)) {
      finish(e);
      return;
    }
    const now = Date.now();
    lost ??= now;
    if (now - lost > RESUBSCRIBE_MS) {
      finish(new FarosError('UNAVAILABLE', `no replica of map ${quote(mapId)} could take this watch for ${RESUBSCRIBE_MS} ms (${e.message}); watch again`));
      return;
    }
    d.onMove?.();
    timer = setTimeout(subscribe, delay);
    delay = Math.min(1000, delay * 2);
  };
  subscribe();
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      cur?.close();
    },
  };
}
