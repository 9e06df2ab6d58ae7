// The operator commands (`faros maps`, `faros nearby`, `faros driver
// get|update|remove`) of the real binary against real servers: human answers
// and --json, errors that say what to do, and tokens and TLS given as the
// servers were started with them (--tokens, --tls-cert).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, POINTS, ROOT, type Booted } from './helpers.js';
import { createToken } from '../../src/api/tokens.js';
import { issueCertificate } from '../../src/cli/certs.js';

const BIN = join(ROOT, 'dist/src/bin/faros.js');
const M = 'monaco-car';
const at = POINTS.monaco;
const dir = mkdtempSync(join(tmpdir(), 'faros-operator-cli-'));
let plain: Booted;
let secured: Booted;
let token = '';

/** Run `faros ARGS` (the real binary); FAROS_TOKEN only when given. */
function faros(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!env.FAROS_TOKEN) delete e.FAROS_TOKEN;
  const child = spawn(process.execPath, [BIN, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '',
    err = '';
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}
const ok = async (args: string[], env?: Record<string, string>): Promise<string> => {
  const r = await faros(args, env);
  assert.equal(r.code, 0, `faros ${args.join(' ')}: ${r.err}`);
  assert.equal(r.err, '');
  return r.out;
};

before(async () => {
  const tokens = join(dir, 'tokens');
  token = createToken(tokens, 'ops', ['update', 'query']);
  await issueCertificate(join(dir, 'ca'), 'localhost', join(dir, 'server'), ['127.0.0.1', 'localhost']);
  [plain, secured] = await Promise.all([
    boot(['--map', M, '--workers', '1']),
    boot(['--map', M, '--workers', '1', '--tokens', tokens, '--tls-cert', join(dir, 'server', 'tls.crt'), '--tls-key', join(dir, 'server', 'tls.key')]),
  ]);
});
after(async () => {
  await Promise.all([plain?.stop(), secured?.stop()]);
});

test('maps, driver update, nearby, driver get, driver remove: human lines and --json', async () => {
  const t = ['--target', plain.addr];
  const maps = await ok(['maps', ...t]);
  assert.match(maps, /^MAP\s+PROFILE\s+DRIVERS\s+REPLICAS\n/);
  assert.match(maps, /^monaco-car\s+car\s+0\s+\S+/m);
  assert.deepEqual(
    (JSON.parse(await ok(['maps', ...t, '--json'])) as { maps: { mapId: string }[] }).maps.map((m) => m.mapId),
    [M],
  );

  const up = await ok([
    'driver',
    'update',
    ...t,
    '--map',
    M,
    '--id',
    'd1',
    '--lat',
    String(at.lat),
    '--lng',
    String(at.lng),
    '--meta',
    'status=available',
    '--meta',
    'seats=4',
  ]);
  assert.match(up, /^driver d1 on monaco-car at 43\.\d+, 7\.\d+ \(snapped \d+ m to way \d+\)\n$/);
  await ok(['driver', 'update', ...t, '--map', M, '--id', 'd2', '--lat', String(at.lat + 0.002), '--lng', String(at.lng), '--meta', 'status=busy']);

  const near = await ok(['nearby', ...t, '--map', M, '--lat', String(at.lat), '--lng', String(at.lng), '--k', '5']);
  const lines = near.trimEnd().split('\n');
  assert.match(lines[0]!, /^2 drivers nearest to 43\.738400, 7\.424600 on monaco-car by driving distance \(pick-up snapped \d+ m to way \d+; served by \S+\)$/);
  assert.match(lines[1]!, /^ {2}#\s+DRIVER\s+DISTANCE\s+ETA\s+AT\s+METADATA$/);
  assert.match(lines[2]!, /^ {2}1\s+d1\s+\d+ m\s+\d+ s\s+43\.\d+, 7\.\d+\s+seats=4 status=available$/);
  assert.match(lines[3]!, /^ {2}2\s+d2\s/);
  // Filter, metric, k and --json go through as the API's fields.
  const j = JSON.parse(
    await ok(['nearby', ...t, '--map', M, '--lat', String(at.lat), '--lng', String(at.lng), '--metric', 'eta', '--filter', 'status=busy', '--json']),
  ) as {
    drivers: { driver: { driverId: string }; etaS: number }[];
  };
  assert.deepEqual(
    j.drivers.map((d) => d.driver.driverId),
    ['d2'],
  );
  assert.ok(j.drivers[0]!.etaS > 0);
  assert.match(
    await ok(['nearby', ...t, '--map', M, '--lat', String(at.lat), '--lng', String(at.lng), '--filter', 'status=gone']),
    /^0 drivers nearest to .* by driving distance/,
  );

  const got = await ok(['driver', 'get', ...t, '--map', M, '--id', 'd1']);
  assert.match(got, /^driver d1 on monaco-car\n/);
  assert.match(got, /^ {2}metadata\s+seats=4 status=available$/m);
  assert.match(got, /^ {2}timestamp\s+\d{4}-\d\d-\d\dT.*Z \(\d+ s ago\)$/m);
  assert.equal((JSON.parse(await ok(['driver', 'get', ...t, '--map', M, '--id', 'd1', '--json'])) as { driver: { driverId: string } }).driver.driverId, 'd1');

  assert.equal(await ok(['driver', 'remove', ...t, '--map', M, '--id', 'd1']), 'removed driver d1 from monaco-car\n');
  assert.equal(await ok(['driver', 'remove', ...t, '--map', M, '--id', 'd1']), 'driver d1 was not on monaco-car\n');
  const gone = await faros(['driver', 'get', ...t, '--map', M, '--id', 'd1']);
  assert.equal(gone.code, 1);
  assert.match(gone.err, /^faros: NOT_FOUND: .*d1/);
});

test("errors: the server's message with exit 1, bad flags with exit 2, no server with a hint", async () => {
  const unknown = await faros(['nearby', '--target', plain.addr, '--map', 'atlantis-car', '--lat', '1', '--lng', '2']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /^faros: NOT_FOUND: unknown map "atlantis-car"; this (instance|cluster) serves: monaco-car/);
  const far = await faros(['nearby', '--target', plain.addr, '--map', M, '--lat', '0', '--lng', '0']);
  assert.equal(far.code, 1);
  assert.match(far.err, /^faros: OUT_OF_RANGE: /);
  for (const [args, msg] of [
    [['nearby', '--map', M, '--lat', 'north', '--lng', '7'], /--lat must be a number from -90 to 90, not "north"/],
    [['nearby', '--map', M, '--lat', '1', '--lng', '7', '--metric', 'time'], /--metric must be "distance" or "eta"/],
    [['nearby', '--map', M, '--lat', '1'], /missing --lng/],
    [['driver', 'get', '--map', M], /missing --id/],
    [['driver', 'move'], /faros driver get\|remove\|update/],
    [['maps', '--target', 'localhost'], /--target "localhost" is not HOST:PORT/],
    [['driver', 'update', '--map', M, '--id', 'x', '--lat', '1', '--lng', '2', '--meta', 'novalue'], /--meta "novalue" is not KEY=VALUE/],
  ] as const) {
    const r = await faros([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, msg);
  }
  const down = await faros(['maps', '--target', '127.0.0.1:1', '--deadline-ms', '2000']);
  assert.equal(down.code, 1);
  assert.match(down.err, /UNAVAILABLE at 127\.0\.0\.1:1: .*Is a Faros server listening there/);
});

test('tokens and TLS as the server has them: --token-file or FAROS_TOKEN, --tls-ca', async () => {
  // The certificate names localhost (an IP address target takes --tls-server-name localhost).
  const t = ['--target', `localhost:${secured.grpcPort}`, '--tls-ca', join(dir, 'server', 'ca.crt')];
  const anon = await faros(['maps', ...t]);
  assert.equal(anon.code, 1);
  assert.match(anon.err, /UNAUTHENTICATED: .*--token-file FILE or FAROS_TOKEN/);
  const file = join(dir, 'ops.token');
  writeFileSync(file, `${token}\n`);
  assert.match(await ok(['maps', ...t, '--token-file', file]), /^monaco-car\s+car/m);
  assert.match(await ok(['maps', ...t], { FAROS_TOKEN: token }), /^monaco-car\s+car/m);
  const byIp = ['--target', secured.addr, '--tls-ca', join(dir, 'server', 'ca.crt'), '--tls-server-name', 'localhost'];
  assert.match(await ok(['maps', ...byIp], { FAROS_TOKEN: token }), /^monaco-car\s+car/m);
  // Plaintext against a TLS port: the hint names the TLS flags.
  const plainText = await faros(['maps', '--target', secured.addr, '--deadline-ms', '2000'], { FAROS_TOKEN: token });
  assert.equal(plainText.code, 1);
  assert.match(plainText.err, /add --tls or --tls-ca FILE/);
  writeFileSync(file, '\n');
  const empty = await faros(['maps', ...t, '--token-file', file]);
  assert.equal(empty.code, 2);
  assert.match(empty.err, /is empty/);
});
