// The TCP fault proxy of the fault tests (tools/faults/proxy.ts) in front of
// an echo server on 127.0.0.1: bytes pass unchanged and in order; `delay`
// holds what the target sends by the given time; `hold` passes nothing either
// way (new connections wait) until released, then delivers everything in
// order; `refuse` resets open connections and new ones. Also through the
// child-process wrapper the cluster harness uses.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { startFaultProxy, type FaultProxy } from '../tools/faults/proxy.js';
import { startProxyProcess, type ProxyProcess } from '../tools/faults/proxy-process.js';

let echo: Server;
let echoPort = 0;
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function startEcho(): Promise<void> {
  echo = createServer((s) => {
    // The proxy resets its upstream connections on `refuse`.
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
  cleanups.push(() => new Promise<void>((r) => echo.close(() => r())));
}

/** A client that collects what it receives. */
async function client(port: number): Promise<{ s: Socket; got: () => string; closed: Promise<string> }> {
  const s = connect(port, '127.0.0.1');
  let buf = '';
  s.on('data', (b: Buffer) => {
    buf += b.toString();
  });
  const closed = new Promise<string>((r) => {
    s.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
    s.on('close', () => r('closed'));
  });
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  cleanups.push(() => {
    s.destroy();
  });
  return { s, got: () => buf, closed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, timeoutMs = 3000): Promise<number> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
  return Date.now() - t0;
}

test('the fault proxy passes, delays, holds and refuses', async () => {
  await startEcho();
  const p: FaultProxy = await startFaultProxy({ host: '127.0.0.1', port: echoPort });
  cleanups.push(() => p.close());

  // Pass: an echo comes back unchanged and in order, quickly.
  const a = await client(p.port);
  const msg = Array.from({ length: 2000 }, (_, i) => `m${i};`).join('');
  a.s.write(msg);
  const passMs = await waitFor('the echo through the proxy', () => a.got() === msg);
  assert.ok(passMs < 500, `pass took ${passMs} ms`);

  // Delay: a round trip takes at least the delay, and the bytes stay in order.
  p.set({ kind: 'delay', ms: 150 });
  const before = a.got().length;
  a.s.write('x1;');
  a.s.write('x2;');
  const delayMs = await waitFor('the delayed echo', () => a.got().length === before + 6);
  assert.ok(delayMs >= 140, `a delayed round trip took ${delayMs} ms`);
  assert.equal(a.got().slice(before), 'x1;x2;');

  // Hold: nothing comes back, on the open connection or a new one, until released.
  p.set({ kind: 'hold' });
  const b = await client(p.port);
  a.s.write('h1;');
  b.s.write('h2;');
  await sleep(300);
  assert.equal(a.got().slice(before + 6), '', 'bytes crossed a held connection');
  assert.equal(b.got(), '', 'a connection opened while held was answered');
  p.set({ kind: 'pass' });
  await waitFor('the held bytes after release', () => a.got().endsWith('h1;') && b.got() === 'h2;');

  // Refuse: open connections are reset, new ones closed at once.
  p.set({ kind: 'refuse' });
  assert.match(await a.closed, /ECONNRESET|closed/);
  const c = connect(p.port, '127.0.0.1');
  const end = await new Promise<string>((r) => {
    c.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
    c.on('close', () => r('closed'));
  });
  assert.match(end, /ECONNRESET|closed/);
  assert.ok(p.stats().connections >= 2);
});

test('proxies in a child process: start, delay, release', async () => {
  if (!echoPort) await startEcho();
  const pp: ProxyProcess = await startProxyProcess();
  cleanups.push(() => pp.close());
  const p = await pp.start({ host: '127.0.0.1', port: echoPort });
  const a = await client(p.port);
  a.s.write('one;');
  await waitFor('the echo through the child', () => a.got() === 'one;');
  await p.set({ kind: 'delay', ms: 150 });
  assert.deepEqual(p.fault(), { kind: 'delay', ms: 150 });
  a.s.write('two;');
  const ms = await waitFor('the delayed echo through the child', () => a.got() === 'one;two;');
  assert.ok(ms >= 140, `a delayed round trip took ${ms} ms`);
  await p.set({ kind: 'pass' });
});
