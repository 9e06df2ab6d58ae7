// SEMANTICS.md, rule by rule, on tiny OSM XML fixtures drawn as ASCII maps.
// Every expected number is computed by hand here (haversine written out below,
// nothing imported for it); each case runs against the reference
// (test/reference) and the library (src/model/model.ts) separately.
//
// Grid: node (col, row) is at lat = row·0.001°, lon = col·0.001°. On the
// equator and along a meridian one grid step is exactly U = R·π/180·0.001 m.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { gridNodes, restriction, writeFixture, STEP, type Fixture, type FxRelation } from './helpers/osm-fixture.js';
import { carRef, libSideFromOsm, readAll, refSide, type NearbyAnswer, type NearbyIn, type Side, type SnapAnswer } from './helpers/sides.js';
import { refNearby, type RefDriver } from './reference/index.js';
import { loadLib } from './helpers/sides.js';

// ---- hand arithmetic -------------------------------------------------------
const R = 6_371_008.8;
const rad = (d: number) => (d * Math.PI) / 180;
/** Haversine, written out: 2R·asin√(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)). */
function hav(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const a = Math.sin(rad(lat2 - lat1) / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(a));
}
/** One grid step along the equator or a meridian. */
const U = R * rad(STEP);
/** Length of a grid segment (col, row) → (col, row). */
const seg = (c1: number, r1: number, c2: number, r2: number) => hav(r1 * STEP, c1 * STEP, r2 * STEP, c2 * STEP);
/** Seconds to drive `m` metres at `kmh`. */
const sec = (m: number, kmh: number) => m / (kmh / 3.6);
const at = (col: number, row: number) => ({ lat: row * STEP, lng: col * STEP });

const TOL = 1e-6;
type Row = [id: string, distanceM: number, etaS: number];

function expectRows(got: NearbyAnswer, exp: Row[], label: string): void {
  assert.ok(!('error' in got), `${label}: unexpected error ${'error' in got ? got.error : ''}`);
  const rows = got.results;
  assert.deepEqual(
    rows.map((r) => r.id),
    exp.map((e) => e[0]),
    `${label}: ids/order`,
  );
  exp.forEach(([id, d, e], i) => {
    assert.ok(Math.abs(rows[i]!.distanceM - d) <= TOL, `${label}: ${id} distance ${rows[i]!.distanceM} ≠ ${d}`);
    assert.ok(Math.abs(rows[i]!.etaS - e) <= TOL, `${label}: ${id} eta ${rows[i]!.etaS} ≠ ${e}`);
  });
}
/** Expected rows sorted like the contract: cost, then id in UTF-8 byte order. */
function sorted(rows: Row[], metric: 'distance' | 'eta'): Row[] {
  const c = metric === 'distance' ? 1 : 2;
  return [...rows].sort((a, b) => (a[c] as number) - (b[c] as number) || Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
}
function expectSnap(got: SnapAnswer, exp: { wayId: string; segIndex: number; t: number; distanceM: number } | 'miss', label: string): void {
  if (exp === 'miss') {
    assert.ok('miss' in got, `${label}: expected no snap, got ${JSON.stringify(got)}`);
    return;
  }
  assert.ok(!('miss' in got), `${label}: expected a snap, got ${JSON.stringify(got)}`);
  assert.equal(got.wayId, exp.wayId, `${label}: way`);
  assert.equal(got.segIndex, exp.segIndex, `${label}: segment index`);
  assert.ok(Math.abs(got.t - exp.t) <= 1e-9, `${label}: t ${got.t} ≠ ${exp.t}`);
  assert.ok(Math.abs(got.distanceM - exp.distanceM) <= TOL, `${label}: distance ${got.distanceM} ≠ ${exp.distanceM}`);
}

/** Runs `body` once against the reference and once against the library, as two tests. */
function both(name: string, fx: () => Fixture, body: (side: Side) => void | Promise<void>): void {
  const file = writeFixture(name.replace(/[^a-z0-9]+/gi, '_'), fx());
  test(`${name} [reference]`, async () => {
    body(refSide(carRef(await readAll(file))));
  });
  test(`${name} [library]`, async () => {
    await body(await libSideFromOsm(await readAll(file)));
  });
}

const drv = (id: string, p: { lat: number; lng: number }, metadata: Record<string, string> = {}): RefDriver => ({ id, ...p, metadata });
const q = (p: { lat: number; lng: number }, metric: 'distance' | 'eta' = 'distance', extra: Partial<NearbyIn> = {}): NearbyIn => ({
  ...p,
  k: 10,
  metric,
  limit: metric === 'distance' ? 3000 : 300,
  ...extra,
});
const res = (tags: Record<string, string> = {}) => ({ highway: 'residential', ...tags });

// ---- 1. oneway block ---------------------------------------------------------
//
//   row 1   4 ─────────────────────── 3        way 11 (two-way): 2 → 3 → 4 → 1
//           │                         │
//   row 0   1 ══►═══ w ══►══ Q ══ e ══► 2      way 10 (oneway=yes): 1 → 2
//         col 0     0.5      2   2.5   4
//
// e is 55 m from Q in a straight line but behind it on the oneway, so it must
// drive around the block; w is three times farther as the crow flies, 1.5 U by road.
const oneway = (): Fixture => ({
  nodes: gridNodes({ 1: [0, 0], 2: [4, 0], 3: [4, 1], 4: [0, 1] }),
  ways: [
    { id: 10, nodes: [1, 2], tags: res({ oneway: 'yes' }) },
    { id: 11, nodes: [2, 3, 4, 1], tags: res() },
  ],
});
describe('oneway: straight-line nearest is far by road; same segment ahead/behind', () => {
  const T = seg(4, 1, 0, 1); // top edge, at lat 0.001 (a hair shorter than 4 U)
  const rows: Row[] = [
    ['w', 1.5 * U, 0], // same segment, ahead: (s − t)·L = (0.5 − 0.125)·4U
    ['e', 1.5 * U + U + T + U + 2 * U, 0], // (1 − 0.625)·4U to 2, around 2→3→4→1, then s·M = 2U
    ['top', 0.5 * T + U + 2 * U, 0], // from the top edge's middle west to 4, down to 1, 2U in
    ['atQ', 0, 0], // s = t: 0
    ['n2', U + T + U + 2 * U, 0], // at node 2 (way 10, t = 1): only toward 2, then around
  ].map(([id, d]) => [id, d, sec(d as number, 25)] as Row);
  const drivers = [drv('w', at(0.5, 0)), drv('e', at(2.5, 0)), drv('top', at(2, 1)), drv('atQ', at(2, 0)), drv('n2', at(4, 0))];
  both('oneway block', oneway, (s) => {
    expectRows(s.nearby(drivers, q(at(2, 0))), sorted(rows, 'distance'), 'distance');
    // Node 2 is on ways 10 (seg 0, t = 1) and 11 (seg 0, t = 0): tie → lower way id.
    expectSnap(s.snap(at(4, 0).lat, at(4, 0).lng), { wayId: '10', segIndex: 0, t: 1, distanceM: 0 }, 'node 2');
    expectSnap(s.snap(at(2.5, 0).lat, at(2.5, 0).lng), { wayId: '10', segIndex: 0, t: 0.625, distanceM: 0 }, 'e');
  });
});

// ---- 2. two-way departure both ways; oneway=-1 --------------------------------
//
//   row 2   5 ◄══════ 6                         way 21 (oneway=-1): 5 → 6, driven 6 → 5
//
//   row 0   1 ─────── 2 ──── d ──── 3 ─────── 4   way 20 (two-way): 1 → 2 → 3 → 4
//         col 0       2      3      4         6
const line = (): Fixture => ({
  nodes: gridNodes({ 1: [0, 0], 2: [2, 0], 3: [4, 0], 4: [6, 0], 5: [0, 2], 6: [2, 2] }),
  ways: [
    { id: 20, nodes: [1, 2, 3, 4], tags: res() },
    { id: 21, nodes: [5, 6], tags: res({ oneway: '-1' }) },
  ],
});
describe('two-way departure both ways', () => {
  const d = [drv('d', at(3, 0))];
  const cases: [string, { lat: number; lng: number }, number | undefined][] = [
    ['query behind on the previous segment', at(1, 0), 0.5 * 2 * U + 0.5 * 2 * U], // t·L toward 2, then (1 − s)·M from 2
    ['query ahead on the next segment', at(5, 0), 0.5 * 2 * U + 0.5 * 2 * U], // (1 − t)·L toward 3, then s·M from 3
    ['query behind on the same segment', at(2.5, 0), 0.25 * 2 * U],
    ['query ahead on the same segment', at(3.5, 0), 0.25 * 2 * U],
  ];
  both('two-way line', line, (s) => {
    for (const [name, p, cost] of cases) expectRows(s.nearby(d, q(p)), [['d', cost!, sec(cost!, 25)]], name);
    // oneway=-1: from col 1 (t = 0.5) only toward node 5; col 0.5 is reachable, col 1.5 is not.
    const r = [drv('r', at(1, 2))];
    const back = seg(0, 2, 2, 2) * 0.25;
    expectRows(s.nearby(r, q(at(0.5, 2))), [['r', back, sec(back, 25)]], 'oneway=-1 behind');
    expectRows(s.nearby(r, q(at(1.5, 2))), [], 'oneway=-1 ahead: no path, never appears');
  });
});

// ---- 3. turn restrictions on a cross -----------------------------------------
//
//                   N (0,0.5)   G (1,0.5)
//                   │ way 32    │ way 35
//                   │           │
//   W (-1,0) ───────C───────────E─────────── F (2,0)       way 33: C → W
//            way 33 ║  way 34: C → E → F
//                   ║ way 31 (oneway=yes, northbound): S → C
//                   S (0,-1)                 way 39: footway C → X (-1,-1), not a road
//
// Drivers: s on 31 at (0,-0.5); n on 32 at (0,0.25); g on 35 at (1,0.4).
// Queries: QW (-0.5,0) on 33; QE (0.5,0) on 34 seg 0; QF (1.5,0) on 34 seg 1; QG (1,0.25) on 35.
// Heading north from S, W is on the left and E on the right; heading south from N, W is on the right.
const ids = { C: 1, N: 2, W: 3, E: 4, S: 5, F: 6, G: 7, X: 8 };
const cross = (rels: FxRelation[]) => (): Fixture => ({
  nodes: gridNodes({ 1: [0, 0], 2: [0, 0.5], 3: [-1, 0], 4: [1, 0], 5: [0, -1], 6: [2, 0], 7: [1, 0.5], 8: [-1, -1] }),
  ways: [
    { id: 31, nodes: [ids.S, ids.C], tags: res({ oneway: 'yes' }) },
    { id: 32, nodes: [ids.C, ids.N], tags: res() },
    { id: 33, nodes: [ids.C, ids.W], tags: res() },
    { id: 34, nodes: [ids.C, ids.E, ids.F], tags: res() },
    { id: 35, nodes: [ids.E, ids.G], tags: res() },
    { id: 39, nodes: [ids.C, ids.X], tags: { highway: 'footway' } },
  ],
  relations: rels,
});
type Costs = Partial<Record<'QW' | 'QE' | 'QF' | 'QG', Partial<Record<'s' | 'n' | 'g', number | null>>>>;
// Costs in U; null = no path. Base: no restrictions.
const base = {
  QW: { s: 1, n: 0.75, g: 1.9 },
  QE: { s: 1, n: 0.75, g: 0.9 },
  QF: { s: 2, n: 1.75, g: 0.9 },
  QG: { s: 1.75, n: 1.5, g: 0.15 },
};
const noLeft = restriction(100, 31, ids.C, 33, { restriction: 'no_left_turn' });
const s1: Costs = { QW: { s: 2 } }; // via N: ½ to C, ½ up, U-turn at the dead end, ½ down, ½ in
const scenarios: [string, FxRelation[], Costs][] = [
  ['no restrictions', [], {}],
  ['no_left_turn 31→33', [noLeft], s1],
  ['no_left_turn 31→33 + same-way no_u_turn at N (dead end of 32)', [noLeft, restriction(101, 32, ids.N, 32, { restriction: 'no_u_turn' })], { QW: { s: 3 } }], // via E: ½ + 1 + U-turn at E + 1 + ½
  [
    '+ same-way no_u_turn on 34 at its interior node E: straight on through E still allowed',
    [noLeft, restriction(101, 32, ids.N, 32, { restriction: 'no_u_turn' }), restriction(102, 34, ids.E, 34, { restriction: 'no_u_turn' })],
    { QW: { s: 4 } },
  ], // via the G spur: ½ + 1 + ½ + ½ + 1 + ½; QF stays 2 (straight through E)
  [
    'only_straight_on 31→32',
    [restriction(103, 31, ids.C, 32, { restriction: 'only_straight_on' })],
    { QW: { s: 2 }, QE: { s: 2 }, QF: { s: 3 }, QG: { s: 2.75 } },
  ],
  [
    'two only_* sharing from+via: allowed turns are their union',
    [restriction(103, 31, ids.C, 32, { restriction: 'only_straight_on' }), restriction(104, 31, ids.C, 34, { restriction: 'only_right_turn' })],
    { QW: { s: 2 } },
  ],
  ['restriction:motorcar alone', [restriction(105, 31, ids.C, 33, { 'restriction:motorcar': 'no_left_turn' })], s1],
  [
    'restriction:motorcar wins over restriction',
    [restriction(105, 31, ids.C, 33, { restriction: 'only_left_turn', 'restriction:motorcar': 'no_left_turn' })],
    s1,
  ],
  ['except is ignored', [restriction(106, 31, ids.C, 33, { restriction: 'no_left_turn', except: 'motorcar' })], s1],
  [
    'malformed or foreign relations are ignored',
    [
      restriction(110, 31, ids.N, 33, { restriction: 'no_left_turn' }), // 31 does not contain N
      {
        id: 111,
        tags: { type: 'restriction', restriction: 'no_left_turn' },
        members: [
          { type: 'way', ref: 31, role: 'from' },
          { type: 'way', ref: 32, role: 'via' },
          { type: 'way', ref: 33, role: 'to' },
        ],
      }, // via is a way
      {
        id: 112,
        tags: { type: 'restriction', restriction: 'no_left_turn' },
        members: [
          { type: 'way', ref: 31, role: 'from' },
          { type: 'node', ref: ids.C, role: 'via' },
          { type: 'way', ref: 33, role: 'to' },
          { type: 'way', ref: 34, role: 'to' },
        ],
      }, // two to
      restriction(113, 31, ids.C, 33, { 'restriction:hgv': 'no_left_turn' }), // not for cars
      restriction(114, 31, ids.C, 39, { restriction: 'only_left_turn' }), // to is a footway: not a road
      restriction(115, 31, ids.C, 33, { restriction: 'no_left_turn', type: 'multipolygon' }),
    ],
    {},
  ],
  [
    "no_right_turn 32→33 (turn onto the query segment, driver's first turn)",
    [restriction(107, 32, ids.C, 33, { restriction: 'no_right_turn' })],
    { QW: { n: 2.75 } },
  ], // n: ¼ to C, can't turn; on to E, U-turn, back: ¼ + 1 + 1 + ½
  [
    'same-way only_straight_on at E names straight on and the U-turn only',
    [restriction(108, 34, ids.E, 34, { restriction: 'only_straight_on' })],
    { QG: { s: null, n: null } },
  ], // every segment of 34 arriving at E is a from segment: G is unreachable from 34
];
describe('turn restrictions', () => {
  const drivers = [drv('s', at(0, -0.5)), drv('n', at(0, 0.25)), drv('g', at(1, 0.4))];
  const qs = { QW: at(-0.5, 0), QE: at(0.5, 0), QF: at(1.5, 0), QG: at(1, 0.25) };
  for (const [name, rels, over] of scenarios) {
    both(`restrictions: ${name}`, cross(rels), (side) => {
      for (const qn of ['QW', 'QE', 'QF', 'QG'] as const) {
        const costs = { ...base[qn], ...(over[qn] ?? {}) };
        const rows: Row[] = [];
        for (const id of ['s', 'n', 'g'] as const) {
          const c = costs[id];
          if (c !== null && c !== undefined) rows.push([id, c * U, sec(c * U, 25)]);
        }
        expectRows(side.nearby(drivers, q(qs[qn])), sorted(rows, 'distance'), `${name} ${qn}`);
      }
    });
  }
});

// ---- 4. road filter, access, direction, maxspeed: one tiny isolated way per row
//
//   row 10·i   a ──────── b      way 1000+i, tags below; a at col 0, b at col 2
//
// Rows are 1.1 km apart, so a point on an excluded way snaps nowhere (radius 200 m).
// A point at col 1 snaps onto a road way at t = 0.5; for direction, a driver at
// col 0.5 → query at col 1.5 ("ahead") needs forward travel, the reverse needs backward.
type Dir = 'both' | 'fwd' | 'bwd' | 'none';
const tagRows: [Record<string, string>, Dir, number?][] = [
  [res(), 'both', 25],
  [{ highway: 'track' }, 'none'],
  [{ highway: 'footway' }, 'none'],
  [{ highway: 'cycleway' }, 'none'],
  [{ highway: 'path' }, 'none'],
  [{ highway: 'pedestrian' }, 'none'],
  [{ highway: 'steps' }, 'none'],
  [{ highway: 'construction', construction: 'residential' }, 'none'],
  [{ highway: 'proposed' }, 'none'],
  [{ highway: 'platform' }, 'none'],
  [{ highway: 'road' }, 'none'],
  [res({ area: 'yes' }), 'none'],
  [{ highway: 'service', access: 'private' }, 'none'],
  [{ highway: 'service', access: 'no' }, 'none'],
  [{ highway: 'service', access: 'no', motor_vehicle: 'yes' }, 'both', 15], // most specific wins: kept
  [{ highway: 'service', access: 'yes', motorcar: 'no' }, 'none'],
  [{ highway: 'service', vehicle: 'private' }, 'none'],
  [{ highway: 'service', motor_vehicle: 'no', motorcar: 'yes' }, 'both', 15],
  [{ highway: 'service', access: 'destination' }, 'both', 15],
  [res({ oneway: 'yes' }), 'fwd', 25],
  [res({ oneway: 'true' }), 'fwd', 25],
  [res({ oneway: '1' }), 'fwd', 25],
  [res({ oneway: '-1' }), 'bwd', 25],
  [res({ oneway: 'reverse' }), 'bwd', 25],
  [res({ oneway: 'no' }), 'both', 25],
  [res({ oneway: 'false' }), 'both', 25],
  [res({ oneway: '0' }), 'both', 25],
  [res({ oneway: 'YES' }), 'both', 25], // compared exactly
  [res({ oneway: 'reversible' }), 'none'],
  [res({ oneway: 'alternating' }), 'none'],
  [res({ junction: 'roundabout' }), 'fwd', 25],
  [res({ junction: 'circular' }), 'fwd', 25],
  [res({ junction: 'roundabout', oneway: '-1' }), 'bwd', 25],
  [{ highway: 'motorway' }, 'fwd', 90],
  [{ highway: 'motorway', oneway: 'no' }, 'both', 90],
  [{ highway: 'motorway_link' }, 'both', 72],
  [{ highway: 'trunk' }, 'both', 70],
  [{ highway: 'trunk_link' }, 'both', 56],
  [{ highway: 'primary' }, 'both', 60],
  [{ highway: 'primary_link' }, 'both', 48],
  [{ highway: 'secondary' }, 'both', 50],
  [{ highway: 'secondary_link' }, 'both', 40],
  [{ highway: 'tertiary' }, 'both', 40],
  [{ highway: 'tertiary_link' }, 'both', 32],
  [{ highway: 'unclassified' }, 'both', 30],
  [{ highway: 'living_street' }, 'both', 10],
  [{ highway: 'service' }, 'both', 15],
  [res({ maxspeed: '30 mph' }), 'both', 30 * 1.609344],
  [res({ maxspeed: '50' }), 'both', 50],
  [res({ maxspeed: '42.5' }), 'both', 42.5],
  [res({ maxspeed: '60 km/h' }), 'both', 60],
  [res({ maxspeed: 'none' }), 'both', 25],
  [res({ maxspeed: 'signals' }), 'both', 25],
  [res({ maxspeed: 'RU:urban' }), 'both', 25],
  [res({ maxspeed: '0' }), 'both', 25],
  [{ highway: 'primary_link', maxspeed: 'walk' }, 'both', 48],
];
const tagsFixture = (): Fixture => ({
  nodes: tagRows.flatMap((_, i) => gridNodes({ [`${2 * i + 1}`]: [0, 10 * i], [`${2 * i + 2}`]: [2, 10 * i] })),
  ways: tagRows.map(([tags], i) => ({ id: 1000 + i, nodes: [2 * i + 1, 2 * i + 2], tags })),
});
describe('road filter, access, direction, speed', () => {
  both('tag table', tagsFixture, (s) => {
    tagRows.forEach(([tags, dir, kmh], i) => {
      const label = JSON.stringify(tags);
      const row = 10 * i;
      const mid = at(1, row);
      const L = seg(0, row, 2, row);
      if (dir === 'none') {
        expectSnap(s.snap(mid.lat, mid.lng), 'miss', label);
        assert.ok('error' in s.nearby([], q(mid)), `${label}: a query on a non-road is refused`);
        return;
      }
      expectSnap(s.snap(mid.lat, mid.lng), { wayId: String(1000 + i), segIndex: 0, t: 0.5, distanceM: 0 }, label);
      const ahead = dir !== 'bwd';
      const behind = dir !== 'fwd';
      const d = 0.5 * L;
      for (const metric of ['distance', 'eta'] as const) {
        expectRows(s.nearby([drv('x', at(0.5, row))], q(at(1.5, row), metric)), ahead ? [['x', d, sec(d, kmh!)]] : [], `${label} ahead ${metric}`);
        expectRows(s.nearby([drv('x', at(1.5, row))], q(at(0.5, row), metric)), behind ? [['x', d, sec(d, kmh!)]] : [], `${label} behind ${metric}`);
      }
    });
  });
});

// ---- 5. access changes the route ---------------------------------------------
//
//   row 1     3 ─────────────────────── 4          way 41: 1 → 3 → 4 → 2
//             │                         │
//   row 0     1 ─ ─ ─ ─ private ─ ─ ─ ─ 2          way 40: 1 → 2, access=private: not a road
//             d                         Q          way 43: 1 → 5 ; way 44: 2 → 6
//   row -0.5  5 ─────────────────────── 6          way 42: 5 → 6, access=no + motor_vehicle=yes: a road
//           col 0                     col 4
const access = (): Fixture => ({
  nodes: gridNodes({ 1: [0, 0], 2: [4, 0], 3: [0, 1], 4: [4, 1], 5: [0, -0.5], 6: [4, -0.5] }),
  ways: [
    { id: 40, nodes: [1, 2], tags: res({ access: 'private' }) },
    { id: 41, nodes: [1, 3, 4, 2], tags: res() },
    { id: 42, nodes: [5, 6], tags: res({ access: 'no', motor_vehicle: 'yes' }) },
    { id: 43, nodes: [1, 5], tags: res() },
    { id: 44, nodes: [2, 6], tags: res() },
  ],
});
describe('access', () => {
  both('private shortcut excluded, motor_vehicle=yes + access=no kept', access, (s) => {
    const d = 0.25 * U + seg(0, -0.5, 4, -0.5) + 0.25 * U; // down 43, along 42, up 44
    expectRows(s.nearby([drv('d', at(0, -0.25))], q(at(4, -0.25))), [['d', d, sec(d, 25)]], 'route');
    // A point on the private road (55 m from 42, 111 m from 41) snaps to 42.
    expectSnap(s.snap(at(2, 0).lat, at(2, 0).lng), { wayId: '42', segIndex: 0, t: 0.5, distanceM: 0.5 * U }, 'on the private road');
  });
});

// ---- 6. snap radius -------------------------------------------------------------
//
//   row 0   1 ───────────────────────────────── 2       way 50: col 0 → col 10
//   A point straight north of col 5 is y = R·Δφ metres from the road.
const radius = (): Fixture => ({ nodes: gridNodes({ 1: [0, 0], 2: [10, 0] }), ways: [{ id: 50, nodes: [1, 2], tags: res() }] });
const northBy = (m: number) => ({ lat: (m / R) * (180 / Math.PI), lng: 5 * STEP });
describe('snap radius (200 m, inclusive)', () => {
  both('radius', radius, (s) => {
    for (const m of [0, 150, 199.999, 200 - 1e-9]) {
      const p = northBy(m);
      expectSnap(s.snap(p.lat, p.lng), { wayId: '50', segIndex: 0, t: 0.5, distanceM: m }, `${m} m`);
    }
    for (const m of [200 + 1e-6, 200.01, 1000]) {
      const p = northBy(m);
      const r = s.snap(p.lat, p.lng);
      expectSnap(r, 'miss', `${m} m`);
      if ('miss' in r) assert.ok(Math.abs(r.nearestM - m) < 1e-6, `nearestM ${r.nearestM} ≠ ${m}`);
    }
    // A query beyond the radius is refused; a driver beyond it never appears.
    assert.ok('error' in s.nearby([drv('a', at(1, 0))], q(northBy(250))), 'query beyond radius refused');
    const got = s.nearby([drv('a', at(1, 0)), drv('far', northBy(250))], q(at(2, 0)));
    expectRows(got, [['a', U, sec(U, 25)]], 'far driver refused');
    if (got.refused !== undefined) assert.deepEqual(got.refused, ['far']);
  });
  test('exactly 200 m snaps [reference]', async () => {
    // The largest latitude whose plane distance R·Δφ is still ≤ 200 m in floating point.
    let lat = northBy(200).lat;
    while (R * rad(lat) > 200) lat *= 1 - 2 ** -52;
    const s = refSide(carRef(await readAll(writeFixture('radius200', radius()))));
    expectSnap(s.snap(lat, 5 * STEP), { wayId: '50', segIndex: 0, t: 0.5, distanceM: 200 }, 'exactly 200 m');
  });
  test('an update beyond the radius is refused and leaves the previous state [library]', async () => {
    const lib = await loadLib();
    const osm = await readAll(writeFixture('radius_update', radius()));
    const model = new lib.model.Model(lib.build.buildGraph(osm, lib.profile.loadProfile('car')), {});
    const now = Date.now();
    const ok = model.update({ driverId: 'a', ...at(1, 0), timestampMs: now, metadata: { v: '1' } });
    assert.ok(ok.ok);
    const far = northBy(250);
    const bad = model.update({ driverId: 'a', lat: far.lat, lng: far.lng, timestampMs: now + 1, metadata: { v: '2' } });
    assert.equal(bad.ok, false);
    const v = model.get('a');
    assert.ok(v !== undefined);
    assert.equal(v.lat, at(1, 0).lat);
    assert.equal(v.lng, at(1, 0).lng);
    assert.deepEqual(v.metadata, { v: '1' });
    assert.equal(v.timestampMs, now);
  });
});

// ---- 7. ties ordered by driver id in UTF-8 byte order ------------------------------
//
//   row 0   1 ───────── 2      way 60; every driver at col 1, the query at col 1.5
const ties = (): Fixture => ({ nodes: gridNodes({ 1: [0, 0], 2: [2, 0] }), ways: [{ id: 60, nodes: [1, 2], tags: res() }] });
describe('ties by id in UTF-8 byte order', () => {
  // Bytes: B 42 · Z 5A · a 61 · ab 61 62 · Ä C3 84 · é C3 A9 · ｡ EF BD A1 · 😀 F0 9F 98 80.
  // JavaScript's UTF-16 order would put 😀 (D83D…) before ｡ (FF61).
  const order = ['B', 'Z', 'a', 'ab', 'Ä', 'é', '｡', '😀'];
  const shuffled = ['é', '😀', 'a', 'Z', '｡', 'ab', 'B', 'Ä'];
  const d = 0.5 * U;
  both('utf-8 ties', ties, (s) => {
    const drivers = shuffled.map((id) => drv(id, at(1, 0)));
    expectRows(
      s.nearby(drivers, q(at(1.5, 0))),
      order.map((id) => [id, d, sec(d, 25)] as Row),
      'all',
    );
    expectRows(
      s.nearby(drivers, q(at(1.5, 0), 'eta')),
      order.map((id) => [id, d, sec(d, 25)] as Row),
      'all, eta',
    );
    expectRows(
      s.nearby(drivers, q(at(1.5, 0), 'distance', { k: 3 })),
      order.slice(0, 3).map((id) => [id, d, sec(d, 25)] as Row),
      'k = 3',
    );
    expectRows(
      s.nearby(drivers, q(at(1.5, 0), 'distance', { k: 7 })),
      order.slice(0, 7).map((id) => [id, d, sec(d, 25)] as Row),
      'k = 7: ｡ before 😀',
    );
  });
});

// ---- 8. ETA: speeds, ranking, the non-ranked value along the chosen path -------------
//
//   row 2            11 ════════════════════ 12          way 71 (primary, maxspeed=90): 10 → 11 → 12 → 13
//                    ║                       ║
//   row 0   9 ── D ── 10 ─────── L ───────── 13 ─── Q ─────── F ── 14
//         col -2  -1   0          2           4     5         7     8
//   way 73 (primary_link, maxspeed=none → 48): 9 → 10
//   way 70 (living_street, 10 km/h): 10 → 13
//   way 72 (primary, maxspeed="30 mph" → 48.28032 km/h): 13 → 14; Q at s = 0.25
const etaMap = (): Fixture => ({
  nodes: gridNodes({ 9: [-2, 0], 10: [0, 0], 11: [0, 2], 12: [4, 2], 13: [4, 0], 14: [8, 0] }),
  ways: [
    { id: 70, nodes: [10, 13], tags: { highway: 'living_street' } },
    { id: 71, nodes: [10, 11, 12, 13], tags: { highway: 'primary', maxspeed: '90' } },
    { id: 72, nodes: [13, 14], tags: { highway: 'primary', maxspeed: '30 mph' } },
    { id: 73, nodes: [9, 10], tags: { highway: 'primary_link', maxspeed: 'none' } },
  ],
});
const MPH30 = 30 * 1.609344;
const T2 = seg(0, 2, 4, 2);
const etaDrivers = [drv('D', at(-1, 0), { color: 'blue' }), drv('L', at(2, 0), { color: 'red', seats: '6' }), drv('F', at(7, 0), { color: 'red', seats: '4' })];
// Distance mode: shortest paths. D: U on 73, 4U on 70, U on 72. L: 2U on 70 east, U on 72. F: 2U on 72 (behind Q, two-way).
const byDistance: Row[] = [
  ['D', 6 * U, sec(U, 48) + sec(4 * U, 10) + sec(U, MPH30)],
  ['L', 3 * U, sec(2 * U, 10) + sec(U, MPH30)],
  ['F', 2 * U, sec(2 * U, MPH30)],
];
// ETA mode: D takes the 90 km/h detour (the reported distance is the detour's); L and F as before.
const byEta: Row[] = [
  ['D', U + 2 * U + T2 + 2 * U + U, sec(U, 48) + sec(2 * U + T2 + 2 * U, 90) + sec(U, MPH30)],
  ['L', 3 * U, sec(2 * U, 10) + sec(U, MPH30)],
  ['F', 2 * U, sec(2 * U, MPH30)],
];
describe('ETA', () => {
  both('eta ranking differs from distance ranking', etaMap, (s) => {
    const Q = at(5, 0);
    assert.deepEqual(
      sorted(byDistance, 'distance').map((r) => r[0]),
      ['F', 'L', 'D'],
    );
    assert.deepEqual(
      sorted(byEta, 'eta').map((r) => r[0]),
      ['F', 'D', 'L'],
    );
    expectRows(s.nearby(etaDrivers, q(Q, 'distance')), sorted(byDistance, 'distance'), 'distance');
    expectRows(s.nearby(etaDrivers, q(Q, 'eta')), sorted(byEta, 'eta'), 'eta');
  });

  // ---- 9. k and limit cut-offs; the other limit does not apply ----------------------
  both('k and limits', etaMap, (s) => {
    const Q = at(5, 0);
    const dist = sorted(byDistance, 'distance');
    const eta = sorted(byEta, 'eta');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { k: 1 })), dist.slice(0, 1), 'k=1');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { k: 2 })), dist.slice(0, 2), 'k=2');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { limit: 3 * U + 1e-6 })), dist.slice(0, 2), 'limit just above L');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { limit: 3 * U - 1e-6 })), dist.slice(0, 1), 'limit just below L');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { limit: 100 })), [], 'limit below everyone');
    expectRows(s.nearby(etaDrivers, q(Q, 'eta', { limit: 60 })), eta.slice(0, 2), 'eta limit 60 s');
    expectRows(s.nearby(etaDrivers, q(Q, 'eta', { k: 2, limit: 7200 })), eta.slice(0, 2), 'eta k=2');
    // The limit of the other metric does not apply.
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { otherLimit: 1 })), dist, 'distance mode ignores max_eta_s');
    expectRows(s.nearby(etaDrivers, q(Q, 'eta', { otherLimit: 1 })), eta, 'eta mode ignores max_distance_m');
  });

  // ---- 10. filters -----------------------------------------------------------------
  both('filters', etaMap, (s) => {
    const Q = at(5, 0);
    const dist = sorted(byDistance, 'distance');
    const only = (...keep: string[]) => dist.filter((r) => keep.includes(r[0]));
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { filter: {} })), dist, 'empty filter');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { filter: { color: 'red' } })), only('F', 'L'), 'color=red');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { filter: { color: 'red', seats: '6' } })), only('L'), 'color=red seats=6');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { filter: { seats: '4' } })), only('F'), 'seats=4 (D has no seats)');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { filter: { color: 'Red' } })), [], 'values compared exactly');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { filter: { color: 'red', k: 'v' } })), [], 'every pair must match');
    expectRows(s.nearby(etaDrivers, q(Q, 'distance', { k: 1, filter: { color: 'blue' } })), only('D'), 'filter before k');
  });
});

// ---- 11. OSM quirks: ways and relations before nodes, overlapping ids ---------------
//
//                         3 (2,1)
//                         │ way 1
//   row 0   1 ──── d ──── 2 ─────────── 4 ─────────── 5 ─────────── 6
//         col 0    1      2   way 10    4   way 9     6   way 9     8
//           way 2: 1 → 2                │ way 11      way 9: 4 → 5 → 6
//                                       7 (4,-1)
//   relation 1: no_left_turn from way 2 via node 2 to way 1 (node 1, way 1, relation 1 all exist;
//   via node 2 while way 2 exists too). In the file, ways and relations come before nodes.
const quirks = (): Fixture => ({
  outOfOrder: true,
  nodes: gridNodes({ 1: [0, 0], 2: [2, 0], 3: [2, 1], 4: [4, 0], 5: [6, 0], 6: [8, 0], 7: [4, -1] }),
  ways: [
    { id: 1, nodes: [2, 3], tags: res() },
    { id: 2, nodes: [1, 2], tags: res() },
    { id: 10, nodes: [2, 4], tags: res() },
    { id: 9, nodes: [4, 5, 6], tags: res() },
    { id: 11, nodes: [4, 7], tags: res() }, // makes 4 a junction, so the U-turn below is at a junction
  ],
  relations: [restriction(1, 2, 2, 1, { restriction: 'no_left_turn' })],
});
describe('OSM quirks', () => {
  both('out of order, overlapping ids', quirks, (s) => {
    // Node 4 ends way 10 and starts ways 9 and 11: tie → lower way id NUMERICALLY (9 < 10 < 11; as strings "9" is last).
    expectSnap(s.snap(at(4, 0).lat, at(4, 0).lng), { wayId: '9', segIndex: 0, t: 0, distanceM: 0 }, 'node 4');
    // Node 2 is on ways 1, 2 and 10 → way 1.
    expectSnap(s.snap(at(2, 0).lat, at(2, 0).lng), { wayId: '1', segIndex: 0, t: 0, distanceM: 0 }, 'node 2');
    // Node 5 is inside way 9: segments 0 (t = 1) and 1 (t = 0) tie → lower segment index.
    expectSnap(s.snap(at(6, 0).lat, at(6, 0).lng), { wayId: '9', segIndex: 0, t: 1, distanceM: 0 }, 'node 5');
    // Within 1 mm counts as a tie: 0.5 mm north of node 4 still goes to way 9 … and a point
    // just west of node 4 (on way 10, 0.4 mm from way 9's first node) too.
    const w = at(4, 0);
    expectSnap(s.snap(w.lat, w.lng - (0.0004 / R) * (180 / Math.PI)), { wayId: '9', segIndex: 0, t: 0, distanceM: 0.0004 }, '0.4 mm west of node 4');
    // d → query on way 1: the left turn at 2 is forbidden, so on to node 4, U-turn, back, then right.
    const cost = U + 2 * U + 2 * U + 0.5 * U;
    expectRows(s.nearby([drv('d', at(1, 0))], q(at(2, 0.5))), [['d', cost, sec(cost, 25)]], 'restriction by overlapping ids');
    // The other way round (from way 1 to way 2) is not restricted.
    expectRows(s.nearby([drv('d', at(2, 0.5))], q(at(1, 0))), [['d', 1.5 * U, sec(1.5 * U, 25)]], 'reverse turn allowed');
  });
});

// ---- 12. a U-turn at a node inside a way (not a junction) is a turn like any other ----
//
//                     3 (2,1)
//                     │ way 91
//   row 0   1 ══►═ d ═2─────────── 4 ─────────── 5      way 90 (oneway=yes): 1 → 2
//         col 0    1  2            4             6      way 92 (two-way): 2 → 4 → 5 (4 is no junction)
//   relation 900: no_left_turn from 90 via 2 to 91. d must pass 2, turn round and come back:
//   "All other turns, U-turns included, are allowed" — so at node 4, not only at the dead end 5.
const midUturn = (): Fixture => ({
  nodes: gridNodes({ 1: [0, 0], 2: [2, 0], 3: [2, 1], 4: [4, 0], 5: [6, 0] }),
  ways: [
    { id: 90, nodes: [1, 2], tags: res({ oneway: 'yes' }) },
    { id: 91, nodes: [2, 3], tags: res() },
    { id: 92, nodes: [2, 4, 5], tags: res() },
  ],
  relations: [restriction(900, 90, 2, 91, { restriction: 'no_left_turn' })],
});
describe('U-turns', () => {
  both('U-turn at an interior node of a way', midUturn, (s) => {
    const cost = U + 2 * U + 2 * U + 0.5 * U; // to 2, on to 4, U-turn, back to 2, right turn, ½ U in
    expectRows(s.nearby([drv('d', at(1, 0))], q(at(2, 0.5))), [['d', cost, sec(cost, 25)]], 'U-turn at node 4');
    expectRows(s.nearby([drv('d', at(1, 0))], q(at(2, 0.5), 'eta')), [['d', cost, sec(cost, 25)]], 'U-turn at node 4, eta');
  });
});

// ---- 13. ranges (reference only: the Model leaves k/limit validation to the API edge) ----
test('k and limits out of range are refused, not clamped [reference]', async () => {
  const m = carRef(await readAll(writeFixture('ranges', ties())));
  const ask = (k: number, metric: 'distance' | 'eta', limit: number) => refNearby(m, [drv('a', at(1, 0))], { ...at(1.5, 0), k, metric, limit });
  for (const [k, metric, limit] of [
    [0, 'distance', 3000],
    [1001, 'distance', 3000],
    [1.5, 'distance', 3000],
    [10, 'distance', 0],
    [10, 'distance', 100_000.001],
    [10, 'eta', 0],
    [10, 'eta', 7200.001],
    [10, 'eta', -1],
  ] as const) {
    assert.ok('error' in ask(k, metric, limit), `k=${k} ${metric} limit=${limit} must be refused`);
  }
  for (const [k, metric, limit] of [
    [1, 'distance', 100_000],
    [1000, 'eta', 7200],
    [10, 'distance', 0.001],
  ] as const) {
    assert.ok(!('error' in ask(k, metric, limit)), `k=${k} ${metric} limit=${limit} is in range`);
  }
});

// ---- 14. zero-length segments are kept and numbered; a closed roundabout -------------
//
//   row 1   4 ◄─────────── 3
//           │  roundabout  ▲        way 70: 1 → 2 → 3 → 4 → 1 (closed, junction=roundabout: forward only)
//           ▼              │
//   row 0   1 ──── Q ── d ►2 ══ 2 ────────── 5     way 71: 2 → 2' → 5 where 2' is a second node at
//         col 0    1   1.5  2              4       exactly node 2's position (a zero-length segment 0)
//
// way 71's nodes are [2, 6, 5] with node 6 on top of node 2: segment 0 has length 0,
// the real road is segment 1.
const zeroLen = (): Fixture => ({
  nodes: gridNodes({ 1: [0, 0], 2: [2, 0], 3: [2, 1], 4: [0, 1], 5: [4, 0], 6: [2, 0] }),
  ways: [
    { id: 70, nodes: [1, 2, 3, 4, 1], tags: res({ junction: 'roundabout' }) },
    { id: 71, nodes: [2, 6, 5], tags: res() },
  ],
});
describe('zero-length segments and a closed roundabout', () => {
  both('zero length, roundabout', zeroLen, (s) => {
    expectSnap(s.snap(at(3, 0).lat, at(3, 0).lng), { wayId: '71', segIndex: 1, t: 0.5, distanceM: 0 }, 'segments numbered with the zero-length one');
    // Node 2 = node 6: way 70 seg 0 (t = 1), way 70 seg 1 (t = 0), way 71 seg 0 (length 0), seg 1 (t = 0) → way 70 seg 0.
    expectSnap(s.snap(at(2, 0).lat, at(2, 0).lng), { wayId: '70', segIndex: 0, t: 1, distanceM: 0 }, 'node 2');
    // d behind Q on the roundabout goes all the way round: ¼·2U + U + 2U' + U + ½·2U.
    const round = 0.5 * U + U + seg(2, 1, 0, 1) + U + U;
    expectRows(s.nearby([drv('d', at(1.5, 0))], q(at(1, 0))), [['d', round, sec(round, 25)]], 'round the roundabout');
    // From way 71 onto the roundabout through the zero-length segment: ½·2U + 0 + ½·2U.
    expectRows(s.nearby([drv('e', at(3, 0))], q(at(2, 0.5))), [['e', U + 0.5 * U, sec(1.5 * U, 25)]], 'through the zero-length segment');
  });
});
