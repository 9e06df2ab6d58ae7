// Writes a CityModel as OSM PBF: an OSMHeader blob, then OSMData blobs of at
// most 8000 entities (DenseNodes, then ways, then relations), each
// zlib-compressed, granularity 100 (1e-7°), lat/lon offsets 0. Streams to the
// file descriptor block by block; nothing bigger than one block is held.
//
//   file  = { int32 BE len(BlobHeader) | BlobHeader{type, datasize} | Blob{raw_size, zlib_data} }*
import { writeSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { ProtoWriter } from './protowire.js';
import type { CityModel, TagList } from './model.js';

export const BLOCK_ENTITIES = 8000;
const MEMBER_TYPE = { node: 0, way: 1, relation: 2 } as const;

/** Per-block string table; index 0 is the empty string by convention. */
class Strings {
  private readonly index = new Map<string, number>([['', 0]]);
  private readonly list: string[] = [''];
  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.index.set(s, i);
      this.list.push(s);
    }
    return i;
  }
  encode(): ProtoWriter {
    const w = new ProtoWriter(this.list.length * 12 + 16);
    for (const s of this.list) w.stringField(1, s);
    return w;
  }
}

function writeBlob(fd: number, type: 'OSMHeader' | 'OSMData', payload: Uint8Array, level: number): number {
  const blob = new ProtoWriter(payload.length / 2 + 64).uintField(2, payload.length).bytesField(3, deflateSync(payload, { level })).finish();
  const header = new ProtoWriter(32).stringField(1, type).uintField(3, blob.length).finish();
  const len = Buffer.alloc(4);
  len.writeInt32BE(header.length, 0);
  writeSync(fd, len);
  writeSync(fd, header);
  writeSync(fd, blob);
  return 4 + header.length + blob.length;
}

function primitiveBlock(strings: Strings, group: ProtoWriter): Uint8Array {
  return new ProtoWriter(1 << 16)
    .messageField(1, strings.encode())
    .messageField(2, group)
    .uintField(17, 100) // granularity
    .uintField(18, 1000) // date_granularity
    .finish();
}

function keysVals(strings: Strings, tags: TagList, keys: number[], vals: number[]): void {
  keys.length = 0;
  vals.length = 0;
  for (let i = 0; i < tags.length; i += 2) {
    keys.push(strings.id(tags[i]!));
    vals.push(strings.id(tags[i + 1]!));
  }
}

export type WriteProgress = (stage: 'nodes' | 'ways' | 'relations', done: number, total: number) => void;

/** Writes the whole model; returns the number of bytes written. */
export function writePbf(fd: number, m: CityModel, progress?: WriteProgress, level = 6): number {
  let bytes = 0;
  let minLat = Infinity,
    maxLat = -Infinity,
    minLon = Infinity,
    maxLon = -Infinity;
  for (let i = 0; i < m.nodeCount; i++) {
    const la = m.lat[i]!,
      lo = m.lon[i]!;
    if (la < minLat) minLat = la;
    if (la > maxLat) maxLat = la;
    if (lo < minLon) minLon = lo;
    if (lo > maxLon) maxLon = lo;
  }
  const bbox = new ProtoWriter(64) // nanodegrees
    .sintField(1, minLon * 100)
    .sintField(2, maxLon * 100)
    .sintField(3, maxLat * 100)
    .sintField(4, minLat * 100);
  const header = new ProtoWriter(256).messageField(1, bbox).stringField(4, 'OsmSchema-V0.6').stringField(4, 'DenseNodes').stringField(16, 'faros bench/synth');
  bytes += writeBlob(fd, 'OSMHeader', header.finish(), level);

  const ids = new Float64Array(BLOCK_ENTITIES);
  const kv: number[] = [];
  const keys: number[] = [],
    vals: number[] = [];
  for (let start = 0; start < m.nodeCount; start += BLOCK_ENTITIES) {
    const end = Math.min(m.nodeCount, start + BLOCK_ENTITIES);
    const strings = new Strings();
    let tagged = false;
    for (let i = start; i < end; i++) ids[i - start] = m.nodeIdBase + i;
    kv.length = 0;
    for (let i = start; i < end; i++) {
      const t = m.nodeTags.get(i);
      if (t !== undefined) {
        tagged = true;
        keysVals(strings, t, keys, vals);
        for (let k = 0; k < keys.length; k++) kv.push(keys[k]!, vals[k]!);
      }
      kv.push(0);
    }
    const dense = new ProtoWriter((end - start) * 12 + 64)
      .packedDeltaSint(1, ids, 0, end - start)
      .packedDeltaSint(8, m.lat, start, end)
      .packedDeltaSint(9, m.lon, start, end);
    // WATCH OUT: keys_vals is all-or-nothing per block (one 0 per node), so it
    // is left out when no node of the block has tags.
    if (tagged) dense.packedUint(10, kv);
    bytes += writeBlob(fd, 'OSMData', primitiveBlock(strings, new ProtoWriter(16).messageField(2, dense)), level);
    progress?.('nodes', end, m.nodeCount);
  }

  let refBuf = new Float64Array(1024);
  for (let start = 0; start < m.wayCount; start += BLOCK_ENTITIES) {
    const end = Math.min(m.wayCount, start + BLOCK_ENTITIES);
    const strings = new Strings();
    const group = new ProtoWriter(1 << 16);
    for (let w = start; w < end; w++) {
      keysVals(strings, m.wayTags[w]!, keys, vals);
      const from = m.wayOffsets[w]!,
        to = m.wayOffsets[w + 1]!;
      if (refBuf.length < to - from) refBuf = new Float64Array((to - from) * 2);
      for (let i = from; i < to; i++) refBuf[i - from] = m.nodeIdBase + m.wayRefs[i]!;
      const way = new ProtoWriter((to - from) * 4 + 64)
        .uintField(1, m.wayIdBase + w)
        .packedUint(2, keys)
        .packedUint(3, vals)
        .packedDeltaSint(8, refBuf, 0, to - from);
      group.messageField(3, way);
    }
    bytes += writeBlob(fd, 'OSMData', primitiveBlock(strings, group), level);
    progress?.('ways', end, m.wayCount);
  }

  const roles: number[] = [],
    memids: number[] = [],
    types: number[] = [];
  for (let start = 0; start < m.relations.length; start += BLOCK_ENTITIES) {
    const end = Math.min(m.relations.length, start + BLOCK_ENTITIES);
    const strings = new Strings();
    const group = new ProtoWriter(1 << 16);
    for (let r = start; r < end; r++) {
      const rel = m.relations[r]!;
      keysVals(strings, rel.tags, keys, vals);
      roles.length = 0;
      memids.length = 0;
      types.length = 0;
      for (const mb of rel.members) {
        roles.push(strings.id(mb.role));
        memids.push(mb.ref);
        types.push(MEMBER_TYPE[mb.type]);
      }
      const relation = new ProtoWriter(128)
        .uintField(1, m.relationIdBase + r)
        .packedUint(2, keys)
        .packedUint(3, vals)
        .packedUint(8, roles)
        .packedDeltaSint(9, memids)
        .packedUint(10, types);
      group.messageField(4, relation);
    }
    bytes += writeBlob(fd, 'OSMData', primitiveBlock(strings, group), level);
    progress?.('relations', end, m.relations.length);
  }
  return bytes;
}
