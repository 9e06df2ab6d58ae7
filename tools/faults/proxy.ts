// A TCP fault proxy for cluster tests and the chaos benchmark, where the
// kernel has no `tc netem`: put in front of an instance's peer port (the
// instance advertises the proxy's address, so every other member reaches it
// through the proxy), it passes bytes through unchanged (TLS included) or
// injects a fault on every connection made to that instance:
//  - delay: what the instance sends is held `ms` before it is passed on (a
//    round trip to it takes `ms` longer, as netem on its egress would);
//  - hold: nothing crosses either way, new connections are accepted and
//    wait (a blackhole: the others cannot reach it; TCP would retransmit, so
//    what was held crosses once it is released);
//  - refuse: every connection is reset and new ones are closed at once.
// Connections the instance opens itself do not pass through it.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Fault = { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'hold' } | { kind: 'refuse' };

export interface FaultProxy {
  /** host:port the proxy listens on (what the instance advertises). */
  readonly address: string;
  readonly port: number;
  fault(): Fault;
  set(f: Fault): void;
  /** Connections accepted, and bytes passed each way. */
  stats(): { connections: number; toTarget: number; fromTarget: number };
  close(): Promise<void>;
}

interface Conn {
  client: Socket;
  upstream?: Socket;
  lanes: Lane[];
  /** Connect to the target (once). */
  open(): void;
}

/** One direction of one connection: chunks in order, each released at its due time or when the hold lifts. */
class Lane {
  private q: { due: number; buf: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDue = 0;
  constructor(
    private readonly out: () => Socket | undefined,
    private readonly delayMs: () => number,
    private readonly held: () => boolean,
    private readonly count: (n: number) => void,
  ) {}
  push(buf: Buffer): void {
    // Due times never go backwards, so a delay lowered mid-stream keeps the bytes in order.
    const due = Math.max(Date.now() + this.delayMs(), this.lastDue);
    this.lastDue = due;
    this.q.push({ due, buf });
    this.pump();
  }
  pump(): void {
    if (this.timer || this.held()) return;
    const out = this.out();
    if (!out) return;
    const now = Date.now();
    while (this.q.length > 0 && this.q[0]!.due <= now) {
      const { buf } = this.q.shift()!;
      this.count(buf.length);
      out.write(buf);
    }
    if (this.q.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.q[0]!.due - now);
    }
  }
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.q = [];
  }
}

/** Listen on listenHost (port 0: a free one) and pass connections to target. */
export async function startFaultProxy(target: { host: string; port: number }, listenHost = '127.0.0.1', listenPort = 0): Promise<FaultProxy> {
  let current: Fault = { kind: 'pass' };
  const conns = new Set<Conn>();
  const st = { connections: 0, toTarget: 0, fromTarget: 0 };
  const held = (): boolean => current.kind === 'hold';
  const delayOut = (): number => (current.kind === 'delay' ? current.ms : 0);

  const server: Server = createServer((client) => {
    if (current.kind === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    st.connections++;
    client.setNoDelay(true);
    const c: Conn = { client, lanes: [], open: () => {} };
    const up = new Lane(
      () => c.upstream,
      () => 0,
      held,
      (n) => {
        st.toTarget += n;
      },
    );
    const down = new Lane(
      () => client,
      delayOut,
      held,
      (n) => {
        st.fromTarget += n;
      },
    );
    c.lanes = [up, down];
    conns.add(c);
    const end = (): void => {
      if (!conns.delete(c)) return;
      up.clear();
      down.clear();
      client.destroy();
      c.upstream?.destroy();
    };
    c.open = (): void => {
      if (c.upstream || !conns.has(c)) return;
      const u = connect(target.port, target.host);
      u.setNoDelay(true);
      c.upstream = u;
      u.on('connect', () => up.pump());
      u.on('data', (b: Buffer) => down.push(b));
      u.on('error', end);
      u.on('close', end);
    };
    client.on('data', (b: Buffer) => up.push(b));
    client.on('error', end);
    client.on('close', end);
    // A held connection opens its upstream once released (the target never hears of it before).
    if (!held()) c.open();
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, listenHost, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    address: `${listenHost}:${port}`,
    port,
    fault: () => current,
    set(f) {
      current = f;
      for (const c of [...conns]) {
        if (f.kind === 'refuse') {
          c.client.resetAndDestroy();
          c.upstream?.resetAndDestroy();
          for (const l of c.lanes) l.clear();
          conns.delete(c);
          continue;
        }
        if (f.kind !== 'hold') c.open();
        for (const l of c.lanes) l.pump();
      }
    },
    stats: () => ({ ...st }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) {
          for (const l of c.lanes) l.clear();
          c.client.destroy();
          c.upstream?.destroy();
        }
        conns.clear();
        server.close(() => resolve());
      }),
  };
}
