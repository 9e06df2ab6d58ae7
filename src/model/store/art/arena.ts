// The writer's side of the arena: one SharedArrayBuffer holding the header,
// the reader slots and every tree's records; a bump allocator with per-size
// free lists; commit publication and epoch-based reclamation (epoch.ts).
//
// Growth: Node 20 cannot grow a SharedArrayBuffer, so the arena is allocated at
// its maximum (default 256 MiB; the OS commits pages only when touched) and a
// full arena throws RESOURCE_EXHAUSTED. Offsets are int32 words: at most 8 GiB.
// One writer thread per arena; any number of reader threads (ArtReader).

import {
  H_CAP,
  H_DATA,
  H_FREE_WORDS,
  H_LIVE_NODES,
  H_LIVE_WORDS,
  H_MAGIC,
  H_ROOTS,
  H_SEQ,
  H_SLOTS,
  H_TOP,
  H_TREE_BASE,
  H_TREES,
  H_VERSION,
  MAGIC,
  MAX_SLOTS,
  MAX_TREES,
  VERSION,
  dataBase,
  ArtCapacityError,
} from './header.js';
import { RetireQueue, freeSlot, nextSeq, oldestPin, pinnedReaders } from './epoch.js';
import {
  COUNT_SHIFT,
  MAX_RECORD_WORDS,
  ROOTS_FIRST,
  ROOT_NODE,
  ROOT_SIZE,
  ROOT_TREE,
  ROOT_WORDS,
  FREE_NEXT,
  T_FREE,
  T_ROOT,
  T_ROOTS,
  header,
  recordWords,
  rootsWords,
} from './nodes.js';
import { ArtView } from './read.js';
import { ArtReader } from './reader.js';
import { ArtTree, type ArtTxn, type TreeOptions } from './tree.js';

export interface ArenaOptions {
  /** Arena size; fixed for its lifetime. Default 256 MiB. */
  maxBytes?: number;
  /** Reader slots = threads that can hold a snapshot at once. Default 64. */
  readerSlots?: number;
}

export interface ArtStats {
  capacityBytes: number;
  /** High-water mark: bytes ever handed out by the bump allocator (incl. header). */
  highWaterBytes: number;
  /** Bytes in records that are reachable or not yet reclaimable (includes retiredBytes). */
  liveBytes: number;
  /** Bytes replaced by commits that pinned readers may still see. */
  retiredBytes: number;
  liveNodes: number;
  /** Bytes on free lists, ready for reuse. */
  freeBytes: number;
  /** Free-list lengths by record size in words. */
  freeLists: Record<number, number>;
  /** Records replaced by commits, waiting for readers to move on. */
  retiredPending: number;
  /** Allocations served from a free list (proof that reclamation works). */
  reusedAllocs: number;
  commits: number;
  pinnedReaders: number;
}

export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_READER_SLOTS = 64;

export class ArtArena extends ArtView {
  private readonly capWords: number;
  private top: number;
  private liveWords = 0;
  private liveNodes = 0;
  private freeWords = 0;
  private readonly freeHead = new Int32Array(MAX_RECORD_WORDS + 1);
  private readonly freeLen = new Int32Array(MAX_RECORD_WORDS + 1);
  /** One bit per two words: set for records created by the open txn(s), which may be written in place. */
  readonly wbits: Uint32Array;
  private readonly retired: RetireQueue;
  private readonly trees: ArtTree[] = [];
  private readonly roots: number[] = [];
  private rootSet = 0;
  private seq = 1;
  private reused = 0;
  private commits = 0;
  private readonly freeFn = (off: number): void => this.free(off);

  static create(opts: ArenaOptions = {}): ArtArena {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const slots = opts.readerSlots ?? DEFAULT_READER_SLOTS;
    if (!Number.isInteger(maxBytes) || maxBytes < 64 * 1024 || maxBytes > 2 ** 33 - 8) {
      throw new RangeError(`ART: maxBytes must be an integer in [64 KiB, 8 GiB), got ${maxBytes}`);
    }
    if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) {
      throw new RangeError(`ART: readerSlots must be an integer in [1, ${MAX_SLOTS}], got ${slots}`);
    }
    return new ArtArena(new SharedArrayBuffer(maxBytes & ~7), slots);
  }

  private constructor(sab: SharedArrayBuffer, slots: number) {
    super(sab);
    const i32 = this.i32;
    this.capWords = i32.length;
    this.top = dataBase(slots);
    i32[H_MAGIC] = MAGIC;
    i32[H_VERSION] = VERSION;
    i32[H_CAP] = this.capWords;
    i32[H_SLOTS] = slots;
    i32[H_DATA] = this.top;
    i32[H_TREES] = 0;
    this.wbits = new Uint32Array((this.capWords >>> 6) + 1);
    this.retired = new RetireQueue(i32);
    this.publish(); // an empty root set, so readers can attach before any tree exists
  }

  /** Adds a tree (e.g. drivers: 4-byte keys; edges: 8-byte keys) and publishes its empty root. */
  addTree(opts: TreeOptions): ArtTree {
    const id = this.trees.length;
    if (id >= MAX_TREES) throw new RangeError(`ART: at most ${MAX_TREES} trees per arena`);
    const { keyBytes, valueWords } = opts;
    if (!Number.isInteger(keyBytes) || keyBytes < 1 || keyBytes > 8) {
      throw new RangeError(`ART: keyBytes must be 1..8, got ${keyBytes}`);
    }
    if (!Number.isInteger(valueWords) || valueWords < 0 || valueWords > 64) {
      throw new RangeError(`ART: valueWords must be 0..64, got ${valueWords}`);
    }
    this.i32[H_TREE_BASE + 2 * id] = keyBytes;
    this.i32[H_TREE_BASE + 2 * id + 1] = valueWords;
    Atomics.store(this.i32, H_TREES, id + 1);
    const tree = new ArtTree(this, id, keyBytes, valueWords);
    this.trees.push(tree);
    this.roots.push(this.newRoot(id, 0, 0));
    this.publish();
    return tree;
  }

  /** The published root handle of a tree. */
  rootOf(tree: number): number {
    return this.roots[tree];
  }

  /** An in-process reader slot (e.g. to hold old roots across commits). */
  reader(): ArtReader {
    return ArtReader.attach(this.sab);
  }

  /**
   * Frees the slot of a reader thread that died without close() (e.g. a worker
   * 'exit' with a non-zero code), so its stale pin stops holding back reuse.
   * Only for slots whose thread is gone: a live reader would read freed records.
   */
  evictReader(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.i32[H_SLOTS]) throw new RangeError(`ART: no reader slot ${slot}`);
    freeSlot(this.i32, slot);
  }

  /**
   * Commits several txns (of different trees) as one publication: a reader
   * sees all of them or none. Returns the new root of each, in order.
   */
  commitAll(txns: readonly ArtTxn[]): number[] {
    let changed = false;
    for (const t of txns) {
      const old = this.roots[t.tree.id];
      const node = t.finish(this.retired);
      if (node === -1) continue; // nothing written
      this.retired.push(old);
      this.roots[t.tree.id] = this.newRoot(t.tree.id, node, t.size);
      changed = true;
    }
    if (changed) this.publish();
    return txns.map((t) => this.roots[t.tree.id]);
  }

  /** Frees retired records no reader can reach any more; returns how many. Called on every commit. */
  reclaim(): number {
    return this.retired.drain(oldestPin(this.i32, this.seq), this.freeFn);
  }

  /** High-water mark of the arena in bytes (what the process has touched). */
  arenaBytes(): number {
    return this.top * 4;
  }

  stats(): ArtStats {
    const freeLists: Record<number, number> = {};
    for (let w = 0; w <= MAX_RECORD_WORDS; w++) if (this.freeLen[w] > 0) freeLists[w] = this.freeLen[w];
    return {
      capacityBytes: this.capWords * 4,
      highWaterBytes: this.top * 4,
      liveBytes: this.liveWords * 4,
      retiredBytes: this.retired.words * 4,
      liveNodes: this.liveNodes,
      freeBytes: this.freeWords * 4,
      freeLists,
      retiredPending: this.retired.pending,
      reusedAllocs: this.reused,
      commits: this.commits,
      pinnedReaders: pinnedReaders(this.i32),
    };
  }

  /** Allocates a record of `words` words (even); contents are stale. */
  alloc(words: number): number {
    let off = this.freeHead[words];
    if (off !== 0) {
      this.freeHead[words] = this.i32[off + FREE_NEXT];
      this.freeLen[words]--;
      this.freeWords -= words;
      this.reused++;
    } else {
      off = this.top;
      if (off + words > this.capWords) {
        throw new ArtCapacityError(
          `RESOURCE_EXHAUSTED: ART arena full (${this.capWords * 4} bytes, ${this.liveWords * 4} live, ` +
            `${this.retired.pending} records waiting for readers); raise maxBytes, or release() readers holding old snapshots. Abort the open txn.`,
        );
      }
      this.top = off + words;
    }
    this.liveWords += words;
    this.liveNodes++;
    return off;
  }

  /** Returns a record to its size's free list. Only for records no reader can reach. */
  free(off: number): void {
    const words = recordWords(this.i32[off]);
    // Mark it FREE (with its size) so a reader that broke the protocol fails loudly.
    this.i32[off] = header(T_FREE, words, 0);
    this.i32[off + FREE_NEXT] = this.freeHead[words];
    this.freeHead[words] = off;
    this.freeLen[words]++;
    this.freeWords += words;
    this.liveWords -= words;
    this.liveNodes--;
    this.wbits[off >>> 6] &= ~(1 << ((off >>> 1) & 31));
  }

  private newRoot(tree: number, node: number, size: number): number {
    const r = this.alloc(ROOT_WORDS);
    this.i32[r] = header(T_ROOT, 0, 0);
    this.i32[r + ROOT_NODE] = node;
    this.i32[r + ROOT_SIZE] = size;
    this.i32[r + ROOT_TREE] = tree;
    return r;
  }

  /** Publishes the current roots as one record, bumps SEQ, reclaims. */
  private publish(): void {
    const i32 = this.i32;
    const n = this.roots.length;
    const rs = this.alloc(rootsWords(n));
    i32[rs] = header(T_ROOTS, n, 0);
    for (let t = 0; t < n; t++) i32[rs + ROOTS_FIRST + t] = this.roots[t];
    const old = this.rootSet;
    this.rootSet = rs;
    Atomics.store(i32, H_ROOTS, rs); // releases every plain write above to readers
    this.seq = nextSeq(this.seq);
    Atomics.store(i32, H_SEQ, this.seq);
    if (old !== 0) this.retired.push(old);
    this.retired.seal(this.seq);
    this.commits++;
    this.reclaim();
    Atomics.store(i32, H_TOP, this.top);
    Atomics.store(i32, H_LIVE_WORDS, this.liveWords);
    Atomics.store(i32, H_LIVE_NODES, this.liveNodes);
    Atomics.store(i32, H_FREE_WORDS, this.freeWords);
  }
}

// Free records keep their size in the header's count field; recordWords()
// reads it back, so COUNT_SHIFT must leave room for MAX_RECORD_WORDS.
if (MAX_RECORD_WORDS > 0x1ff || COUNT_SHIFT !== 4) throw new Error('ART: record size field too small');
