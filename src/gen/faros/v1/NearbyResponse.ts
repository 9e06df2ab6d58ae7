// Original file: proto/faros/v1/faros.proto

import type { NearbyDriver as _faros_v1_NearbyDriver, NearbyDriver__Output as _faros_v1_NearbyDriver__Output } from '../../faros/v1/NearbyDriver.js';
import type { SnappedPoint as _faros_v1_SnappedPoint, SnappedPoint__Output as _faros_v1_SnappedPoint__Output } from '../../faros/v1/SnappedPoint.js';
import type { NearbyStats as _faros_v1_NearbyStats, NearbyStats__Output as _faros_v1_NearbyStats__Output } from '../../faros/v1/NearbyStats.js';

export interface NearbyResponse {
  'drivers'?: (_faros_v1_NearbyDriver)[];
  'querySnapped'?: (_faros_v1_SnappedPoint | null);
  'stats'?: (_faros_v1_NearbyStats | null);
}

export interface NearbyResponse__Output {
  'drivers': (_faros_v1_NearbyDriver__Output)[];
  'querySnapped': (_faros_v1_SnappedPoint__Output | null);
  'stats': (_faros_v1_NearbyStats__Output | null);
}
