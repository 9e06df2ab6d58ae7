// Independent brute-force reference of docs/SEMANTICS.md (tests only).
// Input: the raw OsmData of src/mapbuild/osm.ts (read with keepWay: () => true)
// and a profile JSON's tables. Nothing else from src/ is used.
export { buildReference, isRoadRef, directionRef, parseMaxspeedRef, speedKmhRef, turnAllowed } from './graph.js';
export type { RefMap, RefProfile } from './graph.js';
export { refSnap, refSnapTieZone, TIE_M } from './snap.js';
export type { RefSnapHit, RefSnapMiss } from './snap.js';
export { refNearby, refSnapCached, compareIds } from './route.js';
export type { RefDriver, RefQuery, RefResult, Metric } from './route.js';
export { R, haversine } from './geo.js';

import { readFileSync } from 'node:fs';
import type { RefProfile } from './graph.js';
/** Read a profile's tables straight from its JSON file. */
export function readRefProfile(file: string | URL): RefProfile {
  const j = JSON.parse(readFileSync(file, 'utf8')) as RefProfile;
  return {
    roadClasses: j.roadClasses,
    accessTags: j.accessTags,
    deniedAccess: j.deniedAccess,
    impliedOneway: j.impliedOneway,
    restrictionTags: j.restrictionTags,
  };
}
