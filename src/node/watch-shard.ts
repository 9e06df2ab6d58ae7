// A watch on this instance's own replica of a map: the shard's answers as
// outcomes naming this instance (stats.served_by).
import type { Shard } from '../threads/shard.js';
import type { NearbyQuery, WatchHandle, WatchParams, WatchSink } from '../model/types.js';

export function watchShard(shard: Shard, servedBy: string, q: NearbyQuery, params: WatchParams, sink: WatchSink): WatchHandle {
  const h = shard.watch(q, params, {
    answer: (r) => sink.answer(r.ok ? { ok: true, drivers: r.drivers, querySnapped: r.querySnapped, stats: { ...r.stats, servedBy } } : r),
    end: (e) => sink.end(e),
  });
  return h ?? { close: () => {} };
}
