#!/usr/bin/env node
// Fails when the TypeScript sources import each other in a cycle (type-only
// imports included: a cycle of types is still a knot for the reader).
//   node tools/check-cycles.mjs [dir...]   (default: src)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['src'];
const files = [];
const walk = (d) => {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(resolve(p));
  }
};
roots.forEach(walk);
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm;
const graph = new Map();
for (const f of files) {
  const deps = [];
  for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) deps.push(resolve(dirname(f), m[1].replace(/\.js$/, '.ts')));
  graph.set(
    f,
    deps.filter((d) => graph.has(d) || files.includes(d)),
  );
}
// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const idx = new Map(),
  low = new Map(),
  stack = [],
  on = new Set(),
  cycles = [];
const visit = (v) => {
  idx.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1) cycles.push(comp);
  }
};
for (const f of files) if (!idx.has(f)) visit(f);
if (cycles.length === 0) {
  console.log(`no import cycles among ${files.length} files`);
  process.exit(0);
}
for (const c of cycles)
  console.error(
    `import cycle: ${c
      .map((f) => relative(process.cwd(), f))
      .sort()
      .join(' ↔ ')}`,
  );
process.exit(1);
