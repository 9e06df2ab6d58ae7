// The faros command on bad input: a clear message, a non-zero exit, never a
// stack trace. Runs the real compiled binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'dist/src/bin/faros.js');
const map = join(root, 'maps/bayfront_singapore.osm.pbf');
const dir = mkdtempSync(join(tmpdir(), 'faros-cli-'));
const cacheDir = join(dir, 'cache');

function faros(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--cache-dir', cacheDir], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}
function file(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const goodDrivers = file('drivers.csv', 'id,lat,lng,status\na,1.2800,103.8590,available\nb,1.2810,103.8600,busy\nfar,1.5,104.5,available\n');
const goodQueries = file(
  'queries.csv',
  'qid,lat,lng,k,radius_m,status_filter\nq1,1.2805,103.8595,5,3000,\nq2,1.2805,103.8595,5,3000,available\nq3,1.6,104.6,5,3000,\n',
);

test('knn answers a good run and lists drivers that do not snap', () => {
  const out = join(dir, 'res.jsonl');
  const r = faros('knn', '--map', map, '--drivers', goodDrivers, '--queries', goodQueries, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /driver far .* not snapped/);
  assert.match(r.stderr, /1 of 3 drivers did not snap/);
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => l.qid),
    ['q1', 'q2', 'q3'],
  );
  assert.deepEqual(lines[0].results.map((x: { id: string }) => x.id).sort(), ['a', 'b']);
  assert.deepEqual(
    lines[1].results.map((x: { id: string }) => x.id),
    ['a'],
  );
  assert.match(lines[2].error, /beyond the snap radius/);
  assert.deepEqual(lines[2].results, []);
});

const bad: [string, () => string[], RegExp][] = [
  ['missing column', () => ['--drivers', file('d1.csv', 'id,lat\na,1\n'), '--queries', goodQueries], /missing column "lng"/],
  ['non-numeric lat', () => ['--drivers', file('d2.csv', 'id,lat,lng\na,north,103.8\n'), '--queries', goodQueries], /d2\.csv:2: lat is not a number/],
  ['lat outside ±90', () => ['--drivers', file('d3.csv', 'id,lat,lng\na,91,103.8\n'), '--queries', goodQueries], /lat must be at least -90 and at most 90/],
  ['NaN', () => ['--drivers', goodDrivers, '--queries', file('q1.csv', 'qid,lat,lng,k,radius_m\nq,NaN,103.8,5,100\n')], /lat is not a number/],
  ['empty file', () => ['--drivers', file('d4.csv', ''), '--queries', goodQueries], /empty file/],
  ['k out of range', () => ['--drivers', goodDrivers, '--queries', file('q2.csv', 'qid,lat,lng,k,radius_m\nq,1.28,103.8,0,100\n')], /k must be at least 1/],
  [
    'radius out of range',
    () => ['--drivers', goodDrivers, '--queries', file('q3.csv', 'qid,lat,lng,k,radius_m\nq,1.28,103.8,3,100001\n')],
    /radius_m must be above 0 and at most 100000/,
  ],
  ['ragged row', () => ['--drivers', file('d5.csv', 'id,lat,lng\na,1.28\n'), '--queries', goodQueries], /expected 3 columns/],
  ['missing drivers file', () => ['--drivers', join(dir, 'nope.csv'), '--queries', goodQueries], /nope\.csv: cannot read \(ENOENT\)/],
];
for (const [name, args, message] of bad) {
  test(`knn refuses ${name} with a clear message`, () => {
    const r = faros('knn', '--map', map, ...args(), '--out', join(dir, 'x.jsonl'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('unknown profile, unknown metric, missing flag, unknown command', () => {
  let r = faros('knn', '--map', map, '--profile', 'bus', '--drivers', goodDrivers, '--queries', goodQueries, '--out', join(dir, 'x'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown profile "bus": expected one of car, motorbike/);
  r = faros('knn', '--map', map, '--metric', 'time', '--drivers', goodDrivers, '--queries', goodQueries, '--out', join(dir, 'x'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--metric must be "distance" or "eta"/);
  r = faros('knn', '--map', map, '--queries', goodQueries, '--out', join(dir, 'x'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing --drivers/);
  r = faros('frobnicate');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});

test('truncated, corrupt, empty and missing map files are refused clearly', () => {
  const pbf = readFileSync(join(root, 'maps/monaco.osm.pbf'));
  const cases: [string, RegExp][] = [
    [file('trunc.osm.pbf', pbf.subarray(0, 100_000)), /corrupt or unreadable PBF/],
    [file('garbage.osm.pbf', Buffer.from('this is not a pbf file at all, sorry')), /corrupt or unreadable PBF/],
    [file('empty.osm.pbf', ''), /map file is empty/],
    [file('cut.osm', '<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="1" lon="2"/>'), /truncated OSM XML/],
    [join(dir, 'missing.osm.pbf'), /not found|ENOENT/],
    [file('map.txt', 'x'), /unknown map format/],
  ];
  for (const [m, message] of cases) {
    const r = faros('build-map', '--map', m, '--out', join(dir, 'out.faros'));
    assert.equal(r.code, 1, `${m}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
