// Value layouts of the two driver trees (32-bit words in the ART arena).
// f64 fields take two words; they are read and written through a scratch
// pair because value words are only 4-byte aligned.
//
//   driver tree  key = driver number (4 bytes, big-endian)
//   +---------+-----+-----+-----+--------+--------+---------+
//   | segment |  t  | lat | lng | snap m | ts ms  | metaset |   12 words
//   |   u32   | f64 | f64 | f64 |  f64   |  f64   |   u32   |
//   +---------+-----+-----+-----+--------+--------+---------+
//   edge tree    key = edge ID ⊕ driver number (8 bytes): one prefix scan per edge
//   +---------+-----+--------+---------+
//   | segment |  t  | ts ms  | metaset |                         6 words
//   +---------+-----+--------+---------+

export const DRIVERS = 0;
export const EDGES = 1;

export const D_SEG = 0,
  D_T = 1,
  D_LAT = 3,
  D_LNG = 5,
  D_SNAP = 7,
  D_TS = 9,
  D_MS = 11,
  D_WORDS = 12;
export const E_SEG = 0,
  E_T = 1,
  E_TS = 3,
  E_MS = 5,
  E_WORDS = 6;

const F = new Float64Array(1);
const W = new Int32Array(F.buffer);

export function getF64(i32: Int32Array, at: number): number {
  W[0] = i32[at];
  W[1] = i32[at + 1];
  return F[0];
}

export function setF64(i32: Int32Array, at: number, x: number): void {
  F[0] = x;
  i32[at] = W[0];
  i32[at + 1] = W[1];
}

/** Fields per snapped point in a snap task's output (and the store's applySnapped input): segment (−1 = miss), t, distance. */
export const SNAP_FIELDS = 3;
