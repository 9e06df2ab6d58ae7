// Copy-on-write writes: a txn starts from the published root, copies each
// published record on the path it changes (retiring the original), and writes
// in place into records it created itself (the arena's wbits bitmap), so a
// batch of 1000 inserts copies each shared node once, not 1000 times — the
// role of go-immutable-radix's txn-local writable cache. commit() publishes.

/** What a tree needs of its arena (ArtArena implements it). */
export interface TreeArena {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly wbits: Uint32Array;
  rootOf(tree: number): number;
  alloc(words: number): number;
  free(offset: number): void;
  commitAll(txns: ArtTxn[]): number[];
}
import type { RetireQueue } from './epoch.js';
import {
  COUNT_MASK,
  COUNT_SHIFT,
  DEPTH_SHIFT,
  KEY_HI,
  KEY_LO,
  KEYS,
  LEAF_VALUE,
  N16_CHILD,
  N16_WORDS,
  N256_CHILD,
  N256_WORDS,
  N48_CHILD,
  N48_WORDS,
  N4_CHILD,
  N4_WORDS,
  ROOT_NODE,
  ROOT_SIZE,
  T_LEAF,
  T_N16,
  T_N256,
  T_N4,
  T_N48,
  TYPE_MASK,
  byteAt,
  diffByte,
  header,
  hiMask,
  leafWords,
  loMask,
  recordWords,
} from './nodes.js';
import { keyHi, keyLo } from './keys.js';

export interface TreeOptions {
  /** Key width in bytes, 1..8 (driver tree 4, edge tree 8). */
  keyBytes: number;
  /** 32-bit value words per leaf (u32/f32 payload), 0..64. */
  valueWords: number;
}

export class ArtTree {
  private open: ArtTxn | null = null;
  /** @internal Scratch lists handed from txn to txn (one open at a time), so a txn allocates nothing. */
  scratchAllocs: Int32Array = new Int32Array(1024);
  /** @internal */
  scratchRetired: Int32Array = new Int32Array(1024);

  constructor(
    readonly arena: TreeArena,
    readonly id: number,
    readonly keyBytes: number,
    readonly valueWords: number,
  ) {}

  /** The published root handle. */
  get root(): number {
    return this.arena.rootOf(this.id);
  }

  /** Starts a write txn on the published root. One open txn per tree. */
  txn(): ArtTxn {
    if (this.open !== null) throw new Error(`ART: tree ${this.id} already has an open txn; commit() or abort() it first`);
    this.open = new ArtTxn(this, this.arena, this.root);
    return this.open;
  }

  /** @internal */
  closed(t: ArtTxn): void {
    if (this.open === t) this.open = null;
  }
}

export class ArtTxn {
  readonly tree: ArtTree;
  /** Keys in the txn's (uncommitted) tree. */
  size: number;
  private readonly arena: TreeArena;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly wbits: Uint32Array;
  private readonly leafW: number;
  private readonly badHi: number;
  private readonly badLo: number;
  private node: number;
  private isOpen = true;
  private allocs: Int32Array;
  private nAllocs = 0;
  private retired: Int32Array;
  private nRetired = 0;
  private outVal = 0;
  private found = false;

  constructor(tree: ArtTree, arena: TreeArena, root: number) {
    this.tree = tree;
    this.arena = arena;
    this.i32 = arena.i32;
    this.u8 = new Uint8Array(arena.sab);
    this.wbits = arena.wbits;
    this.leafW = leafWords(tree.valueWords);
    this.badHi = ~hiMask(tree.keyBytes);
    this.badLo = ~loMask(tree.keyBytes);
    this.node = this.i32[root + ROOT_NODE];
    this.size = this.i32[root + ROOT_SIZE];
    this.allocs = tree.scratchAllocs;
    this.retired = tree.scratchRetired;
  }

  /**
   * Inserts or overwrites key (hi, lo); returns the word offset of its value
   * words, writable until commit (arena.i32/u32/f32[offset + i]). A new key's
   * words start at 0; an overwritten key keeps its old words unless `words` is given.
   */
  insert(hi: number, lo: number, words?: ArrayLike<number>): number {
    this.check(hi, lo);
    this.node = this.ins(this.node, hi | 0, lo | 0);
    const v = this.outVal;
    if (words !== undefined) {
      const n = Math.min(words.length, this.tree.valueWords);
      for (let i = 0; i < n; i++) this.i32[v + i] = words[i];
    }
    return v;
  }

  insertBytes(key: Uint8Array, words?: ArrayLike<number>): number {
    return this.insert(keyHi(key), keyLo(key), words);
  }

  /** Deletes key (hi, lo); returns whether it was present. */
  delete(hi: number, lo: number): boolean {
    this.check(hi, lo);
    this.found = false;
    if (this.node !== 0) this.node = this.del(this.node, hi | 0, lo | 0);
    return this.found;
  }

  deleteBytes(key: Uint8Array): boolean {
    return this.delete(keyHi(key), keyLo(key));
  }

  /** Reads the txn's own uncommitted tree: value offset or -1. */
  get(hi: number, lo: number): number {
    let n = this.node;
    hi |= 0;
    lo |= 0;
    const i32 = this.i32;
    while (n !== 0) {
      const h = i32[n];
      const t = h & TYPE_MASK;
      if (t === T_LEAF) return i32[n + KEY_HI] === hi && i32[n + KEY_LO] === lo ? n + LEAF_VALUE : -1;
      const s = this.slot(n, h, t, byteAt(hi, lo, (h >>> DEPTH_SHIFT) & 15));
      n = s < 0 ? 0 : i32[s];
    }
    return -1;
  }

  /** Publishes the txn; returns the new root (the old root stays valid while a reader pins it). */
  commit(): number {
    return this.arena.commitAll([this])[0];
  }

  /** Drops the txn: frees what it created, the published root is untouched. */
  abort(): void {
    if (!this.isOpen) return;
    for (let i = 0; i < this.nAllocs; i++) {
      const off = this.allocs[i];
      if (this.writable(off)) this.arena.free(off);
    }
    this.close();
  }

  /**
   * @internal Called by ArtArena.commitAll: hands replaced records to the
   * retire queue and ends in-place writes. Returns the new top node, or -1 if
   * the txn wrote nothing.
   */
  finish(queue: RetireQueue): number {
    if (!this.isOpen) throw new Error('ART: txn already committed or aborted');
    const wrote = this.nAllocs > 0 || this.nRetired > 0;
    for (let i = 0; i < this.nAllocs; i++) {
      const off = this.allocs[i];
      this.wbits[off >>> 6] &= ~(1 << ((off >>> 1) & 31));
    }
    queue.pushAll(this.retired, this.nRetired);
    const node = this.node;
    this.close();
    return wrote ? node : -1;
  }

  private close(): void {
    this.tree.scratchAllocs = this.allocs;
    this.tree.scratchRetired = this.retired;
    this.isOpen = false;
    this.nAllocs = 0;
    this.nRetired = 0;
    this.tree.closed(this);
  }

  private check(hi: number, lo: number): void {
    if (!this.isOpen) throw new Error('ART: txn already committed or aborted; start a new one with tree.txn()');
    if (((hi & this.badHi) | (lo & this.badLo)) !== 0) {
      throw new RangeError(`ART: key (${hi >>> 0}, ${lo >>> 0}) has bytes beyond the tree's ${this.tree.keyBytes}-byte width`);
    }
  }

  // ---- allocation bookkeeping ----

  private writable(off: number): boolean {
    return ((this.wbits[off >>> 6] >>> ((off >>> 1) & 31)) & 1) !== 0;
  }

  private alloc(words: number): number {
    const off = this.arena.alloc(words);
    this.wbits[off >>> 6] |= 1 << ((off >>> 1) & 31);
    if (this.nAllocs === this.allocs.length) this.allocs = grow(this.allocs);
    this.allocs[this.nAllocs++] = off;
    return off;
  }

  /** A record leaves the txn's tree: free now if only this txn ever saw it, else retire. */
  private dispose(off: number): void {
    if (this.writable(off)) {
      this.arena.free(off);
      return;
    }
    if (this.nRetired === this.retired.length) this.retired = grow(this.retired);
    this.retired[this.nRetired++] = off;
  }

  /** Writable version of a record: itself if created by this txn, else a copy (the original retires). */
  private own(n: number): number {
    if (this.writable(n)) return n;
    const words = recordWords(this.i32[n]);
    const c = this.alloc(words);
    this.i32.copyWithin(c, n, n + words);
    this.dispose(n);
    return c;
  }

  private newLeaf(hi: number, lo: number): number {
    const i32 = this.i32;
    const l = this.alloc(this.leafW);
    i32[l] = header(T_LEAF, this.leafW, 0);
    i32[l + KEY_HI] = hi;
    i32[l + KEY_LO] = lo;
    i32.fill(0, l + LEAF_VALUE, l + this.leafW);
    this.size++;
    this.outVal = l + LEAF_VALUE;
    return l;
  }

  /** Node4 at depth d over two subtrees that differ at byte d. */
  private newPair(d: number, hi: number, lo: number, b1: number, c1: number, b2: number, c2: number): number {
    const i32 = this.i32;
    const n = this.alloc(N4_WORDS);
    i32[n] = header(T_N4, 2, d);
    i32[n + KEY_HI] = hi;
    i32[n + KEY_LO] = lo;
    const k = (n + KEYS) << 2;
    if (b1 < b2) {
      this.u8[k] = b1;
      this.u8[k + 1] = b2;
      i32[n + N4_CHILD] = c1;
      i32[n + N4_CHILD + 1] = c2;
    } else {
      this.u8[k] = b2;
      this.u8[k + 1] = b1;
      i32[n + N4_CHILD] = c2;
      i32[n + N4_CHILD + 1] = c1;
    }
    return n;
  }

  /** Word index of the child pointer for byte b, or -1. */
  private slot(n: number, h: number, t: number, b: number): number {
    if (t === T_N4 || t === T_N16) {
      const count = (h >>> COUNT_SHIFT) & COUNT_MASK;
      const base = (n + KEYS) << 2;
      const u8 = this.u8;
      for (let i = 0; i < count; i++) {
        const k = u8[base + i];
        if (k === b) return n + (t === T_N4 ? N4_CHILD : N16_CHILD) + i;
        if (k > b) return -1;
      }
      return -1;
    }
    if (t === T_N48) {
      const s = this.u8[((n + KEYS) << 2) + b];
      return s === 0 ? -1 : n + N48_CHILD + s - 1;
    }
    return this.i32[n + N256_CHILD + b] === 0 ? -1 : n + N256_CHILD + b;
  }

  // ---- insert ----

  private ins(n: number, hi: number, lo: number): number {
    if (n === 0) return this.newLeaf(hi, lo);
    const i32 = this.i32;
    const h = i32[n];
    const t = h & TYPE_MASK;
    const thi = i32[n + KEY_HI];
    const tlo = i32[n + KEY_LO];
    if (t === T_LEAF) {
      if (thi === hi && tlo === lo) {
        const m = this.own(n);
        this.outVal = m + LEAF_VALUE;
        return m;
      }
      // Lazy expansion: two leaves meet; branch where their keys first differ.
      const d = diffByte(hi, lo, thi, tlo);
      const leaf = this.newLeaf(hi, lo);
      return this.newPair(d, hi, lo, byteAt(hi, lo, d), leaf, byteAt(thi, tlo, d), n);
    }
    const depth = (h >>> DEPTH_SHIFT) & 15;
    const d = diffByte(hi, lo, thi, tlo);
    if (d < depth) {
      // The key leaves this node's compressed prefix at byte d: split above it. n itself is unchanged.
      const leaf = this.newLeaf(hi, lo);
      return this.newPair(d, hi, lo, byteAt(hi, lo, d), leaf, byteAt(thi, tlo, d), n);
    }
    const b = byteAt(hi, lo, depth);
    const s = this.slot(n, h, t, b);
    if (s >= 0) {
      const c = i32[s];
      const nc = this.ins(c, hi, lo);
      if (nc === c) return n;
      if (this.writable(n)) {
        i32[s] = nc;
        return n;
      }
      const m = this.own(n);
      i32[m + (s - n)] = nc;
      return m;
    }
    return this.addChild(n, h, t, b, this.newLeaf(hi, lo));
  }

  private addChild(n: number, h: number, t: number, b: number, child: number): number {
    const i32 = this.i32;
    const u8 = this.u8;
    const count = (h >>> COUNT_SHIFT) & COUNT_MASK;
    const depth = (h >>> DEPTH_SHIFT) & 15;
    if (t === T_N4 || t === T_N16) {
      if (count < (t === T_N4 ? 4 : 16)) {
        const m = this.own(n);
        this.insertSorted(m, t, count, b, child);
        i32[m] = header(t, count + 1, depth);
        return m;
      }
      if (t === T_N4) {
        const g = this.alloc(N16_WORDS);
        i32[g] = header(T_N16, 5, depth);
        i32[g + KEY_HI] = i32[n + KEY_HI];
        i32[g + KEY_LO] = i32[n + KEY_LO];
        i32[g + KEYS] = i32[n + KEYS];
        i32.copyWithin(g + N16_CHILD, n + N4_CHILD, n + N4_CHILD + 4);
        this.insertSorted(g, T_N16, 4, b, child);
        this.dispose(n);
        return g;
      }
      const g = this.alloc(N48_WORDS);
      i32.fill(0, g + KEYS, g + N48_WORDS);
      i32[g] = header(T_N48, 17, depth);
      i32[g + KEY_HI] = i32[n + KEY_HI];
      i32[g + KEY_LO] = i32[n + KEY_LO];
      const src = (n + KEYS) << 2;
      const idx = (g + KEYS) << 2;
      for (let i = 0; i < 16; i++) {
        u8[idx + u8[src + i]] = i + 1;
        i32[g + N48_CHILD + i] = i32[n + N16_CHILD + i];
      }
      u8[idx + b] = 17;
      i32[g + N48_CHILD + 16] = child;
      this.dispose(n);
      return g;
    }
    if (t === T_N48) {
      if (count < 48) {
        const m = this.own(n);
        let s = 0;
        while (i32[m + N48_CHILD + s] !== 0) s++;
        u8[((m + KEYS) << 2) + b] = s + 1;
        i32[m + N48_CHILD + s] = child;
        i32[m] = header(T_N48, count + 1, depth);
        return m;
      }
      const g = this.alloc(N256_WORDS);
      i32.fill(0, g + N256_CHILD, g + N256_WORDS);
      i32[g] = header(T_N256, 49, depth);
      i32[g + KEY_HI] = i32[n + KEY_HI];
      i32[g + KEY_LO] = i32[n + KEY_LO];
      const idx = (n + KEYS) << 2;
      for (let k = 0; k < 256; k++) {
        const s = u8[idx + k];
        if (s !== 0) i32[g + N256_CHILD + k] = i32[n + N48_CHILD + s - 1];
      }
      i32[g + N256_CHILD + b] = child;
      this.dispose(n);
      return g;
    }
    const m = this.own(n);
    i32[m + N256_CHILD + b] = child;
    i32[m] = header(T_N256, count + 1, depth);
    return m;
  }

  private insertSorted(m: number, t: number, count: number, b: number, child: number): void {
    const u8 = this.u8;
    const i32 = this.i32;
    const k = (m + KEYS) << 2;
    const c0 = m + (t === T_N4 ? N4_CHILD : N16_CHILD);
    let pos = 0;
    while (pos < count && u8[k + pos] < b) pos++;
    for (let i = count; i > pos; i--) {
      u8[k + i] = u8[k + i - 1];
      i32[c0 + i] = i32[c0 + i - 1];
    }
    u8[k + pos] = b;
    i32[c0 + pos] = child;
  }

  // ---- delete ----

  private del(n: number, hi: number, lo: number): number {
    const i32 = this.i32;
    const h = i32[n];
    const t = h & TYPE_MASK;
    if (t === T_LEAF) {
      if (i32[n + KEY_HI] !== hi || i32[n + KEY_LO] !== lo) return n;
      this.found = true;
      this.size--;
      this.dispose(n);
      return 0;
    }
    const b = byteAt(hi, lo, (h >>> DEPTH_SHIFT) & 15);
    const s = this.slot(n, h, t, b);
    if (s < 0) return n;
    const c = i32[s];
    const nc = this.del(c, hi, lo);
    if (nc === c) return n;
    if (nc !== 0) {
      if (this.writable(n)) {
        i32[s] = nc;
        return n;
      }
      const m = this.own(n);
      i32[m + (s - n)] = nc;
      return m;
    }
    return this.removeChild(n, h, t, b);
  }

  // Shrink thresholds lag the grow thresholds (N4->16 at 5, 16->48 at 17,
  // 48->256 at 49) so alternating insert/delete at a boundary does not thrash.
  private removeChild(n: number, h: number, t: number, b: number): number {
    const i32 = this.i32;
    const u8 = this.u8;
    const count = (h >>> COUNT_SHIFT) & COUNT_MASK;
    const depth = (h >>> DEPTH_SHIFT) & 15;
    if (t === T_N4 || t === T_N16) {
      const k = (n + KEYS) << 2;
      const c0 = n + (t === T_N4 ? N4_CHILD : N16_CHILD);
      let pos = 0;
      while (u8[k + pos] !== b) pos++;
      if (t === T_N4 && count === 2) {
        // One child left: the node disappears (its child keeps its own full template).
        const other = i32[c0 + (1 - pos)];
        this.dispose(n);
        return other;
      }
      if (t === T_N16 && count === 4) {
        const g = this.alloc(N4_WORDS);
        i32[g] = header(T_N4, 3, depth);
        i32[g + KEY_HI] = i32[n + KEY_HI];
        i32[g + KEY_LO] = i32[n + KEY_LO];
        const gk = (g + KEYS) << 2;
        for (let i = 0, j = 0; i < 4; i++) {
          if (i === pos) continue;
          u8[gk + j] = u8[k + i];
          i32[g + N4_CHILD + j] = i32[c0 + i];
          j++;
        }
        this.dispose(n);
        return g;
      }
      const m = this.own(n);
      const mk = (m + KEYS) << 2;
      const mc = m + (t === T_N4 ? N4_CHILD : N16_CHILD);
      for (let i = pos; i < count - 1; i++) {
        u8[mk + i] = u8[mk + i + 1];
        i32[mc + i] = i32[mc + i + 1];
      }
      i32[m] = header(t, count - 1, depth);
      return m;
    }
    if (t === T_N48) {
      const idx = (n + KEYS) << 2;
      if (count === 13) {
        const g = this.alloc(N16_WORDS);
        i32[g] = header(T_N16, 12, depth);
        i32[g + KEY_HI] = i32[n + KEY_HI];
        i32[g + KEY_LO] = i32[n + KEY_LO];
        const gk = (g + KEYS) << 2;
        let j = 0;
        for (let k = 0; k < 256; k++) {
          const s = u8[idx + k];
          if (s === 0 || k === b) continue;
          u8[gk + j] = k;
          i32[g + N16_CHILD + j] = i32[n + N48_CHILD + s - 1];
          j++;
        }
        this.dispose(n);
        return g;
      }
      const m = this.own(n);
      const mi = ((m + KEYS) << 2) + b;
      i32[m + N48_CHILD + u8[mi] - 1] = 0;
      u8[mi] = 0;
      i32[m] = header(T_N48, count - 1, depth);
      return m;
    }
    if (count === 38) {
      const g = this.alloc(N48_WORDS);
      i32.fill(0, g + KEYS, g + N48_WORDS);
      i32[g] = header(T_N48, 37, depth);
      i32[g + KEY_HI] = i32[n + KEY_HI];
      i32[g + KEY_LO] = i32[n + KEY_LO];
      const gi = (g + KEYS) << 2;
      let j = 0;
      for (let k = 0; k < 256; k++) {
        const c = i32[n + N256_CHILD + k];
        if (c === 0 || k === b) continue;
        u8[gi + k] = j + 1;
        i32[g + N48_CHILD + j] = c;
        j++;
      }
      this.dispose(n);
      return g;
    }
    const m = this.own(n);
    i32[m + N256_CHILD + b] = 0;
    i32[m] = header(T_N256, count - 1, depth);
    return m;
  }
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
