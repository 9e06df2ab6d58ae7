// Epoch-based reclamation over the shared reader-slot table.
//
// Why epochs and not rebuild-and-swap: a commit replaces only the O(depth) path
// it copied, so freeing exactly those records keeps the arena near the live size
// with no stop-the-world copy, and neither side ever waits:
//
//   writer commit k: store ROOTS (new root set), SEQ = s_k, then scan the slots;
//                    records replaced by commit k are tagged s_k and freed once
//                    every pinned slot holds a pin >= s_k (or none is pinned).
//   reader acquire:  s = load SEQ; store pin = s; roots = load ROOTS.
//
// Why that is enough (all Atomics are sequentially consistent): a reader that
// loaded a root set replaced by commit k loaded ROOTS before the writer stored
// the new one, so its pin store came before the writer's slot scan, and its pin
// s was read before SEQ became s_k, so s < s_k and the scan keeps the records.
// A reader whose pin is stale (it slept between load and store) only keeps more
// records alive. No retry loop: readers never spin, the writer never blocks.
//
// SEQ wraps around int32; pins are compared by (pin - tag) | 0, valid while a
// reader holds a pin for less than 2^30 commits. 0 means "not pinned".
// WATCH OUT: a reader thread that dies while pinned stops reuse (the arena then
// grows until RESOURCE_EXHAUSTED); call release() in finally, and ArtArena.evictReader(slot) when a reader thread dies.

import { recordWords } from './nodes.js';
import { ArtCapacityError, H_SEQ, H_SLOTS, H_SLOT_BASE, SLOT_PIN, SLOT_STATE, SLOT_STRIDE } from './header.js';

export function nextSeq(seq: number): number {
  const n = (seq + 1) | 0;
  return n === 0 ? 1 : n;
}

/** Claims a free reader slot; returns its index. */
export function claimSlot(i32: Int32Array): number {
  const n = i32[H_SLOTS];
  for (let s = 0; s < n; s++) {
    const base = H_SLOT_BASE + s * SLOT_STRIDE;
    if (Atomics.compareExchange(i32, base + SLOT_STATE, 0, 1) === 0) {
      Atomics.store(i32, base + SLOT_PIN, 0);
      return s;
    }
  }
  throw new ArtCapacityError(`RESOURCE_EXHAUSTED: all ${n} ART reader slots are taken; raise readerSlots when creating the arena or close() unused readers`);
}

export function freeSlot(i32: Int32Array, slot: number): void {
  const base = H_SLOT_BASE + slot * SLOT_STRIDE;
  Atomics.store(i32, base + SLOT_PIN, 0);
  Atomics.store(i32, base + SLOT_STATE, 0);
}

/** Pins the current sequence in a slot; the caller then loads the roots. */
export function pin(i32: Int32Array, slot: number): number {
  const s = Atomics.load(i32, H_SEQ);
  Atomics.store(i32, H_SLOT_BASE + slot * SLOT_STRIDE + SLOT_PIN, s);
  return s;
}

export function unpin(i32: Int32Array, slot: number): void {
  Atomics.store(i32, H_SLOT_BASE + slot * SLOT_STRIDE + SLOT_PIN, 0);
}

/** The oldest pin relative to seq, or 0 if no reader is pinned. */
export function oldestPin(i32: Int32Array, seq: number): number {
  const n = i32[H_SLOTS];
  let oldest = 0;
  let age = -1;
  for (let s = 0; s < n; s++) {
    const p = Atomics.load(i32, H_SLOT_BASE + s * SLOT_STRIDE + SLOT_PIN);
    if (p === 0) continue;
    const a = (seq - p) | 0;
    if (a > age) {
      age = a;
      oldest = p;
    }
  }
  return oldest;
}

export function pinnedReaders(i32: Int32Array): number {
  const n = i32[H_SLOTS];
  let c = 0;
  for (let s = 0; s < n; s++) if (Atomics.load(i32, H_SLOT_BASE + s * SLOT_STRIDE + SLOT_PIN) !== 0) c++;
  return c;
}

/**
 * Writer-side FIFO of records replaced by commits, in batches tagged with the
 * commit's sequence number. Tags increase, so batches free from the front.
 */
export class RetireQueue {
  /** Words in records waiting to be freed. */
  words = 0;
  constructor(private readonly i32: Int32Array) {}

  private offs: Int32Array = new Int32Array(1024);
  private head = 0;
  private tail = 0;
  private tags: number[] = [];
  private ends: number[] = [];
  private batchHead = 0;

  get pending(): number {
    return this.tail - this.head;
  }

  push(off: number): void {
    if (this.tail === this.offs.length) this.grow();
    this.offs[this.tail++] = off;
    this.words += recordWords(this.i32[off]);
  }

  /** Appends one txn's replaced records (offs[0..n)). */
  pushAll(offs: Int32Array, n: number): void {
    while (this.tail + n > this.offs.length) this.grow();
    this.offs.set(offs.subarray(0, n), this.tail);
    this.tail += n;
    for (let i = 0; i < n; i++) this.words += recordWords(this.i32[offs[i]]);
  }

  /** Closes the records pushed so far into a batch freed once pins reach tag. */
  seal(tag: number): void {
    const last = this.ends.length > this.batchHead ? this.ends[this.ends.length - 1] : this.head;
    if (this.tail === last) return;
    this.tags.push(tag);
    this.ends.push(this.tail);
  }

  /** Frees every sealed batch no pinned reader can still see. */
  drain(oldest: number, free: (off: number) => void): number {
    let freed = 0;
    while (this.batchHead < this.tags.length) {
      if (oldest !== 0 && ((oldest - this.tags[this.batchHead]) | 0) < 0) break;
      const end = this.ends[this.batchHead];
      for (let i = this.head; i < end; i++) {
        this.words -= recordWords(this.i32[this.offs[i]]);
        free(this.offs[i]);
      }
      freed += end - this.head;
      this.head = end;
      this.batchHead++;
    }
    if (this.batchHead > 64 && this.batchHead * 2 > this.tags.length) this.compact();
    return freed;
  }

  private compact(): void {
    const shift = this.head;
    this.offs.copyWithin(0, shift, this.tail);
    this.tail -= shift;
    this.head = 0;
    this.tags = this.tags.slice(this.batchHead);
    this.ends = this.ends.slice(this.batchHead).map((e) => e - shift);
    this.batchHead = 0;
  }

  private grow(): void {
    const next = new Int32Array(this.offs.length * 2);
    next.set(this.offs.subarray(0, this.tail));
    this.offs = next;
  }
}
