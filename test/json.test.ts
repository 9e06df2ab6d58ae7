// The gateway's JSON reading (src/api/json.ts) takes its fields from the proto:
// every field of every request body is accepted by its lowerCamelCase and its
// snake_case name and arrives under the proto-loader name; an unknown field is
// refused naming the message's fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonBody } from '../src/api/json.js';
import { messageInfo, type MessageName } from '../src/api/reflect.js';
import { FarosError } from '../src/errors.js';

const BODIES: MessageName[] = ['UpdateDriverRequest', 'UpdateDriversRequest', 'NearbyRequest', 'NearbyBatchRequest'];

/** A JSON value of a field's kind that the reader passes through or descends into. */
function sample(f: ReturnType<typeof messageInfo>['fields'][number]): unknown {
  if (f.map) return { k: 'v' };
  if (f.repeated) return [];
  if (f.kind === 'message') return {};
  return f.type === 'string' ? 's' : 1;
}

test('every field of every request body is read by both names', () => {
  for (const type of BODIES) {
    const fields = messageInfo(type).fields;
    assert.ok(fields.length > 0, `${type} has no fields`);
    for (const f of fields) {
      for (const name of new Set([f.json, f.proto])) {
        const out = parseJsonBody(JSON.stringify({ [name]: sample(f) }), type);
        assert.deepEqual(Object.keys(out), [f.json], `${type}.${name}`);
      }
    }
  }
  assert.deepEqual(
    messageInfo('NearbyRequest').fields.map((f) => [f.proto, f.json]),
    [
      ['map_id', 'mapId'],
      ['location', 'location'],
      ['k', 'k'],
      ['metric', 'metric'],
      ['max_distance_m', 'maxDistanceM'],
      ['max_eta_s', 'maxEtaS'],
      ['filter', 'filter'],
    ],
  );
});

test('an unknown field, or a field given twice, is refused with INVALID_ARGUMENT', () => {
  assert.throws(
    () => parseJsonBody('{"mapID": "m"}', 'NearbyRequest'),
    (e: unknown) =>
      e instanceof FarosError &&
      e.code === 'INVALID_ARGUMENT' &&
      e.message === 'unknown field "mapID" in NearbyRequest; its fields are mapId, location, k, metric, maxDistanceM, maxEtaS, filter',
  );
  assert.throws(
    () => parseJsonBody('{"location": {"lat": 1, "lng": 2, "alt": 3}}', 'NearbyRequest'),
    (e: unknown) => e instanceof FarosError && /unknown field "location\.alt" in LatLng/.test(e.message),
  );
  assert.throws(
    () => parseJsonBody('{"mapId": "a", "map_id": "b"}', 'NearbyRequest'),
    (e: unknown) => e instanceof FarosError && /map_id is given twice/.test(e.message),
  );
  // Names of Object.prototype are not fields.
  assert.throws(() => parseJsonBody('{"constructor": 1}', 'NearbyRequest'), /unknown field "constructor"/);
});
