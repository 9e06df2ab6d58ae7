// Original file: proto/faros/v1/peer.proto

import type { SnappedPoint as _faros_v1_SnappedPoint, SnappedPoint__Output as _faros_v1_SnappedPoint__Output } from '../../faros/v1/SnappedPoint.js';

export interface UpdateOutcome {
  /**
   * "" when applied, else the gRPC code name.
   */
  'code'?: (string);
  'message'?: (string);
  'stale'?: (boolean);
  'snapped'?: (_faros_v1_SnappedPoint | null);
  'segment'?: (number);
  't'?: (number | string);
  'segIndex'?: (number);
  /**
   * For OUT_OF_RANGE: distance to the nearest road.
   */
  'nearestM'?: (number | string);
}

export interface UpdateOutcome__Output {
  /**
   * "" when applied, else the gRPC code name.
   */
  'code': (string);
  'message': (string);
  'stale': (boolean);
  'snapped': (_faros_v1_SnappedPoint__Output | null);
  'segment': (number);
  't': (number);
  'segIndex': (number);
  /**
   * For OUT_OF_RANGE: distance to the nearest road.
   */
  'nearestM': (number);
}
