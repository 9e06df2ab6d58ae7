// The mailbox of one search thread: a SharedArrayBuffer holding one nearby
// request and its answer. The main thread writes a request, bumps REQ and
// `Atomics.notify`s the thread blocked in `Atomics.wait`; the thread writes
// the answer as numbers, sets DONE = REQ and posts the request number on its
// port, which wakes the main thread's event loop. (Atomics.waitAsync would
// spare that message, but in Node 20 its promise was seen never to settle
// about once in 7,000 answers, leaving the thread idle with work queued.)
// Measured here (bench/handoff.ts), a trivial search this way takes P50 131 µs
// / P99 0.43 ms and ~120 µs of CPU, a trivial piscina task 228 µs / 0.97 ms /
// 236 µs — more than a typical search — so searches get their own threads and
// this channel, while snapping stays in piscina.
import { LIMITS } from './limits.js';

// Int32 control words.
export const REQ = 0;
export const DONE = 1;
export const STOP = 2;
export const MAP = 3;
export const K = 4;
export const METRIC = 5;
export const NFILTER = 6;
export const STATUS = 7;
export const NHITS = 8;
export const ERRLEN = 9;
export const SNAP_SEG = 10;
export const EDGES = 11;
export const CANDS = 12;
const CTRL_WORDS = 16;

// Float64 slots (request, then answer).
export const LAT = 0;
export const LNG = 1;
export const LIMIT = 2;
export const NOW = 3;
export const DEADLINE = 4;
export const NEAREST = 5;
export const SNAP_T = 6;
export const SNAP_D = 7;
const F64_SLOTS = 8;

/** Per hit: driver number, distance, ETA, then the record as the search saw it. */
export const H_NO = 0, H_DIST = 1, H_ETA = 2, H_LAT = 3, H_LNG = 4, H_TS = 5, H_SEG = 6, H_T = 7, H_SNAP = 8, H_MS = 9;
export const HIT_SLOTS = 10;

export const MAX_FILTER_PAIRS = 256;
/** Reader slots the thread holds, as (map number, slot) pairs, so a dead thread's pins can be freed. */
export const MAX_HELD = 64;
export const NHELD = 14;
const ERR_BYTES = 2048;

export const enum Status { Ok = 0, Miss = 1, Expired = 2, Error = 3, UnknownMap = 4 }

export const METRICS = ['distance', 'eta'] as const;

const CTRL_BYTES = CTRL_WORDS * 4;
const F64_AT = CTRL_BYTES;
const FILTER_AT = F64_AT + F64_SLOTS * 8;
const HITS_AT = FILTER_AT + MAX_FILTER_PAIRS * 2 * 4;
const HELD_AT = HITS_AT + LIMITS.k.max * HIT_SLOTS * 8;
const ERR_AT = HELD_AT + MAX_HELD * 2 * 4;
const BYTES = ERR_AT + ERR_BYTES;

/** Typed views over one mailbox (either side). */
export class Mailbox {
  readonly ctrl: Int32Array;
  readonly f64: Float64Array;
  readonly filter: Uint32Array;
  readonly hits: Float64Array;
  readonly err: Uint8Array;
  /** (map number, reader slot) pairs; map number 0 = an entry let go. */
  readonly held: Int32Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(BYTES)) {
    this.ctrl = new Int32Array(sab, 0, CTRL_WORDS);
    this.f64 = new Float64Array(sab, F64_AT, F64_SLOTS);
    this.filter = new Uint32Array(sab, FILTER_AT, MAX_FILTER_PAIRS * 2);
    this.hits = new Float64Array(sab, HITS_AT, LIMITS.k.max * HIT_SLOTS);
    this.err = new Uint8Array(sab, ERR_AT, ERR_BYTES);
    this.held = new Int32Array(sab, HELD_AT, MAX_HELD * 2);
  }

  setError(message: string): void {
    const b = Buffer.from(message, 'utf8').subarray(0, this.err.length);
    this.err.set(b);
    this.ctrl[ERRLEN] = b.length;
  }

  error(): string { return Buffer.from(this.err.subarray(0, this.ctrl[ERRLEN])).toString('utf8'); }
}
