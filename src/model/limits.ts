// Ranges of SEMANTICS.md "A nearby answer": out of range is refused, not clamped.
export const LIMITS = Object.freeze({
  k: { min: 1, max: 1000, default: 10 },
  maxDistanceM: { max: 100_000, default: 3_000 },
  maxEtaS: { max: 7_200, default: 300 },
  defaultSnapRadiusM: 200,
  // SEMANTICS.md "Watching a pick-up point".
  minIntervalMs: { min: 100, max: 600_000, default: 500 },
  minChangeM: { max: 100_000, default: 50 },
  minChangeS: { max: 7_200, default: 10 },
});
