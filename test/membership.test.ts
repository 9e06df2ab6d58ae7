// Membership with indirect probes (src/membership/membership.ts) over a fake
// network of three instances: one broken link does not evict a live member,
// a dead member is still evicted within suspectMs + probeIntervalMs +
// probeTimeoutMs, and ProbeVia only probes members the helper knows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Membership, type MembershipOptions } from '../src/membership/membership.js';
import type { PeerClient, StatusMsg } from '../src/proxy/peer-client.js';

const A = '10.0.0.1:7151',
  B = '10.0.0.2:7151',
  C = '10.0.0.3:7151';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Who reaches whom: a link is cut one way with cut(from, to); a dead instance answers nobody. */
class FakeNet {
  readonly cuts = new Set<string>();
  readonly dead = new Set<string>();
  readonly members = new Map<string, Membership>();
  cut(from: string, to: string): void {
    this.cuts.add(`${from}>${to}`);
  }
  heal(): void {
    this.cuts.clear();
  }
  reaches(from: string, to: string): boolean {
    return !this.dead.has(to) && !this.dead.has(from) && !this.cuts.has(`${from}>${to}`);
  }
  /** A black hole: an unreachable peer answers nothing until the deadline. */
  private attempt<T>(from: string, to: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    if (this.reaches(from, to)) return fn();
    return new Promise((_, reject) => setTimeout(() => reject(new Error(`${to}: deadline exceeded`)), timeoutMs));
  }
  client(from: string): (to: string) => PeerClient {
    return (to) =>
      ({
        status: (timeoutMs: number) => this.attempt(from, to, timeoutMs, async (): Promise<StatusMsg> => ({ instance: to, maps: [], clockMs: 0 })),
        probeVia: (target: string, probeTimeoutMs: number, timeoutMs: number) =>
          this.attempt(from, to, timeoutMs, () => {
            const helper = this.members.get(to)!;
            return helper.probeFor(target, probeTimeoutMs);
          }),
      }) as unknown as PeerClient;
  }
}

function cluster(net: FakeNet, o: Partial<MembershipOptions> = {}): Map<string, Membership> {
  for (const self of [A, B, C]) {
    net.members.set(
      self,
      new Membership({
        self,
        seeds: [A, B, C],
        probeIntervalMs: 50,
        probeTimeoutMs: 80,
        suspectMs: 300,
        indirectProbes: 2,
        client: net.client(self),
        log: () => {},
        ...o,
      }),
    );
  }
  return net.members;
}

async function started(ms: Map<string, Membership>): Promise<void> {
  await Promise.all([...ms.values()].map((m) => m.start()));
  // Every instance sees the others once a round has run everywhere.
  for (let i = 0; i < 40 && ![...ms.values()].every((m) => m.live().length === 3); i++) await sleep(25);
  for (const m of ms.values()) assert.deepEqual(m.live(), [A, B, C].sort());
}

test('one-way partition: A cannot reach B, C reaches both; nobody is evicted, A routes B last, healing clears it', async () => {
  const net = new FakeNet();
  const ms = cluster(net);
  try {
    await started(ms);
    net.cut(A, B);
    await sleep(1000); // more than three suspicion windows
    for (const [self, m] of ms) assert.deepEqual(m.live(), [A, B, C].sort(), `${self} kept every member`);
    const a = ms.get(A)!;
    assert.equal(a.stats.evictions, 0);
    assert.ok(a.stats.indirectSent > 0, 'A asked C to probe B');
    assert.ok(a.stats.indirectReachable > 0, 'C reached B for A');
    assert.deepEqual(a.indirectOnly(), [B]);
    assert.equal(a.reachesDirectly(B), false);
    assert.equal(a.reachesDirectly(C), true);
    assert.equal(ms.get(B)!.stats.indirectSent, 0, 'B reaches A itself: it asks nobody');
    net.heal();
    await sleep(200);
    assert.deepEqual(a.indirectOnly(), []);
    assert.equal(a.reachesDirectly(B), true);
  } finally {
    for (const m of ms.values()) m.stop();
  }
});

test('a dead member is still evicted everywhere within suspectMs + probeIntervalMs + probeTimeoutMs', async () => {
  const net = new FakeNet();
  const ms = cluster(net);
  try {
    await started(ms);
    const killedAt = Date.now();
    net.dead.add(B);
    const evictedAt = new Map<string, number>();
    while (evictedAt.size < 2 && Date.now() - killedAt < 3000) {
      for (const self of [A, C]) if (!evictedAt.has(self) && !ms.get(self)!.isLive(B)) evictedAt.set(self, Date.now());
      await sleep(5);
    }
    const bound = 300 + 50 + 80;
    for (const self of [A, C]) {
      const ms_ = (evictedAt.get(self) ?? Number.POSITIVE_INFINITY) - killedAt;
      // Timers of a loaded machine: a little slack over the stated bound.
      assert.ok(ms_ <= bound + 60, `${self} evicted the dead member after ${ms_} ms (bound ${bound} ms)`);
      assert.ok(ms_ >= 300, `${self} evicted after ${ms_} ms, before the suspicion window`);
      assert.equal(ms.get(self)!.stats.evictions, 1);
      assert.ok(ms.get(self)!.stats.indirectSent > 0, `${self} asked the other member first`);
      assert.equal(ms.get(self)!.stats.indirectReachable, 0);
    }
    console.log(`# fake network: dead member evicted after ${[...evictedAt.values()].map((t) => t - killedAt).join(', ')} ms (bound ${bound} ms)`);
  } finally {
    for (const m of ms.values()) m.stop();
  }
});

test('with --indirect-probes 0 an instance decides alone: the broken link evicts the member on its side only', async () => {
  const net = new FakeNet();
  const ms = cluster(net, { indirectProbes: 0 });
  try {
    await started(ms);
    net.cut(A, B);
    await sleep(700);
    assert.deepEqual(ms.get(A)!.live(), [A, C].sort());
    assert.deepEqual(ms.get(C)!.live(), [A, B, C].sort(), 'the tables disagree: what indirect probes prevent');
    assert.equal(ms.get(A)!.stats.indirectSent, 0);
  } finally {
    for (const m of ms.values()) m.stop();
  }
});

test('ProbeVia probes only members the helper knows, and shares one probe between concurrent asks', async () => {
  let probes = 0;
  const m = new Membership({
    self: A,
    seeds: [A, B],
    probeIntervalMs: 50,
    probeTimeoutMs: 80,
    suspectMs: 300,
    indirectProbes: 2,
    client: () =>
      ({
        status: async () => {
          probes++;
          await sleep(20);
          return { instance: B, maps: [] };
        },
      }) as unknown as PeerClient,
    log: () => {},
  });
  await assert.rejects(m.probeFor('192.0.2.7:80', 50), /not a member this instance knows/);
  assert.equal(probes, 0, 'no connection to an address it does not know');
  assert.deepEqual(await m.probeFor(A, 50), { reachable: true });
  const both = await Promise.all([m.probeFor(B, 50), m.probeFor(B, 50)]);
  assert.ok(both.every((r) => r.reachable));
  assert.equal(probes, 1);
});

test('clock skew: each peer clock minus ours from Status.clock_ms, the shortest round trip of the last probes wins', async () => {
  // B's clock is 10 s ahead, C's 1 s behind; each answer waits a random 0-40 ms on the way out and
  // back, except that some probes are quick (the estimate is off by at most half the round trip).
  const offset: Record<string, number> = { [A]: 0, [B]: 10_000, [C]: -1_000 };
  const n: Record<string, number> = { [B]: 0, [C]: 0 };
  const client = (to: string) =>
    ({
      status: async (): Promise<StatusMsg> => {
        const quick = n[to]!++ % 4 === 0;
        const out = quick ? 1 : 5 + Math.random() * 35,
          back = quick ? 1 : Math.random() * 40;
        await sleep(out);
        const clockMs = Date.now() + offset[to]!;
        await sleep(back);
        return { instance: to, maps: [], clockMs };
      },
    }) as unknown as PeerClient;
  const m = new Membership({ self: A, seeds: [A, B, C], probeIntervalMs: 20, probeTimeoutMs: 200, suspectMs: 500, indirectProbes: 0, client, log: () => {} });
  try {
    await m.start();
    await sleep(300);
    const skews = Object.fromEntries(m.clockSkews().map((x) => [x.peer, x.ms]));
    assert.deepEqual(Object.keys(skews).sort(), [B, C].sort());
    assert.ok(Math.abs(skews[B]! - 10_000) < 15, `B: ${skews[B]} ms`);
    assert.ok(Math.abs(skews[C]! + 1_000) < 15, `C: ${skews[C]} ms`);
  } finally {
    m.stop();
  }
});

test("SRV discovery (StatefulSet): members are the pods' stable names, so a replaced pod (new IP, same name) gets its place in the route table back", async () => {
  // What CoreDNS answers for _peer._tcp.faros-headless.faros.svc.cluster.local: one target per pod, trailing dot and all.
  const pod = (i: number) => `faros-${i}.faros-headless.faros.svc.cluster.local`;
  const [P0, P1, P2] = [0, 1, 2].map((i) => `${pod(i)}:51051`) as [string, string, string];
  const asked: string[] = [];
  let records = [0, 1, 2].map((i) => ({ name: `${pod(i).toUpperCase()}.`, port: 51051, priority: 0, weight: 33 }));
  const resolver = {
    resolve4: async (): Promise<string[]> => assert.fail('an SRV name is never looked up as A records'),
    resolveSrv: async (name: string) => {
      asked.push(name);
      return records;
    },
  };
  const net = new FakeNet();
  const m = new Membership({
    self: P0,
    seeds: [],
    dns: { name: '_peer._tcp.faros-headless.faros.svc.cluster.local', port: 0 },
    resolver,
    probeIntervalMs: 30,
    probeTimeoutMs: 60,
    suspectMs: 200,
    indirectProbes: 0,
    client: net.client(P0),
    log: () => {},
  });
  try {
    await m.start();
    assert.equal(asked[0], '_peer._tcp.faros-headless.faros.svc.cluster.local');
    assert.deepEqual(m.live(), [P0, P1, P2].sort());
    // faros-1 dies: gone from DNS while it is replaced, evicted after suspectMs.
    net.dead.add(P1);
    records = records.filter((r) => !r.name.startsWith('FAROS-1.'));
    await sleep(400);
    assert.deepEqual(m.live(), [P0, P2].sort());
    // Its replacement answers under the same name: the same members, so the same route table as before.
    records = [0, 1, 2].map((i) => ({ name: `${pod(i)}.`, port: 51051, priority: 0, weight: 33 }));
    net.dead.delete(P1);
    await sleep(200);
    assert.deepEqual(m.live(), [P0, P1, P2].sort());
  } finally {
    m.stop();
  }
});
