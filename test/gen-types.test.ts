// The checked-in generated types (src/gen) equal a fresh generation from
// proto/: a proto change without `npm run gen` fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out.set(relative(dir, p), readFileSync(p, 'utf8'));
  }
  return out;
}

test('src/gen is what `npm run gen` generates from proto/', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faros-gen-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'tools', 'gen-types.mjs'), dir], { cwd: ROOT, stdio: 'pipe' });
    const fresh = files(dir);
    const checkedIn = files(join(ROOT, 'src', 'gen'));
    assert.ok(fresh.size > 40, `the generator wrote only ${fresh.size} files`);
    assert.deepEqual([...checkedIn.keys()].sort(), [...fresh.keys()].sort(), 'src/gen has other files than a fresh generation: run npm run gen');
    for (const [name, text] of fresh) assert.equal(checkedIn.get(name), text, `src/gen/${name} differs from a fresh generation: run npm run gen`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
