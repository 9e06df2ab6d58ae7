// Smoke test of the ID churn benchmark (bench/micro/churn.ts --quick, fewer IDs):
// it completes, writes the JSON and the plots, and the intern tables stayed
// bounded while 3 times the live set of distinct IDs went through (the
// append-only tables handed out a number per ID ever seen). It does not judge
// speed, and RSS only loosely (the suite runs two test files at once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('bench/churn quick mode completes and the intern tables stay bounded', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faros-churn-smoke-'));
  const child = spawn(process.execPath, [join(ROOT, 'dist/bench/micro/churn.js'), '--quick', '--ids', '150000', '--results', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '',
    err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 55_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(killer);
  try {
    assert.equal(code, 0, `churn.js --quick exited with ${code}\n${err.slice(-4000)}\n${out.slice(-2000)}`);
    const r = JSON.parse(readFileSync(join(dir, 'churn-quick.json'), 'utf8'));
    assert.equal(r.quick, true);
    for (const k of ['cpu', 'cores', 'node', 'date']) assert.ok(k in r.machine, `machine.${k}`);
    assert.equal(r.failed, undefined, `no capacity error: ${JSON.stringify(r.failed)}`);
    const s = r.summary,
      live = r.config.live,
      batch = r.config.batch;
    assert.equal(s.idsStreamed, 150_000);
    assert.ok(r.hotPath.updatesPerS > 0);
    assert.ok(r.samples.length >= 10, `${r.samples.length} samples`);
    const bound = live + (r.config.readerPinnedForBatches + 1) * batch;
    assert.ok(s.driversInUseMax <= bound, `driver numbers in use ${s.driversInUseMax} <= ${bound}`);
    assert.ok(s.driverHighWater <= bound, `driver number high-water ${s.driverHighWater} <= ${bound} (IDs streamed: ${s.idsStreamed})`);
    assert.ok(s.idBytesHighWater <= bound * 48, `ID bytes high-water ${s.idBytesHighWater} (36-byte IDs, 48 bytes each)`);
    assert.ok(s.metasetsInUseMax <= bound / 10 + 12 + batch, `metasets in use ${s.metasetsInUseMax}`);
    assert.ok(s.rssGrowthAfterFirstTurnoverMiB < 100, `RSS grew ${s.rssGrowthAfterFirstTurnoverMiB} MiB after the first turnover`);
    for (const f of ['churn-rss-quick.svg', 'churn-numbers-quick.svg']) assert.ok(existsSync(join(dir, f)), f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
