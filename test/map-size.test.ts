// The compiled map's memory budget (issue 14: at most 100 bytes per road
// vertex for every bundled map) and the layout that keeps it there: junctions
// numbered first, segments numbered edge by edge, a float32 spatial index
// over runs of segments whose boxes contain their segments. Byte counts are
// deterministic: this is not a timing test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCatalog } from '../src/mapbuild/catalog.js';
import { buildGraph, loadMap } from '../src/mapbuild/build.js';
import { loadProfile } from '../src/mapbuild/profile.js';
import type { OsmData } from '../src/mapbuild/osm.js';
import { type RoadGraph, SPATIAL_RUN } from '../src/model/graph/roadgraph.js';

const MAX_BYTES_PER_VERTEX = 100;

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

for (const m of loadCatalog()) {
  test(`${m.id}: at most ${MAX_BYTES_PER_VERTEX} bytes per road vertex, layout as documented`, async () => {
    const g = await loadMap(m.file, m.profile);
    const perVertex = g.buffer.byteLength / g.vertexCount;
    console.log(`${m.id}: ${g.buffer.byteLength} B for ${g.vertexCount} road vertices = ${perVertex.toFixed(1)} B/vertex`);
    assert.ok(perVertex <= MAX_BYTES_PER_VERTEX, `${m.id}: ${perVertex.toFixed(1)} B/vertex > ${MAX_BYTES_PER_VERTEX}`);
    checkLayout(g, m.id);
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
