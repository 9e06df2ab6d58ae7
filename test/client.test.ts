// The client's retries, round-robin and stream recovery against tiny real
// gRPC servers (in this process, real sockets) whose answers the test
// scripts: how many times a call is sent for each status, where it goes,
// and what an updater does when its stream fails or is never answered.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
import { loadFarosDefinition } from '../src/api/proto.js';
import { FarosClient, FarosClientError, type RejectedUpdate } from '../src/client/index.js';

const service = loadFarosDefinition()['faros.v1.Faros'] as ServiceDefinition;
const servers: grpc.Server[] = [];
const clients: FarosClient[] = [];
after(() => {
  for (const c of clients) c.close();
  for (const s of servers) s.forceShutdown();
});

type Unary = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => void;
type Bidi = (call: grpc.ServerDuplexStream<any, any>) => void;

/** A Faros server on a free port with only the given handlers; resolves with its "host:port". */
async function fake(handlers: { Nearby?: Unary; ListMaps?: Unary; StreamDriverUpdates?: Bidi }): Promise<string> {
  const s = new grpc.Server();
  s.addService(service as unknown as grpc.ServiceDefinition, handlers as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  servers.push(s);
  return `127.0.0.1:${port}`;
}

const client = (targets: string[], o: Partial<ConstructorParameters<typeof FarosClient>[0]> = {}): FarosClient => {
  const c = new FarosClient({ targets, retry: { initialBackoffMs: 5, maxBackoffMs: 20 }, ...o });
  clients.push(c);
  return c;
};

const answer = { drivers: [], querySnapped: null, stats: { edgesExpanded: 1, candidatesSeen: 0, servedBy: 'fake' } };

/** A Nearby that fails `failures` times with `code`, then answers; counts the calls and the authorization it saw. */
function failing(code: grpc.status, failures: number) {
  const seen = { calls: 0, auth: [] as string[] };
  const Nearby: Unary = (call, cb) => {
    seen.calls++;
    seen.auth.push(String(call.metadata.get('authorization')[0] ?? ''));
    if (seen.calls <= failures) cb({ code, details: `scripted failure ${seen.calls}` });
    else cb(null, answer);
  };
  return { seen, Nearby };
}

test('UNAVAILABLE and RESOURCE_EXHAUSTED are retried until the call succeeds; the answer is the plain object', async () => {
  for (const code of [grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED]) {
    const f = failing(code, 3);
    const c = client([await fake({ Nearby: f.Nearby })]);
    const r = await c.nearby({ mapId: 'm', location: { lat: 1, lng: 2 } });
    assert.equal(f.seen.calls, 4, `${grpc.status[code]}: three failures and the success`);
    assert.deepEqual(r.stats, answer.stats);
  }
});

test('other codes are never retried; the error carries the code name, number, message, method and attempts', async () => {
  for (const code of [grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.DEADLINE_EXCEEDED, grpc.status.INTERNAL, grpc.status.UNAUTHENTICATED]) {
    const f = failing(code, 100);
    const target = await fake({ Nearby: f.Nearby });
    const c = client([target]);
    const e = await c.nearby({ mapId: 'm' }).then(
      () => assert.fail('resolved'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof FarosClientError);
    assert.equal(f.seen.calls, 1, `${grpc.status[code]} sent once`);
    assert.equal(e.code, grpc.status[code]);
    assert.equal(e.grpcCode, code);
    assert.equal(e.details, 'scripted failure 1');
    assert.equal(e.method, 'Nearby');
    assert.equal(e.attempts, 1);
    assert.equal(e.target, target);
    assert.equal(e.retryable, false);
  }
});

test('retries stop at maxAttempts, and at the deadline; retry: false sends once', async () => {
  const f = failing(grpc.status.UNAVAILABLE, 1e9);
  const c = client([await fake({ Nearby: f.Nearby })], { retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 1 } });
  const e = (await c.nearby({}).catch((x: unknown) => x)) as FarosClientError;
  assert.equal(e.code, 'UNAVAILABLE');
  assert.equal(e.attempts, 3);
  assert.equal(f.seen.calls, 3);

  // Backoff of up to 100 ms a try, 400 ms deadline: several tries, none started after the deadline.
  const g = failing(grpc.status.UNAVAILABLE, 1e9);
  const slow = client([await fake({ Nearby: g.Nearby })], { retry: { maxAttempts: 1000, initialBackoffMs: 100, maxBackoffMs: 100, multiplier: 1 } });
  const t0 = Date.now();
  const e2 = (await slow.nearby({}, { deadlineMs: 400 }).catch((x: unknown) => x)) as FarosClientError;
  const took = Date.now() - t0;
  assert.equal(e2.code, 'UNAVAILABLE');
  assert.ok(took < 400 + 500, `gave up after ${took} ms`);
  assert.ok(g.seen.calls >= 2 && g.seen.calls === e2.attempts, `${g.seen.calls} tries, ${e2.attempts} counted`);

  const h = failing(grpc.status.UNAVAILABLE, 1e9);
  const once = client([await fake({ Nearby: h.Nearby })], { retry: false });
  assert.equal(((await once.nearby({}).catch((x: unknown) => x)) as FarosClientError).attempts, 1);
  assert.equal(h.seen.calls, 1);
});

test('a call that outlives its deadline fails DEADLINE_EXCEEDED, not retried; a per-call deadline overrides the default', async () => {
  let calls = 0;
  const hang: Unary = () => {
    calls++; // never answers
  };
  const c = client([await fake({ Nearby: hang })], { deadlineMs: 10_000 });
  const t0 = Date.now();
  const e = (await c.nearby({}, { deadlineMs: 200 }).catch((x: unknown) => x)) as FarosClientError;
  assert.equal(e.code, 'DEADLINE_EXCEEDED');
  assert.ok(Date.now() - t0 < 1500);
  assert.equal(calls, 1);
});

test('round-robin over the targets; a retry goes to another target; a dead target is skipped', async () => {
  const a = failing(grpc.status.UNAVAILABLE, 0);
  const b = failing(grpc.status.UNAVAILABLE, 0);
  const c = client([await fake({ Nearby: a.Nearby }), await fake({ Nearby: b.Nearby })], { token: 'faros_t0k' });
  for (let i = 0; i < 10; i++) await c.nearby({});
  assert.deepEqual([a.seen.calls, b.seen.calls], [5, 5]);
  assert.ok(
    [...a.seen.auth, ...b.seen.auth].every((x) => x === 'Bearer faros_t0k'),
    'the token on every call',
  );

  // One target always UNAVAILABLE: every call still succeeds, retried on the other, which takes the calls for a while.
  const bad = failing(grpc.status.UNAVAILABLE, 1e9);
  const good = failing(grpc.status.UNAVAILABLE, 0);
  const c2 = client([await fake({ Nearby: bad.Nearby }), await fake({ Nearby: good.Nearby })]);
  for (let i = 0; i < 10; i++) await c2.nearby({});
  assert.equal(good.seen.calls, 10);
  assert.ok(bad.seen.calls <= 3, `the failing target got ${bad.seen.calls} of 10 calls`);

  // A target nobody listens on: calls go to the live one once the channel is known to fail.
  const live = failing(grpc.status.UNAVAILABLE, 0);
  const dead = await fake({});
  servers.pop()!.forceShutdown();
  const c3 = client([dead, await fake({ Nearby: live.Nearby })]);
  for (let i = 0; i < 10; i++) await c3.nearby({});
  assert.equal(live.seen.calls, 10);
});

test('a closed client refuses calls with CANCELLED', async () => {
  const c = client([await fake({})]);
  c.close();
  const e = (await c.listMaps().catch((x: unknown) => x)) as FarosClientError;
  assert.equal(e.code, 'CANCELLED');
  assert.throws(() => c.streamUpdates(), FarosClientError);
});

/** StreamDriverUpdates that records every batch; `behave` decides per batch: ack it, ack with rejections, fail the stream, or stay silent. */
function streamServer(behave: (batch: any, n: number, call: grpc.ServerDuplexStream<any, any>) => 'ack' | 'silent' | { rejected: any[] } | grpc.status) {
  const got: string[][] = [];
  let n = 0;
  const StreamDriverUpdates: Bidi = (call) => {
    call.on('data', (batch: any) => {
      got.push(batch.updates.map((u: { driverId: string }) => u.driverId));
      const what = behave(batch, n++, call);
      if (what === 'silent') return;
      if (what === 'ack') call.write({ accepted: batch.updates.length, rejected: [] });
      else if (typeof what === 'object') call.write({ accepted: batch.updates.length - what.rejected.length, rejected: what.rejected });
      else call.emit('error', { code: what, details: 'scripted stream failure' });
    });
    call.on('end', () => call.end());
  };
  return { got, StreamDriverUpdates };
}

const upd = (i: number) => ({ mapId: 'm', driverId: `d${i}`, location: { lat: 1, lng: 2 } });

test('updates are batched (maxBatch, flushMs); rejected items are reported with the item; flush waits for the acknowledgements', async () => {
  const s = streamServer((batch) =>
    batch.updates.some((u: { driverId: string }) => u.driverId === 'd7')
      ? {
          rejected: [
            { index: batch.updates.findIndex((u: { driverId: string }) => u.driverId === 'd7'), driverId: 'd7', code: 'OUT_OF_RANGE', message: 'far' },
          ],
        }
      : 'ack',
  );
  const c = client([await fake({ StreamDriverUpdates: s.StreamDriverUpdates })]);
  const rejected: RejectedUpdate[] = [];
  const u = c.streamUpdates({ maxBatch: 4, flushMs: 50, onRejected: (r) => rejected.push(r) });
  for (let i = 0; i < 10; i++) await u.write(upd(i));
  await u.flush();
  assert.deepEqual(s.got, [
    ['d0', 'd1', 'd2', 'd3'],
    ['d4', 'd5', 'd6', 'd7'],
    ['d8', 'd9'],
  ]);
  assert.deepEqual(rejected, [{ update: upd(7), code: 'OUT_OF_RANGE', message: 'far' }]);
  assert.deepEqual({ ...u.stats(), streams: 1 }, { written: 10, accepted: 9, rejected: 1, superseded: 0, pending: 0, resent: 0, streams: 1 });
  await u.close();
});

test('a failed stream is reopened on another target and the unacknowledged batches are resent in order', async () => {
  // First target: acks the first batch, then fails the stream with UNAVAILABLE at the second.
  const first = streamServer((_b, n) => (n === 0 ? 'ack' : grpc.status.UNAVAILABLE));
  const second = streamServer(() => 'ack');
  const c = client([await fake({ StreamDriverUpdates: first.StreamDriverUpdates }), await fake({ StreamDriverUpdates: second.StreamDriverUpdates })]);
  const reopened: string[] = [];
  const u = c.streamUpdates({ maxBatch: 2, flushMs: 1000 });
  u.on('reopen', (r) => reopened.push(r.code));
  await u.write(upd(0));
  await u.write(upd(1));
  await u.flush();
  for (let i = 2; i < 6; i++) await u.write(upd(i));
  await u.flush();
  assert.deepEqual(first.got.slice(0, 1), [['d0', 'd1']]);
  // Everything after the failure reached the second target, in order.
  assert.deepEqual(second.got.flat(), ['d2', 'd3', 'd4', 'd5']);
  assert.deepEqual(reopened, ['UNAVAILABLE']);
  const st = u.stats();
  assert.equal(st.accepted, 6);
  assert.equal(st.rejected, 0);
  assert.ok(st.resent >= 1 && st.streams === 2, JSON.stringify(st));
  await u.close();
});

test('items refused for a passing reason are resent, unless a later write of the same driver supersedes them', async () => {
  // The first batch: d0 and d1 refused UNAVAILABLE (no live replica yet); everything else acked.
  const s = streamServer((batch, n) =>
    n === 0
      ? {
          rejected: batch.updates.flatMap((u: any, index: number) =>
            u.driverId === 'd0' || u.driverId === 'd1' ? [{ index, driverId: u.driverId, code: 'UNAVAILABLE', message: 'no live replica' }] : [],
          ),
        }
      : 'ack',
  );
  const c = client([await fake({ StreamDriverUpdates: s.StreamDriverUpdates })]);
  const u = c.streamUpdates({ maxBatch: 3, flushMs: 1000 });
  const rejected: RejectedUpdate[] = [];
  u.on('rejected', (r) => rejected.push(r));
  for (const i of [0, 1, 2]) await u.write(upd(i));
  await u.write({ ...upd(1), location: { lat: 3, lng: 4 } }); // a newer d1 (buffered while the first batch is answered)
  await u.flush();
  assert.deepEqual(s.got, [['d0', 'd1', 'd2'], ['d1'], ['d0']]);
  assert.deepEqual(rejected, []);
  const st = u.stats();
  assert.deepEqual([st.accepted, st.superseded, st.pending], [3, 1, 0]);
  await u.close();
});

test('a stream refused for good (UNAUTHENTICATED) reports its items rejected instead of resending them', async () => {
  const s = streamServer(() => grpc.status.UNAUTHENTICATED);
  const c = client([await fake({ StreamDriverUpdates: s.StreamDriverUpdates })]);
  const rejected: RejectedUpdate[] = [];
  const u = c.streamUpdates({ maxBatch: 2, onRejected: (r) => rejected.push(r) });
  await u.write(upd(0));
  await u.write(upd(1));
  await u.flush();
  assert.deepEqual(
    rejected.map((r) => [r.update.driverId, r.code]),
    [
      ['d0', 'UNAUTHENTICATED'],
      ['d1', 'UNAUTHENTICATED'],
    ],
  );
  assert.equal(s.got.length, 1, 'sent once');
  await u.close();
});

test('backpressure: write() waits while maxPending items are unacknowledged; a silent stream is given up after ackTimeoutMs', async () => {
  let silent = true;
  const held: grpc.ServerDuplexStream<any, any>[] = [];
  const s = streamServer((_b, _n, call) => {
    held.push(call);
    return silent ? 'silent' : 'ack';
  });
  const c = client([await fake({ StreamDriverUpdates: s.StreamDriverUpdates })]);
  const u = c.streamUpdates({ maxBatch: 5, maxPending: 10, flushMs: 1, ackTimeoutMs: 1500 });
  for (let i = 0; i < 9; i++) await u.write(upd(i));
  let tenth = false;
  const w = u.write(upd(9)).then(() => {
    tenth = true;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(tenth, false, 'the 10th write waits: 10 items unacknowledged');
  assert.equal(u.stats().pending, 10);
  silent = false;
  // The silent stream is cancelled after 1.5 s and the batches resent on a new stream, which acks them.
  await w;
  await u.flush();
  const st = u.stats();
  assert.equal(st.accepted, 10);
  assert.equal(st.streams, 2);
  assert.ok(tenth);
  await u.close();
});

test('close() with a timeout reports what was never acknowledged as CANCELLED; write after close rejects', async () => {
  const s = streamServer(() => 'silent');
  const c = client([await fake({ StreamDriverUpdates: s.StreamDriverUpdates })]);
  const rejected: RejectedUpdate[] = [];
  const u = c.streamUpdates({ ackTimeoutMs: 60_000, onRejected: (r) => rejected.push(r) });
  await u.write(upd(0));
  await u.close({ timeoutMs: 200 });
  assert.deepEqual(
    rejected.map((r) => r.code),
    ['CANCELLED'],
  );
  await assert.rejects(u.write(upd(1)), (e: FarosClientError) => e.code === 'CANCELLED');
});
