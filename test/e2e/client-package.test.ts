// `import { FarosClient } from 'faros/client'` as users write it: from a
// separate project that depends on this package (a file: dependency, installed
// offline by npm), in JavaScript and in strict TypeScript against the emitted
// declarations, and from inside the package by self-reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './helpers.js';

const run = promisify(execFile);

// A target nobody listens on: the call fails UNAVAILABLE, so the import worked end to end.
const JS = `import { FarosClient, FarosClientError } from 'faros/client';
const c = new FarosClient({ targets: ['127.0.0.1:1'], retry: false, deadlineMs: 2000 });
try { await c.listMaps(); console.log('resolved?'); } catch (e) { console.log(e instanceof FarosClientError, e.code); }
c.close();
`;

const TS = `import { FarosClient, FarosClientError, type NearbyResponse, type RejectedUpdate } from 'faros/client';
const c = new FarosClient({ targets: ['127.0.0.1:1'], token: 't', tls: { serverName: 'x' }, deadlineMs: 100, retry: { maxAttempts: 2 } });
export async function first(): Promise<string | undefined> {
  const r: NearbyResponse = await c.nearby({ mapId: 'm', location: { lat: 1, lng: 2 }, k: 3, metric: 'METRIC_ETA' }, { deadlineMs: 50 });
  const d = r.drivers[0];
  const meters: number | undefined = d?.distanceM;
  void meters;
  return d?.driver?.driverId;
}
export function stream(): void {
  const u = c.streamUpdates({ maxBatch: 10, onRejected: (x: RejectedUpdate) => console.log(x.code, x.update.driverId) });
  void u.write({ mapId: 'm', driverId: 'd', location: { lat: 1, lng: 2 }, timestampMs: Date.now() });
  // @ts-expect-error the proto's field is driverId
  void u.write({ mapId: 'm', driver_id: 'd' });
}
export const isClientError = (e: unknown): boolean => e instanceof FarosClientError && e.code === 'UNAVAILABLE';
// @ts-expect-error k is a number
void c.nearby({ mapId: 'm', k: 'ten' });
// @ts-expect-error no such method
void c.nearbyy({});
`;

test('a project that depends on faros imports faros/client in JavaScript and in strict TypeScript', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(join(ROOT, 'dist/src/client/index.d.ts')), 'dist/src/client/index.d.ts is missing: run `npm run build` (it emits the declarations)');
  const dir = mkdtempSync(join(tmpdir(), 'faros-consumer-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { faros: `file:${ROOT}` } }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, timeout: 60_000 });
    writeFileSync(join(dir, 'app.mjs'), JS);
    const js = await run(process.execPath, ['app.mjs'], { cwd: dir, timeout: 20_000 });
    assert.equal(js.stdout.trim(), 'true UNAVAILABLE');

    writeFileSync(join(dir, 'app.ts'), TS);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['app.ts'],
      }),
    );
    // Fails on a type error, and on an @ts-expect-error that is not one (types that were `any`).
    const tsc = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, timeout: 90_000 }).catch(
      (e: { stdout: string }) => e,
    );
    assert.equal(tsc.stdout, '', 'tsc found errors');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inside the package, faros/client resolves by self-reference', async () => {
  const r = await run(process.execPath, ['--input-type=module', '-e', JS], { cwd: ROOT, timeout: 20_000 });
  assert.equal(r.stdout.trim(), 'true UNAVAILABLE');
});
