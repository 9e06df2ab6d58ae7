// Geometry shared by the map builder and the snapper (SEMANTICS.md constants).

/** Earth radius used by every distance in Faros, metres. */
export const R = 6_371_008.8;
export const DEG = Math.PI / 180;

/** Haversine distance in metres. */
export function haversine(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const p1 = lat1 * DEG,
    p2 = lat2 * DEG;
  const dp = p2 - p1,
    dl = (lng2 - lng1) * DEG;
  const h = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}
