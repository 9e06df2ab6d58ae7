// Lays out the synthetic city in metres east/north of (lat0, lng0):
//
//   row r+1  J───·──·───J───·──·──·───J      J junction, · way node (20–40 m apart)
//            │          │      ┊      │      ┊ footway through a block
//            ·   ┌──·   ·      ·      ·      ┌─ dead-end service road
//            ·   │      ·      ┊      ·
//   row r    J───·──·───J───·──·──·───J      ◯ a few junctions are roundabouts
//
// Streets every 80–120 m; every 4th row/column an arterial (tertiary,
// secondary every 8th, primary every 16th); a two-carriageway motorway
// crosses mid-city without touching streets except through its _link ramps.
import { Rng } from './prng.js';
import { IntList, tagObject, type CityModel, type Member, type Relation, type TagList } from './model.js';
import { isCarRoad } from './roads.js';
import { footTags, linkTags, motorwayTags, roundaboutTags, serviceTags, streetTags, type StreetClass } from './tags.js';

const R_EARTH = 6_371_008.8;
const DEG = 180 / Math.PI;
const E = 0,
  N = 1,
  W = 2,
  S = 3; // sides of a junction, counter-clockwise

export interface LayoutOptions {
  seed: number;
  rows: number;
  cols: number;
  lat0: number;
  lng0: number;
}

const NODE_ID_BASE = 4_300_000_000; // above 2^32, like today's OSM node IDs
const WAY_ID_BASE = 1_000_000;
const RELATION_ID_BASE = 1; // overlaps nothing here, but IDs are per type in OSM

function streetClass(i: number): StreetClass {
  if (i % 16 === 0) return 'primary';
  if (i % 8 === 0) return 'secondary';
  if (i % 4 === 0) return 'tertiary';
  return 'residential';
}
const RANK: Record<StreetClass, number> = { primary: 3, secondary: 2, tertiary: 1, residential: 0 };

class Builder {
  readonly lat = new IntList(1 << 16);
  readonly lon = new IntList(1 << 16);
  readonly nodeTags = new Map<number, TagList>();
  readonly wayRefs = new IntList(1 << 16);
  readonly wayOffsets = new IntList(1 << 12);
  readonly wayTags: TagList[] = [];
  readonly relations: Relation[] = [];
  private readonly mPerDegLng: number;
  private readonly mPerDegLat = R_EARTH / DEG;

  constructor(
    private readonly lat0: number,
    private readonly lng0: number,
  ) {
    this.mPerDegLng = (R_EARTH * Math.cos(lat0 / DEG)) / DEG;
    this.wayOffsets.push(0);
  }

  /** A node x metres east and y metres north of the origin; returns its index. */
  node(x: number, y: number): number {
    this.lat.push(Math.round((this.lat0 + y / this.mPerDegLat) * 1e7));
    this.lon.push(Math.round((this.lng0 + x / this.mPerDegLng) * 1e7));
    return this.lat.length - 1;
  }

  way(refs: ArrayLike<number>, tags: TagList): number {
    for (let i = 0; i < refs.length; i++) this.wayRefs.push(refs[i]!);
    this.wayOffsets.push(this.wayRefs.length);
    this.wayTags.push(tags);
    return this.wayTags.length - 1;
  }

  wayId(w: number): number {
    return WAY_ID_BASE + w;
  }
  nodeId(n: number): number {
    return NODE_ID_BASE + n;
  }

  model(): CityModel {
    return {
      nodeIdBase: NODE_ID_BASE,
      nodeCount: this.lat.length,
      lat: this.lat.toArray(),
      lon: this.lon.toArray(),
      nodeTags: this.nodeTags,
      wayIdBase: WAY_ID_BASE,
      wayCount: this.wayTags.length,
      wayOffsets: this.wayOffsets.toArray(),
      wayRefs: this.wayRefs.toArray(),
      wayTags: this.wayTags,
      relationIdBase: RELATION_ID_BASE,
      relations: this.relations,
    };
  }
}

export function layoutCity(o: LayoutOptions): CityModel {
  const rng = new Rng(o.seed);
  const { rows: R, cols: C } = o;
  if (R < 2 || C < 2) throw new Error(`city grid ${R}×${C} too small: need at least 2×2 junctions`);
  const b = new Builder(o.lat0, o.lng0);
  const J = (r: number, c: number) => r * C + c;

  // Street lines, spacing 80–120 m.
  const colX = new Float64Array(C);
  const rowY = new Float64Array(R);
  for (let c = 1; c < C; c++) colX[c] = colX[c - 1]! + rng.range(80, 120);
  for (let r = 1; r < R; r++) rowY[r] = rowY[r - 1]! + rng.range(80, 120);

  // The motorway runs between rows rm and rm+1, both residential.
  let rm = -1;
  if (R >= 12 && C >= 8) {
    rm = Math.floor(R / 2);
    while (rm % 4 !== 1) rm++;
  }
  const interchange = (c: number) => rm >= 0 && c >= 1 && c <= C - 2 && c % 24 === 12;

  // Junction roles: roundabouts and turn-restriction sites, chosen up front
  // because both decide where the street ways are split.
  const roundabout = new Uint8Array(R * C);
  const inBand = (r: number) => rm >= 0 && (r === rm || r === rm + 1);
  const nRound = Math.max(2, Math.round(R * C * 0.003));
  for (let k = 0; k < nRound && R > 2 && C > 2; k++) {
    const r = rng.int(1, R - 2),
      c = rng.int(1, C - 2);
    if (!inBand(r)) roundabout[J(r, c)] = 1;
  }
  const restrictAt: number[] = [];
  const breakAt = new Uint8Array(R * C); // bit 1: split the row way here, bit 2: the column way
  const nRestrict = Math.max(6, Math.round(R * C * 0.015));
  for (let k = 0; k < nRestrict; k++) {
    const j = J(rng.int(0, R - 1), rng.int(0, C - 1));
    if (roundabout[j] || breakAt[j] & 4) continue;
    restrictAt.push(j);
    // Mostly split there, as OSM editors do; the rest leave the via node
    // inside a way, which SEMANTICS.md also allows.
    breakAt[j] = 4 | (rng.chance(0.8) ? 3 : 0);
  }

  // Junction nodes; a roundabout has a ring of 8 and one port per side.
  const port = new Int32Array(R * C * 4);
  const ringOf: number[][] = [];
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const j = J(r, c);
      const x = colX[c]! + rng.range(-4, 4),
        y = rowY[r]! + rng.range(-4, 4);
      if (!roundabout[j]) {
        const n = b.node(x, y);
        for (let s = 0; s < 4; s++) port[j * 4 + s] = n;
        const rc = streetClass(r),
          cc = streetClass(c);
        if (rc !== 'residential' && cc !== 'residential' && rng.chance(0.6)) b.nodeTags.set(n, ['highway', 'traffic_signals']);
        continue;
      }
      const radius = rng.range(12, 18);
      const ring: number[] = [];
      for (let k = 0; k < 8; k++) ring.push(b.node(x + radius * Math.cos((k * Math.PI) / 4), y + radius * Math.sin((k * Math.PI) / 4)));
      for (let s = 0; s < 4; s++) port[j * 4 + s] = ring[s * 2]!;
      ring.push(ring[0]!); // closed, counter-clockwise: right-hand traffic
      ringOf.push([j, ...ring]);
    }
  }

  // Street edges between junctions, with way nodes every 20–40 m.
  const edgeOff = new IntList(1 << 12);
  const edgeNodes = new IntList(1 << 16);
  edgeOff.push(0);
  const edge = (a: number, bn: number) => {
    edgeNodes.push(a);
    const la = b.lat.get(a),
      oa = b.lon.get(a),
      lb = b.lat.get(bn),
      ob = b.lon.get(bn);
    // Interpolate in degrees: over 100 m the curvature error is far below the jitter.
    const lenM = Math.hypot((lb - la) * 1.113e-2, (ob - oa) * 1.113e-2 * Math.cos(o.lat0 / DEG));
    const m = Math.max(0, Math.round(lenM / rng.range(20, 40)) - 1);
    for (let k = 1; k <= m; k++) {
      const t = (k + rng.range(-0.15, 0.15)) / (m + 1);
      const n = b.lat.length;
      b.lat.push(Math.round(la + (lb - la) * t + rng.range(-15, 15)));
      b.lon.push(Math.round(oa + (ob - oa) * t + rng.range(-15, 15)));
      edgeNodes.push(n);
      if (rng.chance(0.01)) b.nodeTags.set(n, ['highway', 'crossing', 'crossing', rng.pick(['zebra', 'uncontrolled'])]);
    }
    edgeNodes.push(bn);
    edgeOff.push(edgeNodes.length);
  };
  const H = (r: number, c: number) => r * (C - 1) + c; // edge J(r,c) → J(r,c+1)
  const V = (r: number, c: number) => R * (C - 1) + r * C + c; // edge J(r,c) → J(r+1,c)
  for (let r = 0; r < R; r++) for (let c = 0; c < C - 1; c++) edge(port[J(r, c) * 4 + E]!, port[J(r, c + 1) * 4 + W]!);
  for (let r = 0; r < R - 1; r++) for (let c = 0; c < C; c++) edge(port[J(r, c) * 4 + N]!, port[J(r + 1, c) * 4 + S]!);
  const edgeCount = edgeOff.length - 1;
  const wayOfEdge = new Int32Array(edgeCount);

  // Street ways: runs of 1–6 blocks (arterials 3–12), split at roundabouts
  // and most restriction sites; some drawn against the grid direction.
  const refs: number[] = [];
  const street = (edges: number[], cls: StreetClass, name: string) => {
    refs.length = 0;
    for (const e of edges) {
      const from = edgeOff.get(e),
        to = edgeOff.get(e + 1);
      for (let i = refs.length === 0 ? from : from + 1; i < to; i++) refs.push(edgeNodes.get(i));
    }
    if (rng.chance(0.3)) refs.reverse();
    const w = b.way(refs, streetTags(rng, cls, name));
    for (const e of edges) wayOfEdge[e] = w;
  };
  const lines = (
    count: number,
    len: number,
    edgeAt: (line: number, i: number) => number,
    junctionAt: (line: number, i: number) => number,
    bit: number,
    label: string,
  ) => {
    for (let l = 0; l < count; l++) {
      const cls = streetClass(l);
      const run: number[] = [];
      let target = cls === 'residential' ? rng.int(1, 6) : rng.int(3, 12);
      for (let i = 0; i < len; i++) {
        const j = junctionAt(l, i);
        if (run.length > 0 && (run.length >= target || roundabout[j] || breakAt[j]! & bit)) {
          street(run, cls, `${label} ${l}`);
          run.length = 0;
          target = cls === 'residential' ? rng.int(1, 6) : rng.int(3, 12);
        }
        run.push(edgeAt(l, i));
      }
      if (run.length > 0) street(run, cls, `${label} ${l}`);
    }
  };
  lines(R, C - 1, H, (r, c) => J(r, c), 1, 'Street');
  lines(
    C,
    R - 1,
    (c, r) => V(r, c),
    (c, r) => J(r, c),
    2,
    'Avenue',
  );

  for (const [j, ...ring] of ringOf) {
    const r = Math.floor(j! / C),
      c = j! % C;
    const cls = RANK[streetClass(r)] >= RANK[streetClass(c)] ? streetClass(r) : streetClass(c);
    b.way(ring, roundaboutTags(rng, cls));
  }

  if (rm >= 0) motorway(b, rng, rm, colX, rowY, interchange, (r, c) => port[J(r, c) * 4]!);

  // Dead-end service roads into blocks, and footways across some blocks.
  const inner = (e: number) => {
    const from = edgeOff.get(e) + 1,
      to = edgeOff.get(e + 1) - 1;
    return to > from ? edgeNodes.get(rng.int(from, to - 1)) : -1;
  };
  // Metres east/north of the origin of an existing node, to branch off it.
  const mPerDegLng = (R_EARTH * Math.cos(o.lat0 / DEG)) / DEG;
  const xy = (n: number): [number, number] => [(b.lon.get(n) * 1e-7 - o.lng0) * mPerDegLng, (b.lat.get(n) * 1e-7 - o.lat0) * (R_EARTH / DEG)];
  for (let r = 0; r < R; r++) {
    if (streetClass(r) !== 'residential' || inBand(r)) continue;
    for (let c = 0; c < C - 1; c++) {
      if (!rng.chance(0.06)) continue;
      const start = inner(H(r, c));
      if (start < 0) continue;
      const [x, y] = xy(start);
      const dir = r === R - 1 || (r > 0 && rng.chance(0.5)) ? -1 : 1;
      const path = [start];
      const steps = rng.int(1, 2);
      for (let k = 1; k <= steps; k++) path.push(b.node(x + rng.range(-3, 3), y + dir * k * rng.range(15, 20)));
      if (steps === 2 && rng.chance(0.5)) path.push(b.node(x + rng.pick([-1, 1]) * rng.range(10, 20), y + dir * 38));
      b.way(path, serviceTags(rng));
    }
  }
  for (let r = 0; r < R - 1; r++) {
    if (r === rm) continue;
    for (let c = 0; c < C - 1; c++) {
      if (!rng.chance(0.025)) continue;
      const a = inner(H(r, c)),
        z = inner(H(r + 1, c));
      if (a < 0 || z < 0) continue;
      const [xa, ya] = xy(a),
        [xz, yz] = xy(z);
      b.way([a, b.node((xa + xz) / 2 + rng.range(-10, 10), (ya + yz) / 2), z], footTags(rng));
    }
  }

  // A few POIs that no way references: nodes the service must ignore.
  const nPoi = Math.max(3, Math.round((R * C) / 500));
  for (let k = 0; k < nPoi; k++) {
    const c = rng.int(0, C - 2),
      r = rng.int(0, R - 2);
    const n = b.node((colX[c]! + colX[c + 1]!) / 2, (rowY[r]! + rowY[r + 1]!) / 2 + 20);
    b.nodeTags.set(n, ['amenity', rng.pick(['cafe', 'fuel', 'school', 'pharmacy']), 'name', `Place ${k}`]);
  }

  // Turn restrictions at the chosen junctions, between the street ways there.
  const wayIsRoad = (w: number) => isCarRoad(tagObject(b.wayTags[w]!));
  for (const j of restrictAt) {
    const r = Math.floor(j / C),
      c = j % C;
    const side: number[] = [
      c < C - 1 ? wayOfEdge[H(r, c)]! : -1,
      r < R - 1 ? wayOfEdge[V(r, c)]! : -1,
      c > 0 ? wayOfEdge[H(r, c - 1)]! : -1,
      r > 0 ? wayOfEdge[V(r - 1, c)]! : -1,
    ].map((w) => (w >= 0 && wayIsRoad(w) ? w : -1));
    restriction(b, rng, side, port[j * 4]!);
  }
  return b.model();
}

type TurnKind = 'left' | 'right' | 'straight' | 'u';
const RESTRICTIONS: readonly (readonly [[string, TurnKind], number])[] = [
  [['no_left_turn', 'left'], 30],
  [['no_right_turn', 'right'], 10],
  [['no_straight_on', 'straight'], 8],
  [['no_u_turn', 'u'], 15],
  [['only_straight_on', 'straight'], 15],
  [['only_right_turn', 'right'], 10],
  [['only_left_turn', 'left'], 7],
];

/** One restriction (sometimes two `only_*` sharing from and via) at a junction. */
function restriction(b: Builder, rng: Rng, side: number[], via: number): void {
  const sides = [0, 1, 2, 3].filter((s) => side[s]! >= 0);
  if (sides.length < 2) return;
  for (let attempt = 0; attempt < 6; attempt++) {
    const s = rng.pick(sides); // arriving from side s, heading to the opposite side
    const [value, turn] = rng.weighted(RESTRICTIONS);
    const target = toSide(s, turn);
    const from = side[s]!,
      to = side[target]!;
    if (to < 0 || (turn !== 'u' && from === to)) continue;
    add(b, rng, from, via, to, value);
    if (value === 'only_straight_on' && rng.chance(0.15)) {
      const right = side[toSide(s, 'right')]!;
      if (right >= 0 && right !== from) add(b, rng, from, via, right, 'only_right_turn');
    }
    return;
  }
}

function toSide(s: number, turn: TurnKind): number {
  const heading = (s + 2) % 4;
  switch (turn) {
    case 'straight':
      return heading;
    case 'left':
      return (heading + 1) % 4;
    case 'right':
      return (heading + 3) % 4;
    case 'u':
      return s;
  }
}

function add(b: Builder, rng: Rng, from: number, via: number, to: number, value: string): void {
  const tags: TagList = ['type', 'restriction'];
  const style = rng.next();
  if (style < 0.8) tags.push('restriction', value);
  else if (style < 0.88) tags.push('restriction:motorcar', value);
  else if (style < 0.93) tags.push('restriction', value, 'restriction:motorcar', value);
  else tags.push('restriction:hgv', value); // not for cars: ignored by the car profile
  if (rng.chance(0.05)) tags.push('except', 'bicycle');
  let members: Member[] = [
    { type: 'way', ref: b.wayId(from), role: 'from' },
    { type: 'node', ref: b.nodeId(via), role: 'via' },
    { type: 'way', ref: b.wayId(to), role: 'to' },
  ];
  // A via way instead of a via node: ignored by SEMANTICS.md.
  if (rng.chance(0.03)) members[1] = { type: 'way', ref: b.wayId(to), role: 'via' };
  if (rng.chance(0.2)) members = [members[2]!, members[1]!, members[0]!];
  b.relations.push({ tags, members });
}

/** Two carriageways (eastbound south, westbound north) with ramps at interchanges. */
function motorway(
  b: Builder,
  rng: Rng,
  rm: number,
  colX: Float64Array,
  rowY: Float64Array,
  interchange: (c: number) => boolean,
  junction: (r: number, c: number) => number,
): void {
  const C = colX.length;
  const ym = (rowY[rm]! + rowY[rm + 1]!) / 2;
  const ramps: number[] = [];
  for (let c = 0; c < C; c++) if (interchange(c)) ramps.push(colX[c]! - 70, colX[c]! + 70);
  const xs: number[] = [...ramps];
  for (let x = colX[0]! - 300; x <= colX[C - 1]! + 300; x += rng.range(120, 180)) {
    if (ramps.every((rx) => Math.abs(rx - x) > 25)) xs.push(x);
  }
  xs.sort((p, q) => p - q);
  const eb = xs.map((x) => b.node(x, ym - 12 + rng.range(-1, 1)));
  const wbAsc = xs.map((x) => b.node(x, ym + 12 + rng.range(-1, 1)));
  const at = (nodes: number[], x: number) => nodes[xs.indexOf(x)]!;
  const split = (nodes: number[]) => {
    for (let i = 0; i < nodes.length - 1; ) {
      const end = Math.min(nodes.length - 1, i + rng.int(10, 20));
      b.way(nodes.slice(i, end + 1), motorwayTags(rng));
      i = end;
    }
  };
  split(eb);
  split([...wbAsc].reverse());
  for (let c = 0; c < C; c++) {
    if (!interchange(c)) continue;
    const x = colX[c]!;
    const south = junction(rm, c),
      north = junction(rm + 1, c);
    b.way([at(eb, x - 70), b.node(x - 30, ym - 25), south], linkTags(rng)); // eastbound exit
    b.way([south, b.node(x + 30, ym - 25), at(eb, x + 70)], linkTags(rng)); // eastbound entry
    b.way([at(wbAsc, x + 70), b.node(x + 30, ym + 25), north], linkTags(rng)); // westbound exit
    b.way([north, b.node(x - 30, ym + 25), at(wbAsc, x - 70)], linkTags(rng)); // westbound entry
  }
}
