// What `npm pack` ships: the compiled server and CLI, the protos, the maps
// and the docs, not tests, benchmarks, sources or the local map cache; and
// every package the shipped code imports is a runtime dependency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

test('npm pack ships dist/src, proto, maps, docs and README, and no tests, benchmarks, sources or map cache', () => {
  // --ignore-scripts: no `prepare` (tsc) here; dist/ is already built by `npm test`.
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  const maps = JSON.parse(readFileSync(join(ROOT, 'maps/maps.json'), 'utf8')) as Record<string, { file: string }>;
  const needed = [
    'package.json',
    'README.md',
    'SECURITY.md',
    ...Object.values(pkg.bin),
    'dist/src/cli/serve.js',
    'dist/src/threads/worker.js',
    // import { FarosClient } from 'faros/client': the code and its types.
    'dist/src/client/index.js',
    'dist/src/client/index.d.ts',
    'proto/faros/v1/faros.proto',
    'proto/faros/v1/peer.proto',
    'maps/maps.json',
    'maps/ATTRIBUTION.md',
    ...Object.values(maps).map((m) => join('maps', m.file)),
    ...readdirSync(join(ROOT, 'maps/profiles')).map((f) => `maps/profiles/${f}`),
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  // The map page's static files (GET /), when this checkout has them.
  const web = join(ROOT, 'web');
  if (existsSync(web))
    for (const f of readdirSync(web, { recursive: true, withFileTypes: true })) if (f.isFile()) needed.push(relative(ROOT, join(f.parentPath, f.name)));
  for (const f of needed) assert.ok(files.has(f), `the package lacks ${f}`);
  const banned = /^(dist\/test|dist\/bench|dist\/tools|test|bench|tools|src|cluster|\.ci|maps\/\.cache|node_modules)\/|\.ts$|\.map$/;
  const shipped = [...files].filter((f) => banned.test(f) && !f.endsWith('.d.ts'));
  assert.deepEqual(shipped, [], 'not for users');
});

test('every package that src/ imports is a runtime dependency (none only in devDependencies)', () => {
  const builtins = new Set(builtinModules);
  const found = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(p, 'utf8');
        for (const [, spec] of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)) {
          if (spec!.startsWith('.') || spec!.startsWith('node:') || builtins.has(spec!)) continue;
          // The package name: @scope/name or name.
          const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
          found.set(name, p.slice(ROOT.length));
        }
      }
    }
  };
  walk(join(ROOT, 'src'));
  assert.ok(found.size >= 5, [...found.keys()].join(', '));
  for (const [name, where] of found) {
    // Type-only packages (@types/…) never load at run time.
    if (name.startsWith('@types/')) continue;
    assert.ok(
      pkg.dependencies[name],
      `${where} imports ${name}, which is not in "dependencies"${pkg.devDependencies[name] ? ' (only in devDependencies)' : ''}`,
    );
  }
  assert.equal(pkg.dependencies.autocannon, undefined, 'autocannon is a benchmark tool');
});
