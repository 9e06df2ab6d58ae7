// SEMANTICS.md "Road graph" for profile car, written independently of
// src/mapbuild so the generator can count road vertices on its own.

const ROAD_CLASSES = new Set([
  'motorway',
  'motorway_link',
  'trunk',
  'trunk_link',
  'primary',
  'primary_link',
  'secondary',
  'secondary_link',
  'tertiary',
  'tertiary_link',
  'unclassified',
  'residential',
  'living_street',
  'service',
]);
const ACCESS_TAGS = ['motorcar', 'motor_vehicle', 'vehicle', 'access'] as const;

export function isCarRoad(tags: Record<string, string>): boolean {
  const hw = tags.highway;
  if (hw === undefined || !ROAD_CLASSES.has(hw)) return false;
  if (tags.area === 'yes') return false;
  for (const t of ACCESS_TAGS) {
    const v = tags[t];
    if (v === undefined) continue;
    if (v === 'no' || v === 'private') return false;
    break;
  }
  return tags.oneway !== 'reversible' && tags.oneway !== 'alternating';
}
