// maps/maps.json: map ID (city + vehicle type) → file, profile, snap radius, TTL.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { MAPS_DIR, profileNames } from './profile.js';

export interface MapEntry {
  id: string;
  file: string;
  profile: string;
  snapRadiusM: number;
  ttlS: number;
}

export const MAP_ID = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function loadCatalog(file = join(MAPS_DIR, 'maps.json')): MapEntry[] {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Partial<MapEntry>>;
  const base = file.slice(0, file.lastIndexOf('/') + 1) || '.';
  return Object.entries(raw).map(([id, e]) => {
    const where = `${file}: map "${id}"`;
    if (!MAP_ID.test(id)) throw new Error(`${where}: a map ID is lower-case letters, digits, "_", "-", "." (e.g. andorra-car)`);
    if (typeof e.file !== 'string') throw new Error(`${where}: "file" is required`);
    const profile = e.profile ?? 'car';
    if (!profileNames().includes(profile)) throw new Error(`${where}: unknown profile "${profile}" (have ${profileNames().join(', ')})`);
    const snapRadiusM = e.snapRadiusM ?? 200,
      ttlS = e.ttlS ?? 300;
    if (!(snapRadiusM > 0 && snapRadiusM <= 10_000)) throw new Error(`${where}: snapRadiusM must be in (0, 10000]`);
    if (!(ttlS > 0)) throw new Error(`${where}: ttlS must be above 0`);
    return { id, file: isAbsolute(e.file) ? e.file : join(base, e.file), profile, snapRadiusM, ttlS };
  });
}
