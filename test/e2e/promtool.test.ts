// The Prometheus exposition passes `promtool check metrics` (Debian package
// `prometheus`; .ci/run installs it). Skipped, saying so, when promtool is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { boot, call, farosClient, POINTS } from './helpers.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const have = promtool.status === 0;

test('GET /metrics passes promtool check metrics', { skip: have ? false : 'promtool not installed (apt-get install prometheus)' }, async () => {
  const srv = await boot(['--map', 'monaco-car']);
  try {
    const c = farosClient(srv.addr);
    await call(c, 'updateDriver', { mapId: 'monaco-car', driverId: 'p1', location: POINTS.monaco });
    await call(c, 'nearby', { mapId: 'monaco-car', location: POINTS.monaco, k: 3 });
    c.close();
    const text = await (await fetch(`${srv.http}/metrics`)).text();
    assert.match(text, /faros_updates_total/);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
  } finally {
    await srv.stop();
  }
});
