// Who is in the cluster. Candidates come from a static seed list and/or DNS
// (the headless Service of a StatefulSet: its A records are pod IPs, its SRV
// records the pods' own stable names); liveness comes from probing every
// candidate's Peer.Status with a timeout. A member that has not been heard
// from for `suspectMs` leaves the live set; one that answers again rejoins at
// once. Detection of a dead or frozen member therefore takes between
// suspectMs and suspectMs + probeIntervalMs + probeTimeoutMs; meanwhile calls
// to it fail over to other replicas and forwarded updates to it are dropped
// (it is refilled by state transfer when it comes back).
//
// One broken link must not split the cluster (SWIM's indirect probes): while
// a live member fails our direct probes, each round also asks up to
// `indirectProbes` other live members to probe it for us (Peer.ProbeVia, in
// parallel with the direct probe and bounded by the same timeout). "Heard
// from" counts both, so a member that another member still reaches stays
// live here (logged once, counted) and every instance keeps computing the
// same route table; it is evicted only when neither our probes nor any
// helper's reached it for suspectMs. Before the first eviction of a
// suspicion at least one indirect round is always tried.
import { EventEmitter } from 'node:events';
import { resolve4, resolveSrv } from 'node:dns/promises';
import type { PeerClient, StatusMsg } from '../proxy/peer-client.js';

/** Probes whose skew estimates are kept per member (the shortest round trip's is reported). */
const SKEW_SAMPLES = 8;

export interface MembershipOptions {
  /** This instance's advertised address (host:grpcPort); always live. */
  self: string;
  seeds: readonly string[];
  /**
   * DNS name of the members: its A records with `port`, or, for an SRV name
   * (`_peer._tcp.faros-headless.…`), its SRV targets and their ports.
   */
  dns?: { name: string; port: number };
  /** DNS lookups (default node:dns); tests give their own records. */
  resolver?: { resolve4(name: string): Promise<string[]>; resolveSrv(name: string): Promise<{ name: string; port: number }[]> };
  probeIntervalMs: number;
  probeTimeoutMs: number;
  suspectMs: number;
  /** Other live members asked to probe a member that fails our direct probes (k of SWIM; 0 = none). */
  indirectProbes: number;
  client: (address: string) => PeerClient;
  log: (msg: string) => void;
  /** Random in [0, 1) (which helpers are asked); default Math.random. */
  random?: () => number;
}

/** What a helper answers for an indirect probe (Peer.ProbeVia). */
export interface ProbeViaResult {
  reachable: boolean;
  status?: StatusMsg;
  error?: string;
}

/** Counters for /metrics (monotonic). */
export interface MembershipStats {
  /** ProbeVia calls sent to helpers. */
  indirectSent: number;
  /** ... of which the helper reached the member. */
  indirectReachable: number;
  /** Members this instance removed from its live set. */
  evictions: number;
}

interface Member {
  address: string;
  lastOk: number;
  alive: boolean;
  status?: StatusMsg;
  failures: number;
  fromDns: boolean;
  /** Last time a helper reached it for us (0 = never in this suspicion). */
  lastIndirectOk: number;
  /** Indirect probe rounds tried since its direct probes began to fail. */
  indirectRounds: number;
  /** Kept live only because other members reach it (logged once per episode). */
  indirectOnly: boolean;
  /** Its clock minus ours (ms) and the round trip, of its last direct probes (at most SKEW_SAMPLES). */
  skews?: { ms: number; rttMs: number }[];
}

/** An SRV name: `_service._proto.name` (RFC 2782). */
export const isSrvName = (name: string): boolean => name.startsWith('_');

/**
 * The member addresses DNS lists now. SRV targets are the names the members
 * advertise (a StatefulSet pod's `pod.service.namespace.svc…`), so a replaced
 * pod keeps its place in the route table; A records are IPs, new per pod.
 */
async function dnsMembers(dns: { name: string; port: number }, r: NonNullable<MembershipOptions['resolver']>): Promise<Set<string>> {
  if (isSrvName(dns.name)) return new Set((await r.resolveSrv(dns.name)).map((x) => `${x.name.replace(/\.$/, '').toLowerCase()}:${x.port}`));
  return new Set((await r.resolve4(dns.name)).map((ip) => `${ip}:${dns.port}`));
}

export class Membership extends EventEmitter {
  private readonly members = new Map<string, Member>();
  private timer: NodeJS.Timeout | undefined;
  private liveKey = '';
  private probing = false;
  private dnsFailures = 0;
  /** Last time this process ran a probe round (to notice being frozen). */
  private lastTick = Date.now();
  /** Probes of a member running for a ProbeVia caller, shared by concurrent callers. */
  private readonly forOthers = new Map<string, Promise<ProbeViaResult>>();
  readonly stats: MembershipStats = { indirectSent: 0, indirectReachable: 0, evictions: 0 };

  constructor(private readonly o: MembershipOptions) {
    super();
    for (const s of o.seeds) if (s !== o.self) this.members.set(s, this.candidate(s, false));
  }

  private candidate(address: string, fromDns: boolean): Member {
    return { address, lastOk: 0, alive: false, failures: 0, fromDns, lastIndirectOk: 0, indirectRounds: 0, indirectOnly: false };
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
   * Does this instance reach `address` itself? False for a live member whose
   * direct probes fail now while others still reach it (a one-way or partial
   * partition): the router tries such a replica last.
   */
  reachesDirectly(address: string): boolean {
    const m = this.members.get(address);
    return !m || m.failures === 0;
  }

  /** Live members this instance cannot reach itself but others do (kept live by indirect probes). */
  indirectOnly(): string[] {
    return [...this.members.values()].filter((m) => m.alive && m.indirectOnly).map((m) => m.address);
  }

  /**
   * Peer.ProbeVia: probe a member for another instance. Only a known member
   * or seed (never an arbitrary address: the caller must not make us connect
   * anywhere); concurrent asks for one member share one probe.
   */
  probeFor(address: string, timeoutMs: number): Promise<ProbeViaResult> {
    if (address === this.o.self) return Promise.resolve({ reachable: true });
    const m = this.members.get(address);
    if (!m) return Promise.reject(new Error(`${address} is not a member this instance knows`));
    let p = this.forOthers.get(address);
    if (!p) {
      p = this.o
        .client(address)
        .status(timeoutMs)
        .then(
          (status): ProbeViaResult => {
            m.status = status;
            m.lastOk = Date.now();
            return { reachable: true, status };
          },
          (e: unknown): ProbeViaResult => ({ reachable: false, error: (e as Error).message }),
        )
        .finally(() => this.forOthers.delete(address));
      this.forOthers.set(address, p);
    }
    return p;
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

  /**
   * The clock skew of each live member against this instance (its clock
   * minus ours, ms), estimated at each direct probe as clock − (sent + round
   * trip / 2), which is off by at most half that round trip: of the last
   * SKEW_SAMPLES probes, the one with the shortest round trip (as NTP does).
   */
  clockSkews(): { peer: string; ms: number }[] {
    const out: { peer: string; ms: number }[] = [];
    for (const m of this.members.values()) {
      if (!m.alive || !m.skews?.length) continue;
      let best = m.skews[0]!;
      for (const x of m.skews) if (x.rttMs < best.rttMs) best = x;
      out.push({ peer: m.address, ms: best.ms });
    }
    return out;
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
      const found = await dnsMembers(this.o.dns, this.o.resolver ?? { resolve4, resolveSrv });
      for (const a of found) {
        if (a !== this.o.self && !this.members.has(a)) this.members.set(a, this.candidate(a, true));
      }
      // A pod that was replaced comes back with a new IP (A records): forget
      // the old one once it is both dead and gone from DNS.
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
      await Promise.all([...this.members.values()].map((m) => this.probe(m)));
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

  /**
   * One member, one round: the direct probe and, when it is live and
   * already failed our last probe, indirect probes through other live
   * members at the same time (so a round still takes at most probeTimeoutMs).
   */
  private async probe(m: Member): Promise<void> {
    const indirect = m.alive && m.failures > 0 ? this.indirect(m) : undefined;
    let failure: Error;
    try {
      const sent = Date.now();
      m.status = await this.o.client(m.address).status(this.o.probeTimeoutMs);
      m.lastOk = Date.now();
      // Its clock when it answered, against ours half-way through the round trip.
      if (m.status.clockMs) {
        (m.skews ??= []).push({ ms: m.status.clockMs - (sent + (m.lastOk - sent) / 2), rttMs: m.lastOk - sent });
        if (m.skews.length > SKEW_SAMPLES) m.skews.shift();
      }
      if (m.indirectOnly) this.o.log(`member ${m.address} answers our probes again`);
      m.failures = 0;
      m.indirectRounds = 0;
      m.lastIndirectOk = 0;
      m.indirectOnly = false;
      if (!m.alive) {
        m.alive = true;
        this.o.log(`member ${m.address} is up`);
      }
      return;
    } catch (e) {
      failure = e as Error;
      m.failures++;
    }
    if (!m.alive) return;
    let via = await indirect;
    // The suspicion ran out before any helper was asked (first failed probe took the whole window): ask now.
    if (via === undefined && this.silentFor(m) > this.o.suspectMs && m.indirectRounds === 0) via = await this.indirect(m);
    if (via !== undefined && via.length > 0 && !m.indirectOnly) {
      m.indirectOnly = true;
      this.o.log(
        `member ${m.address} does not answer our probes (${failure.message}) but ${via.join(', ')} reaches it: keeping it live (a broken link between us, not a dead member)`,
      );
    }
    const silent = this.silentFor(m);
    if (silent > this.o.suspectMs) {
      m.alive = false;
      m.status = undefined;
      m.indirectOnly = false;
      m.indirectRounds = 0;
      m.lastIndirectOk = 0;
      this.stats.evictions++;
      const asked = this.helpers(m.address).length;
      this.o.log(
        `member ${m.address} is down (no answer for ${silent} ms: ${failure.message}${asked > 0 ? `; no member asked to probe it reached it either` : ''})`,
      );
    }
  }

  /** Since when neither we nor a helper reached m. */
  private silentFor(m: Member): number {
    return Date.now() - Math.max(m.lastOk, m.lastIndirectOk);
  }

  /** Live members other than `target` that may be asked to probe it. */
  private helpers(target: string): string[] {
    return [...this.members.values()].filter((x) => x.alive && x.address !== target && x.failures === 0).map((x) => x.address);
  }

  /**
   * Ask up to k random live members to probe m for us; resolves with the
   * helpers that reached it (updating m.lastIndirectOk), or undefined when
   * there is nobody to ask.
   */
  private async indirect(m: Member): Promise<string[] | undefined> {
    const pool = this.helpers(m.address);
    if (this.o.indirectProbes <= 0 || pool.length === 0) return undefined;
    const rnd = this.o.random ?? Math.random;
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const chosen = pool.slice(0, this.o.indirectProbes);
    m.indirectRounds++;
    // The helper's own probe gets 3/4 of our budget, so its answer arrives within probeTimeoutMs.
    const helperTimeout = Math.max(10, Math.floor((this.o.probeTimeoutMs * 3) / 4));
    const reached = await Promise.all(
      chosen.map(async (h) => {
        this.stats.indirectSent++;
        try {
          const r = await this.o.client(h).probeVia(m.address, helperTimeout, this.o.probeTimeoutMs);
          if (!r.reachable) return undefined;
          this.stats.indirectReachable++;
          m.lastIndirectOk = Date.now();
          if (r.status) m.status = r.status;
          return h;
        } catch {
          return undefined;
        }
      }),
    );
    return reached.filter((h): h is string => h !== undefined);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
