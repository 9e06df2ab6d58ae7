// Original file: proto/faros/v1/faros.proto

import type { LatLng as _faros_v1_LatLng, LatLng__Output as _faros_v1_LatLng__Output } from '../../faros/v1/LatLng.js';
import type { SnappedPoint as _faros_v1_SnappedPoint, SnappedPoint__Output as _faros_v1_SnappedPoint__Output } from '../../faros/v1/SnappedPoint.js';
import type { Long } from '@grpc/proto-loader';

export interface Driver {
  'driverId'?: (string);
  /**
   * The reported position.
   */
  'location'?: (_faros_v1_LatLng | null);
  'snapped'?: (_faros_v1_SnappedPoint | null);
  'timestampMs'?: (number | string | Long);
  'metadata'?: ({[key: string]: string});
}

export interface Driver__Output {
  'driverId': (string);
  /**
   * The reported position.
   */
  'location': (_faros_v1_LatLng__Output | null);
  'snapped': (_faros_v1_SnappedPoint__Output | null);
  'timestampMs': (string);
  'metadata': ({[key: string]: string});
}
