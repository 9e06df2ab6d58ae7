// Who is in the cluster. Candidates come from a static seed list and/or DNS
// (the headless Service of a StatefulSet); liveness comes from probing every
// candidate's Peer.Status with a timeout. A member that has not answered for
// `suspectMs` leaves the live set; one that answers again rejoins at once.
// Detection of a dead or frozen member therefore takes between suspectMs and
// suspectMs + probeIntervalMs + probeTimeoutMs; meanwhile calls to it fail
// over to other replicas and forwarded updates to it are dropped (it is
// refilled by state transfer when it comes back).
import { EventEmitter } from 'node:events';
import { resolve4 } from 'node:dns/promises';
import type { PeerClient, StatusMsg } from '../proxy/peer-client.js';

export interface MembershipOptions {
  /** This instance's advertised address (host:grpcPort); always live. */
  self: string;
  seeds: readonly string[];
  /** DNS name whose A records are members, with their gRPC port. */
  dns?: { name: string; port: number };
  probeIntervalMs: number;
  probeTimeoutMs: number;
  suspectMs: number;
  client: (address: string) => PeerClient;
  log: (msg: string) => void;
}

interface Member {
  address: string;
  lastOk: number;
  alive: boolean;
  status?: StatusMsg;
  failures: number;
  fromDns: boolean;
}

export class Membership extends EventEmitter {
  private readonly members = new Map<string, Member>();
  private timer: NodeJS.Timeout | undefined;
  private liveKey = '';
  private probing = false;
  private dnsFailures = 0;
  /** Last time this process ran a probe round (to notice being frozen). */
  private lastTick = Date.now();

  constructor(private readonly o: MembershipOptions) {
    super();
    for (const s of o.seeds) if (s !== o.self) this.members.set(s, { address: s, lastOk: 0, alive: false, failures: 0, fromDns: false });
  }

  /** Live members, sorted, self included. */
  live(): string[] {
    return [this.o.self, ...[...this.members.values()].filter((m) => m.alive).map((m) => m.address)].sort();
  }

  /** Is `address` a live member (this instance included)? */
  isLive(address: string): boolean {
    return address === this.o.self || this.members.get(address)?.alive === true;
  }

  /** A candidate (seed, DNS) or live member, without probing. */
  knows(address: string): boolean {
    return address === this.o.self || this.members.has(address);
  }

  /**
   * A live member, or a known candidate (seed, DNS) that answers a probe now:
   * an instance that just (re)started calls us before our next probe round.
   */
  async confirm(address: string): Promise<boolean> {
    const m = this.members.get(address);
    if (!m) return address === this.o.self;
    if (m.alive) return true;
    try {
      m.status = await this.o.client(address).status(this.o.probeTimeoutMs);
      m.lastOk = Date.now();
      m.failures = 0;
      // The next round announces it (and recomputes the route table).
      m.alive = true;
      this.o.log(`member ${address} is up (it called us)`);
      return true;
    } catch {
      return false;
    }
  }

  /** The last status a live member reported. */
  statusOf(address: string): StatusMsg | undefined {
    return this.members.get(address)?.status;
  }

  /** First probe round (so the first route table sees the seeds that are up), then keep probing. */
  async start(): Promise<void> {
    await this.round();
    this.timer = setInterval(() => {
      void this.round();
    }, this.o.probeIntervalMs);
    this.timer.unref();
  }

  private async discover(): Promise<void> {
    if (!this.o.dns) return;
    try {
      const ips = await resolve4(this.o.dns.name);
      const found = new Set(ips.map((ip) => `${ip}:${this.o.dns!.port}`));
      for (const a of found) {
        if (a !== this.o.self && !this.members.has(a)) this.members.set(a, { address: a, lastOk: 0, alive: false, failures: 0, fromDns: true });
      }
      // A pod that was replaced comes back with a new IP: forget the old one
      // once it is both dead and gone from DNS.
      for (const [a, m] of this.members) if (m.fromDns && !m.alive && !found.has(a)) this.members.delete(a);
      this.dnsFailures = 0;
    } catch (e) {
      // Before the first pod is ready the name may not resolve yet: say so once in a while.
      if (this.dnsFailures++ % 20 === 0) this.o.log(`DNS discovery of ${this.o.dns.name} failed: ${(e as Error).message}`);
    }
  }

  private async round(): Promise<void> {
    try {
      await this.probeAll();
    } catch (e) {
      // A probe round runs from a timer: report, never throw out of it.
      this.o.log(`membership round failed: ${(e as Error).message}`);
    }
  }

  private async probeAll(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    const now = Date.now();
    // WATCH OUT: if this process itself was frozen (SIGSTOP, long GC), every
    // peer looks silent; tell the owner instead of declaring them all dead.
    const frozenFor = now - this.lastTick;
    this.lastTick = now;
    if (frozenFor > this.o.suspectMs) {
      for (const m of this.members.values()) m.lastOk = Math.max(m.lastOk, now);
      this.emit('frozen', frozenFor);
    }
    try {
      await this.discover();
      await Promise.all(
        [...this.members.values()].map(async (m) => {
          try {
            m.status = await this.o.client(m.address).status(this.o.probeTimeoutMs);
            m.lastOk = Date.now();
            m.failures = 0;
            if (!m.alive) {
              m.alive = true;
              this.o.log(`member ${m.address} is up`);
            }
          } catch (e) {
            m.failures++;
            if (m.alive && Date.now() - m.lastOk > this.o.suspectMs) {
              m.alive = false;
              m.status = undefined;
              this.o.log(`member ${m.address} is down (no answer for ${Date.now() - m.lastOk} ms: ${(e as Error).message})`);
            }
          }
        }),
      );
    } finally {
      this.probing = false;
      this.lastTick = Date.now();
    }
    const key = this.live().join(',');
    if (key !== this.liveKey) {
      this.liveKey = key;
      this.emit('change', this.live());
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
