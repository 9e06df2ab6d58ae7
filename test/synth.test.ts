// The synthetic city generator (tools/synth): deterministic bytes for a seed,
// a real OSM file that osm-read parses back to exactly what was generated, and
// the features SEMANTICS.md cares about actually present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCity, type CityResult } from '../tools/synth/city.js';
import { tagObject } from '../tools/synth/model.js';
import { isCarRoad } from '../tools/synth/roads.js';
import { readOsm, type OsmData } from '../src/mapbuild/osm.js';

const SEED = Number(process.env.SYNTH_SEED ?? 42);
const dir = mkdtempSync(join(tmpdir(), 'faros-synth-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const readAll = (file: string) => readOsm(file, { keepWay: () => true, keepRelation: () => true });

let cached: Promise<{ city: CityResult; data: OsmData }> | undefined;
function smallCity(): Promise<{ city: CityResult; data: OsmData }> {
  cached ??= (async () => {
    const city = await generateCity({ seed: SEED, vertices: 5000, out: join(dir, 'a.osm.pbf') });
    return { city, data: await readAll(city.file) };
  })();
  return cached;
}

/** Parsed file equals the generated model: IDs, coordinates (±1e-7°), refs, tags, members. */
function assertSameAsModel(city: CityResult, data: OsmData): void {
  const m = city.model;
  assert.deepEqual(data.counts, { nodes: city.nodes, ways: city.ways, relations: city.relations });
  assert.equal(data.nodeIndex.size, m.nodeCount);
  for (let i = 0; i < m.nodeCount; i++) {
    const k = data.nodeIndex.get(String(m.nodeIdBase + i));
    assert.ok(k !== undefined, `node ${m.nodeIdBase + i} missing`);
    assert.ok(Math.abs(data.lat[k] - m.lat[i]! / 1e7) < 1e-7, `node ${i} lat ${data.lat[k]} vs ${m.lat[i]! / 1e7}`);
    assert.ok(Math.abs(data.lon[k] - m.lon[i]! / 1e7) < 1e-7, `node ${i} lon ${data.lon[k]} vs ${m.lon[i]! / 1e7}`);
  }
  data.ways.forEach((w, i) => {
    assert.equal(w.id, String(m.wayIdBase + i));
    assert.deepEqual(w.tags, tagObject(m.wayTags[i]!));
    const refs = Array.from(m.wayRefs.subarray(m.wayOffsets[i]!, m.wayOffsets[i + 1]!), (n) => String(m.nodeIdBase + n));
    assert.deepEqual(w.refs, refs);
  });
  data.relations.forEach((r, i) => {
    assert.equal(r.id, String(m.relationIdBase + i));
    assert.deepEqual(r.tags, tagObject(m.relations[i]!.tags));
    assert.deepEqual(
      r.members,
      m.relations[i]!.members.map((mb) => ({ ...mb, ref: String(mb.ref) })),
    );
  });
}

test('same seed, same bytes; another seed, other bytes', async () => {
  const { city } = await smallCity();
  const again = await generateCity({ seed: SEED, vertices: 5000, out: join(dir, 'b.osm.pbf') });
  const other = await generateCity({ seed: SEED + 1, vertices: 5000, out: join(dir, 'c.osm.pbf') });
  assert.ok(readFileSync(city.file).equals(readFileSync(again.file)));
  assert.ok(!readFileSync(city.file).equals(readFileSync(other.file)));
});

test('PBF parses back with readOsm to exactly the generated city', async () => {
  const { city, data } = await smallCity();
  assert.ok(city.roadVertices >= 4500 && city.roadVertices <= 5500, `roadVertices ${city.roadVertices} for a 5000 target`);
  assertSameAsModel(city, data);
});

test('XML parses back to the same city as PBF', async () => {
  const city = await generateCity({ seed: SEED, vertices: 5000, out: join(dir, 'a.osm') });
  assert.match(readFileSync(city.file, 'latin1').slice(-16), /<\/osm>\s*$/);
  assertSameAsModel(city, await readAll(city.file));
});

test('road vertices counted from the parsed file match the report; many are degree-2 way nodes', async () => {
  const { city, data } = await smallCity();
  const onRoad = new Set<string>();
  const uses = new Map<string, number>();
  for (const w of data.ways) {
    if (!isCarRoad(w.tags)) continue;
    for (const r of w.refs) {
      onRoad.add(r);
      uses.set(r, (uses.get(r) ?? 0) + 1);
    }
  }
  assert.equal(onRoad.size, city.roadVertices);
  const wayNodes = [...uses.values()].filter((u) => u === 1).length;
  assert.ok(wayNodes > 0.6 * onRoad.size, `${wayNodes} of ${onRoad.size} vertices on a single way`);
});

test('has oneways, roundabouts, motorway with links, service, private and non-road ways', async () => {
  const { data } = await smallCity();
  const count = (pred: (t: Record<string, string>) => boolean) => data.ways.filter((w) => pred(w.tags)).length;
  assert.ok(count((t) => t.oneway === 'yes') > 0, 'oneway=yes');
  assert.ok(count((t) => t.oneway === '-1' || t.oneway === 'reverse') > 0, 'oneway=-1');
  assert.ok(count((t) => t.junction === 'roundabout' || t.junction === 'circular') > 0, 'roundabout');
  assert.ok(count((t) => t.highway === 'motorway') > 0 && count((t) => t.highway === 'motorway_link') > 0, 'motorway + links');
  assert.ok(count((t) => t.highway === 'service') > 0, 'service');
  assert.ok(count((t) => t.access === 'private') > 0, 'access=private');
  assert.ok(count((t) => t.highway !== undefined && !isCarRoad(t)) > 0, 'footway etc.');
  for (const w of data.ways) {
    if (w.tags.junction !== 'roundabout') continue;
    assert.equal(w.refs[0], w.refs[w.refs.length - 1], `roundabout ${w.id} is closed`);
  }
});

test('maxspeed comes in every form: N, N km/h, N mph, unparsable, missing', async () => {
  const { data } = await smallCity();
  const speeds = data.ways.filter((w) => isCarRoad(w.tags)).map((w) => w.tags.maxspeed);
  assert.ok(
    speeds.some((s) => s !== undefined && /^\d+(\.\d+)?$/.test(s)),
    'plain number',
  );
  assert.ok(
    speeds.some((s) => s !== undefined && / km\/h$/.test(s)),
    'km/h',
  );
  assert.ok(
    speeds.some((s) => s !== undefined && / mph$/.test(s)),
    'mph',
  );
  assert.ok(
    speeds.some((s) => s === undefined),
    'missing',
  );
});

test('every restriction with a via node has from and to ways that contain it', async () => {
  const { data } = await smallCity();
  const refsOf = new Map(data.ways.map((w) => [w.id, w.refs]));
  let checked = 0,
    forCars = 0;
  for (const r of data.relations) {
    assert.equal(r.tags.type, 'restriction');
    const from = r.members.filter((m) => m.role === 'from'),
      via = r.members.filter((m) => m.role === 'via');
    const to = r.members.filter((m) => m.role === 'to');
    assert.equal(from.length, 1);
    assert.equal(via.length, 1);
    assert.equal(to.length, 1);
    if (via[0]!.type !== 'node') continue; // deliberately malformed: a via way
    for (const m of [from[0]!, to[0]!]) {
      assert.equal(m.type, 'way');
      assert.ok(refsOf.get(m.ref)?.includes(via[0]!.ref), `relation ${r.id}: via ${via[0]!.ref} not on way ${m.ref}`);
    }
    checked++;
    const value = r.tags['restriction:motorcar'] ?? r.tags.restriction;
    if (value !== undefined && /^(no|only)_/.test(value)) forCars++;
  }
  assert.ok(checked >= 5 && forCars >= 3, `${checked} restrictions with via nodes, ${forCars} for cars`);
});
