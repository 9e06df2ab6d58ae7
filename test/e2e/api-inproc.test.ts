// The API over real sockets with a scripted host in this process, for what a
// real map cannot show on demand: a map still loading (UNAVAILABLE, 503,
// NOT_SERVING), the in-flight cap, a deadline reaching the host as an abort,
// an unexpected host failure (INTERNAL), graceful shutdown waiting for a call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildOptions } from '../../src/config.js';
import { Metrics } from '../../src/metrics.js';
import { createLogger } from '../../src/log.js';
import { startApi, type ApiServers } from '../../src/api/server.js';
import { HostSlot } from '../../src/api/host-slot.js';
import { FarosError } from '../../src/errors.js';
import type { ShardHost, MapInfoView, NearbyOutcome } from '../../src/node/host.js';
import type { UpdateResult } from '../../src/model/types.js';
import { call, callError, farosClient, healthClient, httpJson, POINTS, type FarosClient } from './helpers.js';

class ScriptedHost implements ShardHost {
  readonly name = 'scripted:1';
  loaded = false;
  aborts: string[] = [];
  maps(): MapInfoView[] {
    return [{ mapId: 'monaco-car', profile: 'car', drivers: 0, bounds: { minLat: 0, minLng: 0, maxLat: 1, maxLng: 1 }, replicas: [this.name] }];
  }
  checkMap(mapId: string): void {
    if (mapId !== 'monaco-car') throw new FarosError('NOT_FOUND', `unknown map "${mapId}"`);
    if (!this.loaded) throw new FarosError('UNAVAILABLE', `map "${mapId}" is still loading; retry shortly`);
  }
  ready(): boolean {
    return this.loaded;
  }
  async update(_m: string, us: { driverId: string }[]): Promise<UpdateResult[]> {
    if (us.some((u) => u.driverId === 'boom')) throw new Error('disk on fire');
    return us.map(() => ({ ok: true, stale: false, snapped: { segment: 0, wayId: '1', segIndex: 0, t: 0, lat: 0, lng: 0, distanceM: 0 } }));
  }
  async remove(): Promise<boolean> {
    return false;
  }
  async get(): Promise<undefined> {
    return undefined;
  }
  /** Slow: resolves after 300 ms unless aborted. */
  nearby(_m: string, _q: unknown, opts?: { signal?: AbortSignal }): Promise<NearbyOutcome> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          resolve({
            ok: true,
            drivers: [],
            querySnapped: { segment: 0, wayId: '1', segIndex: 0, t: 0, lat: 0, lng: 0, distanceM: 0 },
            stats: { edgesExpanded: 0, candidatesSeen: 0, servedBy: this.name },
          }),
        300,
      );
      opts?.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        this.aborts.push((opts.signal!.reason as FarosError).code);
        reject(opts.signal!.reason as Error);
      });
    });
  }
  nearbyBatch(m: string, qs: readonly unknown[], opts?: { signal?: AbortSignal }): Promise<NearbyOutcome[]> {
    return Promise.all(qs.map((q) => this.nearby(m, q, opts)));
  }
  watch(): never {
    throw new FarosError('UNAVAILABLE', 'no watches in this scripted host');
  }
  async close(): Promise<void> {}
}

const host = new ScriptedHost();
let api: ApiServers;
let c: FarosClient;
let metrics: Metrics;
const base = () => `http://127.0.0.1:${api.httpPort}`;
const nearbyReq = { mapId: 'monaco-car', location: POINTS.monaco };

before(async () => {
  const opts = buildOptions({
    flags: { map: ['monaco-car'], host: '127.0.0.1', 'grpc-port': '0', 'http-port': '0', 'max-in-flight': '2', 'log-level': 'silent' },
    env: {},
    cwd: process.cwd(),
  });
  const slot = new HostSlot();
  metrics = new Metrics(() => slot.maps());
  api = await startApi(opts, slot, metrics, createLogger('silent'), undefined);
  c = farosClient(`127.0.0.1:${api.grpcPort}`);
  // Calls before the host is attached are UNAVAILABLE too.
  assert.equal((await callError(c, 'nearby', nearbyReq)).code, 'UNAVAILABLE');
  api.attach(host);
});
after(async () => {
  c?.close();
  await api?.shutdown(1000);
  metrics?.close();
});

test('while a map loads: UNAVAILABLE, 503, NOT_SERVING; then SERVING', async () => {
  assert.equal((await callError(c, 'nearby', nearbyReq)).code, 'UNAVAILABLE');
  const r = await httpJson(base(), 'POST', '/v1/nearby', nearbyReq);
  assert.deepEqual([r.status, r.json.error.status], [503, 'UNAVAILABLE']);
  assert.deepEqual(await httpJson(base(), 'GET', '/readyz').then((x) => [x.status, x.json.loading]), [503, ['monaco-car']]);
  // Not ready once yet: not even for proxying.
  assert.equal((await httpJson(base(), 'GET', '/readyz?allow=proxy')).status, 503);
  const h = healthClient(`127.0.0.1:${api.grpcPort}`);
  assert.equal((await call(h, 'check', { service: '' })).status, 'NOT_SERVING');
  assert.equal((await call(h, 'check', { service: 'monaco-car' })).status, 'NOT_SERVING');
  host.loaded = true;
  api.refreshHealth();
  assert.equal((await call(h, 'check', { service: '' })).status, 'SERVING');
  assert.equal((await call(h, 'check', { service: 'monaco-car' })).status, 'SERVING');
  assert.equal((await httpJson(base(), 'GET', '/readyz')).status, 200);
  assert.deepEqual((await httpJson(base(), 'GET', '/readyz?allow=proxy')).json, { status: 'ready' });
  // A map gained later loads (a membership change): strict readiness drops, readiness for client calls stays.
  host.loaded = false;
  api.refreshHealth();
  assert.deepEqual(await httpJson(base(), 'GET', '/readyz').then((x) => [x.status, x.json.loading]), [503, ['monaco-car']]);
  assert.deepEqual(await httpJson(base(), 'GET', '/readyz?allow=proxy').then((x) => [x.status, x.json]), [200, { status: 'proxying' }]);
  host.loaded = true;
  api.refreshHealth();
  h.close();
});

test('in-flight cap: the third concurrent call is RESOURCE_EXHAUSTED, not queued; each port has its own cap', async () => {
  const slow = [call(c, 'nearby', nearbyReq), call(c, 'nearby', nearbyReq)];
  await new Promise((r) => setTimeout(r, 50));
  const e = await callError(c, 'nearby', nearbyReq);
  assert.equal(e.code, 'RESOURCE_EXHAUSTED');
  assert.match(e.details, /max-in-flight/);
  // gRPC is full; HTTP is not starved by it.
  const h = await httpJson(base(), 'POST', '/v1/nearby', nearbyReq);
  assert.equal(h.status, 200);
  await Promise.all(slow);
  const slowHttp = [httpJson(base(), 'POST', '/v1/nearby', nearbyReq), httpJson(base(), 'POST', '/v1/nearby', nearbyReq)];
  await new Promise((r) => setTimeout(r, 50));
  const h2 = await httpJson(base(), 'POST', '/v1/nearby', nearbyReq);
  assert.deepEqual([h2.status, h2.json.error.status], [429, 'RESOURCE_EXHAUSTED']);
  assert.ok((await call(c, 'nearby', nearbyReq)).stats.servedBy, 'gRPC is not starved by HTTP');
  await Promise.all(slowHttp);
});

test('a deadline reaches the host as an abort; the answer is DEADLINE_EXCEEDED', async () => {
  host.aborts = [];
  const e = await callError(c, 'nearby', nearbyReq, 100);
  assert.equal(e.code, 'DEADLINE_EXCEEDED');
  const h = await httpJson(base(), 'POST', '/v1/nearby', nearbyReq, { 'x-server-timeout': '0.1' });
  assert.deepEqual([h.status, h.json.error.status], [504, 'DEADLINE_EXCEEDED']);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(host.aborts.filter((x) => x === 'DEADLINE_EXCEEDED').length >= 1, host.aborts.join());
});

test('an unexpected host failure is INTERNAL / 500 and the server carries on', async () => {
  assert.equal((await callError(c, 'updateDriver', { ...nearbyReq, driverId: 'boom' })).code, 'INTERNAL');
  const h = await httpJson(base(), 'POST', '/v1/drivers:update', { ...nearbyReq, driverId: 'boom' });
  assert.deepEqual([h.status, h.json.error.status], [500, 'INTERNAL']);
  assert.equal((await call(c, 'updateDriver', { ...nearbyReq, driverId: 'fine' })).stale, false);
});
