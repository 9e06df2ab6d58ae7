// Tag vocabularies of the synthetic city, weighted roughly like real OSM so
// every branch of SEMANTICS.md (classes, access, oneway, maxspeed) shows up.
import type { Rng } from './prng.js';
import type { TagList } from './model.js';

export type StreetClass = 'primary' | 'secondary' | 'tertiary' | 'residential';

/** Parses: N, N.N, N km/h, N mph. Others fall back to the class default. */
const ARTERIAL_MAXSPEED: readonly (readonly [string | null, number])[] = [
  ['50', 30],
  ['60 km/h', 12],
  ['30 mph', 10],
  ['45 mph', 5],
  [null, 25],
  ['70', 5],
  ['40', 5],
  ['50.5', 2],
  ['none', 1],
  ['signals', 1],
  ['RU:urban', 1],
];
const RESIDENTIAL_MAXSPEED: readonly (readonly [string | null, number])[] = [
  [null, 70],
  ['30', 10],
  ['20 mph', 5],
  ['30 km/h', 5],
  ['25', 3],
  ['15 mph', 3],
  ['RU:urban', 1],
  ['signals', 1],
  ['none', 1],
  ['0', 1],
];
const MOTORWAY_MAXSPEED: readonly (readonly [string | null, number])[] = [
  ['100', 4],
  ['120', 2],
  ['65 mph', 2],
  [null, 2],
  ['80 km/h', 1],
];
const ONEWAY_FORWARD_OR_BACK: readonly (readonly [string, number])[] = [
  ['yes', 60],
  ['-1', 15],
  ['1', 8],
  ['true', 7],
  ['reverse', 5],
];

/** What a residential-grade run of streets turns out to be. */
type LocalKind =
  | 'residential'
  | 'living_street'
  | 'unclassified'
  | 'service'
  | 'footway'
  | 'private'
  | 'private_motorcar_yes'
  | 'no_but_destination'
  | 'vehicle_no'
  | 'construction'
  | 'reversible';
const LOCAL_KINDS: readonly (readonly [LocalKind, number])[] = [
  ['residential', 80],
  ['living_street', 3],
  ['unclassified', 4],
  ['service', 2],
  ['footway', 3],
  ['private', 2],
  ['private_motorcar_yes', 1],
  ['no_but_destination', 1],
  ['vehicle_no', 0.5],
  ['construction', 0.5],
  ['reversible', 0.3],
];

function maxspeed(rng: Rng, table: readonly (readonly [string | null, number])[], tags: TagList): void {
  const v = rng.weighted(table);
  if (v !== null) tags.push('maxspeed', v);
}

function oneway(rng: Rng, pOneway: number, tags: TagList): void {
  if (rng.chance(pOneway)) tags.push('oneway', rng.weighted(ONEWAY_FORWARD_OR_BACK));
  else if (rng.chance(0.05)) tags.push('oneway', rng.pick(['no', 'false', '0']));
}

/** Tags of one way along a grid street. */
export function streetTags(rng: Rng, cls: StreetClass, name: string): TagList {
  if (cls !== 'residential') {
    const tags: TagList = ['highway', cls, 'name', name];
    if (rng.chance(0.5)) tags.push('lanes', String(rng.int(2, 4)));
    maxspeed(rng, ARTERIAL_MAXSPEED, tags);
    oneway(rng, 0.05, tags);
    return tags;
  }
  const kind = rng.weighted(LOCAL_KINDS);
  switch (kind) {
    case 'footway':
      return ['highway', rng.pick(['footway', 'pedestrian', 'cycleway', 'path']), 'name', name];
    case 'construction':
      return ['highway', 'construction', 'construction', 'residential', 'name', name];
    case 'reversible':
      return ['highway', 'residential', 'name', name, 'oneway', rng.pick(['reversible', 'alternating'])];
    default:
      break;
  }
  const hw = kind === 'living_street' || kind === 'unclassified' || kind === 'service' ? kind : 'residential';
  const tags: TagList = ['highway', hw, 'name', name];
  if (kind === 'private') tags.push('access', 'private');
  if (kind === 'private_motorcar_yes') tags.push('access', 'private', 'motorcar', 'yes');
  if (kind === 'no_but_destination') tags.push('access', 'no', 'motor_vehicle', 'destination');
  if (kind === 'vehicle_no') tags.push('vehicle', 'no', 'access', 'yes');
  if (hw !== 'living_street') maxspeed(rng, RESIDENTIAL_MAXSPEED, tags);
  oneway(rng, 0.18, tags);
  return tags;
}

export function motorwayTags(rng: Rng): TagList {
  const tags: TagList = ['highway', 'motorway', 'ref', 'A 1', 'lanes', '3'];
  maxspeed(rng, MOTORWAY_MAXSPEED, tags);
  if (rng.chance(0.2)) tags.push('oneway', 'yes');
  return tags;
}

export function linkTags(rng: Rng): TagList {
  const tags: TagList = ['highway', 'motorway_link'];
  if (rng.chance(0.9)) tags.push('oneway', 'yes');
  if (rng.chance(0.5)) tags.push('maxspeed', rng.pick(['50', '40 mph', '60']));
  return tags;
}

export function serviceTags(rng: Rng): TagList {
  const tags: TagList = ['highway', 'service'];
  const s = rng.pick(['driveway', 'parking_aisle', 'alley', null]);
  if (s !== null) tags.push('service', s);
  if (rng.chance(0.15)) tags.push('access', 'private');
  return tags;
}

export function roundaboutTags(rng: Rng, cls: StreetClass): TagList {
  const tags: TagList = ['highway', cls, 'junction', rng.chance(0.9) ? 'roundabout' : 'circular'];
  if (rng.chance(0.2)) tags.push('oneway', 'yes');
  if (rng.chance(0.3)) tags.push('maxspeed', rng.pick(['30', '20 mph']));
  return tags;
}

export function footTags(rng: Rng): TagList {
  return ['highway', rng.pick(['footway', 'footway', 'path', 'steps', 'cycleway'])];
}
