// Smoke test of the load benchmark's quick mode (bench/system/load/run.ts --quick):
// it completes, writes the JSON with the expected fields, and no call failed
// for a reason other than load. It does NOT judge speed (CI machines vary, and
// the suite runs two test files at once): a call that missed its deadline or
// was refused as overload is reported, not failed; any other code fails it. The Redis part is skipped, with
// a note, when redis-server is not installed (the test never installs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('bench/system/load quick mode completes with no unexpected errors and the expected JSON', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faros-bench-smoke-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  // Its own process group, so a timeout kill also ends the server and redis it started.
  const child = spawn(process.execPath, [join(ROOT, 'dist/bench/system/load/run.js'), '--quick', '--no-install', '--results', dir], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '',
    err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const killer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, 80_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(killer);
  try {
    assert.equal(code, 0, `run.js --quick exited with ${code}\n${err.slice(-4000)}`);
    const file = join(dir, 'load-quick.json');
    assert.ok(existsSync(file), `no ${file}; stdout:\n${out.slice(-2000)}`);
    const r = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(r.quick, true);
    for (const k of ['cpu', 'cores', 'node', 'date']) assert.ok(k in r.machine, `machine.${k}`);
    assert.equal(r.scenario.map, 'andorra-car');
    const phases = r.phases as any[];
    const faros = phases.filter((p) => p.system === 'faros');
    for (const kind of ['updates', 'nearby']) {
      assert.ok(
        faros.some((p) => p.kind === kind && p.mode === 'open' && p.proto === 'grpc'),
        `faros open-loop ${kind} phase`,
      );
      assert.ok(
        faros.some((p) => p.kind === kind && p.mode === 'closed' && p.proto === 'grpc'),
        `faros closed-loop ${kind} phase`,
      );
      assert.ok(
        faros.some((p) => p.kind === kind && p.proto === 'http'),
        `faros http ${kind} phase`,
      );
    }
    for (const p of phases) {
      for (const k of ['p50', 'p90', 'p99', 'p999', 'max']) assert.equal(typeof p.latencyMs[k], 'number', `${p.name}: latencyMs.${k}`);
      assert.ok(p.throughput > 0, `${p.name}: nothing answered`);
      const overload = new Set(['DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED']);
      const unexpected = Object.fromEntries(Object.entries(p.errors as Record<string, number>).filter(([code]) => !overload.has(code)));
      assert.deepEqual(unexpected, {}, `${p.name}: unexpected errors`);
      if (Object.keys(p.errors).length) t.diagnostic(`${p.name}: overload on this machine: ${JSON.stringify(p.errors)}`);
      if (p.system === 'faros' && p.proto === 'grpc')
        assert.ok(
          p.server && typeof p.server.cpuCores === 'number' && typeof p.server.lagP99Ms === 'number' && p.server.drivers > 0,
          `${p.name}: server figures from /metrics`,
        );
    }
    if (r.redis) {
      assert.ok(phases.some((p) => p.system === 'redis' && p.kind === 'nearby'));
      assert.ok(r.quality && r.quality.queries > 0 && r.quality.meanOverlap >= 0 && r.quality.meanOverlap <= 1, 'quality figures');
    } else {
      assert.match(String(r.redisMissing), /Redis peer missing|skipped/);
      t.diagnostic(`Redis part skipped: ${r.redisMissing}`);
    }
    for (const f of ['load-quick.md', 'load-nearby-quick.svg', 'load-updates-quick.svg', 'compare-quick.json']) assert.ok(existsSync(join(dir, f)), f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
