// A quiet start: `faros cluster` (what `npm start` runs) prints a few human
// lines — where each instance listens, which maps it holds, where its logs
// are, examples that work — and sends the instances' JSON logs to files;
// `--log-format json` puts them on the console instead. The real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { boot } from './helpers.js';

const BIN = fileURLToPath(new URL('../../src/bin/faros.js', import.meta.url));

/** Start `faros cluster ARGS`; resolves with its output once it printed its last start-up line. */
async function startCluster(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'cluster', '--nodes', '2', '--replication', '2', '--grpc-port', '0', '--http-port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [],
    stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | string | null>((r) => child.on('exit', (code, sig) => r(code ?? sig)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "Ctrl-C" line within 90 s:\n${stdout.join('\n')}\n${stderr.join('\n')}`)), 90_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      stdout.push(l);
      if (l.startsWith('Ctrl-C')) {
        clearTimeout(t);
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`faros cluster exited (${code}):\n${stdout.join('\n')}\n${stderr.join('\n')}`)));
  });
  const stop = async (): Promise<number | string | null> => {
    child.kill('SIGINT');
    return exited;
  };
  return { stdout, stderr, stop };
}

test('faros cluster: a short human start-up, JSON logs in the files it names, examples that work', { timeout: 150_000 }, async () => {
  const logDir = join(mkdtempSync(join(tmpdir(), 'faros-start-')), 'logs');
  const c = await startCluster(['--map', 'monaco-car', '--log-dir', logDir]);
  try {
    const out = c.stdout.join('\n');
    assert.ok(c.stdout.length <= 16, `${c.stdout.length} lines:\n${out}`);
    assert.deepEqual(c.stderr, [], 'nothing on stderr');
    assert.ok(!c.stdout.some((l) => l.startsWith('{')), 'no JSON on the console');
    assert.match(out, /^Ready in [\d.]+ s\. Any instance answers any map; 1 map, each on 2 instances:$/m);
    for (const i of [0, 1]) {
      const file = join(logDir, `node${i}.log`);
      assert.match(out, new RegExp(`^  node${i}  gRPC 127\\.0\\.0\\.1:\\d+  HTTP http://127\\.0\\.0\\.1:\\d+  holds monaco-car  log ${file}$`, 'm'));
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      const json = lines.map((l) => JSON.parse(l) as { msg: string; instance?: string });
      assert.ok(
        json.some((x) => x.msg === 'ready'),
        `node${i}'s log has its ready line`,
      );
    }
    // The printed examples run as printed (the update, then the nearby query that finds it).
    const curl = (l: string) => /^ {2}curl -s -X POST (\S+) -d '(.*)'$/.exec(l);
    const [update, nearby] = c.stdout.map(curl).filter((m) => m !== null);
    assert.ok(update && nearby, out);
    const post = async (m: RegExpExecArray) => {
      const r = await fetch(m[1]!, { method: 'POST', body: m[2] });
      return { status: r.status, json: (await r.json()) as Record<string, unknown> };
    };
    assert.equal((await post(update)).status, 200);
    const near = await post(nearby);
    assert.equal(near.status, 200, JSON.stringify(near.json));
    // The simulated fleet of the map page drives on the same map: d1 is among the answer.
    const ids = (near.json.drivers as { driver: { driverId: string } }[]).map((d) => d.driver.driverId);
    assert.ok(ids.includes('d1'), `d1 is found: ${ids.join(', ')}`);
    assert.match(out, /^Live map: http:\/\/127\.0\.0\.1:\d+\/\?map=monaco-car {2}\(300 simulated drivers on monaco-car; --sim-drivers 0 for none\)$/m);
  } finally {
    assert.equal(await c.stop(), 0);
  }
  assert.equal(c.stdout.at(-1), `Stopped. The logs stay in ${logDir}`);
  assert.ok(existsSync(join(logDir, 'node0.log')));
});

test('faros cluster --log-format json: every instance log line on stderr is JSON, the banner stays human', { timeout: 150_000 }, async () => {
  const c = await startCluster(['--map', 'monaco-car', '--log-format', 'json']);
  const code = await c.stop();
  assert.equal(code, 0, c.stdout.slice(-3).join('\n') + c.stderr.filter((l) => !l.startsWith('{')).join('\n'));
  assert.match(c.stdout.join('\n'), /their JSON logs follow on stderr/);
  assert.ok(c.stderr.length >= 10, `${c.stderr.length} log lines`);
  const instances = new Set<string>();
  for (const l of c.stderr) {
    const x = JSON.parse(l) as { level: number; msg: string; instance?: string };
    assert.equal(typeof x.level, 'number', l);
    if (x.instance) instances.add(x.instance);
  }
  assert.equal(instances.size, 2, [...instances].join(', '));
});

test('faros cluster rejects an unknown --log-format and names the choices', async () => {
  const child = spawn(process.execPath, [BIN, 'cluster', '--log-format', 'xml'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b) => {
    err += b;
  });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 2);
  assert.match(err, /--log-format must be "human" or "json", not "xml"/);
});

test('faros serve --log-file: the JSON logs go to the file (its directory made), stderr stays empty, the ready line on stdout', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'faros-serve-log-')), 'sub', 'serve.log');
  const srv = await boot(['--map', 'monaco-car', '--workers', '1', '--log-level', 'info', '--log-file', file]);
  let code: number | null;
  try {
    assert.equal((await fetch(`${srv.http}/readyz`)).status, 200);
  } finally {
    code = await srv.stop();
  }
  assert.equal(code, 0);
  assert.equal(srv.stderr(), '');
  const msgs = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
  for (const m of ['starting', 'ready', 'stopped']) assert.ok(msgs.includes(m), `"${m}" in ${msgs.join(' | ')}`);
});
