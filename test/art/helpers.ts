// Test helpers for the ART: a seeded PRNG, a BigInt-keyed oracle, and a
// structural checker that walks the raw arena records.

import type { ArtView } from '../../src/model/store/art/index.js';
import {
  COUNT_MASK,
  COUNT_SHIFT,
  DEPTH_SHIFT,
  KEY_HI,
  KEY_LO,
  KEYS,
  N16_CHILD,
  N256_CHILD,
  N48_CHILD,
  N4_CHILD,
  ROOT_NODE,
  T_LEAF,
  T_N16,
  T_N256,
  T_N4,
  T_N48,
  TYPE_MASK,
  hiMask,
  loMask,
} from '../../src/model/store/art/nodes.js';
import { mulberry32 } from '../../src/rng.js';

export const SEED = Number(process.env.FAROS_SEED ?? 0x5eed) >>> 0;

export const rng = mulberry32;

export function k64(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function split(k: bigint): [number, number] {
  return [Number(k >> 32n), Number(k & 0xffffffffn)];
}

export interface Histogram {
  leaf: number;
  n4: number;
  n16: number;
  n48: number;
  n256: number;
}

/** Entries of a root as [key, value words] in iteration order. */
export function dump(view: ArtView, root: number, valueWords: number): Array<[bigint, number[]]> {
  const out: Array<[bigint, number[]]> = [];
  view.forEach(root, (hi, lo, v) => {
    const w: number[] = [];
    for (let i = 0; i < valueWords; i++) w.push(view.i32[v + i]);
    out.push([k64(hi, lo), w]);
  });
  return out;
}

/**
 * Walks the tree checking ART invariants: node fill within its type's bounds,
 * sorted Node4/16 keys, Node48 index/slot agreement, increasing depths, every
 * leaf sharing its ancestors' prefixes. Returns a histogram of node types.
 */
export function checkTree(view: ArtView, root: number): Histogram {
  const i32 = view.i32;
  const u8 = new Uint8Array(view.sab);
  const hist: Histogram = { leaf: 0, n4: 0, n16: 0, n48: 0, n256: 0 };
  const fail = (n: number, msg: string): never => {
    throw new Error(`ART invariant at ${n}: ${msg}`);
  };
  const visit = (n: number, minDepth: number, pHi: number, pLo: number, pMh: number, pMl: number): void => {
    const h = i32[n];
    const t = h & TYPE_MASK;
    const kHi = i32[n + KEY_HI];
    const kLo = i32[n + KEY_LO];
    if ((kHi & pMh) !== (pHi & pMh) || (kLo & pMl) !== (pLo & pMl)) fail(n, 'key outside parent prefix');
    if (t === T_LEAF) {
      hist.leaf++;
      return;
    }
    const count = (h >>> COUNT_SHIFT) & COUNT_MASK;
    const d = (h >>> DEPTH_SHIFT) & 15;
    if (d < minDepth) fail(n, `depth ${d} < ${minDepth}`);
    const mh = hiMask(d);
    const ml = loMask(d);
    const kids: Array<[number, number]> = [];
    if (t === T_N4 || t === T_N16) {
      const [lo, hi, c0] = t === T_N4 ? [2, 4, N4_CHILD] : [4, 16, N16_CHILD];
      if (count < lo || count > hi) fail(n, `type ${t} with ${count} children`);
      if (t === T_N4) hist.n4++;
      else hist.n16++;
      for (let i = 0; i < count; i++) {
        const b = u8[((n + KEYS) << 2) + i];
        if (i > 0 && b <= u8[((n + KEYS) << 2) + i - 1]) fail(n, 'keys not sorted');
        kids.push([b, i32[n + c0 + i]]);
      }
    } else if (t === T_N48) {
      hist.n48++;
      if (count < 13 || count > 48) fail(n, `N48 with ${count} children`);
      let seen = 0;
      for (let b = 0; b < 256; b++) {
        const s = u8[((n + KEYS) << 2) + b];
        if (s === 0) continue;
        seen++;
        const c = i32[n + N48_CHILD + s - 1];
        if (c === 0) fail(n, 'N48 index points at empty slot');
        kids.push([b, c]);
      }
      let slots = 0;
      for (let s = 0; s < 48; s++) if (i32[n + N48_CHILD + s] !== 0) slots++;
      if (seen !== count || slots !== count) fail(n, `N48 count ${count}, index ${seen}, slots ${slots}`);
    } else if (t === T_N256) {
      hist.n256++;
      if (count < 38 || count > 256) fail(n, `N256 with ${count} children`);
      for (let b = 0; b < 256; b++) {
        const c = i32[n + N256_CHILD + b];
        if (c !== 0) kids.push([b, c]);
      }
      if (kids.length !== count) fail(n, `N256 count ${count} != ${kids.length}`);
    } else {
      fail(n, `bad type ${t}`);
    }
    for (const [b, c] of kids) {
      // The child's key must carry byte b at depth d.
      const cHi = i32[c + KEY_HI];
      const cLo = i32[c + KEY_LO];
      const cb = d < 4 ? (cHi >>> (24 - 8 * d)) & 255 : (cLo >>> (56 - 8 * d)) & 255;
      if (cb !== b) fail(n, `child under byte ${b} has byte ${cb}`);
      visit(c, d + 1, kHi, kLo, mh, ml);
    }
  };
  const top = i32[root + ROOT_NODE];
  if (top !== 0) visit(top, 0, 0, 0, 0, 0);
  return hist;
}
