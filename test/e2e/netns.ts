// Real network faults for cluster tests (a helper module, not a test file):
// one Linux network namespace per instance, each with a veth pair into a
// bridge in the host namespace and an address of its own (10.77.N.i/24; the
// test process reaches them from the bridge's 10.77.N.254), `faros serve`
// running inside with mutual-TLS peer certificates made like `faros cluster`
// makes them; then one-way drop rules (iptables in the sender's namespace),
// `tc netem` delay, heal, and a teardown that removes everything it created.
//
// Needs root, `ip` (iproute2), `iptables` for drop rules and a kernel with
// the netem qdisc for delay; netnsUnavailable() says what is missing, so a
// suite can skip with the reason. Every name carries the owning process's
// PID (interfaces "fns<pid hex>-b|v<i>|p<i>", namespaces "fns-<pid hex>-<i>"), so a run
// that crashed leaves nothing a later run cannot find: removeStale() deletes
// what belongs to processes that no longer exist (never a live run's).
// Traffic stays between the test's own namespaces and the host's bridge.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeClusterCerts } from '../../src/cli/certs.js';
import { PeerClient } from '../../src/proxy/peer-client.js';
import { peerChannelCredentials, readPeerTls } from '../../src/proxy/peer-tls.js';
import { ROOT } from './helpers.js';

const run = promisify(execFile);
const ROOT_TAG = 'fns';
/** iptables chains in each namespace: one that makes the kernel track connections, one for the drop rules. */
const TRACK_CHAIN = 'FNS_TRACK',
  DROP_CHAIN = 'FNS_DROP';
/** Ports inside each namespace (every namespace has its own stack); below the ephemeral range, so a rule on them never hits a client socket. */
export const PORTS = { grpc: 7051, http: 7080, peer: 7151 } as const;

async function sh(cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  try {
    return (await run(cmd, args, { timeout: timeoutMs })).stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}
const quiet = (p: Promise<unknown>): Promise<void> =>
  p.then(
    () => {},
    () => {},
  );

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin'])) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {
      /* not there */
    }
  }
  return undefined;
}

/** Why namespaces with drop rules cannot be made here, or undefined when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the suite as root, as CI does)';
  if (!which('ip')) return 'the ip command (iproute2) is not installed';
  if (!which('iptables')) return 'the iptables command is not installed (Debian: apt-get install iptables); it makes the one-way drop rules';
  const probe = `${ROOT_TAG}-${process.pid.toString(16)}-probe`;
  try {
    await sh('ip', ['netns', 'add', probe]);
    await sh('ip', ['netns', 'exec', probe, 'iptables', '-w', '-A', 'OUTPUT', '-p', 'tcp', '-m', 'conntrack', '--ctdir', 'ORIGINAL', '-j', 'DROP']);
  } catch (e) {
    return `cannot create a network namespace with a drop rule here: ${(e as Error).message}`;
  } finally {
    await quiet(sh('ip', ['netns', 'del', probe]));
  }
  return undefined;
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Remove namespaces, processes and interfaces left by runs whose process is gone; returns what was removed. */
export async function removeStale(): Promise<string[]> {
  const removed: string[] = [];
  const nsList = (await sh('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]!);
  for (const ns of nsList) {
    const m = new RegExp(`^${ROOT_TAG}-([0-9a-f]+)-`).exec(ns);
    if (!m || pidAlive(Number.parseInt(m[1]!, 16))) continue;
    const pids = (await sh('ip', ['netns', 'pids', ns]).catch(() => '')).split('\n').filter((x) => /^\d+$/.test(x));
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await quiet(sh('ip', ['netns', 'del', ns]));
    removed.push(`netns ${ns}${pids.length ? ` (killed ${pids.length} processes)` : ''}`);
  }
  const links = (await sh('ip', ['-o', 'link', 'show'])).split('\n');
  for (const l of links) {
    const m = new RegExp(`^\\d+: (${ROOT_TAG}([0-9a-f]+)-[bvp]\\d*)[@:]`).exec(l);
    if (!m || pidAlive(Number.parseInt(m[2]!, 16))) continue;
    await quiet(sh('ip', ['link', 'del', m[1]!]));
    removed.push(`link ${m[1]}`);
  }
  return removed;
}

/** The third octet of a 10.77.N.0/24 no interface of this host uses yet. */
async function freeSubnet(): Promise<number> {
  const used = await sh('ip', ['-o', '-4', 'addr', 'show']);
  const start = (process.pid % 200) + 20;
  for (let i = 0; i < 230; i++) {
    const n = ((start + i) % 230) + 20;
    if (!used.includes(`10.77.${n}.`)) return n;
  }
  throw new Error('no free 10.77.N.0/24 subnet for the test bridge');
}

export interface Lab {
  /** Namespace i's name, address and its end of the veth pair. */
  readonly ns: string[];
  readonly ips: string[];
  readonly ifaces: string[];
  /** The host's address on the bridge (where the test process talks from). */
  readonly hostIp: string;
  /** A command inside namespace i. */
  exec(i: number, args: string[]): Promise<string>;
  /** `from` can no longer open connections to `to`, and its packets on the ones it opened are dropped; `to` still reaches `from`. */
  dropOneWay(from: number, to: number): Promise<void>;
  /** Add `ms` of delay to everything namespace i sends (tc netem); throws when the kernel has no netem. */
  delay(i: number, ms: number): Promise<void>;
  /** Why `tc netem` cannot be used here, or undefined when it can. */
  netemUnavailable(): Promise<string | undefined>;
  /** Remove every drop rule and delay. */
  heal(): Promise<void>;
  /** Remove everything this lab created (idempotent). */
  teardown(): Promise<void>;
}

/** A bridge and n namespaces, each with its own address on it. */
export async function createLab(n: number, log: (msg: string) => void = () => {}): Promise<Lab> {
  const tag = `${ROOT_TAG}${process.pid.toString(16)}-`;
  const bridge = `${tag}b`;
  const subnet = await freeSubnet();
  const ns = Array.from({ length: n }, (_, i) => `${ROOT_TAG}-${process.pid.toString(16)}-${i}`);
  const ips = Array.from({ length: n }, (_, i) => `10.77.${subnet}.${i + 1}`);
  const ifaces = Array.from({ length: n }, (_, i) => `${tag}p${i}`);
  const hostIp = `10.77.${subnet}.254`;
  let down = false;
  const teardown = async (): Promise<void> => {
    if (down) return;
    down = true;
    for (const name of ns) {
      const pids = (await sh('ip', ['netns', 'pids', name]).catch(() => '')).split('\n').filter((x) => /^\d+$/.test(x));
      for (const p of pids) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      // Deleting a namespace deletes the veth end inside it, and with it the host end.
      await quiet(sh('ip', ['netns', 'del', name]));
    }
    for (let i = 0; i < n; i++) await quiet(sh('ip', ['link', 'del', `${tag}v${i}`]));
    await quiet(sh('ip', ['link', 'del', bridge]));
  };
  // Last resort when the process exits without running the test's after hook.
  const onExit = (): void => {
    if (down) return;
    for (const name of ns) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
    try {
      execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  };
  process.once('exit', onExit);
  try {
    await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await sh('ip', ['addr', 'add', `${hostIp}/24`, 'dev', bridge]);
    await sh('ip', ['link', 'set', bridge, 'up']);
    for (let i = 0; i < n; i++) {
      const host = `${tag}v${i}`;
      await sh('ip', ['netns', 'add', ns[i]!]);
      await sh('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', ifaces[i]!]);
      await sh('ip', ['link', 'set', ifaces[i]!, 'netns', ns[i]!]);
      await sh('ip', ['link', 'set', host, 'master', bridge, 'up']);
      await sh('ip', ['netns', 'exec', ns[i]!, 'ip', 'addr', 'add', `${ips[i]}/24`, 'dev', ifaces[i]!]);
      await sh('ip', ['netns', 'exec', ns[i]!, 'ip', 'link', 'set', ifaces[i]!, 'up']);
      await sh('ip', ['netns', 'exec', ns[i]!, 'ip', 'link', 'set', 'lo', 'up']);
      // WATCH OUT: the kernel tracks connections in a namespace only once a
      // rule there uses conntrack; a connection it first sees mid-stream gets
      // its direction from whichever packet comes first, so a drop rule added
      // later could hit the wrong side. A no-op rule makes it track every
      // connection from its SYN; drop rules go to their own chain (heal flushes it).
      const ipt = (...args: string[]) => sh('ip', ['netns', 'exec', ns[i]!, 'iptables', '-w', ...args]);
      await ipt('-N', TRACK_CHAIN);
      await ipt('-A', TRACK_CHAIN, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'RETURN');
      await ipt('-N', DROP_CHAIN);
      await ipt('-A', 'OUTPUT', '-j', TRACK_CHAIN);
      await ipt('-A', 'OUTPUT', '-j', DROP_CHAIN);
    }
  } catch (e) {
    await teardown();
    throw e;
  }
  log(`netns lab: bridge ${bridge} ${hostIp}/24, namespaces ${ns.map((x, i) => `${x}=${ips[i]}`).join(' ')}`);
  const exec = (i: number, args: string[]): Promise<string> => sh('ip', ['netns', 'exec', ns[i]!, ...args]);
  return {
    ns,
    ips,
    ifaces,
    hostIp,
    exec,
    async dropOneWay(from, to) {
      // WATCH OUT: dropping only SYNs changes nothing while gRPC keeps its
      // connection to `to` open; conntrack's ORIGINAL direction also matches
      // `from`'s packets on the connections it opened (SYNs included), and not
      // its replies on connections `to` opened.
      await exec(from, [
        'iptables',
        '-w',
        '-A',
        DROP_CHAIN,
        '-s',
        ips[from]!,
        '-d',
        ips[to]!,
        '-p',
        'tcp',
        '-m',
        'conntrack',
        '--ctdir',
        'ORIGINAL',
        '-j',
        'DROP',
      ]);
      log(`netns lab: ${ips[from]} cannot reach ${ips[to]} (one way)`);
    },
    async delay(i, ms) {
      try {
        await exec(i, ['tc', 'qdisc', 'replace', 'dev', ifaces[i]!, 'root', 'netem', 'delay', `${ms}ms`]);
      } catch (e) {
        throw new Error(`tc netem delay on ${ns[i]}: ${(e as Error).message} (a kernel without the netem qdisc cannot add delay)`);
      }
      log(`netns lab: ${ips[i]} sends with ${ms} ms delay`);
    },
    async netemUnavailable() {
      try {
        await exec(0, ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
        await exec(0, ['tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
        return undefined;
      } catch (e) {
        return `tc netem is not available: ${(e as Error).message}`;
      }
    },
    async heal() {
      for (let i = 0; i < n; i++) {
        await exec(i, ['iptables', '-w', '-F', DROP_CHAIN]);
        await quiet(exec(i, ['tc', 'qdisc', 'del', 'dev', ifaces[i]!, 'root']));
      }
      log('netns lab: healed (no drop rule, no delay)');
    },
    async teardown() {
      process.off('exit', onExit);
      await teardown();
      log('netns lab: removed');
    },
  };
}

export interface NsNode {
  index: number;
  ip: string;
  /** Public gRPC address (from the host), HTTP base URL, and the peer address (the instance's name). */
  address: string;
  http: string;
  peerAddress: string;
  tlsDir: string;
  child: ChildProcess;
}

export interface NsCluster {
  nodes: NsNode[];
  certsDir: string;
  /** A Peer client of `address`, authenticated as node `as`. */
  peerClient(address: string, as?: number): PeerClient;
  /** SIGTERM every instance (SIGKILL after graceMs) and remove the certificates. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * `faros serve` in each namespace of the lab, every instance knowing the
 * others as seeds, mutual TLS with a throwaway CA (src/cli/certs.ts, as
 * `faros cluster` does); resolves once every instance printed its ready line.
 */
export async function startNsCluster(
  lab: Lab,
  o: { replication: number; serveArgs: string[]; log: (msg: string) => void; readyTimeoutMs?: number },
): Promise<NsCluster> {
  const bin = fileURLToPath(new URL('../../src/bin/faros.js', import.meta.url));
  const peers = lab.ips.map((ip) => `${ip}:${PORTS.peer}`);
  const certsDir = mkdtempSync(join(tmpdir(), 'faros-netns-certs-'));
  const nodes: NsNode[] = [];
  let stopping = false;
  const stop = async (graceMs = 5000): Promise<void> => {
    stopping = true;
    await Promise.all(
      nodes.map(
        (n) =>
          new Promise<void>((resolve) => {
            if (n.child.exitCode !== null || n.child.signalCode !== null) {
              resolve();
              return;
            }
            n.child.once('exit', () => resolve());
            // A stopped (SIGSTOP) instance must run again to handle SIGTERM.
            n.child.kill('SIGCONT');
            n.child.kill('SIGTERM');
            setTimeout(() => n.child.kill('SIGKILL'), graceMs).unref();
          }),
      ),
    );
    rmSync(certsDir, { recursive: true, force: true });
  };
  try {
    const dirs = await makeClusterCerts(certsDir, peers);
    const ready = lab.ips.map((ip, i) => {
      const args = [
        'netns',
        'exec',
        lab.ns[i]!,
        process.execPath,
        bin,
        'serve',
        '--host',
        ip,
        '--allow-anonymous',
        '--grpc-port',
        String(PORTS.grpc),
        '--http-port',
        String(PORTS.http),
        '--peer-port',
        String(PORTS.peer),
        '--peers',
        peers.join(','),
        '--advertise',
        peers[i]!,
        '--peer-tls-dir',
        dirs.get(peers[i]!)!,
        '--replication',
        String(o.replication),
        ...o.serveArgs,
      ];
      // `ip netns exec` execs node in place: the child's PID is the instance's (signals reach it).
      const child = spawn('ip', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      const node: NsNode = {
        index: i,
        ip,
        address: `${ip}:${PORTS.grpc}`,
        http: `http://${ip}:${PORTS.http}`,
        peerAddress: peers[i]!,
        tlsDir: dirs.get(peers[i]!)!,
        child,
      };
      nodes.push(node);
      const tag = `[ns${i} ${ip}]`;
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${tag} not ready in ${o.readyTimeoutMs ?? 60_000} ms`)), o.readyTimeoutMs ?? 60_000);
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line.startsWith('{"event":"ready"')) {
            clearTimeout(t);
            resolve();
          } else o.log(`${tag} ${line}`);
        });
        createInterface({ input: child.stderr! }).on('line', (line) => o.log(`${tag} ${line}`));
        child.on('exit', (code, sig) => {
          clearTimeout(t);
          reject(new Error(`${tag} exited (${sig ?? code}) before it was ready`));
          if (!stopping) o.log(`${tag} exited (${sig ?? code})`);
        });
      });
    });
    await Promise.all(ready);
  } catch (e) {
    await stop(1000);
    throw e;
  }
  const peerClient = (address: string, as = 0): PeerClient => {
    const dir = nodes[as]!.tlsDir;
    return new PeerClient(
      address,
      peerChannelCredentials(readPeerTls({ caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') })),
    );
  };
  return { nodes, certsDir, peerClient, stop };
}
