// The mailbox of one search thread: a SharedArrayBuffer holding SLOTS nearby
// requests and their answers. The main thread writes request number `seq`
// into slot seq % SLOTS, bumps REQ and `Atomics.notify`s the thread blocked
// in `Atomics.wait`; the thread answers requests in order, writing each
// answer as numbers into its slot, setting DONE = seq and posting seq on its
// port, which wakes the main thread's event loop. (Atomics.waitAsync would
// spare that message, but in Node 20 its promise was seen never to settle
// about once in 7,000 answers, leaving the thread idle with work queued.)
//
// Why several slots: with one, a thread that finished a search sat idle until
// the main thread read the answer and handed it the next request. Under
// writes the main thread is often busy for a few ms (a write slice, a GC), so
// a burst of queries was served at the main thread's pace, not the search
// thread's (bench/micro/pipeline.ts (b), open loop: queue wait P99 43–80 ms at
// 1,000 queries/s). With SLOTS requests handed over at once, the thread goes
// from one to the next on its own. A batch (NearbyBatch) fills every free
// slot at once, so the threads have a chunk of its queries in hand and the
// main thread refills them as answers come back: 16 slots keep two threads
// busy through a wake-up latency of milliseconds on a loaded machine
// (bench/system/batch.ts).
//
// Measured here (bench/micro/handoff.ts), a trivial search this way takes P50 131 µs
// / P99 0.43 ms and ~120 µs of CPU, a trivial piscina task 228 µs / 0.97 ms /
// 236 µs — more than a typical search — so searches get their own threads and
// this channel, while snapping stays in piscina.
import { LIMITS } from '../model/limits.js';

/** Requests one thread holds at once (being searched or waiting for it). */
export const SLOTS = 16;

// Int32 header words.
export const REQ = 0;
export const DONE = 1;
export const STOP = 2;
/**
 * 1 while the thread is (about to be) blocked in Atomics.wait. The main thread
 * notifies only then: a thread still working re-reads REQ before it sleeps,
 * so the futex call (~17 µs of main-thread time here) is spared under load.
 */
export const SLEEPING = 3;
const HDR_WORDS = 4;

// Int32 control words of a slot.
export const MAP = 0;
export const K = 1;
export const METRIC = 2;
export const NFILTER = 3;
export const STATUS = 4;
export const NHITS = 5;
export const ERRLEN = 6;
export const SNAP_SEG = 7;
export const EDGES = 8;
export const CANDS = 9;
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
/** When the thread took the request and when its answer was written (ms since the epoch, fractional). */
export const T_START = 8;
export const T_END = 9;
const F64_SLOTS = 10;

/** Per hit: driver number, distance, ETA, then the record as the search saw it. */
export const H_NO = 0,
  H_DIST = 1,
  H_ETA = 2,
  H_LAT = 3,
  H_LNG = 4,
  H_TS = 5,
  H_SEG = 6,
  H_T = 7,
  H_SNAP = 8,
  H_MS = 9;
export const HIT_SLOTS = 10;

export const MAX_FILTER_PAIRS = 256;
/** Reader slots the thread holds, as (map number, slot) pairs, so a dead thread's pins can be freed. */
export const MAX_HELD = 64;
const ERR_BYTES = 2048;

export const enum Status {
  Ok = 0,
  Miss = 1,
  Expired = 2,
  Error = 3,
  UnknownMap = 4,
}

export const METRICS = ['distance', 'eta'] as const;

const HELD_AT = HDR_WORDS * 4;
const SLOTS_AT = HELD_AT + MAX_HELD * 2 * 4;
// Within a slot (every part a multiple of 8 bytes).
const F64_AT = CTRL_WORDS * 4;
const FILTER_AT = F64_AT + F64_SLOTS * 8;
const HITS_AT = FILTER_AT + MAX_FILTER_PAIRS * 2 * 4;
const ERR_AT = HITS_AT + LIMITS.k.max * HIT_SLOTS * 8;
const SLOT_BYTES = ERR_AT + ERR_BYTES;
const BYTES = SLOTS_AT + SLOTS * SLOT_BYTES;

/** A clock comparable across threads (each thread's performance.now() has its own origin), for T_START / T_END. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** One request and its answer. */
export class Slot {
  readonly ctrl: Int32Array;
  readonly f64: Float64Array;
  readonly filter: Uint32Array;
  readonly hits: Float64Array;
  readonly err: Uint8Array;

  constructor(sab: SharedArrayBuffer, at: number) {
    this.ctrl = new Int32Array(sab, at, CTRL_WORDS);
    this.f64 = new Float64Array(sab, at + F64_AT, F64_SLOTS);
    this.filter = new Uint32Array(sab, at + FILTER_AT, MAX_FILTER_PAIRS * 2);
    this.hits = new Float64Array(sab, at + HITS_AT, LIMITS.k.max * HIT_SLOTS);
    this.err = new Uint8Array(sab, at + ERR_AT, ERR_BYTES);
  }

  setError(message: string): void {
    const b = Buffer.from(message, 'utf8').subarray(0, this.err.length);
    this.err.set(b);
    this.ctrl[ERRLEN] = b.length;
  }

  error(): string {
    return Buffer.from(this.err.subarray(0, this.ctrl[ERRLEN])).toString('utf8');
  }
}

/** Typed views over one mailbox (either side). */
export class Mailbox {
  /** REQ, DONE, STOP. */
  readonly hdr: Int32Array;
  /** (map number, reader slot) pairs; map number 0 = an entry let go. */
  readonly held: Int32Array;
  private readonly slots: Slot[] = [];

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(BYTES)) {
    this.hdr = new Int32Array(sab, 0, HDR_WORDS);
    this.held = new Int32Array(sab, HELD_AT, MAX_HELD * 2);
    for (let i = 0; i < SLOTS; i++) this.slots.push(new Slot(sab, SLOTS_AT + i * SLOT_BYTES));
  }

  /** The slot of request number `seq`. */
  slot(seq: number): Slot {
    return this.slots[seq % SLOTS]!;
  }
}
