// A read-only view of an arena for any thread (worker or the writer's own).
// Pass ArtArena.sab through workerData/postMessage, then:
//
//   const r = ArtReader.attach(sab);     // claims a reader slot
//   r.acquire();                          // pins a consistent snapshot of every tree
//   r.scanPrefix32(r.root(EDGES), edgeId, onDriver);
//   r.release();                          // let the writer reuse what it replaced
//   r.close();                            // give the slot back (thread exit)

import { H_ROOTS, H_TREES, checkHeader } from './header.js';
import { claimSlot, freeSlot, pin, unpin } from './epoch.js';
import { COUNT_MASK, COUNT_SHIFT, ROOTS_FIRST } from './nodes.js';
import { ArtView } from './read.js';

export class ArtReader extends ArtView {
  /** The reader slot index this view owns. */
  readonly slot: number;
  private rootSet = 0;
  private pinned = 0;
  private closed = false;

  static attach(sab: SharedArrayBuffer): ArtReader {
    if (!(sab instanceof SharedArrayBuffer)) throw new TypeError('ART: attach() needs the arena SharedArrayBuffer');
    checkHeader(new Int32Array(sab));
    return new ArtReader(sab);
  }

  private constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.slot = claimSlot(this.i32);
  }

  /**
   * Pins the latest published snapshot: until release(), root(t) of every
   * tree stays valid and unchanging. Never blocks. Returns the pinned sequence.
   */
  acquire(): number {
    if (this.closed) throw new Error('ART: reader is closed; attach a new one');
    if (this.pinned !== 0) throw new Error('ART: acquire() twice without release()');
    this.pinned = pin(this.i32, this.slot);
    this.rootSet = Atomics.load(this.i32, H_ROOTS);
    return this.pinned;
  }

  /** Root handle of tree t in the acquired snapshot. */
  root(tree: number): number {
    const rs = this.rootSet;
    if (this.pinned === 0) throw new Error('ART: call acquire() before root()');
    const n = (this.i32[rs] >>> COUNT_SHIFT) & COUNT_MASK;
    if (tree < 0 || tree >= n) throw new RangeError(`ART: no tree ${tree} in this snapshot (${n} trees)`);
    return this.i32[rs + ROOTS_FIRST + tree];
  }

  /** Trees in the arena (the writer adds them at setup). */
  trees(): number {
    return Atomics.load(this.i32, H_TREES);
  }

  release(): void {
    if (this.pinned === 0) return;
    unpin(this.i32, this.slot);
    this.pinned = 0;
    this.rootSet = 0;
  }

  close(): void {
    if (this.closed) return;
    this.release();
    freeSlot(this.i32, this.slot);
    this.closed = true;
  }
}
