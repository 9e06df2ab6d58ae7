// Start a throw-away redis-server on 127.0.0.1 and a free port (no persistence),
// installing the Debian package when missing and we are root. When it cannot
// be had, says "Redis peer missing: …" and returns undefined: the run goes on.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Resp } from './resp.js';

export interface RedisPeer {
  port: number;
  proc: ChildProcess;
  version: string;
  stop(): Promise<void>;
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export async function startRedis(opts: { install: boolean; log?: (m: string) => void }): Promise<RedisPeer | undefined> {
  const log = opts.log ?? ((m: string) => console.error(m));
  if (!which('redis-server')) {
    if (!opts.install) {
      log('Redis peer missing: redis-server is not installed (apt-get install -y redis-server); continuing without it');
      return undefined;
    }
    if (process.getuid?.() !== 0) {
      log('Redis peer missing: redis-server is not installed and we are not root to apt-get it; continuing without it');
      return undefined;
    }
    log('redis-server missing: apt-get install -y redis-server …');
    const r = spawnSync('apt-get', ['install', '-y', 'redis-server'], {
      stdio: 'ignore',
      timeout: 180_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status !== 0 || !which('redis-server')) {
      log(`Redis peer missing: apt-get install redis-server failed (exit ${r.status}); continuing without it`);
      return undefined;
    }
  }
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const c = await Resp.connect('127.0.0.1', port);
      const info = await c.send(['INFO', 'server']);
      c.close();
      const version = /redis_version:(\S+)/.exec(String(info))?.[1] ?? '?';
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      return {
        port,
        proc,
        version,
        stop: async () => {
          proc.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        },
      };
    } catch {
      if (Date.now() > deadline || proc.exitCode !== null) {
        proc.kill('SIGKILL');
        log(`Redis peer missing: redis-server did not start: ${err.trim()}`);
        return undefined;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
