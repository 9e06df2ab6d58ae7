// Read-only operations over a root handle: get, ordered iteration, prefix and
// range scans. Shared by the writer (ArtArena) and by readers in other threads
// (ArtReader); nothing here writes to the arena or allocates per call, except
// entries(), the convenience generator.

import {
  COUNT_MASK,
  COUNT_SHIFT,
  DEPTH_SHIFT,
  KEY_HI,
  KEY_LO,
  KEYS,
  LEAF_VALUE,
  N16_CHILD,
  N256_CHILD,
  N48_CHILD,
  N4_CHILD,
  ROOT_NODE,
  ROOT_SIZE,
  ROOT_TREE,
  T_LEAF,
  T_N16,
  T_N256,
  T_N4,
  T_N48,
  TYPE_MASK,
  byteAt,
  hiMask,
  keyLE,
  loMask,
} from './nodes.js';
import { H_TREE_BASE, H_TREES } from './header.js';
import { keyHi, keyLo } from './keys.js';

/** Ordered-iteration callback: key halves (unsigned) and the value's word offset. Return false to stop. */
export type EntryCallback = (hi: number, lo: number, valueOffset: number) => boolean | void;
/** scanPrefix32 callback: the low key half (e.g. driver number) and the value's word offset. */
export type Prefix32Callback = (lo: number, valueOffset: number) => void;

export interface ArtEntry {
  hi: number;
  lo: number;
  valueOffset: number;
}

export class ArtView {
  /** The arena; value words are read at valueOffset through i32/u32/f32. */
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
  protected readonly u8: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.u32 = new Uint32Array(sab);
    this.f32 = new Float32Array(sab);
    this.u8 = new Uint8Array(sab);
  }

  /** Number of keys in the tree version of this root. */
  size(root: number): number {
    return this.i32[root + ROOT_SIZE];
  }

  /** Which tree of the arena the root belongs to. */
  treeOf(root: number): number {
    return this.i32[root + ROOT_TREE];
  }

  keyBytes(tree: number): number {
    if (tree < 0 || tree >= this.i32[H_TREES]) throw new RangeError(`ART: no tree ${tree}`);
    return this.i32[H_TREE_BASE + 2 * tree];
  }

  valueWords(tree: number): number {
    if (tree < 0 || tree >= this.i32[H_TREES]) throw new RangeError(`ART: no tree ${tree}`);
    return this.i32[H_TREE_BASE + 2 * tree + 1];
  }

  /** Word offset of the key's value words, or -1 if absent. */
  get(root: number, hi: number, lo: number): number {
    return this.getNode(this.i32[root + ROOT_NODE], hi | 0, lo | 0);
  }

  getBytes(root: number, key: Uint8Array): number {
    return this.get(root, keyHi(key), keyLo(key));
  }

  /** Lookup from a node pointer (the writer's txn uses this on its uncommitted tree). */
  protected getNode(n: number, hi: number, lo: number): number {
    const i32 = this.i32;
    // Optimistic: skip the compressed prefixes, compare the full key at the leaf.
    while (n !== 0) {
      const h = i32[n];
      const t = h & TYPE_MASK;
      if (t === T_LEAF) return i32[n + KEY_HI] === hi && i32[n + KEY_LO] === lo ? n + LEAF_VALUE : -1;
      n = this.child(n, h, t, byteAt(hi, lo, (h >>> DEPTH_SHIFT) & 15));
    }
    return -1;
  }

  protected child(n: number, h: number, t: number, b: number): number {
    const i32 = this.i32;
    const u8 = this.u8;
    if (t === T_N4 || t === T_N16) {
      const count = (h >>> COUNT_SHIFT) & COUNT_MASK;
      const base = (n + KEYS) << 2;
      for (let i = 0; i < count; i++) {
        const k = u8[base + i];
        if (k === b) return i32[n + (t === T_N4 ? N4_CHILD : N16_CHILD) + i];
        if (k > b) return 0; // keys are sorted
      }
      return 0;
    }
    if (t === T_N48) {
      const s = u8[((n + KEYS) << 2) + b];
      return s === 0 ? 0 : i32[n + N48_CHILD + s - 1];
    }
    if (t === T_N256) return i32[n + N256_CHILD + b];
    throw new Error(`ART: corrupt node type ${t} at ${n} (a reader used a root it had not acquired?)`);
  }

  /** Visits every entry in key order; returns the number visited. */
  forEach(root: number, cb: EntryCallback): number {
    this.visited = 0;
    const n = this.i32[root + ROOT_NODE];
    if (n !== 0) this.walk(n, cb);
    return this.visited;
  }

  *entries(root: number): IterableIterator<ArtEntry> {
    const out: ArtEntry[] = [];
    this.forEach(root, (hi, lo, valueOffset) => {
      out.push({ hi, lo, valueOffset });
    });
    yield* out;
  }

  protected visited = 0;

  /** In-order walk; false when the callback stopped it. */
  private walk(n: number, cb: EntryCallback): boolean {
    const i32 = this.i32;
    const h = i32[n];
    const t = h & TYPE_MASK;
    if (t === T_LEAF) {
      this.visited++;
      return cb(i32[n + KEY_HI] >>> 0, i32[n + KEY_LO] >>> 0, n + LEAF_VALUE) !== false;
    }
    if (t === T_N4 || t === T_N16) {
      const count = (h >>> COUNT_SHIFT) & COUNT_MASK;
      const c0 = n + (t === T_N4 ? N4_CHILD : N16_CHILD);
      for (let i = 0; i < count; i++) if (!this.walk(i32[c0 + i], cb)) return false;
      return true;
    }
    if (t === T_N48) {
      const base = (n + KEYS) << 2;
      for (let b = 0; b < 256; b++) {
        const s = this.u8[base + b];
        if (s !== 0 && !this.walk(i32[n + N48_CHILD + s - 1], cb)) return false;
      }
      return true;
    }
    if (t === T_N256) {
      for (let b = 0; b < 256; b++) {
        const c = i32[n + N256_CHILD + b];
        if (c !== 0 && !this.walk(c, cb)) return false;
      }
      return true;
    }
    throw new Error(`ART: corrupt node type ${t} at ${n} (a reader used a root it had not acquired?)`);
  }

  /**
   * Entries with lo <= key <= hi (inclusive, unsigned), in order; keys as
   * (hi, lo) halves. Returns the number visited.
   */
  scanRange(root: number, loHi: number, loLo: number, hiHi: number, hiLo: number, cb: EntryCallback): number {
    this.visited = 0;
    const n = this.i32[root + ROOT_NODE];
    if (n !== 0 && keyLE(loHi, loLo, hiHi, hiLo)) this.range(n, loHi | 0, loLo | 0, hiHi | 0, hiLo | 0, cb);
    return this.visited;
  }

  scanRangeBytes(root: number, lo: Uint8Array, hi: Uint8Array, cb: EntryCallback): number {
    return this.scanRange(root, keyHi(lo), keyLo(lo), keyHi(hi), keyLo(hi), cb);
  }

  /** Entries whose first prefixLen key bytes equal prefix[0..prefixLen). */
  scanPrefix(root: number, prefix: Uint8Array, prefixLen: number, cb: EntryCallback): number {
    const width = this.keyBytes(this.treeOf(root));
    if (prefixLen > width || prefixLen > prefix.length) {
      throw new RangeError(`ART: prefix of ${prefixLen} bytes, keys have ${width}`);
    }
    let pHi = 0;
    let pLo = 0;
    for (let i = 0; i < prefixLen; i++) {
      if (i < 4) pHi |= prefix[i] << (24 - 8 * i);
      else pLo |= prefix[i] << (56 - 8 * i);
    }
    // Highest key with the prefix: prefix then 0xff up to the key width.
    const wHi = hiMask(width);
    const wLo = loMask(width);
    const maxHi = pHi | (~hiMask(prefixLen) & wHi);
    const maxLo = pLo | (~loMask(prefixLen) & wLo);
    return this.scanRange(root, pHi, pLo, maxHi, maxLo, cb);
  }

  private range(n: number, loHi: number, loLo: number, hiHi: number, hiLo: number, cb: EntryCallback): boolean {
    const i32 = this.i32;
    const h = i32[n];
    const t = h & TYPE_MASK;
    if (t === T_LEAF) {
      const kh = i32[n + KEY_HI];
      const kl = i32[n + KEY_LO];
      if (keyLE(loHi, loLo, kh, kl) && keyLE(kh, kl, hiHi, hiLo)) {
        this.visited++;
        return cb(kh >>> 0, kl >>> 0, n + LEAF_VALUE) !== false;
      }
      return true;
    }
    const d = (h >>> DEPTH_SHIFT) & 15;
    const mh = hiMask(d);
    const ml = loMask(d);
    // Smallest and largest key of this subtree: the template's top d bytes, then 00.. / ff...
    const minHi = i32[n + KEY_HI] & mh;
    const minLo = i32[n + KEY_LO] & ml;
    const maxHi = minHi | ~mh;
    const maxLo = minLo | ~ml;
    if (!keyLE(loHi, loLo, maxHi, maxLo) || !keyLE(minHi, minLo, hiHi, hiLo)) return true;
    if (keyLE(loHi, loLo, minHi, minLo) && keyLE(maxHi, maxLo, hiHi, hiLo)) return this.walk(n, cb);
    // Partial overlap: only the bounds' own byte at depth d limits the children.
    const from = (loHi & mh) === minHi && (loLo & ml) === minLo ? byteAt(loHi, loLo, d) : 0;
    const to = (hiHi & mh) === minHi && (hiLo & ml) === minLo ? byteAt(hiHi, hiLo, d) : 255;
    if (t === T_N4 || t === T_N16) {
      const count = (h >>> COUNT_SHIFT) & COUNT_MASK;
      const base = (n + KEYS) << 2;
      const c0 = n + (t === T_N4 ? N4_CHILD : N16_CHILD);
      for (let i = 0; i < count; i++) {
        const k = this.u8[base + i];
        if (k < from) continue;
        if (k > to) break;
        if (!this.range(i32[c0 + i], loHi, loLo, hiHi, hiLo, cb)) return false;
      }
      return true;
    }
    if (t === T_N48) {
      const base = (n + KEYS) << 2;
      for (let b = from; b <= to; b++) {
        const s = this.u8[base + b];
        if (s !== 0 && !this.range(i32[n + N48_CHILD + s - 1], loHi, loLo, hiHi, hiLo, cb)) return false;
      }
      return true;
    }
    if (t === T_N256) {
      for (let b = from; b <= to; b++) {
        const c = i32[n + N256_CHILD + b];
        if (c !== 0 && !this.range(c, loHi, loLo, hiHi, hiLo, cb)) return false;
      }
      return true;
    }
    throw new Error(`ART: corrupt node type ${t} at ${n}`);
  }

  /**
   * Fast path for "every entry whose first 4 key bytes equal x" (all drivers on
   * an edge in the edge tree): one descent, then a walk of the subtree calling
   * cb(lo, valueOffset). No allocation. Returns the number of entries.
   */
  scanPrefix32(root: number, x: number, cb: Prefix32Callback): number {
    const i32 = this.i32;
    x |= 0;
    let n = i32[root + ROOT_NODE];
    while (n !== 0) {
      const h = i32[n];
      const t = h & TYPE_MASK;
      if (t === T_LEAF) {
        if (i32[n + KEY_HI] !== x) return 0;
        cb(i32[n + KEY_LO] >>> 0, n + LEAF_VALUE);
        return 1;
      }
      const d = (h >>> DEPTH_SHIFT) & 15;
      // Prefixes were skipped on the way down; the template's hi half checks them all.
      if (d >= 4) return i32[n + KEY_HI] === x ? this.walk32(n, cb) : 0;
      n = this.child(n, h, t, (x >>> (24 - 8 * d)) & 255);
    }
    return 0;
  }

  /** Like scanPrefix32, but writes (lo, valueOffset) pairs into out; returns the pair count (capped by out). */
  collectPrefix32(root: number, x: number, out: Int32Array): number {
    this.out = out;
    this.outN = 0;
    this.scanPrefix32(root, x, this.collectCb);
    this.out = EMPTY;
    return this.outN;
  }

  private out: Int32Array = EMPTY;
  private outN = 0;
  private readonly collectCb: Prefix32Callback = (lo, valueOffset) => {
    const i = this.outN << 1;
    if (i + 1 < this.out.length) {
      this.out[i] = lo;
      this.out[i + 1] = valueOffset;
      this.outN++;
    }
  };

  private walk32(n: number, cb: Prefix32Callback): number {
    const i32 = this.i32;
    const h = i32[n];
    const t = h & TYPE_MASK;
    if (t === T_LEAF) {
      cb(i32[n + KEY_LO] >>> 0, n + LEAF_VALUE);
      return 1;
    }
    let c = 0;
    if (t === T_N4 || t === T_N16) {
      const count = (h >>> COUNT_SHIFT) & COUNT_MASK;
      const c0 = n + (t === T_N4 ? N4_CHILD : N16_CHILD);
      for (let i = 0; i < count; i++) c += this.walk32(i32[c0 + i], cb);
    } else if (t === T_N48) {
      const base = (n + KEYS) << 2;
      for (let b = 0; b < 256; b++) {
        const s = this.u8[base + b];
        if (s !== 0) c += this.walk32(i32[n + N48_CHILD + s - 1], cb);
      }
    } else if (t === T_N256) {
      for (let b = 0; b < 256; b++) {
        const ch = i32[n + N256_CHILD + b];
        if (ch !== 0) c += this.walk32(ch, cb);
      }
    } else {
      throw new Error(`ART: corrupt node type ${t} at ${n}`);
    }
    return c;
  }
}

const EMPTY = new Int32Array(0);
