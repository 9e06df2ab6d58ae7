// Record layouts of the ART inside the arena. Everything is an Int32Array word
// offset ("pointer"); 0 is null (the arena header lives there, never a node).
//
// Keys are fixed width, at most 8 bytes, held as two int32 halves:
//   hi = key bytes 0..3 (big-endian), lo = key bytes 4..7 (zero past the width).
// Inner nodes store the FULL key of one of their leaves (the "template") and the
// byte index they branch on (depth). Path compression is then implicit: the
// compressed prefix is template bytes [parent depth + 1, depth), of any length,
// and collapsing a Node4 to its only child needs no prefix rewrite.
//
// Every record starts with a header word:
//
//   31          20 19    16 15           4 3      0
//   +-------------+--------+--------------+--------+
//   |   unused    | depth  | count / size |  type  |
//   +-------------+--------+--------------+--------+
//   count = children of an inner node; size = record words of a leaf/free record.
//
//   LEAF   [hdr][keyHi][keyLo][v0 .. v(V-1)]          (3+V words, rounded to even)
//   N4     [hdr][tHi][tLo][k0 k1 k2 k3][c0..c3]       8 words, keys sorted
//   N16    [hdr][tHi][tLo][k0..k15 (4 words)][c0..c15] 23 -> 24 words, keys sorted
//   N48    [hdr][tHi][tLo][index[256] bytes (64 words)][c0..c47]  115 -> 116 words
//          index[b] = slot+1 of child for byte b, 0 = none
//   N256   [hdr][tHi][tLo][c0..c255]                   259 -> 260 words
//   ROOT   [hdr][node][size][treeId]                   one per tree per commit
//   ROOTS  [hdr(count=n)][root0]..[root(n-1)]          the published root set
//   FREE   [hdr(size)][next free of this size]         writer-only free lists
//
// All sizes are even, so offsets are even and the writer's "created in this
// txn" bitmap needs one bit per two words.

export const T_FREE = 0;
export const T_LEAF = 1;
export const T_N4 = 2;
export const T_N16 = 3;
export const T_N48 = 4;
export const T_N256 = 5;
export const T_ROOT = 6;
export const T_ROOTS = 7;

export const TYPE_MASK = 15;
export const COUNT_SHIFT = 4;
export const COUNT_MASK = 0x1ff;
export const DEPTH_SHIFT = 16;

// Word offsets inside records.
export const KEY_HI = 1;
export const KEY_LO = 2;
export const LEAF_VALUE = 3;
export const KEYS = 3; // N4/N16 key bytes, N48 index bytes
export const N4_CHILD = 4;
export const N16_CHILD = 7;
export const N48_CHILD = 67;
export const N256_CHILD = 3;
export const ROOT_NODE = 1;
export const ROOT_SIZE = 2;
export const ROOT_TREE = 3;
export const ROOTS_FIRST = 1;
export const FREE_NEXT = 1;

export const N4_WORDS = 8;
export const N16_WORDS = 24;
export const N48_WORDS = 116;
export const N256_WORDS = 260;
export const ROOT_WORDS = 4;

/** Largest record; free lists are indexed by record size in words. */
export const MAX_RECORD_WORDS = 300;

export function leafWords(valueWords: number): number {
  return (3 + valueWords + 1) & ~1;
}

export function rootsWords(trees: number): number {
  return (1 + trees + 1) & ~1;
}

export function header(type: number, count: number, depth: number): number {
  return type | (count << COUNT_SHIFT) | (depth << DEPTH_SHIFT);
}

/** Record size in words, from its header. */
export function recordWords(h: number): number {
  switch (h & TYPE_MASK) {
    case T_N4:
      return N4_WORDS;
    case T_N16:
      return N16_WORDS;
    case T_N48:
      return N48_WORDS;
    case T_N256:
      return N256_WORDS;
    case T_ROOT:
      return ROOT_WORDS;
    case T_ROOTS:
      return rootsWords((h >>> COUNT_SHIFT) & COUNT_MASK);
    default:
      return (h >>> COUNT_SHIFT) & COUNT_MASK; // LEAF and FREE carry their size
  }
}

/** Key byte d (0 = most significant) of the key (hi, lo). */
export function byteAt(hi: number, lo: number, d: number): number {
  return d < 4 ? (hi >>> (24 - 8 * d)) & 255 : (lo >>> (56 - 8 * d)) & 255;
}

/** Index of the first byte where two keys differ, 8 if equal. */
export function diffByte(aHi: number, aLo: number, bHi: number, bLo: number): number {
  let x = aHi ^ bHi;
  if (x !== 0) return Math.clz32(x) >>> 3;
  x = aLo ^ bLo;
  if (x !== 0) return 4 + (Math.clz32(x) >>> 3);
  return 8;
}

/** Mask of the top d bytes of the hi half. */
export function hiMask(d: number): number {
  return d >= 4 ? -1 : d <= 0 ? 0 : -1 << (32 - 8 * d);
}

/** Mask of the top d bytes of the lo half (bytes 4..). */
export function loMask(d: number): number {
  return d <= 4 ? 0 : d >= 8 ? -1 : -1 << (64 - 8 * d);
}

/** Unsigned (a <= b) over (hi, lo) keys held as int32. */
export function keyLE(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  const ah = aHi >>> 0;
  const bh = bHi >>> 0;
  return ah < bh || (ah === bh && aLo >>> 0 <= bLo >>> 0);
}
