// The in-memory city before it is written: compact typed arrays, so a
// million-vertex city costs tens of MB and the writers can stream it out.

/** Tags as a flat list: [k0, v0, k1, v1, ...]; order is the write order. */
export type TagList = string[];

export interface Member {
  type: 'node' | 'way' | 'relation' /** OSM ID. */;
  ref: number;
  role: string;
}
export interface Relation {
  tags: TagList;
  members: Member[];
}

export interface CityModel {
  /** OSM ID of node index i is nodeIdBase + i (IDs ascending, as in real extracts). */
  nodeIdBase: number;
  nodeCount: number;
  /** Coordinates in 1e-7 degrees: exactly what PBF granularity 100 stores. */
  lat: Int32Array;
  lon: Int32Array;
  /** Tagged nodes only (signals, crossings, POIs). */
  nodeTags: Map<number, TagList>;
  /** OSM ID of way index w is wayIdBase + w. */
  wayIdBase: number;
  wayCount: number;
  /** Refs of way w (node indices) are wayRefs[wayOffsets[w] .. wayOffsets[w + 1]). */
  wayOffsets: Int32Array;
  wayRefs: Int32Array;
  wayTags: TagList[];
  relationIdBase: number;
  relations: Relation[];
}

/** Growable Int32Array. */
export class IntList {
  private a: Int32Array;
  length = 0;
  constructor(initial = 1024) {
    this.a = new Int32Array(initial);
  }
  push(v: number): void {
    if (this.length === this.a.length) {
      const n = new Int32Array(this.a.length * 2);
      n.set(this.a);
      this.a = n;
    }
    this.a[this.length++] = v;
  }
  get(i: number): number {
    return this.a[i]!;
  }
  /** A trimmed copy; the list stays usable. */
  toArray(): Int32Array {
    return this.a.slice(0, this.length);
  }
}

export function tagObject(tags: TagList): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < tags.length; i += 2) o[tags[i]!] = tags[i + 1]!;
  return o;
}
