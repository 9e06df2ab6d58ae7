// The search threads of a process (main-thread side). Each thread has one
// mailbox (search-mailbox.ts); a nearby query goes to an idle thread, or waits
// in a FIFO queue (bounded: beyond it, RESOURCE_EXHAUSTED). The answer comes
// back as numbers: driver IDs, metadata and snapped points are filled in here
// from the store's shared tables, which never change for a given number.
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { FarosError } from '../errors.js';
import { RoadGraph } from './graph/roadgraph.js';
import { InternView } from './intern.js';
import { phantomOf } from './store.js';
import { freeSlot } from './art/epoch.js';
import type { MapHandle, NearbyReply, NearbyTask, ExpiredReply } from './messages.js';
import type { SearchThreadMessage } from './search-thread.js';
import * as M from './search-mailbox.js';

export type SearchRequest = Omit<NearbyTask, 'deadline' | 'map'> & { map: MapHandle };

interface Job { req: SearchRequest; deadline: number; signal: AbortSignal | undefined; resolve: (r: NearbyReply | ExpiredReply) => void; reject: (e: unknown) => void }

interface Thread { worker: Worker; box: M.Mailbox; port: MessagePort; seq: number; job: Job | undefined; view: MapView | undefined; attached: Set<number>; dead: boolean }

/** Main-thread views of a map, to turn numbers back into IDs and points. */
interface MapView { no: number; graph: RoadGraph; intern: InternView; closed: Int32Array; arena: Int32Array }

export class Searchers {
  private readonly threads: Thread[] = [];
  private queue: Job[] = [];
  private head = 0;
  private readonly views = new Map<string, MapView>();
  private nextMapNo = 1;
  private closing = false;

  constructor(readonly count: number, private readonly maxQueue = 10_000, private readonly log: (msg: string) => void = () => {}) {
    if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`search threads must be a positive integer, got ${count}`);
    for (let i = 0; i < count; i++) this.threads.push(this.spawn());
  }

  get queueSize(): number { return this.queue.length - this.head; }
  threadIds(): number[] { return this.threads.map((t) => t.worker.threadId); }

  /** Search on an idle thread, or queue; a queued search whose signal fired is dropped unsearched. */
  search(req: SearchRequest, deadline: number, signal?: AbortSignal): Promise<NearbyReply | ExpiredReply> {
    if (this.closing) return Promise.reject(new FarosError('UNAVAILABLE', 'shutting down: search threads are stopping'));
    if (req.filter.length > 2 * M.MAX_FILTER_PAIRS) return Promise.reject(new FarosError('INVALID_ARGUMENT', `filter has ${req.filter.length / 2} entries; at most ${M.MAX_FILTER_PAIRS} are supported`));
    return new Promise((resolve, reject) => {
      const job: Job = { req, deadline, signal, resolve, reject };
      const idle = this.threads.find((t) => !t.job && !t.dead);
      if (idle) { this.dispatch(idle, job); return; }
      if (this.queueSize >= this.maxQueue) {
        reject(new FarosError('RESOURCE_EXHAUSTED', `server busy: ${this.queueSize} searches queued for ${this.count} search threads; retry with backoff`));
        return;
      }
      this.queue.push(job);
    });
  }

  private spawn(): Thread {
    const box = new M.Mailbox();
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./search-thread.js', import.meta.url), { workerData: { mailbox: box.sab, port: port2 }, transferList: [port2] });
    worker.unref();
    const t: Thread = { worker, box, port: port1, seq: 0, job: undefined, view: undefined, attached: new Set(), dead: false };
    // The thread posts the request number once the answer is in the mailbox.
    port1.on('message', (seq: number) => this.finish(t, seq));
    port1.unref(); // ref'd only while a search runs
    worker.on('error', (e) => this.log(`search thread ${worker.threadId} failed: ${e.message}`));
    worker.on('exit', () => this.lost(t));
    return t;
  }

  /**
   * A thread ended: free the reader slots it held (a thread that died inside
   * a search would otherwise pin its snapshot for good, and the arena would
   * stop reusing memory), fail its search, replace it (unless closing).
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
    if (t.job) {
      const job = t.job;
      t.job = undefined;
      job.reject(new FarosError('INTERNAL', 'the search thread ended during the search; retry'));
    }
    if (this.closing) return;
    const i = this.threads.indexOf(t);
    if (i >= 0) { this.threads[i] = this.spawn(); this.next(this.threads[i]); }
  }

  private view(h: MapHandle): MapView {
    // Let go of dropped maps (the handle keeps their buffers alive).
    for (const [key, v] of this.views) if (Atomics.load(v.closed, 0) === 1) this.views.delete(key);
    let v = this.views.get(h.key);
    if (!v) {
      v = { no: this.nextMapNo++, graph: RoadGraph.from(h.graph), intern: new InternView(h.store.intern), closed: new Int32Array(h.closed), arena: new Int32Array(h.store.arena) };
      this.views.set(h.key, v);
    }
    return v;
  }

  private dispatch(t: Thread, job: Job): void {
    const { req } = job;
    let v: MapView;
    try {
      v = this.view(req.map);
    } catch (e) {
      job.reject(e);
      this.next(t);
      return;
    }
    if (!t.attached.has(v.no)) {
      t.port.postMessage({ kind: 'attach', no: v.no, handle: req.map } satisfies SearchThreadMessage);
      t.attached.add(v.no);
    }
    const c = t.box.ctrl, f = t.box.f64;
    c[M.MAP] = v.no; c[M.K] = req.k; c[M.METRIC] = req.metric === 'eta' ? 1 : 0;
    c[M.NFILTER] = req.filter.length / 2;
    t.box.filter.set(req.filter);
    f[M.LAT] = req.lat; f[M.LNG] = req.lng; f[M.LIMIT] = req.limit; f[M.NOW] = req.nowMs; f[M.DEADLINE] = job.deadline;
    t.job = job;
    t.view = v;
    t.port.ref();
    const seq = ++t.seq;
    Atomics.store(c, M.REQ, seq);
    Atomics.notify(c, M.REQ);
  }

  private finish(t: Thread, seq: number): void {
    const job = t.job, v = t.view;
    if (!job || !v || t.dead || seq !== t.seq || Atomics.load(t.box.ctrl, M.DONE) !== seq) return; // the thread was lost meanwhile
    t.job = undefined;
    t.view = undefined;
    t.port.unref();
    try {
      job.resolve(this.read(t.box, v, job));
    } catch (e) {
      job.reject(e);
    }
    this.next(t);
  }

  private next(t: Thread): void {
    while (this.head < this.queue.length) {
      const job = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) { this.queue = this.queue.slice(this.head); this.head = 0; }
      // Its caller has given up waiting: do not search for nobody.
      if (job.signal?.aborted || Date.now() > job.deadline) { job.resolve({ kind: 'expired' }); continue; }
      this.dispatch(t, job);
      return;
    }
  }

  private read(box: M.Mailbox, v: MapView, job: Job): NearbyReply | ExpiredReply {
    const c = box.ctrl, f = box.f64;
    switch (c[M.STATUS] as M.Status) {
      case M.Status.Expired: return { kind: 'expired' };
      case M.Status.Miss: return { kind: 'nearby', ok: false, nearestM: f[M.NEAREST] };
      case M.Status.UnknownMap: throw new FarosError('UNAVAILABLE', `map ${job.req.map.key} was dropped from this instance`);
      case M.Status.Error: throw new Error(`search failed: ${box.error()}`);
      case M.Status.Ok: break;
    }
    const g = v.graph, h = box.hits, n = c[M.NHITS];
    const hits: Extract<NearbyReply, { ok: true }>['hits'] = new Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * M.HIT_SLOTS;
      hits[i] = {
        distanceM: h[o + M.H_DIST], etaS: h[o + M.H_ETA],
        driver: {
          driverId: v.intern.driverId(h[o + M.H_NO]), lat: h[o + M.H_LAT], lng: h[o + M.H_LNG], timestampMs: h[o + M.H_TS],
          metaset: h[o + M.H_MS], snapped: phantomOf(g, h[o + M.H_SEG], h[o + M.H_T], h[o + M.H_SNAP]),
        },
      };
    }
    return {
      kind: 'nearby', ok: true, snapped: phantomOf(g, c[M.SNAP_SEG], f[M.SNAP_T], f[M.SNAP_D]),
      stats: { edgesExpanded: c[M.EDGES], candidatesSeen: c[M.CANDS] }, hits,
    };
  }

  /** Wait (bounded) for running searches, then stop the threads. */
  async close(waitMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (let i = this.head; i < this.queue.length; i++) this.queue[i]!.reject(new FarosError('UNAVAILABLE', 'shutting down: search threads are stopping'));
    this.queue = []; this.head = 0;
    const until = Date.now() + waitMs;
    while (this.threads.some((t) => t.job && !t.dead) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(this.threads.map(async (t) => {
      if (t.dead) return;
      const exited = new Promise<void>((r) => t.worker.once('exit', () => r()));
      Atomics.store(t.box.ctrl, M.STOP, 1);
      Atomics.store(t.box.ctrl, M.REQ, t.seq + 1);
      Atomics.notify(t.box.ctrl, M.REQ);
      const timer = setTimeout(() => void t.worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    }));
  }
}
