// Seeded fleet simulator: drivers drive along the road graph (directed edges
// from the CSR out-lists only, so one-ways hold; forbidden turns avoided),
// report with GPS noise, switch available/busy, go offline and come back.
//
// Every driver has its own PRNG stream (seed ⊕ driver index), so any subset of
// drivers can be simulated in any process and still produce exactly the same
// reports: the load generators split the fleet across child processes.
import type { RoadGraph } from '../../src/model/graph/roadgraph.js';
import { Rng } from '../synth/prng.js';
import { R, DEG } from '../../src/mapbuild/geo.js';

export interface FleetOptions {
  seed: number;
  drivers: number;
  /** Reports per second per driver (default 1). */
  rateHz?: number;
  /** Largest GPS error, metres (default 15; each report draws 0..noiseM uniformly in the disc). */
  noiseM?: number;
  minSpeed?: number;
  maxSpeed?: number;
  /** Chance per report of switching available ↔ busy (default 1/120). */
  pStatus?: number;
  /** Chance per report of going offline (default 1/900); offline lasts 20–120 s. */
  pOffline?: number;
  /** Driver IDs are `${idPrefix}${index}` (default "d"). */
  idPrefix?: string;
}

export type Status = 'available' | 'busy';

/** One report of a driver: what a phone would send (or an offline event). */
export interface Report {
  index: number;
  id: string;
  /** Virtual time of the report, ms since the start of the scenario. */
  tMs: number;
  /** update = send it; offline = the driver went offline now (send a removal); silent = still offline, send nothing. */
  kind: 'update' | 'offline' | 'silent';
  lat: number;
  lng: number;
  status: Status;
  /** Noise-free position on the road (for tests and oracles). */
  trueLat: number;
  trueLng: number;
  /** Directed edge the driver is on and the metres along it from its start. */
  dirEdge: number;
  along: number;
  speed: number;
}

export interface Query {
  qid: string;
  index: number;
  tMs: number;
  lat: number;
  lng: number;
  k: number;
  radiusM: number;
}

/** Integer hash (splitmix-like) to derive independent per-driver seeds. */
export function mix(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A point at `along` metres from the start of directed edge d, on its geometry. */
export function pointOn(g: RoadGraph, d: number, along: number): [number, number] {
  const e = d >> 1,
    len = g.eLen[e]!;
  const y = Math.min(len, Math.max(0, (d & 1) === 0 ? along : len - along));
  const s0 = g.eSegStart[e]!,
    s1 = g.eSegStart[e + 1]!;
  let s = s0;
  for (; s < s1 - 1; s++) if (y <= g.segOff[s]! + g.segLen[s]!) break;
  const sl = g.segLen[s]!;
  const t = sl > 0 ? Math.min(1, Math.max(0, (y - g.segOff[s]!) / sl)) : 0;
  // segRev = 1: the segment runs B → A in the edge's direction
  const a = g.segRev[s] === 0 ? g.segA[s]! : g.segB[s]!,
    b = g.segRev[s] === 0 ? g.segB[s]! : g.segA[s]!;
  return [g.vLat[a]! + t * (g.vLat[b]! - g.vLat[a]!), g.vLng[a]! + t * (g.vLng[b]! - g.vLng[a]!)];
}

/** A point uniformly within radiusM of (lat, lng). */
export function jitter(rng: Rng, lat: number, lng: number, radiusM: number): [number, number] {
  const r = radiusM * Math.sqrt(rng.next()),
    a = 2 * Math.PI * rng.next();
  return [lat + (r * Math.sin(a)) / R / DEG, lng + (r * Math.cos(a)) / (R * Math.cos(lat * DEG)) / DEG];
}

function forbidden(g: RoadGraph, v: number, din: number, dout: number): boolean {
  for (let i = g.fbStart[v]!, end = g.fbStart[v + 1]!; i < end; i++) if (g.fbIn[i] === din && g.fbOut[i] === dout) return true;
  return false;
}

/**
 * A random road vertex that has somewhere to go. Vertices are denser where
 * roads are denser (towns have many short ways), so this draws starts and
 * pick-ups where the roads are dense.
 */
function denseVertex(g: RoadGraph, rng: Rng): number {
  for (;;) {
    const v = rng.int(0, g.vertexCount - 1);
    if (g.outStart[v + 1]! > g.outStart[v]!) return v;
  }
}

export class Fleet {
  readonly g: RoadGraph;
  readonly n: number;
  readonly periodMs: number;
  readonly noiseM: number;
  readonly minSpeed: number;
  readonly maxSpeed: number;
  private readonly pStatus: number;
  private readonly pOffline: number;
  private readonly prefix: string;
  readonly seed: number;
  // per-driver state (only drivers that were touched are initialised)
  private readonly rngs: (Rng | undefined)[];
  private readonly dir: Int32Array;
  private readonly along: Float64Array;
  private readonly speed: Float64Array;
  private readonly busy: Uint8Array;
  /** Virtual ms until which the driver stays offline (0 = online). */
  private readonly offUntil: Float64Array;
  private readonly step: Uint32Array;
  /** Report phase in [0, period) so reports spread over each second. */
  readonly phaseMs: Float64Array;
  /** Trace of directed edges entered (tests): off unless enabled. */
  trace: ((index: number, from: number, to: number) => void) | undefined;

  constructor(g: RoadGraph, o: FleetOptions) {
    this.g = g;
    this.n = o.drivers;
    this.seed = o.seed;
    this.periodMs = 1000 / (o.rateHz ?? 1);
    this.noiseM = o.noiseM ?? 15;
    this.minSpeed = o.minSpeed ?? 5;
    this.maxSpeed = o.maxSpeed ?? 20;
    this.pStatus = o.pStatus ?? 1 / 120;
    this.pOffline = o.pOffline ?? 1 / 900;
    this.prefix = o.idPrefix ?? 'd';
    this.rngs = new Array(this.n);
    this.dir = new Int32Array(this.n);
    this.along = new Float64Array(this.n);
    this.speed = new Float64Array(this.n);
    this.busy = new Uint8Array(this.n);
    this.offUntil = new Float64Array(this.n);
    this.step = new Uint32Array(this.n);
    this.phaseMs = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) this.phaseMs[i] = (mix(this.seed, ~i) / 4294967296) * this.periodMs;
  }

  id(i: number): string {
    return `${this.prefix}${i}`;
  }

  private init(i: number): Rng {
    let rng = this.rngs[i];
    if (rng) return rng;
    rng = new Rng(mix(this.seed, i));
    this.rngs[i] = rng;
    const g = this.g,
      v = denseVertex(g, rng);
    const k = rng.int(g.outStart[v]!, g.outStart[v + 1]! - 1);
    this.dir[i] = g.outList[k]!;
    this.along[i] = rng.next() * g.eLen[this.dir[i]! >> 1]!;
    this.speed[i] = rng.range(this.minSpeed, this.maxSpeed);
    this.busy[i] = rng.chance(0.3) ? 1 : 0;
    return rng;
  }

  /** Report number `step` of driver i is due at this virtual time. */
  dueMs(i: number, step = this.step[i]!): number {
    return this.phaseMs[i]! + step * this.periodMs;
  }
  /** How many reports driver i has made. */
  steps(i: number): number {
    return this.step[i]!;
  }

  /** Move driver i forward by dist metres along the graph. */
  private drive(i: number, rng: Rng, dist: number): void {
    const g = this.g;
    let d = this.dir[i]!,
      at = this.along[i]! + dist;
    for (let guard = 0; at >= g.eLen[d >> 1]! && guard < 10_000; guard++) {
      at -= g.eLen[d >> 1]!;
      const v = g.to(d),
        s = g.outStart[v]!,
        e = g.outStart[v + 1]!;
      // choose among allowed leaving edges: no U-turn unless it is the only way
      let options = 0;
      for (let k = s; k < e; k++) {
        const o = g.outList[k]!;
        if (o !== (d ^ 1) && !forbidden(g, v, d, o)) options++;
      }
      let next = d ^ 1;
      if (options > 0) {
        let pick = rng.int(0, options - 1);
        for (let k = s; k < e; k++) {
          const o = g.outList[k]!;
          if (o !== (d ^ 1) && !forbidden(g, v, d, o) && pick-- === 0) {
            next = o;
            break;
          }
        }
      } else if (e > s)
        next = g.outList[s]!; // dead end: whatever leaves (U-turn where allowed)
      else {
        at = g.eLen[d >> 1]!;
        break;
      } // nowhere to go at all: wait at the end
      this.trace?.(i, d, next);
      d = next;
    }
    this.dir[i] = d;
    this.along[i] = Math.min(at, g.eLen[d >> 1]!);
  }

  /** Produce driver i's next report (advancing it by one period). */
  next(i: number): Report {
    const rng = this.init(i);
    const n = this.step[i]!,
      tMs = this.dueMs(i, n);
    this.step[i] = n + 1;
    if (n > 0) {
      // speed: random walk within [min, max]
      this.speed[i] = Math.min(this.maxSpeed, Math.max(this.minSpeed, this.speed[i]! + rng.range(-1.5, 1.5)));
      this.drive(i, rng, (this.speed[i]! * this.periodMs) / 1000);
      if (rng.chance(this.pStatus)) this.busy[i] ^= 1;
    }
    let kind: Report['kind'] = 'update';
    if (this.offUntil[i]! > 0) {
      if (tMs < this.offUntil[i]!) kind = 'silent';
      else this.offUntil[i] = 0;
    } else if (n > 0 && rng.chance(this.pOffline)) {
      this.offUntil[i] = tMs + rng.range(20_000, 120_000);
      kind = 'offline';
    }
    const d = this.dir[i]!,
      along = this.along[i]!;
    const [tl, tg] = pointOn(this.g, d, along);
    const [lat, lng] = jitter(rng, tl, tg, this.noiseM);
    return {
      index: i,
      id: this.id(i),
      tMs,
      kind,
      lat,
      lng,
      status: this.busy[i] ? 'busy' : 'available',
      trueLat: tl,
      trueLng: tg,
      dirEdge: d,
      along,
      speed: this.speed[i]!,
    };
  }

  /** True while driver i is offline (after its last report). */
  isOffline(i: number): boolean {
    return this.offUntil[i]! > 0;
  }
}

/**
 * The reports of a set of drivers in time order, one period after another:
 * the driver indexes sorted by phase, walked cyclically.
 */
export class Schedule {
  private readonly order: Int32Array;
  private pos = 0;
  private round = 0;
  constructor(
    readonly fleet: Fleet,
    indexes: ArrayLike<number>,
  ) {
    this.order = Int32Array.from(indexes).sort((a, b) => fleet.phaseMs[a]! - fleet.phaseMs[b]!);
  }
  get size(): number {
    return this.order.length;
  }
  /** Due time of the next report. */
  peekMs(): number {
    return this.order.length === 0 ? Infinity : this.fleet.dueMs(this.order[this.pos]!, this.round);
  }
  /** Every report due at or before tMs. */
  takeUntil(tMs: number, out: Report[] = [], limit = Infinity): Report[] {
    while (out.length < limit && this.peekMs() <= tMs) out.push(this.take());
    return out;
  }
  take(): Report {
    const r = this.fleet.next(this.order[this.pos]!);
    if (++this.pos === this.order.length) {
      this.pos = 0;
      this.round++;
    }
    return r;
  }
}

/** Drivers with index % of === part. */
export function slice(n: number, part: number, of: number): number[] {
  const out: number[] = [];
  for (let i = part; i < n; i += of) out.push(i);
  return out;
}

/** Pick-up query j of the scenario (independent of every other query). */
export function query(g: RoadGraph, seed: number, j: number, k = 10, radiusM = 3000, ratePerS = 1000): Query {
  const rng = new Rng(mix(seed ^ 0x51ed270b, j));
  const v = denseVertex(g, rng);
  const [lat, lng] = jitter(rng, g.vLat[v]!, g.vLng[v]!, 30);
  return { qid: `q${j}`, index: j, tMs: (j * 1000) / ratePerS, lat, lng, k, radiusM };
}
