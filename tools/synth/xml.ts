// Writes a CityModel as OSM XML (0.6), streamed in ~1 MB chunks. Slower to
// parse than PBF; kept for eyeballing and for testing the XML path.
import { writeSync } from 'node:fs';
import type { CityModel, TagList } from './model.js';
import type { WriteProgress } from './pbf.js';

const CHUNK = 1 << 20;
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => ESC[ch]!);
/** 1e-7° integer → decimal degrees, exactly 7 digits. */
const deg = (v: number) => (v / 1e7).toFixed(7);

function tagLines(tags: TagList): string {
  let s = '';
  for (let i = 0; i < tags.length; i += 2) s += `\n    <tag k="${esc(tags[i]!)}" v="${esc(tags[i + 1]!)}"/>`;
  return s;
}

export function writeXml(fd: number, m: CityModel, progress?: WriteProgress): number {
  let bytes = 0;
  let buf = '';
  const flush = (force: boolean) => {
    if (buf.length < CHUNK && !force) return;
    bytes += writeSync(fd, buf, null, 'utf8');
    buf = '';
  };
  let minLat = Infinity,
    maxLat = -Infinity,
    minLon = Infinity,
    maxLon = -Infinity;
  for (let i = 0; i < m.nodeCount; i++) {
    minLat = Math.min(minLat, m.lat[i]!);
    maxLat = Math.max(maxLat, m.lat[i]!);
    minLon = Math.min(minLon, m.lon[i]!);
    maxLon = Math.max(maxLon, m.lon[i]!);
  }
  buf += '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="faros tools/synth">\n';
  buf += ` <bounds minlat="${deg(minLat)}" minlon="${deg(minLon)}" maxlat="${deg(maxLat)}" maxlon="${deg(maxLon)}"/>\n`;
  for (let i = 0; i < m.nodeCount; i++) {
    const head = ` <node id="${m.nodeIdBase + i}" version="1" lat="${deg(m.lat[i]!)}" lon="${deg(m.lon[i]!)}"`;
    const t = m.nodeTags.get(i);
    buf += t === undefined ? `${head}/>\n` : `${head}>${tagLines(t)}\n </node>\n`;
    if ((i & 0xffff) === 0xffff) progress?.('nodes', i + 1, m.nodeCount);
    flush(false);
  }
  progress?.('nodes', m.nodeCount, m.nodeCount);
  for (let w = 0; w < m.wayCount; w++) {
    buf += ` <way id="${m.wayIdBase + w}" version="1">`;
    for (let i = m.wayOffsets[w]!; i < m.wayOffsets[w + 1]!; i++) buf += `\n    <nd ref="${m.nodeIdBase + m.wayRefs[i]!}"/>`;
    buf += `${tagLines(m.wayTags[w]!)}\n </way>\n`;
    flush(false);
  }
  progress?.('ways', m.wayCount, m.wayCount);
  m.relations.forEach((rel, r) => {
    buf += ` <relation id="${m.relationIdBase + r}" version="1">`;
    for (const mb of rel.members) buf += `\n    <member type="${mb.type}" ref="${mb.ref}" role="${esc(mb.role)}"/>`;
    buf += `${tagLines(rel.tags)}\n </relation>\n`;
    flush(false);
  });
  progress?.('relations', m.relations.length, m.relations.length);
  buf += '</osm>\n';
  flush(true);
  return bytes;
}
