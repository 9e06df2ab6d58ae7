// Replication batches fit the peer's message limit: a burst of the largest
// records is cut into messages that the peer accepts (measured with the real
// protobuf encoder), in order, with nothing dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { Forwarder, MAX_BATCH_BYTES, recordBytes, splitBySize } from '../src/proxy/forward.js';
import { PEER_MAX_MESSAGE_BYTES, peerServiceDefinition, toRecordMsg, type PeerClient } from '../src/proxy/peer-client.js';
import type { DriverRecord } from '../src/model/store/store.js';

const encode = (peerServiceDefinition().ApplyRecords as grpc.MethodDefinition<unknown, unknown>).requestSerialize;
const big = (i: number): DriverRecord => ({
  driverId: `driver-${String(i).padStart(8, '0')}-${'é'.repeat(55)}`,
  lat: 43.7,
  lng: 7.4,
  timestampMs: 1_700_000_000_000 + i,
  // Larger than validation allows (16 × 200 two-byte characters), so the byte budget, not the 2,000-record cap, cuts the batches.
  metadata: Object.fromEntries(Array.from({ length: 16 }, (_, k) => [`key${k}`, 'ü'.repeat(200)])),
  segment: i,
  t: 0.5,
  snapM: 3,
});

test('recordBytes bounds the encoded size of a record from above', () => {
  for (const r of [big(1), { ...big(2), metadata: {} }, { ...big(3), driverId: 'x' }]) {
    const one = encode({ mapId: 'm', records: [toRecordMsg(r)] }).length;
    assert.ok(recordBytes(r) >= one, `${recordBytes(r)} < ${one}`);
  }
});

test('a burst of 10,000 large records goes out in messages under the peer limit, all of them, in order', async () => {
  const sent: DriverRecord[][] = [];
  const fake = {
    applyRecords: async (_m: string, recs: DriverRecord[]) => {
      sent.push(recs);
      return recs.length;
    },
  } as unknown as PeerClient;
  const f = new Forwarder(() => fake);
  const records = Array.from({ length: 10_000 }, (_, i) => big(i));
  for (let i = 0; i < records.length; i += 2500) f.send('127.0.0.1:1', 'm', records.slice(i, i + 2500));
  for (let t = 0; t < 200 && sent.flat().length < records.length; t++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(
    sent.flat().map((r) => r.driverId),
    records.map((r) => r.driverId),
  );
  for (const batch of sent) {
    const bytes = encode({ mapId: 'm', records: batch.map(toRecordMsg) }).length;
    assert.ok(bytes <= MAX_BATCH_BYTES && bytes < PEER_MAX_MESSAGE_BYTES, `a batch of ${batch.length} encodes to ${bytes} bytes`);
  }
  assert.ok(sent.some((b) => b.length < 2000) && sent.length > 5, `cut by bytes: ${sent.map((b) => b.length)}`);
  assert.equal(f.stats.dropped, 0);
  f.close();
});

test('splitBySize keeps order and cuts before the budget is passed', () => {
  const parts = splitBySize(
    Array.from({ length: 100 }, (_, i) => i),
    () => MAX_BATCH_BYTES / 10,
  );
  assert.deepEqual(
    parts.map((p) => p.length),
    Array(10).fill(10),
  );
  assert.deepEqual(
    parts.flat(),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.deepEqual(
    splitBySize([1], () => MAX_BATCH_BYTES * 3),
    [[1]],
    'an item larger than the budget travels alone',
  );
});

test('every drop is reported with its peer, count and reason: a failed batch sent twice, and what was queued for a peer that left', async () => {
  const drops: [string, number, string][] = [];
  const failing = { applyRecords: () => Promise.reject(new Error('down')) } as unknown as PeerClient;
  const never = { applyRecords: () => new Promise(() => {}) } as unknown as PeerClient;
  const f = new Forwarder(
    (a) => (a === 'down:1' ? failing : never),
    () => true,
    1000,
    (peer, n, why) => drops.push([peer, n, why]),
  );
  const record = (i: number): DriverRecord => ({
    driverId: `d${i}`,
    lat: 43.7,
    lng: 7.4,
    timestampMs: 1_700_000_000_000 + i,
    metadata: {},
    segment: i,
    t: 0.5,
    snapM: 3,
  });
  const recs = Array.from({ length: 300 }, (_, i) => record(i));
  f.send('down:1', 'm', recs);
  for (let i = 0; i < 50 && drops.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(drops[0], ['down:1', 300, 'sent twice without success']);
  // MAX_IN_FLIGHT batches go out and never come back; the rest waits in the queue.
  f.send(
    'slow:1',
    'm',
    Array.from({ length: 20_000 }, (_, i) => record(i)),
  );
  f.forget('slow:1');
  const left = drops.find((d) => d[0] === 'slow:1');
  assert.ok(left && left[1] > 0 && left[2] === 'peer left the route table', JSON.stringify(drops));
  assert.equal(f.stats.dropped, 300 + left[1]);
  f.close();
});

test('drain sends what is queued at once and waits until the peer took it (bounded when it never answers)', async () => {
  const got: number[] = [];
  const slow = {
    applyRecords: (_m: string, recs: DriverRecord[]) => new Promise((r) => setTimeout(() => r(got.push(recs.length)), 30)),
  } as unknown as PeerClient;
  const never = { applyRecords: () => new Promise(() => {}) } as unknown as PeerClient;
  const f = new Forwarder((a) => (a === 'slow:1' ? slow : never));
  const rec = (i: number): DriverRecord => ({
    driverId: `d${i}`,
    lat: 43.7,
    lng: 7.4,
    timestampMs: 1_700_000_000_000 + i,
    metadata: {},
    segment: i,
    t: 0.5,
    snapM: 3,
  });
  f.send('slow:1', 'm', [rec(1), rec(2), rec(3)]); // a partial batch: would wait for company
  await f.drain(2000);
  assert.deepEqual(got, [3], 'the queued records reached the peer before drain returned');
  f.send('never:1', 'm', [rec(4)]);
  const t0 = Date.now();
  await f.drain(200);
  assert.ok(Date.now() - t0 < 1000, 'drain is bounded');
  f.close();
});
