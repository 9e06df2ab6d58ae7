// The pool's queue with two lanes: nearby searches go before snapping. A
// nearby query is one caller waiting on one answer; a snap chunk is one of
// many in a batch whose caller waits for all of them anyway, so letting
// reads pass keeps their latency at "one chunk at most" while updates flow.
import { Piscina, type TaskQueue } from 'piscina';

/** What piscina hands the queue (its TaskInfo); only the queue options are read here. */
type Task = Parameters<TaskQueue['push']>[0];

/** Queue options a task carries (piscina reads them from the task object, they are never posted). */
export interface LaneOptions { lane: 'read' | 'write' }

/** FIFO lane with an amortised O(1) shift. */
class Lane<T> {
  private items: T[] = [];
  private head = 0;
  get size(): number { return this.items.length - this.head; }
  push(t: T): void { this.items.push(t); }
  shift(): T | null {
    if (this.head === this.items.length) return null;
    const t = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    return t;
  }
  remove(t: T): boolean {
    const i = this.items.indexOf(t, this.head);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
}

export class TwoLaneQueue implements TaskQueue {
  private readonly read = new Lane<Task>();
  private readonly write = new Lane<Task>();
  get size(): number { return this.read.size + this.write.size; }
  push(task: Task): void { (laneOf(task) === 'read' ? this.read : this.write).push(task); }
  shift(): Task | null { return this.read.shift() ?? this.write.shift(); }
  remove(task: Task): void { if (!this.read.remove(task)) this.write.remove(task); }
}

function laneOf(task: Task): LaneOptions['lane'] {
  const o = (task as unknown as Record<symbol, unknown>)[Piscina.queueOptionsSymbol] as LaneOptions | null | undefined;
  return o?.lane ?? 'write';
}
