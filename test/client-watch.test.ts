// watchNearby against tiny real gRPC servers whose WatchNearby the test
// scripts: UNAVAILABLE mid-stream re-subscribes on another target and the
// loop goes on; UNAVAILABLE before any message, retry.maxAttempts times in a
// row, ends it; other codes end it at once; break cancels the server's call;
// no deadline unless one is given.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
import { loadFarosDefinition } from '../src/api/proto.js';
import { FarosClient, FarosClientError } from '../src/client/index.js';

const service = loadFarosDefinition()['faros.v1.Faros'] as ServiceDefinition;
const servers: grpc.Server[] = [];
const clients: FarosClient[] = [];
after(() => {
  for (const c of clients) c.close();
  for (const s of servers) s.forceShutdown();
});

type Watch = (call: grpc.ServerWritableStream<any, any>) => void;

async function fake(WatchNearby: Watch): Promise<string> {
  const s = new grpc.Server();
  s.addService(service as unknown as grpc.ServiceDefinition, { WatchNearby } as grpc.UntypedServiceImplementation);
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

const answer = (servedBy: string) => ({ drivers: [], querySnapped: null, stats: { edgesExpanded: 1, candidatesSeen: 0, servedBy } });
const REQ = { query: { mapId: 'm', location: { lat: 1, lng: 2 } } };

test('UNAVAILABLE mid-stream: re-subscribed on the other target, the loop goes on; break cancels that call', async () => {
  const seen = { a: 0, b: 0, bCancelled: false, bDeadline: 0 as grpc.Deadline };
  const a = await fake((call) => {
    seen.a++;
    call.write(answer('a'));
    setTimeout(() => call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the map left this instance' }), 20);
  });
  const b = await fake((call) => {
    seen.b++;
    seen.bDeadline = call.getDeadline();
    call.on('cancelled', () => {
      seen.bCancelled = true;
    });
    call.write(answer('b'));
  });
  const got: string[] = [];
  for await (const r of client([a, b]).watchNearby(REQ)) {
    got.push(r.stats!.servedBy);
    if (got.length === 2) break;
  }
  assert.deepEqual(got, ['a', 'b']);
  assert.deepEqual([seen.a, seen.b], [1, 1]);
  assert.equal(seen.bDeadline, Number.POSITIVE_INFINITY, 'no deadline unless given');
  for (let i = 0; i < 100 && !seen.bCancelled; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(seen.bCancelled, 'the server saw the call cancelled');
});

test('UNAVAILABLE before any message, maxAttempts times in a row: thrown; other codes at once; OK ends the loop', async () => {
  let calls = 0;
  const down = await fake((call) => {
    calls++;
    call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'shutting down' });
  });
  const e = await (async () => {
    for await (const _ of client([down], { retry: { maxAttempts: 3, initialBackoffMs: 1 } }).watchNearby(REQ)) assert.fail('a message');
  })().then(
    () => assert.fail('ended'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof FarosClientError);
  assert.deepEqual([e.code, e.attempts, calls], ['UNAVAILABLE', 3, 3]);

  let exhausted = 0;
  const full = await fake((call) => {
    exhausted++;
    call.write(answer('x'));
    call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'too slow' });
  });
  const got: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const r of client([full]).watchNearby(REQ, { deadlineMs: 5000 })) got.push(r.stats!.servedBy);
    })(),
    (x: unknown) => x instanceof FarosClientError && x.code === 'RESOURCE_EXHAUSTED',
  );
  assert.deepEqual([got, exhausted], [['x'], 1]);

  const ends = await fake((call) => {
    call.write(answer('y'));
    call.end();
  });
  const all: string[] = [];
  for await (const r of client([ends]).watchNearby(REQ)) all.push(r.stats!.servedBy);
  assert.deepEqual(all, ['y']);
});
