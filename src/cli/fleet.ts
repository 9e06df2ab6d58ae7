// A simulated fleet for `npm start` (and `faros fleet`): seeded drivers
// that drive along the road graph and report their positions through the
// HTTP gateway once a second, so the map page shows something alive at once.
import type { RoadGraph } from '../model/graph/roadgraph.js';
import { pointOnEdge } from '../model/graph/geometry.js';
import { mulberry32 } from '../rng.js';

interface SimDriver {
  id: string;
  /** Directed edge (2e tail → head, 2e + 1 head → tail) and metres driven along it. */
  d: number;
  along: number;
  speed: number;
  status: 'available' | 'busy';
}

export class SimFleet {
  private readonly drivers: SimDriver[] = [];
  private readonly rnd: () => number;

  constructor(
    private readonly g: RoadGraph,
    count: number,
    seed = 1,
  ) {
    this.rnd = mulberry32(seed);
    const E = g.edgeCount;
    for (let i = 0; i < count; i++) {
      let d = 0;
      // A direction that may be driven (one-ways only one way).
      for (let tries = 0; tries < 100; tries++) {
        d = Math.floor(this.rnd() * 2 * E);
        if (this.drivable(d)) break;
      }
      this.drivers.push({
        id: `sim-${i}`,
        d,
        along: this.rnd() * g.eLen[d >> 1],
        speed: 6 + this.rnd() * 10,
        status: this.rnd() < 0.75 ? 'available' : 'busy',
      });
    }
  }

  private drivable(d: number): boolean {
    return (this.g.eDirs[d >> 1] & ((d & 1) === 0 ? 1 : 2)) !== 0;
  }

  /** Drive dtS seconds; at a junction take a random way on (turning back only at a dead end). */
  step(dtS: number): void {
    const g = this.g;
    for (const v of this.drivers) {
      v.along += v.speed * dtS;
      for (let hops = 0; v.along > g.eLen[v.d >> 1] && hops < 50; hops++) {
        v.along -= g.eLen[v.d >> 1];
        const at = g.to(v.d);
        const outs: number[] = [];
        for (let i = g.outStart[at], end = g.outStart[at + 1]; i < end; i++) if (g.outList[i] !== (v.d ^ 1)) outs.push(g.outList[i]);
        v.d = outs.length ? outs[Math.floor(this.rnd() * outs.length)] : v.d ^ 1;
        if (!this.drivable(v.d)) v.d ^= 1;
      }
      v.along = Math.min(v.along, g.eLen[v.d >> 1]);
      if (this.rnd() < 1 / 90) v.status = v.status === 'busy' ? 'available' : 'busy';
    }
  }

  /** Every driver's current report, as UpdateDriverRequest JSON items. */
  reports(mapId: string): object[] {
    return this.drivers.map((v) => {
      const e = v.d >> 1;
      const p = pointOnEdge(this.g, e, (v.d & 1) === 0 ? v.along : this.g.eLen[e] - v.along);
      return { mapId, driverId: v.id, location: { lat: p.lat, lng: p.lng }, metadata: { status: v.status } };
    });
  }
}

/** Drive the fleet and send its reports to `baseUrl` (an HTTP gateway) every second until stopped. */
export function runSimFleet(o: { baseUrl: string; mapId: string; graph: RoadGraph; drivers: number; seed?: number; onError?: (msg: string) => void }): {
  stop: () => void;
} {
  const fleet = new SimFleet(o.graph, o.drivers, o.seed);
  let last = Date.now();
  let failing = false,
    busy = false;
  const send = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    const now = Date.now();
    fleet.step((now - last) / 1000);
    last = now;
    try {
      const res = await fetch(`${o.baseUrl}/v1/drivers:batchUpdate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ updates: fleet.reports(o.mapId) }),
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      failing = false;
    } catch (e) {
      // Reported once per outage: an instance restarting is normal in a cluster.
      if (!failing) o.onError?.(`simulated fleet: sending updates failed (${(e as Error).message}); retrying every second`);
      failing = true;
    } finally {
      busy = false;
    }
  };
  void send();
  const timer = setInterval(() => void send(), 1000);
  return { stop: () => clearInterval(timer) };
}
