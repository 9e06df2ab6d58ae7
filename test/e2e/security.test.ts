// The public ports of a real server process behind tokens and TLS: missing,
// wrong, wrong-scope and revoked tokens (SIGHUP while a stream is open), the
// open probes, TLS on both ports, the refusal to serve anonymously off
// loopback, and a slowloris on HTTP that does not stop gRPC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { request } from 'node:https';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { boot, parseMetrics, POINTS, ROOT, type Booted } from './helpers.js';
import { LOADER_OPTIONS, FAROS_PROTO } from '../../src/api/proto.js';
import { createToken } from '../../src/api/tokens.js';
import { issueCertificate } from '../../src/cli/certs.js';

const M = 'monaco-car';
const dir = mkdtempSync(join(tmpdir(), 'faros-security-'));
const tokensFile = join(dir, 'tokens');
const T = {
  all: createToken(tokensFile, 'ingest', ['update', 'query']),
  query: createToken(tokensFile, 'dispatch', ['query']),
  update: createToken(tokensFile, 'drivers-app', ['update']),
};
let srv: Booted;
let ca: Buffer;
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(FAROS_PROTO, LOADER_OPTIONS)) as any;
const healthPkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProto, LOADER_OPTIONS)) as any;
let client: any;

before(async () => {
  await issueCertificate(join(dir, 'ca'), 'localhost', join(dir, 'server'), ['127.0.0.1', 'localhost']);
  ca = readFileSync(join(dir, 'server', 'ca.crt'));
  srv = await boot([
    '--map',
    M,
    '--tokens',
    tokensFile,
    '--tls-cert',
    join(dir, 'server', 'tls.crt'),
    '--tls-key',
    join(dir, 'server', 'tls.key'),
    '--http-request-timeout-ms',
    '1500',
    '--max-connections',
    '64',
  ]);
  client = new pkg.faros.v1.Faros(srv.addr, grpc.credentials.createSsl(ca));
});
after(async () => {
  client?.close();
  if (srv) assert.equal(await srv.stop(), 0);
});

const md = (token?: string): grpc.Metadata => {
  const m = new grpc.Metadata();
  if (token !== undefined) m.set('authorization', `Bearer ${token}`);
  return m;
};

function rpc(method: string, req: unknown, token?: string, c = client): Promise<any> {
  return new Promise((resolve, reject) => {
    c[method](req, md(token), { deadline: Date.now() + 5000 }, (e: grpc.ServiceError | null, r: unknown) => (e ? reject(e) : resolve(r)));
  });
}
async function rpcCode(method: string, req: unknown, token?: string): Promise<[string, string]> {
  try {
    await rpc(method, req, token);
    return ['OK', ''];
  } catch (e) {
    const se = e as grpc.ServiceError;
    return [grpc.status[se.code]!, se.details];
  }
}

/** HTTPS request trusting the test CA. */
function https(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const r = request({ host: '127.0.0.1', port: srv.httpPort, method, path, ca, servername: 'localhost', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode!, json });
      });
    });
    r.on('error', reject);
    r.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const upd = (driverId: string) => ({ mapId: M, driverId, location: POINTS.monaco });
const near = { mapId: M, location: POINTS.monaco, k: 5 };

test('gRPC: no token UNAUTHENTICATED, unknown token UNAUTHENTICATED, wrong scope PERMISSION_DENIED, right scope OK', async () => {
  assert.deepEqual((await rpcCode('updateDriver', upd('s1')))[0], 'UNAUTHENTICATED');
  assert.match((await rpcCode('updateDriver', upd('s1')))[1], /authorization: Bearer/);
  assert.deepEqual((await rpcCode('updateDriver', upd('s1'), 'faros_not-a-real-token'))[0], 'UNAUTHENTICATED');
  const denied = await rpcCode('updateDriver', upd('s1'), T.query);
  assert.equal(denied[0], 'PERMISSION_DENIED');
  assert.match(denied[1], /token "dispatch" has scopes query; UpdateDriver needs scope "update"/);
  assert.equal((await rpcCode('nearby', near, T.update))[0], 'PERMISSION_DENIED');
  assert.equal((await rpcCode('getDriver', { mapId: M, driverId: 's1' }, T.all))[0], 'NOT_FOUND', 'the refused update stored nothing');
  assert.equal((await rpc('updateDriver', upd('s1'), T.update)).stale, false);
  assert.equal((await rpc('nearby', near, T.query)).drivers[0].driver.driverId, 's1');
  assert.equal((await rpcCode('nearbyBatch', { queries: [near] }))[0], 'UNAUTHENTICATED');
  assert.equal((await rpcCode('nearbyBatch', { queries: [near] }, T.update))[0], 'PERMISSION_DENIED');
  assert.equal((await rpc('nearbyBatch', { queries: [near] }, T.query)).results[0].response.drivers[0].driver.driverId, 's1');
  assert.equal((await rpcCode('removeDriver', { mapId: M, driverId: 's1' }, T.query))[0], 'PERMISSION_DENIED');
  assert.equal((await rpcCode('listMaps', {}))[0], 'UNAUTHENTICATED');
  assert.equal((await rpc('listMaps', {}, T.query)).maps[0].mapId, M);
});

test('gRPC health stays open; plaintext to a TLS port fails', async () => {
  const h = new healthPkg.grpc.health.v1.Health(srv.addr, grpc.credentials.createSsl(ca));
  const r = await new Promise<any>((res, rej) => h.check({ service: '' }, (e: unknown, x: unknown) => (e ? rej(e) : res(x))));
  assert.equal(r.status, 'SERVING');
  h.close();
  const plain = new pkg.faros.v1.Faros(srv.addr, grpc.credentials.createInsecure());
  await assert.rejects(rpc('listMaps', {}, T.query, plain), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE);
  plain.close();
});

test('HTTPS: 401 without a token, 403 with the wrong scope, probes and metrics open', async () => {
  const a = await https('POST', '/v1/drivers:update', upd('h1'));
  assert.deepEqual([a.status, a.json.error.status], [401, 'UNAUTHENTICATED']);
  const b = await https('POST', '/v1/drivers:update', upd('h1'), T.query);
  assert.deepEqual([b.status, b.json.error.status], [403, 'PERMISSION_DENIED']);
  assert.equal((await https('GET', `/v1/maps/${M}/drivers/h1`, undefined, T.query)).status, 404, 'nothing was stored by refused calls');
  assert.equal((await https('POST', '/v1/drivers:update', upd('h1'), T.all)).status, 200);
  assert.equal((await https('GET', `/v1/maps/${M}/drivers/h1`, undefined, T.query)).status, 200);
  assert.equal((await https('GET', '/v1/maps')).status, 401);
  for (const p of ['/healthz', '/readyz', '/metrics', '/openapi.json']) assert.equal((await https('GET', p)).status, 200, p);
  const m = parseMetrics((await https('GET', '/metrics')).json as string);
  assert.ok(m.get('faros_http_requests_total{method="UpdateDriver",code="401"}')! >= 1);
  assert.equal(m.get('faros_tokens'), 3);
});

test('a token revoked by a SIGHUP reload ends its open stream; new tokens work without a restart; a broken file keeps the old ones', {
  timeout: 30_000,
}, async () => {
  const s = client.streamDriverUpdates(md(T.all));
  const answers: any[] = [];
  const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
    s.on('data', (r: any) => answers.push(r));
    s.on('error', (e: grpc.ServiceError) => resolve(e));
    s.on('end', () => resolve(undefined));
  });
  s.write({ updates: [upd('r1')] });
  // A stream on a token the reload keeps ("drivers-app") must live on.
  const kept$ = client.streamDriverUpdates(md(T.update));
  const keptAnswers: any[] = [];
  kept$.on('data', (r: any) => keptAnswers.push(r));
  kept$.on('error', () => {});
  kept$.write({ updates: [upd('k1')] });
  while (answers.length < 1 || keptAnswers.length < 1) await new Promise((r) => setTimeout(r, 20));
  assert.equal(answers[0].accepted, 1);
  // Revoke "ingest", keep the others, add one.
  const kept = readFileSync(tokensFile, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('ingest '))
    .join('\n');
  writeFileSync(tokensFile, kept);
  const fresh = createToken(tokensFile, 'late', ['query']);
  const reloads = async (): Promise<number> => parseMetrics((await https('GET', '/metrics')).json as string).get('faros_token_reloads_total{result="ok"}') ?? 0;
  srv.proc.kill('SIGHUP');
  while ((await reloads()) < 1) await new Promise((r) => setTimeout(r, 50));
  s.write({ updates: [upd('r2')] });
  const e = await ended;
  assert.ok(e, 'the stream ended with an error');
  assert.equal(grpc.status[e.code], 'UNAUTHENTICATED');
  assert.match(e.details, /revoked/);
  assert.equal(answers.length, 1, 'nothing after the revocation was answered');
  kept$.write({ updates: [upd('k2')] });
  while (keptAnswers.length < 2) await new Promise((r) => setTimeout(r, 20));
  assert.equal(keptAnswers[1].accepted, 1, 'a stream whose token the reload kept goes on');
  kept$.end();
  assert.equal((await rpcCode('getDriver', { mapId: M, driverId: 'r2' }, T.query))[0], 'NOT_FOUND', 'the batch after the revocation stored nothing');
  assert.equal((await rpcCode('listMaps', {}, T.all))[0], 'UNAUTHENTICATED');
  assert.equal((await rpc('listMaps', {}, fresh)).maps.length, 1);
  // A broken file: the reload fails and the tokens in force stay.
  writeFileSync(tokensFile, 'this is not a tokens file\n');
  srv.proc.kill('SIGHUP');
  const failed = async (): Promise<number> =>
    parseMetrics((await https('GET', '/metrics')).json as string).get('faros_token_reloads_total{result="failed"}') ?? 0;
  while ((await failed()) < 1) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await rpc('listMaps', {}, fresh)).maps.length, 1);
});

test('slowloris on HTTP (more slow sockets than --max-connections) does not stop gRPC; the server cuts them', async () => {
  const sockets: TLSSocket[] = [];
  let closed = 0;
  for (let i = 0; i < 100; i++) {
    // A full TLS handshake, then headers that never end.
    const s = tlsConnect({ port: srv.httpPort, host: '127.0.0.1', ca, servername: 'localhost' });
    s.on('error', () => {});
    s.on('close', () => {
      closed++;
    });
    s.write('GET /healthz HTTP/1.1\r\nhost: x\r\n');
    sockets.push(s);
  }
  const drip = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('x-slow: 1\r\n');
  }, 200);
  try {
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) await rpc('nearby', near, T.query);
    const ms = Date.now() - t0;
    assert.ok(ms < 5000, `20 gRPC calls took ${ms} ms during the slowloris`);
    // Every slow socket is closed by the server (connection limit at once, request/handshake timeout later).
    const until = Date.now() + 15_000;
    while (closed < sockets.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.equal(closed, sockets.length, `${sockets.length - closed} slow sockets still open`);
  } finally {
    clearInterval(drip);
    for (const s of sockets) s.destroy();
  }
  assert.equal((await https('GET', '/healthz')).status, 200, 'HTTP serves again');
});

test('on a non-loopback host without tokens, serve refuses to start and says how to fix it', async () => {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const p = spawn(process.execPath, [join(ROOT, 'dist/test/e2e/serve-main.js'), '--map', M, '--host', '0.0.0.0', '--grpc-port', '0', '--http-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let err = '';
  p.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => p.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(err, /--tokens FILE/);
  assert.match(err, /--allow-anonymous/);
});
