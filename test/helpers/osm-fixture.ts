// Tiny OSM XML fixtures for tests, drawn on a grid: node (col, row) sits at
// lat = lat0 + row·STEP, lon = lon0 + col·STEP (STEP = 0.001° ≈ 111 m).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const STEP = 0.001;

export type Id = string | number;
export interface FxNode {
  id: Id;
  lat: number;
  lon: number;
}
export interface FxWay {
  id: Id;
  nodes: Id[];
  tags: Record<string, string>;
}
export interface FxMember {
  type: 'node' | 'way' | 'relation';
  ref: Id;
  role: string;
}
export interface FxRelation {
  id: Id;
  members: FxMember[];
  tags: Record<string, string>;
}
export interface Fixture {
  nodes: FxNode[];
  ways: FxWay[];
  relations?: FxRelation[];
  /** Write ways, then relations, then nodes (OSM files may come out of order). */
  outOfOrder?: boolean;
}

/** Nodes from a {id: [col, row]} table on the grid. */
export function gridNodes(table: Record<string, readonly [number, number]>, lat0 = 0, lon0 = 0): FxNode[] {
  return Object.entries(table).map(([id, [col, row]]) => ({ id, lat: lat0 + row * STEP, lon: lon0 + col * STEP }));
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const tagsXml = (t: Record<string, string>) =>
  Object.entries(t)
    .map(([k, v]) => `    <tag k="${esc(k)}" v="${esc(v)}"/>\n`)
    .join('');

export function osmXml(f: Fixture): string {
  const nodes = f.nodes.map((n) => `  <node id="${n.id}" version="1" lat="${n.lat}" lon="${n.lon}"/>\n`).join('');
  const ways = f.ways
    .map((w) => `  <way id="${w.id}" version="1">\n${w.nodes.map((r) => `    <nd ref="${r}"/>\n`).join('')}${tagsXml(w.tags)}  </way>\n`)
    .join('');
  const rels = (f.relations ?? [])
    .map(
      (r) =>
        `  <relation id="${r.id}" version="1">\n${r.members.map((m) => `    <member type="${m.type}" ref="${m.ref}" role="${esc(m.role)}"/>\n`).join('')}${tagsXml(r.tags)}  </relation>\n`,
    )
    .join('');
  const body = f.outOfOrder ? ways + rels + nodes : nodes + ways + rels;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="faros-test">\n${body}</osm>\n`;
}

let dir: string | undefined;
/** Write a fixture as .osm into a per-process temp dir; returns the path. */
export function writeFixture(name: string, f: Fixture): string {
  dir ??= mkdtempSync(join(tmpdir(), 'faros-fx-'));
  const file = join(dir, `${name}.osm`);
  writeFileSync(file, osmXml(f));
  return file;
}

/** A restriction relation. */
export function restriction(id: Id, from: Id, via: Id, to: Id, tags: Record<string, string>): FxRelation {
  return {
    id,
    members: [
      { type: 'way', ref: from, role: 'from' },
      { type: 'node', ref: via, role: 'via' },
      { type: 'way', ref: to, role: 'to' },
    ],
    tags: { type: 'restriction', ...tags },
  };
}
