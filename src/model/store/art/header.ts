// The arena's shared header: the first words of the SharedArrayBuffer, read by
// every thread. Versioned like flatbush so a reader can refuse a foreign buffer.
//
//   word  0 MAGIC 'ART1'        8 TREES   number of trees
//         1 VERSION             9 SLOTS   number of reader slots
//         2 CAP    (words)     10 DATA    first data word
//         3 SEQ    commit seq  11 FREE    words on free lists
//         4 ROOTS  published root set (Atomics)
//         5 TOP    bump pointer = high-water mark (words)
//         6 LIVE_WORDS          7 LIVE_NODES
//        16 + 2t  tree t: [keyBytes][valueWords]           (t < MAX_TREES)
//        64 + 16s reader slot s: [state][pin] ... one 64-byte line each, so
//                 readers pinning in parallel do not false-share.

export const MAGIC = 0x41525431; // 'ART1'
export const VERSION = 1;

export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_CAP = 2;
export const H_SEQ = 3;
export const H_ROOTS = 4;
export const H_TOP = 5;
export const H_LIVE_WORDS = 6;
export const H_LIVE_NODES = 7;
export const H_TREES = 8;
export const H_SLOTS = 9;
export const H_DATA = 10;
export const H_FREE_WORDS = 11;
export const H_TREE_BASE = 16;
export const MAX_TREES = 24;
export const H_SLOT_BASE = 64;
export const SLOT_STRIDE = 16;
export const SLOT_STATE = 0;
export const SLOT_PIN = 1;
export const MAX_SLOTS = 1024;

export function dataBase(slots: number): number {
  return (H_SLOT_BASE + SLOT_STRIDE * slots + 63) & ~63;
}

/** Checks that a buffer holds an arena of this version; throws how to fix it. */
export function checkHeader(i32: Int32Array): void {
  if (i32.length < H_SLOT_BASE || i32[H_MAGIC] !== MAGIC) {
    throw new Error('ART: buffer is not an ART arena (bad magic); pass ArtArena.sab from the writer');
  }
  if (i32[H_VERSION] !== VERSION) {
    throw new Error(`ART: arena version ${i32[H_VERSION]} but this code reads version ${VERSION}; run one build`);
  }
}

/** The arena or its reader slots are full: a capacity limit, not a bug (callers map it to RESOURCE_EXHAUSTED). */
export class ArtCapacityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtCapacityError';
  }
}
