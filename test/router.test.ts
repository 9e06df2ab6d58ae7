// The router's failover on fake peers (no network): each try gets its share
// of the caller's deadline, reads are hedged to the next replica when the
// first is slow, a slow replica is tried last once its latency is known, a
// refusal that is the caller's fault is not retried, and when every replica
// fails the error says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../src/proxy/router.js';
import { RouteTable } from '../src/proxy/route-table.js';
import { FarosError } from '../src/errors.js';
import type { PeerClient } from '../src/proxy/peer-client.js';
import type { NearbyOutcome, NearbyQuery } from '../src/model/types.js';

type Behaviour = 'ok' | 'hang' | 'invalid' | 'down' | number; // a number: answers after that many ms
const Q: NearbyQuery = { lat: 0, lng: 0, k: 1, metric: 'distance', maxDistanceM: 1000, maxEtaS: 100 };
const answer = (by: string): NearbyOutcome => ({
  ok: true,
  drivers: [],
  querySnapped: { segment: 0, wayId: '1', segIndex: 0, t: 0, lat: 0, lng: 0, distanceM: 0 },
  stats: { edgesExpanded: 0, candidatesSeen: 0, servedBy: by },
});

function router(peers: Record<string, Behaviour>) {
  const calls: string[] = [];
  const fake = (address: string) =>
    ({
      nearbyLocal: (_m: string, _q: NearbyQuery, timeoutMs: number, signal?: AbortSignal) =>
        new Promise<NearbyOutcome>((resolve, reject) => {
          calls.push(address);
          const b = peers[address]!;
          const timer = setTimeout(() => reject(new FarosError('DEADLINE_EXCEEDED', `${address}: try timed out after ${Math.round(timeoutMs)} ms`)), timeoutMs);
          const done = (f: () => void) => {
            clearTimeout(timer);
            f();
          };
          signal?.addEventListener('abort', () => done(() => reject(new FarosError('CANCELLED', `${address}: cancelled`))));
          if (b === 'ok') done(() => resolve(answer(address)));
          else if (b === 'invalid') done(() => reject(new FarosError('INVALID_ARGUMENT', `${address}: bad query`)));
          else if (b === 'down') done(() => reject(new FarosError('UNAVAILABLE', `${address}: connection refused`)));
          else if (typeof b === 'number') setTimeout(() => done(() => resolve(answer(address))), b);
        }),
    }) as unknown as PeerClient;
  const table = new RouteTable(Object.keys(peers), Object.keys(peers).length);
  const r = new Router({
    self: 'me:1',
    table: () => table,
    client: fake,
    isLive: () => true,
    writable: () => undefined,
    serving: () => undefined,
    perTryTimeoutMs: 2000,
    pullerTtlMs: 1000,
    log: () => {},
  });
  return { r, calls };
}
const within = (ms: number) => ({ signal: AbortSignal.timeout(ms), deadline: Date.now() + ms });

test('a replica that never answers: a call with a 500 ms deadline still succeeds through the other one', async () => {
  for (let i = 0; i < 4; i++) {
    const { r } = router({ 'a:1': 'hang', 'b:1': 'ok' });
    const t0 = Date.now();
    const out = await r.nearby('m', Q, within(500));
    assert.ok(out.ok);
    assert.equal(out.stats.servedBy, 'b:1');
    assert.ok(Date.now() - t0 < 480, `took ${Date.now() - t0} ms`);
  }
});

test('a slow replica (200 ms): reads are hedged, then the slow one is tried last', async () => {
  const { r, calls } = router({ 'a:1': 200, 'b:1': 5 });
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const t0 = Date.now();
    const out = await r.nearby('m', Q, within(500));
    times.push(Date.now() - t0);
    assert.ok(out.ok);
  }
  // Once both latencies are known, b goes first every time: the last calls are fast and never reach a.
  assert.ok(
    times.slice(-4).every((t) => t < 100),
    `times ${times}`,
  );
  assert.deepEqual(calls.slice(-4), ['b:1', 'b:1', 'b:1', 'b:1']);
});

test('a replica that turns slow: the read is hedged to the next one after a few times its usual latency', async () => {
  const peers: Record<string, Behaviour> = { 'a:1': 2, 'b:1': 2 };
  const { r } = router(peers);
  for (let i = 0; i < 6; i++) await r.nearby('m', Q, within(500)); // both known as fast
  peers['a:1'] = 400;
  // Round-robin puts a first within two calls; its answer would take 400 ms, the hedge to b takes ~25.
  for (let i = 0; i < 2; i++) {
    const t0 = Date.now();
    const out = await r.nearby('m', Q, within(1000));
    assert.ok(out.ok && out.stats.servedBy === 'b:1', `served by ${out.ok && out.stats.servedBy}`);
    assert.ok(Date.now() - t0 < 250, `took ${Date.now() - t0} ms`);
  }
  assert.equal(r.stats.hedges, 1);
});

test("the caller's own fault is not retried on another replica", async () => {
  const { r, calls } = router({ 'a:1': 'invalid', 'b:1': 'invalid' });
  await assert.rejects(r.nearby('m', Q, within(500)), (e: FarosError) => e.code === 'INVALID_ARGUMENT');
  assert.equal(calls.length, 1);
});

test('every replica down: UNAVAILABLE naming each failure; every replica out of time: DEADLINE_EXCEEDED', async () => {
  const down = router({ 'a:1': 'down', 'b:1': 'down' });
  await assert.rejects(down.r.nearby('m', Q, within(500)), (e: FarosError) => e.code === 'UNAVAILABLE' && /a:1/.test(e.message) && /b:1/.test(e.message));
  const slow = router({ 'a:1': 'hang', 'b:1': 'hang' });
  const t0 = Date.now();
  await assert.rejects(slow.r.nearby('m', Q, within(300)), (e: FarosError) => e.code === 'DEADLINE_EXCEEDED');
  assert.ok(Date.now() - t0 < 450, `took ${Date.now() - t0} ms`);
});
