// The watch engine (threads/watches.ts) in this process, where a message's
// send time and the store's state at that instant are known exactly: random
// updates, removes and expiring drivers go through a Shard while watches are
// open; a Model replays the same steps. Every message must equal the Model's
// answer on the state the store held when it was sent (the step applied
// then, or the one being applied), at that instant; two messages of a watch
// are never closer than min_interval_ms; a change beyond the threshold is
// followed by a message within min_interval_ms + 1 s. Run for the
// incremental engine and for the naive baseline the benchmark compares with.
// Seed: FAROS_SEED (default 5).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadMap } from '../src/mapbuild/build.js';
import { Shard } from '../src/threads/shard.js';
import { Model } from '../src/model/model.js';
import { WorkerPool } from '../src/threads/pool.js';
import { MAPS } from './helpers/sides.js';
import type { DriverUpdate, Metric, NearbyQuery, NearbyResult } from '../src/model/types.js';
import { differs } from '../src/threads/watches.js';
import { mulberry32 } from '../src/rng.js';

const SEED = Number(process.env.FAROS_SEED ?? 5);
const pool = new WorkerPool({ threads: 1 });
after(() => pool.close());

const TTL = 60_000;

interface Msg {
  at: number;
  /** Steps applied when it was sent; `busy`: step `applied` was being applied. */
  applied: number;
  busy: boolean;
  ids: string[];
  costs: number[];
}

const costs = (r: NearbyResult & { ok: true }, m: Metric) => r.drivers.map((d) => (m === 'eta' ? d.etaS : d.distanceM));

async function run(naive: boolean, mapFile: string): Promise<{ messages: number; changes: number; evaluations: number; judged: number }> {
  const graph = await loadMap(fileURLToPath(new URL(mapFile, MAPS)), 'car');
  const shard = new Shard(`${mapFile}#watch`, graph, pool, { snapRadiusM: 200, ttlMs: TTL, sweepIntervalMs: 3_600_000, naiveWatches: naive });
  const rnd = mulberry32(SEED + (naive ? 1 : 0));
  const v0 = Math.floor(rnd() * graph.vertexCount);
  const centre = { lat: graph.vLat[v0]!, lng: graph.vLng[v0]! };
  const near = (s: number) => ({ lat: centre.lat + (rnd() - 0.5) * s, lng: centre.lng + (rnd() - 0.5) * s });
  type Step = { updates: DriverUpdate[] } | { remove: string };
  const steps: Step[] = [];
  const ids: string[] = [];
  const now0 = Date.now();
  const fleet: DriverUpdate[] = Array.from({ length: 120 }, (_, i) => {
    ids.push(`d${i}`);
    return { driverId: `d${i}`, ...near(0.01), timestampMs: now0, metadata: { s: rnd() < 0.5 ? 'a' : 'b' } };
  });
  await shard.update(fleet);
  steps.push({ updates: fleet });
  let applied = 1,
    busy = false;
  const specs = [
    { k: 5, metric: 'distance' as Metric, minIntervalMs: 100, minChange: 20, filter: {} as Record<string, string> },
    { k: 8, metric: 'eta' as Metric, minIntervalMs: 150, minChange: 3, filter: {} },
    { k: 3, metric: 'distance' as Metric, minIntervalMs: 200, minChange: 50, filter: { s: 'a' } },
    { k: 12, metric: 'eta' as Metric, minIntervalMs: 100, minChange: 10, filter: {} },
  ];
  const qs: NearbyQuery[] = specs.map((s, i) => ({
    lat: centre.lat + (i - 1.5) * 0.002,
    lng: centre.lng,
    k: s.k,
    metric: s.metric,
    maxDistanceM: 3000,
    maxEtaS: 300,
    filter: s.filter,
  }));
  const got: Msg[][] = specs.map(() => []);
  const handles = qs.map((q, wi) =>
    shard.watch(
      q,
      { minIntervalMs: specs[wi]!.minIntervalMs, minChange: specs[wi]!.minChange },
      {
        answer: (r, at) => {
          assert.ok(r.ok);
          got[wi]!.push({ at, applied, busy, ids: r.drivers.map((d) => d.driver.driverId), costs: costs(r, q.metric) });
        },
        end: (e) => assert.fail(`watch ${wi} ended: ${e.message}`),
      },
    ),
  );
  const samples: { t: number; applied: number }[] = [];
  for (let s = 0; s < 50; s++) {
    const now = Date.now();
    let step: Step;
    if (s % 11 === 5) step = { remove: ids[Math.floor(rnd() * ids.length)]! };
    else {
      const updates: DriverUpdate[] = [];
      for (let i = 0, n = 1 + Math.floor(rnd() * 12); i < n; i++) {
        const x = rnd();
        if (x < 0.12) {
          ids.push(`d${ids.length}`);
          // Expires within 0.3–1.5 s.
          updates.push({ driverId: ids[ids.length - 1]!, ...near(0.01), timestampMs: now - TTL + 300 + Math.floor(rnd() * 1200), metadata: { s: 'a' } });
        } else {
          const id = ids[Math.floor(rnd() * ids.length)]!;
          updates.push({ driverId: id, ...near(x < 0.3 ? 0.01 : 0.004), timestampMs: now, metadata: { s: rnd() < 0.5 ? 'a' : 'b' } });
        }
      }
      step = { updates };
    }
    steps.push(step);
    busy = true;
    if ('remove' in step) shard.remove(step.remove);
    else await shard.update(step.updates);
    applied++;
    busy = false;
    samples.push({ t: Date.now(), applied });
    await new Promise((r) => setTimeout(r, rnd() * 60));
  }
  const endAt = Date.now() + 1500;
  await new Promise((r) => setTimeout(r, 1500));
  for (const h of handles) h?.close();
  const counts = { ...shard.watchCounts };
  shard.close();

  // Replay: after step j the Model holds the state `applied = j + 1`.
  const model = new Model(graph, { snapRadiusM: 200, ttlMs: TTL });
  const matched = got.map((ms) => ms.map(() => false));
  let changes = 0;
  for (let j = 0; j < steps.length; j++) {
    const st = steps[j]!;
    if ('remove' in st) model.remove(st.remove);
    else model.updateBatch(st.updates);
    const state = j + 1;
    qs.forEach((q, wi) => {
      const ref = (t: number) => {
        const r = model.nearby({ ...q, nowMs: t });
        assert.ok(r.ok);
        return { ids: r.drivers.map((d) => d.driver.driverId), costs: costs(r, q.metric) };
      };
      got[wi]!.forEach((m, mi) => {
        // Sent while state `state` was the store's: after it was applied, or while the next one was being applied.
        if (m.applied !== state && !(m.busy && m.applied + 1 === state)) return;
        // The search ran at most a few ms before the message was handed over (one flush runs many).
        for (let t = m.at; t >= m.at - 5; t--) {
          const w = ref(t);
          if (w.ids.length === m.ids.length && w.ids.every((id, i) => id === m.ids[i] && Math.abs(w.costs[i]! - m.costs[i]!) <= 1e-6)) {
            matched[wi]![mi] = true;
            break;
          }
        }
      });
      for (const smp of samples) {
        if (smp.applied !== state || smp.t + specs[wi]!.minIntervalMs + 1000 > endAt) continue;
        const want = ref(smp.t);
        let last: Msg | undefined;
        for (const m of got[wi]!) if (m.at <= smp.t) last = m;
        if (last && !differs(last, want, specs[wi]!.minChange)) continue;
        changes++;
        const next = got[wi]!.find((m) => m.at > smp.t);
        assert.ok(next && next.at <= smp.t + specs[wi]!.minIntervalMs + 1000, `watch ${wi}: change at +${smp.t - now0} ms not reported in time`);
      }
    });
  }
  model.close();
  let messages = 0;
  got.forEach((ms, wi) => {
    messages += ms.length;
    ms.forEach((m, mi) => {
      assert.ok(
        matched[wi]![mi],
        `watch ${wi} message ${mi} (+${m.at - now0} ms, state ${m.applied}${m.busy ? '+' : ''}, [${m.ids}]) equals no reference answer`,
      );
      if (mi > 0) {
        const gap = m.at - ms[mi - 1]!.at;
        assert.ok(
          gap >= specs[wi]!.minIntervalMs,
          `watch ${wi}: messages ${mi - 1} and ${mi} sent ${gap} ms apart (min_interval_ms ${specs[wi]!.minIntervalMs})`,
        );
      }
    });
  });
  return { messages, changes, ...counts };
}

for (const naive of [false, true]) {
  test(`watch engine (${naive ? 'naive baseline' : 'incremental'}): messages equal the reference at their send time, exact intervals, changes reported in time (seed ${SEED})`, async () => {
    const r = await run(naive, 'monaco.osm.pbf');
    console.log(`${naive ? 'naive' : 'incremental'}: ${JSON.stringify(r)}`);
    assert.ok(r.messages > 25, `${r.messages} messages`);
    assert.ok(r.changes > 10, `${r.changes} sampled changes to report`);
    if (!naive) assert.ok(r.judged > 0, 'some changes were judged without a search');
  });
}
