// A routing profile is data (maps/profiles/*.json); this module loads it and
// answers the per-way questions of SEMANTICS.md: is it a road, which way(s)
// may it be travelled, how fast.
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Profile {
  name: string;
  description: string;
  /** highway value → default speed in km/h (links already at 0.8 × class). */
  roadClasses: Record<string, number>;
  /** Access tags, most specific first; the first present decides. */
  accessTags: string[];
  /** Access values that make a way not a road. */
  deniedAccess: string[];
  /** Highway classes that are oneway forward unless `oneway` says otherwise. */
  impliedOneway: string[];
  /** Restriction value tags, most specific first. */
  restrictionTags: string[];
}

export type Tags = Record<string, string>;

/** Travel permission of a way relative to its node order. */
export interface Direction {
  forward: boolean;
  backward: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
/** maps/ at the package root (works from src/ and from dist/src/). */
export const MAPS_DIR =
  [join(here, '..', '..', 'maps'), join(here, '..', '..', '..', 'maps')].find((d) => existsSync(join(d, 'profiles'))) ?? join(here, '..', '..', '..', 'maps');

export function profileNames(): string[] {
  return readdirSync(join(MAPS_DIR, 'profiles'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function loadProfile(name: string): Profile {
  if (!/^[a-z0-9_-]+$/i.test(name)) throw new Error(`unknown profile "${name}": expected one of ${profileNames().join(', ')}`);
  const file = join(MAPS_DIR, 'profiles', `${name}.json`);
  if (!existsSync(file)) throw new Error(`unknown profile "${name}": expected one of ${profileNames().join(', ')}`);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  for (const key of ['roadClasses', 'accessTags', 'deniedAccess', 'impliedOneway', 'restrictionTags'] as const) {
    if (p[key] === undefined) throw new Error(`profile ${file} lacks "${key}"`);
  }
  return p;
}

/** SEMANTICS.md "Road graph": highway class, area, access, reversible oneway. */
export function isRoad(p: Profile, tags: Tags): boolean {
  const hw = tags.highway;
  if (hw === undefined || !Object.hasOwn(p.roadClasses, hw)) return false;
  if (tags.area === 'yes') return false;
  for (const t of p.accessTags) {
    const v = tags[t];
    if (v !== undefined) {
      if (p.deniedAccess.includes(v)) return false;
      break;
    }
  }
  const ow = tags.oneway;
  if (ow === 'reversible' || ow === 'alternating') return false;
  return true;
}

/** SEMANTICS.md "Direction" (values compared exactly). Only call for roads. */
export function direction(p: Profile, tags: Tags): Direction {
  switch (tags.oneway) {
    case 'yes':
    case 'true':
    case '1':
      return { forward: true, backward: false };
    case '-1':
    case 'reverse':
      return { forward: false, backward: true };
    case 'no':
    case 'false':
    case '0':
      return { forward: true, backward: true };
  }
  const j = tags.junction;
  if (j === 'roundabout' || j === 'circular') return { forward: true, backward: false };
  if (p.impliedOneway.includes(tags.highway ?? '')) return { forward: true, backward: false };
  return { forward: true, backward: true };
}

// Exactly the forms SEMANTICS.md lists: `N`, `N.N`, `N km/h`, `N mph`.
const MAXSPEED = /^(\d+(?:\.\d+)?)(?: (km\/h|mph))?$/;

/** Speed in km/h: a parsable, positive `maxspeed`, else the class default. */
export function speedKmh(p: Profile, tags: Tags): number {
  const m = MAXSPEED.exec(tags.maxspeed ?? '');
  if (m) {
    const v = Number(m[1]) * (m[2] === 'mph' ? 1.609344 : 1);
    if (v > 0 && Number.isFinite(v)) return v;
  }
  return p.roadClasses[tags.highway ?? ''] ?? 0;
}

/** The restriction value this profile reads, or undefined. */
export function restrictionValue(p: Profile, tags: Tags): string | undefined {
  for (const t of p.restrictionTags) if (tags[t] !== undefined) return tags[t];
  return undefined;
}
