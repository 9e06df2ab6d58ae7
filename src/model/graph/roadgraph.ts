// The compiled road graph: immutable typed arrays over one buffer, so a map
// crosses threads as a SharedArrayBuffer without a copy (the flatbush way).
//
// File / buffer layout (all little-endian):
//
//   0        8        12       16                     16+J        (8-aligned)
//   +--------+--------+--------+----------------------+-----------+----------
//   |FAROSMAP| version| J=len  | JSON header (J bytes)| pad to 8  | arrays...
//   +--------+--------+--------+----------------------+-----------+----------
//
// The JSON header gives every array's byte offset and element count (its type
// is in ARRAYS), plus the map's metadata. Arrays are 8-byte aligned; the
// flatbush index is one of them (its own serialised buffer).
//
// Numbering, which keeps the buffer small (≤ 100 bytes per road vertex on the
// bundled maps, test/map-size.test.ts):
// - vertices: the junctions (endpoints of compressed edges) come first, so
//   the CSRs per vertex stop there: inStart/outStart have junctionCount + 1
//   entries, and fbStart, with the via junctions of forbidden turns first of
//   all, only as many as those + 1. The chain interiors follow, edge by edge.
// - segments: edge by edge, in order along each edge: the segments of edge e
//   are eSegStart[e] .. eSegStart[e+1]-1, and its tail and head are the ends
//   of the first and last of them (tail(), head()).
import Flatbush from 'flatbush';

export const MAGIC = 'FAROSMAP';
/** Bump when the layout or the meaning of any array changes (invalidates caches). */
export const FORMAT_VERSION = 5;
/** Most segments per item of the spatial index. */
export const SPATIAL_RUN = 4;

type ArrayKind = 'f64' | 'u32' | 'i32' | 'u16' | 'u8';
type TypedOf<K extends ArrayKind> = K extends 'f64'
  ? Float64Array
  : K extends 'u32'
    ? Uint32Array
    : K extends 'i32'
      ? Int32Array
      : K extends 'u16'
        ? Uint16Array
        : Uint8Array;
const CTOR = { f64: Float64Array, u32: Uint32Array, i32: Int32Array, u16: Uint16Array, u8: Uint8Array } as const;

/** Every array of the graph, with its element type. Order = layout order. */
export const ARRAYS = {
  // Road vertices (every node of a road; junctions first).
  vLat: 'f64',
  vLng: 'f64',
  // Road ways, sorted by OSM ID.
  wayIds: 'f64',
  // Segments: consecutive node pairs of a road way (numbered edge by edge).
  // segIdx is the index along the way: OSM caps ways at 2,000 nodes, the
  // build refuses an index above 65,535.
  segA: 'u32',
  segB: 'u32',
  segWay: 'u32',
  segIdx: 'u16',
  segLen: 'f64',
  segTime: 'f64',
  // Where each segment lies in its compressed edge.
  segEdge: 'u32',
  segRev: 'u8',
  segOff: 'f64',
  segOffT: 'f64',
  // Compressed edges: chains of segments between junction vertices.
  eLen: 'f64',
  eTime: 'f64',
  eDirs: 'u8',
  // Segments of edge e: eSegStart[e] .. eSegStart[e+1]-1, tail to head.
  eSegStart: 'u32',
  // CSR per junction of the directed edges arriving (in) and leaving (out).
  inStart: 'u32',
  inList: 'u32',
  outStart: 'u32',
  outList: 'u32',
  // Forbidden turns per via junction (the first vertices): (directed edge in,
  // directed edge out).
  fbStart: 'u32',
  fbIn: 'u32',
  fbOut: 'u32',
  // Serialised flatbush over runs of up to SPATIAL_RUN consecutive segments
  // of one edge (Float32 boxes in (lng·kx, lat), rounded outward): item e < E
  // is the first run of edge e, item E + i the run from segment
  // spatialRuns[i] (runStart, runEnd).
  spatial: 'u8',
  spatialRuns: 'u32',
} as const satisfies Record<string, ArrayKind>;

export type ArrayName = keyof typeof ARRAYS;
export type GraphArrays = { [N in ArrayName]: TypedOf<(typeof ARRAYS)[N]> };

export interface GraphMeta {
  profile: string;
  source: string;
  /** Hash of input file + profile + format version. */
  key: string;
  /** Longitude scale of the spatial index (cos of the map's mean latitude). */
  kx: number;
  bounds: { minLat: number; minLng: number; maxLat: number; maxLng: number };
  counts: { vertices: number; junctions: number; ways: number; segments: number; edges: number; restrictions: number; forbiddenTurns: number };
  builtAt: string;
}

interface Header {
  meta: GraphMeta;
  /** Per array: [byte offset, element count]. */
  arrays: Record<string, [number, number]>;
}

/** Directed edge d = 2e (tail → head) or 2e + 1 (head → tail). */
export class RoadGraph implements GraphArrays {
  readonly buffer: ArrayBufferLike;
  readonly meta: GraphMeta;
  readonly index: Flatbush;
  declare vLat: Float64Array;
  declare vLng: Float64Array;
  declare wayIds: Float64Array;
  declare segA: Uint32Array;
  declare segB: Uint32Array;
  declare segWay: Uint32Array;
  declare segIdx: Uint16Array;
  declare segLen: Float64Array;
  declare segTime: Float64Array;
  declare segEdge: Uint32Array;
  declare segRev: Uint8Array;
  declare segOff: Float64Array;
  declare segOffT: Float64Array;
  declare eLen: Float64Array;
  declare eTime: Float64Array;
  declare eDirs: Uint8Array;
  declare eSegStart: Uint32Array;
  declare inStart: Uint32Array;
  declare inList: Uint32Array;
  declare outStart: Uint32Array;
  declare outList: Uint32Array;
  declare fbStart: Uint32Array;
  declare fbIn: Uint32Array;
  declare fbOut: Uint32Array;
  declare spatial: Uint8Array;
  declare spatialRuns: Uint32Array;

  private constructor(buffer: ArrayBufferLike, header: Header) {
    this.buffer = buffer;
    this.meta = header.meta;
    const self = this as unknown as Record<string, unknown>;
    for (const name of Object.keys(ARRAYS) as ArrayName[]) {
      const at = header.arrays[name];
      if (!at) throw new Error(`map file lacks array ${name}`);
      self[name] = new CTOR[ARRAYS[name]](buffer as ArrayBuffer, at[0], at[1]);
    }
    // flatbush's types say ArrayBuffer; it reads SharedArrayBuffers just as well.
    this.index = Flatbush.from(buffer as ArrayBuffer, header.arrays.spatial[0]);
  }

  get vertexCount(): number {
    return this.vLat.length;
  }
  get segmentCount(): number {
    return this.segA.length;
  }
  get edgeCount(): number {
    return this.eSegStart.length - 1;
  }
  /** Junctions: the vertices 0 .. junctionCount-1, the only ones with edges. */
  get junctionCount(): number {
    return this.inStart.length - 1;
  }

  /** First segment of spatial index item i (its run ends at runEnd). */
  runStart(i: number): number {
    const E = this.eSegStart.length - 1;
    return i < E ? this.eSegStart[i] : this.spatialRuns[i - E];
  }
  /** End (exclusive) of the spatial index item that starts at segment s. */
  runEnd(s: number): number {
    return Math.min(s + SPATIAL_RUN, this.eSegStart[this.segEdge[s] + 1]);
  }

  /** Vertex a directed edge starts from. */
  from(d: number): number {
    return (d & 1) === 0 ? this.tail(d >> 1) : this.head(d >> 1);
  }
  /** Vertex a directed edge arrives at. */
  to(d: number): number {
    return (d & 1) === 0 ? this.head(d >> 1) : this.tail(d >> 1);
  }
  /** First vertex of edge e: where its first segment starts in the edge's direction. */
  tail(e: number): number {
    const s = this.eSegStart[e];
    return this.segRev[s] === 0 ? this.segA[s] : this.segB[s];
  }
  /** Last vertex of edge e: where its last segment ends in the edge's direction. */
  head(e: number): number {
    const s = this.eSegStart[e + 1] - 1;
    return this.segRev[s] === 0 ? this.segB[s] : this.segA[s];
  }

  /** Serialise arrays + metadata into one buffer (SharedArrayBuffer if asked). */
  static serialize(arrays: GraphArrays, meta: GraphMeta, shared = false): ArrayBufferLike {
    const names = Object.keys(ARRAYS) as ArrayName[];
    // Offsets depend on the JSON length, which depends on the offsets' digits:
    // lay out after the JSON until the JSON fits (it only grows, so this ends).
    let table: Header['arrays'] = {},
      json = Buffer.alloc(0),
      pos = 0;
    for (let base = 16; ; ) {
      table = {};
      pos = base;
      for (const n of names) {
        table[n] = [pos, arrays[n].length];
        pos = align8(pos + arrays[n].byteLength);
      }
      json = Buffer.from(JSON.stringify({ meta, arrays: table } satisfies Header));
      if (align8(16 + json.length) <= base) break;
      base = align8(16 + json.length);
    }
    const buf = shared ? new SharedArrayBuffer(pos) : new ArrayBuffer(pos);
    const u8 = new Uint8Array(buf);
    u8.set(Buffer.from(MAGIC, 'latin1'), 0);
    const dv = new DataView(buf);
    dv.setUint32(8, FORMAT_VERSION, true);
    dv.setUint32(12, json.length, true);
    u8.set(json, 16);
    for (const n of names) u8.set(new Uint8Array(arrays[n].buffer, arrays[n].byteOffset, arrays[n].byteLength), table[n][0]);
    return buf;
  }

  /** View a serialised graph without copying (the buffer may be shared). */
  static from(buffer: ArrayBufferLike): RoadGraph {
    if (buffer.byteLength < 16) throw new Error('not a Faros map file: too short');
    const u8 = new Uint8Array(buffer);
    if (Buffer.from(u8.subarray(0, 8)).toString('latin1') !== MAGIC) throw new Error('not a Faros map file: bad magic');
    const dv = new DataView(buffer);
    const version = dv.getUint32(8, true);
    if (version !== FORMAT_VERSION)
      throw new Error(`Faros map file has format version ${version}, this build reads ${FORMAT_VERSION}: rebuild it with "faros build-map"`);
    const jlen = dv.getUint32(12, true);
    if (16 + jlen > buffer.byteLength) throw new Error('Faros map file is truncated');
    const header = JSON.parse(Buffer.from(u8.subarray(16, 16 + jlen)).toString('utf8')) as Header;
    for (const [name, at] of Object.entries(header.arrays)) {
      const size = CTOR[ARRAYS[name as ArrayName]].BYTES_PER_ELEMENT;
      if (at[0] + at[1] * size > buffer.byteLength) throw new Error(`Faros map file is truncated (array ${name})`);
    }
    return new RoadGraph(buffer, header);
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
