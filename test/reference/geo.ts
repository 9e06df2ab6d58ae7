// Geometry of SEMANTICS.md, written out from the text: haversine lengths and
// the local equirectangular plane used for snapping.

/** Earth radius in metres (SEMANTICS.md "Road graph"). */
export const R = 6_371_008.8;

export const toRad = (deg: number): number => (deg * Math.PI) / 180;
export const toDeg = (rad: number): number => (rad * 180) / Math.PI;

/** Great-circle distance in metres between two points given in degrees. */
export function haversine(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const p1 = toRad(lat1);
  const p2 = toRad(lat2);
  const dp = p2 - p1;
  const dl = toRad(lng2 - lng1);
  const h = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A point in the plane centred on (lat0, lng0): x = R·Δλ·cos φ0, y = R·Δφ. */
export interface Plane {
  lat0: number;
  lng0: number;
  cos0: number;
}

export function plane(lat0: number, lng0: number): Plane {
  return { lat0, lng0, cos0: Math.cos(toRad(lat0)) };
}

export function toXY(p: Plane, lat: number, lng: number): [number, number] {
  return [R * toRad(lng - p.lng0) * p.cos0, R * toRad(lat - p.lat0)];
}

export function fromXY(p: Plane, x: number, y: number): [number, number] {
  return [p.lat0 + toDeg(y / R), p.lng0 + toDeg(x / (R * p.cos0))];
}
