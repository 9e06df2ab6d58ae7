// SIGTERM: stop accepting, let the running call finish within the grace
// period, exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, call, farosClient, POINTS } from './helpers.js';

test('SIGTERM with an open stream and a finished call exits 0 within the grace period', async () => {
  const srv = await boot(['--map', 'monaco-car', '--shutdown-grace-ms', '500']);
  const c = farosClient(srv.addr);
  await call(c, 'updateDriver', { mapId: 'monaco-car', driverId: 'z', location: POINTS.monaco });
  const s = c.streamDriverUpdates();
  s.on('error', () => undefined); // cut by the server after the grace period
  s.write({ updates: [{ mapId: 'monaco-car', driverId: 'y', location: POINTS.monaco }] });
  await new Promise((r) => s.once('data', r));
  const t0 = Date.now();
  const code = await srv.stop();
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 5000);
  assert.doesNotMatch(srv.stderr(), /"level":50/, 'no error logged for a stream cut at shutdown');
  c.close();
});
