// Items forwarded between instances are checked for structure, not against
// the receiving replica's clock (issue 15 item 4): the instance that took the
// client's call stamped server-time updates and judged the client's
// timestamps; a replica whose clock differs must not refuse them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { driverRecord, peerClock, peerUpdateRequest, updateRequest } from '../src/api/validate.js';

const NOW = 1_760_000_000_000;
const TTL = () => 300_000;
const rec = (timestampMs: unknown) => ({ driverId: 'd', lat: 43.7, lng: 7.4, timestampMs, metadata: {}, segment: 3, t: 0.5, snapM: 1 });
const upd = (timestampMs: unknown) => ({ mapId: 'm', driverId: 'd', location: { lat: 43.7, lng: 7.4 }, timestampMs, metadata: {} });

test("a client's timestamps are judged by the receiving instance's clock (±5 min future, TTL)", () => {
  assert.equal(updateRequest(upd('0'), NOW, TTL).update.timestampMs, NOW, 'server time: stamped by the receiving instance');
  assert.throws(() => updateRequest(upd(String(NOW + 301_000)), NOW, TTL), /in the future/);
  assert.throws(() => updateRequest(upd(String(NOW - 301_000)), NOW, TTL), /older than the TTL/);
  assert.equal(updateRequest(upd(String(NOW + 299_000)), NOW, TTL).update.timestampMs, NOW + 299_000);
});

test("a forwarded update (Peer.ApplyUpdates) is not judged by the replica's clock, only its structure", () => {
  for (const skew of [1_000, 10_000, 600_000, 86_400_000]) {
    assert.equal(peerUpdateRequest(upd(String(NOW + skew)), NOW).update.timestampMs, NOW + skew, `${skew} ms ahead`);
    assert.equal(peerUpdateRequest(upd(String(NOW - skew)), NOW).update.timestampMs, NOW - skew, `${skew} ms behind`);
  }
  assert.equal(peerUpdateRequest(upd('0'), NOW).update.timestampMs, NOW, 'a 0 from an older instance is stamped here');
  for (const bad of ['-5', '1.5', 'abc', '1e300', String(2 ** 60)]) assert.throws(() => peerUpdateRequest(upd(bad), NOW), /timestamp_ms/, bad);
  assert.throws(() => peerUpdateRequest({ ...upd('1'), location: { lat: 200, lng: 0 } }, NOW), /latitude/);
  assert.throws(() => peerUpdateRequest({ ...upd('1'), driverId: '' }, NOW), /driver_id is empty/);
  assert.throws(() => peerUpdateRequest({ ...upd('1'), metadata: { '': 'x' } }, NOW), /empty key/);
});

test("a forwarded record (ApplyRecords, snapshot, anti-entropy) is not judged by the replica's clock, only its structure", () => {
  assert.equal(driverRecord(rec(NOW + 600_000), 'records[0].').timestampMs, NOW + 600_000, '10 min ahead: accepted (refused before)');
  assert.equal(driverRecord(rec(NOW - 86_400_000), 'records[0].').timestampMs, NOW - 86_400_000, 'a day old: accepted (never returned, swept)');
  for (const bad of [0, -5, 1.5, 1e300, Number.NaN, Number.POSITIVE_INFINITY, 'x'])
    assert.throws(() => driverRecord(rec(bad), 'records[0].'), /records\[0\]\.timestamp_ms/, String(bad));
  assert.throws(() => driverRecord({ ...rec(NOW), t: 7 }, 'records[0].'), /records\[0\]\.t/);
  assert.throws(() => driverRecord({ ...rec(NOW), segment: -1 }, 'records[0].'), /segment/);
});

test('peerClock: a positive whole number of ms', () => {
  assert.equal(peerClock(NOW, 'now_ms'), NOW);
  assert.equal(peerClock(String(NOW), 'now_ms'), NOW);
  for (const bad of [0, -1, 1.5, Number.NaN, '', undefined, 1e300]) assert.throws(() => peerClock(bad, 'now_ms'), /now_ms/, String(bad));
});
