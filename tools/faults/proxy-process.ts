// Fault proxies (./proxy.ts) in a child process of their own, so a busy load
// generator in the calling process does not add delay to the links they
// carry. The caller starts proxies and sets their faults over IPC; each call
// resolves once the child applied it. Run as a script, this file is the child.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFaultProxy, type Fault, type FaultProxy } from './proxy.js';

/** A proxy living in the child process. */
export interface RemoteProxy {
  readonly address: string;
  readonly port: number;
  fault(): Fault;
  set(f: Fault): Promise<void>;
}

export interface ProxyProcess {
  start(target: { host: string; port: number }): Promise<RemoteProxy>;
  close(): Promise<void>;
}

type Ask = { op: 'start'; target: { host: string; port: number } } | { op: 'set'; proxy: number; fault: Fault };
type Req = Ask & { id: number };
type Res = { id: number; port?: number; error?: string };

export async function startProxyProcess(): Promise<ProxyProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve: (r: Res) => void; reject: (e: Error) => void }>();
  let seq = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const w of waiting.values()) w.reject(new Error('the fault proxy process exited'));
    waiting.clear();
  });
  child.on('message', (m: Res) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error) w?.reject(new Error(m.error));
    else w?.resolve(m);
  });
  const ask = (r: Ask): Promise<Res> =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, { resolve, reject });
      child.send({ ...r, id });
    });
  return {
    async start(target) {
      // A proxy is named by the id of the request that started it.
      const { id: index, port } = await ask({ op: 'start', target });
      let current: Fault = { kind: 'pass' };
      return {
        address: `127.0.0.1:${port}`,
        port: port!,
        fault: () => current,
        async set(f) {
          await ask({ op: 'set', proxy: index, fault: f });
          current = f;
        },
      };
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.disconnect();
        await exited;
      }
    },
  };
}

// The child: proxies by the id of the request that started them; exits when the parent goes.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const proxies = new Map<number, FaultProxy>();
  process.on('message', async (r: Req) => {
    try {
      if (r.op === 'start') {
        const p = await startFaultProxy(r.target);
        proxies.set(r.id, p);
        process.send!({ id: r.id, port: p.port });
      } else {
        proxies.get(r.proxy)!.set(r.fault);
        process.send!({ id: r.id });
      }
    } catch (e) {
      process.send!({ id: r.id, error: (e as Error).message });
    }
  });
  process.on('disconnect', () => {
    void Promise.all([...proxies.values()].map((p) => p.close())).then(() => process.exit(0));
  });
}
