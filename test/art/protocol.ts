// Typed messages between the reclamation test and its reader workers.

export interface ReaderStart {
  sab: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  index: number;
}

export interface ReaderDone {
  index: number;
  snapshots: number;
  /** Distinct commit numbers observed. */
  commitsSeen: number;
  errors: string[];
}

/** ctrl words: [stop flag][snapshots of reader 0][snapshots of reader 1]... */
export const CTRL_STOP = 0;
export const CTRL_SNAPSHOTS = 1;

/** Per-leaf check word derived from the key and the value. */
export function mix(hi: number, lo: number, v: number): number {
  return (Math.imul(hi ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(lo, 0xc2b2ae35) ^ v) | 0;
}
