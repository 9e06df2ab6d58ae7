// Shared by the e2e tests: boot a real `serve-main` process on port 0 and talk
// to it with a real @grpc/grpc-js client and fetch. (Also run by node --test as
// a file of its own: it only exports.)
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, PROTO_DIR } from '../../src/api/proto.js';
import { call, type FarosClient } from '../../tools/faults/client.js';
import { protoPath as healthProto } from 'grpc-health-check';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'dist/test/e2e/serve-main.js');

export interface Booted {
  proc: ChildProcess;
  grpcPort: number;
  httpPort: number;
  addr: string;
  http: string;
  stderr: () => string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function boot(args: string[], timeoutMs = 40_000): Promise<Booted> {
  const env: NodeJS.ProcessEnv = { ...process.env, FAROS_LOG_LEVEL: process.env.FAROS_LOG_LEVEL ?? 'warn' };
  delete env.NODE_TEST_CONTEXT;
  const proc = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--grpc-port', '0', '--http-port', '0', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server not ready in ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`server exited with ${code} before ready:\n${err}`));
    });
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const m = JSON.parse(line) as { event?: string; grpcPort: number; httpPort: number };
      if (m.event === 'ready') {
        clearTimeout(t);
        resolve(m);
      }
    });
  });
  return {
    proc,
    ...ready,
    addr: `127.0.0.1:${ready.grpcPort}`,
    http: `http://127.0.0.1:${ready.httpPort}`,
    stderr: () => err,
    stop: () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

export { farosClient, call, streamBatch, nearRoad, statusName, type FarosClient } from '../../tools/faults/client.js';

const healthPkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProto, LOADER_OPTIONS)) as any;
const require = createRequire(import.meta.url);
const reflectionProto = join(require.resolve('@grpc/reflection/package.json'), '..', 'build/proto/grpc/reflection/v1/reflection.proto');
const reflectionPkg = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] })) as any;

export const healthClient = (addr: string): any => new healthPkg.grpc.health.v1.Health(addr, grpc.credentials.createInsecure());
export const reflectionClient = (addr: string): any => new reflectionPkg.grpc.reflection.v1.ServerReflection(addr, grpc.credentials.createInsecure());

/** The gRPC status of a failing call. */
export async function callError(client: any, method: string, req: unknown, deadlineMs?: number): Promise<{ code: string; details: string }> {
  try {
    await call(client, method, req, deadlineMs);
  } catch (e) {
    const se = e as grpc.ServiceError;
    return { code: grpc.status[se.code]!, details: se.details };
  }
  throw new Error(`${method} succeeded; expected an error`);
}

/** Send batches on one stream; the responses in order. */
export async function stream(client: FarosClient, batches: unknown[]): Promise<any[]> {
  const s = client.streamDriverUpdates();
  const out: any[] = [];
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (r: any) => out.push(r));
    s.on('end', () => resolve());
    s.on('error', reject);
  });
  for (const b of batches) s.write(b);
  s.end();
  await done;
  return out;
}

export async function httpJson(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** Parse Prometheus text: series "name{labels}" → value. */
export { parseProm as parseMetrics } from '../../tools/prom-text.js';

/** A point on a road of each test map (snaps within a few metres). */
export const POINTS = {
  monaco: { lat: 43.7384, lng: 7.4246 },
  bayfront: { lat: 1.2805, lng: 103.8595 },
};

/**
 * A waitFor(what, fn, timeoutMs?) that polls fn every 100 ms until it gives a
 * value (a throw counts as not yet); past the timeout it fails naming what it
 * waited for, the last error and the last lines of logs.
 */
export function poller(logs: readonly string[], defaultMs = 30_000) {
  return async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = defaultMs): Promise<T> {
    const t0 = Date.now();
    let last = '';
    for (;;) {
      try {
        const v = await fn();
        if (v !== undefined) return v;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? ` (${last})` : ''}\n${logs.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
}
