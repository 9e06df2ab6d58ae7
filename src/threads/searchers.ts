// The search threads of a process (main-thread side). Each thread has one
// mailbox of SLOTS request slots (search-mailbox.ts); a nearby query goes to
// the thread holding the fewest requests, or waits in a FIFO queue when every
// slot is taken (bounded: beyond it, RESOURCE_EXHAUSTED). The answer comes
// back as numbers: driver IDs and snapped points are filled in here from the
// store's shared tables, metadata by the shard from its metaset number.
//
// WATCH OUT: the search thread has let go of its snapshot by then, and the
// writer (this thread) frees and reuses the numbers of removed drivers; so
// every search holds the map's ReuseHold (intern.ts) from its entry (the
// caller made its filter's string numbers just before) until its answer has
// been used: released one macrotask after the answer resolved the caller's
// promise, when the promise chain (pool.run → Shard.nearby, which reads the
// metaset) has run its microtasks.
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { FarosError } from '../errors.js';
import { RoadGraph } from '../model/graph/roadgraph.js';
import { InternView, ReuseHold, type HoldRun } from '../model/store/intern.js';
import { phantomOf } from '../model/store/store.js';
import { freeSlot } from '../model/store/art/epoch.js';
import type { SearchPhases } from '../model/types.js';
import type { MapHandle, NearbyReply, NearbyTask, ExpiredReply } from './messages.js';
import type { SearchThreadMessage } from './search-thread.js';
import * as M from './search-mailbox.js';

export type SearchRequest = Omit<NearbyTask, 'deadline' | 'map'> & { map: MapHandle };

interface Job {
  req: SearchRequest;
  view: MapView;
  run: HoldRun;
  submitted: number;
  deadline: number;
  signal: AbortSignal | undefined;
  resolve: (r: NearbyReply | ExpiredReply) => void;
  reject: (e: unknown) => void;
}

/**
 * A search thread. Requests seq (posted) down to answered + 1 are in its
 * mailbox; jobs[s % SLOTS] and views[s % SLOTS] belong to request s.
 */
interface Thread {
  worker: Worker;
  box: M.Mailbox;
  port: MessagePort;
  seq: number;
  answered: number;
  jobs: (Job | undefined)[];
  views: (MapView | undefined)[];
  attached: Set<number>;
  dead: boolean;
}

/** Main-thread views of a map, to turn numbers back into IDs and points. */
interface MapView {
  no: number;
  graph: RoadGraph;
  intern: InternView;
  closed: Int32Array;
  arena: Int32Array;
  hold: ReuseHold;
}

/** What a test may see of a search thread (WorkerPool.searchThreadForTest). */
export interface SearchThreadHandle {
  readonly hdr: Int32Array;
  posted(): number;
  terminate(): Promise<number>;
}

export class Searchers {
  private readonly threads: Thread[] = [];
  private queue: Job[] = [];
  private head = 0;
  private readonly views = new Map<string, MapView>();
  private nextMapNo = 1;
  private closing = false;
  /** Searches done whose hold is let go at the next immediate (see the header). */
  private leaving: Job[] = [];
  private leaveScheduled = false;
  private readonly leaveNow = (): void => {
    this.leaveScheduled = false;
    const jobs = this.leaving;
    this.leaving = [];
    for (const j of jobs) j.view.hold.leave(j.run);
  };
  /** Called with every answered search's phases (metrics). */
  onPhases: ((p: SearchPhases) => void) | undefined;

  constructor(
    readonly count: number,
    private readonly maxQueue = 10_000,
    private readonly log: (msg: string) => void = () => {},
  ) {
    if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`search threads must be a positive integer, got ${count}`);
    for (let i = 0; i < count; i++) this.threads.push(this.spawn());
  }

  get queueSize(): number {
    return this.queue.length - this.head;
  }
  /** Searches handed to a thread and not yet answered, plus those queued. */
  get inFlight(): number {
    let n = this.queueSize;
    for (const t of this.threads) n += t.seq - t.answered;
    return n;
  }
  threadIds(): number[] {
    return this.threads.map((t) => t.worker.threadId);
  }

  /** Test hook: search thread i's mailbox header, how many requests were posted to it, and a way to kill it. */
  threadForTest(i: number): SearchThreadHandle {
    const t = this.threads[i]!;
    return { hdr: t.box.hdr, posted: () => t.seq, terminate: () => t.worker.terminate() };
  }

  /** Search on an idle thread, or queue; a queued search whose signal fired is dropped unsearched. */
  search(req: SearchRequest, deadline: number, signal?: AbortSignal): Promise<NearbyReply | ExpiredReply> {
    if (this.closing) return Promise.reject(new FarosError('UNAVAILABLE', 'shutting down: search threads are stopping'));
    if (req.filter.length > 2 * M.MAX_FILTER_PAIRS)
      return Promise.reject(new FarosError('INVALID_ARGUMENT', `filter has ${req.filter.length / 2} entries; at most ${M.MAX_FILTER_PAIRS} are supported`));
    let view: MapView;
    try {
      view = this.view(req.map);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      // Held from here: the caller made req.filter's numbers in this same turn.
      const job: Job = { req, view, run: view.hold.enter(), submitted: M.epochNow(), deadline, signal, resolve, reject };
      const t = this.leastLoaded();
      if (t) {
        this.dispatch(t, job);
        return;
      }
      if (this.queueSize >= this.maxQueue) {
        view.hold.leave(job.run);
        reject(new FarosError('RESOURCE_EXHAUSTED', `server busy: ${this.queueSize} searches queued for ${this.count} search threads; retry with backoff`));
        return;
      }
      this.queue.push(job);
    });
  }

  /** The live thread holding the fewest requests, if one has a free slot. */
  private leastLoaded(): Thread | undefined {
    let best: Thread | undefined;
    for (const t of this.threads) {
      if (t.dead || t.seq - t.answered >= M.SLOTS) continue;
      if (!best || t.seq - t.answered < best.seq - best.answered) best = t;
    }
    return best;
  }

  private spawn(): Thread {
    const box = new M.Mailbox();
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./search-thread.js', import.meta.url), { workerData: { mailbox: box.sab, port: port2 }, transferList: [port2] });
    worker.unref();
    const t: Thread = { worker, box, port: port1, seq: 0, answered: 0, jobs: new Array(M.SLOTS), views: new Array(M.SLOTS), attached: new Set(), dead: false };
    // The thread posts the request number once the answer is in the mailbox.
    port1.on('message', (seq: number) => this.finish(t, seq));
    port1.unref(); // ref'd only while searches run
    worker.on('error', (e) => this.log(`search thread ${worker.threadId} failed: ${e.message}`));
    worker.on('exit', () => this.lost(t));
    return t;
  }

  /**
   * A thread ended: free the reader slots it held (a thread that died inside
   * a search would otherwise pin its snapshot for good, and the arena would
   * stop reusing memory), fail its searches, replace it (unless closing).
   */
  private lost(t: Thread): void {
    t.dead = true;
    t.port.close();
    const held = t.box.held;
    for (let i = 0; i < held.length; i += 2) {
      const no = Atomics.load(held, i);
      if (no === 0) continue;
      for (const v of this.views.values()) if (v.no === no && Atomics.load(v.closed, 0) === 0) freeSlot(v.arena, held[i + 1]);
    }
    for (let s = t.answered + 1; s <= t.seq; s++) {
      const job = t.jobs[s % M.SLOTS];
      t.jobs[s % M.SLOTS] = undefined;
      t.views[s % M.SLOTS] = undefined;
      if (!job) continue;
      job.reject(new FarosError('INTERNAL', 'the search thread ended before answering; retry'));
      this.leave(job);
    }
    t.answered = t.seq;
    if (this.closing) return;
    const i = this.threads.indexOf(t);
    if (i >= 0) {
      this.threads[i] = this.spawn();
      this.next(this.threads[i]);
    }
  }

  private view(h: MapHandle): MapView {
    // Let go of dropped maps (the handle keeps their buffers alive).
    for (const [key, v] of this.views)
      if (Atomics.load(v.closed, 0) === 1) {
        v.hold.close();
        this.views.delete(key);
      }
    let v = this.views.get(h.key);
    if (!v) {
      const hold = new ReuseHold(h.store.intern, h.store.arena);
      v = {
        no: this.nextMapNo++,
        graph: RoadGraph.from(h.graph),
        intern: new InternView(h.store.intern),
        closed: new Int32Array(h.closed),
        arena: new Int32Array(h.store.arena),
        hold,
      };
      this.views.set(h.key, v);
    }
    return v;
  }

  /** Let go of a job's hold once the promise chain its answer started has run (see the header). */
  private leave(job: Job): void {
    this.leaving.push(job);
    if (!this.leaveScheduled) {
      this.leaveScheduled = true;
      setImmediate(this.leaveNow);
    }
  }

  private dispatch(t: Thread, job: Job): void {
    const { req, view: v } = job;
    if (!t.attached.has(v.no)) {
      t.port.postMessage({ kind: 'attach', no: v.no, handle: req.map } satisfies SearchThreadMessage);
      t.attached.add(v.no);
    }
    const seq = t.seq + 1,
      slot = t.box.slot(seq);
    const c = slot.ctrl,
      f = slot.f64;
    c[M.MAP] = v.no;
    c[M.K] = req.k;
    c[M.METRIC] = req.metric === 'eta' ? 1 : 0;
    c[M.NFILTER] = req.filter.length / 2;
    slot.filter.set(req.filter);
    f[M.LAT] = req.lat;
    f[M.LNG] = req.lng;
    f[M.LIMIT] = req.limit;
    f[M.NOW] = req.nowMs;
    f[M.DEADLINE] = job.deadline;
    t.jobs[seq % M.SLOTS] = job;
    t.views[seq % M.SLOTS] = v;
    if (t.seq === t.answered) t.port.ref();
    t.seq = seq;
    Atomics.store(t.box.hdr, M.REQ, seq);
    if (Atomics.load(t.box.hdr, M.SLEEPING) === 1) Atomics.notify(t.box.hdr, M.REQ);
  }

  private finish(t: Thread, seq: number): void {
    // Answers come in order; a number already settled means the thread was lost meanwhile.
    if (t.dead || seq <= t.answered || seq > t.seq || Atomics.load(t.box.hdr, M.DONE) < seq) return;
    while (t.answered < seq) {
      const s = ++t.answered,
        i = s % M.SLOTS;
      const job = t.jobs[i]!,
        v = t.views[i]!;
      t.jobs[i] = undefined;
      t.views[i] = undefined;
      try {
        job.resolve(this.read(t.box.slot(s), v, job));
      } catch (e) {
        job.reject(e);
      }
      this.leave(job);
    }
    if (t.answered === t.seq) t.port.unref();
    this.next(t);
  }

  /** Fill t's free slots from the queue. */
  private next(t: Thread): void {
    while (this.head < this.queue.length && !t.dead && t.seq - t.answered < M.SLOTS) {
      const job = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      // Its caller has given up waiting: do not search for nobody.
      if (job.signal?.aborted || Date.now() > job.deadline) {
        job.resolve({ kind: 'expired' });
        this.leave(job);
        continue;
      }
      this.dispatch(t, job);
    }
  }

  private read(slot: M.Slot, v: MapView, job: Job): NearbyReply | ExpiredReply {
    const c = slot.ctrl,
      f = slot.f64;
    switch (c[M.STATUS] as M.Status) {
      case M.Status.Expired:
        return { kind: 'expired' };
      case M.Status.Miss:
        return { kind: 'nearby', ok: false, nearestM: f[M.NEAREST] };
      case M.Status.UnknownMap:
        throw new FarosError('UNAVAILABLE', `map ${job.req.map.key} was dropped from this instance`);
      case M.Status.Error:
        throw new Error(`search failed: ${slot.error()}`);
      case M.Status.Ok:
        break;
    }
    const g = v.graph,
      h = slot.hits,
      n = c[M.NHITS];
    const hits: Extract<NearbyReply, { ok: true }>['hits'] = new Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * M.HIT_SLOTS;
      hits[i] = {
        distanceM: h[o + M.H_DIST],
        etaS: h[o + M.H_ETA],
        driver: {
          driverId: v.intern.driverId(h[o + M.H_NO]),
          lat: h[o + M.H_LAT],
          lng: h[o + M.H_LNG],
          timestampMs: h[o + M.H_TS],
          metaset: h[o + M.H_MS],
          snapped: phantomOf(g, h[o + M.H_SEG], h[o + M.H_T], h[o + M.H_SNAP]),
        },
      };
    }
    const phases: SearchPhases = {
      queuedUs: 1000 * (f[M.T_START] - job.submitted),
      searchUs: 1000 * (f[M.T_END] - f[M.T_START]),
      replyUs: 1000 * (M.epochNow() - f[M.T_END]),
    };
    this.onPhases?.(phases);
    return {
      kind: 'nearby',
      ok: true,
      snapped: phantomOf(g, c[M.SNAP_SEG], f[M.SNAP_T], f[M.SNAP_D]),
      stats: { edgesExpanded: c[M.EDGES], candidatesSeen: c[M.CANDS], phases },
      hits,
    };
  }

  /** Wait (bounded) for running searches, then stop the threads. */
  async close(waitMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (let i = this.head; i < this.queue.length; i++) {
      this.queue[i]!.reject(new FarosError('UNAVAILABLE', 'shutting down: search threads are stopping'));
      this.leave(this.queue[i]!);
    }
    this.queue = [];
    this.head = 0;
    const until = Date.now() + waitMs;
    while (this.threads.some((t) => t.seq > t.answered && !t.dead) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(
      this.threads.map(async (t) => {
        if (t.dead) return;
        const exited = new Promise<void>((r) => t.worker.once('exit', () => r()));
        Atomics.store(t.box.hdr, M.STOP, 1);
        Atomics.store(t.box.hdr, M.REQ, t.seq + 1);
        Atomics.notify(t.box.hdr, M.REQ);
        const timer = setTimeout(() => void t.worker.terminate(), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
    for (const v of this.views.values()) v.hold.close();
  }
}
