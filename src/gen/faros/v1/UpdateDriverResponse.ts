// Original file: proto/faros/v1/faros.proto

import type { SnappedPoint as _faros_v1_SnappedPoint, SnappedPoint__Output as _faros_v1_SnappedPoint__Output } from '../../faros/v1/SnappedPoint.js';

export interface UpdateDriverResponse {
  'snapped'?: (_faros_v1_SnappedPoint | null);
  /**
   * True when an update with a newer timestamp was already stored.
   */
  'stale'?: (boolean);
}

export interface UpdateDriverResponse__Output {
  'snapped': (_faros_v1_SnappedPoint__Output | null);
  /**
   * True when an update with a newer timestamp was already stored.
   */
  'stale': (boolean);
}
