// FarosClient.watchNearby against a real `faros serve` process: the first
// message is the Nearby answer, a change arrives as a new message, breaking
// out of the loop (or aborting) ends the server-side watch (faros_watches_open
// drops back), a refused request throws, and a target that refuses the
// connection (UNAVAILABLE) is left for another one without the caller noticing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { boot, POINTS, type Booted } from './helpers.js';
import { FarosClient, FarosClientError, type NearbyRequest } from '../../src/client/index.js';

const M = 'monaco-car';
let srv: Booted;
let c: FarosClient;

before(async () => {
  srv = await boot(['--map', M]);
  c = new FarosClient({ targets: [srv.addr] });
});
after(async () => {
  c?.close();
  if (srv) assert.equal(await srv.stop(), 0);
});

async function watchesOpen(): Promise<number> {
  const text = await (await fetch(`${srv.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('faros_watches_open '));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

async function until(what: string, ok: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ids = (r: { drivers: { driver: { driverId: string } | null }[] }): string[] => r.drivers.map((d) => d.driver!.driverId);

test('watchNearby: the first message is the Nearby answer, a change is a new message, break ends the server-side watch', async () => {
  await c.updateDriver({ mapId: M, driverId: 'w1', location: POINTS.monaco });
  const query: NearbyRequest = { mapId: M, location: POINTS.monaco, k: 3 };
  const near = await c.nearby(query);
  assert.deepEqual(ids(near), ['w1']);
  const base = await watchesOpen();
  let n = 0;
  for await (const answer of c.watchNearby({ query, minIntervalMs: 100 })) {
    n++;
    if (n === 1) {
      assert.deepEqual({ drivers: answer.drivers, snapped: answer.querySnapped }, { drivers: near.drivers, snapped: near.querySnapped });
      assert.equal(await watchesOpen(), base + 1);
      await c.updateDriver({ mapId: M, driverId: 'w2', location: { lat: POINTS.monaco.lat + 0.0003, lng: POINTS.monaco.lng } });
      continue;
    }
    assert.deepEqual(new Set(ids(answer)), new Set(['w1', 'w2']));
    break;
  }
  assert.equal(n, 2);
  await until('the watch closed on the server', async () => (await watchesOpen()) === base);
});

test('watchNearby: an AbortSignal ends the iterator without an error and the server-side watch', async () => {
  const base = await watchesOpen();
  const ac = new AbortController();
  const got: number[] = [];
  for await (const answer of c.watchNearby({ query: { mapId: M, location: POINTS.monaco, k: 1 } }, { signal: ac.signal })) {
    got.push(answer.drivers.length);
    ac.abort();
  }
  assert.deepEqual(got, [1]);
  await until('the watch closed on the server', async () => (await watchesOpen()) === base);
});

test('watchNearby: a refused request throws FarosClientError (INVALID_ARGUMENT, NOT_FOUND), sent once', async () => {
  const cases: [string, Parameters<FarosClient['watchNearby']>[0], RegExp][] = [
    ['INVALID_ARGUMENT', { query: { mapId: M, location: { lat: 91, lng: 0 } } }, /lat/],
    ['INVALID_ARGUMENT', { query: { mapId: M, location: POINTS.monaco }, minIntervalMs: 50 }, /min_interval_ms/],
    ['NOT_FOUND', { query: { mapId: 'atlantis-car', location: POINTS.monaco } }, /atlantis-car/],
  ];
  for (const [code, req, message] of cases) {
    const e = await (async () => {
      for await (const _ of c.watchNearby(req)) assert.fail('a message; expected an error');
    })().then(
      () => assert.fail('the watch ended; expected an error'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof FarosClientError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.details, message);
    assert.equal(e.attempts, 1);
  }
});

test('watchNearby: UNAVAILABLE from one target (nothing listens there) re-subscribes on another and keeps iterating', async () => {
  const two = new FarosClient({ targets: ['127.0.0.1:1', srv.addr], retry: { initialBackoffMs: 10 } });
  try {
    for await (const answer of two.watchNearby({ query: { mapId: M, location: POINTS.monaco, k: 1 } })) {
      assert.equal(answer.drivers.length, 1);
      break;
    }
  } finally {
    two.close();
  }
});

test('watchNearby: close() ends an open watch with CANCELLED', async () => {
  const x = new FarosClient({ targets: [srv.addr] });
  const it = x.watchNearby({ query: { mapId: M, location: POINTS.monaco, k: 1 } });
  assert.equal((await it.next()).done, false);
  x.close();
  await assert.rejects(it.next(), (e: unknown) => e instanceof FarosClientError && e.code === 'CANCELLED');
});
