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
// The JSON header names every array with its type, byte offset and length,
// plus the map's metadata. Arrays are 8-byte aligned; the flatbush index is
// one of them (its own serialised buffer).
import Flatbush from 'flatbush';

export const MAGIC = 'FAROSMAP';
/** Bump when the layout or the meaning of any array changes (invalidates caches). */
export const FORMAT_VERSION = 4;

type ArrayKind = 'f64' | 'u32' | 'i32' | 'u8';
type TypedOf<K extends ArrayKind> = K extends 'f64' ? Float64Array : K extends 'u32' ? Uint32Array : K extends 'i32' ? Int32Array : Uint8Array;
const CTOR = { f64: Float64Array, u32: Uint32Array, i32: Int32Array, u8: Uint8Array } as const;

/** Every array of the graph, with its element type. Order = layout order. */
export const ARRAYS = {
  // Road vertices (every node of a road; junctions are a subset).
  vLat: 'f64',
  vLng: 'f64',
  // Road ways, sorted by OSM ID.
  wayIds: 'f64',
  // Segments: consecutive node pairs of a road way.
  segA: 'u32',
  segB: 'u32',
  segWay: 'u32',
  segIdx: 'u32',
  segLen: 'f64',
  segTime: 'f64',
  segDirs: 'u8',
  // Where each segment lies in its compressed edge.
  segEdge: 'u32',
  segRev: 'u8',
  segOff: 'f64',
  segOffT: 'f64',
  // Compressed edges: chains of segments between junction vertices.
  eTail: 'u32',
  eHead: 'u32',
  eLen: 'f64',
  eTime: 'f64',
  eDirs: 'u8',
  eSegStart: 'u32',
  eSegs: 'u32',
  // CSR per vertex of the directed edges arriving (in) and leaving (out).
  inStart: 'u32',
  inList: 'u32',
  outStart: 'u32',
  outList: 'u32',
  // Forbidden turns per via vertex: (directed edge in, directed edge out).
  fbStart: 'u32',
  fbIn: 'u32',
  fbOut: 'u32',
  // Serialised flatbush over segment boxes in (lng·kx, lat).
  spatial: 'u8',
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
  arrays: Record<string, { offset: number; length: number }>;
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
  declare segIdx: Uint32Array;
  declare segLen: Float64Array;
  declare segTime: Float64Array;
  declare segDirs: Uint8Array;
  declare segEdge: Uint32Array;
  declare segRev: Uint8Array;
  declare segOff: Float64Array;
  declare segOffT: Float64Array;
  declare eTail: Uint32Array;
  declare eHead: Uint32Array;
  declare eLen: Float64Array;
  declare eTime: Float64Array;
  declare eDirs: Uint8Array;
  declare eSegStart: Uint32Array;
  declare eSegs: Uint32Array;
  declare inStart: Uint32Array;
  declare inList: Uint32Array;
  declare outStart: Uint32Array;
  declare outList: Uint32Array;
  declare fbStart: Uint32Array;
  declare fbIn: Uint32Array;
  declare fbOut: Uint32Array;
  declare spatial: Uint8Array;

  private constructor(buffer: ArrayBufferLike, header: Header) {
    this.buffer = buffer;
    this.meta = header.meta;
    const self = this as unknown as Record<string, unknown>;
    for (const name of Object.keys(ARRAYS) as ArrayName[]) {
      const at = header.arrays[name];
      if (!at) throw new Error(`map file lacks array ${name}`);
      self[name] = new CTOR[ARRAYS[name]](buffer as ArrayBuffer, at.offset, at.length);
    }
    // flatbush's types say ArrayBuffer; it reads SharedArrayBuffers just as well.
    this.index = Flatbush.from(buffer as ArrayBuffer, header.arrays.spatial.offset);
  }

  get vertexCount(): number {
    return this.vLat.length;
  }
  get segmentCount(): number {
    return this.segA.length;
  }
  get edgeCount(): number {
    return this.eTail.length;
  }

  /** Vertex a directed edge starts from. */
  from(d: number): number {
    return (d & 1) === 0 ? this.eTail[d >> 1] : this.eHead[d >> 1];
  }
  /** Vertex a directed edge arrives at. */
  to(d: number): number {
    return (d & 1) === 0 ? this.eHead[d >> 1] : this.eTail[d >> 1];
  }

  /** Serialise arrays + metadata into one buffer (SharedArrayBuffer if asked). */
  static serialize(arrays: GraphArrays, meta: GraphMeta, shared = false): ArrayBufferLike {
    const names = Object.keys(ARRAYS) as ArrayName[];
    const table: Header['arrays'] = {};
    // Offsets depend on the JSON length, which depends on the offsets' digits:
    // reserve generous room for the JSON and pad.
    const draft = JSON.stringify({ meta, arrays: Object.fromEntries(names.map((n) => [n, { offset: 1e12, length: 1e12 }])) });
    let pos = align8(16 + Buffer.byteLength(draft) + 64);
    for (const n of names) {
      table[n] = { offset: pos, length: arrays[n].length };
      pos = align8(pos + arrays[n].byteLength);
    }
    const json = Buffer.from(JSON.stringify({ meta, arrays: table } satisfies Header));
    const buf = shared ? new SharedArrayBuffer(pos) : new ArrayBuffer(pos);
    const u8 = new Uint8Array(buf);
    u8.set(Buffer.from(MAGIC, 'latin1'), 0);
    const dv = new DataView(buf);
    dv.setUint32(8, FORMAT_VERSION, true);
    dv.setUint32(12, json.length, true);
    u8.set(json, 16);
    for (const n of names) u8.set(new Uint8Array(arrays[n].buffer, arrays[n].byteOffset, arrays[n].byteLength), table[n].offset);
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
      if (at.offset + at.length * size > buffer.byteLength) throw new Error(`Faros map file is truncated (array ${name})`);
    }
    return new RoadGraph(buffer, header);
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
